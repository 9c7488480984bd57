package cn.gridwork

import cn.gridwork.core.Area
import cn.gridwork.core.HouseholdInput
import cn.gridwork.core.HouseholdTag
import cn.gridwork.core.Role
import cn.gridwork.core.SignedInUser
import cn.gridwork.core.VisitInput
import cn.gridwork.core.VisitKind
import cn.gridwork.core.VisitOutcome
import cn.gridwork.ffi.GridworkStore
import java.time.Instant
import java.util.UUID

/** Areas of one district: a town, a community, a grid with two micro-grids, and a second town. */
val AREAS = listOf(
    Area("320612", "通州区"),
    Area("320612/001", "金沙街道"),
    Area("320612/001/001", "幸福社区"),
    Area("320612/001/001/01", "第一网格"),
    Area("320612/001/001/01/01", "一号微网格"),
    Area("320612/001/001/01/02", "二号微网格"),
    Area("320612/002", "兴仁镇"),
)
const val GRID = "320612/001/001/01"
const val MICRO = "320612/001/001/01/01"
const val OTHER_TOWN = "320612/002"

fun worker(id: String = "w1", name: String = "李娟") =
    SignedInUser(userId = id, name = name, role = Role.GRID_WORKER, scope = GRID)

/** A store with the areas loaded and [user] signed in. */
fun storeFor(user: SignedInUser = worker(), path: String? = null, key: ByteArray? = null): GridworkStore {
    val s = if (path == null) GridworkStore.openInMemory() else GridworkStore.open(path, key)
    s.loadAreas(AREAS)
    s.signIn(user)
    return s
}

fun household(
    head: String,
    address: String,
    phone: String? = null,
    tags: List<HouseholdTag> = listOf(HouseholdTag.ORDINARY),
    area: String = MICRO,
    members: UInt = 3u,
) = HouseholdInput(
    area = area,
    address = address,
    building = null,
    unit = null,
    room = null,
    headName = head,
    memberCount = members,
    phone = phone,
    tags = tags,
)

fun visit(
    household: UUID,
    at: Instant,
    outcome: VisitOutcome = VisitOutcome.MET,
    situation: String = "",
    needs: String = "",
    satisfaction: UByte? = null,
) = VisitInput(
    householdId = household,
    visitedAt = at,
    kind = VisitKind.ROUTINE,
    outcome = outcome,
    situation = situation,
    needs = needs,
    satisfaction = satisfaction,
    knowsWorker = null,
    followUpDue = null,
    photos = emptyList(),
    location = null,
    incidentId = null,
    taskId = null,
)

/** Sends everything in [from]'s outbox to [to], as a sync through the server would. */
fun exchange(from: GridworkStore, to: GridworkStore) = to.applyChanges(from.outbox(1UL shl 24))
