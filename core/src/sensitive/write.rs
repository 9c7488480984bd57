//! Recording and reading sensitive data on the device, only for roles allowed to.

use uuid::Uuid;

use super::*;
use crate::doc::{self, common};
use crate::error::CoreError;
use crate::kind::RecordKind;
use crate::store::{SignedInUser, Store};

/// The device store's operations on residents' sensitive data, for the roles allowed to see it. Made by [`Store::sensitive`]; borrows the store for
/// as long as it lives.
#[derive(Debug)]
pub struct SensitiveRecords<'s> {
    pub(crate) store: &'s mut Store,
}

impl Store {
    /// Operations on residents' sensitive data, for the roles allowed to see it.
    pub fn sensitive(&mut self) -> SensitiveRecords<'_> {
        SensitiveRecords { store: self }
    }
}

impl SensitiveRecords<'_> {
    /// Creates or updates the sensitive record of a resident and returns its id (always
    /// [`sensitive_id`] of the resident). Setting it again after
    /// [`SensitiveRecords::delete`](crate::sensitive::SensitiveRecords::delete) brings it back. The household's visit interval follows the
    /// key-population category at once.
    ///
    /// # Errors
    /// [`CoreError::Forbidden`] for a role that may not handle sensitive data (e.g. a liaison);
    /// [`CoreError::NotSignedIn`]; [`CoreError::Invalid`] naming `id_card` or `health`;
    /// [`CoreError::NotFound`] for an unknown or deleted resident (or household);
    /// [`CoreError::OutOfScope`]. Nothing is written on error.
    pub fn set(&mut self, resident_id: Uuid, input: SensitiveInput) -> Result<Uuid> {
        self.store.require_sensitive_access("write sensitive data")?;
        let input = input.validated()?;
        let resident = self.store.residents().get(resident_id)?.ok_or_else(|| {
            CoreError::NotFound { kind: "resident".into(), id: resident_id.to_string() }
        })?;
        let area = self.store.live_household_area(resident.household_id)?;
        let id = sensitive_id(resident_id);
        let exists = self.store.record_kind(id)?.is_some();
        let create = (!exists).then_some(&area);
        self.store.write_doc(id, RecordKind::Sensitive, create, "set_sensitive", |d, _| {
            doc::put(d, common::AREA, area.as_str())?;
            if doc::get_bool(d, common::DELETED) == Some(true) {
                doc::put(d, common::DELETED, false)?;
            }
            doc::put(d, field::RESIDENT, resident_id.to_string())?;
            doc::put(d, field::HOUSEHOLD, resident.household_id.to_string())?;
            doc::put_opt(d, field::ID_CARD, input.id_card.as_deref())?;
            doc::put_opt(
                d,
                field::HEALTH,
                (!input.health.is_empty()).then_some(input.health.as_str()),
            )?;
            doc::put_opt(
                d,
                field::KEY_POPULATION,
                input.key_population.map(KeyPopulation::as_str),
            )?;
            doc::put_opt(d, field::RELIEF_STATUS, input.relief_status.map(ReliefStatus::as_str))?;
            Ok(())
        })?;
        Ok(id)
    }

    /// Deletes a resident's sensitive record (tombstone, DESIGN §2): e.g. a person who is no
    /// longer in a key population and whose data must not be kept.
    ///
    /// # Errors
    /// [`CoreError::Forbidden`] for a role that may not handle sensitive data;
    /// [`CoreError::NotSignedIn`]; [`CoreError::NotFound`] when the resident has no sensitive
    /// record on this device; storage errors.
    pub fn delete(&mut self, resident_id: Uuid) -> Result<()> {
        self.store.require_sensitive_access("delete sensitive data")?;
        self.store.delete_record(RecordKind::Sensitive, sensitive_id(resident_id))
    }
}

impl Store {
    /// The signed-in user, if their role may read and write sensitive data.
    ///
    /// # Errors
    /// [`CoreError::NotSignedIn`]; [`CoreError::Forbidden`] naming `action` for any other role.
    pub(crate) fn require_sensitive_access(&self, action: &str) -> Result<&SignedInUser> {
        let user = self.require_user()?;
        if !user.role.may_read_sensitive() {
            return Err(CoreError::Forbidden { action: format!("{action} as {}", user.role) });
        }
        Ok(user)
    }

    /// Refuses `action` on a record of `kind` when the kind is sensitive and the signed-in role
    /// may not handle sensitive data; the generic record operations (delete, history,
    /// conflicts) call it so they cannot be used to get round the rule.
    ///
    /// # Errors
    /// As [`Store::require_sensitive_access`], for sensitive kinds only.
    pub(crate) fn check_kind_access(&self, kind: RecordKind, action: &str) -> Result<()> {
        if kind.is_sensitive() {
            self.require_sensitive_access(&format!("{action} sensitive data"))?;
        }
        Ok(())
    }
}
