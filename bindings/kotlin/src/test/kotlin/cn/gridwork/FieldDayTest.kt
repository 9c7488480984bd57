package cn.gridwork

import cn.gridwork.core.HouseholdTag
import cn.gridwork.core.Location
import cn.gridwork.core.RecordKind
import cn.gridwork.core.VisitOutcome
import cn.gridwork.ffi.GridworkException
import cn.gridwork.ffi.GridworkStore
import java.nio.file.Path
import java.time.Duration
import java.time.Instant
import java.util.UUID
import kotlinx.coroutines.runBlocking
import org.junit.jupiter.api.Assertions.assertEquals
import org.junit.jupiter.api.Assertions.assertFalse
import org.junit.jupiter.api.Assertions.assertNotNull
import org.junit.jupiter.api.Assertions.assertTrue
import org.junit.jupiter.api.Test
import org.junit.jupiter.api.assertThrows
import org.junit.jupiter.api.io.TempDir

/** A grid worker's day, start to finish, on an encrypted store: the app's main path. */
class FieldDayTest {
    @TempDir
    lateinit var dir: Path

    private val key = ByteArray(32) { (it * 7 + 1).toByte() }

    @Test
    fun `record a day of field work`() = runBlocking {
        val path = dir.resolve("gridwork.db").toString()
        val store = openGridworkStore(path, key)
        store.call { loadAreas(AREAS) }
        store.call { signIn(worker()) }
        assertEquals("李娟", store.signedInUser()?.name)
        assertEquals(listOf("320612/001", "320612/002"), store.childAreas("320612").map { it.path })
        assertEquals("第一网格", store.area(GRID)?.name)

        // Morning: the households of the micro-grid are entered (a building at once).
        val elderly = store.call {
            addHousehold(household("王秀英", "幸福小区3幢2单元301室", "13812345678", listOf(HouseholdTag.ELDERLY_ALONE), members = 1u))
        }
        val others = store.call {
            addHouseholds(listOf(
                household("张伟", "幸福小区3幢2单元302室", "0513-86123456"),
                household("刘洋", "幸福小区3幢2单元401室", tags = listOf(HouseholdTag.RENTAL)),
            ))
        }
        assertEquals(2, others.size)
        val morning = Instant.now()

        // Every new household is due for a first visit.
        val day = store.call { myDay(morning.minusSeconds(3600), morning.plusSeconds(60)) }
        assertEquals(3, day.dueVisits.size)
        assertEquals(3u, day.dueVisitCount)
        assertEquals(3UL, day.pendingChanges)
        assertEquals(GRID, day.scope)
        assertEquals("w1", day.userId)

        // Visits: one met (with needs and satisfaction), one nobody home.
        val later = Instant.now()
        val v1 = store.call {
            recordVisit(visit(elderly, later, situation = "独居，身体尚可", needs = "希望安装扶手", satisfaction = 5u)
                .copy(location = Location(32.0, 120.86)))
        }
        store.call { recordVisit(visit(others[0], later, outcome = VisitOutcome.NOT_HOME)) }

        val met = store.visit(v1)
        assertEquals("希望安装扶手", met.needs)
        assertEquals(5.toUByte(), met.satisfaction)
        assertEquals("w1", met.visitor)
        assertEquals(32.0, met.location?.lat)
        val h = store.household(elderly)!!
        assertEquals(7u, h.intervalDays, "elderly living alone: weekly")
        assertEquals(later.toEpochMilli(), h.lastVisitAt?.toEpochMilli())
        assertEquals(listOf(v1), store.visitsOfHousehold(elderly).map { it.id })

        // The met household leaves today's due list; the one not at home stays.
        val due = store.dueVisits(GRID, later.plusSeconds(60), 10u).map { it.household.id }
        assertFalse(elderly in due)
        assertTrue(others[0] in due && others[1] in due)
        // A week later the elderly household is due again.
        val nextWeek = store.dueVisits(GRID, later.plus(Duration.ofDays(8)), 10u).map { it.household.id }
        assertTrue(elderly in nextWeek)

        // An edit, then the record's trail.
        store.call { updateHousehold(others[1], household("刘洋", "幸福小区3幢2单元401室", "13900001111", listOf(HouseholdTag.RENTAL), members = 4u)) }
        val trail = store.history(RecordKind.HOUSEHOLD, others[1])
        assertEquals(listOf("add_household", "update_household"), trail.map { it.op })
        assertTrue("phone" in trail[1].fields && "member_count" in trail[1].fields)
        assertEquals("w1", trail[1].by)
        assertTrue(store.conflicts(RecordKind.HOUSEHOLD, others[1]).isEmpty())

        assertEquals(3UL, store.countRecords(RecordKind.HOUSEHOLD))
        assertEquals(2UL, store.countRecords(RecordKind.VISIT))
        assertEquals(6UL, store.pendingChanges())
        assertTrue(store.integrityCheck())
        store.checkpoint()
        store.close()

        // Evening: the app restarts; the encrypted file opens only with the key.
        assertThrows<GridworkException.Locked> { GridworkStore.open(path, null).close() }
        assertThrows<GridworkException.Locked> { GridworkStore.open(path, ByteArray(32)).close() }
        GridworkStore.open(path, key).use { again ->
            assertEquals("李娟", again.signedInUser()?.name)
            assertEquals(3, again.householdsIn(MICRO, 100u).size)
            assertEquals(6UL, again.pendingChanges())
        }
    }

    @Test
    fun `a visit edited on two phones keeps both edits`() {
        val a = storeFor(worker("w1", "李娟"))
        val b = storeFor(worker("w2", "陈刚"))
        val hid = a.addHousehold(household("王秀英", "幸福小区3幢2单元301室"))
        val vid = a.recordVisit(visit(hid, Instant.now().minusSeconds(3600), situation = "独居，身体尚可", satisfaction = 4u))
        exchange(a, b)
        val form = a.visit(vid)
        val input = visit(hid, form.visitedAt, situation = form.situation, satisfaction = form.satisfaction)

        // Offline: one phone adds the needs raised, the other corrects the satisfaction.
        a.updateVisit(vid, input.copy(needs = "希望安装扶手"))
        b.updateVisit(vid, input.copy(satisfaction = 5u))
        val trail = a.history(RecordKind.VISIT, vid)
        assertEquals(listOf("record_visit", "update_visit"), trail.map { it.op })
        assertEquals(listOf("needs"), trail[1].fields)
        exchange(a, b)
        exchange(b, a)
        val merged = a.visit(vid)
        assertEquals(merged, b.visit(vid))
        assertEquals("希望安装扶手", merged.needs)
        assertEquals(5.toUByte(), merged.satisfaction)
        assertEquals("w1", merged.visitor, "the visitor stays who made the visit")
        assertTrue(a.conflicts(RecordKind.VISIT, vid).isEmpty())

        // Refusals name the field and write nothing.
        val pending = a.pendingChanges()
        val bad = assertThrows<GridworkException.InvalidInput> { a.updateVisit(vid, input.copy(satisfaction = 9u)) }
        assertEquals("satisfaction", bad.field)
        val moved = assertThrows<GridworkException.InvalidInput> { a.updateVisit(vid, input.copy(householdId = UUID.randomUUID())) }
        assertEquals("household_id", moved.field)
        assertEquals(pending, a.pendingChanges())
        a.deleteRecord(RecordKind.VISIT, vid)
        assertThrows<GridworkException.NotFound> { a.updateVisit(vid, input) }
    }

    @Test
    fun `deleted households leave lists and due visits`() {
        storeFor().use { s ->
            val id = s.addHousehold(household("赵敏", "和平路18号"))
            s.deleteRecord(RecordKind.HOUSEHOLD, id)
            assertTrue(s.householdsIn(GRID, 10u).isEmpty())
            assertTrue(s.dueVisits(GRID, Instant.now().plusSeconds(86400), 10u).isEmpty())
            assertNotNull(s.household(id), "a deleted record is still readable by id")
        }
    }
}
