//! Every example in PROTOCOL.md decodes, in its direction, and survives a
//! round trip; every event name has an example.

#![allow(clippy::unwrap_used, clippy::expect_used)] // tests: a failure should stop at once

use std::collections::BTreeSet;

use velocity_sync::protocol::{ProtocolLimits, decode_client, decode_server};

fn examples() -> Vec<(String, String)> {
    let path = concat!(env!("CARGO_MANIFEST_DIR"), "/../PROTOCOL.md");
    let text = std::fs::read_to_string(path).expect("PROTOCOL.md at the repository root");
    let mut out = Vec::new();
    let mut lines = text.lines();
    while let Some(line) = lines.next() {
        if let Some(direction) = line.strip_prefix("```json ") {
            let body: Vec<&str> = lines
                .by_ref()
                .take_while(|l| !l.starts_with("```"))
                .collect();
            out.push((direction.trim().to_owned(), body.join("\n")));
        }
    }
    out
}

#[test]
fn every_example_decodes_and_round_trips() {
    let limits = ProtocolLimits::default();
    let mut names = BTreeSet::new();
    let examples = examples();
    assert!(examples.len() >= 15, "{} examples", examples.len());
    for (direction, json) in examples {
        match direction.as_str() {
            "client" => {
                let message = decode_client(json.as_bytes(), &limits)
                    .unwrap_or_else(|e| panic!("{json}\n{e}"));
                let again = decode_client(message.to_json().as_bytes(), &limits).unwrap();
                assert_eq!(again, message);
                names.insert(format!("client {}", message.name()));
            }
            "server" => {
                let message = decode_server(json.as_bytes(), &limits)
                    .unwrap_or_else(|e| panic!("{json}\n{e}"));
                let again = decode_server(message.to_json().as_bytes(), &limits).unwrap();
                assert_eq!(again, message);
                names.insert(format!("server {}", message.name()));
            }
            other => panic!("unknown direction {other}"),
        }
    }
    for expected in [
        "client sync:hello",
        "client file:update",
        "client file:create",
        "client file:delete",
        "client file:rename",
        "client presence",
        "server file:update",
        "server file:create",
        "server file:checkpoint",
        "server ack",
        "server error",
        "server sync:catch-up",
        "server file:bulk-update",
        "server presence",
        "server resync-required",
    ] {
        assert!(names.contains(expected), "no example of {expected}");
    }
}
