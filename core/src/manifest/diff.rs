//! Differences between two manifests, and their replay.

use std::collections::HashMap;
use std::sync::Arc;

use serde::{Deserialize, Serialize};

use super::ManifestId;
use super::tree::{Dir, Meta, Node, join};
use crate::entry::{FileEntry, FileKind};
use crate::hash::ContentHash;
use crate::path::FilePath;
use crate::wire::{MissingField, required};

/// One difference between two manifests. Every variant carries whole
/// entries, so a receiver can check that what it changes is what the sender
/// changed.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "op", rename_all = "snake_case", try_from = "ChangeWire")]
pub enum Change {
    /// A new entry.
    Added {
        /// The entry in the target.
        entry: FileEntry,
    },
    /// Same path and id, another kind (text ⇄ binary, file ⇄ directory).
    KindChanged {
        /// The entry in the base.
        old: FileEntry,
        /// The entry in the target.
        new: FileEntry,
    },
    /// Same path, id and kind; content, size, executable bit or revision
    /// differ.
    Modified {
        /// The entry in the base.
        old: FileEntry,
        /// The entry in the target.
        new: FileEntry,
    },
    /// An entry that is gone.
    Removed {
        /// The entry in the base.
        entry: FileEntry,
    },
    /// An entry that moved: same id, or (for entries without ids) identical
    /// content. Its content may have changed too.
    Renamed {
        /// The entry in the base.
        old: FileEntry,
        /// The entry in the target.
        new: FileEntry,
    },
}

/// The tag of a [`Change`] on the wire.
#[derive(Deserialize)]
#[serde(rename_all = "snake_case")]
enum ChangeOp {
    Added,
    KindChanged,
    Modified,
    Removed,
    Renamed,
}

/// A [`Change`] as read: the tag and every variant's fields, flat (see
/// `crate::wire` for why it is not derived on the enum).
#[derive(Deserialize)]
struct ChangeWire {
    op: ChangeOp,
    entry: Option<FileEntry>,
    old: Option<FileEntry>,
    new: Option<FileEntry>,
}

impl TryFrom<ChangeWire> for Change {
    type Error = MissingField;

    fn try_from(wire: ChangeWire) -> Result<Self, MissingField> {
        let ChangeWire {
            op,
            entry,
            old,
            new,
        } = wire;
        Ok(match op {
            ChangeOp::Added => Self::Added {
                entry: required(entry, "entry")?,
            },
            ChangeOp::Removed => Self::Removed {
                entry: required(entry, "entry")?,
            },
            ChangeOp::KindChanged => Self::KindChanged {
                old: required(old, "old")?,
                new: required(new, "new")?,
            },
            ChangeOp::Modified => Self::Modified {
                old: required(old, "old")?,
                new: required(new, "new")?,
            },
            ChangeOp::Renamed => Self::Renamed {
                old: required(old, "old")?,
                new: required(new, "new")?,
            },
        })
    }
}

impl Change {
    /// The path the change is about: the new path, except for removals.
    pub fn path(&self) -> &FilePath {
        match self {
            Self::Added { entry } | Self::Removed { entry } => &entry.path,
            Self::KindChanged { new, .. }
            | Self::Modified { new, .. }
            | Self::Renamed { new, .. } => &new.path,
        }
    }

    /// The entry as it was in the base, if the base had it.
    pub fn old(&self) -> Option<&FileEntry> {
        match self {
            Self::Added { .. } => None,
            Self::Removed { entry } => Some(entry),
            Self::KindChanged { old, .. }
            | Self::Modified { old, .. }
            | Self::Renamed { old, .. } => Some(old),
        }
    }

    /// The entry as it is in the target, if the target has it.
    pub fn new_entry(&self) -> Option<&FileEntry> {
        match self {
            Self::Removed { .. } => None,
            Self::Added { entry } => Some(entry),
            Self::KindChanged { new, .. }
            | Self::Modified { new, .. }
            | Self::Renamed { new, .. } => Some(new),
        }
    }

    /// Whether the target holds content the base did not have at this entry
    /// (so a changeset must carry or reference it).
    pub fn needs_content(&self) -> bool {
        match (self.old(), self.new_entry()) {
            (_, None) => false,
            (_, Some(new)) if !new.kind.has_content() => false,
            (Some(old), Some(new)) => old.hash != new.hash || !old.kind.has_content(),
            (None, Some(_)) => true,
        }
    }

    /// Sort rank among changes at one path: a removal goes before an addition.
    fn rank(&self) -> u8 {
        match self {
            Self::Removed { .. } => 0,
            _ => 1,
        }
    }
}

/// Everything that takes one manifest to another: the changes, plus the
/// identity of both ends so a receiver can check it starts and ends where the
/// sender did.
///
/// Changes are sorted by [`Change::path`] (a removal before an addition at one
/// path). [`Manifest::apply`](super::Manifest::apply) does not depend on that
/// order: it takes out every old entry first, then puts in every new one.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Diff {
    /// The manifest the changes apply to.
    pub base: ManifestId,
    /// The manifest they produce.
    pub target: ManifestId,
    /// The target's version number.
    pub target_version: u64,
    /// The target's parent manifest.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub target_parent: Option<ManifestId>,
    /// The changes, sorted by path.
    pub changes: Vec<Change>,
}

impl Diff {
    /// Whether the two manifests hold the same entries.
    pub fn is_empty(&self) -> bool {
        self.changes.is_empty()
    }
}

/// Raw differences before rename pairing.
#[derive(Default)]
struct Raw {
    removed: Vec<FileEntry>,
    added: Vec<FileEntry>,
    changes: Vec<Change>,
}

fn entry_at(prefix: &str, meta: &Meta) -> FileEntry {
    meta.to_entry(FilePath::from_trusted(prefix.to_owned()))
}

fn collect(node: &Node, path: String, into: &mut Vec<FileEntry>) {
    match node {
        Node::File(meta) => into.push(entry_at(&path, meta)),
        Node::Dir(dir) => {
            let mut prefix = path;
            dir.walk(&mut prefix, &mut |path, meta| {
                into.push(entry_at(path, meta))
            });
        }
    }
}

fn pair(path: &str, old: &Arc<Meta>, new: &Arc<Meta>, raw: &mut Raw) {
    if Arc::ptr_eq(old, new) || old.node_hash == new.node_hash {
        return;
    }
    let old = entry_at(path, old);
    let new = entry_at(path, new);
    if old.id != new.id {
        raw.removed.push(old);
        raw.added.push(new);
    } else if old.kind != new.kind {
        raw.changes.push(Change::KindChanged { old, new });
    } else {
        raw.changes.push(Change::Modified { old, new });
    }
}

/// Walks two directories in step, skipping every subtree whose hash agrees.
fn diff_dirs(a: &Dir, b: &Dir, prefix: &str, raw: &mut Raw) {
    if a.hash == b.hash {
        return;
    }
    match (&a.marker, &b.marker) {
        (Some(old), Some(new)) => pair(prefix, old, new, raw),
        (Some(old), None) => raw.removed.push(entry_at(prefix, old)),
        (None, Some(new)) => raw.added.push(entry_at(prefix, new)),
        (None, None) => {}
    }
    let (mut i, mut j) = (0, 0);
    while i < a.children.len() || j < b.children.len() {
        let order = match (a.children.get(i), b.children.get(j)) {
            (Some(x), Some(y)) => x.name.as_bytes().cmp(y.name.as_bytes()),
            (Some(_), None) => std::cmp::Ordering::Less,
            (None, _) => std::cmp::Ordering::Greater,
        };
        match order {
            std::cmp::Ordering::Less => {
                let child = &a.children[i];
                collect(&child.node, join(prefix, &child.name), &mut raw.removed);
                i += 1;
            }
            std::cmp::Ordering::Greater => {
                let child = &b.children[j];
                collect(&child.node, join(prefix, &child.name), &mut raw.added);
                j += 1;
            }
            std::cmp::Ordering::Equal => {
                let (x, y) = (&a.children[i], &b.children[j]);
                let path = join(prefix, &x.name);
                match (&x.node, &y.node) {
                    (Node::Dir(p), Node::Dir(q)) => {
                        if !Arc::ptr_eq(p, q) {
                            diff_dirs(p, q, &path, raw);
                        }
                    }
                    (Node::File(p), Node::File(q)) => pair(&path, p, q, raw),
                    (old, new) => {
                        collect(old, path.clone(), &mut raw.removed);
                        collect(new, path, &mut raw.added);
                    }
                }
                i += 1;
                j += 1;
            }
        }
    }
}

/// The sorted changes that take `a` to `b`.
pub(super) fn diff_trees(a: &Dir, b: &Dir) -> Vec<Change> {
    let mut raw = Raw::default();
    diff_dirs(a, b, "", &mut raw);
    let Raw {
        removed,
        added,
        mut changes,
    } = raw;

    // Renames by id.
    let mut added_by_id: HashMap<_, usize> = HashMap::new();
    for (index, entry) in added.iter().enumerate() {
        if let Some(id) = entry.id {
            added_by_id.insert(id, index);
        }
    }
    let mut added_slots: Vec<Option<FileEntry>> = added.into_iter().map(Some).collect();
    let mut unmatched_removed = Vec::new();
    for old in removed {
        let matched = old
            .id
            .and_then(|id| added_by_id.get(&id).copied())
            .and_then(|index| added_slots[index].take());
        match matched {
            Some(new) if new.kind == old.kind => changes.push(Change::Renamed { old, new }),
            Some(new) => {
                // Same id, new place and new kind: a removal and an addition.
                changes.push(Change::Removed { entry: old });
                changes.push(Change::Added { entry: new });
            }
            None => unmatched_removed.push(old),
        }
    }

    // Renames of id-less entries by identical content, paired in path order.
    let mut added_by_content: HashMap<(ContentHash, FileKind), Vec<usize>> = HashMap::new();
    for (index, slot) in added_slots.iter().enumerate().rev() {
        if let Some(entry) = slot {
            if entry.id.is_none() && entry.kind.has_content() {
                added_by_content
                    .entry((entry.hash, entry.kind))
                    .or_default()
                    .push(index);
            }
        }
    }
    for old in unmatched_removed {
        let candidate = if old.id.is_none() && old.kind.has_content() {
            added_by_content
                .get_mut(&(old.hash, old.kind))
                .and_then(Vec::pop)
                .and_then(|index| added_slots[index].take())
        } else {
            None
        };
        match candidate {
            Some(new) => changes.push(Change::Renamed { old, new }),
            None => changes.push(Change::Removed { entry: old }),
        }
    }
    changes.extend(
        added_slots
            .into_iter()
            .flatten()
            .map(|entry| Change::Added { entry }),
    );
    crate::sort::sort_by(&mut changes, |x, y| {
        x.path().cmp(y.path()).then(x.rank().cmp(&y.rank()))
    });
    changes
}
