//! Two real `gridwork-server` processes on one database (issue 13): the platform sends every
//! create, update and repeat to both at once — the same order numbers racing in two processes —
//! and both outboxes drain the same queue. Exactly one work order per order number, each update
//! applied once, and every step delivered to the platform exactly once (a healthy platform: no
//! delivery is repeated for a lost answer, so any second delivery would be a race); the events
//! poll lists every step once. On PostgreSQL, the shared database several servers run on; on
//! SQLite, one file two processes open by mistake (or on purpose, on one host).
#![allow(missing_docs, clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod common;
mod hotline_common;

use std::collections::BTreeMap;
use std::time::Duration;

use common::*;
use gridwork_tests::{Backend, Device, HarnessResult, Proxy};
use hotline_common::*;
use serde_json::json;

const ORDERS: usize = 40;

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn two_servers_one_database() {
    match Backend::postgres().await {
        Err(e) => panic!("postgres: {e}"),
        Ok(None) => {}
        Ok(Some(b)) => {
            if let Err(e) = race(b).await {
                panic!("postgres: {e}");
            }
        }
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn two_servers_one_sqlite_file() {
    if let Err(e) = race(Backend::Sqlite).await {
        panic!("sqlite: {e}");
    }
}

async fn race(backend: Backend) -> HarnessResult<()> {
    let sim = SimPlatform::start(Faults::None).await?;
    let (a, proxy_a) = world(backend).await?;
    let b = a.start_sharing().await?;
    let proxy_b = Proxy::start(b.addr).await?;
    register(&a, &sim, json!({})).await?;
    let urls = [proxy_a.url.clone(), proxy_b.url.clone()];

    // Every message goes to both servers at the same moment; for every third order an update
    // races ahead of its create.
    let mut racing = tokio::task::JoinSet::new();
    for i in 0..ORDERS {
        let number = format!("HL-MI-{i}");
        let urls = urls.clone();
        racing.spawn(async move {
            let create = order_message(&number, &format!("c-{i}"), MICRO_A);
            let update = json!({ "message_id": format!("u-{i}"), "kind": "supplement",
                                 "text": format!("补充{i}") });
            let path = format!("/hotline/v1/orders/{number}/updates");
            let mut answers = Vec::new();
            if i % 3 == 0 {
                let (x, y) = tokio::join!(
                    hotline_post(&urls[0], &path, &update),
                    hotline_post(&urls[1], &path, &update)
                );
                answers.push(("update", x?));
                answers.push(("update", y?));
            }
            let (x, y) = tokio::join!(
                hotline_post(&urls[0], "/hotline/v1/orders", &create),
                hotline_post(&urls[1], "/hotline/v1/orders", &create)
            );
            answers.push(("create", x?));
            answers.push(("create", y?));
            if i % 3 != 0 {
                let (x, y) = tokio::join!(
                    hotline_post(&urls[0], &path, &update),
                    hotline_post(&urls[1], &path, &update)
                );
                answers.push(("update", x?));
                answers.push(("update", y?));
            }
            Ok::<_, gridwork_tests::HarnessError>((number, answers))
        });
    }
    let mut work_orders = BTreeMap::new();
    while let Some(done) = racing.join_next().await {
        let (number, answers) = done??;
        let created: Vec<_> = answers.iter().filter(|(k, _)| *k == "create").collect();
        let made = created.iter().filter(|(_, (s, _))| *s == 201).count();
        assert_eq!(made, 1, "{number}: one create makes the order: {answers:?}");
        let id0 = created[0].1.1["work_order_id"].clone();
        assert!(created.iter().all(|(_, (_, v))| v["work_order_id"] == id0), "{answers:?}");
        for (kind, (s, v)) in &answers {
            assert!([200, 201, 202].contains(s), "{number} {kind}: {s} {v}");
        }
        work_orders.insert(number, id0.as_str().unwrap().to_owned());
    }

    // The district centre's phone sees one order per number, each supplement applied once.
    let centre = Device::new()?;
    centre.enrol_new_user(&a, &urls[0], "区指挥中心", "district_centre", "320612").await?;
    centre.sync().await?;
    assert_eq!(centre.count(gridwork_core::RecordKind::WorkOrder)?, ORDERS as u64);
    for (number, id) in &work_orders {
        let i: usize = number.trim_start_matches("HL-MI-").parse()?;
        let order = centre.with(|s| s.work_orders().get(id.parse().unwrap()))?;
        let applied = order.description.matches(&format!("】补充{i}")).count();
        assert_eq!(applied, 1, "{number}: {}", order.description);
    }

    // The centre accepts every order, half through each server; both outboxes drain one queue.
    let key = centre.enrolment()?.credential;
    for (k, id) in work_orders.values().enumerate() {
        act_on(&urls[k % 2], &key, id, json!({ "type": "accept" })).await?;
    }
    assert_eq!(sim.wait_for_steps(ORDERS, 60).await, ORDERS, "every accept delivered");
    tokio::time::sleep(Duration::from_secs(3)).await;
    {
        let p = sim.seen.lock().unwrap();
        assert_eq!(p.steps.len(), ORDERS);
        let twice: Vec<_> = p.deliveries.iter().filter(|(_, n)| **n != 1).collect();
        assert!(twice.is_empty(), "steps delivered more than once: {twice:?}");
        assert_eq!(p.calls, ORDERS, "one call per step");
        assert_eq!(p.bad_signatures, 0);
    }

    // The events poll, in small pages through both servers in turn, lists every step once.
    let http = reqwest::Client::new();
    let (mut cursor, mut polled) = (0i64, Vec::new());
    for page in 0.. {
        let path = format!("/hotline/v1/events?cursor={cursor}&limit=7");
        let (s, v) = hotline_request(&http, &urls[page % 2], "GET", &path, None).await?;
        assert_eq!(s, 200, "{v}");
        let events = v["events"].as_array().ok_or("no events")?;
        if events.is_empty() {
            break;
        }
        polled.extend(events.iter().map(|e| e["step"]["step_id"].to_string()));
        cursor = v["next_cursor"].as_i64().ok_or("no cursor")?;
    }
    let unique: std::collections::BTreeSet<_> = polled.iter().collect();
    assert_eq!((polled.len(), unique.len()), (ORDERS, ORDERS), "each step polled once");
    Ok(())
}
