//! The Merkle tree behind a manifest: directories of sorted children, each
//! node caching its hash, shared between versions through `Arc`.
//!
//! Mutation is copy-on-write (`Arc::make_mut`): a node shared with another
//! version is cloned (its children are `Arc`s, so a clone costs one pointer
//! copy per child), a node owned by one version is changed in place. Updating
//! one file therefore touches only the directories on its path.

use std::sync::Arc;

use crate::entry::{FileEntry, FileId, FileKind};
use crate::hash::ContentHash;
use crate::path::{FilePath, portable_segment_key};

/// Key-derivation contexts of the canonical encoding (see the module docs of
/// `manifest`). Changing any of them changes every id: they are part of the
/// format.
pub(super) const FILE_CONTEXT: &str = "velocity-sync 2026-11 manifest file node v1";
pub(super) const DIR_CONTEXT: &str = "velocity-sync 2026-11 manifest directory node v1";
pub(super) const MANIFEST_CONTEXT: &str = "velocity-sync 2026-11 manifest id v1";

/// An entry without its path (the path is where it sits in the tree).
#[derive(Debug, Clone, PartialEq, Eq)]
pub(super) struct Meta {
    pub(super) id: Option<FileId>,
    pub(super) kind: FileKind,
    pub(super) executable: bool,
    pub(super) size: u64,
    pub(super) revision: u64,
    pub(super) hash: ContentHash,
    /// Hash of this node's canonical encoding.
    pub(super) node_hash: ContentHash,
}

impl Meta {
    pub(super) fn from_entry(entry: &FileEntry) -> Self {
        let mut bytes = [0u8; 67];
        bytes[0] = match entry.kind {
            FileKind::Binary => b'b',
            FileKind::Directory => b'd',
            FileKind::Text => b't',
        };
        bytes[1] = u8::from(entry.executable);
        if let Some(id) = entry.id {
            bytes[2] = 1;
            bytes[3..19].copy_from_slice(id.as_bytes());
        }
        bytes[19..27].copy_from_slice(&entry.size.to_le_bytes());
        bytes[27..35].copy_from_slice(&entry.revision.to_le_bytes());
        bytes[35..67].copy_from_slice(entry.hash.as_bytes());
        Self {
            id: entry.id,
            kind: entry.kind,
            executable: entry.executable,
            size: entry.size,
            revision: entry.revision,
            hash: entry.hash,
            node_hash: ContentHash::derive(FILE_CONTEXT, &bytes),
        }
    }

    pub(super) fn to_entry(&self, path: FilePath) -> FileEntry {
        FileEntry {
            id: self.id,
            path,
            kind: self.kind,
            size: self.size,
            hash: self.hash,
            executable: self.executable,
            revision: self.revision,
        }
    }
}

#[derive(Debug, Clone)]
pub(super) enum Node {
    Dir(Arc<Dir>),
    File(Arc<Meta>),
}

impl Node {
    fn hash(&self) -> &ContentHash {
        match self {
            Self::Dir(dir) => &dir.hash,
            Self::File(meta) => &meta.node_hash,
        }
    }
}

#[derive(Debug, Clone)]
pub(super) struct Child {
    pub(super) name: Arc<str>,
    /// The portable key of `name`; the same allocation when they are equal.
    pub(super) key: Arc<str>,
    pub(super) node: Node,
}

impl Child {
    fn new(name: &str, node: Node) -> Self {
        let name: Arc<str> = name.into();
        let key = portable_segment_key(&name);
        let key = if *key == *name {
            Arc::clone(&name)
        } else {
            key.into()
        };
        Self { name, key, node }
    }
}

/// A directory: an optional explicit entry of its own, and its children
/// sorted by name bytes.
#[derive(Debug, Clone)]
pub(super) struct Dir {
    pub(super) marker: Option<Arc<Meta>>,
    pub(super) children: Vec<Child>,
    pub(super) hash: ContentHash,
    /// Entries at or below this directory (files and explicit directories).
    pub(super) entries: u64,
    /// Content bytes at or below this directory.
    pub(super) bytes: u64,
    /// Set by [`Dir::insert_deferred`]: the hash is stale until
    /// [`Dir::finish_deferred`] runs (counts are kept current).
    dirty: bool,
}

impl Default for Dir {
    fn default() -> Self {
        let mut dir = Self {
            marker: None,
            children: Vec::new(),
            hash: ContentHash::from_bytes([0; 32]),
            entries: 0,
            bytes: 0,
            dirty: false,
        };
        dir.rehash();
        dir
    }
}

/// What lies at a path.
pub(super) enum Found<'a> {
    Dir(&'a Dir),
    File(&'a Arc<Meta>),
}

impl Dir {
    pub(super) fn find(&self, name: &str) -> Result<usize, usize> {
        self.children
            .binary_search_by(|child| child.name.as_bytes().cmp(name.as_bytes()))
    }

    pub(super) fn is_empty(&self) -> bool {
        self.marker.is_none() && self.children.is_empty()
    }

    /// Recomputes the hash and totals from the marker and children.
    fn rehash(&mut self) {
        let mut hasher = blake3::Hasher::new_derive_key(DIR_CONTEXT);
        let mut entries = 0;
        let mut bytes = 0;
        match &self.marker {
            Some(marker) => {
                hasher.update(&[1]);
                hasher.update(marker.node_hash.as_bytes());
                entries += 1;
            }
            None => {
                hasher.update(&[0]);
            }
        }
        for child in &self.children {
            // Names are at most 255 bytes (a FilePath rule), so u32 is ample.
            hasher.update(&(child.name.len() as u32).to_le_bytes());
            hasher.update(child.name.as_bytes());
            match &child.node {
                Node::Dir(dir) => {
                    hasher.update(b"d");
                    entries += dir.entries;
                    bytes += dir.bytes;
                }
                Node::File(meta) => {
                    hasher.update(b"f");
                    entries += 1;
                    bytes += meta.size;
                }
            }
            hasher.update(child.node.hash().as_bytes());
        }
        self.hash = ContentHash::from_bytes(*hasher.finalize().as_bytes());
        self.entries = entries;
        self.bytes = bytes;
    }

    /// The node at `segments` below this directory.
    pub(super) fn lookup<'a, 'p>(
        &'a self,
        mut segments: impl Iterator<Item = &'p str>,
    ) -> Option<Found<'a>> {
        let Some(first) = segments.next() else {
            return Some(Found::Dir(self));
        };
        let index = self.find(first).ok()?;
        match &self.children[index].node {
            Node::Dir(dir) => dir.lookup(segments),
            Node::File(meta) => segments.next().is_none().then_some(Found::File(meta)),
        }
    }

    /// Puts `meta` at `segments`, creating directories on the way. The caller
    /// has checked that this is allowed (no file on the way, no directory
    /// where a file goes, no portable-key collision).
    pub(super) fn insert(&mut self, segments: &[&str], meta: Arc<Meta>) {
        let Some((first, rest)) = segments.split_first() else {
            return;
        };
        match self.find(first) {
            Ok(index) => match &mut self.children[index].node {
                Node::Dir(dir) => {
                    let dir = Arc::make_mut(dir);
                    if rest.is_empty() {
                        dir.marker = Some(meta);
                        dir.rehash();
                    } else {
                        dir.insert(rest, meta);
                    }
                }
                Node::File(file) => *file = meta,
            },
            Err(index) => {
                let node = Self::chain(rest, meta);
                self.children.insert(index, Child::new(first, node));
            }
        }
        self.rehash();
    }

    /// Like [`Dir::insert`], but leaves hashing for [`Dir::finish_deferred`]:
    /// a bulk load then hashes each directory once instead of once per
    /// file. Counts stay current so limits can be checked on the way.
    pub(super) fn insert_deferred(&mut self, segments: &[&str], meta: Arc<Meta>) {
        let Some((first, rest)) = segments.split_first() else {
            return;
        };
        self.dirty = true;
        match self.find(first) {
            Ok(index) => match &mut self.children[index].node {
                Node::Dir(dir) => {
                    let dir = Arc::make_mut(dir);
                    let (entries, bytes) = (dir.entries, dir.bytes);
                    if rest.is_empty() {
                        dir.entries += u64::from(dir.marker.is_none());
                        dir.marker = Some(meta);
                        dir.dirty = true;
                    } else {
                        dir.insert_deferred(rest, meta);
                    }
                    self.entries = self.entries + dir.entries - entries;
                    self.bytes = self.bytes + dir.bytes - bytes;
                }
                Node::File(file) => {
                    self.bytes = self.bytes - file.size + meta.size;
                    *file = meta;
                }
            },
            Err(index) => {
                self.entries += 1;
                self.bytes += meta.size;
                let node = Self::chain(rest, meta);
                self.children.insert(index, Child::new(first, node));
            }
        }
    }

    /// Rehashes every directory [`Dir::insert_deferred`] touched, children first.
    pub(super) fn finish_deferred(&mut self) {
        if !self.dirty {
            return;
        }
        for child in &mut self.children {
            if let Node::Dir(dir) = &mut child.node {
                if dir.dirty {
                    Arc::make_mut(dir).finish_deferred();
                }
            }
        }
        self.dirty = false;
        self.rehash();
    }

    /// A fresh node holding `meta` below the (new) directories `segments`.
    fn chain(segments: &[&str], meta: Arc<Meta>) -> Node {
        match segments.split_first() {
            None if meta.kind == FileKind::Directory => {
                let mut dir = Self {
                    marker: Some(meta),
                    ..Self::default()
                };
                dir.rehash();
                Node::Dir(Arc::new(dir))
            }
            None => Node::File(meta),
            Some((first, rest)) => {
                let mut dir = Self::default();
                dir.children
                    .push(Child::new(first, Self::chain(rest, meta)));
                dir.rehash();
                Node::Dir(Arc::new(dir))
            }
        }
    }

    /// Removes the entry at `segments` (a file, or a directory's marker) and
    /// prunes directories left empty. The caller has checked it exists.
    pub(super) fn remove(&mut self, segments: &[&str]) {
        let Some((first, rest)) = segments.split_first() else {
            return;
        };
        let Ok(index) = self.find(first) else {
            return;
        };
        let now_empty = match &mut self.children[index].node {
            Node::File(_) => true,
            Node::Dir(dir) => {
                let dir = Arc::make_mut(dir);
                if rest.is_empty() {
                    dir.marker = None;
                    dir.rehash();
                } else {
                    dir.remove(rest);
                }
                dir.is_empty()
            }
        };
        if now_empty {
            self.children.remove(index);
        }
        self.rehash();
    }

    /// Calls `visit` for every entry at or below this directory, in
    /// depth-first order with siblings by name bytes. `prefix` is this
    /// directory's path ("" for the root).
    pub(super) fn walk(&self, prefix: &mut String, visit: &mut impl FnMut(&str, &Arc<Meta>)) {
        if let Some(marker) = &self.marker {
            visit(prefix, marker);
        }
        for child in &self.children {
            let len = prefix.len();
            if !prefix.is_empty() {
                prefix.push('/');
            }
            prefix.push_str(&child.name);
            match &child.node {
                Node::Dir(dir) => dir.walk(prefix, visit),
                Node::File(meta) => visit(prefix, meta),
            }
            prefix.truncate(len);
        }
    }
}

/// `prefix/name`, or `name` at the root.
pub(super) fn join(prefix: &str, name: &str) -> String {
    if prefix.is_empty() {
        name.to_owned()
    } else {
        format!("{prefix}/{name}")
    }
}
