//! Assessment (考核) and the "two rates" (两率), derived from what was recorded in the field —
//! never typed in again ("collect once, use many times"). Every figure is computed from the
//! projections for an area and a period, optionally for one worker.

use chrono::{DateTime, Utc};
use rusqlite::params;
use serde::{Deserialize, Serialize};

use crate::area::AreaPath;
use crate::error::{CoreError, Result};
use crate::household::area_clause;
use crate::store::Store;

const DAY_MS: i64 = 86_400_000;

/// A share `numerator / denominator`, kept as counts so reports can show both.
#[cfg_attr(feature = "uniffi", derive(uniffi::Record))]
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct Rate {
    /// What met the criterion.
    pub numerator: u32,
    /// What was counted.
    pub denominator: u32,
}

impl Rate {
    /// The share in 0..=1, `None` when nothing was counted.
    pub fn value(&self) -> Option<f64> {
        (self.denominator > 0).then(|| f64::from(self.numerator) / f64::from(self.denominator))
    }
}

/// The assessment figures of an area (and optionally one worker) over a period.
#[cfg_attr(feature = "uniffi", derive(uniffi::Record))]
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Assessment {
    /// Area assessed.
    pub area: AreaPath,
    /// Worker assessed (`None`: everyone in the area).
    pub worker: Option<String>,
    /// Period start (inclusive).
    pub from: DateTime<Utc>,
    /// Period end (exclusive).
    pub to: DateTime<Utc>,
    /// Visit coverage (走访覆盖率): households due in the period that were met in it.
    pub visit_coverage: Rate,
    /// Visits recorded.
    pub visits: u32,
    /// Patrols started.
    pub patrols: u32,
    /// Patrol hours.
    pub patrol_hours: f64,
    /// Patrol distance, km.
    pub patrol_km: f64,
    /// Incidents reported.
    pub incidents_reported: u32,
    /// On-time closure (按时办结率): work orders closed in the period within their deadline.
    pub on_time_closure: Rate,
    /// Satisfaction (满意率): visits rated 4 or 5 among visits where satisfaction was asked.
    pub satisfaction: Rate,
    /// Awareness (知晓率): visited residents who know their grid worker, among those asked.
    pub awareness: Rate,
}

fn rate(n: i64, d: i64) -> Rate {
    Rate { numerator: n.max(0) as u32, denominator: d.max(0) as u32 }
}

impl Store {
    /// The assessment of `area` over `[from, to)`, for `worker` or for everyone.
    ///
    /// # Errors
    /// [`CoreError::Invalid`] naming `to` when the period is empty or reversed; storage errors.
    pub fn assessment(
        &self,
        area: &AreaPath,
        worker: Option<&str>,
        from: DateTime<Utc>,
        to: DateTime<Utc>,
    ) -> Result<Assessment> {
        if to <= from {
            return Err(CoreError::invalid("to", "the period must end after it starts"));
        }
        let (f, t) = (from.timestamp_millis(), to.timestamp_millis());
        let scope = area_clause("area", 1);
        let c = self.conn();
        // A household is due in the period when its due date as of the period's start (from its
        // last met visit before the period, or its creation) falls before the period's end.
        let (due, covered): (i64, i64) = c
            .prepare_cached(&format!(
                "WITH h AS (
                   SELECT id, coalesce((SELECT max(visited_at) FROM visit v
                       WHERE v.household_id = household.id AND v.outcome = 'met'
                         AND v.deleted = 0 AND v.visited_at < ?2) + interval_days * {DAY_MS},
                     created_at) AS due_at
                   FROM household WHERE deleted = 0 AND {scope})
                 SELECT count(*), coalesce(sum(EXISTS (SELECT 1 FROM visit v
                     WHERE v.household_id = h.id AND v.outcome = 'met' AND v.deleted = 0
                       AND v.visited_at >= ?2 AND v.visited_at < ?3
                       AND (?4 IS NULL OR v.visitor = ?4))), 0)
                 FROM h WHERE due_at < ?3"
            ))?
            .query_row(params![area.as_str(), f, t, worker], |r| Ok((r.get(0)?, r.get(1)?)))?;
        let (visits, sat_hi, sat_n, aware, aware_n): (i64, i64, i64, i64, i64) = c
            .prepare_cached(&format!(
                "SELECT count(*), coalesce(sum(satisfaction >= 4), 0),
                        count(satisfaction), coalesce(sum(knows_worker = 1), 0), count(knows_worker)
                 FROM visit WHERE deleted = 0 AND visited_at >= ?2 AND visited_at < ?3
                   AND (?4 IS NULL OR visitor = ?4) AND {scope}"
            ))?
            .query_row(params![area.as_str(), f, t, worker], |r| {
                Ok((r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?, r.get(4)?))
            })?;
        let (patrols, seconds, metres): (i64, f64, f64) = c
            .prepare_cached(&format!(
                "SELECT count(*), coalesce(sum(duration_s), 0), coalesce(sum(distance_m), 0)
                 FROM patrol WHERE deleted = 0 AND started_at >= ?2 AND started_at < ?3
                   AND (?4 IS NULL OR worker = ?4) AND {scope}"
            ))?
            .query_row(params![area.as_str(), f, t, worker], |r| {
                Ok((r.get(0)?, r.get(1)?, r.get(2)?))
            })?;
        let (reported, closed, on_time): (i64, i64, i64) = c
            .prepare_cached(&format!(
                "SELECT coalesce(sum(reported_at >= ?2 AND reported_at < ?3
                                      AND (?4 IS NULL OR reporter = ?4)), 0),
                        coalesce(sum(closed_at >= ?2 AND closed_at < ?3), 0),
                        coalesce(sum(closed_at >= ?2 AND closed_at < ?3 AND closed_on_time = 1), 0)
                 FROM work_order WHERE deleted = 0 AND {scope}"
            ))?
            .query_row(params![area.as_str(), f, t, worker], |r| {
                Ok((r.get(0)?, r.get(1)?, r.get(2)?))
            })?;
        Ok(Assessment {
            area: area.clone(),
            worker: worker.map(String::from),
            from,
            to,
            visit_coverage: rate(covered, due),
            visits: visits as u32,
            patrols: patrols as u32,
            patrol_hours: seconds / 3600.0,
            patrol_km: metres / 1000.0,
            incidents_reported: reported as u32,
            on_time_closure: rate(on_time, closed),
            satisfaction: rate(sat_hi, sat_n),
            awareness: rate(aware, aware_n),
        })
    }
}
