//! Shared set-up of the end-to-end tests.
#![allow(dead_code, missing_docs, clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use chrono::Utc;
use gridwork_core::demo::{self, DemoRng};
use gridwork_core::work_order::{IncidentInput, IncidentSource, Severity};
use gridwork_core::{AreaPath, HouseholdInput};
use gridwork_tests::{Backend, HarnessResult, Proxy, Server};

pub const GRID_A: &str = "320612/001/001/01";
pub const MICRO_A: &str = "320612/001/001/01/01";
pub const GRID_B: &str = "320612/001/001/02";
pub const MICRO_B: &str = "320612/001/001/02/01";
pub const TOWN: &str = "320612/001";

pub fn area(p: &str) -> AreaPath {
    AreaPath::parse(p).unwrap()
}

/// A server with the demo areas (one town, one community, two grids of two micro-grids each)
/// and a proxy in front of it.
pub async fn world(backend: Backend) -> HarnessResult<(Server, Proxy)> {
    let server = Server::start(backend).await?;
    server.create_areas(&demo::areas(1, 1, 2, 2)).await?;
    let proxy = Proxy::start(server.addr).await?;
    Ok((server, proxy))
}

pub fn household(seed: u64, micro: &str) -> HouseholdInput {
    demo::household(&mut DemoRng::new(seed), &area(micro))
}

pub fn incident(micro: &str) -> IncidentInput {
    IncidentInput {
        area: area(micro),
        category: "safety_hazard".into(),
        severity: Severity::Important,
        title: "楼道堆放杂物".into(),
        description: "3幢2单元楼道堆放纸箱，影响消防通道".into(),
        location: None,
        photos: vec![],
        source: IncidentSource::GridReport,
        household_id: None,
        patrol_id: None,
        reported_at: Utc::now(),
    }
}

/// Runs an async scenario on SQLite and on PostgreSQL (skipped without a URL outside CI).
#[macro_export]
macro_rules! both {
    ($name:ident) => {
        mod $name {
            #[tokio::test(flavor = "multi_thread", worker_threads = 4)]
            async fn sqlite() {
                if let Err(e) = super::$name(gridwork_tests::Backend::Sqlite).await {
                    panic!("sqlite: {e}");
                }
            }
            #[tokio::test(flavor = "multi_thread", worker_threads = 4)]
            async fn postgres() {
                match gridwork_tests::Backend::postgres().await {
                    Err(e) => panic!("postgres: {e}"),
                    Ok(None) => {}
                    Ok(Some(b)) => {
                        if let Err(e) = super::$name(b).await {
                            panic!("postgres: {e}");
                        }
                    }
                }
            }
        }
    };
}
