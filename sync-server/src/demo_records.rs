//! Demo records made with the core's model, as phones would make them: one simulated phone per
//! demo user, acting in that user's role, creating households with Chinese names and addresses
//! ([`gridwork_core::demo`]), residents, visits, incidents moved through a few work-order states
//! by the grid head, and a task — with the core's validation, document builders and work-order
//! rules, but no device store. Each phone's changes become one [`DemoBatch`], ingested as pushed
//! by a device bound to that phone's actor.
//!
//! Deterministic content (a fixed [`DemoRng`] seed); record ids are UUIDv7 as on phones.

use std::collections::BTreeMap;

use automerge::{ActorId, AutoCommit};
use chrono::{TimeDelta, Utc};
use gridwork_core::demo::{self, DemoRng};
use gridwork_core::task::may_issue;
use gridwork_core::work_order::{
    CategoryList, EventType, IncidentInput, IncidentSource, Severity, WorkOrderAction,
    WorkOrderEvent, WorkOrderSpec, WorkOrderSummary, append_event, check_event,
};
use gridwork_core::{
    Area, AreaPath, ChangeEnvelope, CoreError, Gender, RecordKind, Relation, ResidentInput, Role,
    TaskInput, VisitInput, VisitOutcome, author, spec,
};
use uuid::Uuid;

use crate::demo::{DemoBatch, DemoError, DemoRecords};
use crate::store::User;

/// Demo records for the demo district.
#[derive(Debug, Clone, Copy)]
pub struct CoreDemoRecords {
    /// Households per grid worker.
    pub households_per_worker: usize,
    /// Seed of the generator.
    pub seed: u64,
}

impl Default for CoreDemoRecords {
    fn default() -> Self {
        CoreDemoRecords { households_per_worker: 30, seed: 320_612 }
    }
}

/// One demo user's phone: the documents it holds and the changes it made, in order. Records
/// are made with the core's document builders and validation, as a phone's store makes them,
/// without running a device store on the server.
struct Phone {
    user_id: String,
    user_name: String,
    role: Role,
    actor: ActorId,
    docs: BTreeMap<Uuid, (RecordKind, AreaPath, AutoCommit)>,
    changes: Vec<ChangeEnvelope>,
}

impl Phone {
    /// A phone of `user` acting in their first role; `None` for a user without roles.
    fn of(user: &User) -> Option<Phone> {
        let grant = user.roles.first()?;
        Some(Phone {
            user_id: user.id.to_string(),
            user_name: user.name.clone(),
            role: grant.role,
            actor: ActorId::random(),
            docs: BTreeMap::new(),
            changes: Vec::new(),
        })
    }

    /// Creates a record of `kind` in `area`, its fields written by `write`.
    fn create(
        &mut self,
        kind: RecordKind,
        area: &AreaPath,
        op: &str,
        write: impl FnOnce(&mut AutoCommit, &str) -> Result<(), CoreError>,
    ) -> Result<Uuid, DemoError> {
        let id = Uuid::now_v7();
        let now = Utc::now().timestamp_millis();
        let mut d = author::new_document(kind, area, &self.user_id, &self.actor, now)?;
        write(&mut d, &self.user_id)?;
        self.commit(id, kind, area.clone(), d, op)?;
        Ok(id)
    }

    /// Edits record `id`, which this phone holds (made here or received with [`Phone::receive`]).
    fn edit(
        &mut self,
        id: Uuid,
        op: &str,
        write: impl FnOnce(&mut AutoCommit) -> Result<(), CoreError>,
    ) -> Result<(), DemoError> {
        let Some((kind, area, mut d)) = self.docs.remove(&id) else {
            return Err(CoreError::NotFound { kind: "record".into(), id: id.to_string() }.into());
        };
        write(&mut d)?;
        self.commit(id, kind, area, d, op)
    }

    fn commit(
        &mut self,
        id: Uuid,
        kind: RecordKind,
        area: AreaPath,
        mut d: AutoCommit,
        op: &str,
    ) -> Result<(), DemoError> {
        let now = Utc::now().timestamp_millis();
        if let Some((_, bytes)) = author::commit(&mut d, &self.user_id, op, now)? {
            self.changes.push(ChangeEnvelope { doc_id: id, kind, area: area.clone(), bytes });
        }
        self.docs.insert(id, (kind, area, d));
        Ok(())
    }

    /// Takes copies of another phone's documents `ids`, to edit them here.
    fn receive(&mut self, from: &Phone, ids: &[Uuid]) {
        for id in ids {
            if let Some((kind, area, d)) = from.docs.get(id) {
                let mut copy = d.clone();
                copy.set_actor(self.actor.clone());
                self.docs.insert(*id, (*kind, area.clone(), copy));
            }
        }
    }

    /// Takes a step on work order `id` after checking it is legal now, as a phone does.
    fn act(&mut self, id: Uuid, action: WorkOrderAction) -> Result<(), DemoError> {
        let event = action.event(&self.user_id, self.role)?;
        let summary = match self.docs.get(&id) {
            Some((_, _, d)) => spec::decode::<WorkOrderSpec>(id, d)
                .map_err(|e| CoreError::BadChange {
                    doc_id: id.to_string(),
                    reason: e.to_string(),
                })?
                .record
                .summary(|_| None, Utc::now()),
            None => {
                return Err(
                    CoreError::NotFound { kind: "work_order".into(), id: id.to_string() }.into()
                );
            }
        };
        check_event(&summary, &event).map_err(CoreError::from)?;
        let op = event.event_type.as_str().to_owned();
        self.edit(id, &op, |d| append_event(d, &event))
    }

    fn batch(self) -> DemoBatch {
        DemoBatch {
            user_name: self.user_name,
            actor_hex: self.actor.to_hex_string(),
            changes: self.changes,
        }
    }
}

/// The micro-grids (or the grid itself) inside `grid`.
fn micro_grids(areas: &[Area], grid: &AreaPath) -> Vec<AreaPath> {
    let inner: Vec<AreaPath> = areas
        .iter()
        .filter(|a| a.path != *grid && grid.contains(&a.path))
        .map(|a| a.path.clone())
        .collect();
    if inner.is_empty() { vec![grid.clone()] } else { inner }
}

/// What a grid worker's phone records: households, residents, visits, incidents.
fn worker_records(
    s: &mut Phone,
    areas: &[Area],
    grid: &AreaPath,
    n: usize,
    rng: &mut DemoRng,
) -> Result<Vec<Uuid>, DemoError> {
    let micros = micro_grids(areas, grid);
    let now = Utc::now();
    let mut households = Vec::new();
    for i in 0..n {
        let input = demo::household(rng, &micros[i % micros.len()]).validated()?;
        let head = input.head_name.clone();
        let area = input.area.clone();
        let id = s.create(RecordKind::Household, &area, "add_household", |d, _| input.write(d))?;
        households.push((id, area.clone()));
        if i % 3 == 0 {
            let residents = [
                ResidentInput {
                    household_id: id,
                    name: head,
                    gender: if rng.below(2) == 0 { Gender::Male } else { Gender::Female },
                    birth_year: Some(1940 + i32::try_from(rng.below(60)).unwrap_or(0)),
                    relation: Relation::Head,
                    phone: Some(demo::mobile(rng)),
                },
                ResidentInput {
                    household_id: id,
                    name: demo::person_name(rng),
                    gender: Gender::Female,
                    birth_year: Some(1950 + i32::try_from(rng.below(50)).unwrap_or(0)),
                    relation: Relation::Spouse,
                    phone: None,
                },
            ];
            for r in residents {
                let r = r.validated()?;
                s.create(RecordKind::Resident, &area, "add_resident", |d, _| r.write(d, &area))?;
            }
        }
    }
    let notes = ["老人身体尚好，家中整洁", "反映楼道灯损坏", "独居老人，需每周探访", "家中无人"];
    for (i, (h, area)) in households.iter().take(6).enumerate() {
        let at = now - TimeDelta::days(i64::try_from(i).unwrap_or(0) + 1);
        let outcome = if i == 3 { VisitOutcome::NotHome } else { VisitOutcome::Met };
        let visit = VisitInput {
            situation: notes[i % notes.len()].into(),
            satisfaction: Some(5),
            knows_worker: Some(true),
            ..VisitInput::routine(*h, at, outcome)
        };
        visit.validate()?;
        s.create(RecordKind::Visit, area, "record_visit", |d, by| visit.write_new(d, by))?;
    }
    let incidents = [
        ("safety_hazard", Severity::Urgent, "电动车楼道充电", "3幢2单元楼道内有电动车飞线充电"),
        ("sanitation", Severity::Ordinary, "垃圾清运不及时", "小区东门垃圾桶满溢两天"),
        ("public_facilities", Severity::Important, "路灯损坏", "人民路与建设路交叉口路灯不亮"),
    ];
    let mut orders = Vec::new();
    for (i, (category, severity, title, description)) in incidents.into_iter().enumerate() {
        let input = IncidentInput {
            area: micros[i % micros.len()].clone(),
            category: category.into(),
            severity,
            title: title.into(),
            description: description.into(),
            location: None,
            photos: vec![],
            source: IncidentSource::GridReport,
            household_id: households.get(i).map(|(h, _)| *h),
            patrol_id: None,
            reported_at: now - TimeDelta::hours(5),
        };
        input.validate(&CategoryList::default())?;
        let report = WorkOrderEvent::new(EventType::Report, &s.user_id, s.role, input.reported_at);
        check_event(&WorkOrderSummary::new(input.severity), &report).map_err(CoreError::from)?;
        let area = input.area.clone();
        orders.push(s.create(RecordKind::WorkOrder, &area, "report_incident", |d, _| {
            input.write_report(d, &report)
        })?);
    }
    Ok(orders)
}

impl DemoRecords for CoreDemoRecords {
    fn batches(
        &self,
        areas: &[(AreaPath, String)],
        users: &[User],
    ) -> Result<Vec<DemoBatch>, DemoError> {
        let areas: Vec<Area> = areas
            .iter()
            .map(|(path, name)| Area { path: path.clone(), name: name.clone() })
            .collect();
        let areas = &areas;
        let mut rng = DemoRng::new(self.seed);
        let mut out = Vec::new();
        for worker in users.iter().filter(|u| u.roles.iter().any(|g| g.role == Role::GridWorker)) {
            let Some(mut s) = Phone::of(worker) else { continue };
            let Some(grid) = worker.roles.first().map(|g| g.area.clone()) else { continue };
            let orders =
                worker_records(&mut s, areas, &grid, self.households_per_worker, &mut rng)?;
            // The grid head of that grid, if any, takes the orders through a few states and
            // issues a task.
            let head = users.iter().find(|u| {
                u.roles.iter().any(|g| g.role == Role::GridHead && g.area.contains(&grid))
            });
            if let Some(head) = head
                && let Some(mut hs) = Phone::of(head)
            {
                hs.receive(&s, &orders);
                let now = Utc::now();
                let act = |event_type, department: Option<&str>| WorkOrderAction {
                    event_type,
                    department: department.map(str::to_owned),
                    note: None,
                    extension_hours: None,
                    satisfaction: None,
                    photos: Vec::new(),
                    at: now,
                };
                if let Some(id) = orders.first() {
                    hs.act(*id, act(EventType::Accept, None))?;
                    hs.act(*id, act(EventType::Dispatch, Some(crate::demo::DEMO_DEPARTMENT)))?;
                }
                if let Some(id) = orders.get(1) {
                    hs.act(*id, act(EventType::Accept, None))?;
                }
                let task = TaskInput {
                    area: grid.clone(),
                    title: "独居老人冬季走访".into(),
                    instructions: "本周内走访辖区全部独居老人，检查取暖用电安全".into(),
                    households: vec![],
                    due_at: Some(now + TimeDelta::days(7)),
                    assignee: Some(worker.id.to_string()),
                }
                .validated()?;
                if may_issue(hs.role) {
                    hs.create(RecordKind::Task, &grid, "create_task", |d, by| {
                        task.write_new(d, by)
                    })?;
                }
                out.push(s.batch());
                out.push(hs.batch());
            } else {
                out.push(s.batch());
            }
        }
        Ok(out)
    }
}
