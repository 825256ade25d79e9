//! Paths from the wire: an accepted path is canonical (parsing its text
//! again gives the same path) and stays inside the project root when joined
//! onto a directory.
#![no_main]

use std::path::{Component, Path};

use libfuzzer_sys::fuzz_target;
use velocity_sync::FilePath;

fn check(path: &FilePath) {
    let text = path.as_str();
    assert_eq!(FilePath::parse(text).as_ref(), Ok(path), "not canonical: {text:?}");
    assert!(!text.is_empty() && !text.starts_with('/') && !text.contains('\\'));
    assert!(!text.contains('\0'));
    let joined = Path::new("/srv/project").join(text);
    assert!(joined.starts_with("/srv/project"), "{text:?} left the root");
    for component in Path::new(text).components() {
        assert!(
            matches!(component, Component::Normal(_)),
            "{text:?} has a {component:?} component"
        );
    }
    assert_eq!(path.segments().count(), path.depth());
}

fuzz_target!(|data: &[u8]| {
    if let Ok(path) = FilePath::from_bytes(data) {
        check(&path);
    }
    if let Ok(text) = std::str::from_utf8(data) {
        if let Ok(path) = FilePath::parse_lenient(text) {
            check(&path);
        }
    }
});
