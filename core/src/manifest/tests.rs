use proptest::prelude::*;

use super::*;

fn path(text: &str) -> FilePath {
    FilePath::parse(text).unwrap()
}

fn file(text: &str, content: &str) -> FileEntry {
    FileEntry::from_content(path(text), content.as_bytes())
}

fn with_id(entry: FileEntry, id: u128) -> FileEntry {
    entry.with_id(FileId::from_u128(id))
}

#[test]
fn id_is_independent_of_insertion_order() {
    let entries = vec![
        file("b.txt", "b"),
        file("a/x.ts", "x"),
        file("a/y.ts", "y"),
        FileEntry::directory(path("empty")),
    ];
    let forward = Manifest::from_entries(entries.clone()).unwrap();
    let backward = Manifest::from_entries(entries.into_iter().rev()).unwrap();
    assert_eq!(forward.id(), backward.id());
    assert_eq!(forward.len(), 4);
}

#[test]
fn id_covers_version_parent_and_every_field() {
    let base = Manifest::from_entries([file("a", "1")]).unwrap();
    let next = base.successor();
    assert_ne!(base.id(), next.id());
    assert_eq!(base.tree_hash(), next.tree_hash());
    let variants = [
        file("a", "2"),
        file("a", "1").with_revision(1),
        file("a", "1").with_executable(true),
        with_id(file("a", "1"), 1),
    ];
    for variant in variants {
        let mut changed = base.clone();
        changed.insert(variant.clone()).unwrap();
        assert_ne!(changed.tree_hash(), base.tree_hash(), "{variant:?}");
    }
}

#[test]
fn successor_keeps_sharing_and_parent() {
    let mut v1 = Manifest::from_entries([file("src/a.ts", "a"), file("lib/b.ts", "b")]).unwrap();
    v1 = v1.with_header(7, None);
    let mut v2 = v1.successor();
    v2.insert(file("src/a.ts", "changed")).unwrap();
    assert_eq!(v2.version(), 8);
    assert_eq!(v2.parent(), Some(v1.id()));
    assert_eq!(
        v1.get(&path("src/a.ts")).unwrap().hash,
        ContentHash::of(b"a")
    );
    // The untouched `lib` subtree is the very same allocation in both versions.
    let lib = |m: &Manifest| match &m.root.children[0].node {
        tree::Node::Dir(dir) => Arc::as_ptr(dir),
        tree::Node::File(_) => panic!("lib is a directory"),
    };
    assert_eq!(lib(&v1), lib(&v2));
}

#[test]
fn extend_equals_inserts_and_is_all_or_nothing() {
    let mut base =
        Manifest::from_entries([file("a/x", "1"), with_id(file("b/y", "2"), 1)]).unwrap();
    let batch = vec![
        file("a/x", "changed"),
        file("a/z", "new"),
        FileEntry::directory(path("c")),
        with_id(file("b/y", "3"), 1),
    ];
    let mut one_by_one = base.successor();
    for entry in batch.clone() {
        one_by_one.insert(entry).unwrap();
    }
    let mut bulk = base.successor();
    bulk.extend(batch).unwrap();
    assert_eq!(bulk, one_by_one);
    assert_eq!(
        (bulk.len(), bulk.total_bytes()),
        (one_by_one.len(), one_by_one.total_bytes())
    );
    assert_eq!(bulk.diff(&one_by_one).changes, vec![]);

    let before = base.id();
    let err = base
        .extend([file("fine", "ok"), file("A/x", "collides")])
        .unwrap_err();
    assert_eq!(err.code(), "manifest.portable_key_collision");
    assert_eq!(base.id(), before);
    assert_eq!(base.get(&path("fine")), None);
}

#[test]
fn remove_prunes_empty_directories() {
    let mut m = Manifest::from_entries([file("a/b/c.txt", "c"), file("a/d.txt", "d")]).unwrap();
    let empty_tree = Manifest::new().tree_hash();
    m.remove(&path("a/b/c.txt")).unwrap();
    assert!(!m.is_directory(&path("a/b")));
    m.remove(&path("a/d.txt")).unwrap();
    assert!(m.is_empty());
    assert_eq!(m.tree_hash(), empty_tree);
    assert_eq!(
        m.remove(&path("a/d.txt")).unwrap_err(),
        ManifestError::NotFound {
            path: path("a/d.txt")
        }
    );
}

#[test]
fn explicit_directories_hold_files_and_can_lose_their_marker() {
    let mut m = Manifest::new();
    m.insert(FileEntry::directory(path("assets"))).unwrap();
    m.insert(file("assets/logo.svg", "<svg/>")).unwrap();
    assert_eq!(m.len(), 2);
    assert_eq!(m.get(&path("assets")).unwrap().kind, FileKind::Directory);
    m.remove(&path("assets")).unwrap();
    assert!(m.is_directory(&path("assets")));
    assert_eq!(m.get(&path("assets")), None);
    assert_eq!(m.len(), 1);
}

#[test]
fn shape_rules_are_typed_errors_and_change_nothing() {
    let mut m =
        Manifest::from_entries([file("src/app.ts", "x"), with_id(file("README.md", "r"), 1)])
            .unwrap();
    let before = m.id();
    let cases: Vec<(FileEntry, &str)> = vec![
        (file("src/app.ts/inner.ts", ""), "manifest.parent_is_file"),
        (file("src", ""), "manifest.kind_conflict"),
        (
            FileEntry::directory(path("src/app.ts")),
            "manifest.kind_conflict",
        ),
        (file("readme.md", ""), "manifest.portable_key_collision"),
        (file("SRC/x.ts", ""), "manifest.portable_key_collision"),
        (with_id(file("other.md", ""), 1), "manifest.duplicate_id"),
    ];
    for (entry, code) in cases {
        let err = m.insert(entry.clone()).unwrap_err();
        assert_eq!(err.code(), code, "{entry:?}");
        assert_eq!(m.id(), before);
    }
    let err = m.insert(file("readme.md", "")).unwrap_err();
    assert_eq!(
        err.to_string(),
        "readme.md collides with README.md on case-insensitive file systems"
    );
    // Same id at the same path is a replacement, not a duplicate.
    m.insert(with_id(file("README.md", "new"), 1)).unwrap();
    assert_eq!(m.path_of(&FileId::from_u128(1)), Some(&path("README.md")));
}

#[test]
fn unicode_normalisation_collisions_are_refused() {
    let mut m = Manifest::from_entries([file("caf\u{e9}.txt", "")]).unwrap();
    let err = m.insert(file("cafe\u{301}.txt", "")).unwrap_err();
    assert_eq!(err.code(), "manifest.portable_key_collision");
}

#[test]
fn limits_are_enforced() {
    let limits = ManifestLimits {
        max_files: 2,
        max_file_bytes: 10,
        max_total_bytes: 15,
        max_path_bytes: 12,
    };
    let mut m = Manifest::with_limits(limits);
    m.insert(file("a", "0123456789")).unwrap();
    assert_eq!(
        m.insert(file("b", "01234567890")).unwrap_err().code(),
        "manifest.file_too_large"
    );
    assert_eq!(
        m.insert(file("b", "012345")).unwrap_err().code(),
        "manifest.total_too_large"
    );
    assert_eq!(
        m.insert(file("long/path.txt", "")).unwrap_err().code(),
        "manifest.path_too_long"
    );
    m.insert(file("b", "01234")).unwrap();
    let err = m.insert(file("c", "")).unwrap_err();
    assert_eq!(err, ManifestError::TooManyFiles { count: 3, limit: 2 });
    assert_eq!(
        err.to_string(),
        "the project would have 3 entries; the limit is 2"
    );
    // Replacing stays within the count.
    m.insert(file("a", "")).unwrap();
    assert_eq!((m.len(), m.total_bytes()), (2, 5));
}

#[test]
fn diff_reports_each_kind_of_change() {
    let a = Manifest::from_entries([
        with_id(file("src/old.ts", "moved"), 1),
        with_id(file("src/edit.ts", "v1"), 2),
        with_id(file("gone.txt", "bye"), 3),
        with_id(file("img.dat", "text for now"), 4),
        file("anon/a.txt", "same bytes"),
    ])
    .unwrap();
    let mut b = a.successor();
    b.remove(&path("src/old.ts")).unwrap();
    b.insert(with_id(file("lib/new.ts", "moved"), 1)).unwrap();
    b.insert(with_id(file("src/edit.ts", "v2"), 2)).unwrap();
    b.remove(&path("gone.txt")).unwrap();
    let binary = FileEntry::from_content(path("img.dat"), b"\0\x01").with_id(FileId::from_u128(4));
    b.insert(binary).unwrap();
    b.remove(&path("anon/a.txt")).unwrap();
    b.insert(file("anon/b.txt", "same bytes")).unwrap();
    b.insert(file("added.md", "hi")).unwrap();

    let diff = a.diff(&b);
    let summary: Vec<(&str, &str)> = diff
        .changes
        .iter()
        .map(|change| {
            let op = match change {
                Change::Added { .. } => "added",
                Change::KindChanged { .. } => "kind",
                Change::Modified { .. } => "modified",
                Change::Removed { .. } => "removed",
                Change::Renamed { .. } => "renamed",
            };
            (op, change.path().as_str())
        })
        .collect();
    assert_eq!(
        summary,
        vec![
            ("added", "added.md"),
            ("renamed", "anon/b.txt"),
            ("removed", "gone.txt"),
            ("kind", "img.dat"),
            ("renamed", "lib/new.ts"),
            ("modified", "src/edit.ts"),
        ]
    );
    assert_eq!(a.apply(&diff).unwrap(), b);
    assert!(a.diff(&a).is_empty());
}

#[test]
fn apply_checks_base_target_and_old_entries() {
    let a = Manifest::from_entries([file("a.txt", "1")]).unwrap();
    let mut b = a.successor();
    b.insert(file("a.txt", "2")).unwrap();
    let diff = a.diff(&b);
    let err = b.apply(&diff).unwrap_err();
    assert_eq!(err.code(), "manifest.base_mismatch");

    let mut forged = diff.clone();
    forged.target_version += 1;
    assert_eq!(
        a.apply(&forged).unwrap_err().code(),
        "manifest.target_mismatch"
    );

    // The same changes against a manifest that holds something else.
    let other = Manifest::from_entries([file("a.txt", "other")]).unwrap();
    let err = other.apply_changes(&diff.changes).unwrap_err();
    assert_eq!(err.code(), "manifest.change_conflict");
    assert!(
        err.to_string().starts_with("change at a.txt expects text "),
        "{err}"
    );
}

#[test]
fn file_replaced_by_directory_and_back() {
    let a = Manifest::from_entries([file("x", "file")]).unwrap();
    let b = Manifest::from_entries([file("x/inner", "dir now")]).unwrap();
    assert_eq!(a.apply(&a.diff(&b)).unwrap(), b);
    assert_eq!(b.apply(&b.diff(&a)).unwrap(), a);
}

#[test]
fn swapped_paths_round_trip() {
    let a =
        Manifest::from_entries([with_id(file("a", "A"), 1), with_id(file("b", "B"), 2)]).unwrap();
    let b =
        Manifest::from_entries([with_id(file("a", "B"), 2), with_id(file("b", "A"), 1)]).unwrap();
    let diff = a.diff(&b);
    assert!(
        diff.changes
            .iter()
            .all(|c| matches!(c, Change::Renamed { .. }))
    );
    assert_eq!(a.apply(&diff).unwrap(), b);
}

#[test]
fn serde_round_trip_revalidates() {
    let m = Manifest::from_entries([
        with_id(file("src/a.ts", "a"), 9),
        FileEntry::directory(path("d")),
    ])
    .unwrap()
    .with_header(3, None);
    let json = serde_json::to_string(&m).unwrap();
    let back: Manifest = serde_json::from_str(&json).unwrap();
    assert_eq!(back, m);
    let bad = r#"{"version":1,"entries":[
        {"path":"a","kind":"text","size":0,"hash":"af1349b9f5f9a1a6a0404dea36dcc9499bcb25c9adc112b7cc9a93cae41f3262"},
        {"path":"A","kind":"text","size":0,"hash":"af1349b9f5f9a1a6a0404dea36dcc9499bcb25c9adc112b7cc9a93cae41f3262"}]}"#;
    let err = serde_json::from_str::<Manifest>(bad).unwrap_err();
    assert!(err.to_string().contains("collides"), "{err}");
}

#[test]
fn every_error_message_names_its_values() {
    let id = FileId::from_u128(1);
    let h = ManifestId(ContentHash::of(b""));
    let cases: Vec<(ManifestError, &str)> = vec![
        (
            ManifestError::BaseMismatch {
                expected: h,
                actual: h,
            },
            "diff starts from manifest af1349b9f5f9a1a6a0404dea36dcc9499bcb25c9adc112b7cc9a93cae41f3262, but this manifest is af1349b9f5f9a1a6a0404dea36dcc9499bcb25c9adc112b7cc9a93cae41f3262",
        ),
        (
            ManifestError::DuplicateId {
                id,
                path: path("b"),
                existing: path("a"),
            },
            "file id 00000000-0000-0000-0000-000000000001 is already used by a, so b cannot take it",
        ),
        (
            ManifestError::KindConflict {
                path: path("a"),
                existing: "file",
                requested: "directory",
            },
            "a is a file and cannot become a directory",
        ),
        (
            ManifestError::FileTooLarge {
                path: path("a"),
                size: 11,
                limit: 10,
            },
            "a is 11 bytes; the limit per file is 10",
        ),
        (ManifestError::NotFound { path: path("a") }, "no entry at a"),
        (
            ManifestError::ParentIsFile {
                path: path("a/b"),
                parent: path("a"),
            },
            "a/b needs directory a, but a is a file",
        ),
        (
            ManifestError::PathTooLong {
                path: path("abc"),
                len: 3,
                limit: 2,
            },
            "abc is 3 bytes long; the limit is 2",
        ),
        (
            ManifestError::TotalTooLarge {
                bytes: 20,
                limit: 15,
            },
            "the project would hold 20 bytes; the limit is 15",
        ),
    ];
    for (err, message) in cases {
        assert_eq!(err.to_string(), message);
        assert!(err.code().starts_with("manifest."));
    }
}

/// A small random project edit: what the property tests do to a manifest.
#[derive(Debug, Clone)]
enum Edit {
    Write {
        name: usize,
        content: u8,
        id: Option<u128>,
    },
    Remove {
        index: usize,
    },
    Rename {
        index: usize,
        name: usize,
    },
    Dir {
        name: usize,
    },
}

const NAMES: &[&str] = &[
    "a",
    "b",
    "a/b",
    "a/c",
    "a/b/c",
    "a/b/d",
    "src/app.ts",
    "src/lib/x.ts",
    "src/lib/y.ts",
    "z",
    "d/e/f/g",
    "a-b",
    "a.b",
];

fn edit() -> impl Strategy<Value = Edit> {
    prop_oneof![
        (0..NAMES.len(), 0u8..4, proptest::option::of(0u128..6))
            .prop_map(|(name, content, id)| Edit::Write { name, content, id }),
        (0usize..32).prop_map(|index| Edit::Remove { index }),
        (0usize..32, 0..NAMES.len()).prop_map(|(index, name)| Edit::Rename { index, name }),
        (0..NAMES.len()).prop_map(|name| Edit::Dir { name }),
    ]
}

/// Applies an edit when the manifest allows it; refused edits change nothing.
fn perform(m: &mut Manifest, edit: &Edit) {
    match edit {
        Edit::Write { name, content, id } => {
            let mut entry =
                FileEntry::from_content(path(NAMES[*name]), &[b'x'; 3][..usize::from(*content)]);
            entry.id = id.map(FileId::from_u128);
            let before = m.id();
            if m.insert(entry).is_err() {
                assert_eq!(m.id(), before);
            }
        }
        Edit::Remove { index } => {
            let entries = m.entries();
            if !entries.is_empty() {
                m.remove(&entries[index % entries.len()].path).unwrap();
            }
        }
        Edit::Rename { index, name } => {
            let entries = m.entries();
            if !entries.is_empty() {
                let old = entries[index % entries.len()].clone();
                let mut candidate = m.clone();
                candidate.remove(&old.path).unwrap();
                let moved = FileEntry {
                    path: path(NAMES[*name]),
                    ..old
                };
                if candidate.insert(moved).is_ok() {
                    *m = candidate;
                }
            }
        }
        Edit::Dir { name } => {
            let _ = m.insert(FileEntry::directory(path(NAMES[*name])));
        }
    }
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(512))]

    #[test]
    fn apply_of_diff_reproduces_the_target(
        setup in proptest::collection::vec(edit(), 0..24),
        edits in proptest::collection::vec(edit(), 0..24),
    ) {
        let mut a = Manifest::new();
        for e in &setup {
            perform(&mut a, e);
        }
        let mut b = a.successor();
        for e in &edits {
            perform(&mut b, e);
        }
        let forward = a.diff(&b);
        prop_assert_eq!(a.apply(&forward).unwrap(), b.clone());
        let backward = b.diff(&a);
        prop_assert_eq!(b.apply(&backward).unwrap(), a.clone());
        // The diff is itself a faithful, order-independent description.
        let mut reversed = forward.clone();
        reversed.changes.reverse();
        prop_assert_eq!(a.apply(&reversed).unwrap(), b.clone());
        let json = serde_json::to_string(&forward).unwrap();
        prop_assert_eq!(serde_json::from_str::<Diff>(&json).unwrap(), forward);
    }

    #[test]
    fn id_does_not_depend_on_insertion_order(
        edits in proptest::collection::vec(edit(), 0..24),
        seed in any::<u64>(),
    ) {
        let mut m = Manifest::new();
        for e in &edits {
            perform(&mut m, e);
        }
        let mut entries = m.entries();
        // A seeded shuffle.
        let mut state = seed | 1;
        for i in (1..entries.len()).rev() {
            state ^= state << 13;
            state ^= state >> 7;
            state ^= state << 17;
            entries.swap(i, (state % (i as u64 + 1)) as usize);
        }
        let rebuilt = Manifest::from_entries(entries).unwrap();
        prop_assert_eq!(rebuilt.id(), m.id());
        prop_assert_eq!(rebuilt.len(), m.len());
        prop_assert_eq!(rebuilt.total_bytes(), m.total_bytes());
    }
}
