//! `patrol start`, `patrol check-in` and `patrol stop`: a patrol from the terminal. A check-in's
//! position is also a fix of the patrol's track, so its distance is measured as on a phone.

use chrono::Utc;
use gridwork_core::location::Location;
use gridwork_core::{AreaPath, CheckInInput, ObservationInput, Store, TrackPoint};
use serde_json::json;
use uuid::Uuid;

use super::to_json;
use crate::error::CliError;
use crate::names::{Names, local, local_opt};
use crate::output::Reply;
use crate::table::fields;

/// Starts a patrol of `area` now; prints its id.
///
/// # Errors
/// The core's refusal ([`gridwork_core::CoreError::Invalid`] naming `area` when it is not a
/// grid or micro-grid, out of scope, unknown task…).
pub fn start(store: &mut Store, area: &AreaPath, task: Option<Uuid>) -> Result<Reply, CliError> {
    let now = Utc::now();
    let id = store.patrols().start(area, now, task)?;
    let text = fields(&[
        ("Patrol started", Names::new(store).area(area)),
        ("At", local(now)),
        ("ID", id.to_string()),
    ]);
    Ok(Reply::text(json!({ "id": id, "area": area, "started_at": now }), text))
}

/// What a check-in was given.
#[derive(Debug)]
pub struct CheckInArgs<'a> {
    /// What is checked in at.
    pub name: &'a str,
    /// Latitude.
    pub lat: f64,
    /// Longitude.
    pub lon: f64,
    /// Something noticed, recorded as an observation.
    pub note: Option<&'a str>,
}

/// Checks in on an open patrol (and records the note as an observation there): all or nothing.
///
/// # Errors
/// The core's refusal: [`gridwork_core::CoreError::Invalid`] naming `lat`/`lon`, `name`,
/// `text` or `ended_at`; [`gridwork_core::CoreError::Forbidden`] for another's patrol;
/// [`gridwork_core::CoreError::NotFound`].
pub fn check_in(
    store: &mut Store,
    patrol: Uuid,
    args: &CheckInArgs<'_>,
) -> Result<Reply, CliError> {
    let now = Utc::now();
    let location = Location { lat: args.lat, lon: args.lon };
    let (check_in, observation) = store.batch(|s| {
        let check_in = s.patrols().check_in(
            patrol,
            CheckInInput { name: args.name.to_owned(), location, at: now, point_id: None },
        )?;
        let fix = TrackPoint {
            t_ms: now.timestamp_millis(),
            lat: args.lat,
            lon: args.lon,
            accuracy_m: None,
        };
        s.patrols().add_track_points(patrol, &[fix])?;
        let observation = match args.note {
            None => None,
            Some(text) => Some(s.patrols().add_observation(
                patrol,
                ObservationInput {
                    text: text.to_owned(),
                    location: Some(location),
                    at: now,
                    photos: vec![],
                },
            )?),
        };
        Ok((check_in, observation))
    })?;
    let text = fields(&[
        ("Checked in at", args.name.to_owned()),
        ("At", local(now)),
        ("Position", format!("{:.6}, {:.6}", args.lat, args.lon)),
        ("Observation", args.note.unwrap_or_default().to_owned()),
        ("Check-in ID", check_in.to_string()),
    ]);
    let json = json!({ "patrol": patrol, "check_in": check_in, "observation": observation });
    Ok(Reply::text(json, text))
}

/// Ends an open patrol now and shows it: duration, distance, check-ins, observations.
///
/// # Errors
/// The core's refusal ([`gridwork_core::CoreError::Invalid`] naming `ended_at` when it has
/// ended already; another's patrol; not found).
pub fn stop(store: &mut Store, patrol: Uuid) -> Result<Reply, CliError> {
    store.patrols().end(patrol, Utc::now())?;
    let p = store.patrols().get(patrol)?;
    let names = Names::new(store);
    let text = fields(&[
        ("Patrol ended", names.area(&p.area)),
        ("Started", local(p.started_at)),
        ("Ended", local_opt(p.ended_at)),
        ("Duration", format!("{:.0} min", p.duration_s / 60.0)),
        ("Distance", format!("{:.0} m", p.stats.distance_m)),
        ("Check-ins", p.checkins.len().to_string()),
        ("Observations", p.observations.len().to_string()),
        ("ID", p.id.to_string()),
    ]);
    Ok(Reply::text(to_json(&p), text))
}
