//! The text engine on real editing traces (see `shared/traces/README.md`).
//!
//! Per sequential trace, group `replay/<trace>`:
//! - `rope`: the patches straight into a `jumprope::JumpRope` (the floor);
//! - `rope_buf`: the same into `jumprope::JumpRopeBuf`;
//! - `textop_apply`: each txn built as a `TextOp` and applied to a `TextDocument`;
//! - `submit`: each txn built as a `TextOp` and sent through
//!   `TextDocument::submit` (dedupe table, history, transform path);
//! - `submit_prebuilt`: the same with the ops built beforehand;
//! - `ot_crate`: the `operational-transform` crate (Rust port of ot.js)
//!   applying the same edits as ops to a `String`. It copies the text on
//!   every op, so criterion samples it only on the two smallest traces; the
//!   others get one timed run each in a table after the benches.
//!
//! `replay/friendsforever-concurrent`: a recorded run of the concurrent trace
//! (two `TextClient`s, one server `TextDocument`, lazy delivery) replayed with fresh
//! clients and server. `ot/*`: micro-benches of transform and compose.
//! After the benches, a table of the memory held by finished documents.

use std::hint::black_box;

use criterion::{BatchSize, Criterion, Throughput};
use jumprope::{JumpRope, JumpRopeBuf};
use operational_transform::OperationSeq;
use velocity_sync::ot::Side;
use velocity_sync::{TextDocument, TextOp};
use velocity_sync_benches::{Trace, concurrent, record_concurrent, replay_concurrent, sequential};

fn op_of(len: usize, patches: &[(usize, usize, String)]) -> TextOp {
    if let [(pos, del, ins)] = patches {
        return TextOp::from_splice(len, *pos, *del, ins).expect("patch fits");
    }
    TextOp::from_splices(len, patches.iter().map(|(p, d, s)| (*p, *d, s.as_str())))
        .expect("patches fit")
}

fn rope_floor(trace: &Trace) -> usize {
    let mut rope = JumpRope::from(trace.start.as_str());
    for txn in &trace.txns {
        for (pos, del, ins) in &txn.patches {
            if *del > 0 {
                rope.remove(*pos..*pos + *del);
            }
            if !ins.is_empty() {
                rope.insert(*pos, ins);
            }
        }
    }
    rope.len_chars()
}

fn rope_buf(trace: &Trace) -> usize {
    let mut rope = JumpRopeBuf::from(trace.start.as_str());
    for txn in &trace.txns {
        for (pos, del, ins) in &txn.patches {
            if *del > 0 {
                rope.remove(*pos..*pos + *del);
            }
            if !ins.is_empty() {
                rope.insert(*pos, ins);
            }
        }
    }
    rope.len_chars()
}

fn textop_apply(trace: &Trace) -> TextDocument {
    let mut doc = TextDocument::from_text(&trace.start);
    for txn in &trace.txns {
        let op = op_of(doc.len_chars(), &txn.patches);
        doc.apply(&op).expect("op fits");
    }
    doc
}

fn submit(trace: &Trace) -> TextDocument {
    let mut doc = TextDocument::from_text(&trace.start);
    for (seq, txn) in trace.txns.iter().enumerate() {
        let op = op_of(doc.len_chars(), &txn.patches);
        doc.submit(1, seq as u64, doc.rev(), op).expect("op fits");
    }
    doc
}

fn prebuilt_ops(trace: &Trace) -> Vec<TextOp> {
    let mut len = trace.start.chars().count();
    trace
        .txns
        .iter()
        .map(|txn| {
            let op = op_of(len, &txn.patches);
            len = op.target_len();
            op
        })
        .collect()
}

fn submit_prebuilt(start: &str, ops: Vec<TextOp>) -> TextDocument {
    let mut doc = TextDocument::from_text(start);
    for (seq, op) in ops.into_iter().enumerate() {
        doc.submit(1, seq as u64, doc.rev(), op).expect("op fits");
    }
    doc
}

fn ot_crate(trace: &Trace) -> String {
    let mut text = trace.start.clone();
    let mut len = text.chars().count() as u64;
    for txn in &trace.txns {
        for (pos, del, ins) in &txn.patches {
            let (pos, del) = (*pos as u64, *del as u64);
            let mut op = OperationSeq::default();
            op.retain(pos);
            op.delete(del);
            op.insert(ins);
            op.retain(len - pos - del);
            text = op.apply(&text).expect("op fits");
            len = op.target_len() as u64;
        }
    }
    text
}

fn bench_sequential(c: &mut Criterion, traces: &[Trace]) {
    let mut by_size: Vec<&Trace> = traces.iter().collect();
    by_size.sort_by_key(|t| t.patch_count());
    let small: Vec<&str> = by_size.iter().take(2).map(|t| t.name.as_str()).collect();
    for trace in traces {
        // Every variant must reach the trace's final text.
        assert_eq!(
            rope_floor(trace),
            trace.end.chars().count(),
            "{}",
            trace.name
        );
        assert!(submit(trace).text() == trace.end, "{}", trace.name);
        let mut group = c.benchmark_group(format!("replay/{}", trace.name));
        group.sample_size(10);
        group.throughput(Throughput::Elements(trace.patch_count() as u64));
        group.bench_function("rope", |b| b.iter(|| black_box(rope_floor(trace))));
        group.bench_function("rope_buf", |b| b.iter(|| black_box(rope_buf(trace))));
        group.bench_function("textop_apply", |b| {
            b.iter(|| black_box(textop_apply(trace)))
        });
        group.bench_function("submit", |b| b.iter(|| black_box(submit(trace))));
        let ops = prebuilt_ops(trace);
        group.bench_function("submit_prebuilt", |b| {
            b.iter_batched(
                || ops.clone(),
                |ops| black_box(submit_prebuilt(&trace.start, ops)),
                BatchSize::PerIteration,
            );
        });
        // The ot.js port copies the text per op: only on the smallest traces,
        // and in test mode (debug build) only on the very smallest.
        let slots = if velocity_sync_benches::full_run() {
            2
        } else {
            1
        };
        if small
            .iter()
            .take(slots)
            .any(|name| *name == trace.name.as_str())
        {
            assert!(ot_crate(trace) == trace.end, "{}", trace.name);
            group.bench_function("ot_crate", |b| b.iter(|| black_box(ot_crate(trace))));
        }
        group.finish();
    }
}

fn bench_concurrent(c: &mut Criterion) {
    let trace = concurrent();
    let agents = trace.txns.iter().map(|t| t.agent + 1).max().unwrap_or(0);
    let events = record_concurrent(&trace);
    assert!(replay_concurrent(agents, &events).text() == trace.end);
    let mut group = c.benchmark_group("replay/friendsforever-concurrent");
    group.sample_size(20);
    group.throughput(Throughput::Elements(trace.txns.len() as u64));
    group.bench_function("clients_and_server", |b| {
        b.iter(|| black_box(replay_concurrent(agents, &events)));
    });
    group.finish();
}

fn bench_micro(c: &mut Criterion, paper: &Trace) {
    let mut group = c.benchmark_group("ot");
    let len = 100_000;
    let a = TextOp::from_splice(len, 50_000, 0, "a").expect("fits");
    let b = TextOp::from_splice(len, 50_010, 1, "").expect("fits");
    group.bench_function("transform_keystroke", |bench| {
        bench.iter(|| black_box(TextOp::transform(&a, &b, Side::Left)));
    });
    let b2 = TextOp::from_splice(len + 1, 50_001, 0, "b").expect("fits");
    group.bench_function("compose_keystroke", |bench| {
        bench.iter(|| black_box(a.compose(&b2)))
    });
    let ops: Vec<TextOp> = prebuilt_ops(paper).into_iter().take(10_000).collect();
    group.throughput(Throughput::Elements(ops.len() as u64));
    group.bench_function("compose_all_10k", |bench| {
        bench.iter_batched(
            || ops.clone(),
            |ops| black_box(TextOp::compose_all(ops)),
            BatchSize::LargeInput,
        );
    });
    // Two offline branches of 5k keystrokes each on the paper's final text.
    let base_len = paper.end.chars().count();
    let branch = |mut state: u64| {
        let mut len = base_len;
        let ops: Vec<TextOp> = (0..5_000)
            .map(|_| {
                state ^= state << 13;
                state ^= state >> 7;
                state ^= state << 17;
                let pos = (state >> 8) as usize % (len + 1);
                let op = if state & 3 == 0 && pos < len {
                    TextOp::from_splice(len, pos, 1, "")
                } else {
                    TextOp::from_splice(len, pos, 0, "x")
                }
                .expect("fits");
                len = op.target_len();
                op
            })
            .collect();
        TextOp::compose_all(ops)
            .expect("chains")
            .expect("non-empty")
    };
    let left = branch(0x9e37_79b9_7f4a_7c15);
    let right = branch(0x2545_f491_4f6c_dd1d);
    group.throughput(Throughput::Elements(10_000));
    group.bench_function("transform_composed_5k_vs_5k", |bench| {
        bench.iter(|| black_box(TextOp::transform(&left, &right, Side::Left)));
    });
    group.finish();
}

fn memory_table(traces: &[Trace]) {
    println!();
    println!(
        "| trace | text bytes | document heap | history heap | (heap − history) / text | after compact() |"
    );
    println!("|---|---:|---:|---:|---:|---:|");
    for trace in traces {
        let mut doc = submit(trace);
        let heap = doc.heap_size();
        let history = doc.history_heap_size();
        let text = doc.len_bytes().max(1) as f64;
        doc.compact();
        let compact = doc.heap_size() - doc.history_heap_size();
        println!(
            "| {} | {} | {} | {} | {:.2}× | {:.2}× |",
            trace.name,
            doc.len_bytes(),
            heap,
            history,
            (heap - history) as f64 / text,
            compact as f64 / text
        );
    }
}

fn main() {
    let traces = sequential();
    let mut c = Criterion::default().configure_from_args();
    bench_sequential(&mut c, &traces);
    bench_concurrent(&mut c);
    if let Some(paper) = traces.iter().find(|t| t.name == "automerge-paper") {
        bench_micro(&mut c, paper);
    }
    c.final_summary();
    memory_table(&traces);
    if velocity_sync_benches::full_run() {
        ot_crate_table(&traces);
    }
}

/// The ot.js port on the traces too large to sample with criterion (it
/// copies the whole text per op): one timed replay each, next to one timed
/// `submit` replay, so every sequential trace has its comparison.
fn ot_crate_table(traces: &[Trace]) {
    let mut by_size: Vec<&Trace> = traces.iter().collect();
    by_size.sort_by_key(|t| t.patch_count());
    println!();
    println!("| trace (one run each) | `operational-transform` | `submit` | ratio |");
    println!("|---|---:|---:|---:|");
    for trace in by_size.into_iter().skip(2) {
        let started = std::time::Instant::now();
        let text = black_box(ot_crate(trace));
        let ot = started.elapsed();
        assert!(text == trace.end, "{}", trace.name);
        let started = std::time::Instant::now();
        black_box(submit(trace));
        let ours = started.elapsed();
        println!(
            "| {} | {:.2} s | {:.2} ms | {:.0}× |",
            trace.name,
            ot.as_secs_f64(),
            ours.as_secs_f64() * 1e3,
            ot.as_secs_f64() / ours.as_secs_f64()
        );
    }
}
