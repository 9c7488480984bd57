//! Serving the staff web pages (the sync admin's console, the command-centre workbench): static
//! files compiled into the binary, each with the same strict security headers, so a deployment
//! is one executable and a page runs only its own code.

use axum::Router;
use axum::extract::Path;
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::get;

use super::AppState;
use crate::error::ApiError;

/// A page's files: name, content type, bytes.
pub type Files = &'static [(&'static str, &'static str, &'static str)];

/// Only the page's own files run; images from the server itself (photos) and data URLs (the
/// enrolment QR image); connections only back to the server (API, server-sent events).
pub const CSP: &str = "default-src 'none'; script-src 'self'; style-src 'self'; \
                       img-src 'self' data:; connect-src 'self'; form-action 'self'; \
                       base-uri 'none'; frame-ancestors 'none'";

/// A page's routes: `/{prefix}` and `/{prefix}/` serve its `index.html`, `/{prefix}/{name}` its
/// other files.
pub fn routes(prefix: &'static str, files: Files) -> Router<AppState> {
    Router::new()
        .route(&format!("/{prefix}"), get(move || async move { serve(files, "index.html") }))
        .route(&format!("/{prefix}/"), get(move || async move { serve(files, "index.html") }))
        .route(
            &format!("/{prefix}/{{name}}"),
            get(move |Path(name): Path<String>| async move { serve(files, &name) }),
        )
}

/// The file `name` of `files` with its type and security headers, or a JSON 404.
pub fn serve(files: Files, name: &str) -> Response {
    let Some((_, content_type, body)) = files.iter().find(|(n, _, _)| *n == name) else {
        return ApiError::new(StatusCode::NOT_FOUND, "not_found", "no such page file")
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

    /// Every page: each file is served with its type and the security headers; nothing
    /// outside the list is.
    #[test]
    fn every_file_is_served_with_its_type_and_csp() {
        for files in [super::super::console::FILES, super::super::workbench_page::FILES] {
            for (name, content_type, body) in files {
                let res = serve(files, name);
                assert_eq!(res.status(), StatusCode::OK, "{name}");
                assert_eq!(res.headers()[header::CONTENT_TYPE], *content_type);
                assert_eq!(res.headers()[header::CONTENT_SECURITY_POLICY], CSP);
                assert_eq!(res.headers()[header::X_CONTENT_TYPE_OPTIONS], "nosniff");
                assert!(!body.is_empty());
            }
            assert_eq!(serve(files, "../Cargo.toml").status(), StatusCode::NOT_FOUND);
            assert_eq!(serve(files, "secret").status(), StatusCode::NOT_FOUND);
        }
    }
}
