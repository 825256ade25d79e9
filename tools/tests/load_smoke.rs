//! The load tool's engine against a real server over loopback: every
//! keystroke typed by every editor reaches its agent, and each latency is
//! measured once; with a real agent, every keystroke reaches the disk.
//! (Its speed is measured by the `velocity-sync-load`
//! binary, never asserted here.)
#![allow(clippy::unwrap_used, clippy::expect_used)]

use velocity_sync_tools::testkit as support;

use std::time::Duration;

use support::{InProcess, SECRET, options};
use velocity_sync_tools::load::{LoadOptions, run};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_keystroke_reaches_its_agent() {
    let server = InProcess::start("load", options()).await;
    let options = LoadOptions {
        addr: server.addr,
        secret: SECRET.to_vec(),
        sessions: 4,
        keys_per_second: 20.0,
        duration: Duration::from_millis(500),
        connect_timeout: Duration::from_secs(3),
        disk_agent: None,
    };
    let report = run(&options).await.unwrap();
    assert_eq!(report.sessions, 4);
    assert_eq!(report.sent, 40);
    assert_eq!(report.received(), 40);
    let summary = report.summary().unwrap();
    assert!(summary.p50 <= summary.p99 && summary.p99 <= summary.max);
    // A second run against the same projects appends to their files.
    let again = run(&options).await.unwrap();
    assert_eq!(again.received(), 40);
    assert!(report.disk.is_none());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_keystroke_reaches_the_real_agents_disk() {
    let server = InProcess::start("load-disk", options()).await;
    let root = support::temp_dir("load-disk-root");
    let options = LoadOptions {
        addr: server.addr,
        secret: SECRET.to_vec(),
        sessions: 3,
        keys_per_second: 20.0,
        duration: Duration::from_millis(500),
        connect_timeout: Duration::from_secs(3),
        disk_agent: Some(root.clone()),
    };
    let report = run(&options).await.unwrap();
    // The sessions are measured as without it.
    assert_eq!(
        (report.sessions, report.sent, report.received()),
        (3, 30, 30)
    );
    let disk = report.disk.unwrap();
    assert_eq!((disk.sessions, disk.sent, disk.received()), (1, 10, 10));
    let summary = disk.summary().unwrap();
    assert!(summary.p50 <= summary.p99 && summary.p99 <= summary.max);
    // What the agent wrote: the template's file and the ten keystrokes.
    let written = std::fs::read_to_string(root.join("src/App.tsx")).unwrap();
    assert_eq!(written, "export default function App() {}\nxxxxxxxxxx");
    let _ = std::fs::remove_dir_all(&root);
}
