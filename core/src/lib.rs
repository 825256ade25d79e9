//! # velocity-sync
//!
//! One sync engine for every participant of a web project: the browser
//! editor, the server that owns the truth, and the preview containers that
//! write files to disk. This crate is the sans-IO core: it never opens a
//! socket or a file and never reads a clock, so the same logic runs natively
//! and in WebAssembly.
//!
//! What lives here:
//! - [`FilePath`]: validated project-relative paths, the guard between a
//!   hostile message and a disk;
//! - [`ContentHash`] / [`Sha256Digest`]: content addresses and database checksums;
//! - [`FileEntry`]: one file's identity, kind, size, hash and revision;
//! - [`Manifest`]: a versioned Merkle tree of entries, with [`Manifest::diff`]
//!   and [`Manifest::apply`];
//! - [`BlobStore`] and [`Changeset`]: content-addressed blobs and the minimal
//!   package that takes a receiver from one manifest to the next;
//! - [`rows`]: codecs for the platform's `project_files` rows;
//! - [`ot`]: operational transform for live text editing ([`TextOp`],
//!   [`Document`], [`Client`]).
//!
//! Every error carries a stable [`Error::code`].
#![warn(missing_docs)]
#![forbid(unsafe_code)]

pub mod changeset;
pub mod client;
pub mod entry;
pub mod error;
pub mod hash;
pub mod hydrate;
pub mod manifest;
pub mod ot;
pub mod path;
pub mod protocol;
pub mod rows;
pub mod server;
pub mod store;

pub use changeset::{Changeset, ChangesetError, Content, DeltaOp, Payload};
pub use client::{ClientError, ClientEvent, ProjectClient};
pub use entry::{EntryError, FileEntry, FileId, FileKind};
pub use error::{Error, Result};
pub use hash::{ContentHash, HashError, Sha256Digest, hash_both};
pub use manifest::{Change, Diff, Manifest, ManifestError, ManifestId, ManifestLimits};
pub use ot::{
    Bias, Client, ClientId, ClientState, Component, Document, OtError, ResyncRequired, Side,
    Submission, Submitted, TextOp, UndoManager, Utf16Change, Utf16Index,
};
pub use path::{FilePath, PathError, PortableKey};
pub use rows::{
    DecodedRow, MismatchPolicy, RowContext, RowError, RowIssue, RowShape, decode_row, encode_row,
};
pub use server::{ProjectServer, Recipient, Role, ServerConfig, SyncError};
pub use store::{Blob, BlobStore, MemoryBlobStore, StoreError};

/// The README's examples, compiled and run as doc tests.
#[cfg(doctest)]
#[doc = include_str!("../../README.md")]
pub struct ReadmeDoctests;

/// This crate's version, as the bindings report it.
pub const VERSION: &str = env!("CARGO_PKG_VERSION");
