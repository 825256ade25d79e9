//! [`UndoManager`]: undo and redo of one participant's own edits.

use super::error::OtError;
use super::op::{Side, TextOp};

/// Undo and redo for one participant: Ctrl-Z undoes only the local user's
/// edits, even after remote edits landed around them.
///
/// Each stack entry is the inverse of a local edit, kept transformed so that
/// it applies to the current text; remote ops transform the stacks.
///
/// ```
/// use velocity_sync::TextOp;
/// use velocity_sync::ot::UndoManager;
/// # fn main() -> Result<(), velocity_sync::OtError> {
/// let mut undo = UndoManager::new(100);
/// let mut text = String::from("hello");
/// let mine = TextOp::from_splice(5, 5, 0, " world")?;
/// undo.record(&mine, &text)?;
/// text = mine.apply(&text)?;
/// // A remote user edits the start.
/// let remote = TextOp::from_splice(11, 0, 1, "J")?;
/// undo.remote(&remote)?;
/// text = remote.apply(&text)?;
/// let op = undo.undo(&text)?.expect("one edit to undo");
/// text = op.apply(&text)?;
/// assert_eq!(text, "Jello");
/// # Ok(())
/// # }
/// ```
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct UndoManager {
    undo: Vec<TextOp>,
    redo: Vec<TextOp>,
    limit: usize,
}

impl UndoManager {
    /// A manager that remembers at most `limit` edits.
    pub fn new(limit: usize) -> Self {
        Self {
            undo: Vec::new(),
            redo: Vec::new(),
            limit,
        }
    }

    /// Records a local edit `op`, made on `base_text`. Clears the redo stack.
    ///
    /// # Errors
    /// [`OtError::LengthMismatch`] when `op` does not fit `base_text`.
    pub fn record(&mut self, op: &TextOp, base_text: &str) -> Result<(), OtError> {
        self.record_inverse(op.invert(base_text)?);
        Ok(())
    }

    /// Records a local edit by its inverse (`op.invert(base_text)`, computed
    /// by the caller before the edit was applied elsewhere), so recording
    /// cannot fail after the edit. Clears the redo stack.
    ///
    /// ```
    /// use velocity_sync::TextOp;
    /// use velocity_sync::ot::UndoManager;
    /// # fn main() -> Result<(), velocity_sync::OtError> {
    /// let op = TextOp::from_splice(2, 2, 0, "c")?;
    /// let mut undo = UndoManager::new(10);
    /// undo.record_inverse(op.invert("ab")?);
    /// assert_eq!(undo.undo("abc")?.map(|op| op.to_json()).as_deref(), Some("[2,-1]"));
    /// # Ok(())
    /// # }
    /// ```
    pub fn record_inverse(&mut self, inverse: TextOp) {
        if self.limit == 0 {
            return;
        }
        if self.undo.len() == self.limit {
            self.undo.remove(0);
        }
        self.undo.push(inverse);
        self.redo.clear();
    }

    /// A remote op was applied to the text: keep both stacks applicable.
    ///
    /// # Errors
    /// [`OtError::TransformMismatch`] when `op` does not fit the current
    /// text; the manager is unchanged.
    pub fn remote(&mut self, op: &TextOp) -> Result<(), OtError> {
        let undo = transform_stack(&self.undo, op)?;
        let redo = transform_stack(&self.redo, op)?;
        self.undo = undo;
        self.redo = redo;
        Ok(())
    }

    /// The op that undoes the latest local edit still on the stack, to apply
    /// to `current_text` and send like any local edit (do not
    /// [`record`](Self::record) it). `None` when there is nothing to undo.
    ///
    /// # Errors
    /// [`OtError::LengthMismatch`] when `current_text` is not the text the
    /// stack expects.
    pub fn undo(&mut self, current_text: &str) -> Result<Option<TextOp>, OtError> {
        step(&mut self.undo, &mut self.redo, current_text)
    }

    /// The op that redoes the latest undone edit. `None` when there is none.
    ///
    /// # Errors
    /// As [`undo`](Self::undo).
    pub fn redo(&mut self, current_text: &str) -> Result<Option<TextOp>, OtError> {
        step(&mut self.redo, &mut self.undo, current_text)
    }

    /// Whether [`undo`](Self::undo) has something to undo.
    pub fn can_undo(&self) -> bool {
        !self.undo.is_empty()
    }

    /// Whether [`redo`](Self::redo) has something to redo.
    pub fn can_redo(&self) -> bool {
        !self.redo.is_empty()
    }
}

fn step(
    from: &mut Vec<TextOp>,
    to: &mut Vec<TextOp>,
    text: &str,
) -> Result<Option<TextOp>, OtError> {
    let Some(op) = from.last() else {
        return Ok(None);
    };
    let back = op.invert(text)?;
    let op = from.pop();
    to.push(back);
    Ok(op)
}

/// Transforms a stack whose top applies to the current text against `op`
/// (also on the current text). Entries that become no-ops are dropped.
fn transform_stack(stack: &[TextOp], op: &TextOp) -> Result<Vec<TextOp>, OtError> {
    let mut out = Vec::with_capacity(stack.len());
    let mut op = op.clone();
    for entry in stack.iter().rev() {
        let (entry2, op2) = TextOp::transform(entry, &op, Side::Left)?;
        if !entry2.is_noop() {
            out.push(entry2);
        }
        op = op2;
    }
    out.reverse();
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn undo_and_redo_walk_back_and_forth() {
        let mut m = UndoManager::new(10);
        let mut text = String::from("a\r\nb");
        for (pos, ins) in [(4, "c"), (0, "😀")] {
            let op = TextOp::from_splice(text.chars().count(), pos, 0, ins).unwrap();
            m.record(&op, &text).unwrap();
            text = op.apply(&text).unwrap();
        }
        assert_eq!(text, "😀a\r\nbc");
        text = m.undo(&text).unwrap().unwrap().apply(&text).unwrap();
        text = m.undo(&text).unwrap().unwrap().apply(&text).unwrap();
        assert_eq!(text, "a\r\nb");
        assert_eq!(m.undo(&text).unwrap(), None);
        text = m.redo(&text).unwrap().unwrap().apply(&text).unwrap();
        assert_eq!(text, "a\r\nbc");
        assert!(m.can_undo() && m.can_redo());
        assert_eq!(m.undo("x").unwrap_err().code(), "ot.length_mismatch");
        assert_eq!(
            m.remote(&TextOp::identity(1)).unwrap_err().code(),
            "ot.transform_mismatch"
        );
    }

    #[test]
    fn limit_drops_the_oldest() {
        let mut m = UndoManager::new(1);
        m.record(&TextOp::from_splice(0, 0, 0, "a").unwrap(), "")
            .unwrap();
        m.record(&TextOp::from_splice(1, 1, 0, "b").unwrap(), "a")
            .unwrap();
        assert!(m.undo("ab").unwrap().is_some());
        assert_eq!(m.undo("a").unwrap(), None);
    }
}
