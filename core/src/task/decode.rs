//! The task document's one decoder ([`TaskSpec`]) and the record it decodes to.

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use uuid::Uuid;

use super::field;
use crate::area::AreaPath;
use crate::doc::{self, Fields};
use crate::kind::RecordKind;
use crate::spec::{DecodeError, Header, RecordSpec, required};
use crate::time::{ms_to_time, opt_ms_to_time};

/// A task as its detail page shows it.
#[cfg_attr(feature = "uniffi", derive(uniffi::Record))]
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Task {
    /// Record id.
    pub id: Uuid,
    /// Target area.
    pub area: AreaPath,
    /// Title.
    pub title: String,
    /// Instructions.
    pub instructions: String,
    /// Target households, sorted (empty: every household of the area).
    pub households: Vec<Uuid>,
    /// Deadline.
    pub due_at: Option<DateTime<Utc>>,
    /// User id of the issuer.
    pub issued_by: String,
    /// When it was issued (issuer's device clock).
    pub issued_at: DateTime<Utc>,
    /// User id of the assignee, if one was named.
    pub assignee: Option<String>,
    /// When it was completed.
    pub completed_at: Option<DateTime<Utc>>,
    /// Who completed it.
    pub completed_by: Option<String>,
    /// The result note given on completion.
    pub result: String,
    /// Whether the task was deleted.
    pub deleted: bool,
    /// The parts sub-areas completed, by area (a town-wide task completed grid by grid).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub progress: Vec<super::AreaProgress>,
}

/// The task kind's spec.
#[derive(Debug, Clone, Copy)]
pub struct TaskSpec;

impl RecordSpec for TaskSpec {
    const KIND: RecordKind = RecordKind::Task;
    const REACHES_SUB_AREAS: bool = true;
    type Record = Task;

    fn decode(header: &Header, d: &Fields<'_>) -> Result<Task, DecodeError> {
        let mut households: Vec<Uuid> = doc::set_members(d.doc(), field::HOUSEHOLDS)
            .iter()
            .filter_map(|h| Uuid::parse_str(h).ok())
            .collect();
        households.sort();
        households.dedup();
        Ok(Task {
            id: header.id,
            area: header.area.clone(),
            title: required(d.str(field::TITLE), field::TITLE)?,
            instructions: d.str(field::INSTRUCTIONS).unwrap_or_default(),
            households,
            due_at: opt_ms_to_time(d.i64(field::DUE_AT)),
            issued_by: d.str(field::ISSUED_BY).unwrap_or_default(),
            issued_at: ms_to_time(header.created_at),
            assignee: d.str(field::ASSIGNEE),
            completed_at: opt_ms_to_time(d.i64(field::COMPLETED_AT)),
            completed_by: d.str(field::COMPLETED_BY),
            result: d.str(field::RESULT).unwrap_or_default(),
            deleted: header.deleted,
            progress: area_progress(d),
        })
    }
}

/// The sub-areas' completions recorded in a task document, by area.
fn area_progress(d: &Fields<'_>) -> Vec<super::AreaProgress> {
    use std::collections::BTreeMap;

    use super::progress;
    let mut areas: BTreeMap<AreaPath, ()> = BTreeMap::new();
    for key in d.keys() {
        if let Some((area, _)) = progress::parse(key) {
            areas.insert(area, ());
        }
    }
    areas
        .into_keys()
        .filter_map(|area| {
            let at = d.i64(&progress::key(&area, progress::COMPLETED_AT))?;
            Some(super::AreaProgress {
                completed_at: ms_to_time(at),
                completed_by: d
                    .str(&progress::key(&area, progress::COMPLETED_BY))
                    .unwrap_or_default(),
                result: d.str(&progress::key(&area, progress::RESULT)).unwrap_or_default(),
                area,
            })
        })
        .collect()
}
