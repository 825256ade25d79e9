//! Hydration plans: planning 10k files for an empty client, and the whole
//! round trip (plan, materialise every batch as JSON, receive and verify).

#![allow(clippy::unwrap_used)] // a bench that fails should stop at once

use criterion::{Criterion, Throughput, black_box, criterion_group, criterion_main};
use velocity_sync::hydrate::{HydrationOptions, Hydrator, plan};
use velocity_sync::protocol::BulkUpdate;
use velocity_sync::{BlobStore, MemoryBlobStore};
use velocity_sync_benches::{file_content, project_manifest};

fn hydration(c: &mut Criterion) {
    let count = if velocity_sync_benches::full_run() {
        10_000
    } else {
        500
    };
    let manifest = project_manifest(count);
    let mut server = MemoryBlobStore::default();
    for index in 0..count {
        server.insert(file_content(index, 0));
    }
    let options = HydrationOptions::default();
    let mut group = c.benchmark_group("hydrate");
    group.sample_size(10);
    group.throughput(Throughput::Elements(count as u64));
    group.bench_function("plan_10k", |b| {
        b.iter(|| black_box(plan(&manifest, |_| false, |_| false, &options)));
    });
    group.bench_function("round_trip_10k", |b| {
        b.iter(|| {
            let plan = plan(&manifest, |_| false, |_| false, &options);
            let mut hydrator = Hydrator::new(plan.progress_total());
            let mut client = MemoryBlobStore::default();
            for index in 0..plan.batches.len() {
                let wire = serde_json::to_vec(&plan.materialize(index, &server).unwrap()).unwrap();
                let batch: BulkUpdate = serde_json::from_slice(&wire).unwrap();
                black_box(hydrator.receive(&batch, &mut client).unwrap());
            }
            assert!(hydrator.progress().is_complete());
        });
    });
    group.finish();
}

criterion_group!(benches, hydration);
criterion_main!(benches);
