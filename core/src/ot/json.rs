//! The JSON form of a [`TextOp`], as ot.js writes it.
//!
//! An op is an array of runs: a positive integer retains that many
//! characters, a negative integer deletes that many, a string inserts itself.
//! `[3, "x", -2, 1]` keeps 3 characters, inserts `x`, deletes 2 and keeps 1.
//! Lengths count Unicode scalar values; ot.js counts UTF-16 code units, which
//! is the same for text without astral characters (emoji). Zero is rejected,
//! as ot.js does.
//!
//! ```
//! use velocity_sync::TextOp;
//! # fn main() -> Result<(), velocity_sync::OtError> {
//! let op = TextOp::from_json(r#"[3,"x",-2,1]"#)?;
//! assert_eq!(op.apply("abcdef")?, "abcxf");
//! assert_eq!(op.to_json(), r#"[3,"x",-2,1]"#);
//! # Ok(())
//! # }
//! ```

use serde::de::{self, SeqAccess, Visitor};
use serde::ser::SerializeSeq;
use serde::{Deserialize, Deserializer, Serialize, Serializer};

use super::error::OtError;
use super::op::{Component, TextOp};

impl TextOp {
    /// The ot.js JSON array for this op.
    pub fn to_json(&self) -> String {
        // Serialising numbers and strings into a String cannot fail.
        serde_json::to_string(self).unwrap_or_default()
    }

    /// Parses the ot.js JSON array form.
    ///
    /// # Errors
    /// [`OtError::InvalidJson`] when the text is not an array of non-zero
    /// integers and strings.
    pub fn from_json(text: &str) -> Result<Self, OtError> {
        serde_json::from_str(text).map_err(|e| OtError::InvalidJson {
            reason: e.to_string(),
        })
    }
}

impl Serialize for TextOp {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        let mut seq = serializer.serialize_seq(Some(self.components().len()))?;
        for component in self.components() {
            match component {
                Component::Retain(n) => seq.serialize_element(n)?,
                Component::Delete(n) => {
                    let n = i64::try_from(*n).map_err(serde::ser::Error::custom)?;
                    seq.serialize_element(&-n)?;
                }
                Component::Insert(s) => seq.serialize_element(s)?,
            }
        }
        seq.end()
    }
}

impl<'de> Deserialize<'de> for TextOp {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        deserializer.deserialize_seq(OpVisitor)
    }
}

struct OpVisitor;

impl<'de> Visitor<'de> for OpVisitor {
    type Value = TextOp;

    fn expecting(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("an array of non-zero integers and strings")
    }

    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<TextOp, A::Error> {
        let mut op = TextOp::new();
        while let Some(run) = seq.next_element::<Run>()? {
            op.push(run.0);
        }
        Ok(op)
    }
}

/// One array element.
struct Run(Component);

impl<'de> Deserialize<'de> for Run {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        deserializer.deserialize_any(RunVisitor)
    }
}

struct RunVisitor;

impl Visitor<'_> for RunVisitor {
    type Value = Run;

    fn expecting(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("a non-zero integer or a string")
    }

    fn visit_u64<E: de::Error>(self, v: u64) -> Result<Run, E> {
        match usize::try_from(v) {
            Ok(0) => Err(E::custom("0 is not a valid run")),
            Ok(n) => Ok(Run(Component::Retain(n))),
            Err(_) => Err(E::custom(format!("retain {v} is too long"))),
        }
    }

    fn visit_i64<E: de::Error>(self, v: i64) -> Result<Run, E> {
        if v >= 0 {
            return self.visit_u64(v.unsigned_abs());
        }
        match usize::try_from(v.unsigned_abs()) {
            Ok(n) => Ok(Run(Component::Delete(n))),
            Err(_) => Err(E::custom(format!("delete {v} is too long"))),
        }
    }

    fn visit_f64<E: de::Error>(self, v: f64) -> Result<Run, E> {
        Err(E::custom(format!("{v} is not an integer")))
    }

    fn visit_str<E: de::Error>(self, v: &str) -> Result<Run, E> {
        Ok(Run(Component::Insert(v.to_owned())))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn round_trips_and_normalises() {
        let op = TextOp::from_json(r#"[1,1,"a","",-1,"b",2]"#).unwrap();
        assert_eq!(op.to_json(), r#"[2,"ab",-1,2]"#);
        assert_eq!(TextOp::from_json(&op.to_json()).unwrap(), op);
        assert_eq!(TextOp::from_json("[]").unwrap(), TextOp::new());
    }

    #[test]
    fn huge_runs_do_not_overflow() {
        let max = i64::MAX;
        let op = TextOp::from_json(&format!("[{max},{max},{max},-{max},-{max}]")).unwrap();
        assert_eq!(op.base_len(), usize::MAX);
        assert_eq!(op.apply("abc").unwrap_err().code(), "ot.length_mismatch");
        let _ = op.transform_position(usize::MAX, crate::ot::Bias::After);
    }

    #[test]
    fn rejects_bad_runs() {
        for bad in [
            "[0]", "[1.5]", "{}", "[true]", "[[1]]", "[", "[1e400]", "[-0]",
        ] {
            let err = TextOp::from_json(bad).unwrap_err();
            assert_eq!(err.code(), "ot.invalid_json", "{bad}");
            assert!(err.to_string().starts_with("invalid op JSON: "), "{err}");
        }
    }
}
