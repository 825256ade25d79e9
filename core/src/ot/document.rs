//! [`TextDocument`]: the server's copy of one text file.

use std::cell::Cell;
use std::collections::{BTreeMap, VecDeque};
use std::ops::Range;

use super::body::Body;

use super::error::{OtError, StaleRevision};
use super::op::{Component, Side, TextOp, char_len};
use super::utf16::Utf16Index;
use super::window::{self, Window};
use crate::hash::ContentHash;

/// Who sent an op: any number the server uses to tell connections apart.
pub type ClientId = u64;

/// History kept by [`TextDocument::new`], in ops.
pub const DEFAULT_HISTORY: usize = 1024;

/// Above this many concurrent ops, [`TextDocument::submit`] composes them first
/// and transforms once, so a long-offline client costs the sum of both
/// histories, not their product.
const COMPOSE_THRESHOLD: usize = 8;

/// The result of [`TextDocument::submit`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Submitted {
    /// The revision the op produced.
    pub rev: u64,
    /// The op as applied, to broadcast to every other client (and to ack the
    /// sender with `rev`).
    pub op: TextOp,
    /// Whether this `(client, seq)` had been submitted before; the result is
    /// the first one again and nothing changed.
    pub duplicate: bool,
}

/// The server's copy of one text file: content in a rope, a revision number
/// and a bounded, compact history of the ops applied.
///
/// ```
/// use velocity_sync::{TextDocument, TextOp};
/// # fn main() -> Result<(), velocity_sync::OtError> {
/// let mut doc = TextDocument::from_text("hello");
/// // Two clients edit revision 0 at the same time.
/// let a = doc.submit(1, 1, 0, TextOp::from_splice(5, 5, 0, "!")?)?;
/// let b = doc.submit(2, 1, 0, TextOp::from_splice(5, 0, 1, "J")?)?;
/// assert_eq!((a.rev, b.rev), (1, 2));
/// assert_eq!(doc.text(), "Jello!");
/// // A retry of client 1's op is answered with the first result.
/// let again = doc.submit(1, 1, 0, TextOp::from_splice(5, 5, 0, "!")?)?;
/// assert!(again.duplicate);
/// assert_eq!(again.rev, 1);
/// assert_eq!(doc.text(), "Jello!");
/// # Ok(())
/// # }
/// ```
#[derive(Clone)]
pub struct TextDocument {
    /// The text: a buffered rope while edited (runs of adjacent keystrokes
    /// are merged before they reach the skip list, 4× faster than a plain
    /// `JumpRope` on the traces), a flat string after [`TextDocument::compact`].
    body: Body,
    rev: u64,
    history: History,
    clients: BTreeMap<ClientId, Seen>,
    scratch: String,
    /// The text around the last edit, so a delete there reads the deleted
    /// text here instead of flushing the rope's buffer and walking it.
    window: Window,
    /// Text read from the rope around a delete that missed the window.
    context: String,
    /// The last hash computed, by revision: asking again costs nothing.
    hash_cache: Cell<Option<(u64, ContentHash)>>,
}

#[derive(Debug, Clone, Copy)]
struct Seen {
    seq: u64,
    rev: u64,
}

impl std::fmt::Debug for TextDocument {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("TextDocument")
            .field("rev", &self.rev)
            .field("len_chars", &self.body.len_chars())
            .field("history", &self.history.entries.len())
            .finish_non_exhaustive()
    }
}

impl Default for TextDocument {
    fn default() -> Self {
        Self::new()
    }
}

impl TextDocument {
    /// An empty document at revision 0.
    pub fn new() -> Self {
        Self::from_text("")
    }

    /// A document holding `text` at revision 0.
    pub fn from_text(text: &str) -> Self {
        Self::from_snapshot(text, 0)
    }

    /// A document holding `text` at revision `rev`, with no history (ops based
    /// on an older revision get [`StaleRevision`]).
    pub fn from_snapshot(text: &str, rev: u64) -> Self {
        Self {
            body: Body::new(text),
            rev,
            history: History::new(DEFAULT_HISTORY),
            clients: BTreeMap::new(),
            scratch: String::new(),
            window: Window::default(),
            context: String::new(),
            hash_cache: Cell::new(None),
        }
    }

    /// Keep at most `ops` ops of history (at least 1).
    #[must_use]
    pub fn with_history_limit(mut self, ops: usize) -> Self {
        self.history.limit = ops.max(1);
        self.history.trim();
        self
    }

    /// The current revision.
    pub fn rev(&self) -> u64 {
        self.rev
    }

    /// The oldest revision an op may be based on.
    pub fn oldest_rev(&self) -> u64 {
        self.rev - self.history.entries.len() as u64
    }

    /// Length in Unicode scalar values.
    pub fn len_chars(&self) -> usize {
        self.body.len_chars()
    }

    /// Length in UTF-8 bytes.
    pub fn len_bytes(&self) -> usize {
        self.body.len_bytes()
    }

    /// Frees what an idle document does not need: the text becomes one
    /// exact-size string (1.0× its size; a rope edited keystroke by keystroke
    /// holds 5–7×, a packed one ~2.3×) and spare capacity is released. The
    /// next edit rebuilds the rope (one `O(n)` copy). `O(n)`; worth calling
    /// when a document goes idle.
    pub fn compact(&mut self) {
        self.body.freeze();
        self.window.clear();
        self.history.bytes.shrink_to_fit();
        self.history.entries.shrink_to_fit();
        self.scratch = String::new();
        self.context = String::new();
    }

    /// Whether the text is empty.
    pub fn is_empty(&self) -> bool {
        self.body.len_bytes() == 0
    }

    /// The current text.
    pub fn text(&self) -> String {
        self.body.to_text()
    }

    /// The latest sequence number applied for `client`.
    pub fn last_seq(&self, client: ClientId) -> Option<u64> {
        self.clients.get(&client).map(|seen| seen.seq)
    }

    /// Applies `op`, which `client` made on revision `base_rev` as its
    /// `seq`-th op: transforms it against every op applied since, applies it
    /// and returns the new revision and the op to broadcast.
    ///
    /// A repeated `(client, seq)` changes nothing and returns the first
    /// result again, so a client may resend after a reconnect. Sequence
    /// numbers of one client must grow.
    ///
    /// # Errors
    /// [`OtError::StaleRevision`] when `base_rev` is older than the kept
    /// history; [`OtError::FutureRevision`]; [`OtError::LengthMismatch`] when
    /// the op does not fit the text at `base_rev`; [`OtError::StaleSeq`] and
    /// [`OtError::DuplicateForgotten`] for old sequence numbers. On error the
    /// document is unchanged.
    pub fn submit(
        &mut self,
        client: ClientId,
        seq: u64,
        base_rev: u64,
        op: TextOp,
    ) -> Result<Submitted, OtError> {
        if let Some(seen) = self.clients.get(&client).copied() {
            if seq == seen.seq {
                return self.replay(client, seq, seen.rev);
            }
            if seq < seen.seq {
                let oldest = self.oldest_rev();
                let found = self
                    .history
                    .find(client, seq)
                    .map(|index| oldest + index as u64 + 1);
                return match found {
                    Some(rev) => self.replay(client, seq, rev),
                    None => Err(OtError::StaleSeq {
                        client,
                        seq,
                        latest: seen.seq,
                    }),
                };
            }
        }
        let op = self.rebase(base_rev, op)?;
        self.apply_recording(&op, Some((client, seq)))?;
        self.clients.insert(client, Seen { seq, rev: self.rev });
        Ok(Submitted {
            rev: self.rev,
            op,
            duplicate: false,
        })
    }

    /// Applies an op that is already ordered (a mirror of a server applying
    /// its broadcasts, or a server-side edit) and returns the new revision.
    ///
    /// # Errors
    /// [`OtError::LengthMismatch`] when the op does not fit the text.
    pub fn apply(&mut self, op: &TextOp) -> Result<u64, OtError> {
        self.apply_recording(op, None)?;
        Ok(self.rev)
    }

    /// The text at revision `rev`, rebuilt by undoing the kept history.
    ///
    /// # Errors
    /// [`OtError::RevisionUnavailable`] outside `oldest_rev()..=rev()`.
    pub fn text_at(&self, rev: u64) -> Result<String, OtError> {
        self.check_kept(rev)?;
        let mut text = self.text();
        for r in (rev + 1..=self.rev).rev() {
            let runs = self.history.runs(self.history.index_of(r, self.rev));
            text = inverse_of(&runs).apply(&text)?;
        }
        Ok(text)
    }

    /// The BLAKE3 hash of the UTF-8 text at revision `rev`. The current
    /// revision is hashed straight from the rope's chunks, without copying the
    /// text; older kept revisions are rebuilt first. The last answer is
    /// cached, so every client asking for the same revision costs one hash.
    /// (The rope's chunks move on every edit, so there is no per-chunk hash
    /// to reuse across revisions.)
    ///
    /// # Errors
    /// [`OtError::RevisionUnavailable`] outside `oldest_rev()..=rev()`.
    pub fn content_hash(&self, rev: u64) -> Result<ContentHash, OtError> {
        if let Some((cached_rev, hash)) = self.hash_cache.get()
            && cached_rev == rev
            && rev >= self.oldest_rev()
            && rev <= self.rev
        {
            return Ok(hash);
        }
        let hash = self.hash_uncached(rev)?;
        self.hash_cache.set(Some((rev, hash)));
        Ok(hash)
    }

    fn hash_uncached(&self, rev: u64) -> Result<ContentHash, OtError> {
        if rev == self.rev {
            let mut hasher = blake3::Hasher::new();
            self.body.for_each_chunk(|chunk| {
                hasher.update(chunk.as_bytes());
            });
            return Ok(ContentHash::from_bytes(*hasher.finalize().as_bytes()));
        }
        Ok(ContentHash::of(self.text_at(rev)?.as_bytes()))
    }

    /// Bytes of heap this document holds: the rope, the history and the
    /// client table (an estimate from capacities, not an allocator count).
    pub fn heap_size(&self) -> usize {
        self.body.mem_size()
            + self.history.bytes.capacity()
            + self.history.entries.capacity() * size_of::<Entry>()
            + self.clients.len() * (size_of::<(ClientId, Seen)>() + 16)
            + self.scratch.capacity()
            + self.context.capacity()
            + self.window.capacity()
    }

    /// Bytes of heap held by the history alone (included in
    /// [`heap_size`](Self::heap_size)).
    pub fn history_heap_size(&self) -> usize {
        self.history.bytes.capacity() + self.history.entries.capacity() * size_of::<Entry>()
    }

    /// The ops applied after revision `rev`, oldest first.
    ///
    /// # Errors
    /// [`OtError::RevisionUnavailable`] outside `oldest_rev()..=rev()`.
    pub fn ops_since(&self, rev: u64) -> Result<Vec<TextOp>, OtError> {
        self.check_kept(rev)?;
        let count = (self.rev - rev) as usize;
        let first = self.history.entries.len() - count;
        Ok((first..self.history.entries.len())
            .map(|i| op_of(&self.history.runs(i)))
            .collect())
    }

    /// Moves a position (a cursor, in Unicode scalar values) given at
    /// revision `rev` through every op applied since, so it points at the
    /// same place in the current text. Inserts at the position push it right.
    ///
    /// # Errors
    /// [`OtError::RevisionUnavailable`] outside `oldest_rev()..=rev()`.
    pub fn transform_position_since(&self, rev: u64, pos: u64) -> Result<u64, OtError> {
        let mut pos = usize::try_from(pos).unwrap_or(usize::MAX);
        for op in self.ops_since(rev)? {
            pos = op.transform_position(pos.min(op.base_len()), super::op::Bias::After);
        }
        Ok(pos as u64)
    }

    fn check_kept(&self, rev: u64) -> Result<(), OtError> {
        if rev > self.rev || rev < self.oldest_rev() {
            return Err(OtError::RevisionUnavailable {
                rev,
                oldest_rev: self.oldest_rev(),
                current_rev: self.rev,
            });
        }
        Ok(())
    }

    fn replay(&self, client: ClientId, seq: u64, rev: u64) -> Result<Submitted, OtError> {
        if rev <= self.oldest_rev() || rev > self.rev {
            return Err(OtError::DuplicateForgotten { client, seq, rev });
        }
        let runs = self.history.runs(self.history.index_of(rev, self.rev));
        Ok(Submitted {
            rev,
            op: op_of(&runs),
            duplicate: true,
        })
    }

    /// `op` made on `base_rev`, transformed to apply on the current text.
    fn rebase(&self, base_rev: u64, op: TextOp) -> Result<TextOp, OtError> {
        if base_rev > self.rev {
            return Err(OtError::FutureRevision {
                base_rev,
                current_rev: self.rev,
            });
        }
        if base_rev < self.oldest_rev() {
            return Err(StaleRevision {
                base_rev,
                oldest_rev: self.oldest_rev(),
                current_rev: self.rev,
            }
            .into());
        }
        let count = (self.rev - base_rev) as usize;
        if count == 0 {
            return Ok(op);
        }
        let first = self.history.entries.len() - count;
        let concurrent = (first..self.history.entries.len()).map(|i| op_of(&self.history.runs(i)));
        let mut op = op;
        if count <= COMPOSE_THRESHOLD {
            for theirs in concurrent {
                if theirs.base_len() != op.base_len() {
                    return Err(OtError::LengthMismatch {
                        op_len: op.base_len(),
                        text_len: theirs.base_len(),
                    });
                }
                op = TextOp::transform(&op, &theirs, Side::Left)?.0;
            }
        } else if let Some(theirs) = TextOp::compose_all(concurrent)? {
            if theirs.base_len() != op.base_len() {
                return Err(OtError::LengthMismatch {
                    op_len: op.base_len(),
                    text_len: theirs.base_len(),
                });
            }
            op = TextOp::transform(&op, &theirs, Side::Left)?.0;
        }
        Ok(op)
    }

    /// Applies `op` to the rope and appends it, with the deleted text, to the
    /// history.
    fn apply_recording(
        &mut self,
        op: &TextOp,
        from: Option<(ClientId, u64)>,
    ) -> Result<(), OtError> {
        let text_len = self.body.len_chars();
        if op.base_len() != text_len {
            return Err(OtError::LengthMismatch {
                op_len: op.base_len(),
                text_len,
            });
        }
        let bytes = &mut self.history.bytes;
        bytes.reserve(op.components().len() * 11);
        let rope = self.body.rope_mut();
        let mut pos = 0;
        let components = match op.components() {
            // A trailing retain is implied by the entry's base length.
            [rest @ .., Component::Retain(_)] => rest,
            all => all,
        };
        for component in components {
            match component {
                Component::Retain(n) => {
                    write_run(bytes, TAG_RETAIN, *n, &[]);
                    pos += n;
                }
                Component::Insert(s) => {
                    write_run(bytes, TAG_INSERT, s.len(), s.as_bytes());
                    rope.insert(pos, s);
                    let chars = char_len(s);
                    self.window.inserted(pos, s, chars);
                    pos += chars;
                }
                Component::Delete(n) => {
                    let range = pos..pos + n;
                    self.scratch.clear();
                    if !self.window.take(&range, &mut self.scratch) {
                        read_around(
                            rope.as_mut(),
                            range.clone(),
                            &mut self.context,
                            &mut self.scratch,
                            &mut self.window,
                        );
                    }
                    write_run(
                        bytes,
                        TAG_DELETE,
                        self.scratch.len(),
                        self.scratch.as_bytes(),
                    );
                    rope.remove(range);
                }
            }
        }
        self.rev += 1;
        self.history.push(from, text_len);
        Ok(())
    }
}

/// Reads `range` of `rope` into `deleted`, with up to
/// [`window::CONTEXT`] chars on each side, and makes the text around it (the
/// deleted part left out) the new window.
fn read_around(
    rope: &jumprope::JumpRope,
    range: Range<usize>,
    context: &mut String,
    deleted: &mut String,
    window: &mut Window,
) {
    let from = range.start.saturating_sub(window::CONTEXT);
    let to = (range.end + window::CONTEXT).min(rope.len_chars());
    context.clear();
    for chunk in rope.slice_substrings(from..to) {
        context.push_str(chunk);
    }
    let byte_of = |chars: usize| {
        context
            .char_indices()
            .nth(chars)
            .map_or(context.len(), |(byte, _)| byte)
    };
    let (start, end) = if context.len() == to - from {
        (range.start - from, range.end - from)
    } else {
        (byte_of(range.start - from), byte_of(range.end - from))
    };
    deleted.push_str(&context[start..end]);
    context.replace_range(start..end, "");
    window.refill(from, context);
}

impl Utf16Index for TextDocument {
    fn len_chars(&self) -> usize {
        self.body.len_chars()
    }

    fn len_utf16(&self) -> usize {
        self.body.len_utf16()
    }

    fn utf16_of_char(&self, chars: usize) -> usize {
        self.body.utf16_of_char(chars)
    }

    fn char_of_utf16(&self, units: usize) -> Result<usize, OtError> {
        Utf16Index::char_of_utf16(&self.body, units)
    }
}

const TAG_RETAIN: u8 = 0;
const TAG_INSERT: u8 = 1;
const TAG_DELETE: u8 = 2;

/// One history run: like [`Component`], but a delete keeps its text so the
/// history can be undone.
#[derive(Debug, Clone, PartialEq, Eq)]
enum Run {
    Delete(String),
    Insert(String),
    Retain(usize),
}

#[derive(Debug, Clone, Copy)]
struct Entry {
    /// Who submitted it (`None` for [`TextDocument::apply`]).
    from: Option<(ClientId, u64)>,
    /// Absolute end offset of its bytes.
    end: u64,
    /// The length (chars) of the text it applied to: its runs leave out a
    /// trailing retain, which this gives back.
    base_len: usize,
}

/// Ops as tagged varint runs in one buffer of bytes: no allocation per op.
/// Trimmed entries leave a dead prefix that is cut off once it is the
/// larger half, so trimming is amortised `O(1)`.
#[derive(Debug, Clone)]
struct History {
    limit: usize,
    bytes: Vec<u8>,
    entries: VecDeque<Entry>,
    /// Absolute offset of `bytes[0]`.
    dropped: u64,
    /// Bytes at the front that belong to trimmed entries.
    dead: usize,
}

impl History {
    fn new(limit: usize) -> Self {
        Self {
            limit,
            bytes: Vec::new(),
            entries: VecDeque::new(),
            dropped: 0,
            dead: 0,
        }
    }

    fn push(&mut self, from: Option<(ClientId, u64)>, base_len: usize) {
        let end = self.dropped + self.bytes.len() as u64;
        self.entries.push_back(Entry {
            from,
            end,
            base_len,
        });
        self.trim();
    }

    fn trim(&mut self) {
        while self.entries.len() > self.limit {
            if let Some(entry) = self.entries.pop_front() {
                self.dead = ((entry.end - self.dropped) as usize).min(self.bytes.len());
            }
        }
        if self.dead > 4096 && self.dead * 2 > self.bytes.len() {
            self.bytes.drain(..self.dead);
            self.dropped += self.dead as u64;
            self.dead = 0;
        }
    }

    /// Index of the entry that produced revision `rev` (current `now`).
    fn index_of(&self, rev: u64, now: u64) -> usize {
        self.entries.len() - (now - rev) as usize - 1
    }

    /// Index of the entry `(client, seq)` submitted, if still kept.
    fn find(&self, client: ClientId, seq: u64) -> Option<usize> {
        self.entries
            .iter()
            .rposition(|e| e.from == Some((client, seq)))
    }

    fn byte_range(&self, index: usize) -> Range<usize> {
        let start = match index {
            0 => self.dropped + self.dead as u64,
            i => self.entries[i - 1].end,
        };
        let end = self.entries[index].end;
        (start - self.dropped) as usize..(end - self.dropped) as usize
    }

    fn runs(&self, index: usize) -> Vec<Run> {
        let mut bytes = self.bytes[self.byte_range(index)].iter().copied();
        let mut runs = Vec::new();
        let mut consumed = 0;
        while let Some(tag) = bytes.next() {
            let n = read_varint(&mut bytes);
            match tag {
                TAG_RETAIN => {
                    consumed += n;
                    runs.push(Run::Retain(n));
                }
                _ => {
                    let raw: Vec<u8> = bytes.by_ref().take(n).collect();
                    let text = String::from_utf8_lossy(&raw).into_owned();
                    runs.push(if tag == TAG_INSERT {
                        Run::Insert(text)
                    } else {
                        consumed += char_len(&text);
                        Run::Delete(text)
                    });
                }
            }
        }
        let base_len = self.entries[index].base_len;
        if consumed < base_len {
            runs.push(Run::Retain(base_len - consumed));
        }
        runs
    }
}

fn write_run(bytes: &mut Vec<u8>, tag: u8, mut n: usize, payload: &[u8]) {
    // One capacity check; a keystroke's run is then a few plain pushes (a
    // `memcpy` call for three bytes costs more than the bytes).
    bytes.reserve(11 + payload.len());
    bytes.push(tag);
    while n >= 0x80 {
        bytes.push((n & 0x7f) as u8 | 0x80);
        n >>= 7;
    }
    bytes.push(n as u8);
    if payload.len() <= 8 {
        for &byte in payload {
            bytes.push(byte);
        }
    } else {
        bytes.extend_from_slice(payload);
    }
}

fn read_varint(bytes: &mut impl Iterator<Item = u8>) -> usize {
    let mut n = 0usize;
    let mut shift = 0;
    for byte in bytes.by_ref() {
        if shift < usize::BITS {
            n |= usize::from(byte & 0x7f) << shift;
        }
        shift += 7;
        if byte & 0x80 == 0 {
            break;
        }
    }
    n
}

fn op_of(runs: &[Run]) -> TextOp {
    let mut op = TextOp::new();
    for run in runs {
        match run {
            Run::Retain(n) => op.retain(*n),
            Run::Insert(s) => op.insert(s),
            Run::Delete(s) => op.delete(char_len(s)),
        };
    }
    op
}

fn inverse_of(runs: &[Run]) -> TextOp {
    let mut op = TextOp::new();
    for run in runs {
        match run {
            Run::Retain(n) => op.retain(*n),
            Run::Insert(s) => op.delete(char_len(s)),
            Run::Delete(s) => op.insert(s),
        };
    }
    op
}

#[cfg(test)]
mod tests {
    use super::*;

    fn splice(doc: &TextDocument, pos: usize, del: usize, ins: &str) -> TextOp {
        TextOp::from_splice(doc.len_chars(), pos, del, ins).unwrap()
    }

    #[test]
    fn concurrent_submits_converge_and_retries_are_safe() {
        let mut doc = TextDocument::from_text("abc");
        let a = doc.submit(1, 1, 0, splice(&doc, 0, 1, "X")).unwrap();
        let b = doc
            .submit(2, 7, 0, TextOp::from_splice(3, 3, 0, "!").unwrap())
            .unwrap();
        assert_eq!(doc.text(), "Xbc!");
        assert_eq!((a.rev, b.rev, doc.rev()), (1, 2, 2));
        let again = doc.submit(2, 7, 0, TextOp::identity(3)).unwrap();
        assert_eq!(
            again,
            Submitted {
                rev: 2,
                op: b.op.clone(),
                duplicate: true
            }
        );
        let older = doc.submit(1, 1, 0, TextOp::identity(3)).unwrap();
        assert_eq!(older.rev, 1);
        assert_eq!(doc.last_seq(2), Some(7));
        assert_eq!(doc.text(), "Xbc!");
    }

    #[test]
    fn errors_change_nothing() {
        let mut doc = TextDocument::from_text("abc").with_history_limit(2);
        for seq in 1..=3 {
            let op = splice(&doc, 0, 0, "x");
            doc.submit(1, seq, doc.rev(), op).unwrap();
        }
        let before = (doc.text(), doc.rev());
        let err = doc.submit(2, 1, 0, TextOp::identity(3)).unwrap_err();
        assert_eq!(
            err,
            OtError::StaleRevision(StaleRevision {
                base_rev: 0,
                oldest_rev: 1,
                current_rev: 3
            })
        );
        assert_eq!(
            doc.submit(2, 1, 9, TextOp::identity(6)).unwrap_err().code(),
            "ot.future_revision"
        );
        assert_eq!(
            doc.submit(2, 1, 3, TextOp::identity(2)).unwrap_err().code(),
            "ot.length_mismatch"
        );
        assert_eq!(
            doc.submit(2, 1, 2, TextOp::identity(2)).unwrap_err().code(),
            "ot.length_mismatch"
        );
        assert_eq!(
            doc.submit(1, 1, 3, TextOp::identity(6)).unwrap_err().code(),
            "ot.stale_seq"
        );
        assert_eq!(
            doc.apply(&TextOp::identity(1)).unwrap_err().code(),
            "ot.length_mismatch"
        );
        assert_eq!((doc.text(), doc.rev()), before);
    }

    #[test]
    fn forgotten_duplicate_is_typed() {
        let mut doc = TextDocument::new().with_history_limit(1);
        doc.submit(1, 1, 0, TextOp::from_splice(0, 0, 0, "a").unwrap())
            .unwrap();
        doc.submit(2, 1, 1, TextOp::from_splice(1, 1, 0, "b").unwrap())
            .unwrap();
        let err = doc.submit(1, 1, 0, TextOp::identity(0)).unwrap_err();
        assert_eq!(
            err,
            OtError::DuplicateForgotten {
                client: 1,
                seq: 1,
                rev: 1
            }
        );
    }

    #[test]
    fn old_revisions_and_hashes() {
        let mut doc = TextDocument::from_text("a\r\nb");
        doc.apply(&splice(&doc, 1, 2, "😀")).unwrap();
        doc.apply(&splice(&doc, 0, 0, "x")).unwrap();
        assert_eq!(doc.text_at(0).unwrap(), "a\r\nb");
        assert_eq!(doc.text_at(1).unwrap(), "a😀b");
        assert_eq!(
            doc.content_hash(2).unwrap(),
            ContentHash::of("xa😀b".as_bytes())
        );
        assert_eq!(doc.content_hash(0).unwrap(), ContentHash::of(b"a\r\nb"));
        // Cached answers stay right as the document moves on.
        assert_eq!(doc.content_hash(0).unwrap(), ContentHash::of(b"a\r\nb"));
        doc.apply(&splice(&doc, 0, 1, "")).unwrap();
        assert_eq!(doc.content_hash(0).unwrap(), ContentHash::of(b"a\r\nb"));
        assert_eq!(
            doc.content_hash(3).unwrap(),
            ContentHash::of("a😀b".as_bytes())
        );
        assert_eq!(
            doc.text_at(4).unwrap_err().code(),
            "ot.revision_unavailable"
        );
    }

    #[test]
    fn long_offline_branch_is_composed() {
        let mut doc = TextDocument::from_text("0123456789");
        for seq in 0..50 {
            let op = splice(&doc, 5, 0, "a");
            doc.submit(1, seq, doc.rev(), op).unwrap();
        }
        let out = doc
            .submit(2, 1, 0, TextOp::from_splice(10, 10, 0, "END").unwrap())
            .unwrap();
        assert_eq!(out.rev, 51);
        assert!(doc.text().ends_with("56789END"));
    }

    #[test]
    fn documents_can_move_between_threads() {
        fn assert_send<T: Send>() {}
        assert_send::<TextDocument>();
        assert_send::<crate::TextClient>();
    }

    #[test]
    fn heap_size_is_plausible() {
        let mut doc = TextDocument::new().with_history_limit(64);
        let empty = doc.heap_size();
        for i in 0..5_000 {
            let op = splice(&doc, i / 2, 0, "x");
            doc.submit(1, i as u64, doc.rev(), op).unwrap();
        }
        let heap = doc.heap_size();
        assert!(heap > empty);
        assert!(heap >= doc.len_bytes() + doc.history_heap_size());
        // The history stays bounded however long the document lives.
        assert!(
            doc.history_heap_size() < 64 * 64 + 8192,
            "{}",
            doc.history_heap_size()
        );
        doc.compact();
        assert!(doc.heap_size() <= heap);
        assert_eq!(doc.text(), "x".repeat(5_000));
    }

    #[test]
    fn utf16_index_uses_the_rope() {
        let doc = TextDocument::from_text("a😀b");
        assert_eq!(doc.len_utf16(), 4);
        assert_eq!(doc.utf16_of_char(2), 3);
        assert_eq!(doc.char_of_utf16(3).unwrap(), 2);
        assert_eq!(
            doc.char_of_utf16(2).unwrap_err().code(),
            "ot.split_surrogate"
        );
        assert_eq!(doc.char_of_utf16(5).unwrap_err().code(), "ot.out_of_range");
        let op =
            TextOp::from_utf16_changes(&doc, &[crate::ot::Utf16Change::new(3, 1, "c")]).unwrap();
        assert_eq!(op.apply("a😀b").unwrap(), "a😀c");
    }

    #[test]
    fn backspaces_into_a_typing_run_record_the_deleted_text() {
        // Typing, backspacing (within and past the run), typing elsewhere:
        // every old revision must rebuild exactly from the history.
        let mut doc = TextDocument::from_text("start");
        let mut texts = vec![doc.text()];
        let steps: &[(usize, usize, &str)] = &[
            (5, 0, " héllo"),
            (11, 0, "😀"),
            (11, 1, ""),
            (10, 1, ""),
            (8, 2, ""),
            (8, 0, "ap!"),
            (0, 0, ">"),
            (11, 1, ""),
            (3, 3, ""),
            (3, 0, "xyz"),
            (5, 1, ""),
            (0, 4, ""),
        ];
        for (k, (pos, del, ins)) in steps.iter().enumerate() {
            let len = doc.len_chars();
            let op = TextOp::from_splice(len, *pos, *del, ins).unwrap();
            doc.submit(1, k as u64 + 1, doc.rev(), op).unwrap();
            texts.push(doc.text());
        }
        for (rev, text) in texts.iter().enumerate() {
            assert_eq!(&doc.text_at(rev as u64).unwrap(), text, "revision {rev}");
        }
    }

    proptest::proptest! {
        #![proptest_config(proptest::prelude::ProptestConfig::with_cases(256))]

        /// Whatever the edits (typing, backspacing, deleting anywhere, astral
        /// characters), every kept revision rebuilds from the history.
        #[test]
        fn every_revision_rebuilds_from_the_history(
            edits in proptest::collection::vec((0usize..200, 0usize..4, "[ab😀é\n]{0,3}", proptest::bool::ANY), 1..120),
        ) {
            let mut doc = TextDocument::from_text("seed text 😀 here");
            let mut texts = vec![doc.text()];
            for (k, (at, del, ins, near)) in edits.into_iter().enumerate() {
                let len = doc.len_chars();
                // Half the edits land next to the previous one, like typing.
                let pos = if near { len.min(at % 3 + len.saturating_sub(3)) } else { at % (len + 1) };
                let del = del.min(len - pos);
                let op = TextOp::from_splice(len, pos, del, &ins).unwrap();
                doc.submit(1, k as u64 + 1, doc.rev(), op).unwrap();
                texts.push(doc.text());
            }
            for (rev, text) in texts.iter().enumerate().skip(texts.len().saturating_sub(DEFAULT_HISTORY)) {
                proptest::prop_assert_eq!(&doc.text_at(rev as u64).unwrap(), text, "revision {}", rev);
            }
        }
    }

    #[test]
    fn a_compacted_document_is_flat_and_behaves_the_same() {
        let mut doc = TextDocument::new();
        let mut text = String::new();
        for (k, piece) in ["a", "😀", "\r\n", "é", "b"]
            .iter()
            .cycle()
            .take(3_000)
            .enumerate()
        {
            let len = text.chars().count();
            let pos = (k * 7) % (len + 1);
            let op = TextOp::from_splice(len, pos, 0, piece).unwrap();
            text = op.apply(&text).unwrap();
            doc.submit(1, k as u64 + 1, doc.rev(), op).unwrap();
        }
        let live = doc.clone();
        let hash = doc.content_hash(doc.rev()).unwrap();
        doc.compact();
        // Flat: the text itself plus the history, nothing else of size.
        let held = doc.heap_size() - doc.history_heap_size();
        assert!(
            held <= text.len() + 64,
            "{held} bytes for {} of text",
            text.len()
        );
        assert!(live.heap_size() - live.history_heap_size() > 2 * text.len());
        assert_eq!(doc.text(), text);
        assert_eq!(doc.content_hash(doc.rev()).unwrap(), hash);
        assert_eq!(
            doc.text_at(doc.rev() - 10).unwrap(),
            live.text_at(live.rev() - 10).unwrap()
        );
        for units in 0..=doc.len_utf16() {
            assert_eq!(
                doc.char_of_utf16(units),
                live.char_of_utf16(units),
                "{units}"
            );
        }
        for chars in 0..=doc.len_chars() + 1 {
            assert_eq!(
                doc.utf16_of_char(chars),
                live.utf16_of_char(chars),
                "{chars}"
            );
        }
        // The next edit brings the rope back.
        let len = doc.len_chars();
        let op = TextOp::from_splice(len, len, 0, "!").unwrap();
        let rev = doc.rev();
        doc.submit(2, 1, rev, op).unwrap();
        assert_eq!(doc.text(), format!("{text}!"));
    }
}
