//! Departments (DESIGN §8, issue 10 item 4): the registry of the units a work order is
//! dispatched to, who belongs to which, and which work orders were ever dispatched to which.
//!
//! A department handler reads only the work orders dispatched to one of their departments
//! ([`super::ReadScope::departments`]). Which those are is learnt at ingest: the validator
//! collects the departments each work-order change names ([`super::NewChange::departments`])
//! and the push stores them in `doc_departments`, in the same transaction as the change — so a
//! pull never sees a dispatch change before the document is visible to its department. An order
//! stays visible to a department it was dispatched to even after a return (the handler keeps the
//! history of what they touched).

use async_trait::async_trait;
use serde::{Deserialize, Serialize};
use uuid::Uuid;

use gridwork_core::work_order::CategoryList;
use gridwork_core::{AreaPath, RecordKind};

use super::{DynStore, PullQuery, ReadScope, StoreResult};

/// Longest department code.
pub const MAX_CODE_LEN: usize = 32;
/// Longest department name (characters).
pub const MAX_NAME_CHARS: usize = 64;

/// One department of the registry.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Department {
    /// Stable code, written into dispatch events: 1–32 lowercase ASCII letters, digits or `_`.
    pub code: String,
    /// Chinese name (zh-CN), shown to users.
    pub name_zh: String,
    /// English name.
    pub name_en: String,
    /// Incident category codes it handles (a dispatch suggestion; any department may be sent
    /// any category).
    #[serde(default)]
    pub categories: Vec<String>,
    /// The area it serves; `None`: the whole district. Dispatching an order outside it is
    /// refused.
    #[serde(default)]
    pub area: Option<AreaPath>,
    /// Whether new dispatches may name it (a retired department keeps its history).
    #[serde(default = "active_default")]
    pub active: bool,
}

fn active_default() -> bool {
    true
}

impl Department {
    /// Checks the fields against the standard categories, naming the first bad one.
    ///
    /// # Errors
    /// `(field, message)`.
    pub fn validate(&self) -> Result<(), (&'static str, String)> {
        self.validate_with(&CategoryList::default())
    }

    /// Checks the fields, its categories against the district's list `known` (from its
    /// reference data, `crate::reference`), naming the first bad one.
    ///
    /// # Errors
    /// `(field, message)`.
    pub fn validate_with(&self, known: &CategoryList) -> Result<(), (&'static str, String)> {
        if !valid_code(&self.code) {
            return Err((
                "code",
                format!("`{}` must be 1–{MAX_CODE_LEN} lowercase ASCII letters, digits or `_`", {
                    self.code.chars().take(40).collect::<String>()
                }),
            ));
        }
        for (field, name) in [("name_zh", &self.name_zh), ("name_en", &self.name_en)] {
            let n = name.trim().chars().count();
            if n == 0 || n > MAX_NAME_CHARS || name.chars().any(char::is_control) {
                return Err((
                    field,
                    format!("must be 1–{MAX_NAME_CHARS} characters without control characters"),
                ));
            }
        }
        for c in &self.categories {
            if known.lookup(c).is_err() {
                return Err(("categories", format!("unknown incident category `{c}`")));
            }
        }
        Ok(())
    }

    /// Whether it serves `area`.
    pub fn serves(&self, area: &AreaPath) -> bool {
        self.area.as_ref().is_none_or(|a| a.contains(area))
    }
}

/// Whether `code` is a well-formed department code.
pub fn valid_code(code: &str) -> bool {
    !code.is_empty()
        && code.len() <= MAX_CODE_LEN
        && code.bytes().all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'_')
}

/// The storage of departments (both backends), reached by [`super::Store::departments`].
#[async_trait]
pub trait DepartmentStore: Send + Sync {
    /// Every department, by code.
    async fn list_departments(&self) -> StoreResult<Vec<Department>>;

    /// Adds or replaces a department (validated by the caller).
    async fn put_department(&self, department: &Department) -> StoreResult<()>;

    /// The departments a person belongs to, by code.
    async fn user_departments(&self, user: Uuid) -> StoreResult<Vec<String>>;

    /// Replaces the departments a person belongs to. Returns `false` for an unknown person.
    ///
    /// # Errors
    /// [`StoreError::NotFound`] naming an unknown department code.
    async fn set_user_departments(&self, user: Uuid, codes: &[String]) -> StoreResult<bool>;

    /// The departments a document was ever dispatched to.
    async fn doc_departments(&self, doc: Uuid) -> StoreResult<Vec<String>>;

    /// Records that documents were dispatched to departments (idempotent): the backfill's
    /// write; pushes record theirs themselves.
    async fn add_doc_departments(&self, pairs: &[(Uuid, String)]) -> StoreResult<()>;

    /// Whether the log predates `doc_departments` and must be scanned once ([`backfill`]).
    async fn backfill_pending(&self) -> StoreResult<bool>;

    /// Marks the backfill done.
    async fn finish_backfill(&self) -> StoreResult<()>;
}

/// The registry as the validator needs it: which codes exist, are active and serve an area.
#[derive(Debug, Clone, Default)]
pub struct Registry {
    departments: Vec<Department>,
}

impl Registry {
    /// A registry of these departments.
    pub fn new(departments: Vec<Department>) -> Registry {
        Registry { departments }
    }

    /// Loads the registry.
    ///
    /// # Errors
    /// Storage errors.
    pub async fn load(store: &DynStore) -> StoreResult<Registry> {
        Ok(Registry::new(store.departments().list_departments().await?))
    }

    /// Why `code` may not be dispatched to for an order in `area`, if it may not.
    pub fn refusal(&self, code: &str, area: &AreaPath) -> Option<String> {
        match self.departments.iter().find(|d| d.code == code) {
            None => Some(format!("`{code}` is not a department of the registry")),
            Some(d) if !d.active => Some(format!("the department `{code}` is retired")),
            Some(d) if !d.serves(area) => {
                Some(format!("the department `{code}` does not serve {area}"))
            }
            Some(_) => None,
        }
    }
}

/// Fills `doc_departments` from a log made before it existed (once, at start): reads every
/// work-order change and records the departments its events name.
///
/// # Errors
/// Storage errors; a change that cannot be parsed is skipped (it was validated at ingest by an
/// older server; the sync admin sees it in the held changes if devices cannot apply it).
pub async fn backfill(store: &DynStore) -> StoreResult<usize> {
    if !store.departments().backfill_pending().await? {
        return Ok(0);
    }
    let roots = crate::read_model::projector::everything(store).await?;
    let scopes: Vec<ReadScope> =
        roots.into_iter().map(|s| ReadScope::new(s.area, vec![RecordKind::WorkOrder])).collect();
    let mut cursor = 0;
    let mut found = 0;
    loop {
        let page = store
            .pull(&PullQuery {
                cursor,
                scopes: scopes.clone(),
                exclude_device: None,
                max_bytes: 4 * 1024 * 1024,
            })
            .await?;
        let mut pairs = Vec::new();
        for c in &page.changes {
            let Ok(change) = automerge::Change::from_bytes(c.change.bytes.clone()) else {
                continue;
            };
            for d in crate::validate::named_departments(&change).unwrap_or_default() {
                pairs.push((c.change.doc_id, d));
            }
        }
        found += pairs.len();
        store.departments().add_doc_departments(&pairs).await?;
        cursor = page.next_cursor;
        if !page.more {
            break;
        }
    }
    store.departments().finish_backfill().await?;
    Ok(found)
}
