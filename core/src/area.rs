//! Areas: district › town › village/community › grid › micro-grid. A record's area is the code
//! path of the smallest unit it belongs to, e.g. `320612/004/017/03/02`; scope checks are prefix
//! checks on whole path segments.

use serde::{Deserialize, Serialize};

use crate::error::CoreError;

/// The level of an area in the hierarchy; the number of segments in its code path.
#[cfg_attr(feature = "uniffi", derive(uniffi::Enum))]
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum AreaLevel {
    /// 区: district (6-digit administrative code).
    District = 1,
    /// 镇/街道: town or street (3 digits).
    Town = 2,
    /// 村/社区: village or community (3 digits).
    Community = 3,
    /// 综合网格: comprehensive grid.
    Grid = 4,
    /// 微网格: micro-grid.
    MicroGrid = 5,
}

impl AreaLevel {
    /// The stable lowercase name.
    pub fn as_str(self) -> &'static str {
        match self {
            AreaLevel::District => "district",
            AreaLevel::Town => "town",
            AreaLevel::Community => "community",
            AreaLevel::Grid => "grid",
            AreaLevel::MicroGrid => "micro_grid",
        }
    }
}

/// A validated area code path such as `320612/004/017/03/02`.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct AreaPath(String);

impl AreaPath {
    /// Parses and validates a code path: 1–5 `/`-separated segments of ASCII digits, the first of
    /// six digits (the district's administrative code), the others of 1–3 digits.
    ///
    /// # Errors
    /// [`CoreError::Invalid`] naming `area` and what is malformed.
    pub fn parse(path: &str) -> Result<Self, CoreError> {
        let segs: Vec<&str> = path.split('/').collect();
        if path.is_empty() || segs.len() > 5 {
            return Err(CoreError::invalid(
                "area",
                format!("`{path}` is not a code path of 1 to 5 segments"),
            ));
        }
        for (i, s) in segs.iter().enumerate() {
            let ok_len = if i == 0 { s.len() == 6 } else { (1..=3).contains(&s.len()) };
            if !ok_len || !s.bytes().all(|b| b.is_ascii_digit()) {
                return Err(CoreError::invalid(
                    "area",
                    format!(
                        "segment {} (`{s}`) of `{path}` must be {} digits",
                        i + 1,
                        if i == 0 { "6" } else { "1 to 3" }
                    ),
                ));
            }
        }
        Ok(AreaPath(path.to_owned()))
    }

    /// The path as text.
    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// The level of this area (number of segments).
    pub fn level(&self) -> AreaLevel {
        match self.0.split('/').count() {
            1 => AreaLevel::District,
            2 => AreaLevel::Town,
            3 => AreaLevel::Community,
            4 => AreaLevel::Grid,
            _ => AreaLevel::MicroGrid,
        }
    }

    /// The enclosing area, or `None` for a district.
    pub fn parent(&self) -> Option<AreaPath> {
        self.0.rfind('/').map(|i| AreaPath(self.0[..i].to_owned()))
    }

    /// Whether `other` is this area or lies inside it (whole-segment prefix).
    pub fn contains(&self, other: &AreaPath) -> bool {
        path_contains(&self.0, &other.0)
    }
}

/// Whether area path `inner` equals `outer` or lies inside it, comparing whole segments
/// (`320612/004` contains `320612/004/017` but not `320612/0041`).
pub fn path_contains(outer: &str, inner: &str) -> bool {
    inner == outer
        || (inner.len() > outer.len()
            && inner.starts_with(outer)
            && inner.as_bytes()[outer.len()] == b'/')
}

impl TryFrom<String> for AreaPath {
    type Error = CoreError;
    fn try_from(s: String) -> Result<Self, CoreError> {
        AreaPath::parse(&s)
    }
}

impl From<AreaPath> for String {
    fn from(a: AreaPath) -> String {
        a.0
    }
}

impl std::fmt::Display for AreaPath {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0)
    }
}

/// One area of the hierarchy as reference data: its code path and its name.
#[cfg_attr(feature = "uniffi", derive(uniffi::Record))]
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Area {
    /// The code path, e.g. `320612/004/017/03`.
    pub path: AreaPath,
    /// The name, e.g. `金沙街道`.
    pub name: String,
}

#[cfg(feature = "store")]
impl rusqlite::types::ToSql for AreaPath {
    fn to_sql(&self) -> rusqlite::Result<rusqlite::types::ToSqlOutput<'_>> {
        self.0.to_sql()
    }
}

#[cfg(feature = "store")]
impl rusqlite::types::FromSql for AreaPath {
    fn column_result(value: rusqlite::types::ValueRef<'_>) -> rusqlite::types::FromSqlResult<Self> {
        let s = value.as_str()?;
        AreaPath::parse(s).map_err(|e| rusqlite::types::FromSqlError::Other(Box::new(e)))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_and_nests() {
        let d = AreaPath::parse("320612").unwrap();
        let g = AreaPath::parse("320612/004/017/03").unwrap();
        let m = AreaPath::parse("320612/004/017/03/02").unwrap();
        assert_eq!(m.level(), AreaLevel::MicroGrid);
        assert_eq!(g.level(), AreaLevel::Grid);
        assert!(d.contains(&m) && g.contains(&m) && m.contains(&m));
        assert!(!m.contains(&g));
        assert_eq!(m.parent(), Some(g));
        assert!(!path_contains("320612/004", "320612/0041"));
    }

    #[test]
    fn rejects_malformed() {
        for bad in ["", "32061", "320612/", "320612/abcd", "320612/1/2/3/4/5", "320612//1"] {
            let e = AreaPath::parse(bad).unwrap_err();
            assert_eq!(e.code(), "invalid_input", "{bad}");
        }
    }
}
