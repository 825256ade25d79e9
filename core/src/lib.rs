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
//!   [`TextDocument`], [`TextClient`]).
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

mod blob;
mod changeset;
mod client;
mod entry;
mod error;
pub mod foreign;
mod hash;
pub mod hydrate;
mod manifest;
mod nfc;
pub mod ot;
mod path;
pub mod protocol;
pub mod rows;
mod server;
mod sort;
pub mod token;
mod wire;

// The working set, at the root; everything else lives in its module
// (`ot`, `protocol`, `hydrate`, `rows`, `foreign`, `token`). One path per type.
pub use blob::{Blob, BlobError, BlobStore, MemoryBlobStore, Verified};
pub use changeset::{
    CHANGESET_FORMAT, Changeset, ChangesetError, Content, DeltaOp, MAX_DELTA_INPUT, Payload,
};
pub use client::{ClientError, ClientEvent, LocalEdit, ProjectClient};
pub use entry::{EntryError, FileEntry, FileId, FileKind};
pub use error::{Error, Result};
pub use hash::{ContentHash, HashError, Sha256Digest, hash_both};
pub use manifest::{Change, Diff, Manifest, ManifestError, ManifestId, ManifestLimits};
pub use ot::client::TextClient;
pub use ot::document::TextDocument;
pub use ot::error::OtError;
pub use ot::op::TextOp;
pub use path::{FilePath, MAX_PATH_BYTES, MAX_SEGMENT_BYTES, PathError, PortableKey};
pub use server::{Outbound, ProjectServer, Recipient, Role, ServerConfig, SyncError};

#[cfg(doctest)]
mod doc_tests;

/// This crate's version, as the bindings report it.
pub const VERSION: &str = env!("CARGO_PKG_VERSION");
