//! Patrols: track chunks (one change per flush, not per point), check-ins, observations linked
//! to incidents, derived distance and duration, bad input and merging.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use chrono::{DateTime, Duration, TimeZone, Utc};
use common::*;
use gridwork_core::location::Location;
use gridwork_core::{
    CheckInInput, ObservationInput, PhotoRef, RecordKind, Role, Store, TrackPoint,
};
use uuid::Uuid;

fn t0() -> DateTime<Utc> {
    Utc.with_ymd_and_hms(2025, 6, 3, 1, 0, 0).unwrap()
}

/// `n` fixes one second apart from `start_s` seconds after t0, walking north at ~1.1 m/s.
fn walk(start_s: i64, n: usize) -> Vec<TrackPoint> {
    (0..n)
        .map(|i| {
            let s = start_s + i as i64;
            TrackPoint {
                t_ms: (t0() + Duration::seconds(s)).timestamp_millis(),
                lat: 32.0 + s as f64 * 1e-5,
                lon: 121.0,
                accuracy_m: Some(5.0),
            }
        })
        .collect()
}

fn photo() -> PhotoRef {
    PhotoRef { hash: "ab".repeat(32), size: 120_000, mime: "image/jpeg".into() }
}

fn here() -> Location {
    Location { lat: 32.001, lon: 121.0 }
}

fn observation(text: &str) -> ObservationInput {
    ObservationInput { text: text.into(), location: Some(here()), at: t0(), photos: vec![photo()] }
}

#[test]
fn a_patrol_is_recorded_with_its_track_checkins_and_observations() {
    let mut s = store_at(None, "w1");
    let p = s.patrols().start(&area(GRID), t0(), None).unwrap();
    let before = s.outbox(usize::MAX).unwrap().len();
    s.patrols().add_track_points(p, &walk(0, 600)).unwrap();
    s.patrols().add_track_points(p, &walk(600, 600)).unwrap();
    s.patrols().add_track_points(p, &[]).unwrap();
    let changes = s.outbox(usize::MAX).unwrap();
    assert_eq!(changes.len() - before, 2, "one change per flushed chunk");
    let track_bytes: usize = changes[before..].iter().map(|c| c.bytes.len()).sum();
    assert!(track_bytes < 4 * 1024, "1,200 fixes took {track_bytes} bytes of changes");

    let c = s
        .patrols()
        .check_in(
            p,
            CheckInInput {
                name: "幸福小区3幢".into(),
                location: here(),
                at: t0() + Duration::minutes(5),
                point_id: Some("poi-17".into()),
            },
        )
        .unwrap();
    let o1 = s.patrols().add_observation(p, observation("消防通道堆放杂物")).unwrap();
    let o2 = s
        .patrols()
        .add_observation(
            p,
            ObservationInput { location: None, photos: vec![], ..observation("路灯不亮") },
        )
        .unwrap();
    let incident = Uuid::now_v7();
    s.patrols().link_observation_incident(p, o1, incident).unwrap();
    s.patrols().end(p, t0() + Duration::minutes(25)).unwrap();

    let patrol = s.patrols().get(p).unwrap();
    assert_eq!(patrol.track.len(), 1200);
    assert_eq!(patrol.track[0].t_ms, t0().timestamp_millis());
    assert_eq!(patrol.stats.points, 1200);
    // 1,199 steps of 1e-5° latitude ≈ 1.11 m each.
    assert!((patrol.stats.distance_m - 1333.0).abs() < 10.0, "{}", patrol.stats.distance_m);
    assert!((patrol.duration_s - 1500.0).abs() < 1e-6);
    assert_eq!(patrol.unreadable_chunks, 0);
    assert_eq!(patrol.checkins.len(), 1);
    assert_eq!(patrol.checkins[0].id, c);
    assert_eq!(patrol.checkins[0].point_id.as_deref(), Some("poi-17"));
    assert_eq!(patrol.observations.iter().map(|o| o.id).collect::<Vec<_>>(), vec![o1, o2]);
    assert_eq!(patrol.observations[0].incident_id, Some(incident));
    assert_eq!(patrol.observations[0].photos, vec![photo()]);
    assert_eq!(patrol.observations[1].location, None);
    assert_eq!(patrol.worker, "w1");

    let day =
        s.patrols().of_worker("w1", t0() - Duration::hours(1), t0() + Duration::days(1)).unwrap();
    assert_eq!(day.len(), 1);
    let row = &day[0];
    assert_eq!((row.id, row.points, row.checkins, row.observations), (p, 1200, 1, 2));
    assert_eq!(row.distance_m, patrol.stats.distance_m);
    assert_eq!(row.duration_s, 1500.0);
    assert!(
        s.patrols()
            .of_worker("w1", t0() + Duration::hours(1), t0() + Duration::days(1))
            .unwrap()
            .is_empty()
    );
    assert!(
        s.patrols()
            .of_worker("w2", t0() - Duration::hours(1), t0() + Duration::days(1))
            .unwrap()
            .is_empty()
    );
    assert_eq!(
        s.patrols().in_area(&area("320612/001"), t0(), t0() + Duration::days(1)).unwrap(),
        day
    );

    s.patrols().delete(p).unwrap();
    assert!(
        s.patrols()
            .of_worker("w1", t0() - Duration::hours(1), t0() + Duration::days(1))
            .unwrap()
            .is_empty()
    );
    assert!(s.patrols().get(p).unwrap().deleted);
}

#[test]
fn an_open_patrol_lasts_until_its_latest_fix() {
    let mut s = store_at(None, "w1");
    let p = s.patrols().start(&area(MICRO), t0(), None).unwrap();
    assert_eq!(s.patrols().get(p).unwrap().duration_s, 0.0);
    s.patrols().add_track_points(p, &walk(60, 61)).unwrap();
    let patrol = s.patrols().get(p).unwrap();
    assert_eq!(patrol.duration_s, 120.0);
    assert!(patrol.ended_at.is_none());
}

#[test]
fn bad_patrol_input_is_refused_and_nothing_written() {
    let mut s = store_at(None, "w1");
    refused(&mut s, "area", |s| s.patrols().start(&area("320612/001"), t0(), None));
    refused(&mut s, "not_found", |s| s.patrols().start(&area("320612/001/001/09"), t0(), None));
    refused(&mut s, "out_of_scope", |s| s.patrols().start(&area("320612/002/001/01"), t0(), None));
    refused(&mut s, "not_found", |s| s.patrols().start(&area(GRID), t0(), Some(Uuid::now_v7())));
    let p = s.patrols().start(&area(GRID), t0(), None).unwrap();
    let mut far = walk(0, 3);
    far[1].lat = 91.0;
    refused(&mut s, "lat", |s| s.patrols().add_track_points(p, &far));
    let mut back = walk(0, 3);
    back[2].t_ms = back[0].t_ms - 1;
    refused(&mut s, "t_ms", |s| s.patrols().add_track_points(p, &back));
    refused(&mut s, "track_points", |s| s.patrols().add_track_points(p, &walk(0, 10_001)));
    refused(&mut s, "not_found", |s| s.patrols().add_track_points(Uuid::now_v7(), &walk(0, 2)));
    let check =
        |name: &str| CheckInInput { name: name.into(), location: here(), at: t0(), point_id: None };
    refused(&mut s, "name", |s| s.patrols().check_in(p, check(" ")));
    refused(&mut s, "lon", |s| {
        s.patrols().check_in(
            p,
            CheckInInput { location: Location { lat: 0.0, lon: 200.0 }, ..check("门岗") },
        )
    });
    refused(&mut s, "point_id", |s| {
        s.patrols().check_in(p, CheckInInput { point_id: Some("p".repeat(65)), ..check("门岗") })
    });
    refused(&mut s, "text", |s| s.patrols().add_observation(p, observation("")));
    refused(&mut s, "text", |s| s.patrols().add_observation(p, observation(&"字".repeat(4001))));
    refused(&mut s, "photos", |s| {
        s.patrols().add_observation(
            p,
            ObservationInput {
                photos: vec![PhotoRef { hash: "x".into(), ..photo() }],
                ..observation("坑")
            },
        )
    });
    refused(&mut s, "photos", |s| {
        s.patrols()
            .add_observation(p, ObservationInput { photos: vec![photo(); 21], ..observation("坑") })
    });
    refused(&mut s, "not_found", |s| {
        s.patrols().link_observation_incident(p, Uuid::now_v7(), Uuid::now_v7())
    });
    let h = s.households().add(household(1)).unwrap();
    let o = s.patrols().add_observation(p, observation("井盖缺失")).unwrap();
    refused(&mut s, "incident_id", |s| s.patrols().link_observation_incident(p, o, h));
    refused(&mut s, "ended_at", |s| s.patrols().end(p, t0() - Duration::seconds(1)));
    s.patrols().end(p, t0() + Duration::hours(1)).unwrap();
    refused(&mut s, "ended_at", |s| s.patrols().end(p, t0() + Duration::hours(2)));
    refused(&mut s, "ended_at", |s| s.patrols().add_track_points(p, &walk(0, 2)));
    refused(&mut s, "ended_at", |s| s.patrols().check_in(p, check("门岗")));
    refused(&mut s, "ended_at", |s| s.patrols().add_observation(p, observation("x")));

    // Someone else's patrol.
    let mut other = store_at(None, "w2");
    other.apply_changes(&s.outbox(usize::MAX).unwrap()).unwrap();
    let q = s.patrols().start(&area(GRID), t0(), None).unwrap();
    other.apply_changes(&s.outbox(usize::MAX).unwrap()).unwrap();
    refused(&mut other, "forbidden", |o| o.patrols().add_track_points(q, &walk(0, 2)));
    refused(&mut other, "forbidden", |o| o.patrols().end(q, t0() + Duration::hours(1)));
}

#[test]
fn patrol_edits_on_two_phones_merge_to_identical_projections() {
    let mut a = store_at(None, "w1");
    let mut b = store_as("g1", Role::GridHead, GRID);
    let p = a.patrols().start(&area(GRID), t0(), None).unwrap();
    a.patrols().add_track_points(p, &walk(0, 120)).unwrap();
    let o = a.patrols().add_observation(p, observation("违章搭建")).unwrap();
    exchange(&mut a, &mut b);

    // Offline: the worker walks on and observes more; the grid head turns the first
    // observation into an incident.
    a.patrols().add_track_points(p, &walk(120, 120)).unwrap();
    let o2 = a.patrols().add_observation(p, observation("垃圾满溢")).unwrap();
    let incident = Uuid::now_v7();
    b.patrols().link_observation_incident(p, o, incident).unwrap();
    exchange(&mut a, &mut b);
    a.patrols().end(p, t0() + Duration::minutes(10)).unwrap();
    exchange(&mut a, &mut b);

    let (pa, pb) = (a.patrols().get(p).unwrap(), b.patrols().get(p).unwrap());
    assert_eq!(pa, pb);
    assert_eq!(pa.track.len(), 240);
    assert_eq!(pa.observations.iter().map(|o| o.id).collect::<Vec<_>>(), vec![o, o2]);
    assert_eq!(pa.observations[0].incident_id, Some(incident));
    let range = (t0() - Duration::hours(1), t0() + Duration::hours(1));
    assert_eq!(
        a.patrols().of_worker("w1", range.0, range.1).unwrap(),
        b.patrols().of_worker("w1", range.0, range.1).unwrap()
    );
    assert_eq!(a.digest(None).unwrap(), b.digest(None).unwrap());
    let ops: Vec<String> =
        a.history(RecordKind::Patrol, p).unwrap().into_iter().map(|e| e.op).collect();
    assert!(ops.contains(&"link_observation_incident".to_string()));
}

#[test]
fn a_damaged_track_chunk_does_not_break_the_patrol() {
    use automerge::transaction::Transactable;
    use automerge::{AutoCommit, ReadDoc, ScalarValue};
    let mut s: Store = store_at(None, "w1");
    let p = s.patrols().start(&area(GRID), t0(), None).unwrap();
    s.patrols().add_track_points(p, &walk(0, 10)).unwrap();
    // Another (buggy or hostile) client appends garbage to the track list.
    let changes = s.outbox(usize::MAX).unwrap();
    let bytes: Vec<u8> = changes.iter().flat_map(|c| c.bytes.clone()).collect();
    let mut d = AutoCommit::load(&bytes).unwrap();
    let (_, track) = d.get(automerge::ROOT, "track").unwrap().unwrap();
    let len = d.length(&track);
    d.insert(&track, len, ScalarValue::Bytes(vec![1, 2, 3, 4])).unwrap();
    d.commit();
    let forged = gridwork_core::ChangeEnvelope {
        bytes: d.get_last_local_change().unwrap().raw_bytes().to_vec(),
        ..changes[0].clone()
    };
    s.apply_changes(&[forged]).unwrap();
    let patrol = s.patrols().get(p).unwrap();
    assert_eq!((patrol.track.len(), patrol.unreadable_chunks), (10, 1));
    let row = &s.patrols().of_worker("w1", t0(), t0() + Duration::days(1)).unwrap()[0];
    assert_eq!(row.points, 10);
}
