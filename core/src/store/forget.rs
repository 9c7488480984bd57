//! Forgetting records a device may no longer see: after its user was moved to another grid (or
//! lost the right to sensitive data), the old scope's residents must not stay on the phone.
//! Documents with unsent changes are kept, so no field work is ever thrown away.

use std::collections::HashSet;

use rusqlite::{OptionalExtension, params};
use uuid::Uuid;

use super::{Store, write_txn};
use crate::area::AreaPath;
use crate::error::Result;
use crate::kind::RecordKind;

impl Store {
    /// Deletes every document outside `scope` (an area list: a document stays when its area is
    /// inside one of them), and every sensitive document when `keep_sensitive` is false, with
    /// their changes, projection rows and search tokens. Documents with changes still waiting in
    /// the outbox are kept. Freed pages are zeroed (`secure_delete`). Returns how many documents
    /// were forgotten.
    ///
    /// # Errors
    /// Storage errors (nothing is deleted then).
    pub(crate) fn forget_outside(
        &mut self,
        scope: &[AreaPath],
        keep_sensitive: bool,
    ) -> Result<u64> {
        // Freed pages are zeroed: the store runs with `secure_delete` (`open.rs`).
        let gone = write_txn(&mut self.conn, self.batch.as_mut(), |tx| {
            let unsent: HashSet<Vec<u8>> = tx
                .prepare("SELECT DISTINCT doc_id FROM change WHERE outbox <> 0")?
                .query_map([], |r| r.get(0))?
                .collect::<rusqlite::Result<_>>()?;
            let mut gone: Vec<(Uuid, RecordKind)> = Vec::new();
            let mut rows = tx.prepare("SELECT id, kind, area FROM doc")?;
            let mut q = rows.query([])?;
            while let Some(r) = q.next()? {
                let id: Uuid = r.get(0)?;
                let kind = RecordKind::from_code(r.get(1)?)?;
                let area: String = r.get(2)?;
                if unsent.contains(id.as_bytes().as_slice()) {
                    continue;
                }
                let outside = match AreaPath::parse(&area) {
                    Ok(a) => !scope.iter().any(|s| s.contains(&a)),
                    Err(_) => false, // no area recorded: nothing tells it is outside
                };
                if outside || (kind.is_sensitive() && !keep_sensitive) {
                    gone.push((id, kind));
                }
            }
            forget_docs(tx, &gone)?;
            // Held changes of documents this device never had in full go the same way.
            let held: Vec<(Vec<u8>, String)> = tx
                .prepare("SELECT DISTINCT doc_id, area FROM held_change")?
                .query_map([], |r| Ok((r.get(0)?, r.get(1)?)))?
                .collect::<rusqlite::Result<_>>()?;
            for (doc, area) in held {
                if AreaPath::parse(&area).is_ok_and(|a| !scope.iter().any(|s| s.contains(&a))) {
                    tx.prepare_cached("DELETE FROM held_change WHERE doc_id = ?1")?
                        .execute([doc])?;
                }
            }
            Ok(gone)
        })?;
        for (id, _) in &gone {
            self.cache.pop(id);
        }
        Ok(gone.len() as u64)
    }
}

/// Deletes documents with their changes, held changes, receive times, projection rows and
/// search tokens, in the caller's transaction, and then the photos no remaining document refers
/// to (unless still waiting to be uploaded). The caller decides which (never unsent work).
pub(super) fn forget_docs(tx: &super::WriteTxn<'_>, gone: &[(Uuid, RecordKind)]) -> Result<()> {
    let actor = automerge::ActorId::random();
    let mut had_photos = false;
    for (uuid, kind) in gone {
        crate::kinds::forget(tx, *kind, *uuid)?;
        let id = uuid.as_bytes().as_slice();
        // Receive times are kept by change hash: those of the changes inside the document's
        // stored bytes are found by loading it (an unreadable document has none to find).
        let (has_bytes, photos): (bool, bool) = tx
            .prepare_cached("SELECT snapshot IS NOT NULL, photos > 0 FROM doc WHERE id = ?1")?
            .query_row([id], |r| Ok((r.get(0)?, r.get(1)?)))
            .optional()?
            .unwrap_or((false, false));
        had_photos |= photos;
        if has_bytes && let Ok(Some((_, mut doc))) = super::docs::load_from_db(tx, *uuid, &actor) {
            let mut del = tx.prepare_cached("DELETE FROM change_received WHERE hash = ?1")?;
            for c in doc.get_changes(&[]) {
                del.execute([c.hash().0.as_slice()])?;
            }
        }
        tx.prepare_cached(
            "DELETE FROM change_received WHERE hash IN (SELECT hash FROM change WHERE doc_id = ?1)",
        )?
        .execute([id])?;
        tx.prepare_cached("DELETE FROM change WHERE doc_id = ?1")?.execute([id])?;
        tx.prepare_cached("DELETE FROM held_change WHERE doc_id = ?1")?.execute([id])?;
        tx.prepare_cached("DELETE FROM attachment_scan WHERE doc_id = ?1")?.execute([id])?;
        tx.prepare_cached("DELETE FROM doc WHERE id = ?1")?.execute(params![id])?;
    }
    if had_photos {
        super::attachments::drop_unreferenced(tx, &actor)?;
    }
    Ok(())
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;
    use crate::demo::{self, DemoRng};
    use crate::{
        Gender, KeyPopulation, PhotoRef, Relation, ResidentInput, Role, SensitiveInput,
        SignedInUser, VisitInput, VisitOutcome,
    };

    fn area(p: &str) -> AreaPath {
        AreaPath::parse(p).unwrap()
    }

    #[test]
    fn forgets_the_old_scope_but_never_unsent_work() {
        let mut s = Store::open_in_memory().unwrap();
        s.load_areas(&demo::areas(2, 2, 2, 2)).unwrap();
        s.sign_in(SignedInUser {
            user_id: "w".into(),
            name: "王芳".into(),
            role: Role::GridWorker,
            scope: area("320612/001/001"),
        })
        .unwrap();
        let mut rng = DemoRng::new(7);
        let (old, new) = (area("320612/001/001/01/01"), area("320612/001/001/02/01"));
        let sent_old = s.households().add(demo::household(&mut rng, &old)).unwrap();
        let kept = s.households().add(demo::household(&mut rng, &new)).unwrap();
        let resident = s
            .residents()
            .add(ResidentInput {
                household_id: kept,
                name: "李建国".into(),
                gender: Gender::Male,
                birth_year: Some(1950),
                relation: Relation::Head,
                phone: None,
            })
            .unwrap();
        let sensitive = s
            .sensitive()
            .set(
                resident,
                SensitiveInput {
                    key_population: Some(KeyPopulation::DrugRehab),
                    ..Default::default()
                },
            )
            .unwrap();
        let sent: Vec<[u8; 32]> =
            s.outbox(usize::MAX).unwrap().iter().map(|e| e.hash().unwrap()).collect();
        s.acknowledge(&sent).unwrap();
        let head = s.households().get(sent_old).unwrap().unwrap().head_name;
        let unsent_old = s.households().add(demo::household(&mut rng, &old)).unwrap();

        let n = s.forget_outside(&[area("320612/001/001/02")], false).unwrap();

        assert_eq!(n, 2, "the sent household of the old grid and the sensitive record");
        assert!(s.households().get(sent_old).unwrap().is_none());
        assert!(s.record_kind(sent_old).unwrap().is_none(), "its document is gone too");
        assert!(
            s.households().get(unsent_old).unwrap().is_some(),
            "unsent work is never thrown away"
        );
        assert_eq!(s.outbox_len().unwrap(), 1);
        assert!(s.households().get(kept).unwrap().is_some());
        assert!(s.record_kind(resident).unwrap().is_some());
        assert!(s.record_kind(sensitive).unwrap().is_none());
        let found = s.households().search(&area("320612"), &head, 50).unwrap();
        assert!(found.iter().all(|h| h.id != sent_old), "no search tokens left behind");
        assert!(s.integrity_check().unwrap());
        assert_eq!(s.forget_outside(&[area("320612/001/001/02")], false).unwrap(), 0);
    }

    /// A worker moved to another grid keeps none of the old grid's photos: not their bytes, not
    /// their place in the download queue. Photos the new scope still shows stay, and so do
    /// photos still waiting to be uploaded (the server needs them).
    #[test]
    fn forgetting_the_old_scope_takes_its_photos_along() {
        let scope = area("320612/001/001");
        let signed_in = |user: &str| SignedInUser {
            user_id: user.into(),
            name: "王芳".into(),
            role: Role::GridWorker,
            scope: scope.clone(),
        };
        let mut s = Store::open_in_memory().unwrap();
        s.load_areas(&demo::areas(2, 2, 2, 2)).unwrap();
        s.sign_in(signed_in("w")).unwrap();
        let mut rng = DemoRng::new(11);
        let (old, new) = (area("320612/001/001/01/01"), area("320612/001/001/02/01"));
        let old_home = s.households().add(demo::household(&mut rng, &old)).unwrap();
        let new_home = s.households().add(demo::household(&mut rng, &new)).unwrap();
        let jpeg = |n: u8| [0xff, 0xd8, 0xff, 0xe0, n, n, n];
        let photo = |s: &mut Store, n: u8| s.add_attachment(&jpeg(n), "image/jpeg").unwrap();
        let (gone, kept, shared, uploading) =
            (photo(&mut s, 1), photo(&mut s, 2), photo(&mut s, 3), photo(&mut s, 4));
        let visit = |s: &mut Store, home, photos: Vec<PhotoRef>| {
            s.visits()
                .record(VisitInput {
                    photos,
                    ..VisitInput::routine(home, chrono::Utc::now(), VisitOutcome::Met)
                })
                .unwrap()
        };
        visit(&mut s, old_home, vec![gone.clone(), shared.clone(), uploading.clone()]);
        visit(&mut s, new_home, vec![kept.clone(), shared.clone()]);
        // A grid-mate's visit in the old grid, with a photo this phone has not downloaded yet.
        let mut mate = Store::open_in_memory().unwrap();
        mate.load_areas(&demo::areas(2, 2, 2, 2)).unwrap();
        mate.sign_in(signed_in("m")).unwrap();
        mate.apply_changes(&s.outbox(usize::MAX).unwrap()).unwrap();
        let theirs = photo(&mut mate, 5);
        visit(&mut mate, old_home, vec![theirs.clone()]);
        let sent: Vec<[u8; 32]> =
            s.outbox(usize::MAX).unwrap().iter().map(|e| e.hash().unwrap()).collect();
        s.acknowledge(&sent).unwrap();
        s.apply_changes(&mate.outbox(usize::MAX).unwrap()).unwrap();
        assert_eq!(s.queue_referenced_downloads().unwrap(), 1);
        for p in [&gone, &kept, &shared] {
            s.record_upload_offset(&p.hash, p.size, true).unwrap();
        }

        s.forget_outside(&[area("320612/001/001/02")], true).unwrap();

        let has = |s: &Store, p: &PhotoRef| s.attachment_bytes(&p.hash).unwrap().is_some();
        assert!(!has(&s, &gone), "the old grid's photo is gone");
        assert!(has(&s, &kept) && has(&s, &shared), "photos the new grid shows stay");
        assert!(has(&s, &uploading), "a photo still to upload stays");
        assert_eq!(s.pending_uploads().unwrap().len(), 1);
        assert!(s.pending_downloads().unwrap().is_empty(), "the old grid's download is dropped");
        assert!(s.integrity_check().unwrap());
    }

    /// A record that moves out of scope during a pull leaves no readable trace in the file: its
    /// projection row is zeroed, not just unlinked (`secure_delete`, set when the store opens).
    #[test]
    fn a_record_moved_out_leaves_no_trace_in_the_file() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("p.sqlite");
        let grid = |user: &str| SignedInUser {
            user_id: user.into(),
            name: "王芳".into(),
            role: Role::GridWorker,
            scope: area("320612/001/001"),
        };
        let mut town = Store::open_in_memory().unwrap();
        town.load_areas(&demo::areas(2, 2, 2, 2)).unwrap();
        town.sign_in(grid("t")).unwrap();
        let mut h = demo::household(&mut DemoRng::new(3), &area("320612/001/001/01/01"));
        h.address = "独一无二路七七七号甲栋".into();
        let id = town.households().add(h.clone()).unwrap();
        let mut phone = Store::open(&path, None).unwrap();
        phone.load_areas(&demo::areas(2, 2, 2, 2)).unwrap();
        phone.sign_in(grid("w")).unwrap();
        phone.apply_changes(&town.outbox(usize::MAX).unwrap()).unwrap();
        let sent: Vec<[u8; 32]> =
            town.outbox(usize::MAX).unwrap().iter().map(|e| e.hash().unwrap()).collect();
        town.acknowledge(&sent).unwrap();
        phone.checkpoint().unwrap();
        let file = |p: &std::path::Path| std::fs::read(p).unwrap();
        let needle = h.address.clone().into_bytes();
        let holds = |bytes: &[u8]| bytes.windows(needle.len()).any(|w| w == needle.as_slice());
        assert!(holds(&file(&path)), "the projection row holds the address in plain text");

        // The server says the household is now in another grid.
        h.member_count += 1;
        town.households().update(id, h).unwrap();
        let mut moved = town.outbox(usize::MAX).unwrap();
        moved[0].area = area("320612/001/002/01/01");
        let r = phone
            .apply_incoming(crate::Incoming {
                changes: moved
                    .into_iter()
                    .map(|envelope| crate::Received { envelope, received_at: None })
                    .collect(),
                acks: vec![],
                meta: vec![],
            })
            .unwrap();
        assert_eq!(r.moved_out, 1);
        phone.checkpoint().unwrap();
        assert!(!holds(&file(&path)), "the address is gone from the file, not just unlinked");
    }
}
