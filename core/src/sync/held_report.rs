//! Reporting set-aside changes to the server (`POST /v1/held`, `docs/sync-protocol.md`, "Held
//! changes"): after a sync, the held changes that can never be applied and were not yet
//! reported are sent, at most [`MAX_PER_REQUEST`] a request, and marked reported once the
//! server answered. A sync admin sees them and may withhold a bad change from every device.

use serde_json::{Value, json};

use crate::store::Store;

use super::error::SyncResult;

/// Most changes one report names (the server's limit).
pub const MAX_PER_REQUEST: usize = 1000;
/// Most characters of a reported detail (the server's limit).
pub const MAX_DETAIL_CHARS: usize = 1000;

/// The next report to send: the hashes it names and its JSON body, or `None` when every
/// permanent held change was reported.
///
/// # Errors
/// Store errors.
pub fn request(store: &Store) -> SyncResult<Option<(Vec<String>, Vec<u8>)>> {
    let held = store.unreported_held(MAX_PER_REQUEST)?;
    if held.is_empty() {
        return Ok(None);
    }
    let hashes = held.iter().map(|h| h.hash.clone()).collect();
    let changes: Vec<Value> = held
        .iter()
        .map(|h| {
            json!({
                "hash": h.hash,
                "doc_id": h.doc_id,
                "reason": h.reason,
                "detail": clean_detail(&h.detail),
            })
        })
        .collect();
    let body = json!({ "changes": changes }).to_string().into_bytes();
    Ok(Some((hashes, body)))
}

/// A detail as the server accepts it: control characters other than line breaks and tabs
/// replaced by spaces, cut to [`MAX_DETAIL_CHARS`].
pub fn clean_detail(detail: &str) -> String {
    detail
        .chars()
        .map(|c| if c.is_control() && c != '\n' && c != '\t' { ' ' } else { c })
        .take(MAX_DETAIL_CHARS)
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn details_fit_the_server() {
        assert_eq!(clean_detail("a\0b\nc\u{1b}"), "a b\nc ");
        assert_eq!(clean_detail(&"长".repeat(2000)).chars().count(), MAX_DETAIL_CHARS);
    }
}
