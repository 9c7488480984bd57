//! The offline work of the district's phones: what each role records, drawn from the phone's
//! seeded generator, and the ledger of every change a store reported committed.

use chrono::Utc;
use gridwork_core::demo::{self, DemoRng};
use gridwork_core::work_order::{
    EventType, IncidentInput, IncidentSource, Severity, Transition, WorkOrderAction,
    WorkOrderSummary, check_transition, department_transition,
};
use gridwork_core::{
    AreaPath, CoreError, Household, HouseholdInput, HouseholdTag, RecordKind, Role, Store,
    VisitInput, VisitOutcome,
};
use uuid::Uuid;

use super::{Committed, DEPARTMENT, OTHER_DEPARTMENT, World};
use crate::HarnessResult;

/// What a phone does next.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Op {
    AddHousehold,
    EditHousehold,
    MoveHousehold,
    Visit,
    Report,
    Step,
}

/// How often each role does what (relative weights).
fn weights(role: Role) -> &'static [(Op, u64)] {
    use Op::*;
    match role {
        Role::GridWorker => &[
            (AddHousehold, 2),
            (EditHousehold, 4),
            (MoveHousehold, 1),
            (Visit, 2),
            (Report, 1),
            (Step, 2),
        ],
        Role::GridHead => &[
            (AddHousehold, 1),
            (EditHousehold, 3),
            (MoveHousehold, 1),
            (Visit, 1),
            (Report, 1),
            (Step, 4),
        ],
        Role::Liaison => &[(AddHousehold, 2), (EditHousehold, 4), (Visit, 3), (Report, 2)],
        Role::TownOperator | Role::DistrictCentre => {
            &[(AddHousehold, 1), (EditHousehold, 2), (MoveHousehold, 1), (Report, 1), (Step, 6)]
        }
        Role::DepartmentHandler => &[(Step, 1)],
        Role::SyncAdmin => &[],
    }
}

/// One of `items` by weight.
fn pick<T: Copy>(rng: &mut DemoRng, items: &[(T, u64)]) -> Option<T> {
    let total: u64 = items.iter().map(|(_, w)| w).sum();
    let mut n = rng.below(total);
    for (item, w) in items {
        if n < *w {
            return Some(*item);
        }
        n -= w;
    }
    None
}

/// One of `ids`, half the time among the first three (the oldest records, which every phone
/// holds: concurrent edits of the same records), otherwise any.
fn pick_hot(rng: &mut DemoRng, ids: &[Uuid]) -> Option<Uuid> {
    if ids.is_empty() {
        return None;
    }
    let n = if rng.below(2) == 0 { ids.len().min(3) } else { ids.len() };
    ids.get(rng.below(n as u64) as usize).copied()
}

/// The form of an existing household, to edit.
fn input_of(h: &Household) -> HouseholdInput {
    HouseholdInput {
        area: h.area.clone(),
        address: h.address.clone(),
        building: h.building.clone(),
        unit: h.unit.clone(),
        room: h.room.clone(),
        head_name: h.head_name.clone(),
        member_count: h.member_count,
        phone: h.phone.clone(),
        tags: h.tags.clone(),
    }
}

/// Whether a store error is a refusal of the input (the phone would show it and write nothing),
/// as opposed to a failure of the store.
fn is_refusal(e: &CoreError) -> bool {
    matches!(
        e,
        CoreError::WorkOrder(_)
            | CoreError::Invalid { .. }
            | CoreError::OutOfScope { .. }
            | CoreError::Forbidden { .. }
    )
}

impl World {
    /// Phone `i` does one random thing offline.
    pub(super) fn operate(&mut self, i: usize) -> HarnessResult<()> {
        let role = self.phones[i].role;
        let Some(op) = pick(&mut self.phones[i].rng, weights(role)) else {
            return Ok(());
        };
        let ids = self.households_of(i)?;
        match op {
            Op::AddHousehold => {
                let area = self.area_for(i);
                let input = demo::household(&mut self.phones[i].rng, &area);
                if let Some(id) =
                    self.commit(i, None, "add_household", |s| s.households().add(input))?
                    && area == self.layout.micro_a1
                {
                    self.ever_in_liaison.insert(id);
                }
            }
            Op::EditHousehold | Op::MoveHousehold | Op::Visit if ids.is_empty() => {}
            Op::EditHousehold => {
                let Some(id) = pick_hot(&mut self.phones[i].rng, &ids) else { return Ok(()) };
                self.edit_household(i, id)?;
            }
            Op::MoveHousehold => {
                let Some(id) = pick_hot(&mut self.phones[i].rng, &ids) else { return Ok(()) };
                let Some(h) = self.phones[i].device.with(|s| s.households().get(id))? else {
                    return Ok(());
                };
                if let Some(to) = self.layout.neighbour(&h.area).cloned()
                    && self.phones[i].scope.contains(&to)
                {
                    self.move_household(i, id, &to)?;
                }
            }
            Op::Visit => {
                let Some(id) = pick_hot(&mut self.phones[i].rng, &ids) else { return Ok(()) };
                let rng = &mut self.phones[i].rng;
                let outcome =
                    if rng.below(5) == 0 { VisitOutcome::NotHome } else { VisitOutcome::Met };
                let visit = VisitInput {
                    situation: format!("走访{}：家庭情况稳定", rng.below(1000)),
                    satisfaction: Some(1 + rng.below(5) as u8),
                    knows_worker: Some(rng.below(4) > 0),
                    ..VisitInput::routine(id, Utc::now() + self.phones[i].skew, outcome)
                };
                self.commit(i, None, "record_visit", |s| s.visits().record(visit))?;
            }
            Op::Report => {
                let area = self.area_for(i);
                let incident = self.incident(i, area);
                self.commit(i, None, "report_incident", |s| s.work_orders().report(incident))?;
            }
            Op::Step => self.step(i)?,
        }
        Ok(())
    }

    /// The households phone `i` lists in its scope, oldest first (UUIDv7).
    fn households_of(&self, i: usize) -> HarnessResult<Vec<Uuid>> {
        let scope = &self.phones[i].scope;
        let mut ids: Vec<Uuid> = self.phones[i]
            .device
            .with(|s| s.households().in_area(scope, u32::MAX))?
            .into_iter()
            .map(|h| h.id)
            .collect();
        ids.sort();
        Ok(ids)
    }

    /// The ids of the records of `kind` phone `i` holds in its scope, oldest first (UUIDv7).
    fn ids_of(&self, i: usize, kind: RecordKind) -> HarnessResult<Vec<Uuid>> {
        let scope = self.phones[i].scope.clone();
        self.phones[i].device.with(|s| -> HarnessResult<Vec<Uuid>> {
            let mut ids = Vec::new();
            for d in s.digest(Some(&scope))? {
                if s.record_kind(d.id)? == Some(kind) {
                    ids.push(d.id);
                }
            }
            ids.sort();
            Ok(ids)
        })
    }

    /// A micro-grid phone `i` records in: the liaison its own; grid A's phones either of grid
    /// A's; town operators any.
    fn area_for(&mut self, i: usize) -> AreaPath {
        let p = &mut self.phones[i];
        let candidates: Vec<&AreaPath> =
            self.layout.micro_grids().into_iter().filter(|a| p.scope.contains(a)).collect();
        let n = p.rng.below(candidates.len() as u64) as usize;
        candidates.get(n).map_or_else(|| p.scope.clone(), |a| (*a).clone())
    }

    fn incident(&mut self, i: usize, area: AreaPath) -> IncidentInput {
        const CATEGORIES: [&str; 4] =
            ["safety_hazard", "sanitation", "dispute", "public_facilities"];
        let p = &mut self.phones[i];
        let category = CATEGORIES[p.rng.below(CATEGORIES.len() as u64) as usize % CATEGORIES.len()];
        IncidentInput {
            area,
            category: category.into(),
            severity: Severity::ALL[p.rng.below(3) as usize % Severity::ALL.len()],
            title: format!("{}发现问题{}", p.label, p.rng.below(1000)),
            description: "楼道堆放杂物，影响通行".into(),
            location: None,
            photos: vec![],
            source: IncidentSource::GridReport,
            household_id: None,
            patrol_id: None,
            reported_at: Utc::now() + p.skew,
        }
    }

    /// Phone `i` edits one or two fields of household `id`.
    fn edit_household(&mut self, i: usize, id: Uuid) -> HarnessResult<()> {
        let Some(h) = self.phones[i].device.with(|s| s.households().get(id))? else {
            return Ok(());
        };
        let mut input = input_of(&h);
        let rng = &mut self.phones[i].rng;
        match rng.below(4) {
            0 => input.phone = Some(demo::mobile(rng)),
            1 => input.head_name = demo::person_name(rng),
            2 => {
                const TAGS: [HouseholdTag; 4] = [
                    HouseholdTag::ElderlyAlone,
                    HouseholdTag::Difficulty,
                    HouseholdTag::Rental,
                    HouseholdTag::Ordinary,
                ];
                let tag = TAGS[rng.below(4) as usize % TAGS.len()];
                if let Some(at) = input.tags.iter().position(|t| *t == tag) {
                    input.tags.remove(at);
                } else {
                    input.tags.push(tag);
                }
            }
            _ => {}
        }
        // Always at least the member count, so every edit writes something.
        input.member_count = h.member_count % 8 + 1;
        self.commit(i, Some(id), "update_household", |s| {
            s.households().update(id, input).map(|()| id)
        })?;
        Ok(())
    }

    /// Phone `i` moves household `id` to `to` (an edit of its area field).
    pub(super) fn move_household(
        &mut self,
        i: usize,
        id: Uuid,
        to: &AreaPath,
    ) -> HarnessResult<()> {
        let Some(h) = self.phones[i].device.with(|s| s.households().get(id))? else {
            return Err(format!("{} cannot move {id}: not held", self.phones[i].label).into());
        };
        let input = HouseholdInput { area: to.clone(), ..input_of(&h) };
        if self
            .commit(i, Some(id), "move_household", |s| {
                s.households().update(id, input).map(|()| id)
            })?
            .is_some()
        {
            self.report.moves += 1;
            if *to == self.layout.micro_a1 {
                self.ever_in_liaison.insert(id);
            }
        }
        Ok(())
    }

    /// Phone `i` takes a legal step on one of its work orders, if any.
    fn step(&mut self, i: usize) -> HarnessResult<()> {
        let ids = self.ids_of(i, RecordKind::WorkOrder)?;
        let Some(id) = pick_hot(&mut self.phones[i].rng, &ids) else { return Ok(()) };
        let summary = self.phones[i].device.with(|s| s.work_orders().get(id)).map(|w| w.summary);
        let summary = match summary {
            Ok(s) => s,
            Err(e) => {
                self.failed(i, "reading a work order", &e);
                return Ok(());
            }
        };
        let role = self.phones[i].role;
        let p = &mut self.phones[i];
        let options = step_options(&summary, role, &mut p.rng);
        let Some(action) = pick(&mut p.rng, &options) else { return Ok(()) };
        let action = WorkOrderAction {
            event_type: action.0,
            department: action.1.map(str::to_owned),
            note: Some(format!("{}：第{}步", p.label, summary.events.len())),
            extension_hours: (action.0 == EventType::RequestExtension).then_some(24),
            satisfaction: (action.0 == EventType::Verify)
                .then(|| 1 + u8::try_from(p.rng.below(5)).unwrap_or(0)),
            photos: Vec::new(),
            at: Utc::now() + p.skew,
        };
        if self
            .commit(i, Some(id), "act_on_work_order", |s| {
                s.work_orders().act(id, action).map(|_| id)
            })?
            .is_some()
        {
            self.report.steps += 1;
        }
        Ok(())
    }

    /// Notes that phone `i`'s store failed doing `what`.
    fn failed(&mut self, i: usize, what: &str, e: &CoreError) {
        let line = format!("{}: {what} failed: {e}", self.phones[i].label);
        *self.op_failures.entry(line).or_default() += 1;
    }

    /// Runs `op` on phone `i`'s store and records the change it committed (the document's one
    /// new head) in the ledger. Returns the document written; `None` when the store refused
    /// the input or wrote nothing. A store failure is a divergence (a phone that cannot edit
    /// a record it shows is broken), not an error of the harness.
    pub(super) fn commit(
        &mut self,
        i: usize,
        _doc: Option<Uuid>,
        what: &'static str,
        op: impl FnOnce(&mut Store) -> gridwork_core::Result<Uuid>,
    ) -> HarnessResult<Option<Uuid>> {
        // The changes an operation commits are the ones it adds to the outbox: usually one,
        // more when it carries others along (a household moved with its residents and visits).
        let outbox = |s: &Store| -> HarnessResult<Vec<([u8; 32], Uuid)>> {
            s.outbox(usize::MAX)?
                .iter()
                .map(|e| Ok((e.hash()?, e.doc_id)))
                .collect::<HarnessResult<_>>()
        };
        let outcome = self.phones[i].device.with(|s| -> HarnessResult<_> {
            let before = outbox(s)?;
            Ok(match op(s) {
                Ok(id) => Ok((id, before, outbox(s)?)),
                Err(e) => Err(e),
            })
        })?;
        let (id, before, after) = match outcome {
            Ok(written) => written,
            Err(e) if is_refusal(&e) => {
                self.report.refused += 1;
                return Ok(None);
            }
            Err(e) => {
                self.failed(i, what, &e);
                return Ok(None);
            }
        };
        let new: Vec<([u8; 32], Uuid)> =
            after.into_iter().filter(|h| !before.contains(h)).collect();
        if !new.iter().any(|(_, d)| *d == id) {
            return Ok(None);
        }
        for (hash, doc) in new {
            self.ledger.push(Committed { phone: i, doc, hash, what });
        }
        self.report.operations += 1;
        Ok(Some(id))
    }
}

/// The steps `role` may take on an order in the state `summary` describes, with weights:
/// progress is likely, escalations, extensions and returns rare. A department handler acts
/// for [`DEPARTMENT`] (naming it, or now and then naming none: every department it applies to);
/// a dispatch goes to [`DEPARTMENT`], or co-dispatches [`OTHER_DEPARTMENT`] once it is there.
fn step_options(
    summary: &WorkOrderSummary,
    role: Role,
    rng: &mut DemoRng,
) -> Vec<((EventType, Option<&'static str>), u64)> {
    let mut out = Vec::new();
    for t in EventType::ALL {
        if t == EventType::Report || check_transition(summary, t, role).is_err() {
            continue;
        }
        let weight = match t {
            EventType::Escalate | EventType::RequestExtension | EventType::Return => 1,
            _ => 6,
        };
        let department = match t {
            EventType::Dispatch => {
                let Some(d) = [DEPARTMENT, OTHER_DEPARTMENT]
                    .into_iter()
                    .find(|d| !summary.departments.contains_key(*d))
                else {
                    continue;
                };
                Some(d)
            }
            EventType::Sign
            | EventType::Handle
            | EventType::Feedback
            | EventType::Return
            | EventType::RequestExtension => {
                let legal = summary
                    .departments
                    .get(DEPARTMENT)
                    .is_some_and(|p| department_transition(*p, t) != Transition::Illegal);
                if !legal {
                    continue;
                }
                (rng.below(10) >= 3).then_some(DEPARTMENT)
            }
            EventType::ApproveExtension | EventType::DeclineExtension => {
                [DEPARTMENT, OTHER_DEPARTMENT]
                    .into_iter()
                    .find(|d| summary.pending_extensions.iter().any(|p| p.department == *d))
            }
            _ => None,
        };
        out.push(((t, department), weight));
    }
    out
}
