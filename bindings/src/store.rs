//! The store object: the core's single-writer [`Store`] behind a `Mutex`, so one instance can be
//! shared by every thread of an app. Each call takes the lock for its duration; observers are told
//! after the lock is released.

use std::sync::{Arc, Mutex, MutexGuard};

use gridwork_core::record::HistoryEntry;
use gridwork_core::{
    Area, AreaPath, ChangeEnvelope, DueVisit, Household, HouseholdInput, RecordKind, SignedInUser,
    Store, Visit, VisitInput, doc::FieldConflict,
};
use uuid::Uuid;

use crate::UtcDateTime;
use crate::error::{GridworkError, Result};
use crate::observer::{self, ChangeOrigin, DataObserver, Observers, Subscription};
use crate::types::ApplyReport;

/// The offline record store of this device: one SQLite file, optionally encrypted with SQLCipher.
///
/// Open one per file and share it; every method is thread-safe and blocking (call it off the UI
/// thread — the Kotlin layer's suspend functions do). Writes name the signed-in user; reads see
/// everything on the device.
#[derive(uniffi::Object)]
pub struct GridworkStore {
    inner: Mutex<Store>,
    observers: Arc<Observers>,
}

impl std::fmt::Debug for GridworkStore {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("GridworkStore").field("observers", &self.observers.len()).finish()
    }
}

/// Parses an area argument, naming `field` on error.
pub(crate) fn area_arg(field: &str, path: &str) -> Result<AreaPath> {
    AreaPath::parse(path.trim()).map_err(|e| match e {
        gridwork_core::CoreError::Invalid { reason, .. } => GridworkError::invalid(field, reason),
        other => other.into(),
    })
}

impl GridworkStore {
    fn wrap(store: Store) -> Arc<Self> {
        Arc::new(GridworkStore { inner: Mutex::new(store), observers: Arc::default() })
    }

    /// The store, or an error if an earlier call panicked while holding it (its in-memory state
    /// may then be inconsistent: reopen the store).
    fn lock(&self) -> Result<MutexGuard<'_, Store>> {
        self.inner.lock().map_err(|_| {
            GridworkError::internal(
                "poisoned",
                "an earlier call failed inside the store; close and reopen it",
            )
        })
    }

    /// Runs `f` on the store, mapping core errors.
    pub(crate) fn with<T>(
        &self,
        f: impl FnOnce(&mut Store) -> gridwork_core::Result<T>,
    ) -> Result<T> {
        let mut store = self.lock()?;
        Ok(f(&mut store)?)
    }

    pub(crate) fn notify_local(&self, items: impl IntoIterator<Item = (RecordKind, Uuid)>) {
        self.observers.notify(observer::change(items, ChangeOrigin::Local));
    }

    /// Tells observers that any record may have changed (a sync applied pages, enrolment loaded
    /// areas, a revocation wiped the store): `kinds` lists every kind and `ids` is empty.
    pub(crate) fn notify_everything(&self, origin: ChangeOrigin) {
        self.observers.notify(observer::everything(origin));
    }

    /// The store behind its lock, as the core's sync client reaches it (briefly, between
    /// network waits).
    pub(crate) fn inner(&self) -> &Mutex<Store> {
        &self.inner
    }
}

#[uniffi::export]
impl GridworkStore {
    /// Opens (creating if needed) the store file at `path`. With `key` — the raw 32-byte key the
    /// app keeps in the Android Keystore / iOS Keychain — the file is encrypted with SQLCipher;
    /// without, it is a plain SQLite file.
    ///
    /// # Errors
    /// [`GridworkError::InvalidInput`] naming `key` if it is not 32 bytes;
    /// [`GridworkError::Locked`] if the file is encrypted and the key is missing or wrong, or the
    /// file is not a Gridwork store; [`GridworkError::Storage`] for I/O failures.
    #[uniffi::constructor]
    pub fn open(path: String, key: Option<Vec<u8>>) -> Result<Arc<Self>> {
        if path.trim().is_empty() {
            return Err(GridworkError::invalid("path", "is empty"));
        }
        Ok(Self::wrap(Store::open(&path, key.as_deref())?))
    }

    /// Opens a throwaway in-memory store (previews, tests).
    ///
    /// # Errors
    /// [`GridworkError::Storage`] if SQLite cannot start.
    #[uniffi::constructor]
    pub fn open_in_memory() -> Result<Arc<Self>> {
        Ok(Self::wrap(Store::open_in_memory()?))
    }

    /// This device's Automerge actor id (hex), made on first start; the server binds it to the
    /// device at enrolment.
    ///
    /// # Errors
    /// [`GridworkError::Internal`] if the store is unusable after an earlier failure.
    pub fn actor_id(&self) -> Result<String> {
        Ok(self.lock()?.actor_id().to_hex_string())
    }

    /// Signs `user` in on this device; every record written from now on names them, and new
    /// records must lie within their scope.
    ///
    /// # Errors
    /// [`GridworkError::InvalidInput`] naming `user_id` or `name` when empty; storage errors.
    pub fn sign_in(&self, user: SignedInUser) -> Result<()> {
        self.with(|s| s.sign_in(user))
    }

    /// The signed-in user, if any.
    ///
    /// # Errors
    /// [`GridworkError::Internal`] if the store is unusable after an earlier failure.
    pub fn signed_in_user(&self) -> Result<Option<SignedInUser>> {
        Ok(self.lock()?.user().cloned())
    }

    // ---- areas ----

    /// Loads (inserts or renames) areas as reference data; parents must come before or with
    /// their children. Returns how many were loaded. All or nothing.
    ///
    /// # Errors
    /// [`GridworkError::InvalidInput`] naming `name` when a name is empty or too long;
    /// [`GridworkError::NotFound`] naming a missing parent area; nothing is loaded then.
    pub fn load_areas(&self, areas: Vec<Area>) -> Result<u64> {
        let n = self.with(|s| s.load_areas(&areas))?;
        Ok(u64::try_from(n).unwrap_or(u64::MAX))
    }

    /// The area with this code path, if loaded.
    ///
    /// # Errors
    /// [`GridworkError::InvalidInput`] naming `path` when it is not an area code path; storage
    /// errors.
    pub fn area(&self, path: String) -> Result<Option<Area>> {
        let path = area_arg("path", &path)?;
        self.with(|s| s.area(&path))
    }

    /// The areas directly inside `parent` (the districts when `None`), by code: what an area
    /// picker shows level by level.
    ///
    /// # Errors
    /// [`GridworkError::InvalidInput`] naming `parent` when it is not an area code path; storage
    /// errors.
    pub fn child_areas(&self, parent: Option<String>) -> Result<Vec<Area>> {
        let parent = parent.map(|p| area_arg("parent", &p)).transpose()?;
        self.with(|s| s.child_areas(parent.as_ref()))
    }

    // ---- households ----

    /// Records a new household and returns its id.
    ///
    /// # Errors
    /// [`GridworkError::InvalidInput`] naming the bad field (`address`, `head_name`,
    /// `member_count`, `phone`, `tags`…); [`GridworkError::NotFound`] for an unknown area;
    /// [`GridworkError::OutOfScope`]; [`GridworkError::NotSignedIn`]. Nothing is written on error.
    pub fn add_household(&self, input: HouseholdInput) -> Result<Uuid> {
        let id = self.with(|s| s.households().add(input))?;
        self.notify_local([(RecordKind::Household, id)]);
        Ok(id)
    }

    /// Records several households at once (a bulk import, a building's rooms): all are saved or,
    /// if any is refused, none. Returns their ids in input order.
    ///
    /// # Errors
    /// As [`GridworkStore::add_household`] for the first refused input; nothing is written then.
    pub fn add_households(&self, inputs: Vec<HouseholdInput>) -> Result<Vec<Uuid>> {
        let ids: Vec<Uuid> = self
            .with(|s| s.batch(|s| inputs.into_iter().map(|i| s.households().add(i)).collect()))?;
        self.notify_local(ids.iter().map(|id: &Uuid| (RecordKind::Household, *id)));
        Ok(ids)
    }

    /// Edits a household: only the fields that differ are written, so concurrent edits of
    /// different fields on two phones merge cleanly.
    ///
    /// # Errors
    /// As [`GridworkStore::add_household`], and [`GridworkError::NotFound`] for an unknown
    /// household.
    pub fn update_household(&self, id: Uuid, input: HouseholdInput) -> Result<()> {
        self.with(|s| s.households().update(id, input))?;
        self.notify_local([(RecordKind::Household, id)]);
        Ok(())
    }

    /// The household with this id (also when deleted); `None` only when unknown on this device.
    ///
    /// # Errors
    /// Storage errors.
    pub fn household(&self, id: Uuid) -> Result<Option<Household>> {
        self.with(|s| s.households().get(id))
    }

    /// Households within `area`, by address, at most `limit`.
    ///
    /// # Errors
    /// [`GridworkError::InvalidInput`] naming `area` when it is not an area code path; storage
    /// errors.
    pub fn households_in(&self, area: String, limit: u32) -> Result<Vec<Household>> {
        let area = area_arg("area", &area)?;
        self.with(|s| s.households().in_area(&area, limit))
    }

    /// Households within `area` matching what the user typed — Chinese name or address
    /// fragments of any length, pinyin (`wf`, `wangfang`) or phone digits — best first.
    ///
    /// # Errors
    /// [`GridworkError::InvalidInput`] naming `area` when it is not an area code path, or
    /// `query` when it is too long; storage errors.
    pub fn search_households(
        &self,
        area: String,
        query: String,
        limit: u32,
    ) -> Result<Vec<Household>> {
        let area = area_arg("area", &area)?;
        self.with(|s| s.households().search(&area, &query, limit))
    }

    /// Households within `area` whose visit is due at `now`, most overdue first (走访提醒).
    ///
    /// # Errors
    /// [`GridworkError::InvalidInput`] naming `area` when it is not an area code path; storage
    /// errors.
    pub fn due_visits(&self, area: String, now: UtcDateTime, limit: u32) -> Result<Vec<DueVisit>> {
        let area = area_arg("area", &area)?;
        self.with(|s| s.households().due(&area, now, limit))
    }

    // ---- visits ----

    /// Records a visit to a household and returns its id; the household's last visit and next
    /// due date follow.
    ///
    /// # Errors
    /// [`GridworkError::InvalidInput`] naming the bad field (`satisfaction`, `lat`, `photos`,
    /// `follow_up_due`…); [`GridworkError::NotFound`] for an unknown or deleted household;
    /// [`GridworkError::NotSignedIn`]; [`GridworkError::OutOfScope`]. Nothing is written on error.
    pub fn record_visit(&self, input: VisitInput) -> Result<Uuid> {
        let household = input.household_id;
        let id = self.with(|s| s.visits().record(input))?;
        self.notify_local([(RecordKind::Visit, id), (RecordKind::Household, household)]);
        Ok(id)
    }

    /// Edits a recorded visit: `input` is the whole form as the user left it (start from
    /// [`GridworkStore::visit`]); only the fields that differ are written, the photo list only
    /// when it differs, so concurrent edits of different fields on two phones merge with both
    /// kept. The household's last visit and next due date follow a changed time or outcome.
    ///
    /// # Errors
    /// [`GridworkError::InvalidInput`] naming the bad field, as for
    /// [`GridworkStore::record_visit`], or `household_id` when the input names another
    /// household; [`GridworkError::NotFound`] for an unknown or deleted visit;
    /// [`GridworkError::NotSignedIn`]; [`GridworkError::OutOfScope`]. Nothing is written on error.
    pub fn update_visit(&self, id: Uuid, input: VisitInput) -> Result<()> {
        let household = input.household_id;
        self.with(|s| s.visits().update(id, input))?;
        self.notify_local([(RecordKind::Visit, id), (RecordKind::Household, household)]);
        Ok(())
    }

    /// The whole visit with this id.
    ///
    /// # Errors
    /// [`GridworkError::NotFound`] when unknown; storage errors.
    pub fn visit(&self, id: Uuid) -> Result<Visit> {
        self.with(|s| s.visits().get(id))
    }

    /// A household's visits, newest first (the visit ledger of one household).
    ///
    /// # Errors
    /// Storage errors.
    pub fn visits_of_household(&self, household_id: Uuid) -> Result<Vec<Visit>> {
        self.with(|s| {
            let ids = s.visits().of_household(household_id)?;
            ids.into_iter().map(|id| s.visits().get(id)).collect()
        })
    }

    // ---- any record ----

    /// Deletes a record (a tombstone that syncs like any edit); it leaves lists, due visits and
    /// search.
    ///
    /// # Errors
    /// [`GridworkError::NotFound`] for a record this device lacks or of another kind;
    /// [`GridworkError::NotSignedIn`]; storage errors.
    pub fn delete_record(&self, kind: RecordKind, id: Uuid) -> Result<()> {
        self.with(|s| s.delete_record(kind, id))?;
        self.notify_local([(kind, id)]);
        Ok(())
    }

    /// A record's history, oldest first: who changed which fields, when (履职留痕).
    ///
    /// # Errors
    /// [`GridworkError::NotFound`] for an unknown record; storage errors.
    pub fn history(&self, kind: RecordKind, id: Uuid) -> Result<Vec<HistoryEntry>> {
        self.with(|s| s.history(kind, id))
    }

    /// The record's fields that hold more than one value because people set them differently
    /// while offline; the first value is the one shown. Empty when there is nothing to resolve.
    ///
    /// # Errors
    /// [`GridworkError::NotFound`] for an unknown record; storage errors.
    pub fn conflicts(&self, kind: RecordKind, id: Uuid) -> Result<Vec<FieldConflict>> {
        self.with(|s| s.conflicts(kind, id))
    }

    /// Resolves a conflicting text field by writing `value` over all its concurrent values.
    ///
    /// # Errors
    /// [`GridworkError::InvalidInput`] naming the field when it is not a plain text field of the
    /// record or the value is too long; [`GridworkError::NotFound`]; storage errors.
    pub fn resolve_conflict(
        &self,
        kind: RecordKind,
        id: Uuid,
        field: String,
        value: String,
    ) -> Result<()> {
        self.with(|s| s.resolve_conflict(kind, id, &field, &value))?;
        self.notify_local([(kind, id)]);
        Ok(())
    }

    /// How many live records of `kind` the store holds.
    ///
    /// # Errors
    /// Storage errors.
    pub fn count_records(&self, kind: RecordKind) -> Result<u64> {
        self.with(|s| s.count_records(kind))
    }

    // ---- change exchange (what sync builds on) ----

    /// How many changes made on this device wait to be acknowledged by the server.
    ///
    /// # Errors
    /// Storage errors.
    pub fn pending_changes(&self) -> Result<u64> {
        self.with(|s| s.outbox_len())
    }

    /// The changes made on this device and not yet acknowledged, oldest first, up to about
    /// `max_bytes` (at least one): what a push sends.
    ///
    /// # Errors
    /// Storage errors; [`GridworkError::BadChange`] if a stored change is unreadable.
    pub fn outbox(&self, max_bytes: u64) -> Result<Vec<ChangeEnvelope>> {
        let max = usize::try_from(max_bytes).unwrap_or(usize::MAX);
        self.with(|s| s.outbox(max))
    }

    /// Applies changes received from the server or another device: idempotent, in any order,
    /// duplicates harmless. All or nothing. Observers hear of the records that changed.
    ///
    /// # Errors
    /// [`GridworkError::BadChange`] naming the record and the problem (corrupt bytes, kind
    /// mismatch); nothing is stored then. Storage errors.
    pub fn apply_changes(&self, changes: Vec<ChangeEnvelope>) -> Result<ApplyReport> {
        let report = self.with(|s| s.apply_changes(&changes))?;
        if report.applied > 0 {
            self.observers.notify(observer::change(
                changes.iter().map(|c| (c.kind, c.doc_id)),
                ChangeOrigin::Remote,
            ));
        }
        Ok(report.into())
    }

    /// Marks outbox changes as stored by the server, by their 32-byte hashes
    /// ([`crate::change_hash`]); they leave the outbox and stay part of their records.
    ///
    /// # Errors
    /// [`GridworkError::InvalidInput`] naming `hashes` when one is not 32 bytes (nothing is
    /// marked then); storage errors.
    pub fn acknowledge(&self, hashes: Vec<Vec<u8>>) -> Result<()> {
        let hashes: Vec<[u8; 32]> = hashes
            .into_iter()
            .map(|h| {
                <[u8; 32]>::try_from(h.as_slice()).map_err(|_| {
                    GridworkError::invalid("hashes", format!("a hash is 32 bytes, got {}", h.len()))
                })
            })
            .collect::<Result<_>>()?;
        self.with(|s| s.acknowledge(&hashes))
    }

    // ---- upkeep ----

    /// Runs SQLite's integrity check; `true` when the file is sound. Apps run it after an
    /// unclean shutdown.
    ///
    /// # Errors
    /// Storage errors.
    pub fn integrity_check(&self) -> Result<bool> {
        self.with(|s| s.integrity_check())
    }

    /// Moves the write-ahead log into the main file; apps call it when going to the background.
    ///
    /// # Errors
    /// Storage errors.
    pub fn checkpoint(&self) -> Result<()> {
        self.with(|s| s.checkpoint())
    }

    // ---- observers ----

    /// Starts telling `observer` about every change to this store's records, local or received.
    /// Keep the returned subscription: dropping (closing) it or calling its `cancel` stops the
    /// notifications.
    ///
    /// # Errors
    /// None: subscribing cannot fail.
    pub fn subscribe(&self, observer: Arc<dyn DataObserver>) -> Arc<Subscription> {
        Arc::new(self.observers.add(observer))
    }
}
