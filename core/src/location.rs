//! A point on the map, validated.

use serde::{Deserialize, Serialize};

use crate::error::{CoreError, Result};

/// A WGS-84 position where something was recorded.
#[cfg_attr(feature = "uniffi", derive(uniffi::Record))]
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct Location {
    /// Latitude in degrees, −90…90.
    pub lat: f64,
    /// Longitude in degrees, −180…180.
    pub lon: f64,
}

impl Location {
    /// Checks the coordinates are finite and in range.
    ///
    /// # Errors
    /// [`CoreError::Invalid`] naming `lat` or `lon`.
    pub fn validate(&self) -> Result<()> {
        if !self.lat.is_finite() || !(-90.0..=90.0).contains(&self.lat) {
            return Err(CoreError::invalid(
                "lat",
                format!("{} is not a latitude in -90..90", self.lat),
            ));
        }
        if !self.lon.is_finite() || !(-180.0..=180.0).contains(&self.lon) {
            return Err(CoreError::invalid(
                "lon",
                format!("{} is not a longitude in -180..180", self.lon),
            ));
        }
        Ok(())
    }
}

/// The document field holding a record's latitude.
pub(crate) const LAT: &str = "lat";
/// The document field holding a record's longitude.
pub(crate) const LON: &str = "lon";

impl Location {
    /// The position stored as `lat`/`lon` fields of object `obj` of a record document, when
    /// both are there.
    pub(crate) fn read_in(d: &automerge::AutoCommit, obj: &automerge::ObjId) -> Option<Location> {
        Some(Location {
            lat: crate::doc::get_f64_in(d, obj, LAT)?,
            lon: crate::doc::get_f64_in(d, obj, LON)?,
        })
    }

    /// Stores the position as `lat`/`lon` fields of object `obj` of a record document.
    ///
    /// # Errors
    /// Document errors.
    pub(crate) fn put_in(
        self,
        d: &mut automerge::AutoCommit,
        obj: &automerge::ObjId,
    ) -> crate::error::Result<()> {
        crate::doc::put_in(d, obj, LAT, self.lat)?;
        crate::doc::put_in(d, obj, LON, self.lon)?;
        Ok(())
    }

    /// The position stored on a record document's root map.
    pub(crate) fn read(d: &automerge::AutoCommit) -> Option<Location> {
        Location::read_in(d, &automerge::ROOT)
    }
}
