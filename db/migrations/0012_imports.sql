-- 0012: roster imports — the job and audit record of each POST /v1/imports.

-- One row per import, written and committed on a connection of its own while the import
-- runs (progress: rows read so far), kept as the audit record: who, when, file SHA-256, counts.
CREATE TABLE imports (
    id           uuid        PRIMARY KEY DEFAULT gen_random_uuid(),
    org_id       uuid        NOT NULL REFERENCES organisations(id),
    kind         text        NOT NULL CHECK (kind IN ('projects','buildings','units','residents','departments','users')),
    dry_run      boolean     NOT NULL DEFAULT false,
    status       text        NOT NULL DEFAULT 'running' CHECK (status IN ('running','succeeded','checked','failed')),
    file_sha256  text,
    file_bytes   bigint      NOT NULL DEFAULT 0,
    encoding     text,
    delimiter    text,
    rows_read    integer     NOT NULL DEFAULT 0,
    rows_failed  integer     NOT NULL DEFAULT 0,
    counts       jsonb       NOT NULL DEFAULT '{}',
    errors       jsonb       NOT NULL DEFAULT '[]',
    detail       text,
    created_by   uuid        NOT NULL,
    started_at   timestamptz NOT NULL DEFAULT clock_timestamp(),
    finished_at  timestamptz,
    FOREIGN KEY (org_id, created_by) REFERENCES users (org_id, id),
    UNIQUE (org_id, id)
);
CREATE INDEX imports_list ON imports (org_id, started_at, id);

INSERT INTO schema_version (version) VALUES (12);
