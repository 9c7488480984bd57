//! Enrolment: exchanging a one-time code for a device credential, then signing the user in and
//! loading the areas of their scope (the reference data a new phone needs).
//!
//! Enrolment is retry-safe (issue 7). The credential is stored as soon as the server answers,
//! in the state "enrolled, reference data pending" ([`save`]); the areas are fetched after, and
//! loading them signs the user in and ends that state ([`apply_reference`]). If the areas call
//! fails, the device keeps its credential: enrolling again (the same code or a new one — the
//! server completes the earlier enrolment with a new credential), `refresh_areas` or the next
//! sync (which loads the reference data first and never syncs without it) completes it.

use serde::{Deserialize, Serialize};

use super::error::{SyncError, SyncResult};
use super::state::{self, Enrolment};
use crate::area::{Area, AreaPath};
use crate::role::Role;
use crate::store::{SignedInUser, Store};

/// What the user types or scans to enrol a device.
#[cfg_attr(feature = "uniffi", derive(uniffi::Record))]
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct EnrolRequest {
    /// The server's base URL, e.g. `https://sync.example.cn`.
    pub server_url: String,
    /// The one-time enrolment code, e.g. `7K3M-Q9XR-2D4F`.
    pub code: String,
    /// A name for the device shown to admins, e.g. `王芳的手机`.
    pub device_name: String,
    /// Which of the user's roles to act in on this device; `None`: the first one the server
    /// lists that handles records.
    pub role: Option<Role>,
}

/// The user a device was enrolled for.
#[cfg_attr(feature = "uniffi", derive(uniffi::Record))]
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct EnrolledUser {
    /// The device's id on the server.
    pub device_id: String,
    /// The user's id.
    pub user_id: String,
    /// The user's name.
    pub name: String,
    /// The role the device acts in.
    pub role: Role,
    /// The area of that role.
    pub scope: AreaPath,
    /// How many areas were loaded.
    pub areas: usize,
}

#[derive(Serialize)]
struct Body<'a> {
    code: &'a str,
    actor_id: &'a str,
    device_name: &'a str,
}

#[derive(Debug, Deserialize)]
pub(crate) struct Grant {
    role: Role,
    area: AreaPath,
}

/// The server's enrolment answer.
#[derive(Debug, Deserialize)]
pub(crate) struct Enrolled {
    pub(crate) device_id: String,
    pub(crate) credential: String,
    user_id: String,
    user_name: String,
    roles: Vec<Grant>,
}

#[derive(Deserialize)]
struct AreasBody {
    #[serde(default)]
    revoked: bool,
    #[serde(default)]
    areas: Vec<Area>,
    #[serde(default)]
    roles: Option<Vec<Grant>>,
}

/// The device's reference data from `GET /v1/areas`: the areas of its user's scope and, from
/// servers that send them, the user's current roles (an admin may have moved them to another
/// grid since enrolment).
#[derive(Debug)]
pub(crate) struct Reference {
    pub(crate) areas: Vec<Area>,
    roles: Option<Vec<Grant>>,
}

pub(crate) fn request_body(req: &EnrolRequest, actor_hex: &str) -> SyncResult<Vec<u8>> {
    serde_json::to_vec(&Body {
        code: &req.code,
        actor_id: actor_hex,
        device_name: &req.device_name,
    })
    .map_err(|e| SyncError::Protocol(e.to_string()))
}

pub(crate) fn parse_response(body: &[u8]) -> SyncResult<Enrolled> {
    serde_json::from_slice(body)
        .map_err(|e| SyncError::Protocol(format!("unreadable enrolment answer: {e}")))
}

pub(crate) fn parse_areas(body: &[u8]) -> SyncResult<Reference> {
    let b: AreasBody = serde_json::from_slice(body)
        .map_err(|e| SyncError::Protocol(format!("unreadable areas answer: {e}")))?;
    if b.revoked {
        return Err(SyncError::Revoked);
    }
    Ok(Reference { areas: b.areas, roles: b.roles })
}

/// The grant a device acts in: the requested role, or else the first role that handles
/// records, or else the first role.
fn choose_grant(roles: &[Grant], wanted: Option<Role>) -> Option<&Grant> {
    match wanted {
        Some(r) => roles.iter().find(|g| g.role == r),
        None => roles.iter().find(|g| g.role.may_read_records()).or_else(|| roles.first()),
    }
}

/// Loads refreshed reference data: completes a pending enrolment (signs in the user chosen at
/// enrolment) and, when the user's roles changed on the server, signs the user in again under
/// the grant of the same role (or the default grant when that role was taken away), makes the
/// next sync a bootstrap of the new scope and forgets the records the user may no longer see
/// (except unsent work), all in one transaction. Returns how many areas were loaded.
pub(crate) fn apply_reference(store: &mut Store, r: &Reference) -> crate::Result<usize> {
    store.batch(|s| {
        let pending = state::take_pending_user(s)?;
        let n = load_areas(s, &r.areas)?;
        if let Some(user) = pending {
            s.sign_in(user)?;
        }
        let (Some(roles), Some(current)) = (&r.roles, s.user().cloned()) else {
            return Ok(n);
        };
        if roles.iter().any(|g| g.role == current.role && g.area == current.scope) {
            return Ok(n);
        }
        let grant = choose_grant(roles, Some(current.role)).or_else(|| choose_grant(roles, None));
        if let Some(g) = grant {
            s.sign_in(SignedInUser { role: g.role, scope: g.area.clone(), ..current })?;
            state::request_bootstrap(s)?;
            let areas: Vec<AreaPath> = roles.iter().map(|g| g.area.clone()).collect();
            let sensitive = roles.iter().any(|g| g.role.may_read_sensitive());
            s.forget_outside(&areas, sensitive)?;
        }
        Ok(n)
    })
}

/// Loads areas parents first; an area whose parent the server did not send gets a placeholder
/// parent named by its code, so the hierarchy has no holes.
pub(crate) fn load_areas(store: &mut Store, areas: &[Area]) -> crate::Result<usize> {
    let mut all: Vec<Area> = areas.to_vec();
    let known: std::collections::HashSet<String> =
        all.iter().map(|a| a.path.as_str().to_owned()).collect();
    let mut extra = Vec::new();
    for a in areas {
        let mut p = a.path.parent();
        while let Some(parent) = p {
            if known.contains(parent.as_str())
                || extra.iter().any(|x: &Area| x.path == parent)
                || store.area_exists(&parent)?
            {
                break;
            }
            let name = parent.as_str().rsplit('/').next().unwrap_or(parent.as_str()).to_owned();
            p = parent.parent();
            extra.push(Area { path: parent, name });
        }
    }
    all.extend(extra);
    all.sort_by_key(|a| (a.path.level(), a.path.as_str().to_owned()));
    store.load_areas(&all)
}

/// Stores the enrolment the server answered, in one transaction, in the state "enrolled,
/// reference data pending": the credential, and the user to sign in (in the requested role, or
/// the default one) once [`apply_reference`] loads the areas.
///
/// # Errors
/// [`SyncError::Server`] `role_not_held` when the user does not hold the requested role;
/// [`SyncError::Protocol`] when they hold none; store errors.
pub(crate) fn save(
    store: &mut Store,
    base: &str,
    e: &Enrolled,
    req: &EnrolRequest,
) -> SyncResult<()> {
    let grant = choose_grant(&e.roles, req.role).ok_or_else(|| match req.role {
        Some(r) => SyncError::Server {
            status: 403,
            code: "role_not_held".into(),
            message: format!("the user does not hold the role {r}"),
            change_index: None,
        },
        None => SyncError::Protocol("the enrolled user holds no role".into()),
    })?;
    let user = SignedInUser {
        user_id: e.user_id.clone(),
        name: e.user_name.clone(),
        role: grant.role,
        scope: grant.area.clone(),
    };
    let enrolment = Enrolment {
        server_url: base.to_owned(),
        device_id: e.device_id.clone(),
        credential: e.credential.clone(),
    };
    store.batch(|s| state::save_pending_enrolment(s, &enrolment, &user))?;
    Ok(())
}

/// The enrolled user as signed in on the device once the reference data is loaded.
///
/// # Errors
/// [`SyncError::Protocol`] when nobody is signed in (the reference data did not complete the
/// enrolment).
pub(crate) fn enrolled_user(
    store: &Store,
    device_id: &str,
    areas: usize,
) -> SyncResult<EnrolledUser> {
    let user = store.user().ok_or_else(|| {
        SyncError::Protocol("enrolment completed without a signed-in user".into())
    })?;
    Ok(EnrolledUser {
        device_id: device_id.to_owned(),
        user_id: user.user_id.clone(),
        name: user.name.clone(),
        role: user.role,
        scope: user.scope.clone(),
        areas,
    })
}
