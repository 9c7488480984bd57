//! The hotline's values → Gridwork's, as configurable reference data: categories → incident
//! category codes, urgencies → severities, handling units → departments of the registry.
//!
//! A platform's own entries ([`Mapping`], set by a sync admin) come first; then the defaults:
//! a Gridwork category's code or Chinese name maps to itself, the usual urgency words map to the
//! three severities, and a department's code or Chinese name maps to it. A value that maps to
//! nothing is **held** ([`Unmapped`]): the order waits, listed for a person to map, and is made
//! once the mapping is set — never dropped.

use std::collections::BTreeMap;

use gridwork_core::work_order::{CategoryList, Severity};
use serde::{Deserialize, Serialize};

use super::HotlineError;
use crate::store::departments::Department;

/// A platform's own mapping entries (over the defaults).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct Mapping {
    /// Hotline category → Gridwork category code.
    pub categories: BTreeMap<String, String>,
    /// Hotline urgency → severity.
    pub urgency: BTreeMap<String, Severity>,
    /// Hotline handling unit → department code.
    pub units: BTreeMap<String, String>,
}

impl Mapping {
    /// Checks that every category entry names a Gridwork category.
    ///
    /// # Errors
    /// [`HotlineError::Invalid`] naming `mapping.categories`.
    pub fn validate(&self) -> Result<(), HotlineError> {
        let known = CategoryList::default();
        for (from, to) in &self.categories {
            if known.lookup(to).is_err() {
                return Err(HotlineError::invalid(
                    "mapping.categories",
                    format!("`{from}` maps to the unknown category `{to}`"),
                ));
            }
        }
        Ok(())
    }
}

/// The default urgency words.
const URGENCY: [(&str, Severity); 10] = [
    ("特急", Severity::Urgent),
    ("紧急", Severity::Urgent),
    ("urgent", Severity::Urgent),
    ("加急", Severity::Important),
    ("较急", Severity::Important),
    ("重要", Severity::Important),
    ("important", Severity::Important),
    ("一般", Severity::Ordinary),
    ("普通", Severity::Ordinary),
    ("ordinary", Severity::Ordinary),
];

/// A value no mapping knows.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Unmapped {
    /// `category`, `urgency` or `handling_unit`.
    pub field: String,
    /// The hotline's value.
    pub value: String,
}

/// What an order's values map to.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Mapped {
    /// The incident category code.
    pub category: String,
    /// The severity.
    pub severity: Severity,
    /// The department the hotline suggests, if it named a handling unit.
    pub department: Option<String>,
}

fn category(m: &Mapping, value: &str) -> Option<String> {
    if let Some(code) = m.categories.get(value) {
        return Some(code.clone());
    }
    CategoryList::default()
        .as_slice()
        .iter()
        .find(|c| c.code == value || c.name_zh == value)
        .map(|c| c.code.clone())
}

fn urgency(m: &Mapping, value: &str) -> Option<Severity> {
    m.urgency
        .get(value)
        .copied()
        .or_else(|| URGENCY.iter().find(|(w, _)| *w == value).map(|(_, s)| *s))
}

fn unit(m: &Mapping, departments: &[Department], value: &str) -> Option<String> {
    let code = m.units.get(value).map(String::as_str).unwrap_or(value);
    departments
        .iter()
        .find(|d| d.active && (d.code == code || d.name_zh == code))
        .map(|d| d.code.clone())
}

/// Maps an order's category, urgency and handling unit.
///
/// # Errors
/// Every value that maps to nothing.
pub fn map(
    m: &Mapping,
    departments: &[Department],
    category_value: &str,
    urgency_value: &str,
    unit_value: Option<&str>,
) -> Result<Mapped, Vec<Unmapped>> {
    let mut unmapped = Vec::new();
    let mut miss = |field: &str, value: &str| {
        unmapped.push(Unmapped { field: field.into(), value: value.into() });
    };
    let c = category(m, category_value.trim());
    if c.is_none() {
        miss("category", category_value);
    }
    let s = urgency(m, urgency_value.trim());
    if s.is_none() {
        miss("urgency", urgency_value);
    }
    let d = match unit_value.map(str::trim).filter(|u| !u.is_empty()) {
        Some(u) => {
            let found = unit(m, departments, u);
            if found.is_none() {
                miss("handling_unit", u);
            }
            found
        }
        None => None,
    };
    match (c, s) {
        (Some(category), Some(severity)) if unmapped.is_empty() => {
            Ok(Mapped { category, severity, department: d })
        }
        _ => Err(unmapped),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sanitation() -> Department {
        Department {
            code: "sanitation".into(),
            name_zh: "环卫所".into(),
            name_en: "Sanitation".into(),
            categories: vec![],
            area: None,
            active: true,
        }
    }

    #[test]
    fn defaults_and_platform_entries() {
        let mut m = Mapping::default();
        let got = map(&m, &[sanitation()], "环境卫生", "紧急", Some("环卫所"));
        assert_eq!(
            got,
            Ok(Mapped {
                category: "sanitation".into(),
                severity: Severity::Urgent,
                department: Some("sanitation".into())
            })
        );
        let held = map(&m, &[], "噪音扰民", "十万火急", Some("环卫所"));
        let fields: Vec<&str> =
            held.as_ref().unwrap_err().iter().map(|u| u.field.as_str()).collect();
        assert_eq!(fields, ["category", "urgency", "handling_unit"]);
        m.categories.insert("噪音扰民".into(), "public_order".into());
        m.urgency.insert("十万火急".into(), Severity::Urgent);
        m.units.insert("区环卫处".into(), "sanitation".into());
        let got = map(&m, &[sanitation()], "噪音扰民", "十万火急", Some("区环卫处"));
        assert_eq!(
            got.map(|g| (g.category, g.department)),
            Ok(("public_order".into(), Some("sanitation".into())))
        );
    }

    #[test]
    fn a_mapping_to_an_unknown_category_is_refused() {
        let mut m = Mapping::default();
        m.categories.insert("x".into(), "aliens".into());
        assert_eq!(m.validate().map_err(|e| e.code()), Err("invalid_input"));
    }
}
