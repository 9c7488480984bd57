//! The registry of record kinds: one line per kind, naming the type that implements its
//! [`RecordSpec`](crate::spec::RecordSpec) (and, on a device, its projection writer). Everything
//! that must handle "any record" — projecting a changed document, listing the photos a record
//! references — dispatches here, so no other code enumerates kinds.

use automerge::AutoCommit;
use uuid::Uuid;

use crate::attachment::PhotoRef;
use crate::kind::RecordKind;
use crate::spec::{self, DecodeError, RecordSpec};

macro_rules! registry {
    ($($kind:ident => $spec:ty,)*) => {
        /// A decoded record of any kind (what the server's read model folds).
        #[derive(Debug, Clone, PartialEq)]
        pub enum AnyRecord {
            $(
                #[doc = concat!("A decoded `", stringify!($kind), "` record.")]
                $kind(spec::Decoded<<$spec as RecordSpec>::Record>),
            )*
        }

        /// Decodes document `id` as a record of `kind` with the kind's spec.
        ///
        /// # Errors
        /// [`DecodeError`] when the document is not complete yet, of another kind, or malformed.
        pub fn decode_any(kind: RecordKind, id: Uuid, d: &AutoCommit) -> Result<AnyRecord, DecodeError> {
            match kind {
                $(RecordKind::$kind => spec::decode::<$spec>(id, d).map(AnyRecord::$kind),)*
            }
        }

        /// Whether records of `kind` issued for an area reach the devices of its sub-areas.
        pub fn reaches_sub_areas(kind: RecordKind) -> bool {
            match kind {
                $(RecordKind::$kind => <$spec as RecordSpec>::REACHES_SUB_AREAS,)*
            }
        }

        /// Whether the rules of `kind` read the server's receive times of its changes.
        pub fn reads_receive_times(kind: RecordKind) -> bool {
            match kind {
                $(RecordKind::$kind => <$spec as RecordSpec>::READS_RECEIVE_TIMES,)*
            }
        }

        /// Whether records of `kind` can reference photos.
        pub fn carries_photos(kind: RecordKind) -> bool {
            match kind {
                $(RecordKind::$kind => <$spec as RecordSpec>::CARRIES_PHOTOS,)*
            }
        }

        /// The photos a document of `kind` references, decoded by the kind's spec (what a
        /// device downloads and the server indexes).
        ///
        /// # Errors
        /// [`DecodeError`] when the document is not complete yet or malformed.
        pub fn photos(kind: RecordKind, id: Uuid, d: &AutoCommit) -> Result<Vec<PhotoRef>, DecodeError> {
            match kind {
                $(RecordKind::$kind => photos_as::<$spec>(id, d),)*
            }
        }

        /// Writes the projection rows of document `id` of `kind`, in the caller's transaction;
        /// returns how many photos the record references.
        ///
        /// # Errors
        /// Storage errors.
        #[cfg(feature = "store")]
        pub(crate) fn project(
            tx: &crate::store::WriteTxn<'_>,
            kind: RecordKind,
            id: Uuid,
            d: &AutoCommit,
        ) -> crate::error::Result<usize> {
            match kind {
                $(RecordKind::$kind => crate::store::project_as::<$spec>(tx, id, d),)*
            }
        }

        /// Deletes the projection rows of record `id` of `kind`, which the device forgets.
        ///
        /// # Errors
        /// Storage errors.
        #[cfg(feature = "store")]
        pub(crate) fn forget(
            tx: &crate::store::WriteTxn<'_>,
            kind: RecordKind,
            id: Uuid,
        ) -> crate::error::Result<()> {
            use crate::store::Projector;
            match kind {
                $(RecordKind::$kind => <$spec>::forget(tx, id),)*
            }
        }
    };
}

registry! {
    Household => crate::household::HouseholdSpec,
    Resident => crate::resident::ResidentSpec,
    Sensitive => crate::sensitive::SensitiveSpec,
    Visit => crate::visit::VisitSpec,
    Patrol => crate::patrol::PatrolSpec,
    WorkOrder => crate::work_order::WorkOrderSpec,
    Task => crate::task::TaskSpec,
    Reference => crate::reference::ReferenceSpec,
}

fn photos_as<S: RecordSpec>(id: Uuid, d: &AutoCommit) -> Result<Vec<PhotoRef>, DecodeError> {
    spec::decode::<S>(id, d).map(|r| S::photos(&r.record))
}
