-- velocity-sync server on SQLite: the platform's `project_files` table in
-- its rich shape (core_database_schema.sql, see PLATFORM.md), with SQLite
-- types (uuid/timestamptz/jsonb as TEXT, boolean as INTEGER 0/1), plus the
-- server's own tables. Idempotent: run at every start.

CREATE TABLE IF NOT EXISTS project_files (
    id                 TEXT PRIMARY KEY,
    project_id         TEXT NOT NULL,
    file_path          TEXT NOT NULL,
    file_name          TEXT NOT NULL,
    file_type          TEXT,
    file_size          INTEGER,
    content            TEXT,
    content_hash       TEXT,
    encoding           TEXT DEFAULT 'utf-8',
    version            INTEGER DEFAULT 1,
    parent_version_id  TEXT,
    is_current_version INTEGER DEFAULT 1,
    directory_path     TEXT,
    is_directory       INTEGER DEFAULT 0,
    is_binary          INTEGER DEFAULT 0,
    embedding          TEXT,
    ai_analysis        TEXT,
    created_by         TEXT NOT NULL,
    last_modified_by   TEXT,
    created_at         TEXT DEFAULT CURRENT_TIMESTAMP,
    updated_at         TEXT DEFAULT CURRENT_TIMESTAMP
);
CREATE INDEX IF NOT EXISTS project_files_project ON project_files (project_id, file_path);

-- Every ordered event since the project's last checkpoint, one row each;
-- an edit is acknowledged only once its row is committed.
CREATE TABLE IF NOT EXISTS sync_ops (
    project_id TEXT    NOT NULL,
    n          INTEGER NOT NULL,
    event      TEXT    NOT NULL,
    PRIMARY KEY (project_id, n)
) WITHOUT ROWID;

-- Where each project's `project_files` rows stand: the event number they
-- include, the manifest header, and the ids of executable files (rows have
-- no executable bit), so the rebuilt manifest keeps its id.
CREATE TABLE IF NOT EXISTS sync_projects (
    project_id       TEXT PRIMARY KEY,
    checkpoint_n     INTEGER NOT NULL,
    manifest_version INTEGER NOT NULL,
    manifest_parent  TEXT,
    executable_ids   TEXT NOT NULL DEFAULT '[]'
);

-- Contents by BLAKE3 hash, served immutable at GET /blobs/{hash}.
CREATE TABLE IF NOT EXISTS sync_blobs (
    hash  TEXT PRIMARY KEY,
    bytes BLOB NOT NULL
) WITHOUT ROWID;
