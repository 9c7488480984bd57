//! Bad input to the staff query API, on both backends: unknown filters, bad areas, cursors,
//! limits and ids, SQL metacharacters, oversized search text, missing or unknown credentials —
//! each a clear JSON error with a stable code, nothing about the database leaked. And the
//! OpenAPI description served at `/api/openapi.json` covers the query endpoints.
//! PostgreSQL runs when `GRIDWORK_TEST_PG_URL` is set (and must under `CI`).
#![allow(missing_docs, clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod common;

use common::query_world::*;
use gridwork_sync_server::store::DynStore;

async fn bad_input(store: DynStore) {
    let w = World::new(store).await;
    let long_q = "王".repeat(65);
    let cases: Vec<(&str, u16, &str)> = vec![
        ("/api/v1/households?state=open", 400, "unknown_filter"),
        ("/api/v1/households?' OR 1=1 --=1", 400, "unknown_filter"),
        ("/api/v1/work-orders?tag=rental", 400, "unknown_filter"),
        ("/api/v1/work-orders?queue=to_nowhere", 400, "invalid_filter"),
        ("/api/v1/work-orders?department=%27%20OR%201=1", 400, "invalid_filter"),
        ("/api/v1/households?area=' OR 1=1 --", 400, "invalid_area"),
        ("/api/v1/households?area=%25", 400, "invalid_area"),
        ("/api/v1/households?area=_", 400, "invalid_area"),
        ("/api/v1/households?area=320612/004/", 400, "invalid_area"),
        ("/api/v1/households?cursor=' OR 1=1 --", 400, "invalid_cursor"),
        ("/api/v1/households?cursor=%25_", 400, "invalid_cursor"),
        ("/api/v1/households?limit=0", 400, "invalid_limit"),
        ("/api/v1/households?limit=501", 400, "invalid_limit"),
        ("/api/v1/households?limit=1;DROP TABLE rm_households", 400, "invalid_limit"),
        ("/api/v1/households?q=%25", 400, "invalid_filter"),
        ("/api/v1/households?q=_", 400, "invalid_filter"),
        ("/api/v1/households?q=a&q=b", 400, "invalid_filter"),
        ("/api/v1/households?tag=' OR '1'='1", 400, "invalid_filter"),
        ("/api/v1/work-orders?state=%25", 400, "invalid_filter"),
        ("/api/v1/work-orders?category=sanitation' --", 400, "invalid_filter"),
        ("/api/v1/work-orders?overdue=1", 400, "invalid_filter"),
        ("/api/v1/visits?worker=' OR 1=1 --", 400, "invalid_filter"),
        ("/api/v1/visits?from=yesterday", 400, "invalid_filter"),
        ("/api/v1/visits?from=2&to=1", 400, "invalid_filter"),
        ("/api/v1/visits?order=sideways", 400, "invalid_filter"),
        ("/api/v1/households/' OR 1=1 --", 400, "invalid_id"),
        ("/api/v1/residents/%25/sensitive", 400, "invalid_id"),
        ("/api/v1/households?area=320612/001", 403, "out_of_scope"),
        ("/api/v1/households?area=320612", 403, "out_of_scope"),
        ("/api/v1/nothing", 404, "not_found"),
    ];
    let mut all = cases;
    let long = format!("/api/v1/households?q={long_q}");
    all.push((&long, 400, "query_too_long"));
    for (path, status, code) in all {
        let (s, v) = w.get(&w.town, path).await;
        assert_eq!((s, v["error"]["code"].as_str()), (status, Some(code)), "{path}: {v}");
        let message = v["error"]["message"].as_str().unwrap().to_lowercase();
        for leak in ["select", "sqlite", "postgres", "rm_", "syntax"] {
            assert!(!message.contains(leak), "{path}: {message}");
        }
    }
    // 64 characters are fine; the area check is per role (a liaison's grid is outside).
    let (s, _) = w.get(&w.town, &format!("/api/v1/households?q={}", "王".repeat(64))).await;
    assert_eq!(s, 200);
    let (s, v) = w.get(&w.liaison, &format!("/api/v1/visits?area={GRID}")).await;
    assert_eq!((s, v["error"]["code"].as_str()), (403, Some("out_of_scope")), "{v}");
    let (s, v) = w.get(&w.worker, &format!("/api/v1/tasks?area={TOWN}")).await;
    assert_eq!((s, v["error"]["code"].as_str()), (403, Some("out_of_scope")), "{v}");

    // A cursor of pages oldest first does not continue pages newest first.
    let (_, v) = w.get(&w.town, "/api/v1/households?limit=1").await;
    let cursor = v["next_cursor"].as_str().unwrap();
    let (s, v) = w.get(&w.town, &format!("/api/v1/households?order=desc&cursor={cursor}")).await;
    assert_eq!((s, v["error"]["code"].as_str()), (400, Some("invalid_cursor")), "{v}");

    // Credentials.
    let (s, v) = w.get_as(None, "/api/v1/households").await;
    assert_eq!((s, v["error"]["code"].as_str()), (401, Some("missing_credential")), "{v}");
    let forged = format!("gwd_{}", "0".repeat(64));
    let (s, v) = w.get_as(Some(&forged), "/api/v1/households").await;
    assert_eq!((s, v["error"]["code"].as_str()), (401, Some("bad_credential")), "{v}");
    let (s, _) = w.get_as(Some("' OR 1=1 --"), "/api/v1/households").await;
    assert_eq!(s, 401);

    // The tables are still there and whole after all that.
    let before = w.all_ids(&w.district, "/api/v1/households", 500).await;
    assert_eq!(before.len(), w.live("rm_households").len());
}

both!(bad_input_is_refused, super::bad_input);

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn openapi_describes_the_query_api() {
    let s = common::sqlite().await;
    let server = common::spawn(s.store.clone()).await;
    let r = server.http.get(format!("{}/api/openapi.json", server.base)).send().await.unwrap();
    assert_eq!(r.status().as_u16(), 200);
    let doc: serde_json::Value = serde_json::from_slice(&r.bytes().await.unwrap()).unwrap();
    assert!(doc["openapi"].as_str().unwrap().starts_with("3."), "{doc}");
    let paths = doc["paths"].as_object().unwrap();
    for p in [
        "/api/v1/households",
        "/api/v1/households/{id}",
        "/api/v1/residents",
        "/api/v1/residents/{id}/sensitive",
        "/api/v1/visits",
        "/api/v1/patrols",
        "/api/v1/work-orders",
        "/api/v1/work-orders/{id}",
        "/api/v1/tasks",
    ] {
        assert!(paths[p]["get"].is_object(), "{p} missing");
    }
    // The actions people take through the server, with their bodies and both credentials.
    for p in ["/api/v1/work-orders/{id}/actions", "/api/v1/tasks"] {
        let post = &paths[p]["post"];
        assert!(post["requestBody"].is_object(), "{p}: {post}");
        assert_eq!(post["tags"][0], "actions", "{p}");
    }
    let schemes = &doc["components"]["securitySchemes"];
    assert_eq!(schemes["session"]["in"], "cookie", "{schemes}");
    assert_eq!(schemes["session"]["name"], "gw_session", "{schemes}");
    assert!(doc["components"]["schemas"]["ActionBody"]["properties"]["type"].is_object());
    let params: Vec<&str> = paths["/api/v1/work-orders"]["get"]["parameters"]
        .as_array()
        .unwrap()
        .iter()
        .map(|p| p["name"].as_str().unwrap())
        .collect();
    for f in ["area", "cursor", "limit", "state", "severity", "overdue", "open", "category"] {
        assert!(params.contains(&f), "work-order filter {f}: {params:?}");
    }
    let page = &doc["components"]["schemas"]["Page"];
    assert_eq!(page["type"], "object", "{page}");
    assert!(
        page["properties"]["items"].is_object() && page["properties"]["next_cursor"].is_object()
    );
    assert!(doc["components"]["securitySchemes"]["device"].is_object());
}
