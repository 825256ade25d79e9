//! A client that stops reading cannot hold the server: once its bounded
//! send queue is full it is dropped, and it catches up on reconnect.

#![allow(clippy::unwrap_used, clippy::expect_used)] // tests: a failure should stop at once

use velocity_sync_tools::testkit as support;

use futures_util::StreamExt;
use support::{InProcess, Peer, WAIT, options, path};
use tokio_tungstenite::tungstenite::Message;
use uuid::Uuid;

const FILES: usize = 100;
const FILE_BYTES: usize = 400 << 10;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_client_that_stops_reading_is_dropped_and_catches_up_later() {
    let mut options = options();
    options.send_queue = 8;
    let server = InProcess::start("slow", options).await;
    let project = Uuid::from_u128(0xD1);

    // The slow one syncs, then reads nothing.
    let mut slow = Peer::join(server.addr, project, "viewer", 50).await;

    // 40 MB of broadcasts: more than the socket buffers hold, so the
    // server's writes to `slow` block and its queue fills.
    let mut editor = Peer::join(server.addr, project, "editor", 1).await;
    for i in 0..FILES {
        let content = vec![b'a' + (i % 26) as u8; FILE_BYTES];
        editor
            .client
            .create(path(&format!("f{i:03}.txt")), Some(content));
        // The editor reads as it goes (its own queue is bounded too).
        editor.settle().await;
    }

    // Reading now: the stream ends (the server closed it) before every
    // event has arrived.
    let mut frames = 0usize;
    let deadline = tokio::time::Instant::now() + WAIT;
    loop {
        let left = deadline.saturating_duration_since(tokio::time::Instant::now());
        match tokio::time::timeout(left, slow.ws.next()).await {
            Err(_) => panic!("the slow client was not dropped ({frames} frames read)"),
            Ok(None | Some(Err(_)) | Some(Ok(Message::Close(_)))) => break,
            Ok(Some(Ok(Message::Text(_)))) => frames += 1,
            Ok(Some(Ok(_))) => {}
        }
    }
    assert!(
        frames < FILES + 1,
        "read {frames} frames: every event arrived"
    );

    // A reconnect catches up through the ladder (a replay of the events
    // it missed, from its last event number).
    assert_eq!(slow.client.event_number(), 0);
    let mut again = Peer::rejoin(server.addr, project, "viewer", slow.client).await;
    again.until(|c| c.manifest().len() == FILES).await;
    let id = again.id_at("f099.txt").unwrap();
    assert_eq!(again.client.content(&id).unwrap().len(), FILE_BYTES);
}
