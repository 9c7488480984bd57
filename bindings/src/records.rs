//! The store's exports beyond households and visits: residents, role-gated sensitive records,
//! patrols (track points, check-ins, observations), incidents and work orders, tasks, the day
//! summary, the assessment and photo attachments. Every method is a thin call into the core's
//! [`Store`](gridwork_core::Store) with its own types; only area arguments are parsed here (so a
//! malformed one is an input error naming the argument).

use gridwork_core::work_order::WorkOrderSummary;
use gridwork_core::work_order::{
    IncidentDetails, IncidentInput, WorkOrder, WorkOrderAction, WorkOrderRow,
};
use gridwork_core::{
    Assessment, CheckInInput, KeyPerson, MyDay, ObservationInput, Patrol, PatrolSummary, PhotoRef,
    RecordKind, Resident, ResidentInput, SensitiveInput, SensitiveRecord, Task, TaskInput,
    TaskProgress, TaskRecords, TaskSummary, TrackPoint,
};
use uuid::Uuid;

use crate::UtcDateTime;
use crate::error::Result;
use crate::store::{GridworkStore, area_arg};

#[uniffi::export]
impl GridworkStore {
    // ---- residents ----

    /// Records a resident of a household and returns their id.
    ///
    /// # Errors
    /// [`GridworkError::InvalidInput`](crate::GridworkError::InvalidInput) naming the bad field
    /// (`name`, `birth_year`, `phone`…); [`GridworkError::NotFound`](crate::GridworkError::NotFound)
    /// for an unknown household; `OutOfScope`; `NotSignedIn`. Nothing is written on error.
    pub fn add_resident(&self, input: ResidentInput) -> Result<Uuid> {
        let household = input.household_id;
        let id = self.with(|s| s.residents().add(input))?;
        self.notify_local([(RecordKind::Resident, id), (RecordKind::Household, household)]);
        Ok(id)
    }

    /// Edits a resident: only the fields that differ are written.
    ///
    /// # Errors
    /// As [`GridworkStore::add_resident`], and `NotFound` for an unknown resident.
    pub fn update_resident(&self, id: Uuid, input: ResidentInput) -> Result<()> {
        self.with(|s| s.residents().update(id, input))?;
        self.notify_local([(RecordKind::Resident, id)]);
        Ok(())
    }

    /// The resident with this id, if known on this device.
    ///
    /// # Errors
    /// Storage errors.
    pub fn resident(&self, id: Uuid) -> Result<Option<Resident>> {
        self.with(|s| s.residents().get(id))
    }

    /// The live residents of a household.
    ///
    /// # Errors
    /// Storage errors.
    pub fn residents_of(&self, household_id: Uuid) -> Result<Vec<Resident>> {
        self.with(|s| s.residents().of_household(household_id))
    }

    // ---- sensitive records (role-gated) ----

    /// Records (or overwrites) a resident's sensitive data — ID card, health, key population,
    /// relief status — and returns the record's id (derived from the resident's).
    ///
    /// # Errors
    /// `Forbidden` for a role that may not handle sensitive data (e.g. a liaison);
    /// `InvalidInput` naming the bad field (`id_card`, `health`…); `NotFound` for an unknown
    /// resident; `NotSignedIn`; `OutOfScope`.
    pub fn set_sensitive(&self, resident_id: Uuid, input: SensitiveInput) -> Result<Uuid> {
        let id = self.with(|s| s.sensitive().set(resident_id, input))?;
        self.notify_local([(RecordKind::Sensitive, id)]);
        Ok(id)
    }

    /// A resident's sensitive data, if recorded on this device.
    ///
    /// # Errors
    /// `Forbidden` for a role that may not read sensitive data; `NotSignedIn`; storage errors.
    pub fn sensitive_of(&self, resident_id: Uuid) -> Result<Option<SensitiveRecord>> {
        self.with(|s| s.sensitive().of_resident(resident_id))
    }

    /// Deletes a resident's sensitive data.
    ///
    /// # Errors
    /// `Forbidden`; `NotSignedIn`; `NotFound` when the resident has no sensitive record here.
    pub fn delete_sensitive(&self, resident_id: Uuid) -> Result<()> {
        self.with(|s| s.sensitive().delete(resident_id))?;
        self.notify_local([(
            RecordKind::Sensitive,
            gridwork_core::sensitive::sensitive_id(resident_id),
        )]);
        Ok(())
    }

    /// The key-population ledger of `area` (重点人员台账).
    ///
    /// # Errors
    /// `InvalidInput` naming `area`; `Forbidden` for a role that may not read sensitive data;
    /// `NotSignedIn`; storage errors.
    pub fn key_population_ledger(&self, area: String) -> Result<Vec<KeyPerson>> {
        let area = area_arg("area", &area)?;
        self.with(|s| s.sensitive().key_population_ledger(&area))
    }

    // ---- patrols ----

    /// Starts a patrol of `area` (a grid or micro-grid) by the signed-in worker, optionally for
    /// a task, and returns its id.
    ///
    /// # Errors
    /// `InvalidInput` naming `area` (malformed, or not a grid or micro-grid); `NotFound` for an
    /// unknown area or task; `OutOfScope`; `NotSignedIn`.
    pub fn start_patrol(
        &self,
        area: String,
        started_at: UtcDateTime,
        task_id: Option<Uuid>,
    ) -> Result<Uuid> {
        let area = area_arg("area", &area)?;
        let id = self.with(|s| s.patrols().start(&area, started_at, task_id))?;
        self.notify_local([(RecordKind::Patrol, id)]);
        Ok(id)
    }

    /// Appends buffered GPS fixes to an open patrol as one compact chunk (call every half
    /// minute or so); an empty list does nothing.
    ///
    /// # Errors
    /// `InvalidInput` naming `track_points` (too many, out of range, time going backwards),
    /// `ended_at` (the patrol has ended) or `patrol` (deleted); `Forbidden` for another worker's
    /// patrol; `NotFound`; `NotSignedIn`.
    pub fn add_track_points(&self, patrol_id: Uuid, points: Vec<TrackPoint>) -> Result<()> {
        self.with(|s| s.patrols().add_track_points(patrol_id, &points))?;
        if !points.is_empty() {
            self.notify_local([(RecordKind::Patrol, patrol_id)]);
        }
        Ok(())
    }

    /// Records a check-in on an open patrol; returns the check-in's id.
    ///
    /// # Errors
    /// `InvalidInput` naming `name`, `lat`/`lon`, `point_id`, `ended_at` or `patrol`;
    /// `Forbidden`; `NotFound`; `NotSignedIn`.
    pub fn check_in(&self, patrol_id: Uuid, input: CheckInInput) -> Result<Uuid> {
        let id = self.with(|s| s.patrols().check_in(patrol_id, input))?;
        self.notify_local([(RecordKind::Patrol, patrol_id)]);
        Ok(id)
    }

    /// Records an observation on an open patrol; returns its id.
    ///
    /// # Errors
    /// `InvalidInput` naming `text`, `lat`/`lon`, `photos`, `ended_at` or `patrol`;
    /// `Forbidden`; `NotFound`; `NotSignedIn`.
    pub fn add_observation(&self, patrol_id: Uuid, input: ObservationInput) -> Result<Uuid> {
        let id = self.with(|s| s.patrols().add_observation(patrol_id, input))?;
        self.notify_local([(RecordKind::Patrol, patrol_id)]);
        Ok(id)
    }

    /// Records that an observation of a patrol became an incident (work order).
    ///
    /// # Errors
    /// `NotFound` naming `observation` or the patrol; `InvalidInput` naming `incident_id` when
    /// that id is a record of another kind; `NotSignedIn`; `OutOfScope`.
    pub fn link_observation_incident(
        &self,
        patrol_id: Uuid,
        observation_id: Uuid,
        incident_id: Uuid,
    ) -> Result<()> {
        self.with(|s| {
            s.patrols().link_observation_incident(patrol_id, observation_id, incident_id)
        })?;
        self.notify_local([(RecordKind::Patrol, patrol_id)]);
        Ok(())
    }

    /// Ends an open patrol.
    ///
    /// # Errors
    /// `InvalidInput` naming `ended_at` (before the start, or already ended) or `patrol`
    /// (deleted); `Forbidden`; `NotFound`; `NotSignedIn`.
    pub fn end_patrol(&self, patrol_id: Uuid, ended_at: UtcDateTime) -> Result<()> {
        self.with(|s| s.patrols().end(patrol_id, ended_at))?;
        self.notify_local([(RecordKind::Patrol, patrol_id)]);
        Ok(())
    }

    /// The whole patrol — track decoded, statistics, check-ins, observations.
    ///
    /// # Errors
    /// `NotFound` when unknown; storage errors.
    pub fn patrol(&self, id: Uuid) -> Result<Patrol> {
        self.with(|s| s.patrols().get(id))
    }

    /// A worker's live patrols that started in `[from, to)`, oldest first (their patrol log).
    ///
    /// # Errors
    /// Storage errors.
    pub fn patrols_of(
        &self,
        worker: String,
        from: UtcDateTime,
        to: UtcDateTime,
    ) -> Result<Vec<PatrolSummary>> {
        self.with(|s| s.patrols().of_worker(&worker, from, to))
    }

    /// Live patrols within `area` that started in `[from, to)`, oldest first.
    ///
    /// # Errors
    /// `InvalidInput` naming `area`; storage errors.
    pub fn patrols_in(
        &self,
        area: String,
        from: UtcDateTime,
        to: UtcDateTime,
    ) -> Result<Vec<PatrolSummary>> {
        let area = area_arg("area", &area)?;
        self.with(|s| s.patrols().in_area(&area, from, to))
    }

    // ---- incidents and work orders ----

    /// Reports an incident: creates its work order with the `report` event; returns its id.
    ///
    /// # Errors
    /// `InvalidInput` naming the bad field (unknown `category`, empty `title`, coordinates,
    /// photos); `NotFound` for an unknown area; `OutOfScope`; `NotSignedIn`;
    /// `WorkOrderRefused` if the user's role may not report.
    pub fn report_incident(&self, input: IncidentInput) -> Result<Uuid> {
        let id = self.with(|s| s.work_orders().report(input))?;
        self.notify_local([(RecordKind::WorkOrder, id)]);
        Ok(id)
    }

    /// Takes a step on a work order (accept, dispatch, sign, handle, feedback, verify, close,
    /// return, extension, escalate, reopen) as the signed-in user; returns the new summary.
    ///
    /// # Errors
    /// `WorkOrderRefused` with the reason code (`illegal_transition`, `role_not_allowed`…) when
    /// the step is not allowed now; `InvalidInput` naming `note` or `department`; `NotFound`;
    /// `NotSignedIn`. Nothing is written on error.
    pub fn act_on_work_order(&self, id: Uuid, action: WorkOrderAction) -> Result<WorkOrderSummary> {
        let summary = self.with(|s| s.work_orders().act(id, action))?;
        self.notify_local([(RecordKind::WorkOrder, id)]);
        Ok(summary)
    }

    /// Edits an incident's details — title, description, category, severity, location — as
    /// the signed-in user; returns the order's summary after the edit, whose deadline follows a
    /// changed severity. Only the fields that differ are written; the event log is untouched.
    /// Allowed for the reporter while the order is still reported (not yet accepted), and for a
    /// grid head, town operator or district centre while it is open.
    ///
    /// # Errors
    /// `InvalidInput` naming the bad field (unknown `category`, empty `title`, `description`,
    /// `lat`/`lon`); `WorkOrderRefused` with code `details_locked` (a closed order, or the
    /// reporter's order once accepted) or `role_not_allowed`; `NotFound` for an unknown or
    /// deleted work order; `NotSignedIn`; `OutOfScope`. Nothing is written on error.
    pub fn update_incident(&self, id: Uuid, details: IncidentDetails) -> Result<WorkOrderSummary> {
        let summary = self.with(|s| s.work_orders().update_incident(id, details))?;
        self.notify_local([(RecordKind::WorkOrder, id)]);
        Ok(summary)
    }

    /// The derived state of a work order at `now` (overdue is relative to `now`).
    ///
    /// # Errors
    /// `NotFound`; storage errors.
    pub fn work_order_summary(&self, id: Uuid, now: UtcDateTime) -> Result<WorkOrderSummary> {
        self.with(|s| s.work_orders().summary(id, now))
    }

    /// The whole work order: the incident and its derived state now.
    ///
    /// # Errors
    /// `NotFound`; storage errors.
    pub fn work_order(&self, id: Uuid) -> Result<WorkOrder> {
        self.with(|s| s.work_orders().get(id))
    }

    /// Open work orders within `area`: overdue first, then by deadline, then newest.
    ///
    /// # Errors
    /// `InvalidInput` naming `area`; storage errors.
    pub fn open_work_orders(
        &self,
        area: String,
        now: UtcDateTime,
        limit: u32,
    ) -> Result<Vec<WorkOrderRow>> {
        let area = area_arg("area", &area)?;
        self.with(|s| s.work_orders().open(&area, now, limit))
    }

    /// Open work orders within `area` past their deadline at `now`.
    ///
    /// # Errors
    /// `InvalidInput` naming `area`; storage errors.
    pub fn overdue_work_orders(
        &self,
        area: String,
        now: UtcDateTime,
        limit: u32,
    ) -> Result<Vec<WorkOrderRow>> {
        let area = area_arg("area", &area)?;
        self.with(|s| s.work_orders().overdue(&area, now, limit))
    }

    /// Work orders within `area` with concurrent conflicting steps awaiting review.
    ///
    /// # Errors
    /// `InvalidInput` naming `area`; storage errors.
    pub fn work_orders_with_conflicts(
        &self,
        area: String,
        limit: u32,
    ) -> Result<Vec<WorkOrderRow>> {
        let area = area_arg("area", &area)?;
        self.with(|s| s.work_orders().with_conflicts(&area, limit))
    }

    // ---- tasks ----

    /// Issues a task (e.g. visit these households by Friday); returns its id.
    ///
    /// # Errors
    /// `Forbidden` unless the role may issue tasks; `InvalidInput` naming the bad field;
    /// `NotFound` for an unknown area or household; `OutOfScope`; `NotSignedIn`.
    pub fn create_task(&self, input: TaskInput) -> Result<Uuid> {
        let id = self.with(|s| s.tasks().create(input))?;
        self.notify_local([(RecordKind::Task, id)]);
        Ok(id)
    }

    /// Edits a task: only the fields that differ are written.
    ///
    /// # Errors
    /// As [`GridworkStore::create_task`], and `NotFound` for an unknown task.
    pub fn update_task(&self, id: Uuid, input: TaskInput) -> Result<()> {
        self.with(|s| s.tasks().update(id, input))?;
        self.notify_local([(RecordKind::Task, id)]);
        Ok(())
    }

    /// Adds target households to a task.
    ///
    /// # Errors
    /// `Forbidden`; `NotFound` for an unknown task or household; `NotSignedIn`.
    pub fn add_task_households(&self, id: Uuid, households: Vec<Uuid>) -> Result<()> {
        self.with(|s| s.tasks().add_households(id, &households))?;
        self.notify_local([(RecordKind::Task, id)]);
        Ok(())
    }

    /// Marks a task complete with a result text.
    ///
    /// # Errors
    /// `InvalidInput` naming `result`; `NotFound`; `NotSignedIn`; `OutOfScope`.
    pub fn complete_task(&self, id: Uuid, result: String) -> Result<()> {
        self.with(|s| s.tasks().complete(id, &result))?;
        self.notify_local([(RecordKind::Task, id)]);
        Ok(())
    }

    /// The whole task.
    ///
    /// # Errors
    /// `NotFound`; storage errors.
    pub fn task(&self, id: Uuid) -> Result<Task> {
        self.with(|s| s.tasks().get(id))
    }

    /// Live tasks within `area`, at most `limit`.
    ///
    /// # Errors
    /// `InvalidInput` naming `area`; storage errors.
    pub fn tasks_in(&self, area: String, limit: u32) -> Result<Vec<TaskSummary>> {
        let area = area_arg("area", &area)?;
        self.with(|s| s.tasks().in_area(&area, limit))
    }

    /// How far a task has got: targets, households visited, visits and patrols recorded for it.
    ///
    /// # Errors
    /// `NotFound`; storage errors.
    pub fn task_progress(&self, id: Uuid) -> Result<TaskProgress> {
        self.with(|s| s.tasks().progress(id))
    }

    /// The visits and patrols recorded for a task (empty for a task unknown on this device).
    ///
    /// # Errors
    /// Storage errors.
    pub fn task_records(&self, id: Uuid) -> Result<TaskRecords> {
        self.with(|s| s.tasks().records(id))
    }

    // ---- the day, the assessment ----

    /// The signed-in user's day `[day_start, day_start + 24 h)` judged at `now`: visits and
    /// patrols done, due visits, open and overdue work orders, open tasks, pending changes.
    ///
    /// # Errors
    /// `NotSignedIn`; storage errors.
    pub fn my_day(&self, day_start: UtcDateTime, now: UtcDateTime) -> Result<MyDay> {
        self.with(|s| s.my_day(day_start, now))
    }

    /// The assessment (考核) of `area` over `[from, to)`, for `worker` or for everyone: visit
    /// coverage, patrols, on-time closure, satisfaction, awareness.
    ///
    /// # Errors
    /// `InvalidInput` naming `area`, or `to` when the period is empty or reversed; storage
    /// errors.
    pub fn assessment(
        &self,
        area: String,
        worker: Option<String>,
        from: UtcDateTime,
        to: UtcDateTime,
    ) -> Result<Assessment> {
        let area = area_arg("area", &area)?;
        self.with(|s| s.assessment(&area, worker.as_deref(), from, to))
    }

    // ---- photos ----

    /// Stores a photo taken on this device and queues it for upload; returns the reference to
    /// put into a visit, observation or incident. The same bytes give the same reference.
    ///
    /// # Errors
    /// `InvalidInput` naming `photos` when empty, too large or not an image MIME type
    /// (`image/jpeg`, `image/png`…); storage errors.
    pub fn add_attachment(&self, bytes: Vec<u8>, mime: String) -> Result<PhotoRef> {
        self.with(|s| s.add_attachment(&bytes, &mime))
    }

    /// Throws away a photo taken for a record that was never saved (the form was cancelled):
    /// its bytes and its upload go. A photo a record refers to is kept; returns whether it was
    /// thrown away.
    ///
    /// # Errors
    /// `InvalidInput` naming `hash` when it is not a hex SHA-256; storage errors.
    pub fn discard_photo(&self, hash: String) -> Result<bool> {
        self.with(|s| s.discard_photo(&hash))
    }

    /// The bytes of a photo held whole on this device, or `None`.
    ///
    /// # Errors
    /// `InvalidInput` naming `hash` when it is not a hex SHA-256; storage errors.
    pub fn attachment_bytes(&self, hash: String) -> Result<Option<Vec<u8>>> {
        self.with(|s| s.attachment_bytes(&hash))
    }
}
