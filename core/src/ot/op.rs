//! [`TextOp`]: a normalised retain / insert / delete operation on a text.

use super::error::OtError;

/// One run of a [`TextOp`]. Lengths count Unicode scalar values (`char`s).
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum Component {
    /// Remove this many characters.
    Delete(usize),
    /// Insert this text.
    Insert(String),
    /// Keep this many characters.
    Retain(usize),
}

/// Which op's insert goes first when both insert at the same spot during
/// [`TextOp::transform`].
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Side {
    /// The first argument's insert goes first.
    Left,
    /// The second argument's insert goes first.
    Right,
}

/// Where a cursor lands when text is inserted exactly at it
/// ([`TextOp::transform_position`]).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Bias {
    /// The cursor moves after the inserted text (a remote user's typing
    /// pushes it along).
    After,
    /// The cursor stays before the inserted text.
    Before,
}

/// An edit of a whole text: a sequence of retain, insert and delete runs that
/// covers the base text exactly once.
///
/// A `TextOp` is always normalised: no empty runs, neighbours of one kind
/// merged, and an insert always before a delete at the same spot, so two ops
/// with the same effect compare equal. Lengths count Unicode scalar values;
/// `"\r\n"` is two of them and is kept byte for byte.
///
/// ```
/// use velocity_sync::TextOp;
/// use velocity_sync::ot::Side;
/// # fn main() -> Result<(), velocity_sync::OtError> {
/// let base = "hello world";
/// let a = TextOp::from_splice(11, 5, 1, "_")?; // "hello_world"
/// let b = TextOp::from_splice(11, 11, 0, "!")?; // "hello world!"
/// let (a2, b2) = TextOp::transform(&a, &b, Side::Left)?;
/// let left = b2.apply(&a.apply(base)?)?;
/// let right = a2.apply(&b.apply(base)?)?;
/// assert_eq!(left, "hello_world!");
/// assert_eq!(left, right);
/// assert_eq!(a.invert(base)?.apply(&a.apply(base)?)?, base);
/// # Ok(())
/// # }
/// ```
#[derive(Debug, Clone, PartialEq, Eq, Hash, Default)]
pub struct TextOp {
    components: Vec<Component>,
    base_len: usize,
    target_len: usize,
}

impl TextOp {
    /// The empty op on the empty text. Grow it with [`retain`](Self::retain),
    /// [`insert`](Self::insert) and [`delete`](Self::delete).
    ///
    /// ```
    /// use velocity_sync::TextOp;
    /// let mut op = TextOp::new();
    /// op.retain(2).insert("é").delete(1).retain(3);
    /// assert_eq!((op.base_len(), op.target_len()), (6, 6));
    /// ```
    pub fn new() -> Self {
        Self::default()
    }

    /// The op that keeps a text of `len` characters unchanged.
    pub fn identity(len: usize) -> Self {
        let mut op = Self::new();
        op.retain(len);
        op
    }

    /// Builds an op from arbitrary runs, normalising them.
    pub fn from_components(components: impl IntoIterator<Item = Component>) -> Self {
        let mut op = Self::new();
        for component in components {
            op.push(component);
        }
        op
    }

    /// The op that, on a text of `base_len` characters, deletes `deleted`
    /// characters at `pos` and inserts `inserted` there.
    ///
    /// # Errors
    /// [`OtError::OutOfRange`] when `pos + deleted` exceeds `base_len`.
    pub fn from_splice(
        base_len: usize,
        pos: usize,
        deleted: usize,
        inserted: &str,
    ) -> Result<Self, OtError> {
        let end = pos.checked_add(deleted).filter(|end| *end <= base_len);
        let Some(end) = end else {
            return Err(OtError::OutOfRange {
                start: pos,
                end: pos.saturating_add(deleted),
                len: base_len,
            });
        };
        let mut op = Self {
            components: Vec::with_capacity(4),
            base_len: 0,
            target_len: 0,
        };
        op.retain(pos)
            .insert(inserted)
            .delete(deleted)
            .retain(base_len - end);
        Ok(op)
    }

    /// One op for a list of splices `(pos, deleted, inserted)` applied in
    /// order, each on the text the previous ones produced (the shape of an
    /// editing-trace transaction).
    ///
    /// # Errors
    /// [`OtError::OutOfRange`] when a splice does not fit.
    pub fn from_splices<'a>(
        base_len: usize,
        splices: impl IntoIterator<Item = (usize, usize, &'a str)>,
    ) -> Result<Self, OtError> {
        let mut op: Option<Self> = None;
        for (pos, deleted, inserted) in splices {
            op = Some(match op {
                None => Self::from_splice(base_len, pos, deleted, inserted)?,
                Some(op) => {
                    op.compose(&Self::from_splice(op.target_len, pos, deleted, inserted)?)?
                }
            });
        }
        Ok(op.unwrap_or_else(|| Self::identity(base_len)))
    }

    /// Appends a retain of `n` characters.
    pub fn retain(&mut self, n: usize) -> &mut Self {
        if n == 0 {
            return self;
        }
        self.base_len = self.base_len.saturating_add(n);
        self.target_len = self.target_len.saturating_add(n);
        if let Some(Component::Retain(last)) = self.components.last_mut() {
            *last = last.saturating_add(n);
        } else {
            self.components.push(Component::Retain(n));
        }
        self
    }

    /// Appends an insert of `text`. An insert right after a delete is placed
    /// before it, so there is one canonical form.
    pub fn insert(&mut self, text: &str) -> &mut Self {
        if text.is_empty() {
            return self;
        }
        self.target_len = self.target_len.saturating_add(char_len(text));
        let len = self.components.len();
        match self.components.as_mut_slice() {
            [.., Component::Insert(last)] => last.push_str(text),
            [.., Component::Insert(before), Component::Delete(_)] => before.push_str(text),
            [.., Component::Delete(_)] => {
                self.components
                    .insert(len - 1, Component::Insert(text.to_owned()));
            }
            _ => self.components.push(Component::Insert(text.to_owned())),
        }
        self
    }

    /// Appends a delete of `n` characters.
    pub fn delete(&mut self, n: usize) -> &mut Self {
        if n == 0 {
            return self;
        }
        self.base_len = self.base_len.saturating_add(n);
        if let Some(Component::Delete(last)) = self.components.last_mut() {
            *last = last.saturating_add(n);
        } else {
            self.components.push(Component::Delete(n));
        }
        self
    }

    /// Appends any run.
    pub fn push(&mut self, component: Component) -> &mut Self {
        match component {
            Component::Delete(n) => self.delete(n),
            Component::Insert(text) => self.insert(&text),
            Component::Retain(n) => self.retain(n),
        }
    }

    /// The runs, in order.
    pub fn components(&self) -> &[Component] {
        &self.components
    }

    /// Length of the text this op applies to, in characters.
    pub fn base_len(&self) -> usize {
        self.base_len
    }

    /// Length of the text this op produces, in characters.
    pub fn target_len(&self) -> usize {
        self.target_len
    }

    /// Whether the op leaves every text unchanged.
    pub fn is_noop(&self) -> bool {
        self.components
            .iter()
            .all(|c| matches!(c, Component::Retain(_)))
    }

    /// This op rebuilt through the normalising builder. Always equal to
    /// `self`; kept for callers that build ops by other means.
    pub fn normalized(&self) -> Self {
        Self::from_components(self.components.iter().cloned())
    }

    /// Applies the op to `text`.
    ///
    /// # Errors
    /// [`OtError::LengthMismatch`] when `text` is not [`base_len`](Self::base_len)
    /// characters long.
    pub fn apply(&self, text: &str) -> Result<String, OtError> {
        let text_len = char_len(text);
        if text_len != self.base_len {
            return Err(OtError::LengthMismatch {
                op_len: self.base_len,
                text_len,
            });
        }
        let mut out = String::with_capacity(text.len());
        let mut at = 0; // byte offset into `text`
        for component in &self.components {
            match component {
                Component::Retain(n) => {
                    let end = advance(text, at, *n);
                    out.push_str(&text[at..end]);
                    at = end;
                }
                Component::Insert(s) => out.push_str(s),
                Component::Delete(n) => at = advance(text, at, *n),
            }
        }
        Ok(out)
    }

    /// The op with the effect of `self` followed by `next`.
    ///
    /// # Errors
    /// [`OtError::ComposeMismatch`] when `self` does not produce the length
    /// `next` expects.
    pub fn compose(&self, next: &Self) -> Result<Self, OtError> {
        if self.target_len != next.base_len {
            return Err(OtError::ComposeMismatch {
                first_target: self.target_len,
                second_base: next.base_len,
            });
        }
        let mut out = Self {
            components: Vec::with_capacity(self.components.len() + next.components.len()),
            base_len: 0,
            target_len: 0,
        };
        let mut a = Runs::new(&self.components);
        let mut b = Runs::new(&next.components);
        loop {
            match (a.peek(), b.peek()) {
                (Some(Peek::Delete(n)), _) => {
                    out.delete(n);
                    a.skip();
                }
                (_, Some(Peek::Insert(s))) => {
                    out.insert(s);
                    b.skip();
                }
                (None, None) => break,
                (None, Some(_)) | (Some(_), None) => {
                    return Err(OtError::ComposeMismatch {
                        first_target: self.target_len,
                        second_base: next.base_len,
                    });
                }
                (Some(pa), Some(pb)) => {
                    let n = pa.len().min(pb.len());
                    match (pa, pb) {
                        (Peek::Retain(_), Peek::Retain(_)) => {
                            out.retain(n);
                        }
                        (Peek::Insert(_), Peek::Retain(_)) => {
                            out.insert(a.take_insert(n));
                            b.take(n);
                            continue;
                        }
                        (Peek::Retain(_), Peek::Delete(_)) => {
                            out.delete(n);
                        }
                        _ => {} // insert then delete: nothing left
                    }
                    a.take(n);
                    b.take(n);
                }
            }
        }
        Ok(out)
    }

    /// Composes a sequence of consecutive ops in `O(total size · log count)`
    /// by composing neighbours pairwise, instead of folding left (which costs
    /// the product of count and size for long scattered histories).
    /// `None` for an empty sequence.
    ///
    /// # Errors
    /// [`OtError::ComposeMismatch`] when two neighbours do not chain.
    pub fn compose_all(ops: impl IntoIterator<Item = Self>) -> Result<Option<Self>, OtError> {
        let mut level: Vec<Self> = ops.into_iter().collect();
        while level.len() > 1 {
            let mut next = Vec::with_capacity(level.len().div_ceil(2));
            let mut iter = level.into_iter();
            while let Some(first) = iter.next() {
                match iter.next() {
                    Some(second) => next.push(first.compose(&second)?),
                    None => next.push(first),
                }
            }
            level = next;
        }
        Ok(level.pop())
    }

    /// Transforms two concurrent ops on the same text: returns `(a', b')` with
    /// `a ∘ b' == b ∘ a'` (TP1). When both insert at one spot, `side` says
    /// whose text comes first.
    ///
    /// # Errors
    /// [`OtError::TransformMismatch`] when the ops expect different lengths.
    pub fn transform(a: &Self, b: &Self, side: Side) -> Result<(Self, Self), OtError> {
        if a.base_len != b.base_len {
            return Err(OtError::TransformMismatch {
                left: a.base_len,
                right: b.base_len,
            });
        }
        let mut a_out = Self::new();
        let mut b_out = Self::new();
        let mut ra = Runs::new(&a.components);
        let mut rb = Runs::new(&b.components);
        loop {
            let (pa, pb) = (ra.peek(), rb.peek());
            match (pa, pb) {
                (Some(Peek::Insert(s)), other)
                    if side == Side::Left || !matches!(other, Some(Peek::Insert(_))) =>
                {
                    a_out.insert(s);
                    b_out.retain(char_len(s));
                    ra.skip();
                }
                (_, Some(Peek::Insert(s))) => {
                    a_out.retain(char_len(s));
                    b_out.insert(s);
                    rb.skip();
                }
                (None, None) => break,
                (None, Some(_)) | (Some(_), None) => {
                    return Err(OtError::TransformMismatch {
                        left: a.base_len,
                        right: b.base_len,
                    });
                }
                (Some(pa), Some(pb)) => {
                    let n = pa.len().min(pb.len());
                    match (pa, pb) {
                        (Peek::Retain(_), Peek::Retain(_)) => {
                            a_out.retain(n);
                            b_out.retain(n);
                        }
                        (Peek::Delete(_), Peek::Retain(_)) => {
                            a_out.delete(n);
                        }
                        (Peek::Retain(_), Peek::Delete(_)) => {
                            b_out.delete(n);
                        }
                        _ => {} // both delete: already gone
                    }
                    ra.take(n);
                    rb.take(n);
                }
            }
        }
        Ok((a_out, b_out))
    }

    /// The op that undoes `self`, given the text `self` was applied to.
    ///
    /// # Errors
    /// [`OtError::LengthMismatch`] when `base_text` has the wrong length.
    pub fn invert(&self, base_text: &str) -> Result<Self, OtError> {
        let text_len = char_len(base_text);
        if text_len != self.base_len {
            return Err(OtError::LengthMismatch {
                op_len: self.base_len,
                text_len,
            });
        }
        let mut out = Self::new();
        let mut at = 0;
        for component in &self.components {
            match component {
                Component::Retain(n) => {
                    out.retain(*n);
                    at = advance(base_text, at, *n);
                }
                Component::Insert(s) => {
                    out.delete(char_len(s));
                }
                Component::Delete(n) => {
                    let end = advance(base_text, at, *n);
                    out.insert(&base_text[at..end]);
                    at = end;
                }
            }
        }
        Ok(out)
    }

    /// Where a cursor at `pos` (in the base text) ends up after this op. A
    /// position past the end is clamped; the result is always within
    /// `0..=target_len`.
    pub fn transform_position(&self, pos: usize, bias: Bias) -> usize {
        let pos = pos.min(self.base_len);
        let mut base = 0usize;
        let mut result = pos;
        for component in &self.components {
            match component {
                Component::Retain(n) => base = base.saturating_add(*n),
                Component::Insert(s) => {
                    if base < pos || (base == pos && bias == Bias::After) {
                        result = result.saturating_add(char_len(s));
                    }
                }
                Component::Delete(n) => {
                    if base < pos {
                        result -= (*n).min(pos - base);
                    }
                    base = base.saturating_add(*n);
                }
            }
            if base > pos {
                break;
            }
        }
        result
    }
}

/// Number of Unicode scalar values in `text`.
pub(crate) fn char_len(text: &str) -> usize {
    if text.is_ascii() {
        text.len()
    } else {
        text.chars().count()
    }
}

/// The byte offset `n` characters after byte offset `at` (clamped to the end).
pub(crate) fn advance(text: &str, at: usize, n: usize) -> usize {
    // Byte scan: a character starts at every byte that is not a UTF-8
    // continuation byte (much faster than decoding in the size-tuned
    // WebAssembly build, and this runs on every keystroke).
    let rest = text.as_bytes().get(at..).unwrap_or(&[]);
    let mut left = n;
    for (i, &b) in rest.iter().enumerate() {
        if b & 0xC0 != 0x80 {
            if left == 0 {
                return at + i;
            }
            left -= 1;
        }
    }
    text.len()
}

/// A view of the next (possibly partly consumed) run.
#[derive(Clone, Copy)]
enum Peek<'a> {
    Delete(usize),
    Insert(&'a str),
    Retain(usize),
}

impl Peek<'_> {
    fn len(&self) -> usize {
        match self {
            Self::Delete(n) | Self::Retain(n) => *n,
            Self::Insert(s) => char_len(s),
        }
    }
}

/// Walks runs, allowing a run to be consumed in pieces.
struct Runs<'a> {
    components: &'a [Component],
    index: usize,
    /// Characters (retain/delete) or bytes (insert) consumed of the current run.
    offset: usize,
}

impl<'a> Runs<'a> {
    fn new(components: &'a [Component]) -> Self {
        Self {
            components,
            index: 0,
            offset: 0,
        }
    }

    fn peek(&self) -> Option<Peek<'a>> {
        Some(match self.components.get(self.index)? {
            Component::Delete(n) => Peek::Delete(n - self.offset),
            Component::Insert(s) => Peek::Insert(s.get(self.offset..).unwrap_or("")),
            Component::Retain(n) => Peek::Retain(n - self.offset),
        })
    }

    fn skip(&mut self) {
        self.index += 1;
        self.offset = 0;
    }

    /// Consumes `n` characters of the current run (`n` ≤ its remaining length).
    fn take(&mut self, n: usize) {
        match self.components.get(self.index) {
            Some(Component::Delete(len) | Component::Retain(len)) => {
                self.offset += n;
                if self.offset >= *len {
                    self.skip();
                }
            }
            Some(Component::Insert(s)) => {
                self.offset = advance(s, self.offset, n);
                if self.offset >= s.len() {
                    self.skip();
                }
            }
            None => {}
        }
    }

    /// Consumes `n` characters of the current insert run and returns them.
    fn take_insert(&mut self, n: usize) -> &'a str {
        let start = self.offset;
        if let Some(Component::Insert(s)) = self.components.get(self.index) {
            self.take(n);
            let end = if self.offset == 0 {
                s.len()
            } else {
                self.offset
            };
            return s.get(start..end).unwrap_or("");
        }
        ""
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn op(components: Vec<Component>) -> TextOp {
        TextOp::from_components(components)
    }

    #[test]
    fn builder_normalises() {
        let mut a = TextOp::new();
        a.retain(1)
            .retain(2)
            .delete(1)
            .insert("x")
            .delete(2)
            .insert("y")
            .retain(0);
        assert_eq!(
            a.components(),
            &[
                Component::Retain(3),
                Component::Insert("xy".into()),
                Component::Delete(3)
            ]
        );
        assert_eq!((a.base_len(), a.target_len()), (6, 5));
        assert_eq!(a.normalized(), a);
        assert!(TextOp::identity(4).is_noop());
        assert!(!a.is_noop());
    }

    #[test]
    fn splice_applies_and_rejects_out_of_range() {
        let text = "a\r\nb🎉c";
        let op = TextOp::from_splice(6, 1, 2, "\n").unwrap();
        assert_eq!(op.apply(text).unwrap(), "a\nb🎉c");
        let op = TextOp::from_splice(6, 4, 1, "!").unwrap();
        assert_eq!(op.apply(text).unwrap(), "a\r\nb!c");
        let err = TextOp::from_splice(6, 5, 2, "").unwrap_err();
        assert_eq!(
            err,
            OtError::OutOfRange {
                start: 5,
                end: 7,
                len: 6
            }
        );
        assert_eq!(
            TextOp::from_splice(1, usize::MAX, 2, "")
                .unwrap_err()
                .code(),
            "ot.out_of_range"
        );
    }

    #[test]
    fn apply_checks_the_length() {
        let op = TextOp::identity(3);
        let err = op.apply("ab").unwrap_err();
        assert_eq!(
            err,
            OtError::LengthMismatch {
                op_len: 3,
                text_len: 2
            }
        );
    }

    #[test]
    fn compose_chains_and_rejects_mismatch() {
        let a = TextOp::from_splice(3, 1, 0, "xy").unwrap();
        let b = TextOp::from_splice(5, 2, 2, "").unwrap();
        let ab = a.compose(&b).unwrap();
        assert_eq!(
            ab.apply("abc").unwrap(),
            b.apply(&a.apply("abc").unwrap()).unwrap()
        );
        let err = b.compose(&b).unwrap_err();
        assert_eq!(err.code(), "ot.compose_mismatch");
        let all = TextOp::compose_all([a.clone(), b.clone()])
            .unwrap()
            .unwrap();
        assert_eq!(all, ab);
        assert_eq!(TextOp::compose_all(Vec::new()).unwrap(), None);
    }

    #[test]
    fn transform_ties_follow_the_side() {
        let a = TextOp::from_splice(2, 1, 0, "A").unwrap();
        let b = TextOp::from_splice(2, 1, 0, "B").unwrap();
        for (side, expected) in [(Side::Left, "xABy"), (Side::Right, "xBAy")] {
            let (a2, b2) = TextOp::transform(&a, &b, side).unwrap();
            let left = b2.apply(&a.apply("xy").unwrap()).unwrap();
            let right = a2.apply(&b.apply("xy").unwrap()).unwrap();
            assert_eq!(left, expected);
            assert_eq!(right, expected);
        }
        let err = TextOp::transform(&a, &TextOp::identity(5), Side::Left).unwrap_err();
        assert_eq!(err, OtError::TransformMismatch { left: 2, right: 5 });
    }

    #[test]
    fn overlapping_deletes_delete_once() {
        let a = op(vec![Component::Retain(1), Component::Delete(3)]);
        let b = op(vec![Component::Delete(2), Component::Retain(2)]);
        let (a2, b2) = TextOp::transform(&a, &b, Side::Left).unwrap();
        assert_eq!(b2.apply(&a.apply("abcd").unwrap()).unwrap(), "");
        assert_eq!(a2.apply(&b.apply("abcd").unwrap()).unwrap(), "");
    }

    #[test]
    fn invert_restores_crlf_and_emoji() {
        let base = "a\r\n😀b";
        let op = TextOp::from_splice(5, 1, 3, "x").unwrap();
        let after = op.apply(base).unwrap();
        assert_eq!(after, "axb");
        assert_eq!(op.invert(base).unwrap().apply(&after).unwrap(), base);
        assert_eq!(op.invert("ab").unwrap_err().code(), "ot.length_mismatch");
    }

    #[test]
    fn positions_follow_the_bias() {
        let op = TextOp::from_splice(4, 2, 0, "xyz").unwrap();
        assert_eq!(op.transform_position(2, Bias::Before), 2);
        assert_eq!(op.transform_position(2, Bias::After), 5);
        assert_eq!(op.transform_position(1, Bias::After), 1);
        assert_eq!(op.transform_position(3, Bias::Before), 6);
        assert_eq!(op.transform_position(99, Bias::Before), 7);
        let del = TextOp::from_splice(4, 1, 2, "").unwrap();
        assert_eq!(del.transform_position(2, Bias::Before), 1);
        assert_eq!(del.transform_position(4, Bias::Before), 2);
    }

    #[test]
    fn from_splices_applies_in_order() {
        let op = TextOp::from_splices(0, [(0, 0, "abc"), (1, 1, ""), (2, 0, "d")]).unwrap();
        assert_eq!(op.apply("").unwrap(), "acd");
        assert!(TextOp::from_splices(0, [(1, 0, "x")]).is_err());
    }
}
