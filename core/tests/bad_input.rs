//! Bad input: each case gives a typed error naming the problem, writes nothing, and leaves the
//! store openable with every earlier record intact.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use chrono::Utc;
use common::*;
use gridwork_core::location::Location;
use gridwork_core::{
    AreaPath, ChangeEnvelope, CoreError, HouseholdInput, RecordKind, Store, VisitInput,
    VisitOutcome,
};
use uuid::Uuid;

fn visit(h: Uuid) -> VisitInput {
    VisitInput::routine(h, Utc::now(), VisitOutcome::Met)
}

/// Runs `bad` against a store holding one household and one visit, asserts the error names
/// `field` (or has `code`), nothing was written, and the store reopens intact.
fn check(field_or_code: &str, bad: impl FnOnce(&mut Store, Uuid) -> Result<(), CoreError>) {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("s.db");
    let (h, v) = {
        let mut s = store_at(Some(&path), "w1");
        let h = s.households().add(household(1)).unwrap();
        let v = s.visits().record(visit(h)).unwrap();
        (h, v)
    };
    let mut s = store_at(Some(&path), "w1");
    let before = (s.outbox_len().unwrap(), s.digest(None).unwrap());
    let err = bad(&mut s, h).expect_err("bad input must be refused");
    let named = match &err {
        CoreError::Invalid { field, .. } => field == field_or_code,
        other => other.code() == field_or_code,
    };
    assert!(named, "expected an error naming `{field_or_code}`, got {err:?} ({err})");
    assert_eq!((s.outbox_len().unwrap(), s.digest(None).unwrap()), before, "something was written");
    drop(s);
    let mut s = store_at(Some(&path), "w1");
    assert!(s.integrity_check().unwrap());
    assert!(s.households().get(h).unwrap().is_some());
    assert_eq!(s.visits().get(v).unwrap().household_id, h);
}

fn hh(f: impl FnOnce(&mut HouseholdInput)) -> HouseholdInput {
    let mut i = household(9);
    f(&mut i);
    i
}

#[test]
fn empty_required_fields() {
    check("address", |s, _| s.households().add(hh(|i| i.address = "  ".into())).map(|_| ()));
    check("head_name", |s, _| s.households().add(hh(|i| i.head_name = String::new())).map(|_| ()));
}

#[test]
fn invalid_phone() {
    check("phone", |s, _| s.households().add(hh(|i| i.phone = Some("12345".into()))).map(|_| ()));
}

#[test]
fn coordinates_out_of_range() {
    check("lat", |s, h| {
        let mut v = visit(h);
        v.location = Some(Location { lat: 91.0, lon: 120.0 });
        s.visits().record(v).map(|_| ())
    });
    check("lon", |s, h| {
        let mut v = visit(h);
        v.location = Some(Location { lat: 32.0, lon: f64::NAN });
        s.visits().record(v).map(|_| ())
    });
}

#[test]
fn unknown_area() {
    check("not_found", |s, _| {
        s.households()
            .add(hh(|i| i.area = AreaPath::parse("320612/009/001/01").unwrap()))
            .map(|_| ())
    });
}

#[test]
fn area_outside_scope() {
    check("out_of_scope", |s, _| {
        s.households()
            .add(hh(|i| i.area = AreaPath::parse("320612/001/002/01").unwrap()))
            .map(|_| ())
    });
}

#[test]
fn oversized_text() {
    check("situation", |s, h| {
        let mut v = visit(h);
        v.situation = "很".repeat(4001);
        s.visits().record(v).map(|_| ())
    });
    check("address", |s, _| s.households().add(hh(|i| i.address = "路".repeat(201))).map(|_| ()));
}

#[test]
fn satisfaction_out_of_range() {
    check("satisfaction", |s, h| {
        let mut v = visit(h);
        v.satisfaction = Some(6);
        s.visits().record(v).map(|_| ())
    });
}

#[test]
fn visit_to_unknown_household() {
    check("not_found", |s, _| s.visits().record(visit(Uuid::now_v7())).map(|_| ()));
}

#[test]
fn corrupt_change_bytes() {
    check("bad_change", |s, _| {
        let good = s.changes_missing_from(&[], None).unwrap();
        let mut batch = good.clone();
        let mut broken = good[0].clone();
        broken.doc_id = Uuid::now_v7();
        let n = broken.bytes.len();
        broken.bytes[n / 2] ^= 0xff;
        batch.push(broken);
        s.apply_changes(&batch).map(|_| ())
    });
    check("bad_change", |s, _| {
        let env = ChangeEnvelope {
            doc_id: Uuid::now_v7(),
            kind: RecordKind::Household,
            area: area(MICRO),
            bytes: b"not an automerge change".to_vec(),
        };
        s.apply_changes(&[env]).map(|_| ())
    });
}

#[test]
fn change_for_unknown_or_mismatched_kind() {
    // An unknown kind code never becomes a ChangeEnvelope…
    assert_eq!(RecordKind::from_code(42).unwrap_err().code(), "invalid_input");
    // …and a change whose document says it is another kind is refused.
    check("bad_change", |s, h| {
        let mut other = store_at(None, "w9");
        let mut env = {
            let h2 = other.households().add(household(3)).unwrap();
            let c = other.changes_missing_from(&[], None).unwrap();
            assert_eq!(c[0].doc_id, h2);
            c[0].clone()
        };
        env.kind = RecordKind::Visit;
        let _ = h;
        s.apply_changes(&[env]).map(|_| ())
    });
}

#[test]
fn nobody_signed_in() {
    let mut s = Store::open_in_memory().unwrap();
    s.load_areas(&gridwork_core::demo::areas(1, 1, 1, 1)).unwrap();
    let e = s.households().add(household(1)).unwrap_err();
    assert_eq!(e.code(), "not_signed_in");
}
