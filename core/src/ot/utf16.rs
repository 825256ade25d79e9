//! Editor changes with UTF-16 offsets (Monaco, CodeMirror, any JS editor).
//!
//! JavaScript strings count UTF-16 code units, [`TextOp`] counts Unicode
//! scalar values. The conversions go through a [`Utf16Index`], which a
//! [`TextDocument`](super::TextDocument) answers in `O(log n)` from metrics kept in
//! its rope, so a keystroke never scans the whole text. `str` answers too, by
//! scanning (fine for tests and small texts).
//!
//! ```
//! use velocity_sync::TextOp;
//! use velocity_sync::ot::Utf16Change;
//! # fn main() -> Result<(), velocity_sync::OtError> {
//! let text = "😀a\r\nb";
//! // Monaco: replace "a" (UTF-16 offset 2, length 1) with "x".
//! let op = TextOp::from_utf16_changes(text, &[Utf16Change::new(2, 1, "x")])?;
//! assert_eq!(op.apply(text)?, "😀x\r\nb");
//! assert_eq!(op.to_utf16_changes(text)?, vec![Utf16Change::new(2, 1, "x")]);
//! // Offset 1 is inside the emoji's surrogate pair.
//! let err = TextOp::from_utf16_changes(text, &[Utf16Change::new(1, 0, "x")]).unwrap_err();
//! assert_eq!(err.code(), "ot.split_surrogate");
//! # Ok(())
//! # }
//! ```

use super::error::OtError;
use super::op::{Component, TextOp, char_len};

/// A text that maps between character offsets and UTF-16 offsets.
pub trait Utf16Index {
    /// Length in Unicode scalar values.
    fn len_chars(&self) -> usize;

    /// Length in UTF-16 code units.
    fn len_utf16(&self) -> usize;

    /// The UTF-16 offset of character offset `chars` (clamped to the end).
    fn utf16_of_char(&self, chars: usize) -> usize;

    /// The character offset of UTF-16 offset `units`.
    ///
    /// # Errors
    /// [`OtError::OutOfRange`] past the end, [`OtError::SplitSurrogate`]
    /// inside a surrogate pair.
    fn char_of_utf16(&self, units: usize) -> Result<usize, OtError>;
}

// The scans below walk bytes, not `chars()`: a UTF-8 lead byte says how long
// its character is (continuation bytes are 0b10xx_xxxx; a lead byte of 0xF0
// or above starts a 4-byte character, two UTF-16 units). Decoding every
// character is far slower in the size-tuned WebAssembly build, where the
// per-character iterator is not inlined, and these run on every keystroke.

/// Whether `byte` starts a character.
fn starts_char(byte: u8) -> bool {
    byte & 0xC0 != 0x80
}

/// UTF-16 units of the character `lead` starts.
fn units_of(lead: u8) -> usize {
    if lead >= 0xF0 { 2 } else { 1 }
}

/// [`Utf16Index::char_of_utf16`] for a text with its own metrics:
/// `char_of(units)` gives the char a UTF-16 offset falls in (at most
/// `len_utf16`), `utf16_of(chars)` the offset a char starts at; an offset past
/// the end or inside a surrogate pair is a typed error.
pub(crate) fn place(
    units: usize,
    len_utf16: usize,
    char_of: impl Fn(usize) -> usize,
    utf16_of: impl Fn(usize) -> usize,
) -> Result<usize, OtError> {
    if units > len_utf16 {
        return Err(OtError::OutOfRange {
            start: units,
            end: units,
            len: len_utf16,
        });
    }
    let chars = char_of(units);
    if utf16_of(chars) != units {
        return Err(OtError::SplitSurrogate { offset: units });
    }
    Ok(chars)
}

impl Utf16Index for str {
    fn len_chars(&self) -> usize {
        char_len(self)
    }

    fn len_utf16(&self) -> usize {
        self.as_bytes()
            .iter()
            .map(|&b| usize::from(starts_char(b)) + usize::from(b >= 0xF0))
            .sum()
    }

    fn utf16_of_char(&self, chars: usize) -> usize {
        let (mut seen_chars, mut units) = (0, 0);
        for &b in self.as_bytes() {
            if starts_char(b) {
                if seen_chars == chars {
                    return units;
                }
                seen_chars += 1;
                units += units_of(b);
            }
        }
        units
    }

    fn char_of_utf16(&self, units: usize) -> Result<usize, OtError> {
        let (mut seen, mut chars) = (0, 0);
        for &b in self.as_bytes() {
            if !starts_char(b) {
                continue;
            }
            if seen == units {
                return Ok(chars);
            }
            seen += units_of(b);
            chars += 1;
            if seen > units {
                return Err(OtError::SplitSurrogate { offset: units });
            }
        }
        if seen == units {
            Ok(chars)
        } else {
            Err(OtError::OutOfRange {
                start: units,
                end: units,
                len: seen,
            })
        }
    }
}

/// One editor change: replace `deleted` UTF-16 units at UTF-16 `offset`
/// with `text` (Monaco's `rangeOffset`, `rangeLength`, `text`).
#[derive(Debug, Clone, PartialEq, Eq, Hash, serde::Serialize, serde::Deserialize)]
pub struct Utf16Change {
    /// Start, in UTF-16 code units of the text before the change list.
    pub offset: usize,
    /// Number of UTF-16 code units replaced.
    pub deleted: usize,
    /// The inserted text.
    pub text: String,
}

impl Utf16Change {
    /// A change from its parts.
    pub fn new(offset: usize, deleted: usize, text: &str) -> Self {
        Self {
            offset,
            deleted,
            text: text.to_owned(),
        }
    }

    /// A change whose inserted text arrives as UTF-16 code units, as a JS
    /// string does (JS strings may hold lone surrogates; Rust strings may not).
    ///
    /// # Errors
    /// [`OtError::LoneSurrogate`] for a surrogate without its partner.
    pub fn from_units(offset: usize, deleted: usize, units: &[u16]) -> Result<Self, OtError> {
        let mut text = String::with_capacity(units.len());
        let mut index = 0;
        for decoded in char::decode_utf16(units.iter().copied()) {
            match decoded {
                Ok(c) => {
                    text.push(c);
                    index += c.len_utf16();
                }
                Err(e) => {
                    return Err(OtError::LoneSurrogate {
                        index,
                        unit: e.unpaired_surrogate(),
                    });
                }
            }
        }
        Ok(Self {
            offset,
            deleted,
            text,
        })
    }
}

impl TextOp {
    /// The op for a list of editor changes whose offsets all refer to `base`
    /// (Monaco's `IModelContentChangedEvent.changes`, in any order; they must
    /// not overlap).
    ///
    /// # Errors
    /// [`OtError::SplitSurrogate`], [`OtError::OutOfRange`] or
    /// [`OtError::OverlappingChanges`].
    pub fn from_utf16_changes<T: Utf16Index + ?Sized>(
        base: &T,
        changes: &[Utf16Change],
    ) -> Result<Self, OtError> {
        let mut order: Vec<&Utf16Change> = changes.iter().collect();
        crate::sort::sort_by_key(&mut order, |c| c.offset);
        let len_utf16 = base.len_utf16();
        let mut op = Self::new();
        let (mut at_units, mut at_chars) = (0usize, 0usize);
        for change in order {
            if change.offset < at_units {
                return Err(OtError::OverlappingChanges {
                    offset: change.offset,
                });
            }
            let end = change
                .offset
                .checked_add(change.deleted)
                .filter(|e| *e <= len_utf16);
            let Some(end) = end else {
                return Err(OtError::OutOfRange {
                    start: change.offset,
                    end: change.offset.saturating_add(change.deleted),
                    len: len_utf16,
                });
            };
            let start_chars = base.char_of_utf16(change.offset)?;
            let end_chars = base.char_of_utf16(end)?;
            op.retain(start_chars - at_chars)
                .insert(&change.text)
                .delete(end_chars - start_chars);
            (at_units, at_chars) = (end, end_chars);
        }
        op.retain(base.len_chars() - at_chars);
        Ok(op)
    }

    /// This op as editor changes with UTF-16 offsets into `base`, last change
    /// first, so applying them in order never shifts a later one.
    ///
    /// # Errors
    /// [`OtError::LengthMismatch`] when `base` has the wrong length.
    pub fn to_utf16_changes<T: Utf16Index + ?Sized>(
        &self,
        base: &T,
    ) -> Result<Vec<Utf16Change>, OtError> {
        let text_len = base.len_chars();
        if text_len != self.base_len() {
            return Err(OtError::LengthMismatch {
                op_len: self.base_len(),
                text_len,
            });
        }
        let mut changes: Vec<Utf16Change> = Vec::new();
        let mut pos = 0;
        let mut open: Option<(usize, usize, String)> = None; // (start char, deleted chars, text)
        for component in self.components() {
            match component {
                Component::Retain(n) => {
                    if let Some((start, deleted, text)) = open.take() {
                        changes.push(to_change(base, start, deleted, text));
                    }
                    pos += n;
                }
                Component::Insert(s) => {
                    open.get_or_insert_with(|| (pos, 0, String::new()))
                        .2
                        .push_str(s);
                }
                Component::Delete(n) => {
                    open.get_or_insert_with(|| (pos, 0, String::new())).1 += n;
                    pos += n;
                }
            }
        }
        if let Some((start, deleted, text)) = open.take() {
            changes.push(to_change(base, start, deleted, text));
        }
        changes.reverse();
        Ok(changes)
    }
}

fn to_change<T: Utf16Index + ?Sized>(
    base: &T,
    start: usize,
    deleted: usize,
    text: String,
) -> Utf16Change {
    let offset = base.utf16_of_char(start);
    let end = base.utf16_of_char(start + deleted);
    Utf16Change {
        offset,
        deleted: end - offset,
        text,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn str_index_maps_both_ways() {
        let text = "a😀\r\nb";
        assert_eq!(text.len_chars(), 5);
        assert_eq!(text.len_utf16(), 6);
        assert_eq!(text.utf16_of_char(2), 3);
        assert_eq!(text.char_of_utf16(3).unwrap(), 2);
        assert_eq!(text.char_of_utf16(6).unwrap(), 5);
        assert_eq!(
            text.char_of_utf16(2).unwrap_err(),
            OtError::SplitSurrogate { offset: 2 }
        );
        assert_eq!(
            text.char_of_utf16(7).unwrap_err(),
            OtError::OutOfRange {
                start: 7,
                end: 7,
                len: 6
            }
        );
    }

    #[test]
    fn lone_surrogates_are_rejected() {
        let err = Utf16Change::from_units(0, 0, &[0x61, 0xD83D]).unwrap_err();
        assert_eq!(
            err,
            OtError::LoneSurrogate {
                index: 1,
                unit: 0xD83D
            }
        );
        let ok = Utf16Change::from_units(0, 0, &[0xD83D, 0xDE00]).unwrap();
        assert_eq!(ok.text, "😀");
    }

    #[test]
    fn changes_convert_both_ways() {
        let text = "ab😀cd";
        let changes = vec![Utf16Change::new(5, 1, "X"), Utf16Change::new(0, 1, "")];
        let op = TextOp::from_utf16_changes(text, &changes).unwrap();
        assert_eq!(op.apply(text).unwrap(), "b😀cX");
        assert_eq!(op.to_utf16_changes(text).unwrap(), changes);
        let overlap = [Utf16Change::new(0, 2, ""), Utf16Change::new(1, 1, "")];
        assert_eq!(
            TextOp::from_utf16_changes(text, &overlap)
                .unwrap_err()
                .code(),
            "ot.overlapping_changes"
        );
        let past = [Utf16Change::new(6, 2, "")];
        assert_eq!(
            TextOp::from_utf16_changes(text, &past).unwrap_err().code(),
            "ot.out_of_range"
        );
        assert_eq!(
            op.to_utf16_changes("x").unwrap_err().code(),
            "ot.length_mismatch"
        );
    }

    proptest::proptest! {
        #[test]
        fn byte_scans_match_the_character_definitions(
            text in "[a\\r\\né😀\\u{10FFFF}\\u{FFFF}]{0,40}",
            at in 0usize..60,
        ) {
            let reference_len: usize = text.chars().map(char::len_utf16).sum();
            proptest::prop_assert_eq!(text.len_utf16(), reference_len);
            let reference_of_char: usize = text.chars().take(at).map(char::len_utf16).sum();
            proptest::prop_assert_eq!(text.utf16_of_char(at), reference_of_char);
            let mut seen = 0;
            let mut expected = None;
            for (i, c) in text.chars().enumerate() {
                if seen == at {
                    expected = Some(Ok(i));
                    break;
                }
                seen += c.len_utf16();
                if seen > at {
                    expected = Some(Err(OtError::SplitSurrogate { offset: at }));
                    break;
                }
            }
            let expected = expected.unwrap_or(if seen == at {
                Ok(text.chars().count())
            } else {
                Err(OtError::OutOfRange { start: at, end: at, len: seen })
            });
            proptest::prop_assert_eq!(text.char_of_utf16(at), expected);
            // `advance` (op.rs) from every character boundary.
            for (from, _) in text.char_indices() {
                let reference = text[from..].char_indices().nth(at).map_or(text.len(), |(i, _)| from + i);
                proptest::prop_assert_eq!(crate::ot::op::advance(&text, from, at), reference);
            }
        }
    }
}
