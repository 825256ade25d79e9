//! The load tool's engine against a real server over loopback: every
//! keystroke typed by every editor reaches its agent, and each latency is
//! measured once. (Its speed is measured by the `velocity-sync-load`
//! binary, never asserted here.)
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod support;

use std::time::Duration;

use support::{InProcess, SECRET, options};
use velocity_sync_examples::load::{LoadOptions, run};

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
}
