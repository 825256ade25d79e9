//! Two editors and an agent on one project over real sockets: they
//! converge, the manifest and blobs are served over HTTP, and the
//! `project_files` row is brought up to date at the checkpoint.

#![allow(clippy::unwrap_used, clippy::expect_used)] // tests: a failure should stop at once

use velocity_sync_tools::testkit as support;

use support::{InProcess, Peer, eventually, header, http_get, options, path, token};
use uuid::Uuid;
use velocity_sync::{ContentHash, ProjectClient, TextOp, hash_both};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn two_editors_and_an_agent_converge() {
    let server = InProcess::start("converge", options()).await;
    let project = Uuid::from_u128(0x51);
    let mut alice = Peer::join(server.addr, project, "editor", 1).await;
    let mut bob = Peer::join(server.addr, project, "editor", 2).await;
    let mut agent = Peer::join(server.addr, project, "agent", 3).await;

    alice
        .client
        .create(path("src/a.ts"), Some(b"hello".to_vec()));
    alice.settle().await;
    bob.until_text("src/a.ts", "hello").await;
    agent.until_text("src/a.ts", "hello").await;

    // Concurrent edits at both ends of the text.
    let id = alice.id_at("src/a.ts").unwrap();
    alice
        .client
        .edit(id, TextOp::from_splice(5, 0, 0, "A").unwrap())
        .unwrap();
    bob.client
        .edit(id, TextOp::from_splice(5, 5, 0, "B").unwrap())
        .unwrap();
    alice.flush().await;
    bob.flush().await;
    for peer in [&mut alice, &mut bob, &mut agent] {
        peer.until_text("src/a.ts", "AhelloB").await;
        peer.settle().await;
    }
    assert!(alice.rejections.is_empty() && bob.rejections.is_empty());

    // The checkpoint writes the platform row: content, SHA-256, size, version.
    let db = server.db.clone();
    let (content, sha, size, version, updated_at): (String, String, i64, i64, String) =
        eventually("project_files row", || {
            let conn = rusqlite::Connection::open(&db).ok()?;
            conn.query_row(
                "SELECT content, content_hash, file_size, version, updated_at FROM project_files WHERE id = ?1",
                [id.to_string()],
                |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?, r.get(4)?)),
            )
            .ok()
            .filter(|row: &(String, String, i64, i64, String)| row.0 == "AhelloB")
        })
        .await;
    let (blake, sha256) = hash_both(b"AhelloB");
    assert_eq!(content, "AhelloB");
    assert_eq!(sha, sha256.to_string());
    assert_eq!(size, 7);
    assert!(version >= 2, "version {version}");
    assert!(updated_at.ends_with('Z'), "{updated_at}");

    // Manifest and blob over HTTP.
    let manifest = format!(
        "/projects/{project}/manifest?token={}",
        token(project, "viewer")
    );
    let (status, _, body) = http_get(server.addr, &manifest).await;
    assert_eq!(status, 200);
    let json: serde_json::Value = serde_json::from_slice(&body).unwrap();
    assert_eq!(json["entries"][0]["path"], "src/a.ts");
    assert_eq!(json["entries"][0]["hash"], blake.to_string());
    let (status, headers, body) = http_get(server.addr, &format!("/blobs/{blake}")).await;
    assert_eq!(status, 200);
    assert_eq!(body, b"AhelloB");
    assert_eq!(
        header(&headers, "etag"),
        Some(format!("\"{blake}\"").as_str())
    );
    assert_eq!(
        header(&headers, "cache-control"),
        Some("public, max-age=31536000, immutable")
    );
    let missing = ContentHash::of(b"never stored");
    assert_eq!(
        http_get(server.addr, &format!("/blobs/{missing}")).await.0,
        404
    );
    assert_eq!(http_get(server.addr, "/blobs/not-hex").await.0, 404);
    // The manifest needs a token too.
    assert_eq!(
        http_get(server.addr, &format!("/projects/{project}/manifest"))
            .await
            .0,
        401
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn hydration_batches_come_as_binary_frames_only_to_clients_that_offer_them() {
    let server = InProcess::start("binary-frames", options()).await;
    let project = Uuid::from_u128(0x52);
    let mut alice = Peer::join(server.addr, project, "editor", 1).await;
    // Text with escapes, a small binary file, and one large enough to be
    // sent in chunks.
    let big: Vec<u8> = (0..400_000u32)
        .map(|i| (i.wrapping_mul(2_654_435_761) >> 13) as u8)
        .collect();
    let files = [
        ("src/App.tsx", b"export const a = \"\\n\";\n".to_vec()),
        ("public/logo.png", vec![0x89, b'P', b'N', b'G', 0, 1, 2]),
        ("public/big.bin", big),
    ];
    for (name, bytes) in &files {
        alice.client.create(path(name), Some(bytes.clone()));
        alice.settle().await;
    }
    assert_eq!(alice.binary_frames, 0);

    let mut offers = ProjectClient::new(2);
    offers.set_binary_frames(true);
    let agent = Peer::rejoin(server.addr, project, "agent", offers).await;
    let text_only = Peer::join(server.addr, project, "viewer", 3).await;
    for (name, bytes) in &files {
        let hash = ContentHash::of(bytes);
        for peer in [&agent, &text_only] {
            let entry = peer.client.manifest().get(&path(name)).unwrap();
            assert_eq!(entry.hash, hash, "{name}");
            assert_eq!(&peer.client.blob(&hash).unwrap()[..], &bytes[..], "{name}");
        }
    }
    // Each batch is one binary frame (here one: binary clients get 1 MiB
    // batches, the big file whole where text needs chunks).
    assert!(agent.binary_frames >= 1, "{}", agent.binary_frames);
    assert_eq!(text_only.binary_frames, 0);
    assert!(agent.rejections.is_empty() && agent.errors.is_empty());
}
