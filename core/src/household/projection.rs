//! The `household` projection row and its search tokens, derived from the document and from the
//! visits and sensitive records of the household present on this device.

use rusqlite::{Connection, OptionalExtension, params};
use uuid::Uuid;

use super::{HouseholdInput, HouseholdSpec};
use crate::error::Result;
use crate::spec::Decoded;
use crate::store::{Projector, WriteTxn};

const DAY_MS: i64 = 86_400_000;

/// The households' full-text index (`search/mod.rs`), keyed by `household.rowid`.
const SEARCH_INDEX: &str = "household_fts";

impl Projector for HouseholdSpec {
    fn forget(tx: &WriteTxn<'_>, id: Uuid) -> Result<()> {
        let rowid: Option<i64> = tx
            .prepare_cached("SELECT rowid FROM household WHERE id = ?1")?
            .query_row([id.as_bytes()], |r| r.get(0))
            .optional()?;
        if let Some(rowid) = rowid {
            tx.index_text(SEARCH_INDEX, rowid, None);
        }
        tx.prepare_cached("DELETE FROM household WHERE id = ?1")?.execute([id.as_bytes()])?;
        Ok(())
    }

    fn project(tx: &WriteTxn<'_>, h: &Decoded<HouseholdInput>) -> Result<()> {
        let (head, r) = (&h.header, &h.record);
        let tags: Vec<&str> = r.tags.iter().map(|t| t.as_str()).collect();
        tx.prepare_cached(
            "INSERT INTO household(id, area, address, building, unit, room, head_name,
                    member_count, phone, tags, interval_days, created_at, next_due_at, deleted)
                 VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, 365, ?11, ?11, ?12)
                 ON CONFLICT(id) DO UPDATE SET area = excluded.area, address = excluded.address,
                    building = excluded.building, unit = excluded.unit, room = excluded.room,
                    head_name = excluded.head_name, member_count = excluded.member_count,
                    phone = excluded.phone, tags = excluded.tags, created_at = excluded.created_at,
                    deleted = excluded.deleted",
        )?
        .execute(params![
            head.id.as_bytes(),
            head.area.as_str(),
            r.address,
            r.building,
            r.unit,
            r.room,
            r.head_name,
            r.member_count,
            r.phone,
            tags.join(","),
            head.created_at,
            head.deleted
        ])?;
        refresh_visit_dates(tx, head.id)?;
        reindex(tx, head.id)
    }
}

/// Rewrites a household's search tokens from its head, address and phone and the names and
/// phones of its live residents, so a search for any member finds the household. Called when the
/// household or one of its residents changes; the index row is written when the transaction
/// commits.
pub(crate) fn reindex(conn: &WriteTxn<'_>, id: Uuid) -> Result<()> {
    let row: Option<(i64, String, String, Option<String>, bool, String)> = conn
        .prepare_cached(
            "SELECT rowid, head_name, address, phone, deleted, area FROM household WHERE id = ?1",
        )?
        .query_row([id], |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?, r.get(4)?, r.get(5)?)))
        .optional()?;
    let Some((rowid, head, address, phone, deleted, area)) = row else { return Ok(()) };
    if deleted {
        conn.index_text(SEARCH_INDEX, rowid, None);
        return Ok(());
    }
    let members: Vec<(String, Option<String>)> = conn
        .prepare_cached(
            "SELECT name, phone FROM resident WHERE household_id = ?1 AND deleted = 0 ORDER BY id",
        )?
        .query_map([id], |r| Ok((r.get(0)?, r.get(1)?)))?
        .collect::<rusqlite::Result<_>>()?;
    let mut names: Vec<&str> = vec![&head];
    let mut others: Vec<&str> = vec![&address];
    others.extend(phone.as_deref());
    for (name, phone) in &members {
        names.push(name);
        others.extend(phone.as_deref());
    }
    // One token per enclosing area below the district, so searches within a town, community or
    // grid are answered by the index.
    let mut areas = Vec::new();
    let mut at = Some(area.as_str());
    while let Some(a) = at {
        if a.contains('/') {
            areas.push(crate::search::area_token(a));
        }
        at = a.rfind('/').map(|i| &a[..i]);
    }
    let tokens = crate::search::index_tokens_with(&names, &others, &areas);
    conn.index_text(SEARCH_INDEX, rowid, Some(tokens));
    Ok(())
}

/// Recomputes a household's interval, last visit and next due date from its tags, the
/// key-population category of its residents' sensitive records on this device, and its visits.
/// Called when any of those change, in the same transaction. One statement: the interval is the
/// smallest `tag_interval` of its tags (matched inside the comma-separated list) and categories,
/// at most 365 days; a household never visited is due at once (every household gets a first
/// visit).
pub(crate) fn refresh_visit_dates(tx: &Connection, id: Uuid) -> Result<()> {
    tx.prepare_cached(
        "WITH x(days, last) AS MATERIALIZED (SELECT
            min(365, coalesce((SELECT min(t.days) FROM tag_interval t, household h
                WHERE h.id = ?1 AND (instr(',' || h.tags || ',', ',' || t.tag || ',') > 0
                   OR t.tag IN (SELECT key_population FROM sensitive
                                WHERE household_id = ?1 AND deleted = 0
                                  AND key_population IS NOT NULL))), 365)),
            (SELECT max(visited_at) FROM visit
                WHERE household_id = ?1 AND outcome = 'met' AND deleted = 0))
         UPDATE household SET interval_days = (SELECT days FROM x),
            last_visit_at = (SELECT last FROM x),
            next_due_at = coalesce((SELECT last + days * ?2 FROM x), created_at)
         WHERE id = ?1",
    )?
    .execute(params![id.as_bytes(), DAY_MS])?;
    Ok(())
}
