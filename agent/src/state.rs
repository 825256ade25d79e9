//! [`StateDir`]: the agent's own small files — `state.json` (where it stands)
//! and `journal.json` (a multi-file change under way).
//!
//! By default the state directory is `.velocity-sync/` inside the root (an
//! ignored path, so it is never synced or reported as drift); `--state DIR`
//! puts it elsewhere. Both files are written atomically (temp, fsync, rename,
//! fsync of the directory).

use std::collections::BTreeMap;
use std::io::{Read, Write};
use std::path::Path;

use cap_fs_ext::{FollowSymlinks, OpenOptionsFollowExt};
use cap_std::fs::{Dir, OpenOptions};
use serde::{Deserialize, Serialize};
use velocity_sync::{FileId, Manifest};

use super::error::AgentError;
use super::writer::{Record, sync_dir};

/// The name of the default state directory inside the root.
pub const STATE_DIR_NAME: &str = ".velocity-sync";
const STATE_FILE: &str = "state.json";
const JOURNAL_FILE: &str = "journal.json";
const FORMAT: u32 = 1;

/// Where the agent stands: enough for a restart to resume through the
/// catch-up ladder and to tell unchanged files without hashing them.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct State {
    /// Format version of this file.
    pub format: u32,
    /// The project.
    pub project: String,
    /// The agent's protocol client id, kept across restarts.
    pub client: u64,
    /// The last event applied to disk.
    pub n: u64,
    /// The manifest as the client held it at `n`.
    pub manifest: Manifest,
    /// Text files edited since `manifest`: id and confirmed revision (their
    /// text is the file on disk, checked against `files`).
    pub texts: Vec<(FileId, u64)>,
    /// What the agent last wrote, by path.
    pub files: BTreeMap<String, Record>,
}

/// One multi-file change under way: temp files already written and fsynced,
/// to be renamed over their targets, and paths to remove. Recorded before the
/// first rename, removed after the last, so a crash in between is finished
/// on the next start and every file ends old or new, never torn.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
pub struct Journal {
    /// `(target path, temp name in the target's directory)`.
    pub renames: Vec<(String, String)>,
    /// Paths to remove.
    pub removes: Vec<String>,
    /// Directories to remove when empty, deepest first.
    pub prune: Vec<String>,
}

/// The state directory's handle.
#[derive(Debug)]
pub struct StateDir {
    dir: Dir,
}

impl StateDir {
    /// `.velocity-sync/` inside the root handle (created when missing).
    ///
    /// # Errors
    /// [`AgentError::State`] when it cannot be created or opened.
    pub fn inside(root: &Dir) -> Result<Self, AgentError> {
        let error = |e: std::io::Error| AgentError::State {
            what: "directory",
            message: e.to_string(),
        };
        match root.create_dir(STATE_DIR_NAME) {
            Ok(()) => {}
            Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => {}
            Err(e) => return Err(error(e)),
        }
        let dir = cap_fs_ext::DirExt::open_dir_nofollow(root, STATE_DIR_NAME).map_err(error)?;
        Ok(Self { dir })
    }

    /// A state directory at `path` outside the root.
    ///
    /// # Errors
    /// [`AgentError::State`] when it cannot be created or opened.
    pub fn at(path: &Path) -> Result<Self, AgentError> {
        let error = |e: std::io::Error| AgentError::State {
            what: "directory",
            message: format!("{}: {e}", path.display()),
        };
        std::fs::create_dir_all(path).map_err(error)?;
        let dir = Dir::open_ambient_dir(path, cap_std::ambient_authority()).map_err(error)?;
        Ok(Self { dir })
    }

    /// The saved state, if any and readable. A state that does not parse is
    /// treated as absent (the agent hydrates again, keeping what is on disk).
    pub fn load(&self) -> Option<State> {
        let bytes = self.read(STATE_FILE)?;
        serde_json::from_slice::<State>(&bytes)
            .ok()
            .filter(|s| s.format == FORMAT)
    }

    /// Saves `state` atomically.
    ///
    /// # Errors
    /// [`AgentError::State`] when it cannot be written.
    pub fn save(&self, state: &State) -> Result<(), AgentError> {
        let bytes = serde_json::to_vec(state).map_err(|e| AgentError::State {
            what: STATE_FILE,
            message: e.to_string(),
        })?;
        self.write(STATE_FILE, &bytes)
    }

    /// The journal left by a crash, if any.
    pub fn journal(&self) -> Option<Journal> {
        serde_json::from_slice(&self.read(JOURNAL_FILE)?).ok()
    }

    /// Records `journal` (durably) before its renames start.
    ///
    /// # Errors
    /// [`AgentError::State`] when it cannot be written.
    pub fn begin(&self, journal: &Journal) -> Result<(), AgentError> {
        let bytes = serde_json::to_vec(journal).map_err(|e| AgentError::State {
            what: JOURNAL_FILE,
            message: e.to_string(),
        })?;
        self.write(JOURNAL_FILE, &bytes)
    }

    /// Removes the journal: the change is complete.
    ///
    /// # Errors
    /// [`AgentError::State`] when it cannot be removed.
    pub fn finish(&self) -> Result<(), AgentError> {
        match self.dir.remove_file(JOURNAL_FILE) {
            Ok(()) => {}
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => {}
            Err(e) => {
                return Err(AgentError::State {
                    what: JOURNAL_FILE,
                    message: e.to_string(),
                });
            }
        }
        sync_dir(&self.dir).map_err(|e| AgentError::State {
            what: JOURNAL_FILE,
            message: e.to_string(),
        })
    }

    fn read(&self, name: &str) -> Option<Vec<u8>> {
        let mut options = OpenOptions::new();
        options.read(true);
        options.follow(FollowSymlinks::No);
        let mut file = self.dir.open_with(name, &options).ok()?;
        let mut bytes = Vec::new();
        file.read_to_end(&mut bytes).ok()?;
        Some(bytes)
    }

    fn write(&self, name: &'static str, bytes: &[u8]) -> Result<(), AgentError> {
        let error = |e: std::io::Error| AgentError::State {
            what: name,
            message: e.to_string(),
        };
        let temp = format!("{name}.tmp");
        let mut options = OpenOptions::new();
        options.write(true).create(true).truncate(true);
        options.follow(FollowSymlinks::No);
        let mut file = self.dir.open_with(&temp, &options).map_err(error)?;
        file.write_all(bytes).map_err(error)?;
        file.sync_all().map_err(error)?;
        self.dir.rename(&temp, &self.dir, name).map_err(error)?;
        sync_dir(&self.dir).map_err(error)
    }
}
