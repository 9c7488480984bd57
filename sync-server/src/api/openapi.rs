//! The OpenAPI description of the HTTP API, generated from the handlers' annotations
//! (`utoipa`) and served at `GET /api/openapi.json`. To describe another endpoint: annotate its
//! handler with `#[utoipa::path(…)]` and add it to `paths(…)` below (its body types to
//! `components(schemas(…))` when they derive `ToSchema`).

use axum::Json;
use utoipa::openapi::security::{ApiKey, ApiKeyValue, HttpAuthScheme, HttpBuilder, SecurityScheme};
use utoipa::{Modify, OpenApi};

use super::{actions, hotline, ledgers, query, reference, workbench};

/// The API description.
#[derive(OpenApi)]
#[openapi(
    info(
        title = "Gridwork sync server",
        description = "The staff query API over the server's read model (docs/server-query-api.md) and the actions people take through the server (docs/server-actions-api.md)."
    ),
    paths(
        query::list_households, query::get_household,
        query::list_residents, query::get_resident, query::sensitive,
        query::list_visits, query::get_visit,
        query::list_patrols, query::get_patrol,
        query::list_work_orders, query::get_work_order,
        query::list_tasks, query::get_task,
        actions::act_on_work_order, actions::issue_task,
        workbench::work_order_stats, workbench::areas, workbench::departments, workbench::people,
        workbench::allowed_actions,
        ledgers::list_ledgers, ledgers::download, ledgers::get_assessment, ledgers::get_trend,
        reference::get, reference::put,
        hotline::create_order, hotline::update_order, hotline::order_state, hotline::order_photo,
        hotline::events,
        hotline::reconciliation, hotline::run_reconciliation,
    ),
    components(schemas(
        query::Page, query::Item, query::ErrorBody, query::ErrorDetail,
        actions::ActionBody, actions::PhotoUpload, actions::TaskBody,
        crate::query::stats::WorkOrderStats, workbench::AreaEntry, workbench::AllowedAction,
        ledgers::LedgerInfo, ledgers::ColumnInfo,
        crate::ledger::assessment::Assessment, crate::ledger::assessment::Trend,
        crate::ledger::assessment::Month, crate::ledger::assessment::Group,
        crate::ledger::assessment::Figures, crate::ledger::assessment::Rate,
        reference::ReferenceBody, crate::reference::ReferenceEdit,
    )),
    modifiers(&Security),
    tags(
        (name = "records", description = "The read model's records, scoped by the caller's roles"),
        (name = "actions", description = "Steps and tasks taken through the server: server-authored changes"),
        (name = "workbench", description = "The command-centre workbench's figures and directory"),
        (name = "ledgers", description = "Ledgers (台账) downloaded as JSON, CSV or XLSX, and the assessment (考核) figures"),
        (name = "reference", description = "The district's reference data (docs/reference-data.md)"),
        (name = "hotline", description = "The 12345 hotline platform's signed exchange (docs/12345-exchange.md)")
    )
)]
pub struct ApiDoc;

/// Declares the bearer credential the record endpoints take.
struct Security;

impl Modify for Security {
    fn modify(&self, openapi: &mut utoipa::openapi::OpenApi) {
        let components = openapi.components.get_or_insert_with(Default::default);
        components.add_security_scheme(
            "device",
            SecurityScheme::Http(
                HttpBuilder::new()
                    .scheme(HttpAuthScheme::Bearer)
                    .description(Some("A device credential `gwd_…` (its user's role grants)"))
                    .build(),
            ),
        );
        components.add_security_scheme(
            "admin",
            SecurityScheme::Http(
                HttpBuilder::new()
                    .scheme(HttpAuthScheme::Bearer)
                    .description(Some("The sync admin token `gwa_…` (automation)"))
                    .build(),
            ),
        );
        components.add_security_scheme(
            "session",
            SecurityScheme::ApiKey(ApiKey::Cookie(ApiKeyValue::with_description(
                "gw_session",
                "A staff member's browser session (POST /api/v1/session); changes also need the \
                 session's CSRF token in `X-CSRF-Token`",
            ))),
        );
    }
}

/// `GET /api/openapi.json`.
pub async fn openapi_json() -> Json<utoipa::openapi::OpenApi> {
    Json(ApiDoc::openapi())
}
