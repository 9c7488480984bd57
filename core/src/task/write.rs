//! Issuing, editing and completing tasks on the device.

use uuid::Uuid;

use super::*;
use crate::area::path_contains;
use crate::kind::RecordKind;
use crate::store::SignedInUser;
use crate::store::Store;

/// The device store's operations on tasks: issue, edit, complete, read, progress. Made by [`Store::tasks`]; borrows the store for
/// as long as it lives.
#[derive(Debug)]
pub struct Tasks<'s> {
    pub(crate) store: &'s mut Store,
}

impl Store {
    /// Operations on tasks: issue, edit, complete, read, progress.
    pub fn tasks(&mut self) -> Tasks<'_> {
        Tasks { store: self }
    }
}

impl Tasks<'_> {
    /// The signed-in user, if their role may issue tasks.
    fn require_issuer(&self, action: &str) -> Result<SignedInUser> {
        let user = self.store.require_user()?;
        if !may_issue(user.role) {
            return Err(CoreError::Forbidden { action: format!("{action} as {}", user.role) });
        }
        Ok(user.clone())
    }

    /// Checks every household is live on this device and inside `area`.
    fn check_targets(&self, area: &AreaPath, households: &[Uuid]) -> Result<()> {
        for h in households {
            let at = self.store.live_household_area(*h)?;
            if !path_contains(area.as_str(), at.as_str()) {
                return Err(CoreError::invalid(
                    "households",
                    format!("household {h} lies in {at}, outside the task's area {area}"),
                ));
            }
        }
        Ok(())
    }

    /// Issues a task and returns its id.
    ///
    /// # Errors
    /// [`CoreError::Forbidden`] unless the signed-in role is district centre, town operator or
    /// grid head; [`CoreError::Invalid`] naming `title`, `instructions`, `assignee` or
    /// `households` (too many, or outside the area); [`CoreError::NotFound`] for an unknown area
    /// or target household; [`CoreError::OutOfScope`]; [`CoreError::NotSignedIn`]. Nothing is
    /// written on error.
    pub fn create(&mut self, input: TaskInput) -> Result<Uuid> {
        self.require_issuer("issue a task")?;
        let input = input.validated()?;
        self.check_targets(&input.area, &input.households)?;
        let id = Uuid::now_v7();
        let area = input.area.clone();
        self.store.write_doc(id, RecordKind::Task, Some(&area), "create_task", |d, user| {
            input.write_new(d, &user.user_id)
        })?;
        Ok(id)
    }

    /// Edits a task. Only what differs is written; target households another issuer added
    /// concurrently (and this device has not seen yet) are kept, since the targets are a set
    /// that merges additions.
    ///
    /// # Errors
    /// As [`Tasks::create`](crate::task::Tasks::create), and [`CoreError::NotFound`] for an unknown or deleted task.
    pub fn update(&mut self, id: Uuid, input: TaskInput) -> Result<()> {
        self.require_issuer("edit a task")?;
        let input = input.validated()?;
        self.check_targets(&input.area, &input.households)?;
        self.store.write_doc(id, RecordKind::Task, None, "update_task", |d, _| {
            if doc::get_bool(d, common::DELETED) == Some(true) {
                return Err(CoreError::NotFound { kind: "task".into(), id: id.to_string() });
            }
            write_input(d, &input)
        })?;
        Ok(())
    }

    /// Adds target households to a task, keeping the others.
    ///
    /// # Errors
    /// As [`Tasks::update`](crate::task::Tasks::update).
    pub fn add_households(&mut self, id: Uuid, households: &[Uuid]) -> Result<()> {
        self.require_issuer("edit a task")?;
        let task = self.get(id)?;
        let mut all = task.households.clone();
        all.extend_from_slice(households);
        all.sort();
        all.dedup();
        if all.len() > MAX_TASK_HOUSEHOLDS {
            return Err(CoreError::invalid(
                "households",
                format!("at most {MAX_TASK_HOUSEHOLDS} target households per task"),
            ));
        }
        self.check_targets(&task.area, households)?;
        self.store.write_doc(id, RecordKind::Task, None, "add_task_households", |d, _| {
            let set = doc::obj(d, field::HOUSEHOLDS, automerge::ObjType::Map)?;
            for h in households {
                doc::put_in(d, &set, &h.to_string(), true)?;
            }
            Ok(())
        })?;
        Ok(())
    }

    /// Completes a task with a result note (办结情况), as its assignee.
    ///
    /// # Errors
    /// [`CoreError::Forbidden`] when the task has an assignee and it is someone else, or the
    /// role does no field work (sync admin, department handler); [`CoreError::Invalid`] naming
    /// `result` (over [`validate::NOTE_MAX`] characters) or `completed_at` (already completed);
    /// [`CoreError::NotFound`] for an unknown or deleted task; [`CoreError::NotSignedIn`];
    /// [`CoreError::OutOfScope`]. Nothing is written on error.
    pub fn complete(&mut self, id: Uuid, result: &str) -> Result<()> {
        let result = validate::max_len("result", result.trim(), validate::NOTE_MAX)?.to_owned();
        let user = self.store.require_user()?.clone();
        if matches!(user.role, Role::SyncAdmin | Role::DepartmentHandler) {
            return Err(CoreError::Forbidden {
                action: format!("complete a task as {}", user.role),
            });
        }
        let now = Utc::now().timestamp_millis();
        // A task issued for a wider area (a town-wide task on a grid worker's phone): complete
        // this sub-area's part only.
        let wider = self.get(id).is_ok_and(|t| {
            t.area != user.scope && path_contains(t.area.as_str(), user.scope.as_str())
        });
        if wider {
            let scope = user.scope.clone();
            self.store.write_doc_part(id, RecordKind::Task, "complete_task_part", |d, user| {
                if doc::get_bool(d, common::DELETED) == Some(true) {
                    return Err(CoreError::NotFound { kind: "task".into(), id: id.to_string() });
                }
                let at = progress::key(&scope, progress::COMPLETED_AT);
                if doc::get_i64(d, &at).is_some() {
                    return Err(CoreError::invalid(
                        "completed_at",
                        format!("{scope} has already completed its part of the task"),
                    ));
                }
                doc::put(d, &at, ScalarValue::Timestamp(now))?;
                doc::put(d, &progress::key(&scope, progress::COMPLETED_BY), user.user_id.as_str())?;
                doc::put_opt(
                    d,
                    &progress::key(&scope, progress::RESULT),
                    (!result.is_empty()).then_some(result.as_str()),
                )?;
                Ok(())
            })?;
            return Ok(());
        }
        self.store.write_doc(id, RecordKind::Task, None, "complete_task", |d, user| {
            if doc::get_bool(d, common::DELETED) == Some(true) {
                return Err(CoreError::NotFound { kind: "task".into(), id: id.to_string() });
            }
            if let Some(a) = doc::get_str(d, field::ASSIGNEE)
                && a != user.user_id
            {
                return Err(CoreError::Forbidden {
                    action: format!("complete a task assigned to {a}"),
                });
            }
            if doc::get_i64(d, field::COMPLETED_AT).is_some() {
                return Err(CoreError::invalid("completed_at", "the task is already completed"));
            }
            doc::put(d, field::COMPLETED_AT, ScalarValue::Timestamp(now))?;
            doc::put(d, field::COMPLETED_BY, user.user_id.as_str())?;
            doc::put_opt(d, field::RESULT, (!result.is_empty()).then_some(result.as_str()))?;
            Ok(())
        })?;
        Ok(())
    }

    /// Deletes a task (tombstone, DESIGN §2); linked visits and patrols stay.
    ///
    /// # Errors
    /// [`CoreError::Forbidden`] unless the role may issue tasks; [`CoreError::NotFound`];
    /// [`CoreError::NotSignedIn`]; [`CoreError::OutOfScope`].
    pub fn delete(&mut self, id: Uuid) -> Result<()> {
        self.require_issuer("delete a task")?;
        self.store.delete_record(RecordKind::Task, id)
    }
}
