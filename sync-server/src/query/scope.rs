//! Whose records a caller may read: the read scopes of their role grants and departments
//! ([`crate::policy::read_scopes_with`], exactly what their pulls serve: a department handler
//! reads only the work orders dispatched to their departments), narrowed to one kind and checked
//! against the `area` they ask for. Written over `&[RoleGrant]`, so every kind of caller (a
//! device's user, a staff session) is scoped by the same code.

use gridwork_core::{AreaPath, RecordKind};

use super::QueryError;
use crate::policy;
use crate::store::{ReadScope, RoleGrant};

/// The read scopes of `grants` (a handler's narrowed to `departments`) that cover `kind`, each
/// narrowed to that kind.
pub fn scopes_for(
    grants: &[RoleGrant],
    departments: &[String],
    kind: RecordKind,
) -> Vec<ReadScope> {
    policy::read_scopes_with(grants, departments)
        .into_iter()
        .filter(|s| s.kinds.contains(&kind))
        .map(|s| ReadScope { kinds: vec![kind], ..s })
        .collect()
}

/// The scopes a request for `kind` (within `area`, if given) is answered under.
///
/// # Errors
/// [`QueryError::NoAccess`] when no role of the caller reads `kind` (`what` names it);
/// [`QueryError::OutOfScope`] when `area` does not lie within one of their scopes for it.
pub fn check(
    grants: &[RoleGrant],
    departments: &[String],
    kind: RecordKind,
    what: &'static str,
    area: Option<&AreaPath>,
) -> Result<Vec<ReadScope>, QueryError> {
    let scopes = scopes_for(grants, departments, kind);
    if scopes.is_empty() {
        return Err(QueryError::NoAccess { what });
    }
    if let Some(area) = area
        && !scopes.iter().any(|s| s.area.contains(area))
    {
        return Err(QueryError::OutOfScope { area: area.as_str().to_owned() });
    }
    Ok(scopes)
}

#[cfg(test)]
mod tests {
    use super::*;
    use gridwork_core::Role;

    fn grant(role: Role, area: &str) -> RoleGrant {
        RoleGrant { role, area: AreaPath::parse(area).unwrap() }
    }

    #[test]
    fn roles_and_areas() {
        let a = |p: &str| AreaPath::parse(p).unwrap();
        let liaison = [grant(Role::Liaison, "320612/004/017/03/02")];
        assert!(check(&liaison, &[], RecordKind::Sensitive, "sensitive", None).is_err());
        assert!(
            check(&liaison, &[], RecordKind::Household, "h", Some(&a("320612/004/017/03/02")))
                .is_ok()
        );
        assert_eq!(
            check(&liaison, &[], RecordKind::Household, "h", Some(&a("320612/004/017/03"))),
            Err(QueryError::OutOfScope { area: "320612/004/017/03".into() })
        );
        let handler = [grant(Role::DepartmentHandler, "320612")];
        assert!(check(&handler, &[], RecordKind::WorkOrder, "w", Some(&a("320612/004"))).is_ok());
        // A handler reads the work orders of their departments only (none without any).
        let mine = check(&handler, &["police".into()], RecordKind::WorkOrder, "w", None).unwrap();
        assert_eq!(mine[0].departments, Some(vec!["police".to_string()]));
        let none = check(&handler, &[], RecordKind::WorkOrder, "w", None).unwrap();
        assert_eq!(none[0].departments, Some(vec![]));
        assert!(matches!(
            check(&handler, &[], RecordKind::Household, "households", None),
            Err(QueryError::NoAccess { what: "households" })
        ));
        let admin = [grant(Role::SyncAdmin, "320612")];
        assert!(check(&admin, &[], RecordKind::Task, "tasks", None).is_err());
        let worker = [grant(Role::GridWorker, "320612/004/017/03")];
        assert_eq!(check(&worker, &[], RecordKind::Sensitive, "s", None).unwrap().len(), 1);
    }
}
