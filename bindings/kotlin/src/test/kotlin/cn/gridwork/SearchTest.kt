package cn.gridwork

import org.junit.jupiter.api.Assertions.assertEquals
import org.junit.jupiter.api.Assertions.assertFalse
import org.junit.jupiter.api.Assertions.assertTrue
import org.junit.jupiter.api.Test

/** Finding households by Chinese name, address fragment, pinyin initials or phone digits. */
class SearchTest {
    @Test
    fun `search Chinese names`() {
        storeFor().use { s ->
            val wang = s.addHousehold(household("王芳", "幸福小区3幢2单元301室", "13812345678"))
            val ouyang = s.addHousehold(household("欧阳娜娜", "和平路18号", "13900001111", area = "320612/001/001/01/02"))
            s.addHouseholds((1..20).map { household("住户$it", "人民路${it}号") })
            fun find(q: String) = s.searchHouseholds(GRID, q, 50u).map { it.id }

            for (q in listOf("王芳", "芳", "wf", "wangfang", "5678", "幸福", "301")) {
                assertTrue(wang in find(q), "$q should find 王芳")
                assertFalse(ouyang in find(q), "$q should not find 欧阳娜娜")
            }
            for (q in listOf("欧阳", "娜娜", "oy", "1111", "和平路")) {
                assertTrue(ouyang in find(q), "$q should find 欧阳娜娜")
            }
            assertEquals(wang, find("王芳").first(), "the best match comes first")
            assertTrue(find("   ").isEmpty())
            // Search stays within the area asked for.
            assertTrue(s.searchHouseholds(OTHER_TOWN, "王芳", 10u).isEmpty())
            assertEquals(listOf(ouyang), s.searchHouseholds("320612/001/001/01/02", "娜", 10u).map { it.id })
            // Queries that look like FTS syntax are just text.
            for (q in listOf("\"", "王 OR 芳", "*", "NEAR(", "a:b")) {
                s.searchHouseholds(GRID, q, 10u)
            }
        }
    }
}
