//! The velocity-sync demo: the platform's flow in one process, on the same
//! engine every participant runs.
//!
//! An editor creates a project from a template and types; a preview
//! container's agent joins late and hydrates, critical files first; a second
//! editor types at the same time; the agent receives live updates; one
//! message is lost on the way and recovered; at the end everyone agrees.
//! Then an offline container catches up with a single changeset.
//!
//! Run it with `cargo run --release -p velocity-sync-examples --bin demo`.

mod changeset;

use std::process::ExitCode;
use std::time::Instant;

use velocity_sync::protocol::{ProtocolLimits, ServerMessage, decode_client, decode_server};
use velocity_sync::{
    ClientEvent, FileId, FilePath, ProjectClient, ProjectServer, Recipient, Role, ServerConfig,
    TextOp,
};
use velocity_sync_tools::template::VITE_REACT;

/// The participants, connected by an in-process "network" that carries
/// every message as JSON through the real codecs, and can lose one.
struct Demo {
    started: Instant,
    server: ProjectServer,
    names: Vec<&'static str>,
    clients: Vec<ProjectClient>,
    inboxes: Vec<Vec<String>>,
    limits: ProtocolLimits,
    /// Lose the next event numbered this, on its way to this client.
    lose: Option<(usize, u64)>,
    messages: usize,
}

impl Demo {
    fn new() -> Self {
        let config = ServerConfig::default();
        Self {
            started: Instant::now(),
            server: ProjectServer::new(config),
            names: Vec::new(),
            clients: Vec::new(),
            inboxes: Vec::new(),
            limits: config.limits,
            lose: None,
            messages: 0,
        }
    }

    fn say(&self, who: &str, what: impl AsRef<str>) {
        let ms = self.started.elapsed().as_secs_f64() * 1e3;
        println!("{ms:7.2} ms  {who:<9} {}", what.as_ref());
    }

    fn join(&mut self, name: &'static str, role: Role) -> usize {
        let mut client = ProjectClient::new(self.clients.len() as u64 + 1);
        self.server.connect(client.id(), role);
        client.connect();
        self.names.push(name);
        self.clients.push(client);
        self.inboxes.push(Vec::new());
        self.clients.len() - 1
    }

    /// Moves messages until nothing moves; returns what each client applied.
    fn run(&mut self) -> Vec<Vec<ClientEvent>> {
        let mut applied = vec![Vec::new(); self.clients.len()];
        loop {
            let mut moved = false;
            for i in 0..self.clients.len() {
                let id = self.clients[i].id();
                while let Some(message) = self.clients[i].poll_outbound() {
                    let json = message.to_json();
                    self.messages += 1;
                    if let Ok(decoded) = decode_client(json.as_bytes(), &self.limits) {
                        self.server.handle(id, decoded);
                    }
                    moved = true;
                }
            }
            while let Some(out) = self.server.poll_outbound() {
                let json = out.message.to_json();
                for (i, client) in self.clients.iter().enumerate() {
                    let to_me = match out.to {
                        Recipient::Client(c) => c == client.id(),
                        Recipient::AllExcept(c) => c != client.id(),
                        Recipient::All => true,
                    };
                    if to_me {
                        self.inboxes[i].push(json.clone());
                    }
                }
                moved = true;
            }
            for (i, events) in applied.iter_mut().enumerate() {
                for json in std::mem::take(&mut self.inboxes[i]) {
                    self.messages += 1;
                    let Ok(message) = decode_server(json.as_bytes(), &self.limits) else {
                        continue;
                    };
                    if self.should_lose(i, &message) {
                        continue;
                    }
                    self.clients[i].handle(message);
                    moved = true;
                }
                while let Some(event) = self.clients[i].poll_event() {
                    events.push(event);
                }
            }
            if !moved {
                return applied;
            }
        }
    }

    /// Whether this is the event the network was told to lose.
    fn should_lose(&mut self, to: usize, message: &ServerMessage) -> bool {
        let lost = matches!(
            (self.lose, message),
            (Some((who, n)), ServerMessage::Event(event)) if who == to && event.n == n
        );
        if lost {
            let n = self.lose.take().map_or(0, |(_, n)| n);
            self.say(
                "network",
                format!("loses event #{n} on its way to the {}", self.names[to]),
            );
        }
        lost
    }

    /// Types `text` at the end of file `id`, one keystroke per op.
    fn type_text(
        &mut self,
        who: usize,
        id: FileId,
        at: &str,
        text: &str,
    ) -> Result<(), velocity_sync::Error> {
        for ch in text.chars() {
            let current = self.clients[who].text(&id).unwrap_or_default().to_owned();
            let pos = current.find(at).map_or(current.chars().count(), |byte| {
                current[..byte].chars().count()
            });
            let len = current.chars().count();
            let op = TextOp::from_splice(len, pos, 0, &ch.to_string())
                .map_err(velocity_sync::Error::from)?;
            self.clients[who].edit(id, op)?;
            self.run();
        }
        Ok(())
    }
}

fn short(id: &velocity_sync::ManifestId) -> String {
    id.to_string()[..12].to_owned()
}

fn live() -> Result<bool, velocity_sync::Error> {
    let mut demo = Demo::new();
    println!("live: two editors, a late preview container and a lossy network");
    demo.say("server", "owns an empty project");

    let a = demo.join("editor A", Role::Editor);
    demo.run();
    for (path, content) in VITE_REACT {
        demo.clients[a].create(FilePath::parse(path)?, Some(content.as_bytes().to_vec()));
    }
    demo.run();
    demo.say(
        "editor A",
        format!(
            "creates the project from the vite-react template: {} files",
            VITE_REACT.len()
        ),
    );

    let app = demo
        .server
        .manifest()
        .get(&FilePath::parse("src/App.tsx")?)
        .and_then(|e| e.id);
    let css = demo
        .server
        .manifest()
        .get(&FilePath::parse("src/index.css")?)
        .and_then(|e| e.id);
    let (Some(app), Some(css)) = (app, css) else {
        return Ok(false);
    };
    demo.type_text(a, app, "</h1>", " — live!")?;
    demo.say(
        "editor A",
        "types \" — live!\" into the heading of src/App.tsx, one keystroke per message",
    );

    let agent = demo.join("agent", Role::Agent);
    let applied = demo.run();
    let order: Vec<String> = applied[agent]
        .iter()
        .filter_map(|event| match event {
            ClientEvent::Created { entry } => Some(entry.path.to_string()),
            _ => None,
        })
        .collect();
    demo.say(
        "agent",
        format!(
            "joins late and hydrates {} files, critical first:",
            order.len()
        ),
    );
    println!("{:22}{}", "", order.join(", "));

    let b = demo.join("editor B", Role::Editor);
    demo.run();
    demo.say(
        "editor B",
        "joins; A and B now type at the same time in two files",
    );
    // Interleave keystrokes: A in App.tsx, B in index.css.
    let a_text = " ✨";
    let b_text = "  background: #fafafa;\n";
    let mut a_chars = a_text.chars();
    let mut b_chars = b_text.chars();
    let next_event = demo.server.event_number() + 3;
    demo.lose = Some((agent, next_event));
    let mut agent_edits = 0;
    let mut touched = std::collections::BTreeSet::new();
    loop {
        let (ca, cb) = (a_chars.next(), b_chars.next());
        if ca.is_none() && cb.is_none() {
            break;
        }
        if let Some(ch) = ca {
            let current = demo.clients[a].text(&app).unwrap_or_default().to_owned();
            let pos = current
                .find("</h1>")
                .map_or(0, |byte| current[..byte].chars().count());
            demo.clients[a].edit(
                app,
                TextOp::from_splice(current.chars().count(), pos, 0, &ch.to_string())?,
            )?;
        }
        if let Some(ch) = cb {
            let current = demo.clients[b].text(&css).unwrap_or_default().to_owned();
            let pos = current
                .find("}\n\nmain")
                .map_or(0, |byte| current[..byte].chars().count());
            demo.clients[b].edit(
                css,
                TextOp::from_splice(current.chars().count(), pos, 0, &ch.to_string())?,
            )?;
        }
        let applied = demo.run();
        for event in &applied[agent] {
            if let ClientEvent::Edited { path, .. } = event {
                agent_edits += 1;
                touched.insert(path.to_string());
            }
        }
        if applied[agent]
            .iter()
            .any(|e| matches!(e, ClientEvent::Synced { .. }))
        {
            demo.say(
                "agent",
                format!(
                    "saw the gap, asked for a catch-up, replayed what it missed (now at #{})",
                    demo.clients[agent].event_number()
                ),
            );
        }
    }
    let touched: Vec<String> = touched.into_iter().collect();
    demo.say(
        "agent",
        format!(
            "applied {agent_edits} live edits, rewriting only {}",
            touched.join(" and ")
        ),
    );

    demo.server.checkpoint();
    demo.run();
    let manifest = demo.server.manifest().id();
    demo.say(
        "server",
        format!(
            "checkpoints the edited files: manifest {} (version {})",
            short(&manifest),
            demo.server.manifest().version()
        ),
    );

    let mut agree = true;
    for (i, client) in demo.clients.iter().enumerate() {
        let same_manifest = client.manifest().id() == manifest;
        let same_bytes = demo
            .server
            .manifest()
            .entries()
            .iter()
            .filter_map(|e| e.id)
            .all(|id| client.content(&id) == demo.server.content(&id));
        agree &= same_manifest && same_bytes;
        demo.say(
            demo.names[i],
            format!(
                "holds manifest {} {}",
                short(&client.manifest().id()),
                if same_manifest && same_bytes {
                    "= server, byte for byte ✓"
                } else {
                    "≠ server ✗"
                }
            ),
        );
    }
    println!();
    println!(
        "{} messages over the wire; shared manifest {manifest}",
        demo.messages
    );
    Ok(agree)
}

fn main() -> ExitCode {
    println!(
        "velocity-sync {} — demo: one engine for editor, server and preview container",
        velocity_sync::VERSION
    );
    let outcome = changeset::run().and_then(|()| {
        println!();
        live()
    });
    match outcome {
        Ok(true) => ExitCode::SUCCESS,
        Ok(false) => {
            eprintln!("participants disagree");
            ExitCode::FAILURE
        }
        Err(error) => {
            eprintln!("error [{}]: {error}", error.code());
            ExitCode::FAILURE
        }
    }
}
