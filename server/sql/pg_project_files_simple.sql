-- The platform's simple `project_files` (database_schema_with_rls.sql, see
-- PLATFORM.md) on PostgreSQL, for tests. The foreign key to `projects` and
-- the RLS policies are left out. Idempotent.
CREATE TABLE IF NOT EXISTS project_files (
    id                uuid PRIMARY KEY DEFAULT gen_random_uuid(),
    project_id        uuid NOT NULL,
    file_path         text NOT NULL,
    content           text,
    file_type         text,
    size_bytes        integer,
    version           integer DEFAULT 1,
    parent_version_id uuid,
    checksum          text,
    metadata          jsonb,
    created_at        timestamptz DEFAULT now(),
    updated_at        timestamptz DEFAULT now()
);
CREATE INDEX IF NOT EXISTS project_files_project ON project_files (project_id, file_path);
