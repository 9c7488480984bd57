//! Issue 7's convergence cases against a real server: a record's history split across pull
//! pages, one-change pushes, records moved into and out of a liaison's micro-grid, and a work
//! order that every device folds the same way whatever its clock.
#![allow(missing_docs, clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod common;

use std::time::Duration;

use chrono::{TimeDelta, Utc};
use common::*;
use gridwork_core::RecordKind;
use gridwork_core::sync::SyncConfig;
use gridwork_core::work_order::{EventType, WorkOrderAction, WorkOrderSummary};
use gridwork_tests::{Backend, Device, HarnessResult, device::test_config};

/// 400 households recorded and each edited once, then synced in one go: the log holds more
/// than one pull page, and both a colleague catching up and a new phone end with every record
/// in its edited state.
async fn history_split_across_pages(backend: Backend) -> HarnessResult<()> {
    let (server, proxy) = world(backend).await?;
    let worker = Device::new()?;
    worker.enrol_new_user(&server, &proxy.url, "王芳", "grid_worker", GRID_A).await?;
    // The smallest pages the server serves (64 KiB): 800 changes take more than one.
    let small_pages = || SyncConfig { page_bytes: 64 * 1024, ..test_config() };
    let colleague = Device::with_config(small_pages())?;
    colleague.enrol_new_user(&server, &proxy.url, "李强", "grid_head", GRID_A).await?;
    colleague.sync().await?;

    let ids = worker.with(|s| -> HarnessResult<Vec<uuid::Uuid>> {
        let ids: Vec<_> = (0..400)
            .map(|i| s.households().add(household(i, MICRO_A)))
            .collect::<Result<_, _>>()?;
        for (i, id) in ids.iter().enumerate() {
            let mut input = household(i as u64, MICRO_A);
            input.member_count = 9;
            s.households().update(*id, input)?;
        }
        Ok(ids)
    })?;
    let pushed = worker.sync().await?.pushed;
    assert_eq!(pushed, 800);

    let newcomer = Device::with_config(small_pages())?;
    newcomer.enrol_new_user(&server, &proxy.url, "张伟", "grid_worker", GRID_A).await?;
    for phone in [&colleague, &newcomer] {
        let report = phone.sync().await?;
        assert!(report.round_trips >= 2, "the log took several pages: {report:?}");
        assert_eq!(phone.count(RecordKind::Household)?, 400);
        phone.with(|s| -> HarnessResult<()> {
            for id in &ids {
                assert_eq!(s.households().get(*id)?.ok_or("missing")?.member_count, 9);
            }
            assert_eq!(s.held_counts()?, (0, 0));
            Ok(())
        })?;
        // Nothing is stuck: the next sync succeeds and brings nothing.
        assert_eq!(phone.sync().await?.pulled, 0);
    }
    Ok(())
}

both!(history_split_across_pages);

/// The smallest push size sends one change per request: a record's creation still reaches the
/// server, and so every other phone, before its edits.
async fn one_change_pushes(backend: Backend) -> HarnessResult<()> {
    let (server, proxy) = world(backend).await?;
    let worker = Device::with_config(SyncConfig { max_push_bytes: 1, ..test_config() })?;
    worker.enrol_new_user(&server, &proxy.url, "王芳", "grid_worker", GRID_A).await?;
    let ids = worker.with(|s| -> HarnessResult<Vec<uuid::Uuid>> {
        let ids: Vec<_> =
            (0..30).map(|i| s.households().add(household(i, MICRO_A))).collect::<Result<_, _>>()?;
        for round in 21..23 {
            for (i, id) in ids.iter().enumerate() {
                let mut input = household(i as u64, MICRO_A);
                input.member_count = round;
                s.households().update(*id, input)?;
            }
        }
        Ok(ids)
    })?;
    let report = worker.sync().await?;
    assert_eq!(report.pushed, 90);
    assert!(report.round_trips >= 90, "{report:?}");
    // The server's log holds each record's creation before its edits: fetched by record, in
    // seq order, each record's first change depends on nothing.
    let e = worker.enrolment()?;
    let req = gridwork_core::protocol::FetchRequest { max_page_bytes: 0, doc_ids: ids.clone() };
    let answer = gridwork_tests::wire::call(
        &reqwest::Client::new(),
        "POST",
        &format!("{}/v1/fetch", e.server_url),
        &gridwork_tests::wire::protocol_headers(&e.credential),
        gridwork_core::protocol::WireMessage::encode(&req),
    )
    .await?;
    let fetched =
        <gridwork_core::protocol::FetchResponse as gridwork_core::protocol::WireMessage>::decode(
            &answer.body,
        )?;
    assert!(fetched.remaining.is_empty());
    for id in &ids {
        let first = fetched.changes.iter().find(|c| c.change.doc_id == *id).ok_or("not logged")?;
        assert!(
            first.change.decode()?.deps().is_empty(),
            "{id}: an edit was logged before its creation"
        );
    }
    let peer = Device::new()?;
    peer.enrol_new_user(&server, &proxy.url, "李强", "grid_head", GRID_A).await?;
    let report = peer.sync().await?;
    assert_eq!(report.held, 0, "no change arrived before its dependencies: {report:?}");
    peer.with(|s| -> HarnessResult<()> {
        for id in &ids {
            assert_eq!(s.households().get(*id)?.ok_or("missing")?.member_count, 22);
        }
        Ok(())
    })
}

both!(one_change_pushes);

/// A household moved into a liaison's micro-grid reaches the liaison whole (its creation was
/// logged under another micro-grid); edits follow; moved out again, it leaves the liaison's
/// phone.
async fn record_moves_in_and_out(backend: Backend) -> HarnessResult<()> {
    let (server, proxy) = world(backend).await?;
    let other_micro = "320612/001/001/01/02";
    let worker = Device::new()?;
    worker.enrol_new_user(&server, &proxy.url, "王芳", "grid_worker", GRID_A).await?;
    let liaison = Device::new()?;
    liaison.enrol_new_user(&server, &proxy.url, "赵敏", "liaison", MICRO_A).await?;

    let mut input = household(5, other_micro);
    input.head_name = "孙立".into();
    let id = worker.with(|s| s.households().add(input.clone()))?;
    worker.sync().await?;
    liaison.sync().await?;
    assert_eq!(liaison.count(RecordKind::Household)?, 0, "not the liaison's micro-grid yet");

    // Moved into the liaison's micro-grid.
    input.area = area(MICRO_A);
    worker.with(|s| s.households().update(id, input.clone()))?;
    worker.sync().await?;
    liaison.sync().await?;
    let seen =
        liaison.with(|s| s.households().get(id))?.ok_or("the moved household did not arrive")?;
    assert_eq!(seen.head_name, "孙立", "the whole record arrived, not only the move");
    assert_eq!(seen.area, area(MICRO_A));
    assert_eq!(liaison.with(|s| s.held_counts())?, (0, 0));

    // Edited where it now lies: the liaison follows.
    input.member_count = 6;
    worker.with(|s| s.households().update(id, input.clone()))?;
    worker.sync().await?;
    liaison.sync().await?;
    assert_eq!(liaison.with(|s| s.households().get(id))?.ok_or("gone")?.member_count, 6);

    // A liaison may not take a household out of another micro-grid (or into theirs).
    // Moved out again: it leaves the liaison's phone.
    input.area = area(other_micro);
    worker.with(|s| s.households().update(id, input.clone()))?;
    worker.sync().await?;
    let report = liaison.sync().await?;
    assert!(report.pulled >= 1, "the move out reaches the old micro-grid");
    assert!(liaison.with(|s| s.households().get(id))?.is_none(), "moved out, dropped");
    assert_eq!(liaison.count(RecordKind::Household)?, 0);

    // Later edits there do not reach the liaison, and nothing is stuck.
    input.member_count = 2;
    worker.with(|s| s.households().update(id, input.clone()))?;
    worker.sync().await?;
    assert_eq!(liaison.sync().await?.pulled, 0);
    assert_eq!(liaison.count(RecordKind::Household)?, 0);
    Ok(())
}

both!(record_moves_in_and_out);

fn act(
    event_type: EventType,
    department: Option<&str>,
    at: chrono::DateTime<Utc>,
) -> WorkOrderAction {
    WorkOrderAction {
        event_type,
        department: department.map(str::to_owned),
        note: None,
        extension_hours: None,
        satisfaction: None,
        photos: vec![],
        at,
    }
}

/// What every device must agree on for a work order.
fn verdict(s: &WorkOrderSummary) -> String {
    let conflicts: Vec<_> = s.conflicts.iter().map(|c| (&c.event_id, &c.code)).collect();
    let events: Vec<_> = s.events.iter().map(|e| &e.id).collect();
    format!(
        "{:?} {:?} {:?} {:?} {:?} {events:?} {conflicts:?}",
        s.state, s.departments, s.clock_started_at, s.deadline, s.closed_at
    )
}

/// Two operators accept the same report offline; a department handler whose phone clock is a
/// minute slow signs, handles and feeds back. Every device — and the order of what they saw —
/// folds the same state, departments, conflicts and deadline.
async fn work_order_folds_the_same_everywhere(backend: Backend) -> HarnessResult<()> {
    let (server, proxy) = world(backend).await?;
    let worker = Device::new()?;
    worker.enrol_new_user(&server, &proxy.url, "王芳", "grid_worker", GRID_A).await?;
    let op1 = Device::new()?;
    op1.enrol_new_user(&server, &proxy.url, "李娟", "town_operator", TOWN).await?;
    let op2 = Device::new()?;
    op2.enrol_new_user(&server, &proxy.url, "张伟", "town_operator", TOWN).await?;
    let handler = Device::new()?;
    let h = handler.enrol_new_user(&server, &proxy.url, "周杰", "department_handler", TOWN).await?;
    server.set_departments(&h.user_id, &["sanitation"]).await?;
    let all = [&worker, &op1, &op2, &handler];

    let wo = worker.with(|s| s.work_orders().report(incident(MICRO_A)))?;
    worker.sync().await?;
    for d in &all[1..] {
        d.sync().await?;
    }
    // Concurrent accepts, offline.
    op1.with(|s| s.work_orders().act(wo, act(EventType::Accept, None, Utc::now())))?;
    op2.with(|s| s.work_orders().act(wo, act(EventType::Accept, None, Utc::now())))?;
    op2.sync().await?;
    tokio::time::sleep(Duration::from_millis(20)).await;
    op1.sync().await?;
    op1.sync().await?;
    op1.with(|s| {
        s.work_orders().act(wo, act(EventType::Dispatch, Some("sanitation"), Utc::now()))
    })?;
    op1.sync().await?;
    handler.sync().await?;
    // The handler's phone clock is 60 s slow: its steps carry times before the dispatch.
    let slow = || Utc::now() - TimeDelta::seconds(60);
    for step in [EventType::Sign, EventType::Handle, EventType::Feedback] {
        handler.with(|s| s.work_orders().act(wo, act(step, Some("sanitation"), slow())))?;
    }
    handler.sync().await?;
    for _ in 0..2 {
        for d in &all {
            d.sync().await?;
        }
    }
    let verdicts: Vec<String> = all
        .iter()
        .map(|d| d.with(|s| s.work_orders().get(wo).map(|w| verdict(&w.summary))))
        .collect::<Result<_, _>>()?;
    for (i, v) in verdicts.iter().enumerate() {
        assert_eq!(v, &verdicts[0], "device {i} folds differently");
    }
    let summary = op1.with(|s| s.work_orders().get(wo))?.summary;
    assert_eq!(summary.conflicts.len(), 1, "one of the two accepts: {:?}", summary.conflicts);
    assert_eq!(summary.conflicts[0].event_type, EventType::Accept);
    assert_eq!(
        summary.departments.get("sanitation").copied(),
        Some(gridwork_core::work_order::WorkOrderState::FedBack),
        "the slow clock's steps apply everywhere: {verdicts:?}"
    );
    // The deadline runs from the server's receive time of the first accept, known everywhere.
    let started = summary.clock_started_at.ok_or("clock not started")?;
    assert!(
        summary.events.iter().all(|e| e.received_at.is_some()),
        "every event timed by the server"
    );
    assert!(summary.events.iter().any(|e| e.received_at == Some(started)));
    // The list agrees with the record on every device.
    for d in &all {
        let listed = d.with(|s| s.work_orders().with_conflicts(&area(TOWN), 10))?;
        assert_eq!(listed.len(), 1);
    }
    Ok(())
}

both!(work_order_folds_the_same_everywhere);

/// Helper-found bug 1: a document with a quarantined change edited again must not make the
/// sync loop forever (its later changes wait for the release and are not "pending").
async fn quarantined_document_edited_again(backend: Backend) -> HarnessResult<()> {
    let (server, proxy) = world(backend).await?;
    let a = Device::new()?;
    a.enrol_new_user(&server, &proxy.url, "王芳", "grid_worker", GRID_A).await?;
    // A tampered app signed in under grid B: its household is refused and quarantined.
    let id = a.with(|s| -> HarnessResult<uuid::Uuid> {
        let mut user = s.user().cloned().ok_or("not signed in")?;
        user.scope = area(GRID_B);
        s.load_areas(&gridwork_core::demo::areas(1, 1, 2, 2))?;
        s.sign_in(user)?;
        Ok(s.households().add(household(1, MICRO_B))?)
    })?;
    assert_eq!(a.sync().await?.quarantined, 1);
    a.with(|s| {
        let mut input = household(1, MICRO_B);
        input.member_count = 31;
        s.households().update(id, input)
    })?;
    let report = tokio::time::timeout(Duration::from_secs(20), a.sync())
        .await
        .map_err(|_| "the sync never ended")??;
    assert_eq!(report.pending, 0, "{report:?}");
    Ok(())
}

both!(quarantined_document_edited_again);

/// Helper-found bugs 2 and 3: changes made before a move pulled in between keep the area they
/// were made in. A liaison's offline edit of a household moved out of its micro-grid reaches
/// the server (not quarantined `out_of_scope`), and then the household leaves the liaison's
/// phone; a worker's own move made before pulling a concurrent one is not refused
/// `area_mismatch`.
async fn changes_keep_the_area_they_were_made_in(backend: Backend) -> HarnessResult<()> {
    let (server, proxy) = world(backend).await?;
    let other_micro = "320612/001/001/01/02";
    let one_by_one = || SyncConfig { max_push_bytes: 1, ..test_config() };
    let worker = Device::new()?;
    worker.enrol_new_user(&server, &proxy.url, "王芳", "grid_worker", GRID_A).await?;
    let peer = Device::with_config(one_by_one())?;
    peer.enrol_new_user(&server, &proxy.url, "张伟", "grid_worker", GRID_A).await?;
    let liaison = Device::with_config(one_by_one())?;
    liaison.enrol_new_user(&server, &proxy.url, "赵敏", "liaison", MICRO_A).await?;
    let (x, y) = worker.with(|s| -> HarnessResult<_> {
        Ok((s.households().add(household(1, MICRO_A))?, s.households().add(household(2, MICRO_A))?))
    })?;
    for d in [&worker, &peer, &liaison] {
        d.sync().await?;
    }

    // Offline: the liaison visits y and edits x; the peer visits y and moves x out.
    let visit = |id| {
        gridwork_core::visit::VisitInput::routine(
            id,
            Utc::now(),
            gridwork_core::visit::VisitOutcome::Met,
        )
    };
    liaison.with(|s| -> HarnessResult<()> {
        s.visits().record(visit(y))?;
        let mut input = household(1, MICRO_A);
        input.member_count = 41;
        s.households().update(x, input)?;
        Ok(())
    })?;
    peer.with(|s| -> HarnessResult<()> {
        s.visits().record(visit(y))?;
        let mut input = household(1, other_micro);
        input.member_count = 1;
        s.households().update(x, input)?;
        Ok(())
    })?;
    // Meanwhile the worker moves x out and back in, and syncs first.
    worker.with(|s| -> HarnessResult<()> {
        let mut input = household(1, other_micro);
        s.households().update(x, input.clone())?;
        input.area = area(MICRO_A);
        s.households().update(x, input)?;
        Ok(())
    })?;
    worker.sync().await?;
    let r = peer.sync().await?;
    assert_eq!(r.quarantined, 0, "the peer's own move is not refused: {r:?}");
    let r = liaison.sync().await?;
    assert_eq!(r.quarantined, 0, "the liaison's edit made before the move is kept: {r:?}");
    for _ in 0..2 {
        for d in [&worker, &peer, &liaison] {
            d.sync().await?;
        }
    }
    // Every phone and the server agree on where x is; the liaison holds it only if it is in
    // its micro-grid; the liaison's edit is part of x everywhere x is.
    let w = worker.with(|s| s.households().get(x))?.ok_or("worker lost x")?;
    let p = peer.with(|s| s.households().get(x))?.ok_or("peer lost x")?;
    assert_eq!(w, p);
    let on_server = server.log_size().await?.1;
    assert!(on_server > 0);
    match liaison.with(|s| s.households().get(x))? {
        Some(l) => {
            assert_eq!(w.area, area(MICRO_A));
            assert_eq!(l, w);
        }
        None => assert_eq!(
            w.area,
            area(other_micro),
            "the liaison lacks x although it is in its micro-grid"
        ),
    }
    assert_eq!(liaison.with(|s| s.outbox_len())?, 0);
    assert!(liaison.with(|s| gridwork_core::sync::quarantined(s))?.is_empty());
    Ok(())
}

both!(changes_keep_the_area_they_were_made_in);
