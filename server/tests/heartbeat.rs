//! Heartbeats: the server pings, and a peer that answers nothing (not even
//! a pong) is closed.

#![allow(clippy::unwrap_used, clippy::expect_used)] // tests: a failure should stop at once

use velocity_sync_tools::testkit as support;

use std::time::Duration;

use futures_util::StreamExt;
use support::{InProcess, WAIT, open, options, token};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;
use tokio_tungstenite::tungstenite::Message;
use uuid::Uuid;

fn fast_heartbeat() -> velocity_sync_server::Options {
    let mut options = options();
    options.heartbeat = Duration::from_millis(100);
    options
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_server_pings_a_connected_client() {
    let server = InProcess::start("ping", fast_heartbeat()).await;
    let project = Uuid::from_u128(0xE1);
    let mut ws = open(server.addr, project, &token(project, "viewer"))
        .await
        .unwrap();
    let deadline = tokio::time::Instant::now() + WAIT;
    loop {
        let left = deadline.saturating_duration_since(tokio::time::Instant::now());
        match tokio::time::timeout(left, ws.next()).await {
            Ok(Some(Ok(Message::Ping(_)))) => break,
            Ok(Some(Ok(_))) => {}
            other => panic!("no ping: {other:?}"),
        }
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_silent_peer_is_closed() {
    let server = InProcess::start("silent", fast_heartbeat()).await;
    let project = Uuid::from_u128(0xE2);
    // A WebSocket handshake by hand, then silence: no pongs, no frames.
    let mut tcp = TcpStream::connect(server.addr).await.unwrap();
    let request = format!(
        "GET /projects/{project}/ws?token={} HTTP/1.1\r\nHost: {}\r\nUpgrade: websocket\r\n\
         Connection: Upgrade\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n\
         Sec-WebSocket-Version: 13\r\n\r\n",
        token(project, "viewer"),
        server.addr
    );
    tcp.write_all(request.as_bytes()).await.unwrap();
    let mut received = Vec::new();
    let mut buf = [0u8; 4096];
    loop {
        match tokio::time::timeout(WAIT, tcp.read(&mut buf)).await {
            Ok(Ok(0)) | Ok(Err(_)) => break,
            Ok(Ok(read)) => received.extend_from_slice(&buf[..read]),
            Err(_) => panic!("a silent peer was not closed within {WAIT:?}"),
        }
    }
    let text = String::from_utf8_lossy(&received);
    assert!(text.starts_with("HTTP/1.1 101"), "{text}");
}
