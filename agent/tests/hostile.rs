//! A hostile corpus against the agent: paths and planted symlinks crafted
//! to make it write outside its root. Zero writes outside (a sentinel
//! directory beside the root is compared before and after), each refusal
//! is a typed error with a clear message, and the rest still syncs.

#![allow(clippy::unwrap_used, clippy::expect_used)] // tests: a failure should stop at once

mod agent_support;
use velocity_sync_tools::testkit as support;

use std::collections::BTreeMap;
use std::os::unix::fs::symlink;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};

use agent_support::{Backend, Hosted, Running, agent_options, project_files, until_disk};
use support::{Peer, path, temp_dir};
use uuid::Uuid;
use velocity_sync_agent::{AgentError, Ignore, RootWriter};

/// A root and, beside it, an outside directory holding a sentinel file.
fn setup(name: &str) -> (PathBuf, PathBuf, RootWriter) {
    let base = temp_dir(name);
    let root = base.join("root");
    let outside = base.join("outside");
    std::fs::create_dir_all(&root).unwrap();
    std::fs::create_dir_all(&outside).unwrap();
    std::fs::write(outside.join("sentinel.txt"), "untouched").unwrap();
    let writer = RootWriter::open(&root, Ignore::default()).unwrap();
    (root, outside, writer)
}

/// Every path under `dir` with its content (links as `-> target`).
fn snapshot(dir: &Path) -> BTreeMap<String, String> {
    let mut out = BTreeMap::new();
    for entry in std::fs::read_dir(dir).unwrap().flatten() {
        let path = entry.path();
        let meta = std::fs::symlink_metadata(&path).unwrap();
        let name = path.file_name().unwrap().to_string_lossy().into_owned();
        if meta.file_type().is_symlink() {
            let target = std::fs::read_link(&path).unwrap();
            out.insert(name, format!("-> {}", target.display()));
        } else if meta.is_dir() {
            for (k, v) in snapshot(&path) {
                out.insert(format!("{name}/{k}"), v);
            }
        } else {
            out.insert(name, std::fs::read_to_string(&path).unwrap_or_default());
        }
    }
    out
}

#[test]
fn paths_that_leave_the_root_are_refused_with_their_rule() {
    let (root, outside, writer) = setup("hostile-paths");
    let before = snapshot(&outside);
    let long = "a".repeat(256);
    let deep = vec!["d"; 2100].join("/");
    let cases: Vec<(&str, &str)> = vec![
        ("../outside/pwn.txt", "path.parent_segment"),
        ("src/../../outside/pwn.txt", "path.parent_segment"),
        ("/etc/pwn.txt", "path.absolute"),
        ("//server/share/pwn.txt", "path.absolute"),
        ("C:/pwn.txt", "path.drive_prefix"),
        ("src\\..\\..\\pwn.txt", "path.backslash"),
        ("./pwn.txt", "path.dot_segment"),
        ("src//pwn.txt", "path.empty_segment"),
        ("CON", "path.reserved_name"),
        ("src/nul.txt", "path.reserved_name"),
        ("com1.js", "path.reserved_name"),
        ("trailing.", "path.trailing_dot_or_space"),
        ("nul\0byte", "path.control_character"),
        (&long, "path.segment_too_long"),
        (&deep, "path.too_long"),
        ("", "path.empty"),
    ];
    for (raw, code) in &cases {
        let error = writer.write_str(raw, b"pwn", false).unwrap_err();
        assert_eq!(error.code(), *code, "{raw:?}: {error}");
        assert!(
            matches!(error, AgentError::Path(_)),
            "{raw:?} refused as a path: {error}"
        );
    }
    assert_eq!(snapshot(&outside), before);
    assert!(snapshot(&root).is_empty(), "{:?}", snapshot(&root));
    // The writer still works for a good path.
    writer.write_str("src/ok.ts", b"ok", false).unwrap();
    assert_eq!(std::fs::read(root.join("src/ok.ts")).unwrap(), b"ok");
}

#[test]
fn planted_symlinks_are_replaced_never_followed() {
    let (root, outside, writer) = setup("hostile-links");
    let before = snapshot(&outside);
    // A directory link pointing out of the root.
    symlink(&outside, root.join("out")).unwrap();
    writer.write_str("out/pwn.txt", b"inside", false).unwrap();
    assert!(root.join("out").symlink_metadata().unwrap().is_dir());
    assert_eq!(std::fs::read(root.join("out/pwn.txt")).unwrap(), b"inside");
    // A link at the file itself, pointing at the sentinel.
    symlink(outside.join("sentinel.txt"), root.join("file.txt")).unwrap();
    writer.write_str("file.txt", b"mine", false).unwrap();
    assert!(root.join("file.txt").symlink_metadata().unwrap().is_file());
    // A relative link climbing out, nested.
    std::fs::create_dir_all(root.join("a")).unwrap();
    symlink("../../outside", root.join("a/b")).unwrap();
    writer.write_str("a/b/c/pwn.txt", b"x", false).unwrap();
    // A directory link to another directory inside the root: replaced too,
    // so the real directory keeps its own content.
    std::fs::create_dir_all(root.join("real")).unwrap();
    std::fs::write(root.join("real/keep.txt"), "keep").unwrap();
    symlink(root.join("real"), root.join("alias")).unwrap();
    writer.write_str("alias/new.txt", b"new", false).unwrap();
    assert!(root.join("alias").symlink_metadata().unwrap().is_dir());
    assert!(!root.join("real/new.txt").exists());
    // Removing and reading through a link touch nothing behind it.
    symlink(&outside, root.join("gone")).unwrap();
    assert!(!writer.remove(&path("gone/sentinel.txt")).unwrap());
    assert!(writer.read(&path("gone/sentinel.txt")).unwrap().is_none());
    assert_eq!(snapshot(&outside), before);
}

#[test]
fn a_symlink_swapped_in_during_writes_never_carries_one_outside() {
    let (root, outside, writer) = setup("hostile-race");
    let before = snapshot(&outside);
    let stop = Arc::new(AtomicBool::new(false));
    let swapper = {
        let stop = Arc::clone(&stop);
        let (root, outside) = (root.clone(), outside.clone());
        std::thread::spawn(move || {
            let dir = root.join("race");
            let link = root.join("race-link");
            let mut swaps = 0u64;
            while !stop.load(Ordering::Relaxed) {
                // Put a link where the directory was, atomically, then back.
                let _ = std::fs::remove_file(&link);
                let _ = symlink(&outside, &link);
                let _ = std::fs::remove_dir_all(&dir);
                let _ = std::fs::rename(&link, &dir);
                let _ = std::fs::remove_file(&dir);
                let _ = std::fs::create_dir(&dir);
                swaps += 1;
            }
            swaps
        })
    };
    let mut written = 0;
    let mut refused = 0;
    for i in 0..400 {
        match writer.write_str(&format!("race/f{i}.txt"), b"x", false) {
            Ok(_) => written += 1,
            Err(error) => {
                assert!(
                    matches!(error.code(), "agent.raced" | "agent.io"),
                    "{error}"
                );
                refused += 1;
            }
        }
    }
    stop.store(true, Ordering::Relaxed);
    let swaps = swapper.join().unwrap();
    assert!(swaps > 0 && written + refused == 400);
    assert_eq!(
        snapshot(&outside),
        before,
        "{written} written, {refused} refused"
    );
}

#[test]
fn case_and_unicode_collisions_are_refused() {
    let (root, _outside, writer) = setup("hostile-collide");
    std::fs::write(root.join("README.md"), "local").unwrap();
    let error = writer.write_str("readme.md", b"x", false).unwrap_err();
    assert_eq!(error.code(), "agent.collision");
    assert!(error.to_string().contains("README.md"), "{error}");
    std::fs::write(root.join("caf\u{e9}.txt"), "nfc").unwrap();
    let error = writer
        .write_str("cafe\u{301}.txt", b"x", false)
        .unwrap_err();
    assert_eq!(error.code(), "agent.collision");
    // The same name is not a collision with itself.
    writer.write_str("README.md", b"new", false).unwrap();
    assert_eq!(std::fs::read(root.join("README.md")).unwrap(), b"new");
}

#[test]
fn ignored_paths_are_not_owned() {
    let (root, _outside, writer) = setup("hostile-ignored");
    for raw in [
        "node_modules/react/index.js",
        ".git/config",
        "dist/app.js",
        ".velocity-sync/state.json",
    ] {
        let error = writer.write_str(raw, b"x", false).unwrap_err();
        assert_eq!(error.code(), "agent.ignored", "{raw}");
    }
    assert!(snapshot(&root).is_empty());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn hostile_messages_through_the_server_write_nothing_outside_and_the_rest_syncs() {
    let Some(server) = Hosted::start("hostile-server", Backend::from_env()).await else {
        return;
    };
    let project = Uuid::from_u128(0xB1);
    let base = temp_dir("hostile-server-disk");
    let root = base.join("root");
    let outside = base.join("outside");
    std::fs::create_dir_all(&root).unwrap();
    std::fs::create_dir_all(&outside).unwrap();
    std::fs::write(outside.join("sentinel.txt"), "untouched").unwrap();
    let before = snapshot(&outside);
    // A link planted where the project has a directory.
    symlink(&outside, root.join("src")).unwrap();

    let mut editor = Peer::join(server.addr, project, "editor", 1).await;
    for raw in [
        r#"{"event":"file:update","payload":{"path":"../outside/pwn.txt","content":"pwn"}}"#,
        r#"{"event":"file:update","payload":{"path":"/../../outside/pwn.txt","content":"pwn"}}"#,
        r#"{"v":1,"event":"file:create","payload":{"id":"7c9e6679-7425-40de-944b-e07fc1f90ae7","path":"CON","seq":1,"content":{"text":"x"}}}"#,
    ] {
        let code = editor.raw_expect_error(raw.to_owned()).await;
        assert!(
            code.starts_with("path.") || code.starts_with("protocol."),
            "{code}"
        );
    }
    editor
        .client
        .create(path("package.json"), Some(b"{}".to_vec()));
    editor
        .client
        .create(path("src/main.ts"), Some(b"main".to_vec()));
    editor
        .client
        .create(path("node_modules/evil/index.js"), Some(b"evil".to_vec()));
    editor.settle().await;

    let agent = Running::start(agent_options(&server.url(), project, &root));
    agent.until_event("Synced").await;
    let mut expected = project_files(&editor.client);
    expected.remove("node_modules/evil/index.js");
    until_disk(&root, &expected, &[]).await;
    let ignored = agent.until_event("Ignored").await;
    assert!(ignored.contains("node_modules/evil/index.js"), "{ignored}");
    assert!(root.join("src").symlink_metadata().unwrap().is_dir());
    agent.stop().await;
    assert_eq!(snapshot(&outside), before);
}

#[test]
fn the_executable_bit_is_written_as_asked_whatever_was_there() {
    use std::os::unix::fs::PermissionsExt;
    let (root, _outside, writer) = setup("exec-bit");
    let mode = |name: &str| {
        std::fs::metadata(root.join(name))
            .unwrap()
            .permissions()
            .mode()
            & 0o777
    };
    writer
        .write_str("bin/dev.sh", b"#!/bin/sh\n", true)
        .unwrap();
    assert_eq!(mode("bin/dev.sh"), 0o755);
    writer
        .write_str("bin/dev.sh", b"#!/bin/sh\n", false)
        .unwrap();
    assert_eq!(mode("bin/dev.sh"), 0o644);
    let (_, executable, _) = writer.read(&path("bin/dev.sh")).unwrap().unwrap();
    assert!(!executable);
}

#[test]
fn new_names_appear_whole_and_leave_no_temp_names() {
    // New names go in as unnamed files linked into place (O_TMPFILE where
    // the file system has it); replacements as temp files renamed over.
    // Either way only the final names are left, each with its content and
    // the stamp the record says.
    let (root, outside, writer) = setup("new-names");
    let before = snapshot(&outside);
    let mut written = BTreeMap::new();
    for k in 0..40 {
        let name = format!("src/d{}/f{k}.ts", k % 4);
        let content = format!("export const n = {k};\n").repeat(k + 1);
        let record = writer
            .write_str(&name, content.as_bytes(), k % 7 == 0)
            .unwrap();
        written.insert(name, (content, record));
    }
    // A replacement of a name that is there, and one that is a link now.
    std::fs::remove_file(root.join("src/d1/f1.ts")).unwrap();
    symlink(outside.join("sentinel.txt"), root.join("src/d1/f1.ts")).unwrap();
    writer
        .write_str("src/d1/f1.ts", b"replaced", false)
        .unwrap();
    writer.write_str("src/d0/f0.ts", b"again", true).unwrap();
    let disk = snapshot(&root);
    assert!(
        disk.keys().all(|k| !k
            .rsplit('/')
            .next()
            .unwrap()
            .starts_with(velocity_sync_agent::writer::TEMP_PREFIX)),
        "{disk:#?}"
    );
    assert_eq!(disk.len(), 40);
    assert_eq!(disk["src/d1/f1.ts"], "replaced");
    assert_eq!(disk["src/d0/f0.ts"], "again");
    for (name, (content, record)) in &written {
        if name == "src/d1/f1.ts" || name == "src/d0/f0.ts" {
            continue;
        }
        assert_eq!(&disk[name], content);
        assert_eq!(
            writer.stamp(&path(name)).unwrap(),
            Some(record.stamp),
            "{name}"
        );
        let (_, executable, _) = writer.read(&path(name)).unwrap().unwrap();
        assert_eq!(executable, record.executable, "{name}");
    }
    assert_eq!(snapshot(&outside), before);
}
