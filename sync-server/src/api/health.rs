//! `GET /health` and `GET /metrics`.

use axum::Json;
use axum::extract::State;
use axum::http::{StatusCode, header};
use axum::response::{IntoResponse, Response};
use serde_json::json;

use super::AppState;
use crate::error::ApiError;

/// Liveness and database reachability: `{"status": "ok", "backend", "head_seq"}`, or 503.
pub async fn health(State(st): State<AppState>) -> Response {
    match st.store.head_seq().await {
        Ok(head) => {
            Json(json!({ "status": "ok", "backend": st.store.backend(), "head_seq": head }))
                .into_response()
        }
        Err(e) => {
            ApiError::new(StatusCode::SERVICE_UNAVAILABLE, "storage_unavailable", e.to_string())
                .into_response()
        }
    }
}

/// Prometheus metrics, text format.
pub async fn metrics(State(st): State<AppState>) -> Response {
    ([(header::CONTENT_TYPE, "text/plain; version=0.0.4")], st.metrics.render()).into_response()
}
