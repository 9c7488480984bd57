package cn.gridwork

import cn.gridwork.core.RecordKind
import cn.gridwork.ffi.ChangeOrigin
import cn.gridwork.core.SyncPhase
import cn.gridwork.core.SyncProgress
import cn.gridwork.ffi.SyncStep
import java.time.Instant
import kotlinx.coroutines.CoroutineStart
import kotlinx.coroutines.async
import kotlinx.coroutines.flow.take
import kotlinx.coroutines.flow.toList
import kotlinx.coroutines.runBlocking
import kotlinx.coroutines.withTimeout
import kotlinx.coroutines.yield
import org.junit.jupiter.api.Assertions.assertEquals
import org.junit.jupiter.api.Test

/** The coroutine layer: a Flow of data changes, suspend calls, and the sync-progress Flow. */
class FlowTest {
    @Test
    fun `changes arrive as a flow and stop with the collector`() = runBlocking {
        val s = storeFor()
        val received = async(start = CoroutineStart.UNDISPATCHED) { s.changes().take(2).toList() }
        yield()
        val h = s.call { addHousehold(household("王芳", "幸福小区1幢101室")) }
        val v = s.call { recordVisit(visit(h, Instant.now())) }
        val changes = withTimeout(5_000) { received.await() }
        assertEquals(listOf(listOf(RecordKind.HOUSEHOLD), listOf(RecordKind.VISIT, RecordKind.HOUSEHOLD)), changes.map { it.kinds })
        assertEquals(listOf(h), changes[0].ids)
        assertEquals(listOf(v, h), changes[1].ids)
        assertEquals(ChangeOrigin.LOCAL, changes[0].origin)
        // The collector stopped after two: later writes go nowhere and do not block.
        s.call { addHousehold(household("张伟", "幸福小区1幢102室")) }
        s.close()
    }

    @Test
    fun `sync progress as a flow`() = runBlocking {
        // Any function that reports through the observer works (SyncTest runs a real sync).
        val progress = SyncProgress(1u, 2UL, 3UL, 0UL, 100UL, 200UL, 7UL, 7UL, 0u, 0u, 0UL, 0UL)
        val phases = syncProgress { observer ->
            for (phase in listOf(SyncPhase.EXCHANGING, SyncPhase.APPLYING, SyncPhase.DONE)) {
                observer.onProgress(SyncStep(phase, progress))
            }
        }.toList().map { it.phase }
        assertEquals(listOf(SyncPhase.EXCHANGING, SyncPhase.APPLYING, SyncPhase.DONE), phases)
    }
}
