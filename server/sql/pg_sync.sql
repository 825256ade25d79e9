-- The sync server's own tables next to `project_files` on PostgreSQL, and the
-- trigger that reports writes by other code. Run by the server at every
-- start (idempotent); `project_files` must exist already (either platform
-- shape).

-- Every ordered event since the project's last checkpoint; an edit is
-- acknowledged only once its row is committed.
CREATE TABLE IF NOT EXISTS sync_ops (
    project_id uuid   NOT NULL,
    n          bigint NOT NULL,
    event      text   NOT NULL,
    PRIMARY KEY (project_id, n)
);

-- One row per project: the last event number committed (`head_n`), where
-- its `project_files` rows stand (the event number they include, the
-- manifest header, executable ids), how far the ops log was pruned (to the
-- checkpoint before the last: instances a little behind still catch up
-- from the log), and the row
-- every instance locks (SELECT ... FOR UPDATE) to order the project's next
-- events: exactly one instance at a time appends, after reading what the
-- others appended.
CREATE TABLE IF NOT EXISTS sync_projects (
    project_id       uuid PRIMARY KEY,
    head_n           bigint NOT NULL DEFAULT 0,
    checkpoint_n     bigint NOT NULL DEFAULT 0,
    pruned_n         bigint NOT NULL DEFAULT 0,
    manifest_version bigint NOT NULL DEFAULT 0,
    manifest_parent  text,
    executable_ids   text   NOT NULL DEFAULT '[]'
);

-- Contents by BLAKE3 hash, served immutable at GET /blobs/{hash}.
CREATE TABLE IF NOT EXISTS sync_blobs (
    hash  text  PRIMARY KEY,
    bytes bytea NOT NULL
);

-- Writes to `project_files` by other code (the editor's saveFile, template
-- inserts, a SQL console), queued with the row as written, until the
-- instance ordering the project's events takes them (and deletes them) in
-- its ordering transaction: each is applied exactly once, even with several
-- instances or none running.
CREATE TABLE IF NOT EXISTS sync_foreign (
    seq        bigserial PRIMARY KEY,
    project_id uuid NOT NULL,
    file_id    uuid NOT NULL,
    op         text NOT NULL,
    row_json   text,
    -- The content the writer replaced (updates): the base of a three-way
    -- merge with the live edits made since.
    old_content text
);
-- The whole row before the write (updates and deletes): a server loading
-- the project while the write is still queued reads the rows as they were
-- before it, so the write is applied once, when the queue is taken.
ALTER TABLE sync_foreign ADD COLUMN IF NOT EXISTS old_row text;
CREATE INDEX IF NOT EXISTS sync_foreign_project ON sync_foreign (project_id, seq);

-- Writes taken from the queue into the ops log, until a checkpoint covers
-- them: their rows hold them already, so a load puts `old_row` back before
-- replaying the log after the checkpoint (else a restart would apply them
-- twice). `taken_at` is the project's event number before the step that
-- took them; a checkpoint at a later number prunes them.
CREATE TABLE IF NOT EXISTS sync_foreign_taken (
    project_id uuid   NOT NULL,
    seq        bigint NOT NULL,
    taken_at   bigint NOT NULL,
    file_id    uuid   NOT NULL,
    op         text   NOT NULL,
    old_row    text,
    PRIMARY KEY (project_id, seq)
);

-- The server's own writes set `velocity_sync.writer` for their transaction
-- (SET LOCAL) and are not queued: they are in the ops log already. Others
-- are queued, and a NOTIFY carries a pointer (the project id, never the
-- content: payloads are capped at 8000 bytes) to the listening instances.
CREATE OR REPLACE FUNCTION sync_project_files_changed() RETURNS trigger
LANGUAGE plpgsql AS $$
DECLARE
    changed record;
BEGIN
    IF current_setting('velocity_sync.writer', true) = 'on' THEN
        RETURN NULL;
    END IF;
    IF TG_OP = 'DELETE' THEN
        changed := OLD;
        INSERT INTO sync_foreign (project_id, file_id, op, row_json, old_row)
        VALUES (OLD.project_id, OLD.id, 'delete', NULL, row_to_json(OLD)::text);
    ELSE
        changed := NEW;
        IF TG_OP = 'UPDATE' AND OLD.project_id IS DISTINCT FROM NEW.project_id THEN
            INSERT INTO sync_foreign (project_id, file_id, op, row_json, old_row)
            VALUES (OLD.project_id, OLD.id, 'delete', NULL, row_to_json(OLD)::text);
        END IF;
        -- A row moved in from another project is an insert here.
        IF TG_OP = 'UPDATE' AND OLD.project_id IS NOT DISTINCT FROM NEW.project_id THEN
            INSERT INTO sync_foreign (project_id, file_id, op, row_json, old_content, old_row)
            VALUES (NEW.project_id, NEW.id, 'update', row_to_json(NEW)::text, OLD.content,
                    row_to_json(OLD)::text);
        ELSE
            INSERT INTO sync_foreign (project_id, file_id, op, row_json)
            VALUES (NEW.project_id, NEW.id, 'insert', row_to_json(NEW)::text);
        END IF;
    END IF;
    PERFORM pg_notify('velocity_sync', json_build_object(
        'kind', 'foreign', 'project', changed.project_id, 'file', changed.id, 'op', lower(TG_OP)
    )::text);
    RETURN NULL;
END
$$;

CREATE OR REPLACE TRIGGER sync_project_files_changed
AFTER INSERT OR UPDATE OR DELETE ON project_files
FOR EACH ROW EXECUTE FUNCTION sync_project_files_changed();
