package cn.gridwork

import cn.gridwork.core.EventType
import cn.gridwork.core.IncidentDetails
import cn.gridwork.core.IncidentInput
import cn.gridwork.core.IncidentSource
import cn.gridwork.core.Location
import cn.gridwork.core.RecordKind
import cn.gridwork.core.Role
import cn.gridwork.core.Severity
import cn.gridwork.core.SignedInUser
import cn.gridwork.core.WorkOrderAction
import cn.gridwork.core.WorkOrderState
import cn.gridwork.ffi.GridworkException
import cn.gridwork.ffi.GridworkStore
import java.time.Duration
import java.time.Instant
import java.util.UUID
import org.junit.jupiter.api.Assertions.assertEquals
import org.junit.jupiter.api.Assertions.assertFalse
import org.junit.jupiter.api.Assertions.assertTrue
import org.junit.jupiter.api.Test
import org.junit.jupiter.api.assertThrows

fun incident(title: String, area: String = GRID) = IncidentInput(
    area = area,
    category = "sanitation",
    severity = Severity.IMPORTANT,
    title = title,
    description = "楼道堆放杂物，影响通行",
    location = Location(32.0, 120.86),
    photos = emptyList(),
    source = IncidentSource.PATROL,
    householdId = null,
    patrolId = null,
    reportedAt = Instant.now(),
)

fun step(type: EventType, department: String? = null, note: String? = null) =
    WorkOrderAction(eventType = type, department = department, note = note, extensionHours = null, at = Instant.now())

/** A work order's whole life on one device, each step by the role that may take it. */
class WorkOrderTest {
    private val head = SignedInUser("h1", "周强", Role.GRID_HEAD, GRID)
    private val handler = SignedInUser("d1", "城管孙", Role.DEPARTMENT_HANDLER, GRID)

    private fun GridworkStore.act(as_: SignedInUser, id: UUID, action: WorkOrderAction) =
        run { signIn(as_); actOnWorkOrder(id, action) }

    @Test
    fun `report, accept, dispatch, handle, feedback, verify, close`() {
        val s = storeFor()
        val id = s.reportIncident(incident("楼道堆物"))
        assertEquals(WorkOrderState.REPORTED, s.workOrderSummary(id, Instant.now()).state)
        assertEquals(listOf(id), s.openWorkOrders(GRID, Instant.now(), 10u).map { it.id })

        // A grid worker may not accept: a typed refusal, nothing written.
        val refused = assertThrows<GridworkException.WorkOrderRefused> { s.actOnWorkOrder(id, step(EventType.ACCEPT)) }
        assertEquals("role_not_allowed", refused.code)
        // Closing a reported order is an illegal transition.
        val illegal = assertThrows<GridworkException.WorkOrderRefused> { s.actOnWorkOrder(id, step(EventType.CLOSE)) }
        assertEquals("illegal_transition", illegal.code)
        assertEquals(1, s.workOrder(id).summary.events.size)

        assertEquals(WorkOrderState.ACCEPTED, s.act(head, id, step(EventType.ACCEPT)).state)
        val dispatched = s.act(head, id, step(EventType.DISPATCH, department = "城管"))
        assertEquals(WorkOrderState.DISPATCHED, dispatched.state)
        assertEquals(mapOf("城管" to WorkOrderState.DISPATCHED), dispatched.departments)
        assertEquals(WorkOrderState.HANDLING, s.act(handler, id, step(EventType.HANDLE, "城管", "已联系物业清理")).state)
        assertEquals(WorkOrderState.FED_BACK, s.act(handler, id, step(EventType.FEEDBACK, "城管", "已清理完毕")).state)
        assertEquals(WorkOrderState.VERIFIED, s.act(worker(), id, step(EventType.VERIFY, note = "现场核查通过")).state)
        val closed = s.act(head, id, step(EventType.CLOSE))
        assertEquals(WorkOrderState.CLOSED, closed.state)
        assertTrue(closed.closedAt != null)
        assertEquals(true, closed.closedOnTime)
        assertEquals(
            listOf(EventType.REPORT, EventType.ACCEPT, EventType.DISPATCH, EventType.HANDLE, EventType.FEEDBACK, EventType.VERIFY, EventType.CLOSE),
            s.workOrder(id).summary.events.map { it.eventType },
        )
        assertTrue(s.openWorkOrders(GRID, Instant.now(), 10u).isEmpty())
        assertTrue(s.overdueWorkOrders(GRID, Instant.now(), 10u).isEmpty())
        assertTrue(s.workOrdersWithConflicts(GRID, 10u).isEmpty())
        // Closed is final except for a reopen.
        val again = assertThrows<GridworkException.WorkOrderRefused> { s.act(head, id, step(EventType.DISPATCH, "城管")) }
        assertEquals("illegal_transition", again.code())
        assertFalse(s.workOrder(id).summary.overdue)
    }

    @Test
    fun `an incident's details are edited and the deadline follows its severity`() {
        val s = storeFor()
        val id = s.reportIncident(incident("楼道堆物"))
        fun details() = s.workOrder(id).let {
            IncidentDetails(it.title, it.description, it.category, it.summary.severity, it.location)
        }
        // The reporter corrects the report before it is accepted.
        s.updateIncident(id, details().copy(title = "楼道电动车充电", category = "fire_safety"))
        assertEquals("楼道电动车充电", s.workOrder(id).title)
        assertEquals("update_incident", s.history(RecordKind.WORK_ORDER, id).last().op)
        val bad = assertThrows<GridworkException.InvalidInput> { s.updateIncident(id, details().copy(title = " ")) }
        assertEquals("title", bad.field)

        // Once accepted only the command roles may; a severity change moves the deadline.
        val accepted = s.act(head, id, step(EventType.ACCEPT))
        assertEquals(Duration.ofHours(24), Duration.between(accepted.clockStartedAt, accepted.deadline))
        s.signIn(worker())
        val locked = assertThrows<GridworkException.WorkOrderRefused> { s.updateIncident(id, details().copy(title = "再改")) }
        assertEquals("details_locked", locked.code)
        s.signIn(handler)
        val role = assertThrows<GridworkException.WorkOrderRefused> { s.updateIncident(id, details().copy(title = "再改")) }
        assertEquals("role_not_allowed", role.code)
        s.signIn(head)
        val urgent = s.updateIncident(id, details().copy(severity = Severity.URGENT))
        assertEquals(Severity.URGENT, urgent.severity)
        assertEquals(Duration.ofHours(2), Duration.between(urgent.clockStartedAt, urgent.deadline))
        val row = s.openWorkOrders(GRID, Instant.now(), 10u).single()
        assertEquals(urgent.deadline, row.deadline)
        assertEquals(listOf(id), s.overdueWorkOrders(GRID, Instant.now().plus(Duration.ofHours(3)), 10u).map { it.id })
    }

    @Test
    fun `an open work order becomes overdue after its deadline`() {
        val s = storeFor()
        val id = s.reportIncident(incident("路灯损坏"))
        // The deadline clock starts on acceptance.
        assertEquals(null, s.workOrderSummary(id, Instant.now()).deadline)
        s.act(head, id, step(EventType.ACCEPT))
        val due = s.workOrderSummary(id, Instant.now()).deadline!!
        assertTrue(s.overdueWorkOrders(GRID, due.minusSeconds(60), 10u).isEmpty())
        assertEquals(listOf(id), s.overdueWorkOrders(GRID, due.plusSeconds(60), 10u).map { it.id })
    }
}
