-- 0016: callback tasks and attempts (issue 9, RULES §3.1).

-- Callbacks (回访, RULES §3.1): one task per resolution of a request that needs one (or
-- that the desk asked for), and the append-only attempts recorded against it.
CREATE TABLE callback_tasks (
    id                   uuid        PRIMARY KEY DEFAULT gen_random_uuid(),
    org_id               uuid        NOT NULL,
    project_id           uuid        NOT NULL,
    request_id           uuid        NOT NULL,
    kind                 text        NOT NULL CHECK (kind IN ('repair', 'complaint', 'other')),
    state                text        NOT NULL DEFAULT 'open'
                         CHECK (state IN ('open', 'done', 'given_up', 'cancelled')),
    -- The lowest ladder role that may call (supervisor for important and major complaints).
    min_role             text        NOT NULL CHECK (min_role IN ('agent', 'supervisor')),
    -- The resolution the task follows up, and when the callback is due (its SLA clock).
    resolved_at          timestamptz NOT NULL,
    due_at               timestamptz NOT NULL,
    on_demand            boolean     NOT NULL DEFAULT false,
    assignee_id          uuid,
    overdue_at           timestamptz,
    outcome              text        CHECK (outcome IN ('closed', 'reopened',
                                                        'follow_up_complaint', 'given_up',
                                                        'cancelled')),
    rating               text,
    follow_up_request_id uuid,
    give_up_reason       text        CHECK (give_up_reason IN ('unreachable', 'refused',
                                                               'moved_out', 'other')),
    give_up_note         varchar(2000),
    attempts             integer     NOT NULL DEFAULT 0,
    finished_at          timestamptz,
    finished_by          uuid,
    created_by           uuid,
    version              integer     NOT NULL DEFAULT 1,
    created_at           timestamptz NOT NULL DEFAULT clock_timestamp(),
    updated_at           timestamptz NOT NULL DEFAULT clock_timestamp(),
    FOREIGN KEY (org_id, project_id) REFERENCES projects (org_id, id),
    FOREIGN KEY (org_id, request_id) REFERENCES requests (org_id, id),
    FOREIGN KEY (org_id, assignee_id) REFERENCES users (org_id, id),
    FOREIGN KEY (org_id, follow_up_request_id) REFERENCES requests (org_id, id),
    UNIQUE (org_id, id),
    CHECK ((state = 'open') = (finished_at IS NULL)),
    CHECK (state <> 'given_up' OR give_up_reason IS NOT NULL)
);
-- One open task per request (a resolution opens one only while none is open: a task ends
-- only when the request leaves resolved/callback).
CREATE UNIQUE INDEX callback_tasks_one_open ON callback_tasks (request_id) WHERE state = 'open';
CREATE INDEX callback_tasks_request ON callback_tasks (request_id, created_at);
-- "My open tasks" (by due time), a project's open queue, and the overdue marker's due scan.
CREATE INDEX callback_tasks_mine ON callback_tasks (assignee_id, due_at, id) WHERE state = 'open';
CREATE INDEX callback_tasks_project ON callback_tasks (project_id, due_at, id) WHERE state = 'open';
CREATE INDEX callback_tasks_due ON callback_tasks (due_at) WHERE state = 'open' AND overdue_at IS NULL;
-- The month's figures: tasks by project and resolution time.
CREATE INDEX callback_tasks_resolved ON callback_tasks (project_id, resolved_at);

CREATE TABLE callback_attempts (
    id                      uuid        PRIMARY KEY DEFAULT gen_random_uuid(),
    org_id                  uuid        NOT NULL,
    task_id                 uuid        NOT NULL,
    request_id              uuid        NOT NULL,
    caller_user_id          uuid        NOT NULL,
    caller_role             text        NOT NULL,
    occurred_at             timestamptz NOT NULL,
    recorded_at             timestamptz NOT NULL DEFAULT clock_timestamp(),
    -- The attempt's local day in the project's time zone (the give-up rule counts days).
    local_day               date        NOT NULL,
    method                  text        NOT NULL CHECK (method IN ('phone', 'visit', 'app', 'sms')),
    reached                 boolean     NOT NULL,
    rating                  text        CHECK (rating IN ('very_satisfied', 'satisfied', 'average',
                                                          'dissatisfied', 'very_dissatisfied')),
    notes                   varchar(4000),
    signer_name             varchar(100),
    signature_attachment_id uuid,
    FOREIGN KEY (org_id, task_id) REFERENCES callback_tasks (org_id, id),
    FOREIGN KEY (org_id, request_id) REFERENCES requests (org_id, id),
    FOREIGN KEY (org_id, caller_user_id) REFERENCES users (org_id, id),
    CHECK (reached = (rating IS NOT NULL)),
    CHECK (method <> 'visit' OR (signer_name IS NOT NULL AND signature_attachment_id IS NOT NULL))
);
CREATE INDEX callback_attempts_task ON callback_attempts (task_id, occurred_at, id);
CREATE TRIGGER callback_attempts_append_only BEFORE UPDATE OR DELETE ON callback_attempts
    FOR EACH ROW EXECUTE FUNCTION audit_append_only();
CREATE TRIGGER callback_attempts_no_truncate BEFORE TRUNCATE ON callback_attempts
    FOR EACH STATEMENT EXECUTE FUNCTION audit_append_only();
REVOKE UPDATE, DELETE, TRUNCATE ON callback_attempts FROM PUBLIC;
CREATE TRIGGER audit AFTER INSERT OR UPDATE OR DELETE ON callback_tasks FOR EACH ROW EXECUTE FUNCTION audit_row('callback_task', 'id');
CREATE TRIGGER audit AFTER INSERT OR UPDATE OR DELETE ON callback_attempts FOR EACH ROW EXECUTE FUNCTION audit_row('callback_attempt', 'id');

DO $$
BEGIN
    IF EXISTS (SELECT 1 FROM pg_roles WHERE rolname = 'deskd_app') THEN
        GRANT SELECT, INSERT, UPDATE, DELETE ON callback_tasks TO deskd_app;
        GRANT SELECT, INSERT ON callback_attempts TO deskd_app;
        REVOKE UPDATE, DELETE, TRUNCATE ON callback_attempts FROM deskd_app;
    END IF;
EXCEPTION WHEN insufficient_privilege THEN
    RAISE NOTICE 'deskd_app not granted on the callback tables (%)', SQLERRM;
END $$;

INSERT INTO schema_version (version) VALUES (16);
