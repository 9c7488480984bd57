//! Patrols of a grid (巡查): a GPS track, check-ins (打卡) at buildings or points of interest, and
//! observations, any of which can become an incident report. Patrol logs count toward
//! assessment (number of patrols, hours, distance, points covered), so distance and duration are
//! derived from the track, never typed in.
//!
//! The track is not one CRDT operation per GPS fix (DESIGN §5): each [`Patrols::add_track_points`](crate::patrol::Patrols::add_track_points)
//! call appends one compact chunk ([`crate::track::encode_chunk`]) as a bytes scalar to the
//! document's `track` list.

mod decode;
#[cfg(feature = "store")]
mod projection;
#[cfg(feature = "store")]
mod query;
#[cfg(feature = "store")]
mod write;
#[cfg(feature = "store")]
pub use write::Patrols;

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

pub use decode::{CheckIn, Observation, Patrol, PatrolSpec};
#[cfg(feature = "store")]
pub use query::PatrolSummary;

use crate::attachment::PhotoRef;
use crate::error::Result;
use crate::location::Location;
use crate::validate;

/// Longest point-of-interest id of a check-in, in characters.
pub const POINT_ID_MAX: usize = 64;

/// Document field names of a patrol.
pub(crate) mod field {
    pub const WORKER: &str = "worker";
    pub const STARTED_AT: &str = "started_at";
    pub const ENDED_AT: &str = "ended_at";
    pub const TASK: &str = "task_id";
    pub const TRACK: &str = "track";
    pub const CHECKINS: &str = "checkins";
    pub const OBSERVATIONS: &str = "observations";
    // Inside check-in and observation maps.
    pub const ID: &str = "id";
    pub const NAME: &str = "name";
    pub const TEXT: &str = "text";
    pub const AT: &str = "at";
    pub const POINT: &str = "point_id";
    pub const PHOTOS: &str = "photos";
    pub const INCIDENT: &str = "incident_id";
}

/// A check-in (打卡) at a building or point of interest.
#[cfg_attr(feature = "uniffi", derive(uniffi::Record))]
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct CheckInInput {
    /// What was checked in at, e.g. `幸福小区3幢` — required, at most [`validate::NAME_MAX`].
    pub name: String,
    /// Where the phone was.
    pub location: Location,
    /// When (device clock).
    pub at: DateTime<Utc>,
    /// Id of the point of interest in reference data, if the app offered one.
    pub point_id: Option<String>,
}

/// Something noticed on patrol (a hazard, a dispute, litter…).
#[cfg_attr(feature = "uniffi", derive(uniffi::Record))]
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ObservationInput {
    /// What was seen — required, at most [`validate::NOTE_MAX`] characters.
    pub text: String,
    /// Where, if known.
    pub location: Option<Location>,
    /// When (device clock).
    pub at: DateTime<Utc>,
    /// Photos (at most [`MAX_PHOTOS`](crate::attachment::MAX_PHOTOS)).
    pub photos: Vec<PhotoRef>,
}

impl CheckInInput {
    /// Validates and normalises the input (the store and the server check it alike).
    ///
    /// # Errors
    /// [`CoreError::Invalid`] naming the bad field.
    pub fn validated(mut self) -> Result<Self> {
        self.name =
            validate::max_len("name", validate::required("name", &self.name)?, validate::NAME_MAX)?
                .to_owned();
        self.location.validate()?;
        self.point_id = match self.point_id.as_deref().map(str::trim) {
            None | Some("") => None,
            Some(p) => Some(validate::max_len("point_id", p, POINT_ID_MAX)?.to_owned()),
        };
        Ok(self)
    }
}

impl ObservationInput {
    /// Validates and normalises the input (the store and the server check it alike).
    ///
    /// # Errors
    /// [`CoreError::Invalid`] naming the bad field.
    pub fn validated(mut self) -> Result<Self> {
        self.text =
            validate::max_len("text", validate::required("text", &self.text)?, validate::NOTE_MAX)?
                .to_owned();
        if let Some(l) = &self.location {
            l.validate()?;
        }
        crate::attachment::validate_photos(&self.photos, "observation")?;
        Ok(self)
    }
}
