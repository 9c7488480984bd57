//! The sync admin console: a static, bilingual (zh-CN / English) page served at `/console` that
//! drives the admin API from the browser. The files are compiled into the binary, so a deployment
//! is still one executable. The page holds no secret: the admin signs in with the admin token,
//! which stays in the browser tab.

use axum::Router;
use axum::response::Redirect;
use axum::routing::get;

use super::AppState;

/// The console's files: name, content type, bytes.
pub(super) const FILES: super::web::Files = &[
    ("index.html", "text/html; charset=utf-8", include_str!("../../console/index.html")),
    ("console.js", "text/javascript; charset=utf-8", include_str!("../../console/console.js")),
    ("i18n.js", "text/javascript; charset=utf-8", include_str!("../../console/i18n.js")),
    ("console.css", "text/css; charset=utf-8", include_str!("../../console/console.css")),
];

/// The console routes: `/` redirects to `/console`, which serves the page and its files.
pub fn routes() -> Router<AppState> {
    super::web::routes("console", FILES).route("/", get(|| async { Redirect::to("/console") }))
}

#[cfg(test)]
mod tests {
    use super::*;

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
