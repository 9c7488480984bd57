//! The district's reference data on the server (DESIGN §8, issue 11): categories, the deadline
//! policy, tag intervals and departments, carried to every device as one `reference` record per
//! district (`gridwork_core::reference`), at the district's root area so that every device of
//! the district receives it.
//!
//! Only the server writes it, always as the system person ([`Author::system`]) through the one
//! write path ([`authoring::commit_and_ingest`]): it is created from the defaults and the
//! department registry when first needed ([`ensure`]: at start and on each supervision tick, and
//! by the reference API), and re-authored when the district edits it ([`update`]) or the
//! department registry changes ([`departments_changed`]). The record names who made the edit.
//! The server reads it back with the core's decoder ([`current`]), so the server and the phones
//! use one source of truth; the departments in it mirror the registry, which stays what
//! dispatches are validated against.

use gridwork_core::reference::{self, ReferenceData, ReferenceSpec};
use gridwork_core::work_order::{CategoryList, DeadlinePolicy};
use gridwork_core::{AreaPath, RecordKind};

use crate::api::AppState;
use crate::authoring::{self, Author, Authored, MAX_ATTEMPTS, commit_and_ingest, core_error};
use crate::error::{ApiError, ApiResult};
use crate::store::departments::Department;
use crate::store::{StoreError, now_ms};

/// The districts the server serves: the first code of each outermost registered area.
///
/// # Errors
/// Storage errors.
pub async fn districts(st: &AppState) -> Result<Vec<AreaPath>, StoreError> {
    let roots = crate::read_model::projector::everything(&st.store).await?;
    let mut out: Vec<AreaPath> =
        roots.iter().filter_map(|s| AreaPath::parse(district_code(&s.area)).ok()).collect();
    out.sort();
    out.dedup();
    Ok(out)
}

/// The district code (first code of the path) an area lies in.
pub fn district_code(area: &AreaPath) -> &str {
    area.as_str().split('/').next().unwrap_or_default()
}

/// The district's reference record as the log holds it, decoded; `None` while there is none.
/// A record that does not decode is logged and read as absent (the defaults apply; the next
/// edit re-authors every section).
///
/// # Errors
/// Storage errors; a logged change that does not load (500).
pub async fn load(st: &AppState, district: &AreaPath) -> ApiResult<Option<ReferenceData>> {
    let author = Author::system(district.clone());
    let id = reference::reference_id(district);
    let loaded = match authoring::load(st, &author, RecordKind::Reference, id).await {
        Ok(l) => l,
        Err(e) if e.code == "not_found" => return Ok(None),
        Err(e) => return Err(e),
    };
    match gridwork_core::spec::decode::<ReferenceSpec>(id, &loaded.doc) {
        Ok(r) => Ok(Some(r.record)),
        Err(e) => {
            tracing::warn!(district = %district, error = %e, "reference record does not decode");
            Ok(None)
        }
    }
}

/// The district's reference data in force: its record, or (before it exists) the defaults
/// with the department registry.
///
/// # Errors
/// As [`load`]; storage errors.
pub async fn current(st: &AppState, district: &AreaPath) -> ApiResult<ReferenceData> {
    match load(st, district).await? {
        Some(r) => Ok(r),
        None => seed(st, district).await,
    }
}

/// The deadline policy in force in `district`.
///
/// # Errors
/// As [`current`].
pub async fn policy(st: &AppState, district: &AreaPath) -> ApiResult<DeadlinePolicy> {
    current(st, district).await.map(|r| r.deadline_policy)
}

/// The defaults, with the registry's departments serving `district`.
async fn seed(st: &AppState, district: &AreaPath) -> ApiResult<ReferenceData> {
    let categories = CategoryList::default();
    let departments = registry_departments(st, district, &categories).await?;
    ReferenceData { categories, departments, ..ReferenceData::default() }
        .validated()
        .map_err(|e| core_error(&e))
}

/// The registry's departments serving (part of) `district`, as devices see them. A category
/// the list does not know is left out of a department's suggestions rather than refusing the
/// whole record.
async fn registry_departments(
    st: &AppState,
    district: &AreaPath,
    categories: &CategoryList,
) -> ApiResult<Vec<reference::Department>> {
    let all = st.store.departments().list_departments().await?;
    Ok(all
        .into_iter()
        .filter(|d| d.area.as_ref().is_none_or(|a| district.contains(a)))
        .map(|d| reference::Department {
            categories: d.categories.into_iter().filter(|c| categories.get(c).is_some()).collect(),
            code: d.code,
            name_zh: d.name_zh,
            name_en: d.name_en,
            area: d.area,
            active: d.active,
        })
        .collect())
}

/// Creates the district's reference record from the defaults and the registry if the log has
/// none; returns the change when it made one. Several servers racing create it once (the
/// system person's second "first change" of the document is refused as a reused sequence
/// number, and the loser finds the record there).
///
/// # Errors
/// The ingest's refusals; storage errors.
pub async fn ensure(st: &AppState, district: &AreaPath) -> ApiResult<Option<Authored>> {
    if load(st, district).await?.is_some() {
        return Ok(None);
    }
    let data = seed(st, district).await?;
    match write(st, district, &data, &authoring::SYSTEM_USER.to_string()).await {
        Ok(change) => Ok(change),
        Err(e) if authoring::lost_race(&e) => Ok(None),
        Err(e) => Err(e),
    }
}

/// [`ensure`] for every district the server serves; failures are logged.
pub async fn ensure_all(st: &AppState) {
    let districts = match districts(st).await {
        Ok(d) => d,
        Err(e) => {
            tracing::warn!(error = %e, "reference data: listing districts failed");
            return;
        }
    };
    for district in districts {
        match ensure(st, &district).await {
            Ok(Some(_)) => tracing::info!(%district, "reference record created"),
            Ok(None) => {}
            Err(e) => tracing::warn!(%district, error = %e, "reference record not created"),
        }
    }
}

/// Writes `data` (validated) as the district's reference record, made by `updated_by`;
/// creates the record if the log has none. Returns the change, `None` when nothing changed.
/// A concurrent write of the system person is retried on the reloaded record.
///
/// # Errors
/// 400 `invalid_input` naming the section; the ingest's refusals; storage errors.
pub async fn write(
    st: &AppState,
    district: &AreaPath,
    data: &ReferenceData,
    updated_by: &str,
) -> ApiResult<Option<Authored>> {
    let data = data.clone().validated().map_err(|e| core_error(&e))?;
    let author = Author::system(district.clone());
    let id = reference::reference_id(district);
    let mut last = None;
    for _ in 0..MAX_ATTEMPTS {
        let (mut doc, op) = match authoring::load(st, &author, RecordKind::Reference, id).await {
            Ok(l) => (l.doc, "update_reference"),
            Err(e) if e.code == "not_found" => {
                let doc = gridwork_core::author::new_document(
                    RecordKind::Reference,
                    district,
                    &authoring::SYSTEM_USER.to_string(),
                    &author.actor(),
                    now_ms(),
                )
                .map_err(|e| core_error(&e))?;
                (doc, "create_reference")
            }
            Err(e) => return Err(e),
        };
        reference::write(&mut doc, district, &data, updated_by).map_err(|e| core_error(&e))?;
        match commit_and_ingest(
            st,
            &author,
            &mut doc,
            (id, RecordKind::Reference, district.clone()),
            op,
        )
        .await
        {
            Ok(change) => return Ok(Some(change)),
            Err(e) if e.code == "nothing_to_do" => return Ok(None),
            Err(e) if authoring::lost_race(&e) && op == "update_reference" => last = Some(e),
            Err(e) => return Err(e),
        }
    }
    Err(last.unwrap_or_else(|| ApiError::from(StoreError::Corrupt("no attempt made".into()))))
}

/// What the district submits to change its reference data (`PUT /api/v1/reference`).
#[derive(Debug, Clone, serde::Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ReferenceEdit {
    /// Every incident category in use. A category of the current list left out is kept,
    /// retired: orders filed under it still show its name; no new report may choose it.
    #[schema(value_type = Vec<Object>)]
    pub categories: CategoryList,
    /// Hours per severity, and hours past the deadline before escalation to the district.
    #[schema(value_type = Object)]
    pub deadline_policy: DeadlinePolicy,
    /// Visit interval per household tag (tags left out keep their default).
    #[schema(value_type = Vec<Object>)]
    pub tag_intervals: Vec<reference::TagInterval>,
    /// The departments, when the edit changes them: each is added or replaced in the registry,
    /// and a registered department left out is retired (its history stays). Absent: the
    /// registry is left as it is.
    #[serde(default)]
    #[schema(value_type = Option<Vec<Object>>)]
    pub departments: Option<Vec<reference::Department>>,
}

/// Applies the district's edit: checks it whole, updates the department registry when the edit
/// names departments, and re-authors the reference record in `by`'s name. Returns the data in
/// force after it and the change (`None` when nothing changed).
///
/// # Errors
/// 400 `invalid_input` naming the section and entry (unknown or duplicate codes, hours or
/// days ≤ 0, a department naming an unknown category…); nothing is written then. The ingest's
/// refusals; storage errors.
pub async fn update(
    st: &AppState,
    district: &AreaPath,
    edit: ReferenceEdit,
    by: &str,
) -> ApiResult<(ReferenceData, Option<Authored>)> {
    let before = current(st, district).await?;
    let mut categories: Vec<_> = edit.categories.as_slice().to_vec();
    for old in before.categories.as_slice() {
        if edit.categories.get(&old.code).is_none() {
            categories.push(gridwork_core::work_order::Category { retired: true, ..old.clone() });
        }
    }
    let categories = CategoryList::new(categories).map_err(|e| core_error(&e))?;
    let mut data = ReferenceData {
        categories,
        deadline_policy: edit.deadline_policy,
        tag_intervals: edit.tag_intervals,
        departments: edit.departments.clone().unwrap_or(before.departments),
    }
    .validated()
    .map_err(|e| core_error(&e))?;
    if let Some(given) = edit.departments {
        let registered = st.store.departments().list_departments().await?;
        let mut changes: Vec<Department> = given.iter().map(to_registry).collect();
        for d in &changes {
            d.validate_with(&data.categories).map_err(|(field, m)| {
                ApiError::bad_request("invalid_input", format!("departments: {field}: {m}"))
            })?;
        }
        for old in registered.into_iter().filter(|d| d.active) {
            let serves_here = old.area.as_ref().is_none_or(|a| district.contains(a));
            if serves_here && !given.iter().any(|g| g.code == old.code) {
                changes.push(Department { active: false, ..old });
            }
        }
        for d in &changes {
            st.store.departments().put_department(d).await?;
        }
        data.departments = registry_departments(st, district, &data.categories).await?;
    }
    let change = write(st, district, &data, by).await?;
    Ok((data, change))
}

fn to_registry(d: &reference::Department) -> Department {
    Department {
        code: d.code.clone(),
        name_zh: d.name_zh.clone(),
        name_en: d.name_en.clone(),
        categories: d.categories.clone(),
        area: d.area.clone(),
        active: d.active,
    }
}

/// Re-authors the departments of every district's reference record after the registry
/// changed (`PUT /admin/v1/departments/{code}`), as the system person. Failures are logged:
/// the registry change stands, and the next change re-authors again.
pub async fn departments_changed(st: &AppState) {
    let districts = match districts(st).await {
        Ok(d) => d,
        Err(e) => {
            tracing::warn!(error = %e, "reference data: listing districts failed");
            return;
        }
    };
    for district in districts {
        let result = async {
            let mut data = current(st, &district).await?;
            data.departments = registry_departments(st, &district, &data.categories).await?;
            write(st, &district, &data, &authoring::SYSTEM_USER.to_string()).await
        }
        .await;
        if let Err(e) = result {
            tracing::warn!(%district, error = %e, "reference departments not re-authored");
        }
    }
}
