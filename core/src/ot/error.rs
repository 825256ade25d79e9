//! Errors of the text engine.

/// Returned by [`TextDocument::submit`](crate::TextDocument::submit) when the client's
/// base revision is older than the history the document keeps. The client must
/// fetch a snapshot and call [`TextClient::resync`](crate::TextClient::resync).
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[error(
    "revision {base_rev} is older than the kept history (oldest {oldest_rev}, current {current_rev}); resync from a snapshot"
)]
pub struct StaleRevision {
    /// The revision the client's op was based on.
    pub base_rev: u64,
    /// The oldest revision an op may still be based on.
    pub oldest_rev: u64,
    /// The document's current revision.
    pub current_rev: u64,
}

/// Why an operation could not be built, combined or applied. An op that fails
/// changes nothing.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum OtError {
    /// Two ops were composed whose lengths do not chain.
    #[error(
        "cannot compose: the first op produces {first_target} characters but the second expects {second_base}"
    )]
    ComposeMismatch {
        /// Target length of the first op.
        first_target: usize,
        /// Base length of the second op.
        second_base: usize,
    },
    /// A repeated `(client, seq)` whose first result has left the history.
    #[error(
        "client {client} seq {seq} was applied at revision {rev}, which is no longer kept; resync from a snapshot"
    )]
    DuplicateForgotten {
        /// The client.
        client: u64,
        /// The repeated sequence number.
        seq: u64,
        /// The revision its first submission produced.
        rev: u64,
    },
    /// An op based on a revision the document has not reached.
    #[error("revision {base_rev} is in the future (current revision {current_rev})")]
    FutureRevision {
        /// The revision the op claims as its base.
        base_rev: u64,
        /// The document's current revision.
        current_rev: u64,
    },
    /// The JSON form of an op was malformed.
    #[error("invalid op JSON: {reason}")]
    InvalidJson {
        /// What was wrong.
        reason: String,
    },
    /// An op applied to a text of the wrong length.
    #[error("op expects a text of {op_len} characters but the text has {text_len}")]
    LengthMismatch {
        /// The op's base length, in Unicode scalar values.
        op_len: usize,
        /// The text's length, in Unicode scalar values.
        text_len: usize,
    },
    /// Inserted UTF-16 text holds a surrogate without its partner.
    #[error("inserted UTF-16 text has a lone surrogate 0x{unit:04X} at unit {index}")]
    LoneSurrogate {
        /// Index of the unit in the inserted text.
        index: usize,
        /// The unit.
        unit: u16,
    },
    /// A position or range outside the text.
    #[error("range {start}..{end} is outside a text of {len} characters")]
    OutOfRange {
        /// Start of the range.
        start: usize,
        /// End of the range.
        end: usize,
        /// Length of the text.
        len: usize,
    },
    /// UTF-16 changes that overlap one another.
    #[error("UTF-16 changes overlap at offset {offset}")]
    OverlappingChanges {
        /// UTF-16 offset where the second change starts.
        offset: usize,
    },
    /// The op's base revision is older than the kept history.
    #[error(transparent)]
    StaleRevision(#[from] StaleRevision),
    /// A revision outside the kept history was asked for.
    #[error("revision {rev} is not kept (kept: {oldest_rev}..={current_rev})")]
    RevisionUnavailable {
        /// The revision asked for.
        rev: u64,
        /// The oldest kept revision.
        oldest_rev: u64,
        /// The current revision.
        current_rev: u64,
    },
    /// A UTF-16 offset that falls between the two halves of a surrogate pair.
    #[error("UTF-16 offset {offset} splits a surrogate pair")]
    SplitSurrogate {
        /// The offset, in UTF-16 code units.
        offset: usize,
    },
    /// A sequence number older than the client's latest, no longer kept.
    #[error("client {client} seq {seq} is older than its latest seq {latest} and is not kept")]
    StaleSeq {
        /// The client.
        client: u64,
        /// The sequence number sent.
        seq: u64,
        /// The latest sequence number seen from this client.
        latest: u64,
    },
    /// Two ops were transformed against each other whose base lengths differ.
    #[error("cannot transform: ops expect texts of {left} and {right} characters")]
    TransformMismatch {
        /// Base length of the first op.
        left: usize,
        /// Base length of the second op.
        right: usize,
    },
    /// A server message that does not fit the client's state.
    #[error("unexpected server message: {reason}")]
    UnexpectedMessage {
        /// What did not fit.
        reason: String,
    },
}

impl OtError {
    /// The stable code of this error, e.g. `"ot.length_mismatch"`.
    pub fn code(&self) -> &'static str {
        match self {
            Self::ComposeMismatch { .. } => "ot.compose_mismatch",
            Self::DuplicateForgotten { .. } => "ot.duplicate_forgotten",
            Self::FutureRevision { .. } => "ot.future_revision",
            Self::InvalidJson { .. } => "ot.invalid_json",
            Self::LengthMismatch { .. } => "ot.length_mismatch",
            Self::LoneSurrogate { .. } => "ot.lone_surrogate",
            Self::OutOfRange { .. } => "ot.out_of_range",
            Self::OverlappingChanges { .. } => "ot.overlapping_changes",
            Self::StaleRevision(_) => "ot.resync_required",
            Self::RevisionUnavailable { .. } => "ot.revision_unavailable",
            Self::SplitSurrogate { .. } => "ot.split_surrogate",
            Self::StaleSeq { .. } => "ot.stale_seq",
            Self::TransformMismatch { .. } => "ot.transform_mismatch",
            Self::UnexpectedMessage { .. } => "ot.unexpected_message",
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_variant_has_a_code_and_a_message() {
        let resync = StaleRevision {
            base_rev: 1,
            oldest_rev: 5,
            current_rev: 9,
        };
        let cases: Vec<(OtError, &str, &str)> = vec![
            (
                OtError::ComposeMismatch {
                    first_target: 3,
                    second_base: 4,
                },
                "ot.compose_mismatch",
                "cannot compose: the first op produces 3 characters but the second expects 4",
            ),
            (
                OtError::DuplicateForgotten {
                    client: 7,
                    seq: 2,
                    rev: 3,
                },
                "ot.duplicate_forgotten",
                "client 7 seq 2 was applied at revision 3, which is no longer kept; resync from a snapshot",
            ),
            (
                OtError::FutureRevision {
                    base_rev: 9,
                    current_rev: 3,
                },
                "ot.future_revision",
                "revision 9 is in the future (current revision 3)",
            ),
            (
                OtError::InvalidJson {
                    reason: "0 is not an op".into(),
                },
                "ot.invalid_json",
                "invalid op JSON: 0 is not an op",
            ),
            (
                OtError::LengthMismatch {
                    op_len: 3,
                    text_len: 5,
                },
                "ot.length_mismatch",
                "op expects a text of 3 characters but the text has 5",
            ),
            (
                OtError::LoneSurrogate {
                    index: 1,
                    unit: 0xD800,
                },
                "ot.lone_surrogate",
                "inserted UTF-16 text has a lone surrogate 0xD800 at unit 1",
            ),
            (
                OtError::OutOfRange {
                    start: 4,
                    end: 6,
                    len: 5,
                },
                "ot.out_of_range",
                "range 4..6 is outside a text of 5 characters",
            ),
            (
                OtError::OverlappingChanges { offset: 3 },
                "ot.overlapping_changes",
                "UTF-16 changes overlap at offset 3",
            ),
            (
                OtError::StaleRevision(resync),
                "ot.resync_required",
                "revision 1 is older than the kept history (oldest 5, current 9); resync from a snapshot",
            ),
            (
                OtError::RevisionUnavailable {
                    rev: 1,
                    oldest_rev: 5,
                    current_rev: 9,
                },
                "ot.revision_unavailable",
                "revision 1 is not kept (kept: 5..=9)",
            ),
            (
                OtError::SplitSurrogate { offset: 1 },
                "ot.split_surrogate",
                "UTF-16 offset 1 splits a surrogate pair",
            ),
            (
                OtError::StaleSeq {
                    client: 1,
                    seq: 2,
                    latest: 5,
                },
                "ot.stale_seq",
                "client 1 seq 2 is older than its latest seq 5 and is not kept",
            ),
            (
                OtError::TransformMismatch { left: 1, right: 2 },
                "ot.transform_mismatch",
                "cannot transform: ops expect texts of 1 and 2 characters",
            ),
            (
                OtError::UnexpectedMessage {
                    reason: "ack with nothing pending".into(),
                },
                "ot.unexpected_message",
                "unexpected server message: ack with nothing pending",
            ),
        ];
        for (error, code, message) in cases {
            assert_eq!(error.code(), code);
            assert_eq!(error.to_string(), message);
            assert!(code.starts_with("ot."));
            // The crate error keeps both.
            let wrapped = crate::Error::from(error);
            assert_eq!(wrapped.code(), code);
            assert_eq!(wrapped.to_string(), message);
        }
    }
}
