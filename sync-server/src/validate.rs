//! Validation of pushed changes at ingest (DESIGN §2, §3): each change must decode, carry the
//! pushing device's bound actor, be of a kind its user may write in its area, and — for work
//! orders — add only events whose role the user holds. One invalid change refuses the whole push.

use automerge::legacy::{Key, Op, OpType};
use automerge::{ActorId, Change, ScalarValue};
use gridwork_core::{ChangeEnvelope, RecordKind};

use crate::api::attachments_refs;
use crate::policy::{self, WriteDenied};
use crate::store::{AttachmentRef, NewChange, RoleGrant};

/// Why a pushed change was refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("change {index}: {message}")]
pub struct Rejection {
    /// The change's position in the push (0-based).
    pub index: usize,
    /// A stable error code (`corrupt_change`, `foreign_actor`, `out_of_scope`,
    /// `kind_not_allowed`, `event_role_not_held`).
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
}

/// Validates a push from a device bound to `actor` whose user holds `grants`, returning the
/// changes ready to store.
///
/// # Errors
/// The first [`Rejection`].
pub fn validate_push(
    actor: &ActorId,
    grants: &[RoleGrant],
    push: Vec<ChangeEnvelope>,
) -> Result<Vec<NewChange>, Rejection> {
    validate(actor, grants, push).map(|v| v.changes)
}

/// As [`validate_push`], also collecting the attachment references the changes add. Each
/// change is parsed once; its operations are decoded only for work orders (event roles) and for
/// changes that may add references ([`attachments_refs::may_add_refs`]).
///
/// # Errors
/// The first [`Rejection`].
pub fn validate(
    actor: &ActorId,
    grants: &[RoleGrant],
    push: Vec<ChangeEnvelope>,
) -> Result<ValidatedPush, Rejection> {
    let mut out = Vec::with_capacity(push.len());
    let mut refs = Vec::new();
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
        match policy::may_write(grants, envelope.kind, &envelope.area) {
            Ok(()) => {}
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
        if work_order || with_refs {
            let ops = change.decode().operations;
            if work_order {
                check_event_roles(&ops, grants).map_err(|m| reject("event_role_not_held", m))?;
            }
            if with_refs {
                attachments_refs::refs_in_ops(&ops, &envelope, &mut refs);
            }
        }
        out.push(NewChange { hash: change.hash().0, envelope });
    }
    Ok(ValidatedPush { changes: out, refs })
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
pub fn check_work_order_events(change: &Change, grants: &[RoleGrant]) -> Result<(), String> {
    check_event_roles(&change.decode().operations, grants)
}

fn check_event_roles(ops: &[Op], grants: &[RoleGrant]) -> Result<(), String> {
    for op in ops {
        let Key::Map(key) = &op.key else { continue };
        if key.as_str() != "role" {
            continue;
        }
        let OpType::Put(value) = &op.action else { continue };
        let ScalarValue::Str(role) = value else {
            return Err("a work-order event's role is not a string".into());
        };
        if !grants.iter().any(|g| g.role.as_str() == role.as_str()) {
            return Err(format!(
                "a work-order event claims role `{role}`, which this user does not hold"
            ));
        }
    }
    Ok(())
}
