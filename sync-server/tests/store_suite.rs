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
    vec![ReadScope::new(area("320612"), RecordKind::ALL.to_vec())]
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
    assert!(!d.renewed);
    let d = d.device;
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
    // The refused attempts left code 3 usable.
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

fn test_user(name: &str) -> User {
    User {
        id: Uuid::now_v7(),
        name: name.into(),
        roles: vec![RoleGrant { role: Role::GridWorker, area: area("320612/001") }],
        created_at: 1,
    }
}

/// Issue 7 §3: a phone whose enrolment did not finish enrols again — with the same code or a
/// fresh one of the same user — and gets a new credential for its existing device; everything
/// else stays refused.
async fn enrolment_completes_again(s: DynStore) {
    let (u, v) = (test_user("王芳"), test_user("李娟"));
    s.create_user(&u).await.unwrap();
    s.create_user(&v).await.unwrap();
    let code = |b: u8, user: &User, expires_at| NewEnrolmentCode {
        code_hash: [b; 32],
        user_id: user.id,
        expires_at,
        created_at: 0,
    };
    for c in [
        code(1, &u, 1000),
        code(2, &u, 1000),
        code(3, &v, 1000),
        code(4, &u, 10),
        code(5, &u, 1000),
        code(6, &u, 150),
    ] {
        s.create_enrolment_code(&c).await.unwrap();
    }
    let dev = |actor: &str, cred: u8, name: &str, now| NewDevice {
        id: Uuid::now_v7(),
        name: name.into(),
        actor_hex: actor.into(),
        credential_hash: [cred; 32],
        now,
    };
    let redeem = |hash: u8, d: NewDevice| {
        let s = s.clone();
        async move { s.redeem_enrolment_code([hash; 32], &d).await }
    };
    let problem = |r: Result<_, StoreError>| match r {
        Err(StoreError::Enrolment(p)) => p,
        Err(other) => panic!("{other}"),
        Ok(ok) => panic!("not refused: {ok:?}"),
    };
    let first = redeem(1, dev("aa", 1, "phone", 100)).await.unwrap();
    assert!(!first.renewed);
    let id = first.device.id;
    let owner = |cred: u8| {
        let s = s.clone();
        async move { s.device_by_credential([cred; 32]).await.unwrap().map(|a| a.device.id) }
    };

    // (a) The same, consumed code again from the same actor: same device, new credential.
    let again = redeem(1, dev("aa", 2, "王芳的手机", 110)).await.unwrap();
    assert!(again.renewed);
    assert_eq!((again.device.id, again.device.user_id), (id, u.id));
    assert_eq!((again.device.name.as_str(), again.device.enrolled_at), ("王芳的手机", 100));
    assert_eq!(owner(1).await, None, "the old credential stops working");
    assert_eq!(owner(2).await, Some(id));

    // (b) A fresh code of the same user: same device, new credential, the code consumed.
    let fresh = redeem(2, dev("aa", 3, "phone", 120)).await.unwrap();
    assert!(fresh.renewed);
    assert_eq!(fresh.device.id, id);
    assert_eq!((owner(2).await, owner(3).await), (None, Some(id)));
    assert_eq!(problem(redeem(2, dev("bb", 9, "p", 130)).await), EnrolmentProblem::Used);
    // ...and now that code is this device's: retrying it completes again.
    assert_eq!(redeem(2, dev("aa", 4, "phone", 130)).await.unwrap().device.id, id);
    assert_eq!(s.list_devices().await.unwrap().len(), 1, "never a second device");

    // Still refused: a used code from another actor, another user's code for this actor, an
    // expired fresh code, a used code retried after its expiry, an unknown code.
    assert_eq!(problem(redeem(1, dev("cc", 9, "p", 130)).await), EnrolmentProblem::Used);
    assert_eq!(problem(redeem(3, dev("aa", 9, "p", 130)).await), EnrolmentProblem::ActorTaken);
    assert_eq!(problem(redeem(4, dev("aa", 9, "p", 130)).await), EnrolmentProblem::Expired);
    redeem(6, dev("aa", 5, "phone", 140)).await.unwrap();
    assert_eq!(problem(redeem(6, dev("aa", 9, "p", 200)).await), EnrolmentProblem::Expired);
    assert_eq!(problem(redeem(9, dev("aa", 9, "p", 130)).await), EnrolmentProblem::Unknown);
    assert_eq!(owner(5).await, Some(id), "refusals changed no credential");
    assert_eq!(owner(9).await, None);
    // Another user's device is bound to its own actor; this user's code cannot take it.
    let other = redeem(3, dev("bb", 6, "p", 130)).await.unwrap();
    assert_eq!(other.device.user_id, v.id);
    assert_eq!(problem(redeem(5, dev("bb", 9, "p", 130)).await), EnrolmentProblem::ActorTaken);

    // A revoked device's actor cannot enrol again, with its own code or a fresh one.
    assert!(s.revoke_device(id).await.unwrap());
    assert_eq!(problem(redeem(5, dev("aa", 9, "p", 130)).await), EnrolmentProblem::DeviceRevoked);
    assert_eq!(problem(redeem(1, dev("aa", 9, "p", 130)).await), EnrolmentProblem::DeviceRevoked);
    assert!(s.device_by_credential([5; 32]).await.unwrap().unwrap().device.revoked);
    // The refused fresh code was not consumed.
    assert!(!redeem(5, dev("dd", 7, "p", 130)).await.unwrap().renewed);
    assert_eq!(s.list_devices().await.unwrap().len(), 3);
}
both!(enrolment_completes_again_t, super::enrolment_completes_again);

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
