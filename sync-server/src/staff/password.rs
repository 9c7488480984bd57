//! Passwords of staff logins: the rules a new password must meet, argon2id hashing to a PHC
//! string (the `argon2` crate's recommended parameters), verification — against a dummy hash
//! when the login is unknown, so that an unknown login takes as long to refuse as a wrong
//! password — and one-time passwords an admin hands out.

use std::sync::OnceLock;

use argon2::{Argon2, PasswordHasher, PasswordVerifier};
use tokio::sync::Semaphore;

use crate::auth::{RandomError, random_string};

/// Fewest characters of a password.
pub const MIN_PASSWORD_CHARS: usize = 10;
/// Most bytes of a password (argon2 takes any length; this bounds the work a request can ask).
pub const MAX_PASSWORD_BYTES: usize = 256;
/// Characters of a one-time password (from a 32-letter alphabet: 80 bits).
pub const ONE_TIME_PASSWORD_CHARS: usize = 16;
/// Most argon2 computations at once (each takes ~19 MiB and a core for tens of milliseconds);
/// more sign-ins wait their turn, within the server's requests-in-flight limit, so a flood of
/// sign-ins cannot exhaust memory.
pub const MAX_CONCURRENT_HASHES: usize = 4;

/// The permits of [`MAX_CONCURRENT_HASHES`].
fn hashing() -> &'static Semaphore {
    static HASHING: OnceLock<Semaphore> = OnceLock::new();
    HASHING.get_or_init(|| Semaphore::new(MAX_CONCURRENT_HASHES))
}

/// Why a new password is refused.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum PasswordRule {
    /// Shorter than [`MIN_PASSWORD_CHARS`].
    #[error("a password needs at least {MIN_PASSWORD_CHARS} characters")]
    TooShort,
    /// Longer than [`MAX_PASSWORD_BYTES`].
    #[error("a password has at most {MAX_PASSWORD_BYTES} bytes")]
    TooLong,
    /// The same as the login name (ignoring case and surrounding spaces).
    #[error("a password must not be the login name")]
    EqualsLogin,
}

/// Hashing failed (no randomness for the salt, or an internal argon2 error).
#[derive(Debug, thiserror::Error)]
#[error("password hashing failed: {0}")]
pub struct HashError(String);

/// Checks a new password against the rules: at least [`MIN_PASSWORD_CHARS`] characters, at most
/// [`MAX_PASSWORD_BYTES`] bytes, not the login name.
///
/// # Errors
/// The [`PasswordRule`] broken.
pub fn check_rules(login: &str, password: &str) -> Result<(), PasswordRule> {
    if password.len() > MAX_PASSWORD_BYTES {
        return Err(PasswordRule::TooLong);
    }
    if password.chars().count() < MIN_PASSWORD_CHARS {
        return Err(PasswordRule::TooShort);
    }
    if password.trim().to_lowercase() == login.trim().to_lowercase() {
        return Err(PasswordRule::EqualsLogin);
    }
    Ok(())
}

/// The argon2id PHC string of a password, with a fresh random salt. CPU-heavy: call it off the
/// async runtime ([`hash_blocking`]).
///
/// # Errors
/// [`HashError`].
pub fn hash(password: &str) -> Result<String, HashError> {
    Argon2::default()
        .hash_password(password.as_bytes())
        .map(|h| h.to_string())
        .map_err(|e| HashError(e.to_string()))
}

/// Whether `password` matches the PHC string `phc` (`false` for a malformed string too).
pub fn verify(password: &str, phc: &str) -> bool {
    password.len() <= MAX_PASSWORD_BYTES
        && Argon2::default().verify_password(password.as_bytes(), phc).is_ok()
}

/// Verifies `password` against a dummy hash made once with the same parameters, and returns
/// `false`: what a login of an unknown name costs, so that it answers in the time a wrong
/// password does.
pub fn verify_dummy(password: &str) -> bool {
    static DUMMY: OnceLock<Option<String>> = OnceLock::new();
    if let Some(phc) = DUMMY.get_or_init(|| hash("gridwork dummy password").ok()) {
        let _ = verify(password, phc);
    }
    false
}

/// [`hash`] on a blocking thread, at most [`MAX_CONCURRENT_HASHES`] at once.
///
/// # Errors
/// [`HashError`].
pub async fn hash_blocking(password: String) -> Result<String, HashError> {
    let _permit = hashing().acquire().await.map_err(|e| HashError(e.to_string()))?;
    tokio::task::spawn_blocking(move || hash(&password))
        .await
        .map_err(|e| HashError(e.to_string()))?
}

/// [`verify`] (or [`verify_dummy`] when `phc` is `None`) on a blocking thread, at most
/// [`MAX_CONCURRENT_HASHES`] at once.
pub async fn verify_blocking(password: String, phc: Option<String>) -> bool {
    let Ok(_permit) = hashing().acquire().await else { return false };
    tokio::task::spawn_blocking(move || match phc {
        Some(phc) => verify(&password, &phc),
        None => verify_dummy(&password),
    })
    .await
    .unwrap_or(false)
}

/// A new one-time password: [`ONE_TIME_PASSWORD_CHARS`] characters without look-alikes.
///
/// # Errors
/// [`RandomError`].
pub fn one_time_password() -> Result<String, RandomError> {
    random_string(ONE_TIME_PASSWORD_CHARS)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rules() {
        assert_eq!(check_rules("wangfang", "short"), Err(PasswordRule::TooShort));
        assert_eq!(check_rules("wangfang01", " WangFang01 "), Err(PasswordRule::EqualsLogin));
        assert_eq!(check_rules("a", &"x".repeat(300)), Err(PasswordRule::TooLong));
        assert_eq!(check_rules("wangfang", "通州区网格员密码很长"), Ok(()));
    }

    #[test]
    fn hash_and_verify() {
        let phc = hash("correct horse battery").unwrap();
        assert!(phc.starts_with("$argon2id$v=19$"), "{phc}");
        assert!(verify("correct horse battery", &phc));
        assert!(!verify("correct horse batterY", &phc));
        assert!(!verify("correct horse battery", "not a phc string"));
        assert!(!verify_dummy("anything"));
        let otp = one_time_password().unwrap();
        assert_eq!(otp.len(), ONE_TIME_PASSWORD_CHARS);
        assert!(check_rules("x", &otp).is_ok());
    }
}
