//! Ledgers and assessment over HTTP (issue 12; `docs/server-ledgers-api.md`):
//! `GET /api/v1/ledgers` describes the ledgers, `GET /api/v1/ledgers/{name}` downloads one as
//! JSON, CSV or XLSX — streamed from the database page by page, scoped like the staff query
//! API, audited — and `GET /api/v1/assessment` and `GET /api/v1/assessment/trend` answer the
//! assessment figures per area or worker, ranked, and month by month. Callers are the query
//! API's ([`Caller`]: a device credential or a staff session).

use axum::Json;
use axum::Router;
use axum::body::Body;
use axum::extract::{Path, Query, State};
use axum::http::{StatusCode, header};
use axum::response::Response;
use axum::routing::get;
use serde::Serialize;
use tokio::sync::mpsc;
use utoipa::{IntoParams, ToSchema};

use super::AppState;
use super::caller::Caller;
use super::query::ErrorBody;
use crate::error::{ApiError, ApiResult};
use crate::ledger::assessment::{self, Assessment, AssessmentQuery, Scopes, Trend};
use crate::ledger::filter::{LedgerQuery, filters_of};
use crate::ledger::names::Names;
use crate::ledger::stream::{BodyWriter, Export, audit};
use crate::ledger::{Format, Lang, Ledger, LedgerError};
use crate::query::{QueryError, scope};

impl From<LedgerError> for ApiError {
    fn from(e: LedgerError) -> ApiError {
        match e {
            LedgerError::Query(q) => q.into(),
            LedgerError::Store(s) => s.into(),
            LedgerError::NoSensitiveAccess => {
                ApiError::new(StatusCode::FORBIDDEN, "no_sensitive_access", e.to_string())
            }
            LedgerError::UnknownLedger(_) => {
                ApiError::new(StatusCode::NOT_FOUND, "unknown_ledger", e.to_string())
            }
            LedgerError::NoReadModel => {
                ApiError::new(StatusCode::SERVICE_UNAVAILABLE, "no_read_model", e.to_string())
            }
            LedgerError::Write(_) => {
                ApiError::new(StatusCode::INTERNAL_SERVER_ERROR, "export_failed", e.to_string())
            }
        }
    }
}

/// A ledger's description.
#[derive(Debug, Serialize, ToSchema)]
pub struct LedgerInfo {
    /// Its name in the path (`visits`).
    pub name: &'static str,
    /// Chinese title (`走访台账`).
    pub title_zh: &'static str,
    /// English title.
    pub title_en: &'static str,
    /// The filters it takes.
    pub filters: Vec<&'static str>,
    /// Its columns in order: `key` (JSON field), `zh` and `en` headings.
    pub columns: Vec<ColumnInfo>,
}

/// A column's description.
#[derive(Debug, Serialize, ToSchema)]
pub struct ColumnInfo {
    /// JSON field.
    pub key: &'static str,
    /// Chinese heading.
    pub zh: &'static str,
    /// English heading.
    pub en: &'static str,
}

/// The ledgers and their columns (no credential needed: it describes no records).
#[utoipa::path(
    get, path = "/api/v1/ledgers", tag = "ledgers",
    responses((status = 200, description = "The ledgers", body = [LedgerInfo]))
)]
pub async fn list_ledgers() -> Json<Vec<LedgerInfo>> {
    Json(
        Ledger::ALL
            .into_iter()
            .map(|l| LedgerInfo {
                name: l.segment(),
                title_zh: l.title(Lang::Zh),
                title_en: l.title(Lang::En),
                filters: filters_of(l).to_vec(),
                columns: l
                    .columns()
                    .iter()
                    .map(|c| ColumnInfo { key: c.key, zh: c.zh, en: c.en })
                    .collect(),
            })
            .collect(),
    )
}

/// A ledger download's parameters.
#[derive(Debug, IntoParams)]
#[into_params(parameter_in = Query)]
#[allow(dead_code)] // describes the query string for OpenAPI; parsed by `LedgerQuery::parse`
pub struct LedgerParams {
    /// `json` (default), `csv` (UTF-8 with BOM) or `xlsx`.
    format: Option<String>,
    /// `zh` (default) or `en`: headings and labels of CSV and XLSX.
    lang: Option<String>,
    /// Only rows within this area (any level); must lie within the caller's scope (else 403
    /// `out_of_scope`).
    #[param(example = "320612/004")]
    area: Option<String>,
    /// Period start (inclusive): `2026-11`, `2026-11-03` (China Standard Time), RFC 3339 or ms.
    /// Visits: visited; patrols: started; work orders: reported (server receive time);
    /// households: registered. Not for the key-population ledger.
    from: Option<String>,
    /// Period end (exclusive), same forms.
    to: Option<String>,
    /// Only this person's rows (user id): visitor, patrolling worker, reporter.
    worker: Option<String>,
    /// Household registry only: households with this tag code.
    tag: Option<String>,
}

/// A ledger, streamed as JSON, CSV or XLSX. Scoped like the query API (a grid worker's ledger
/// holds their grid only); the key-population ledger only for roles that read sensitive data
/// (else 403 `no_sensitive_access`). Every download is written to the audit log (action
/// `export`: who, which filter, how many rows) before the body ends.
#[utoipa::path(
    get, path = "/api/v1/ledgers/{name}", tag = "ledgers",
    params(("name" = String, Path, description = "households, visits, patrols, work-orders or key-population"), LedgerParams),
    responses(
        (status = 200, description = "The ledger: JSON `{ledger, title, columns, rows, row_count}`, CSV or XLSX"),
        (status = 400, description = "Unknown filter, bad value, area or period", body = ErrorBody),
        (status = 401, description = "No or unknown credential", body = ErrorBody),
        (status = 403, description = "Area outside the caller's scope; roles that read none of these (`no_record_access`); the key-population ledger to roles without sensitive data (`no_sensitive_access`)", body = ErrorBody),
        (status = 404, description = "No such ledger (`unknown_ledger`)", body = ErrorBody),
    ),
    security(("device" = []), ("session" = []))
)]
pub async fn download(
    caller: Caller,
    State(st): State<AppState>,
    Path(name): Path<String>,
    Query(pairs): Query<Vec<(String, String)>>,
) -> ApiResult<Response> {
    let ledger = Ledger::of_segment(&name)
        .ok_or_else(|| LedgerError::UnknownLedger(name.chars().take(40).collect()))?;
    let query = LedgerQuery::parse(ledger, &pairs)?;
    let what = ledger.title(Lang::En);
    let scopes = match scope::check(
        caller.grants(),
        caller.departments(),
        ledger.kind(),
        what,
        query.area.as_ref(),
    ) {
        Err(QueryError::NoAccess { .. }) if ledger == Ledger::KeyPopulation => {
            return Err(LedgerError::NoSensitiveAccess.into());
        }
        r => r?,
    };
    if st.store.ledger().is_none() {
        return Err(LedgerError::NoReadModel.into());
    }
    let export = Export {
        store: st.store.clone(),
        query: query.clone(),
        scopes,
        names: Names::load(&st.store).await?,
    };
    let (person, device) = match &caller {
        Caller::Device(d, _) => (Some(d.user.id), Some(d.device.id)),
        Caller::Staff(s, _) => (Some(s.user_id), None),
        Caller::AdminToken => (None, None),
    };
    let (tx, rx) = mpsc::channel::<Result<Vec<u8>, std::io::Error>>(4);
    let body_tx = tx.clone();
    let store = st.store.clone();
    let (format, audited) = (query.format, query.clone());
    tokio::spawn(async move {
        let by = if device.is_some() { "device" } else { "staff" };
        let outcome = match export.write(BodyWriter::new(tx)).await {
            Ok(rows) => audit(&store, &audited, rows, person, device, by).await,
            Err(e) => Err(e),
        };
        if let Err(e) = outcome {
            tracing::warn!(error = %e, "ledger export failed");
            let _ = body_tx.send(Err(std::io::Error::other(e.to_string()))).await;
        }
        // Dropping the last sender ends the body: after the audit entry is written.
    });
    let stream = futures_util::stream::unfold(rx, |mut rx| async move {
        rx.recv().await.map(|chunk| (chunk, rx))
    });
    let mut res = Response::builder()
        .status(StatusCode::OK)
        .header(header::CONTENT_TYPE, format.content_type())
        .header(header::CACHE_CONTROL, "no-store");
    if format != Format::Json {
        res = res.header(header::CONTENT_DISPOSITION, disposition(ledger, &query));
    }
    res.body(Body::from_stream(stream))
        .map_err(|e| ApiError::new(StatusCode::INTERNAL_SERVER_ERROR, "internal", e.to_string()))
}

/// `attachment` with an ASCII file name and the Chinese title (RFC 6266 / 5987).
fn disposition(ledger: Ledger, q: &LedgerQuery) -> String {
    let ext = q.format.extension();
    let title = ledger.title(q.lang);
    let encoded: String = format!("{title}.{ext}")
        .bytes()
        .map(|b| {
            if b.is_ascii_alphanumeric() || b"-._~".contains(&b) {
                char::from(b).to_string()
            } else {
                format!("%{b:02X}")
            }
        })
        .collect();
    format!(
        "attachment; filename=\"{}-ledger.{ext}\"; filename*=UTF-8''{encoded}",
        ledger.segment()
    )
}

/// Assessment parameters.
#[derive(Debug, IntoParams)]
#[into_params(parameter_in = Query)]
#[allow(dead_code)] // describes the query string for OpenAPI; parsed by `AssessmentQuery::parse`
pub struct AssessmentParams {
    /// Grouping: `district`, `town`, `community`, `grid` (default), `micro_grid` or `worker`
    /// (each grid worker's and liaison's role grant within the area).
    level: Option<String>,
    /// The area assessed (any level); default: the caller's area when they have one.
    #[param(example = "320612/004")]
    area: Option<String>,
    /// A month (`2026-11`, China Standard Time), instead of `from` and `to`.
    month: Option<String>,
    /// Period start (inclusive): `2026-11`, `2026-11-03`, RFC 3339 or ms.
    from: Option<String>,
    /// Period end (exclusive).
    to: Option<String>,
    /// Rank by: `visit_coverage` (default), `on_time_closure`, `satisfaction`, `awareness`,
    /// `visits`, `patrols`, `patrol_hours`, `incidents_reported`.
    rank_by: Option<String>,
}

/// The area a request assesses: the one asked for, else the caller's only household scope.
fn assessed_area(caller: &Caller, q: &AssessmentQuery) -> ApiResult<gridwork_core::AreaPath> {
    if let Some(a) = &q.area {
        return Ok(a.clone());
    }
    let scopes = scope::scopes_for(
        caller.grants(),
        caller.departments(),
        gridwork_core::RecordKind::Household,
    );
    match scopes.as_slice() {
        [one] => Ok(one.area.clone()),
        _ => Err(QueryError::Invalid {
            name: "area",
            reason: "give the area to assess (your roles cover several or none)".into(),
        }
        .into()),
    }
}

/// The assessment of an area for a period: the area's figures and each group's, ranked
/// (`docs/assessment.md`). The caller's roles must read households, visits, patrols and work
/// orders within the area.
#[utoipa::path(
    get, path = "/api/v1/assessment", tag = "ledgers",
    params(AssessmentParams),
    responses(
        (status = 200, description = "The assessment", body = Assessment),
        (status = 400, description = "Bad level, area, period or rank_by", body = ErrorBody),
        (status = 401, description = "No or unknown credential", body = ErrorBody),
        (status = 403, description = "Area outside the caller's scope, or roles that do not read what the assessment counts", body = ErrorBody),
    ),
    security(("device" = []), ("session" = []))
)]
pub async fn get_assessment(
    caller: Caller,
    State(st): State<AppState>,
    Query(pairs): Query<Vec<(String, String)>>,
) -> ApiResult<Json<Assessment>> {
    let q = AssessmentQuery::parse(&pairs)?;
    let area = assessed_area(&caller, &q)?;
    let scopes = Scopes::of(caller.grants(), caller.departments(), &area)?;
    Ok(Json(assessment::assess(&st.store, &q, &area, &scopes).await?))
}

/// Trend parameters.
#[derive(Debug, IntoParams)]
#[into_params(parameter_in = Query)]
#[allow(dead_code)] // describes the query string for OpenAPI; parsed by `AssessmentQuery::parse`
pub struct TrendParams {
    /// The area (any level); default: the caller's area when they have one.
    area: Option<String>,
    /// First month (`2026-06`).
    from: Option<String>,
    /// End (exclusive): `2026-12` gives the months up to November. At most 36 months.
    to: Option<String>,
}

/// The area's figures month by month (China Standard Time months).
#[utoipa::path(
    get, path = "/api/v1/assessment/trend", tag = "ledgers",
    params(TrendParams),
    responses(
        (status = 200, description = "The trend", body = Trend),
        (status = 400, description = "Bad area or period, or more than 36 months", body = ErrorBody),
        (status = 401, description = "No or unknown credential", body = ErrorBody),
        (status = 403, description = "Area outside the caller's scope, or roles that do not read what the assessment counts", body = ErrorBody),
    ),
    security(("device" = []), ("session" = []))
)]
pub async fn get_trend(
    caller: Caller,
    State(st): State<AppState>,
    Query(pairs): Query<Vec<(String, String)>>,
) -> ApiResult<Json<Trend>> {
    let q = AssessmentQuery::parse(&pairs)?;
    let area = assessed_area(&caller, &q)?;
    let scopes = Scopes::of(caller.grants(), caller.departments(), &area)?;
    Ok(Json(assessment::trend(&st.store, &q, &area, &scopes).await?))
}

/// The ledger and assessment routes.
pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/api/v1/ledgers", get(list_ledgers))
        .route("/api/v1/ledgers/{name}", get(download))
        .route("/api/v1/assessment", get(get_assessment))
        .route("/api/v1/assessment/trend", get(get_trend))
}
