//! Editing visits and an incident's details as ordinary field edits: round trips, minimal
//! changes that merge across phones, refusals that write nothing, and the deadline following a
//! changed severity.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use chrono::{Duration, Utc};
use common::*;
use gridwork_core::location::Location;
use gridwork_core::work_order::{
    EventType, IncidentDetails, Severity, WorkOrderAction, WorkOrderState,
};
use gridwork_core::{PhotoRef, RecordKind, Role, SignedInUser, Store, VisitInput, VisitOutcome};
use uuid::Uuid;

const OTHER_GRID: &str = "320612/001/001/02";

fn photo(n: u8) -> PhotoRef {
    PhotoRef {
        hash: format!("{n:02x}").repeat(32),
        size: 1000 + u64::from(n),
        mime: "image/jpeg".into(),
    }
}

fn sign_in(s: &mut Store, user: &str, role: Role, scope: &str) {
    s.sign_in(SignedInUser { user_id: user.into(), name: user.into(), role, scope: area(scope) })
        .unwrap();
}

/// A visit recorded by the signed-in worker; returns the household and the visit.
fn recorded(s: &mut Store) -> (Uuid, Uuid) {
    let h = s.households().add(plain_household(7)).unwrap();
    let v = s
        .visits()
        .record(VisitInput {
            situation: "老人身体尚好".into(),
            satisfaction: Some(4),
            ..VisitInput::routine(h, Utc::now() - Duration::hours(2), VisitOutcome::Met)
        })
        .unwrap();
    (h, v)
}

/// The form of visit `v` as it is now.
fn form(s: &mut Store, v: Uuid) -> VisitInput {
    s.visits().get(v).unwrap().into()
}

/// The fields the last change of record `id` wrote.
fn last_fields(s: &mut Store, kind: RecordKind, id: Uuid) -> (String, Vec<String>) {
    let h = s.history(kind, id).unwrap();
    let last = h.last().unwrap();
    (last.op.clone(), last.fields.clone())
}

#[test]
fn visit_edit_round_trip_writes_only_what_changed() {
    let mut s = store_at(None, "w1");
    let (h, v) = recorded(&mut s);
    let before = s.outbox_len().unwrap();

    let base = form(&mut s, v);
    let edited = VisitInput {
        situation: "老人身体尚好，独居，需每周探访".into(),
        needs: "希望安装扶手".into(),
        satisfaction: Some(5),
        knows_worker: Some(true),
        follow_up_due: Some(base.visited_at + Duration::days(7)),
        location: Some(Location { lat: 32.06, lon: 121.07 }),
        photos: vec![photo(1)],
        ..base
    };
    s.visits().update(v, edited.clone()).unwrap();
    let got = s.visits().get(v).unwrap();
    assert_eq!(VisitInput::from(got.clone()), edited);
    assert_eq!(got.visitor, "w1");
    assert_eq!(s.outbox_len().unwrap(), before + 1, "one change");
    let (op, fields) = last_fields(&mut s, RecordKind::Visit, v);
    assert_eq!(op, "update_visit");
    assert_eq!(
        fields,
        ["follow_up_due", "knows_worker", "lat", "lon", "needs", "satisfaction", "situation"],
        "the photo goes inside the visit's list, not into a root field"
    );

    // The same form again writes nothing.
    s.visits().update(v, edited.clone()).unwrap();
    assert_eq!(s.outbox_len().unwrap(), before + 1);

    // Clearing fields removes them; the household's dates follow a changed outcome.
    let last_visit = s.households().get(h).unwrap().unwrap().last_visit_at;
    assert!(last_visit.is_some());
    let cleared = VisitInput {
        outcome: VisitOutcome::NotHome,
        needs: String::new(),
        satisfaction: None,
        location: None,
        photos: vec![],
        ..edited
    };
    s.visits().update(v, cleared.clone()).unwrap();
    assert_eq!(VisitInput::from(s.visits().get(v).unwrap()), cleared);
    let (_, fields) = last_fields(&mut s, RecordKind::Visit, v);
    // (The emptied photo list stays; its entry's deletion is inside it, not a root field.)
    assert_eq!(fields, ["lat", "lon", "needs", "outcome", "satisfaction"]);
    assert_eq!(s.households().get(h).unwrap().unwrap().last_visit_at, None, "nobody was met");
    assert_eq!(s.visits().of_household(h).unwrap(), vec![v]);
}

#[test]
fn visit_photos_change_only_when_the_list_differs() {
    let mut s = store_at(None, "w1");
    let (_, v) = recorded(&mut s);
    let with = |s: &mut Store, photos: Vec<PhotoRef>| VisitInput { photos, ..form(s, v) };

    let input = with(&mut s, vec![photo(1), photo(2), photo(3)]);
    s.visits().update(v, input).unwrap();
    // Upper-case hashes are the same photos: nothing to write.
    let before = s.outbox_len().unwrap();
    let upper = photo(2);
    let upper = PhotoRef { hash: upper.hash.to_ascii_uppercase(), ..upper };
    let input = with(&mut s, vec![photo(1), upper, photo(3)]);
    s.visits().update(v, input).unwrap();
    assert_eq!(s.outbox_len().unwrap(), before);
    // Remove one, add one, reorder: the list ends as asked.
    for wanted in
        [vec![photo(1), photo(3)], vec![photo(1), photo(3), photo(4)], vec![photo(4), photo(1)]]
    {
        let input = with(&mut s, wanted.clone());
        s.visits().update(v, input).unwrap();
        assert_eq!(s.visits().get(v).unwrap().photos, wanted);
    }
    // Too many photos: refused, naming the field.
    let many: Vec<PhotoRef> =
        (0..=gridwork_core::attachment::MAX_PHOTOS as u8).map(photo).collect();
    refused(&mut s, "photos", |s| {
        let input = with(s, many);
        s.visits().update(v, input)
    });
}

#[test]
fn concurrent_visit_edits_of_different_fields_merge_with_both_kept() {
    let mut a = store_at(None, "w1");
    let mut b = store_at(None, "w2");
    let (_, v) = recorded(&mut a);
    exchange(&mut a, &mut b);

    // Offline on both phones: a corrects the situation and adds a photo, b the satisfaction and
    // another photo.
    let on_a = VisitInput {
        situation: "独居，腿脚不便".into(),
        photos: vec![photo(1)],
        ..form(&mut a, v)
    };
    a.visits().update(v, on_a).unwrap();
    let on_b = VisitInput { satisfaction: Some(2), photos: vec![photo(2)], ..form(&mut b, v) };
    b.visits().update(v, on_b).unwrap();
    exchange(&mut a, &mut b);

    let (va, vb) = (a.visits().get(v).unwrap(), b.visits().get(v).unwrap());
    assert_eq!(va, vb, "both phones converge");
    assert_eq!(va.situation, "独居，腿脚不便");
    assert_eq!(va.satisfaction, Some(2));
    let mut hashes: Vec<_> = va.photos.iter().map(|p| p.hash.clone()).collect();
    hashes.sort();
    assert_eq!(hashes, [photo(1).hash, photo(2).hash], "both added photos are kept");
    assert!(a.conflicts(RecordKind::Visit, v).unwrap().is_empty(), "different fields: no conflict");
}

#[test]
fn invalid_visit_edits_are_refused_with_nothing_written() {
    let mut s = store_at(None, "w1");
    let (h, v) = recorded(&mut s);
    let base = form(&mut s, v);
    let other = s.households().add(plain_household(8)).unwrap();
    let cases: Vec<(&str, VisitInput)> = vec![
        ("satisfaction", VisitInput { satisfaction: Some(0), ..base.clone() }),
        ("satisfaction", VisitInput { satisfaction: Some(6), ..base.clone() }),
        ("situation", VisitInput { situation: "很".repeat(5000), ..base.clone() }),
        (
            "lat",
            VisitInput { location: Some(Location { lat: f64::NAN, lon: 0.0 }), ..base.clone() },
        ),
        (
            "photos",
            VisitInput {
                photos: vec![PhotoRef { hash: "zz".into(), size: 1, mime: "image/jpeg".into() }],
                ..base.clone()
            },
        ),
        (
            "follow_up_due",
            VisitInput { follow_up_due: Some(base.visited_at - Duration::days(1)), ..base.clone() },
        ),
        ("household_id", VisitInput { household_id: other, ..base.clone() }),
    ];
    for (field, input) in cases {
        refused(&mut s, field, |s| s.visits().update(v, input));
    }
    refused(&mut s, "not_found", |s| s.visits().update(Uuid::now_v7(), base.clone()));
    refused(&mut s, "not_found", |s| s.visits().update(h, base.clone()));
    // A deleted visit cannot be edited.
    s.delete_record(RecordKind::Visit, v).unwrap();
    let input = VisitInput { situation: "改".into(), ..base };
    refused(&mut s, "not_found", |s| s.visits().update(v, input));
}

#[test]
fn editing_a_visit_out_of_scope_is_refused() {
    let mut s = store_at(None, "w1");
    let (_, v) = recorded(&mut s);
    let input = VisitInput { situation: "改写".into(), ..form(&mut s, v) };
    // A worker of another grid on the same device.
    sign_in(&mut s, "w9", Role::GridWorker, OTHER_GRID);
    refused(&mut s, "out_of_scope", |s| s.visits().update(v, input.clone()));
    // The grid head of the visit's grid may correct it.
    sign_in(&mut s, "h1", Role::GridHead, GRID);
    s.visits().update(v, input).unwrap();
    assert_eq!(s.visits().get(v).unwrap().visitor, "w1", "the visitor stays who made the visit");
}

fn step(s: &mut Store, id: Uuid, event_type: EventType, department: Option<&str>) {
    s.work_orders()
        .act(
            id,
            WorkOrderAction {
                event_type,
                department: department.map(String::from),
                note: None,
                extension_hours: None,
                satisfaction: None,
                photos: vec![],
                at: Utc::now(),
            },
        )
        .unwrap();
}

fn details(s: &mut Store, id: Uuid) -> IncidentDetails {
    (&s.work_orders().get(id).unwrap()).into()
}

#[test]
fn incident_edit_round_trip_by_the_reporter_then_the_command_centre() {
    let mut s = store_at(None, "w1");
    let id = s.work_orders().report(incident(Severity::Ordinary)).unwrap();
    assert_eq!(details(&mut s, id), IncidentDetails::from(&incident(Severity::Ordinary)));

    // The reporter corrects the report before it is accepted.
    let fixed = IncidentDetails {
        title: "  楼道电动车充电  ".into(),
        description: String::new(),
        category: "fire_safety".into(),
        location: Some(Location { lat: 32.06, lon: 121.07 }),
        ..details(&mut s, id)
    };
    let summary = s.work_orders().update_incident(id, fixed.clone()).unwrap();
    assert_eq!(summary.state, Some(WorkOrderState::Reported));
    let wo = s.work_orders().get(id).unwrap();
    assert_eq!(wo.title, "楼道电动车充电", "the title is stored trimmed");
    assert_eq!((wo.description.as_str(), wo.category.as_str()), ("", "fire_safety"));
    assert_eq!(wo.location, fixed.location);
    assert_eq!(wo.summary.events.len(), 1, "the event log is untouched");
    let (op, fields) = last_fields(&mut s, RecordKind::WorkOrder, id);
    assert_eq!(op, "update_incident");
    assert_eq!(fields, ["category", "description", "lat", "lon", "title"]);
    let rows = s.work_orders().open(&area(GRID), Utc::now(), 10).unwrap();
    assert_eq!(
        (rows[0].title.as_str(), rows[0].category.as_str()),
        ("楼道电动车充电", "fire_safety")
    );
    // Unchanged details write nothing.
    let before = s.outbox_len().unwrap();
    let same = details(&mut s, id);
    s.work_orders().update_incident(id, same).unwrap();
    assert_eq!(s.outbox_len().unwrap(), before);

    // Once accepted, the reporter may not; the grid head may, in any open state.
    sign_in(&mut s, "h1", Role::GridHead, GRID);
    step(&mut s, id, EventType::Accept, None);
    step(&mut s, id, EventType::Dispatch, Some("消防大队"));
    sign_in(&mut s, "w1", Role::GridWorker, GRID);
    let retitled = IncidentDetails { title: "再改".into(), ..details(&mut s, id) };
    refused(&mut s, "details_locked", |s| s.work_orders().update_incident(id, retitled.clone()));
    sign_in(&mut s, "h1", Role::GridHead, GRID);
    s.work_orders().update_incident(id, retitled).unwrap();
    assert_eq!(s.work_orders().get(id).unwrap().title, "再改");
    assert_eq!(s.work_orders().get(id).unwrap().summary.state, Some(WorkOrderState::Dispatched));
}

#[test]
fn severity_change_moves_the_deadline() {
    let mut s = store_at(None, "w1");
    let id = s.work_orders().report(incident(Severity::Ordinary)).unwrap();
    sign_in(&mut s, "op1", Role::TownOperator, "320612/001");
    step(&mut s, id, EventType::Accept, None);
    let summary = s.work_orders().summary(id, Utc::now()).unwrap();
    let start = summary.clock_started_at.unwrap();
    assert_eq!(summary.deadline, Some(start + Duration::hours(72)));
    let row = |s: &mut Store| s.work_orders().open(&area(GRID), Utc::now(), 10).unwrap().remove(0);
    assert_eq!(row(&mut s).deadline, Some(start + Duration::hours(72)));

    // Found to be a fire hazard: urgent, 2 h from acceptance.
    let urgent = IncidentDetails { severity: Severity::Urgent, ..details(&mut s, id) };
    let summary = s.work_orders().update_incident(id, urgent).unwrap();
    assert_eq!(summary.severity, Severity::Urgent);
    assert_eq!(summary.deadline, Some(start + Duration::hours(2)));
    let listed = row(&mut s);
    assert_eq!((listed.severity, listed.deadline), (Severity::Urgent, summary.deadline));
    let in_3h = Utc::now() + Duration::hours(3);
    assert_eq!(
        s.work_orders().overdue(&area(GRID), in_3h, 10).unwrap().len(),
        1,
        "overdue by then"
    );
    let (_, fields) = last_fields(&mut s, RecordKind::WorkOrder, id);
    assert_eq!(fields, ["severity"]);

    // Back to important: 24 h.
    let important = IncidentDetails { severity: Severity::Important, ..details(&mut s, id) };
    let summary = s.work_orders().update_incident(id, important).unwrap();
    assert_eq!(summary.deadline, Some(start + Duration::hours(24)));
    assert!(s.work_orders().overdue(&area(GRID), in_3h, 10).unwrap().is_empty());
}

#[test]
fn incident_edits_refused_by_state_role_and_input_write_nothing() {
    let mut s = store_at(None, "w1");
    let id = s.work_orders().report(incident(Severity::Important)).unwrap();
    let base = details(&mut s, id);

    // Bad input, even by the reporter.
    refused(&mut s, "category", |s| {
        s.work_orders()
            .update_incident(id, IncidentDetails { category: "no_such".into(), ..base.clone() })
    });
    refused(&mut s, "title", |s| {
        s.work_orders().update_incident(id, IncidentDetails { title: "  ".into(), ..base.clone() })
    });
    refused(&mut s, "description", |s| {
        s.work_orders()
            .update_incident(id, IncidentDetails { description: "很".repeat(5000), ..base.clone() })
    });
    refused(&mut s, "lon", |s| {
        let location = Some(Location { lat: 0.0, lon: 200.0 });
        s.work_orders().update_incident(id, IncidentDetails { location, ..base.clone() })
    });
    refused(&mut s, "not_found", |s| s.work_orders().update_incident(Uuid::now_v7(), base.clone()));

    // Wrong roles: another worker, a department handler, the sync admin.
    let edit = IncidentDetails { title: "改".into(), ..base.clone() };
    for (user, role, scope) in [
        ("w2", Role::GridWorker, GRID),
        ("l1", Role::Liaison, MICRO),
        ("d1", Role::DepartmentHandler, "320612"),
        ("admin", Role::SyncAdmin, "320612"),
    ] {
        sign_in(&mut s, user, role, scope);
        refused(&mut s, "role_not_allowed", |s| s.work_orders().update_incident(id, edit.clone()));
    }
    // Out of scope: a grid head of another grid.
    sign_in(&mut s, "h2", Role::GridHead, OTHER_GRID);
    refused(&mut s, "out_of_scope", |s| s.work_orders().update_incident(id, edit.clone()));

    // Closed: nobody, until reopened.
    sign_in(&mut s, "op1", Role::TownOperator, "320612/001");
    step(&mut s, id, EventType::Accept, None);
    step(&mut s, id, EventType::Dispatch, Some("城管"));
    sign_in(&mut s, "d1", Role::DepartmentHandler, "320612");
    step(&mut s, id, EventType::Handle, Some("城管"));
    step(&mut s, id, EventType::Feedback, Some("城管"));
    sign_in(&mut s, "op1", Role::TownOperator, "320612/001");
    step(&mut s, id, EventType::Close, None);
    refused(&mut s, "details_locked", |s| s.work_orders().update_incident(id, edit.clone()));
    step(&mut s, id, EventType::Reopen, None);
    s.work_orders().update_incident(id, edit.clone()).unwrap();
    assert_eq!(s.work_orders().get(id).unwrap().title, "改");

    // Deleted: not found.
    s.delete_record(RecordKind::WorkOrder, id).unwrap();
    refused(&mut s, "not_found", |s| s.work_orders().update_incident(id, base.clone()));
}

#[test]
fn concurrent_incident_edits_of_different_fields_merge() {
    let mut a = store_as("h1", Role::GridHead, GRID);
    let mut b = store_as("op1", Role::TownOperator, "320612/001");
    let id = a.work_orders().report(incident(Severity::Ordinary)).unwrap();
    exchange(&mut a, &mut b);
    let on_a = IncidentDetails { severity: Severity::Urgent, ..details(&mut a, id) };
    a.work_orders().update_incident(id, on_a).unwrap();
    let on_b =
        IncidentDetails { title: "楼道堆物堵塞消防通道".into(), ..details(&mut b, id) };
    b.work_orders().update_incident(id, on_b).unwrap();
    exchange(&mut a, &mut b);
    for s in [&mut a, &mut b] {
        let wo = s.work_orders().get(id).unwrap();
        assert_eq!(
            (wo.title.as_str(), wo.summary.severity),
            ("楼道堆物堵塞消防通道", Severity::Urgent)
        );
        assert!(s.conflicts(RecordKind::WorkOrder, id).unwrap().is_empty());
    }
}
