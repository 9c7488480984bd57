//! The sync admin console: a static, bilingual (zh-CN / English) page served at `/console` that
//! drives the admin API from the browser. The files are compiled into the binary, so a deployment
//! is still one executable. The page holds no secret: the admin signs in with the admin token,
//! which stays in the browser tab.

use axum::Router;
use axum::extract::Path;
use axum::response::{Redirect, Response};
use axum::routing::get;

use super::AppState;

/// The console's files: name, content type, bytes.
const FILES: &[(&str, &str, &str)] = &[
    ("index.html", "text/html; charset=utf-8", include_str!("../../console/index.html")),
    ("console.js", "text/javascript; charset=utf-8", include_str!("../../console/console.js")),
    ("i18n.js", "text/javascript; charset=utf-8", include_str!("../../console/i18n.js")),
    ("console.css", "text/css; charset=utf-8", include_str!("../../console/console.css")),
];

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
    super::web::serve(FILES, name)
}

#[cfg(test)]
mod tests {
    use super::*;
    use axum::http::{StatusCode, header};

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
