//! `gridwork-server export <ledger> --format csv|xlsx|json --area … --from … --to … --out FILE`:
//! a ledger written to a file on the server's machine, against the configured database like the
//! other maintenance commands — for scheduled jobs. It reads what the read model holds (the
//! running server keeps it current). The file appears only when the export is complete (it is
//! written beside it under a `.partial` name, then renamed); every export is audited
//! (`by=cli`).

use std::io::BufWriter;
use std::path::PathBuf;

use gridwork_core::{AreaLevel, AreaPath};

use super::filter::LedgerQuery;
use super::names::Names;
use super::stream::{Export, audit};
use super::{Ledger, LedgerError};
use crate::store::{DynStore, ReadScope};

/// The `export` command's arguments.
#[derive(Debug, Clone, clap::Args)]
pub struct ExportArgs {
    /// The ledger: households, visits, patrols, work-orders, key-population.
    pub ledger: String,
    /// csv (UTF-8 with BOM), xlsx or json.
    #[arg(long, default_value = "csv")]
    pub format: String,
    /// Only rows within this area (any level, e.g. 320612/004); default: every district.
    #[arg(long)]
    pub area: Option<String>,
    /// Period start: a month (2026-11), a date (2026-11-03, China Standard Time), RFC 3339 or
    /// ms since the epoch.
    #[arg(long)]
    pub from: Option<String>,
    /// Period end (exclusive), in the same forms.
    #[arg(long)]
    pub to: Option<String>,
    /// Only this person's rows (user id): visitor, patrolling worker, reporter.
    #[arg(long)]
    pub worker: Option<String>,
    /// Headings and labels: zh (default) or en.
    #[arg(long, default_value = "zh")]
    pub lang: String,
    /// The file to write.
    #[arg(long)]
    pub out: PathBuf,
}

impl ExportArgs {
    /// The request these arguments make (checked like an API request's query string).
    ///
    /// # Errors
    /// [`LedgerError::UnknownLedger`]; [`LedgerError::Query`] naming the bad argument.
    pub fn query(&self) -> Result<LedgerQuery, LedgerError> {
        let ledger = Ledger::of_segment(&self.ledger)
            .ok_or_else(|| LedgerError::UnknownLedger(self.ledger.clone()))?;
        let mut pairs = vec![
            ("format".to_owned(), self.format.clone()),
            ("lang".to_owned(), self.lang.clone()),
        ];
        for (k, v) in
            [("area", &self.area), ("from", &self.from), ("to", &self.to), ("worker", &self.worker)]
        {
            if let Some(v) = v {
                pairs.push((k.to_owned(), v.clone()));
            }
        }
        Ok(LedgerQuery::parse(ledger, &pairs)?)
    }
}

/// Runs the export; returns the line to print.
///
/// # Errors
/// [`LedgerError`]: bad arguments, no area to export, storage, the file.
pub async fn run(store: &DynStore, args: &ExportArgs) -> Result<String, LedgerError> {
    let query = args.query()?;
    let areas: Vec<AreaPath> = match &query.area {
        Some(a) => vec![a.clone()],
        None => store
            .list_areas()
            .await?
            .into_iter()
            .map(|a| a.path)
            .filter(|p| p.level() == AreaLevel::District)
            .collect(),
    };
    if areas.is_empty() {
        return Err(LedgerError::Query(crate::query::QueryError::Invalid {
            name: "area",
            reason: "no district is registered: give --area".into(),
        }));
    }
    let scopes = areas.into_iter().map(|a| ReadScope::new(a, vec![query.ledger.kind()])).collect();
    let partial = args.out.with_extension(format!("{}.partial", query.format.extension()));
    let file = std::fs::File::create(&partial)?;
    let export = Export {
        store: store.clone(),
        query: query.clone(),
        scopes,
        names: Names::load(store).await?,
    };
    let started = std::time::Instant::now();
    let rows = match export.write(BufWriter::with_capacity(256 * 1024, file)).await {
        Ok(rows) => rows,
        Err(e) => {
            let _ = std::fs::remove_file(&partial);
            return Err(e);
        }
    };
    std::fs::rename(&partial, &args.out)?;
    audit(store, &query, rows, None, None, "cli").await?;
    let secs = started.elapsed().as_secs_f64();
    Ok(format!(
        "Wrote {rows} rows of the {} ledger to {} in {secs:.2} s ({:.0} rows/s).\n",
        query.ledger.segment(),
        args.out.display(),
        rows as f64 / secs.max(1e-9),
    ))
}
