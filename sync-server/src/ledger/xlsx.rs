//! XLSX downloads with `rust_xlsxwriter` in constant-memory mode: each row is written to the
//! worksheet's temporary file as it comes and only one row is held in memory; the workbook is
//! assembled into the output (a file, or the HTTP body) when the ledger ends. Cells are typed —
//! numbers as numbers, yes/no as booleans, times as Excel dates (China Standard Time,
//! `yyyy-mm-dd hh:mm:ss`) — under a bold, frozen header row of headings in the chosen language.
//! A ledger longer than a worksheet (1,048,576 rows) continues on further sheets, each with its
//! header.

use std::io::Write;

use rust_xlsxwriter::{ExcelDateTime, Format, Workbook, Worksheet, XlsxError};

use super::stream::Encoder;
use super::{CST_OFFSET_SECONDS, Lang, Ledger, LedgerError, Value};

/// Rows per worksheet, the header included (Excel's limit).
const SHEET_ROWS: u32 = 1_048_576;

/// Writes a ledger as an XLSX workbook.
pub struct XlsxEncoder<W: Write + Send> {
    out: W,
    workbook: Workbook,
    sheets: Vec<Worksheet>,
    ledger: Ledger,
    lang: Lang,
    row: u32,
    date: Format,
    header: Format,
}

fn xlsx_err(e: XlsxError) -> LedgerError {
    LedgerError::Write(format!("xlsx: {e}"))
}

impl<W: Write + Send> XlsxEncoder<W> {
    /// A workbook for `ledger`, written to `out` when it finishes.
    ///
    /// # Errors
    /// [`LedgerError::Write`] when the worksheet's temporary file cannot be made.
    pub fn new(ledger: Ledger, lang: Lang, out: W) -> Result<Self, LedgerError> {
        let mut e = XlsxEncoder {
            out,
            workbook: Workbook::new(),
            sheets: Vec::new(),
            ledger,
            lang,
            row: 0,
            date: Format::new().set_num_format("yyyy-mm-dd hh:mm:ss"),
            header: Format::new().set_bold(),
        };
        e.new_sheet()?;
        Ok(e)
    }

    /// Starts a worksheet with the header row frozen.
    fn new_sheet(&mut self) -> Result<(), LedgerError> {
        let mut ws = self.workbook.new_worksheet_with_constant_memory().map_err(xlsx_err)?;
        let title = self.ledger.title(self.lang);
        let name = if self.sheets.is_empty() {
            title.to_owned()
        } else {
            format!("{title} {}", self.sheets.len() + 1)
        };
        ws.set_name(name).map_err(xlsx_err)?;
        for (i, c) in self.ledger.columns().iter().enumerate() {
            let i = u16::try_from(i).map_err(|_| LedgerError::Write("too many columns".into()))?;
            let width = match c.key {
                k if k.ends_with("_at") || k == "id" => 20.0,
                "address" | "title" => 30.0,
                _ => 14.0,
            };
            ws.set_column_width(i, width).map_err(xlsx_err)?;
            ws.write_string_with_format(0, i, c.heading(self.lang), &self.header)
                .map_err(xlsx_err)?;
        }
        ws.set_freeze_panes(1, 0).map_err(xlsx_err)?;
        self.sheets.push(ws);
        self.row = 1;
        Ok(())
    }
}

impl<W: Write + Send> Encoder for XlsxEncoder<W> {
    fn row(&mut self, row: &[Value]) -> Result<(), LedgerError> {
        if self.row >= SHEET_ROWS {
            self.new_sheet()?;
        }
        let (r, date) = (self.row, &self.date);
        let Some(ws) = self.sheets.last_mut() else {
            return Err(LedgerError::Write("no worksheet".into()));
        };
        for (c, v) in row.iter().enumerate() {
            let c = u16::try_from(c).map_err(|_| LedgerError::Write("too many columns".into()))?;
            match v {
                Value::Null => continue,
                Value::Text(t) => ws.write_string(r, c, t),
                Value::Label { text, .. } => ws.write_string(r, c, text),
                Value::Int(i) => ws.write_number(r, c, *i as f64),
                Value::Real(f) => ws.write_number(r, c, *f),
                Value::Bool(b) => ws.write_boolean(r, c, *b),
                Value::Time(ms) => {
                    let local = ms.div_euclid(1000) + i64::from(CST_OFFSET_SECONDS);
                    match ExcelDateTime::from_timestamp(local) {
                        Ok(t) => ws.write_datetime_with_format(r, c, t, date),
                        Err(_) => ws.write_number(r, c, *ms as f64),
                    }
                }
            }
            .map_err(xlsx_err)?;
        }
        self.row += 1;
        Ok(())
    }

    fn finish(self: Box<Self>, _rows: u64) -> Result<(), LedgerError> {
        let XlsxEncoder { mut out, mut workbook, sheets, .. } = *self;
        for ws in sheets {
            workbook.push_worksheet(ws);
        }
        workbook.save_to_writer(&mut out).map_err(xlsx_err)?;
        out.flush()?;
        Ok(())
    }
}
