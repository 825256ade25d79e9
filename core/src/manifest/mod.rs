//! Versioned manifests: one version of a project as a Merkle tree.

mod diff;
mod tree;

use std::fmt;
use std::str::FromStr;
use std::sync::Arc;

use serde::{Deserialize, Deserializer, Serialize, Serializer};

pub use self::diff::{Change, Diff};
use self::tree::{Dir, Found, MANIFEST_CONTEXT, Meta};
use crate::entry::{FileEntry, FileId, FileKind};
use crate::hash::{ContentHash, HashError};
use crate::path::FilePath;

/// Why a manifest operation failed. Nothing changes when one is returned.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum ManifestError {
    /// A diff was applied to a manifest other than its base.
    #[error("diff starts from manifest {expected}, but this manifest is {actual}")]
    BaseMismatch {
        /// The diff's base.
        expected: ManifestId,
        /// This manifest's id.
        actual: ManifestId,
    },
    /// A change's old entry is not what the manifest holds at that path.
    #[error("change at {path} expects {expected}, but the manifest holds {actual}")]
    ChangeConflict {
        /// The path.
        path: FilePath,
        /// What the change expected (kind and hash, or "nothing").
        expected: String,
        /// What the manifest holds.
        actual: String,
    },
    /// An explicit directory entry where a file is, or the other way round.
    #[error("{path} is a {existing} and cannot become a {requested}")]
    KindConflict {
        /// The path.
        path: FilePath,
        /// What is there: "file" or "directory".
        existing: &'static str,
        /// What was asked for.
        requested: &'static str,
    },
    /// Two entries with one id at different paths.
    #[error("file id {id} is already used by {existing}, so {path} cannot take it")]
    DuplicateId {
        /// The id.
        id: FileId,
        /// The path that was being written.
        path: FilePath,
        /// The path that has the id.
        existing: FilePath,
    },
    /// A single file over [`ManifestLimits::max_file_bytes`].
    #[error("{path} is {size} bytes; the limit per file is {limit}")]
    FileTooLarge {
        /// The path.
        path: FilePath,
        /// Its size.
        size: u64,
        /// The limit.
        limit: u64,
    },
    /// No entry at this path.
    #[error("no entry at {path}")]
    NotFound {
        /// The path.
        path: FilePath,
    },
    /// A file stands where a directory would have to be.
    #[error("{path} needs directory {parent}, but {parent} is a file")]
    ParentIsFile {
        /// The path that was being written.
        path: FilePath,
        /// The ancestor that is a file.
        parent: FilePath,
    },
    /// A path longer than [`ManifestLimits::max_path_bytes`].
    #[error("{path} is {len} bytes long; the limit is {limit}")]
    PathTooLong {
        /// The path.
        path: FilePath,
        /// Its length.
        len: usize,
        /// The limit.
        limit: usize,
    },
    /// Two paths that would be one file on a case-insensitive or
    /// normalising file system.
    #[error("{path} collides with {existing} on case-insensitive file systems")]
    PortableKeyCollision {
        /// The path that was being written.
        path: FilePath,
        /// The path already present.
        existing: FilePath,
    },
    /// Applying a diff did not produce its target.
    #[error("applying the diff produced manifest {actual}, not the expected {expected}")]
    TargetMismatch {
        /// The diff's target.
        expected: ManifestId,
        /// What applying produced.
        actual: ManifestId,
    },
    /// More entries than [`ManifestLimits::max_files`].
    #[error("the project would have {count} entries; the limit is {limit}")]
    TooManyFiles {
        /// The count it would reach.
        count: u64,
        /// The limit.
        limit: u64,
    },
    /// More content than [`ManifestLimits::max_total_bytes`].
    #[error("the project would hold {bytes} bytes; the limit is {limit}")]
    TotalTooLarge {
        /// The total it would reach.
        bytes: u64,
        /// The limit.
        limit: u64,
    },
}

impl ManifestError {
    /// The stable code of this error.
    pub fn code(&self) -> &'static str {
        match self {
            Self::BaseMismatch { .. } => "manifest.base_mismatch",
            Self::ChangeConflict { .. } => "manifest.change_conflict",
            Self::DuplicateId { .. } => "manifest.duplicate_id",
            Self::FileTooLarge { .. } => "manifest.file_too_large",
            Self::KindConflict { .. } => "manifest.kind_conflict",
            Self::NotFound { .. } => "manifest.not_found",
            Self::ParentIsFile { .. } => "manifest.parent_is_file",
            Self::PathTooLong { .. } => "manifest.path_too_long",
            Self::PortableKeyCollision { .. } => "manifest.portable_key_collision",
            Self::TargetMismatch { .. } => "manifest.target_mismatch",
            Self::TooManyFiles { .. } => "manifest.too_many_files",
            Self::TotalTooLarge { .. } => "manifest.total_too_large",
        }
    }
}

/// Limits a manifest enforces on every insert.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct ManifestLimits {
    /// Entries (files and explicit directories) per project. Default 100,000.
    pub max_files: u64,
    /// Bytes of one file. Default 100 MiB.
    pub max_file_bytes: u64,
    /// Bytes of all files together. Default 2 GiB.
    pub max_total_bytes: u64,
    /// Bytes of one path. Default 4096 (also the hard maximum of [`FilePath`]).
    pub max_path_bytes: usize,
}

impl Default for ManifestLimits {
    fn default() -> Self {
        Self {
            max_files: 100_000,
            max_file_bytes: 100 << 20,
            max_total_bytes: 2 << 30,
            max_path_bytes: crate::path::MAX_PATH_BYTES,
        }
    }
}

impl ManifestLimits {
    /// No limits beyond what the types allow (for tools and benches that
    /// build projects larger than any default).
    pub fn unlimited() -> Self {
        Self {
            max_files: u64::MAX,
            max_file_bytes: u64::MAX,
            max_total_bytes: u64::MAX,
            max_path_bytes: crate::path::MAX_PATH_BYTES,
        }
    }
}

/// The id of one manifest version: BLAKE3 of its canonical encoding.
#[derive(Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct ManifestId(ContentHash);

impl ManifestId {
    /// The underlying hash.
    pub const fn as_hash(&self) -> &ContentHash {
        &self.0
    }

    /// Parses 64 lowercase hex digits.
    ///
    /// # Errors
    /// [`HashError`] when the text is not exactly that.
    pub fn from_hex(text: &str) -> Result<Self, HashError> {
        ContentHash::from_hex(text).map(Self)
    }
}

impl fmt::Display for ManifestId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Display::fmt(&self.0, f)
    }
}

impl fmt::Debug for ManifestId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "ManifestId({})", self.0)
    }
}

impl FromStr for ManifestId {
    type Err = HashError;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Self::from_hex(s)
    }
}

impl Serialize for ManifestId {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        self.0.serialize(serializer)
    }
}

impl<'de> Deserialize<'de> for ManifestId {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        ContentHash::deserialize(deserializer).map(Self)
    }
}

/// One version of a project. Cloning is cheap (the tree is shared); two
/// manifests are equal when their ids are.
///
/// Versioned manifests: one version of a project as a Merkle tree.
///
/// A [`Manifest`] holds a version number, its parent manifest's id and the
/// project's [`FileEntry`]s, arranged as a tree of directories the way git
/// arranges trees. Every directory caches the hash of its children, and
/// unchanged directories are shared (`Arc`) between versions. So:
/// - updating one file and getting the new [`ManifestId`] costs about the
///   depth of the tree times the width of the directories on the path, not
///   the number of files;
/// - [`Manifest::diff`] skips every subtree whose hash agrees;
/// - keeping many versions costs only what differs between them.
///
/// ```
/// use velocity_sync::{FileEntry, FilePath, Manifest};
/// # fn main() -> Result<(), velocity_sync::Error> {
/// let mut v1 = Manifest::new();
/// v1.insert(FileEntry::from_content(FilePath::parse("package.json")?, b"{}"))?;
/// v1.insert(FileEntry::from_content(FilePath::parse("src/main.ts")?, b"console.log(1)"))?;
///
/// let mut v2 = v1.successor();
/// v2.insert(FileEntry::from_content(FilePath::parse("src/main.ts")?, b"console.log(2)"))?;
/// assert_eq!(v2.parent(), Some(v1.id()));
///
/// let diff = v1.diff(&v2);
/// assert_eq!(diff.changes.len(), 1);
/// assert_eq!(v1.apply(&diff)?, v2);
/// # Ok(())
/// # }
/// ```
///
/// # Canonical encoding (format v1)
/// Ids are BLAKE3 in key-derivation mode, one context string per node type,
/// so no node can be confused with another or with a blob:
/// - **file node**: context `"velocity-sync 2026-11 manifest file node v1"`
///   over 67 bytes: kind (`t` text, `b` binary, `d` directory), executable
///   (0/1), has-id (0/1), the 16 id bytes (zeros without an id), size (u64
///   little-endian), revision (u64 LE), content BLAKE3 (32 bytes);
/// - **directory node**: context `"velocity-sync 2026-11 manifest directory node v1"`
///   over: has-own-entry (0/1) and that entry's file-node hash if present, then
///   for each child in byte order of names: name length (u32 LE), name bytes,
///   `f` or `d`, the child's node hash;
/// - **manifest id**: context `"velocity-sync 2026-11 manifest id v1"` over:
///   version (u64 LE), has-parent (0/1), parent id (32 zero bytes without
///   one), root directory hash ([`Manifest::tree_hash`]).
///
/// Children are sorted, so the id does not depend on insertion order.
///
/// # Invariants
/// Enforced on every insert, each with a typed [`ManifestError`]: no file and
/// directory at one path, no file on the way to another entry, no two paths
/// with the same [`portable key`](crate::FilePath::portable_key), no
/// duplicate file ids, and the [`ManifestLimits`].
#[derive(Clone)]
pub struct Manifest {
    version: u64,
    parent: Option<ManifestId>,
    root: Arc<Dir>,
    ids: imbl::OrdMap<FileId, FilePath>,
    limits: ManifestLimits,
}

impl Default for Manifest {
    fn default() -> Self {
        Self::new()
    }
}

impl PartialEq for Manifest {
    fn eq(&self, other: &Self) -> bool {
        self.id() == other.id()
    }
}

impl Eq for Manifest {}

impl fmt::Debug for Manifest {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Manifest")
            .field("id", &self.id())
            .field("version", &self.version)
            .field("parent", &self.parent)
            .field("entries", &self.len())
            .field("bytes", &self.total_bytes())
            .finish()
    }
}

impl Manifest {
    /// An empty manifest at version 0 with default limits.
    pub fn new() -> Self {
        Self::with_limits(ManifestLimits::default())
    }

    /// An empty manifest at version 0 with the given limits.
    pub fn with_limits(limits: ManifestLimits) -> Self {
        Self {
            version: 0,
            parent: None,
            root: Arc::new(Dir::default()),
            ids: imbl::OrdMap::new(),
            limits,
        }
    }

    /// A manifest holding `entries` (version 0, default limits).
    ///
    /// # Errors
    /// The first [`ManifestError`] any entry causes.
    pub fn from_entries(
        entries: impl IntoIterator<Item = FileEntry>,
    ) -> Result<Self, ManifestError> {
        let mut manifest = Self::new();
        manifest.extend(entries)?;
        Ok(manifest)
    }

    /// Inserts many entries at once, hashing each directory once at the end
    /// instead of once per entry (a bulk load of 100k files is several times
    /// faster than 100k [`insert`](Self::insert)s). All or nothing: on error
    /// the manifest is unchanged.
    ///
    /// # Errors
    /// The first [`ManifestError`] any entry causes.
    pub fn extend(
        &mut self,
        entries: impl IntoIterator<Item = FileEntry>,
    ) -> Result<(), ManifestError> {
        let mut next = self.clone();
        for entry in entries {
            let replaced = next.check_insert(&entry)?;
            let segments: Vec<&str> = entry.path.segments().collect();
            let meta = Arc::new(Meta::from_entry(&entry));
            Arc::make_mut(&mut next.root).insert_deferred(&segments, meta);
            next.index_id(replaced.as_ref(), &entry);
        }
        Arc::make_mut(&mut next.root).finish_deferred();
        *self = next;
        Ok(())
    }

    /// Keeps the id index in step with an insert that replaced `replaced`.
    fn index_id(&mut self, replaced: Option<&FileEntry>, entry: &FileEntry) {
        let old_id = replaced.and_then(|old| old.id);
        if let Some(old_id) = old_id {
            if Some(old_id) != entry.id {
                self.ids.remove(&old_id);
            }
        }
        if let Some(id) = entry.id {
            // Most inserts replace a file in place: leave the shared index alone.
            if old_id != Some(id) {
                self.ids.insert(id, entry.path.clone());
            }
        }
    }

    /// The next version: the same entries, version + 1, this manifest as
    /// parent. Change it, then read its [`id`](Self::id).
    #[must_use]
    pub fn successor(&self) -> Self {
        Self {
            version: self.version + 1,
            parent: Some(self.id()),
            ..self.clone()
        }
    }

    /// Sets version and parent (when loading a manifest from storage).
    #[must_use]
    pub fn with_header(mut self, version: u64, parent: Option<ManifestId>) -> Self {
        self.version = version;
        self.parent = parent;
        self
    }

    /// The version number.
    pub fn version(&self) -> u64 {
        self.version
    }

    /// The parent manifest's id.
    pub fn parent(&self) -> Option<ManifestId> {
        self.parent
    }

    /// The limits this manifest enforces.
    pub fn limits(&self) -> &ManifestLimits {
        &self.limits
    }

    /// The id: BLAKE3 over version, parent and [`tree_hash`](Self::tree_hash).
    /// Costs one small hash; the tree's hashes are kept up to date by every
    /// change.
    pub fn id(&self) -> ManifestId {
        let mut bytes = [0u8; 73];
        bytes[..8].copy_from_slice(&self.version.to_le_bytes());
        if let Some(parent) = &self.parent {
            bytes[8] = 1;
            bytes[9..41].copy_from_slice(parent.0.as_bytes());
        }
        bytes[41..].copy_from_slice(self.root.hash.as_bytes());
        ManifestId(ContentHash::derive(MANIFEST_CONTEXT, &bytes))
    }

    /// The hash of the entries alone (the root directory's node hash):
    /// equal for two manifests with the same files whatever their versions.
    pub fn tree_hash(&self) -> ContentHash {
        self.root.hash
    }

    /// Number of entries (files and explicit directories).
    pub fn len(&self) -> usize {
        usize::try_from(self.root.entries).unwrap_or(usize::MAX)
    }

    /// Whether the manifest has no entries.
    pub fn is_empty(&self) -> bool {
        self.root.entries == 0
    }

    /// Content bytes of all files together.
    pub fn total_bytes(&self) -> u64 {
        self.root.bytes
    }

    /// The entry at `path`.
    pub fn get(&self, path: &FilePath) -> Option<FileEntry> {
        match self.root.lookup(path.segments())? {
            Found::File(meta) => Some(meta.to_entry(path.clone())),
            Found::Dir(dir) => dir.marker.as_ref().map(|meta| meta.to_entry(path.clone())),
        }
    }

    /// Whether a directory (explicit or implied by files below it) is at `path`.
    pub fn is_directory(&self, path: &FilePath) -> bool {
        matches!(self.root.lookup(path.segments()), Some(Found::Dir(_)))
    }

    /// The path of the entry with this id.
    pub fn path_of(&self, id: &FileId) -> Option<&FilePath> {
        self.ids.get(id)
    }

    /// The entry with this id.
    pub fn get_by_id(&self, id: &FileId) -> Option<FileEntry> {
        self.path_of(id).and_then(|path| self.get(path))
    }

    /// Every entry, depth-first with siblings in byte order of names.
    pub fn entries(&self) -> Vec<FileEntry> {
        let mut out = Vec::with_capacity(self.len());
        self.root.walk(&mut String::new(), &mut |path, meta| {
            out.push(meta.to_entry(FilePath::from_trusted(path.to_owned())));
        });
        out
    }

    /// Each text file's id and revision (entries without ids are skipped).
    pub fn text_revisions(&self) -> Vec<(FileId, u64)> {
        self.entries()
            .into_iter()
            .filter(|entry| entry.kind == FileKind::Text)
            .filter_map(|entry| entry.id.map(|id| (id, entry.revision)))
            .collect()
    }

    /// Adds `entry`, or replaces the entry at its path; returns the entry it
    /// replaced.
    ///
    /// # Errors
    /// A [`ManifestError`] when the entry would break an invariant or a
    /// limit; the manifest is then unchanged.
    pub fn insert(&mut self, entry: FileEntry) -> Result<Option<FileEntry>, ManifestError> {
        let replaced = self.check_insert(&entry)?;
        let segments: Vec<&str> = entry.path.segments().collect();
        Arc::make_mut(&mut self.root).insert(&segments, Arc::new(Meta::from_entry(&entry)));
        self.index_id(replaced.as_ref(), &entry);
        Ok(replaced)
    }

    /// Removes the entry at `path` (for a directory: its explicit entry; the
    /// files below stay) and returns it. Directories left empty disappear.
    ///
    /// # Errors
    /// [`ManifestError::NotFound`] when there is no entry at `path`.
    pub fn remove(&mut self, path: &FilePath) -> Result<FileEntry, ManifestError> {
        let entry = self
            .get(path)
            .ok_or_else(|| ManifestError::NotFound { path: path.clone() })?;
        let segments: Vec<&str> = path.segments().collect();
        Arc::make_mut(&mut self.root).remove(&segments);
        if let Some(id) = entry.id {
            self.ids.remove(&id);
        }
        Ok(entry)
    }

    /// The changes that take `self` to `other`, with both ends' identities.
    /// Subtrees with equal hashes are skipped, so the cost follows the size
    /// of the difference, not of the project.
    pub fn diff(&self, other: &Self) -> Diff {
        Diff {
            base: self.id(),
            target: other.id(),
            target_version: other.version,
            target_parent: other.parent,
            changes: diff::diff_trees(&self.root, &other.root),
        }
    }

    /// Replays `diff` on this manifest: checks that this is its base, applies
    /// the changes, takes the target's version and parent, and checks that
    /// the result is the target. `a.apply(&a.diff(&b)) == Ok(b)` always.
    ///
    /// # Errors
    /// [`ManifestError::BaseMismatch`], [`ManifestError::TargetMismatch`], or
    /// any error of [`Manifest::apply_changes`]. Nothing changes on error.
    pub fn apply(&self, diff: &Diff) -> Result<Self, ManifestError> {
        let actual = self.id();
        if actual != diff.base {
            return Err(ManifestError::BaseMismatch {
                expected: diff.base,
                actual,
            });
        }
        let next = self
            .apply_changes(&diff.changes)?
            .with_header(diff.target_version, diff.target_parent);
        let produced = next.id();
        if produced != diff.target {
            return Err(ManifestError::TargetMismatch {
                expected: diff.target,
                actual: produced,
            });
        }
        Ok(next)
    }

    /// Applies `changes` (in any order) to a copy of this manifest, keeping
    /// version and parent: every old entry a change names must be present
    /// exactly as named; all of them are taken out, then all new entries put
    /// in.
    ///
    /// # Errors
    /// [`ManifestError::ChangeConflict`] when an old entry differs from what
    /// is held, or any error of [`Manifest::insert`].
    pub fn apply_changes(&self, changes: &[Change]) -> Result<Self, ManifestError> {
        let mut next = self.clone();
        for change in changes {
            if let Some(old) = change.old() {
                let held = next.get(&old.path);
                if held.as_ref() != Some(old) {
                    return Err(ManifestError::ChangeConflict {
                        path: old.path.clone(),
                        expected: describe(Some(old)),
                        actual: describe(held.as_ref()),
                    });
                }
                next.remove(&old.path)?;
            }
        }
        for change in changes {
            if let Some(new) = change.new_entry() {
                if let Some(held) = next.get(&new.path) {
                    return Err(ManifestError::ChangeConflict {
                        path: new.path.clone(),
                        expected: describe(None),
                        actual: describe(Some(&held)),
                    });
                }
                next.insert(new.clone())?;
            }
        }
        Ok(next)
    }

    /// Checks everything `insert` needs; returns the entry it would replace.
    fn check_insert(&self, entry: &FileEntry) -> Result<Option<FileEntry>, ManifestError> {
        let path = &entry.path;
        let limits = &self.limits;
        if path.as_str().len() > limits.max_path_bytes {
            return Err(ManifestError::PathTooLong {
                path: path.clone(),
                len: path.as_str().len(),
                limit: limits.max_path_bytes,
            });
        }
        if entry.size > limits.max_file_bytes {
            return Err(ManifestError::FileTooLarge {
                path: path.clone(),
                size: entry.size,
                limit: limits.max_file_bytes,
            });
        }
        let replaced = self.check_place(entry)?;
        if let Some(id) = entry.id {
            if let Some(existing) = self.ids.get(&id) {
                if existing != path {
                    return Err(ManifestError::DuplicateId {
                        id,
                        path: path.clone(),
                        existing: existing.clone(),
                    });
                }
            }
        }
        let count = self.root.entries + u64::from(replaced.is_none());
        if count > limits.max_files {
            return Err(ManifestError::TooManyFiles {
                count,
                limit: limits.max_files,
            });
        }
        let old_size = replaced.as_ref().map_or(0, |old| old.size);
        let bytes = (self.root.bytes - old_size).saturating_add(entry.size);
        if bytes > limits.max_total_bytes {
            return Err(ManifestError::TotalTooLarge {
                bytes,
                limit: limits.max_total_bytes,
            });
        }
        Ok(replaced)
    }

    /// Walks to `entry.path` checking the tree's shape rules.
    fn check_place(&self, entry: &FileEntry) -> Result<Option<FileEntry>, ManifestError> {
        let path = &entry.path;
        let wants_dir = entry.kind == FileKind::Directory;
        let kind_name = |dir: bool| if dir { "directory" } else { "file" };
        let mut dir: &Dir = &self.root;
        let mut prefix = String::new();
        let mut segments = path.segments().peekable();
        while let Some(segment) = segments.next() {
            let last = segments.peek().is_none();
            let here = tree::join(&prefix, segment);
            match dir.find(segment) {
                Ok(index) => match &dir.children[index].node {
                    tree::Node::File(meta) if last => {
                        if wants_dir {
                            return Err(ManifestError::KindConflict {
                                path: path.clone(),
                                existing: kind_name(false),
                                requested: kind_name(true),
                            });
                        }
                        return Ok(Some(meta.to_entry(path.clone())));
                    }
                    tree::Node::File(_) => {
                        return Err(ManifestError::ParentIsFile {
                            path: path.clone(),
                            parent: FilePath::from_trusted(here),
                        });
                    }
                    tree::Node::Dir(sub) if last => {
                        if !wants_dir {
                            return Err(ManifestError::KindConflict {
                                path: path.clone(),
                                existing: kind_name(true),
                                requested: kind_name(false),
                            });
                        }
                        return Ok(sub.marker.as_ref().map(|meta| meta.to_entry(path.clone())));
                    }
                    tree::Node::Dir(sub) => dir = sub,
                },
                Err(_) => {
                    let key = crate::path::portable_segment_key(segment);
                    if let Some(other) = dir.children.iter().find(|child| *child.key == *key) {
                        return Err(ManifestError::PortableKeyCollision {
                            path: path.clone(),
                            existing: FilePath::from_trusted(tree::join(&prefix, &other.name)),
                        });
                    }
                    // Everything below is new, so nothing else can collide.
                    return Ok(None);
                }
            }
            prefix = here;
        }
        Ok(None)
    }
}

fn describe(entry: Option<&FileEntry>) -> String {
    match entry {
        None => "nothing".to_owned(),
        Some(entry) => format!(
            "{} {} (revision {})",
            entry.kind.as_str(),
            entry.hash,
            entry.revision
        ),
    }
}

/// The serialised form of a manifest: header plus entries.
#[derive(Serialize, Deserialize)]
struct Snapshot {
    version: u64,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    parent: Option<ManifestId>,
    entries: Vec<FileEntry>,
}

impl Serialize for Manifest {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        Snapshot {
            version: self.version,
            parent: self.parent,
            entries: self.entries(),
        }
        .serialize(serializer)
    }
}

impl<'de> Deserialize<'de> for Manifest {
    /// Rebuilds the tree with default limits, checking every invariant.
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let snapshot = Snapshot::deserialize(deserializer)?;
        Self::from_entries(snapshot.entries)
            .map(|manifest| manifest.with_header(snapshot.version, snapshot.parent))
            .map_err(serde::de::Error::custom)
    }
}

#[cfg(test)]
mod tests;
