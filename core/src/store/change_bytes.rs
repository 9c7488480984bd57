//! Change bytes at rest: every change the store keeps in its `change` table is compressed with
//! zstd and a dictionary trained on Gridwork changes (`change.dict`, shipped in the binary;
//! made by `cargo run -p gridwork-core --example train_change_dictionary`).
//!
//! A change is a few hundred bytes; alone it hardly compresses, but with the dictionary (field
//! names, the commit note's keys, kind and area spellings, common Chinese words) it shrinks to
//! about a third. Reading a row gives back exactly the bytes that were stored (the change hash is
//! computed over them), and a row is recognised by its first bytes: an Automerge chunk starts
//! with `85 6f 4a 83`, a zstd frame with `28 b5 2f fd`. Rows written before compression existed
//! (raw changes) are read as they are, so older stores need no migration.
//!
//! The dictionary can never change once shipped: frames name it by its id, and a later
//! dictionary must be added next to it, not in its place.

use std::cell::RefCell;
use std::sync::OnceLock;

use zstd::bulk::{Compressor, Decompressor};
use zstd::dict::{DecoderDictionary, EncoderDictionary};

use crate::error::{CoreError, Result};

/// The shipped dictionary (see the module docs).
const DICT: &[u8] = include_bytes!("change.dict");

/// zstd level: measured on household changes (321 B on average), level 3 takes 1.2 µs for
/// 121 B, level 9 10 µs for 113 B.
const LEVEL: i32 = 3;

/// The first bytes of a zstd frame.
const ZSTD_MAGIC: [u8; 4] = [0x28, 0xb5, 0x2f, 0xfd];

/// The largest change the store will inflate (a change is bounded far below this by the
/// server's push limit; a larger declared size means a damaged row).
const MAX_CHANGE: usize = 64 << 20;

fn encoder_dict() -> &'static EncoderDictionary<'static> {
    static D: OnceLock<EncoderDictionary<'static>> = OnceLock::new();
    D.get_or_init(|| EncoderDictionary::copy(DICT, LEVEL))
}

fn decoder_dict() -> &'static DecoderDictionary<'static> {
    static D: OnceLock<DecoderDictionary<'static>> = OnceLock::new();
    D.get_or_init(|| DecoderDictionary::copy(DICT))
}

thread_local! {
    static COMPRESSOR: RefCell<Option<Compressor<'static>>> = const { RefCell::new(None) };
    static DECOMPRESSOR: RefCell<Option<Decompressor<'static>>> = const { RefCell::new(None) };
}

/// The stored form of change `raw`: compressed when that is smaller, else `raw` itself.
pub(crate) fn pack(raw: &[u8]) -> Vec<u8> {
    let packed = COMPRESSOR.with(|c| {
        let mut slot = c.borrow_mut();
        let comp = match slot.as_mut() {
            Some(comp) => comp,
            None => slot.insert(Compressor::with_prepared_dictionary(encoder_dict()).ok()?),
        };
        comp.compress(raw).ok()
    });
    match packed {
        Some(p) if p.len() < raw.len() => p,
        // Compression cannot fail on valid input; if it ever did, the raw change is stored
        // (readers accept both forms).
        _ => raw.to_vec(),
    }
}

/// The change stored as `stored` (see [`pack`]): inflated, or `stored` itself when it was kept
/// raw.
///
/// # Errors
/// [`CoreError::Corrupt`] when a compressed row does not inflate.
pub(crate) fn unpack(stored: Vec<u8>) -> Result<Vec<u8>> {
    if !stored.starts_with(&ZSTD_MAGIC) {
        return Ok(stored);
    }
    let corrupt = |reason: String| CoreError::Corrupt { what: "change".into(), reason };
    let size = match zstd::zstd_safe::get_frame_content_size(&stored) {
        Ok(Some(n)) => usize::try_from(n).unwrap_or(usize::MAX),
        _ => return Err(corrupt("compressed change without a size".into())),
    };
    if size > MAX_CHANGE {
        return Err(corrupt(format!("compressed change claims {size} bytes")));
    }
    DECOMPRESSOR.with(|d| {
        let mut slot = d.borrow_mut();
        let dec = match slot.as_mut() {
            Some(dec) => dec,
            None => slot.insert(
                Decompressor::with_prepared_dictionary(decoder_dict())
                    .map_err(|e| corrupt(e.to_string()))?,
            ),
        };
        let out = dec.decompress(&stored, size).map_err(|e| corrupt(e.to_string()))?;
        if out.len() == size { Ok(out) } else { Err(corrupt("short compressed change".into())) }
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn raw_rows_read_as_they_are() {
        let raw = vec![0x85, 0x6f, 0x4a, 0x83, 1, 2, 3];
        assert_eq!(unpack(raw.clone()).unwrap(), raw);
    }

    #[test]
    fn compressed_rows_read_back_byte_identical() {
        let mut d = automerge::AutoCommit::new();
        for i in 0..3 {
            crate::doc::put(&mut d, "head_name", format!("王秀兰{i}")).unwrap();
            crate::doc::put(&mut d, "address", "幸福路12号3幢2单元301").unwrap();
            d.commit();
        }
        for c in d.get_changes(&[]) {
            let raw = c.raw_bytes().to_vec();
            let packed = pack(&raw);
            assert!(packed.len() <= raw.len());
            let back = unpack(packed).unwrap();
            assert_eq!(back, raw);
            assert_eq!(automerge::Change::from_bytes(back).unwrap().hash(), c.hash());
        }
    }

    #[test]
    fn damaged_rows_are_errors_not_panics() {
        let mut d = automerge::AutoCommit::new();
        crate::doc::put(&mut d, "address", "幸福路12号3幢2单元301幸福路12号3幢2单元301").unwrap();
        d.commit();
        let raw = d.get_changes(&[])[0].raw_bytes().to_vec();
        let packed = pack(&raw);
        assert!(packed.starts_with(&ZSTD_MAGIC));
        for cut in [4, 5, packed.len() / 2, packed.len() - 1] {
            assert!(unpack(packed[..cut].to_vec()).is_err(), "cut at {cut}");
        }
        let mut flipped = packed.clone();
        let last = flipped.len() - 2;
        flipped[last] ^= 0xff;
        // Either an error or (if zstd cannot tell) some bytes: never a panic.
        let _ = unpack(flipped);
        assert!(unpack(ZSTD_MAGIC.to_vec()).is_err());
    }
}
