package cn.gridwork

import cn.gridwork.core.CheckInInput
import cn.gridwork.core.EventType
import cn.gridwork.core.Gender
import cn.gridwork.core.Location
import cn.gridwork.core.ObservationInput
import cn.gridwork.core.Relation
import cn.gridwork.core.ResidentInput
import cn.gridwork.core.Role
import cn.gridwork.core.SensitiveInput
import cn.gridwork.core.KeyPopulation
import cn.gridwork.core.SignedInUser
import cn.gridwork.core.TaskInput
import cn.gridwork.core.TrackPoint
import cn.gridwork.ffi.GridworkException
import java.time.Instant
import org.junit.jupiter.api.Assertions.assertEquals
import org.junit.jupiter.api.Assertions.assertTrue
import org.junit.jupiter.api.Test
import org.junit.jupiter.api.assertThrows

/**
 * A grid worker's day beyond households and visits: residents and their (role-gated) sensitive
 * data, a patrol with its track, a check-in and an observation that becomes an incident, a task
 * from the grid head, and the day summary and assessment that follow from it.
 */
class FieldWorkTest {
    @Test
    fun `a day of field work`() {
        val s = storeFor()
        val dayStart = Instant.now().minusSeconds(60)
        val h = s.addHousehold(household("王秀英", "幸福小区3幢2单元301室", "13812345678"))

        // Residents, and sensitive data only the roles that may handle it can read.
        val r = s.addResident(ResidentInput(h, "王秀英", Gender.FEMALE, 1948, Relation.HEAD, null))
        s.addResident(ResidentInput(h, "李强", Gender.MALE, 1975, Relation.CHILD, "13912345678"))
        assertEquals(setOf("王秀英", "李强"), s.residentsOf(h).map { it.name }.toSet())
        s.setSensitive(r, SensitiveInput(null, "病情稳定", KeyPopulation.MENTAL_DISORDER, null))
        assertEquals("病情稳定", s.sensitiveOf(r)!!.health)
        assertEquals(listOf(r), s.keyPopulationLedger(GRID).map { it.residentId })
        s.signIn(SignedInUser("l1", "志愿者", Role.LIAISON, GRID))
        assertThrows<GridworkException.Forbidden> { s.sensitiveOf(r) }
        s.signIn(worker())

        // A patrol: the track arrives in buffered chunks; a check-in; an observation → incident.
        val start = Instant.now()
        val p = s.startPatrol(GRID, start, null)
        val t0 = start.toEpochMilli()
        s.addTrackPoints(p, (0 until 30).map { TrackPoint(t0 + it * 1000L, 32.0 + it * 0.00005, 120.86, 5.0f) })
        s.addTrackPoints(p, (30 until 60).map { TrackPoint(t0 + it * 1000L, 32.0 + it * 0.00005, 120.86, 5.0f) })
        s.checkIn(p, CheckInInput("3幢门岗", Location(32.001, 120.86), start.plusSeconds(40), null))
        val o = s.addObservation(p, ObservationInput("楼道堆放杂物", Location(32.002, 120.86), start.plusSeconds(50), emptyList()))
        val w = s.reportIncident(incident("楼道堆物").copy(patrolId = p))
        s.linkObservationIncident(p, o, w)
        s.endPatrol(p, start.plusSeconds(60))
        val patrol = s.patrol(p)
        assertEquals(60, patrol.track.size)
        assertEquals(60UL, patrol.stats.points)
        assertTrue(patrol.stats.distanceM > 250.0, "about 330 m walked: ${patrol.stats.distanceM}")
        assertEquals(w, patrol.observations.single().incidentId)
        assertEquals("3幢门岗", patrol.checkins.single().name)
        assertEquals(listOf(p), s.patrolsOf("w1", dayStart, Instant.now().plusSeconds(3600)).map { it.id })
        assertEquals(listOf(p), s.patrolsIn(GRID, dayStart, Instant.now().plusSeconds(3600)).map { it.id })

        // A task from the grid head; the worker completes it.
        s.signIn(SignedInUser("h1", "周强", Role.GRID_HEAD, GRID))
        val task = s.createTask(TaskInput(GRID, "走访独居老人", "重点关注用药", listOf(h), null, "w1"))
        s.signIn(worker())
        assertEquals(1u, s.taskProgress(task).targets)
        s.completeTask(task, "已全部走访")
        assertEquals("已全部走访", s.task(task).result)
        assertEquals(listOf(task), s.tasksIn(GRID, 10u).map { it.id })

        // The day at a glance and the assessment.
        val day = s.myDay(dayStart, Instant.now())
        assertEquals(listOf(p), day.patrolsToday.map { it.id })
        assertEquals(listOf(w), day.openWorkOrders.map { it.id })
        assertEquals(1u, day.dueVisitCount)
        val a = s.assessment(GRID, "w1", dayStart, Instant.now().plusSeconds(60))
        assertEquals(1u, a.patrols)
        assertEquals(1u, a.incidentsReported)
    }
}
