//! Realistic sync workloads for the server benchmarks (`sync-server/benches/ingest.rs`) and the
//! load simulator (`loadsim`): the changes a grid worker's phone makes in a day, produced by real
//! core stores (households, residents, household edits, visits, a patrol, incidents), each
//! phone's changes carrying that phone's own Automerge actor.
//!
//! Generating them costs about a millisecond of CPU per change (the core's write path), so
//! [`days_cached`] keeps generated workloads in a cache file, encoded with the sync protocol's
//! own primitives.

use std::path::{Path, PathBuf};

use chrono::{DateTime, TimeDelta, Utc};
use gridwork_core::demo::{self, DemoRng};
use gridwork_core::location::Location;
use gridwork_core::protocol::{Reader, SyncRequest, WireMessage, Writer};
use gridwork_core::work_order::{IncidentInput, IncidentSource, Severity};
use gridwork_core::{
    Area, AreaLevel, AreaPath, ChangeEnvelope, Gender, Relation, ResidentInput, Role, SignedInUser,
    Store, VisitInput, VisitOutcome,
};
use gridwork_core::{CheckInInput, HouseholdInput, PhotoRef};

use crate::HarnessResult;

/// Bump when the generated content changes, to invalidate cache files.
const WORKLOAD_VERSION: u32 = 1;
const CACHE_MAGIC: &[u8; 8] = b"GWLOAD01";

/// The demo district the workloads live in: 14 towns × 8 communities × 5 grids × 4 micro-grids
/// (560 grids).
pub fn district_areas() -> Vec<Area> {
    demo::areas(14, 8, 5, 4)
}

/// The grids of [`district_areas`], in path order.
pub fn grids(areas: &[Area]) -> Vec<AreaPath> {
    areas.iter().filter(|a| a.path.level() == AreaLevel::Grid).map(|a| a.path.clone()).collect()
}

/// What one phone records in a day: how many of each record. [`DayPlan::default`] makes 200
/// changes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct DayPlan {
    /// Households registered (one change each).
    pub households: usize,
    /// Residents added to them (one change each).
    pub residents: usize,
    /// Edits of those households (one change each).
    pub household_edits: usize,
    /// Visits (one change each, a new visit document).
    pub visits: usize,
    /// Patrol check-ins (a patrol: start + check-ins + end, one change each).
    pub check_ins: usize,
    /// Incidents reported (one work-order change each, carrying a `report` event).
    pub incidents: usize,
}

impl Default for DayPlan {
    fn default() -> Self {
        DayPlan {
            households: 12,
            residents: 12,
            household_edits: 6,
            visits: 150,
            check_ins: 16,
            incidents: 2,
        }
    }
}

impl DayPlan {
    /// How many changes the plan makes.
    pub fn changes(&self) -> usize {
        self.households
            + self.residents
            + self.household_edits
            + self.visits
            + if self.check_ins > 0 { self.check_ins + 2 } else { 0 }
            + self.incidents
    }
}

/// One phone's day: its actor (bound at enrolment), its grid and its outbox.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DayOfWork {
    /// The phone's Automerge actor id, hex.
    pub actor_hex: String,
    /// The grid of its grid worker.
    pub grid: AreaPath,
    /// Its outbox, in recording order (what it pushes).
    pub changes: Vec<ChangeEnvelope>,
}

impl DayOfWork {
    /// Bytes of Automerge change in the outbox.
    pub fn change_bytes(&self) -> usize {
        self.changes.iter().map(|c| c.bytes.len()).sum()
    }
}

/// An in-memory core store signed in as a grid worker of `grid`.
///
/// # Errors
/// Store errors.
pub fn grid_worker_store(areas: &[Area], grid: &AreaPath, user: &str) -> HarnessResult<Store> {
    let mut s = Store::open_in_memory()?;
    s.load_areas(areas)?;
    s.sign_in(SignedInUser {
        user_id: user.to_owned(),
        name: "网格员".into(),
        role: Role::GridWorker,
        scope: grid.clone(),
    })?;
    Ok(s)
}

fn micro_grids_of(areas: &[Area], grid: &AreaPath) -> Vec<AreaPath> {
    let inner: Vec<AreaPath> = areas
        .iter()
        .filter(|a| a.path != *grid && grid.contains(&a.path))
        .map(|a| a.path.clone())
        .collect();
    if inner.is_empty() { vec![grid.clone()] } else { inner }
}

const SITUATIONS: [&str; 6] = [
    "老人身体状况良好，独自在家",
    "家中一切正常，子女每周探望",
    "租户已登记，居住人数与登记一致",
    "低保材料已更新，生活基本稳定",
    "家中有老人行动不便，需要关注",
    "住户反映楼道照明损坏",
];
const NEEDS: [&str; 4] = ["", "希望社区帮助联系家政服务", "申请临时救助", "咨询医保报销政策"];

fn location(rng: &mut DemoRng) -> Location {
    Location {
        lat: 32.0 + rng.below(10_000) as f64 / 1e5,
        lon: 121.0 + rng.below(10_000) as f64 / 1e5,
    }
}

fn visit(rng: &mut DemoRng, household: uuid::Uuid, at: DateTime<Utc>) -> VisitInput {
    let outcome = match rng.below(20) {
        0..=1 => VisitOutcome::NotHome,
        _ => VisitOutcome::Met,
    };
    let met = outcome == VisitOutcome::Met;
    VisitInput {
        situation: if met { SITUATIONS[rng.below(6) as usize].into() } else { String::new() },
        needs: if met { NEEDS[rng.below(4) as usize].into() } else { String::new() },
        satisfaction: met.then(|| 3 + rng.below(3) as u8),
        knows_worker: met.then(|| rng.below(10) > 0),
        // One visit in four carries a photo (the reference only; bytes travel separately).
        photos: if rng.below(4) == 0 { vec![photo(rng)] } else { vec![] },
        location: Some(location(rng)),
        ..VisitInput::routine(household, at, outcome)
    }
}

fn photo(rng: &mut DemoRng) -> PhotoRef {
    let hash: String = (0..4).map(|_| format!("{:016x}", rng.next_u64())).collect();
    PhotoRef { hash, size: 150_000 + rng.below(250_000), mime: "image/jpeg".into() }
}

fn resident(rng: &mut DemoRng, household: uuid::Uuid, head: Option<&str>) -> ResidentInput {
    ResidentInput {
        household_id: household,
        name: head.map_or_else(|| demo::person_name(rng), str::to_owned),
        gender: if rng.below(2) == 0 { Gender::Male } else { Gender::Female },
        birth_year: Some(1940 + i32::try_from(rng.below(70)).unwrap_or(0)),
        relation: if head.is_some() { Relation::Head } else { Relation::Spouse },
        phone: Some(demo::mobile(rng)),
    }
}

/// Records one day of a grid worker's work in `store` (signed in as a grid worker of `grid`)
/// following `plan`, and returns the outbox.
///
/// # Errors
/// Store errors.
pub fn record_day(
    store: &mut Store,
    areas: &[Area],
    grid: &AreaPath,
    plan: &DayPlan,
    rng: &mut DemoRng,
) -> HarnessResult<Vec<ChangeEnvelope>> {
    let micros = micro_grids_of(areas, grid);
    let day = Utc::now() - TimeDelta::hours(10);
    let minute = |i: usize| day + TimeDelta::minutes(i64::try_from(i).unwrap_or(0) * 3);
    store.batch(|s| {
        let mut households: Vec<(uuid::Uuid, HouseholdInput)> = Vec::new();
        for i in 0..plan.households.max(1) {
            let input = demo::household(rng, &micros[i % micros.len()]);
            households.push((s.households().add(input.clone())?, input));
        }
        for i in 0..plan.residents {
            let (id, input) = &households[i % households.len()];
            let head = (i < households.len()).then_some(input.head_name.as_str());
            s.residents().add(resident(rng, *id, head))?;
        }
        for i in 0..plan.household_edits {
            let (id, input) = &households[i % households.len()];
            let mut edited = input.clone();
            edited.phone = Some(demo::mobile(rng));
            edited.member_count = 1 + edited.member_count % 6;
            s.households().update(*id, edited)?;
        }
        for i in 0..plan.visits {
            let (id, _) = &households[rng.below(households.len() as u64) as usize];
            s.visits().record(visit(rng, *id, minute(i)))?;
        }
        if plan.check_ins > 0 {
            let patrol = s.patrols().start(grid, minute(0), None)?;
            for i in 0..plan.check_ins {
                s.patrols().check_in(
                    patrol,
                    CheckInInput {
                        name: format!("{}号楼", 1 + rng.below(30)),
                        location: location(rng),
                        at: minute(i + 1),
                        point_id: None,
                    },
                )?;
            }
            s.patrols().end(patrol, minute(plan.check_ins + 1))?;
        }
        let incidents = [
            ("safety_hazard", Severity::Urgent, "电动车楼道充电", "3幢2单元楼道内有电动车飞线充电"),
            ("sanitation", Severity::Ordinary, "垃圾清运不及时", "小区东门垃圾桶满溢两天"),
            ("public_facilities", Severity::Important, "路灯损坏", "路口路灯不亮"),
        ];
        for i in 0..plan.incidents {
            let (category, severity, title, description) = incidents[i % incidents.len()];
            s.work_orders().report(IncidentInput {
                area: micros[i % micros.len()].clone(),
                category: category.into(),
                severity,
                title: title.into(),
                description: description.into(),
                location: Some(location(rng)),
                photos: vec![],
                source: IncidentSource::GridReport,
                household_id: households.get(i).map(|h| h.0),
                patrol_id: None,
                reported_at: minute(i * 20),
            })?;
        }
        Ok(())
    })?;
    Ok(store.outbox(usize::MAX)?)
}

/// Generates the days of `devices` phones: phone `i` is a grid worker of grid
/// `i / devices_per_grid` (so that several phones share each grid), each with its own fresh
/// in-memory store. Runs on `threads` threads; deterministic content for a seed (record ids and
/// actors are random, as on phones).
///
/// # Errors
/// Store errors; more phones than grids can hold.
pub fn generate_days(
    devices: usize,
    devices_per_grid: usize,
    plan: &DayPlan,
    seed: u64,
    threads: usize,
) -> HarnessResult<Vec<DayOfWork>> {
    let areas = district_areas();
    let grids = grids(&areas);
    let per_grid = devices_per_grid.max(1);
    if devices.div_ceil(per_grid) > grids.len() {
        return Err(format!(
            "{devices} phones at {per_grid} per grid need more than the {} grids",
            grids.len()
        )
        .into());
    }
    let threads = threads.clamp(1, 16);
    let chunk = devices.div_ceil(threads).max(1);
    let results: Vec<HarnessResult<Vec<DayOfWork>>> = std::thread::scope(|scope| {
        let handles: Vec<_> = (0..devices)
            .step_by(chunk)
            .map(|start| {
                let (areas, grids) = (&areas, &grids);
                scope.spawn(move || -> HarnessResult<Vec<DayOfWork>> {
                    let mut out = Vec::new();
                    for i in start..(start + chunk).min(devices) {
                        let grid = &grids[i / per_grid];
                        let mut rng = DemoRng::new(seed ^ (i as u64).wrapping_mul(0x9E37));
                        let mut store = grid_worker_store(areas, grid, &format!("worker-{i}"))?;
                        let changes = record_day(&mut store, areas, grid, plan, &mut rng)?;
                        out.push(DayOfWork {
                            actor_hex: store.actor_id().to_hex_string(),
                            grid: grid.clone(),
                            changes,
                        });
                    }
                    Ok(out)
                })
            })
            .collect();
        handles
            .into_iter()
            .map(|h| h.join().unwrap_or_else(|_| Err("a workload thread panicked".into())))
            .collect()
    });
    let mut out = Vec::with_capacity(devices);
    for r in results {
        out.extend(r?);
    }
    Ok(out)
}

/// Where workload caches live: `GW_BENCH_CACHE`, else `target/gridwork-bench/` next to the
/// running binary's profile directory, else the temp dir.
pub fn cache_dir() -> PathBuf {
    let dir = match std::env::var_os("GW_BENCH_CACHE") {
        Some(d) => PathBuf::from(d),
        None => std::env::current_exe()
            .ok()
            .and_then(|exe| {
                exe.ancestors()
                    .find(|p| p.file_name().is_some_and(|n| n == "target"))
                    .map(Path::to_path_buf)
            })
            .map_or_else(std::env::temp_dir, |t| t.join("gridwork-bench")),
    };
    let _ = std::fs::create_dir_all(&dir);
    dir
}

/// As [`generate_days`], but read from a cache file when one was written for the same
/// parameters (and written otherwise). `GW_BENCH_REBUILD=1` regenerates.
///
/// # Errors
/// As [`generate_days`]; unreadable cache files are regenerated, unwritable ones reported.
pub fn days_cached(
    devices: usize,
    devices_per_grid: usize,
    plan: &DayPlan,
    seed: u64,
    threads: usize,
) -> HarnessResult<Vec<DayOfWork>> {
    let name = format!(
        "workload-v{WORKLOAD_VERSION}-{devices}x{}-g{devices_per_grid}-s{seed}-{}.bin",
        plan.changes(),
        plan_key(plan)
    );
    let path = cache_dir().join(name);
    if std::env::var_os("GW_BENCH_REBUILD").is_none()
        && let Ok(bytes) = std::fs::read(&path)
        && let Ok(days) = decode_days(&bytes)
        && days.len() == devices
    {
        return Ok(days);
    }
    let days = generate_days(devices, devices_per_grid, plan, seed, threads)?;
    std::fs::write(&path, encode_days(&days)?)?;
    Ok(days)
}

fn plan_key(p: &DayPlan) -> String {
    format!(
        "{}-{}-{}-{}-{}-{}",
        p.households, p.residents, p.household_edits, p.visits, p.check_ins, p.incidents
    )
}

/// Encodes days for the cache: magic, count, then per day the actor, the grid and the outbox
/// as a protocol `SyncRequest` (zstd-compressed by the protocol's framing).
///
/// # Errors
/// Encoding errors.
pub fn encode_days(days: &[DayOfWork]) -> HarnessResult<Vec<u8>> {
    let mut w = Writer::default();
    w.raw(CACHE_MAGIC);
    w.varint(days.len() as u64);
    for d in days {
        w.bytes(d.actor_hex.as_bytes());
        w.bytes(d.grid.as_str().as_bytes());
        let req = SyncRequest {
            cursor: 0,
            max_page_bytes: 0,
            include_own: false,
            push: d.changes.clone(),
        };
        w.bytes(&req.encode());
    }
    Ok(w.into_bytes())
}

/// Decodes [`encode_days`]' output.
///
/// # Errors
/// Malformed input.
pub fn decode_days(bytes: &[u8]) -> HarnessResult<Vec<DayOfWork>> {
    let mut r = Reader::new(bytes);
    if r.raw(CACHE_MAGIC.len(), "magic")? != CACHE_MAGIC {
        return Err("not a workload cache file".into());
    }
    let n = r.count("days", 3)?;
    let mut out = Vec::with_capacity(n);
    for _ in 0..n {
        let actor_hex = String::from_utf8(r.bytes("actor")?.to_vec())?;
        let grid = AreaPath::parse(std::str::from_utf8(r.bytes("grid")?)?)?;
        let req = SyncRequest::decode(r.bytes("request")?)?;
        out.push(DayOfWork { actor_hex, grid, changes: req.push });
    }
    r.finish()?;
    Ok(out)
}

/// Every area a set of grids needs on the server: their ancestors, themselves and their
/// micro-grids, parents first.
pub fn areas_for_grids(areas: &[Area], grids: &[AreaPath]) -> Vec<Area> {
    areas
        .iter()
        .filter(|a| grids.iter().any(|g| a.path.contains(g) || g.contains(&a.path)))
        .cloned()
        .collect()
}

/// Creates the areas of the days' grids and, per day, a grid worker with a light simulated
/// phone enrolled with that day's actor; returns the phones' credentials in day order.
///
/// # Errors
/// Admin API and enrolment errors.
pub async fn enrol_days(server: &crate::Server, days: &[DayOfWork]) -> HarnessResult<Vec<String>> {
    let mut grids: Vec<AreaPath> = days.iter().map(|d| d.grid.clone()).collect();
    grids.sort();
    grids.dedup();
    server.create_areas(&areas_for_grids(&district_areas(), &grids)).await?;
    let mut creds = Vec::with_capacity(days.len());
    for (i, d) in days.iter().enumerate() {
        let user =
            server.create_user(&format!("网格员{i}"), "grid_worker", d.grid.as_str()).await?;
        creds.push(server.enrol_actor(&user, &d.actor_hex).await?);
    }
    Ok(creds)
}

/// What one light sync did.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct LightSync {
    /// Round trips.
    pub rounds: u32,
    /// Changes acknowledged.
    pub acked: u64,
    /// Changes pulled.
    pub pulled: u64,
    /// Request bodies, bytes.
    pub bytes_up: u64,
    /// Response bodies, bytes.
    pub bytes_down: u64,
    /// The cursor after the sync.
    pub cursor: u64,
}

/// A light phone's sync through the real protocol (`POST /v1/sync`, the core's message
/// encoding): pushes `push` in the first round, then pulls pages until the server says there is
/// no more. Pulled changes are counted, not applied (a phone's apply cost is the core's
/// `apply` benchmark).
///
/// # Errors
/// Network failures, non-200 answers, undecodable answers, a status other than ok.
pub async fn light_sync(
    http: &reqwest::Client,
    url: &str,
    credential: &str,
    cursor: u64,
    push: Vec<ChangeEnvelope>,
) -> HarnessResult<LightSync> {
    use gridwork_core::protocol::{CONTENT_TYPE, SyncResponse, SyncStatus};
    let mut out = LightSync { cursor, ..LightSync::default() };
    let mut push = Some(push);
    loop {
        let body = SyncRequest {
            cursor: out.cursor,
            max_page_bytes: 0,
            include_own: false,
            push: push.take().unwrap_or_default(),
        }
        .encode();
        out.bytes_up += body.len() as u64;
        let resp = http
            .post(format!("{url}/v1/sync"))
            .bearer_auth(credential)
            .header("content-type", CONTENT_TYPE)
            .body(body)
            .send()
            .await?;
        let status = resp.status();
        let bytes = resp.bytes().await?;
        out.bytes_down += bytes.len() as u64;
        if !status.is_success() {
            return Err(format!("sync: {status} {}", String::from_utf8_lossy(&bytes)).into());
        }
        let r = SyncResponse::decode(&bytes)?;
        if r.status != SyncStatus::Ok {
            return Err(format!("sync status {:?}", r.status).into());
        }
        out.rounds += 1;
        out.acked += r.acks.len() as u64;
        out.pulled += r.changes.len() as u64;
        out.cursor = r.next_cursor;
        if !r.more {
            return Ok(out);
        }
    }
}
