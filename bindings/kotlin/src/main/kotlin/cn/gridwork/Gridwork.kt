/**
 * The thin idiomatic layer over Gridwork's generated bindings (`cn.gridwork.ffi`,
 * `cn.gridwork.core`): suspend functions that keep the store's blocking calls off the main thread,
 * and Flows of data changes and sync progress. The same file is used by the Android library.
 */
package cn.gridwork

import cn.gridwork.ffi.DataChanged
import cn.gridwork.ffi.DataObserver
import cn.gridwork.ffi.GridworkException
import cn.gridwork.ffi.GridworkStore
import cn.gridwork.ffi.GridworkSync
import cn.gridwork.ffi.SyncProgressObserver
import cn.gridwork.ffi.SyncStep
import kotlinx.coroutines.CoroutineDispatcher
import kotlinx.coroutines.Dispatchers
import kotlinx.coroutines.channels.awaitClose
import kotlinx.coroutines.flow.Flow
import kotlinx.coroutines.flow.buffer
import kotlinx.coroutines.flow.callbackFlow
import kotlinx.coroutines.withContext

/** The dispatcher Gridwork's blocking calls run on; tests may replace it. */
@Volatile
var gridworkDispatcher: CoroutineDispatcher = Dispatchers.IO

/**
 * Opens the store at [path] (encrypted with [key], the 32-byte SQLCipher key from the Android
 * Keystore, when given) without blocking the caller.
 *
 * @throws GridworkException.Locked if the key is missing or wrong.
 * @throws GridworkException.InvalidInput naming `key` if it is not 32 bytes.
 */
suspend fun openGridworkStore(path: String, key: ByteArray? = null): GridworkStore =
    withContext(gridworkDispatcher) { GridworkStore.open(path, key) }

/**
 * Runs [block] against the store on [gridworkDispatcher] and returns its result: every store call
 * is blocking, so from a coroutine write `store.call { addHousehold(input) }`.
 *
 * @throws GridworkException as the called function documents.
 */
suspend fun <T> GridworkStore.call(block: GridworkStore.() -> T): T =
    withContext(gridworkDispatcher) { block() }

/**
 * The store's data changes as a cold [Flow]: collecting subscribes, and the subscription is
 * cancelled (closed) when the collector stops. Changes are buffered so a slow collector never
 * blocks a write; they arrive on the writing thread's context, so collect on the UI's own scope.
 */
fun GridworkStore.changes(): Flow<DataChanged> = callbackFlow {
    val subscription = subscribe(object : DataObserver {
        override fun onDataChanged(change: DataChanged) {
            trySend(change)
        }
    })
    awaitClose { subscription.close() }
}.buffer(capacity = 64)

/**
 * Sync progress as a [Flow]: [start] runs a sync with the given observer (e.g.
 * `sync.syncNow(observer)`) and the flow completes when it returns, or fails with its exception.
 */
fun syncProgress(start: suspend (SyncProgressObserver) -> Unit): Flow<SyncStep> = callbackFlow {
    val observer = object : SyncProgressObserver {
        override fun onProgress(step: SyncStep) {
            trySend(step)
        }
    }
    try {
        start(observer)
        close()
    } catch (e: Throwable) {
        close(e)
    }
    awaitClose { }
}.buffer(capacity = 64)

/**
 * Syncs now and reports every step as a [Flow] (collect it to run the sync; the last step's phase
 * is `DONE`). Cancelling the collector cancels the sync at its next step.
 *
 * @throws GridworkException as [GridworkSync.syncNow] documents (`Revoked`, `NotEnrolled`,
 *   `Network`…), through the flow.
 */
fun GridworkSync.syncProgress(): Flow<SyncStep> = syncProgress { observer ->
    try {
        syncNow(observer)
    } catch (e: kotlinx.coroutines.CancellationException) {
        cancel()
        throw e
    }
}
