//! File entries: what a manifest knows about one file or empty directory.

use std::fmt;
use std::str::FromStr;

use serde::{Deserialize, Deserializer, Serialize, Serializer};

use crate::hash::ContentHash;
use crate::path::FilePath;

/// Why an entry or one of its parts was rejected.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum EntryError {
    /// A file id that is not a UUID.
    #[error("file id {text:?} is not a UUID (expected e.g. 0b6f9c1e-3c5a-4a7e-9a55-1f0e2d3c4b5a)")]
    BadId {
        /// The rejected text (cut to 80 characters).
        text: String,
    },
    /// A file kind name that is not `text`, `binary` or `directory`.
    #[error("file kind {text:?} is unknown (expected text, binary or directory)")]
    BadKind {
        /// The rejected text.
        text: String,
    },
}

impl EntryError {
    /// The stable code of this error.
    pub fn code(&self) -> &'static str {
        match self {
            Self::BadId { .. } => "entry.bad_id",
            Self::BadKind { .. } => "entry.bad_kind",
        }
    }
}

/// A file's stable identity: the `project_files.id` UUID. A rename keeps it.
#[derive(Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct FileId(uuid::Uuid);

impl FileId {
    /// Parses a UUID in any of its usual text forms; [`Display`](fmt::Display)
    /// writes the lowercase hyphenated form.
    ///
    /// # Errors
    /// [`EntryError::BadId`] when the text is not a UUID.
    pub fn parse(text: &str) -> Result<Self, EntryError> {
        uuid::Uuid::try_parse(text)
            .map(Self)
            .map_err(|_| EntryError::BadId {
                text: text.chars().take(80).collect(),
            })
    }

    /// Wraps 16 raw bytes.
    pub const fn from_bytes(bytes: [u8; 16]) -> Self {
        Self(uuid::Uuid::from_bytes(bytes))
    }

    /// Makes a deterministic id from a 128-bit number (tests, generators):
    /// the same number always gives the same id.
    pub const fn from_u128(value: u128) -> Self {
        Self(uuid::Uuid::from_u128(value))
    }

    /// A deterministic id derived from `material` under `context` (BLAKE3
    /// key derivation, stamped as an RFC 9562 version-8 UUID): the same
    /// inputs always give the same id, different contexts never collide.
    pub fn derive(context: &str, material: &[u8]) -> Self {
        let hash = ContentHash::derive(context, material);
        let mut bytes = [0u8; 16];
        bytes.copy_from_slice(&hash.as_bytes()[..16]);
        bytes[6] = (bytes[6] & 0x0f) | 0x80;
        bytes[8] = (bytes[8] & 0x3f) | 0x80;
        Self::from_bytes(bytes)
    }

    /// The 16 raw bytes.
    pub const fn as_bytes(&self) -> &[u8; 16] {
        self.0.as_bytes()
    }
}

impl fmt::Display for FileId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Display::fmt(&self.0.hyphenated(), f)
    }
}

impl fmt::Debug for FileId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "FileId({})", self.0.hyphenated())
    }
}

impl FromStr for FileId {
    type Err = EntryError;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Self::parse(s)
    }
}

impl Serialize for FileId {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.collect_str(self)
    }
}

impl<'de> Deserialize<'de> for FileId {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let text = <std::borrow::Cow<'de, str>>::deserialize(deserializer)?;
        Self::parse(&text).map_err(serde::de::Error::custom)
    }
}

/// What an entry holds.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum FileKind {
    /// Bytes that are not text (see [`FileKind::classify`]).
    Binary,
    /// A directory that exists on its own (usually an empty one).
    Directory,
    /// Valid UTF-8 without NUL bytes.
    Text,
}

impl FileKind {
    /// Text when `bytes` are valid UTF-8 with no NUL byte, binary otherwise.
    /// Never [`FileKind::Directory`].
    pub fn classify(bytes: &[u8]) -> Self {
        if !bytes.contains(&0) && std::str::from_utf8(bytes).is_ok() {
            Self::Text
        } else {
            Self::Binary
        }
    }

    /// `"text"`, `"binary"` or `"directory"`.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Binary => "binary",
            Self::Directory => "directory",
            Self::Text => "text",
        }
    }

    /// Whether entries of this kind carry content.
    pub fn has_content(self) -> bool {
        self != Self::Directory
    }
}

impl FromStr for FileKind {
    type Err = EntryError;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        match s {
            "binary" => Ok(Self::Binary),
            "directory" => Ok(Self::Directory),
            "text" => Ok(Self::Text),
            _ => Err(EntryError::BadKind { text: s.to_owned() }),
        }
    }
}

/// One file (or explicit directory) of a project at one version.
///
/// File entries: what a manifest knows about one file or empty directory.
///
/// A [`FileEntry`] has a stable [`FileId`] (the `project_files.id` UUID; a
/// rename keeps it), a [`FilePath`], a [`FileKind`], its size and
/// [`ContentHash`], the executable bit and a revision counter. Content itself
/// lives in a blob store; entries only point at it.
///
/// # Text or binary
/// [`FileKind::classify`] decides: bytes that are valid UTF-8 and contain no
/// NUL are [`FileKind::Text`]; everything else is [`FileKind::Binary`]. The
/// empty file is text. A UTF-8 byte-order mark is valid UTF-8, so a file that
/// starts with one is text and the mark stays part of its content (it is never
/// stripped or added). UTF-16 files, with or without a BOM, are binary.
/// Content is always kept byte-exact: line endings, BOM and the presence or
/// absence of a final newline survive every round trip.
///
/// ```
/// use velocity_sync::{FileEntry, FileKind, FilePath};
/// # fn main() -> Result<(), velocity_sync::Error> {
/// let entry = FileEntry::from_content(FilePath::parse("index.html")?, b"<h1>hi</h1>\r\n");
/// assert_eq!(entry.kind, FileKind::Text);
/// assert_eq!(entry.size, 13);
/// assert_eq!(FileKind::classify(b"\x89PNG\r\n\x1a\n\0"), FileKind::Binary);
/// # Ok(())
/// # }
/// ```
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct FileEntry {
    /// Stable id; `None` for files that came without one (the editor's
    /// `{path, content}` rows), which are then matched by content on rename.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub id: Option<FileId>,
    /// Where the file lives.
    pub path: FilePath,
    /// Text, binary or directory.
    pub kind: FileKind,
    /// Content size in bytes (0 for directories).
    pub size: u64,
    /// BLAKE3 of the content (of the empty string for directories).
    pub hash: ContentHash,
    /// The POSIX executable bit.
    #[serde(default, skip_serializing_if = "is_false")]
    pub executable: bool,
    /// Per-file revision: how many changes the server has applied to it.
    #[serde(default)]
    pub revision: u64,
}

fn is_false(value: &bool) -> bool {
    !*value
}

impl FileEntry {
    /// An entry describing `content` at `path`: kind classified, size and
    /// hash computed; no id, revision 0, not executable.
    pub fn from_content(path: FilePath, content: &[u8]) -> Self {
        Self {
            id: None,
            path,
            kind: FileKind::classify(content),
            size: content.len() as u64,
            hash: ContentHash::of(content),
            executable: false,
            revision: 0,
        }
    }

    /// An explicit (usually empty) directory at `path`.
    pub fn directory(path: FilePath) -> Self {
        Self {
            id: None,
            path,
            kind: FileKind::Directory,
            size: 0,
            hash: ContentHash::of(b""),
            executable: false,
            revision: 0,
        }
    }

    /// Sets the id.
    #[must_use]
    pub fn with_id(mut self, id: FileId) -> Self {
        self.id = Some(id);
        self
    }

    /// Sets the revision.
    #[must_use]
    pub fn with_revision(mut self, revision: u64) -> Self {
        self.revision = revision;
        self
    }

    /// Sets the executable bit.
    #[must_use]
    pub fn with_executable(mut self, executable: bool) -> Self {
        self.executable = executable;
        self
    }

    /// Whether `content` is what this entry describes (size and hash agree).
    pub fn matches_content(&self, content: &[u8]) -> bool {
        self.size == content.len() as u64 && self.hash == ContentHash::of(content)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn classification_rules() {
        assert_eq!(FileKind::classify(b""), FileKind::Text);
        assert_eq!(FileKind::classify(b"fn main() {}\n"), FileKind::Text);
        assert_eq!(FileKind::classify("\u{feff}bom".as_bytes()), FileKind::Text);
        assert_eq!(FileKind::classify(b"a\0b"), FileKind::Binary);
        assert_eq!(FileKind::classify(b"\xff\xfeh\0i\0"), FileKind::Binary);
        assert_eq!(FileKind::classify(b"\xc3"), FileKind::Binary);
    }

    #[test]
    fn content_is_kept_byte_exact() {
        let bytes = "\u{feff}line\r\nlast".as_bytes();
        let entry = FileEntry::from_content(FilePath::parse("a.txt").unwrap(), bytes);
        assert_eq!(entry.size, bytes.len() as u64);
        assert!(entry.matches_content(bytes));
        assert!(!entry.matches_content(b"line\nlast"));
    }

    #[test]
    fn derived_ids_are_stable_version_8_uuids() {
        let a = FileId::derive("ctx", b"x");
        assert_eq!(a, FileId::derive("ctx", b"x"));
        assert_ne!(a, FileId::derive("other", b"x"));
        let text = a.to_string();
        assert_eq!(&text[14..15], "8");
        assert!(matches!(&text[19..20], "8" | "9" | "a" | "b"), "{text}");
    }

    #[test]
    fn ids_parse_and_print() {
        let id = FileId::parse("0B6F9C1E-3C5A-4A7E-9A55-1F0E2D3C4B5A").unwrap();
        assert_eq!(id.to_string(), "0b6f9c1e-3c5a-4a7e-9a55-1f0e2d3c4b5a");
        assert_eq!(FileId::parse("nope").unwrap_err().code(), "entry.bad_id");
        let json = serde_json::to_string(&id).unwrap();
        assert_eq!(serde_json::from_str::<FileId>(&json).unwrap(), id);
        assert_eq!("text".parse::<FileKind>().unwrap(), FileKind::Text);
        assert_eq!(
            "folder".parse::<FileKind>().unwrap_err().code(),
            "entry.bad_kind"
        );
    }

    #[test]
    fn entries_serialise_compactly() {
        let entry = FileEntry::from_content(FilePath::parse("a.txt").unwrap(), b"hi")
            .with_id(FileId::from_u128(7));
        let json = serde_json::to_value(&entry).unwrap();
        assert_eq!(json["kind"], "text");
        assert_eq!(json["id"], "00000000-0000-0000-0000-000000000007");
        assert!(json.get("executable").is_none());
        let back: FileEntry = serde_json::from_value(json).unwrap();
        assert_eq!(back, entry);
    }
}
