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
//! - [`ProjectServer`] / [`ProjectClient`]: the authority and a participant,
//!   speaking the [`protocol`] (see `PROTOCOL.md`); [`hydrate`] plans bring a
//!   participant from nothing to the server's project.
//!
//! Every error carries a stable [`Error::code`].
//!
//! # A server and two clients
//! The caller moves messages; here, directly, in a loop until all are quiet.
//!
//! ```
//! use velocity_sync::{FilePath, ProjectClient, ProjectServer, Recipient, Role, ServerConfig, TextOp};
//! # fn main() -> Result<(), velocity_sync::Error> {
//! let mut server = ProjectServer::new(ServerConfig::default());
//! let mut clients = [ProjectClient::new(1), ProjectClient::new(2)];
//! for client in &mut clients {
//!     server.connect(client.id(), Role::Editor);
//!     client.connect();
//! }
//! let id = clients[0].create(FilePath::parse("notes.md")?, Some(b"hello".to_vec()));
//! let mut pump = |server: &mut ProjectServer, clients: &mut [ProjectClient; 2]| loop {
//!     let mut quiet = true;
//!     for client in clients.iter_mut() {
//!         while let Some(message) = client.poll_outbound() {
//!             server.handle(client.id(), message);
//!             quiet = false;
//!         }
//!     }
//!     while let Some(out) = server.poll_outbound() {
//!         for client in clients.iter_mut() {
//!             let to_me = match out.to {
//!                 Recipient::Client(c) => c == client.id(),
//!                 Recipient::AllExcept(c) => c != client.id(),
//!                 Recipient::All => true,
//!             };
//!             if to_me {
//!                 client.handle((*out.message).clone());
//!             }
//!         }
//!         quiet = false;
//!     }
//!     if quiet {
//!         break;
//!     }
//! };
//! pump(&mut server, &mut clients);
//! // Both type at the same time.
//! clients[0].edit(id, TextOp::from_splice(5, 5, 0, " world")?)?;
//! clients[1].edit(id, TextOp::from_splice(5, 0, 0, ">> ")?)?;
//! pump(&mut server, &mut clients);
//! assert_eq!(clients[0].text(&id).as_deref(), Some(">> hello world"));
//! assert_eq!(clients[1].text(&id).as_deref(), Some(">> hello world"));
//! # Ok(())
//! # }
//! ```
#![warn(missing_docs)]
#![forbid(unsafe_code)]

pub mod changeset;
pub mod client;
pub mod entry;
pub mod error;
pub mod foreign;
pub mod hash;
pub mod hydrate;
pub mod manifest;
mod nfc;
pub mod ot;
pub mod path;
pub mod protocol;
pub mod rows;
pub mod server;
mod sort;
pub mod store;
pub mod token;
mod wire;

pub use changeset::{Changeset, ChangesetError, Content, DeltaOp, Payload};
pub use client::{ClientError, ClientEvent, LocalEdit, ProjectClient};
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
pub use store::{Blob, BlobStore, MemoryBlobStore, StoreError, Verified};

#[cfg(doctest)]
mod doc_tests;

/// This crate's version, as the bindings report it.
pub const VERSION: &str = env!("CARGO_PKG_VERSION");
