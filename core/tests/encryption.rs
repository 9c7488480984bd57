//! Encryption at rest: the file holds no plaintext and does not open without the key.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use common::*;
use gridwork_core::{CoreError, Role, SignedInUser, Store, demo};

fn file_bytes(dir: &std::path::Path) -> Vec<u8> {
    let mut all = Vec::new();
    for e in std::fs::read_dir(dir).unwrap() {
        all.extend(std::fs::read(e.unwrap().path()).unwrap());
    }
    all
}

fn contains(hay: &[u8], needle: &[u8]) -> bool {
    hay.windows(needle.len()).any(|w| w == needle)
}

#[test]
fn encrypted_store_hides_names_and_needs_its_key() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("g.db");
    let key = [7u8; 32];
    let mut input = household(11);
    input.head_name = "欧阳娜娜".into();
    let id = {
        let mut s = Store::open(&path, Some(&key)).unwrap();
        s.load_areas(&demo::areas(1, 1, 1, 1)).unwrap();
        s.sign_in(SignedInUser {
            user_id: "w1".into(),
            name: "网格员".into(),
            role: Role::GridWorker,
            scope: area(GRID),
        })
        .unwrap();
        s.households().add(input).unwrap()
    };
    let raw = file_bytes(dir.path());
    assert!(!raw.is_empty());
    assert!(!contains(&raw, "欧阳娜娜".as_bytes()), "plaintext name found in the store files");
    assert!(!contains(&raw, b"SQLite format 3"), "file header is not encrypted");

    assert!(matches!(Store::open(&path, None), Err(CoreError::Locked)));
    assert!(matches!(Store::open(&path, Some(&[8u8; 32])), Err(CoreError::Locked)));
    assert!(matches!(Store::open(&path, Some(&[7u8; 5])), Err(CoreError::Invalid { .. })));
    let mut s = Store::open(&path, Some(&key)).unwrap();
    assert_eq!(s.households().get(id).unwrap().unwrap().head_name, "欧阳娜娜");
}

#[test]
fn plain_store_is_readable_as_sqlite() {
    // The control: the same data without a key is visible in the file, so the test above
    // measures encryption and not an accident of encoding.
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("g.db");
    let mut input = household(11);
    input.head_name = "欧阳娜娜".into();
    {
        let mut s = store_at(Some(&path), "w1");
        s.households().add(input).unwrap();
    }
    assert!(contains(&file_bytes(dir.path()), "欧阳娜娜".as_bytes()));
}

/// A key of the wrong length is refused naming `key`, before anything is written: no file.
#[test]
fn a_bad_key_length_creates_no_file() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("never.db");
    for len in [0, 5, 31, 33] {
        match Store::open(&path, Some(&vec![7u8; len])) {
            Err(CoreError::Invalid { field, .. }) => assert_eq!(field, "key"),
            other => panic!("expected an invalid key, got {:?}", other.map(|_| ())),
        }
        assert!(!path.exists(), "a refused open created {}", path.display());
    }
}
