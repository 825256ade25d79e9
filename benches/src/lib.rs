//! Shared, deterministic workloads for the benches: generated projects and
//! the real editing traces.

mod project;
mod traces;

pub use project::*;
pub use traces::*;
