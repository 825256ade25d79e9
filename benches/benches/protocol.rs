//! The sync protocol's hot paths: one keystroke through the whole server
//! path (JSON in, decode, transform, apply, encode, JSON out), a catch-up of
//! a client 1,000 ops behind, and the simulator's throughput.

#![allow(clippy::unwrap_used)] // a bench that fails should stop at once

#[path = "../../core/tests/harness/sim.rs"]
mod sim;

use std::time::{Duration, Instant};

use criterion::{Criterion, Throughput, black_box, criterion_group, criterion_main};
use velocity_sync::protocol::{
    ClientMessage, Edit, Hello, ProtocolLimits, UpdateRequest, decode_client,
};
use velocity_sync::{FileId, FilePath, ProjectClient, ProjectServer, Role, ServerConfig, TextOp};

/// A server holding one text file, with two editors and an agent connected.
fn project(text: &str) -> (ProjectServer, FileId) {
    let mut server = ProjectServer::new(ServerConfig::default());
    for (client, role) in [(1, Role::Editor), (2, Role::Editor), (3, Role::Agent)] {
        server.connect(client, role);
    }
    let mut editor = ProjectClient::new(1);
    let id = editor.create(
        FilePath::parse("src/App.tsx").unwrap(),
        Some(text.as_bytes().to_vec()),
    );
    while let Some(message) = editor.poll_outbound() {
        if !matches!(message, ClientMessage::Hello(_)) {
            server.handle(1, message);
        }
    }
    while server.poll_outbound().is_some() {}
    (server, id)
}

/// `count` keystroke messages as JSON: two editors typing at once, the
/// second always one revision behind (so every other message transforms).
fn keystrokes(
    id: FileId,
    start_len: usize,
    start_rev: u64,
    count: usize,
    seq0: u64,
) -> Vec<(u64, String)> {
    let mut len = start_len;
    let mut rev = start_rev;
    (0..count)
        .map(|k| {
            let client = 1 + (k % 2) as u64;
            let (base, base_len) = if client == 1 {
                (rev, len)
            } else {
                (rev - 1, len - 1)
            };
            let op = TextOp::from_splice(base_len, base_len / 2, 0, "x").unwrap();
            let message = ClientMessage::Update(UpdateRequest {
                id,
                seq: seq0 + k as u64 / 2,
                base,
                edit: Edit::Op(op),
            });
            len += 1;
            rev += 1;
            (client, message.to_json())
        })
        .collect()
}

/// Two editors typing into one document on a server.
struct Typing {
    server: ProjectServer,
    id: FileId,
    len: usize,
    rev: u64,
    seq: u64,
}

impl Typing {
    /// A fresh ~10 KB document with one op applied, so the second editor can
    /// be a revision behind.
    fn fresh(limits: &ProtocolLimits) -> Self {
        let text = "fn main() {}\n".repeat(800);
        let (mut server, id) = project(&text);
        let len = text.chars().count();
        let warm = keystrokes(id, len, 0, 1, 1_000_000_000);
        server.handle(1, decode_client(warm[0].1.as_bytes(), limits).unwrap());
        while server.poll_outbound().is_some() {}
        Self {
            server,
            id,
            len: len + 1,
            rev: 1,
            seq: 1,
        }
    }

    fn next_messages(&mut self, count: usize) -> Vec<(u64, String)> {
        let messages = keystrokes(self.id, self.len, self.rev, count, self.seq);
        self.len += count;
        self.rev += count as u64;
        self.seq += count as u64 / 2 + 1;
        messages
    }
}

fn keystroke_path(c: &mut Criterion) {
    let limits = ProtocolLimits::default();
    let mut group = c.benchmark_group("protocol");
    group.throughput(Throughput::Elements(1));
    group.bench_function("keystroke_json_in_json_out", |b| {
        b.iter_custom(|iters| {
            let mut typing = Typing::fresh(&limits);
            let mut total = Duration::ZERO;
            let mut done = 0u64;
            while done < iters {
                if typing.len > 60_000 {
                    // Keep the document a realistic size.
                    typing = Typing::fresh(&limits);
                }
                let chunk = (iters - done).min(10_000) as usize;
                let messages = typing.next_messages(chunk);
                let started = Instant::now();
                for (client, json) in &messages {
                    let message = decode_client(json.as_bytes(), &limits).unwrap();
                    typing.server.handle(*client, message);
                    while let Some(out) = typing.server.poll_outbound() {
                        black_box(out.message.to_json());
                    }
                }
                total += started.elapsed();
                done += chunk as u64;
            }
            total
        });
    });
    group.finish();
}

fn catch_up(c: &mut Criterion) {
    let limits = ProtocolLimits::default();
    let text = "fn main() {}\n".repeat(800);
    let (mut server, id) = project(&text);
    let messages = keystrokes(id, text.chars().count(), 0, 1, 1);
    server.handle(1, decode_client(messages[0].1.as_bytes(), &limits).unwrap());
    for (client, json) in keystrokes(id, text.chars().count() + 1, 1, 1_000, 2) {
        server.handle(client, decode_client(json.as_bytes(), &limits).unwrap());
    }
    while server.poll_outbound().is_some() {}
    let behind = server.event_number() - 1_000;
    let mut group = c.benchmark_group("protocol");
    group.bench_function("catch_up_1000_ops_behind", |b| {
        b.iter(|| {
            server.handle(
                3,
                ClientMessage::Hello(Hello {
                    client: 3,
                    n: Some(behind),
                    manifest: None,
                    have: Vec::new(),
                    binary: false,
                }),
            );
            let out = server.poll_outbound().unwrap();
            black_box(out.message.to_json().len())
        });
    });
    group.finish();
}

fn simulator(c: &mut Criterion) {
    let mut group = c.benchmark_group("protocol");
    group.sample_size(10);
    group.bench_function("simulator_run_300_steps_harsh", |b| {
        let mut seed = 0;
        b.iter(|| {
            seed += 1;
            let sim =
                sim::run_seed(seed, 300, sim::Faults::harsh(), ServerConfig::default()).unwrap();
            black_box(sim.ops)
        });
    });
    group.finish();
}

criterion_group!(benches, keystroke_path, catch_up, simulator);
criterion_main!(benches);
