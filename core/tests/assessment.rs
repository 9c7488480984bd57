//! My day and assessment figures are derived from recorded visits, patrols and work orders.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use chrono::{Duration, TimeZone, Utc};
use common::*;
use gridwork_core::work_order::{IncidentInput, IncidentSource, Severity};
use gridwork_core::{VisitInput, VisitOutcome};

fn visit(
    h: uuid::Uuid,
    at: chrono::DateTime<Utc>,
    outcome: VisitOutcome,
    sat: Option<u8>,
    knows: Option<bool>,
) -> VisitInput {
    VisitInput { satisfaction: sat, knows_worker: knows, ..VisitInput::routine(h, at, outcome) }
}

#[test]
fn my_day_and_two_rates_follow_the_records() {
    let mut s = store_at(None, "w1");
    // Households are created now (their creation time is the device clock), so the day under
    // test is today.
    let now = Utc::now();
    let day = Utc.from_utc_datetime(&now.date_naive().and_hms_opt(0, 0, 0).unwrap());
    let hs: Vec<_> = (0..5).map(|i| s.households().add(household(70 + i)).unwrap()).collect();
    s.visits()
        .record(visit(hs[0], day + Duration::hours(9), VisitOutcome::Met, Some(5), Some(true)))
        .unwrap();
    s.visits()
        .record(visit(hs[1], day + Duration::hours(10), VisitOutcome::Met, Some(3), Some(false)))
        .unwrap();
    s.visits()
        .record(visit(hs[2], day + Duration::hours(11), VisitOutcome::NotHome, None, None))
        .unwrap();
    s.work_orders()
        .report(IncidentInput {
            area: area(MICRO),
            category: "sanitation".into(),
            severity: Severity::Ordinary,
            title: "垃圾未清运".into(),
            description: String::new(),
            location: None,
            photos: vec![],
            source: IncidentSource::Visit,
            household_id: Some(hs[2]),
            patrol_id: None,
            reported_at: day + Duration::hours(11),
        })
        .unwrap();

    let md = s.my_day(day, now + Duration::minutes(1)).unwrap();
    assert_eq!((md.visits_today, md.households_met_today), (3, 2));
    assert_eq!(md.due_visit_count, 3, "households 2, 3 and 4 were not met");
    assert_eq!(md.open_work_orders.len(), 1);
    assert!(md.pending_changes >= 9);

    let a = s.assessment(&area(GRID), None, day, day + Duration::days(1)).unwrap();
    assert_eq!((a.visit_coverage.numerator, a.visit_coverage.denominator), (2, 5));
    assert_eq!((a.satisfaction.numerator, a.satisfaction.denominator), (1, 2));
    assert_eq!((a.awareness.numerator, a.awareness.denominator), (1, 2));
    assert_eq!(a.visits, 3);
    assert_eq!(a.incidents_reported, 1);
    assert_eq!(a.on_time_closure.denominator, 0);
    // Another worker recorded nothing.
    let other = s.assessment(&area(GRID), Some("w9"), day, day + Duration::days(1)).unwrap();
    assert_eq!((other.visits, other.visit_coverage.numerator), (0, 0));
    assert!(s.assessment(&area(GRID), None, day, day).is_err());
}
