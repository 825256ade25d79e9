-- The platform's rich `project_files` (core_database_schema.sql, see
-- PLATFORM.md) on PostgreSQL, for tests and fresh deployments.
--
-- `embedding` is pgvector's vector(1536) where the extension is available.
-- Where it is not (pgvector is not packaged for this machine's Debian) it gets
-- a stand-in type, `text`, which holds pgvector's text form ('[0.1,0.2,...]')
-- unchanged: the sync server never reads or writes the column, and a test
-- proves it passes through untouched. The production table's foreign key to
-- `projects` is left out so tests need no `projects` rows. Idempotent.
DO $$
DECLARE
    embedding_type text := 'text';
BEGIN
    IF EXISTS (SELECT 1 FROM pg_available_extensions WHERE name = 'vector') THEN
        CREATE EXTENSION IF NOT EXISTS vector;
        embedding_type := 'vector(1536)';
    END IF;
    EXECUTE format($sql$
        CREATE TABLE IF NOT EXISTS project_files (
            id                 uuid PRIMARY KEY DEFAULT gen_random_uuid(),
            project_id         uuid NOT NULL,
            file_path          text NOT NULL,
            file_name          text NOT NULL,
            file_type          text,
            file_size          bigint,
            content            text,
            content_hash       text,
            encoding           text DEFAULT 'utf-8',
            version            integer DEFAULT 1,
            parent_version_id  uuid,
            is_current_version boolean DEFAULT true,
            directory_path     text,
            is_directory       boolean DEFAULT false,
            is_binary          boolean DEFAULT false,
            embedding          %s,
            ai_analysis        jsonb,
            created_by         uuid NOT NULL,
            last_modified_by   uuid,
            created_at         timestamptz DEFAULT now(),
            updated_at         timestamptz DEFAULT now()
        )$sql$, embedding_type);
END
$$;
CREATE INDEX IF NOT EXISTS project_files_project ON project_files (project_id, file_path);
