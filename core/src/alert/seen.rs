//! Which alerts the user marked seen: the device-local `alert_seen` table (schema 8).

use std::collections::HashSet;

use chrono::{DateTime, Utc};
use rusqlite::params;

use crate::error::Result;
use crate::store::Store;

/// The ids among `ids` marked seen.
pub(super) fn seen_among<'a>(
    store: &Store,
    ids: impl Iterator<Item = &'a str>,
) -> Result<HashSet<String>> {
    let mut stmt = store.conn().prepare_cached("SELECT 1 FROM alert_seen WHERE id = ?1")?;
    let mut seen = HashSet::new();
    for id in ids {
        if stmt.exists([id])? {
            seen.insert(id.to_owned());
        }
    }
    Ok(seen)
}

/// Marks `id` seen at `now` (again: nothing changes).
pub(super) fn mark(store: &Store, id: &str, now: DateTime<Utc>) -> Result<()> {
    store
        .conn()
        .prepare_cached("INSERT OR IGNORE INTO alert_seen(id, seen_at) VALUES (?1, ?2)")?
        .execute(params![id, now.timestamp_millis()])?;
    Ok(())
}
