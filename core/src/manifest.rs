//! Versioned Merkle manifests (in progress).

/// Why a manifest operation failed.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum ManifestError {
    /// No entry at this path.
    #[error("no entry at {path}")]
    NotFound {
        /// The path.
        path: String,
    },
}

impl ManifestError {
    /// The stable code of this error.
    pub fn code(&self) -> &'static str {
        match self {
            Self::NotFound { .. } => "manifest.not_found",
        }
    }
}
