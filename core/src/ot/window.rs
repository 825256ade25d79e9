//! [`Window`]: a copy of the text around the last edit, so that deleting
//! there reads the deleted text without touching the rope.
//!
//! A server keeps the text a delete removes (old revisions are rebuilt from
//! it). Reading it from the rope costs a walk of the skip list and, worse,
//! flushes the rope's buffer of adjacent keystrokes, which is what makes the
//! buffered rope 4× faster than the plain one. Keystrokes are local: a
//! backspace follows typing, a run of backspaces follows a first one, a
//! forward delete follows another. The window holds the text just typed and,
//! after a delete that missed it, some text on both sides of that delete, so
//! the next deletes there are answered from memory.

use std::ops::Range;

/// Chars of context read on each side of a delete that misses the window.
pub(super) const CONTEXT: usize = 32;

/// Above this many bytes, the window restarts from the next edit alone.
const MAX_BYTES: usize = 1024;

/// Chars `start..start + chars` of the document, kept equal to it through
/// every edit that falls inside; an edit elsewhere replaces it.
#[derive(Debug, Clone, Default)]
pub(super) struct Window {
    start: usize,
    chars: usize,
    text: String,
}

impl Window {
    fn end(&self) -> usize {
        self.start + self.chars
    }

    fn covers(&self, range: &Range<usize>) -> bool {
        !self.text.is_empty() && self.start <= range.start && range.end <= self.end()
    }

    /// Byte offset of char `at` (at most `chars`) of the window.
    fn byte_of(&self, at: usize) -> usize {
        if self.text.len() == self.chars {
            return at;
        }
        self.text
            .char_indices()
            .nth(at)
            .map_or(self.text.len(), |(byte, _)| byte)
    }

    /// Records `s` (`chars` long) inserted at char `pos`: inside or at the
    /// edge of the window it joins it, anywhere else it becomes the window.
    pub(super) fn inserted(&mut self, pos: usize, s: &str, chars: usize) {
        let joins = !self.text.is_empty()
            && self.start <= pos
            && pos <= self.end()
            && self.text.len() + s.len() <= MAX_BYTES;
        if joins {
            let byte = self.byte_of(pos - self.start);
            self.text.insert_str(byte, s);
            self.chars += chars;
        } else if s.len() <= MAX_BYTES {
            self.text.clear();
            self.text.shrink_to(MAX_BYTES);
            self.text.push_str(s);
            self.start = pos;
            self.chars = chars;
        } else {
            // A paste larger than the window: not kept (a delete right after
            // it reads the rope once).
            self.clear();
        }
    }

    /// When the window holds all of `range`, moves that text into `out` and
    /// returns true. Otherwise returns false and leaves the window alone: the
    /// caller reads the text elsewhere and calls [`Window::refill`].
    pub(super) fn take(&mut self, range: &Range<usize>, out: &mut String) -> bool {
        if !self.covers(range) {
            return false;
        }
        let from = self.byte_of(range.start - self.start);
        let to = if self.text.len() == self.chars {
            range.end - self.start
        } else {
            from + self.text[from..]
                .char_indices()
                .nth(range.len())
                .map_or(self.text.len() - from, |(byte, _)| byte)
        };
        out.push_str(&self.text[from..to]);
        self.text.replace_range(from..to, "");
        self.chars -= range.len();
        true
    }

    /// Replaces the window with `text`, chars `start..` of the document
    /// after a delete (the text on both sides of it, read from the rope).
    pub(super) fn refill(&mut self, start: usize, text: &str) {
        self.text.clear();
        if text.len() > MAX_BYTES {
            self.clear();
            return;
        }
        self.text.push_str(text);
        self.start = start;
        self.chars = text.chars().count();
    }

    /// Forgets everything.
    pub(super) fn clear(&mut self) {
        self.text = String::new();
        self.chars = 0;
    }

    /// Bytes of heap held.
    pub(super) fn capacity(&self) -> usize {
        self.text.capacity()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Applies the same edits to a plain string and checks that every delete
    /// the window answers gives the string's text.
    #[test]
    fn answers_only_what_it_holds_and_stays_equal_to_the_text() {
        let mut text: Vec<char> = "0123456789abcdef".chars().collect();
        let mut window = Window::default();
        window.refill(4, "456789");
        let mut out = String::new();
        // A backspace inside: answered.
        assert!(window.take(&(8..9), &mut out));
        assert_eq!(out, "8");
        text.remove(8);
        // Typing at its end, with an astral char.
        window.inserted(9, "😀é", 2);
        text.splice(9..9, "😀é".chars());
        out.clear();
        assert!(window.take(&(9..11), &mut out));
        assert_eq!(out, "😀é");
        text.drain(9..11);
        // Past its start: not answered, nothing changed.
        out.clear();
        assert!(!window.take(&(3..5), &mut out));
        assert!(out.is_empty());
        // Each remaining char of the window matches the text.
        for (at, ch) in text.iter().enumerate().take(9).skip(4) {
            out.clear();
            let mut probe = window.clone();
            assert!(probe.take(&(at..at + 1), &mut out));
            assert_eq!(out, ch.to_string());
        }
        // An insert elsewhere replaces it.
        window.inserted(0, "x", 1);
        out.clear();
        assert!(!window.take(&(5..6), &mut out));
        assert!(window.take(&(0..1), &mut out));
        assert_eq!(out, "x");
    }

    #[test]
    fn never_grows_past_its_limit() {
        let mut window = Window::default();
        let chunk = "y".repeat(1000);
        for k in 0..10 {
            window.inserted(k * 1000, &chunk, 1000);
            assert!(window.text.len() <= MAX_BYTES);
        }
        window.refill(0, &"z".repeat(MAX_BYTES + 1));
        let mut out = String::new();
        assert!(!window.take(&(0..1), &mut out));
        // A paste larger than the window is not kept, nor its capacity.
        window.inserted(0, &"p".repeat(10 * MAX_BYTES), 10 * MAX_BYTES);
        assert!(!window.take(&(0..1), &mut out));
        assert!(window.capacity() <= MAX_BYTES);
    }
}
