//! The staff query API (issue 10, item 2) on both backends: each role sees exactly what its
//! pulls would serve (liaison: their micro-grid, no sensitive data; grid worker: their grid with
//! sensitive data; town operator: their town; district centre: everything; department handler:
//! only the work orders dispatched to their department; a sync admin and the admin token: nothing); filters; Chinese search;
//! pagination covering every row exactly once. The read model's own rows are the oracle.
//! PostgreSQL runs when `GRIDWORK_TEST_PG_URL` is set (and must under `CI`).
#![allow(missing_docs, clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod common;

use std::collections::BTreeSet;

use common::TestDevice;
use common::query_world::*;
use gridwork_sync_server::store::{AuditAction, DynStore};
use uuid::Uuid;

const LISTS: [(&str, &str); 6] = [
    ("households", "rm_households"),
    ("residents", "rm_residents"),
    ("visits", "rm_visits"),
    ("patrols", "rm_patrols"),
    ("work-orders", "rm_work_orders"),
    ("tasks", "rm_tasks"),
];

async fn query_api(store: DynStore) {
    let w = World::new(store).await;
    scopes(&w).await;
    sensitive(&w).await;
    filters(&w).await;
    search(&w).await;
    pagination(&w).await;
    stats(&w).await;
}

/// The workbench's Today figures count exactly the oracle's rows: open orders, by severity,
/// per queue (a queue's count equals its list's length).
async fn stats(w: &World) {
    let d = &w.district;
    let (s, v) = w.get(d, "/api/v1/work-orders/stats").await;
    assert_eq!(s, 200, "{v}");
    let orders = w.table("rm_work_orders");
    let live: Vec<&Vec<String>> =
        orders.iter().filter(|c| c.last().is_some_and(|d| d == "false")).collect();
    let open = live.iter().filter(|c| c[9] == "true").count();
    assert_eq!(v["open"], open, "{v}");
    assert!(open > 0, "the demo leaves orders open");
    let severities: u64 =
        v["by_severity"].as_object().unwrap().values().map(|n| n.as_u64().unwrap()).sum();
    assert_eq!(severities as usize, open);
    for queue in [
        "to_accept",
        "to_dispatch",
        "to_sign",
        "to_handle",
        "to_verify",
        "to_close",
        "returned",
        "extensions",
        "conflicts",
        "supervised",
    ] {
        let listed = w.all_ids(d, &format!("/api/v1/work-orders?queue={queue}"), 500).await;
        assert_eq!(v["queues"][queue], listed.len(), "queue {queue}: {v}");
    }
    let (s, v) = w.get(&w.liaison, "/api/v1/work-orders/stats?area=320612").await;
    assert_eq!((s, v["error"]["code"].as_str()), (403, Some("out_of_scope")), "{v}");
}

/// Each role's lists hold exactly the live rows within its scope; kinds it may not read are
/// refused with 403.
async fn scopes(w: &World) {
    let roles: [(&TestDevice, &str, &[&str]); 5] = [
        (
            &w.liaison,
            MICRO,
            &["households", "residents", "visits", "patrols", "work-orders", "tasks"],
        ),
        (
            &w.worker,
            GRID,
            &["households", "residents", "visits", "patrols", "work-orders", "tasks"],
        ),
        (&w.town, TOWN, &["households", "residents", "visits", "patrols", "work-orders", "tasks"]),
        (
            &w.district,
            DISTRICT,
            &["households", "residents", "visits", "patrols", "work-orders", "tasks"],
        ),
        (&w.handler, DISTRICT, &["work-orders"]),
    ];
    for (dev, scope, readable) in roles {
        for (path, table) in LISTS {
            let url = format!("/api/v1/{path}");
            if !readable.contains(&path) {
                let (s, v) = w.get(dev, &url).await;
                assert_eq!(
                    (s, v["error"]["code"].as_str()),
                    (403, Some("no_record_access")),
                    "{v}"
                );
                continue;
            }
            let mut expected: Vec<Uuid> = w
                .live(table)
                .into_iter()
                .filter(|(_, area)| visible(table, area, scope))
                .map(|(id, _)| id)
                .collect();
            if std::ptr::eq(dev, &w.handler) {
                // A department handler: only the orders dispatched to their department.
                let mut theirs = Vec::new();
                for id in expected {
                    let deps = w.server.store.departments().doc_departments(id).await.unwrap();
                    if deps.iter().any(|d| d == gridwork_sync_server::demo::DEMO_DEPARTMENT) {
                        theirs.push(id);
                    }
                }
                assert!(!theirs.is_empty(), "the demo dispatched some to the handler's department");
                expected = theirs;
            }
            let got = w.all_ids(dev, &url, 500).await;
            assert_eq!(sorted(got.clone()), sorted(expected), "{scope} {path}");
            assert_eq!(got, sorted(got.clone()), "pages are in id order");
        }
    }
    // The demo's records lie in two grids of two towns: the scopes really differ.
    let mut n = Vec::new();
    for dev in [&w.liaison, &w.worker, &w.town, &w.district] {
        n.push(w.all_ids(dev, "/api/v1/households", 500).await.len());
    }
    let (micro, grid, town, all) = (n[0], n[1], n[2], n[3]);
    assert!(0 < micro && micro < grid && grid <= town && town < all, "{micro} {grid} {town} {all}");
    for (path, _) in LISTS {
        let (s, v) = w.get(&w.sync_admin, &format!("/api/v1/{path}")).await;
        assert_eq!((s, v["error"]["code"].as_str()), (403, Some("no_record_access")), "{v}");
        let (s, v) = w.get_as(Some(&w.server.admin), &format!("/api/v1/{path}")).await;
        assert_eq!((s, v["error"]["code"].as_str()), (403, Some("no_record_access")), "{v}");
    }
    // One record by id: within scope, or 404 (never told apart from a missing one).
    let one = format!("/api/v1/households/{}", w.zhang_wei);
    let (s, v) = w.get(&w.worker, &one).await;
    assert_eq!(s, 200, "{v}");
    assert_eq!(v["record"]["head_name"], "张伟");
    assert_eq!(v["area"], OTHER_MICRO);
    let (s, v) = w.get(&w.liaison, &one).await;
    assert_eq!((s, v["error"]["code"].as_str()), (404, Some("not_found")), "{v}");
    let (s, _) = w.get(&w.liaison, &format!("/api/v1/households/{}", Uuid::now_v7())).await;
    assert_eq!(s, 404);
}

/// Sensitive data only for roles that may read it, and never inside other records.
async fn sensitive(w: &World) {
    let path = format!("/api/v1/residents/{}/sensitive", w.li_na);
    for dev in [&w.worker, &w.town, &w.district] {
        let (s, v) = w.get(dev, &path).await;
        assert_eq!(s, 200, "{v}");
        assert_eq!(v["record"]["health"], "高血压", "{v}");
    }
    // Each of those reads is in the audit log, with the reader and the resident.
    let audit = w.server.store.list_audit(1000, None).await.unwrap();
    let reads: Vec<_> = audit.iter().filter(|e| e.action == AuditAction::ReadSensitive).collect();
    assert_eq!(reads.len(), 3, "{reads:?}");
    for dev in [&w.worker, &w.town, &w.district] {
        assert!(reads.iter().any(|e| e.device_id == Some(dev.id)
            && e.detail == format!("resident {}", w.li_na)));
    }
    let (s, v) = w.get(&w.liaison, &path).await;
    assert_eq!((s, v["error"]["code"].as_str()), (403, Some("no_record_access")), "{v}");
    let (s, _) = w.get(&w.handler, &path).await;
    assert_eq!(s, 403);
    // The liaison reads the resident, without anything sensitive in it.
    let (s, v) = w.get(&w.liaison, &format!("/api/v1/residents/{}", w.li_na)).await;
    assert_eq!(s, 200, "{v}");
    assert_eq!(v["record"]["name"], "李娜");
    assert!(!v.to_string().contains("高血压"));
    let (s, v) = w.get(&w.worker, &format!("/api/v1/residents/{}/sensitive", w.wang_fang)).await;
    assert_eq!(s, 404, "a household is no resident: {v}");
}

/// Filters give exactly the rows the oracle selects.
async fn filters(w: &World) {
    let d = &w.district;
    let orders = w.table("rm_work_orders");
    let live: Vec<&Vec<String>> =
        orders.iter().filter(|c| c.last().is_some_and(|d| d == "false")).collect();
    let pick = |f: &dyn Fn(&Vec<String>) -> bool| -> Vec<Uuid> {
        sorted(live.iter().filter(|c| f(c)).map(|c| c[0].parse().unwrap()).collect())
    };
    let now = chrono::Utc::now().timestamp_millis();
    let cases: Vec<(&str, Vec<Uuid>)> = vec![
        ("open=true", pick(&|c| c[9] == "true")),
        ("open=false", pick(&|c| c[9] == "false")),
        ("state=dispatched", pick(&|c| c[4] == "dispatched")),
        ("state=reported", pick(&|c| c[4] == "reported")),
        ("severity=urgent", pick(&|c| c[3] == "urgent")),
        ("category=sanitation", pick(&|c| c[2] == "sanitation")),
        ("overdue=true", pick(&|c| c[9] == "true" && c[6].parse::<i64>().is_ok_and(|d| d < now))),
        ("open=true&area=320612/004", pick(&|c| c[9] == "true" && c[1].starts_with("320612/004/"))),
        // The workbench's queues, judged by the oracle's columns: dept_states (12),
        // pending_ext (13), conflicts (16).
        ("queue=to_accept", pick(&|c| c[9] == "true" && c[4] == "reported")),
        ("queue=to_dispatch", pick(&|c| c[9] == "true" && c[4] == "accepted")),
        ("queue=to_sign", pick(&|c| c[9] == "true" && c[12].contains("=dispatched,"))),
        (
            "queue=to_handle",
            pick(&|c| {
                c[9] == "true" && (c[12].contains("=signed,") || c[12].contains("=handling,"))
            }),
        ),
        ("queue=extensions", pick(&|c| c[9] == "true" && c[13] != "0")),
        ("queue=conflicts", pick(&|c| c[16] != "0")),
        ("department=fire_rescue", pick(&|c| c[12].contains(",fire_rescue="))),
    ];
    for (query, expected) in cases {
        let got = w.all_ids(d, &format!("/api/v1/work-orders?{query}"), 500).await;
        assert_eq!(sorted(got), expected, "{query}");
    }
    assert!(!pick(&|c| c[4] == "dispatched").is_empty(), "the demo dispatches an order");
    assert!(!pick(&|c| c[12].contains("=dispatched,")).is_empty(), "one waits to be signed");

    // Households by tag; residents by household; visits by time and visitor.
    let tagged = w.all_ids(d, "/api/v1/households?tag=elderly_alone", 500).await;
    let expected: Vec<Uuid> = w
        .table("rm_households")
        .iter()
        .filter(|c| c[4].split(',').any(|t| t == "elderly_alone"))
        .map(|c| c[0].parse().unwrap())
        .collect();
    assert!(tagged.contains(&w.wang_fang));
    assert_eq!(sorted(tagged), sorted(expected));
    let of = w.all_ids(d, &format!("/api/v1/residents?household={}", w.wang_fang), 500).await;
    assert_eq!(of, vec![w.li_na]);
    let visits = w.table("rm_visits");
    let times: Vec<i64> = visits.iter().map(|c| c[4].parse().unwrap()).collect();
    let mid = {
        let mut t = times.clone();
        t.sort_unstable();
        t[t.len() / 2]
    };
    let got = w.all_ids(d, &format!("/api/v1/visits?from={mid}"), 500).await;
    assert_eq!(got.len(), times.iter().filter(|t| **t >= mid).count());
    let got = w.all_ids(d, &format!("/api/v1/visits?to={mid}"), 500).await;
    assert_eq!(got.len(), times.iter().filter(|t| **t < mid).count());
    let visitor = &visits[0][3];
    let got = w.all_ids(d, &format!("/api/v1/visits?worker={visitor}"), 500).await;
    assert_eq!(got.len(), visits.iter().filter(|c| &c[3] == visitor).count());
    let got = w
        .all_ids(d, "/api/v1/visits?from=2026-01-01T00:00:00%2B08:00&to=2026-01-02T00:00:00Z", 500)
        .await;
    assert!(got.is_empty());
}

/// Households whose head, address or residents hold `text` (a substring), from the oracle.
fn holding(w: &World, text: &str) -> Vec<Uuid> {
    let mut ids: BTreeSet<Uuid> = w
        .table("rm_households")
        .iter()
        .filter(|c| c[2].contains(text) || c[3].contains(text))
        .map(|c| c[0].parse().unwrap())
        .collect();
    for r in w.table("rm_residents").iter().filter(|c| c[3].contains(text)) {
        ids.insert(r[2].parse().unwrap());
    }
    ids.into_iter().collect()
}

/// Chinese text search: two characters, one character, pinyin, address parts; within scope.
async fn search(w: &World) {
    let d = &w.district;
    for (q, text) in [("王芳", "王芳"), ("张", "张"), ("李娜", "李娜"), ("幸福小区", "幸福小区")]
    {
        let got = w.all_ids(d, &format!("/api/v1/households?q={q}"), 500).await;
        assert_eq!(sorted(got), holding(w, text), "q={q}");
    }
    for q in ["王芳", "wangfang", "wf"] {
        let got = w.all_ids(&w.liaison, &format!("/api/v1/households?q={q}"), 500).await;
        assert!(got.contains(&w.wang_fang), "q={q}: {got:?}");
        assert!(got.len() <= holding(w, "").len());
    }
    // 李娜 finds 王芳's household (a resident's name) and, as a resident, herself.
    assert!(w.all_ids(d, "/api/v1/households?q=李娜", 500).await.contains(&w.wang_fang));
    assert_eq!(w.all_ids(&w.worker, "/api/v1/residents?q=李娜", 500).await, vec![w.li_na]);
    // Scope still applies: 张伟 lives outside the liaison's micro-grid.
    let got = w.all_ids(&w.liaison, "/api/v1/households?q=张伟", 500).await;
    assert!(!got.contains(&w.zhang_wei));
    assert!(w.all_ids(&w.worker, "/api/v1/households?q=张伟", 500).await.contains(&w.zhang_wei));
    // Search and filters combine.
    let got =
        w.all_ids(d, "/api/v1/households?q=王芳&tag=elderly_alone&area=320612/004", 500).await;
    assert!(got.contains(&w.wang_fang));
    // Text nobody holds.
    assert!(w.all_ids(d, "/api/v1/households?q=' OR 1=1 --", 500).await.is_empty());
}

/// Every page size covers every row exactly once, in id order.
async fn pagination(w: &World) {
    let all = w.all_ids(&w.district, "/api/v1/households", 500).await;
    assert!(all.len() > 20, "{}", all.len());
    let newest_first: Vec<Uuid> = all.iter().rev().copied().collect();
    for limit in [1, 3, 7, 100] {
        let paged = w.all_ids(&w.district, "/api/v1/households", limit).await;
        assert_eq!(paged, all, "limit {limit}");
        let paged = w.all_ids(&w.district, "/api/v1/households?order=desc", limit).await;
        assert_eq!(paged, newest_first, "limit {limit}, newest first");
    }
    // Filtered lists page the same way.
    let open = w.all_ids(&w.district, "/api/v1/work-orders?open=true", 500).await;
    assert_eq!(w.all_ids(&w.district, "/api/v1/work-orders?open=true", 2).await, open);
    let (s, v) = w.get(&w.district, "/api/v1/households").await;
    assert_eq!(s, 200);
    assert_eq!(v["items"].as_array().unwrap().len(), all.len().min(100));
    let (_, v) = w.get(&w.district, &format!("/api/v1/households?limit={}", all.len())).await;
    assert!(v["next_cursor"].is_null(), "the last page says so");
}

both!(staff_queries, super::query_api);
