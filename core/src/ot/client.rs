//! [`TextClient`]: the editor's (or agent's) side of the protocol.

use super::document::ClientId;
use super::error::OtError;
use super::op::{Side, TextOp};

/// An op on its way to the server: the arguments of
/// [`TextDocument::submit`](crate::TextDocument::submit).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Submission {
    /// The sender.
    pub client: ClientId,
    /// The sender's sequence number for this op; a resend keeps it.
    pub seq: u64,
    /// The server revision the op applies to.
    pub base_rev: u64,
    /// The op.
    pub op: TextOp,
}

/// Where a [`TextClient`] stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum TextClientState {
    /// One op sent and not yet acknowledged.
    AwaitingAck,
    /// One op sent and more local edits waiting for its acknowledgement.
    AwaitingWithBuffer,
    /// Nothing unacknowledged.
    Synchronised,
}

/// What [`TextClient::resync`] returns.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Resynced {
    /// Apply this to the local text to reach the snapshot.
    pub apply: TextOp,
    /// The local edits the server never confirmed, relative to the text the
    /// client had before the resync (`None` when there were none). They are
    /// dropped; an editor may show them or re-apply them by hand.
    pub unconfirmed: Option<TextOp>,
}

/// The classic three-state OT client: it sends one op at a time, buffers
/// local edits while waiting for the acknowledgement, and transforms remote
/// ops against what the server has not confirmed yet. Pure: it holds no
/// text, does no IO and is deterministic.
///
/// ```
/// use velocity_sync::ot::TextClientState;
/// use velocity_sync::{TextClient, TextOp};
/// # fn main() -> Result<(), velocity_sync::OtError> {
/// let mut client = TextClient::new(7, 0);
/// let sent = client.local_edit(TextOp::from_splice(0, 0, 0, "a")?)?;
/// assert_eq!(sent.map(|s| (s.seq, s.base_rev)), Some((1, 0)));
/// // Typing on while the server has not answered: buffered.
/// assert!(client.local_edit(TextOp::from_splice(1, 1, 0, "b")?)?.is_none());
/// assert_eq!(client.state(), TextClientState::AwaitingWithBuffer);
/// // A remote op arrives first: it comes back transformed for the local text
/// // (at the same spot, the local client's unconfirmed text goes first).
/// let local = client.remote(1, &TextOp::from_splice(0, 0, 0, "X")?)?;
/// assert_eq!(local.apply("ab")?, "abX");
/// // The ack sends the buffer.
/// let next = client.ack(2)?.expect("buffer sent");
/// assert_eq!((next.seq, next.base_rev), (2, 2));
/// # Ok(())
/// # }
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TextClient {
    id: ClientId,
    rev: u64,
    next_seq: u64,
    /// Sent, unacknowledged; its op is relative to `rev`.
    pending: Option<(u64, TextOp)>,
    /// Not sent yet; consecutive ops after `pending`, composed when needed.
    buffer: Vec<TextOp>,
}

impl TextClient {
    /// A synchronised client `id` whose text is the server's at `rev`.
    pub fn new(id: ClientId, rev: u64) -> Self {
        Self {
            id,
            rev,
            next_seq: 1,
            pending: None,
            buffer: Vec::new(),
        }
    }

    /// Starts sequence numbers at `seq` (at least 1): a participant that
    /// recreates its client for a file must keep numbering where it left
    /// off, or the server takes new edits for retries of old ones.
    #[must_use]
    pub fn with_next_seq(mut self, seq: u64) -> Self {
        self.next_seq = seq.max(1);
        self
    }

    /// The sequence number the next submission will carry.
    pub fn next_seq(&self) -> u64 {
        self.next_seq
    }

    /// This client's id.
    pub fn id(&self) -> ClientId {
        self.id
    }

    /// The last server revision this client has applied.
    pub fn rev(&self) -> u64 {
        self.rev
    }

    /// Where the client stands.
    pub fn state(&self) -> TextClientState {
        match (&self.pending, self.buffer.is_empty()) {
            (None, _) => TextClientState::Synchronised,
            (Some(_), true) => TextClientState::AwaitingAck,
            (Some(_), false) => TextClientState::AwaitingWithBuffer,
        }
    }

    /// The op sent and awaiting its ack, with its sequence number, as
    /// transformed against every remote op received since.
    pub fn pending(&self) -> Option<(u64, &TextOp)> {
        self.pending.as_ref().map(|(seq, op)| (*seq, op))
    }

    /// Local edits made while awaiting an ack, not sent yet.
    pub fn buffered(&self) -> &[TextOp] {
        &self.buffer
    }

    /// Records an edit the user made (already applied to the local text).
    /// Returns the submission to send when nothing was awaiting an ack.
    ///
    /// # Errors
    /// [`OtError::LengthMismatch`] when the op does not follow the previous
    /// unconfirmed edit; the client is unchanged.
    pub fn local_edit(&mut self, op: TextOp) -> Result<Option<Submission>, OtError> {
        let expected = self
            .buffer
            .last()
            .or(self.pending.as_ref().map(|(_, p)| p))
            .map(TextOp::target_len);
        if let Some(len) = expected
            && len != op.base_len()
        {
            return Err(OtError::LengthMismatch {
                op_len: op.base_len(),
                text_len: len,
            });
        }
        if self.pending.is_some() {
            self.buffer.push(op);
            return Ok(None);
        }
        Ok(Some(self.send(op)))
    }

    /// The server acknowledged the pending op as revision `rev`. Returns the
    /// buffered edits, composed into one submission, if there were any. An
    /// ack for a revision already applied (a duplicate answer to a resend)
    /// is ignored.
    ///
    /// # Errors
    /// [`OtError::UnexpectedMessage`] when nothing is pending or `rev` skips
    /// a revision.
    pub fn ack(&mut self, rev: u64) -> Result<Option<Submission>, OtError> {
        if rev <= self.rev {
            return Ok(None);
        }
        if self.pending.is_none() || Some(rev) != self.rev.checked_add(1) {
            return Err(OtError::UnexpectedMessage {
                reason: format!(
                    "ack for revision {rev} at revision {} with {} pending",
                    self.rev,
                    if self.pending.is_some() {
                        "an op"
                    } else {
                        "nothing"
                    }
                ),
            });
        }
        // `local_edit` checked that the buffer chains, so this cannot fail
        // (and on failure the client would be unchanged).
        let buffered = TextOp::compose_all(self.buffer.iter().cloned())?;
        self.buffer.clear();
        self.pending = None;
        self.rev = rev;
        Ok(buffered.map(|op| self.send(op)))
    }

    /// A remote op, applied by the server as revision `rev`. Returns it
    /// transformed to apply to the local text (which holds the unconfirmed
    /// local edits).
    ///
    /// # Errors
    /// [`OtError::UnexpectedMessage`] when `rev` is not the next revision;
    /// [`OtError::TransformMismatch`] when the op does not fit. The client is
    /// unchanged.
    pub fn remote(&mut self, rev: u64, op: &TextOp) -> Result<TextOp, OtError> {
        if Some(rev) != self.rev.checked_add(1) {
            return Err(OtError::UnexpectedMessage {
                reason: format!("remote op for revision {rev} at revision {}", self.rev),
            });
        }
        let mut op = op.clone();
        let mut pending = self.pending.clone();
        if let Some((_, mine)) = &mut pending {
            let (mine2, op2) = TextOp::transform(mine, &op, Side::Left)?;
            *mine = mine2;
            op = op2;
        }
        let mut buffer = Vec::new();
        if let Some(mine) = TextOp::compose_all(self.buffer.iter().cloned())? {
            let (mine2, op2) = TextOp::transform(&mine, &op, Side::Left)?;
            buffer.push(mine2);
            op = op2;
        }
        self.pending = pending;
        self.buffer = buffer;
        self.rev = rev;
        Ok(op)
    }

    /// After a reconnect: the pending op to send again, with its original
    /// sequence number (the server answers a duplicate with its first
    /// result). Buffered edits follow after its ack as usual.
    pub fn reconnect(&self) -> Option<Submission> {
        self.pending.as_ref().map(|(seq, op)| Submission {
            client: self.id,
            seq: *seq,
            base_rev: self.rev,
            op: op.clone(),
        })
    }

    /// Starts over from a server snapshot (after
    /// [`StaleRevision`](super::StaleRevision)): the client becomes
    /// synchronised at `rev` and returns the op that turns `local_text` into
    /// `snapshot`, plus the unconfirmed local edits it dropped.
    ///
    /// # Errors
    /// [`OtError::ComposeMismatch`] when the unconfirmed edits do not chain
    /// (never for ops accepted by [`local_edit`](Self::local_edit)).
    pub fn resync(
        &mut self,
        rev: u64,
        snapshot: &str,
        local_text: &str,
    ) -> Result<Resynced, OtError> {
        let unconfirmed = TextOp::compose_all(
            self.pending
                .iter()
                .map(|(_, op)| op.clone())
                .chain(self.buffer.iter().cloned()),
        )?;
        self.rev = rev;
        self.pending = None;
        self.buffer.clear();
        Ok(Resynced {
            apply: TextOp::diff(local_text, snapshot),
            unconfirmed,
        })
    }

    fn send(&mut self, op: TextOp) -> Submission {
        let seq = self.next_seq;
        self.next_seq += 1;
        self.pending = Some((seq, op.clone()));
        Submission {
            client: self.id,
            seq,
            base_rev: self.rev,
            op,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::TextDocument;

    #[test]
    fn walks_the_three_states() {
        let mut c = TextClient::new(1, 0);
        assert_eq!(c.state(), TextClientState::Synchronised);
        let s = c
            .local_edit(TextOp::from_splice(0, 0, 0, "a").unwrap())
            .unwrap()
            .unwrap();
        assert_eq!(
            s,
            Submission {
                client: 1,
                seq: 1,
                base_rev: 0,
                op: TextOp::from_splice(0, 0, 0, "a").unwrap()
            }
        );
        assert_eq!(c.state(), TextClientState::AwaitingAck);
        c.local_edit(TextOp::from_splice(1, 1, 0, "b").unwrap())
            .unwrap();
        c.local_edit(TextOp::from_splice(2, 2, 0, "c").unwrap())
            .unwrap();
        assert_eq!(c.state(), TextClientState::AwaitingWithBuffer);
        let next = c.ack(1).unwrap().unwrap();
        assert_eq!(next.op.apply("a").unwrap(), "abc");
        assert_eq!((next.seq, next.base_rev), (2, 1));
        assert_eq!(c.ack(2).unwrap(), None);
        assert_eq!(c.state(), TextClientState::Synchronised);
        assert_eq!(c.rev(), 2);
    }

    #[test]
    fn bad_messages_are_typed_and_change_nothing() {
        let mut c = TextClient::new(1, 5);
        assert_eq!(c.ack(7).unwrap_err().code(), "ot.unexpected_message");
        assert_eq!(c.ack(5).unwrap(), None);
        assert_eq!(
            c.remote(9, &TextOp::new()).unwrap_err().code(),
            "ot.unexpected_message"
        );
        c.local_edit(TextOp::from_splice(3, 0, 0, "x").unwrap())
            .unwrap();
        let before = c.clone();
        assert_eq!(
            c.remote(6, &TextOp::identity(2)).unwrap_err().code(),
            "ot.transform_mismatch"
        );
        assert_eq!(
            c.local_edit(TextOp::identity(3)).unwrap_err().code(),
            "ot.length_mismatch"
        );
        assert_eq!(c, before);
    }

    #[test]
    fn reconnect_resends_with_the_same_seq() {
        let mut server = TextDocument::from_text("ab");
        let mut c = TextClient::new(1, 0);
        let sent = c
            .local_edit(TextOp::from_splice(2, 2, 0, "!").unwrap())
            .unwrap()
            .unwrap();
        // The server applied it but the ack was lost.
        let first = server
            .submit(sent.client, sent.seq, sent.base_rev, sent.op)
            .unwrap();
        let again = c.reconnect().unwrap();
        assert_eq!(again.seq, 1);
        let second = server
            .submit(again.client, again.seq, again.base_rev, again.op)
            .unwrap();
        assert!(second.duplicate);
        assert_eq!(second.rev, first.rev);
        assert_eq!(c.ack(second.rev).unwrap(), None);
        assert_eq!(server.text(), "ab!");
        assert_eq!(c.reconnect(), None);
    }

    #[test]
    fn resync_returns_the_way_to_the_snapshot() {
        let mut c = TextClient::new(1, 0);
        c.local_edit(TextOp::from_splice(2, 0, 0, "x").unwrap())
            .unwrap();
        let out = c.resync(40, "abc", "xab").unwrap();
        assert_eq!(out.apply.apply("xab").unwrap(), "abc");
        assert_eq!(
            out.unconfirmed,
            Some(TextOp::from_splice(2, 0, 0, "x").unwrap())
        );
        assert_eq!((c.state(), c.rev()), (TextClientState::Synchronised, 40));
    }
}
