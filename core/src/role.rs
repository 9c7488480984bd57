//! Roles of the people who use Gridwork, and what each may see and do (DESIGN §3).

use serde::{Deserialize, Serialize};

use crate::error::CoreError;

/// A user's role. A user has one or more roles, each bound to an area path.
#[cfg_attr(feature = "uniffi", derive(uniffi::Enum))]
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Role {
    /// 微网格联络员: a volunteer for one micro-grid.
    Liaison,
    /// 专职网格员: the full-time worker of one comprehensive grid.
    GridWorker,
    /// 网格长: heads a grid, reviews and assigns.
    GridHead,
    /// 镇（街道）指挥中心: a town command-centre operator.
    TownOperator,
    /// 区指挥中心: the district command centre.
    DistrictCentre,
    /// 部门处置人员: handles work orders dispatched to a department.
    DepartmentHandler,
    /// 同步管理员: runs devices and users; sees no resident data by default.
    SyncAdmin,
}

impl Role {
    /// Every role.
    pub const ALL: [Role; 7] = [
        Role::Liaison,
        Role::GridWorker,
        Role::GridHead,
        Role::TownOperator,
        Role::DistrictCentre,
        Role::DepartmentHandler,
        Role::SyncAdmin,
    ];

    /// The stable lowercase name (`grid_worker`…).
    pub fn as_str(self) -> &'static str {
        match self {
            Role::Liaison => "liaison",
            Role::GridWorker => "grid_worker",
            Role::GridHead => "grid_head",
            Role::TownOperator => "town_operator",
            Role::DistrictCentre => "district_centre",
            Role::DepartmentHandler => "department_handler",
            Role::SyncAdmin => "sync_admin",
        }
    }

    /// The role with this name.
    ///
    /// # Errors
    /// [`CoreError::Invalid`] naming `role` when the name is unknown.
    pub fn parse(name: &str) -> Result<Self, CoreError> {
        Role::ALL
            .into_iter()
            .find(|r| r.as_str() == name)
            .ok_or_else(|| CoreError::invalid("role", format!("unknown role `{name}`")))
    }

    /// Whether this role may receive residents' sensitive documents (ID numbers, health,
    /// key-population category, relief status) within its area. Liaisons are volunteers and sync
    /// admins run machines: neither does.
    pub fn may_read_sensitive(self) -> bool {
        matches!(
            self,
            Role::GridWorker | Role::GridHead | Role::TownOperator | Role::DistrictCentre
        )
    }

    /// Whether this role sees resident data at all.
    pub fn may_read_records(self) -> bool {
        !matches!(self, Role::SyncAdmin)
    }
}

impl std::fmt::Display for Role {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}
