package cn.gridwork

import cn.gridwork.core.AlertKind
import cn.gridwork.core.EventType
import cn.gridwork.core.RecordKind
import cn.gridwork.core.Role
import cn.gridwork.core.SignedInUser
import cn.gridwork.core.TaskInput
import cn.gridwork.ffi.GridworkException
import cn.gridwork.ffi.GridworkStore
import java.nio.file.Path
import java.time.Duration
import java.time.Instant
import org.junit.jupiter.api.Assertions.assertEquals
import org.junit.jupiter.api.Assertions.assertFalse
import org.junit.jupiter.api.Assertions.assertTrue
import org.junit.jupiter.api.Test
import org.junit.jupiter.api.assertThrows
import org.junit.jupiter.api.io.TempDir

/** "My alerts" on the phone: raised by the centre's step and a task due soon, marked seen, kept. */
class AlertsTest {
    @TempDir
    lateinit var dir: Path

    private val centre = SignedInUser("op", "陈敏", Role.TOWN_OPERATOR, "320612/001")

    @Test
    fun `alerts are raised, marked seen and stay seen after a reopen`() {
        val path = dir.resolve("alerts.db").toString()
        val changedId: String
        storeFor(path = path).use { s ->
            val id = s.reportIncident(incident("垃圾桶满溢", MICRO))
            assertTrue(s.alerts(Instant.now(), false).isEmpty())
            s.signIn(centre)
            s.actOnWorkOrder(id, step(EventType.ACCEPT))
            val due = Instant.now().plus(Duration.ofHours(6))
            s.createTask(TaskInput("320612/001", "冬季消防排查", "", emptyList(), due, null))
            s.signIn(worker())

            val alerts = s.alerts(Instant.now(), false)
            assertEquals(setOf(AlertKind.WORK_ORDER_CHANGED, AlertKind.TASK_DUE_SOON), alerts.map { it.kind }.toSet())
            val changed = alerts.first { it.kind == AlertKind.WORK_ORDER_CHANGED }
            assertEquals(id, changed.recordId)
            assertEquals(RecordKind.WORK_ORDER, changed.recordKind)
            assertTrue(changed.text.contains("accepted"), changed.text)
            assertFalse(changed.seen)
            assertEquals(2u, s.unseenAlertCount(Instant.now()))

            s.ackAlert(changed.id, Instant.now())
            val unknown = assertThrows<GridworkException.NotFound> { s.ackAlert("task_overdue:nope", Instant.now()) }
            assertEquals("alert", unknown.kind)
            changedId = changed.id
        }
        GridworkStore.open(path, null).use { again ->
            assertEquals(listOf(AlertKind.TASK_DUE_SOON), again.alerts(Instant.now(), false).map { it.kind })
            assertEquals(listOf(changedId), again.alerts(Instant.now(), true).filter { it.seen }.map { it.id })
            assertEquals(1u, again.unseenAlertCount(Instant.now()))
        }
    }
}
