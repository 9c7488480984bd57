//! The device's attachment store: adding, the upload queue and its resume, the download queue,
//! resumed downloads, integrity, references found in synced records, encryption at rest.
#![allow(missing_docs, clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod common;

use chrono::Utc;
use common::{GRID, household, store_as};
use gridwork_core::attachment::PhotoRef;
use gridwork_core::sync::attachment::DownloadProgress;
use gridwork_core::{CoreError, Role, VisitInput, VisitOutcome};
use sha2::{Digest, Sha256};

fn blob(n: usize, seed: u8) -> Vec<u8> {
    (0..n).map(|i| (i as u8).wrapping_mul(31).wrapping_add(seed)).collect()
}

fn photo_of(bytes: &[u8]) -> PhotoRef {
    PhotoRef {
        hash: hex::encode(Sha256::digest(bytes)),
        size: bytes.len() as u64,
        mime: "image/jpeg".into(),
    }
}

#[test]
fn add_and_upload_in_resumable_chunks() {
    let mut s = store_as("w1", Role::GridWorker, GRID);
    let bytes = blob(700_000, 1);
    let p = s.add_attachment(&bytes, "image/JPEG").unwrap();
    assert_eq!(p, photo_of(&bytes));
    assert_eq!(s.add_attachment(&bytes, "image/jpeg").unwrap(), p, "same bytes, same ref");
    assert!(s.has_attachment(&p.hash).unwrap());
    assert_eq!(s.attachment_bytes(&p.hash).unwrap().unwrap(), bytes);
    assert_eq!(s.pending_uploads().unwrap().len(), 1);

    // Send two chunks, the server confirms them.
    let mut sent = Vec::new();
    for _ in 0..2 {
        let c = s.next_upload_chunk(&p.hash, 256 * 1024).unwrap().unwrap();
        assert_eq!(c.offset, sent.len() as u64);
        assert_eq!(c.path(), format!("/v1/attachments/{}?offset={}&size=700000", p.hash, c.offset));
        sent.extend_from_slice(&c.bytes);
        s.record_upload_offset(&p.hash, sent.len() as u64, false).unwrap();
    }
    // The connection drops; the server says it kept only the first chunk: resume from there.
    s.record_upload_offset(&p.hash, 256 * 1024, false).unwrap();
    sent.truncate(256 * 1024);
    while let Some(c) = s.next_upload_chunk(&p.hash, 300_000).unwrap() {
        assert_eq!(c.offset, sent.len() as u64);
        sent.extend_from_slice(&c.bytes);
        s.record_upload_offset(&p.hash, sent.len() as u64, sent.len() == bytes.len()).unwrap();
    }
    assert_eq!(sent, bytes);
    assert!(s.pending_uploads().unwrap().is_empty(), "complete uploads leave the queue");

    s.record_upload_error(&p.hash, "x").unwrap(); // harmless on a finished upload
    assert!(matches!(s.add_attachment(&[], "image/jpeg"), Err(CoreError::Invalid { .. })));
    assert!(matches!(s.add_attachment(b"x", "text/plain"), Err(CoreError::Invalid { .. })));
    assert!(matches!(s.has_attachment("nothex"), Err(CoreError::Invalid { .. })));
}

#[test]
fn download_resumes_and_verifies() {
    let mut s = store_as("w1", Role::GridWorker, GRID);
    let bytes = blob(600_000, 2);
    let p = photo_of(&bytes);
    assert!(s.queue_download(&p).unwrap());
    assert!(!s.queue_download(&p).unwrap(), "queued once");
    let d = &s.pending_downloads().unwrap()[0];
    assert_eq!((d.have, d.range_header()), (0, None));

    assert_eq!(
        s.store_download_chunk(&p.hash, 0, &bytes[..100_000]).unwrap(),
        DownloadProgress::Partial { have: 100_000 }
    );
    // A chunk at the wrong offset is refused and changes nothing.
    assert!(s.store_download_chunk(&p.hash, 5, &bytes[5..10]).is_err());
    // "Interrupted": the queue remembers what is held; resume from there.
    let d = &s.pending_downloads().unwrap()[0];
    assert_eq!(d.range_header().as_deref(), Some("bytes=100000-"));
    assert!(!s.has_attachment(&p.hash).unwrap());
    assert_eq!(s.attachment_bytes(&p.hash).unwrap(), None);
    assert_eq!(
        s.store_download_chunk(&p.hash, 100_000, &bytes[100_000..]).unwrap(),
        DownloadProgress::Complete
    );
    assert!(s.pending_downloads().unwrap().is_empty());
    assert_eq!(s.attachment_bytes(&p.hash).unwrap().unwrap(), bytes);
    assert!(!s.queue_download(&p).unwrap(), "held already");
    assert!(s.pending_uploads().unwrap().is_empty(), "downloads are not uploaded");

    // Corrupt bytes never become an attachment.
    let other = blob(1000, 3);
    let q = photo_of(&other);
    s.queue_download(&q).unwrap();
    let mut bad = other.clone();
    bad[500] ^= 1;
    assert_eq!(s.store_download_chunk(&q.hash, 0, &bad).unwrap(), DownloadProgress::Discarded);
    let d = &s.pending_downloads().unwrap()[0];
    assert_eq!((d.have, d.attempts), (0, 1), "discarded and still queued");
    assert!(d.last_error.is_some());
    assert_eq!(s.store_download_chunk(&q.hash, 0, &other).unwrap(), DownloadProgress::Complete);
}

#[test]
fn referenced_photos_are_queued_once() {
    let mut a = store_as("w1", Role::GridWorker, GRID);
    let mut b = store_as("w2", Role::GridHead, GRID);
    let bytes = blob(50_000, 4);
    let p = a.add_attachment(&bytes, "image/png").unwrap();
    let h = a.households().add(household(1)).unwrap();
    a.visits()
        .record(VisitInput {
            situation: "一切正常".into(),
            photos: vec![p.clone()],
            ..VisitInput::routine(h, Utc::now(), VisitOutcome::Met)
        })
        .unwrap();
    assert_eq!(a.queue_referenced_downloads().unwrap(), 0, "the author holds its photos");
    b.apply_changes(&a.outbox(usize::MAX).unwrap()).unwrap();
    assert_eq!(b.queue_referenced_downloads().unwrap(), 1);
    assert_eq!(b.queue_referenced_downloads().unwrap(), 0, "unchanged documents are not rescanned");
    assert_eq!(b.pending_downloads().unwrap()[0].photo, p);
}

#[test]
fn blobs_are_encrypted_at_rest() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("enc.db");
    let key = [7u8; 32];
    let marker = b"GRIDWORK-PHOTO-MARKER-0123456789".repeat(100);
    {
        let mut s = gridwork_core::Store::open(&path, Some(&key)).unwrap();
        s.add_attachment(&marker, "image/jpeg").unwrap();
        s.checkpoint().unwrap();
    }
    let raw = std::fs::read(&path).unwrap();
    assert!(!raw.windows(22).any(|w| w == b"GRIDWORK-PHOTO-MARKER-"), "plaintext on disk");
    let s = gridwork_core::Store::open(&path, Some(&key)).unwrap();
    assert_eq!(s.attachment_bytes(&photo_of(&marker).hash).unwrap().unwrap(), marker);
}

#[test]
fn photos_of_work_orders_and_patrol_observations_are_queued_too() {
    use gridwork_core::ObservationInput;
    use gridwork_core::work_order::{IncidentInput, IncidentSource, Severity};
    let mut a = store_as("w1", Role::GridWorker, GRID);
    let mut b = store_as("w2", Role::GridHead, GRID);
    let incident_photo = a.add_attachment(&blob(40_000, 7), "image/jpeg").unwrap();
    let observed_photo = a.add_attachment(&blob(30_000, 9), "image/jpeg").unwrap();
    a.work_orders()
        .report(IncidentInput {
            area: common::area(common::MICRO),
            category: "sanitation".into(),
            severity: Severity::Ordinary,
            title: "垃圾满溢".into(),
            description: String::new(),
            location: None,
            photos: vec![incident_photo.clone()],
            source: IncidentSource::GridReport,
            household_id: None,
            patrol_id: None,
            reported_at: Utc::now(),
        })
        .unwrap();
    let patrol = a.patrols().start(&common::area(GRID), Utc::now(), None).unwrap();
    a.patrols()
        .add_observation(
            patrol,
            ObservationInput {
                text: "路灯不亮".into(),
                location: None,
                at: Utc::now(),
                photos: vec![observed_photo.clone()],
            },
        )
        .unwrap();
    b.apply_changes(&a.outbox(usize::MAX).unwrap()).unwrap();
    assert_eq!(b.queue_referenced_downloads().unwrap(), 2);
    let mut queued: Vec<PhotoRef> =
        b.pending_downloads().unwrap().into_iter().map(|d| d.photo).collect();
    queued.sort_by(|x, y| x.hash.cmp(&y.hash));
    let mut expected = vec![incident_photo, observed_photo];
    expected.sort_by(|x, y| x.hash.cmp(&y.hash));
    assert_eq!(queued, expected);
}

/// A photo taken for a visit that was never saved (the form was cancelled) can be thrown away:
/// its bytes and its upload go. A photo a record refers to is kept, and a bad hash is refused.
#[test]
fn a_photo_no_record_refers_to_can_be_thrown_away() {
    let mut s = store_as("w1", Role::GridWorker, GRID);
    let h = s.households().add(household(1)).unwrap();
    let cancelled = s.add_attachment(&blob(2_000, 7), "image/jpeg").unwrap();
    let used = s.add_attachment(&blob(2_000, 8), "image/jpeg").unwrap();
    s.visits()
        .record(VisitInput {
            photos: vec![used.clone()],
            ..VisitInput::routine(h, Utc::now(), VisitOutcome::Met)
        })
        .unwrap();
    assert_eq!(s.pending_uploads().unwrap().len(), 2);

    assert!(!s.discard_photo(&used.hash).unwrap(), "a visit shows it: kept");
    assert!(s.discard_photo(&cancelled.hash.to_uppercase()).unwrap());
    assert!(!s.has_attachment(&cancelled.hash).unwrap());
    assert!(s.attachment_bytes(&cancelled.hash).unwrap().is_none());
    let queued: Vec<String> =
        s.pending_uploads().unwrap().into_iter().map(|u| u.photo.hash).collect();
    assert_eq!(queued, vec![used.hash.clone()], "only the visit's photo goes to the server");
    assert!(!s.discard_photo(&cancelled.hash).unwrap(), "pressed twice: nothing more to do");
    assert!(matches!(
        s.discard_photo("not-a-hash"),
        Err(CoreError::Invalid { field, .. }) if field == "hash"
    ));
    assert!(s.has_attachment(&used.hash).unwrap());
}
