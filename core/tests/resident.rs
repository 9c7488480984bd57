//! Residents: recording, editing, deleting, ordering, bad input and merging.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use common::*;
use gridwork_core::{Gender, RecordKind, Relation, ResidentInput, Role};
use uuid::Uuid;

fn person(household_id: Uuid, name: &str, relation: Relation) -> ResidentInput {
    ResidentInput {
        household_id,
        name: name.into(),
        gender: Gender::Female,
        birth_year: Some(1956),
        relation,
        phone: None,
    }
}

#[test]
fn residents_are_recorded_edited_listed_and_deleted() {
    let mut s = store_at(None, "w1");
    let h = s.households().add(household(1)).unwrap();
    let child = s.residents().add(person(h, "王小明", Relation::Child)).unwrap();
    let head = s
        .residents()
        .add(ResidentInput {
            gender: Gender::Male,
            phone: Some(" +86 139-1234-5678 ".into()),
            ..person(h, "  王建国 ", Relation::Head)
        })
        .unwrap();
    let spouse = s.residents().add(person(h, "李秀英", Relation::Spouse)).unwrap();

    let list = s.residents().of_household(h).unwrap();
    assert_eq!(list.iter().map(|r| r.id).collect::<Vec<_>>(), vec![head, spouse, child]);
    let r = s.residents().get(head).unwrap().unwrap();
    assert_eq!(r.name, "王建国", "name is trimmed");
    assert_eq!(r.phone.as_deref(), Some("13912345678"), "phone is normalised");
    assert_eq!(r.area, area(MICRO), "a resident's area is the household's");
    assert_eq!((r.gender, r.relation, r.birth_year), (Gender::Male, Relation::Head, Some(1956)));

    s.residents()
        .update(child, ResidentInput { birth_year: None, ..person(h, "王小明", Relation::Child) })
        .unwrap();
    assert_eq!(s.residents().get(child).unwrap().unwrap().birth_year, None);

    s.residents().delete(spouse).unwrap();
    assert!(s.residents().get(spouse).unwrap().is_none());
    assert_eq!(s.residents().of_household(h).unwrap().len(), 2);
    let ops: Vec<String> =
        s.history(RecordKind::Resident, spouse).unwrap().into_iter().map(|e| e.op).collect();
    assert_eq!(ops, ["add_resident", "delete"]);
    // 3 households/residents writes + 1 edit + 1 delete, one change each.
    assert_eq!(s.outbox_len().unwrap(), 6);
}

#[test]
fn bad_resident_input_is_refused_and_nothing_written() {
    let mut s = store_at(None, "w1");
    let h = s.households().add(household(2)).unwrap();
    let gone = s.households().add(household(3)).unwrap();
    s.delete_record(RecordKind::Household, gone).unwrap();
    let ok = s.residents().add(person(h, "赵六", Relation::Head)).unwrap();

    refused(&mut s, "name", |s| s.residents().add(person(h, "   ", Relation::Head)));
    refused(&mut s, "name", |s| s.residents().add(person(h, &"王".repeat(65), Relation::Head)));
    refused(&mut s, "birth_year", |s| {
        s.residents()
            .add(ResidentInput { birth_year: Some(1899), ..person(h, "甲", Relation::Other) })
    });
    refused(&mut s, "birth_year", |s| {
        s.residents()
            .add(ResidentInput { birth_year: Some(9999), ..person(h, "甲", Relation::Other) })
    });
    refused(&mut s, "phone", |s| {
        s.residents()
            .add(ResidentInput { phone: Some("12345".into()), ..person(h, "甲", Relation::Other) })
    });
    refused(&mut s, "not_found", |s| {
        s.residents().add(person(Uuid::now_v7(), "甲", Relation::Head))
    });
    refused(&mut s, "not_found", |s| s.residents().add(person(gone, "甲", Relation::Head)));
    refused(&mut s, "not_found", |s| {
        s.residents().update(Uuid::now_v7(), person(h, "甲", Relation::Head))
    });
    refused(&mut s, "phone", |s| {
        s.residents().update(
            ok,
            ResidentInput { phone: Some("0".into()), ..person(h, "甲", Relation::Head) },
        )
    });
    assert_eq!(s.residents().get(ok).unwrap().unwrap().name, "赵六");
    s.residents().delete(ok).unwrap();
    refused(&mut s, "not_found", |s| s.residents().update(ok, person(h, "赵六", Relation::Head)));
    assert!(Gender::parse("x").is_err() && Relation::parse("cousin").is_err());
    assert_eq!(Relation::parse("grandchild").unwrap(), Relation::Grandchild);
}

#[test]
fn a_liaison_may_record_residents_in_their_micro_grid() {
    let mut s = store_as("l1", Role::Liaison, MICRO);
    // The household comes from the grid worker by sync.
    let mut w = store_at(None, "w1");
    let h = w.households().add(household(4)).unwrap();
    s.apply_changes(&w.outbox(usize::MAX).unwrap()).unwrap();
    let r = s.residents().add(person(h, "孙七", Relation::Head)).unwrap();
    assert_eq!(s.residents().of_household(h).unwrap()[0].id, r);
}

#[test]
fn concurrent_resident_edits_merge_to_identical_projections() {
    let mut a = store_at(None, "w1");
    let mut b = store_at(None, "w2");
    let h = a.households().add(household(5)).unwrap();
    let r = a.residents().add(person(h, "周八", Relation::Head)).unwrap();
    exchange(&mut a, &mut b);
    assert_eq!(b.residents().of_household(h).unwrap(), a.residents().of_household(h).unwrap());

    // Offline, a changes the phone while b corrects the birth year and adds a member.
    a.residents()
        .update(
            r,
            ResidentInput {
                phone: Some("13800001111".into()),
                ..person(h, "周八", Relation::Head)
            },
        )
        .unwrap();
    b.residents()
        .update(r, ResidentInput { birth_year: Some(1960), ..person(h, "周八", Relation::Head) })
        .unwrap();
    let added = b.residents().add(person(h, "吴九", Relation::Spouse)).unwrap();
    exchange(&mut a, &mut b);

    let la = a.residents().of_household(h).unwrap();
    assert_eq!(la, b.residents().of_household(h).unwrap());
    assert_eq!(la.len(), 2);
    assert_eq!(la[0].phone.as_deref(), Some("13800001111"));
    assert_eq!(la[0].birth_year, Some(1960));
    assert_eq!(la[1].id, added);
    assert_eq!(a.digest(None).unwrap(), b.digest(None).unwrap());

    // A third device receiving everything in reverse order ends the same.
    let mut c = store_at(None, "w3");
    let mut all = a.outbox(usize::MAX).unwrap();
    all.extend(b.outbox(usize::MAX).unwrap());
    all.reverse();
    for env in &all {
        c.apply_changes(std::slice::from_ref(env)).ok();
    }
    c.apply_changes(&all).unwrap();
    assert_eq!(c.residents().of_household(h).unwrap(), la);

    // A delete on one side and an edit on the other: the tombstone holds.
    a.residents().delete(added).unwrap();
    b.residents()
        .update(
            added,
            ResidentInput {
                phone: Some("13900002222".into()),
                ..person(h, "吴九", Relation::Spouse)
            },
        )
        .unwrap();
    exchange(&mut a, &mut b);
    assert_eq!(a.residents().of_household(h).unwrap(), b.residents().of_household(h).unwrap());
    assert_eq!(a.residents().of_household(h).unwrap().len(), 1);
}

#[test]
fn a_household_is_found_by_any_member_name() {
    let mut s = store_at(None, "w1");
    let h = s.households().add(household(401)).unwrap();
    let r = s
        .residents()
        .add(gridwork_core::ResidentInput {
            household_id: h,
            name: "司马懿".into(),
            gender: gridwork_core::Gender::Male,
            birth_year: Some(1950),
            relation: gridwork_core::Relation::Parent,
            phone: None,
        })
        .unwrap();
    let grid = area(GRID);
    let ids = |s: &mut gridwork_core::Store, q: &str| -> Vec<uuid::Uuid> {
        s.households().search(&grid, q, 10).unwrap().into_iter().map(|x| x.id).collect()
    };
    assert_eq!(ids(&mut s, "司马"), vec![h]);
    assert_eq!(ids(&mut s, "smy"), vec![h]);
    s.residents().delete(r).unwrap();
    assert!(ids(&mut s, "司马").is_empty(), "a deleted member no longer finds the household");
}
