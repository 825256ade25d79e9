//! Contract: the concurrent `friendsforever` trace, replayed with one
//! `TextClient` per agent and one server `TextDocument`, clients talking only through
//! the server, ends with everyone at `endContent`.
//!
//! Each txn's patches are positions in the state its `parents` name. The
//! replay delivers server messages to a client lazily, only as far as the
//! txn's parents require, so most txns are made on exactly that state.
//! A three-state client sends one op at a time and composes what it types
//! meanwhile, so sometimes a client must receive a composed op that also
//! holds edits its txn has not seen, or read past other ops to reach its own
//! ack. Then the txn's patches are rebased from the parents' state onto the
//! client's state with a small reference list (each character with the txn
//! that inserted it and those that deleted it), which is exact here because
//! no two agents insert concurrently at one position. The test counts both
//! kinds and requires most txns to be exact.

mod support;

use std::collections::VecDeque;
use std::time::Instant;

use velocity_sync::ot::Submission;
use velocity_sync::{TextClient, TextDocument, TextOp};

/// A txn id: (agent, 1-based position in that agent's chain).
type Id = (usize, usize);

struct Elem {
    ch: char,
    ins: Id,
    dels: Vec<Id>,
}

fn sees(view: &[usize], id: Id) -> bool {
    view[id.0] >= id.1
}

fn visible(e: &Elem, view: &[usize]) -> bool {
    sees(view, e.ins) && !e.dels.iter().any(|d| sees(view, *d))
}

/// Applies one patch made at view `made_at` to the reference list and
/// returns it as an op on the text seen at view `now` (`now_len` chars).
fn rebase_patch(
    list: &mut Vec<Elem>,
    id: Id,
    (pos, del, ins): (usize, usize, &str),
    made_at: &[usize],
    now: &[usize],
    now_len: usize,
) -> TextOp {
    // Find the insertion point: after the `pos`-th character visible at `made_at`.
    let (mut i, mut seen_made, mut seen_now) = (0, 0, 0);
    while seen_made < pos {
        let e = list
            .get(i)
            .unwrap_or_else(|| panic!("txn {id:?}: position {pos} past the end"));
        if visible(e, made_at) {
            seen_made += 1;
        }
        if visible(e, now) {
            seen_now += 1;
        }
        i += 1;
    }
    let mut op = TextOp::new();
    op.retain(seen_now).insert(ins);
    let at = i;
    let mut deleted = 0;
    let mut consumed_now = seen_now;
    while deleted < del {
        let e = list
            .get_mut(i)
            .unwrap_or_else(|| panic!("txn {id:?}: delete past the end"));
        let (was_made, was_now) = (visible(e, made_at), visible(e, now));
        if was_made {
            e.dels.push(id);
            deleted += 1;
            if was_now {
                op.delete(1);
                consumed_now += 1;
            }
        } else if was_now {
            op.retain(1);
            consumed_now += 1;
        }
        i += 1;
    }
    op.retain(now_len - consumed_now);
    let new: Vec<Elem> = ins
        .chars()
        .map(|ch| Elem {
            ch,
            ins: id,
            dels: Vec::new(),
        })
        .collect();
    list.splice(at..at, new);
    op
}

struct Agent {
    client: TextClient,
    /// The agent's text, kept in a `TextDocument` used as a plain rope.
    text: TextDocument,
    /// Next server log entry to read.
    read: usize,
    /// How far into each agent's chain this agent has seen.
    seen: Vec<usize>,
    /// Own txns covered by submissions made so far.
    made: usize,
}

struct Entry {
    author: usize,
    upto: usize,
    rev: u64,
    op: TextOp,
}

struct Net {
    server: TextDocument,
    log: Vec<Entry>,
    /// Per agent: submissions on their way to the server, with the own txn
    /// count they cover.
    transit: Vec<VecDeque<(Submission, usize)>>,
    /// Per agent: own txns the server has applied.
    at_server: Vec<usize>,
}

impl Net {
    fn process(&mut self, author: usize) -> bool {
        let Some((s, upto)) = self.transit[author].pop_front() else {
            return false;
        };
        let out = self
            .server
            .submit(s.client, s.seq, s.base_rev, s.op)
            .expect("server accepts");
        assert!(!out.duplicate);
        self.at_server[author] = upto;
        self.log.push(Entry {
            author,
            upto,
            rev: out.rev,
            op: out.op,
        });
        true
    }
}

fn read_one(agent_index: usize, agent: &mut Agent, net: &mut Net) -> bool {
    let Some(entry) = net.log.get(agent.read) else {
        return false;
    };
    agent.read += 1;
    if entry.author == agent_index {
        if let Some(next) = agent.client.ack(entry.rev).expect("ack fits") {
            net.transit[agent_index].push_back((next, agent.made));
        }
    } else {
        let local = agent
            .client
            .remote(entry.rev, &entry.op)
            .expect("remote op fits");
        agent
            .text
            .apply(&local)
            .expect("transformed op fits the local text");
        agent.seen[entry.author] = agent.seen[entry.author].max(entry.upto);
    }
    true
}

#[test]
fn friendsforever_replays_through_clients_and_server() {
    let trace = support::concurrent();
    let started = Instant::now();
    let agents_n = trace.txns.iter().map(|t| t.agent + 1).max().unwrap_or(0);

    // Version vectors: how far into each agent's chain each txn has seen.
    let mut vv: Vec<Vec<usize>> = Vec::with_capacity(trace.txns.len());
    let mut counts = vec![0; agents_n];
    for (i, txn) in trace.txns.iter().enumerate() {
        let mut v = vec![0; agents_n];
        for &p in &txn.parents {
            assert!(p < i, "txn {i}: parent {p} comes later");
            for (x, y) in v.iter_mut().zip(&vv[p]) {
                *x = (*x).max(*y);
            }
        }
        counts[txn.agent] += 1;
        assert_eq!(
            v[txn.agent],
            counts[txn.agent] - 1,
            "txn {i}: agent's own chain is not linear"
        );
        v[txn.agent] = counts[txn.agent];
        vv.push(v);
    }

    let mut net = Net {
        server: TextDocument::new().with_history_limit(1 << 20),
        log: Vec::new(),
        transit: vec![VecDeque::new(); agents_n],
        at_server: vec![0; agents_n],
    };
    let mut agents: Vec<Agent> = (0..agents_n)
        .map(|a| Agent {
            client: TextClient::new(a as u64, 0),
            text: TextDocument::new().with_history_limit(1),
            read: 0,
            seen: vec![0; agents_n],
            made: 0,
        })
        .collect();
    let mut list: Vec<Elem> = Vec::new();
    let (mut exact, mut rebased) = (0usize, 0usize);

    for (i, txn) in trace.txns.iter().enumerate() {
        let a = txn.agent;
        let mut parents = vv[i].clone();
        parents[a] -= 1;
        // Everything the parents name must have reached the server…
        for b in (0..agents_n).filter(|b| *b != a) {
            while net.at_server[b] < parents[b] {
                if !net.process(b) {
                    assert!(
                        read_one(b, &mut agents[b], &mut net),
                        "txn {i}: agent {b} is stuck"
                    );
                }
            }
        }
        // …and reached this client, in server order.
        let agent = &mut agents[a];
        while (0..agents_n).any(|b| b != a && agent.seen[b] < parents[b]) {
            assert!(read_one(a, agent, &mut net), "txn {i}: the log ends early");
        }
        while net.log.get(agent.read).is_some_and(|e| e.author == a) {
            read_one(a, agent, &mut net);
        }
        let mut now = agent.seen.clone();
        now[a] = parents[a];
        let is_exact = now == parents;
        let id = (a, vv[i][a]);
        let (mut made_at, mut view) = (parents.clone(), now.clone());
        made_at[a] = id.1;
        view[a] = id.1;
        let mut op = TextOp::identity(agent.text.len_chars());
        for (pos, del, ins) in &txn.patches {
            let patch = rebase_patch(
                &mut list,
                id,
                (*pos, *del, ins),
                &made_at,
                &view,
                op.target_len(),
            );
            if is_exact {
                assert_eq!(
                    patch,
                    TextOp::from_splice(op.target_len(), *pos, *del, ins).expect("patch fits"),
                    "txn {i}: exact view but the reference disagrees"
                );
            }
            op = op.compose(&patch).expect("patches chain");
        }
        if is_exact {
            exact += 1;
        } else {
            rebased += 1;
        }
        agent.text.apply(&op).expect("txn fits the client's text");
        agent.made = id.1;
        if let Some(s) = agent.client.local_edit(op).expect("local edit fits") {
            net.transit[a].push_back((s, agent.made));
        }
        // With nothing unread before it, the server takes the op at once and
        // the ack comes straight back (a quiet network).
        while agent.read == net.log.len() && net.process(a) {
            read_one(a, agent, &mut net);
        }
    }

    // Let everything settle.
    loop {
        let mut progressed = false;
        for (a, agent) in agents.iter_mut().enumerate() {
            while net.process(a) {
                progressed = true;
            }
            while read_one(a, agent, &mut net) {
                progressed = true;
            }
        }
        if !progressed {
            break;
        }
    }
    let elapsed = started.elapsed();
    let reference: String = list
        .iter()
        .filter(|e| e.dels.is_empty())
        .map(|e| e.ch)
        .collect();
    assert!(
        reference == trace.end_content,
        "the reference list itself is wrong"
    );
    assert!(
        net.server.text() == trace.end_content,
        "server differs from endContent"
    );
    for (a, agent) in agents.iter().enumerate() {
        assert!(
            agent.text.text() == trace.end_content,
            "agent {a} differs from endContent"
        );
        assert_eq!(agent.client.rev(), net.server.rev(), "agent {a} is behind");
    }
    eprintln!(
        "friendsforever: {} txns, {exact} on their exact parents' state, {rebased} rebased, \
         {} server ops, {elapsed:?}",
        trace.txns.len(),
        net.server.rev()
    );
    assert!(
        exact * 4 > trace.txns.len() * 3,
        "too few exact txns: {exact}"
    );
}
