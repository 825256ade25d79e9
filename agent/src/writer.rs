//! [`RootWriter`]: every write of the agent, through directory handles.
//!
//! The root is opened once (`Dir::open_ambient_dir`); everything below is
//! reached by opening one segment at a time relative to its parent's
//! handle (cap-std, `openat`-style), never by joining strings to the root.
//! Each segment is opened without following symlinks, so a symlink planted
//! inside the root — even one swapped in after a check — cannot carry a
//! write anywhere else, inside the root or out of it.
//!
//! **Policy for a symlink where the manifest has a directory:** the symlink
//! is *replaced* by a real directory (the link itself is removed, never its
//! target), since the server is the truth. If a symlink appears between that
//! check and the open, the write is abandoned with [`AgentError::Raced`] and
//! drift repair retries it later.
//!
//! Files are written atomically: a temp file in the same directory
//! (created exclusively, so never through an existing link), the content,
//! the executable bit, `fsync` when asked, then `rename` over the target
//! (which replaces a symlink at the target instead of following it). A
//! watcher sees the old file or the new one, never a torn one.

use std::collections::HashMap;
use std::io::{Read, Write};
use std::os::unix::fs::PermissionsExt as _;
use std::path::Path;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Mutex};

use cap_fs_ext::{DirExt, FollowSymlinks, OpenOptionsFollowExt};
use cap_std::fs::{Dir, OpenOptions, PermissionsExt as _};
use velocity_sync::{ContentHash, FilePath, PortableKey};

use super::error::AgentError;
use super::ignore::Ignore;

/// Temp files start with this, so a restart can clean up the ones a crash
/// left behind.
pub const TEMP_PREFIX: &str = ".vs-tmp.";

/// What the agent knows about a file it wrote: enough to tell later,
/// without reading it, whether it is still what was written.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct Stamp {
    /// Size in bytes.
    pub size: u64,
    /// Modification time, nanoseconds since the Unix epoch.
    pub mtime_ns: u64,
}

/// A file as written: its content hash and stamp.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct Record {
    /// BLAKE3 of the content written.
    pub hash: ContentHash,
    /// Size and mtime right after the write.
    pub stamp: Stamp,
    /// The executable bit written.
    #[serde(default)]
    pub executable: bool,
}

/// A temp file written and ready to be renamed over its target.
#[derive(Debug)]
pub struct Staged {
    /// The target.
    pub path: FilePath,
    /// The temp file's name in the target's directory.
    pub temp: String,
    /// What it holds.
    pub record: Record,
    /// Whether a file (or link) was at the target when it was staged.
    pub replaces: bool,
}

/// The agent's only way to touch the disk. See the [module docs](self).
#[derive(Debug)]
pub struct RootWriter {
    root: Arc<Dir>,
    ignore: Ignore,
    check_collisions: bool,
    /// During a batch of writes ([`begin_batch`](Self::begin_batch)): the
    /// portable keys of the names in each directory listed for the collision
    /// check, so a hydration lists each directory once instead of once per
    /// new file. Outside a batch every check lists the directory afresh.
    listings: Mutex<Option<HashMap<String, HashMap<PortableKey, String>>>>,
    /// During a batch: directory handles already walked, by path.
    dirs: Mutex<Option<HashMap<String, Arc<Dir>>>>,
    /// Set once the file system refused `O_TMPFILE`, or linking one by any
    /// route: new files then go straight to temp names.
    no_tmpfile: AtomicBool,
    /// Set once linking by descriptor (`AT_EMPTY_PATH`, which needs
    /// `CAP_DAC_READ_SEARCH` on older kernels) was refused: new files are
    /// then linked by their `/proc/self/fd` name straight away.
    link_by_proc: AtomicBool,
}

static TEMP_COUNTER: AtomicU64 = AtomicU64::new(0);

impl RootWriter {
    /// Opens (creating it when missing) the root directory.
    ///
    /// # Errors
    /// [`AgentError::Io`] when it cannot be created or opened.
    pub fn open(root: &Path, ignore: Ignore) -> Result<Self, AgentError> {
        std::fs::create_dir_all(root)
            .map_err(|e| AgentError::io("create root", root.display().to_string(), e))?;
        let root = Dir::open_ambient_dir(root, cap_std::ambient_authority())
            .map_err(|e| AgentError::io("open root", root.display().to_string(), e))?;
        Ok(Self {
            root: Arc::new(root),
            ignore,
            check_collisions: true,
            listings: Mutex::new(None),
            dirs: Mutex::new(None),
            no_tmpfile: AtomicBool::new(false),
            link_by_proc: AtomicBool::new(false),
        })
    }

    /// Turns the portable-key collision check off (it reads the target's
    /// directory before creating a new name there).
    #[must_use]
    pub fn without_collision_check(mut self) -> Self {
        self.check_collisions = false;
        self
    }

    /// Starts a batch of writes: directory listings for the collision check
    /// are kept until [`end_batch`](Self::end_batch).
    pub fn begin_batch(&self) {
        if let Ok(mut listings) = self.listings.lock() {
            *listings = Some(HashMap::new());
        }
        if let Ok(mut dirs) = self.dirs.lock() {
            *dirs = Some(HashMap::new());
        }
    }

    /// Whether a batch of writes is under way.
    pub fn in_batch(&self) -> bool {
        self.dirs.lock().is_ok_and(|dirs| dirs.is_some())
    }

    /// Ends a batch of writes: the kept listings are dropped, so local
    /// changes made after it are seen.
    pub fn end_batch(&self) {
        if let Ok(mut listings) = self.listings.lock() {
            *listings = None;
        }
        if let Ok(mut dirs) = self.dirs.lock() {
            *dirs = None;
        }
    }

    /// The root's handle.
    pub fn root(&self) -> &Dir {
        &self.root
    }

    /// The ignore rules.
    pub fn ignore(&self) -> &Ignore {
        &self.ignore
    }

    /// Refuses paths the agent does not own.
    ///
    /// # Errors
    /// [`AgentError::Ignored`] with the rule.
    pub fn owned(&self, path: &FilePath) -> Result<(), AgentError> {
        match self.ignore.rule_for(path) {
            Some(rule) => Err(AgentError::Ignored {
                path: path.to_string(),
                rule,
            }),
            None => Ok(()),
        }
    }

    /// Parses `path` strictly and writes it: for callers holding raw text
    /// (an orchestrator, a test of hostile input).
    ///
    /// # Errors
    /// [`AgentError::Path`] for a path that is not a strict project path,
    /// else as [`write`](Self::write).
    pub fn write_str(
        &self,
        path: &str,
        bytes: &[u8],
        executable: bool,
    ) -> Result<Record, AgentError> {
        let path = FilePath::parse(path)?;
        self.write(&path, bytes, executable, true)
    }

    /// Writes `bytes` at `path` atomically (see the module docs).
    ///
    /// # Errors
    /// [`AgentError`] for an ignored path, a raced or colliding name, or IO.
    pub fn write(
        &self,
        path: &FilePath,
        bytes: &[u8],
        executable: bool,
        sync: bool,
    ) -> Result<Record, AgentError> {
        self.write_hashed(path, bytes, ContentHash::of(bytes), executable, sync)
    }

    /// [`write`](Self::write) of `bytes` whose hash the caller already
    /// knows (see [`stage_hashed`](Self::stage_hashed)).
    ///
    /// A new name (nothing at `path`) is written as an unnamed file
    /// (`O_TMPFILE`) and linked into place once complete: one directory
    /// entry instead of a temp name and a rename, and nothing for a crash
    /// to leave behind. Where that is not available, or the name appeared
    /// meanwhile, it is a temp file and a rename, as for a replacement.
    ///
    /// # Errors
    /// As [`write`](Self::write).
    pub fn write_hashed(
        &self,
        path: &FilePath,
        bytes: &[u8],
        hash: ContentHash,
        executable: bool,
        sync: bool,
    ) -> Result<Record, AgentError> {
        self.owned(path)?;
        let dir = self.parent(path, true)?;
        // In a batch (a hydration), no look first: linking fails on any name
        // already there (a file, a directory, a link) and the replacement
        // below handles it, and the collision check reads the kept listing.
        // Outside one, a look is cheaper than listing the directory.
        let vacant = self.in_batch() || matches!(stat_leaf(&dir, path.file_name()), Ok(None));
        if vacant && !self.no_tmpfile.load(Ordering::Relaxed) {
            if self.check_collisions {
                self.collision(&dir, path)?;
            }
            let record = Record {
                hash,
                stamp: Stamp::default(),
                executable,
            };
            if let Some(record) = self.link_new(&dir, path, bytes, record, sync)? {
                return Ok(record);
            }
        }
        let staged = self.stage_hashed(path, bytes, hash, executable, sync)?;
        self.commit(&staged, sync)?;
        Ok(staged.record)
    }

    /// Writes the temp file for `path` (first half of [`write`](Self::write)).
    ///
    /// # Errors
    /// As [`write`](Self::write).
    pub fn stage(
        &self,
        path: &FilePath,
        bytes: &[u8],
        executable: bool,
        sync: bool,
    ) -> Result<Staged, AgentError> {
        self.stage_hashed(path, bytes, ContentHash::of(bytes), executable, sync)
    }

    /// [`stage`](Self::stage) of `bytes` whose hash the caller already
    /// knows (content verified when it arrived), so it is not hashed again.
    /// `hash` is what the record says; a wrong one only makes drift repair
    /// rewrite the file later.
    ///
    /// # Errors
    /// As [`write`](Self::write).
    pub fn stage_hashed(
        &self,
        path: &FilePath,
        bytes: &[u8],
        hash: ContentHash,
        executable: bool,
        sync: bool,
    ) -> Result<Staged, AgentError> {
        self.owned(path)?;
        let dir = self.parent(path, true)?;
        let name = path.file_name();
        let replaces = match stat_leaf(&dir, name) {
            Ok(Some(rustix::fs::FileType::Directory)) => {
                // The manifest has a file where a directory is: replace it.
                self.forget_dirs();
                dir.remove_dir_all(name)
                    .map_err(|e| AgentError::io("remove directory", path.as_str(), e))?;
                true
            }
            Ok(Some(_)) => true,
            Ok(None) => {
                if self.check_collisions {
                    self.collision(&dir, path)?;
                }
                false
            }
            Err(e) => return Err(AgentError::io("inspect", path.as_str(), e)),
        };
        let temp = temp_name(name);
        let mut file = create_leaf(&dir, &temp)
            .map_err(|e| AgentError::io("create temp file", path.as_str(), e))?;
        let meta = match fill(&mut file, bytes, executable, sync) {
            Ok(meta) => meta,
            Err(e) => {
                let _ = dir.remove_file(&temp);
                return Err(AgentError::io("write", path.as_str(), e));
            }
        };
        Ok(Staged {
            path: path.clone(),
            temp,
            record: Record {
                hash,
                stamp: std_stamp_of(&meta),
                executable,
            },
            replaces,
        })
    }

    /// Renames a staged temp file over its target (second half of
    /// [`write`](Self::write)).
    ///
    /// # Errors
    /// [`AgentError::Io`] when the rename fails (the temp file is removed).
    pub fn commit(&self, staged: &Staged, sync: bool) -> Result<(), AgentError> {
        self.rename_temp(&staged.path, &staged.temp, sync)
    }

    /// Renames temp file `temp` in `path`'s directory over `path`; used by
    /// [`commit`](Self::commit) and by journal recovery. A temp file that is
    /// gone (renamed before a crash) is not an error.
    ///
    /// # Errors
    /// [`AgentError::Io`] when the rename fails.
    pub fn rename_temp(&self, path: &FilePath, temp: &str, sync: bool) -> Result<(), AgentError> {
        let dir = self.parent(path, true)?;
        match rename_leaf(&dir, temp, path.file_name()) {
            Ok(()) => {}
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(()),
            Err(e) => {
                let _ = dir.remove_file(temp);
                return Err(AgentError::io("rename", path.as_str(), e));
            }
        }
        if sync {
            sync_dir(&dir).map_err(|e| AgentError::io("sync directory", path.as_str(), e))?;
        }
        Ok(())
    }

    /// Creates the directory `path` (and its parents).
    ///
    /// # Errors
    /// As [`write`](Self::write).
    pub fn create_dir(&self, path: &FilePath) -> Result<(), AgentError> {
        self.owned(path)?;
        let dir = self.parent(path, true)?;
        enter(&dir, path.file_name(), path.as_str(), true).map(|_| ())
    }

    /// Removes the file, link or directory tree at `path`; false when there
    /// was nothing. Never follows a link.
    ///
    /// # Errors
    /// [`AgentError::Io`], or an ignored path.
    pub fn remove(&self, path: &FilePath) -> Result<bool, AgentError> {
        self.owned(path)?;
        let Some(dir) = self.existing_parent(path)? else {
            return Ok(false);
        };
        let name = path.file_name();
        let result = match dir.symlink_metadata(name) {
            Ok(meta) if meta.is_dir() => {
                self.forget_dirs();
                dir.remove_dir_all(name)
            }
            Ok(_) => dir.remove_file(name),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(false),
            Err(e) => Err(e),
        };
        result.map_err(|e| AgentError::io("remove", path.as_str(), e))?;
        Ok(true)
    }

    /// Removes the directory `path` if it is empty; false otherwise.
    ///
    /// # Errors
    /// Never for a non-empty or missing directory; [`AgentError`] for an
    /// ignored path.
    pub fn remove_empty_dir(&self, path: &FilePath) -> Result<bool, AgentError> {
        self.owned(path)?;
        let Some(dir) = self.existing_parent(path)? else {
            return Ok(false);
        };
        match dir.symlink_metadata(path.file_name()) {
            Ok(meta) if meta.is_dir() => {
                self.forget_dirs();
                Ok(dir.remove_dir(path.file_name()).is_ok())
            }
            _ => Ok(false),
        }
    }

    /// The size and mtime of the regular file at `path`, if there is one.
    ///
    /// # Errors
    /// [`AgentError::Io`] for errors other than "not there".
    pub fn stamp(&self, path: &FilePath) -> Result<Option<Stamp>, AgentError> {
        let Some(dir) = self.existing_parent(path)? else {
            return Ok(None);
        };
        stamp_in(&dir, path)
    }

    /// A [`Stamper`]: the stamps of many files in one pass.
    pub fn stamper(&self) -> Stamper<'_> {
        Stamper {
            writer: self,
            parent: None,
        }
    }

    /// Whether `path` is a real directory (not a link).
    pub fn is_dir(&self, path: &FilePath) -> bool {
        self.existing_parent(path)
            .ok()
            .flatten()
            .is_some_and(|dir| {
                dir.symlink_metadata(path.file_name())
                    .is_ok_and(|m| m.is_dir())
            })
    }

    /// The content, mode and stamp of the regular file at `path`, if there
    /// is one (a link is not followed: it reads as absent).
    ///
    /// # Errors
    /// [`AgentError::Io`] for errors other than "not there".
    pub fn read(&self, path: &FilePath) -> Result<Option<(Vec<u8>, bool, Stamp)>, AgentError> {
        let Some(dir) = self.existing_parent(path)? else {
            return Ok(None);
        };
        let mut options = OpenOptions::new();
        options.read(true);
        options.follow(FollowSymlinks::No);
        let mut file = match dir.open_with(path.file_name(), &options) {
            Ok(file) => file,
            Err(e)
                if matches!(
                    e.kind(),
                    std::io::ErrorKind::NotFound | std::io::ErrorKind::IsADirectory
                ) || is_link_error(&e) =>
            {
                return Ok(None);
            }
            Err(e) => return Err(AgentError::io("open", path.as_str(), e)),
        };
        let meta = file
            .metadata()
            .map_err(|e| AgentError::io("inspect", path.as_str(), e))?;
        if !meta.is_file() {
            return Ok(None);
        }
        let mut bytes = Vec::with_capacity(usize::try_from(meta.len()).unwrap_or(0));
        file.read_to_end(&mut bytes)
            .map_err(|e| AgentError::io("read", path.as_str(), e))?;
        let executable = meta.permissions().mode() & 0o111 != 0;
        Ok(Some((bytes, executable, stamp_of(&meta))))
    }

    /// Every regular file, link and directory under the root that is not
    /// ignored, as relative paths (`/`-separated; names that are not valid
    /// UTF-8 are skipped), directories marked with a trailing `/`.
    pub fn list(&self) -> Vec<String> {
        let mut out = Vec::new();
        self.list_into(&self.root, "", &mut out);
        out
    }

    fn list_into(&self, dir: &Dir, prefix: &str, out: &mut Vec<String>) {
        let Ok(entries) = dir.entries() else {
            return;
        };
        for entry in entries.flatten() {
            let Ok(name) = entry.file_name().into_string() else {
                continue;
            };
            let path = format!("{prefix}{name}");
            if self.ignore.rule_for_str(&path).is_some() {
                continue;
            }
            let is_dir = entry.file_type().is_ok_and(|t| t.is_dir());
            if is_dir {
                out.push(format!("{path}/"));
                if let Ok(sub) = dir.open_dir_nofollow(&name) {
                    self.list_into(&sub, &format!("{path}/"), out);
                }
            } else {
                out.push(path);
            }
        }
    }

    /// Refuses a new name whose portable key matches another name already in
    /// its directory (`dir`, listed once per batch).
    fn collision(&self, dir: &Dir, path: &FilePath) -> Result<(), AgentError> {
        let name = path.file_name();
        let Ok(wanted) = FilePath::parse(name).map(|p| p.portable_key()) else {
            return Ok(());
        };
        let parent = path.parent().map(|p| p.to_string()).unwrap_or_default();
        let Ok(mut listings) = self.listings.lock() else {
            return Ok(());
        };
        let mut fresh;
        let names = match listings.as_mut() {
            Some(kept) => kept.entry(parent).or_insert_with(|| list_keys(dir)),
            None => {
                fresh = list_keys(dir);
                &mut fresh
            }
        };
        match names.get(&wanted) {
            Some(existing) if existing != name => Err(AgentError::Collision {
                path: path.to_string(),
                existing: existing.clone(),
            }),
            _ => {
                names.insert(wanted, name.to_owned());
                Ok(())
            }
        }
    }

    /// The directory holding `path`, created when `create` (replacing files
    /// and links on the way with directories). During a batch, handles of
    /// directories already walked are reused.
    fn parent(&self, path: &FilePath, create: bool) -> Result<Arc<Dir>, AgentError> {
        self.walk(path, |dir, segment, shown| {
            enter(dir, segment, shown, create).map(Some)
        })
        .map(|dir| dir.unwrap_or_else(|| Arc::clone(&self.root)))
    }

    /// The directory holding `path` if every segment on the way is a real
    /// directory; `None` otherwise (a link on the way means "not there").
    fn existing_parent(&self, path: &FilePath) -> Result<Option<Arc<Dir>>, AgentError> {
        self.walk(path, |dir, segment, _| {
            Ok(dir.open_dir_nofollow(segment).ok())
        })
    }

    /// Walks the directories above `path` with `step` (which opens one
    /// segment, or says it is not there), starting from the deepest one
    /// kept in this batch.
    fn walk(
        &self,
        path: &FilePath,
        mut step: impl FnMut(&Dir, &str, &str) -> Result<Option<Dir>, AgentError>,
    ) -> Result<Option<Arc<Dir>>, AgentError> {
        let segments: Vec<&str> = path.segments().collect();
        let Some((_, parents)) = segments.split_last() else {
            return Ok(Some(Arc::clone(&self.root)));
        };
        let mut cache = self.dirs.lock().ok();
        let mut dir = Arc::clone(&self.root);
        let mut start = 0;
        if let Some(Some(kept)) = cache.as_deref() {
            for depth in (1..=parents.len()).rev() {
                if let Some(found) = kept.get(&parents[..depth].join("/")) {
                    dir = Arc::clone(found);
                    start = depth;
                    break;
                }
            }
        }
        for depth in start..parents.len() {
            let shown = parents[..=depth].join("/");
            let Some(next) = step(&dir, parents[depth], &shown)? else {
                return Ok(None);
            };
            dir = Arc::new(next);
            if let Some(Some(kept)) = cache.as_deref_mut() {
                kept.insert(shown, Arc::clone(&dir));
            }
        }
        Ok(Some(dir))
    }

    /// Forgets the directory handles kept in this batch (a directory was
    /// removed or replaced, so a kept handle may name a deleted one).
    fn forget_dirs(&self) {
        if let Ok(mut dirs) = self.dirs.lock()
            && let Some(kept) = dirs.as_mut()
        {
            kept.clear();
        }
    }
}

/// Reads the stamps of many files in one pass (drift repair's check of every
/// file), opening each parent directory once instead of walking it again
/// for each file. The handle is kept for this pass only and used only to
/// read: writes still walk the directories afresh, so a directory moved out
/// of the root meanwhile is never written through.
#[derive(Debug)]
pub struct Stamper<'a> {
    writer: &'a RootWriter,
    /// The last parent opened (`""` is the root) and its handle, `None`
    /// when it is not a real directory.
    parent: Option<(String, Option<Arc<Dir>>)>,
}

impl Stamper<'_> {
    /// As [`RootWriter::stamp`]; consecutive files of one directory share
    /// its handle.
    ///
    /// # Errors
    /// [`AgentError::Io`] for errors other than "not there".
    pub fn stamp(&mut self, path: &FilePath) -> Result<Option<Stamp>, AgentError> {
        let parent = path.as_str().rsplit_once('/').map_or("", |(dir, _)| dir);
        let kept = match &self.parent {
            Some((name, dir)) if name == parent => dir.clone(),
            _ => {
                let dir = self.writer.existing_parent(path)?;
                self.parent = Some((parent.to_owned(), dir.clone()));
                dir
            }
        };
        match kept {
            Some(dir) => stamp_in(&dir, path),
            None => Ok(None),
        }
    }
}

/// The stamp of the regular file `path` names in `dir`, its parent.
fn stamp_in(dir: &Dir, path: &FilePath) -> Result<Option<Stamp>, AgentError> {
    let flags = rustix::fs::AtFlags::SYMLINK_NOFOLLOW;
    let name = leaf(path.file_name()).map_err(|e| AgentError::io("inspect", path.as_str(), e))?;
    match rustix::fs::statat(dir, name, flags) {
        Ok(stat) if rustix::fs::FileType::from_raw_mode(stat.st_mode).is_file() => {
            let secs = u64::try_from(stat.st_mtime).unwrap_or(0);
            #[allow(clippy::unnecessary_cast)] // u64 here, i64 on other targets
            let nanos = stat.st_mtime_nsec as u64;
            Ok(Some(Stamp {
                size: u64::try_from(stat.st_size).unwrap_or(0),
                mtime_ns: secs.saturating_mul(1_000_000_000).saturating_add(nanos),
            }))
        }
        Ok(_) | Err(rustix::io::Errno::NOENT) => Ok(None),
        Err(e) => Err(AgentError::io("inspect", path.as_str(), e.into())),
    }
}

/// Opens `name` in `dir` as a directory without following links; with
/// `create`, a missing name becomes a directory and a file or link there is
/// replaced by one.
fn enter(dir: &Dir, name: &str, shown: &str, create: bool) -> Result<Dir, AgentError> {
    match dir.symlink_metadata(name) {
        Ok(meta) if meta.is_dir() => {}
        Ok(_) if create => {
            // A file or a symlink where the manifest has a directory: the
            // entry itself goes (never what a link points at).
            dir.remove_file(name)
                .map_err(|e| AgentError::io("replace with a directory", shown, e))?;
            make_dir(dir, name, shown)?;
        }
        Err(e) if e.kind() == std::io::ErrorKind::NotFound && create => {
            make_dir(dir, name, shown)?;
        }
        Ok(_) => {
            return Err(AgentError::io(
                "open directory",
                shown,
                std::io::Error::from(std::io::ErrorKind::NotADirectory),
            ));
        }
        Err(e) => return Err(AgentError::io("open directory", shown, e)),
    }
    dir.open_dir_nofollow(name).map_err(|e| {
        if is_link_error(&e) || e.kind() == std::io::ErrorKind::NotADirectory {
            AgentError::Raced {
                path: shown.to_owned(),
            }
        } else {
            AgentError::io("open directory", shown, e)
        }
    })
}

fn make_dir(dir: &Dir, name: &str, shown: &str) -> Result<(), AgentError> {
    match dir.create_dir(name) {
        Ok(()) => Ok(()),
        Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => Ok(()),
        Err(e) => Err(AgentError::io("create directory", shown, e)),
    }
}

/// `ELOOP` (or cap-std's refusal) from opening a symlink without following it.
fn is_link_error(error: &std::io::Error) -> bool {
    const ELOOP: i32 = 40;
    const EMLINK: i32 = 31;
    matches!(error.raw_os_error(), Some(ELOOP | EMLINK))
        || error.to_string().contains("symlink")
        || error.kind() == std::io::ErrorKind::PermissionDenied
}

/// The portable keys of the names in `dir` (temp files and names that are
/// not project paths aside).
fn list_keys(dir: &Dir) -> HashMap<PortableKey, String> {
    let mut keys = HashMap::new();
    let Ok(entries) = dir.entries() else {
        return keys;
    };
    for entry in entries.flatten() {
        let Ok(name) = entry.file_name().into_string() else {
            continue;
        };
        if name.starts_with(TEMP_PREFIX) {
            continue;
        }
        if let Ok(path) = FilePath::parse(&name) {
            keys.insert(path.portable_key(), name);
        }
    }
    keys
}

// The per-file hot path uses `openat`-style calls on the directory handle
// directly (rustix): each takes one name inside that directory, which
// cannot leave it — `FilePath` segments hold no `/` and are never `.` or
// `..` (checked again here) — and none follows a symlink at that name.

/// Refuses anything but one plain name.
fn leaf(name: &str) -> std::io::Result<&str> {
    if name.is_empty() || name == "." || name == ".." || name.contains(['/', '\0']) {
        return Err(std::io::Error::new(
            std::io::ErrorKind::InvalidInput,
            format!("{name:?} is not one name inside a directory"),
        ));
    }
    Ok(name)
}

/// The type of `name` in `dir` without following a link; `None` if absent.
fn stat_leaf(dir: &Dir, name: &str) -> std::io::Result<Option<rustix::fs::FileType>> {
    match rustix::fs::statat(dir, leaf(name)?, rustix::fs::AtFlags::SYMLINK_NOFOLLOW) {
        Ok(stat) => Ok(Some(rustix::fs::FileType::from_raw_mode(stat.st_mode))),
        Err(rustix::io::Errno::NOENT) => Ok(None),
        Err(e) => Err(e.into()),
    }
}

/// Creates `name` in `dir` exclusively (never through an existing name or
/// link), mode 0644 (no execute bit whatever the umask).
fn create_leaf(dir: &Dir, name: &str) -> std::io::Result<std::fs::File> {
    use rustix::fs::{Mode, OFlags};
    let flags = OFlags::WRONLY | OFlags::CREATE | OFlags::EXCL | OFlags::NOFOLLOW | OFlags::CLOEXEC;
    let fd = rustix::fs::openat(dir, leaf(name)?, flags, Mode::from_raw_mode(0o644))?;
    Ok(std::fs::File::from(fd))
}

/// Writes `bytes` into a new `file`, sets its mode (0755 when `executable`,
/// else as created), flushes it when `sync`, and returns what it then is.
fn fill(
    file: &mut std::fs::File,
    bytes: &[u8],
    executable: bool,
    sync: bool,
) -> std::io::Result<std::fs::Metadata> {
    file.write_all(bytes)?;
    if executable {
        file.set_permissions(std::fs::Permissions::from_mode(0o755))?;
    }
    if sync {
        file.sync_all()?;
    }
    file.metadata()
}

impl RootWriter {
    /// Writes `bytes` as an unnamed file in `dir` and links it as `path`'s
    /// name, which must be vacant: the name appears with the whole content
    /// or not at all (and, with `sync`, durably: file and directory
    /// flushed). `None` when this cannot be done here (no `O_TMPFILE`, no
    /// way to link it, the name taken meanwhile, or an error the temp-file
    /// path will report better): the caller writes a temp file instead.
    fn link_new(
        &self,
        dir: &Dir,
        path: &FilePath,
        bytes: &[u8],
        record: Record,
        sync: bool,
    ) -> Result<Option<Record>, AgentError> {
        use rustix::fs::{AtFlags, Mode, OFlags};
        use rustix::io::Errno;
        let name =
            leaf(path.file_name()).map_err(|e| AgentError::io("create", path.as_str(), e))?;
        let flags = OFlags::WRONLY | OFlags::TMPFILE | OFlags::CLOEXEC;
        let fd = match rustix::fs::openat(dir, ".", flags, Mode::from_raw_mode(0o644)) {
            Ok(fd) => fd,
            // What a kernel or file system without O_TMPFILE answers.
            Err(Errno::OPNOTSUPP | Errno::ISDIR | Errno::INVAL) => {
                self.no_tmpfile.store(true, Ordering::Relaxed);
                return Ok(None);
            }
            // Anything else (no space, no permission, a directory gone) is
            // this write's trouble, for the temp-file path to report.
            Err(_) => return Ok(None),
        };
        let mut file = std::fs::File::from(fd);
        let meta = fill(&mut file, bytes, record.executable, sync)
            .map_err(|e| AgentError::io("write", path.as_str(), e))?;
        let by_descriptor = if self.link_by_proc.load(Ordering::Relaxed) {
            Err(Errno::NOENT)
        } else {
            rustix::fs::linkat(&file, "", dir, name, AtFlags::EMPTY_PATH)
        };
        let linked = match by_descriptor {
            // Refused for want of CAP_DAC_READ_SEARCH (ENOENT), or not
            // allowed here: the descriptor's /proc name needs neither.
            Err(Errno::NOENT | Errno::PERM) => {
                self.link_by_proc.store(true, Ordering::Relaxed);
                let by_proc = format!("/proc/self/fd/{}", std::os::fd::AsRawFd::as_raw_fd(&file));
                let linked = rustix::fs::linkat(
                    rustix::fs::CWD,
                    by_proc.as_str(),
                    dir,
                    name,
                    AtFlags::SYMLINK_FOLLOW,
                );
                // No way to link an unnamed file here: the file system
                // refuses links (EPERM), or there is no /proc. (EACCES is
                // this directory's permissions, for the temp-file path too.)
                if matches!(linked, Err(Errno::PERM))
                    || (matches!(linked, Err(Errno::NOENT)) && !Path::new("/proc/self/fd").exists())
                {
                    self.no_tmpfile.store(true, Ordering::Relaxed);
                }
                linked
            }
            other => other,
        };
        match linked {
            Ok(()) => {
                if sync {
                    sync_dir(dir)
                        .map_err(|e| AgentError::io("sync directory", path.as_str(), e))?;
                }
                Ok(Some(Record {
                    stamp: std_stamp_of(&meta),
                    ..record
                }))
            }
            // Taken meanwhile, or an error the temp-file path will report.
            Err(_) => Ok(None),
        }
    }
}

/// Renames `from` over `to`, both in `dir` (a link at `to` is replaced,
/// not followed).
fn rename_leaf(dir: &Dir, from: &str, to: &str) -> std::io::Result<()> {
    rustix::fs::renameat(dir, leaf(from)?, dir, leaf(to)?)?;
    Ok(())
}

fn std_stamp_of(meta: &std::fs::Metadata) -> Stamp {
    let mtime_ns = meta
        .modified()
        .ok()
        .and_then(|t| t.duration_since(std::time::UNIX_EPOCH).ok())
        .map_or(0, |d| u64::try_from(d.as_nanos()).unwrap_or(u64::MAX));
    Stamp {
        size: meta.len(),
        mtime_ns,
    }
}

fn temp_name(name: &str) -> String {
    let n = TEMP_COUNTER.fetch_add(1, Ordering::Relaxed);
    let mut temp = format!("{TEMP_PREFIX}{}.{n}.", std::process::id());
    // Keep the name under 255 bytes, cutting at a character boundary.
    let room = 255usize.saturating_sub(temp.len());
    let mut cut = name.len().min(room);
    while !name.is_char_boundary(cut) {
        cut -= 1;
    }
    temp.push_str(&name[..cut]);
    temp
}

fn stamp_of(meta: &cap_std::fs::Metadata) -> Stamp {
    let mtime_ns = meta
        .modified()
        .ok()
        .and_then(|t| t.into_std().duration_since(std::time::UNIX_EPOCH).ok())
        .map_or(0, |d| u64::try_from(d.as_nanos()).unwrap_or(u64::MAX));
    Stamp {
        size: meta.len(),
        mtime_ns,
    }
}

/// `fsync` of a directory, so a rename in it survives a power loss.
/// (A directory handle is an `O_PATH` descriptor, which cannot be flushed;
/// the directory is opened again for reading.)
pub fn sync_dir(dir: &Dir) -> std::io::Result<()> {
    dir.open(".")?.sync_all()
}
