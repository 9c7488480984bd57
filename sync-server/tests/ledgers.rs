//! Ledgers, exports and assessment (issue 12) on both backends, over a seeded town whose
//! figures are worked out by hand below: three grids of town 004 (and one grid of another town),
//! households with tags and a key-population resident, a known November 2026 of visits and
//! patrols, and work orders whose steps the server received at chosen times — deadlines met and
//! missed. The server's JSON, CSV (parsed with the `csv` crate) and XLSX (read back with
//! `calamine`) must hold the expected rows; scope limits a grid worker to their grid and refuses
//! the key-population ledger to a liaison; every export is audited; and a real phone, synced
//! from this server, computes the same assessment for its grid as the server does.
//! PostgreSQL runs when `GRIDWORK_TEST_PG_URL` is set (and must under `CI`).
#![allow(missing_docs, clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod common;

use std::collections::BTreeSet;
use std::io::Cursor;

use automerge::AutoCommit;
use automerge::transaction::Transactable;
use calamine::{Data, Reader, Xlsx};
use chrono::{DateTime, TimeZone, Utc};
use common::{TestDevice, TestServer, spawn};
use gridwork_core::work_order::{
    EventType, IncidentInput, IncidentSource, Severity, WorkOrderAction, WorkOrderEvent,
    append_event,
};
use gridwork_core::{
    AreaPath, ChangeEnvelope, HouseholdInput, HouseholdTag, RecordKind, Relation, ResidentInput,
    Role, VisitInput, VisitOutcome, author, sensitive::sensitive_id,
};
use gridwork_sync_server::read_model::projector::Projector;
use gridwork_sync_server::store::{AuditAction, DynStore, NewChange};
use serde_json::Value;
use uuid::Uuid;

const DISTRICT: &str = "320612";
const TOWN: &str = "320612/004";
const G1: &str = "320612/004/017/01";
const M1: &str = "320612/004/017/01/01";
const G2: &str = "320612/004/017/02";
const G3: &str = "320612/004/018/01";
const OTHER_TOWN_GRID: &str = "320612/005/001/01";

/// Milliseconds of `YYYY-MM-DD HH:MM` China Standard Time.
fn cst(y: i32, mo: u32, d: u32, h: u32, mi: u32) -> i64 {
    chrono::FixedOffset::east_opt(8 * 3600)
        .unwrap()
        .with_ymd_and_hms(y, mo, d, h, mi, 0)
        .unwrap()
        .timestamp_millis()
}

fn nov(d: u32, h: u32, mi: u32) -> i64 {
    cst(2026, 11, d, h, mi)
}

fn utc(ms: i64) -> DateTime<Utc> {
    DateTime::from_timestamp_millis(ms).unwrap()
}

/// The seeded world.
struct World {
    server: TestServer,
    w1: TestDevice,
    w2: TestDevice,
    liaison: TestDevice,
    town: TestDevice,
    district: TestDevice,
}

/// A new document of `kind` made by `dev` at `created` (its header's creation time).
fn new_doc(dev: &TestDevice, kind: RecordKind, area: &str, created: i64) -> AutoCommit {
    let area = AreaPath::parse(area).unwrap();
    author::new_document(kind, &area, &dev.user_id.to_string(), &dev.actor, created).unwrap()
}

/// Commits `d` (edited on `dev`'s phone) and pushes the change, received by the server at
/// `received`.
async fn push(
    store: &DynStore,
    dev: &TestDevice,
    d: &mut AutoCommit,
    id: Uuid,
    kind: RecordKind,
    area: &str,
    received: i64,
) {
    let (_, bytes) =
        author::commit(d, &dev.user_id.to_string(), "edit", received).unwrap().unwrap();
    let env = ChangeEnvelope { doc_id: id, kind, area: AreaPath::parse(area).unwrap(), bytes };
    let hash = env.hash().unwrap();
    store.push(dev.id, received, &[NewChange::new(hash, env)]).await.unwrap();
}

async fn household(
    store: &DynStore,
    dev: &TestDevice,
    head: &str,
    area: &str,
    tags: Vec<HouseholdTag>,
    created: i64,
) -> Uuid {
    let input = HouseholdInput {
        area: AreaPath::parse(area).unwrap(),
        address: format!("{head}家，幸福路1号"),
        building: None,
        unit: None,
        room: None,
        head_name: head.into(),
        member_count: 3,
        phone: None,
        tags,
    }
    .validated()
    .unwrap();
    let id = Uuid::now_v7();
    let mut d = new_doc(dev, RecordKind::Household, area, created);
    input.write(&mut d).unwrap();
    push(store, dev, &mut d, id, RecordKind::Household, area, created).await;
    id
}

/// A visit by `dev` to household `h` at `at`.
#[allow(clippy::too_many_arguments)]
async fn visit(
    store: &DynStore,
    dev: &TestDevice,
    h: Uuid,
    area: &str,
    at: i64,
    outcome: VisitOutcome,
    satisfaction: Option<u8>,
    knows: Option<bool>,
) {
    let v = VisitInput {
        satisfaction,
        knows_worker: knows,
        ..VisitInput::routine(h, utc(at), outcome)
    };
    v.validate().unwrap();
    let id = Uuid::now_v7();
    let mut d = new_doc(dev, RecordKind::Visit, area, at);
    v.write_new(&mut d, &dev.user_id.to_string()).unwrap();
    push(store, dev, &mut d, id, RecordKind::Visit, area, at + 60_000).await;
}

/// A patrol by `dev` from `start` to `end` (no track).
async fn patrol(store: &DynStore, dev: &TestDevice, area: &str, start: i64, end: i64) {
    let id = Uuid::now_v7();
    let mut d = new_doc(dev, RecordKind::Patrol, area, start);
    d.put(automerge::ROOT, "worker", dev.user_id.to_string()).unwrap();
    d.put(automerge::ROOT, "started_at", automerge::ScalarValue::Timestamp(start)).unwrap();
    d.put(automerge::ROOT, "ended_at", automerge::ScalarValue::Timestamp(end)).unwrap();
    push(store, dev, &mut d, id, RecordKind::Patrol, area, end).await;
}

/// One step of a work order: who, in which role, what, received when.
struct Step<'a>(&'a TestDevice, Role, EventType, i64);

/// A work order reported by `reporter` (received at `reported`), then `steps`, each change
/// received by the server at its time.
async fn work_order(
    store: &DynStore,
    reporter: &TestDevice,
    area: &str,
    severity: Severity,
    title: &str,
    reported: i64,
    steps: &[Step<'_>],
) -> Uuid {
    let input = IncidentInput {
        area: AreaPath::parse(area).unwrap(),
        category: "safety_hazard".into(),
        severity,
        title: title.into(),
        description: "楼道堆物".into(),
        location: None,
        photos: vec![],
        source: IncidentSource::GridReport,
        household_id: None,
        patrol_id: None,
        reported_at: utc(reported),
    };
    let report = WorkOrderEvent::new(
        EventType::Report,
        reporter.user_id.to_string(),
        Role::GridWorker,
        utc(reported),
    );
    let id = Uuid::now_v7();
    let mut d = new_doc(reporter, RecordKind::WorkOrder, area, reported);
    input.write_report(&mut d, &report).unwrap();
    push(store, reporter, &mut d, id, RecordKind::WorkOrder, area, reported).await;
    for Step(dev, role, event_type, at) in steps {
        let department = matches!(
            event_type,
            EventType::Dispatch | EventType::Sign | EventType::Handle | EventType::Feedback
        )
        .then(|| "police".to_owned());
        let action = WorkOrderAction {
            event_type: *event_type,
            department,
            note: None,
            extension_hours: None,
            satisfaction: None,
            photos: vec![],
            at: utc(*at),
        };
        let event = action.event(&dev.user_id.to_string(), *role).unwrap();
        // Each person edits on their own phone (their own actor).
        d.set_actor(dev.actor.clone());
        append_event(&mut d, &event).unwrap();
        push(store, dev, &mut d, id, RecordKind::WorkOrder, area, *at).await;
    }
    id
}

impl World {
    async fn new(store: DynStore) -> World {
        let server = spawn(store.clone()).await;
        for (p, n) in [
            (DISTRICT, "通州区"),
            (TOWN, "金沙街道"),
            ("320612/004/017", "幸福社区"),
            (G1, "第一网格"),
            (M1, "第一微网格"),
            (G2, "第二网格"),
            ("320612/004/018", "和平社区"),
            (G3, "第三网格"),
            ("320612/005", "石港镇"),
            ("320612/005/001", "石港社区"),
            (OTHER_TOWN_GRID, "石港第一网格"),
        ] {
            store.put_area(&AreaPath::parse(p).unwrap(), n).await.unwrap();
        }
        let w1 = server.device(&[(Role::GridWorker, G1)], 21).await;
        let w2 = server.device(&[(Role::GridWorker, G2)], 22).await;
        let w3 = server.device(&[(Role::GridWorker, G3)], 23).await;
        let w4 = server.device(&[(Role::GridWorker, OTHER_TOWN_GRID)], 24).await;
        let liaison = server.device(&[(Role::Liaison, M1)], 25).await;
        let town = server.device(&[(Role::TownOperator, TOWN)], 26).await;
        let district = server.device(&[(Role::DistrictCentre, DISTRICT)], 27).await;
        let handler = server.device(&[(Role::DepartmentHandler, DISTRICT)], 28).await;
        let s = &store;
        use HouseholdTag::*;
        use VisitOutcome::*;

        // Grid 1 (worker w1; liaison in micro-grid M1).
        let h1 = household(s, &w1, "赵一", G1, vec![ElderlyAlone], cst(2026, 9, 1, 9, 0)).await;
        let h2 = household(s, &w1, "钱二", G1, vec![], cst(2026, 10, 15, 9, 0)).await;
        let h3 = household(s, &w1, "孙三", G1, vec![Rental], cst(2026, 1, 5, 9, 0)).await;
        let h4 = household(s, &liaison, "李四", M1, vec![], cst(2026, 10, 1, 9, 0)).await;
        let h6 = household(s, &w1, "周六", G1, vec![], cst(2026, 8, 1, 9, 0)).await;
        // 周六's son is in a key-population category (社区戒毒康复: every 30 days).
        let son = Uuid::now_v7();
        let r = ResidentInput {
            household_id: h6,
            name: "周小六".into(),
            gender: gridwork_core::Gender::Male,
            birth_year: Some(1990),
            relation: Relation::Child,
            phone: None,
        }
        .validated()
        .unwrap();
        let mut d = new_doc(&w1, RecordKind::Resident, G1, cst(2026, 8, 1, 9, 5));
        r.write(&mut d, &AreaPath::parse(G1).unwrap()).unwrap();
        push(s, &w1, &mut d, son, RecordKind::Resident, G1, cst(2026, 8, 1, 9, 5)).await;
        let mut d = new_doc(&w1, RecordKind::Sensitive, G1, cst(2026, 8, 1, 9, 6));
        d.put(automerge::ROOT, "resident_id", son.to_string()).unwrap();
        d.put(automerge::ROOT, "household_id", h6.to_string()).unwrap();
        d.put(automerge::ROOT, "key_population", "drug_rehab").unwrap();
        push(s, &w1, &mut d, sensitive_id(son), RecordKind::Sensitive, G1, cst(2026, 8, 1, 9, 6))
            .await;

        visit(s, &w1, h1, G1, cst(2026, 10, 28, 10, 0), Met, None, None).await;
        visit(s, &w1, h6, G1, cst(2026, 10, 20, 10, 0), Met, None, None).await;
        visit(s, &w1, h3, G1, cst(2026, 10, 1, 10, 0), Met, None, None).await;
        visit(s, &w1, h1, G1, nov(3, 10, 0), Met, Some(5), Some(true)).await;
        visit(s, &w1, h1, G1, nov(10, 10, 0), Met, Some(3), Some(false)).await;
        visit(s, &w1, h2, G1, nov(5, 10, 0), NotHome, None, None).await;
        visit(s, &w1, h3, G1, nov(20, 10, 0), Met, Some(4), Some(true)).await;
        visit(s, &liaison, h4, M1, nov(12, 10, 0), Met, Some(5), Some(true)).await;
        // The period's end is exclusive: this one is December's.
        visit(s, &w1, h2, G1, cst(2026, 12, 1, 0, 0), Met, Some(5), Some(true)).await;

        // Grid 2.
        let h7 =
            household(s, &w2, "吴七", G2, vec![ElderlyAlone, Difficulty], cst(2026, 10, 1, 9, 0))
                .await;
        household(s, &w2, "郑八", G2, vec![], nov(15, 9, 0)).await;
        visit(s, &w2, h7, G2, nov(8, 10, 0), Met, Some(2), Some(false)).await;
        // Grid 3 and the other town.
        let h9 = household(s, &w3, "王九", G3, vec![], cst(2026, 10, 1, 9, 0)).await;
        visit(s, &w3, h9, G3, nov(2, 10, 0), Met, None, None).await;
        let h10 = household(s, &w4, "冯十", OTHER_TOWN_GRID, vec![], cst(2026, 10, 1, 9, 0)).await;
        visit(s, &w4, h10, OTHER_TOWN_GRID, nov(5, 10, 0), Met, Some(5), Some(true)).await;

        patrol(s, &w1, G1, nov(3, 9, 0), nov(3, 11, 30)).await;
        patrol(s, &w1, G1, nov(15, 14, 0), nov(15, 15, 0)).await;
        patrol(s, &w2, G2, nov(20, 8, 0), nov(20, 8, 45)).await;
        patrol(s, &w1, G1, cst(2026, 10, 31, 23, 0), nov(1, 1, 0)).await;

        use EventType::*;
        let (t, h) = (&town, &handler);
        let (to, dh, gw) = (Role::TownOperator, Role::DepartmentHandler, Role::GridWorker);
        // WO1: urgent (2 h from acceptance at 09:10), closed 11:00 — on time.
        let loop_steps = |start: i64, close: i64| {
            let m = 60_000;
            vec![
                Step(t, to, Accept, start),
                Step(t, to, Dispatch, start + 10 * m),
                Step(h, dh, Sign, start + 20 * m),
                Step(h, dh, Handle, start + 30 * m),
                Step(h, dh, Feedback, start + 50 * m),
                Step(t, to, Close, close),
            ]
        };
        let mut wo1 = loop_steps(nov(2, 9, 10), nov(2, 11, 0));
        wo1.insert(5, Step(&w1, gw, Verify, nov(2, 10, 30)));
        work_order(s, &w1, G1, Severity::Urgent, "电动车楼道充电", nov(2, 9, 0), &wo1).await;
        // WO2: ordinary (72 h from 11-05 12:00 = 11-08 12:00), closed 11-10 — late.
        let wo2 = loop_steps(nov(5, 12, 0), nov(10, 9, 0));
        work_order(s, &w1, G1, Severity::Ordinary, "垃圾清运不及时", nov(5, 10, 0), &wo2).await;
        // WO3: important, reported in November, closed in December (late).
        let wo3 = loop_steps(nov(28, 11, 0), cst(2026, 12, 1, 10, 0));
        work_order(s, &w2, G2, Severity::Important, "路灯损坏", nov(28, 10, 0), &wo3).await;
        // WO4: reported in October, closed 11-01 09:00 after its deadline (10-31 11:00).
        let wo4 = loop_steps(cst(2026, 10, 30, 11, 0), nov(1, 9, 0));
        work_order(s, &w3, G3, Severity::Important, "井盖缺失", cst(2026, 10, 30, 10, 0), &wo4)
            .await;
        // WO5: urgent, accepted and dispatched, still open and long overdue.
        let wo5 = [Step(t, to, Accept, nov(25, 10, 5)), Step(t, to, Dispatch, nov(25, 10, 10))];
        work_order(s, &w2, G2, Severity::Urgent, "消防通道堵塞", nov(25, 10, 0), &wo5).await;

        let rm = store.read_model().unwrap();
        Projector::new(1024, 1 << 20).catch_up(&store, rm, Utc::now()).await.unwrap();
        World { server, w1, w2, liaison, town, district }
    }

    async fn get(&self, dev: &TestDevice, path: &str) -> (u16, Vec<u8>, String) {
        let r = self
            .server
            .http
            .get(format!("{}{path}", self.server.base))
            .bearer_auth(&dev.credential)
            .send()
            .await
            .unwrap();
        let status = r.status().as_u16();
        let ct = r
            .headers()
            .get("content-type")
            .map(|v| v.to_str().unwrap().to_owned())
            .unwrap_or_default();
        (status, r.bytes().await.unwrap().to_vec(), ct)
    }

    async fn json(&self, dev: &TestDevice, path: &str) -> (u16, Value) {
        let (s, body, _) = self.get(dev, path).await;
        (s, serde_json::from_slice(&body).unwrap_or(Value::Null))
    }
}

const NOV: &str = "from=2026-11&to=2026-12";

/// The town's November visit ledger, worked out by hand: (visited at, head, outcome,
/// satisfaction, knows the worker).
fn expected_visits() -> BTreeSet<(String, String, String, String, String)> {
    let row = |at: &str, head: &str, outcome: &str, sat: &str, knows: &str| {
        (at.to_owned(), head.to_owned(), outcome.to_owned(), sat.to_owned(), knows.to_owned())
    };
    [
        row("2026-11-03 10:00:00", "赵一", "见面", "5", "是"),
        row("2026-11-10 10:00:00", "赵一", "见面", "3", "否"),
        row("2026-11-05 10:00:00", "钱二", "不在家", "", ""),
        row("2026-11-20 10:00:00", "孙三", "见面", "4", "是"),
        row("2026-11-12 10:00:00", "李四", "见面", "5", "是"),
        row("2026-11-08 10:00:00", "吴七", "见面", "2", "否"),
        row("2026-11-02 10:00:00", "王九", "见面", "", ""),
    ]
    .into_iter()
    .collect()
}

async fn ledgers(store: DynStore) {
    let w = World::new(store.clone()).await;
    formats(&w).await;
    scope_and_audit(&w).await;
    work_orders_and_registry(&w).await;
    assessment(&w).await;
    phone_agrees(&w).await;
}

/// JSON, CSV and XLSX of one ledger hold the same, hand-computed rows.
async fn formats(w: &World) {
    let base = format!("/api/v1/ledgers/visits?area={TOWN}&{NOV}");
    // JSON: codes and RFC 3339 times.
    let (s, v) = w.json(&w.town, &base).await;
    assert_eq!(s, 200, "{v}");
    assert_eq!(v["row_count"], 7, "{v}");
    assert_eq!(v["columns"][0]["zh"], "走访时间");
    let json_rows: BTreeSet<_> = v["rows"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| {
            let label = |c: &str| match c {
                "met" => "见面",
                "not_home" => "不在家",
                o => panic!("{o}"),
            };
            let yes = |b: &Value| b.as_bool().map_or("", |b| if b { "是" } else { "否" });
            let at = chrono::DateTime::parse_from_rfc3339(r["visited_at"].as_str().unwrap())
                .unwrap()
                .format("%Y-%m-%d %H:%M:%S")
                .to_string();
            assert!(r["visited_at"].as_str().unwrap().ends_with("+08:00"), "{r}");
            (
                at,
                r["head_name"].as_str().unwrap().to_owned(),
                label(r["outcome"].as_str().unwrap()).to_owned(),
                r["satisfaction"].as_i64().map(|n| n.to_string()).unwrap_or_default(),
                yes(&r["knows_worker"]).to_owned(),
            )
        })
        .collect();
    assert_eq!(json_rows, expected_visits());
    assert!(v["rows"].as_array().unwrap().iter().all(|r| r["area_name"].is_string()));

    // CSV: BOM, Chinese headings, parsed with the csv crate.
    let (s, body, ct) = w.get(&w.town, &format!("{base}&format=csv")).await;
    assert_eq!(s, 200);
    assert!(ct.starts_with("text/csv"), "{ct}");
    assert!(body.starts_with(b"\xEF\xBB\xBF"), "CSV starts with a BOM");
    let mut rd = csv::Reader::from_reader(&body[3..]);
    let headers = rd.headers().unwrap().clone();
    assert_eq!(&headers[0], "走访时间");
    assert_eq!(&headers[5], "走访人");
    let csv_rows: BTreeSet<_> = rd
        .records()
        .map(|r| {
            let r = r.unwrap();
            (r[0].to_owned(), r[3].to_owned(), r[6].to_owned(), r[7].to_owned(), r[8].to_owned())
        })
        .collect();
    assert_eq!(csv_rows, expected_visits());
    // English headings and labels.
    let (_, body, _) = w.get(&w.town, &format!("{base}&format=csv&lang=en")).await;
    let mut rd = csv::Reader::from_reader(&body[3..]);
    assert_eq!(&rd.headers().unwrap()[0], "Visited at");
    let outcomes: BTreeSet<String> = rd.records().map(|r| r.unwrap()[6].to_owned()).collect();
    assert_eq!(outcomes, ["Met", "Not home"].map(String::from).into());

    // XLSX: typed cells (dates are dates), read back with calamine.
    let (s, body, ct) = w.get(&w.town, &format!("{base}&format=xlsx")).await;
    assert_eq!(s, 200);
    assert!(ct.contains("spreadsheetml"), "{ct}");
    let mut book: Xlsx<_> = calamine::open_workbook_from_rs(Cursor::new(body)).unwrap();
    let sheet = book.worksheet_range("走访台账").unwrap();
    let mut rows = sheet.rows();
    let header = rows.next().unwrap();
    assert_eq!(header[0], Data::String("走访时间".into()));
    let xlsx_rows: BTreeSet<_> = rows
        .map(|r| {
            let Data::DateTime(at) = &r[0] else { panic!("a date cell: {:?}", r[0]) };
            let at = at.as_datetime().unwrap().format("%Y-%m-%d %H:%M:%S").to_string();
            let text = |d: &Data| match d {
                Data::String(s) => s.clone(),
                Data::Float(f) => format!("{f}"),
                Data::Int(i) => i.to_string(),
                Data::Bool(b) => (if *b { "是" } else { "否" }).to_owned(),
                Data::Empty => String::new(),
                o => panic!("{o:?}"),
            };
            assert!(matches!(r[7], Data::Float(_) | Data::Empty), "a number cell: {:?}", r[7]);
            assert!(matches!(r[8], Data::Bool(_) | Data::Empty), "a boolean cell: {:?}", r[8]);
            (at, text(&r[3]), text(&r[6]), text(&r[7]), text(&r[8]))
        })
        .collect();
    assert_eq!(xlsx_rows, expected_visits());

    // Patrols: November's three, hours worked out by hand.
    let (s, v) = w.json(&w.town, &format!("/api/v1/ledgers/patrols?area={TOWN}&{NOV}")).await;
    assert_eq!(s, 200, "{v}");
    let mut hours: Vec<f64> =
        v["rows"].as_array().unwrap().iter().map(|r| r["hours"].as_f64().unwrap()).collect();
    hours.sort_by(f64::total_cmp);
    assert_eq!(hours, vec![0.75, 1.0, 2.5]);
    // One person's rows: w2's patrol only.
    let (_, v) = w
        .json(
            &w.town,
            &format!("/api/v1/ledgers/patrols?area={TOWN}&{NOV}&worker={}", w.w2.user_id),
        )
        .await;
    assert_eq!(v["row_count"], 1, "{v}");
}

/// A grid worker's ledger holds their grid only; another grid is refused; the key-population
/// ledger is refused to a liaison; every export is in the audit log with its row count.
async fn scope_and_audit(w: &World) {
    let (s, v) = w.json(&w.w1, "/api/v1/ledgers/visits").await;
    assert_eq!(s, 200, "{v}");
    let areas: BTreeSet<&str> =
        v["rows"].as_array().unwrap().iter().map(|r| r["area"].as_str().unwrap()).collect();
    assert_eq!(areas, [G1, M1].into(), "grid 1 and its micro-grid only");
    // Grid 1's visits of all time: 3 in October, 5 in November, 1 in December.
    assert_eq!(v["row_count"], 9, "{v}");
    let (s, v) = w.json(&w.w1, &format!("/api/v1/ledgers/visits?area={G2}")).await;
    assert_eq!((s, v["error"]["code"].as_str()), (403, Some("out_of_scope")), "{v}");
    let (s, body, _) = w.get(&w.w1, "/api/v1/ledgers/visits?format=csv").await;
    assert_eq!(s, 200);
    let n = csv::Reader::from_reader(&body[3..]).records().count();
    assert_eq!(n, 9);

    // Key population: a liaison may not; the town operator and the grid worker may.
    let (s, v) = w.json(&w.liaison, "/api/v1/ledgers/key-population").await;
    assert_eq!((s, v["error"]["code"].as_str()), (403, Some("no_sensitive_access")), "{v}");
    let (s, v) = w.json(&w.town, "/api/v1/ledgers/key-population?format=json").await;
    assert_eq!(s, 200, "{v}");
    assert_eq!(v["row_count"], 1, "{v}");
    assert_eq!(v["rows"][0]["name"], "周小六");
    assert_eq!(v["rows"][0]["category"], "drug_rehab");
    assert_eq!(v["rows"][0]["head_name"], "周六");
    let (_, body, _) = w.get(&w.w1, "/api/v1/ledgers/key-population?format=csv").await;
    let rows: Vec<csv::StringRecord> =
        csv::Reader::from_reader(&body[3..]).records().map(Result::unwrap).collect();
    assert_eq!(rows.len(), 1);
    assert_eq!(&rows[0][3], "社区戒毒康复人员");
    let (s, v) = w.json(&w.town, "/api/v1/ledgers/nothing").await;
    assert_eq!((s, v["error"]["code"].as_str()), (404, Some("unknown_ledger")), "{v}");
    let (s, v) = w.json(&w.town, "/api/v1/ledgers/visits?color=red").await;
    assert_eq!((s, v["error"]["code"].as_str()), (400, Some("unknown_filter")), "{v}");

    // The audit log: each export with who, what and how many rows.
    let audit = w.server.store.list_audit(200, None).await.unwrap();
    let exports: Vec<_> = audit.iter().filter(|e| e.action == AuditAction::Export).collect();
    let keypop: Vec<_> =
        exports.iter().filter(|e| e.detail.contains("ledger=key-population")).collect();
    assert_eq!(keypop.len(), 2, "{keypop:?}");
    assert!(keypop.iter().any(|e| e.user_id == Some(w.town.user_id)
        && e.device_id == Some(w.town.id)
        && e.count == 1
        && e.detail.contains("format=json")));
    let csv_export = exports
        .iter()
        .find(|e| {
            e.user_id == Some(w.w1.user_id)
                && e.detail.contains("format=csv")
                && e.detail.contains("ledger=visits")
        })
        .expect("w1's CSV export audited");
    assert_eq!(csv_export.count, 9);
    assert!(exports.iter().any(|e| e.detail.contains(&format!("area={TOWN}")) && e.count == 7));
    assert!(
        !exports.iter().any(|e| e.user_id == Some(w.liaison.user_id)),
        "a refused export writes no export entry"
    );
}

/// The work-order ledger's steps and on-time flags, and the household registry.
async fn work_orders_and_registry(w: &World) {
    let (s, v) = w.json(&w.town, &format!("/api/v1/ledgers/work-orders?area={TOWN}&{NOV}")).await;
    assert_eq!(s, 200, "{v}");
    let rows = v["rows"].as_array().unwrap();
    let by_title = |t: &str| rows.iter().find(|r| r["title"] == t).unwrap_or_else(|| panic!("{t}"));
    assert_eq!(rows.len(), 4, "reported in November: WO1, WO2, WO3, WO5");
    let wo1 = by_title("电动车楼道充电");
    assert_eq!(wo1["reported_at"], "2026-11-02T09:00:00+08:00");
    assert_eq!(wo1["accepted_at"], "2026-11-02T09:10:00+08:00");
    assert_eq!(wo1["dispatched_at"], "2026-11-02T09:20:00+08:00");
    assert_eq!(wo1["signed_at"], "2026-11-02T09:30:00+08:00");
    assert_eq!(wo1["fed_back_at"], "2026-11-02T10:00:00+08:00");
    assert_eq!(wo1["verified_at"], "2026-11-02T10:30:00+08:00");
    assert_eq!(wo1["closed_at"], "2026-11-02T11:00:00+08:00");
    assert_eq!(wo1["deadline_at"], "2026-11-02T11:10:00+08:00");
    assert_eq!(
        (wo1["state"].as_str(), wo1["closed_on_time"].as_bool()),
        (Some("closed"), Some(true))
    );
    let wo2 = by_title("垃圾清运不及时");
    assert_eq!(wo2["deadline_at"], "2026-11-08T12:00:00+08:00");
    assert_eq!(wo2["closed_on_time"], false);
    let wo5 = by_title("消防通道堵塞");
    assert_eq!((wo5["state"].as_str(), wo5["overdue"].as_bool()), (Some("dispatched"), Some(true)));
    assert!(wo5["closed_on_time"].is_null());
    assert_eq!(by_title("路灯损坏")["closed_at"], "2026-12-01T10:00:00+08:00");
    // XLSX of it: the on-time column is a boolean cell.
    let (_, body, _) = w
        .get(&w.town, &format!("/api/v1/ledgers/work-orders?area={TOWN}&{NOV}&format=xlsx&lang=en"))
        .await;
    let mut book: Xlsx<_> = calamine::open_workbook_from_rs(Cursor::new(body)).unwrap();
    let sheet = book.worksheet_range("Work-order ledger").unwrap();
    let header: Vec<String> = sheet.rows().next().unwrap().iter().map(|c| c.to_string()).collect();
    let col = header.iter().position(|h| h == "Closed on time").unwrap();
    let mut on_time: Vec<String> = sheet.rows().skip(1).map(|r| format!("{:?}", r[col])).collect();
    on_time.sort();
    assert_eq!(on_time, vec!["Bool(false)", "Bool(false)", "Bool(true)", "Empty"]);

    let (s, v) = w.json(&w.w1, "/api/v1/ledgers/households").await;
    assert_eq!(s, 200, "{v}");
    let heads: BTreeSet<&str> =
        v["rows"].as_array().unwrap().iter().map(|r| r["head_name"].as_str().unwrap()).collect();
    assert_eq!(heads, ["赵一", "钱二", "孙三", "李四", "周六"].into());
    let zhao = v["rows"].as_array().unwrap().iter().find(|r| r["head_name"] == "赵一").unwrap();
    assert_eq!(zhao["last_met_at"], "2026-11-10T10:00:00+08:00");
    assert_eq!(zhao["tags"], "elderly_alone");
    assert_eq!(zhao["member_count"], 3);
    let zhou = v["rows"].as_array().unwrap().iter().find(|r| r["head_name"] == "周六").unwrap();
    assert_eq!(zhou["residents"], 1);
    let (_, v) = w.json(&w.w1, "/api/v1/ledgers/households?tag=elderly_alone").await;
    assert_eq!(v["row_count"], 1);
}

fn rate(v: &Value) -> (u64, u64) {
    (v["numerator"].as_u64().unwrap(), v["denominator"].as_u64().unwrap())
}

/// The assessment of the town in November, per grid, worked out by hand.
async fn assessment(w: &World) {
    let (s, v) =
        w.json(&w.town, &format!("/api/v1/assessment?level=grid&area={TOWN}&month=2026-11")).await;
    assert_eq!(s, 200, "{v}");
    let t = &v["total"];
    // Due: 赵一 (7-day, last met 10-28 → due 11-04), 钱二 (never met, registered 10-15), 李四,
    // 周六 (30 days for the key-population son, last met 10-20 → 11-19), 吴七, 郑八 (registered
    // 11-15), 王九; not 孙三 (90 days from 10-01). Met in November: 赵一, 李四, 吴七, 王九.
    assert_eq!(rate(&t["visit_coverage"]), (4, 7), "{t}");
    assert_eq!(rate(&t["visit_coverage_by_tag"]["elderly_alone"]), (2, 2));
    assert_eq!(rate(&t["visit_coverage_by_tag"]["difficulty"]), (1, 1));
    assert_eq!((t["visits"].as_u64(), t["visits_met"].as_u64()), (Some(7), Some(6)));
    // Satisfaction asked 5 times (5, 3, 4, 5, 2): 3 rated 4 or 5. Awareness 3 of 5.
    assert_eq!(rate(&t["satisfaction"]), (3, 5));
    assert_eq!(rate(&t["awareness"]), (3, 5));
    assert_eq!(t["patrols"], 3);
    assert!((t["patrol_hours"].as_f64().unwrap() - 4.25).abs() < 1e-9, "{t}");
    assert_eq!(t["incidents_reported"], 4);
    // Closed in November: WO1 on time, WO2 and WO4 late.
    assert_eq!(rate(&t["on_time_closure"]), (1, 3));

    let groups = v["groups"].as_array().unwrap();
    let g = |a: &str| groups.iter().find(|g| g["area"] == a).unwrap_or_else(|| panic!("{a}"));
    assert_eq!(groups.len(), 3, "the town's three grids");
    assert_eq!(g(G1)["area_name"], "第一网格");
    assert_eq!(rate(&g(G1)["figures"]["visit_coverage"]), (2, 4));
    assert_eq!(rate(&g(G2)["figures"]["visit_coverage"]), (1, 2));
    assert_eq!(rate(&g(G3)["figures"]["visit_coverage"]), (1, 1));
    assert_eq!(rate(&g(G1)["figures"]["on_time_closure"]), (1, 2));
    assert!(g(G2)["figures"]["on_time_closure"]["value"].is_null());
    assert_eq!(g(G2)["figures"]["incidents_reported"], 2);
    // Ranked by coverage: grid 3 (100%), then grids 1 and 2 (50%) sharing rank 2.
    let ranks: Vec<(&str, u64)> =
        groups.iter().map(|g| (g["area"].as_str().unwrap(), g["rank"].as_u64().unwrap())).collect();
    assert_eq!(ranks, vec![(G3, 1), (G1, 2), (G2, 2)]);

    // The district by town: the other town counts apart.
    let (_, v) = w
        .json(
            &w.district,
            &format!("/api/v1/assessment?level=town&area={DISTRICT}&month=2026-11&rank_by=visits"),
        )
        .await;
    let towns = v["groups"].as_array().unwrap();
    assert_eq!(towns[0]["area"], TOWN);
    assert_eq!(towns[0]["figures"]["visits"], 7);
    assert_eq!(towns[1]["figures"]["visits"], 1);
    assert_eq!(rate(&v["total"]["visit_coverage"]), (5, 8));

    // Per worker: w1 met 赵一 only among grid 1's due households; the liaison met 李四.
    let (_, v) = w
        .json(&w.town, &format!("/api/v1/assessment?level=worker&area={TOWN}&month=2026-11"))
        .await;
    let people = v["groups"].as_array().unwrap();
    let p = |id: Uuid| people.iter().find(|g| g["worker"] == id.to_string()).unwrap();
    let w1 = &p(w.w1.user_id)["figures"];
    assert_eq!(rate(&w1["visit_coverage"]), (1, 4));
    assert_eq!((w1["visits"].as_u64(), w1["patrols"].as_u64()), (Some(4), Some(2)));
    assert_eq!(w1["incidents_reported"], 2);
    let li = &p(w.liaison.user_id)["figures"];
    assert_eq!(rate(&li["visit_coverage"]), (1, 1), "李四 in the liaison's micro-grid");
    assert_eq!(p(w.liaison.user_id)["role"], "liaison");

    // The trend: October and November.
    let (s, v) = w
        .json(&w.town, &format!("/api/v1/assessment/trend?area={TOWN}&from=2026-10&to=2026-12"))
        .await;
    assert_eq!(s, 200, "{v}");
    let months = v["months"].as_array().unwrap();
    assert_eq!(months.len(), 2);
    assert_eq!(months[0]["month"], "2026-10");
    assert_eq!(months[0]["figures"]["visits"], 3, "October: 3 visits in grid 1");
    assert_eq!(months[1]["figures"]["visits"], 7);

    // Scope: a grid worker assesses their grid only (and by default).
    let (s, v) = w.json(&w.w1, "/api/v1/assessment?month=2026-11").await;
    assert_eq!(s, 200, "{v}");
    assert_eq!(v["area"], G1);
    assert_eq!(rate(&v["total"]["visit_coverage"]), (2, 4));
    let (s, v) = w.json(&w.w1, &format!("/api/v1/assessment?area={TOWN}&month=2026-11")).await;
    assert_eq!((s, v["error"]["code"].as_str()), (403, Some("out_of_scope")), "{v}");
    let (s, v) = w.json(&w.town, "/api/v1/assessment?month=2026-13").await;
    assert_eq!((s, v["error"]["code"].as_str()), (400, Some("invalid_filter")), "{v}");
}

/// A real phone of grid worker w1, synced from this server, computes the same figures for its
/// grid (and for w1) as the server.
async fn phone_agrees(w: &World) {
    let phone = gridwork_tests::device::Device::new().unwrap();
    let code = w.server.code(w.w1.user_id).await;
    phone.enrol(&w.server.base, &code).await.unwrap();
    phone.sync().await.unwrap();
    let grid = AreaPath::parse(G1).unwrap();
    let (from, to) = (utc(nov(1, 0, 0)), utc(cst(2026, 12, 1, 0, 0)));
    let w1 = w.w1.user_id.to_string();
    for worker in [None, Some(w1.as_str())] {
        let a = phone.with(|s| s.assessment(&grid, worker, from, to)).unwrap();
        let (level, key) = match worker {
            None => ("grid", "area"),
            Some(_) => ("worker", "worker"),
        };
        let (s, v) = w
            .json(&w.w1, &format!("/api/v1/assessment?level={level}&area={G1}&month=2026-11"))
            .await;
        assert_eq!(s, 200, "{v}");
        let want = worker.unwrap_or(G1);
        let f = &v["groups"]
            .as_array()
            .unwrap()
            .iter()
            .find(|g| g[key] == want)
            .unwrap_or_else(|| panic!("{want}: {v}"))["figures"];
        let pair = |r: gridwork_core::Rate| (u64::from(r.numerator), u64::from(r.denominator));
        assert_eq!(pair(a.visit_coverage), rate(&f["visit_coverage"]), "{worker:?}");
        assert_eq!(pair(a.on_time_closure), rate(&f["on_time_closure"]), "{worker:?}");
        assert_eq!(pair(a.satisfaction), rate(&f["satisfaction"]), "{worker:?}");
        assert_eq!(pair(a.awareness), rate(&f["awareness"]), "{worker:?}");
        assert_eq!(u64::from(a.visits), f["visits"].as_u64().unwrap());
        assert_eq!(u64::from(a.patrols), f["patrols"].as_u64().unwrap());
        assert_eq!(u64::from(a.incidents_reported), f["incidents_reported"].as_u64().unwrap());
        assert!((a.patrol_hours - f["patrol_hours"].as_f64().unwrap()).abs() < 1e-9);
        assert!((a.patrol_km - f["patrol_km"].as_f64().unwrap()).abs() < 1e-9);
        // Not vacuous: the figures are the hand-computed ones.
        assert_eq!(pair(a.visit_coverage), if worker.is_none() { (2, 4) } else { (1, 4) });
    }
    // My day (今日工作) on November 3rd: the phone's visit and patrol counts equal the
    // server's for that day and worker.
    let day = utc(nov(3, 0, 0));
    let my = phone.with(|s| s.my_day(day, day + chrono::Duration::days(1))).unwrap();
    let (_, v) = w
        .json(
            &w.w1,
            &format!("/api/v1/assessment?level=worker&area={G1}&from=2026-11-03&to=2026-11-04"),
        )
        .await;
    let f = &v["groups"].as_array().unwrap().iter().find(|g| g["worker"] == w1).unwrap()["figures"];
    assert_eq!(u64::from(my.visits_today), f["visits"].as_u64().unwrap());
    assert_eq!(u64::from(my.households_met_today), f["visits_met"].as_u64().unwrap());
    assert_eq!(my.patrols_today.len() as u64, f["patrols"].as_u64().unwrap());
    assert_eq!((my.visits_today, my.patrols_today.len()), (1, 1));
}

both!(ledgers_on_a_seeded_town, crate::ledgers);
