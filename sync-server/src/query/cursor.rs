//! The page cursor: opaque to callers — base64url of a version byte (which also says the
//! order: oldest or newest first) and the last record id of the page (pages are ordered by
//! record id, so the next page is "ids after it", or before it newest first). Any other text is
//! refused, never guessed at.

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use uuid::Uuid;

use super::QueryError;

/// The version byte of a cursor over pages oldest first.
const OLDEST_FIRST: u8 = 1;
/// The version byte of a cursor over pages newest first.
const NEWEST_FIRST: u8 = 2;

/// Where the next page starts.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Cursor {
    /// The last record of the page before.
    pub last: Uuid,
    /// Whether the pages run newest first.
    pub newest_first: bool,
}

/// The cursor of the page after record `last`.
pub fn encode(last: Uuid, newest_first: bool) -> String {
    let mut bytes = vec![if newest_first { NEWEST_FIRST } else { OLDEST_FIRST }];
    bytes.extend_from_slice(last.as_bytes());
    URL_SAFE_NO_PAD.encode(bytes)
}

/// The cursor a text names.
///
/// # Errors
/// [`QueryError::Cursor`] for text this server did not give.
pub fn decode(cursor: &str) -> Result<Cursor, QueryError> {
    let bytes = URL_SAFE_NO_PAD.decode(cursor).map_err(|_| QueryError::Cursor)?;
    let (newest_first, id) = match bytes.split_first() {
        Some((&OLDEST_FIRST, id)) => (false, id),
        Some((&NEWEST_FIRST, id)) => (true, id),
        _ => return Err(QueryError::Cursor),
    };
    let last = Uuid::from_slice(id).map_err(|_| QueryError::Cursor)?;
    Ok(Cursor { last, newest_first })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn round_trip_and_refusals() {
        let id = Uuid::now_v7();
        for newest_first in [false, true] {
            assert_eq!(
                decode(&encode(id, newest_first)).unwrap(),
                Cursor { last: id, newest_first }
            );
        }
        for bad in ["", "x", "%%", "' OR 1=1 --", &encode(id, false)[1..], "AQ"] {
            assert_eq!(decode(bad), Err(QueryError::Cursor), "{bad}");
        }
    }
}
