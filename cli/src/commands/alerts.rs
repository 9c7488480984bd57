//! `alerts`: the signed-in user's alerts (supervised, returned and overdue work orders, steps
//! others took on their reports, tasks due), and `--ack` to mark some seen on this device.

use chrono::Utc;
use gridwork_core::Store;
use serde_json::Value;

use super::to_json;
use crate::error::CliError;
use crate::names::local;
use crate::output::Reply;
use crate::table::Table;

/// Marks the alerts `ack` seen (all or none), then lists the alerts — seen ones too with `all`.
///
/// # Errors
/// [`gridwork_core::CoreError::NotFound`] naming an alert the user does not have;
/// [`gridwork_core::CoreError::NotSignedIn`]; storage errors.
pub fn run(store: &mut Store, ack: &[String], all: bool) -> Result<Reply, CliError> {
    let now = Utc::now();
    if !ack.is_empty() {
        store.batch(|s| ack.iter().try_for_each(|id| s.alerts().ack(id, now)))?;
    }
    let alerts = store.alerts().list(now, all)?;
    let mut table = Table::new(&["TIME", "ALERT", "KIND", "SEEN", "ID"]);
    for a in &alerts {
        table.row(vec![
            local(a.at),
            a.text.clone(),
            a.kind.as_str().to_owned(),
            if a.seen { "seen".into() } else { String::new() },
            a.id.clone(),
        ]);
    }
    let json = Value::Array(alerts.iter().map(to_json).collect());
    Ok(Reply::text(json, table.render_or("No alerts.")))
}
