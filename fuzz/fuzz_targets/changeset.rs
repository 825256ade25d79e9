//! Changesets: decode → encode → decode is stable, and applying one to an
//! empty manifest either fails with a typed error or yields the manifest the
//! changeset names.
#![no_main]

use libfuzzer_sys::fuzz_target;
use velocity_sync::{Changeset, Manifest, MemoryBlobStore};

fuzz_target!(|data: &[u8]| {
    let Ok(changeset) = Changeset::from_json(data) else {
        return;
    };
    let json = changeset.to_json();
    let again = Changeset::from_json(&json).expect("own encoding must decode");
    assert_eq!(again, changeset);
    assert_eq!(again.to_json(), json);
    let mut store = MemoryBlobStore::default();
    if let Ok(target) = changeset.apply(&Manifest::new(), &mut store) {
        assert_eq!(target.id(), changeset.diff.target);
    }
});
