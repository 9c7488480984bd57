package cn.gridwork.app

import android.content.Context
import androidx.work.CoroutineWorker
import androidx.work.WorkerParameters
import cn.gridwork.call

/**
 * Background sync with WorkManager. Until the library's sync object lands this only checkpoints
 * the store and reports what is pending; then it calls `sync.syncNow(observer)` here.
 */
class SyncWorker(context: Context, params: WorkerParameters) : CoroutineWorker(context, params) {
    override suspend fun doWork(): Result {
        val store = (applicationContext as GridworkApp).store
        return runCatching {
            store.call { checkpoint() }
            store.call { pendingChanges() }
        }.fold({ Result.success() }, { Result.retry() })
    }
}
