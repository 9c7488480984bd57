//! Reference data: validation, the document round trip, the decoder's refusals, and (with the
//! store) a device using a synced record instead of its defaults.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use automerge::{ActorId, AutoCommit};

use super::*;
use crate::spec::{self, DecodeError};
use crate::work_order::Category;

fn district() -> AreaPath {
    AreaPath::parse("320612").unwrap()
}

fn dept(code: &str) -> Department {
    Department {
        code: code.into(),
        name_zh: "环卫所".into(),
        name_en: "Sanitation".into(),
        categories: vec!["sanitation".into()],
        area: None,
        active: true,
    }
}

/// A reference document for the district holding `data`, as the server authors it.
fn document(data: &ReferenceData) -> AutoCommit {
    let mut d = crate::author::new_document(
        RecordKind::Reference,
        &district(),
        "system",
        &ActorId::from(vec![7u8; 16]),
        1_700_000_000_000,
    )
    .unwrap();
    write(&mut d, &district(), data, "system").unwrap();
    d
}

use crate::kind::RecordKind;

#[test]
fn the_well_known_id_is_stable_per_district() {
    let a = reference_id(&district());
    assert_eq!(a, reference_id(&district()));
    assert_ne!(a, reference_id(&AreaPath::parse("320613").unwrap()));
    assert_eq!(a.get_version_num(), 8);
}

#[test]
fn defaults_are_domain_md() {
    let r = ReferenceData::default();
    assert_eq!(r.interval_days(HouseholdTag::ElderlyAlone), 7);
    assert_eq!(r.interval_days(HouseholdTag::Rental), 90);
    assert_eq!(r.interval_days(HouseholdTag::Ordinary), 365);
    assert_eq!(r.deadline_policy, DeadlinePolicy::default());
    assert_eq!(r.categories, CategoryList::default());
    assert_eq!(r.clone().validated().unwrap(), r);
}

#[test]
fn validation_names_what_is_wrong() {
    let code = |r: ReferenceData| match r.validated() {
        Ok(_) => "ok".to_owned(),
        Err(crate::CoreError::Invalid { field, reason }) => format!("{field}: {reason}"),
        Err(e) => e.to_string(),
    };
    let base = ReferenceData::default;
    let mut twice = base();
    twice.tag_intervals.push(TagInterval { tag: HouseholdTag::Rental, days: 60 });
    assert!(code(twice).contains("tag_intervals: household tag `rental` is listed twice"));
    let mut zero = base();
    zero.tag_intervals[0].days = 0;
    assert!(code(zero).starts_with("tag_intervals:"));
    let mut long = base();
    long.tag_intervals[0].days = MAX_INTERVAL_DAYS + 1;
    assert!(code(long).contains("366"));
    let mut no_hours = base();
    no_hours.deadline_policy.urgent_hours = 0;
    assert!(code(no_hours).contains("urgent_hours"));
    let mut dup = base();
    dup.departments = vec![dept("sanitation"), dept("sanitation")];
    assert!(code(dup).contains("duplicate department code `sanitation`"));
    let mut bad_code = base();
    bad_code.departments = vec![dept("Bad Code")];
    assert!(code(bad_code).starts_with("departments:"));
    let mut unknown_cat = base();
    unknown_cat.departments = vec![Department { categories: vec!["aliens".into()], ..dept("a") }];
    assert!(code(unknown_cat).contains("unknown category `aliens`"));
    let mut nameless = base();
    nameless.departments = vec![Department { name_en: " ".into(), ..dept("a") }];
    assert!(code(nameless).contains("needs a Chinese and an English name"));
    let mut all_retired = base();
    let mut cats: Vec<Category> = all_retired.categories.as_slice().to_vec();
    for c in &mut cats {
        c.retired = true;
    }
    all_retired.categories = CategoryList::new(cats).unwrap();
    assert!(code(all_retired).starts_with("categories:"));
}

#[test]
fn validation_fills_missing_tags_and_orders() {
    let r = ReferenceData {
        tag_intervals: vec![TagInterval { tag: HouseholdTag::Ordinary, days: 180 }],
        departments: vec![dept("zz"), dept("aa")],
        ..ReferenceData::default()
    };
    let r = r.validated().unwrap();
    assert_eq!(r.tag_intervals.len(), HouseholdTag::ALL.len());
    assert_eq!(r.tag_intervals[0], TagInterval { tag: HouseholdTag::ElderlyAlone, days: 7 });
    assert_eq!(r.interval_days(HouseholdTag::Ordinary), 180);
    assert_eq!(r.departments[0].code, "aa");
}

#[test]
fn document_round_trip_and_section_edits() {
    let mut data =
        ReferenceData { departments: vec![dept("sanitation")], ..ReferenceData::default() };
    let mut d = document(&data);
    let id = reference_id(&district());
    let back = spec::decode::<ReferenceSpec>(id, &d).unwrap();
    assert_eq!(back.record, data);
    assert_eq!(back.header.area, district());
    // Writing the same data again changes nothing.
    d.commit();
    let heads = d.get_heads();
    write(&mut d, &district(), &data, "someone").unwrap();
    d.commit();
    assert_eq!(d.get_heads(), heads);
    // Editing one section rewrites that section only.
    data.deadline_policy.urgent_hours = 1;
    write(&mut d, &district(), &data, "someone").unwrap();
    let change = d.get_last_local_change().unwrap().clone();
    let ops = crate::envelope::expand_ops(&change).unwrap();
    assert!(ops.len() <= 2, "policy and updated_by, not {}", ops.len());
    assert_eq!(spec::decode::<ReferenceSpec>(id, &d).unwrap().record, data);
}

#[test]
fn malformed_records_are_refused_by_the_decoder() {
    let id = reference_id(&district());
    let mut d = document(&ReferenceData::default());
    crate::doc::put(&mut d, field::CATEGORIES, "not json").unwrap();
    match spec::decode::<ReferenceSpec>(id, &d) {
        Err(DecodeError::Invalid { field, .. }) => assert_eq!(field, field::CATEGORIES),
        other => panic!("{other:?}"),
    }
    let mut d = document(&ReferenceData::default());
    crate::doc::put(&mut d, field::TAG_INTERVALS, r#"[{"tag":"rental","days":0}]"#).unwrap();
    match spec::decode::<ReferenceSpec>(id, &d) {
        Err(DecodeError::Invalid { field, reason }) => {
            assert_eq!(field, field::TAG_INTERVALS);
            assert!(reason.contains("rental"), "{reason}");
        }
        other => panic!("{other:?}"),
    }
    let mut d = document(&ReferenceData::default());
    automerge::transaction::Transactable::delete(&mut d, automerge::ROOT, field::DEPARTMENTS)
        .unwrap();
    assert_eq!(
        spec::decode::<ReferenceSpec>(id, &d).unwrap_err(),
        DecodeError::Incomplete { field: field::DEPARTMENTS }
    );
}

#[cfg(feature = "store")]
mod on_a_device {
    use chrono::{TimeDelta, Utc};

    use super::*;
    use crate::store::Store;
    use crate::work_order::{EventType, IncidentInput, IncidentSource, Severity, WorkOrderAction};
    use crate::{ChangeEnvelope, HouseholdInput, Role, SignedInUser};

    const GRID: &str = "320612/001/001/01";
    const MICRO: &str = "320612/001/001/01/01";

    fn device(role: Role, scope: &str) -> Store {
        let mut s = Store::open_in_memory().unwrap();
        s.load_areas(&crate::demo::areas(2, 2, 2, 2)).unwrap();
        s.sign_in(SignedInUser {
            user_id: "u1".into(),
            name: "网格员".into(),
            role,
            scope: AreaPath::parse(scope).unwrap(),
        })
        .unwrap();
        s
    }

    /// The server's change to the reference record making `d` hold `data` (as a pull brings
    /// it).
    fn change(d: &mut AutoCommit, data: &ReferenceData, malformed: bool) -> ChangeEnvelope {
        write(d, &district(), data, "system").unwrap();
        if malformed {
            crate::doc::put(d, field::DEADLINE_POLICY, "{\"urgent_hours\":\"soon\"}").unwrap();
        }
        let (_, bytes) =
            crate::author::commit(d, "system", "reference", 1_700_000_000_000).unwrap().unwrap();
        ChangeEnvelope {
            doc_id: reference_id(&district()),
            kind: RecordKind::Reference,
            area: district(),
            bytes,
        }
    }

    fn new_doc() -> AutoCommit {
        crate::author::new_document(
            RecordKind::Reference,
            &district(),
            "system",
            &ActorId::from(vec![7u8; 16]),
            1_700_000_000_000,
        )
        .unwrap()
    }

    fn report(s: &mut Store, category: &str) -> crate::Result<uuid::Uuid> {
        s.work_orders().report(IncidentInput {
            area: AreaPath::parse(MICRO).unwrap(),
            category: category.into(),
            severity: Severity::Urgent,
            title: "电梯困人".into(),
            description: String::new(),
            location: None,
            photos: vec![],
            source: IncidentSource::GridReport,
            household_id: None,
            patrol_id: None,
            reported_at: Utc::now(),
        })
    }

    fn rental(s: &mut Store) -> uuid::Uuid {
        s.households()
            .add(HouseholdInput {
                area: AreaPath::parse(MICRO).unwrap(),
                address: "幸福小区3幢2单元301室".into(),
                building: None,
                unit: None,
                room: None,
                head_name: "王芳".into(),
                member_count: 2,
                phone: None,
                tags: vec![HouseholdTag::Rental],
            })
            .unwrap()
    }

    #[test]
    fn a_synced_record_replaces_the_defaults() {
        let mut s = device(Role::GridWorker, GRID);
        assert_eq!(s.reference_data().unwrap(), ReferenceData::default());
        // Before the record: the standard categories only.
        assert!(report(&mut s, "elevator").is_err());
        let house = rental(&mut s);
        let visited = s.households().get(house).unwrap().unwrap();
        assert_eq!(visited.interval_days, 90);

        let mut data = ReferenceData::default();
        let mut cats = data.categories.as_slice().to_vec();
        cats.push(Category::new("elevator", "电梯安全", "Elevator safety"));
        data.categories = CategoryList::new(cats).unwrap();
        data.tag_intervals = vec![TagInterval { tag: HouseholdTag::Rental, days: 45 }];
        data.deadline_policy.urgent_hours = 1;
        data.departments = vec![dept("sanitation")];
        let data = data.validated().unwrap();
        let mut d = new_doc();
        s.apply_changes(&[change(&mut d, &data, false)]).unwrap();

        assert_eq!(s.reference_data().unwrap(), data);
        assert_eq!(s.reference_refusal().unwrap(), None);
        // The new category is accepted, its deadline follows the district's policy.
        let id = report(&mut s, "elevator").unwrap();
        assert_eq!(s.households().get(house).unwrap().unwrap().interval_days, 45);
        let _ = id;
    }

    #[test]
    fn a_policy_change_moves_existing_deadlines() {
        let mut s = device(Role::GridHead, GRID);
        let id = report(&mut s, "fire_safety").unwrap();
        s.work_orders()
            .act(
                id,
                WorkOrderAction {
                    event_type: EventType::Accept,
                    department: None,
                    note: None,
                    extension_hours: None,
                    satisfaction: None,
                    photos: vec![],
                    at: Utc::now(),
                },
            )
            .unwrap();
        let area = AreaPath::parse(GRID).unwrap();
        let before = s.work_orders().open(&area, Utc::now(), 10).unwrap()[0].deadline.unwrap();
        let mut data = ReferenceData::default();
        data.deadline_policy.urgent_hours = 5;
        let mut d = new_doc();
        s.apply_changes(&[change(&mut d, &data, false)]).unwrap();
        let after = s.work_orders().open(&area, Utc::now(), 10).unwrap()[0].deadline.unwrap();
        assert_eq!(after - before, TimeDelta::hours(3));
        // A freshly folded summary agrees with the row.
        assert_eq!(s.work_orders().summary(id, Utc::now()).unwrap().deadline, Some(after));
    }

    #[test]
    fn a_malformed_record_falls_back_to_the_defaults_and_says_why() {
        let mut s = device(Role::GridWorker, GRID);
        let house = rental(&mut s);
        let mut d = new_doc();
        let data = ReferenceData {
            tag_intervals: vec![TagInterval { tag: HouseholdTag::Rental, days: 45 }],
            ..ReferenceData::default()
        };
        s.apply_changes(&[change(&mut d, &data, false)]).unwrap();
        assert_eq!(s.households().get(house).unwrap().unwrap().interval_days, 45);

        // A later change the device cannot read: applied (sync does not stall), refused as
        // reference data, the defaults back in force.
        let report = s.apply_changes(&[change(&mut d, &data, true)]).unwrap();
        assert_eq!(report.refused, 0);
        assert_eq!(s.reference_data().unwrap(), ReferenceData::default());
        let why = s.reference_refusal().unwrap().unwrap();
        assert!(why.contains(field::DEADLINE_POLICY), "{why}");
        assert_eq!(s.households().get(house).unwrap().unwrap().interval_days, 90);
        // Reports still work, with the standard categories.
        report_ok(&mut s);

        // The server's next, valid version is used again.
        let fixed = ReferenceData {
            deadline_policy: DeadlinePolicy { urgent_hours: 3, ..DeadlinePolicy::default() },
            ..data
        };
        s.apply_changes(&[change(&mut d, &fixed, false)]).unwrap();
        assert_eq!(s.reference_data().unwrap().deadline_policy.urgent_hours, 3);
        assert_eq!(s.reference_refusal().unwrap(), None);
        assert_eq!(s.households().get(house).unwrap().unwrap().interval_days, 45);
    }

    fn report_ok(s: &mut Store) {
        report(s, "sanitation").unwrap();
    }
}
