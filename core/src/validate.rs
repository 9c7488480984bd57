//! Input validation shared by every public write function.

use crate::error::{CoreError, Result};

/// The trimmed value of a required text field.
///
/// # Errors
/// [`CoreError::Invalid`] naming `field` when the value is empty or only whitespace.
pub fn required<'a>(field: &str, value: &'a str) -> Result<&'a str> {
    let t = value.trim();
    if t.is_empty() {
        return Err(CoreError::invalid(field, "is required and must not be empty"));
    }
    Ok(t)
}

/// Longest name (person, area) in characters.
pub const NAME_MAX: usize = 64;
/// Longest address in characters.
pub const ADDRESS_MAX: usize = 200;
/// Longest free text (situation, needs, description) in characters.
pub const NOTE_MAX: usize = 4000;

/// Checks that `value` has at most `max` characters.
///
/// # Errors
/// [`CoreError::Invalid`] naming `field` when the text is longer.
pub fn max_len<'a>(field: &str, value: &'a str, max: usize) -> Result<&'a str> {
    let n = value.chars().count();
    if n > max {
        return Err(CoreError::invalid(
            field,
            format!("is {n} characters long; at most {max} are allowed"),
        ));
    }
    Ok(value)
}

/// Normalised phone number (placeholder).
///
/// # Errors
/// [`CoreError::Invalid`] naming `phone`.
pub fn phone(value: &str) -> Result<String> {
    let t = value.trim();
    if t.len() == 11 && t.starts_with('1') && t.bytes().all(|b| b.is_ascii_digit()) {
        Ok(t.to_owned())
    } else {
        Err(CoreError::invalid("phone", "not a valid phone number"))
    }
}
