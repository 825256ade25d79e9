//! Content hashes: BLAKE3 for addressing, SHA-256 for the database.
//!
//! [`ContentHash`] (BLAKE3, 32 bytes) addresses blobs and manifests.
//! [`Sha256Digest`] fills the `project_files.content_hash` / `checksum`
//! columns, because PostgreSQL can check it in SQL (`sha256(content)`).
//! [`hash_both`] computes both in one pass over the bytes.
//!
//! ```
//! use velocity_sync::{hash_both, ContentHash};
//! # fn main() -> Result<(), velocity_sync::HashError> {
//! let hash = ContentHash::of(b"hello");
//! assert_eq!(hash.to_string().len(), 64);
//! assert_eq!(ContentHash::from_hex(&hash.to_string())?, hash);
//! let (blake, sha) = hash_both(b"hello");
//! assert_eq!(blake, hash);
//! assert_eq!(
//!     sha.to_string(),
//!     "2cf24dba5fb0a30e26e83b2ac5b9e29e1b161e5c1fa7425e73043362938b9824"
//! );
//! # Ok(())
//! # }
//! ```

use std::fmt;
use std::str::FromStr;

use serde::{Deserialize, Deserializer, Serialize, Serializer};
use sha2::Digest as _;

/// Why a hash could not be read.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum HashError {
    /// The text is not 64 hex digits long.
    #[error("hash {text:?} has {len} characters; expected 64 lowercase hex digits")]
    BadLength {
        /// The rejected text (cut to 80 characters).
        text: String,
        /// Its length in characters.
        len: usize,
    },
    /// A character that is not a lowercase hex digit.
    #[error("hash {text:?} has a non-hex character at {offset}; expected lowercase hex digits")]
    BadDigit {
        /// The rejected text.
        text: String,
        /// Offset of the first bad character.
        offset: usize,
    },
}

impl HashError {
    /// The stable code of this error.
    pub fn code(&self) -> &'static str {
        match self {
            Self::BadLength { .. } => "hash.bad_length",
            Self::BadDigit { .. } => "hash.bad_digit",
        }
    }
}

fn decode_hex32(text: &str) -> Result<[u8; 32], HashError> {
    let chars = text.chars().count();
    if text.len() != 64 || chars != 64 {
        return Err(HashError::BadLength {
            text: text.chars().take(80).collect(),
            len: chars,
        });
    }
    let mut out = [0u8; 32];
    for (i, pair) in text.as_bytes().chunks_exact(2).enumerate() {
        let digit = |offset: usize| -> Result<u8, HashError> {
            match text.as_bytes()[offset] {
                b @ b'0'..=b'9' => Ok(b - b'0'),
                b @ b'a'..=b'f' => Ok(b - b'a' + 10),
                _ => Err(HashError::BadDigit {
                    text: text.to_owned(),
                    offset,
                }),
            }
        };
        debug_assert_eq!(pair.len(), 2);
        out[i] = (digit(2 * i)? << 4) | digit(2 * i + 1)?;
    }
    Ok(out)
}

fn write_hex(bytes: &[u8; 32], f: &mut fmt::Formatter<'_>) -> fmt::Result {
    const DIGITS: &[u8; 16] = b"0123456789abcdef";
    let mut buf = [0u8; 64];
    for (i, b) in bytes.iter().enumerate() {
        buf[2 * i] = DIGITS[usize::from(b >> 4)];
        buf[2 * i + 1] = DIGITS[usize::from(b & 0xf)];
    }
    // Every byte written above is an ASCII hex digit.
    f.write_str(std::str::from_utf8(&buf).map_err(|_| fmt::Error)?)
}

macro_rules! digest_type {
    ($(#[$doc:meta])* $name:ident) => {
        $(#[$doc])*
        #[derive(Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
        pub struct $name([u8; 32]);

        impl $name {
            /// Wraps raw digest bytes.
            pub const fn from_bytes(bytes: [u8; 32]) -> Self {
                Self(bytes)
            }

            /// The raw digest bytes.
            pub const fn as_bytes(&self) -> &[u8; 32] {
                &self.0
            }

            /// Parses 64 lowercase hex digits.
            ///
            /// # Errors
            /// [`HashError`] when the text is not exactly that.
            pub fn from_hex(text: &str) -> Result<Self, HashError> {
                decode_hex32(text).map(Self)
            }
        }

        impl fmt::Display for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                write_hex(&self.0, f)
            }
        }

        impl fmt::Debug for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                write!(f, concat!(stringify!($name), "("))?;
                write_hex(&self.0, f)?;
                write!(f, ")")
            }
        }

        impl FromStr for $name {
            type Err = HashError;

            fn from_str(s: &str) -> Result<Self, Self::Err> {
                Self::from_hex(s)
            }
        }

        impl Serialize for $name {
            fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
                serializer.collect_str(self)
            }
        }

        impl<'de> Deserialize<'de> for $name {
            fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
                let text = <std::borrow::Cow<'de, str>>::deserialize(deserializer)?;
                Self::from_hex(&text).map_err(serde::de::Error::custom)
            }
        }
    };
}

digest_type!(
    /// A BLAKE3 hash: the address of a blob, a file entry or a manifest.
    /// Shown as 64 lowercase hex digits.
    ContentHash
);

digest_type!(
    /// A SHA-256 digest, for the database's `content_hash` / `checksum`
    /// columns. Shown as 64 lowercase hex digits, as PostgreSQL's
    /// `encode(sha256(...), 'hex')` prints it.
    Sha256Digest
);

impl ContentHash {
    /// The BLAKE3 hash of `bytes`.
    pub fn of(bytes: &[u8]) -> Self {
        Self(*blake3::hash(bytes).as_bytes())
    }

    /// A domain-separated hash: BLAKE3 in key-derivation mode with `context`,
    /// so a manifest node can never collide with a blob of the same bytes.
    pub(crate) fn derive(context: &str, bytes: &[u8]) -> Self {
        Self(blake3::derive_key(context, bytes))
    }
}

impl Sha256Digest {
    /// The SHA-256 digest of `bytes`.
    pub fn of(bytes: &[u8]) -> Self {
        Self(sha2::Sha256::digest(bytes).into())
    }
}

/// Bytes per step of [`hash_both`]: small enough to stay in L1/L2 cache
/// between the two hashers, large enough for BLAKE3's SIMD paths.
const BOTH_CHUNK: usize = 16 * 1024;

/// BLAKE3 and SHA-256 of `bytes` in one pass: each chunk is fed to both
/// hashers while it is still in cache.
pub fn hash_both(bytes: &[u8]) -> (ContentHash, Sha256Digest) {
    let mut blake = blake3::Hasher::new();
    let mut sha = sha2::Sha256::new();
    for chunk in bytes.chunks(BOTH_CHUNK) {
        blake.update(chunk);
        sha.update(chunk);
    }
    (
        ContentHash(*blake.finalize().as_bytes()),
        Sha256Digest(sha.finalize().into()),
    )
}

#[cfg(test)]
mod tests {
    use proptest::prelude::*;

    use super::*;

    #[test]
    fn known_vectors() {
        assert_eq!(
            ContentHash::of(b"").to_string(),
            "af1349b9f5f9a1a6a0404dea36dcc9499bcb25c9adc112b7cc9a93cae41f3262"
        );
        assert_eq!(
            Sha256Digest::of(b"").to_string(),
            "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"
        );
    }

    #[test]
    fn malformed_hex_is_a_typed_error() {
        assert_eq!(
            ContentHash::from_hex("abc").unwrap_err().code(),
            "hash.bad_length"
        );
        let upper = "A".repeat(64);
        assert_eq!(
            ContentHash::from_hex(&upper).unwrap_err(),
            HashError::BadDigit {
                text: upper.clone(),
                offset: 0
            }
        );
        let mut bad = "0".repeat(63);
        bad.push('g');
        assert!(matches!(
            Sha256Digest::from_hex(&bad),
            Err(HashError::BadDigit { offset: 63, .. })
        ));
        // 64 bytes but fewer characters: not a panic on a char boundary.
        let multibyte = "é".repeat(32);
        assert_eq!(
            ContentHash::from_hex(&multibyte).unwrap_err().code(),
            "hash.bad_length"
        );
        assert!(serde_json::from_str::<ContentHash>("\"zz\"").is_err());
    }

    #[test]
    fn debug_shows_hex() {
        let h = ContentHash::of(b"x");
        assert_eq!(format!("{h:?}"), format!("ContentHash({h})"));
    }

    proptest! {
        #[test]
        fn hex_round_trips(bytes in any::<[u8; 32]>()) {
            let h = ContentHash::from_bytes(bytes);
            prop_assert_eq!(ContentHash::from_hex(&h.to_string()).unwrap(), h);
            let json = serde_json::to_string(&h).unwrap();
            prop_assert_eq!(serde_json::from_str::<ContentHash>(&json).unwrap(), h);
        }

        #[test]
        fn hash_both_matches_separate_hashes(bytes in proptest::collection::vec(any::<u8>(), 0..70_000)) {
            let (blake, sha) = hash_both(&bytes);
            prop_assert_eq!(blake, ContentHash::of(&bytes));
            prop_assert_eq!(sha, Sha256Digest::of(&bytes));
        }

        #[test]
        fn from_hex_never_panics(text in any::<String>()) {
            let _ = ContentHash::from_hex(&text);
        }
    }
}
