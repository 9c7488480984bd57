//! The district's reference data on the server (issue 11), on both backends: created once from
//! the defaults and the department registry as a server-authored change; pulled by every
//! device of the district whatever its scope (a micro-grid liaison, a department handler of the
//! whole district or of a town); refused when a device pushes it; edited through
//! `PUT /api/v1/reference` (validated whole, nothing written on error; a removed category kept
//! retired) and re-authored when the department registry changes.
#![allow(missing_docs, clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod common;

use automerge::AutoCommit;
use common::staff::{code, signed_in, staff};
use common::{area, pull, push, spawn};
use gridwork_core::reference::{ReferenceData, ReferenceSpec, reference_id};
use gridwork_core::{ChangeEnvelope, RecordKind, Role};
use gridwork_sync_server::config::Config;
use gridwork_sync_server::store::DynStore;
use gridwork_sync_server::{reference, server};
use reqwest::Method;
use serde_json::{Value, json};

const DISTRICT: &str = "320612";
const TOWN: &str = "320612/001";
const GRID: &str = "320612/001/001/01";
const MICRO: &str = "320612/001/001/01/01";

async fn areas(store: &DynStore) {
    for (p, name) in [
        (DISTRICT, "通州区"),
        (TOWN, "金沙街道"),
        ("320612/001/001", "幸福社区"),
        (GRID, "一网格"),
        (MICRO, "一微网格"),
    ] {
        store.put_area(&area(p), name).await.unwrap();
    }
}

/// The reference record as the changes a device pulled make it.
fn decoded(changes: &[ChangeEnvelope]) -> Option<ReferenceData> {
    let id = reference_id(&area(DISTRICT));
    let mine: Vec<automerge::Change> = changes
        .iter()
        .filter(|c| c.doc_id == id)
        .map(|c| {
            assert_eq!(c.kind, RecordKind::Reference);
            assert_eq!(c.area, area(DISTRICT));
            automerge::Change::from_bytes(c.bytes.clone()).unwrap()
        })
        .collect();
    if mine.is_empty() {
        return None;
    }
    let mut d = AutoCommit::new();
    d.apply_changes(mine).unwrap();
    Some(gridwork_core::spec::decode::<ReferenceSpec>(id, &d).unwrap().record)
}

async fn created_once_and_read_by_every_device(store: DynStore) {
    areas(&store).await;
    let s = spawn(store.clone()).await;
    let st = server::state(store.clone(), &Config::default());
    let liaison = s.device(&[(Role::Liaison, MICRO)], 11).await;
    let handler = s.device(&[(Role::DepartmentHandler, DISTRICT)], 12).await;
    let town_handler = s.device(&[(Role::DepartmentHandler, TOWN)], 13).await;
    let centre = s.device(&[(Role::DistrictCentre, DISTRICT)], 14).await;
    for h in [&handler, &town_handler] {
        store.departments().set_user_departments(h.user_id, &["sanitation".into()]).await.unwrap();
    }
    assert!(reference::load(&st, &area(DISTRICT)).await.unwrap().is_none());

    let head = store.head_seq().await.unwrap();
    reference::ensure_all(&st).await;
    assert_eq!(store.head_seq().await.unwrap(), head + 1, "one server-authored change");
    reference::ensure_all(&st).await;
    assert_eq!(store.head_seq().await.unwrap(), head + 1, "created once");

    let registry = store.departments().list_departments().await.unwrap();
    for dev in [&liaison, &handler, &town_handler, &centre] {
        let r = s.sync(dev, &pull(0)).await;
        let changes: Vec<ChangeEnvelope> = r.changes.into_iter().map(|c| c.change).collect();
        let data = decoded(&changes).expect("every device of the district receives it");
        assert_eq!(data.deadline_policy, Default::default());
        assert_eq!(data.categories, Default::default());
        let codes: Vec<&str> = data.departments.iter().map(|d| d.code.as_str()).collect();
        for d in &registry {
            assert!(codes.contains(&d.code.as_str()), "{} from the registry", d.code);
        }
    }

    // A device may not write it, whatever its role: refused, nothing stored.
    let id = reference_id(&area(DISTRICT));
    let mut d = gridwork_core::author::new_document(
        RecordKind::Reference,
        &area(DISTRICT),
        "u",
        &centre.actor,
        0,
    )
    .unwrap();
    gridwork_core::reference::write(&mut d, &area(DISTRICT), &ReferenceData::default(), "u")
        .unwrap();
    let (_, bytes) = gridwork_core::author::commit(&mut d, "u", "x", 0).unwrap().unwrap();
    let env =
        ChangeEnvelope { doc_id: id, kind: RecordKind::Reference, area: area(DISTRICT), bytes };
    let (status, err) = s.sync_err(&centre, &push(vec![env])).await;
    assert_eq!(status, 403);
    assert_eq!(err["error"]["code"], "reference_server_only", "{err}");
    assert_eq!(store.head_seq().await.unwrap(), head + 1);
}

both!(created_once_and_read_by_every_device_both, super::created_once_and_read_by_every_device);

fn edit() -> Value {
    let mut categories: Vec<Value> =
        serde_json::to_value(gridwork_core::work_order::CategoryList::default())
            .unwrap()
            .as_array()
            .unwrap()
            .iter()
            .filter(|c| c["code"] != "other")
            .cloned()
            .collect();
    categories
        .push(json!({"code": "elevator", "name_zh": "电梯安全", "name_en": "Elevator safety"}));
    json!({
        "categories": categories,
        "deadline_policy": {"urgent_hours": 1, "important_hours": 12, "ordinary_hours": 48,
                            "escalate_after_hours": 6},
        "tag_intervals": [{"tag": "rental", "days": 45}],
    })
}

async fn edited_by_the_district_and_validated(store: DynStore) {
    areas(&store).await;
    let s = spawn(store.clone()).await;
    let st = server::state(store.clone(), &Config::default());
    reference::ensure_all(&st).await;
    let worker = s.device(&[(Role::GridWorker, GRID)], 21).await;
    let first = s.sync(&worker, &pull(0)).await;
    staff(&s, "district", &[(Role::DistrictCentre, DISTRICT)]).await;
    staff(&s, "town", &[(Role::TownOperator, TOWN)]).await;
    let centre = signed_in(&s, "district").await;
    let town = signed_in(&s, "town").await;
    let put = |b: &common::staff::Browser, body: Value, csrf: bool| {
        let b = b.clone();
        async move { b.send(Method::PUT, "/api/v1/reference", Some(body), csrf).await }
    };
    let head = store.head_seq().await.unwrap();

    // Refusals: nothing written.
    let (st_, v) = put(&centre, edit(), false).await;
    assert_eq!(st_, 403, "no CSRF token: {v}");
    let (st_, v) = put(&town, edit(), true).await;
    assert_eq!((st_, code(&v)), (403, "forbidden"), "{v}");
    let mut bad = edit();
    bad["deadline_policy"]["urgent_hours"] = json!(0);
    let (st_, v) = put(&centre, bad, true).await;
    assert_eq!((st_, code(&v)), (400, "invalid_input"), "{v}");
    assert!(v["error"]["message"].as_str().unwrap().contains("urgent_hours"), "{v}");
    let mut bad = edit();
    bad["tag_intervals"] = json!([{"tag": "rental", "days": 45}, {"tag": "rental", "days": 9}]);
    let (st_, v) = put(&centre, bad, true).await;
    assert!(v["error"]["message"].as_str().unwrap().contains("listed twice"), "{st_} {v}");
    let mut bad = edit();
    bad["tag_intervals"] = json!([{"tag": "castle", "days": 45}]);
    let (st_, v) = put(&centre, bad, true).await;
    assert_eq!(st_, 400, "{v}");
    let mut bad = edit();
    bad["departments"] = json!([{"code": "x", "name_zh": "某", "name_en": "X",
                                 "categories": ["aliens"]}]);
    let (st_, v) = put(&centre, bad, true).await;
    assert!(v["error"]["message"].as_str().unwrap().contains("aliens"), "{st_} {v}");
    let mut bad = edit();
    bad["categories"][0]["code"] = json!("elevator");
    let (st_, v) = put(&centre, bad, true).await;
    assert!(v["error"]["message"].as_str().unwrap().contains("duplicate"), "{st_} {v}");
    assert_eq!(store.head_seq().await.unwrap(), head, "nothing written");

    // The district's edit: one change; `other` kept, retired.
    let (st_, v) = put(&centre, edit(), true).await;
    assert_eq!(st_, 200, "{v}");
    assert_eq!(v["stored"], true);
    assert_eq!(store.head_seq().await.unwrap(), head + 1);
    let data: ReferenceData = serde_json::from_value(v["data"].clone()).unwrap();
    assert!(data.categories.lookup("elevator").is_ok());
    assert!(data.categories.get("other").unwrap().retired);
    assert_eq!(data.deadline_policy.urgent_hours, 1);
    assert_eq!(data.interval_days(gridwork_core::HouseholdTag::Rental), 45);
    // The same edit again changes nothing.
    let (st_, v) = put(&centre, edit(), true).await;
    assert_eq!((st_, v["seq"].clone()), (200, Value::Null), "{v}");

    // Read by anyone signed in; pulled by the grid worker's device.
    let (st_, v) = town.get("/api/v1/reference").await;
    assert_eq!(st_, 200, "{v}");
    assert_eq!(v["data"]["deadline_policy"]["urgent_hours"], 1);
    let next = s.sync(&worker, &pull(first.next_cursor)).await;
    let id = reference_id(&area(DISTRICT));
    assert!(next.changes.iter().any(|c| c.change.doc_id == id), "the edit reaches the device");

    // A department added through the admin registry is re-authored into the record.
    let (st_, v) = s
        .admin_put(
            "/departments/elevator_office",
            json!({"code": "elevator_office", "name_zh": "电梯安全办", "name_en": "Elevator office",
                   "categories": ["elevator"]}),
        )
        .await;
    assert_eq!(st_, 200, "a district category is known to the registry: {v}");
    let now = reference::load(&st, &area(DISTRICT)).await.unwrap().unwrap();
    assert!(now.department("elevator_office").is_some());
    assert_eq!(now.deadline_policy.urgent_hours, 1, "other sections kept");

    // The admin token may edit too; departments given replace the registry's (others retired).
    let r = s
        .http
        .put(format!("{}/api/v1/reference", s.base))
        .bearer_auth(&s.admin)
        .header("content-type", "application/json")
        .body({
            let mut e = edit();
            e["departments"] = json!([{"code": "sanitation", "name_zh": "环卫所",
                                        "name_en": "Sanitation", "categories": ["sanitation"]}]);
            e.to_string()
        })
        .send()
        .await
        .unwrap();
    assert_eq!(r.status().as_u16(), 200);
    let v: Value = serde_json::from_slice(&r.bytes().await.unwrap()).unwrap();
    let deps = v["data"]["departments"].as_array().unwrap();
    let active: Vec<&str> =
        deps.iter().filter(|d| d["active"] == true).map(|d| d["code"].as_str().unwrap()).collect();
    assert_eq!(active, vec!["sanitation"], "{v}");
    let registry = store.departments().list_departments().await.unwrap();
    assert!(!registry.iter().find(|d| d.code == "elevator_office").unwrap().active);

    // A device credential reads it too, and may not edit it.
    let r = s
        .http
        .get(format!("{}/api/v1/reference?district={DISTRICT}", s.base))
        .bearer_auth(&worker.credential)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status().as_u16(), 200);
    let r = s
        .http
        .put(format!("{}/api/v1/reference", s.base))
        .bearer_auth(&worker.credential)
        .body(edit().to_string())
        .send()
        .await
        .unwrap();
    assert_eq!(r.status().as_u16(), 403);
    let r = s
        .http
        .get(format!("{}/api/v1/reference?district=999999", s.base))
        .bearer_auth(&worker.credential)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status().as_u16(), 404);
}

both!(edited_by_the_district_and_validated_both, super::edited_by_the_district_and_validated);
