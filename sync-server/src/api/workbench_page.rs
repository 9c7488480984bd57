//! The command-centre workbench (issue 11): a static, bilingual (zh-CN / English) web app at
//! `/workbench` for staff signed in with their own accounts — today's figures, the work queues,
//! a work order's timeline and the actions their role may take, tasks. It reads the query API
//! and acts through the actions API (server-authored changes, DESIGN §8); its files are compiled
//! into the binary and served with the console's strict headers ([`super::web`]).

use axum::Router;

use super::AppState;

/// The workbench's files: name, content type, bytes.
pub(super) const FILES: super::web::Files = &[
    ("index.html", "text/html; charset=utf-8", include_str!("../../workbench/index.html")),
    ("app.js", "text/javascript; charset=utf-8", include_str!("../../workbench/app.js")),
    ("api.js", "text/javascript; charset=utf-8", include_str!("../../workbench/api.js")),
    ("charts.js", "text/javascript; charset=utf-8", include_str!("../../workbench/charts.js")),
    ("today.js", "text/javascript; charset=utf-8", include_str!("../../workbench/today.js")),
    ("queues.js", "text/javascript; charset=utf-8", include_str!("../../workbench/queues.js")),
    ("order.js", "text/javascript; charset=utf-8", include_str!("../../workbench/order.js")),
    ("tasks.js", "text/javascript; charset=utf-8", include_str!("../../workbench/tasks.js")),
    (
        "households.js",
        "text/javascript; charset=utf-8",
        include_str!("../../workbench/households.js"),
    ),
    ("patrols.js", "text/javascript; charset=utf-8", include_str!("../../workbench/patrols.js")),
    (
        "reference.js",
        "text/javascript; charset=utf-8",
        include_str!("../../workbench/reference.js"),
    ),
    ("i18n.js", "text/javascript; charset=utf-8", include_str!("../../workbench/i18n.js")),
    ("workbench.css", "text/css; charset=utf-8", include_str!("../../workbench/workbench.css")),
];

/// The workbench routes: `/workbench` serves the page, `/workbench/{name}` its files.
pub fn routes() -> Router<AppState> {
    super::web::routes("workbench", FILES)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_page_loads_only_its_own_files() {
        for (name, _, body) in FILES {
            // The SVG namespace is a name, not a link.
            let body = body.replace("http://www.w3.org/2000/svg", "");
            assert!(!body.contains("http://") && !body.contains("https://"), "{name} links out");
            if name.ends_with(".js") {
                for import in body.lines().filter(|l| l.starts_with("import ")) {
                    assert!(import.contains("\"/workbench/"), "{name}: {import}");
                }
            }
        }
    }
}
