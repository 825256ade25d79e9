//! [`Disk`]: turns what the protocol client applied into file system
//! changes, remembers what it wrote, finishes interrupted multi-file changes
//! and repairs drift.

use std::collections::{BTreeMap, BTreeSet, HashMap};

use velocity_sync::{
    Blob, ClientEvent, ContentHash, FileEntry, FileId, FileKind, FilePath, ProjectClient,
};

use super::error::AgentError;
use super::state::{Journal, State, StateDir};
use super::writer::{Record, RootWriter, Staged, Stamp, TEMP_PREFIX};

/// What one [`Disk::apply`] did.
#[derive(Debug, Default)]
pub struct Applied {
    /// Files written.
    pub written: Vec<FilePath>,
    /// Files and directories removed.
    pub removed: Vec<FilePath>,
    /// Paths left alone because the agent does not own them.
    pub ignored: Vec<FilePath>,
    /// Changes that could not be made, with why; the rest was applied.
    pub refused: Vec<(String, AgentError)>,
    /// Whether the change went through the journal.
    pub journaled: bool,
    /// Files left as they were: already what the agent wrote, by their
    /// recorded hash, mode, size and mtime.
    pub unchanged: usize,
}

/// What one [`Disk::repair`] found and did.
#[derive(Debug, Default)]
pub struct DriftReport {
    /// Files that differed from the manifest (changed, missing, wrong mode)
    /// and were put back.
    pub repaired: Vec<String>,
    /// Files the agent had written that the manifest no longer has, removed.
    pub removed: Vec<String>,
    /// Files that are neither in the manifest nor ignored: reported, kept.
    pub untracked: Vec<String>,
    /// Files whose content had to be read and hashed (size or mtime changed
    /// since the agent wrote them, or never written by it).
    pub hashed: usize,
    /// Repairs that failed.
    pub refused: Vec<(String, AgentError)>,
}

impl DriftReport {
    /// Whether nothing differed.
    pub fn is_clean(&self) -> bool {
        self.repaired.is_empty() && self.removed.is_empty() && self.refused.is_empty()
    }
}

/// One planned change at a path.
enum Op {
    Write {
        bytes: Blob,
        /// The hash of `bytes`.
        hash: ContentHash,
        executable: bool,
    },
    Dir,
    /// Remove a file (or a whole directory that became a file elsewhere).
    Remove,
    /// Remove a directory entry if it is empty.
    Prune,
}

/// The agent's disk: a [`RootWriter`], its state directory and the records
/// of what it wrote.
#[derive(Debug)]
pub struct Disk {
    writer: RootWriter,
    state: StateDir,
    records: BTreeMap<String, Record>,
    /// Files found on disk at a start without a state file (a first
    /// hydration cut short): what they hold, so a write of the same content
    /// is skipped. Never used to decide what to remove.
    seen: BTreeMap<String, Record>,
    fsync: bool,
}

impl Disk {
    /// A disk over `writer`, keeping state in `state`. With `fsync`, every
    /// live change is flushed before it is renamed into place (hydration
    /// flushes once, at its end).
    pub fn new(writer: RootWriter, state: StateDir, fsync: bool) -> Self {
        Self {
            writer,
            state,
            records: BTreeMap::new(),
            seen: BTreeMap::new(),
            fsync,
        }
    }

    /// The writer.
    pub fn writer(&self) -> &RootWriter {
        &self.writer
    }

    /// The state directory.
    pub fn state_dir(&self) -> &StateDir {
        &self.state
    }

    /// What the agent last wrote, by path.
    pub fn records(&self) -> &BTreeMap<String, Record> {
        &self.records
    }

    /// Reads every file under the root that is not ignored (at most
    /// `limit`), remembers what each holds (see [`Disk::apply`]'s skip of
    /// unchanged files) and returns the contents, for a client to
    /// [`preload`](ProjectClient::preload): a start without a state file
    /// after a hydration was cut short downloads and writes only the rest.
    pub fn scan(&mut self, limit: usize) -> Vec<Vec<u8>> {
        let mut contents = Vec::new();
        for path in self.writer.list() {
            if contents.len() >= limit {
                break;
            }
            let name = path.rsplit('/').next().unwrap_or(&path);
            if path.ends_with('/') || name.starts_with(TEMP_PREFIX) {
                continue;
            }
            let Ok(file) = FilePath::parse(&path) else {
                continue;
            };
            // Larger than a project file may be: not the project's.
            let max = velocity_sync::ManifestLimits::default().max_file_bytes;
            if matches!(self.writer.stamp(&file), Ok(Some(stamp)) if stamp.size > max) {
                continue;
            }
            if let Ok(Some((bytes, executable, stamp))) = self.writer.read(&file) {
                let record = Record {
                    hash: ContentHash::of(&bytes),
                    stamp,
                    executable,
                };
                self.seen.insert(path, record);
                contents.push(bytes);
            }
        }
        contents
    }

    /// Replaces the records (from a loaded state).
    pub fn set_records(&mut self, records: BTreeMap<String, Record>) {
        self.records = records;
    }

    /// Finishes a multi-file change a crash interrupted (renames what was
    /// staged, removes what was to go), then removes stray temp files.
    /// Returns how many journaled renames were finished.
    ///
    /// # Errors
    /// [`AgentError`] when the journal cannot be completed.
    pub fn recover(&mut self) -> Result<usize, AgentError> {
        let mut finished = 0;
        if let Some(journal) = self.state.journal() {
            for (path, temp) in &journal.renames {
                let path = FilePath::parse(path)?;
                self.writer.rename_temp(&path, temp, true)?;
                finished += 1;
            }
            for path in &journal.removes {
                self.writer.remove(&FilePath::parse(path)?)?;
            }
            for path in &journal.prune {
                self.writer.remove_empty_dir(&FilePath::parse(path)?)?;
            }
            self.state.finish()?;
        }
        for path in self.writer.list() {
            let name = path.rsplit('/').next().unwrap_or(&path);
            if name.starts_with(TEMP_PREFIX)
                && let Ok(path) = FilePath::parse(&path)
            {
                let _ = self.writer.remove(&path);
            }
        }
        Ok(finished)
    }

    /// Writes what `events` (just taken from `client`) changed. A change of
    /// several files that replaces or removes anything goes through the
    /// journal: all temp files first, the intent recorded, then every
    /// rename, then the journal cleared.
    ///
    /// A hydration (the client not synced yet) is one batch of writes from
    /// its first frame to its last, so each directory is walked and listed
    /// once; the drift repair that follows every catch-up works without kept
    /// handles and puts back anything a local change made them miss.
    pub fn apply(&mut self, client: &ProjectClient, events: &[ClientEvent]) -> Applied {
        let synced = client.is_synced();
        if synced || !self.writer.in_batch() {
            self.writer.begin_batch();
        }
        let applied = self.apply_plan(client, events);
        if synced {
            self.writer.end_batch();
        }
        applied
    }

    fn apply_plan(&mut self, client: &ProjectClient, events: &[ClientEvent]) -> Applied {
        let synced = client.is_synced();
        let plan = plan(client, events);
        let mut applied = Applied::default();
        let sync = self.fsync && synced;
        let mut staged: Vec<Staged> = Vec::new();
        let mut dirs = Vec::new();
        let mut removes = Vec::new();
        let mut prunes = Vec::new();
        for (path, op) in plan {
            if self.writer.owned(&path).is_err() {
                applied.ignored.push(path);
                continue;
            }
            match op {
                Op::Write {
                    bytes,
                    hash,
                    executable,
                } => {
                    // Already there as the agent wrote it (a resumed
                    // hydration, a repeated catch-up): not written again.
                    let record = Record {
                        hash,
                        stamp: Stamp::default(),
                        executable,
                    };
                    if self.is_current(&path, &record) {
                        applied.unchanged += 1;
                        continue;
                    }
                    if !synced {
                        // A hydration batch: no journal, so each file goes
                        // into place as soon as it is written.
                        match self
                            .writer
                            .write_hashed(&path, &bytes, hash, executable, false)
                        {
                            Ok(record) => {
                                self.records.insert(path.to_string(), record);
                                applied.written.push(path);
                            }
                            Err(e) => applied.refused.push((path.to_string(), e)),
                        }
                        continue;
                    }
                    match self
                        .writer
                        .stage_hashed(&path, &bytes, hash, executable, sync)
                    {
                        Ok(s) => staged.push(s),
                        Err(e) => applied.refused.push((path.to_string(), e)),
                    }
                }
                Op::Dir => dirs.push(path),
                Op::Remove => removes.push(path),
                Op::Prune => prunes.push(path),
            }
        }
        // Directories that may be left empty: those of removed files and
        // directory entries, deepest first, when the manifest no longer has
        // them.
        let mut prune: BTreeSet<FilePath> = BTreeSet::new();
        if synced {
            for path in removes.iter().chain(&prunes) {
                let mut at = if prunes.contains(path) {
                    Some(path.clone())
                } else {
                    path.parent()
                };
                while let Some(dir) = at {
                    if client.manifest().is_directory(&dir) {
                        break;
                    }
                    at = dir.parent();
                    prune.insert(dir);
                }
            }
        }
        let mut prune: Vec<FilePath> = prune.into_iter().collect();
        prune.sort_by_key(|p| std::cmp::Reverse(p.depth()));
        let replaces = staged.iter().any(|s| s.replaces) || !removes.is_empty();
        let journaled = sync && replaces && staged.len() + removes.len() > 1;
        if journaled {
            let journal = Journal {
                renames: staged
                    .iter()
                    .map(|s| (s.path.to_string(), s.temp.clone()))
                    .collect(),
                removes: removes.iter().map(ToString::to_string).collect(),
                prune: prune.iter().map(ToString::to_string).collect(),
            };
            if let Err(e) = self.state.begin(&journal) {
                applied.refused.push(("journal".into(), e));
            }
            applied.journaled = true;
        }
        for dir in dirs {
            match self.writer.create_dir(&dir) {
                Ok(()) => applied.written.push(dir),
                Err(e) => applied.refused.push((dir.to_string(), e)),
            }
        }
        for s in staged {
            match self.writer.commit(&s, sync) {
                Ok(()) => {
                    self.records.insert(s.path.to_string(), s.record);
                    applied.written.push(s.path);
                }
                Err(e) => applied.refused.push((s.path.to_string(), e)),
            }
        }
        for path in removes {
            // A path written again in this change is not removed.
            if applied.written.contains(&path) {
                continue;
            }
            match self.writer.remove(&path) {
                Ok(_) => {
                    self.forget(&path);
                    applied.removed.push(path);
                }
                Err(e) => applied.refused.push((path.to_string(), e)),
            }
        }
        for dir in prune {
            if self.writer.remove_empty_dir(&dir).unwrap_or(false) {
                applied.removed.push(dir);
            }
        }
        if journaled && let Err(e) = self.state.finish() {
            applied.refused.push(("journal".into(), e));
        }
        applied
    }

    /// Flushes everything written to the file system (`syncfs`): the end of
    /// a hydration, whose files were renamed into place without a flush each.
    ///
    /// # Errors
    /// [`AgentError::Io`] when the flush fails.
    pub fn flush(&self) -> Result<(), AgentError> {
        let root = self
            .writer
            .root()
            .open(".")
            .map_err(|e| AgentError::io("open root", "", e))?;
        rustix::fs::syncfs(&root).map_err(|e| AgentError::io("syncfs", "", std::io::Error::from(e)))
    }

    /// Compares the disk with `client`'s manifest and puts back what differs
    /// (one-way replica: the server is the truth). Files are read and hashed
    /// only when their size or mtime changed since the agent wrote them.
    pub fn repair(&mut self, client: &ProjectClient) -> DriftReport {
        let mut report = DriftReport::default();
        if !client.is_synced() {
            return report;
        }

        // The walk for untracked files (a directory listing, read-only) runs
        // on a thread of its own beside the stamps below.
        let writer = &self.writer;
        std::thread::scope(|scope| {
            let listing = scope.spawn(|| writer.list());
            let manifest = client.manifest();
            let live: HashMap<FileId, u64> = client.text_revisions().into_iter().collect();
            let mut wanted: BTreeSet<String> = BTreeSet::new();
            // First only the stamps, one parent handle per directory: a file
            // still as the agent wrote it is neither read nor copied.
            let mut suspects = Vec::new();
            let mut stamper = self.writer.stamper();
            for entry in manifest.entries() {
                wanted.insert(entry.path.to_string());
                if self.writer.owned(&entry.path).is_err() {
                    continue;
                }
                if entry.kind == FileKind::Directory {
                    if !self.writer.is_dir(&entry.path) {
                        match self.writer.create_dir(&entry.path) {
                            Ok(()) => report.repaired.push(entry.path.to_string()),
                            Err(e) => report.refused.push((entry.path.to_string(), e)),
                        }
                    }
                    continue;
                }
                let Some(desired) = Wanted::of(client, &entry, &live) else {
                    continue;
                };
                let current = self.records.get(entry.path.as_str()).is_some_and(|record| {
                    record.hash == desired.hash
                        && record.executable == entry.executable
                        && matches!(stamper.stamp(&entry.path), Ok(Some(stamp)) if stamp == record.stamp)
                });
                if !current {
                    suspects.push((entry, desired));
                }
            }
            drop(stamper);
            for (entry, desired) in suspects {
                report.hashed += 1;
                if let Ok(Some((disk, executable, stamp))) = self.writer.read(&entry.path)
                    && executable == entry.executable
                    && ContentHash::of(&disk) == desired.hash
                {
                    let record = Record {
                        hash: desired.hash,
                        stamp,
                        executable,
                    };
                    self.records.insert(entry.path.to_string(), record);
                    continue;
                }
                match self
                    .writer
                    .write(&entry.path, &desired.bytes, entry.executable, self.fsync)
                {
                    Ok(record) => {
                        self.records.insert(entry.path.to_string(), record);
                        report.repaired.push(entry.path.to_string());
                    }
                    Err(e) => report.refused.push((entry.path.to_string(), e)),
                }
            }
            let gone: Vec<String> = self
                .records
                .keys()
                .filter(|p| !wanted.contains(*p))
                .cloned()
                .collect();
            for path in gone {
                self.records.remove(&path);
                if let Ok(path) = FilePath::parse(&path)
                    && self.writer.remove(&path).unwrap_or(false)
                {
                    report.removed.push(path.to_string());
                }
            }
            // Taken while the above ran: what was removed since is not untracked.
            let listed = listing.join().unwrap_or_default();
            for path in listed {
                if path.ends_with('/') {
                    continue;
                }
                let name = path.rsplit('/').next().unwrap_or(&path);
                if name.starts_with(TEMP_PREFIX)
                    || wanted.contains(&path)
                    || report.removed.contains(&path)
                {
                    continue;
                }
                report.untracked.push(path);
            }
        });
        report
    }

    /// Whether `path` holds, by its stamp, what the agent recorded writing,
    /// with `wanted`'s hash and mode.
    fn is_current(&self, path: &FilePath, wanted: &Record) -> bool {
        let known = self.records.get(path.as_str());
        let Some(record) = known.or_else(|| self.seen.get(path.as_str())) else {
            return false;
        };
        record.hash == wanted.hash
            && record.executable == wanted.executable
            && matches!(self.writer.stamp(path), Ok(Some(stamp)) if stamp == record.stamp)
    }

    fn forget(&mut self, path: &FilePath) {
        let prefix = format!("{path}/");
        self.records
            .retain(|p, _| p != path.as_str() && !p.starts_with(&prefix));
    }

    /// The state to save for `client` (only meaningful when it is synced).
    pub fn state_of(&self, project: &str, client: &ProjectClient) -> State {
        State {
            format: 1,
            project: project.to_owned(),
            client: client.id(),
            n: client.event_number(),
            manifest: client.manifest().clone(),
            texts: client.text_revisions(),
            files: self.records.clone(),
        }
    }
}

/// The content a file of the manifest should have: the live text for a text
/// file edited since the manifest, else the manifest's blob (shared, not
/// copied).
struct Wanted {
    bytes: Blob,
    hash: ContentHash,
}

impl Wanted {
    fn of(client: &ProjectClient, entry: &FileEntry, live: &HashMap<FileId, u64>) -> Option<Self> {
        match entry.id {
            Some(id) if live.contains_key(&id) => {
                let text = client.content(&id)?;
                Some(Self {
                    hash: ContentHash::of(&text),
                    bytes: Blob::from(text),
                })
            }
            _ => Some(Self {
                bytes: client.blob(&entry.hash)?,
                hash: entry.hash,
            }),
        }
    }
}

/// The changes `events` ask for, one per path (the last wins), in the order
/// they arrived (critical files first during a hydration).
fn plan(client: &ProjectClient, events: &[ClientEvent]) -> Vec<(FilePath, Op)> {
    let mut plan: Vec<(FilePath, Op)> = Vec::new();
    let mut at: HashMap<FilePath, usize> = HashMap::new();
    let mut put = |path: FilePath, op: Op| match at.get(&path) {
        Some(&i) => plan[i].1 = op,
        None => {
            at.insert(path.clone(), plan.len());
            plan.push((path, op));
        }
    };
    let synced = client.is_synced();
    let write_of = |entry: &FileEntry| -> Op {
        if entry.kind == FileKind::Directory {
            return Op::Dir;
        }
        // Once synced, the client's view includes live text edits.
        let live = synced
            .then_some(entry.id)
            .flatten()
            .filter(|id| client.manifest().path_of(id) == Some(&entry.path))
            .and_then(|id| client.content(&id));
        // A stored content was verified against its hash when it arrived:
        // only live text needs hashing here.
        let content: Option<(Blob, ContentHash)> = match live {
            Some(text) => {
                let hash = ContentHash::of(&text);
                Some((Blob::from(text), hash))
            }
            None => client.blob(&entry.hash).map(|bytes| (bytes, entry.hash)),
        };
        match content {
            Some((bytes, hash)) => Op::Write {
                bytes,
                hash,
                executable: entry.executable,
            },
            // Content not held: drift repair will retry once it is.
            None => Op::Prune,
        }
    };
    for event in events {
        match event {
            ClientEvent::Created { entry } | ClientEvent::Replaced { entry } => {
                put(entry.path.clone(), write_of(entry));
            }
            ClientEvent::Renamed { old, new } => {
                let gone = if old.kind == FileKind::Directory {
                    Op::Prune
                } else {
                    Op::Remove
                };
                put(old.path.clone(), gone);
                put(new.path.clone(), write_of(new));
            }
            ClientEvent::Removed { entry } => {
                let gone = if entry.kind == FileKind::Directory {
                    Op::Prune
                } else {
                    Op::Remove
                };
                put(entry.path.clone(), gone);
            }
            ClientEvent::Edited { id, path, .. } => {
                if let Some(bytes) = client.content(id) {
                    let executable = client
                        .manifest()
                        .get_by_id(id)
                        .is_some_and(|e| e.executable);
                    put(
                        path.clone(),
                        Op::Write {
                            hash: ContentHash::of(&bytes),
                            bytes: Blob::from(bytes),
                            executable,
                        },
                    );
                }
            }
            _ => {}
        }
    }
    plan
}
