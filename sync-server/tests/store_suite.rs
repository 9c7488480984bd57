//! The storage suite: every test runs against SQLite and PostgreSQL.
#![allow(missing_docs, clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod common;

use std::collections::BTreeSet;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};

use common::area;
use gridwork_core::{ChangeEnvelope, RecordKind, Role};
use gridwork_sync_server::store::{
    DynStore, EnrolmentProblem, NewChange, NewDevice, NewEnrolmentCode, PullQuery, ReadScope,
    RoleGrant, StoreError, User,
};
use uuid::Uuid;

fn nc(doc: Uuid, kind: RecordKind, a: &str, size: usize) -> NewChange {
    let id = Uuid::now_v7();
    let mut hash = [0u8; 32];
    hash[..16].copy_from_slice(id.as_bytes());
    hash[16..].copy_from_slice(id.as_bytes());
    NewChange::new(hash, ChangeEnvelope { doc_id: doc, kind, area: area(a), bytes: vec![7; size] })
}

fn all_scope() -> Vec<ReadScope> {
    vec![ReadScope { area: area("320612"), kinds: RecordKind::ALL.to_vec() }]
}

fn q(cursor: u64, scopes: Vec<ReadScope>) -> PullQuery {
    PullQuery { cursor, scopes, exclude_device: None, max_bytes: 256 * 1024 }
}

async fn idempotent_and_sequenced(s: DynStore) {
    let dev = Uuid::now_v7();
    let doc = Uuid::now_v7();
    let a = nc(doc, RecordKind::Visit, "320612/001", 10);
    let b = nc(doc, RecordKind::Visit, "320612/001", 10);
    let o = s.push(dev, 1, &[a.clone(), b.clone()]).await.unwrap();
    assert_eq!(o.seqs, vec![1, 2]);
    assert_eq!(o.stored, 2);
    // Repeat plus one new, and a duplicate inside the same push.
    let c = nc(doc, RecordKind::Visit, "320612/001", 10);
    let o = s.push(dev, 2, &[b.clone(), c.clone(), c.clone(), a]).await.unwrap();
    assert_eq!(o.seqs, vec![2, 3, 3, 1]);
    assert_eq!(o.stored, 1);
    assert_eq!(s.change_count().await.unwrap(), 3);
    assert_eq!(s.head_seq().await.unwrap(), 3);
    let digests = s.digests(&area("320612"), &all_scope()).await.unwrap();
    assert_eq!(digests.len(), 1);
    assert_eq!(digests[0].change_count, 3);
}
both!(idempotent_and_sequenced_t, super::idempotent_and_sequenced);

async fn kind_mismatch_stores_nothing(s: DynStore) {
    let dev = Uuid::now_v7();
    let doc = Uuid::now_v7();
    s.push(dev, 1, &[nc(doc, RecordKind::Household, "320612/001", 5)]).await.unwrap();
    let other = nc(Uuid::now_v7(), RecordKind::Visit, "320612/001", 5);
    let bad = nc(doc, RecordKind::Sensitive, "320612/001", 5);
    let e = s.push(dev, 2, &[other, bad]).await.unwrap_err();
    assert!(matches!(e, StoreError::KindMismatch { index: 1, .. }), "{e}");
    assert_eq!(s.change_count().await.unwrap(), 1);
    assert_eq!(s.head_seq().await.unwrap(), 1);
}
both!(kind_mismatch_stores_nothing_t, super::kind_mismatch_stores_nothing);

async fn pull_scopes(s: DynStore) {
    let me = Uuid::now_v7();
    let other = Uuid::now_v7();
    let grid_a = "320612/001/001/01";
    s.push(
        other,
        1,
        &[
            nc(Uuid::now_v7(), RecordKind::Household, "320612/001/001/01/02", 5), // 1 in A
            nc(Uuid::now_v7(), RecordKind::Household, "320612/001/001/02", 5),    // 2 grid B
            nc(Uuid::now_v7(), RecordKind::Sensitive, "320612/001/001/01", 5), // 3 sensitive in A
            nc(Uuid::now_v7(), RecordKind::Household, "320612/001/001/011", 5), // 4 not in A
        ],
    )
    .await
    .unwrap();
    s.push(me, 2, &[nc(Uuid::now_v7(), RecordKind::Visit, grid_a, 5)]).await.unwrap(); // 5 mine
    let seqs = |p: &gridwork_sync_server::store::PullPage| {
        p.changes.iter().map(|c| c.seq).collect::<Vec<_>>()
    };
    let worker = gridwork_sync_server::policy::read_scopes(&[RoleGrant {
        role: Role::GridWorker,
        area: area(grid_a),
    }]);
    let p = s.pull(&q(0, worker.clone())).await.unwrap();
    assert_eq!(seqs(&p), vec![1, 3, 5]);
    assert_eq!((p.next_cursor, p.more, p.head_seq), (5, false, 5));
    let liaison = gridwork_sync_server::policy::read_scopes(&[RoleGrant {
        role: Role::Liaison,
        area: area(grid_a),
    }]);
    assert_eq!(seqs(&s.pull(&q(0, liaison)).await.unwrap()), vec![1, 5]);
    let mut own = q(0, worker.clone());
    own.exclude_device = Some(me);
    assert_eq!(seqs(&s.pull(&own).await.unwrap()), vec![1, 3]);
    assert_eq!(seqs(&s.pull(&q(1, worker)).await.unwrap()), vec![3, 5]);
    let admin = gridwork_sync_server::policy::read_scopes(&[RoleGrant {
        role: Role::SyncAdmin,
        area: area("320612"),
    }]);
    let p = s.pull(&q(0, admin)).await.unwrap();
    assert!(p.changes.is_empty());
    assert_eq!(p.next_cursor, 5);
}
both!(pull_scopes_t, super::pull_scopes);

async fn paging_by_bytes(s: DynStore) {
    let dev = Uuid::now_v7();
    let batch: Vec<_> =
        (0..10).map(|_| nc(Uuid::now_v7(), RecordKind::Visit, "320612/001", 30_000)).collect();
    s.push(dev, 1, &batch).await.unwrap();
    let mut cursor = 0;
    let mut pages = Vec::new();
    loop {
        let mut query = q(cursor, all_scope());
        query.max_bytes = 64 * 1024;
        let p = s.pull(&query).await.unwrap();
        pages.push(p.changes.len());
        cursor = p.next_cursor;
        if !p.more {
            break;
        }
    }
    assert_eq!(cursor, 10);
    assert_eq!(pages, vec![2, 2, 2, 2, 2]);
    // A change larger than a page still comes, alone.
    s.push(dev, 2, &[nc(Uuid::now_v7(), RecordKind::Visit, "320612/001", 300_000)]).await.unwrap();
    let mut query = q(10, all_scope());
    query.max_bytes = 64 * 1024;
    let p = s.pull(&query).await.unwrap();
    assert_eq!((p.changes.len(), p.next_cursor, p.more), (1, 11, false));
}
both!(paging_by_bytes_t, super::paging_by_bytes);

async fn enrolment_codes(s: DynStore) {
    let user = User {
        id: Uuid::now_v7(),
        name: "王芳".into(),
        roles: vec![RoleGrant { role: Role::GridWorker, area: area("320612/001") }],
        created_at: 1,
    };
    s.create_user(&user).await.unwrap();
    assert_eq!(s.get_user(user.id).await.unwrap().unwrap(), user);
    let code = |b: u8, expires_at| NewEnrolmentCode {
        code_hash: [b; 32],
        user_id: user.id,
        expires_at,
        created_at: 0,
    };
    s.create_enrolment_code(&code(1, 1000)).await.unwrap();
    s.create_enrolment_code(&code(2, 10)).await.unwrap();
    s.create_enrolment_code(&code(3, 1000)).await.unwrap();
    let dev = |actor: &str, cred: u8| NewDevice {
        id: Uuid::now_v7(),
        name: "phone".into(),
        actor_hex: actor.into(),
        credential_hash: [cred; 32],
        now: 100,
    };
    let d = s.redeem_enrolment_code([1; 32], &dev("aa", 1)).await.unwrap();
    assert_eq!(d.user_id, user.id);
    let problem = |e: StoreError| match e {
        StoreError::Enrolment(p) => p,
        other => panic!("{other}"),
    };
    assert_eq!(
        problem(s.redeem_enrolment_code([1; 32], &dev("bb", 2)).await.unwrap_err()),
        EnrolmentProblem::Used
    );
    assert_eq!(
        problem(s.redeem_enrolment_code([2; 32], &dev("bb", 2)).await.unwrap_err()),
        EnrolmentProblem::Expired
    );
    assert_eq!(
        problem(s.redeem_enrolment_code([9; 32], &dev("bb", 2)).await.unwrap_err()),
        EnrolmentProblem::Unknown
    );
    assert_eq!(
        problem(s.redeem_enrolment_code([3; 32], &dev("aa", 3)).await.unwrap_err()),
        EnrolmentProblem::ActorTaken
    );
    // The refused attempt left code 3 usable.
    s.redeem_enrolment_code([3; 32], &dev("cc", 3)).await.unwrap();
    let auth = s.device_by_credential([1; 32]).await.unwrap().unwrap();
    assert_eq!(auth.device.id, d.id);
    assert_eq!(auth.user, user);
    assert!(s.revoke_device(d.id).await.unwrap());
    assert!(s.device_by_credential([1; 32]).await.unwrap().unwrap().device.revoked);
    assert!(s.device_by_credential([7; 32]).await.unwrap().is_none());
    assert_eq!(s.list_devices().await.unwrap().len(), 2);
}
both!(enrolment_codes_t, super::enrolment_codes);

/// DESIGN §2's trap: concurrent pushes while pullers pull continuously; every puller must end
/// with every acknowledged seq exactly once.
async fn concurrent_pushes_never_skip(s: DynStore) {
    const PUSHERS: usize = 8;
    const BATCHES: usize = 25;
    const PER_BATCH: usize = 4;
    let done = Arc::new(AtomicBool::new(false));
    let mut pullers = Vec::new();
    for _ in 0..3 {
        let (s, done) = (s.clone(), done.clone());
        pullers.push(tokio::spawn(async move {
            let mut cursor = 0;
            let mut seen = Vec::new();
            loop {
                let finished = done.load(Ordering::SeqCst);
                let mut query = q(cursor, all_scope());
                query.max_bytes = 64 * 1024;
                let p = s.pull(&query).await.unwrap();
                seen.extend(p.changes.iter().map(|c| c.seq));
                assert!(p.next_cursor >= cursor);
                cursor = p.next_cursor;
                if finished && !p.more {
                    break;
                }
            }
            seen
        }));
    }
    let mut pushers = Vec::new();
    for _ in 0..PUSHERS {
        let s = s.clone();
        pushers.push(tokio::spawn(async move {
            let dev = Uuid::now_v7();
            let mut acked = Vec::new();
            for _ in 0..BATCHES {
                let batch: Vec<_> = (0..PER_BATCH)
                    .map(|_| nc(Uuid::now_v7(), RecordKind::Visit, "320612/001/001", 100))
                    .collect();
                acked.extend(s.push(dev, 1, &batch).await.unwrap().seqs);
            }
            acked
        }));
    }
    let mut acked = BTreeSet::new();
    for p in pushers {
        acked.extend(p.await.unwrap());
    }
    done.store(true, Ordering::SeqCst);
    assert_eq!(acked.len(), PUSHERS * BATCHES * PER_BATCH);
    for p in pullers {
        let seen = p.await.unwrap();
        let set: BTreeSet<u64> = seen.iter().copied().collect();
        assert_eq!(set.len(), seen.len(), "a change was served twice");
        assert_eq!(set, acked, "a puller skipped changes");
    }
}
both!(concurrent_pushes_never_skip_t, super::concurrent_pushes_never_skip);
