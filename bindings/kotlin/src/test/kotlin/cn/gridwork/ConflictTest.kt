package cn.gridwork

import cn.gridwork.core.RecordKind
import cn.gridwork.ffi.ChangeOrigin
import cn.gridwork.ffi.DataChanged
import cn.gridwork.ffi.DataObserver
import cn.gridwork.ffi.changeHash
import java.util.Collections
import org.junit.jupiter.api.Assertions.assertEquals
import org.junit.jupiter.api.Assertions.assertTrue
import org.junit.jupiter.api.Test

/**
 * Two phones edit the same household while offline and exchange their changes (outbox → apply, as
 * sync does): the concurrent edit of one field surfaces as a conflict on both, identically, until
 * someone resolves it.
 */
class ConflictTest {
    @Test
    fun `a concurrent edit surfaces as a conflict`() {
        val a = storeFor(worker("w1", "李娟"))
        val b = storeFor(worker("w2", "陈刚"))
        val heard = Collections.synchronizedList(mutableListOf<DataChanged>())
        val sub = b.subscribe(object : DataObserver {
            override fun onDataChanged(change: DataChanged) {
                heard += change
            }
        })

        val id = a.addHousehold(household("王芳", "幸福小区5幢101室", "13812345678"))
        val first = exchange(a, b)
        assertEquals(1UL, first.applied)
        assertEquals(a.household(id), b.household(id))
        assertEquals(ChangeOrigin.REMOTE, heard.single().origin)
        assertEquals(listOf(id), heard.single().ids)
        // Applying the same changes again is harmless.
        assertEquals(1UL, exchange(a, b).duplicates)

        // The server acknowledged A's change: it leaves A's outbox.
        a.acknowledge(a.outbox(1UL shl 20).map { changeHash(it) })
        assertEquals(0UL, a.pendingChanges())

        // Offline, both correct the head's name differently; B also fixes the phone.
        a.updateHousehold(id, household("王 芳", "幸福小区5幢101室", "13812345678"))
        b.updateHousehold(id, household("汪芳", "幸福小区5幢101室", "13998765432"))
        exchange(a, b)
        exchange(b, a)

        // Both phones now show the same household…
        val ha = a.household(id)!!
        assertEquals(ha, b.household(id))
        assertEquals("13998765432", ha.phone, "the phone was edited on one side only: no conflict")
        // …and both report the conflicting head name, with the shown value first.
        val ca = a.conflicts(RecordKind.HOUSEHOLD, id)
        assertEquals(ca, b.conflicts(RecordKind.HOUSEHOLD, id))
        val c = ca.single()
        assertEquals("head_name", c.field)
        assertEquals(setOf("王 芳", "汪芳"), c.values.toSet())
        assertEquals(ha.headName, c.values.first())
        // History names both authors.
        assertEquals(setOf("w1", "w2"), a.history(RecordKind.HOUSEHOLD, id).map { it.by }.toSet())

        // A resolves it; once B hears, the conflict is gone on both.
        a.resolveConflict(RecordKind.HOUSEHOLD, id, "head_name", "王芳")
        exchange(a, b)
        for (s in listOf(a, b)) {
            assertTrue(s.conflicts(RecordKind.HOUSEHOLD, id).isEmpty())
            assertEquals("王芳", s.household(id)!!.headName)
        }
        // B heard three received batches and its own edit.
        assertEquals(3, heard.count { it.origin == ChangeOrigin.REMOTE })
        assertEquals(1, heard.count { it.origin == ChangeOrigin.LOCAL })

        // Closing the subscription stops the notifications.
        val before = heard.size
        sub.close()
        a.updateHousehold(id, household("王芳", "幸福小区5幢101室", "13811112222"))
        exchange(a, b)
        assertEquals(before, heard.size)
        a.close()
        b.close()
    }
}
