//! `project_files` rows: a decoded row encodes back in its shape and decodes
//! to the same entry and bytes.
#![no_main]

use libfuzzer_sys::fuzz_target;
use velocity_sync::rows::{MismatchPolicy, Row, decode_row, encode_row};

fuzz_target!(|data: &[u8]| {
    let Ok(row) = serde_json::from_slice::<Row>(data) else {
        return;
    };
    for policy in [MismatchPolicy::Reject, MismatchPolicy::Report] {
        let Ok(decoded) = decode_row(&row, policy) else {
            continue;
        };
        let Ok(encoded) =
            encode_row(decoded.shape, &decoded.entry, &decoded.content, &decoded.context)
        else {
            continue;
        };
        let again = decode_row(&encoded, MismatchPolicy::Reject)
            .expect("an encoded row decodes strictly");
        assert_eq!(again.shape, decoded.shape);
        assert_eq!(again.entry, decoded.entry);
        assert_eq!(again.content, decoded.content);
        assert!(again.issues.is_empty(), "{:?}", again.issues);
    }
});
