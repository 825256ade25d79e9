//! The editing traces in `<repo>/../shared/traces` and a recorded run of
//! the concurrent trace.

use std::collections::VecDeque;
use std::io::Read as _;
use std::path::{Path, PathBuf};

use serde_json::Value;
use velocity_sync::ot::Submission;
use velocity_sync::{TextClient, TextDocument, TextOp};

/// One patch: `(pos, deleted, inserted)` in code points.
pub type Patch = (usize, usize, String);

/// One transaction of a trace.
#[derive(Debug, Clone)]
pub struct Txn {
    /// Indices of the txns this one was made after (concurrent traces).
    pub parents: Vec<usize>,
    /// Who made it (concurrent traces).
    pub agent: usize,
    /// The patches, each on the text the previous one produced.
    pub patches: Vec<Patch>,
}

/// An editing trace.
#[derive(Debug, Clone)]
pub struct Trace {
    /// Name of the file without `.json.gz`.
    pub name: String,
    /// The text before the first txn.
    pub start: String,
    /// The text after the last txn.
    pub end: String,
    /// The transactions.
    pub txns: Vec<Txn>,
}

impl Trace {
    /// Number of patches.
    pub fn patch_count(&self) -> usize {
        self.txns.iter().map(|t| t.patches.len()).sum()
    }
}

/// The shared traces folder.
///
/// # Panics
/// When the folder is missing, naming where it was looked for.
pub fn traces_dir() -> PathBuf {
    // `VELOCITY_SYNC_TRACES` points elsewhere when the checkout has no
    // `../shared` beside it.
    let dir = std::env::var_os("VELOCITY_SYNC_TRACES")
        .map(PathBuf::from)
        .unwrap_or_else(|| Path::new(env!("CARGO_MANIFEST_DIR")).join("../../shared/traces"));
    assert!(
        dir.join("sequential").is_dir(),
        "editing traces not found at {}: the shared/traces folder must sit next to the repository checkout",
        dir.display()
    );
    dir
}

/// Every sequential trace, sorted by name.
///
/// # Panics
/// When a trace cannot be read.
pub fn sequential() -> Vec<Trace> {
    let dir = traces_dir().join("sequential");
    let mut paths: Vec<PathBuf> = std::fs::read_dir(&dir)
        .unwrap_or_else(|e| panic!("cannot list {}: {e}", dir.display()))
        .filter_map(|entry| entry.ok().map(|e| e.path()))
        .filter(|p| p.to_string_lossy().ends_with(".json.gz"))
        .collect();
    paths.sort();
    paths.iter().map(|p| load(p)).collect()
}

/// The concurrent `friendsforever` trace.
///
/// # Panics
/// When it cannot be read.
pub fn concurrent() -> Trace {
    load(&traces_dir().join("concurrent/friendsforever.json.gz"))
}

/// Loads one `.json.gz` trace.
///
/// # Panics
/// When the file cannot be read or parsed.
pub fn load(path: &Path) -> Trace {
    let file =
        std::fs::File::open(path).unwrap_or_else(|e| panic!("cannot open {}: {e}", path.display()));
    let mut json = String::new();
    flate2::read::GzDecoder::new(file)
        .read_to_string(&mut json)
        .unwrap_or_else(|e| panic!("cannot gunzip {}: {e}", path.display()));
    let value: Value = serde_json::from_str(&json)
        .unwrap_or_else(|e| panic!("cannot parse {}: {e}", path.display()));
    let text = |key: &str| {
        value
            .get(key)
            .and_then(Value::as_str)
            .unwrap_or("")
            .to_owned()
    };
    let num = |v: &Value| v.as_u64().unwrap_or(0) as usize;
    let txns = value
        .get("txns")
        .and_then(Value::as_array)
        .map(|txns| {
            txns.iter()
                .map(|t| Txn {
                    parents: t
                        .get("parents")
                        .and_then(Value::as_array)
                        .map(|p| p.iter().map(num).collect())
                        .unwrap_or_default(),
                    agent: t.get("agent").map(num).unwrap_or(0),
                    patches: t
                        .get("patches")
                        .and_then(Value::as_array)
                        .map(|ps| {
                            ps.iter()
                                .map(|p| {
                                    (
                                        num(&p[0]),
                                        num(&p[1]),
                                        p[2].as_str().unwrap_or("").to_owned(),
                                    )
                                })
                                .collect()
                        })
                        .unwrap_or_default(),
                })
                .collect()
        })
        .unwrap_or_default();
    Trace {
        name: path
            .file_name()
            .map(|n| n.to_string_lossy().trim_end_matches(".json.gz").to_owned())
            .unwrap_or_default(),
        start: text("startContent"),
        end: text("endContent"),
        txns,
    }
}

/// One step of a recorded client/server run.
#[derive(Debug, Clone)]
pub enum Event {
    /// Agent makes a local edit (already rebased onto its text).
    Local(usize, TextOp),
    /// The server takes the agent's oldest submission in transit.
    Process(usize),
    /// The agent reads its next server message.
    Read(usize),
}

/// Runs the concurrent trace once, as `core/tests/ot_concurrent.rs` does
/// (lazy delivery, txns rebased onto the client's state where a
/// one-op-in-flight client cannot match the parents exactly), and records
/// the steps so a bench can replay only the engine's work.
///
/// # Panics
/// When the run does not converge on the trace's final text.
pub fn record_concurrent(trace: &Trace) -> Vec<Event> {
    type Id = (usize, usize);
    struct Elem {
        ins: Id,
        dels: Vec<Id>,
    }
    let sees = |view: &[usize], id: Id| view[id.0] >= id.1;
    let visible =
        |e: &Elem, view: &[usize]| sees(view, e.ins) && !e.dels.iter().any(|d| sees(view, *d));

    let n = trace.txns.iter().map(|t| t.agent + 1).max().unwrap_or(0);
    let mut vv: Vec<Vec<usize>> = Vec::new();
    let mut counts = vec![0; n];
    for txn in &trace.txns {
        let mut v = vec![0; n];
        for &p in &txn.parents {
            for (x, y) in v.iter_mut().zip(&vv[p]) {
                *x = (*x).max(*y);
            }
        }
        counts[txn.agent] += 1;
        v[txn.agent] = counts[txn.agent];
        vv.push(v);
    }

    let mut events = Vec::new();
    let mut server = TextDocument::new().with_history_limit(1 << 20);
    let mut log: Vec<(usize, usize, u64, TextOp)> = Vec::new();
    let mut transit: Vec<VecDeque<(Submission, usize)>> = vec![VecDeque::new(); n];
    let mut at_server = vec![0; n];
    let mut clients: Vec<TextClient> = (0..n).map(|a| TextClient::new(a as u64, 0)).collect();
    let mut texts: Vec<TextDocument> = (0..n)
        .map(|_| TextDocument::new().with_history_limit(1))
        .collect();
    let mut read = vec![0; n];
    let mut seen = vec![vec![0; n]; n];
    let mut made = vec![0; n];
    let mut list: Vec<Elem> = Vec::new();

    macro_rules! process {
        ($b:expr) => {{
            let b = $b;
            match transit[b].pop_front() {
                Some((s, upto)) => {
                    events.push(Event::Process(b));
                    let out = server
                        .submit(s.client, s.seq, s.base_rev, s.op)
                        .expect("server accepts");
                    at_server[b] = upto;
                    log.push((b, upto, out.rev, out.op));
                    true
                }
                None => false,
            }
        }};
    }
    macro_rules! read_one {
        ($a:expr) => {{
            let a = $a;
            match log.get(read[a]) {
                Some((author, upto, rev, op)) => {
                    events.push(Event::Read(a));
                    read[a] += 1;
                    if *author == a {
                        if let Some(next) = clients[a].ack(*rev).expect("ack") {
                            transit[a].push_back((next, made[a]));
                        }
                    } else {
                        let local = clients[a].remote(*rev, op).expect("remote");
                        texts[a].apply(&local).expect("fits");
                        seen[a][*author] = seen[a][*author].max(*upto);
                    }
                    true
                }
                None => false,
            }
        }};
    }

    for (i, txn) in trace.txns.iter().enumerate() {
        let a = txn.agent;
        let mut parents = vv[i].clone();
        parents[a] -= 1;
        for b in (0..n).filter(|b| *b != a) {
            while at_server[b] < parents[b] {
                if !process!(b) {
                    assert!(read_one!(b), "agent {b} is stuck");
                }
            }
        }
        while (0..n).any(|b| b != a && seen[a][b] < parents[b]) {
            assert!(read_one!(a), "log ends early");
        }
        while log.get(read[a]).is_some_and(|e| e.0 == a) {
            read_one!(a);
        }
        let id = (a, vv[i][a]);
        let mut made_at = parents.clone();
        made_at[a] = id.1;
        let mut view = seen[a].clone();
        view[a] = id.1;
        let mut op = TextOp::identity(texts[a].len_chars());
        for (pos, del, ins) in &txn.patches {
            let (mut k, mut seen_made, mut seen_now) = (0, 0, 0);
            while seen_made < *pos {
                if visible(&list[k], &made_at) {
                    seen_made += 1;
                }
                if visible(&list[k], &view) {
                    seen_now += 1;
                }
                k += 1;
            }
            let mut patch = TextOp::new();
            patch.retain(seen_now).insert(ins);
            let at = k;
            let (mut deleted, mut consumed) = (0, seen_now);
            while deleted < *del {
                let (m, v) = (visible(&list[k], &made_at), visible(&list[k], &view));
                if m {
                    list[k].dels.push(id);
                    deleted += 1;
                    if v {
                        patch.delete(1);
                        consumed += 1;
                    }
                } else if v {
                    patch.retain(1);
                    consumed += 1;
                }
                k += 1;
            }
            patch.retain(op.target_len() - consumed);
            list.splice(
                at..at,
                ins.chars().map(|_| Elem {
                    ins: id,
                    dels: Vec::new(),
                }),
            );
            op = op.compose(&patch).expect("patches chain");
        }
        texts[a].apply(&op).expect("fits");
        made[a] = id.1;
        events.push(Event::Local(a, op.clone()));
        if let Some(s) = clients[a].local_edit(op).expect("local edit") {
            transit[a].push_back((s, made[a]));
        }
        while read[a] == log.len() && process!(a) {
            read_one!(a);
        }
    }
    loop {
        let mut progressed = false;
        for a in 0..n {
            while process!(a) {
                progressed = true;
            }
            while read_one!(a) {
                progressed = true;
            }
        }
        if !progressed {
            break;
        }
    }
    assert!(server.text() == trace.end, "recorded run does not converge");
    events
}

/// Replays recorded events with fresh clients, texts and server; returns
/// the server.
///
/// # Panics
/// When an op does not fit (the recording is inconsistent).
pub fn replay_concurrent(agents: usize, events: &[Event]) -> TextDocument {
    let mut server = TextDocument::new().with_history_limit(1 << 20);
    let mut log: Vec<(usize, u64, TextOp)> = Vec::new();
    let mut transit: Vec<VecDeque<Submission>> = vec![VecDeque::new(); agents];
    let mut clients: Vec<TextClient> = (0..agents).map(|a| TextClient::new(a as u64, 0)).collect();
    let mut texts: Vec<TextDocument> = (0..agents)
        .map(|_| TextDocument::new().with_history_limit(1))
        .collect();
    let mut read = vec![0; agents];
    for event in events {
        match event {
            Event::Local(a, op) => {
                texts[*a].apply(op).expect("fits");
                if let Some(s) = clients[*a].local_edit(op.clone()).expect("local edit") {
                    transit[*a].push_back(s);
                }
            }
            Event::Process(a) => {
                let s = transit[*a].pop_front().expect("in transit");
                let out = server
                    .submit(s.client, s.seq, s.base_rev, s.op)
                    .expect("server accepts");
                log.push((*a, out.rev, out.op));
            }
            Event::Read(a) => {
                let (author, rev, op) = &log[read[*a]];
                read[*a] += 1;
                if author == a {
                    if let Some(next) = clients[*a].ack(*rev).expect("ack") {
                        transit[*a].push_back(next);
                    }
                } else {
                    let local = clients[*a].remote(*rev, op).expect("remote");
                    texts[*a].apply(&local).expect("fits");
                }
            }
        }
    }
    server
}
