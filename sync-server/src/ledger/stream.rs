//! A ledger export as a pipeline: the database is read one keyset page at a time
//! ([`super::sql::page`]) while a blocking thread encodes the previous page into the output
//! ([`Encoder`]: JSON, CSV or XLSX), with at most [`PAGES_IN_FLIGHT`] pages between them — so
//! memory holds a few pages whatever the ledger's length. The output is any [`Write`]: a file
//! (`gridwork-server export`) or the HTTP body ([`BodyWriter`], whose chunks a streamed response
//! sends as they come). An export that fails part-way never finishes its output: the encoder
//! is dropped without its trailer, and the HTTP body ends in an error instead of a short file
//! that looks whole.

use std::io::Write;

use tokio::sync::mpsc;

use super::filter::LedgerQuery;
use super::names::Names;
use super::sql::{self, PAGE_ROWS};
use super::store::Cell;
use super::{Format, Lang, Ledger, LedgerError, Value};
use crate::store::{AuditAction, AuditEntry, DynStore, ReadScope, now_ms};

/// Pages read ahead of the encoder.
pub const PAGES_IN_FLIGHT: usize = 2;

/// Bytes the HTTP body writer gathers before it sends a chunk.
const CHUNK_BYTES: usize = 64 * 1024;

/// Writes ledger rows in one format.
pub trait Encoder: Send {
    /// Writes one row (values in the ledger's column order).
    ///
    /// # Errors
    /// [`LedgerError::Write`].
    fn row(&mut self, row: &[Value]) -> Result<(), LedgerError>;

    /// Ends the output after `rows` rows (a JSON trailer; the XLSX workbook) and flushes it.
    ///
    /// # Errors
    /// [`LedgerError::Write`].
    fn finish(self: Box<Self>, rows: u64) -> Result<(), LedgerError>;
}

/// The encoder of `format` writing `ledger` to `out`.
///
/// # Errors
/// [`LedgerError::Write`] when the output cannot be started.
pub fn encoder<W: Write + Send + 'static>(
    format: Format,
    ledger: Ledger,
    lang: Lang,
    out: W,
) -> Result<Box<dyn Encoder>, LedgerError> {
    Ok(match format {
        Format::Json => Box::new(super::json::JsonEncoder::new(ledger, lang, out)?),
        Format::Csv => Box::new(super::csv::CsvEncoder::new(ledger, lang, out)?),
        Format::Xlsx => Box::new(super::xlsx::XlsxEncoder::new(ledger, lang, out)?),
    })
}

/// What flows from the reader to the encoder.
enum Msg {
    /// One page of rows.
    Page(Vec<Vec<Value>>),
    /// The ledger ended: finish the output.
    Done,
}

/// One export: which rows, for whom.
#[derive(Clone)]
pub struct Export {
    /// The store to read.
    pub store: DynStore,
    /// The checked request.
    pub query: LedgerQuery,
    /// The read scopes it is answered under.
    pub scopes: Vec<ReadScope>,
    /// Area and user names.
    pub names: Names,
}

impl Export {
    /// Writes the export to `out`; returns how many rows it held.
    ///
    /// # Errors
    /// [`LedgerError::NoReadModel`], storage errors, [`LedgerError::Write`]. On an error the
    /// output is left unfinished.
    pub async fn write<W: Write + Send + 'static>(self, out: W) -> Result<u64, LedgerError> {
        let Export { store, query, scopes, names } = self;
        let (ledger, format, lang) = (query.ledger, query.format, query.lang);
        let (tx, mut rx) = mpsc::channel::<Msg>(PAGES_IN_FLIGHT);
        let encode = tokio::task::spawn_blocking(move || -> Result<u64, LedgerError> {
            let mut enc = encoder(format, ledger, lang, out)?;
            let mut rows = 0u64;
            while let Some(msg) = rx.blocking_recv() {
                match msg {
                    Msg::Page(page) => {
                        for row in &page {
                            enc.row(row)?;
                        }
                        rows += page.len() as u64;
                    }
                    Msg::Done => {
                        enc.finish(rows)?;
                        return Ok(rows);
                    }
                }
            }
            Err(LedgerError::Write("the export stopped before its end".into()))
        });
        let read = async {
            let ls = store.ledger().ok_or(LedgerError::NoReadModel)?;
            let mut after: Option<Vec<u8>> = None;
            loop {
                let st = sql::page(ls.dialect(), &query, &scopes, after.as_deref(), PAGE_ROWS);
                let rows = ls.ledger_rows(&st, sql::cols(ledger)).await?;
                let more = rows.len() >= PAGE_ROWS as usize;
                if let Some(Cell::Bytes(last)) = rows.last().and_then(|r| r.first()) {
                    after = Some(last.clone());
                }
                let page = rows
                    .into_iter()
                    .map(|cells| sql::row(ledger, cells, &names, lang))
                    .collect::<Result<Vec<_>, _>>()?;
                if tx.send(Msg::Page(page)).await.is_err() {
                    // The encoder stopped: its error is the one to report.
                    return Ok(());
                }
                if !more {
                    break;
                }
            }
            // The encoder may have stopped meanwhile: its error is reported below.
            let _ = tx.send(Msg::Done).await;
            Ok::<(), LedgerError>(())
        };
        let read = read.await;
        drop(tx);
        let encoded = encode.await.map_err(|e| LedgerError::Write(format!("export task: {e}")))?;
        read?;
        encoded
    }
}

/// Writes the audit entry of a finished export: who (`person`, `device`), which ledger and
/// filter, how many rows.
///
/// # Errors
/// Storage errors.
pub async fn audit(
    store: &DynStore,
    query: &LedgerQuery,
    rows: u64,
    person: Option<uuid::Uuid>,
    device: Option<uuid::Uuid>,
    by: &str,
) -> Result<(), LedgerError> {
    store
        .audit(&AuditEntry {
            id: 0,
            at: now_ms(),
            user_id: person,
            device_id: device,
            action: AuditAction::Export,
            count: rows,
            areas: query.area.iter().map(|a| a.as_str().to_owned()).collect(),
            detail: format!("{} rows={rows} by={by}", query.describe()),
            actor_id: if device.is_none() { person } else { None },
        })
        .await?;
    Ok(())
}

/// A [`Write`] into a streamed HTTP body: bytes gather into chunks of 64 KiB, each sent to the
/// body's channel (waiting while the client is slower than the export). Used from the
/// encoder's blocking thread only.
pub struct BodyWriter {
    tx: mpsc::Sender<Result<Vec<u8>, std::io::Error>>,
    buf: Vec<u8>,
}

impl BodyWriter {
    /// A writer sending to `tx`.
    pub fn new(tx: mpsc::Sender<Result<Vec<u8>, std::io::Error>>) -> Self {
        BodyWriter { tx, buf: Vec::with_capacity(CHUNK_BYTES) }
    }

    fn send(&mut self) -> std::io::Result<()> {
        if self.buf.is_empty() {
            return Ok(());
        }
        let chunk = std::mem::replace(&mut self.buf, Vec::with_capacity(CHUNK_BYTES));
        self.tx.blocking_send(Ok(chunk)).map_err(|_| {
            std::io::Error::new(std::io::ErrorKind::BrokenPipe, "the client went away")
        })
    }
}

impl Write for BodyWriter {
    fn write(&mut self, data: &[u8]) -> std::io::Result<usize> {
        self.buf.extend_from_slice(data);
        if self.buf.len() >= CHUNK_BYTES {
            self.send()?;
        }
        Ok(data.len())
    }

    fn flush(&mut self) -> std::io::Result<()> {
        self.send()
    }
}
