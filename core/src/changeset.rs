//! Changesets (in progress).

/// Why a changeset could not be decoded or applied.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum ChangesetError {
    /// The changeset's base is not the receiver's manifest.
    #[error("changeset base {expected} is not the receiver's manifest {actual}")]
    BaseMismatch {
        /// The base the changeset names.
        expected: String,
        /// The receiver's manifest id.
        actual: String,
    },
}

impl ChangesetError {
    /// The stable code of this error.
    pub fn code(&self) -> &'static str {
        match self {
            Self::BaseMismatch { .. } => "changeset.base_mismatch",
        }
    }
}
