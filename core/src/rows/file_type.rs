//! The meaning of the `file_type` / `type` column.
//!
//! Rows in the wild hold two kinds of value there: a language or extension
//! name (`"typescript"`, `"tsx"`, `"json"`, `"png"`) and a content class
//! (`"text"`, `"binary"`, sometimes `"directory"` / `"folder"`). Both are
//! accepted on decode; only the content classes say anything about the
//! content. On encode the column gets the language from the extension table
//! in [`file_type_for`], `"binary"` or `"directory"`.

use crate::entry::FileKind;
use crate::path::FilePath;

/// What a `file_type` / `type` value claims about the row, if anything.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum TypeClaim {
    /// `"binary"`: the content is binary (and travels base64 unless an
    /// encoding says otherwise).
    Binary,
    /// `"directory"`, `"folder"` or `"dir"`: the row is a directory.
    Directory,
    /// `"text"` or `"plaintext"`: the content is text.
    Text,
}

impl TypeClaim {
    /// Reads a value, ignoring ASCII case and surrounding spaces. Language
    /// and extension names (and anything else) claim nothing: `None`.
    pub(crate) fn of(value: &str) -> Option<Self> {
        let value = value.trim();
        let is = |name: &str| value.eq_ignore_ascii_case(name);
        if is("binary") {
            Some(Self::Binary)
        } else if is("directory") || is("folder") || is("dir") {
            Some(Self::Directory)
        } else if is("text") || is("plaintext") {
            Some(Self::Text)
        } else {
            None
        }
    }

    /// Whether an entry of kind `actual` (with `empty` content) contradicts
    /// this claim. Empty content is text by the classification rules, but it
    /// is also a perfectly good empty binary file, so it satisfies `Binary`.
    pub(crate) fn contradicted_by(self, actual: FileKind, empty: bool) -> bool {
        match self {
            Self::Binary => !(actual == FileKind::Binary || (actual == FileKind::Text && empty)),
            Self::Directory => actual != FileKind::Directory,
            Self::Text => actual != FileKind::Text,
        }
    }
}

/// Languages by lower-case extension. Names follow the Monaco editor's
/// language ids, which is what the platform's rows hold, plus `svg`.
const LANGUAGES: &[(&str, &str)] = &[
    ("bash", "shell"),
    ("c", "c"),
    ("cjs", "javascript"),
    ("cpp", "cpp"),
    ("cs", "csharp"),
    ("css", "css"),
    ("cts", "typescript"),
    ("go", "go"),
    ("gql", "graphql"),
    ("graphql", "graphql"),
    ("h", "c"),
    ("htm", "html"),
    ("html", "html"),
    ("java", "java"),
    ("js", "javascript"),
    ("json", "json"),
    ("jsonc", "json"),
    ("jsx", "javascript"),
    ("kt", "kotlin"),
    ("less", "less"),
    ("markdown", "markdown"),
    ("md", "markdown"),
    ("mjs", "javascript"),
    ("mts", "typescript"),
    ("php", "php"),
    ("py", "python"),
    ("rb", "ruby"),
    ("rs", "rust"),
    ("scss", "scss"),
    ("sh", "shell"),
    ("sql", "sql"),
    ("svg", "svg"),
    ("swift", "swift"),
    ("toml", "toml"),
    ("ts", "typescript"),
    ("tsx", "typescript"),
    ("txt", "text"),
    ("vue", "vue"),
    ("xml", "xml"),
    ("yaml", "yaml"),
    ("yml", "yaml"),
];

/// Languages of files known by their whole name.
const NAMED: &[(&str, &str)] = &[("dockerfile", "dockerfile"), ("makefile", "makefile")];

/// The `file_type` value written for an entry at `path` of kind `kind`.
///
/// - [`FileKind::Directory`] → `"directory"`;
/// - [`FileKind::Binary`] → `"binary"`;
/// - [`FileKind::Text`] → the language of the extension, ignoring case:
///
///   | extensions | `file_type` |
///   |---|---|
///   | `ts` `tsx` `mts` `cts` | `typescript` |
///   | `js` `jsx` `mjs` `cjs` | `javascript` |
///   | `json` `jsonc` | `json` |
///   | `css` / `scss` / `less` | `css` / `scss` / `less` |
///   | `html` `htm` | `html` |
///   | `md` `markdown` | `markdown` |
///   | `svg` / `xml` | `svg` / `xml` |
///   | `yaml` `yml` | `yaml` |
///   | `sh` `bash` | `shell` |
///   | `graphql` `gql` | `graphql` |
///   | `py` `rb` `rs` `go` `java` `kt` `swift` `php` `cs` `c` `h` `cpp` | `python` `ruby` `rust` `go` `java` `kotlin` `swift` `php` `csharp` `c` `c` `cpp` |
///   | `sql` `toml` `vue` | `sql` `toml` `vue` |
///
///   `Dockerfile` and `Makefile` (by name) give `dockerfile` and `makefile`;
///   everything else, `.txt` and extension-less files included, gives `"text"`.
///
/// ```
/// use velocity_sync::{FileKind, FilePath};
/// use velocity_sync::rows::file_type_for;
/// # fn main() -> Result<(), velocity_sync::PathError> {
/// assert_eq!(file_type_for(&FilePath::parse("src/App.TSX")?, FileKind::Text), "typescript");
/// assert_eq!(file_type_for(&FilePath::parse("logo.png")?, FileKind::Binary), "binary");
/// assert_eq!(file_type_for(&FilePath::parse(".env")?, FileKind::Text), "text");
/// # Ok(())
/// # }
/// ```
pub fn file_type_for(path: &FilePath, kind: FileKind) -> &'static str {
    match kind {
        FileKind::Directory => "directory",
        FileKind::Binary => "binary",
        FileKind::Text => {
            let lookup = |table: &[(&str, &'static str)], key: &str| {
                table
                    .iter()
                    .find(|(name, _)| name.eq_ignore_ascii_case(key))
                    .map(|(_, language)| *language)
            };
            path.extension()
                .and_then(|extension| lookup(LANGUAGES, extension))
                .or_else(|| lookup(NAMED, path.file_name()))
                .unwrap_or("text")
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn text_type(path: &str) -> &'static str {
        file_type_for(&FilePath::parse(path).unwrap(), FileKind::Text)
    }

    #[test]
    fn languages_come_from_the_extension_table() {
        for (path, expected) in [
            ("a.ts", "typescript"),
            ("src/App.tsx", "typescript"),
            ("a.js", "javascript"),
            ("a.jsx", "javascript"),
            ("a.mjs", "javascript"),
            ("a.cjs", "javascript"),
            ("package.json", "json"),
            ("a.css", "css"),
            ("a.scss", "scss"),
            ("index.html", "html"),
            ("README.md", "markdown"),
            ("logo.svg", "svg"),
            ("ci.yml", "yaml"),
            ("ci.yaml", "yaml"),
            ("INDEX.HTML", "html"),
            ("Dockerfile", "dockerfile"),
            ("notes.txt", "text"),
            ("data.unknownext", "text"),
            (".env", "text"),
            ("LICENSE", "text"),
        ] {
            assert_eq!(text_type(path), expected, "{path}");
        }
        let png = FilePath::parse("logo.png").unwrap();
        assert_eq!(file_type_for(&png, FileKind::Binary), "binary");
        assert_eq!(file_type_for(&png, FileKind::Directory), "directory");
    }

    #[test]
    fn every_table_is_sorted_and_lower_case() {
        for table in [LANGUAGES, NAMED] {
            assert!(table.windows(2).all(|pair| pair[0].0 < pair[1].0));
            assert!(table.iter().all(|(k, _)| k.to_ascii_lowercase() == *k));
        }
    }

    #[test]
    fn only_content_classes_make_claims() {
        assert_eq!(TypeClaim::of("binary"), Some(TypeClaim::Binary));
        assert_eq!(TypeClaim::of(" Folder "), Some(TypeClaim::Directory));
        assert_eq!(TypeClaim::of("DIRECTORY"), Some(TypeClaim::Directory));
        assert_eq!(TypeClaim::of("text"), Some(TypeClaim::Text));
        assert_eq!(TypeClaim::of("plaintext"), Some(TypeClaim::Text));
        for label in ["typescript", "tsx", "json", "png", "file", ""] {
            assert_eq!(TypeClaim::of(label), None, "{label}");
        }
    }

    #[test]
    fn empty_content_satisfies_a_binary_claim() {
        assert!(!TypeClaim::Binary.contradicted_by(FileKind::Text, true));
        assert!(TypeClaim::Binary.contradicted_by(FileKind::Text, false));
        assert!(!TypeClaim::Binary.contradicted_by(FileKind::Binary, false));
        assert!(TypeClaim::Text.contradicted_by(FileKind::Binary, false));
        assert!(TypeClaim::Directory.contradicted_by(FileKind::Text, true));
    }
}
