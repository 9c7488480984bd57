//! Trains the zstd dictionary the device store compresses change bytes with
//! (`core/src/store/change.dict`, see `store/change_bytes.rs`) on real Gridwork changes: several
//! simulated phones (each its own actor and user) recording households, household edits,
//! residents, visits, patrols and incidents, as grid workers do.
//!
//! `cargo run --release -p gridwork-core --example train_change_dictionary -- core/src/store/change.dict`
//!
//! Run once. A shipped dictionary must never be replaced (stored rows name it by id); a better
//! one would be added next to it.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::print_stdout)]

use chrono::{TimeDelta, TimeZone, Utc};
use gridwork_core::demo::{self, DemoRng};
use gridwork_core::work_order::{IncidentInput, IncidentSource, Severity};
use gridwork_core::{
    AreaLevel, Gender, ObservationInput, Relation, ResidentInput, Role, SignedInUser, Store,
    TrackPoint, VisitInput, VisitOutcome,
};

const SITUATIONS: [&str; 8] = [
    "老人身体状况良好，独自在家",
    "家中一切正常，子女每周探望",
    "租户已登记，居住人数与登记一致",
    "低保材料已更新，生活基本稳定",
    "家中有老人行动不便，需要关注",
    "住户反映楼道照明损坏",
    "独居，身体尚可",
    "",
];
const NEEDS: [&str; 5] =
    ["", "希望社区帮助联系家政服务", "申请临时救助", "希望维修楼道灯", "咨询医保报销政策"];
const DICT_SIZE: usize = 16 * 1024;

/// One phone's day: its changes, as its outbox holds them.
fn phone(n: u64, micro: &gridwork_core::AreaPath) -> Vec<Vec<u8>> {
    let grid = micro.parent().unwrap();
    let mut s = Store::open_in_memory().unwrap();
    s.load_areas(&demo::areas(3, 3, 3, 3)).unwrap();
    s.sign_in(SignedInUser {
        user_id: format!("u-{:04}", 1000 + n),
        name: "网格员".into(),
        role: Role::GridWorker,
        scope: grid.clone(),
    })
    .unwrap();
    let mut rng = DemoRng::new(n);
    let now = Utc.with_ymd_and_hms(2026, 11, 20, 9, 0, 0).unwrap();
    let mut households = Vec::new();
    for _ in 0..40 {
        let input = demo::household(&mut rng, micro);
        let id = s.households().add(input.clone()).unwrap();
        if rng.below(4) == 0 {
            let mut edited = input;
            edited.phone = Some(demo::mobile(&mut rng));
            edited.member_count = 1 + rng.below(5) as u32;
            s.households().update(id, edited).unwrap();
        }
        if rng.below(3) == 0 {
            s.residents()
                .add(ResidentInput {
                    household_id: id,
                    name: demo::person_name(&mut rng),
                    gender: if rng.below(2) == 0 { Gender::Female } else { Gender::Male },
                    birth_year: Some(1930 + rng.below(80) as i32),
                    relation: Relation::Head,
                    phone: Some(demo::mobile(&mut rng)),
                })
                .unwrap();
        }
        households.push(id);
    }
    for _ in 0..80 {
        let h = households[rng.below(households.len() as u64) as usize];
        let outcome = match rng.below(10) {
            0 => VisitOutcome::NotHome,
            _ => VisitOutcome::Met,
        };
        let mut v = VisitInput::routine(
            h,
            now - TimeDelta::minutes(rng.below(60 * 24 * 30) as i64),
            outcome,
        );
        if outcome == VisitOutcome::Met {
            v.situation = SITUATIONS[rng.below(SITUATIONS.len() as u64) as usize].into();
            v.needs = NEEDS[rng.below(NEEDS.len() as u64) as usize].into();
            v.satisfaction = Some(3 + rng.below(3) as u8);
            v.knows_worker = Some(rng.below(10) > 0);
        }
        v.location = Some(gridwork_core::location::Location {
            lat: 32.0 + rng.below(10_000) as f64 / 1e5,
            lon: 121.0 + rng.below(10_000) as f64 / 1e5,
        });
        s.visits().record(v).unwrap();
    }
    let patrol = s.patrols().start(&grid, now, None).unwrap();
    let points: Vec<TrackPoint> = (0..16)
        .map(|i| TrackPoint {
            t_ms: now.timestamp_millis() + i * 30_000,
            lat: 31.98 + i as f64 * 0.0002,
            lon: 120.89,
            accuracy_m: Some(5.0),
        })
        .collect();
    s.patrols().add_track_points(patrol, &points).unwrap();
    s.patrols()
        .add_observation(
            patrol,
            ObservationInput {
                text: "楼道堆放杂物".into(),
                location: None,
                at: now,
                photos: vec![],
            },
        )
        .unwrap();
    s.patrols().end(patrol, now + TimeDelta::hours(1)).unwrap();
    s.work_orders()
        .report(IncidentInput {
            area: micro.clone(),
            category: "fire_safety".into(),
            severity: Severity::Urgent,
            title: "楼道堆物".into(),
            description: "三楼楼道堆放纸箱".into(),
            location: None,
            photos: vec![],
            source: IncidentSource::Patrol,
            household_id: None,
            patrol_id: Some(patrol),
            reported_at: now,
        })
        .unwrap();
    s.outbox(usize::MAX).unwrap().into_iter().map(|e| e.bytes).collect()
}

fn main() {
    let out = std::env::args().nth(1).expect("usage: train_change_dictionary <output file>");
    let micro: Vec<_> = demo::areas(3, 3, 3, 3)
        .into_iter()
        .filter(|a| a.path.level() == AreaLevel::MicroGrid)
        .map(|a| a.path)
        .collect();
    let mut samples = Vec::new();
    for n in 0..60u64 {
        samples.extend(phone(n, &micro[(n as usize * 7) % micro.len()]));
    }
    let total: usize = samples.iter().map(Vec::len).sum();
    let dict = zstd::dict::from_samples(&samples, DICT_SIZE).unwrap();
    std::fs::write(&out, &dict).unwrap();
    println!(
        "{} changes ({} B, avg {} B) -> dictionary of {} B in {out}",
        samples.len(),
        total,
        total / samples.len(),
        dict.len()
    );
}
