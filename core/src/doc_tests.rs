//! Every Rust code block of the project's Markdown, compiled and run as doc
//! tests (`cargo test -p velocity-sync --doc`), so the docs cannot drift.

/// The README's examples.
#[doc = include_str!("../../README.md")]
pub struct Readme;
