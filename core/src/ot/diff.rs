//! Building a [`TextOp`] from the difference of two texts.

use similar::{Algorithm, DiffOp, capture_diff_slices};

use super::op::TextOp;

impl TextOp {
    /// The op that turns `old` into `new`, from a character diff (Myers,
    /// after trimming the common prefix and suffix). Use it when an editor
    /// only reports whole texts, or to resync.
    ///
    /// ```
    /// use velocity_sync::TextOp;
    /// # fn main() -> Result<(), velocity_sync::OtError> {
    /// let op = TextOp::diff("a\r\nb", "a\r\nxb");
    /// assert_eq!(op.apply("a\r\nb")?, "a\r\nxb");
    /// assert_eq!(op.to_json(), r#"[3,"x",1]"#);
    /// # Ok(())
    /// # }
    /// ```
    pub fn diff(old: &str, new: &str) -> Self {
        let prefix: usize = old
            .chars()
            .zip(new.chars())
            .take_while(|(a, b)| a == b)
            .map(|(c, _)| c.len_utf8())
            .sum();
        let (old_rest, new_rest) = (&old[prefix..], &new[prefix..]);
        let suffix: usize = old_rest
            .chars()
            .rev()
            .zip(new_rest.chars().rev())
            .take_while(|(a, b)| a == b)
            .map(|(c, _)| c.len_utf8())
            .sum();
        let old_mid: Vec<char> = old_rest[..old_rest.len() - suffix].chars().collect();
        let new_mid: Vec<char> = new_rest[..new_rest.len() - suffix].chars().collect();

        let mut op = Self::new();
        op.retain(old[..prefix].chars().count());
        let mut buf = String::new();
        for step in capture_diff_slices(Algorithm::Myers, &old_mid, &new_mid) {
            match step {
                DiffOp::Equal { len, .. } => {
                    op.retain(len);
                }
                DiffOp::Delete { old_len, .. } => {
                    op.delete(old_len);
                }
                DiffOp::Insert {
                    new_index, new_len, ..
                } => {
                    buf.clear();
                    buf.extend(&new_mid[new_index..new_index + new_len]);
                    op.insert(&buf);
                }
                DiffOp::Replace {
                    old_len,
                    new_index,
                    new_len,
                    ..
                } => {
                    buf.clear();
                    buf.extend(&new_mid[new_index..new_index + new_len]);
                    op.insert(&buf).delete(old_len);
                }
            }
        }
        op.retain(old_rest[old_rest.len() - suffix..].chars().count());
        op
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn diff_turns_old_into_new() {
        for (old, new) in [
            ("", ""),
            ("", "abc"),
            ("abc", ""),
            ("kitten", "sitting"),
            ("a🎉b\r\n", "a\r\n🎉b"),
            ("same", "same"),
        ] {
            let op = TextOp::diff(old, new);
            assert_eq!(op.apply(old).unwrap(), new, "{old:?} -> {new:?}");
            assert_eq!(op.normalized(), op);
        }
        assert!(TextOp::diff("same", "same").is_noop());
    }
}
