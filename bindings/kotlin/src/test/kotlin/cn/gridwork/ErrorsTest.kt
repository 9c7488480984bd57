package cn.gridwork

import cn.gridwork.core.ChangeEnvelope
import cn.gridwork.core.HouseholdTag
import cn.gridwork.core.RecordKind
import cn.gridwork.core.Role
import cn.gridwork.core.SignedInUser
import cn.gridwork.ffi.DataChanged
import cn.gridwork.ffi.DataObserver
import cn.gridwork.ffi.GridworkException
import cn.gridwork.ffi.GridworkStore
import cn.gridwork.ffi.InternalException
import cn.gridwork.ffi.changeHash
import cn.gridwork.ffi.gridworkVersion
import cn.gridwork.ffi.normalizePhone
import cn.gridwork.ffi.parseAreaPath
import java.time.Instant
import java.util.UUID
import org.junit.jupiter.api.Assertions.assertEquals
import org.junit.jupiter.api.Assertions.assertTrue
import org.junit.jupiter.api.Test
import org.junit.jupiter.api.assertThrows

/** Bad input from Kotlin gets typed exceptions naming the problem, never a crash. */
class ErrorsTest {
    private fun invalid(field: String, block: () -> Unit) {
        val e = assertThrows<GridworkException.InvalidInput> { block() }
        assertEquals(field, e.field, e.message)
        assertEquals("invalid_input", e.code())
    }

    @Test
    fun `forms get field errors`() {
        storeFor().use { s ->
            invalid("head_name") { s.addHousehold(household("", "和平路1号")) }
            invalid("address") { s.addHousehold(household("张三", "  ")) }
            invalid("member_count") { s.addHousehold(household("张三", "和平路1号", members = 0u)) }
            invalid("phone") { s.addHousehold(household("张三", "和平路1号", phone = "12345")) }
            invalid("tags") { s.addHousehold(household("张三", "和平路1号", tags = listOf(HouseholdTag.DRUG_REHAB))) }
            invalid("area") { s.householdsIn("32061", 10u) }
            invalid("area") { s.dueVisits("abc", Instant.now(), 10u) }
            invalid("area") { s.searchHouseholds("", "王", 10u) }
            invalid("parent") { s.childAreas("x/y") }
            invalid("path") { s.area("320612/") }
            invalid("query") { s.searchHouseholds(GRID, "王".repeat(1000), 10u) }
            invalid("hashes") { s.acknowledge(listOf(ByteArray(3))) }
            invalid("key") { GridworkStore.open("unused.db", ByteArray(5)) }
            invalid("path") { GridworkStore.open("", null) }
            invalid("change") { changeHash(ChangeEnvelope(UUID.randomUUID(), RecordKind.VISIT, GRID, byteArrayOf(1, 2, 3))) }
            invalid("area") { parseAreaPath("320612/abcd") }
            invalid("phone") { normalizePhone("call me") }
            assertEquals("13812345678", normalizePhone("+86 138-1234-5678"))
            assertEquals(GRID, parseAreaPath(" $GRID "))
            assertTrue(gridworkVersion().isNotEmpty())

            val h = s.addHousehold(household("张三", "和平路1号"))
            invalid("satisfaction") { s.recordVisit(visit(h, Instant.now(), satisfaction = 9u)) }
            invalid("follow_up_due") {
                s.recordVisit(visit(h, Instant.now()).copy(followUpDue = Instant.now().minusSeconds(86400)))
            }
            invalid("satisfaction") { s.resolveConflict(RecordKind.HOUSEHOLD, h, "satisfaction", "x") }
        }
    }

    @Test
    fun `missing records, scope and sign-in are typed`() {
        storeFor().use { s ->
            val nobody = UUID.randomUUID()
            assertEquals(null, s.household(nobody))
            val nf = assertThrows<GridworkException.NotFound> { s.visit(nobody) }
            assertEquals("not_found", nf.code())
            assertThrows<GridworkException.NotFound> { s.recordVisit(visit(nobody, Instant.now())) }
            assertThrows<GridworkException.NotFound> { s.history(RecordKind.HOUSEHOLD, nobody) }
            assertThrows<GridworkException.NotFound> { s.conflicts(RecordKind.VISIT, nobody) }
            assertThrows<GridworkException.NotFound> { s.deleteRecord(RecordKind.HOUSEHOLD, nobody) }
            assertThrows<GridworkException.NotFound> { s.updateHousehold(nobody, household("张三", "和平路1号")) }
            assertThrows<GridworkException.NotFound> { s.addHousehold(household("张三", "和平路1号", area = "320612/001/001/01/09")) }
            val scope = assertThrows<GridworkException.OutOfScope> {
                s.addHousehold(household("张三", "和平路1号", area = OTHER_TOWN))
            }
            assertEquals(OTHER_TOWN, scope.area)
            assertEquals(GRID, scope.scope)
            // A batch with one bad input writes nothing.
            assertThrows<GridworkException.InvalidInput> {
                s.addHouseholds(listOf(household("甲", "一号"), household("", "二号")))
            }
            assertEquals(0UL, s.countRecords(RecordKind.HOUSEHOLD))
            // Corrupt changes from a peer are refused whole.
            val bad = assertThrows<GridworkException.BadChange> {
                s.applyChanges(listOf(ChangeEnvelope(nobody, RecordKind.HOUSEHOLD, GRID, byteArrayOf(0, 1, 2))))
            }
            assertEquals(nobody.toString(), bad.docId)
        }
        GridworkStore.openInMemory().use { s ->
            s.loadAreas(AREAS)
            assertThrows<GridworkException.NotSignedIn> { s.addHousehold(household("张三", "和平路1号")) }
            assertThrows<GridworkException.NotSignedIn> { s.myDay(Instant.now(), Instant.now()) }
            invalid("user_id") { s.signIn(SignedInUser("", "张三", Role.LIAISON, GRID)) }
            assertThrows<GridworkException.NotFound> { s.loadAreas(listOf(cn.gridwork.core.Area("320699/001", "孤儿"))) }
            invalid("name") { s.loadAreas(listOf(cn.gridwork.core.Area("320699", " "))) }
        }
    }

    @Test
    fun `malformed values inside records fail the call, not the process`() {
        storeFor().use { s ->
            // An area code path inside a record is checked when it crosses into Rust: the call
            // fails with an exception and the store carries on.
            val e = assertThrows<InternalException> { s.addHousehold(household("张三", "和平路1号", area = "not/an/area")) }
            assertTrue(e.message!!.contains("area"), e.message)
            assertEquals(0UL, s.countRecords(RecordKind.HOUSEHOLD))
            s.addHousehold(household("张三", "和平路1号"))
            assertEquals(1UL, s.countRecords(RecordKind.HOUSEHOLD))
        }
    }

    @Test
    fun `a throwing observer never fails the write`() {
        storeFor().use { s ->
            var calls = 0
            s.subscribe(object : DataObserver {
                override fun onDataChanged(change: DataChanged) {
                    calls++
                    throw IllegalStateException("UI is gone")
                }
            }).use {
                val id = s.addHousehold(household("张三", "和平路1号"))
                assertEquals("张三", s.household(id)!!.headName)
                s.addHousehold(household("李四", "和平路2号"))
                assertEquals(2, calls)
            }
        }
    }
}
