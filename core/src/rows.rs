//! Codecs for the platform's `project_files` rows (filled in by the rows work).

/// Why a `project_files` row could not be decoded or encoded.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum RowError {
    /// A column the target shape requires has no value.
    #[error("column {column:?} is required but has no value")]
    MissingColumn {
        /// The column.
        column: String,
    },
}

impl RowError {
    /// The stable code of this error.
    pub fn code(&self) -> &'static str {
        match self {
            Self::MissingColumn { .. } => "row.missing_column",
        }
    }
}
