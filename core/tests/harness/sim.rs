//! A deterministic network simulator: one `ProjectServer`, several
//! `ProjectClient`s (editors and agents), random operations, and a network
//! that delays, reorders, duplicates and drops messages, with disconnects,
//! reconnects and server history compaction. Every message travels as JSON
//! through the real decoders.

#![allow(
    dead_code,
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::result_large_err
)] // test harness: a failure should stop at once

use std::collections::{HashMap, HashSet};

use velocity_sync::Outbound;
use velocity_sync::protocol::{ProtocolLimits, decode_client, decode_server};
use velocity_sync::{
    ClientEvent, FileId, FileKind, FilePath, ProjectClient, ProjectServer, Recipient, Role,
    ServerConfig, TextOp,
};

/// xorshift64*: small, seedable, deterministic.
#[derive(Debug, Clone)]
pub struct Rng(u64);

impl Rng {
    pub fn new(seed: u64) -> Self {
        Self(seed.wrapping_mul(0x9E37_79B9_7F4A_7C15) | 1)
    }

    pub fn next(&mut self) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_F491_4F6C_DD1D)
    }

    pub fn below(&mut self, n: u64) -> u64 {
        if n == 0 { 0 } else { self.next() % n }
    }

    pub fn chance(&mut self, percent: u64) -> bool {
        self.below(100) < percent
    }

    pub fn pick<'a, T>(&mut self, items: &'a [T]) -> Option<&'a T> {
        if items.is_empty() {
            None
        } else {
            Some(&items[self.below(items.len() as u64) as usize])
        }
    }
}

/// Fault rates, in percent per message.
#[derive(Debug, Clone, Copy)]
pub struct Faults {
    pub duplicate: u64,
    /// Dropped and delivered again later (an at-least-once transport).
    pub drop_resend: u64,
    /// Lost for good (recovered by gap detection or reconnect).
    pub lose: u64,
    /// Per step, per client.
    pub disconnect: u64,
    pub max_delay: u64,
}

impl Faults {
    pub fn none() -> Self {
        Self {
            duplicate: 0,
            drop_resend: 0,
            lose: 0,
            disconnect: 0,
            max_delay: 0,
        }
    }

    pub fn harsh() -> Self {
        Self {
            duplicate: 5,
            drop_resend: 5,
            lose: 2,
            disconnect: 2,
            max_delay: 20,
        }
    }
}

#[derive(Debug, Clone)]
enum Hop {
    ToServer { from: usize },
    ToClient { to: usize },
}

#[derive(Debug, Clone)]
struct Packet {
    at: u64,
    order: u64,
    hop: Hop,
    json: String,
    /// The connection generation it belongs to: a packet of an old
    /// connection never arrives on a new one.
    generation: u64,
}

pub struct SimClient {
    pub client: ProjectClient,
    pub role: Role,
    pub connected: bool,
    generation: u64,
    pub events: Vec<ClientEvent>,
}

/// Markers each editor inserted, per file, to check no acknowledged edit is lost.
#[derive(Default, Debug)]
pub struct Ledger {
    pub markers: HashMap<FileId, Vec<String>>,
    /// Files whose content a documented rule may have replaced wholesale.
    pub replaced: HashSet<FileId>,
}

pub struct Sim {
    pub rng: Rng,
    pub server: ProjectServer,
    pub clients: Vec<SimClient>,
    packets: Vec<Packet>,
    now: u64,
    order: u64,
    pub faults: Faults,
    limits: ProtocolLimits,
    pub ledger: Ledger,
    pub ops: u64,
    marker: u64,
    pub trace: Vec<String>,
    pub tracing: bool,
}

pub const EDITORS: usize = 3;
pub const AGENTS: usize = 2;

impl Sim {
    pub fn new(seed: u64, faults: Faults, config: ServerConfig) -> Self {
        let mut sim = Self {
            rng: Rng::new(seed),
            server: ProjectServer::new(config),
            clients: Vec::new(),
            packets: Vec::new(),
            now: 0,
            order: 0,
            faults,
            limits: config.limits,
            ledger: Ledger::default(),
            ops: 0,
            marker: 0,
            trace: Vec::new(),
            tracing: false,
        };
        for i in 0..EDITORS + AGENTS {
            let role = if i < EDITORS {
                Role::Editor
            } else {
                Role::Agent
            };
            sim.clients.push(SimClient {
                client: ProjectClient::new(i as u64 + 1),
                role,
                connected: false,
                generation: 0,
                events: Vec::new(),
            });
        }
        for i in 0..sim.clients.len() {
            sim.connect(i);
        }
        sim
    }

    fn log(&mut self, line: impl FnOnce() -> String) {
        if self.tracing {
            let line = line();
            self.trace.push(format!("t={} {line}", self.now));
        }
    }

    pub fn connect(&mut self, i: usize) {
        let c = &mut self.clients[i];
        c.connected = true;
        c.generation += 1;
        let id = c.client.id();
        self.server.connect(id, c.role);
        c.client.connect();
        self.log(|| format!("client {i} connects"));
        self.flush_client(i);
    }

    pub fn disconnect(&mut self, i: usize) {
        let c = &mut self.clients[i];
        if !c.connected {
            return;
        }
        c.connected = false;
        let id = c.client.id();
        self.server.disconnect(id);
        self.log(|| format!("client {i} disconnects"));
    }

    fn send(&mut self, hop: Hop, json: String, generation: u64) {
        let faults = self.faults;
        if self.rng.chance(faults.lose) {
            self.log(|| format!("lost {hop:?} {}", &json[..json.len().min(80)]));
            return;
        }
        let mut copies = 1;
        if self.rng.chance(faults.duplicate) {
            copies = 2;
        }
        for _ in 0..copies {
            let mut delay = 1 + self.rng.below(faults.max_delay + 1);
            if self.rng.chance(faults.drop_resend) {
                delay += 30 + self.rng.below(30);
            }
            self.order += 1;
            self.packets.push(Packet {
                at: self.now + delay,
                order: self.order,
                hop: hop.clone(),
                json: json.clone(),
                generation,
            });
        }
    }

    /// Moves a client's outbound messages onto the network.
    pub fn flush_client(&mut self, i: usize) {
        while let Some(message) = self.clients[i].client.poll_outbound() {
            if self.clients[i].connected {
                let generation = self.clients[i].generation;
                self.send(Hop::ToServer { from: i }, message.to_json(), generation);
            }
        }
        while let Some(event) = self.clients[i].client.poll_event() {
            self.clients[i].events.push(event);
        }
    }

    fn flush_server(&mut self) {
        while let Some(Outbound { to, message }) = self.server.poll_outbound() {
            let json = message.to_json();
            let targets: Vec<usize> = (0..self.clients.len())
                .filter(|&i| self.clients[i].connected)
                .filter(|&i| {
                    let id = self.clients[i].client.id();
                    match to {
                        Recipient::Client(c) => c == id,
                        Recipient::AllExcept(c) => c != id,
                        Recipient::All => true,
                    }
                })
                .collect();
            for i in targets {
                let generation = self.clients[i].generation;
                self.send(Hop::ToClient { to: i }, json.clone(), generation);
            }
        }
    }

    /// Delivers everything due at or before `now`.
    fn deliver_due(&mut self) {
        loop {
            let due = self
                .packets
                .iter()
                .enumerate()
                .filter(|(_, p)| p.at <= self.now)
                .min_by_key(|(_, p)| (p.at, p.order))
                .map(|(index, _)| index);
            let Some(index) = due else { return };
            let packet = self.packets.swap_remove(index);
            match packet.hop {
                Hop::ToServer { from } => {
                    let c = &self.clients[from];
                    if !c.connected || c.generation != packet.generation {
                        continue;
                    }
                    let id = c.client.id();
                    let message = decode_client(packet.json.as_bytes(), &self.limits)
                        .unwrap_or_else(|e| panic!("server cannot decode {}: {e}", packet.json));
                    self.log(|| format!("server <- {from}: {}", &packet.json[..]));
                    self.server.handle(id, message);
                    self.flush_server();
                }
                Hop::ToClient { to } => {
                    let c = &self.clients[to];
                    if !c.connected || c.generation != packet.generation {
                        continue;
                    }
                    let message = decode_server(packet.json.as_bytes(), &self.limits)
                        .unwrap_or_else(|e| panic!("client cannot decode {}: {e}", packet.json));
                    self.log(|| format!("client {to} <- {}", &packet.json[..]));
                    self.clients[to].client.handle(message);
                    self.flush_client(to);
                }
            }
        }
    }

    pub fn tick(&mut self) {
        self.now += 1;
        self.deliver_due();
    }

    fn next_marker(&mut self, client: usize) -> String {
        self.marker += 1;
        format!("«{client}.{}»", self.marker)
    }

    fn random_text(&mut self) -> String {
        const PIECES: &[&str] = &["a", "b", " ", "\r\n", "\n", "😀", "é", "中", "x", "\t"];
        let len = 1 + self.rng.below(6);
        (0..len)
            .map(|_| *self.rng.pick(PIECES).unwrap_or(&"a"))
            .collect()
    }

    fn random_path(&mut self) -> FilePath {
        const DIRS: &[&str] = &["", "src/", "src/lib/", "docs/", "Src/"];
        const NAMES: &[&str] = &[
            "a.ts",
            "b.ts",
            "A.ts",
            "index.html",
            "data.bin",
            "c.md",
            "x",
        ];
        let dir = *self.rng.pick(DIRS).unwrap_or(&"");
        let name = *self.rng.pick(NAMES).unwrap_or(&"a.ts");
        FilePath::parse(&format!("{dir}{name}")).unwrap()
    }

    /// One random operation by a random connected editor.
    pub fn random_op(&mut self) {
        let editors: Vec<usize> = (0..EDITORS)
            .filter(|&i| self.clients[i].connected && self.clients[i].client.is_synced())
            .collect();
        let Some(&i) = self.rng.pick(&editors) else {
            return;
        };
        self.ops += 1;
        let entries = self.clients[i].client.manifest().entries();
        let texts: Vec<FileId> = entries
            .iter()
            .filter(|e| e.kind == FileKind::Text)
            .filter_map(|e| e.id)
            .collect();
        let roll = self.rng.below(100);
        if roll < 60 && !texts.is_empty() {
            let id = *self.rng.pick(&texts).unwrap();
            self.edit_text(i, id);
        } else if roll < 72 {
            let path = self.random_path();
            let binary = path.as_str().ends_with(".bin");
            let content = if binary {
                vec![0, self.rng.below(255) as u8, 7]
            } else {
                self.random_text().into_bytes()
            };
            let id = self.clients[i].client.create(path.clone(), Some(content));
            self.log(|| format!("op: client {i} creates {path} as {id}"));
        } else if roll < 78 && !entries.is_empty() {
            let entry = self.rng.pick(&entries).unwrap().clone();
            if let Some(id) = entry.id {
                self.log(|| format!("op: client {i} deletes {}", entry.path));
                self.clients[i].client.delete(id);
            }
        } else if roll < 86 && !entries.is_empty() {
            let entry = self.rng.pick(&entries).unwrap().clone();
            let to = self.random_path();
            if let Some(id) = entry.id {
                self.log(|| format!("op: client {i} renames {} -> {to}", entry.path));
                self.clients[i].client.rename(id, to);
            }
        } else if roll < 90 {
            let from = FilePath::parse(if self.rng.chance(50) { "src" } else { "docs" }).unwrap();
            let to = FilePath::parse(if self.rng.chance(50) {
                "lib"
            } else {
                "src/inner"
            })
            .unwrap();
            self.log(|| format!("op: client {i} renames directory {from} -> {to}"));
            self.clients[i].client.rename_directory(from, to);
        } else if !entries.is_empty() {
            let binaries: Vec<_> = entries
                .iter()
                .filter(|e| e.kind == FileKind::Binary)
                .filter_map(|e| e.id)
                .collect();
            if let Some(&id) = self.rng.pick(&binaries) {
                let bytes = vec![0, self.rng.below(255) as u8];
                self.log(|| format!("op: client {i} replaces binary {id}"));
                let _ = self.clients[i].client.replace(id, bytes);
            }
        }
        self.flush_client(i);
    }

    fn edit_text(&mut self, i: usize, id: FileId) {
        let Some(text) = self.clients[i].client.text(&id) else {
            return;
        };
        let chars: Vec<char> = text.chars().collect();
        let len = chars.len();
        let op = if len > 0 && self.rng.chance(35) {
            // Delete a run that holds no marker, so acknowledged markers stay.
            let start = self.rng.below(len as u64) as usize;
            let mut end = start;
            let max = 1 + self.rng.below(4) as usize;
            let mut inside = chars[..start].iter().filter(|&&c| c == '«').count()
                > chars[..start].iter().filter(|&&c| c == '»').count();
            while end < len && end - start < max && !inside && chars[end] != '«' {
                end += 1;
                inside = false;
            }
            if end == start {
                return;
            }
            TextOp::from_splice(len, start, end - start, "").unwrap()
        } else {
            // Insert at a position outside any marker.
            let mut pos = self.rng.below(len as u64 + 1) as usize;
            while pos > 0
                && chars[..pos].iter().filter(|&&c| c == '«').count()
                    > chars[..pos].iter().filter(|&&c| c == '»').count()
            {
                pos -= 1;
            }
            let mut insert = self.random_text();
            if self.rng.chance(30) {
                let marker = self.next_marker(i);
                self.ledger
                    .markers
                    .entry(id)
                    .or_default()
                    .push(marker.clone());
                insert = marker;
            }
            TextOp::from_splice(len, pos, 0, &insert).unwrap()
        };
        self.log(|| format!("op: client {i} edits {id}: {}", op.to_json()));
        self.clients[i].client.edit(id, op).unwrap();
    }

    /// Runs `steps` random steps: operations, deliveries, faults, checkpoints.
    pub fn run(&mut self, steps: u64) {
        for _ in 0..steps {
            if self.rng.chance(40) {
                self.random_op();
            }
            for i in 0..self.clients.len() {
                if self.rng.chance(self.faults.disconnect) {
                    if self.clients[i].connected {
                        self.disconnect(i);
                    } else {
                        self.connect(i);
                    }
                } else if !self.clients[i].connected && self.rng.chance(20) {
                    self.connect(i);
                }
            }
            if self.rng.chance(5) {
                self.server.checkpoint();
                self.flush_server();
            }
            self.tick();
        }
    }

    /// Stops faults, reconnects everyone, delivers everything, checkpoints,
    /// until nothing moves.
    pub fn quiesce(&mut self) {
        self.faults = Faults::none();
        for i in 0..self.clients.len() {
            self.disconnect(i);
            self.connect(i);
        }
        for _ in 0..10_000 {
            while !self.packets.is_empty() {
                self.tick();
            }
            self.server.checkpoint();
            self.flush_server();
            if self.packets.is_empty()
                && self
                    .clients
                    .iter()
                    .all(|c| c.client.is_synced() && c.client.is_idle())
            {
                return;
            }
        }
        let states: Vec<String> = self
            .clients
            .iter()
            .enumerate()
            .map(|(i, c)| {
                format!(
                    "client {i}: synced {} n {} unconfirmed files {:?} requests {:?}",
                    c.client.is_synced(),
                    c.client.event_number(),
                    c.client.unconfirmed_files(),
                    c.client.unconfirmed_requests()
                )
            })
            .collect();
        panic!(
            "the simulation did not quiesce (server n {}): {states:?}",
            self.server.event_number()
        );
    }

    /// Every participant holds the server's project.
    pub fn check_convergence(&mut self) -> Result<(), String> {
        let server_manifest = self.server.manifest().clone();
        for (i, c) in self.clients.iter_mut().enumerate() {
            if c.client.manifest().id() != server_manifest.id() {
                let diff = c.client.manifest().diff(&server_manifest);
                return Err(format!(
                    "client {i}: manifest {} != server {}: {:?}",
                    c.client.manifest().id(),
                    server_manifest.id(),
                    diff.changes
                ));
            }
            for entry in server_manifest.entries() {
                let Some(id) = entry.id else { continue };
                let theirs = self.server.content(&id);
                let mine = c.client.content(&id);
                if theirs != mine {
                    return Err(format!(
                        "client {i}: content of {} differs: {:?} vs server {:?}",
                        entry.path,
                        mine.map(|b| String::from_utf8_lossy(&b).into_owned()),
                        theirs.map(|b| String::from_utf8_lossy(&b).into_owned())
                    ));
                }
            }
        }
        // Acknowledged edits survive unless a documented rule removed them.
        for (id, markers) in &self.ledger.markers {
            let Some(content) = self.server.content(id) else {
                continue;
            };
            if self.ledger.replaced.contains(id) {
                continue;
            }
            let text = String::from_utf8_lossy(&content);
            for marker in markers {
                if !text.contains(marker.as_str()) {
                    return Err(format!("marker {marker} of file {id} is lost: {text:?}"));
                }
            }
        }
        Ok(())
    }
}

/// One seeded run; `Err` carries the reason.
pub fn run_seed(
    seed: u64,
    steps: u64,
    faults: Faults,
    config: ServerConfig,
) -> Result<Sim, String> {
    let mut sim = Sim::new(seed, faults, config);
    sim.run(steps);
    sim.quiesce();
    match sim.check_convergence() {
        Ok(()) => Ok(sim),
        Err(reason) => Err(reason),
    }
}

/// A server configuration that compacts early, to exercise the whole ladder.
pub fn compacting() -> ServerConfig {
    ServerConfig {
        history_ops: 8,
        log_events: 24,
        kept_manifests: 3,
        ..ServerConfig::default()
    }
}

/// The smallest step count that still fails for `seed` (a minimal reproduction).
pub fn shrink(seed: u64, steps: u64, faults: Faults, config: ServerConfig) -> u64 {
    let (mut lo, mut hi) = (0u64, steps);
    while lo + 1 < hi {
        let mid = (lo + hi) / 2;
        let failed = std::panic::catch_unwind(|| run_seed(seed, mid, faults, config).is_err())
            .unwrap_or(true);
        if failed { hi = mid } else { lo = mid }
    }
    hi
}
