//! [`LiveText`]: a participant's copy of a text being edited, edited in place
//! by ops, with its lengths kept and a mark at the last place it was edited
//! or asked about, in bytes, characters and UTF-16 units at once.
//!
//! Keystrokes are local: the next edit, or the next offset an editor gives,
//! is a few characters from the last one. Placing it walks from the mark
//! (or from the nearer end), so a keystroke costs the distance it moved, not
//! a scan of the text; a jump elsewhere pays its distance once. The text
//! stays one `String` (1× its size, unlike a rope's 2–5×), so an edit moves
//! the bytes after it, a `memmove`, never a character scan.

use std::cell::Cell;

use super::error::OtError;
use super::op::{Component, TextOp, char_len};
use super::utf16::Utf16Index;

/// A place in the text, in all three units.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
struct Mark {
    byte: usize,
    char: usize,
    utf16: usize,
}

/// A text edited in place by ops; see the module docs.
#[derive(Debug, Clone, Default)]
pub(crate) struct LiveText {
    text: String,
    chars: usize,
    utf16: usize,
    /// Where the last edit or lookup ended (a hint: any valid mark works).
    mark: Cell<Mark>,
}

/// Units of the character whose first byte is `lead`.
fn utf16_units(lead: u8) -> usize {
    if lead >= 0xF0 { 2 } else { 1 }
}

fn is_lead(byte: u8) -> bool {
    byte & 0xC0 != 0x80
}

impl LiveText {
    pub(crate) fn new(text: &str) -> Self {
        Self {
            text: text.to_owned(),
            chars: char_len(text),
            utf16: text.encode_utf16().count(),
            mark: Cell::new(Mark::default()),
        }
    }

    /// The whole text (a copy: for rare paths, not per keystroke).
    pub(crate) fn to_text(&self) -> String {
        self.text.clone()
    }

    fn end(&self) -> Mark {
        Mark {
            byte: self.text.len(),
            char: self.chars,
            utf16: self.utf16,
        }
    }

    /// The nearest known mark to `key(target)`: the start, the end, or the
    /// mark.
    fn nearest(&self, target: usize, key: impl Fn(&Mark) -> usize) -> Mark {
        let candidates = [Mark::default(), self.mark.get(), self.end()];
        let mut best = candidates[0];
        for mark in candidates {
            if key(&mark).abs_diff(target) < key(&best).abs_diff(target) {
                best = mark;
            }
        }
        best
    }

    /// Walks forward from `from`, one character at a time, while
    /// `go(mark, first byte of the character at mark)` holds.
    fn forward_while(&self, from: Mark, go: impl Fn(&Mark, u8) -> bool) -> Mark {
        let bytes = self.text.as_bytes();
        let mut at = from;
        while at.byte < bytes.len() && go(&at, bytes[at.byte]) {
            at.utf16 += utf16_units(bytes[at.byte]);
            at.char += 1;
            at.byte += 1;
            while at.byte < bytes.len() && !is_lead(bytes[at.byte]) {
                at.byte += 1;
            }
        }
        at
    }

    /// Walks back from `from`, one character at a time, while `go(mark)`
    /// holds.
    fn backward_while(&self, from: Mark, go: impl Fn(&Mark) -> bool) -> Mark {
        let bytes = self.text.as_bytes();
        let mut at = from;
        while at.byte > 0 && go(&at) {
            let mut start = at.byte - 1;
            while start > 0 && !is_lead(bytes[start]) {
                start -= 1;
            }
            at = Mark {
                byte: start,
                char: at.char - 1,
                utf16: at.utf16 - utf16_units(bytes[start]),
            };
        }
        at
    }

    /// The mark at character `chars` (at most the length).
    fn at_char(&self, chars: usize) -> Mark {
        let from = self.nearest(chars, |m| m.char);
        let found = if from.char <= chars {
            self.forward_while(from, |m, _| m.char < chars)
        } else {
            self.backward_while(from, |m| m.char > chars)
        };
        self.mark.set(found);
        found
    }

    /// The last character start at or before UTF-16 offset `units` (at
    /// most the length): `units` itself unless `units` splits a pair.
    fn at_utf16(&self, units: usize) -> Mark {
        let from = self.nearest(units, |m| m.utf16);
        let found = if from.utf16 <= units {
            self.forward_while(from, |m, lead| m.utf16 + utf16_units(lead) <= units)
        } else {
            self.backward_while(from, |m| m.utf16 > units)
        };
        self.mark.set(found);
        found
    }

    /// Whether `op` applies to this text.
    ///
    /// # Errors
    /// [`OtError::LengthMismatch`] when it does not.
    pub(crate) fn fits(&self, op: &TextOp) -> Result<(), OtError> {
        if op.base_len() != self.chars {
            return Err(OtError::LengthMismatch {
                op_len: op.base_len(),
                text_len: self.chars,
            });
        }
        Ok(())
    }

    /// Applies `op` in place. On error nothing changed.
    ///
    /// # Errors
    /// [`OtError::LengthMismatch`] when `op` does not fit the text.
    pub(crate) fn apply(&mut self, op: &TextOp) -> Result<(), OtError> {
        self.fits(op)?;
        let components = match op.components() {
            // Nothing to walk over after the last change.
            [rest @ .., Component::Retain(_)] => rest,
            all => all,
        };
        let mut at = Mark::default();
        for component in components {
            match component {
                Component::Retain(n) => at = self.at_char(at.char + n),
                Component::Insert(s) => {
                    self.text.insert_str(at.byte, s);
                    let (chars, units) = (char_len(s), s.encode_utf16().count());
                    self.chars += chars;
                    self.utf16 += units;
                    at = Mark {
                        byte: at.byte + s.len(),
                        char: at.char + chars,
                        utf16: at.utf16 + units,
                    };
                    self.mark.set(at);
                }
                Component::Delete(n) => {
                    let end = self.forward_while(at, |m, _| m.char < at.char + n);
                    self.text.replace_range(at.byte..end.byte, "");
                    self.chars -= n;
                    self.utf16 -= end.utf16 - at.utf16;
                    self.mark.set(at);
                }
            }
        }
        Ok(())
    }

    /// The op that undoes `op` applied to this text (as
    /// [`TextOp::invert`], reading only what `op` deletes).
    ///
    /// # Errors
    /// [`OtError::LengthMismatch`] when `op` does not fit the text.
    pub(crate) fn invert(&self, op: &TextOp) -> Result<TextOp, OtError> {
        self.fits(op)?;
        let mut out = TextOp::new();
        let mut at = Mark::default();
        for component in op.components() {
            match component {
                Component::Retain(n) => {
                    out.retain(*n);
                    at.char += n;
                }
                Component::Insert(s) => {
                    out.delete(char_len(s));
                }
                Component::Delete(n) => {
                    let from = self.at_char(at.char);
                    let to = self.forward_while(from, |m, _| m.char < from.char + n);
                    out.insert(&self.text[from.byte..to.byte]);
                    at = to;
                }
            }
        }
        Ok(out)
    }
}

impl Utf16Index for LiveText {
    fn len_chars(&self) -> usize {
        self.chars
    }

    fn len_utf16(&self) -> usize {
        self.utf16
    }

    fn utf16_of_char(&self, chars: usize) -> usize {
        self.at_char(chars.min(self.chars)).utf16
    }

    fn char_of_utf16(&self, units: usize) -> Result<usize, OtError> {
        super::utf16::place(
            units,
            self.utf16,
            |units| self.at_utf16(units).char,
            |chars| self.utf16_of_char(chars),
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::ot::Utf16Change;

    proptest::proptest! {
        #![proptest_config(proptest::prelude::ProptestConfig::with_cases(256))]

        /// In place, a live text gives what `TextOp` gives on a `String`:
        /// apply, invert, and UTF-16 offsets (astral chars and CRLF
        /// included), whatever the mark was left at.
        #[test]
        fn agrees_with_the_string_functions(
            start in "[ab😀é\r\n]{0,40}",
            edits in proptest::collection::vec((0usize..50, 0usize..4, "[xy😀é\r\n]{0,3}", 0usize..60), 1..30),
        ) {
            let mut text = start.clone();
            let mut live = LiveText::new(&start);
            for (at, del, ins, probe) in edits {
                let len = text.chars().count();
                let pos = at % (len + 1);
                let del = del.min(len - pos);
                let op = TextOp::from_splice(len, pos, del, &ins).unwrap();
                proptest::prop_assert_eq!(live.invert(&op).unwrap(), op.invert(&text).unwrap());
                text = op.apply(&text).unwrap();
                live.apply(&op).unwrap();
                proptest::prop_assert_eq!(live.to_text(), text.clone());
                let units = text.as_str().len_utf16();
                proptest::prop_assert_eq!(Utf16Index::len_utf16(&live), units);
                proptest::prop_assert_eq!(Utf16Index::len_chars(&live), text.chars().count());
                // One lookup from wherever the mark is, then every offset.
                let _ = Utf16Index::char_of_utf16(&live, probe % (units + 1));
                for u in 0..=units {
                    proptest::prop_assert_eq!(
                        Utf16Index::char_of_utf16(&live, u),
                        Utf16Index::char_of_utf16(text.as_str(), u)
                    );
                }
                for c in (0..=len + 2).rev() {
                    proptest::prop_assert_eq!(
                        Utf16Index::utf16_of_char(&live, c),
                        Utf16Index::utf16_of_char(text.as_str(), c)
                    );
                }
                let change = [Utf16Change::new(probe % (units + 1), 0, "z")];
                proptest::prop_assert_eq!(
                    TextOp::from_utf16_changes(&live, &change),
                    TextOp::from_utf16_changes(text.as_str(), &change)
                );
            }
        }
    }

    #[test]
    fn an_op_that_does_not_fit_changes_nothing() {
        let mut live = LiveText::new("abc");
        let op = TextOp::from_splice(4, 0, 1, "").unwrap();
        assert_eq!(live.apply(&op).unwrap_err().code(), "ot.length_mismatch");
        assert_eq!(live.invert(&op).unwrap_err().code(), "ot.length_mismatch");
        assert_eq!(live.to_text(), "abc");
    }

    #[test]
    fn a_multi_change_op_applies_left_to_right() {
        let mut live = LiveText::new("a😀b\r\nc");
        let op = TextOp::from_splices(6, [(0, 0, ">"), (3, 1, "B"), (7, 0, "!")]).unwrap();
        let expected = op.apply("a😀b\r\nc").unwrap();
        live.apply(&op).unwrap();
        assert_eq!(live.to_text(), expected);
        assert_eq!(Utf16Index::len_utf16(&live), expected.as_str().len_utf16());
    }
}
