//! Search tokens (placeholder until the tokenizer lands).

use crate::error::Result;

/// Space-separated index tokens.
pub fn index_tokens(fields: &[&str]) -> String {
    fields.join(" ")
}

/// FTS5 match expression.
///
/// # Errors
/// Never, for now.
pub fn match_query(q: &str) -> Result<Option<String>> {
    let q = q.trim();
    Ok((!q.is_empty()).then(|| format!("\"{}\"", q.replace('"', ""))))
}
