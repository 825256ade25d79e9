//! Memory held by manifests, measured with a counting allocator. Prints a
//! table; run with `cargo bench -p velocity-sync-benches --bench memory`.

#![allow(clippy::unwrap_used)] // a bench that fails should stop at once

use std::alloc::{GlobalAlloc, Layout, System};
use std::sync::atomic::{AtomicUsize, Ordering};

use velocity_sync::FileEntry;
use velocity_sync_benches::{file_content, project_entries, project_manifest, project_path};

struct Counting;

static LIVE: AtomicUsize = AtomicUsize::new(0);

// SAFETY: forwards to the system allocator and only counts sizes.
#[allow(unsafe_code)]
unsafe impl GlobalAlloc for Counting {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        LIVE.fetch_add(layout.size(), Ordering::Relaxed);
        // SAFETY: same layout contract as the caller's.
        unsafe { System.alloc(layout) }
    }

    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        LIVE.fetch_sub(layout.size(), Ordering::Relaxed);
        // SAFETY: `ptr` came from `alloc` above with this layout.
        unsafe { System.dealloc(ptr, layout) }
    }
}

#[global_allocator]
static ALLOCATOR: Counting = Counting;

fn held<T>(make: impl FnOnce() -> T) -> (T, usize) {
    let before = LIVE.load(Ordering::Relaxed);
    let value = make();
    (value, LIVE.load(Ordering::Relaxed).saturating_sub(before))
}

fn main() {
    // `cargo test --benches` runs this binary without `--bench`: keep that quick.
    let quick = !std::env::args().any(|arg| arg == "--bench");
    let sizes: &[usize] = if quick {
        &[1_000]
    } else {
        &[1_000, 10_000, 100_000]
    };
    println!("| files | manifest held | per file | + next version after 1 update |");
    println!("|---:|---:|---:|---:|");
    for &count in sizes {
        drop(project_entries(0));
        let (manifest, bytes) = held(|| project_manifest(count));
        let (next, extra) = held(|| {
            let mut next = manifest.successor();
            next.insert(FileEntry::from_content(
                project_path(1),
                &file_content(1, 1),
            ))
            .unwrap_or_else(|e| panic!("{e}"));
            next
        });
        println!(
            "| {count} | {:.2} MB | {} B | {} B |",
            bytes as f64 / 1e6,
            bytes / count,
            extra
        );
        drop((manifest, next));
    }
}
