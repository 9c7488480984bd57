//! The sync admin console: a static, bilingual (zh-CN / English) page served at `/console` that
//! drives the admin API from the browser. The files are compiled into the binary, so a deployment
//! is still one executable. The page holds no secret: the admin signs in with the admin token,
//! which stays in the browser tab.

use axum::Router;
use axum::extract::Path;
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Redirect, Response};
use axum::routing::get;

use super::AppState;
use crate::error::ApiError;

/// The console's files: name, content type, bytes.
const FILES: &[(&str, &str, &str)] = &[
    ("index.html", "text/html; charset=utf-8", include_str!("../../console/index.html")),
    ("console.js", "text/javascript; charset=utf-8", include_str!("../../console/console.js")),
    ("i18n.js", "text/javascript; charset=utf-8", include_str!("../../console/i18n.js")),
    ("console.css", "text/css; charset=utf-8", include_str!("../../console/console.css")),
];

/// Only the page's own files run; data URLs are allowed for the enrolment QR image only.
const CSP: &str = "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data:; \
                   connect-src 'self'; form-action 'self'; base-uri 'none'; frame-ancestors 'none'";

/// The console routes: `/` redirects to `/console`, which serves the page and its files.
pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/", get(|| async { Redirect::to("/console") }))
        .route("/console", get(|| async { file("index.html") }))
        .route("/console/", get(|| async { file("index.html") }))
        .route("/console/{name}", get(|Path(name): Path<String>| async move { file(&name) }))
}

/// One of the console's files with its security headers, or a JSON 404.
fn file(name: &str) -> Response {
    let Some((_, content_type, body)) = FILES.iter().find(|(n, _, _)| *n == name) else {
        return ApiError::new(StatusCode::NOT_FOUND, "not_found", "no such console file")
            .into_response();
    };
    let mut res = (*body).into_response();
    let h = res.headers_mut();
    h.insert(header::CONTENT_TYPE, HeaderValue::from_static(content_type));
    h.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-cache"));
    h.insert(header::CONTENT_SECURITY_POLICY, HeaderValue::from_static(CSP));
    h.insert(header::X_CONTENT_TYPE_OPTIONS, HeaderValue::from_static("nosniff"));
    h.insert(header::REFERRER_POLICY, HeaderValue::from_static("no-referrer"));
    h.insert(header::X_FRAME_OPTIONS, HeaderValue::from_static("DENY"));
    res
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_file_is_served_with_its_type_and_csp() {
        for (name, content_type, body) in FILES {
            let res = file(name);
            assert_eq!(res.status(), StatusCode::OK, "{name}");
            assert_eq!(res.headers()[header::CONTENT_TYPE], *content_type);
            assert!(res.headers().contains_key(header::CONTENT_SECURITY_POLICY));
            assert!(!body.is_empty());
        }
        assert_eq!(file("../Cargo.toml").status(), StatusCode::NOT_FOUND);
        assert_eq!(file("secret").status(), StatusCode::NOT_FOUND);
    }

    #[test]
    fn the_page_loads_only_its_own_files() {
        let (_, _, html) = FILES[0];
        for (name, _, _) in &FILES[1..] {
            if name.ends_with(".css") || *name == "console.js" {
                assert!(html.contains(&format!("/console/{name}")), "{name} not referenced");
            }
        }
        assert!(!html.contains("http://") && !html.contains("https://"));
    }
}
