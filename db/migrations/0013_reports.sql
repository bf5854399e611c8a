-- 0013: monthly reports (投诉月度汇总表 / 业户投诉处理月统计表) and the index that finds a
-- project's requests by the time they were received (the period rule of every report).

-- A report is the frozen summary of one project and one local month.  Every generation is a
-- new immutable version (its snapshot is stored as generated); a version goes draft →
-- submitted once (by, at) and is never changed after.  A later generation is a new version.
CREATE TABLE monthly_reports (
    id             uuid        PRIMARY KEY DEFAULT gen_random_uuid(),
    org_id         uuid        NOT NULL,
    project_id     uuid        NOT NULL,
    month          date        NOT NULL CHECK (extract(day FROM month) = 1),
    version        integer     NOT NULL CHECK (version >= 1),
    state          text        NOT NULL DEFAULT 'draft' CHECK (state IN ('draft','submitted')),
    snapshot       jsonb       NOT NULL,
    due_at         timestamptz NOT NULL,
    generated_by   uuid        NOT NULL,
    generated_at   timestamptz NOT NULL DEFAULT clock_timestamp(),
    submitted_by   uuid,
    submitted_at   timestamptz,
    FOREIGN KEY (org_id, project_id) REFERENCES projects (org_id, id),
    FOREIGN KEY (org_id, generated_by) REFERENCES users (org_id, id),
    FOREIGN KEY (org_id, submitted_by) REFERENCES users (org_id, id),
    CHECK ((state = 'submitted') = (submitted_at IS NOT NULL AND submitted_by IS NOT NULL)),
    UNIQUE (project_id, month, version),
    UNIQUE (org_id, id)
);

-- The late check's warnings and escalations, each recorded once per project and month.
CREATE TABLE monthly_report_alerts (
    org_id      uuid        NOT NULL,
    project_id  uuid        NOT NULL,
    month       date        NOT NULL,
    kind        text        NOT NULL CHECK (kind IN ('warning','escalation')),
    created_at  timestamptz NOT NULL DEFAULT clock_timestamp(),
    FOREIGN KEY (org_id, project_id) REFERENCES projects (org_id, id),
    PRIMARY KEY (project_id, month, kind)
);

-- Reports take a project's requests received in a period: an index range scan.
CREATE INDEX requests_project_received ON requests (project_id, received_at);

INSERT INTO schema_version (version) VALUES (13);
