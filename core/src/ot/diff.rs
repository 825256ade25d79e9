//! Building a [`TextOp`] from the difference of two texts.

use similar::{Algorithm, DiffOp, capture_diff_slices};

use super::op::TextOp;

impl TextOp {
    /// The op that turns `old` into `new`. Use it when an editor only
    /// reports whole texts, or to resync.
    ///
    /// The common prefix and suffix are trimmed first. A small middle is
    /// diffed character by character (Myers); a large one line by line with
    /// `imara-diff` (Myers with git's heuristics, which stay fast on hostile
    /// input where plain Myers goes quadratic), refining each small changed
    /// region by characters. So a whole-file save costs about its size,
    /// never its square.
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
        let old_mid = &old_rest[..old_rest.len() - suffix];
        let new_mid = &new_rest[..new_rest.len() - suffix];

        let mut op = Self::new();
        op.retain(old[..prefix].chars().count());
        if old_mid.len() + new_mid.len() <= CHAR_DIFF_LIMIT {
            char_diff(&mut op, old_mid, new_mid);
        } else {
            line_diff(&mut op, old_mid, new_mid);
        }
        op.retain(old_rest[old_rest.len() - suffix..].chars().count());
        op
    }
}

/// Texts (both sides together, in bytes) up to this size are diffed by
/// characters; Myers' worst case is then bounded by its square, ~16 M steps.
const CHAR_DIFF_LIMIT: usize = 4096;

/// Appends to `op` the character diff of `old` into `new`.
fn char_diff(op: &mut TextOp, old: &str, new: &str) {
    let old: Vec<char> = old.chars().collect();
    let new: Vec<char> = new.chars().collect();
    let mut buf = String::new();
    for step in capture_diff_slices(Algorithm::Myers, &old, &new) {
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
                buf.extend(&new[new_index..new_index + new_len]);
                op.insert(&buf);
            }
            DiffOp::Replace {
                old_len,
                new_index,
                new_len,
                ..
            } => {
                buf.clear();
                buf.extend(&new[new_index..new_index + new_len]);
                op.insert(&buf).delete(old_len);
            }
        }
    }
}

/// Appends to `op` a line diff of `old` into `new`, each changed region
/// refined by characters when it is small.
fn line_diff(op: &mut TextOp, old: &str, new: &str) {
    let input = imara_diff::InternedInput::new(old, new);
    let diff = imara_diff::Diff::compute(imara_diff::Algorithm::Myers, &input);
    let byte_starts = |tokens: &[imara_diff::Token]| {
        let mut starts = Vec::with_capacity(tokens.len() + 1);
        let mut at = 0usize;
        starts.push(0);
        for token in tokens {
            at += input.interner[*token].len();
            starts.push(at);
        }
        starts
    };
    let old_at = byte_starts(&input.before);
    let new_at = byte_starts(&input.after);
    let mut old_done = 0usize;
    for hunk in diff.hunks() {
        let (before, after) = (hunk.before, hunk.after);
        let (old_start, old_end) = (old_at[before.start as usize], old_at[before.end as usize]);
        let (new_start, new_end) = (new_at[after.start as usize], new_at[after.end as usize]);
        op.retain(old[old_done..old_start].chars().count());
        let (old_part, new_part) = (&old[old_start..old_end], &new[new_start..new_end]);
        if old_part.len() + new_part.len() <= CHAR_DIFF_LIMIT {
            char_diff(op, old_part, new_part);
        } else {
            op.insert(new_part).delete(old_part.chars().count());
        }
        old_done = old_end;
    }
    op.retain(old[old_done..].chars().count());
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn large_rewrites_stay_fast_and_exact() {
        // Every line differs: plain character Myers would take ~(2 MB)^2 / 2.
        let old: String = (0..40_000)
            .map(|i| format!("line {i} of the old text\n"))
            .collect();
        let new: String = (0..40_000)
            .map(|i| format!("row {i} in the new text!\n"))
            .collect();
        let op = TextOp::diff(&old, &new);
        assert_eq!(op.apply(&old).unwrap(), new);
        // A large file with a few small edits still gets small, exact ops.
        let edited = old.replacen("line 20000 of", "line 20000 in", 1).replacen(
            "line 7 of",
            "line seven of",
            1,
        );
        let op = TextOp::diff(&old, &edited);
        assert_eq!(op.apply(&old).unwrap(), edited);
        assert!(op.to_json().len() < 200, "{}", op.to_json());
    }

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
