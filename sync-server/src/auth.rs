//! Credentials: generation of admin tokens, device credentials and enrolment codes, their
//! hashing (only SHA-256 hashes are stored), and reading bearer tokens from requests.

use axum::http::HeaderMap;
use sha2::{Digest, Sha256};

/// Prefix of admin tokens.
pub const ADMIN_PREFIX: &str = "gwa_";
/// Prefix of device credentials.
pub const DEVICE_PREFIX: &str = "gwd_";
/// Alphabet of enrolment codes (Crockford base32: no I, L, O, U).
const CODE_ALPHABET: &[u8; 32] = b"0123456789ABCDEFGHJKMNPQRSTVWXYZ";

/// The operating system's random generator failed.
#[derive(Debug, thiserror::Error)]
#[error("no randomness available: {0}")]
pub struct RandomError(String);

fn random<const N: usize>() -> Result<[u8; N], RandomError> {
    let mut b = [0u8; N];
    getrandom::fill(&mut b).map_err(|e| RandomError(e.to_string()))?;
    Ok(b)
}

/// `n` random characters of the enrolment codes' alphabet (Crockford base32: 5 bits each, no
/// look-alikes), for secrets a person types (one-time passwords).
///
/// # Errors
/// [`RandomError`].
pub fn random_string(n: usize) -> Result<String, RandomError> {
    let mut b = vec![0u8; n];
    getrandom::fill(&mut b).map_err(|e| RandomError(e.to_string()))?;
    Ok(b.iter().map(|b| char::from(CODE_ALPHABET[usize::from(b & 31)])).collect())
}

/// 32 random bytes as 64 hex digits (session and CSRF tokens).
///
/// # Errors
/// [`RandomError`].
pub fn random_hex() -> Result<String, RandomError> {
    Ok(hex::encode(random::<32>()?))
}

/// SHA-256 of a secret.
pub fn hash_secret(secret: &str) -> [u8; 32] {
    Sha256::digest(secret.as_bytes()).into()
}

/// A new admin token: `gwa_` and 64 hex digits (32 random bytes).
///
/// # Errors
/// [`RandomError`].
pub fn new_admin_token() -> Result<String, RandomError> {
    Ok(format!("{ADMIN_PREFIX}{}", hex::encode(random::<32>()?)))
}

/// A new device credential: `gwd_` and 64 hex digits (32 random bytes).
///
/// # Errors
/// [`RandomError`].
pub fn new_device_credential() -> Result<String, RandomError> {
    Ok(format!("{DEVICE_PREFIX}{}", hex::encode(random::<32>()?)))
}

/// A new one-time enrolment code: 12 Crockford base32 characters (60 bits) shown as
/// `XXXX-XXXX-XXXX`.
///
/// # Errors
/// [`RandomError`].
pub fn new_enrolment_code() -> Result<String, RandomError> {
    let bytes = random::<12>()?;
    let chars: Vec<u8> = bytes.iter().map(|b| CODE_ALPHABET[usize::from(b & 31)]).collect();
    let s = String::from_utf8_lossy(&chars).into_owned();
    Ok(format!("{}-{}-{}", &s[..4], &s[4..8], &s[8..]))
}

/// The canonical form of a typed enrolment code: upper case, without dashes or spaces, with the
/// look-alikes `O`→`0`, `I`/`L`→`1`.
pub fn normalize_code(code: &str) -> String {
    code.chars()
        .filter(|c| !matches!(c, '-' | ' '))
        .map(|c| match c.to_ascii_uppercase() {
            'O' => '0',
            'I' | 'L' => '1',
            c => c,
        })
        .collect()
}

/// The hash under which an enrolment code is stored.
pub fn hash_code(code: &str) -> [u8; 32] {
    hash_secret(&normalize_code(code))
}

/// What is wrong with a request's credential.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum BearerProblem {
    /// No `Authorization` header.
    Missing,
    /// The header is not `Bearer <token>` with the expected prefix.
    Malformed,
}

/// The bearer token of a request, checked for the expected prefix.
///
/// # Errors
/// [`BearerProblem`].
pub fn bearer<'a>(headers: &'a HeaderMap, prefix: &str) -> Result<&'a str, BearerProblem> {
    let v = headers.get(axum::http::header::AUTHORIZATION).ok_or(BearerProblem::Missing)?;
    let v = v.to_str().map_err(|_| BearerProblem::Malformed)?;
    let token = v.strip_prefix("Bearer ").ok_or(BearerProblem::Malformed)?.trim();
    if !token.starts_with(prefix) || token.len() != prefix.len() + 64 {
        return Err(BearerProblem::Malformed);
    }
    Ok(token)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn codes_normalise() {
        let c = new_enrolment_code().unwrap();
        assert_eq!(c.len(), 14);
        assert_eq!(hash_code(&c), hash_code(&c.to_lowercase().replace('-', " ")));
        assert_eq!(normalize_code("ab-cO-il"), "ABC011");
        let t = new_device_credential().unwrap();
        assert!(t.starts_with(DEVICE_PREFIX) && t.len() == 68);
    }
}
