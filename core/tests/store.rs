//! The store's write and merge paths: records, projections, outbox, apply, convergence.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use chrono::{Duration, Utc};
use common::*;
use gridwork_core::{RecordKind, VisitInput, VisitOutcome};

fn visit(household_id: uuid::Uuid, at: chrono::DateTime<Utc>) -> VisitInput {
    VisitInput {
        situation: "身体状况良好".into(),
        satisfaction: Some(5),
        knows_worker: Some(true),
        ..VisitInput::routine(household_id, at, VisitOutcome::Met)
    }
}

#[test]
fn household_and_visit_update_due_dates() {
    let mut s = store_at(None, "w1");
    let h = s.households().add(household(1)).unwrap();
    let now = Utc::now();
    let due = s.households().due(&area(GRID), now, 10).unwrap();
    assert_eq!(due.len(), 1, "a new household is due for a first visit");
    s.visits().record(visit(h, now)).unwrap();
    let hh = s.households().get(h).unwrap().unwrap();
    assert_eq!(hh.last_visit_at.map(|t| t.timestamp_millis()), Some(now.timestamp_millis()));
    assert!(s.households().due(&area(GRID), now, 10).unwrap().is_empty());
    let later = now + Duration::days(i64::from(hh.interval_days) + 1);
    assert_eq!(s.households().due(&area(GRID), later, 10).unwrap().len(), 1);
    assert_eq!(s.outbox_len().unwrap(), 2);
}

#[test]
fn changes_merge_into_another_store() {
    let mut a = store_at(None, "w1");
    let mut b = store_at(None, "w2");
    let h = a.households().add(household(2)).unwrap();
    let out = a.outbox(1 << 20).unwrap();
    assert_eq!(out.len(), 1);
    let r = b.apply_changes(&out).unwrap();
    assert_eq!(r.applied, 1);
    let r = b.apply_changes(&out).unwrap();
    assert_eq!((r.applied, r.duplicates), (0, 1));
    assert_eq!(b.households().get(h).unwrap(), a.households().get(h).unwrap());
    assert_eq!(b.record_kind(h).unwrap(), Some(RecordKind::Household));
    // Concurrent edits of different fields both survive.
    let mut ia = household(2);
    ia.member_count = 5;
    a.households().update(h, ia).unwrap();
    let mut ib = household(2);
    ib.phone = Some("13912345678".into());
    b.households().update(h, ib).unwrap();
    let from_a = a.changes_missing_from(&b.digest(None).unwrap(), None).unwrap();
    let from_b = b.changes_missing_from(&a.digest(None).unwrap(), None).unwrap();
    b.apply_changes(&from_a).unwrap();
    a.apply_changes(&from_b).unwrap();
    let ha = a.households().get(h).unwrap().unwrap();
    assert_eq!(ha, b.households().get(h).unwrap().unwrap());
    assert_eq!(ha.member_count, 5);
    assert_eq!(ha.phone.as_deref(), Some("13912345678"));
    assert_eq!(a.digest(None).unwrap(), b.digest(None).unwrap());
}

#[test]
fn batch_is_all_or_nothing() {
    let mut s = store_at(None, "w1");
    let ids = s
        .batch(|s| {
            (0..50).map(|i| s.households().add(household(100 + i))).collect::<Result<Vec<_>, _>>()
        })
        .unwrap();
    assert_eq!(ids.len(), 50);
    assert_eq!(s.count_records(RecordKind::Household).unwrap(), 50);
    let before = s.digest(None).unwrap();
    let err = s.batch(|s| {
        for i in 0..10 {
            s.households().add(household(500 + i))?;
        }
        // A failing write inside the batch, which the caller ignores…
        let mut bad = household(1);
        bad.head_name.clear();
        assert!(s.households().add(bad).is_err());
        // …and then the batch fails as a whole.
        s.households().add({
            let mut bad = household(2);
            bad.member_count = 0;
            bad
        })
    });
    assert_eq!(err.unwrap_err().code(), "invalid_input");
    assert_eq!(s.digest(None).unwrap(), before, "a failed batch kept some of its writes");
    assert_eq!(s.outbox_len().unwrap(), 50);
    assert!(s.batch(|s| s.batch(|_| Ok(()))).is_err(), "batches do not nest");
}

#[test]
fn search_finds_households_by_chinese_pinyin_and_phone() {
    let mut s = store_at(None, "w1");
    let mut a = household(31);
    a.head_name = "王芳".into();
    a.phone = Some("13812345678".into());
    a.address = "幸福小区3幢2单元301室".into();
    let wang = s.households().add(a).unwrap();
    let mut b = household(32);
    b.head_name = "欧阳娜娜".into();
    b.phone = Some("13900001111".into());
    b.address = "和平路18号".into();
    let ouyang = s.households().add(b).unwrap();
    for i in 0..30 {
        s.households().add(household(1000 + i)).unwrap();
    }
    let grid = area(GRID);
    let find = |s: &mut gridwork_core::Store, q: &str| -> Vec<uuid::Uuid> {
        s.households().search(&grid, q, 50).unwrap().into_iter().map(|h| h.id).collect()
    };
    for q in ["王芳", "wf", "wangfang", "5678", "幸福", "301"] {
        assert!(find(&mut s, q).contains(&wang), "{q} should find 王芳");
        assert!(!find(&mut s, q).contains(&ouyang), "{q} should not find 欧阳娜娜");
    }
    for q in ["欧阳", "娜娜", "oy", "1111"] {
        assert!(find(&mut s, q).contains(&ouyang), "{q} should find 欧阳娜娜");
    }
    assert!(find(&mut s, "芳").contains(&wang), "a one-character query works");
    assert!(find(&mut s, "   ").is_empty());
    // Deleted households leave the index; edits re-index.
    s.delete_record(RecordKind::Household, ouyang).unwrap();
    assert!(find(&mut s, "欧阳").is_empty());
    // Another area's search does not see them.
    assert!(s.households().search(&area("320612/001/002"), "王芳", 10).unwrap().is_empty());
}

/// The search index is written when a write's transaction commits (`store/deferred.rs`): a
/// batch's households are found once it commits, a failed batch leaves no tokens behind, and an
/// edit inside the batch indexes the household's last state only.
#[test]
fn search_index_follows_batches() {
    let mut s = store_at(None, "w1");
    let grid = area(GRID);
    let mut a = plain_household(1);
    a.head_name = "欧阳娜娜".into();
    let mut b = plain_household(2);
    b.head_name = "司马相如".into();
    let id = s
        .batch(|s| {
            let id = s.households().add(a.clone())?;
            let mut renamed = a.clone();
            renamed.head_name = "诸葛青云".into();
            s.households().update(id, renamed)?;
            s.households().add(b.clone())?;
            Ok(id)
        })
        .unwrap();
    let found = |s: &mut gridwork_core::Store, q: &str| -> Vec<uuid::Uuid> {
        s.households().search(&grid, q, 10).unwrap().into_iter().map(|h| h.id).collect()
    };
    assert_eq!(found(&mut s, "诸葛青云"), vec![id]);
    assert!(found(&mut s, "欧阳娜娜").is_empty(), "the name before the edit is not indexed");
    assert_eq!(found(&mut s, "司马相如").len(), 1);

    let mut c = plain_household(3);
    c.head_name = "上官婉儿".into();
    let failed = s.batch(|s| {
        s.households().add(c.clone())?;
        let mut bad = plain_household(4);
        bad.head_name.clear();
        s.households().add(bad)
    });
    assert!(failed.is_err());
    assert!(found(&mut s, "上官婉儿").is_empty(), "a failed batch leaves no tokens");
    // Outside a batch each write indexes at its own commit.
    s.households().add(c).unwrap();
    assert_eq!(found(&mut s, "上官婉儿").len(), 1);
}
