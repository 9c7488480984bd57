//! Demo records made by the core crate, as phones would make them: one in-memory core store per
//! demo user, signed in with that user's role, creating households with Chinese names and
//! addresses ([`gridwork_core::demo`]), residents, visits, incidents moved through a few
//! work-order states by the grid head, and a task. Each store's outbox becomes one
//! [`DemoBatch`], ingested as pushed by a device bound to that store's actor.
//!
//! Deterministic content (a fixed [`DemoRng`] seed); record ids are UUIDv7 as on phones.

use chrono::{TimeDelta, Utc};
use gridwork_core::demo::{self, DemoRng};
use gridwork_core::work_order::{
    EventType, IncidentInput, IncidentSource, Severity, WorkOrderAction,
};
use gridwork_core::{
    Area, AreaPath, Gender, Relation, ResidentInput, Role, SignedInUser, Store, TaskInput,
    VisitInput, VisitOutcome,
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

/// A core store with the areas, signed in as `user` in its first role.
fn phone(areas: &[Area], user: &User) -> Result<Option<Store>, DemoError> {
    let Some(grant) = user.roles.first() else { return Ok(None) };
    let mut s = Store::open_in_memory()?;
    s.load_areas(areas)?;
    s.sign_in(SignedInUser {
        user_id: user.id.to_string(),
        name: user.name.clone(),
        role: grant.role,
        scope: grant.area.clone(),
    })?;
    Ok(Some(s))
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

fn batch(user: &User, store: &Store) -> Result<DemoBatch, DemoError> {
    Ok(DemoBatch {
        user_name: user.name.clone(),
        actor_hex: store.actor_id().to_hex_string(),
        changes: store.outbox(usize::MAX)?,
    })
}

/// What a grid worker's phone records: households, residents, visits, incidents.
fn worker_records(
    s: &mut Store,
    areas: &[Area],
    grid: &AreaPath,
    n: usize,
    rng: &mut DemoRng,
) -> Result<Vec<Uuid>, DemoError> {
    let micros = micro_grids(areas, grid);
    let now = Utc::now();
    let mut households = Vec::new();
    for i in 0..n {
        let input = demo::household(rng, &micros[i % micros.len()]);
        let head = input.head_name.clone();
        let id = s.add_household(input)?;
        households.push(id);
        if i % 3 == 0 {
            s.add_resident(ResidentInput {
                household_id: id,
                name: head,
                gender: if rng.below(2) == 0 { Gender::Male } else { Gender::Female },
                birth_year: Some(1940 + i32::try_from(rng.below(60)).unwrap_or(0)),
                relation: Relation::Head,
                phone: Some(demo::mobile(rng)),
            })?;
            s.add_resident(ResidentInput {
                household_id: id,
                name: demo::person_name(rng),
                gender: Gender::Female,
                birth_year: Some(1950 + i32::try_from(rng.below(50)).unwrap_or(0)),
                relation: Relation::Spouse,
                phone: None,
            })?;
        }
    }
    let notes = ["老人身体尚好，家中整洁", "反映楼道灯损坏", "独居老人，需每周探访", "家中无人"];
    for (i, h) in households.iter().take(6).enumerate() {
        let at = now - TimeDelta::days(i64::try_from(i).unwrap_or(0) + 1);
        let outcome = if i == 3 { VisitOutcome::NotHome } else { VisitOutcome::Met };
        s.record_visit(VisitInput {
            situation: notes[i % notes.len()].into(),
            satisfaction: Some(5),
            knows_worker: Some(true),
            ..VisitInput::routine(*h, at, outcome)
        })?;
    }
    let incidents = [
        ("safety_hazard", Severity::Urgent, "电动车楼道充电", "3幢2单元楼道内有电动车飞线充电"),
        ("sanitation", Severity::Ordinary, "垃圾清运不及时", "小区东门垃圾桶满溢两天"),
        ("public_facilities", Severity::Important, "路灯损坏", "人民路与建设路交叉口路灯不亮"),
    ];
    let mut orders = Vec::new();
    for (i, (category, severity, title, description)) in incidents.into_iter().enumerate() {
        orders.push(s.report_incident(IncidentInput {
            area: micros[i % micros.len()].clone(),
            category: category.into(),
            severity,
            title: title.into(),
            description: description.into(),
            location: None,
            photos: vec![],
            source: IncidentSource::GridReport,
            household_id: households.get(i).copied(),
            patrol_id: None,
            reported_at: now - TimeDelta::hours(5),
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
        let mut rng = DemoRng::new(self.seed);
        let mut out = Vec::new();
        for worker in users.iter().filter(|u| u.roles.iter().any(|g| g.role == Role::GridWorker)) {
            let Some(mut s) = phone(&areas, worker)? else { continue };
            let Some(grid) = worker.roles.first().map(|g| g.area.clone()) else { continue };
            let orders =
                worker_records(&mut s, &areas, &grid, self.households_per_worker, &mut rng)?;
            let worker_batch = batch(worker, &s)?;
            // The grid head of that grid, if any, takes the orders through a few states and
            // issues a task.
            let head = users.iter().find(|u| {
                u.roles.iter().any(|g| g.role == Role::GridHead && g.area.contains(&grid))
            });
            if let Some(head) = head
                && let Some(mut hs) = phone(&areas, head)?
            {
                hs.apply_changes(&worker_batch.changes)?;
                let now = Utc::now();
                let act = |event_type, department: Option<&str>| WorkOrderAction {
                    event_type,
                    department: department.map(str::to_owned),
                    note: None,
                    extension_hours: None,
                    at: now,
                };
                if let Some(id) = orders.first() {
                    hs.act_on_work_order(*id, act(EventType::Accept, None))?;
                    hs.act_on_work_order(*id, act(EventType::Dispatch, Some("消防大队")))?;
                }
                if let Some(id) = orders.get(1) {
                    hs.act_on_work_order(*id, act(EventType::Accept, None))?;
                }
                hs.create_task(TaskInput {
                    area: grid.clone(),
                    title: "独居老人冬季走访".into(),
                    instructions: "本周内走访辖区全部独居老人，检查取暖用电安全".into(),
                    households: vec![],
                    due_at: Some(now + TimeDelta::days(7)),
                    assignee: Some(worker.id.to_string()),
                })?;
                out.push(worker_batch);
                out.push(batch(head, &hs)?);
            } else {
                out.push(worker_batch);
            }
        }
        Ok(out)
    }
}
