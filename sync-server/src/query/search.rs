//! Text search over names and addresses that works for Chinese, on both backends: the core's
//! own tokeniser ([`gridwork_core::search`]: Han unigrams and bigrams, pinyin and initials,
//! words, digit runs) fills the `rm_search` table (migration 7) as the projector writes a
//! household's or resident's rows, and a search becomes one indexed lookup per term — the
//! same tokens and terms a phone's FTS5 index uses, without FTS5.
//!
//! A household is found by its head's name, its address and its residents' names (as on a
//! phone); a resident by their name; a work order by its title and the start of its description. Each row of `rm_search` says which record it finds
//! (`kind`, `doc_id`) and whose text it came from (`source_id`): a record's rows are replaced
//! whenever the projector writes it, so a renamed or moved resident leaves nothing behind.

use gridwork_core::RecordKind;
use gridwork_core::search::{QueryTerm, index_tokens_with};
use uuid::Uuid;

use super::sql::{Bind, Builder, Dialect, Statement};
use crate::read_model::rows::{KindColumns, RecordRow};

/// How much of a work order's description is searchable (its start says what it is about).
const DESCRIPTION_SEARCHED: usize = 200;

/// Rows of `rm_search` per `INSERT` statement.
const ROWS_PER_INSERT: usize = 200;

/// What one record writes into `rm_search`: the record whose text it is, and the (kind,
/// record, token) rows that text gives. A deleted record gives none.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SearchRows {
    /// The record whose text was tokenised (`source_id`).
    pub source: Uuid,
    /// (kind searched, record found, token).
    pub rows: Vec<(RecordKind, Uuid, String)>,
}

/// The search rows of a read-model row; `None` for kinds without text search.
pub fn rows_of(row: &RecordRow) -> Option<SearchRows> {
    let mut rows = Vec::new();
    let mut add = |kind: RecordKind, id: Uuid, tokens: String| {
        rows.extend(tokens.split(' ').filter(|t| !t.is_empty()).map(|t| (kind, id, t.to_owned())));
    };
    match &row.columns {
        KindColumns::Household { head_name, address, .. } => {
            if !row.deleted {
                add(
                    RecordKind::Household,
                    row.id,
                    index_tokens_with(&[head_name], &[address], &[]),
                );
            }
        }
        KindColumns::Resident { household_id, name } => {
            if !row.deleted {
                let tokens = index_tokens_with(&[name], &[], &[]);
                add(RecordKind::Resident, row.id, tokens.clone());
                add(RecordKind::Household, *household_id, tokens);
            }
        }
        KindColumns::WorkOrder { title, description, .. } => {
            if !row.deleted {
                let about: String = description.chars().take(DESCRIPTION_SEARCHED).collect();
                add(RecordKind::WorkOrder, row.id, index_tokens_with(&[], &[title, &about], &[]));
            }
        }
        _ => return None,
    }
    Some(SearchRows { source: row.id, rows })
}

/// The statements that replace a record's search rows: a delete of its old rows, then inserts
/// of the new ones; empty for kinds without text search.
pub fn write_statements(dialect: Dialect, row: &RecordRow) -> Vec<Statement> {
    let Some(search) = rows_of(row) else { return Vec::new() };
    let source = Bind::Bytes(search.source.as_bytes().to_vec());
    let mut delete = Builder::new(dialect, "DELETE FROM rm_search WHERE source_id = ");
    let p = delete.bind(source.clone());
    delete.push(&p);
    let mut out = vec![delete.finish()];
    for chunk in search.rows.chunks(ROWS_PER_INSERT) {
        let mut b =
            Builder::new(dialect, "INSERT INTO rm_search (token, kind, doc_id, source_id) VALUES ");
        for (i, (kind, id, token)) in chunk.iter().enumerate() {
            let t = b.bind(Bind::Text(token.clone()));
            let d = b.bind(Bind::Bytes(id.as_bytes().to_vec()));
            let s = b.bind(source.clone());
            let sep = if i == 0 { "" } else { ", " };
            // The kind code is this server's own constant, not input.
            b.push(&format!("{sep}({t}, {}, {d}, {s})", kind.code()));
        }
        b.push(" ON CONFLICT DO NOTHING");
        out.push(b.finish());
    }
    out
}

/// Appends one condition per search term: the record holds the token (or, for a prefix term,
/// a token in `[term, next)`), found through the `(kind, token)` index of `rm_search`.
pub(crate) fn terms_sql(b: &mut Builder, kind: RecordKind, terms: &[QueryTerm]) {
    for term in terms {
        let cond = if term.prefix {
            let lo = b.bind(Bind::Text(term.token.clone()));
            let hi = b.bind(Bind::Text(prefix_end(&term.token)));
            format!("s.token >= {lo} AND s.token < {hi}")
        } else {
            let p = b.bind(Bind::Text(term.token.clone()));
            format!("s.token = {p}")
        };
        b.push(&format!(
            " AND t.doc_id IN (SELECT s.doc_id FROM rm_search s WHERE s.kind = {} AND {cond})",
            kind.code()
        ));
    }
}

/// The least string greater than every string starting with `prefix` (in code-point order,
/// which is UTF-8 byte order: SQLite's `BINARY` and PostgreSQL's `"C"` collation).
fn prefix_end(prefix: &str) -> String {
    let mut chars: Vec<char> = prefix.chars().collect();
    while let Some(last) = chars.pop() {
        let next = (u32::from(last) + 1..=u32::from(char::MAX)).find_map(char::from_u32);
        if let Some(n) = next {
            chars.push(n);
            return chars.into_iter().collect();
        }
    }
    // Only for a prefix of `char::MAX`s: no string of tokens reaches it.
    char::MAX.to_string().repeat(prefix.chars().count() + 1)
}

#[cfg(test)]
mod tests {
    use super::*;
    use gridwork_core::AreaPath;

    #[test]
    fn prefix_ends() {
        assert_eq!(prefix_end("wf"), "wg");
        assert_eq!(prefix_end("a9"), "a:");
        assert_eq!(prefix_end("王"), "玌");
        assert!("wfz" < prefix_end("wf").as_str() && "wg" >= prefix_end("wf").as_str());
    }

    #[test]
    fn residents_are_found_under_their_household_too() {
        let (r, h) = (Uuid::now_v7(), Uuid::now_v7());
        let row = RecordRow {
            id: r,
            kind: RecordKind::Resident,
            area: AreaPath::parse("320612").unwrap(),
            deleted: false,
            created_at: 0,
            columns: KindColumns::Resident { household_id: h, name: "王芳".into() },
            json: "{}".into(),
        };
        let s = rows_of(&row).unwrap();
        assert_eq!(s.source, r);
        assert!(s.rows.contains(&(RecordKind::Resident, r, "王芳".into())));
        assert!(s.rows.contains(&(RecordKind::Household, h, "wf".into())));
        let gone = rows_of(&RecordRow { deleted: true, ..row }).unwrap();
        assert!(gone.rows.is_empty());
        let statements =
            write_statements(Dialect::Postgres, &RecordRow { deleted: false, ..gone_row(r, h) });
        assert!(statements[0].sql.starts_with("DELETE FROM rm_search"));
    }

    fn gone_row(r: Uuid, h: Uuid) -> RecordRow {
        RecordRow {
            id: r,
            kind: RecordKind::Resident,
            area: AreaPath::parse("320612").unwrap(),
            deleted: true,
            created_at: 0,
            columns: KindColumns::Resident { household_id: h, name: "张".into() },
            json: "{}".into(),
        }
    }
}
