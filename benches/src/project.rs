//! Generated projects: deterministic paths and contents at any scale.

use velocity_sync::{FileEntry, FileId, FilePath, Manifest, ManifestLimits};

/// Files per leaf directory of [`project_entries`].
pub const FILES_PER_DIR: usize = 32;

/// The path of file `index` in a generated project: `src/dXX/dYY/dZZ/fileN.ts`
/// with 16-way directories and [`FILES_PER_DIR`] files per leaf, so 100k
/// files sit at depth 5, like a large monorepo's sources.
pub fn project_path(index: usize) -> FilePath {
    let leaf = index / FILES_PER_DIR;
    let text = format!(
        "src/d{:02}/d{:02}/d{:02}/file{:02}.ts",
        (leaf / 256) % 256,
        (leaf / 16) % 16,
        leaf % 16,
        index % FILES_PER_DIR
    );
    // Generated paths are canonical by construction.
    FilePath::parse(&text).unwrap_or_else(|e| panic!("generated path {text}: {e}"))
}

/// Deterministic content for file `index`, about 1 KiB.
pub fn file_content(index: usize, edit: u64) -> Vec<u8> {
    format!(
        "// file {index}, edit {edit}\n{}",
        "export const value = 42;\n".repeat(40)
    )
    .into_bytes()
}

/// `count` entries with ids, in generation order.
pub fn project_entries(count: usize) -> Vec<FileEntry> {
    (0..count)
        .map(|index| {
            FileEntry::from_content(project_path(index), &file_content(index, 0))
                .with_id(FileId::from_u128(index as u128 + 1))
        })
        .collect()
}

/// A manifest of `count` generated files (limits lifted).
pub fn project_manifest(count: usize) -> Manifest {
    let mut manifest = Manifest::with_limits(ManifestLimits::unlimited());
    // Generated entries never collide.
    manifest
        .extend(project_entries(count))
        .unwrap_or_else(|e| panic!("generated entry: {e}"));
    manifest
}
