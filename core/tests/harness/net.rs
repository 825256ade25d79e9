//! A lossless in-process network for scripted scenarios: the test decides
//! who sends when, so concurrent requests can be staged exactly.

#![allow(dead_code, clippy::unwrap_used, clippy::expect_used)] // test harness: a failure should stop at once

use std::collections::VecDeque;

use velocity_sync::protocol::{ProtocolLimits, ServerMessage, decode_client, decode_server};
use velocity_sync::{
    ClientEvent, FileId, ProjectClient, ProjectServer, Recipient, Role, ServerConfig,
};

pub struct Net {
    pub server: ProjectServer,
    pub clients: Vec<ProjectClient>,
    inboxes: Vec<VecDeque<String>>,
    pub events: Vec<Vec<ClientEvent>>,
    pub received: Vec<Vec<ServerMessage>>,
    pub connected: Vec<bool>,
    roles: Vec<Role>,
    limits: ProtocolLimits,
}

impl Net {
    /// A server and one client per role, all connected and caught up.
    pub fn new(roles: &[Role]) -> Self {
        Self::with_config(roles, ServerConfig::default())
    }

    /// Like [`Net::new`] with a server configuration.
    pub fn with_config(roles: &[Role], config: ServerConfig) -> Self {
        let mut net = Self {
            server: ProjectServer::new(config),
            clients: Vec::new(),
            inboxes: Vec::new(),
            events: Vec::new(),
            received: Vec::new(),
            connected: Vec::new(),
            roles: roles.to_vec(),
            limits: config.limits,
        };
        for (i, role) in roles.iter().enumerate() {
            let mut client = ProjectClient::new(i as u64 + 1);
            net.server.connect(client.id(), *role);
            client.connect();
            net.clients.push(client);
            net.inboxes.push(VecDeque::new());
            net.events.push(Vec::new());
            net.received.push(Vec::new());
            net.connected.push(true);
        }
        net.settle();
        net
    }

    /// Delivers client `i`'s queued requests to the server (and the server's
    /// answers into the inboxes, undelivered).
    pub fn send(&mut self, i: usize) {
        let id = self.clients[i].id();
        if !self.connected[i] {
            return;
        }
        while let Some(message) = self.clients[i].poll_outbound() {
            let json = message.to_json();
            let decoded =
                decode_client(json.as_bytes(), &self.limits).expect("client messages decode");
            self.server.handle(id, decoded);
        }
        self.route();
    }

    fn route(&mut self) {
        while let Some(out) = self.server.poll_outbound() {
            let json = out.message.to_json();
            for (i, client) in self.clients.iter().enumerate() {
                let to_me = match out.to {
                    Recipient::Client(c) => c == client.id(),
                    Recipient::AllExcept(c) => c != client.id(),
                    Recipient::All => true,
                };
                if to_me && self.connected[i] {
                    self.inboxes[i].push_back(json.clone());
                }
            }
        }
    }

    /// Adds bookkeeping for a client pushed onto `clients` after creation
    /// (connected, as an agent).
    pub fn inboxes_for_new_client(&mut self) {
        self.inboxes.push(VecDeque::new());
        self.events.push(Vec::new());
        self.received.push(Vec::new());
        self.connected.push(true);
        self.roles.push(Role::Agent);
    }

    /// Drops client `i`'s connection: whatever is in flight to it is lost.
    pub fn disconnect(&mut self, i: usize) {
        self.connected[i] = false;
        self.inboxes[i].clear();
        self.server.disconnect(self.clients[i].id());
    }

    /// Opens a new connection for client `i` (it says `sync:hello`).
    pub fn reconnect(&mut self, i: usize) {
        self.connected[i] = true;
        self.server.connect(self.clients[i].id(), self.roles[i]);
        self.clients[i].connect();
    }

    /// Delivers at most `count` queued messages to client `i`.
    pub fn receive_some(&mut self, i: usize, count: usize) {
        for _ in 0..count {
            let Some(json) = self.inboxes[i].pop_front() else {
                break;
            };
            let message =
                decode_server(json.as_bytes(), &self.limits).expect("server messages decode");
            self.received[i].push(message.clone());
            self.clients[i].handle(message);
        }
        while let Some(event) = self.clients[i].poll_event() {
            self.events[i].push(event);
        }
    }

    /// Delivers everything queued for client `i`.
    pub fn receive(&mut self, i: usize) {
        while let Some(json) = self.inboxes[i].pop_front() {
            let message =
                decode_server(json.as_bytes(), &self.limits).expect("server messages decode");
            self.received[i].push(message.clone());
            self.clients[i].handle(message);
        }
        while let Some(event) = self.clients[i].poll_event() {
            self.events[i].push(event);
        }
    }

    /// Delivers everything everywhere until nothing moves.
    pub fn settle(&mut self) {
        loop {
            let mut moved = false;
            for i in 0..self.clients.len() {
                if !self.inboxes[i].is_empty() {
                    self.receive(i);
                    moved = true;
                }
            }
            for i in 0..self.clients.len() {
                let before = self.inboxes.iter().map(VecDeque::len).sum::<usize>();
                self.send(i);
                if self.inboxes.iter().map(VecDeque::len).sum::<usize>() != before {
                    moved = true;
                }
            }
            if !moved {
                return;
            }
        }
    }

    /// Checkpoints, settles, and asserts everyone holds the server's project.
    pub fn assert_converged(&mut self) {
        self.server.checkpoint();
        self.route();
        self.settle();
        let manifest = self.server.manifest().clone();
        for (i, client) in self.clients.iter().enumerate() {
            assert_eq!(
                client.manifest().id(),
                manifest.id(),
                "client {i}: {:?}",
                client.manifest().diff(&manifest).changes
            );
            for entry in manifest.entries() {
                let id = entry.id.expect("entries have ids");
                assert_eq!(
                    client.content(&id),
                    self.server.content(&id),
                    "client {i}: {}",
                    entry.path
                );
            }
        }
    }

    /// The id of the server's entry at `path`.
    pub fn id_at(&self, path: &str) -> Option<FileId> {
        self.server.manifest().get(&path.parse().ok()?)?.id
    }

    /// The paths the server holds, sorted.
    pub fn paths(&self) -> Vec<String> {
        let mut paths: Vec<String> = self
            .server
            .manifest()
            .entries()
            .iter()
            .map(|e| e.path.to_string())
            .collect();
        paths.sort();
        paths
    }

    /// Error codes client `i` received.
    pub fn rejections(&self, i: usize) -> Vec<String> {
        self.events[i]
            .iter()
            .filter_map(|e| match e {
                ClientEvent::Rejected { code, .. } => Some(code.clone()),
                _ => None,
            })
            .collect()
    }
}
