//! Scenario 7: bytes on the wire, counted by the proxy (HTTP headers included): a sync with
//! nothing to do ≤ 500 B; 150 edits among 10,000 documents ≤ 15 KB.
#![allow(missing_docs, clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod common;

use common::*;
use gridwork_core::RecordKind;
use gridwork_tests::{Backend, Device, HarnessResult};

const DOCS: u64 = 10_000;
const EDITS: u64 = 150;

async fn bytes_on_the_wire(backend: Backend) -> HarnessResult<()> {
    let (server, proxy) = world(backend).await?;
    let a = Device::new()?;
    let b = Device::new()?;
    a.enrol_new_user(&server, &proxy.url, "王芳", "grid_worker", GRID_A).await?;
    b.enrol_new_user(&server, &proxy.url, "李娟", "grid_worker", GRID_A).await?;
    let t = std::time::Instant::now();
    let ids: Vec<uuid::Uuid> = a.with(|s| {
        s.batch(|s| (0..DOCS).map(|i| s.households().add(household(i, MICRO_A))).collect())
    })?;
    eprintln!("created {DOCS} households in {:?}", t.elapsed());
    a.sync().await?;
    b.sync().await?;
    eprintln!("synced both in {:?}", t.elapsed());
    assert_eq!(b.count(RecordKind::Household)?, DOCS);

    proxy.reset();
    b.sync().await?;
    let (up, down) = proxy.bytes();
    eprintln!(
        "{}: empty sync {up} B up + {down} B down = {} B",
        server.backend().name(),
        up + down
    );
    assert!(up + down <= 500, "empty sync costs {} B", up + down);

    a.with(|s| -> HarnessResult<()> {
        for id in ids.iter().step_by((DOCS / EDITS) as usize).take(EDITS as usize) {
            let h = s.households().get(*id)?.ok_or("missing")?;
            let mut input = household(0, MICRO_A);
            input.address = h.address.clone();
            input.head_name = h.head_name.clone();
            input.member_count = h.member_count % 9 + 1;
            input.phone = Some("13912345678".into());
            s.households().update(*id, input)?;
        }
        Ok(())
    })?;
    proxy.reset();
    let pushed = a.sync().await?;
    let (up_a, down_a) = proxy.bytes();
    proxy.reset();
    let pulled = b.sync().await?;
    let (up_b, down_b) = proxy.bytes();
    eprintln!(
        "{}: push of {} edits {} B; pull of {} edits {} B",
        server.backend().name(),
        pushed.pushed,
        up_a + down_a,
        pulled.pulled,
        up_b + down_b
    );
    assert_eq!(pushed.pushed, EDITS);
    assert_eq!(pulled.pulled, EDITS);
    assert!(up_a + down_a <= 15_000, "push of 150 edits costs {} B", up_a + down_a);
    assert!(up_b + down_b <= 15_000, "pull of 150 edits costs {} B", up_b + down_b);
    Ok(())
}

both!(bytes_on_the_wire);
