//! The committed C header is what cbindgen makes of the current source.
//! Regenerate with `VS_BLESS=1 cargo test -p velocity-sync-ffi --test header`.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::path::Path;

#[test]
fn committed_header_matches_the_source() {
    let crate_dir = Path::new(env!("CARGO_MANIFEST_DIR"));
    let config =
        cbindgen::Config::from_file(crate_dir.join("cbindgen.toml")).expect("cbindgen.toml");
    let mut generated = Vec::new();
    cbindgen::Builder::new()
        .with_crate(crate_dir)
        .with_config(config)
        .generate()
        .expect("cbindgen parses the crate")
        .write(&mut generated);
    let generated = String::from_utf8(generated).expect("header is UTF-8");
    let committed_path = crate_dir.join("include/velocity_sync.h");
    if std::env::var_os("VS_BLESS").is_some() {
        std::fs::write(&committed_path, &generated).expect("write header");
    }
    let committed = std::fs::read_to_string(&committed_path).unwrap_or_default();
    assert!(
        committed == generated,
        "ffi/include/velocity_sync.h is stale; regenerate with \
         `VS_BLESS=1 cargo test -p velocity-sync-ffi --test header` and commit it"
    );
}
