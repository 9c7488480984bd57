//! Household (and other record) search for Chinese text without `LIKE '%…%'` scans (DESIGN §1).
//!
//! Records are indexed in a contentless SQLite FTS5 table whose text is [`index_tokens`]: Han
//! unigrams and bigrams, pinyin and pinyin initials, lowercased words and digit runs, separated by
//! spaces. What the user types becomes an FTS5 `MATCH` expression with [`match_query`]. This module
//! only produces strings; the table itself belongs to the storage layer, which should create it as
//!
//! ```sql
//! CREATE VIRTUAL TABLE household_fts USING fts5(
//!     tokens,                       -- index_tokens(&[name, address, phone, …])
//!     content = '',                 -- contentless: the projection table has the text
//!     contentless_delete = 1,       -- allow DELETE/UPDATE by rowid
//!     detail = none,                -- only single-token terms are queried: smallest index
//!     tokenize = 'ascii'            -- see FTS5_TOKENIZE: tokens must pass through unchanged
//! );
//! -- search: SELECT rowid FROM household_fts WHERE household_fts MATCH ?1
//! ```
//!
//! (rowid = the projection row's integer key). [`FTS5_TOKENIZE`] holds the tokenizer string.

mod tokenize;

pub use tokenize::{PINYIN_WINDOW, area_token, index_tokens, index_tokens_with, is_han};

use crate::error::{CoreError, Result};
use crate::validate::QUERY_MAX;
use tokenize::{Piece, Segment, segments};

/// The FTS5 `tokenize` option the indexed tokens are made for: `ascii`, which splits only on ASCII
/// non-alphanumerics (our tokens contain none, only the separating spaces), keeps every non-ASCII
/// character as a token character and folds only ASCII case (our tokens are already lowercase).
/// So each token reaches the index exactly as [`index_tokens`] wrote it.
///
/// Why not `unicode61`: it also splits at characters its (older) Unicode tables class as
/// separators — combining marks of Indic/Arabic scripts, characters newer than its tables — which
/// turned one query term into a phrase (an error with `detail=none`) and made index and query
/// disagree. Segmentation is done here, so FTS5 must not re-segment.
pub const FTS5_TOKENIZE: &str = "ascii";

/// Turns what a user typed into an FTS5 `MATCH` expression over [`index_tokens`] output, or
/// `Ok(None)` when there is nothing to search for (empty, whitespace or punctuation only).
///
/// - one Han character → that unigram; a run of two or more → all its bigrams, AND-ed;
/// - letters → prefix query (`wf*`, `wangf*`) matching pinyin, pinyin initials and words;
/// - digits → prefix query; digits directly followed by Han (`3幢`) → the combined token;
/// - separate words are AND-ed.
///
/// Every term is a double-quoted FTS5 string, and only letters, digits and Han characters ever
/// reach it, so user input such as `"`, `*`, `OR`, `NEAR`, `-`, `:`, `^` or parentheses cannot change
/// the query's structure. Queries longer than [`QUERY_MAX`] characters are rejected.
pub fn match_query(user_query: &str) -> Result<Option<String>> {
    let terms: Vec<String> =
        query_terms(user_query)?.iter().map(|t| quoted(&t.token, t.prefix)).collect();
    Ok((!terms.is_empty()).then(|| terms.join(" AND ")))
}

/// One term of a search: a token of [`index_tokens`]' vocabulary that a matching record must
/// hold — exactly, or (`prefix`) as the start of one of its tokens.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct QueryTerm {
    /// The token (letters, digits and Han characters only).
    pub token: String,
    /// Whether any token starting with it matches.
    pub prefix: bool,
}

/// The terms of what a user typed, all of which a record must match (the rules of
/// [`match_query`], which formats them for FTS5; a store without FTS5 — the server's — looks
/// them up in its own token table). Empty when there is nothing to search for.
///
/// # Errors
/// [`CoreError::Invalid`] naming `query` when it is longer than [`QUERY_MAX`] characters.
pub fn query_terms(user_query: &str) -> Result<Vec<QueryTerm>> {
    let q = user_query.trim();
    if q.chars().nth(QUERY_MAX).is_some() {
        return Err(CoreError::invalid(
            "query",
            format!("search text is longer than {QUERY_MAX} characters"),
        ));
    }
    let pieces = segments(q);
    let mut terms: Vec<QueryTerm> = Vec::new();
    let mut add = |token: String, prefix: bool| {
        let t = QueryTerm { token, prefix };
        if !terms.contains(&t) {
            terms.push(t);
        }
    };
    for (i, piece) in pieces.iter().enumerate() {
        let glued_han_next = match pieces.get(i + 1) {
            Some(Piece { seg: Segment::Han(next), glued: true }) => next.first().copied(),
            _ => None,
        };
        let after_digits = piece.glued
            && matches!(i.checked_sub(1).map(|j| &pieces[j].seg), Some(Segment::Digits(_)));
        match &piece.seg {
            Segment::Han(chars) => {
                if chars.len() == 1 {
                    // Covered by the digit+character term when glued to a number.
                    if !after_digits {
                        add(chars[0].to_string(), false);
                    }
                } else {
                    for w in chars.windows(2) {
                        add(w.iter().collect::<String>(), false);
                    }
                }
            }
            Segment::Digits(d) => match glued_han_next {
                Some(c) => add(format!("{d}{c}"), false),
                None => add(d.clone(), true),
            },
            Segment::Word(w) => add(w.clone(), true),
        }
    }
    Ok(terms)
}

/// An FTS5 string literal for `token`, optionally as a prefix query. Double quotes are doubled
/// (FTS5's escape), although tokens from [`segments`] never contain any.
fn quoted(token: &str, prefix: bool) -> String {
    let mut s = String::with_capacity(token.len() + 3);
    s.push('"');
    s.push_str(&token.replace('"', "\"\""));
    s.push('"');
    if prefix {
        s.push('*');
    }
    s
}

#[cfg(test)]
mod tests {
    use super::*;
    use rusqlite::Connection;

    /// A fresh in-memory FTS5 table, created exactly as the module docs recommend.
    fn db(records: &[(i64, &[&str])]) -> Connection {
        let conn = Connection::open_in_memory().unwrap();
        conn.execute_batch(&format!(
            "CREATE VIRTUAL TABLE household_fts USING fts5(tokens, content = '', \
             contentless_delete = 1, detail = none, tokenize = '{FTS5_TOKENIZE}');"
        ))
        .unwrap();
        for (id, fields) in records {
            conn.execute(
                "INSERT INTO household_fts(rowid, tokens) VALUES (?1, ?2)",
                rusqlite::params![id, index_tokens(fields)],
            )
            .unwrap();
        }
        conn
    }

    fn search(conn: &Connection, q: &str) -> Vec<i64> {
        let Some(expr) = match_query(q).unwrap() else { return vec![] };
        let mut stmt = conn
            .prepare("SELECT rowid FROM household_fts WHERE household_fts MATCH ?1 ORDER BY rowid")
            .unwrap();
        stmt.query_map([&expr], |r| r.get(0))
            .unwrap_or_else(|e| panic!("{q:?} → {expr:?}: {e}"))
            .collect::<rusqlite::Result<Vec<i64>>>()
            .unwrap_or_else(|e| panic!("{q:?} → {expr:?}: {e}"))
    }

    const WANG: i64 = 1;
    const OUYANG: i64 = 2;
    const ZHANG: i64 = 3;
    const LI: i64 = 4;

    fn sample() -> Connection {
        db(&[
            (WANG, &["王芳", "金沙街道幸福小区3幢2单元301", "13812345678"]),
            (OUYANG, &["欧阳娜娜", "金新街道和平村12组", "0513-86123456"]),
            (ZHANG, &["张伟", "幸福小区13幢1单元302室", "13998765432"]),
            (LI, &["李娜", "Nantong Road 8号", ""]),
        ])
    }

    #[test]
    fn chinese_names_and_pinyin() {
        let c = sample();
        for q in ["王", "芳", "王芳", "wf", "wangf", "wangfang", "WangFang", "wang fang", "fang"]
        {
            assert_eq!(search(&c, q), [WANG], "query {q:?}");
        }
        for q in ["欧阳", "娜娜", "oy", "oyn", "ouyang", "欧阳娜娜", "ouyangnana", "yangnana"]
        {
            assert_eq!(search(&c, q), [OUYANG], "query {q:?}");
        }
        assert_eq!(search(&c, "娜"), [OUYANG, LI]);
        assert_eq!(search(&c, "na"), [OUYANG, LI]); // 娜 = na; nantong
    }

    #[test]
    fn addresses_and_phones() {
        let c = sample();
        assert_eq!(search(&c, "幸福"), [WANG, ZHANG]);
        assert_eq!(search(&c, "幸福小区"), [WANG, ZHANG]);
        assert_eq!(search(&c, "xingfu"), [WANG, ZHANG]);
        assert_eq!(search(&c, "3幢"), [WANG]); // not 13幢
        assert_eq!(search(&c, "13幢"), [ZHANG]);
        assert_eq!(search(&c, "幸福小区3幢2单元"), [WANG]);
        assert_eq!(search(&c, "３幢"), [WANG]); // full-width digit
        assert_eq!(search(&c, "301"), [WANG]);
        assert_eq!(search(&c, "30"), [WANG, ZHANG]); // prefix of 301 and 302
        assert_eq!(search(&c, "5678"), [WANG]);
        assert_eq!(search(&c, "3456"), [OUYANG]);
        assert_eq!(search(&c, "138"), [WANG]);
        assert_eq!(search(&c, "0513-86123456"), [OUYANG]);
        assert_eq!(search(&c, "nantong"), [LI]);
        assert_eq!(search(&c, "8号"), [LI]);
        assert_eq!(search(&c, "王芳 幸福"), [WANG]);
        assert_eq!(search(&c, "王芳 和平"), Vec::<i64>::new());
        assert_eq!(search(&c, "赵"), Vec::<i64>::new());
        assert_eq!(search(&c, "芳王"), Vec::<i64>::new());
    }

    #[test]
    fn query_shapes() {
        assert_eq!(match_query("").unwrap(), None);
        assert_eq!(match_query("  \t ").unwrap(), None);
        assert_eq!(match_query("，。!?").unwrap(), None);
        assert_eq!(match_query("王").unwrap().unwrap(), r#""王""#);
        assert_eq!(match_query("欧阳娜娜").unwrap().unwrap(), r#""欧阳" AND "阳娜" AND "娜娜""#);
        assert_eq!(match_query("WF").unwrap().unwrap(), r#""wf"*"#);
        assert_eq!(match_query("3幢301").unwrap().unwrap(), r#""3幢" AND "301"*"#);
        assert!(match_query(&"王".repeat(QUERY_MAX)).is_ok());
        let err = match_query(&"王".repeat(QUERY_MAX + 1)).unwrap_err();
        assert!(matches!(err, CoreError::Invalid { ref field, .. } if field == "query"));
    }

    #[test]
    fn injection_is_harmless() {
        let c = sample();
        let nasty = [
            "\"",
            "\"\"",
            "*",
            "王*",
            "OR",
            "王 OR 张",
            "a OR b",
            "NEAR(王 芳)",
            "NEAR",
            "-王",
            "王 NOT 张",
            "(",
            ")",
            "((王芳",
            "tokens:王",
            "^王",
            "{tokens}: x",
            "王\" OR \"张",
            "\" OR rowid > 0 --",
            "'; DROP TABLE household_fts; --",
            "AND",
            "+",
            "王 + 芳",
            "\u{0}",
            "🙂王",
        ];
        for q in nasty {
            // Must produce a valid expression (or nothing) and never an FTS5 syntax error.
            let hits = search(&c, q);
            if let Some(expr) = match_query(q).unwrap() {
                assert!(!expr.contains(" OR ") && !expr.contains("NEAR("), "{q:?} → {expr}");
            }
            if q.contains('王') && !q.contains('张') {
                assert!(hits.iter().all(|&h| h == WANG), "{q:?} → {hits:?}");
            }
        }
        // "王 OR 张" means 王 AND "or"* AND 张, which nobody matches (not a union of both).
        assert_eq!(search(&c, "王 OR 张"), Vec::<i64>::new());
        assert_eq!(search(&c, "王 NOT 张"), Vec::<i64>::new());
    }

    proptest::proptest! {
        #[test]
        fn prop_any_query_is_valid_fts5(q in "[王芳欧阳幸福3幢 a-zA-Z0-9\"*():^+{}.,\\-]{0,40}|\\PC{0,40}") {
            let c = sample();
            let _ = search(&c, &q); // panics on an FTS5 syntax error
        }

        /// Whatever the text, its tokens reach the index unchanged and the text finds itself.
        #[test]
        fn prop_text_survives_and_finds_itself(text in "[王芳欧阳幸福3幢 a-zA-Z0-9\"*():.-]{0,40}|\\PC{0,40}") {
            let c = db(&[(7, &[text.as_str()])]);
            let mut ours: Vec<String> = index_tokens(&[&text])
                .split(' ')
                .filter(|t| !t.is_empty())
                .map(str::to_string)
                .collect();
            ours.sort();
            proptest::prop_assert_eq!(vocab(&c), ours);
            if match_query(&text).unwrap().is_some() {
                proptest::prop_assert_eq!(search(&c, &text), vec![7]);
            }
        }
    }

    /// The distinct terms FTS5 stored, sorted.
    fn vocab(conn: &Connection) -> Vec<String> {
        conn.execute_batch(
            "CREATE VIRTUAL TABLE IF NOT EXISTS temp.vocab USING fts5vocab(main, household_fts, 'row');",
        )
        .unwrap();
        let mut stmt = conn.prepare("SELECT term FROM temp.vocab ORDER BY term").unwrap();
        let mut v: Vec<String> =
            stmt.query_map([], |r| r.get(0)).unwrap().map(|r| r.unwrap()).collect();
        v.sort();
        v
    }

    #[test]
    fn tokens_survive_the_tokenizer_unchanged() {
        let fields: &[&str] = &[
            "王芳 欧阳娜娜 𠀀𪚥〇",
            "金沙街道幸福小区3幢2单元301",
            "Ünïcode ÉCOLE ß ഄ\u{c62}À",
            "13812345678",
        ];
        let conn = db(&[(1, fields)]);
        let mut ours: Vec<String> = index_tokens(fields).split(' ').map(str::to_string).collect();
        ours.sort();
        assert_eq!(vocab(&conn), ours);
        assert_eq!(search(&conn, "ഄ\u{c62}À"), [1]);
    }

    #[test]
    fn delete_and_reindex() {
        let c = sample();
        c.execute("DELETE FROM household_fts WHERE rowid = ?1", [WANG]).unwrap();
        assert_eq!(search(&c, "幸福"), [ZHANG]);
        c.execute(
            "INSERT INTO household_fts(rowid, tokens) VALUES (?1, ?2)",
            rusqlite::params![WANG, index_tokens(&["王芳", "和平村"])],
        )
        .unwrap();
        assert_eq!(search(&c, "和平"), [WANG, OUYANG]);
    }
}
