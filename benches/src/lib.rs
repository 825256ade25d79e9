//! Shared, deterministic workloads for the benches: generated projects and
//! the real editing traces.

/// Whether this is a measuring run (`cargo bench`, which passes `--bench`)
/// rather than `cargo test --benches`, which runs each bench once in a debug
/// build: there the workloads shrink so CI stays quick.
pub fn full_run() -> bool {
    std::env::args().any(|arg| arg == "--bench")
}

mod project;
mod traces;

pub use project::*;
pub use traces::*;
