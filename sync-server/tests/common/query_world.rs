//! A district for the staff query API's tests: the seeded demo (records made with the core's
//! model, as phones make them) plus a few records a grid worker's phone pushes through
//! `/v1/sync` (households named 王芳 and 张伟, a resident 李娜, her sensitive record), folded
//! into the read model; one enrolled device per role; and the read model's own rows as the
//! oracle of what each role may see.
#![allow(dead_code, clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::collections::BTreeSet;

use automerge::transaction::Transactable;
use chrono::Utc;
use gridwork_core::{
    AreaPath, ChangeEnvelope, HouseholdInput, HouseholdTag, RecordKind, Relation, ResidentInput,
    Role, author, sensitive::sensitive_id,
};
use gridwork_sync_server::demo;
use gridwork_sync_server::demo_records::CoreDemoRecords;
use gridwork_sync_server::read_model::projector::Projector;
use gridwork_sync_server::store::DynStore;
use serde_json::Value;
use uuid::Uuid;

use super::{TestDevice, TestServer, push, spawn};

pub const DISTRICT: &str = "320612";
pub const TOWN: &str = "320612/004";
pub const GRID: &str = "320612/004/017/03";
pub const MICRO: &str = "320612/004/017/03/02";
pub const OTHER_MICRO: &str = "320612/004/017/03/01";

/// The world of a query test.
pub struct World {
    pub server: TestServer,
    pub liaison: TestDevice,
    pub worker: TestDevice,
    pub town: TestDevice,
    pub district: TestDevice,
    pub handler: TestDevice,
    pub sync_admin: TestDevice,
    /// 王芳's household (in [`MICRO`]) and 张伟's (in [`OTHER_MICRO`]).
    pub wang_fang: Uuid,
    pub zhang_wei: Uuid,
    /// 李娜, a resident of 王芳's household, with a sensitive record.
    pub li_na: Uuid,
    /// The read model's rows, one `table|cell|…` line each.
    pub rows: Vec<String>,
}

/// A record a phone of `dev` makes: a new document, fields written by `write`, one change.
fn record(
    dev: &TestDevice,
    kind: RecordKind,
    id: Uuid,
    area: &str,
    write: impl FnOnce(&mut automerge::AutoCommit),
) -> ChangeEnvelope {
    let area = AreaPath::parse(area).unwrap();
    let user = dev.user_id.to_string();
    let now = Utc::now().timestamp_millis();
    let mut d = author::new_document(kind, &area, &user, &dev.actor, now).unwrap();
    write(&mut d);
    let (_, bytes) = author::commit(&mut d, &user, "create", now).unwrap().unwrap();
    ChangeEnvelope { doc_id: id, kind, area, bytes }
}

fn household(head: &str, address: &str, area: &str, tags: Vec<HouseholdTag>) -> HouseholdInput {
    HouseholdInput {
        area: AreaPath::parse(area).unwrap(),
        address: address.into(),
        building: None,
        unit: None,
        room: None,
        head_name: head.into(),
        member_count: 2,
        phone: None,
        tags,
    }
    .validated()
    .unwrap()
}

impl World {
    /// Seeds the demo into `store`, serves it, enrols a device per role, pushes the named
    /// records and folds everything into the read model.
    pub async fn new(store: DynStore) -> World {
        let server = spawn(store.clone()).await;
        demo::seed(&store, &CoreDemoRecords { households_per_worker: 12, seed: 7 }).await.unwrap();
        let liaison = server.device(&[(Role::Liaison, MICRO)], 11).await;
        let worker = server.device(&[(Role::GridWorker, GRID)], 12).await;
        let town = server.device(&[(Role::TownOperator, TOWN)], 13).await;
        let district = server.device(&[(Role::DistrictCentre, DISTRICT)], 14).await;
        let handler = server.device(&[(Role::DepartmentHandler, DISTRICT)], 15).await;
        // The handler works for the department the demo dispatches to.
        store
            .departments()
            .set_user_departments(handler.user_id, &[demo::DEMO_DEPARTMENT.to_owned()])
            .await
            .unwrap();
        let sync_admin = server.device(&[(Role::SyncAdmin, DISTRICT)], 16).await;

        let (wang_fang, zhang_wei, li_na) = (Uuid::now_v7(), Uuid::now_v7(), Uuid::now_v7());
        let h1 =
            household("王芳", "幸福小区3幢2单元301室", MICRO, vec![HouseholdTag::ElderlyAlone]);
        let h2 = household("张伟", "人民路8号", OTHER_MICRO, vec![]);
        let resident = ResidentInput {
            household_id: wang_fang,
            name: "李娜".into(),
            gender: gridwork_core::Gender::Female,
            birth_year: Some(1950),
            relation: Relation::Spouse,
            phone: None,
        }
        .validated()
        .unwrap();
        let micro = AreaPath::parse(MICRO).unwrap();
        let changes = vec![
            record(&worker, RecordKind::Household, wang_fang, MICRO, |d| h1.write(d).unwrap()),
            record(&worker, RecordKind::Household, zhang_wei, OTHER_MICRO, |d| {
                h2.write(d).unwrap();
            }),
            record(&worker, RecordKind::Resident, li_na, MICRO, |d| {
                resident.write(d, &micro).unwrap();
            }),
            record(&worker, RecordKind::Sensitive, sensitive_id(li_na), MICRO, |d| {
                d.put(automerge::ROOT, "resident_id", li_na.to_string()).unwrap();
                d.put(automerge::ROOT, "household_id", wang_fang.to_string()).unwrap();
                d.put(automerge::ROOT, "health", "高血压").unwrap();
            }),
        ];
        server.sync(&worker, &push(changes)).await;

        let rm = store.read_model().unwrap();
        Projector::new(1024, 1 << 20).catch_up(&store, rm, Utc::now()).await.unwrap();
        let rows = rm.rm_rows().await.unwrap();
        World {
            server,
            liaison,
            worker,
            town,
            district,
            handler,
            sync_admin,
            wang_fang,
            zhang_wei,
            li_na,
            rows,
        }
    }

    /// `GET path` with a bearer credential (none: `None`): status and JSON body.
    pub async fn get_as(&self, credential: Option<&str>, path: &str) -> (u16, Value) {
        let mut rb = self.server.http.get(format!("{}{path}", self.server.base));
        if let Some(c) = credential {
            rb = rb.bearer_auth(c);
        }
        let r = rb.send().await.unwrap();
        let status = r.status().as_u16();
        (status, serde_json::from_slice(&r.bytes().await.unwrap()).unwrap_or(Value::Null))
    }

    /// `GET path` as `dev`.
    pub async fn get(&self, dev: &TestDevice, path: &str) -> (u16, Value) {
        self.get_as(Some(&dev.credential), path).await
    }

    /// Every id a list answers for `dev`, following the cursor page by page (`limit` each);
    /// panics on a repeated id or a non-200.
    pub async fn all_ids(&self, dev: &TestDevice, path: &str, limit: u32) -> Vec<Uuid> {
        let sep = if path.contains('?') { '&' } else { '?' };
        let mut out = Vec::new();
        let mut cursor: Option<String> = None;
        for _ in 0..10_000 {
            let mut url = format!("{path}{sep}limit={limit}");
            if let Some(c) = &cursor {
                url.push_str(&format!("&cursor={c}"));
            }
            let (s, v) = self.get(dev, &url).await;
            assert_eq!(s, 200, "{url}: {v}");
            let items = v["items"].as_array().unwrap();
            assert!(items.len() <= limit as usize);
            for it in items {
                out.push(it["id"].as_str().unwrap().parse().unwrap());
            }
            match v["next_cursor"].as_str() {
                Some(c) => cursor = Some(c.to_owned()),
                None => break,
            }
        }
        let distinct: BTreeSet<Uuid> = out.iter().copied().collect();
        assert_eq!(distinct.len(), out.len(), "{path}: every record once");
        out
    }

    /// The rows of one read-model table, split into cells (text cells unquoted). The demo's
    /// and these tests' texts hold no `|`.
    pub fn table(&self, table: &str) -> Vec<Vec<String>> {
        self.rows
            .iter()
            .filter(|r| r.split('|').next() == Some(table))
            .map(|r| r.split('|').skip(1).map(|c| c.trim_matches('"').to_owned()).collect())
            .collect()
    }

    /// The ids (and area keys) of a table's live rows: cell 0 the id, cell 1 the area key, the
    /// last cell `deleted`.
    pub fn live(&self, table: &str) -> Vec<(Uuid, String)> {
        self.table(table)
            .into_iter()
            .filter(|c| c.last().map(String::as_str) == Some("false"))
            .map(|c| (c[0].parse().unwrap(), c[1].clone()))
            .collect()
    }
}

/// Whether a record of `table` in `area_key` is within a scope at `scope` (an area path): inside
/// it, or — tasks only, which reach sub-areas — in an area containing it.
pub fn visible(table: &str, area_key: &str, scope: &str) -> bool {
    area_key.starts_with(&format!("{scope}/"))
        || (table == "rm_tasks" && format!("{scope}/").starts_with(area_key))
}

/// Sorted ids.
pub fn sorted(mut ids: Vec<Uuid>) -> Vec<Uuid> {
    ids.sort();
    ids
}
