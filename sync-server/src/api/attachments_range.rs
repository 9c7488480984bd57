//! `Range: bytes=…` requests on attachment downloads (RFC 9110 §14): one range per request;
//! several ranges or another unit are ignored (the whole blob is sent).

/// What a `Range` header asks of a blob of `size` bytes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RangeRequest {
    /// The whole blob (no header, or one this server ignores).
    Full,
    /// Bytes `start..end` (end exclusive).
    Part {
        /// First byte.
        start: u64,
        /// One past the last byte.
        end: u64,
    },
    /// A range that lies outside the blob (answer 416).
    Unsatisfiable,
}

/// Interprets a `Range` header value for a blob of `size` bytes.
pub fn parse_range(header: Option<&str>, size: u64) -> RangeRequest {
    let Some(spec) = header.and_then(|h| h.trim().strip_prefix("bytes=")) else {
        return RangeRequest::Full;
    };
    if spec.contains(',') {
        return RangeRequest::Full;
    }
    let Some((a, b)) = spec.trim().split_once('-') else { return RangeRequest::Full };
    let (a, b) = (a.trim(), b.trim());
    let (start, end) = if a.is_empty() {
        // Suffix: the last `b` bytes.
        let Ok(n) = b.parse::<u64>() else { return RangeRequest::Full };
        if n == 0 {
            return RangeRequest::Unsatisfiable;
        }
        (size.saturating_sub(n), size)
    } else {
        let Ok(start) = a.parse::<u64>() else { return RangeRequest::Full };
        let end = if b.is_empty() {
            size
        } else {
            let Ok(last) = b.parse::<u64>() else { return RangeRequest::Full };
            if last < start {
                return RangeRequest::Full;
            }
            last.saturating_add(1).min(size)
        };
        (start, end)
    };
    if start >= size {
        return RangeRequest::Unsatisfiable;
    }
    RangeRequest::Part { start, end }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ranges() {
        use RangeRequest::*;
        assert_eq!(parse_range(None, 10), Full);
        assert_eq!(parse_range(Some("bytes=2-4"), 10), Part { start: 2, end: 5 });
        assert_eq!(parse_range(Some("bytes=7-"), 10), Part { start: 7, end: 10 });
        assert_eq!(parse_range(Some("bytes=-3"), 10), Part { start: 7, end: 10 });
        assert_eq!(parse_range(Some("bytes=5-100"), 10), Part { start: 5, end: 10 });
        assert_eq!(parse_range(Some("bytes=10-"), 10), Unsatisfiable);
        assert_eq!(parse_range(Some("bytes=0-1,3-4"), 10), Full);
        assert_eq!(parse_range(Some("items=0-1"), 10), Full);
    }
}
