//! References to photos and other attachments. The bytes live outside the documents,
//! content-addressed by SHA-256 (DESIGN §5); a record holds only `{hash, size, mime}`.

use automerge::{AutoCommit, ObjId};
use serde::{Deserialize, Serialize};

use crate::doc;
use crate::error::{CoreError, Result};

/// Largest attachment accepted (20 MiB).
pub const MAX_ATTACHMENT_BYTES: u64 = 20 * 1024 * 1024;

/// Most photos one record part carries: a visit, an incident, a patrol observation, a work-order
/// step.
pub const MAX_PHOTOS: usize = 20;

/// Checks the photo list of one `record` part (`visit`, `incident`, `observation`, `step`, named in the
/// message): at most [`MAX_PHOTOS`], each a valid reference.
///
/// # Errors
/// [`CoreError::Invalid`] naming `photos` for too many photos or a malformed reference (see
/// [`PhotoRef::validate`]).
pub fn validate_photos(photos: &[PhotoRef], record: &str) -> Result<()> {
    if photos.len() > MAX_PHOTOS {
        return Err(CoreError::invalid(
            "photos",
            format!("at most {MAX_PHOTOS} photos per {record}"),
        ));
    }
    photos.iter().try_for_each(PhotoRef::validate)
}

/// A reference to an attachment.
#[cfg_attr(feature = "uniffi", derive(uniffi::Record))]
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct PhotoRef {
    /// SHA-256 of the content, 64 lowercase hex digits.
    pub hash: String,
    /// Size in bytes.
    pub size: u64,
    /// MIME type, e.g. `image/jpeg`.
    pub mime: String,
}

impl PhotoRef {
    /// Validates the reference.
    ///
    /// # Errors
    /// [`CoreError::Invalid`] naming `photos` for a malformed hash, a size of 0 or over
    /// [`MAX_ATTACHMENT_BYTES`], or a MIME type that is not an image.
    pub fn validate(&self) -> Result<()> {
        if self.hash.len() != 64 || !self.hash.bytes().all(|b| b.is_ascii_hexdigit()) {
            return Err(CoreError::invalid("photos", "hash must be 64 hex digits (SHA-256)"));
        }
        if self.size == 0 || self.size > MAX_ATTACHMENT_BYTES {
            return Err(CoreError::invalid(
                "photos",
                format!("size must be 1 to {MAX_ATTACHMENT_BYTES} bytes"),
            ));
        }
        if !self.mime.starts_with("image/") || self.mime.len() > 64 {
            return Err(CoreError::invalid("photos", "mime type must be image/*"));
        }
        Ok(())
    }

    /// Appends `photos` to the list under root `key` of a document.
    pub(crate) fn append_all(d: &mut AutoCommit, key: &str, photos: &[PhotoRef]) -> Result<()> {
        PhotoRef::append_all_in(d, &automerge::ROOT, key, photos)
    }

    /// Appends `photos` to the list under `key` of object `obj` (created when missing; nothing
    /// is written for no photos).
    pub(crate) fn append_all_in(
        d: &mut AutoCommit,
        obj: &ObjId,
        key: &str,
        photos: &[PhotoRef],
    ) -> Result<()> {
        for p in photos {
            let m = doc::push_map_in(d, obj, key)?;
            doc::put_in(d, &m, "hash", p.hash.to_ascii_lowercase())?;
            doc::put_in(d, &m, "size", p.size)?;
            doc::put_in(d, &m, "mime", p.mime.as_str())?;
        }
        Ok(())
    }

    /// Reads the list under root `key`.
    pub(crate) fn read_all(d: &AutoCommit, key: &str) -> Vec<PhotoRef> {
        PhotoRef::read_all_in(d, &automerge::ROOT, key)
    }

    /// Reads the list under `key` of object `obj` (e.g. an observation's photos); entries that
    /// are not well-formed references are skipped.
    pub(crate) fn read_all_in(d: &AutoCommit, obj: &ObjId, key: &str) -> Vec<PhotoRef> {
        doc::list_maps_in(d, obj, key).iter().filter_map(|m: &ObjId| read_one(d, m)).collect()
    }
}

/// The photo reference in map `m` of a document, if well-formed.
pub(crate) fn read_one(d: &AutoCommit, m: &ObjId) -> Option<PhotoRef> {
    Some(PhotoRef {
        hash: doc::get_str_in(d, m, "hash")?,
        size: u64::try_from(doc::get_i64_in(d, m, "size")?).ok()?,
        mime: doc::get_str_in(d, m, "mime")?,
    })
}
