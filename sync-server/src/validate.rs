//! Validation of pushed changes at ingest (DESIGN §2, §3): each change must decode, carry the
//! pushing device's bound actor, be of a kind its user may write in its area, and — for work
//! orders — add only events whose role the user holds. One invalid change refuses the whole push.

use automerge::legacy::{Key, ObjectId, Op, OpType};
use automerge::{ActorId, Change, ScalarValue};
use gridwork_core::{AreaPath, ChangeEnvelope, RecordKind};

use crate::api::attachments_refs;
use crate::policy::{self, WriteDenied};
use crate::store::departments::Registry;
use crate::store::{AreaWrite, AttachmentRef, NewChange, RoleGrant};

/// Who pushes, and the registry their work-order changes are checked against.
#[derive(Debug, Clone, Copy)]
pub struct Writer<'a> {
    /// The Automerge actor bound to the pushing device (or server author).
    pub actor: &'a ActorId,
    /// The person's role grants.
    pub grants: &'a [RoleGrant],
    /// The departments the person belongs to (a handler's steps may name only these).
    pub departments: &'a [String],
    /// The departments a work order may be dispatched to.
    pub registry: &'a Registry,
    /// Whether the server itself authors these changes (`crate::authoring`): only it may write
    /// the district's reference data.
    pub server_authored: bool,
}

/// Why a pushed change was refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("change {index}: {message}")]
pub struct Rejection {
    /// The change's position in the push (0-based).
    pub index: usize,
    /// A stable error code (`corrupt_change`, `foreign_actor`, `out_of_scope`,
    /// `kind_not_allowed`, `reference_server_only`, `event_role_not_held`,
    /// `unknown_department`, `department_not_held`).
    pub code: &'static str,
    /// What was wrong, in English.
    pub message: String,
}

/// A push that passed validation.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ValidatedPush {
    /// The changes, ready to store, in push order.
    pub changes: Vec<NewChange>,
    /// The attachment references they add.
    pub refs: Vec<AttachmentRef>,
    /// The positions of work-order changes that edit an incident's details (not the report
    /// creating it): who may is decided against the order's state in the log
    /// ([`crate::api::ingest`], `check_details_edit`).
    pub detail_edits: Vec<usize>,
}

/// Validates a push by `writer`, returning the changes ready to store.
///
/// # Errors
/// The first [`Rejection`].
pub fn validate_push(
    writer: &Writer<'_>,
    push: Vec<ChangeEnvelope>,
) -> Result<Vec<NewChange>, Rejection> {
    validate(writer, push).map(|v| v.changes)
}

/// As [`validate_push`], also collecting the attachment references the changes add. Each
/// change is parsed once; its operations are decoded only for work orders (event roles) and for
/// changes that may add references ([`attachments_refs::may_add_refs`]).
///
/// # Errors
/// The first [`Rejection`].
pub fn validate(
    writer: &Writer<'_>,
    push: Vec<ChangeEnvelope>,
) -> Result<ValidatedPush, Rejection> {
    let Writer { actor, grants, .. } = *writer;
    let mut out = Vec::with_capacity(push.len());
    let mut refs = Vec::new();
    let mut detail_edits = Vec::new();
    for (index, envelope) in push.into_iter().enumerate() {
        let reject = |code, message: String| Rejection { index, code, message };
        let change = Change::from_bytes(envelope.bytes.clone())
            .map_err(|e| reject("corrupt_change", format!("not a valid Automerge change: {e}")))?;
        if change.actor_id() != actor {
            return Err(reject(
                "foreign_actor",
                format!(
                    "the change's actor {} is not this device's actor {}",
                    change.actor_id(),
                    actor
                ),
            ));
        }
        // Reference data is the district's configuration: the server writes it (from the
        // workbench's edits and its department registry), devices only read it.
        if envelope.kind == RecordKind::Reference && !writer.server_authored {
            return Err(reject(
                "reference_server_only",
                "reference data is edited on the server (PUT /api/v1/reference), not pushed by \
                 devices"
                    .into(),
            ));
        }
        match policy::may_write(grants, envelope.kind, &envelope.area) {
            Ok(()) => {}
            // A sub-area's own part of a record issued for a wider area (a grid completing its
            // part of a town-wide task) — checked from the change alone, then stored as usual.
            Err(WriteDenied::OutOfScope)
                if sub_area_part(&change, grants, &envelope)
                    .map_err(|m| reject("corrupt_change", m))? => {}
            Err(WriteDenied::OutOfScope) => {
                return Err(reject(
                    "out_of_scope",
                    format!("the area {} is outside every role of this user", envelope.area),
                ));
            }
            Err(WriteDenied::KindNotAllowed) => {
                return Err(reject(
                    "kind_not_allowed",
                    format!(
                        "no role of this user may write {} records in {}",
                        envelope.kind, envelope.area
                    ),
                ));
            }
        }
        let work_order = envelope.kind == RecordKind::WorkOrder;
        let with_refs = attachments_refs::may_add_refs(envelope.kind, change.raw_bytes());
        // Map keys are literal UTF-8 in a change chunk (see `may_add_refs`): only a change
        // whose bytes hold `area` / `kind` can write its record's area / kind.
        let raw = change.raw_bytes();
        let may_set_area = raw.windows(4).any(|w| w == b"area");
        let may_set_kind = raw.windows(4).any(|w| w == b"kind");
        let mut sets_area = None;
        let mut departments = Vec::new();
        if work_order || with_refs || may_set_area || may_set_kind {
            let ops = gridwork_core::envelope::expand_ops(&change).ok_or_else(|| {
                reject("corrupt_change", "the change's operations cannot be read".into())
            })?;
            if work_order {
                check_event_roles(&ops, grants, &envelope.area)
                    .map_err(|m| reject("event_role_not_held", m))?;
                departments = check_departments(&ops, writer, &envelope.area)
                    .map_err(|(code, m)| reject(code, m))?;
                if edits_details(&ops) {
                    detail_edits.push(index);
                }
            }
            if with_refs {
                attachments_refs::refs_in_ops(&ops, &envelope, &mut refs);
            }
            if may_set_area {
                sets_area = root_put(&ops, "area")
                    .and_then(|a| {
                        a.map(|(i, a)| {
                            let area = AreaPath::parse(&a).map_err(|e| e.to_string())?;
                            let counter = change.start_op().get().saturating_add(i as u64);
                            Ok(AreaWrite::new(area, counter, change.actor_id().to_bytes()))
                        })
                        .transpose()
                    })
                    .map_err(|m| reject("area_mismatch", format!("the record's area: {m}")))?;
            }
            if may_set_kind {
                let kind = root_put(&ops, "kind")
                    .map(|k| k.map(|(_, k)| k))
                    .map_err(|m| reject("kind_mismatch", m))?;
                if let Some(kind) = kind
                    && kind != envelope.kind.as_str()
                {
                    return Err(reject(
                        "kind_mismatch",
                        format!(
                            "the change makes a {kind} but is addressed as a {}",
                            envelope.kind
                        ),
                    ));
                }
            }
        }
        if let Some(area) = sets_area.as_ref().map(|w| &w.area)
            && *area != envelope.area
        {
            return Err(reject(
                "area_mismatch",
                format!(
                    "the change moves its record to {area} but is addressed to {}",
                    envelope.area
                ),
            ));
        }
        let origin = Some((change.actor_id().to_bytes().to_vec(), change.seq()));
        out.push(NewChange { hash: change.hash().0, envelope, sets_area, origin, departments });
    }
    Ok(ValidatedPush { changes: out, refs, detail_edits })
}

/// Whether `change` only records the pushing user's own sub-area part of a record issued for a
/// wider area: the kind reaches sub-areas (tasks), a grant of the user lies strictly inside the
/// record's area and may write the kind, and every operation puts or deletes a root progress key
/// of that grant's area (`gridwork_core::task::progress`).
///
/// # Errors
/// An English message when the operations cannot be read.
fn sub_area_part(
    change: &Change,
    grants: &[RoleGrant],
    envelope: &ChangeEnvelope,
) -> Result<bool, String> {
    if !gridwork_core::kinds::reaches_sub_areas(envelope.kind) {
        return Ok(false);
    }
    let inside: Vec<&AreaPath> = grants
        .iter()
        .filter(|g| g.area != envelope.area && envelope.area.contains(&g.area))
        .filter(|g| policy::kinds_for(g.role).contains(&envelope.kind))
        .map(|g| &g.area)
        .collect();
    if inside.is_empty() {
        return Ok(false);
    }
    let Some(ops) = gridwork_core::envelope::expand_ops(change) else {
        return Err("the change's operations cannot be read".into());
    };
    Ok(!ops.is_empty()
        && ops.iter().all(|op| {
            let (ObjectId::Root, Key::Map(key)) = (&op.obj, &op.key) else { return false };
            let scalar = matches!(op.action, OpType::Put(_) | OpType::Delete);
            scalar
                && gridwork_core::task::progress::parse(key)
                    .is_some_and(|(area, _)| inside.contains(&&area))
        }))
}

/// The string a change writes into its record's root field `field` (`area`, `kind`), with the
/// operation's index in the change, if it does: the fields the server must understand to keep
/// records where they belong.
///
/// # Errors
/// An English message when the value is not a string.
fn root_put(ops: &[Op], field: &str) -> Result<Option<(usize, String)>, String> {
    let mut found = None;
    for (i, op) in ops.iter().enumerate() {
        let (ObjectId::Root, Key::Map(key), OpType::Put(value)) = (&op.obj, &op.key, &op.action)
        else {
            continue;
        };
        if key.as_str() != field {
            continue;
        }
        let ScalarValue::Str(v) = value else {
            return Err(format!("the record's {field} is not a string"));
        };
        found = Some((i, v.to_string()));
    }
    Ok(found)
}

/// HOOK (work-order rules, DESIGN §4): the roles named by the events a work-order change adds
/// must be roles the pushing user holds.
///
/// Events are maps in the document's `events` list with keys `type`, `by`, `role`, `at`; this
/// check decodes the change's operations and looks at every string put under a `role` key. When
/// `gridwork_core::work_order` lands, its event model (and transition rules) can replace this
/// op-level scan.
///
/// # Errors
/// An English message naming the role not held.
pub fn check_work_order_events(
    change: &Change,
    grants: &[RoleGrant],
    area: &AreaPath,
) -> Result<(), String> {
    let ops = gridwork_core::envelope::expand_ops(change)
        .ok_or("the change's operations cannot be read")?;
    check_event_roles(&ops, grants, area)
}

/// Each event role must be held by a grant that covers the order's area: a grid head of grid A
/// may not accept or dispatch in grid B by holding the role somewhere else.
fn check_event_roles(ops: &[Op], grants: &[RoleGrant], area: &AreaPath) -> Result<(), String> {
    for op in ops {
        let Key::Map(key) = &op.key else { continue };
        if key.as_str() != "role" {
            continue;
        }
        let OpType::Put(value) = &op.action else { continue };
        let ScalarValue::Str(role) = value else {
            return Err("a work-order event's role is not a string".into());
        };
        if !grants.iter().any(|g| g.role.as_str() == role.as_str() && g.area.contains(area)) {
            return Err(format!(
                "a work-order event claims role `{role}`, which this user does not hold in {area}"
            ));
        }
    }
    Ok(())
}

/// Whether a work-order change puts an incident detail on the root map without creating the
/// order (a report writes the details and the record's `kind` together).
fn edits_details(ops: &[Op]) -> bool {
    let root_keys = || {
        ops.iter().filter_map(|op| match (&op.obj, &op.key) {
            (ObjectId::Root, Key::Map(k)) => Some(k.as_str()),
            _ => None,
        })
    };
    let creates = root_keys().any(|k| k == "kind");
    !creates && root_keys().any(|k| gridwork_core::work_order::DETAIL_FIELDS.contains(&k))
}

/// The departments named by the events of a work-order change, each with the role of its
/// event (`None` when the change sets the department of an event logged by another change).
fn event_departments(ops: &[Op]) -> Result<Vec<(Option<String>, String)>, String> {
    let mut roles: std::collections::HashMap<&ObjectId, String> = Default::default();
    let mut named: Vec<(&ObjectId, String)> = Vec::new();
    for op in ops {
        let (Key::Map(key), OpType::Put(value)) = (&op.key, &op.action) else { continue };
        match (key.as_str(), value) {
            ("role", ScalarValue::Str(r)) => {
                roles.insert(&op.obj, r.to_string());
            }
            ("department", ScalarValue::Str(d)) => named.push((&op.obj, d.to_string())),
            ("department", _) => {
                return Err("a work-order event's department is not a string".into());
            }
            _ => {}
        }
    }
    Ok(named.into_iter().map(|(obj, d)| (roles.get(obj).cloned(), d)).collect())
}

/// The departments a change's work-order events name (for the backfill of a log made before
/// departments were recorded).
///
/// # Errors
/// An English message when the operations cannot be read.
pub fn named_departments(change: &Change) -> Result<Vec<String>, String> {
    let ops = gridwork_core::envelope::expand_ops(change)
        .ok_or("the change's operations cannot be read")?;
    Ok(event_departments(&ops)?.into_iter().map(|(_, d)| d).collect())
}

/// DESIGN §8: a work-order event may name only a department of the registry that is active and
/// serves the order's area; a department handler's event only one of their own departments.
/// Returns the departments named.
///
/// # Errors
/// `(code, message)`: `unknown_department` or `department_not_held`.
fn check_departments(
    ops: &[Op],
    writer: &Writer<'_>,
    area: &AreaPath,
) -> Result<Vec<String>, (&'static str, String)> {
    let named = event_departments(ops).map_err(|m| ("unknown_department", m))?;
    let mut out: Vec<String> = Vec::new();
    for (role, department) in named {
        if let Some(why) = writer.registry.refusal(&department, area) {
            return Err(("unknown_department", why));
        }
        let handler = role.as_deref() == Some(gridwork_core::Role::DepartmentHandler.as_str());
        if handler && !writer.departments.contains(&department) {
            return Err((
                "department_not_held",
                format!("a department handler's step names `{department}`, not their department"),
            ));
        }
        if !out.contains(&department) {
            out.push(department);
        }
    }
    Ok(out)
}

/// Checks the moves in a validated push against where the records lie now (`stored`: each
/// known document's current area): moving a record out of an area is allowed only to a user
/// who may write that kind there too (a grid worker moving a household between the micro-grids
/// of their grid; not a liaison pushing a record into their own micro-grid from another). A
/// creation or an edit never moves a record.
///
/// # Errors
/// A [`Rejection`] `move_not_allowed` naming the change.
pub fn authorise_moves(
    grants: &[RoleGrant],
    changes: &[NewChange],
    stored: impl IntoIterator<Item = (uuid::Uuid, AreaPath)>,
) -> Result<(), Rejection> {
    let mut current: std::collections::HashMap<uuid::Uuid, AreaPath> = stored.into_iter().collect();
    for (index, ch) in changes.iter().enumerate() {
        let e = &ch.envelope;
        match (current.get(&e.doc_id), ch.sets_area.as_ref().map(|w| &w.area)) {
            (None, set) => {
                current.insert(e.doc_id, set.cloned().unwrap_or_else(|| e.area.clone()));
            }
            (Some(from), Some(to)) if from != to => {
                if policy::may_write(grants, e.kind, from).is_err() {
                    return Err(Rejection {
                        index,
                        code: "move_not_allowed",
                        message: format!(
                            "the record lies in {from}, where this user may not write {} \
                             records: it cannot be moved to {to} by them",
                            e.kind
                        ),
                    });
                }
                current.insert(e.doc_id, to.clone());
            }
            _ => {}
        }
    }
    Ok(())
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    //! The validator meets whatever a device sends: it must answer every input with a verdict,
    //! never a panic. Run with `PROPTEST_CASES=1000000` as the fuzz run (docs/BENCHMARKS.md).
    use super::*;
    use automerge::transaction::Transactable;
    use automerge::{AutoCommit, ObjType, ROOT};
    use gridwork_core::Role;
    use proptest::prelude::*;

    fn department(code: &str) -> crate::store::departments::Department {
        crate::store::departments::Department {
            code: code.into(),
            name_zh: "环卫所".into(),
            name_en: "Sanitation".into(),
            categories: vec![],
            area: Some(AreaPath::parse("320612/001").unwrap()),
            active: code != "retired",
        }
    }

    /// Validates as a writer of no department, against a registry of `sanitation` (serving
    /// town 320612/001) and the retired `retired`.
    fn check(
        actor: &ActorId,
        grants: &[RoleGrant],
        push: Vec<ChangeEnvelope>,
    ) -> Result<ValidatedPush, Rejection> {
        check_as(actor, grants, &[], push)
    }

    fn check_as(
        actor: &ActorId,
        grants: &[RoleGrant],
        departments: &[String],
        push: Vec<ChangeEnvelope>,
    ) -> Result<ValidatedPush, Rejection> {
        let registry = Registry::new(vec![department("sanitation"), department("retired")]);
        validate(
            &Writer { actor, grants, departments, registry: &registry, server_authored: false },
            push,
        )
    }

    /// A work-order change logging one event by `role` that names `department`.
    fn dispatch_change(actor: &ActorId, role: &str, department: &str) -> Vec<u8> {
        let mut d = AutoCommit::new().with_actor(actor.clone());
        let events = d.put_object(ROOT, "events", ObjType::List).unwrap();
        let ev = d.insert_object(&events, 0, ObjType::Map).unwrap();
        d.put(&ev, "role", role).unwrap();
        d.put(&ev, "department", department).unwrap();
        d.get_last_local_change().unwrap().raw_bytes().to_vec()
    }

    #[test]
    fn dispatches_name_departments_of_the_registry() {
        let actor = ActorId::from(vec![1u8; 16]);
        let push = |dep: &str| {
            vec![envelope(RecordKind::WorkOrder, dispatch_change(&actor, "grid_head", dep))]
        };
        let ok = check(&actor, &grants(), push("sanitation")).unwrap();
        assert_eq!(ok.changes[0].departments, vec!["sanitation".to_string()]);
        for (dep, says) in [("aliens", "not a department"), ("retired", "retired")] {
            let r = check(&actor, &grants(), push(dep)).unwrap_err();
            assert_eq!(r.code, "unknown_department", "{dep}");
            assert!(r.message.contains(says), "{}", r.message);
        }
        // A department serving another town.
        let far = ChangeEnvelope {
            area: AreaPath::parse("320612/002/001/01/01").unwrap(),
            ..envelope(RecordKind::WorkOrder, dispatch_change(&actor, "grid_head", "sanitation"))
        };
        let far_grants =
            vec![RoleGrant { role: Role::GridHead, area: AreaPath::parse("320612/002").unwrap() }];
        let r = check(&actor, &far_grants, vec![far]).unwrap_err();
        assert_eq!(r.code, "unknown_department");
        assert!(r.message.contains("does not serve"), "{}", r.message);
    }

    #[test]
    fn a_handler_steps_only_for_their_own_department() {
        let actor = ActorId::from(vec![1u8; 16]);
        let handler = vec![RoleGrant {
            role: Role::DepartmentHandler,
            area: AreaPath::parse("320612/001").unwrap(),
        }];
        let push = || {
            vec![envelope(
                RecordKind::WorkOrder,
                dispatch_change(&actor, "department_handler", "sanitation"),
            )]
        };
        let r = check_as(&actor, &handler, &["police".into()], push()).unwrap_err();
        assert_eq!(r.code, "department_not_held");
        assert!(check_as(&actor, &handler, &["sanitation".into()], push()).is_ok());
    }

    fn grants() -> Vec<RoleGrant> {
        vec![RoleGrant {
            role: Role::GridHead,
            area: AreaPath::parse("320612/001/001/01").unwrap(),
        }]
    }

    /// A realistic change: a work order's creation with an event, area and kind.
    fn real_change(actor: &ActorId) -> Vec<u8> {
        let mut d = AutoCommit::new().with_actor(actor.clone());
        d.put(ROOT, "kind", "work_order").unwrap();
        d.put(ROOT, "area", "320612/001/001/01/01").unwrap();
        let events = d.put_object(ROOT, "events", ObjType::List).unwrap();
        let ev = d.insert_object(&events, 0, ObjType::Map).unwrap();
        d.put(&ev, "role", "grid_head").unwrap();
        d.put(&ev, "hash", "ab".repeat(32)).unwrap();
        d.get_last_local_change().unwrap().raw_bytes().to_vec()
    }

    fn envelope(kind: RecordKind, bytes: Vec<u8>) -> ChangeEnvelope {
        ChangeEnvelope {
            doc_id: uuid::Uuid::from_u128(7),
            kind,
            area: AreaPath::parse("320612/001/001/01/01").unwrap(),
            bytes,
        }
    }

    /// A grid worker of grid 01 writes `keys` into a task issued for the whole town.
    fn town_task_edit(keys: &[&str]) -> Result<ValidatedPush, Rejection> {
        let actor = ActorId::random();
        let mut d = AutoCommit::new().with_actor(actor.clone());
        for k in keys {
            d.put(ROOT, *k, "x").unwrap();
        }
        let bytes = d.get_last_local_change().unwrap().raw_bytes().to_vec();
        let worker = vec![RoleGrant {
            role: Role::GridWorker,
            area: AreaPath::parse("320612/001/001/01").unwrap(),
        }];
        let env = ChangeEnvelope {
            doc_id: uuid::Uuid::from_u128(9),
            kind: RecordKind::Task,
            area: AreaPath::parse("320612/001").unwrap(),
            bytes,
        };
        check(&actor, &worker, vec![env])
    }

    #[test]
    fn a_grid_records_only_its_own_part_of_a_town_task() {
        let own = "progress.320612/001/001/01.completed_at";
        let own_result = "progress.320612/001/001/01.result";
        assert!(town_task_edit(&[own, own_result]).is_ok(), "its own part is accepted");
        for refused in [
            vec!["progress.320612/001/001/02.completed_at"],
            vec!["title"],
            vec![own, "completed_at"],
            vec!["progress.320612/001.completed_at"],
        ] {
            let r = town_task_edit(&refused).err().map(|r| r.code);
            assert_eq!(r, Some("out_of_scope"), "{refused:?}");
        }
    }

    #[test]
    fn a_real_change_passes() {
        let actor = ActorId::from(vec![1u8; 16]);
        let v =
            check(&actor, &grants(), vec![envelope(RecordKind::WorkOrder, real_change(&actor))])
                .unwrap();
        let written = v.changes[0].sets_area.as_ref().unwrap();
        assert_eq!(written.area, AreaPath::parse("320612/001/001/01/01").unwrap());
        // The area put is the change's second operation: counter start_op + 1, this actor.
        assert_eq!(written.op[..8], 2u64.to_be_bytes());
        assert_eq!(written.op[8..], [1u8; 16]);
        assert_eq!(v.refs.len(), 1);
    }

    /// Regression of the fuzz run's find: a change that parses but names an actor its header
    /// lacks made Automerge's expansion panic inside the validator. Every single-byte change of
    /// a real change now gets a verdict, and those that cannot be expanded are `corrupt_change`.
    #[test]
    fn every_one_byte_corruption_gets_a_verdict() {
        let actor = ActorId::from(vec![1u8; 16]);
        let real = real_change(&actor);
        let mut unreadable = 0;
        for pos in 0..real.len() {
            for byte in [0u8, 1, 2, 0x7f, 0x80, 0xff] {
                let mut b = real.clone();
                b[pos] = byte;
                if let Err(r) = check(&actor, &grants(), vec![envelope(RecordKind::WorkOrder, b)])
                    && r.message.contains("operations cannot be read")
                {
                    assert_eq!(r.code, "corrupt_change");
                    unreadable += 1;
                }
            }
        }
        assert!(unreadable > 0, "the corruption the fuzz run found is among these");
    }

    proptest! {
        #[test]
        fn arbitrary_bytes_get_a_verdict(
            bytes in prop::collection::vec(any::<u8>(), 0..600),
            kind in prop::sample::select(RecordKind::ALL.to_vec()),
        ) {
            let actor = ActorId::from(vec![1u8; 16]);
            let _ = check(&actor, &grants(), vec![envelope(kind, bytes)]);
        }

        #[test]
        fn mutated_real_changes_get_a_verdict(
            pos in any::<usize>(),
            byte in any::<u8>(),
            cut in any::<usize>(),
            kind in prop::sample::select(RecordKind::ALL.to_vec()),
        ) {
            let actor = ActorId::from(vec![1u8; 16]);
            let mut b = real_change(&actor);
            let i = pos % b.len();
            b[i] = byte;
            let _ = check(&actor, &grants(), vec![envelope(kind, b.clone())]);
            b.truncate(cut % (b.len() + 1));
            if let Ok(v) = check(&actor, &grants(), vec![envelope(kind, b)]) {
                let _ = authorise_moves(&grants(), &v.changes, []);
            }
        }

        /// Well-formed changes with hostile content: the keys the validator reads, under the
        /// root or inside events, with any string or number.
        #[test]
        fn hostile_content_gets_a_verdict(
            puts in prop::collection::vec(
                (
                    prop::sample::select(vec!["kind", "area", "role", "hash", "type", "department", "title", "severity", "x"]),
                    prop_oneof![any::<String>().prop_map(Some), Just(None)],
                    any::<bool>(),
                ),
                0..12,
            ),
            kind in prop::sample::select(RecordKind::ALL.to_vec()),
            stored in prop::option::of(prop::sample::select(vec!["320612/001/001/01/02", "320612/002"])),
        ) {
            let actor = ActorId::from(vec![1u8; 16]);
            let mut d = AutoCommit::new().with_actor(actor.clone());
            let events = d.put_object(ROOT, "events", ObjType::List).unwrap();
            let ev = d.insert_object(&events, 0, ObjType::Map).unwrap();
            for (key, value, in_event) in puts {
                let obj = if in_event { ev.clone() } else { ROOT };
                match value {
                    Some(v) => d.put(&obj, key, v).unwrap(),
                    None => d.put(&obj, key, 42i64).unwrap(),
                }
            }
            let bytes = d.get_last_local_change().unwrap().raw_bytes().to_vec();
            if let Ok(v) = check(&actor, &grants(), vec![envelope(kind, bytes)]) {
                // Whatever passes names only the registry's active department serving the area.
                prop_assert!(v.changes.iter().flat_map(|c| &c.departments).all(|d| d == "sanitation"));
                let stored = stored.map(|a| (uuid::Uuid::from_u128(7), AreaPath::parse(a).unwrap()));
                let _ = authorise_moves(&grants(), &v.changes, stored);
            }
        }
    }
}
