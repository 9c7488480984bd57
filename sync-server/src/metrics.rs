//! Prometheus metrics in the text exposition format, hand-rolled on atomics: pushes, pulls,
//! changes ingested, bytes, request latencies and errors.

use std::collections::BTreeMap;
use std::fmt::Write;
use std::sync::Mutex;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

/// Latency histogram bucket bounds, in seconds.
const BUCKETS: [f64; 12] =
    [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 10.0];

/// A latency histogram.
#[derive(Debug, Default)]
pub struct Histogram {
    buckets: [AtomicU64; 12],
    count: AtomicU64,
    sum_micros: AtomicU64,
}

impl Histogram {
    /// Records one observation.
    pub fn observe(&self, d: Duration) {
        let s = d.as_secs_f64();
        for (i, b) in BUCKETS.iter().enumerate() {
            if s <= *b {
                self.buckets[i].fetch_add(1, Ordering::Relaxed);
            }
        }
        self.count.fetch_add(1, Ordering::Relaxed);
        self.sum_micros
            .fetch_add(u64::try_from(d.as_micros()).unwrap_or(u64::MAX), Ordering::Relaxed);
    }

    fn render(&self, out: &mut String, name: &str, labels: &str) {
        let sep = if labels.is_empty() { "" } else { "," };
        for (i, b) in BUCKETS.iter().enumerate() {
            let _ = writeln!(
                out,
                "{name}_bucket{{{labels}{sep}le=\"{b}\"}} {}",
                self.buckets[i].load(Ordering::Relaxed)
            );
        }
        let n = self.count.load(Ordering::Relaxed);
        let _ = writeln!(out, "{name}_bucket{{{labels}{sep}le=\"+Inf\"}} {n}");
        let sum = self.sum_micros.load(Ordering::Relaxed) as f64 / 1e6;
        let braced = if labels.is_empty() { String::new() } else { format!("{{{labels}}}") };
        let _ = writeln!(out, "{name}_sum{braced} {sum}");
        let _ = writeln!(out, "{name}_count{braced} {n}");
    }
}

/// The server's metrics.
#[derive(Debug, Default)]
pub struct Metrics {
    /// Sync requests that pushed at least one change.
    pub pushes: AtomicU64,
    /// Sync requests served (each pulls one page).
    pub pulls: AtomicU64,
    /// Changes newly stored.
    pub changes_ingested: AtomicU64,
    /// Pushed changes already held (idempotent repeats).
    pub changes_duplicate: AtomicU64,
    /// Changes sent to devices.
    pub changes_served: AtomicU64,
    /// Request body bytes received on the sync endpoints.
    pub bytes_in: AtomicU64,
    /// Response body bytes sent on the sync endpoints.
    pub bytes_out: AtomicU64,
    /// Devices enrolled.
    pub enrolments: AtomicU64,
    /// Sync request latency.
    pub sync_latency: Histogram,
    /// The log position the read model has folded up to.
    pub read_model_cursor: AtomicU64,
    /// Changes logged but not yet in the read model.
    pub read_model_lag: AtomicU64,
    /// Mismatches the latest 12345 reconciliation of each platform found (from the database).
    pub hotline_mismatches: AtomicU64,
    errors: Mutex<BTreeMap<(u16, &'static str), u64>>,
}

impl Metrics {
    /// Counts an error answer.
    pub fn error(&self, status: u16, code: &'static str) {
        if let Ok(mut m) = self.errors.lock() {
            *m.entry((status, code)).or_default() += 1;
        }
    }

    /// Adds to a counter.
    pub fn add(counter: &AtomicU64, n: u64) {
        counter.fetch_add(n, Ordering::Relaxed);
    }

    /// The text exposition.
    pub fn render(&self) -> String {
        let mut out = String::new();
        let counters: [(&str, &str, &AtomicU64); 8] = [
            ("gridwork_sync_pushes_total", "Sync requests that pushed changes", &self.pushes),
            ("gridwork_sync_pulls_total", "Sync requests served", &self.pulls),
            ("gridwork_changes_ingested_total", "Changes newly stored", &self.changes_ingested),
            (
                "gridwork_changes_duplicate_total",
                "Pushed changes already held",
                &self.changes_duplicate,
            ),
            ("gridwork_changes_served_total", "Changes sent to devices", &self.changes_served),
            ("gridwork_sync_bytes_in_total", "Sync request body bytes", &self.bytes_in),
            ("gridwork_sync_bytes_out_total", "Sync response body bytes", &self.bytes_out),
            ("gridwork_enrolments_total", "Devices enrolled", &self.enrolments),
        ];
        for (name, help, c) in counters {
            let _ = writeln!(out, "# HELP {name} {help}\n# TYPE {name} counter");
            let _ = writeln!(out, "{name} {}", c.load(Ordering::Relaxed));
        }
        let gauges: [(&str, &str, &AtomicU64); 3] = [
            (
                "gridwork_read_model_cursor",
                "Log position the read model has folded up to",
                &self.read_model_cursor,
            ),
            (
                "gridwork_read_model_lag_changes",
                "Changes logged but not yet in the read model",
                &self.read_model_lag,
            ),
            (
                "gridwork_hotline_reconciliation_mismatches",
                "Mismatches the latest 12345 reconciliation of each platform found",
                &self.hotline_mismatches,
            ),
        ];
        for (name, help, g) in gauges {
            let _ = writeln!(out, "# HELP {name} {help}\n# TYPE {name} gauge");
            let _ = writeln!(out, "{name} {}", g.load(Ordering::Relaxed));
        }
        let name = "gridwork_sync_request_duration_seconds";
        let _ = writeln!(out, "# HELP {name} Sync request latency\n# TYPE {name} histogram");
        self.sync_latency.render(&mut out, name, "");
        let name = "gridwork_errors_total";
        let _ =
            writeln!(out, "# HELP {name} Error answers by status and code\n# TYPE {name} counter");
        if let Ok(m) = self.errors.lock() {
            for ((status, code), n) in m.iter() {
                let _ = writeln!(out, "{name}{{status=\"{status}\",code=\"{code}\"}} {n}");
            }
        }
        out
    }
}
