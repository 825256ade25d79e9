//! Validated, normalised project-relative paths.

use std::fmt;

use serde::{Deserialize, Deserializer, Serialize, Serializer};

use crate::nfc::nfc;

/// Longest accepted path, in UTF-8 bytes.
pub const MAX_PATH_BYTES: usize = 4096;
/// Longest accepted segment (file or directory name), in UTF-8 bytes.
pub const MAX_SEGMENT_BYTES: usize = 255;

/// Why a path was rejected. Offsets are byte offsets into the input (for the
/// lenient parser: into the normalised form).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum PathError {
    /// The path starts at the file system root (`/etc`).
    #[error("path {path:?} is absolute; project paths are relative to the project root")]
    Absolute {
        /// The rejected path.
        path: String,
    },
    /// A backslash, which Windows reads as a separator.
    #[error("path {path:?} has a backslash at byte {offset}; use '/' to separate segments")]
    Backslash {
        /// The rejected path.
        path: String,
        /// Byte offset of the backslash.
        offset: usize,
    },
    /// A control character (U+0000–U+001F, U+007F–U+009F), NUL included.
    #[error("path {path:?} has control character U+{code:04X} at byte {offset}")]
    ControlCharacter {
        /// The rejected path.
        path: String,
        /// Byte offset of the character.
        offset: usize,
        /// The character's code point.
        code: u32,
    },
    /// A `.` segment.
    #[error("path {path:?} has a '.' segment at byte {offset}")]
    DotSegment {
        /// The rejected path.
        path: String,
        /// Byte offset of the segment.
        offset: usize,
    },
    /// A Windows drive prefix such as `C:`.
    #[error("path {path:?} starts with a drive prefix")]
    DrivePrefix {
        /// The rejected path.
        path: String,
    },
    /// The empty string.
    #[error("path is empty")]
    Empty,
    /// Two separators in a row, or a separator at the end.
    #[error("path {path:?} has an empty segment at byte {offset}")]
    EmptySegment {
        /// The rejected path.
        path: String,
        /// Byte offset where the empty segment starts.
        offset: usize,
    },
    /// Bytes that are not UTF-8.
    #[error("path is not valid UTF-8 (first bad byte at {offset})")]
    InvalidUtf8 {
        /// Byte offset of the first invalid byte.
        offset: usize,
    },
    /// A `..` segment, which would leave the project root.
    #[error("path {path:?} leaves the project root ('..' at byte {offset})")]
    ParentSegment {
        /// The rejected path.
        path: String,
        /// Byte offset of the segment.
        offset: usize,
    },
    /// A Windows reserved device name (`CON`, `NUL`, `COM1`, … with or without an extension).
    #[error("path {path:?} uses the reserved device name {segment:?} at byte {offset}")]
    ReservedName {
        /// The rejected path.
        path: String,
        /// Byte offset of the segment.
        offset: usize,
        /// The reserved segment.
        segment: String,
    },
    /// A segment longer than [`MAX_SEGMENT_BYTES`].
    #[error("path segment at byte {offset} is {len} bytes long (limit {max})")]
    SegmentTooLong {
        /// Byte offset of the segment.
        offset: usize,
        /// Its length in bytes.
        len: usize,
        /// The limit.
        max: usize,
    },
    /// A path longer than [`MAX_PATH_BYTES`].
    #[error("path is {len} bytes long (limit {max})")]
    TooLong {
        /// Its length in bytes.
        len: usize,
        /// The limit.
        max: usize,
    },
    /// A segment ending in `.` or a space, which Windows silently strips.
    #[error("path {path:?} has a segment ending in a dot or space at byte {offset}")]
    TrailingDotOrSpace {
        /// The rejected path.
        path: String,
        /// Byte offset of the offending character.
        offset: usize,
    },
}

impl PathError {
    /// The stable code of this error.
    pub fn code(&self) -> &'static str {
        match self {
            Self::Absolute { .. } => "path.absolute",
            Self::Backslash { .. } => "path.backslash",
            Self::ControlCharacter { .. } => "path.control_character",
            Self::DotSegment { .. } => "path.dot_segment",
            Self::DrivePrefix { .. } => "path.drive_prefix",
            Self::Empty => "path.empty",
            Self::EmptySegment { .. } => "path.empty_segment",
            Self::InvalidUtf8 { .. } => "path.invalid_utf8",
            Self::ParentSegment { .. } => "path.parent_segment",
            Self::ReservedName { .. } => "path.reserved_name",
            Self::SegmentTooLong { .. } => "path.segment_too_long",
            Self::TooLong { .. } => "path.too_long",
            Self::TrailingDotOrSpace { .. } => "path.trailing_dot_or_space",
        }
    }
}

/// A validated, normalised, project-relative path such as `src/App.tsx`.
///
/// Ordering is by UTF-8 bytes. Cloning is cheap (the text is shared).
///
/// Validated, normalised project-relative paths.
///
/// A [`FilePath`] is the one thing that stands between a hostile message and a
/// container's disk, so it can only be built by parsing. The strict parser
/// ([`FilePath::parse`]) accepts exactly the canonical form: `/`-separated,
/// non-empty segments, none of them `.` or `..`, no backslash, no control
/// character, nothing a Windows file system would reinterpret. The lenient
/// parser ([`FilePath::parse_lenient`]) first normalises what today's callers
/// send (a leading `/`, `./`, doubled slashes) and then applies the same rules.
///
/// ```
/// use velocity_sync::FilePath;
/// # fn main() -> Result<(), velocity_sync::PathError> {
/// let path = FilePath::parse("src/App.tsx")?;
/// assert_eq!(path.file_name(), "App.tsx");
/// assert_eq!(path.extension(), Some("tsx"));
/// assert!(FilePath::parse("../etc/passwd").is_err());
/// assert_eq!(FilePath::parse_lenient("/./src//main.ts")?.as_str(), "src/main.ts");
/// # Ok(())
/// # }
/// ```
///
/// Two different paths can still name the same file on a case-insensitive or
/// normalising file system (`Readme.md` and `README.md`; `é` composed and
/// decomposed). [`FilePath::portable_key`] maps both to one key so a manifest
/// can refuse the second.
#[derive(Clone, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct FilePath(std::sync::Arc<str>);

/// A path's key on a case-insensitive, normalising file system: Unicode NFC,
/// then full case folding, then NFC again, per segment. Two paths with equal
/// keys would land on the same file on macOS or Windows.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct PortableKey(Box<str>);

impl PortableKey {
    /// The key as text.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl FilePath {
    /// Parses a path in canonical form, rejecting anything else.
    ///
    /// # Errors
    /// A [`PathError`] naming the first rule the path breaks and where.
    pub fn parse(path: &str) -> Result<Self, PathError> {
        validate(path)?;
        Ok(Self(path.into()))
    }

    /// Parses a path given as bytes (from a tar header, a C caller, a file
    /// name on disk). Bytes that are not UTF-8 are rejected.
    ///
    /// # Errors
    /// [`PathError::InvalidUtf8`], or any error of [`FilePath::parse`].
    pub fn from_bytes(bytes: &[u8]) -> Result<Self, PathError> {
        let text = std::str::from_utf8(bytes).map_err(|e| PathError::InvalidUtf8 {
            offset: e.valid_up_to(),
        })?;
        Self::parse(text)
    }

    /// Parses what today's callers send: leading `/` and `./`, doubled
    /// slashes, `.` segments and a trailing `/` are normalised away; the
    /// result must then pass [`FilePath::parse`]. `..` is still rejected.
    ///
    /// # Errors
    /// Any error of [`FilePath::parse`], with offsets into the normalised form.
    pub fn parse_lenient(path: &str) -> Result<Self, PathError> {
        if path.is_empty() {
            return Err(PathError::Empty);
        }
        if let Some(offset) = path.find('\\') {
            return Err(PathError::Backslash {
                path: path.to_owned(),
                offset,
            });
        }
        let normalised = path
            .split('/')
            .filter(|segment| !segment.is_empty() && *segment != ".")
            .collect::<Vec<_>>()
            .join("/");
        if normalised.is_empty() {
            return Err(PathError::Empty);
        }
        Self::parse(&normalised)
    }

    /// Builds a path from a validated parent and one more validated segment,
    /// without parsing again. Used when walking trees.
    pub(crate) fn from_trusted(path: String) -> Self {
        debug_assert!(validate(&path).is_ok(), "untrusted path {path:?}");
        Self(path.into())
    }

    /// The path as text.
    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// The segments, from the root down.
    pub fn segments(&self) -> impl DoubleEndedIterator<Item = &str> + Clone {
        self.0.split('/')
    }

    /// Number of segments (1 for a top-level file).
    pub fn depth(&self) -> usize {
        self.segments().count()
    }

    /// The last segment: the file or directory name.
    pub fn file_name(&self) -> &str {
        self.0.rsplit('/').next().unwrap_or(&self.0)
    }

    /// The text after the last `.` of the file name, if any (not for
    /// dot-files such as `.env`).
    pub fn extension(&self) -> Option<&str> {
        let name = self.file_name();
        match name.rfind('.') {
            Some(0) | None => None,
            Some(dot) => Some(&name[dot + 1..]),
        }
    }

    /// The containing directory, or `None` for a top-level entry.
    pub fn parent(&self) -> Option<Self> {
        self.0.rfind('/').map(|slash| Self(self.0[..slash].into()))
    }

    /// Whether `self` is `ancestor` or lies below it.
    pub fn starts_with(&self, ancestor: &Self) -> bool {
        self.0.len() >= ancestor.0.len()
            && self.0.starts_with(&*ancestor.0)
            && (self.0.len() == ancestor.0.len() || self.0.as_bytes()[ancestor.0.len()] == b'/')
    }

    /// Appends one segment, validating it.
    ///
    /// # Errors
    /// Any error of [`FilePath::parse`] for the joined path.
    pub fn join(&self, segment: &str) -> Result<Self, PathError> {
        Self::parse(&format!("{}/{segment}", self.0))
    }

    /// The key under which this path collides on case-insensitive or
    /// normalising file systems.
    pub fn portable_key(&self) -> PortableKey {
        PortableKey(portable_segment_key(&self.0).into_boxed_str())
    }
}

/// The portable key of one segment (or of a whole path: `/` maps to itself).
pub(crate) fn portable_segment_key(segment: &str) -> String {
    if segment
        .bytes()
        .all(|b| b.is_ascii() && !b.is_ascii_uppercase())
    {
        return segment.to_owned();
    }
    let composed = nfc(segment);
    nfc(&caseless::default_case_fold_str(&composed))
}

fn validate(path: &str) -> Result<(), PathError> {
    let owned = || path.to_owned();
    if path.is_empty() {
        return Err(PathError::Empty);
    }
    if path.len() > MAX_PATH_BYTES {
        return Err(PathError::TooLong {
            len: path.len(),
            max: MAX_PATH_BYTES,
        });
    }
    if path.starts_with('/') {
        return Err(PathError::Absolute { path: owned() });
    }
    let bytes = path.as_bytes();
    if bytes.len() >= 2 && bytes[0].is_ascii_alphabetic() && bytes[1] == b':' {
        return Err(PathError::DrivePrefix { path: owned() });
    }
    for (offset, ch) in path.char_indices() {
        if ch == '\\' {
            return Err(PathError::Backslash {
                path: owned(),
                offset,
            });
        }
        if ch.is_control() {
            return Err(PathError::ControlCharacter {
                path: owned(),
                offset,
                code: ch as u32,
            });
        }
    }
    let mut offset = 0;
    for segment in path.split('/') {
        validate_segment(path, segment, offset)?;
        offset += segment.len() + 1;
    }
    Ok(())
}

fn validate_segment(path: &str, segment: &str, offset: usize) -> Result<(), PathError> {
    let owned = || path.to_owned();
    match segment {
        "" => {
            return Err(PathError::EmptySegment {
                path: owned(),
                offset,
            });
        }
        "." => {
            return Err(PathError::DotSegment {
                path: owned(),
                offset,
            });
        }
        ".." => {
            return Err(PathError::ParentSegment {
                path: owned(),
                offset,
            });
        }
        _ => {}
    }
    if segment.len() > MAX_SEGMENT_BYTES {
        return Err(PathError::SegmentTooLong {
            offset,
            len: segment.len(),
            max: MAX_SEGMENT_BYTES,
        });
    }
    if segment.ends_with('.') || segment.ends_with(' ') {
        return Err(PathError::TrailingDotOrSpace {
            path: owned(),
            offset: offset + segment.len() - 1,
        });
    }
    if is_reserved_device_name(segment) {
        return Err(PathError::ReservedName {
            path: owned(),
            offset,
            segment: segment.to_owned(),
        });
    }
    Ok(())
}

/// Windows reserves these names in every directory, with any extension
/// (`nul.txt` is the null device too) and in any case.
fn is_reserved_device_name(segment: &str) -> bool {
    let stem = segment.split('.').next().unwrap_or(segment).trim_end();
    let upper = stem.to_ascii_uppercase();
    match upper.as_str() {
        "CON" | "PRN" | "AUX" | "NUL" | "CONIN$" | "CONOUT$" => true,
        _ => {
            let (Some(prefix), Some(rest)) = (upper.get(..3), upper.get(3..)) else {
                return false;
            };
            (prefix == "COM" || prefix == "LPT")
                && matches!(
                    rest,
                    "0" | "1" | "2" | "3" | "4" | "5" | "6" | "7" | "8" | "9" | "¹" | "²" | "³"
                )
        }
    }
}

impl fmt::Display for FilePath {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl fmt::Debug for FilePath {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "FilePath({:?})", &*self.0)
    }
}

impl AsRef<str> for FilePath {
    fn as_ref(&self) -> &str {
        &self.0
    }
}

impl std::str::FromStr for FilePath {
    type Err = PathError;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Self::parse(s)
    }
}

impl Serialize for FilePath {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.serialize_str(&self.0)
    }
}

impl<'de> Deserialize<'de> for FilePath {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let text = <std::borrow::Cow<'de, str>>::deserialize(deserializer)?;
        Self::parse(&text).map_err(serde::de::Error::custom)
    }
}

#[cfg(test)]
mod tests {
    use std::path::{Component, Path};

    use proptest::prelude::*;

    use super::*;

    fn code(path: &str) -> &'static str {
        FilePath::parse(path)
            .map(|_| "ok")
            .unwrap_or_else(|e| e.code())
    }

    #[test]
    fn accepts_ordinary_project_paths() {
        for ok in [
            "package.json",
            "src/App.tsx",
            ".env",
            ".github/workflows/ci.yml",
            "a b/c d.txt",
            "emoji/😀.md",
            "é/ü",
            "con_fig/consts.ts",
            "COM10",
            "lpt",
        ] {
            assert_eq!(code(ok), "ok", "{ok}");
        }
    }

    #[test]
    fn rejects_each_rule_with_its_code() {
        let cases = [
            ("", "path.empty"),
            ("/etc/passwd", "path.absolute"),
            ("../x", "path.parent_segment"),
            ("a/../../x", "path.parent_segment"),
            ("a/./b", "path.dot_segment"),
            ("a//b", "path.empty_segment"),
            ("a/", "path.empty_segment"),
            ("a\\b", "path.backslash"),
            ("a\0b", "path.control_character"),
            ("a\nb", "path.control_character"),
            ("a\u{85}b", "path.control_character"),
            ("C:/x", "path.drive_prefix"),
            ("c:x", "path.drive_prefix"),
            ("CON", "path.reserved_name"),
            ("src/nul.txt", "path.reserved_name"),
            ("com1", "path.reserved_name"),
            ("LPT9.log", "path.reserved_name"),
            ("a./b", "path.trailing_dot_or_space"),
            ("a /b", "path.trailing_dot_or_space"),
            ("b.", "path.trailing_dot_or_space"),
        ];
        for (input, expected) in cases {
            assert_eq!(code(input), expected, "{input:?}");
        }
        assert_eq!(code(&"a".repeat(256)), "path.segment_too_long");
        assert_eq!(code(&"a".repeat(255)), "ok");
        let long = vec!["abcdefgh"; 500].join("/");
        assert_eq!(code(&long), "path.too_long");
    }

    #[test]
    fn errors_name_the_offset() {
        let err = FilePath::parse("src/lib/../x").unwrap_err();
        assert_eq!(
            err,
            PathError::ParentSegment {
                path: "src/lib/../x".into(),
                offset: 8
            }
        );
        assert_eq!(
            err.to_string(),
            "path \"src/lib/../x\" leaves the project root ('..' at byte 8)"
        );
        let err = FilePath::parse("ab/c\\d").unwrap_err();
        assert!(matches!(err, PathError::Backslash { offset: 4, .. }));
    }

    #[test]
    fn bytes_must_be_utf8() {
        let err = FilePath::from_bytes(b"src/\xff.ts").unwrap_err();
        assert_eq!(err, PathError::InvalidUtf8 { offset: 4 });
        assert_eq!(
            FilePath::from_bytes(b"src/a.ts").unwrap().as_str(),
            "src/a.ts"
        );
    }

    #[test]
    fn lenient_parsing_normalises_todays_inputs() {
        for (input, expected) in [
            ("/src/App.tsx", "src/App.tsx"),
            ("./src/App.tsx", "src/App.tsx"),
            ("src//App.tsx", "src/App.tsx"),
            ("//./src/./App.tsx/", "src/App.tsx"),
        ] {
            assert_eq!(FilePath::parse_lenient(input).unwrap().as_str(), expected);
        }
        for bad in ["/../x", "a/../b", "a\\b", "/", "./", "C:/x"] {
            assert!(FilePath::parse_lenient(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn accessors() {
        let p = FilePath::parse("src/components/Button.test.tsx").unwrap();
        assert_eq!(p.file_name(), "Button.test.tsx");
        assert_eq!(p.extension(), Some("tsx"));
        assert_eq!(p.parent().unwrap().as_str(), "src/components");
        assert_eq!(p.depth(), 3);
        assert!(p.starts_with(&FilePath::parse("src").unwrap()));
        assert!(!p.starts_with(&FilePath::parse("sr").unwrap()));
        assert_eq!(FilePath::parse(".env").unwrap().extension(), None);
        assert_eq!(FilePath::parse("a").unwrap().parent(), None);
        assert_eq!(p.join("").unwrap_err().code(), "path.empty_segment");
        assert_eq!(p.join("..").unwrap_err().code(), "path.parent_segment");
        assert_eq!(
            p.join("x").unwrap().as_str(),
            "src/components/Button.test.tsx/x"
        );
    }

    #[test]
    fn portable_key_folds_case_and_normalisation() {
        let a = FilePath::parse("Src/README.md").unwrap();
        let b = FilePath::parse("src/readme.MD").unwrap();
        assert_eq!(a.portable_key(), b.portable_key());
        let composed = FilePath::parse("caf\u{e9}.txt").unwrap();
        let decomposed = FilePath::parse("cafe\u{301}.txt").unwrap();
        assert_ne!(composed, decomposed);
        assert_eq!(composed.portable_key(), decomposed.portable_key());
        let sharp = FilePath::parse("stra\u{df}e").unwrap();
        let ss = FilePath::parse("STRASSE").unwrap();
        assert_eq!(sharp.portable_key(), ss.portable_key());
        assert_ne!(
            FilePath::parse("a.ts").unwrap().portable_key(),
            FilePath::parse("b.ts").unwrap().portable_key()
        );
    }

    #[test]
    fn serde_validates() {
        let p: FilePath = serde_json::from_str("\"src/a.ts\"").unwrap();
        assert_eq!(p.as_str(), "src/a.ts");
        assert!(serde_json::from_str::<FilePath>("\"../a\"").is_err());
        assert_eq!(serde_json::to_string(&p).unwrap(), "\"src/a.ts\"");
    }

    /// Lexically resolves `root.join(path)`; `None` when it climbs above `root`.
    fn stays_inside(root: &Path, relative: &str) -> bool {
        let joined = root.join(relative);
        let mut depth: i64 = 0;
        for component in joined
            .strip_prefix(root)
            .map(Path::components)
            .into_iter()
            .flatten()
        {
            match component {
                Component::Normal(_) => depth += 1,
                Component::CurDir => {}
                Component::ParentDir => depth -= 1,
                Component::RootDir | Component::Prefix(_) => return false,
            }
            if depth < 0 {
                return false;
            }
        }
        joined.starts_with(root) && depth >= 1
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(4096))]

        #[test]
        fn accepted_paths_never_leave_the_root(input in "[a./\\\\:\0 Cc~é]{0,12}") {
            if let Ok(path) = FilePath::parse(&input) {
                prop_assert!(stays_inside(Path::new("/srv/project"), path.as_str()), "{input:?}");
                prop_assert_eq!(FilePath::parse(path.as_str()).unwrap(), path);
            }
            if let Ok(path) = FilePath::parse_lenient(&input) {
                prop_assert!(stays_inside(Path::new("/srv/project"), path.as_str()), "{input:?}");
            }
        }

        #[test]
        fn any_string_parses_without_panicking(input in any::<String>()) {
            let _ = FilePath::parse(&input);
            let _ = FilePath::parse_lenient(&input);
            let _ = FilePath::from_bytes(input.as_bytes());
        }
    }
}
