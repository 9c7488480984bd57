package cn.gridwork

import cn.gridwork.core.EnrolRequest
import cn.gridwork.core.RecordKind
import cn.gridwork.core.SyncPhase
import cn.gridwork.ffi.GridworkException
import cn.gridwork.ffi.GridworkStore
import cn.gridwork.ffi.GridworkSync
import java.nio.file.Files
import kotlinx.coroutines.flow.toList
import kotlinx.coroutines.runBlocking
import org.junit.jupiter.api.AfterAll
import org.junit.jupiter.api.Assertions.assertEquals
import org.junit.jupiter.api.Assertions.assertFalse
import org.junit.jupiter.api.Assertions.assertNotNull
import org.junit.jupiter.api.Assertions.assertTrue
import org.junit.jupiter.api.BeforeAll
import org.junit.jupiter.api.Test
import org.junit.jupiter.api.TestInstance
import org.junit.jupiter.api.assertThrows

/**
 * Two phones sync through a real `gridwork-server` process: enrol with one-time codes from the
 * admin API, record on one, see it on the other, a concurrent edit surfaces on both, progress
 * arrives as a Flow, and a revoked device is wiped.
 */
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
class SyncTest {
    private lateinit var server: TestServer
    private lateinit var userId: String

    @BeforeAll
    fun start() {
        server = TestServer()
        server.createAreas()
        userId = server.createUser("李娟", "grid_worker", GRID)
    }

    @AfterAll
    fun stop() = server.close()

    /** A new phone: an empty store file, enrolled with a fresh code. */
    private suspend fun phone(name: String): Pair<GridworkStore, GridworkSync> {
        val dir = Files.createTempDirectory("gridwork-phone")
        val store = openGridworkStore(dir.resolve("store.db").toString())
        val sync = GridworkSync(store)
        val user = sync.enrol(EnrolRequest(server.url, server.enrolmentCode(userId), name, null))
        assertEquals(userId, user.userId)
        assertEquals(GRID, user.scope)
        return store to sync
    }

    @Test
    fun `two phones sync through the server`() = runBlocking<Unit> {
        val (a, syncA) = phone("李娟的手机")
        val (b, syncB) = phone("李娟的平板")
        assertEquals("李娟", a.signedInUser()!!.name)
        assertTrue(a.area(MICRO) != null, "enrolment loaded the areas of the scope")

        val id = a.call { addHousehold(household("王芳", "幸福小区3幢201室", "13812345678")) }
        assertEquals(1UL, syncA.pending().changes)
        val steps = syncA.syncProgress().toList()
        assertEquals(SyncPhase.DONE, steps.last().phase)
        assertEquals(1UL, steps.last().progress.pushed)
        assertEquals(0UL, syncA.pending().changes)
        val status = syncA.status()
        assertTrue(status.state.enrolled)
        assertNotNull(status.state.lastSyncAt)
        assertFalse(status.running)

        val pulled = syncB.syncNow(null)
        assertTrue(pulled.pulled >= 1UL, "B pulled A's change: $pulled")
        assertEquals(a.household(id), b.household(id))
        assertEquals(syncA.status().state.cursor, syncB.status().state.cursor)

        // Offline, both correct the head's name: after syncing both, both show the conflict.
        a.call { updateHousehold(id, household("王 芳", "幸福小区3幢201室", "13812345678")) }
        b.call { updateHousehold(id, household("汪芳", "幸福小区3幢201室", "13812345678")) }
        syncA.syncNow(null)
        syncB.syncNow(null)
        syncA.syncNow(null)
        val conflict = a.conflicts(RecordKind.HOUSEHOLD, id).single()
        assertEquals("head_name", conflict.field)
        assertEquals(setOf("王 芳", "汪芳"), conflict.values.toSet())
        assertEquals(conflict, b.conflicts(RecordKind.HOUSEHOLD, id).single())
    }

    @Test
    fun `a revoked phone is wiped and says so`() = runBlocking<Unit> {
        val (store, sync) = phone("丢失的手机")
        store.call { addHousehold(household("赵敏", "幸福小区9幢101室")) }
        val device = sync.status().state.deviceId!!
        server.revoke(device)
        assertThrows<GridworkException.Revoked> { runBlocking { sync.syncNow(null) } }
        assertTrue(sync.status().revoked)
        assertFalse(sync.status().state.enrolled)
        assertEquals(0UL, store.countRecords(RecordKind.HOUSEHOLD))
        assertThrows<GridworkException.NotEnrolled> { runBlocking { sync.syncNow(null) } }
    }

    @Test
    fun `a used enrolment code is refused by the server`() = runBlocking<Unit> {
        val code = server.enrolmentCode(userId)
        val first = GridworkSync(GridworkStore.openInMemory())
        first.enrol(EnrolRequest(server.url, code, "一号机", null))
        val second = GridworkSync(GridworkStore.openInMemory())
        val e = assertThrows<GridworkException.ServerRefused> {
            runBlocking { second.enrol(EnrolRequest(server.url, code, "二号机", null)) }
        }
        assertEquals("enrolment_code_used", e.code)
        assertEquals(403.toUShort(), e.status)
    }
}
