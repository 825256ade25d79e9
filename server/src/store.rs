//! Where projects persist: the platform's `project_files` rows (brought up
//! to date at checkpoints) plus our ops log of every event since, so that a
//! restarted server loses no acknowledged edit.

use std::path::Path;
use std::time::{SystemTime, UNIX_EPOCH};

use rusqlite::types::{Value as SqlValue, ValueRef};
use rusqlite::{Connection, OptionalExtension, params};
use serde_json::Value;
use uuid::Uuid;
use velocity_sync::foreign::ForeignWrite;
use velocity_sync::protocol::{Event, EventChange};
use velocity_sync::rows::{
    CheckpointHeader, DecodedRow, MismatchPolicy, Row, RowContext, RowShape, decode_row,
    encode_row, load_checkpoint,
};
use velocity_sync::{
    ContentHash, FileEntry, FileId, Manifest, ManifestId, ManifestLimits, MemoryBlobStore,
};

/// The schema the SQLite store creates at start (idempotent).
pub const SQLITE_SCHEMA: &str = include_str!("../sql/sqlite_schema.sql");

/// Why storage failed.
#[derive(Debug, thiserror::Error)]
pub enum StorageError {
    /// A stored event that does not decode.
    #[error("ops log row {n} of project {project} is not an event: {source}")]
    BadEvent {
        /// The project.
        project: Uuid,
        /// The event number.
        n: u64,
        /// What serde said.
        source: serde_json::Error,
    },
    /// A checkpoint (rows and header) that does not load.
    #[error("checkpoint of project {project}: {source}")]
    Checkpoint {
        /// The project.
        project: Uuid,
        /// Why.
        source: velocity_sync::rows::CheckpointError,
    },
    /// A row the codec refused.
    #[error("project_files row of {project}: {source}")]
    Row {
        /// The project.
        project: Uuid,
        /// Why.
        source: velocity_sync::rows::RowError,
    },
    /// SQLite failed.
    #[error("sqlite: {0}")]
    Sqlite(#[from] rusqlite::Error),
    /// PostgreSQL failed.
    #[error("postgres: {0}")]
    Postgres(#[from] postgres::Error),
    /// The ops log has moved past what this instance can catch up on
    /// (another instance checkpointed and pruned the events it lacks).
    #[error("project {project} is at event {at} but the ops log starts after {pruned}: reload it")]
    Behind {
        /// The project.
        project: Uuid,
        /// This instance's event number.
        at: u64,
        /// The event number the log was pruned to.
        pruned: u64,
    },
    /// Events another instance committed do not apply here.
    #[error("project {project}: {reason}")]
    Apply {
        /// The project.
        project: Uuid,
        /// Why.
        reason: String,
    },
    /// The store's lock was poisoned or its worker thread failed.
    #[error("storage worker failed: {0}")]
    Worker(String),
}

impl StorageError {
    /// The stable code of this error.
    pub fn code(&self) -> &'static str {
        match self {
            Self::BadEvent { .. } => "storage.bad_event",
            Self::Checkpoint { .. } => "storage.checkpoint",
            Self::Row { .. } => "storage.row",
            Self::Sqlite(_) => "storage.sqlite",
            Self::Postgres(_) => "storage.postgres",
            Self::Behind { .. } => "storage.behind",
            Self::Apply { .. } => "storage.apply",
            Self::Worker(_) => "storage.worker",
        }
    }
}

/// A project as stored: its manifest and contents as of the last
/// checkpoint, and the events logged after it (to replay, in order).
#[derive(Debug)]
pub struct Loaded {
    /// The manifest at the checkpoint.
    pub manifest: Manifest,
    /// Every content of that manifest.
    pub blobs: MemoryBlobStore,
    /// The event number of the checkpoint.
    pub n: u64,
    /// Events after it, in order.
    pub events: Vec<Event>,
}

/// What a checkpoint writes: the `project_files` rows that changed since
/// the last one and where they now stand.
#[derive(Debug, Default)]
pub struct CheckpointWrite {
    /// The event number the rows now include.
    pub n: u64,
    /// The manifest's version and parent, so a rebuilt one keeps its id.
    pub manifest_version: u64,
    /// See `manifest_version`.
    pub manifest_parent: Option<ManifestId>,
    /// Rows to insert or update, with their content.
    pub upserts: Vec<(FileEntry, Vec<u8>)>,
    /// Rows to delete.
    pub removed: Vec<FileId>,
    /// Every executable file (rows have no executable bit).
    pub executable: Vec<FileId>,
}

/// What the store found when it took a project's ordering lock: events
/// other instances committed after this one's last, and foreign writes.
#[derive(Debug, Default)]
pub struct Pending {
    /// Events to replay first, in order.
    pub events: Vec<Event>,
    /// Foreign writes to apply, oldest first.
    pub foreign: Vec<ForeignWrite>,
}

/// What one ordering step commits, in one transaction.
#[derive(Debug, Default)]
pub struct Batch {
    /// New events, in order.
    pub events: Vec<Event>,
    /// Rows to bring up to date, when the step checkpointed.
    pub checkpoint: Option<CheckpointWrite>,
}

/// A change announced by [`Store::changes`]: the project, and the event
/// number another instance committed up to (`None`: a foreign write).
pub type ChangeNotice = (Uuid, Option<u64>);

/// The function a store runs while it holds a project's ordering lock.
pub type Step<'a> = dyn FnMut(Pending) -> Result<Batch, StorageError> + 'a;

/// One project's ordering step, queued for a store's thread
/// ([`Store::order_many`]).
pub trait Job: Send {
    /// The project.
    fn project(&self) -> Uuid;
    /// The last event this instance has of it.
    fn after(&self) -> u64;
    /// Whether foreign `project_files` writes may be queued for the project
    /// (a notice said so, or none was seen yet): a store may skip looking
    /// when false.
    fn foreign(&self) -> bool {
        true
    }
    /// The step: see [`Store::order`].
    ///
    /// # Errors
    /// Whatever the step refuses; its writes are then rolled back.
    fn step(&mut self, pending: Pending) -> Result<Batch, StorageError>;
    /// Called once, after the commit (or the failure): `Ok` means the
    /// step's events are durable.
    fn finish(self: Box<Self>, result: Result<(), StorageError>);
}

/// Durable storage for projects. Calls block: run them off the async
/// executor (on a [`StoreHandle`](super::worker::StoreHandle)'s thread).
pub trait Store: Send + 'static {
    /// The project as stored (an empty project when unknown).
    ///
    /// # Errors
    /// [`StorageError`] when it cannot be read.
    fn load(&mut self, project: Uuid, limits: ManifestLimits) -> Result<Loaded, StorageError>;

    /// Orders the project's next events. In one transaction: takes the
    /// project's ordering lock (so one instance at a time appends), hands
    /// `step` what others committed after event `after` ([`Pending`]), then
    /// stores the events and checkpoint `step` returns and commits (one
    /// fsync for the whole batch: group commit). Returns once durable.
    ///
    /// # Errors
    /// [`StorageError`], or `step`'s error; then nothing is stored.
    fn order(&mut self, project: Uuid, after: u64, step: &mut Step<'_>)
    -> Result<(), StorageError>;

    /// Orders several projects' steps, committing them together where the
    /// store can (one flush for all: group commit across projects); each
    /// job is finished after the commit. The default runs them one by one.
    fn order_many(&mut self, jobs: Vec<Box<dyn Job>>) {
        for mut job in jobs {
            let (project, after) = (job.project(), job.after());
            let result = self.order(project, after, &mut |pending| job.step(pending));
            job.finish(result);
        }
    }

    /// A content by hash.
    ///
    /// # Errors
    /// [`StorageError`] when it cannot be read.
    fn blob(&mut self, hash: &ContentHash) -> Result<Option<Vec<u8>>, StorageError>;

    /// Projects whose log or rows other writers changed, as they are
    /// announced: another instance's commit up to event `Some(n)`, or a
    /// foreign write (`None`); the nil project means every project.
    /// `None` for a store nobody else writes. Called once, at start.
    fn changes(&mut self) -> Option<tokio::sync::mpsc::UnboundedReceiver<ChangeNotice>> {
        None
    }
}

/// The embedded default: one SQLite file.
#[derive(Debug)]
pub struct SqliteStore {
    conn: Connection,
    /// The `created_by` written into new rows (the rich schema's NOT NULL).
    created_by: Uuid,
}

impl SqliteStore {
    /// Opens (creating when needed) the database at `path` and its schema.
    ///
    /// # Errors
    /// [`StorageError::Sqlite`] when the file cannot be opened or migrated.
    pub fn open(path: &Path, created_by: Uuid) -> Result<Self, StorageError> {
        let conn = Connection::open(path)?;
        // WAL with FULL sync: a committed transaction survives a crash or
        // power loss, which is what an acknowledgement promises.
        conn.pragma_update(None, "journal_mode", "WAL")?;
        conn.pragma_update(None, "synchronous", "FULL")?;
        conn.busy_timeout(std::time::Duration::from_secs(5))?;
        conn.execute_batch(SQLITE_SCHEMA)?;
        Ok(Self { conn, created_by })
    }

    fn rows(&self, project: Uuid) -> Result<Vec<Row>, StorageError> {
        let mut stmt = self
            .conn
            .prepare("SELECT * FROM project_files WHERE project_id = ?1")?;
        let names: Vec<String> = stmt
            .column_names()
            .iter()
            .map(|s| (*s).to_owned())
            .collect();
        let mut out = Vec::new();
        let mut rows = stmt.query(params![project.to_string()])?;
        while let Some(row) = rows.next()? {
            let mut object = Row::new();
            for (i, name) in names.iter().enumerate() {
                let value = match row.get_ref(i)? {
                    ValueRef::Null => Value::Null,
                    ValueRef::Integer(v) if name.starts_with("is_") => Value::Bool(v != 0),
                    ValueRef::Integer(v) => Value::from(v),
                    ValueRef::Real(v) => Value::from(v),
                    ValueRef::Text(bytes) => {
                        let text = String::from_utf8_lossy(bytes).into_owned();
                        if name == "ai_analysis" {
                            serde_json::from_str(&text).unwrap_or(Value::String(text))
                        } else {
                            Value::String(text)
                        }
                    }
                    // Nothing in the rich shape is a blob; keep it out of the codec.
                    ValueRef::Blob(_) => continue,
                };
                object.insert(name.clone(), value);
            }
            out.push(object);
        }
        Ok(out)
    }
}

fn sql_value(value: &Value) -> SqlValue {
    match value {
        Value::Null => SqlValue::Null,
        Value::Bool(b) => SqlValue::Integer(i64::from(*b)),
        Value::Number(n) => n
            .as_i64()
            .map(SqlValue::Integer)
            .unwrap_or_else(|| SqlValue::Real(n.as_f64().unwrap_or(0.0))),
        Value::String(s) => SqlValue::Text(s.clone()),
        other => SqlValue::Text(other.to_string()),
    }
}

fn insert_events(
    tx: &rusqlite::Transaction<'_>,
    project: &str,
    events: &[Event],
) -> Result<(), StorageError> {
    let mut op =
        tx.prepare_cached("INSERT INTO sync_ops (project_id, n, event) VALUES (?1, ?2, ?3)")?;
    let mut blob =
        tx.prepare_cached("INSERT OR IGNORE INTO sync_blobs (hash, bytes) VALUES (?1, ?2)")?;
    for event in events {
        let json = serde_json::to_string(event)
            .map_err(|e| rusqlite::Error::ToSqlConversionFailure(Box::new(e)))?;
        op.execute(params![project, event.n as i64, json])?;
        if let EventChange::Tree { contents, .. } = &event.change {
            for (hash, bytes) in contents {
                blob.execute(params![hash.to_string(), bytes.as_slice()])?;
            }
        }
    }
    Ok(())
}

impl Store for SqliteStore {
    fn load(&mut self, project: Uuid, limits: ManifestLimits) -> Result<Loaded, StorageError> {
        let key = project.to_string();
        let header: Option<(i64, i64, Option<String>, String)> = self
            .conn
            .query_row(
                "SELECT checkpoint_n, manifest_version, manifest_parent, executable_ids FROM sync_projects WHERE project_id = ?1",
                params![key],
                |row| Ok((row.get(0)?, row.get(1)?, row.get(2)?, row.get(3)?)),
            )
            .optional()?;
        let (n, version, parent, executable) = header.unwrap_or((0, 0, None, "[]".to_owned()));
        let decoded = self
            .rows(project)?
            .into_iter()
            .map(|row| decode_row(&row, MismatchPolicy::Report));
        let (manifest, blobs) = checkpoint_state(
            project,
            limits,
            &CheckpointHeader {
                version: version as u64,
                parent: parent.as_deref(),
                executable_ids: &executable,
            },
            decoded,
        )?;
        let mut stmt = self
            .conn
            .prepare("SELECT n, event FROM sync_ops WHERE project_id = ?1 AND n > ?2 ORDER BY n")?;
        let mut events = Vec::new();
        let mut rows = stmt.query(params![key, n])?;
        while let Some(row) = rows.next()? {
            let number: i64 = row.get(0)?;
            let text: String = row.get(1)?;
            let event = serde_json::from_str(&text).map_err(|source| StorageError::BadEvent {
                project,
                n: number as u64,
                source,
            })?;
            events.push(event);
        }
        Ok(Loaded {
            manifest,
            blobs,
            n: n as u64,
            events,
        })
    }

    fn order(
        &mut self,
        project: Uuid,
        _after: u64,
        step: &mut Step<'_>,
    ) -> Result<(), StorageError> {
        // One process owns a SQLite file: nobody else appends.
        let tx = self.conn.transaction()?;
        let batch = step(Pending::default())?;
        insert_events(&tx, &project.to_string(), &batch.events)?;
        if let Some(write) = &batch.checkpoint {
            write_checkpoint(&tx, project, self.created_by, write)?;
        }
        tx.commit()?;
        Ok(())
    }

    fn blob(&mut self, hash: &ContentHash) -> Result<Option<Vec<u8>>, StorageError> {
        Ok(self
            .conn
            .query_row(
                "SELECT bytes FROM sync_blobs WHERE hash = ?1",
                params![hash.to_string()],
                |row| row.get(0),
            )
            .optional()?)
    }
}

/// Writes `write`'s rows, the checkpoint number and drops the ops it covers.
fn write_checkpoint(
    tx: &rusqlite::Transaction<'_>,
    project: Uuid,
    created_by: Uuid,
    write: &CheckpointWrite,
) -> Result<(), StorageError> {
    let key = project.to_string();
    let now = now_rfc3339();
    for (entry, content) in &write.upserts {
        let context = RowContext {
            project_id: Some(project),
            created_by: Some(created_by),
            is_current_version: Some(true),
            created_at: Some(now.clone()),
            updated_at: Some(now.clone()),
            ..RowContext::default()
        };
        let mut row = encode_row(RowShape::Rich, entry, content, &context)
            .map_err(|source| StorageError::Row { project, source })?;
        // Revision 0 is written too: the table's default (1) would give
        // the rebuilt manifest another id.
        row.entry("version".to_owned())
            .or_insert(Value::from(entry.revision));
        let columns: Vec<&String> = row.keys().collect();
        let placeholders: Vec<String> = (1..=columns.len()).map(|i| format!("?{i}")).collect();
        let sql = format!(
            "INSERT INTO project_files ({}) VALUES ({}) {}",
            columns
                .iter()
                .map(|c| c.as_str())
                .collect::<Vec<_>>()
                .join(", "),
            placeholders.join(", "),
            on_conflict(columns.iter().map(|c| c.as_str())),
        );
        let values: Vec<SqlValue> = row.values().map(sql_value).collect();
        let written = tx
            .prepare_cached(&sql)?
            .execute(rusqlite::params_from_iter(values))?;
        if written == 0 {
            let id = entry.id.map(|id| id.to_string()).unwrap_or_default();
            warn_id_in_other_project(project, id, entry.path.as_str());
        }
        if !content.is_empty() {
            tx.prepare_cached("INSERT OR IGNORE INTO sync_blobs (hash, bytes) VALUES (?1, ?2)")?
                .execute(params![entry.hash.to_string(), content])?;
        }
    }
    for id in &write.removed {
        tx.prepare_cached("DELETE FROM project_files WHERE id = ?1 AND project_id = ?2")?
            .execute(params![id.to_string(), key])?;
    }
    tx.execute(
            "INSERT INTO sync_projects (project_id, checkpoint_n, manifest_version, manifest_parent, executable_ids)
             VALUES (?1, ?2, ?3, ?4, ?5)
             ON CONFLICT(project_id) DO UPDATE SET checkpoint_n = excluded.checkpoint_n,
               manifest_version = excluded.manifest_version, manifest_parent = excluded.manifest_parent,
               executable_ids = excluded.executable_ids",
            params![
                key,
                write.n as i64,
                write.manifest_version as i64,
                write.manifest_parent.map(|id| id.to_string()),
                Value::from(
                    write.executable.iter().map(|id| id.to_string()).collect::<Vec<_>>()
                )
                .to_string()
            ],
        )?;
    tx.execute(
        "DELETE FROM sync_ops WHERE project_id = ?1 AND n <= ?2",
        params![key, write.n as i64],
    )?;
    Ok(())
}

/// A project's checkpoint loaded from its decoded `project_files` rows and
/// the header stored beside them, for both stores; what rows said that
/// their decoder did not believe is logged.
///
/// # Errors
/// [`StorageError::Checkpoint`] naming the project and what does not read.
pub fn checkpoint_state(
    project: Uuid,
    limits: ManifestLimits,
    header: &CheckpointHeader<'_>,
    rows: impl IntoIterator<Item = Result<DecodedRow, velocity_sync::rows::RowError>>,
) -> Result<(Manifest, MemoryBlobStore), StorageError> {
    let loaded = load_checkpoint(limits, header, rows)
        .map_err(|source| StorageError::Checkpoint { project, source })?;
    for (path, issue) in &loaded.issues {
        tracing::warn!(%project, %path, %issue, "project_files row");
    }
    Ok((loaded.manifest, loaded.blobs))
}

/// The upsert clause of a checkpoint row with `columns`, for both stores:
/// every column but the row's identity and creation is updated, and only
/// over a row of the same project. Ids come from clients: one that names a
/// file of another project must leave that row untouched.
pub fn on_conflict<'a>(columns: impl Iterator<Item = &'a str>) -> String {
    let updates: Vec<String> = columns
        .filter(|c| !matches!(*c, "id" | "created_at" | "created_by" | "project_id"))
        .map(|c| format!("{c} = excluded.{c}"))
        .collect();
    format!(
        "ON CONFLICT (id) DO UPDATE SET {} WHERE project_files.project_id = excluded.project_id",
        updates.join(", ")
    )
}

/// Reports a checkpoint row left unwritten because its id belongs to a file
/// of another project (the upsert's guard): that row stays as it was.
pub fn warn_id_in_other_project(project: Uuid, id: impl std::fmt::Display, path: &str) {
    tracing::warn!(
        %project,
        %id,
        path,
        code = "store.id_in_other_project",
        "file id already names a file of another project; row not written"
    );
}

/// Now as RFC 3339 UTC with milliseconds (`2026-11-25T03:54:03.123Z`).
pub fn now_rfc3339() -> String {
    let since = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .unwrap_or_default();
    let secs = since.as_secs();
    let (days, rem) = (secs / 86_400, secs % 86_400);
    // Howard Hinnant's civil_from_days.
    let z = days as i64 + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z.rem_euclid(146_097);
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let day = doy - (153 * mp + 2) / 5 + 1;
    let month = if mp < 10 { mp + 3 } else { mp - 9 };
    let year = yoe + era * 400 + i64::from(month <= 2);
    format!(
        "{year:04}-{month:02}-{day:02}T{:02}:{:02}:{:02}.{:03}Z",
        rem / 3600,
        rem % 3600 / 60,
        rem % 60,
        since.subsec_millis()
    )
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    #[test]
    fn rfc3339_has_the_expected_shape() {
        let now = now_rfc3339();
        assert_eq!(now.len(), 24, "{now}");
        assert!(now.starts_with("20") && now.ends_with('Z'), "{now}");
    }
}
