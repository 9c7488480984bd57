//! GPS tracks of patrols (巡查轨迹), stored as compact binary chunks rather than one CRDT operation
//! per point (DESIGN §5): a patrol document references its chunks, each holding up to
//! [`MAX_CHUNK_POINTS`] points.
//!
//! # Chunk format, version 1
//! ```text
//! byte 0      version (= 1), outside the compression so unknown versions are rejected up front
//! bytes 1..   one zstd frame containing:
//!   varint    point count n (≤ MAX_CHUNK_POINTS)
//!   if n > 0:
//!     zigzag  first t_ms, first lat, first lon (lat/lon as integer micro-degrees, 1e-6° ≈ 0.11 m)
//!     n-1 ×   varint  time delta in ms (time never decreases)
//!     n-1 ×   zigzag  latitude delta (micro-degrees)
//!     n-1 ×   zigzag  longitude delta (micro-degrees)
//!     n ×     zigzag  delta of the accuracy code (0 = unknown, else decimetres + 1)
//! ```
//! Varints are unsigned LEB128; zigzag maps signed to unsigned so small deltas of either sign take
//! one byte. Columns (all time deltas, then all latitude deltas…) let zstd find the regularity of
//! a 1 Hz fix rate. Decoding checks every length, range and overflow and rejects trailing bytes, so
//! arbitrary input gives an error, never a panic or an unbounded allocation.

use serde::{Deserialize, Serialize};

use crate::error::{CoreError, Result};
use crate::geo::{LatLon, haversine_m};
use crate::validate;

/// Current chunk format version, the first byte of every chunk.
pub const CHUNK_VERSION: u8 = 1;
/// Most points accepted in one chunk (≈ 2.8 hours at one fix per second). Bounds memory when
/// decoding untrusted chunks; longer patrols use several chunks.
pub const MAX_CHUNK_POINTS: usize = 10_000;
/// Largest accuracy radius that can be stored, in metres; worse fixes are meaningless anyway.
pub const MAX_ACCURACY_M: f32 = 100_000.0;
/// [`track_stats`] ignores a point implying a speed above this from the last accepted point
/// (m/s; 180 km/h — beyond any patrol on foot, bicycle or car in town).
pub const JITTER_MAX_SPEED_MPS: f64 = 50.0;
/// [`track_stats`] ignores points whose reported accuracy radius is worse than this (metres).
pub const JITTER_MAX_ACCURACY_M: f32 = 100.0;

/// zstd level for chunks: chunks are small, so a high level costs little time on a phone.
const ZSTD_LEVEL: i32 = 19;
/// Field name used in chunk decoding errors.
const CHUNK: &str = "track_chunk";

/// One GPS fix of a patrol track.
#[cfg_attr(feature = "uniffi", derive(uniffi::Record))]
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct TrackPoint {
    /// Device time of the fix, milliseconds since the Unix epoch.
    pub t_ms: i64,
    /// Latitude, WGS-84 degrees; stored to 1e-6°.
    pub lat: f64,
    /// Longitude, WGS-84 degrees; stored to 1e-6°.
    pub lon: f64,
    /// Horizontal accuracy radius reported by the GPS, metres (stored to 0.1 m), if known.
    pub accuracy_m: Option<f32>,
}

impl TrackPoint {
    /// The point's position.
    pub fn pos(&self) -> LatLon {
        LatLon::new(self.lat, self.lon)
    }
}

/// Summary of a track for patrol logs and assessment (number of points, distance, hours).
#[cfg_attr(feature = "uniffi", derive(uniffi::Record))]
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct TrackStats {
    /// Points used for the distance (after the jitter filter).
    pub points: usize,
    /// Points ignored by the jitter filter (poor accuracy, impossible jumps, invalid coordinates).
    pub dropped: usize,
    /// Distance along the accepted points, metres.
    pub distance_m: f64,
    /// `ended_at - started_at`, seconds (0 for fewer than two points).
    pub duration_s: f64,
    /// Earliest point time (ms since the Unix epoch), including dropped points; `None` if empty.
    pub started_at: Option<i64>,
    /// Latest point time (ms since the Unix epoch), including dropped points; `None` if empty.
    pub ended_at: Option<i64>,
}

/// Encodes up to [`MAX_CHUNK_POINTS`] points as one compact chunk (format in the module docs).
///
/// Validates every point (finite coordinates in range, accuracy finite and within
/// 0..=[`MAX_ACCURACY_M`]) and that time never decreases. Coordinates are rounded to 1e-6° and
/// accuracy to 0.1 m.
pub fn encode_chunk(points: &[TrackPoint]) -> Result<Vec<u8>> {
    if points.len() > MAX_CHUNK_POINTS {
        return Err(CoreError::invalid(
            "track_points",
            format!("at most {MAX_CHUNK_POINTS} points per chunk, got {}", points.len()),
        ));
    }
    let mut lat = Vec::with_capacity(points.len());
    let mut lon = Vec::with_capacity(points.len());
    let mut acc = Vec::with_capacity(points.len());
    for (i, p) in points.iter().enumerate() {
        validate::coordinates(p.lat, p.lon).map_err(|e| at_point(i, e))?;
        lat.push(micro_degrees(p.lat));
        lon.push(micro_degrees(p.lon));
        acc.push(accuracy_code(p.accuracy_m).map_err(|e| at_point(i, e))?);
        if i > 0 && p.t_ms < points[i - 1].t_ms {
            return Err(at_point(i, CoreError::invalid("t_ms", "time goes backwards")));
        }
    }

    let mut buf = Vec::with_capacity(16 + points.len() * 6);
    put_varint(&mut buf, points.len() as u64);
    if let Some(first) = points.first() {
        put_zigzag(&mut buf, first.t_ms);
        put_zigzag(&mut buf, lat[0]);
        put_zigzag(&mut buf, lon[0]);
        for w in points.windows(2) {
            // Non-negative (checked above) and < 2^64, so the cast is lossless.
            put_varint(&mut buf, (i128::from(w[1].t_ms) - i128::from(w[0].t_ms)) as u64);
        }
        for col in [&lat, &lon] {
            for w in col.windows(2) {
                put_zigzag(&mut buf, w[1] - w[0]);
            }
        }
        let mut prev = 0;
        for &a in &acc {
            put_zigzag(&mut buf, a - prev);
            prev = a;
        }
    }
    let compressed = zstd::bulk::compress(&buf, ZSTD_LEVEL)
        .map_err(|e| CoreError::Internal { reason: format!("track compression failed: {e}") })?;
    let mut out = Vec::with_capacity(1 + compressed.len());
    out.push(CHUNK_VERSION);
    out.extend_from_slice(&compressed);
    Ok(out)
}

/// Decodes a chunk made by [`encode_chunk`].
///
/// Rejects unknown versions, corrupt or truncated compression, counts above
/// [`MAX_CHUNK_POINTS`], out-of-range coordinates, overflowing values and trailing bytes with
/// [`CoreError::Corrupt`] (what: `track_chunk`). Never panics, whatever the input.
pub fn decode_chunk(bytes: &[u8]) -> Result<Vec<TrackPoint>> {
    let (&version, body) =
        bytes.split_first().ok_or_else(|| CoreError::corrupt(CHUNK, "empty chunk"))?;
    if version != CHUNK_VERSION {
        return Err(CoreError::corrupt(CHUNK, format!("unknown chunk version {version}")));
    }
    // Upper bound of a valid payload: count + first point + 3 columns + accuracy, 10 B/varint.
    let capacity = 10 + 30 + MAX_CHUNK_POINTS * 40;
    let payload = zstd::bulk::decompress(body, capacity)
        .map_err(|e| CoreError::corrupt(CHUNK, format!("corrupt or truncated data: {e}")))?;
    let mut r = Reader { buf: &payload, pos: 0 };

    let n = r.varint()?;
    if n > MAX_CHUNK_POINTS as u64 {
        return Err(CoreError::corrupt(CHUNK, format!("point count {n} exceeds the maximum")));
    }
    let n = n as usize;
    let mut points = Vec::with_capacity(n);
    if n > 0 {
        let mut t = r.zigzag()?;
        let mut lat = r.zigzag()?;
        let mut lon = r.zigzag()?;
        let mut times = Vec::with_capacity(n);
        times.push(t);
        for _ in 1..n {
            let dt = r.varint()?;
            t = i64::try_from(i128::from(t) + i128::from(dt))
                .map_err(|_| CoreError::corrupt(CHUNK, "time overflows"))?;
            times.push(t);
        }
        let mut lats = Vec::with_capacity(n);
        lats.push(lat);
        for _ in 1..n {
            lat = checked_step(lat, r.zigzag()?)?;
            lats.push(lat);
        }
        let mut lons = Vec::with_capacity(n);
        lons.push(lon);
        for _ in 1..n {
            lon = checked_step(lon, r.zigzag()?)?;
            lons.push(lon);
        }
        let mut acc: i64 = 0;
        for i in 0..n {
            acc = checked_step(acc, r.zigzag()?)?;
            let (la, lo) = (lats[i], lons[i]);
            if !(-90_000_000..=90_000_000).contains(&la)
                || !(-180_000_000..=180_000_000).contains(&lo)
            {
                return Err(CoreError::corrupt(
                    CHUNK,
                    format!("point {i}: coordinates out of range"),
                ));
            }
            points.push(TrackPoint {
                t_ms: times[i],
                lat: la as f64 / 1e6,
                lon: lo as f64 / 1e6,
                accuracy_m: accuracy_from_code(acc)
                    .ok_or_else(|| CoreError::corrupt(CHUNK, format!("point {i}: bad accuracy")))?,
            });
        }
    }
    if r.pos != payload.len() {
        return Err(CoreError::corrupt(CHUNK, "trailing bytes after the last point"));
    }
    Ok(points)
}

/// Computes patrol statistics for a track (points in time order, e.g. several decoded chunks
/// concatenated), with a simple jitter filter: points with accuracy worse than
/// [`JITTER_MAX_ACCURACY_M`], invalid coordinates, or implying a speed above
/// [`JITTER_MAX_SPEED_MPS`] from the last accepted point are ignored for the distance.
///
/// Why the filter: a phone's GPS jumps tens to hundreds of metres indoors and at start-up; summed
/// naively those jumps would inflate patrol distance, which counts toward assessment.
pub fn track_stats(points: &[TrackPoint]) -> TrackStats {
    let mut stats = TrackStats {
        points: 0,
        dropped: 0,
        distance_m: 0.0,
        duration_s: 0.0,
        started_at: points.iter().map(|p| p.t_ms).min(),
        ended_at: points.iter().map(|p| p.t_ms).max(),
    };
    let mut last: Option<&TrackPoint> = None;
    for p in points {
        let accurate = p.accuracy_m.is_none_or(|a| a.is_finite() && a <= JITTER_MAX_ACCURACY_M);
        if !accurate || validate::coordinates(p.lat, p.lon).is_err() {
            stats.dropped += 1;
            continue;
        }
        if let Some(prev) = last {
            let d = haversine_m(prev.pos(), p.pos());
            let dt_s = (p.t_ms as f64 - prev.t_ms as f64) / 1000.0;
            // dt ≤ 0 with any movement is an impossible jump; tiny movements within GPS noise
            // (< 1 m) at the same instant are harmless.
            let too_fast = if dt_s > 0.0 { d / dt_s > JITTER_MAX_SPEED_MPS } else { d > 1.0 };
            if too_fast {
                stats.dropped += 1;
                continue;
            }
            stats.distance_m += d;
        }
        stats.points += 1;
        last = Some(p);
    }
    if let (Some(s), Some(e)) = (stats.started_at, stats.ended_at) {
        stats.duration_s = (e as f64 - s as f64) / 1000.0;
    }
    stats
}

/// Adds the point index to a validation error's reason.
fn at_point(i: usize, e: CoreError) -> CoreError {
    match e {
        CoreError::Invalid { field, reason } => {
            CoreError::Invalid { field, reason: format!("point {i}: {reason}") }
        }
        other => other,
    }
}

/// Degrees → integer micro-degrees (input already validated to ±180°, so it fits).
fn micro_degrees(deg: f64) -> i64 {
    (deg * 1e6).round() as i64
}

/// Accuracy → stored code: 0 = unknown, else decimetres + 1.
fn accuracy_code(acc: Option<f32>) -> Result<i64> {
    match acc {
        None => Ok(0),
        Some(a) if a.is_finite() && (0.0..=MAX_ACCURACY_M).contains(&a) => {
            Ok((f64::from(a) * 10.0).round() as i64 + 1)
        }
        Some(_) => Err(CoreError::invalid(
            "accuracy_m",
            format!("must be a finite number of metres in 0..={MAX_ACCURACY_M}"),
        )),
    }
}

/// Stored code → accuracy; `None` (outer) if the code is out of range.
fn accuracy_from_code(code: i64) -> Option<Option<f32>> {
    match code {
        0 => Some(None),
        c if c > 0 && c <= (f64::from(MAX_ACCURACY_M) * 10.0) as i64 + 1 => {
            Some(Some((c - 1) as f32 / 10.0))
        }
        _ => None,
    }
}

/// `base + delta`, rejecting overflow (only possible with corrupt input).
fn checked_step(base: i64, delta: i64) -> Result<i64> {
    base.checked_add(delta).ok_or_else(|| CoreError::corrupt(CHUNK, "value overflows"))
}

/// Appends `v` as unsigned LEB128.
fn put_varint(buf: &mut Vec<u8>, mut v: u64) {
    while v >= 0x80 {
        buf.push((v as u8) | 0x80);
        v >>= 7;
    }
    buf.push(v as u8);
}

/// Appends `v` zigzag-encoded (0, -1, 1, -2… → 0, 1, 2, 3…) as a varint.
fn put_zigzag(buf: &mut Vec<u8>, v: i64) {
    put_varint(buf, ((v << 1) ^ (v >> 63)) as u64);
}

/// Bounds-checked reader over a decompressed payload.
struct Reader<'a> {
    buf: &'a [u8],
    pos: usize,
}

impl Reader<'_> {
    /// Reads an unsigned LEB128 varint of at most 10 bytes that fits in a u64.
    fn varint(&mut self) -> Result<u64> {
        let mut v: u64 = 0;
        for i in 0..10 {
            let b = *self
                .buf
                .get(self.pos)
                .ok_or_else(|| CoreError::corrupt(CHUNK, "truncated point data"))?;
            self.pos += 1;
            if i == 9 && b > 1 {
                return Err(CoreError::corrupt(CHUNK, "varint overflows 64 bits"));
            }
            v |= u64::from(b & 0x7f) << (7 * i);
            if b & 0x80 == 0 {
                return Ok(v);
            }
        }
        Err(CoreError::corrupt(CHUNK, "varint longer than 10 bytes"))
    }

    /// Reads a zigzag-encoded signed varint.
    fn zigzag(&mut self) -> Result<i64> {
        let u = self.varint()?;
        Ok(((u >> 1) as i64) ^ -((u & 1) as i64))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn pt(t_ms: i64, lat: f64, lon: f64, acc: Option<f32>) -> TrackPoint {
        TrackPoint { t_ms, lat, lon, accuracy_m: acc }
    }

    /// A realistic one-hour walk at 1 Hz: ~1.3 m/s, slowly turning, ±1.5 m GPS noise, accuracy
    /// fluctuating 3–15 m, occasional missed fixes.
    fn walk(n: usize) -> Vec<TrackPoint> {
        let mut seed: u64 = 0x9E37_79B9_7F4A_7C15;
        let mut rnd = move || {
            seed ^= seed << 13;
            seed ^= seed >> 7;
            seed ^= seed << 17;
            (seed >> 11) as f64 / (1u64 << 53) as f64
        };
        let (mut lat, mut lon, mut heading, mut t) =
            (32.0801, 121.0612, 0.3f64, 1_715_000_000_000i64);
        let mut acc = 5.0f32;
        let mut out = Vec::with_capacity(n);
        for _ in 0..n {
            heading += (rnd() - 0.5) * 0.2;
            let step = 1.3 + (rnd() - 0.5) * 0.4;
            lat += step * heading.cos() / 111_195.0;
            lon += step * heading.sin() / (111_195.0 * lat.to_radians().cos());
            let noise = |r: f64| (r - 0.5) * 3.0 / 111_195.0;
            acc = (acc + ((rnd() - 0.5) * 2.0) as f32).clamp(3.0, 15.0);
            out.push(pt(
                t,
                lat + noise(rnd()),
                lon + noise(rnd()),
                Some((acc * 10.0).round() / 10.0),
            ));
            t += if rnd() < 0.02 { 2000 } else { 1000 };
        }
        out
    }

    fn assert_close(a: &[TrackPoint], b: &[TrackPoint]) {
        assert_eq!(a.len(), b.len());
        for (x, y) in a.iter().zip(b) {
            assert_eq!(x.t_ms, y.t_ms);
            assert!((x.lat - y.lat).abs() <= 1e-6, "{} vs {}", x.lat, y.lat);
            assert!((x.lon - y.lon).abs() <= 1e-6, "{} vs {}", x.lon, y.lon);
            match (x.accuracy_m, y.accuracy_m) {
                (None, None) => {}
                (Some(p), Some(q)) => assert!((p - q).abs() <= 0.051, "{p} vs {q}"),
                other => panic!("accuracy mismatch {other:?}"),
            }
        }
    }

    #[test]
    fn round_trip_and_edge_values() {
        let pts = vec![
            pt(-5, -90.0, -180.0, None),
            pt(-5, 90.0, 180.0, Some(0.0)),
            pt(7, 0.0000004, -0.0000006, Some(MAX_ACCURACY_M)),
            pt(i64::MAX, 32.123456, 121.654321, Some(12.34)),
        ];
        let bytes = encode_chunk(&pts).unwrap();
        assert_eq!(bytes[0], CHUNK_VERSION);
        assert_close(&decode_chunk(&bytes).unwrap(), &pts);
        assert!(decode_chunk(&encode_chunk(&[]).unwrap()).unwrap().is_empty());
        let extremes = [pt(i64::MIN, 0.0, 0.0, None), pt(i64::MAX, 0.0, 0.0, None)];
        assert_close(&decode_chunk(&encode_chunk(&extremes).unwrap()).unwrap(), &extremes);
    }

    #[test]
    fn walk_track_is_small() {
        let pts = walk(3600);
        let bytes = encode_chunk(&pts).unwrap();
        let per_point = bytes.len() as f64 / pts.len() as f64;
        println!("1 Hz walk, {} points: {} bytes, {per_point:.2} B/point", pts.len(), bytes.len());
        assert!(per_point < 6.0, "{per_point} B/point");
        assert_close(&decode_chunk(&bytes).unwrap(), &pts);
        let full = walk(MAX_CHUNK_POINTS);
        assert_eq!(decode_chunk(&encode_chunk(&full).unwrap()).unwrap().len(), MAX_CHUNK_POINTS);
    }

    #[test]
    fn encode_rejects_bad_points() {
        let ok = pt(0, 32.0, 121.0, None);
        let code = |r: Result<Vec<u8>>| match r {
            Err(CoreError::Invalid { field, reason }) => format!("{field}: {reason}"),
            other => panic!("expected Invalid, got {other:?}"),
        };
        assert!(code(encode_chunk(&[ok, pt(1, 91.0, 0.0, None)])).starts_with("lat: point 1"));
        assert!(code(encode_chunk(&[pt(0, 0.0, f64::NAN, None)])).starts_with("lon"));
        assert!(code(encode_chunk(&[pt(5, 0.0, 0.0, None), ok])).contains("backwards"));
        assert!(code(encode_chunk(&[pt(0, 0.0, 0.0, Some(-1.0))])).starts_with("accuracy_m"));
        assert!(code(encode_chunk(&[pt(0, 0.0, 0.0, Some(f32::NAN))])).starts_with("accuracy_m"));
        let too_many = vec![ok; MAX_CHUNK_POINTS + 1];
        assert!(code(encode_chunk(&too_many)).contains("at most"));
    }

    #[test]
    fn decode_rejects_corrupt_input() {
        let good = encode_chunk(&walk(100)).unwrap();
        let is_chunk_err = |r: Result<Vec<TrackPoint>>| matches!(r, Err(CoreError::Corrupt { ref what, .. }) if what == CHUNK);
        assert!(is_chunk_err(decode_chunk(&[])));
        assert!(is_chunk_err(decode_chunk(&[CHUNK_VERSION])));
        let mut v2 = good.clone();
        v2[0] = 2;
        assert!(is_chunk_err(decode_chunk(&v2)));
        for cut in [1, 2, 5, good.len() / 2, good.len() - 1] {
            assert!(is_chunk_err(decode_chunk(&good[..cut])), "truncated at {cut}");
        }
        let mut flipped = good.clone();
        let mid = flipped.len() / 2;
        flipped[mid] ^= 0x55;
        // A flipped bit either fails decompression or yields different but validated points.
        let _ = decode_chunk(&flipped);
        let mut trailing = good.clone();
        trailing.push(0);
        assert!(is_chunk_err(decode_chunk(&trailing)));

        // Well-compressed but semantically bad payloads.
        let wrap = |payload: &[u8]| {
            let mut out = vec![CHUNK_VERSION];
            out.extend(zstd::bulk::compress(payload, 1).unwrap());
            out
        };
        let mut big = Vec::new();
        put_varint(&mut big, MAX_CHUNK_POINTS as u64 + 1);
        assert!(is_chunk_err(decode_chunk(&wrap(&big))));
        let mut lat_out = Vec::new();
        put_varint(&mut lat_out, 1);
        put_zigzag(&mut lat_out, 0);
        put_zigzag(&mut lat_out, 90_000_001);
        put_zigzag(&mut lat_out, 0);
        put_zigzag(&mut lat_out, 0);
        assert!(is_chunk_err(decode_chunk(&wrap(&lat_out))));
        let mut trailing_payload = vec![0u8];
        trailing_payload.push(0);
        assert!(is_chunk_err(decode_chunk(&wrap(&trailing_payload))));
        assert!(is_chunk_err(decode_chunk(&wrap(&[0xff; 11]))));
        let mut time_overflow = Vec::new();
        put_varint(&mut time_overflow, 2);
        put_zigzag(&mut time_overflow, i64::MAX);
        put_zigzag(&mut time_overflow, 0);
        put_zigzag(&mut time_overflow, 0);
        put_varint(&mut time_overflow, 1);
        assert!(is_chunk_err(decode_chunk(&wrap(&time_overflow))));
        // Decompression bomb: a valid frame far larger than any chunk can be.
        assert!(is_chunk_err(decode_chunk(&wrap(&vec![0u8; 1 << 20]))));
    }

    #[test]
    fn stats_with_jitter_filter() {
        let empty = track_stats(&[]);
        assert_eq!((empty.points, empty.started_at, empty.duration_s), (0, None, 0.0));

        let pts = walk(600);
        let clean = track_stats(&pts);
        assert_eq!((clean.points, clean.dropped), (600, 0));
        // ~1.3 m/s × ~600 s plus noise.
        assert!((700.0..1400.0).contains(&clean.distance_m), "{}", clean.distance_m);
        assert_eq!(clean.started_at, Some(pts[0].t_ms));
        assert_eq!(clean.ended_at, Some(pts[599].t_ms));
        assert!(clean.duration_s >= 599.0);

        let mut noisy = pts.clone();
        noisy[100].lat += 0.01; // ~1.1 km jump in one second
        noisy[200].accuracy_m = Some(350.0);
        noisy[300].lon = f64::NAN;
        let s = track_stats(&noisy);
        assert_eq!((s.points, s.dropped), (597, 3));
        assert!(
            (s.distance_m - clean.distance_m).abs() < 10.0,
            "{} vs {}",
            s.distance_m,
            clean.distance_m
        );

        let two = [pt(0, 32.0, 121.0, None), pt(10_000, 32.0009, 121.0, None)];
        let s = track_stats(&two);
        assert!((s.distance_m - 100.0).abs() < 0.5, "{}", s.distance_m);
        assert_eq!(s.duration_s, 10.0);
    }

    fn arb_track() -> impl Strategy<Value = Vec<TrackPoint>> {
        (
            -4_000_000_000_000i64..4_000_000_000_000,
            prop::collection::vec(
                (
                    0i64..600_000,
                    -90.0f64..=90.0,
                    -180.0f64..=180.0,
                    prop::option::of(0.0f32..=MAX_ACCURACY_M),
                ),
                0..200,
            ),
        )
            .prop_map(|(t0, steps)| {
                let mut t = t0;
                steps
                    .into_iter()
                    .map(|(dt, lat, lon, acc)| {
                        t += dt;
                        pt(t, lat, lon, acc)
                    })
                    .collect()
            })
    }

    proptest! {
        #[test]
        fn prop_round_trip(track in arb_track()) {
            let decoded = decode_chunk(&encode_chunk(&track).unwrap()).unwrap();
            assert_close(&decoded, &track);
        }

        #[test]
        fn prop_decode_random_bytes_never_panics(bytes in prop::collection::vec(any::<u8>(), 0..512)) {
            let _ = decode_chunk(&bytes);
            let mut versioned = vec![CHUNK_VERSION];
            versioned.extend_from_slice(&bytes);
            let _ = decode_chunk(&versioned);
        }

        #[test]
        fn prop_decode_random_payload_never_panics(payload in prop::collection::vec(any::<u8>(), 0..512)) {
            let mut chunk = vec![CHUNK_VERSION];
            chunk.extend(zstd::bulk::compress(&payload, 1).unwrap());
            let _ = decode_chunk(&chunk);
        }

        #[test]
        fn prop_stats_never_panic(track in arb_track()) {
            let s = track_stats(&track);
            prop_assert!(s.distance_m.is_finite() && s.distance_m >= 0.0);
            prop_assert_eq!(s.points + s.dropped, track.len());
        }
    }
}
