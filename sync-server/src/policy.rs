//! Who may write and read what (DESIGN §3): kinds per role, area scopes per role grant, and the
//! sensitivity rule. The store applies the read scopes computed here; the push validator applies
//! the write rule.

use gridwork_core::{AreaPath, RecordKind, Role};

use crate::store::{ReadScope, RoleGrant};

/// The kinds a role may write (and read) within its area. Sync admins handle no records;
/// department handlers only work orders; sensitive documents only roles that may read them.
/// Every role with records also reads the district's reference data (which only the server
/// writes: `crate::validate` refuses a device's change to it).
pub fn kinds_for(role: Role) -> Vec<RecordKind> {
    let base: &[RecordKind] = match role {
        Role::SyncAdmin => &[],
        Role::DepartmentHandler => &[RecordKind::WorkOrder, RecordKind::Reference],
        Role::Liaison => &[
            RecordKind::Household,
            RecordKind::Resident,
            RecordKind::Visit,
            RecordKind::Patrol,
            RecordKind::WorkOrder,
            RecordKind::Task,
            RecordKind::Reference,
        ],
        Role::GridWorker | Role::GridHead | Role::TownOperator | Role::DistrictCentre => {
            &RecordKind::ALL
        }
    };
    base.iter().copied().filter(|k| !k.is_sensitive() || role.may_read_sensitive()).collect()
}

/// Whether a role reads only the work orders dispatched to its departments.
pub fn is_departmental(role: Role) -> bool {
    role == Role::DepartmentHandler
}

/// The read scopes of a user's role grants, a department handler's reading nothing (its
/// departments are not known here): callers that know the person use
/// [`crate::store::departments::read_scopes`].
pub fn read_scopes(grants: &[RoleGrant]) -> Vec<ReadScope> {
    read_scopes_with(grants, &[])
}

/// The read scopes of a user's role grants, a department handler's narrowed to the work orders
/// dispatched to `departments` (DESIGN §8).
pub fn read_scopes_with(grants: &[RoleGrant], departments: &[String]) -> Vec<ReadScope> {
    grants
        .iter()
        .map(|g| ReadScope {
            area: g.area.clone(),
            kinds: kinds_for(g.role),
            departments: is_departmental(g.role).then(|| departments.to_vec()),
        })
        .filter(|s| !s.kinds.is_empty())
        .collect()
}

/// The roles a user holds over `area`, the widest grant first and, among equals, the command
/// roles first: the order an action on a record tries them in (a person acts in the first role
/// allowed to).
pub fn roles_over(grants: &[RoleGrant], area: &AreaPath) -> Vec<Role> {
    let rank = |role: Role| match role {
        Role::DistrictCentre => 0,
        Role::TownOperator => 1,
        Role::GridHead => 2,
        Role::GridWorker => 3,
        Role::DepartmentHandler => 4,
        Role::Liaison => 5,
        Role::SyncAdmin => 6,
    };
    let mut roles: Vec<(usize, u8, Role)> = grants
        .iter()
        .filter(|g| g.area.contains(area))
        .map(|g| (g.area.as_str().len(), rank(g.role), g.role))
        .collect();
    roles.sort_unstable_by_key(|(depth, rank, _)| (*depth, *rank));
    let mut out: Vec<Role> = Vec::new();
    for (_, _, r) in roles {
        if !out.contains(&r) {
            out.push(r);
        }
    }
    out
}

/// Why a write is refused.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum WriteDenied {
    /// No role of the user covers the area.
    OutOfScope,
    /// Roles cover the area, but none may write this kind there.
    KindNotAllowed,
}

/// Whether a user with these grants may write a record of `kind` in `area`.
///
/// # Errors
/// [`WriteDenied`] saying why not.
pub fn may_write(
    grants: &[RoleGrant],
    kind: RecordKind,
    area: &AreaPath,
) -> Result<(), WriteDenied> {
    let mut covered = false;
    for g in grants.iter().filter(|g| g.area.contains(area)) {
        covered = true;
        if kinds_for(g.role).contains(&kind) {
            return Ok(());
        }
    }
    Err(if covered { WriteDenied::KindNotAllowed } else { WriteDenied::OutOfScope })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn grant(role: Role, area: &str) -> RoleGrant {
        RoleGrant { role, area: AreaPath::parse(area).unwrap() }
    }

    #[test]
    fn scopes_and_sensitivity() {
        let area = AreaPath::parse("320612/004/017/03/02").unwrap();
        let liaison = [grant(Role::Liaison, "320612/004/017/03/02")];
        assert_eq!(may_write(&liaison, RecordKind::Visit, &area), Ok(()));
        assert_eq!(
            may_write(&liaison, RecordKind::Sensitive, &area),
            Err(WriteDenied::KindNotAllowed)
        );
        let other = AreaPath::parse("320612/004/017/03/03").unwrap();
        assert_eq!(may_write(&liaison, RecordKind::Visit, &other), Err(WriteDenied::OutOfScope));
        let admin = [grant(Role::SyncAdmin, "320612")];
        assert_eq!(may_write(&admin, RecordKind::Visit, &area), Err(WriteDenied::KindNotAllowed));
        assert!(read_scopes(&admin).is_empty());
        let worker = [grant(Role::GridWorker, "320612/004/017/03")];
        assert_eq!(may_write(&worker, RecordKind::Sensitive, &area), Ok(()));
        assert!(read_scopes(&liaison)[0].kinds.iter().all(|k| !k.is_sensitive()));
    }
}
