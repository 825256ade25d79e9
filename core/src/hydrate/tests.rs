use proptest::prelude::*;

use super::*;
use crate::blob::MemoryBlobStore;
use crate::blob::{Blob, BlobStore, Verified};
use crate::entry::FileEntry;
use crate::manifest::Manifest;
use crate::path::FilePath;
use crate::protocol::{BulkUpdate, WireBlob, WireChunk, WireContent};

fn path(text: &str) -> FilePath {
    FilePath::parse(text).unwrap()
}

fn project(files: &[(&str, Vec<u8>)]) -> (Manifest, MemoryBlobStore) {
    let mut store = MemoryBlobStore::default();
    let mut manifest = Manifest::new();
    for (name, bytes) in files {
        store.insert(bytes.clone());
        manifest
            .insert(FileEntry::from_content(path(name), bytes))
            .unwrap();
    }
    (manifest, store)
}

/// `files`' plan with the default options, and its first batch.
fn first_batch(files: &[(&str, Vec<u8>)]) -> (HydrationPlan, BulkUpdate) {
    let (manifest, server) = project(files);
    let plan = plan(
        &manifest,
        |_| false,
        |_| false,
        &HydrationOptions::default(),
    );
    let batch = plan.materialize(0, &server).unwrap();
    (plan, batch)
}

/// Sends every batch of `plan` to a fresh hydrator; returns what it stored
/// and the files it reported ready.
fn hydrate_all(
    plan: &HydrationPlan,
    server: &MemoryBlobStore,
    client: &mut MemoryBlobStore,
) -> (Hydrator, Vec<FileEntry>) {
    let mut hydrator = Hydrator::new(plan.progress_total());
    let mut ready = Vec::new();
    for index in 0..plan.batches.len() {
        let batch = plan.materialize(index, server).unwrap();
        ready.extend(
            hydrator
                .receive(&batch, client)
                .unwrap()
                .into_iter()
                .map(|r| r.entry),
        );
    }
    (hydrator, ready)
}

#[test]
fn priority_table() {
    let cases = [
        ("package.json", Priority::Install),
        ("pnpm-lock.yaml", Priority::Install),
        ("packages/a/package.json", Priority::Rest),
        ("index.html", Priority::Config),
        ("vite.config.ts", Priority::Config),
        ("next.config.mjs", Priority::Config),
        ("tsconfig.node.json", Priority::Config),
        (".env.local", Priority::Config),
        ("src/main.tsx", Priority::Entry),
        ("src/App.tsx", Priority::Entry),
        ("app/layout.tsx", Priority::Entry),
        ("pages/_app.js", Priority::Entry),
        ("src/components/Button.tsx", Priority::Source),
        ("src/index.css", Priority::Source),
        ("public/favicon.ico", Priority::Source),
        ("docs/guide.md", Priority::Rest),
        ("README.md", Priority::Rest),
    ];
    for (name, expected) in cases {
        assert_eq!(priority(&path(name)), expected, "{name}");
    }
}

#[test]
fn critical_files_come_first_and_everything_arrives() {
    let (manifest, server) = project(&[
        ("README.md", b"readme".to_vec()),
        ("src/components/Button.tsx", b"button".to_vec()),
        ("src/main.tsx", b"main".to_vec()),
        ("vite.config.ts", b"config".to_vec()),
        ("package.json", b"{}".to_vec()),
        ("index.html", b"<html>".to_vec()),
    ]);
    let plan = plan(
        &manifest,
        |_| false,
        |_| false,
        &HydrationOptions::default(),
    );
    let order: Vec<&str> = plan.files.iter().map(|e| e.path.as_str()).collect();
    assert_eq!(
        order,
        [
            "package.json",
            "index.html",
            "vite.config.ts",
            "src/main.tsx",
            "src/components/Button.tsx",
            "README.md"
        ]
    );
    let mut client = MemoryBlobStore::default();
    let (hydrator, ready) = hydrate_all(&plan, &server, &mut client);
    assert_eq!(ready.len(), 6);
    assert_eq!(ready[0].path.as_str(), "package.json");
    assert!(hydrator.progress().is_complete());
    assert_eq!(hydrator.progress().bytes_done, manifest.total_bytes());
}

#[test]
fn shared_content_travels_once_and_known_content_not_at_all() {
    let same = b"export const shared = 1;\n".to_vec();
    let (manifest, server) = project(&[
        ("a.ts", same.clone()),
        ("b.ts", same.clone()),
        ("c.ts", b"other".to_vec()),
        ("d.ts", b"client has this".to_vec()),
    ]);
    let known = ContentHash::of(b"client has this");
    let plan = plan(
        &manifest,
        |_| false,
        |hash| *hash == known,
        &HydrationOptions::default(),
    );
    let blobs: usize = plan.batches.iter().map(|b| b.blobs.len()).sum();
    assert_eq!(blobs, 2);
    assert_eq!(plan.content_bytes, (same.len() + 5) as u64);
    let mut client = MemoryBlobStore::default();
    client.insert(b"client has this".to_vec());
    let (hydrator, ready) = hydrate_all(&plan, &server, &mut client);
    assert_eq!(ready.len(), 4);
    assert!(hydrator.progress().is_complete());
}

#[test]
fn large_files_are_chunked_and_reassembled() {
    let big: Vec<u8> = (0..700_000u32)
        .map(|i| (i.wrapping_mul(2_654_435_761) >> 13) as u8)
        .collect();
    let (manifest, server) = project(&[
        ("public/video.bin", big.clone()),
        ("package.json", b"{}".to_vec()),
    ]);
    let options = HydrationOptions {
        max_batch_bytes: 64 * 1024,
    };
    let plan = plan(&manifest, |_| false, |_| false, &options);
    assert!(plan.batches.len() >= 15, "{}", plan.batches.len());
    for index in 0..plan.batches.len() {
        let wire = serde_json::to_vec(&plan.materialize(index, &server).unwrap()).unwrap();
        assert!(
            wire.len() <= options.max_batch_bytes,
            "batch {index}: {}",
            wire.len()
        );
    }
    let mut client = MemoryBlobStore::default();
    let (hydrator, ready) = hydrate_all(&plan, &server, &mut client);
    assert_eq!(ready.len(), 2);
    assert_eq!(&client.get(&ContentHash::of(&big)).unwrap()[..], &big[..]);
    assert_eq!(hydrator.progress().bytes_done, big.len() as u64 + 2);
}

#[test]
fn resume_sends_only_what_is_missing() {
    let files: Vec<(String, Vec<u8>)> = (0..40)
        .map(|i| {
            (
                format!("src/f{i}.ts"),
                vec![b'a' + (i % 26) as u8; 3000 + i],
            )
        })
        .collect();
    let refs: Vec<(&str, Vec<u8>)> = files.iter().map(|(n, b)| (n.as_str(), b.clone())).collect();
    let (manifest, server) = project(&refs);
    let options = HydrationOptions {
        max_batch_bytes: 16 * 1024,
    };
    let first = plan(&manifest, |_| false, |_| false, &options);
    let mut client = MemoryBlobStore::default();
    let mut hydrator = Hydrator::new(first.progress_total());
    let mut have: Vec<FileEntry> = Vec::new();
    for index in 0..first.batches.len() / 2 {
        let batch = first.materialize(index, &server).unwrap();
        have.extend(
            hydrator
                .receive(&batch, &mut client)
                .unwrap()
                .into_iter()
                .map(|r| r.entry),
        );
    }
    assert!(!have.is_empty() && have.len() < 40);
    // Reconnect: the client says what it holds; the new plan skips it.
    let second = plan(&manifest, |e| have.contains(e), |h| client.has(h), &options);
    assert_eq!(second.files.len(), 40 - have.len());
    assert!(second.files.iter().all(|e| !have.contains(e)));
    let (_, rest) = hydrate_all(&second, &server, &mut client);
    assert_eq!(have.len() + rest.len(), 40);
    for entry in manifest.entries() {
        assert!(client.has(&entry.hash));
    }
}

#[test]
fn duplicates_are_harmless_and_tampering_is_caught() {
    let (manifest, server) = project(&[("a.txt", b"alpha".to_vec()), ("b.bin", vec![0, 1, 2])]);
    let plan = plan(
        &manifest,
        |_| false,
        |_| false,
        &HydrationOptions::default(),
    );
    let batch = plan.materialize(0, &server).unwrap();
    let mut client = MemoryBlobStore::default();
    let mut hydrator = Hydrator::new(plan.progress_total());
    assert_eq!(hydrator.receive(&batch, &mut client).unwrap().len(), 2);
    assert_eq!(hydrator.receive(&batch, &mut client).unwrap().len(), 0);
    assert_eq!(hydrator.progress().files_done, 2);
    assert_eq!(hydrator.progress().bytes_done, 8);

    let mut forged = batch.clone();
    forged.blobs[0].content = WireContent::Text("alphb".into());
    let mut fresh = MemoryBlobStore::default();
    let err = Hydrator::new(plan.progress_total())
        .receive(&forged, &mut fresh)
        .unwrap_err();
    assert_eq!(err.code(), "hydrate.hash_mismatch");
    assert!(!fresh.has(&ContentHash::of(b"alpha")));

    let mut bad = batch.clone();
    bad.blobs[1].content = WireContent::Base64("***".into());
    let err = Hydrator::new(plan.progress_total())
        .receive(&bad, &mut MemoryBlobStore::default())
        .unwrap_err();
    assert_eq!(err.code(), "hydrate.bad_base64");

    let chunk = WireChunk {
        hash: ContentHash::of(b"x"),
        size: 4,
        offset: 3,
        content: WireContent::Base64("AAAA".into()),
    };
    let bad_chunk = BulkUpdate {
        chunks: vec![chunk],
        blobs: vec![],
        ..batch.clone()
    };
    let err = Hydrator::new(plan.progress_total())
        .receive(&bad_chunk, &mut MemoryBlobStore::default())
        .unwrap_err();
    assert_eq!(err.code(), "hydrate.bad_chunk");
    assert_eq!(
        err.to_string(),
        format!(
            "chunk of {} at 3 (3 bytes) does not fit its 4-byte content",
            ContentHash::of(b"x")
        )
    );

    let huge = WireChunk {
        hash: ContentHash::of(b"x"),
        size: u64::MAX,
        offset: 0,
        content: WireContent::Base64("AAAA".into()),
    };
    let bomb = BulkUpdate {
        chunks: vec![huge],
        blobs: vec![],
        ..batch
    };
    let err = Hydrator::new(plan.progress_total())
        .receive(&bomb, &mut MemoryBlobStore::default())
        .unwrap_err();
    assert_eq!(err.code(), "hydrate.too_large");

    assert_eq!(
        plan.materialize(9, &server).unwrap_err().code(),
        "hydrate.no_such_batch"
    );
    assert_eq!(
        plan.materialize(0, &MemoryBlobStore::default())
            .unwrap_err()
            .code(),
        "store.missing"
    );
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(64))]

    /// Any project, any batch size: batches stay under the limit, and
    /// hydrating from nothing yields every entry exactly once.
    #[test]
    fn batches_fit_and_hydration_is_complete(
        sizes in proptest::collection::vec((0usize..40_000, any::<bool>(), 0u8..4), 1..30),
        limit in 4_096usize..60_000,
    ) {
        let files: Vec<(String, Vec<u8>)> = sizes
            .iter()
            .enumerate()
            .map(|(i, (size, binary, fill))| {
                let mut bytes: Vec<u8> = (0..*size).map(|j| b"ab\n\t\"\\"[(j + usize::from(*fill)) % 6]).collect();
                if *binary {
                    bytes.push(0);
                }
                (format!("dir{}/file{i}.txt", i % 3), bytes)
            })
            .collect();
        let refs: Vec<(&str, Vec<u8>)> = files.iter().map(|(n, b)| (n.as_str(), b.clone())).collect();
        let (manifest, server) = project(&refs);
        let options = HydrationOptions { max_batch_bytes: limit };
        let plan = plan(&manifest, |_| false, |_| false, &options);
        let mut client = MemoryBlobStore::default();
        let mut hydrator = Hydrator::new(plan.progress_total());
        let mut ready = Vec::new();
        for index in 0..plan.batches.len() {
            let batch = plan.materialize(index, &server).unwrap();
            let wire = serde_json::to_vec(&batch).unwrap();
            prop_assert!(wire.len() <= limit, "batch {} is {} > {}", index, wire.len(), limit);
            let decoded: BulkUpdate = serde_json::from_slice(&wire).unwrap();
            ready.extend(hydrator.receive(&decoded, &mut client).unwrap());
        }
        prop_assert_eq!(ready.len(), manifest.len());
        prop_assert!(hydrator.progress().is_complete());
        for entry in manifest.entries() {
            prop_assert!(client.has(&entry.hash));
        }
    }
}

#[test]
fn a_batch_carries_shared_bytes_and_serialises_them_as_text_or_base64() {
    let text: &[u8] = b"let a = \"x\";\n";
    let binary: &[u8] = &[0x89, b'P', b'N', b'G', 0, 1, 2];
    let (manifest, server) = project(&[("a.ts", text.to_vec()), ("b.png", binary.to_vec())]);
    let plan = plan(
        &manifest,
        |_| false,
        |_| false,
        &HydrationOptions::default(),
    );
    let batch = plan.materialize(0, &server).unwrap();
    // No copy: the store's own bytes.
    assert!(
        batch
            .blobs
            .iter()
            .all(|b| matches!(b.content, WireContent::Bytes(_)))
    );
    let json = serde_json::to_string(&batch).unwrap();
    let text_hash = ContentHash::of(text);
    assert!(json.contains(&format!(
        r#"{{"hash":"{text_hash}","text":"let a = \"x\";\n"}}"#
    )));
    assert!(json.contains(r#""base64":"iVBORwABAg==""#));
    // What a client reads back is text and base64, and hydrates the same.
    let read: BulkUpdate = serde_json::from_str(&json).unwrap();
    assert!(
        read.blobs
            .iter()
            .all(|b| !matches!(b.content, WireContent::Bytes(_)))
    );
    assert_eq!(serde_json::to_string(&read).unwrap(), json);
    let mut client = MemoryBlobStore::default();
    let ready = Hydrator::new(plan.progress_total())
        .receive(&read, &mut client)
        .unwrap();
    assert_eq!(ready.len(), 2);
    assert!(client.has(&text_hash) && client.has(&ContentHash::of(binary)));
    // Exactly one of `text` and `base64`.
    for blob in [
        format!(r#"{{"hash":"{text_hash}"}}"#),
        format!(r#"{{"hash":"{text_hash}","text":"a","base64":"YQ=="}}"#),
    ] {
        assert!(serde_json::from_str::<WireBlob>(&blob).is_err(), "{blob}");
    }
}

#[test]
fn contents_verified_ahead_are_stored_and_mismatches_still_refused() {
    let files = [
        ("a.ts", b"let a = 1;\n".to_vec()),
        ("b.png", vec![0x89, b'P', b'N', b'G', 0, 7]),
    ];
    let (plan, mut batch) = first_batch(&files);
    // One content tampered with on the way.
    let tampered = batch.blobs[1].hash;
    batch.blobs[1].content = WireContent::Bytes(Blob::from(&b"forged"[..]));
    batch.verify_contents();
    assert!(matches!(batch.blobs[0].content, WireContent::Verified(_)));
    assert!(matches!(batch.blobs[1].content, WireContent::Bytes(_)));
    let mut client = MemoryBlobStore::default();
    let mut hydrator = Hydrator::new(plan.progress_total());
    let error = hydrator.receive(&batch, &mut client).unwrap_err();
    assert_eq!(error.code(), "hydrate.hash_mismatch");
    assert!(client.has(&ContentHash::of(&files[0].1)) && !client.has(&tampered));
    // A verified content under another blob's hash is refused too.
    batch.blobs[1].content = WireContent::Verified(Verified::of(Blob::from(&b"other"[..])));
    let error = hydrator.receive(&batch, &mut client).unwrap_err();
    assert_eq!(error.code(), "hydrate.hash_mismatch");
    // Serialised, a verified content is the plain bytes it holds.
    let sent = serde_json::to_string(&batch.blobs[0]).unwrap();
    assert!(sent.contains(r#""text":"let a = 1;\n""#), "{sent}");
}

#[test]
fn a_whole_content_over_the_limit_is_refused_like_a_chunked_one() {
    let big = b"0123456789".to_vec();
    let (plan, batch) = first_batch(&[("a.ts", big.clone()), ("b.ts", b"ok".to_vec())]);
    let mut client = MemoryBlobStore::default();
    let error = Hydrator::new(plan.progress_total())
        .with_max_content_bytes(4)
        .receive(&batch, &mut client)
        .unwrap_err();
    assert_eq!(error.code(), "hydrate.too_large");
    assert!(!client.has(&ContentHash::of(&big)));
    assert!(client.has(&ContentHash::of(b"ok")), "the rest is kept");
}
