//! Sensitive records: role-gated access, normalised ID numbers, the key-population category
//! driving the household's visit interval, bad input, and merging of records made offline on
//! two phones.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use common::*;
use gridwork_core::sensitive::sensitive_id;
use gridwork_core::{
    Gender, HouseholdTag, KeyPopulation, RecordKind, Relation, ReliefStatus, ResidentInput, Role,
    SensitiveInput, Store,
};
use uuid::Uuid;

fn resident(s: &mut Store, h: Uuid, name: &str) -> Uuid {
    s.residents()
        .add(ResidentInput {
            household_id: h,
            name: name.into(),
            gender: Gender::Male,
            birth_year: Some(1980),
            relation: Relation::Head,
            phone: None,
        })
        .unwrap()
}

fn interval(s: &mut Store, h: Uuid) -> u32 {
    s.households().get(h).unwrap().unwrap().interval_days
}

#[test]
fn key_population_codes_match_household_tags() {
    for k in KeyPopulation::ALL {
        assert!(k.tag().is_key_population());
        assert_eq!(k.as_str(), k.tag().as_str());
    }
    let n = HouseholdTag::ALL.iter().filter(|t| t.is_key_population()).count();
    assert_eq!(n, KeyPopulation::ALL.len());
}

#[test]
fn sensitive_data_is_recorded_and_drives_the_visit_interval() {
    let mut s = store_at(None, "w1");
    let h = s.households().add(plain_household(1)).unwrap();
    let r = resident(&mut s, h, "钱二");
    assert_eq!(interval(&mut s, h), 365);
    assert!(s.sensitive().of_resident(r).unwrap().is_none());

    let card = id_card("32061219800101123");
    let id = s
        .sensitive()
        .set(
            r,
            SensitiveInput {
                id_card: Some(format!(" {} ", card.to_lowercase())),
                health: "高血压".into(),
                key_population: Some(KeyPopulation::MentalDisorder),
                relief_status: Some(ReliefStatus::Subsistence),
            },
        )
        .unwrap();
    assert_eq!(id, sensitive_id(r));
    let rec = s.sensitive().of_resident(r).unwrap().unwrap();
    assert_eq!(rec.id_card.as_deref(), Some(card.to_uppercase().as_str()));
    assert_eq!((rec.resident_id, rec.household_id), (r, h));
    assert_eq!(rec.health, "高血压");
    assert_eq!(rec.relief_status, Some(ReliefStatus::Subsistence));
    assert_eq!(interval(&mut s, h), 30, "a key-population resident shortens the interval");
    let ledger = s.sensitive().key_population_ledger(&area(GRID)).unwrap();
    assert_eq!(ledger.len(), 1);
    assert_eq!((ledger[0].resident_id, ledger[0].category), (r, KeyPopulation::MentalDisorder));

    // Updating clears what is no longer given.
    s.sensitive()
        .set(r, SensitiveInput { id_card: Some(card.clone()), ..Default::default() })
        .unwrap();
    let rec = s.sensitive().of_resident(r).unwrap().unwrap();
    assert_eq!((rec.key_population, rec.relief_status, rec.health.as_str()), (None, None, ""));
    assert_eq!(interval(&mut s, h), 365);

    s.sensitive()
        .set(
            r,
            SensitiveInput { key_population: Some(KeyPopulation::DrugRehab), ..Default::default() },
        )
        .unwrap();
    assert_eq!(interval(&mut s, h), 30);
    s.sensitive().delete(r).unwrap();
    assert!(s.sensitive().of_resident(r).unwrap().is_none());
    assert_eq!(interval(&mut s, h), 365);
    // Setting it again brings it back.
    s.sensitive()
        .set(
            r,
            SensitiveInput { key_population: Some(KeyPopulation::DrugRehab), ..Default::default() },
        )
        .unwrap();
    assert_eq!(interval(&mut s, h), 30);
    // Deleting the resident retires their sensitive record's effect.
    s.residents().delete(r).unwrap();
    assert_eq!(interval(&mut s, h), 365);
    assert!(s.sensitive().of_resident(r).unwrap().is_none());
    assert!(s.sensitive().key_population_ledger(&area(GRID)).unwrap().is_empty());
}

#[test]
fn a_liaison_may_neither_read_nor_write_sensitive_data() {
    let mut w = store_at(None, "w1");
    let h = w.households().add(plain_household(2)).unwrap();
    let r = resident(&mut w, h, "孙三");
    w.sensitive()
        .set(
            r,
            SensitiveInput {
                key_population: Some(KeyPopulation::ReleasedPrisoner),
                ..Default::default()
            },
        )
        .unwrap();

    for role in [Role::Liaison, Role::SyncAdmin] {
        let scope = if role == Role::Liaison { MICRO } else { GRID };
        let mut l = store_as("l1", role, scope);
        // Even if the data reached this device, the API refuses it.
        l.apply_changes(&w.outbox(usize::MAX).unwrap()).unwrap();
        refused(&mut l, "forbidden", |l| l.sensitive().set(r, SensitiveInput::default()));
        refused(&mut l, "forbidden", |l| l.sensitive().of_resident(r));
        refused(&mut l, "forbidden", |l| l.sensitive().delete(r));
        refused(&mut l, "forbidden", |l| l.delete_record(RecordKind::Sensitive, sensitive_id(r)));
        refused(&mut l, "forbidden", |l| l.conflicts(RecordKind::Sensitive, sensitive_id(r)));
        refused(&mut l, "forbidden", |l| l.history(RecordKind::Sensitive, sensitive_id(r)));
        refused(&mut l, "forbidden", |l| {
            l.resolve_conflict(RecordKind::Sensitive, sensitive_id(r), "health", "x")
        });
        refused(&mut l, "forbidden", |l| l.sensitive().key_population_ledger(&area(MICRO)));
        let err = l.sensitive().of_resident(r).unwrap_err();
        assert_eq!(err.code(), "forbidden");
        assert!(err.to_string().contains(role.as_str()), "{err}");
    }
    // Nobody signed in.
    let mut n = Store::open_in_memory().unwrap();
    refused(&mut n, "not_signed_in", |n| n.sensitive().of_resident(r));
}

#[test]
fn bad_sensitive_input_is_refused_and_nothing_written() {
    let mut s = store_at(None, "w1");
    let h = s.households().add(plain_household(3)).unwrap();
    let r = resident(&mut s, h, "李四");
    let good = id_card("11010519491231002");
    let mut bad = good.clone();
    bad.replace_range(17.., if good.ends_with('0') { "1" } else { "0" });
    let with = |card: &str| SensitiveInput { id_card: Some(card.into()), ..Default::default() };
    refused(&mut s, "id_card", |s| s.sensitive().set(r, with(&bad)));
    refused(&mut s, "id_card", |s| s.sensitive().set(r, with("1234")));
    refused(&mut s, "id_card", |s| s.sensitive().set(r, with("11010519491331002X")));
    refused(&mut s, "health", |s| {
        s.sensitive().set(r, SensitiveInput { health: "病".repeat(4001), ..Default::default() })
    });
    refused(&mut s, "not_found", |s| s.sensitive().set(Uuid::now_v7(), with(&good)));
    s.sensitive().set(r, with(&good)).unwrap();
    refused(&mut s, "id_card", |s| s.sensitive().set(r, with(&bad)));
    assert_eq!(s.sensitive().of_resident(r).unwrap().unwrap().id_card, Some(good));
    assert!(KeyPopulation::parse("elderly_alone").is_err());
}

#[test]
fn sensitive_records_made_offline_on_two_phones_merge() {
    let mut a = store_at(None, "w1");
    let mut b = store_at(None, "w2");
    let h = a.households().add(plain_household(4)).unwrap();
    let r = resident(&mut a, h, "周五");
    exchange(&mut a, &mut b);

    // Both record the resident's sensitive data offline; neither knew of the other's record.
    let card = id_card("32061219751111002");
    a.sensitive()
        .set(r, SensitiveInput { id_card: Some(card.clone()), ..Default::default() })
        .unwrap();
    b.sensitive()
        .set(
            r,
            SensitiveInput {
                key_population: Some(KeyPopulation::CommunityCorrection),
                health: "良好".into(),
                ..Default::default()
            },
        )
        .unwrap();
    exchange(&mut a, &mut b);

    let ra = a.sensitive().of_resident(r).unwrap().unwrap();
    assert_eq!(ra, b.sensitive().of_resident(r).unwrap().unwrap(), "one record, identical on both");
    assert_eq!(ra.id_card.as_deref(), Some(card.as_str()));
    assert_eq!(ra.key_population, Some(KeyPopulation::CommunityCorrection));
    assert_eq!(interval(&mut a, h), 30);
    assert_eq!(interval(&mut b, h), 30);
    assert_eq!(a.households().get(h).unwrap(), b.households().get(h).unwrap());
    assert_eq!(a.digest(None).unwrap(), b.digest(None).unwrap());

    // A third device that gets the sensitive record before the household and resident.
    let mut c = store_at(None, "w3");
    let mut all = a.outbox(usize::MAX).unwrap();
    all.extend(b.outbox(usize::MAX).unwrap());
    all.sort_by_key(|e| e.kind != RecordKind::Sensitive);
    let (first, rest) =
        all.split_at(all.iter().filter(|e| e.kind == RecordKind::Sensitive).count());
    c.apply_changes(first).unwrap();
    c.apply_changes(rest).unwrap();
    assert_eq!(c.sensitive().of_resident(r).unwrap(), Some(ra));
    assert_eq!(interval(&mut c, h), 30);

    // The resident is deleted on a liaison's phone (which never sees the sensitive record).
    let mut l = store_as("l1", Role::Liaison, MICRO);
    l.apply_changes(&a.outbox(usize::MAX).unwrap()).unwrap();
    l.residents().delete(r).unwrap();
    let del = l.outbox(usize::MAX).unwrap();
    c.apply_changes(&del).unwrap();
    assert_eq!(interval(&mut c, h), 365, "a deleted resident no longer shortens the interval");
    assert!(c.sensitive().of_resident(r).unwrap().is_none());
}
