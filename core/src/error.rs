//! The crate's error type: one enum per concern, gathered in [`Error`].

use crate::OtError;
use crate::blob::BlobError;
use crate::changeset::ChangesetError;
use crate::client::ClientError;
use crate::entry::EntryError;
use crate::hash::HashError;
use crate::hydrate::HydrateError;
use crate::manifest::ManifestError;
use crate::path::PathError;
use crate::protocol::ProtocolError;
use crate::rows::RowError;
use crate::server::SyncError;

/// Any error produced by `velocity-sync`.
///
/// The crate's error type: one enum per concern, gathered in [`Error`].
///
/// Every error has a stable, dotted [`code`](Error::code) such as
/// `"path.parent_segment"`. Codes never change meaning once released; the
/// WASM and C bindings hand them to callers unchanged, so a program can branch
/// on a code while showing the message to a person.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// A local change could not be made.
    #[error(transparent)]
    Client(#[from] ClientError),
    /// A changeset could not be decoded or applied.
    #[error(transparent)]
    Changeset(#[from] ChangesetError),
    /// A file id or kind was malformed.
    #[error(transparent)]
    Entry(#[from] EntryError),
    /// A hash string or digest was malformed.
    #[error(transparent)]
    Hash(#[from] HashError),
    /// A hydration batch could not be built or received.
    #[error(transparent)]
    Hydrate(#[from] HydrateError),
    /// A manifest operation broke an invariant or a limit.
    #[error(transparent)]
    Manifest(#[from] ManifestError),
    /// A text operation did not fit, or the server needs a resync.
    #[error(transparent)]
    Ot(#[from] OtError),
    /// A path was rejected.
    #[error(transparent)]
    Path(#[from] PathError),
    /// A message was refused before it reached the project.
    #[error(transparent)]
    Protocol(#[from] ProtocolError),
    /// A `project_files` row could not be decoded or encoded.
    #[error(transparent)]
    Row(#[from] RowError),
    /// The server refused a request.
    #[error(transparent)]
    Sync(#[from] SyncError),
    /// A blob store refused or lacked a blob.
    #[error(transparent)]
    Store(#[from] BlobError),
}

impl Error {
    /// The stable code of this error, e.g. `"path.parent_segment"`.
    pub fn code(&self) -> &'static str {
        match self {
            Self::Changeset(e) => e.code(),
            Self::Client(e) => e.code(),
            Self::Entry(e) => e.code(),
            Self::Hash(e) => e.code(),
            Self::Hydrate(e) => e.code(),
            Self::Manifest(e) => e.code(),
            Self::Ot(e) => e.code(),
            Self::Path(e) => e.code(),
            Self::Protocol(e) => e.code(),
            Self::Row(e) => e.code(),
            Self::Store(e) => e.code(),
            Self::Sync(e) => e.code(),
        }
    }
}

/// Shorthand for results whose error is the crate's [`Error`].
pub type Result<T, E = Error> = core::result::Result<T, E>;
