//! JSON downloads (and the API's JSON answer): `{"ledger", "title", "columns": [{key, zh, en}],
//! "rows": [{key: value, …}], "row_count"}`, written row by row. Values keep their type: codes
//! for coded values (`"met"`), RFC 3339 times in China Standard Time
//! (`"2026-11-03T09:30:00+08:00"`), numbers, booleans, `null`.

use std::io::Write;

use chrono::SecondsFormat;

use super::stream::Encoder;
use super::{Column, Lang, Ledger, LedgerError, Value, local_time};

/// Writes a ledger as JSON.
pub struct JsonEncoder<W: Write> {
    out: W,
    columns: &'static [Column],
    first: bool,
}

impl<W: Write> JsonEncoder<W> {
    /// Writes the opening of `ledger`'s document (its columns) to `out`.
    ///
    /// # Errors
    /// [`LedgerError::Write`].
    pub fn new(ledger: Ledger, lang: Lang, mut out: W) -> Result<Self, LedgerError> {
        let columns: Vec<serde_json::Value> = ledger
            .columns()
            .iter()
            .map(|c| serde_json::json!({ "key": c.key, "zh": c.zh, "en": c.en }))
            .collect();
        write!(
            out,
            "{{\"ledger\":{},\"title\":{},\"columns\":{},\"rows\":[",
            serde_json::json!(ledger.segment()),
            serde_json::json!(ledger.title(lang)),
            serde_json::Value::Array(columns)
        )?;
        Ok(JsonEncoder { out, columns: ledger.columns(), first: true })
    }
}

/// A value as JSON.
pub(crate) fn json_of(v: &Value) -> serde_json::Value {
    match v {
        Value::Null => serde_json::Value::Null,
        Value::Text(t) => serde_json::Value::String(t.clone()),
        Value::Label { code, .. } => serde_json::Value::String(code.clone()),
        Value::Int(i) => (*i).into(),
        Value::Real(f) => {
            serde_json::Number::from_f64(*f).map_or(serde_json::Value::Null, Into::into)
        }
        Value::Bool(b) => (*b).into(),
        Value::Time(ms) => local_time(*ms).map_or_else(
            || (*ms).into(),
            |t| t.to_rfc3339_opts(SecondsFormat::AutoSi, false).into(),
        ),
    }
}

impl<W: Write + Send> Encoder for JsonEncoder<W> {
    fn row(&mut self, row: &[Value]) -> Result<(), LedgerError> {
        let object: serde_json::Map<String, serde_json::Value> =
            self.columns.iter().zip(row).map(|(c, v)| (c.key.to_owned(), json_of(v))).collect();
        if !self.first {
            self.out.write_all(b",")?;
        }
        self.first = false;
        serde_json::to_writer(&mut self.out, &object).map_err(|e| LedgerError::Write(e.to_string()))
    }

    fn finish(mut self: Box<Self>, rows: u64) -> Result<(), LedgerError> {
        write!(self.out, "],\"row_count\":{rows}}}")?;
        self.out.flush()?;
        Ok(())
    }
}
