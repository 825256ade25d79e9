//! [`PgStore`]: projects in PostgreSQL, in the platform's own
//! `project_files` table (either shape, learnt at start; see
//! [`Table`]) plus the tables of `sql/pg_sync.sql`.
//!
//! Several server instances may share one database. Each project's events
//! are ordered in the database: every ordering step runs in one transaction
//! that first locks the project's `sync_projects` row (`SELECT … FOR
//! UPDATE`), reads the events other instances committed since this one's
//! last, replays them, and only then applies its own batch and appends it.
//! Two instances can never both append event `n` (the lock serialises
//! them, and the `(project_id, n)` primary key would refuse it anyway).
//! After commit a `NOTIFY velocity_sync` names the project so the other
//! instances catch up at once rather than at their next edit.

use std::collections::{BTreeMap, HashMap};
use std::time::Duration;

use postgres::fallible_iterator::FallibleIterator;
use postgres::{Client, IsolationLevel, NoTls, Transaction};
use serde_json::Value;
use tokio::sync::mpsc;
use uuid::Uuid;
use velocity_sync::foreign::ForeignWrite;
use velocity_sync::protocol::{Event, EventChange};
use velocity_sync::rows::CheckpointHeader;
use velocity_sync::rows::{MismatchPolicy, Row, RowContext, encode_row};
use velocity_sync::{ContentHash, FileId, ManifestLimits};

use super::pg_table::{Table, TableError};
use super::store::{
    ChangeNotice, CheckpointWrite, Job, Loaded, Pending, Step, StorageError, Store,
    checkpoint_state, now_rfc3339, on_conflict, warn_id_in_other_project,
};

/// The server's own tables and the `project_files` trigger (idempotent).
pub const PG_SYNC_SCHEMA: &str = include_str!("../sql/pg_sync.sql");
/// The advisory lock key instances take while running [`PG_SYNC_SCHEMA`]
/// (`"velosync"` in ASCII).
const SCHEMA_LOCK: i64 = 0x7665_6c6f_7379_6e63;
/// The rich platform shape of `project_files` (tests, fresh databases).
pub const PG_RICH_SCHEMA: &str = include_str!("../sql/pg_project_files_rich.sql");
/// The simple platform shape of `project_files` (tests, fresh databases).
pub const PG_SIMPLE_SCHEMA: &str = include_str!("../sql/pg_project_files_simple.sql");

/// The channel of `NOTIFY`s between instances and from the trigger.
const CHANNEL: &str = "velocity_sync";

/// The production store: a PostgreSQL database several instances may share.
///
/// Its calls block (the `postgres` client runs its own small runtime):
/// create and use it off the async executor (`spawn_blocking`).
pub struct PgStore {
    client: Option<Client>,
    url: String,
    table: Table,
    created_by: Option<Uuid>,
}

impl std::fmt::Debug for PgStore {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("PgStore")
            .field("shape", &self.table.shape)
            .field("created_by", &self.created_by)
            .finish_non_exhaustive()
    }
}

impl Drop for PgStore {
    fn drop(&mut self) {
        // The client owns a runtime, which must not be dropped on an async
        // executor thread: drop it on a thread of its own.
        if let Some(client) = self.client.take() {
            let _ = std::thread::Builder::new()
                .name("pg-store-drop".to_owned())
                .spawn(move || drop(client));
        }
    }
}

impl PgStore {
    /// Connects to `url`, learns the shape of its `project_files` table,
    /// checks every row it may insert can be filled (`created_by`, the
    /// service user id new rows carry, is needed by the rich shape) and
    /// creates its own tables and trigger (`sql/pg_sync.sql`).
    ///
    /// Blocks: call it off the async executor.
    ///
    /// # Errors
    /// [`TableError`] naming what is missing.
    pub fn connect(url: &str, created_by: Option<Uuid>) -> Result<Self, TableError> {
        let mut client = Client::connect(url, NoTls)?;
        let table = Table::read(&mut client)?;
        table.check_insertable(created_by)?;
        // One instance at a time: DDL run concurrently fails ("tuple
        // concurrently updated" on the trigger function).
        client.batch_execute(&format!(
            "BEGIN; SELECT pg_advisory_xact_lock({SCHEMA_LOCK}); {PG_SYNC_SCHEMA}\nCOMMIT;"
        ))?;
        tracing::info!(shape = %table.shape, "project_files shape detected");
        Ok(Self {
            client: Some(client),
            url: url.to_owned(),
            table,
            created_by,
        })
    }

    /// The table as detected at start.
    pub fn table(&self) -> &Table {
        &self.table
    }

    fn client(&mut self) -> Result<&mut Client, StorageError> {
        self.client
            .as_mut()
            .ok_or_else(|| StorageError::Worker("postgres client gone".to_owned()))
    }
}

fn event_json(event: &Event) -> String {
    // An event always serialises: its types are plain data.
    serde_json::to_string(event).unwrap_or_default()
}

fn parse_event(project: Uuid, n: i64, text: &str) -> Result<Event, StorageError> {
    serde_json::from_str(text).map_err(|source| StorageError::BadEvent {
        project,
        n: n as u64,
        source,
    })
}

/// Appends `events` and the contents they carry, in two statements.
fn insert_events(
    tx: &mut Transaction<'_>,
    key: &str,
    events: &[Event],
) -> Result<(), StorageError> {
    if events.is_empty() {
        return Ok(());
    }
    let numbers: Vec<i64> = events.iter().map(|e| e.n as i64).collect();
    let texts: Vec<String> = events.iter().map(event_json).collect();
    tx.execute(
        "INSERT INTO sync_ops (project_id, n, event)
         SELECT $1::text::uuid, n, e FROM unnest($2::int8[], $3::text[]) AS t(n, e)",
        &[&key, &numbers, &texts],
    )?;
    let mut hashes = Vec::new();
    let mut contents: Vec<&[u8]> = Vec::new();
    for event in events {
        if let EventChange::Tree { contents: c, .. } = &event.change {
            for (hash, bytes) in c {
                hashes.push(hash.to_string());
                contents.push(bytes.as_slice());
            }
        }
    }
    if !hashes.is_empty() {
        tx.execute(
            "INSERT INTO sync_blobs (hash, bytes) SELECT * FROM unnest($1::text[], $2::bytea[])
             ON CONFLICT (hash) DO NOTHING",
            &[&hashes, &contents],
        )?;
    }
    Ok(())
}

/// Contents to store by hash, gathered over a group.
#[derive(Debug, Default)]
struct Blobs {
    hashes: Vec<String>,
    bytes: Vec<Vec<u8>>,
}

impl Blobs {
    fn insert(&self, tx: &mut Transaction<'_>) -> Result<(), StorageError> {
        if !self.hashes.is_empty() {
            tx.execute(
                "INSERT INTO sync_blobs (hash, bytes) SELECT * FROM unnest($1::text[], $2::bytea[])
                 ON CONFLICT (hash) DO NOTHING",
                &[&self.hashes, &self.bytes],
            )?;
        }
        Ok(())
    }
}

/// A JSON value as the text PostgreSQL casts from.
fn text_of(value: &Value) -> Option<String> {
    match value {
        Value::Null => None,
        Value::String(s) => Some(s.clone()),
        other => Some(other.to_string()),
    }
}

impl PgStore {
    /// Writes the `project_files` rows of the checkpoints in `done`
    /// (upserts, deletes), one statement per set of columns rather than per
    /// row; contents go to `blobs`, written later with the group's.
    fn write_rows(
        &self,
        tx: &mut Transaction<'_>,
        done: &[(Uuid, CheckpointWrite)],
        blobs: &mut Blobs,
    ) -> Result<(), StorageError> {
        let now = now_rfc3339();
        // Rows by their column list; a file id met twice (ids collide
        // across projects only by accident) goes to a later round, since
        // one upsert statement cannot touch a row twice.
        let mut rounds: Vec<BTreeMap<Vec<String>, Vec<Row>>> = Vec::new();
        let mut seen: HashMap<String, usize> = HashMap::new();
        let mut removed_ids: Vec<String> = Vec::new();
        let mut removed_projects: Vec<String> = Vec::new();
        for (project, write) in done {
            let project = *project;
            for (entry, content) in &write.upserts {
                let context = RowContext {
                    project_id: Some(project),
                    created_by: self.created_by,
                    is_current_version: Some(true),
                    created_at: Some(now.clone()),
                    updated_at: Some(now.clone()),
                    ..RowContext::default()
                };
                let mut row = encode_row(self.table.shape, entry, content, &context)
                    .map_err(|source| StorageError::Row { project, source })?;
                // Revision 0 is written too: the table's default (1) would
                // give the rebuilt manifest another id.
                row.entry("version".to_owned())
                    .or_insert(Value::from(entry.revision));
                row.retain(|column, _| self.table.columns.contains_key(column));
                let id = row.get("id").and_then(text_of).unwrap_or_default();
                let round = seen.entry(id).and_modify(|r| *r += 1).or_insert(0);
                if rounds.len() <= *round {
                    rounds.push(BTreeMap::new());
                }
                let columns: Vec<String> = row.keys().cloned().collect();
                rounds[*round].entry(columns).or_default().push(row);
                if !content.is_empty() {
                    blobs.hashes.push(entry.hash.to_string());
                    blobs.bytes.push(content.clone());
                }
            }
            for id in &write.removed {
                removed_ids.push(id.to_string());
                removed_projects.push(project.to_string());
            }
        }
        for round in rounds {
            for (columns, rows) in round {
                self.upsert(tx, &columns, &rows)?;
            }
        }
        if !removed_ids.is_empty() {
            tx.execute(
                "DELETE FROM project_files f USING unnest($1::text[], $2::text[]) AS t(id, p)
                 WHERE f.id = t.id::uuid AND f.project_id = t.p::uuid",
                &[&removed_ids, &removed_projects],
            )?;
        }
        Ok(())
    }

    /// Inserts or updates `rows` (all with `columns`) in one statement: the
    /// values travel as one JSON array of text, cast to each column's type.
    fn upsert(
        &self,
        tx: &mut Transaction<'_>,
        columns: &[String],
        rows: &[Row],
    ) -> Result<(), StorageError> {
        let records: Vec<Value> = rows
            .iter()
            .map(|row| {
                Value::Object(
                    row.iter()
                        .map(|(k, v)| (k.clone(), text_of(v).map_or(Value::Null, Value::String)))
                        .collect(),
                )
            })
            .collect();
        let list = columns.join(", ");
        let casts: Vec<String> = columns
            .iter()
            .map(|c| format!("t.{c}::{}", self.table.cast(c)))
            .collect();
        let fields: Vec<String> = columns.iter().map(|c| format!("{c} text")).collect();
        let sql = format!(
            "INSERT INTO project_files ({list})
             SELECT {} FROM jsonb_to_recordset($1::text::jsonb) AS t({})
             {} RETURNING id::text",
            casts.join(", "),
            fields.join(", "),
            on_conflict(columns.iter().map(String::as_str)),
        );
        let written: std::collections::HashSet<String> = tx
            .query(sql.as_str(), &[&Value::Array(records).to_string()])?
            .iter()
            .map(|row| row.get::<_, String>(0))
            .collect();
        if written.len() < rows.len() {
            for row in rows {
                let field = |name: &str| row.get(name).and_then(text_of).unwrap_or_default();
                let id = field("id");
                if !written.contains(&id) {
                    let project = Uuid::parse_str(&field("project_id")).unwrap_or_default();
                    let path = field("file_path");
                    warn_id_in_other_project(project, id, &path);
                }
            }
        }
        Ok(())
    }

    /// Where checkpoints of `done` stand now, in two statements for all:
    /// prunes each log to its previous checkpoint (an instance a little
    /// behind the last one still catches up from it) and records the new
    /// checkpoint number, manifest header and executable ids.
    fn finish_checkpoints(
        tx: &mut Transaction<'_>,
        done: &[(Uuid, CheckpointWrite)],
    ) -> Result<(), StorageError> {
        if done.is_empty() {
            return Ok(());
        }
        let mut keys = Vec::new();
        let mut numbers = Vec::new();
        let mut versions = Vec::new();
        let mut parents = Vec::new();
        let mut executables = Vec::new();
        for (project, write) in done {
            keys.push(project.to_string());
            numbers.push(write.n as i64);
            versions.push(write.manifest_version as i64);
            parents.push(write.manifest_parent.map(|id| id.to_string()));
            executables.push(
                Value::from(
                    write
                        .executable
                        .iter()
                        .map(ToString::to_string)
                        .collect::<Vec<_>>(),
                )
                .to_string(),
            );
        }
        tx.execute(
            "DELETE FROM sync_ops o USING sync_projects s
             WHERE s.project_id = ANY($1::text[]::uuid[])
               AND o.project_id = s.project_id AND o.n <= s.checkpoint_n",
            &[&keys],
        )?;
        tx.execute(
            "UPDATE sync_projects s SET pruned_n = s.checkpoint_n, checkpoint_n = t.n,
               manifest_version = t.v, manifest_parent = t.parent, executable_ids = t.exec
             FROM unnest($1::text[], $2::int8[], $3::int8[], $4::text[], $5::text[])
               AS t(p, n, v, parent, exec)
             WHERE s.project_id = t.p::uuid",
            &[&keys, &numbers, &versions, &parents, &executables],
        )?;
        // Foreign writes the new checkpoints cover are in their rows now.
        tx.execute(
            "DELETE FROM sync_foreign_taken f USING unnest($1::text[], $2::int8[]) AS t(p, n)
             WHERE f.project_id = t.p::uuid AND f.taken_at < t.n",
            &[&keys, &numbers],
        )?;
        Ok(())
    }

    /// Takes the project's queued foreign writes; `head` is the event
    /// number before the step that applies them (see `sync_foreign_taken`).
    fn foreign(
        &self,
        tx: &mut Transaction<'_>,
        project: Uuid,
        head: u64,
    ) -> Result<Vec<ForeignWrite>, StorageError> {
        let key = project.to_string();
        let rows = tx.query(
            "WITH taken AS (
                 DELETE FROM sync_foreign WHERE project_id = $1::text::uuid
                 RETURNING seq, file_id, op, row_json, old_content, old_row
             ), kept AS (
                 INSERT INTO sync_foreign_taken (project_id, seq, taken_at, file_id, op, old_row)
                 SELECT $1::text::uuid, seq, $2, file_id, op, old_row FROM taken
             )
             SELECT seq, file_id::text, row_json, old_content FROM taken",
            &[&key, &(head as i64)],
        )?;
        let mut queued: Vec<(i64, String, Option<String>, Option<String>)> = rows
            .iter()
            .map(|r| (r.get(0), r.get(1), r.get(2), r.get(3)))
            .collect();
        queued.sort_by_key(|(seq, ..)| *seq);
        let mut out = Vec::new();
        for (seq, file, row, base) in queued {
            let Ok(file) = FileId::parse(&file) else {
                continue;
            };
            let row = match row {
                None => None,
                Some(text) => {
                    let decoded = serde_json::from_str::<Row>(&text)
                        .map_err(|e| e.to_string())
                        .and_then(|row| {
                            self.table
                                .shape
                                .decode(&row, MismatchPolicy::Report)
                                .map_err(|e| e.to_string())
                        });
                    match decoded {
                        Ok(decoded) => Some(decoded),
                        Err(error) => {
                            tracing::warn!(%project, %file, seq, %error, "foreign row does not decode; skipped");
                            continue;
                        }
                    }
                }
            };
            out.push(ForeignWrite { file, row, base });
        }
        Ok(out)
    }

    /// One project's ordering step inside `tx` (the caller commits).
    fn order_in(
        &self,
        tx: &mut Transaction<'_>,
        project: Uuid,
        after: u64,
        foreign: bool,
        step: &mut Step<'_>,
    ) -> Result<(), StorageError> {
        let key = project.to_string();
        // The lock, and the writer tag (SET LOCAL): our own
        // project_files writes are in the log already, so the trigger
        // does not queue them as foreign.
        let lock = "SELECT head_n, pruned_n, set_config('velocity_sync.writer', 'on', true)
                    FROM sync_projects WHERE project_id = $1::text::uuid FOR UPDATE";
        let row = match tx.query_opt(lock, &[&key])? {
            Some(row) => row,
            None => {
                tx.execute(
                    "INSERT INTO sync_projects (project_id) VALUES ($1::text::uuid) ON CONFLICT DO NOTHING",
                    &[&key],
                )?;
                tx.query_one(lock, &[&key])?
            }
        };
        let (head, pruned): (i64, i64) = (row.get(0), row.get(1));
        let (head, pruned) = (head as u64, pruned as u64);
        let mut pending = Pending::default();
        if head > after {
            if pruned > after {
                return Err(StorageError::Behind {
                    project,
                    at: after,
                    pruned,
                });
            }
            for row in tx.query(
                "SELECT n, event FROM sync_ops WHERE project_id = $1::text::uuid AND n > $2 ORDER BY n",
                &[&key, &(after as i64)],
            )? {
                pending.events.push(parse_event(project, row.get(0), row.get(1))?);
            }
        }
        if foreign {
            pending.foreign = self.foreign(tx, project, head.max(after))?;
        }
        let batch = step(pending)?;
        insert_events(tx, &key, &batch.events)?;
        if let Some(last) = batch.events.last() {
            let payload = serde_json::json!({ "kind": "ops", "project": key, "n": last.n });
            tx.execute(
                "WITH head AS (UPDATE sync_projects SET head_n = $2
                               WHERE project_id = $1::text::uuid RETURNING 1)
                 SELECT pg_notify($3, $4) FROM head",
                &[&key, &(last.n as i64), &CHANNEL, &payload.to_string()],
            )?;
        }
        if let Some(write) = batch.checkpoint {
            let mut blobs = Blobs::default();
            let done = [(project, write)];
            self.write_rows(tx, &done, &mut blobs)?;
            blobs.insert(tx)?;
            Self::finish_checkpoints(tx, &done)?;
        }
        Ok(())
    }

    /// Orders a group of steps (distinct projects, sorted) in `tx`, with a
    /// handful of statements for the whole group rather than per step: one
    /// lock query, one read of other instances' events (when any is
    /// behind), one insert of every new event, one head update carrying
    /// the NOTIFYs. Foreign queues and checkpoint rows are per project, as
    /// asked. Returns each step's result; `Err` when a statement failed
    /// (the caller rolls the whole group back).
    fn order_group(
        &mut self,
        tx: &mut Transaction<'_>,
        jobs: &mut [Box<dyn Job>],
    ) -> Result<Vec<Result<(), StorageError>>, StorageError> {
        let keys: Vec<String> = jobs.iter().map(|job| job.project().to_string()).collect();
        let lock = "SELECT project_id::text, head_n, pruned_n,
                           set_config('velocity_sync.writer', 'on', true)
                    FROM sync_projects WHERE project_id = ANY($1::text[]::uuid[])
                    ORDER BY project_id FOR UPDATE";
        let mut heads: HashMap<String, (u64, u64)> = HashMap::new();
        let read = |rows: Vec<postgres::Row>, heads: &mut HashMap<String, (u64, u64)>| {
            for row in rows {
                let (head, pruned): (i64, i64) = (row.get(1), row.get(2));
                heads.insert(row.get(0), (head as u64, pruned as u64));
            }
        };
        read(tx.query(lock, &[&keys])?, &mut heads);
        if heads.len() < keys.len() {
            // First steps of new projects: create their rows, lock them too.
            let missing: Vec<&String> = keys.iter().filter(|k| !heads.contains_key(*k)).collect();
            tx.execute(
                "INSERT INTO sync_projects (project_id) SELECT unnest($1::text[])::uuid
                 ON CONFLICT DO NOTHING",
                &[&missing],
            )?;
            read(tx.query(lock, &[&missing])?, &mut heads);
        }
        // Other instances' events, for the steps that are behind.
        let mut results: Vec<Option<Result<(), StorageError>>> = Vec::with_capacity(jobs.len());
        results.resize_with(jobs.len(), || None);
        let mut behind: Vec<(String, i64)> = Vec::new();
        for (i, job) in jobs.iter().enumerate() {
            let (head, pruned) = heads.get(&keys[i]).copied().unwrap_or((0, 0));
            let after = job.after();
            if head > after {
                if pruned > after {
                    results[i] = Some(Err(StorageError::Behind {
                        project: job.project(),
                        at: after,
                        pruned,
                    }));
                } else {
                    behind.push((keys[i].clone(), after as i64));
                }
            }
        }
        let mut pending: HashMap<String, Pending> = HashMap::new();
        if !behind.is_empty() {
            let (projects, afters): (Vec<String>, Vec<i64>) = behind.into_iter().unzip();
            for row in tx.query(
                "SELECT o.project_id::text, o.n, o.event FROM sync_ops o
                 JOIN unnest($1::text[], $2::int8[]) AS t(p, a)
                   ON o.project_id = t.p::uuid AND o.n > t.a
                 ORDER BY o.project_id, o.n",
                &[&projects, &afters],
            )? {
                let key: String = row.get(0);
                let project = Uuid::try_parse(&key).unwrap_or_default();
                let event = parse_event(project, row.get(1), row.get(2))?;
                pending.entry(key).or_default().events.push(event);
            }
        }
        // The steps, and what they write.
        let mut op_projects: Vec<String> = Vec::new();
        let mut op_numbers: Vec<i64> = Vec::new();
        let mut op_events: Vec<String> = Vec::new();
        let mut blobs = Blobs::default();
        let mut head_projects: Vec<String> = Vec::new();
        let mut head_numbers: Vec<i64> = Vec::new();
        let mut checkpoints: Vec<(Uuid, CheckpointWrite)> = Vec::new();
        for (i, job) in jobs.iter_mut().enumerate() {
            if results[i].is_some() {
                continue;
            }
            let project = job.project();
            let mut found = pending.remove(&keys[i]).unwrap_or_default();
            let stepped = if job.foreign() {
                // Taken from the queue in a savepoint: a step that fails
                // leaves the queue as it was.
                let mut savepoint = tx.transaction()?;
                let head = heads.get(&keys[i]).map_or(0, |h| h.0).max(job.after());
                found.foreign = self.foreign(&mut savepoint, project, head)?;
                let stepped = job.step(found);
                if stepped.is_ok() {
                    savepoint.commit()?;
                }
                stepped
            } else {
                job.step(found)
            };
            match stepped {
                Ok(batch) => {
                    for event in &batch.events {
                        op_projects.push(keys[i].clone());
                        op_numbers.push(event.n as i64);
                        op_events.push(event_json(event));
                        if let EventChange::Tree { contents, .. } = &event.change {
                            for (hash, bytes) in contents {
                                blobs.hashes.push(hash.to_string());
                                blobs.bytes.push(bytes.as_slice().to_vec());
                            }
                        }
                    }
                    if let Some(last) = batch.events.last() {
                        head_projects.push(keys[i].clone());
                        head_numbers.push(last.n as i64);
                    }
                    if let Some(write) = batch.checkpoint {
                        checkpoints.push((project, write));
                    }
                    results[i] = Some(Ok(()));
                }
                Err(error) => results[i] = Some(Err(error)),
            }
        }
        if !op_events.is_empty() {
            tx.execute(
                "INSERT INTO sync_ops (project_id, n, event)
                 SELECT p::uuid, n, e FROM unnest($1::text[], $2::int8[], $3::text[]) AS t(p, n, e)",
                &[&op_projects, &op_numbers, &op_events],
            )?;
        }

        if !head_projects.is_empty() {
            tx.execute(
                "WITH head AS (
                    UPDATE sync_projects s SET head_n = t.n
                    FROM unnest($1::text[], $2::int8[]) AS t(p, n)
                    WHERE s.project_id = t.p::uuid
                    RETURNING t.p, t.n)
                 SELECT count(pg_notify($3, json_build_object('kind', 'ops', 'project', p, 'n', n)::text))
                 FROM head",
                &[&head_projects, &head_numbers, &CHANNEL],
            )?;
        }
        self.write_rows(tx, &checkpoints, &mut blobs)?;
        blobs.insert(tx)?;
        Self::finish_checkpoints(tx, &checkpoints)?;
        Ok(results
            .into_iter()
            .map(|r| r.unwrap_or_else(|| Err(StorageError::Worker("step not run".to_owned()))))
            .collect())
    }
}

impl Store for PgStore {
    fn load(&mut self, project: Uuid, limits: ManifestLimits) -> Result<Loaded, StorageError> {
        let key = project.to_string();
        let shape = self.table.shape;
        let client = self.client()?;
        // One snapshot: rows and the log as of the same commit.
        let mut tx = client
            .build_transaction()
            .isolation_level(IsolationLevel::RepeatableRead)
            .read_only(true)
            .start()?;
        let header = tx.query_opt(
            "SELECT checkpoint_n, manifest_version, manifest_parent, executable_ids
             FROM sync_projects WHERE project_id = $1::text::uuid",
            &[&key],
        )?;
        let (n, version, parent, executable): (i64, i64, Option<String>, String) = match header {
            Some(row) => (row.get(0), row.get(1), row.get(2), row.get(3)),
            None => (0, 0, None, "[]".to_owned()),
        };
        let as_row = |text: &str| {
            serde_json::from_str::<Row>(text).map_err(|e| StorageError::Apply {
                project,
                reason: format!("row_to_json gave no object: {e}"),
            })
        };
        let mut rows = BTreeMap::new();
        for row in tx.query(
            "SELECT id::text, row_to_json(f)::text FROM project_files f
             WHERE project_id = $1::text::uuid",
            &[&key],
        )? {
            let text: String = row.get(1);
            rows.insert(row.get::<_, String>(0), as_row(&text)?);
        }
        // Writes by other code are in their rows the moment they commit,
        // but belong after the checkpoint: those still queued are applied
        // when the queue is taken, those taken since the checkpoint are in
        // the log replayed below. So the rows are read as they stood before
        // them (undone newest first), and each write is applied once.
        for queued in tx.query(
            "SELECT file_id::text, op, old_row, seq FROM sync_foreign
               WHERE project_id = $1::text::uuid
             UNION ALL
             SELECT file_id::text, op, old_row, seq FROM sync_foreign_taken
               WHERE project_id = $1::text::uuid AND taken_at >= $2
             ORDER BY seq DESC",
            &[&key, &n],
        )? {
            let (file, op, old): (String, String, Option<String>) =
                (queued.get(0), queued.get(1), queued.get(2));
            match (op.as_str(), old) {
                ("insert", _) => {
                    rows.remove(&file);
                }
                (_, Some(old)) => {
                    rows.insert(file, as_row(&old)?);
                }
                // Queued before `old_row` existed: nothing to put back.
                (_, None) => {}
            }
        }
        let decoded = rows
            .into_values()
            .map(|row| shape.decode(&row, MismatchPolicy::Report));
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
        let mut events = Vec::new();
        for row in tx.query(
            "SELECT n, event FROM sync_ops WHERE project_id = $1::text::uuid AND n > $2 ORDER BY n",
            &[&key, &n],
        )? {
            events.push(parse_event(project, row.get(0), row.get(1))?);
        }
        tx.commit()?;
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
        after: u64,
        step: &mut Step<'_>,
    ) -> Result<(), StorageError> {
        let mut client = self
            .client
            .take()
            .ok_or_else(|| StorageError::Worker("postgres client gone".to_owned()))?;
        let result = client
            .transaction()
            .map_err(StorageError::from)
            .and_then(|mut tx| {
                self.order_in(&mut tx, project, after, true, step)?;
                Ok(tx.commit()?)
            });
        self.client = Some(client);
        result
    }

    fn order_many(&mut self, mut jobs: Vec<Box<dyn Job>>) {
        // Locks are taken in project order, so two instances committing
        // overlapping groups cannot deadlock. A project queued twice (a
        // task replaced while its last step was queued) waits for the next
        // group, after this one's events.
        jobs.sort_by_key(|job| job.project());
        let mut later = Vec::new();
        let mut group: Vec<Box<dyn Job>> = Vec::with_capacity(jobs.len());
        for job in jobs {
            if group
                .last()
                .is_some_and(|last| last.project() == job.project())
            {
                later.push(job);
            } else {
                group.push(job);
            }
        }
        let Some(mut client) = self.client.take() else {
            for job in group.into_iter().chain(later) {
                job.finish(Err(StorageError::Worker("postgres client gone".to_owned())));
            }
            return;
        };
        let outcome = client
            .transaction()
            .map_err(StorageError::from)
            .and_then(|mut tx| {
                let results = self.order_group(&mut tx, &mut group)?;
                tx.commit()?;
                Ok(results)
            });
        self.client = Some(client);
        match outcome {
            Ok(results) => {
                for (job, result) in group.into_iter().zip(results) {
                    job.finish(result);
                }
            }
            Err(error) => {
                let text = error.to_string();
                for job in group {
                    job.finish(Err(StorageError::Worker(format!(
                        "group commit failed: {text}"
                    ))));
                }
            }
        }
        if !later.is_empty() {
            self.order_many(later);
        }
    }

    fn blob(&mut self, hash: &ContentHash) -> Result<Option<Vec<u8>>, StorageError> {
        let row = self.client()?.query_opt(
            "SELECT bytes FROM sync_blobs WHERE hash = $1",
            &[&hash.to_string()],
        )?;
        Ok(row.map(|r| r.get(0)))
    }

    fn changes(&mut self) -> Option<mpsc::UnboundedReceiver<ChangeNotice>> {
        let (tx, rx) = mpsc::unbounded_channel();
        let url = self.url.clone();
        // The first LISTEN is in place before this returns: no notice sent
        // after the server started is missed.
        let client = match subscribe(&url) {
            Ok(client) => client,
            Err(error) => {
                tracing::error!(%error, "cannot LISTEN: other instances and foreign writes are seen only at the next edit");
                return None;
            }
        };
        std::thread::Builder::new()
            .name("pg-listen".to_owned())
            .spawn(move || listen(client, &url, &tx))
            .ok()?;
        Some(rx)
    }
}

/// The change a `NOTIFY velocity_sync` payload announces: `{"kind":"ops",
/// "project", "n"}` from an instance, `{"kind":"foreign", "project", …}`
/// from the trigger.
fn parse_notice(payload: &str) -> Option<ChangeNotice> {
    let value = serde_json::from_str::<Value>(payload).ok()?;
    let project = Uuid::try_parse(value.get("project")?.as_str()?).ok()?;
    let n = match value.get("kind")?.as_str()? {
        "ops" => Some(value.get("n")?.as_u64()?),
        _ => None,
    };
    Some((project, n))
}

fn subscribe(url: &str) -> Result<Client, postgres::Error> {
    let mut client = Client::connect(url, NoTls)?;
    client.batch_execute(&format!("LISTEN {CHANNEL}"))?;
    Ok(client)
}

/// Forwards the projects named by `NOTIFY velocity_sync` to `tx` until it
/// closes; reconnects after a failure and then announces
/// [`Uuid::nil`] ("every project": notices may have been missed).
fn listen(mut client: Client, url: &str, tx: &mpsc::UnboundedSender<ChangeNotice>) {
    loop {
        let next = client
            .notifications()
            .timeout_iter(Duration::from_millis(500))
            .next();
        match next {
            Ok(Some(notice)) => {
                if parse_notice(notice.payload()).is_some_and(|change| tx.send(change).is_err()) {
                    return;
                }
            }
            Ok(None) => {
                if tx.is_closed() {
                    return;
                }
            }
            Err(error) => {
                tracing::warn!(%error, "LISTEN connection lost; reconnecting");
                client = loop {
                    if tx.is_closed() {
                        return;
                    }
                    std::thread::sleep(Duration::from_secs(1));
                    if let Ok(client) = subscribe(url) {
                        break client;
                    }
                };
                if tx.send((Uuid::nil(), None)).is_err() {
                    return;
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn notices_name_the_project_and_the_event_number() {
        let project = Uuid::from_u128(5);
        let ops = format!(r#"{{"kind":"ops","project":"{project}","n":12}}"#);
        assert_eq!(parse_notice(&ops), Some((project, Some(12))));
        let foreign = format!(
            r#"{{"kind":"foreign","project":"{project}","file":"{project}","op":"update"}}"#
        );
        assert_eq!(parse_notice(&foreign), Some((project, None)));
        assert_eq!(parse_notice("not json"), None);
        assert_eq!(parse_notice(r#"{"kind":"ops","project":"x","n":1}"#), None);
    }
}
