//! Pure input validation shared by every public write function.
//!
//! Each check returns [`CoreError::Invalid`] naming the field and saying (in English) what is wrong,
//! so apps can highlight the field and translate the error code. Checks that have a canonical form
//! (ID-card numbers, phone numbers) return the normalised value, which is what must be stored: the
//! same person typed twice must produce the same bytes.

use chrono::{Datelike, NaiveDate, Utc};

use crate::error::{CoreError, Result};

/// Longest personal or place name accepted, in characters (not bytes).
pub const NAME_MAX: usize = 64;
/// Longest address accepted, in characters.
pub const ADDRESS_MAX: usize = 200;
/// Longest short title (task, incident summary) accepted, in characters.
pub const TITLE_MAX: usize = 120;
/// Longest free-text note accepted, in characters; anything longer is "oversized text".
pub const NOTE_MAX: usize = 4000;
/// Longest search query accepted, in characters.
pub const QUERY_MAX: usize = 100;

/// Returns `value` trimmed of surrounding whitespace, or an error if nothing is left.
///
/// Why: a name or address of only spaces is as missing as an empty one, and leading/trailing
/// whitespace would otherwise make equal values compare different.
pub fn required<'a>(field: &str, value: &'a str) -> Result<&'a str> {
    let trimmed = value.trim();
    if trimmed.is_empty() {
        return Err(CoreError::invalid(field, "is required and must not be empty"));
    }
    Ok(trimmed)
}

/// Checks that `value` has at most `max_chars` characters (Unicode scalar values, so a Chinese
/// character counts as one) and returns it unchanged.
///
/// Why: limits keep projections, sync payloads and phone screens bounded; counting characters rather
/// than UTF-8 bytes keeps the limit the same for Chinese and Latin text.
pub fn max_len<'a>(field: &str, value: &'a str, max_chars: usize) -> Result<&'a str> {
    // `chars().nth` stops after max_chars + 1 characters instead of counting a huge input.
    if value.chars().nth(max_chars).is_some() {
        return Err(CoreError::invalid(field, format!("is longer than {max_chars} characters")));
    }
    Ok(value)
}

/// [`required`] then [`max_len`]: the usual check for a mandatory text field. Returns the trimmed
/// value.
pub fn required_text<'a>(field: &str, value: &'a str, max_chars: usize) -> Result<&'a str> {
    max_len(field, required(field, value)?, max_chars)
}

/// Checks an optional text field: `None` or blank becomes `None`, anything else is trimmed and
/// checked against `max_chars`.
pub fn optional_text<'a>(
    field: &str,
    value: Option<&'a str>,
    max_chars: usize,
) -> Result<Option<&'a str>> {
    match value.map(str::trim) {
        None | Some("") => Ok(None),
        Some(v) => max_len(field, v, max_chars).map(Some),
    }
}

/// ISO 7064 MOD 11-2 weights of the first 17 digits (GB 11643-1999).
const ID_WEIGHTS: [u32; 17] = [7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2];
/// Check character for each value of the weighted sum modulo 11.
const ID_CHECK: [u8; 11] = *b"10X98765432";

/// Validates and normalises an 18-character mainland resident ID-card number (居民身份证号码,
/// GB 11643-1999): 17 digits, a valid birth date `YYYYMMDD` at positions 7–14 (a real date, from 1900
/// on, not after today in China), and the ISO 7064 MOD 11-2 check character (`0`–`9` or `X`).
///
/// Returns the number with a lowercase `x` upper-cased. Errors distinguish length, characters,
/// birth date and check digit so the app can tell the user which part to re-read.
pub fn id_card(value: &str) -> Result<String> {
    id_card_as_of(value, china_today())
}

/// [`id_card`] with an explicit "today" for the not-in-the-future check (for tests and for checking
/// against a trusted server date instead of the phone's clock).
pub fn id_card_as_of(value: &str, today: NaiveDate) -> Result<String> {
    const FIELD: &str = "id_card";
    let v = value.trim();
    let n = v.chars().count();
    if n != 18 {
        return Err(CoreError::invalid(FIELD, format!("must be 18 characters, got {n}")));
    }
    let bytes = v.as_bytes(); // 18 chars and (checked below) all ASCII, so 18 bytes
    if !v.is_ascii() || !bytes[..17].iter().all(u8::is_ascii_digit) {
        return Err(CoreError::invalid(FIELD, "the first 17 characters must be digits"));
    }
    let last = bytes[17].to_ascii_uppercase();
    if !(last.is_ascii_digit() || last == b'X') {
        return Err(CoreError::invalid(FIELD, "the last character must be a digit or X"));
    }

    let num = |r: std::ops::Range<usize>| {
        bytes[r].iter().fold(0u32, |acc, b| acc * 10 + u32::from(b - b'0'))
    };
    let (y, m, d) = (num(6..10), num(10..12), num(12..14));
    let birth = i32::try_from(y).ok().and_then(|y| NaiveDate::from_ymd_opt(y, m, d));
    match birth {
        None => {
            return Err(CoreError::invalid(
                FIELD,
                format!("birth date {y:04}-{m:02}-{d:02} is not a real date"),
            ));
        }
        Some(b) if b.year() < 1900 => {
            return Err(CoreError::invalid(FIELD, "birth date is before 1900"));
        }
        Some(b) if b > today => {
            return Err(CoreError::invalid(FIELD, "birth date is in the future"));
        }
        Some(_) => {}
    }

    let sum: u32 = bytes[..17].iter().zip(ID_WEIGHTS).map(|(b, w)| u32::from(b - b'0') * w).sum();
    let expected = ID_CHECK[(sum % 11) as usize];
    if last != expected {
        return Err(CoreError::invalid(FIELD, "check digit does not match (mistyped digit?)"));
    }
    let mut out = String::with_capacity(18);
    out.push_str(&v[..17]);
    out.push(char::from(last));
    Ok(out)
}

/// Today's date in China (UTC+8, no daylight saving), whatever the phone's time zone setting.
fn china_today() -> NaiveDate {
    (Utc::now() + chrono::Duration::hours(8)).date_naive()
}

/// Validates and normalises a phone number.
///
/// Accepted:
/// - mainland mobile: 11 digits, `1` then `3`–`9` (optionally prefixed `+86`/`0086`/`86`, with
///   spaces or hyphens anywhere) → returned as the 11 bare digits, e.g. `13812345678`;
/// - fixed line: area code of 3–4 digits starting with `0`, then a 7–8 digit local number not
///   starting with `0`/`1`, e.g. `0513-86123456`, `(0513) 86123456`, `010 12345678`, or unseparated
///   `051386123456` (split by the national plan: `010` and `02x` are 3-digit codes, all others 4)
///   → returned as `area-number`, e.g. `0513-86123456`.
pub fn phone(value: &str) -> Result<String> {
    const FIELD: &str = "phone";
    let v = value.trim();
    if v.is_empty() {
        return Err(CoreError::invalid(FIELD, "is required and must not be empty"));
    }
    if v.chars().nth(40).is_some() {
        return Err(CoreError::invalid(FIELD, "is too long for a phone number"));
    }
    // Split into digit groups; only a leading '+', separators and parentheses may appear besides.
    let mut groups: Vec<String> = Vec::new();
    let mut cur = String::new();
    for (i, c) in v.chars().enumerate() {
        match c {
            '0'..='9' => cur.push(c),
            '+' if i == 0 => {}
            ' ' | '-' | '(' | ')' | '\u{3000}' | '（' | '）' => {
                if !cur.is_empty() {
                    groups.push(std::mem::take(&mut cur));
                }
            }
            _ => {
                return Err(CoreError::invalid(
                    FIELD,
                    "may contain only digits, spaces, hyphens, parentheses and a leading +",
                ));
            }
        }
    }
    if !cur.is_empty() {
        groups.push(cur);
    }
    let all: String = groups.concat();
    let mobile = all
        .strip_prefix("0086")
        .or_else(|| all.strip_prefix("86").filter(|r| r.len() == 11))
        .unwrap_or(&all);
    if mobile.len() == 11 && mobile.starts_with('1') {
        if matches!(mobile.as_bytes()[1], b'3'..=b'9') {
            return Ok(mobile.to_string());
        }
        return Err(CoreError::invalid(FIELD, "mobile number's second digit must be 3-9"));
    }
    if !all.starts_with('0') {
        return Err(CoreError::invalid(
            FIELD,
            "must be an 11-digit mobile number starting with 1 or a fixed line with area code",
        ));
    }
    let (area, number) = match groups.as_slice() {
        [area, number] => (area.as_str(), number.as_str()),
        [single] => {
            let split = if single.starts_with("010") || single.starts_with("02") { 3 } else { 4 };
            if single.len() <= split {
                return Err(CoreError::invalid(
                    FIELD,
                    "fixed-line number is missing after area code",
                ));
            }
            single.split_at(split)
        }
        _ => {
            return Err(CoreError::invalid(
                FIELD,
                "fixed line must be an area code and a number, e.g. 0513-86123456",
            ));
        }
    };
    if !(3..=4).contains(&area.len()) || !area.starts_with('0') {
        return Err(CoreError::invalid(FIELD, "area code must be 3-4 digits starting with 0"));
    }
    if !(7..=8).contains(&number.len()) || number.starts_with('0') || number.starts_with('1') {
        return Err(CoreError::invalid(
            FIELD,
            "fixed-line number must be 7-8 digits not starting with 0 or 1",
        ));
    }
    Ok(format!("{area}-{number}"))
}

/// Checks a WGS-84 coordinate pair: both finite, latitude in [-90, 90], longitude in [-180, 180].
///
/// Why: GPS fixes from phones are occasionally NaN or garbage; they must never reach storage,
/// distance sums or maps.
pub fn coordinates(lat: f64, lon: f64) -> Result<()> {
    if !lat.is_finite() || !(-90.0..=90.0).contains(&lat) {
        return Err(CoreError::invalid("lat", "latitude must be a finite number in [-90, 90]"));
    }
    if !lon.is_finite() || !(-180.0..=180.0).contains(&lon) {
        return Err(CoreError::invalid("lon", "longitude must be a finite number in [-180, 180]"));
    }
    Ok(())
}

/// Checks a resident satisfaction score (满意度) given at a call-back: 1 (very dissatisfied) to 5
/// (very satisfied). Returns the score.
pub fn satisfaction(score: u8) -> Result<u8> {
    if (1..=5).contains(&score) {
        Ok(score)
    } else {
        Err(CoreError::invalid("satisfaction", format!("must be 1 to 5, got {score}")))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn reason(r: Result<impl std::fmt::Debug>) -> String {
        match r {
            Err(CoreError::Invalid { reason, .. }) => reason,
            other => panic!("expected Invalid, got {other:?}"),
        }
    }

    fn field(r: Result<impl std::fmt::Debug>) -> String {
        match r {
            Err(CoreError::Invalid { field, .. }) => field,
            other => panic!("expected Invalid, got {other:?}"),
        }
    }

    /// Builds a valid ID by computing the check digit for 17 digits.
    fn with_check(first17: &str) -> String {
        let sum: u32 = first17.bytes().zip(ID_WEIGHTS).map(|(b, w)| u32::from(b - b'0') * w).sum();
        format!("{first17}{}", char::from(ID_CHECK[(sum % 11) as usize]))
    }

    #[test]
    fn required_and_max_len() {
        assert_eq!(required("name", "  王芳 ").unwrap(), "王芳");
        assert_eq!(field(required("name", " \t ")), "name");
        assert!(max_len("name", &"王".repeat(NAME_MAX), NAME_MAX).is_ok());
        assert!(reason(max_len("name", &"王".repeat(NAME_MAX + 1), NAME_MAX)).contains("64"));
        assert!(max_len("note", &"x".repeat(NOTE_MAX + 1), NOTE_MAX).is_err());
        assert_eq!(required_text("address", " 幸福小区 ", ADDRESS_MAX).unwrap(), "幸福小区");
        assert_eq!(optional_text("note", Some("  "), NOTE_MAX).unwrap(), None);
        assert_eq!(optional_text("note", None, NOTE_MAX).unwrap(), None);
        assert_eq!(optional_text("note", Some(" a "), NOTE_MAX).unwrap(), Some("a"));
    }

    #[test]
    fn id_card_valid() {
        // The GB 11643-1999 example number.
        assert_eq!(id_card("11010519491231002X").unwrap(), "11010519491231002X");
        assert_eq!(id_card(" 11010519491231002x ").unwrap(), "11010519491231002X");
        let id = with_check("32061219800101123");
        assert_eq!(id_card(&id).unwrap(), id);
    }

    #[test]
    fn id_card_errors_are_distinguished() {
        assert!(reason(id_card("1101051949123100")).contains("18 characters"));
        assert!(reason(id_card("11010519491231002XX")).contains("18 characters"));
        assert!(reason(id_card("1101051949123100AX")).contains("digits"));
        assert!(reason(id_card("11010519491231002Y")).contains("last character"));
        assert!(reason(id_card("一10105194912310021")).contains("digits"));
        assert!(reason(id_card("11010519491231002 ")).contains("18")); // trimmed → 17
        assert!(reason(id_card(&with_check("32061219800230123"))).contains("not a real date"));
        assert!(reason(id_card(&with_check("32061218991231123"))).contains("before 1900"));
        assert!(reason(id_card(&with_check("32061229990101123"))).contains("future"));
        assert!(reason(id_card("110105194912310021")).contains("check digit"));
        assert_eq!(field(id_card("1")), "id_card");
        let today = NaiveDate::from_ymd_opt(2024, 5, 1).unwrap();
        assert!(id_card_as_of(&with_check("32061220240501123"), today).is_ok());
        assert!(id_card_as_of(&with_check("32061220240502123"), today).is_err());
    }

    #[test]
    fn phone_numbers() {
        assert_eq!(phone("13812345678").unwrap(), "13812345678");
        assert_eq!(phone("138 1234 5678").unwrap(), "13812345678");
        assert_eq!(phone("+86 138-1234-5678").unwrap(), "13812345678");
        assert_eq!(phone("008613812345678").unwrap(), "13812345678");
        assert_eq!(phone("0513-86123456").unwrap(), "0513-86123456");
        assert_eq!(phone("(0513) 8612345").unwrap(), "0513-8612345");
        assert_eq!(phone("010 12345678").unwrap_err().code(), "invalid_input"); // local starts 1
        assert_eq!(phone("010-62345678").unwrap(), "010-62345678");
        assert_eq!(phone("051386123456").unwrap(), "0513-86123456");
        assert_eq!(phone("02162345678").unwrap(), "021-62345678");
        assert!(reason(phone("12812345678")).contains("second digit"));
        assert!(phone("1381234567").is_err());
        assert!(phone("138123456789").is_err());
        assert!(phone("13812345678a").is_err());
        assert!(phone("").is_err());
        assert!(phone("5513-86123456").is_err());
        assert!(phone("05131-86123456").is_err());
        assert!(phone("0513-123").is_err());
        assert!(phone("0513-86-123456").is_err());
        assert!(phone("0513").is_err());
        assert_eq!(field(phone("x")), "phone");
    }

    #[test]
    fn coordinates_and_satisfaction() {
        assert!(coordinates(32.08, 121.06).is_ok());
        assert!(coordinates(-90.0, 180.0).is_ok());
        assert_eq!(field(coordinates(90.1, 0.0)), "lat");
        assert_eq!(field(coordinates(f64::NAN, 0.0)), "lat");
        assert_eq!(field(coordinates(0.0, -180.5)), "lon");
        assert_eq!(field(coordinates(0.0, f64::INFINITY)), "lon");
        assert_eq!(satisfaction(1).unwrap(), 1);
        assert_eq!(satisfaction(5).unwrap(), 5);
        assert!(satisfaction(0).is_err());
        assert!(satisfaction(6).is_err());
    }
}
