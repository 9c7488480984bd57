//! The page cursor: opaque to callers — base64url of a version byte and the last record id of
//! the page (pages are ordered by record id, so the next page is "ids after it"). Any other
//! text is refused, never guessed at.

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use uuid::Uuid;

use super::QueryError;

const VERSION: u8 = 1;

/// The cursor of the page after record `last`.
pub fn encode(last: Uuid) -> String {
    let mut bytes = vec![VERSION];
    bytes.extend_from_slice(last.as_bytes());
    URL_SAFE_NO_PAD.encode(bytes)
}

/// The record id a cursor names.
///
/// # Errors
/// [`QueryError::Cursor`] for text this server did not give.
pub fn decode(cursor: &str) -> Result<Uuid, QueryError> {
    let bytes = URL_SAFE_NO_PAD.decode(cursor).map_err(|_| QueryError::Cursor)?;
    match bytes.split_first() {
        Some((&VERSION, id)) => Uuid::from_slice(id).map_err(|_| QueryError::Cursor),
        _ => Err(QueryError::Cursor),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn round_trip_and_refusals() {
        let id = Uuid::now_v7();
        assert_eq!(decode(&encode(id)).unwrap(), id);
        for bad in ["", "x", "%%", "' OR 1=1 --", &encode(id)[1..], "AQ"] {
            assert_eq!(decode(bad), Err(QueryError::Cursor), "{bad}");
        }
    }
}
