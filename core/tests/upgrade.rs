//! Schema upgrades keep every record: a store file written by an earlier schema (a fixture made
//! by `examples/schema_fixture.rs` with that schema's code) opens, migrates and shows exactly what
//! it showed before, and its unsent changes still go out in order.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use gridwork_core::Store;
use serde_json::{Value, json};
use uuid::Uuid;

fn id(v: &Value) -> Uuid {
    Uuid::parse_str(v["id"].as_str().unwrap()).unwrap()
}

/// Opens a copy of fixture `name` (the original stays untouched) and compares what the store
/// shows with what the schema that wrote it showed.
fn opens_and_shows_the_same(name: &str) {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("store.sqlite");
    let fixtures = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures");
    std::fs::copy(fixtures.join(format!("{name}.sqlite")), &path).unwrap();
    let before: Value = serde_json::from_str(
        &std::fs::read_to_string(fixtures.join(format!("{name}.json"))).unwrap(),
    )
    .unwrap();

    let mut s = Store::open(&path, None).unwrap();
    let households: Vec<Value> = before["households"]
        .as_array()
        .unwrap()
        .iter()
        .map(|h| json!(s.households().get(id(h)).unwrap()))
        .collect();
    assert_eq!(Value::Array(households), before["households"]);
    let resident_household = before["residents"][0]["household_id"].as_str().unwrap();
    assert_eq!(
        json!(s.residents().of_household(Uuid::parse_str(resident_household).unwrap()).unwrap()),
        before["residents"]
    );
    if let Some(visits) = before.get("visits") {
        let shown: Vec<Value> = visits
            .as_array()
            .unwrap()
            .iter()
            .map(|v| json!(s.visits().get(id(v)).unwrap()))
            .collect();
        assert_eq!(Value::Array(shown), *visits);
    }
    assert_eq!(json!(s.visits().get(id(&before["visit"])).unwrap()), before["visit"]);
    assert_eq!(json!(s.patrols().get(id(&before["patrol"])).unwrap()), before["patrol"]);
    assert_eq!(json!(s.tasks().get(id(&before["task"])).unwrap()), before["task"]);
    let order = s.work_orders().get(id(&before["work_order"])).unwrap();
    assert_eq!(json!(order), before["work_order"]);
    let outbox: Vec<String> =
        s.outbox(usize::MAX).unwrap().iter().map(|e| hex::encode(&e.bytes)).collect();
    assert_eq!(json!(outbox), before["outbox"], "unsent changes kept, in order");
    assert!(!outbox.is_empty());

    // Later fixtures also list every document's heads and every change's bytes: however an
    // upgrade stores documents and changes, it gives back exactly the same; and the changes set
    // aside are still listed.
    if let Some(digest) = before.get("digest") {
        assert_eq!(json!(s.digest(None).unwrap()), *digest, "every document's heads");
        let mut changes: Vec<String> = s
            .changes_missing_from(&[], None)
            .unwrap()
            .iter()
            .map(|e| hex::encode(&e.bytes))
            .collect();
        changes.sort();
        assert_eq!(json!(changes), before["changes"], "every change, byte-identical");
        assert_eq!(json!(s.held_changes().unwrap()), before["held"]);
    }

    // The sensitive record needs a role allowed to read it; the fixture's last user (a grid
    // head) is still signed in after the upgrade.
    let resident = Uuid::parse_str(before["sensitive"]["resident_id"].as_str().unwrap()).unwrap();
    assert_eq!(json!(s.sensitive().of_resident(resident).unwrap()), before["sensitive"]);

    // The migrated store keeps working and survives a reopen.
    s.delete_record(gridwork_core::RecordKind::Task, id(&before["task"])).unwrap();
    drop(s);
    let mut s = Store::open(&path, None).unwrap();
    assert!(s.outbox_len().unwrap() > u64::try_from(outbox.len()).unwrap());

    // A change held for a missing dependency before the upgrade is applied when it arrives.
    if let Some(dep) = before.get("held_dependency") {
        let household = Uuid::parse_str(before["held_household"].as_str().unwrap()).unwrap();
        let shown = s.households().get(household).unwrap().unwrap();
        let envelope = gridwork_core::ChangeEnvelope {
            doc_id: household,
            kind: gridwork_core::RecordKind::Household,
            area: shown.area.clone(),
            bytes: hex::decode(dep.as_str().unwrap()).unwrap(),
        };
        let report = s.apply_changes(&[envelope]).unwrap();
        assert_eq!(report.applied, 2, "the dependency and the change held for it: {report:?}");
        let after = s.households().get(household).unwrap().unwrap();
        assert_eq!(after.phone.as_deref(), Some("13700000002"));
        assert!(s.held_changes().unwrap().iter().all(|h| h.reason != "missing_deps"));
    }
    assert!(s.integrity_check().unwrap());
}

#[test]
fn a_schema_9_store_opens_migrates_and_keeps_every_record() {
    opens_and_shows_the_same("store-schema9");
}

#[test]
fn a_schema_4_store_opens_migrates_and_keeps_every_record() {
    opens_and_shows_the_same("store-schema4");
}
