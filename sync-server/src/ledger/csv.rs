//! CSV downloads: UTF-8 with a byte-order mark (so Excel opens Chinese text correctly), one
//! header row of headings in the chosen language, then one record per ledger row — times as
//! `YYYY-MM-DD HH:MM:SS` in China Standard Time, yes/no as `是`/`否` (`yes`/`no`), coded
//! values as their labels. Quoting follows RFC 4180 (the `csv` crate).

use std::fmt::Write as _;
use std::io::Write;

use super::stream::Encoder;
use super::{Lang, Ledger, LedgerError, Value, local_naive};

/// The UTF-8 byte-order mark.
pub const BOM: &[u8] = b"\xEF\xBB\xBF";

/// Writes a ledger as CSV.
pub struct CsvEncoder<W: Write> {
    out: ::csv::Writer<W>,
    lang: Lang,
    buf: String,
}

impl<W: Write> CsvEncoder<W> {
    /// Writes the BOM and the header row of `ledger` to `out`.
    ///
    /// # Errors
    /// [`LedgerError::Write`].
    pub fn new(ledger: Ledger, lang: Lang, mut out: W) -> Result<Self, LedgerError> {
        out.write_all(BOM)?;
        let mut out = ::csv::WriterBuilder::new().buffer_capacity(64 * 1024).from_writer(out);
        out.write_record(ledger.columns().iter().map(|c| c.heading(lang))).map_err(write_err)?;
        Ok(CsvEncoder { out, lang, buf: String::new() })
    }
}

fn write_err(e: ::csv::Error) -> LedgerError {
    LedgerError::Write(e.to_string())
}

/// A value as CSV text, into `buf`.
pub(crate) fn text_of(v: &Value, lang: Lang, buf: &mut String) {
    buf.clear();
    // Writing into a String cannot fail.
    let _ = match v {
        Value::Null => Ok(()),
        Value::Text(t) | Value::Label { text: t, .. } => buf.write_str(t),
        Value::Int(i) => write!(buf, "{i}"),
        Value::Real(f) => write!(buf, "{f}"),
        Value::Bool(b) => buf.write_str(match (b, lang) {
            (true, Lang::Zh) => "是",
            (false, Lang::Zh) => "否",
            (true, Lang::En) => "yes",
            (false, Lang::En) => "no",
        }),
        Value::Time(ms) => match local_naive(*ms) {
            Some(t) => write!(buf, "{}", t.format("%Y-%m-%d %H:%M:%S")),
            None => write!(buf, "{ms}"),
        },
    };
}

impl<W: Write + Send> Encoder for CsvEncoder<W> {
    fn row(&mut self, row: &[Value]) -> Result<(), LedgerError> {
        for v in row {
            text_of(v, self.lang, &mut self.buf);
            self.out.write_field(&self.buf).map_err(write_err)?;
        }
        self.out.write_record(std::iter::empty::<&[u8]>()).map_err(write_err)
    }

    fn finish(self: Box<Self>, _rows: u64) -> Result<(), LedgerError> {
        let mut inner = self.out.into_inner().map_err(|e| LedgerError::Write(e.to_string()))?;
        inner.flush()?;
        Ok(())
    }
}
