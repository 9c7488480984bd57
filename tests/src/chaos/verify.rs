//! The end state of the district: what must hold once the faults stopped and every phone synced
//! cleanly. Each check that fails adds one line (a divergence) naming the phone and what
//! differs.

use std::collections::{BTreeMap, BTreeSet};
use std::fmt::Debug;

use chrono::{DateTime, Utc};
use gridwork_core::work_order::{WorkOrder, WorkOrderRow, WorkOrderSpec};
use gridwork_core::{AreaPath, Household, RecordKind, Role, Store, Visit};
use uuid::Uuid;

use super::{Phone, REFERENCE, World};
use crate::HarnessResult;

/// At most this many lines of one kind per phone (the rest are counted).
const MAX_LINES: usize = 5;

/// Documents by id with their heads, sorted.
type Docs = BTreeMap<Uuid, Vec<[u8; 32]>>;

/// The documents `s` holds within `area` (every document when `None`) of `kinds`.
fn docs(s: &Store, area: Option<&AreaPath>, kinds: &[RecordKind]) -> HarnessResult<Docs> {
    let mut out = Docs::new();
    for d in s.digest(area)? {
        if s.record_kind(d.id)?.is_some_and(|k| kinds.contains(&k)) {
            let mut heads = d.heads;
            heads.sort_unstable();
            out.insert(d.id, heads);
        }
    }
    Ok(out)
}

/// Of the work orders `s` holds in `area`, those an event of which names one of `departments`
/// (as the server records them at ingest: what a department handler's phone receives).
fn dispatched_to(
    s: &mut Store,
    area: &AreaPath,
    departments: &[&str],
) -> HarnessResult<BTreeSet<Uuid>> {
    let mut by_doc: BTreeMap<Uuid, Vec<automerge::Change>> = BTreeMap::new();
    for e in s.changes_missing_from(&[], Some(area))? {
        if e.kind == RecordKind::WorkOrder {
            by_doc.entry(e.doc_id).or_default().push(automerge::Change::from_bytes(e.bytes)?);
        }
    }
    let mut out = BTreeSet::new();
    for (id, changes) in by_doc {
        let mut doc = automerge::AutoCommit::new();
        doc.apply_changes(changes)?;
        let order = gridwork_core::spec::decode::<WorkOrderSpec>(id, &doc)
            .map_err(|e| format!("work order {id}: {e}"))?;
        if order
            .record
            .events
            .iter()
            .any(|l| l.event.department.as_deref().is_some_and(|d| departments.contains(&d)))
        {
            out.insert(id);
        }
    }
    Ok(out)
}

/// The id of the district's reference record (every phone of the district reads it).
fn district_reference(w: &World) -> Uuid {
    let code = w.layout.town.as_str().split('/').next().unwrap_or_default();
    AreaPath::parse(code).map_or(Uuid::nil(), |d| gridwork_core::reference::reference_id(&d))
}

/// The work orders of the reference phone that phone `p` reads: all, or a department
/// handler's departments'.
fn visible_orders(w: &World, p: &Phone) -> HarnessResult<Option<BTreeSet<Uuid>>> {
    p.departments()
        .map(|deps| w.phones[REFERENCE].device.with(|s| dispatched_to(s, &p.scope, deps)))
        .transpose()
}

/// The facts of a work order every phone must fold alike.
#[derive(Debug, Clone, PartialEq)]
struct Fold {
    id: Uuid,
    state: Option<String>,
    departments: Vec<(String, String)>,
    deadline: Option<DateTime<Utc>>,
    clock_started_at: Option<DateTime<Utc>>,
    closed_at: Option<DateTime<Utc>>,
    escalated: bool,
    extension_hours: u64,
    /// Applied events, in fold order (short ids).
    events: Vec<String>,
    /// Conflicts: event (short id), type, code and whether reviewed.
    conflicts: Vec<String>,
    /// How many conflicts wait for review (what the lists count).
    unreviewed: usize,
}

fn short(id: &str) -> String {
    id.chars().rev().take(6).collect::<Vec<_>>().into_iter().rev().collect()
}

impl Fold {
    fn of(w: &WorkOrder) -> Fold {
        let s = &w.summary;
        Fold {
            id: w.id,
            state: s.state.map(|x| x.as_str().to_owned()),
            departments: s
                .departments
                .iter()
                .map(|(d, p)| (d.clone(), p.as_str().to_owned()))
                .collect(),
            deadline: s.deadline,
            clock_started_at: s.clock_started_at,
            closed_at: s.closed_at,
            escalated: s.escalated,
            extension_hours: s.extension_hours,
            events: s.events.iter().map(|e| format!("{}:{}", e.event_type, short(&e.id))).collect(),
            conflicts: s
                .conflicts
                .iter()
                .map(|c| {
                    let mark = if c.reviewed { ":reviewed" } else { "" };
                    format!("{}:{}:{}{mark}", c.event_type, short(&c.event_id), c.code)
                })
                .collect(),
            unreviewed: s.unreviewed_conflicts(),
        }
    }
}

/// What a phone reads back within an area: the records and the lists.
#[derive(Debug, PartialEq)]
struct View {
    households: Vec<Household>,
    visits: Vec<Visit>,
    folds: Vec<Fold>,
    /// The whole work orders (the folds above, and everything else of them).
    work_orders: Vec<WorkOrder>,
    open_rows: Vec<WorkOrderRow>,
    conflict_rows: Vec<WorkOrderRow>,
}

impl View {
    fn read(
        s: &mut Store,
        area: &AreaPath,
        kinds: &[RecordKind],
        now: DateTime<Utc>,
    ) -> HarnessResult<View> {
        let held = |k: RecordKind| kinds.contains(&k);
        let households = if held(RecordKind::Household) {
            s.households().in_area(area, u32::MAX)?
        } else {
            vec![]
        };
        let mut visits = Vec::new();
        let mut work_orders = Vec::new();
        for (id, _) in docs(s, Some(area), kinds)? {
            match s.record_kind(id)? {
                Some(RecordKind::Visit) => visits.push(s.visits().get(id)?),
                Some(RecordKind::WorkOrder) => {
                    let mut w = s.work_orders().get(id)?;
                    // Depends on the moment of reading, not on the data.
                    w.summary.overdue = false;
                    work_orders.push(w);
                }
                _ => {}
            }
        }
        let (open_rows, conflict_rows) = if held(RecordKind::WorkOrder) {
            (
                s.work_orders().open(area, now, u32::MAX)?,
                s.work_orders().with_conflicts(area, u32::MAX)?,
            )
        } else {
            (vec![], vec![])
        };
        Ok(View {
            households,
            visits,
            folds: work_orders.iter().map(Fold::of).collect(),
            work_orders,
            open_rows,
            conflict_rows,
        })
    }

    /// Keeps only the work orders in `visible`.
    fn keep_orders(&mut self, visible: &BTreeSet<Uuid>) {
        self.folds.retain(|f| visible.contains(&f.id));
        self.work_orders.retain(|o| visible.contains(&o.id));
        self.open_rows.retain(|r| visible.contains(&r.id));
        self.conflict_rows.retain(|r| visible.contains(&r.id));
    }

    /// Where this view differs from `expected`, one line per part.
    fn differences(&self, expected: &View) -> Vec<String> {
        let mut out = Vec::new();
        out.extend(diff("households", &expected.households, &self.households));
        out.extend(diff("visits", &expected.visits, &self.visits));
        out.extend(diff("work-order folds", &expected.folds, &self.folds));
        if expected.folds == self.folds {
            out.extend(diff("work orders", &expected.work_orders, &self.work_orders));
        }
        out.extend(diff("open work-order list", &expected.open_rows, &self.open_rows));
        out.extend(diff("conflict list", &expected.conflict_rows, &self.conflict_rows));
        out
    }

    /// Where the phone's lists disagree with its own records: a list row whose state,
    /// conflicts or deadline is not the record's.
    fn inconsistencies(&self) -> Vec<String> {
        let mut out = Vec::new();
        for f in &self.folds {
            let open = f.state.as_deref() != Some("closed");
            let row = self.open_rows.iter().find(|r| r.id == f.id);
            match (open, row) {
                (true, None) => out.push(format!(
                    "work order {} ({:?}) missing from the open list",
                    f.id, f.state
                )),
                (false, Some(_)) => {
                    out.push(format!("closed work order {} in the open list", f.id))
                }
                (true, Some(r)) => {
                    let listed = (Some(r.state.clone()), r.conflicts as usize, r.deadline);
                    let record = (f.state.clone(), f.unreviewed, f.deadline);
                    if listed != record {
                        out.push(format!(
                            "work order {}: list shows (state, conflicts, deadline) {listed:?}, record {record:?}",
                            f.id
                        ));
                    }
                }
                (false, None) => {}
            }
        }
        out
    }
}

/// A line saying how `got` differs from `expected`, if it does.
fn diff<T: Debug + PartialEq>(what: &str, expected: &[T], got: &[T]) -> Option<String> {
    if expected == got {
        return None;
    }
    let at = expected.iter().zip(got).position(|(a, b)| a != b);
    Some(match at {
        Some(k) => format!(
            "{what} differ ({} expected, {} read); first at #{k}: expected {} — read {}",
            expected.len(),
            got.len(),
            clip(&expected[k]),
            clip(&got[k])
        ),
        None => format!("{what}: {} expected, {} read", expected.len(), got.len()),
    })
}

fn clip(v: &impl Debug) -> String {
    let s = format!("{v:?}");
    if s.chars().count() > 450 {
        format!("{}…", s.chars().take(450).collect::<String>())
    } else {
        s
    }
}

/// Adds `lines` prefixed by `label`, at most [`MAX_LINES`], and a count of the rest.
fn push_capped(out: &mut Vec<String>, label: &str, lines: Vec<String>) {
    let n = lines.len();
    out.extend(lines.into_iter().take(MAX_LINES).map(|l| format!("{label}: {l}")));
    if n > MAX_LINES {
        out.push(format!("{label}: … and {} more", n - MAX_LINES));
    }
}

/// Checks the end state; returns the divergences.
pub(super) async fn verify(w: &mut World) -> HarnessResult<Vec<String>> {
    let mut out = Vec::new();
    let (head, changes) = w.server.log_size().await?;
    w.report.changes = changes;
    if head != changes {
        out.push(format!("server: head seq {head} but {changes} changes held"));
    }
    let committed: BTreeSet<[u8; 32]> = w.ledger.iter().map(|c| c.hash).collect();
    let reference = &w.phones[REFERENCE];
    // Beside the phones' changes the server holds the ones it authored itself: the district's
    // reference record (issue 11), which the reference phone holds too.
    let district = district_reference(w);
    let authored = reference
        .device
        .held_changes()
        .map(|held| held.values().filter(|c| c.doc_id == district).count() as u64)
        .unwrap_or(0);
    if changes != committed.len() as u64 + authored {
        out.push(format!(
            "server: holds {changes} changes, the phones committed {} distinct ones and the \
             server authored {authored}",
            committed.len()
        ));
    }
    let now = Utc::now();
    // Every committed change reached the reference, whose scope covers every record.
    let lost: Vec<String> = match reference.device.held_changes() {
        Ok(held) => w
            .ledger
            .iter()
            .filter(|c| !held.contains_key(&c.hash))
            .map(|c| format!("{} of {} on {} is missing", c.what, w.phones[c.phone].label, c.doc))
            .collect(),
        Err(e) => vec![format!("its changes could not be read: {e}")],
    };
    push_capped(&mut out, &format!("{} (reference)", reference.label), lost);
    // Every conflict the work made, the centre's reviewed ones too (the lists count only those
    // still waiting).
    w.report.conflicts = reference.device.with(|s| {
        let mut n = 0u64;
        for id in docs(s, Some(&w.layout.town), &[RecordKind::WorkOrder])?.keys() {
            n += s.work_orders().get(*id)?.summary.conflicts.len() as u64;
        }
        Ok::<u64, crate::HarnessError>(n)
    })?;

    for (i, p) in w.phones.iter().enumerate().filter(|(_, p)| p.enrolled) {
        let lines = check_phone(w, i, head, now).await;
        push_capped(&mut out, &p.label, lines);
    }
    out.extend(check_liaison(w)?);
    Ok(out)
}

/// Everything that must hold for phone `i`. Each part is checked on its own: a phone whose
/// store fails one read still has the others checked.
async fn check_phone(w: &World, i: usize, head: u64, now: DateTime<Utc>) -> Vec<String> {
    let p = &w.phones[i];
    let mut out = Vec::new();
    let mut part = |what: &str, r: HarnessResult<Vec<String>>| match r {
        Ok(lines) => out.extend(lines),
        Err(e) => out.push(format!("{what} could not be read: {e}")),
    };
    part("sync state", stuck(p, head));
    let expected = w.phones[REFERENCE]
        .device
        .with(|s| docs(s, Some(&p.scope), &p.readable()))
        .and_then(|mut all| {
            if let Some(visible) = visible_orders(w, p)? {
                let district = district_reference(w);
                all.retain(|id, _| visible.contains(id) || *id == district);
            }
            Ok(all)
        });
    match expected {
        Ok(expected) => {
            part("documents", same_documents(p, &expected));
            part("changes", committed_changes(w, p, &expected));
        }
        Err(e) => part("the reference's documents", Err(e)),
    }
    part("the server's digest", same_as_server(p).await);
    part("records and lists", same_records(w, i, now));
    out
}

/// The same documents as the reference within the phone's scope, with the same heads, and
/// nothing outside it.
fn same_documents(p: &Phone, expected: &Docs) -> HarnessResult<Vec<String>> {
    let held = p.device.with(|s| docs(s, None, &RecordKind::ALL))?;
    let missing: Vec<&Uuid> = expected.keys().filter(|id| !held.contains_key(id)).collect();
    let extra: Vec<&Uuid> = held.keys().filter(|id| !expected.contains_key(id)).collect();
    let behind: Vec<&Uuid> = expected
        .iter()
        .filter(|(id, h)| held.get(id).is_some_and(|x| x != *h))
        .map(|e| e.0)
        .collect();
    let mut out = Vec::new();
    for (what, ids) in
        [("missing", missing), ("held outside its scope", extra), ("with other heads", behind)]
    {
        if !ids.is_empty() {
            out.push(format!(
                "{} documents {what} (of {} expected): {:?}",
                ids.len(),
                expected.len(),
                &ids[..ids.len().min(4)]
            ));
        }
    }
    Ok(out)
}

/// Every committed change of a document the phone must hold.
fn committed_changes(w: &World, p: &Phone, expected: &Docs) -> HarnessResult<Vec<String>> {
    let held: BTreeSet<[u8; 32]> = p.device.held_changes()?.into_keys().collect();
    let lacking = w
        .ledger
        .iter()
        .filter(|c| expected.contains_key(&c.doc) && !held.contains(&c.hash))
        .count();
    Ok(if lacking > 0 {
        vec![format!("lacks {lacking} committed changes of documents in its scope")]
    } else {
        vec![]
    })
}

/// The same changes as the server within the phone's scope (`/v1/digest`).
async fn same_as_server(p: &Phone) -> HarnessResult<Vec<String>> {
    let cmp = p.device.compare_with_server(&p.scope).await?;
    Ok(if !cmp.divergent.is_empty() || !cmp.unknown_to_server.is_empty() {
        vec![format!(
            "/v1/digest: {} documents differ from the server, {} unknown to it",
            cmp.divergent.len(),
            cmp.unknown_to_server.len()
        )]
    } else {
        vec![]
    })
}

/// The same records and lists as the reference, and lists that agree with the records.
fn same_records(w: &World, i: usize, now: DateTime<Utc>) -> HarnessResult<Vec<String>> {
    let p = &w.phones[i];
    let kinds = p.readable();
    let mut want = w.phones[REFERENCE].device.with(|s| View::read(s, &p.scope, &kinds, now))?;
    let mut got = p.device.with(|s| View::read(s, &p.scope, &kinds, now))?;
    if let Some(visible) = visible_orders(w, p)? {
        want.keep_orders(&visible);
    }
    // Known gap, not hidden: a visit keeps the area the recording phone saw its household in,
    // so a micro-grid's phone may lack a visit recorded while another phone still had the
    // household elsewhere, and derive an earlier last visit and due date than phones that see
    // the whole grid. Scoping visits by their household's current area needs the server to
    // read records (the read-model issue). Every other field is compared.
    if p.scope.level() > gridwork_core::AreaLevel::Grid {
        for h in want.households.iter_mut().chain(got.households.iter_mut()) {
            h.last_visit_at = None;
            h.next_due_at = chrono::DateTime::<Utc>::MIN_UTC;
        }
    }
    let mut out = if i == REFERENCE { vec![] } else { got.differences(&want) };
    out.extend(got.inconsistencies());
    Ok(out)
}

/// Why phone `p` is stuck, if it is: its last sync failed, its cursor is not the server's head,
/// it has unsent or quarantined changes, or a bootstrap is still pending.
fn stuck(p: &Phone, head: u64) -> HarnessResult<Vec<String>> {
    let mut out = Vec::new();
    match &p.last_sync {
        Some(Ok(())) => {}
        Some(Err(e)) => out.push(format!("stuck: its last sync failed: {e}")),
        None => out.push("never synced".into()),
    }
    let state = p.device.with(|s| gridwork_core::sync::state::sync_state(s))?;
    if state.cursor != head {
        out.push(format!("cursor {} but the server's head is {head}", state.cursor));
    }
    if state.pending > 0 {
        out.push(format!("{} changes still unsent", state.pending));
    }
    if state.bootstrap_pending {
        out.push("bootstrap still pending".into());
    }
    if let Some(e) = state.last_error {
        out.push(format!("last error {e}"));
    }
    let quarantined = p.device.with(|s| gridwork_core::sync::quarantined(s))?;
    if !quarantined.is_empty() {
        out.push(format!(
            "{} changes quarantined, first: {} {}",
            quarantined.len(),
            quarantined[0].code,
            quarantined[0].message
        ));
    }
    Ok(out)
}

/// The liaison no longer holds the household moved out of its micro-grid, and holds the one
/// moved in (with its whole history: its heads are checked with the other documents).
fn check_liaison(w: &World) -> HarnessResult<Vec<String>> {
    let mut out = Vec::new();
    let (Some(gone), Some(came)) = (w.moved_out, w.moved_in) else {
        return Ok(vec!["the final moves did not happen".into()]);
    };
    for p in w.phones.iter().filter(|p| p.role == Role::Liaison) {
        let (gone_h, came_h) = p.device.with(|s| -> HarnessResult<_> {
            Ok((s.households().get(gone)?, s.households().get(came)?))
        })?;
        if let Some(h) = &gone_h {
            let held: Vec<String> = p.device.with(|s| -> HarnessResult<_> {
                Ok(s.held_changes()?
                    .into_iter()
                    .filter(|c| c.doc_id == gone)
                    .map(|c| format!("{} {}", c.reason, c.detail))
                    .collect())
            })?;
            out.push(format!(
                "{}: still holds household {gone} (its copy says {}, held: {held:?}), moved out of its micro-grid",
                p.label, h.area
            ));
            continue;
        }
        if gone_h.is_some() {
            out.push(format!(
                "{}: still holds household {gone}, moved out of its micro-grid",
                p.label
            ));
        }
        match came_h {
            Some(h) if h.area == w.layout.micro_a1 => {}
            Some(h) => out.push(format!(
                "{}: holds household {came}, moved into its micro-grid, under {}",
                p.label, h.area
            )),
            None => {
                out.push(format!("{}: lacks household {came}, moved into its micro-grid", p.label))
            }
        }
    }
    Ok(out)
}
