//! Line diffs for changeset deltas: `similar` (Myers) next to `imara-diff`
//! (Histogram and Myers) on 1–2 MB texts, in one run, to pick by measuring.

#![allow(clippy::unwrap_used)] // a bench that fails should stop at once

use criterion::{BenchmarkId, Criterion, Throughput, black_box, criterion_group, criterion_main};

/// A source-like text of about `bytes` bytes, and a copy with every
/// `every`-th line edited.
fn texts(bytes: usize, every: usize) -> (String, String) {
    let mut old = String::new();
    let mut new = String::new();
    let mut n = 0usize;
    while old.len() < bytes {
        let line = format!(
            "    let value_{n} = compute({}, \"{}\");\n",
            n * 7 % 1000,
            n % 97
        );
        old.push_str(&line);
        if n.is_multiple_of(every) {
            new.push_str(&format!("    let value_{n} = recompute({});\n", n % 13));
        } else {
            new.push_str(&line);
        }
        n += 1;
    }
    (old, new)
}

fn similar_lines(old: &str, new: &str) -> usize {
    let diff = similar::TextDiff::configure()
        .algorithm(similar::Algorithm::Myers)
        .diff_lines(old, new);
    diff.ops().len()
}

fn imara_lines(old: &str, new: &str, algorithm: imara_diff::Algorithm) -> usize {
    let input = imara_diff::InternedInput::new(old, new);
    let diff = imara_diff::Diff::compute(algorithm, &input);
    diff.hunks().count()
}

fn line_diffs(c: &mut Criterion) {
    let mut group = c.benchmark_group("delta/line_diff");
    group.sample_size(10);
    // In test mode (debug, run once) similar's quadratic rewrite would take
    // minutes: use small inputs there.
    let unit = if velocity_sync_benches::full_run() {
        1 << 20
    } else {
        16 << 10
    };
    let cases = [
        ("1MB_1pct", texts(unit, 100)),
        ("2MB_1pct", texts(2 * unit, 100)),
        ("2MB_rewrite", texts(2 * unit, 1)),
    ];
    for (name, (old, new)) in &cases {
        group.throughput(Throughput::Bytes((old.len() + new.len()) as u64));
        group.bench_with_input(BenchmarkId::new("similar_myers", name), &(), |b, ()| {
            b.iter(|| black_box(similar_lines(old, new)));
        });
        group.bench_with_input(BenchmarkId::new("imara_histogram", name), &(), |b, ()| {
            b.iter(|| black_box(imara_lines(old, new, imara_diff::Algorithm::Histogram)));
        });
        group.bench_with_input(BenchmarkId::new("imara_myers", name), &(), |b, ()| {
            b.iter(|| black_box(imara_lines(old, new, imara_diff::Algorithm::Myers)));
        });
    }
    group.finish();
}

criterion_group!(benches, line_diffs);
criterion_main!(benches);
