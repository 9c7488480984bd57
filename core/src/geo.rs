//! Small geodesy helpers for patrol tracks and check-ins. Distances are on a spherical Earth, which
//! is accurate to ~0.5 % — plenty for patrol distance statistics and "are you at the building"
//! checks, and far cheaper than an ellipsoidal formula on low-end phones.

use serde::{Deserialize, Serialize};

/// Mean Earth radius in metres (IUGG), used by [`haversine_m`].
pub const EARTH_RADIUS_M: f64 = 6_371_008.8;

/// A WGS-84 position in decimal degrees (as reported by phone GPS).
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct LatLon {
    /// Latitude, degrees north, in [-90, 90].
    pub lat: f64,
    /// Longitude, degrees east, in [-180, 180].
    pub lon: f64,
}

impl LatLon {
    /// A position from latitude and longitude in degrees (not validated; see
    /// [`crate::validate::coordinates`]).
    pub fn new(lat: f64, lon: f64) -> Self {
        LatLon { lat, lon }
    }
}

/// Great-circle distance between two positions in metres (haversine formula, spherical Earth).
///
/// Numerically stable for the short hops between consecutive GPS fixes, where the cosine formula
/// loses precision. Non-finite input gives a non-finite result.
pub fn haversine_m(a: LatLon, b: LatLon) -> f64 {
    let (phi1, phi2) = (a.lat.to_radians(), b.lat.to_radians());
    let dphi = (b.lat - a.lat).to_radians();
    let dlambda = (b.lon - a.lon).to_radians();
    let h = (dphi / 2.0).sin().powi(2) + phi1.cos() * phi2.cos() * (dlambda / 2.0).sin().powi(2);
    // Clamp: rounding can push h a hair above 1 for antipodal points.
    2.0 * EARTH_RADIUS_M * h.clamp(0.0, 1.0).sqrt().asin()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn known_distances() {
        let p = LatLon::new(32.0, 121.0);
        assert_eq!(haversine_m(p, p), 0.0);
        // One degree of latitude ≈ 111.195 km on the mean sphere.
        let d = haversine_m(LatLon::new(0.0, 0.0), LatLon::new(1.0, 0.0));
        assert!((d - 111_195.0).abs() < 5.0, "{d}");
        // Nantong → Shanghai (People's Square), about 100 km.
        let d = haversine_m(LatLon::new(31.9802, 120.8943), LatLon::new(31.2304, 121.4737));
        assert!((95_000.0..105_000.0).contains(&d), "{d}");
        // Antipodes: half the circumference, no NaN.
        let d = haversine_m(LatLon::new(0.0, 0.0), LatLon::new(0.0, 180.0));
        assert!((d - std::f64::consts::PI * EARTH_RADIUS_M).abs() < 1.0);
        // Across the antimeridian is short.
        let d = haversine_m(LatLon::new(0.0, 179.9999), LatLon::new(0.0, -179.9999));
        assert!(d < 30.0, "{d}");
    }
}
