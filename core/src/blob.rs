//! Content-addressed blob storage.

use std::collections::HashMap;
use std::sync::Arc;

use crate::hash::ContentHash;

/// Why a store refused or could not find a blob.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum BlobError {
    /// `put` was given bytes that do not hash to the given address.
    #[error("blob stored as {expected} hashes to {actual}")]
    HashMismatch {
        /// The address the caller gave.
        expected: ContentHash,
        /// The hash of the bytes.
        actual: ContentHash,
    },
    /// No blob is stored under this hash.
    #[error("blob {hash} is not in the store")]
    Missing {
        /// The hash looked up.
        hash: ContentHash,
    },
}

impl BlobError {
    /// The stable code of this error.
    pub fn code(&self) -> &'static str {
        match self {
            Self::HashMismatch { .. } => "store.hash_mismatch",
            Self::Missing { .. } => "store.missing",
        }
    }
}

/// Shared, immutable blob bytes.
pub type Blob = Arc<[u8]>;

/// Bytes checked against their address. Only [`Verified::check`] and
/// [`Verified::of`] make one, so a store keeps it without hashing again
/// ([`BlobStore::put_verified`]): the hashing can run on another thread than
/// the one that owns the store (the agent hashes a hydration batch as it
/// decodes it).
///
/// ```
/// use velocity_sync::{BlobStore, ContentHash, MemoryBlobStore, Verified};
/// let bytes: velocity_sync::Blob = b"export default 1;\n"[..].into();
/// let checked = Verified::check(ContentHash::of(&bytes), bytes.clone()).unwrap();
/// assert!(Verified::check(ContentHash::of(b"other"), bytes).is_err());
/// let mut store = MemoryBlobStore::default();
/// let hash = checked.hash();
/// store.put_verified(checked);
/// assert!(store.has(&hash));
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Verified {
    hash: ContentHash,
    bytes: Blob,
}

impl Verified {
    /// `bytes`, when they hash to `hash`.
    ///
    /// # Errors
    /// [`BlobError::HashMismatch`] when they do not.
    pub fn check(hash: ContentHash, bytes: Blob) -> Result<Self, BlobError> {
        let actual = ContentHash::of(&bytes);
        if actual != hash {
            return Err(BlobError::HashMismatch {
                expected: hash,
                actual,
            });
        }
        Ok(Self { hash, bytes })
    }

    /// `bytes` under their own hash.
    pub fn of(bytes: Blob) -> Self {
        Self {
            hash: ContentHash::of(&bytes),
            bytes,
        }
    }

    /// The hash the bytes have.
    pub fn hash(&self) -> ContentHash {
        self.hash
    }

    /// The bytes.
    pub fn bytes(&self) -> &Blob {
        &self.bytes
    }
}

/// Blobs by content hash.
///
/// Content-addressed blob storage.
///
/// A [`BlobStore`] keeps blobs by their [`ContentHash`]. `put` checks that
/// the bytes hash to the address they are stored under, so a store never
/// holds a blob under a wrong name. [`MemoryBlobStore`] is the in-memory
/// implementation; participants with disks or databases implement the trait
/// over their own IO.
///
/// ```
/// use velocity_sync::{BlobStore, ContentHash, MemoryBlobStore};
/// # fn main() -> Result<(), velocity_sync::BlobError> {
/// let mut store = MemoryBlobStore::default();
/// let hash = store.insert(b"export default 1;\n".to_vec());
/// assert!(store.has(&hash));
/// assert_eq!(store.get(&hash).as_deref(), Some(&b"export default 1;\n"[..]));
/// assert!(store.put(ContentHash::of(b"other"), b"not other".to_vec().into()).is_err());
/// # Ok(())
/// # }
/// ```
pub trait BlobStore {
    /// The blob stored under `hash`, if any.
    fn get(&self, hash: &ContentHash) -> Option<Blob>;

    /// Whether a blob is stored under `hash`.
    fn has(&self, hash: &ContentHash) -> bool;

    /// Stores `bytes` under `hash` after checking that they hash to it.
    ///
    /// # Errors
    /// [`BlobError::HashMismatch`] when they do not; nothing is stored.
    fn put(&mut self, hash: ContentHash, bytes: Blob) -> Result<(), BlobError>;

    /// Stores content already checked against its hash. The default checks
    /// again through [`put`](Self::put); a store that can trust
    /// [`Verified`] (as [`MemoryBlobStore`] does) overrides it.
    fn put_verified(&mut self, content: Verified) {
        // Verified bytes hash to their address, so the check in `put` holds.
        let _ = self.put(content.hash, content.bytes);
    }

    /// Stores `bytes` under their own hash and returns it.
    fn insert(&mut self, bytes: Vec<u8>) -> ContentHash {
        let content = Verified::of(bytes.into());
        let hash = content.hash;
        self.put_verified(content);
        hash
    }

    /// The blob under `hash`, or [`BlobError::Missing`].
    ///
    /// # Errors
    /// [`BlobError::Missing`] when no such blob is stored.
    fn require(&self, hash: &ContentHash) -> Result<Blob, BlobError> {
        self.get(hash).ok_or(BlobError::Missing { hash: *hash })
    }
}

/// An in-memory [`BlobStore`].
#[derive(Debug, Clone, Default)]
pub struct MemoryBlobStore {
    blobs: HashMap<ContentHash, Blob>,
    bytes: u64,
}

impl MemoryBlobStore {
    /// The hashes of every blob held, in no particular order.
    pub fn hashes(&self) -> impl Iterator<Item = &ContentHash> {
        self.blobs.keys()
    }

    /// Number of blobs held.
    pub fn len(&self) -> usize {
        self.blobs.len()
    }

    /// Whether no blob is held.
    pub fn is_empty(&self) -> bool {
        self.blobs.is_empty()
    }

    /// Total bytes held.
    pub fn total_bytes(&self) -> u64 {
        self.bytes
    }

    /// Drops the blob under `hash`; returns whether one was held.
    pub fn remove(&mut self, hash: &ContentHash) -> bool {
        match self.blobs.remove(hash) {
            Some(blob) => {
                self.bytes -= blob.len() as u64;
                true
            }
            None => false,
        }
    }
}

impl BlobStore for MemoryBlobStore {
    fn get(&self, hash: &ContentHash) -> Option<Blob> {
        self.blobs.get(hash).cloned()
    }

    fn has(&self, hash: &ContentHash) -> bool {
        self.blobs.contains_key(hash)
    }

    fn put(&mut self, hash: ContentHash, bytes: Blob) -> Result<(), BlobError> {
        self.put_verified(Verified::check(hash, bytes)?);
        Ok(())
    }

    fn put_verified(&mut self, content: Verified) {
        if !self.blobs.contains_key(&content.hash) {
            self.bytes += content.bytes.len() as u64;
            self.blobs.insert(content.hash, content.bytes);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn put_verifies_and_deduplicates() {
        let mut store = MemoryBlobStore::default();
        let hash = ContentHash::of(b"abc");
        assert_eq!(
            store.put(hash, Arc::from(&b"abd"[..])).unwrap_err().code(),
            "store.hash_mismatch"
        );
        assert!(store.is_empty());
        store.put(hash, Arc::from(&b"abc"[..])).unwrap();
        store.put(hash, Arc::from(&b"abc"[..])).unwrap();
        assert_eq!((store.len(), store.total_bytes()), (1, 3));
        assert_eq!(
            store.require(&ContentHash::of(b"x")).unwrap_err().code(),
            "store.missing"
        );
        assert!(store.remove(&hash));
        assert_eq!(store.total_bytes(), 0);
    }
}
