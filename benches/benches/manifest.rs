//! Manifest costs at project scale: build, one update plus new id, a small
//! diff; and hashing throughput next to raw BLAKE3.

#![allow(clippy::unwrap_used)] // a bench that fails should stop at once

use criterion::{BenchmarkId, Criterion, Throughput, black_box, criterion_group, criterion_main};
use velocity_sync::{ContentHash, FileEntry, Manifest, ManifestLimits, hash_both};
use velocity_sync_benches::{file_content, project_entries, project_manifest, project_path};

fn build(c: &mut Criterion) {
    let mut group = c.benchmark_group("manifest/build");
    group.sample_size(10);
    let counts: &[usize] = if velocity_sync_benches::full_run() {
        &[1_000, 10_000, 100_000]
    } else {
        &[1_000]
    };
    for &count in counts {
        let entries = project_entries(count);
        group.throughput(Throughput::Elements(count as u64));
        group.bench_with_input(BenchmarkId::new("insert", count), &entries, |b, entries| {
            b.iter(|| {
                let mut manifest = Manifest::with_limits(ManifestLimits::unlimited());
                for entry in entries {
                    manifest.insert(entry.clone()).unwrap();
                }
                black_box(manifest.id())
            });
        });
        group.bench_with_input(BenchmarkId::new("extend", count), &entries, |b, entries| {
            b.iter(|| {
                let mut manifest = Manifest::with_limits(ManifestLimits::unlimited());
                manifest.extend(entries.iter().cloned()).unwrap();
                black_box(manifest.id())
            });
        });
    }
    group.finish();
}

fn update(c: &mut Criterion) {
    let size = if velocity_sync_benches::full_run() {
        100_000
    } else {
        2_000
    };
    let base = project_manifest(size);
    let mut edit = 0u64;
    let mut group = c.benchmark_group("manifest");
    // The server's case: the previous version stays alive (shared), so the
    // update copies the directories on the path and rehashes them.
    group.bench_function("update_and_id_100k", |b| {
        b.iter(|| {
            edit += 1;
            let index = (edit as usize * 7919) % size;
            let mut next = base.successor();
            let content = file_content(index, edit);
            let entry = FileEntry::from_content(project_path(index), &content)
                .with_id(velocity_sync::FileId::from_u128(index as u128 + 1));
            next.insert(entry).unwrap();
            black_box(next.id())
        });
    });
    // The same update when no other version shares the tree (in place).
    let mut owned = base.clone();
    let content = file_content(0, 1);
    let hash = ContentHash::of(&content);
    group.bench_function("update_in_place_and_id_100k", |b| {
        b.iter(|| {
            edit += 1;
            let index = (edit as usize * 7919) % size;
            let mut entry = owned.get(&project_path(index)).unwrap();
            entry.hash = hash;
            entry.revision += 1;
            owned.insert(entry).unwrap();
            black_box(owned.id())
        });
    });
    let mut changed = base.successor();
    for k in 0..10 {
        let index = k * (size / 10 - 7);
        changed
            .insert(FileEntry::from_content(
                project_path(index),
                &file_content(index, 1),
            ))
            .unwrap();
    }
    group.bench_function("diff_10_changes_100k", |b| {
        b.iter(|| black_box(base.diff(&changed)));
    });
    group.finish();
}

fn hashing(c: &mut Criterion) {
    let mut group = c.benchmark_group("hash");
    for (name, size) in [
        ("4KiB", 4usize << 10),
        ("1MiB", 1 << 20),
        ("64MiB", 64 << 20),
    ] {
        let data: Vec<u8> = (0..size).map(|i| (i * 31 % 251) as u8).collect();
        group.throughput(Throughput::Bytes(size as u64));
        if size > 1 << 20 {
            group.sample_size(10);
        }
        group.bench_with_input(BenchmarkId::new("raw_blake3", name), &data, |b, data| {
            b.iter(|| black_box(blake3::hash(data)));
        });
        group.bench_with_input(BenchmarkId::new("content_hash", name), &data, |b, data| {
            b.iter(|| black_box(ContentHash::of(data)));
        });
        group.bench_with_input(BenchmarkId::new("hash_both", name), &data, |b, data| {
            b.iter(|| black_box(hash_both(data)));
        });
    }
    group.finish();
}

criterion_group!(benches, build, update, hashing);
criterion_main!(benches);
