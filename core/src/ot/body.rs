//! A document's text: a rope while it is edited, one flat string while idle.
//!
//! The rope (`jumprope`'s buffered skip list, with UTF-16 metrics) is the
//! fastest structure for keystrokes but its fixed node layout holds about
//! 2.3× the text even when packed. A server keeps many documents that nobody
//! is typing in; [`Body::freeze`] turns one into an exact-size `String` (1.0×)
//! and the next edit turns it back into a rope (one `O(n)` copy).

use jumprope::{JumpRope, JumpRopeBuf};

use super::error::OtError;
use super::utf16::Utf16Index;

#[derive(Clone)]
pub(super) enum Body {
    /// Being edited (boxed: the rope's head node is ~600 bytes inline,
    /// which a frozen document should not carry).
    Rope(Box<JumpRopeBuf>),
    /// Idle: the text, with its lengths cached.
    Flat {
        text: String,
        chars: usize,
        utf16: usize,
    },
}

impl Body {
    pub(super) fn new(text: &str) -> Self {
        let mut rope = JumpRope::new();
        rope.insert(0, text);
        Self::Rope(Box::new(JumpRopeBuf::with_rope(rope)))
    }

    /// The rope, rebuilding it from the flat text first if needed.
    pub(super) fn rope_mut(&mut self) -> &mut JumpRopeBuf {
        if let Self::Flat { text, .. } = self {
            *self = Self::Rope(Box::new(JumpRopeBuf::with_rope(JumpRope::from(
                text.as_str(),
            ))));
        }
        match self {
            Self::Rope(rope) => rope,
            // Just replaced by a rope above.
            Self::Flat { .. } => unreachable!("body was thawed above"),
        }
    }

    /// Stores the text as one exact-size string until the next edit.
    pub(super) fn freeze(&mut self) {
        if let Self::Rope(rope) = self {
            let (text, utf16) = {
                let rope = rope.borrow();
                (rope.to_string(), rope.len_wchars())
            };
            let chars = text.chars().count();
            let mut text = text;
            text.shrink_to_fit();
            *self = Self::Flat { text, chars, utf16 };
        }
    }

    pub(super) fn len_chars(&self) -> usize {
        match self {
            Self::Rope(rope) => rope.len_chars(),
            Self::Flat { chars, .. } => *chars,
        }
    }

    pub(super) fn len_bytes(&self) -> usize {
        match self {
            Self::Rope(rope) => rope.len_bytes(),
            Self::Flat { text, .. } => text.len(),
        }
    }

    pub(super) fn len_utf16(&self) -> usize {
        match self {
            Self::Rope(rope) => rope.borrow().len_wchars(),
            Self::Flat { utf16, .. } => *utf16,
        }
    }

    pub(super) fn to_text(&self) -> String {
        match self {
            Self::Rope(rope) => rope.borrow().to_string(),
            Self::Flat { text, .. } => text.clone(),
        }
    }

    /// Calls `f` with the text's chunks, in order.
    pub(super) fn for_each_chunk(&self, mut f: impl FnMut(&str)) {
        match self {
            Self::Rope(rope) => {
                for chunk in rope.borrow().substrings() {
                    f(chunk);
                }
            }
            Self::Flat { text, .. } => f(text),
        }
    }

    pub(super) fn mem_size(&self) -> usize {
        match self {
            Self::Rope(rope) => rope.borrow().mem_size() + size_of::<JumpRopeBuf>(),
            Self::Flat { text, .. } => text.capacity(),
        }
    }

    /// UTF-16 units before char `chars` (clamped to the text).
    pub(super) fn utf16_of_char(&self, chars: usize) -> usize {
        match self {
            Self::Rope(rope) => {
                let rope = rope.borrow();
                rope.chars_to_wchars(chars.min(rope.len_chars()))
            }
            Self::Flat { text, .. } => text.chars().take(chars).map(char::len_utf16).sum(),
        }
    }

    /// Chars before UTF-16 unit `units` (`units` at most [`len_utf16`](Self::len_utf16));
    /// inside a surrogate pair, the char the pair starts.
    pub(super) fn char_of_utf16(&self, units: usize) -> usize {
        match self {
            Self::Rope(rope) => rope.borrow().wchars_to_chars(units),
            Self::Flat { text, .. } => {
                let mut seen = 0;
                let mut chars = 0;
                for ch in text.chars() {
                    if seen + ch.len_utf16() > units {
                        break;
                    }
                    seen += ch.len_utf16();
                    chars += 1;
                }
                chars
            }
        }
    }
}

/// UTF-16 offsets from the rope's own metrics: no scan of the text.
impl Utf16Index for Body {
    fn len_chars(&self) -> usize {
        Self::len_chars(self)
    }

    fn len_utf16(&self) -> usize {
        Self::len_utf16(self)
    }

    fn utf16_of_char(&self, chars: usize) -> usize {
        Self::utf16_of_char(self, chars)
    }

    fn char_of_utf16(&self, units: usize) -> Result<usize, OtError> {
        super::utf16::place(
            units,
            Self::len_utf16(self),
            |units| Self::char_of_utf16(self, units),
            |chars| Self::utf16_of_char(self, chars),
        )
    }
}
