-- 0003: SLA policies and calendars (versioned, immutable versions), the clocks' due
-- times on each request, alerts (warnings / escalations, each recorded once), the
-- notification outbox, and deadline-extension requests.

-- A project's business calendar.  Each change writes a new immutable version; requests
-- keep the version they started with.
CREATE TABLE sla_calendars (
    id               uuid        PRIMARY KEY DEFAULT gen_random_uuid(),
    org_id           uuid        NOT NULL,
    project_id       uuid        NOT NULL UNIQUE,
    current_version  integer     NOT NULL DEFAULT 1,
    created_at       timestamptz NOT NULL DEFAULT clock_timestamp(),
    updated_at       timestamptz NOT NULL DEFAULT clock_timestamp(),
    FOREIGN KEY (org_id, project_id) REFERENCES projects (org_id, id),
    UNIQUE (org_id, id)
);
CREATE TABLE sla_calendar_versions (
    id           uuid        PRIMARY KEY DEFAULT gen_random_uuid(),
    org_id       uuid        NOT NULL,
    calendar_id  uuid        NOT NULL,
    version      integer     NOT NULL,
    definition   jsonb       NOT NULL,
    created_by   uuid,
    created_at   timestamptz NOT NULL DEFAULT clock_timestamp(),
    FOREIGN KEY (org_id, calendar_id) REFERENCES sla_calendars (org_id, id),
    UNIQUE (calendar_id, version)
);

CREATE TABLE sla_policies (
    id               uuid        PRIMARY KEY DEFAULT gen_random_uuid(),
    org_id           uuid        NOT NULL,
    project_id       uuid        NOT NULL,
    name             text        NOT NULL CHECK (length(name) BETWEEN 1 AND 200),
    match_type       text        CHECK (match_type IN ('complaint','repair','inquiry','suggestion','praise','emergency')),
    match_severity   text        CHECK (match_severity IN ('major','important','general')),
    match_category   text        CHECK (match_category IN ('attitude','timeliness','quality','service_range','developer_legacy','fees','other')),
    active           boolean     NOT NULL DEFAULT true,
    current_version  integer     NOT NULL DEFAULT 1,
    created_at       timestamptz NOT NULL DEFAULT clock_timestamp(),
    updated_at       timestamptz NOT NULL DEFAULT clock_timestamp(),
    FOREIGN KEY (org_id, project_id) REFERENCES projects (org_id, id),
    UNIQUE (org_id, id)
);
-- One active policy per match in a project.
CREATE UNIQUE INDEX sla_policies_match ON sla_policies (project_id, coalesce(match_type, ''),
    coalesce(match_severity, ''), coalesce(match_category, '')) WHERE active;
CREATE TABLE sla_policy_versions (
    id           uuid        PRIMARY KEY DEFAULT gen_random_uuid(),
    org_id       uuid        NOT NULL,
    policy_id    uuid        NOT NULL,
    version      integer     NOT NULL,
    definition   jsonb       NOT NULL,
    created_by   uuid,
    created_at   timestamptz NOT NULL DEFAULT clock_timestamp(),
    FOREIGN KEY (org_id, policy_id) REFERENCES sla_policies (org_id, id),
    UNIQUE (policy_id, version)
);

ALTER TABLE requests
    -- Versions are immutable and never deleted; no foreign keys, so creations do not all
    -- lock the same few version rows.
    ADD COLUMN sla_policy_version_id    uuid,
    ADD COLUMN sla_calendar_version_id  uuid,
    ADD COLUMN due_first_response       timestamptz,
    ADD COLUMN due_on_site              timestamptz,
    ADD COLUMN due_answer               timestamptz,
    ADD COLUMN due_resolution           timestamptz,
    ADD COLUMN due_handover             timestamptz,
    ADD COLUMN due_callback             timestamptz,
    ADD COLUMN due_gm_report            timestamptz,
    ADD COLUMN sla_next_due             timestamptz,
    ADD COLUMN sla_next_check           timestamptz;
-- "What is due next" and the sweeper's work queue are index range scans.
CREATE INDEX requests_next_due ON requests (project_id, sla_next_due) WHERE sla_next_due IS NOT NULL;
CREATE INDEX requests_next_check ON requests (sla_next_check) WHERE sla_next_check IS NOT NULL;

-- Every warning and escalation, recorded exactly once per (request, clock, kind, level,
-- due time): several sweepers racing insert the same key and only one wins; a moved
-- deadline has a new due time and can warn and escalate again.
CREATE TABLE sla_alerts (
    id          bigint      GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    org_id      uuid        NOT NULL,
    request_id  uuid        NOT NULL,
    target      text        NOT NULL,
    kind        text        NOT NULL CHECK (kind IN ('warning','escalation')),
    level       integer     NOT NULL CHECK (level BETWEEN 0 AND 4),
    due_at      timestamptz NOT NULL,
    created_at  timestamptz NOT NULL DEFAULT clock_timestamp(),
    FOREIGN KEY (org_id, request_id) REFERENCES requests (org_id, id),
    UNIQUE (request_id, target, kind, level, due_at)
);

-- The outbox: written in the same transaction as what it announces; a later release
-- delivers it as webhooks.  Users list their own.
CREATE TABLE notifications (
    id            uuid        PRIMARY KEY DEFAULT gen_random_uuid(),
    org_id        uuid        NOT NULL,
    user_id       uuid        NOT NULL,
    kind          text        NOT NULL,
    request_id    uuid,
    payload       jsonb       NOT NULL DEFAULT '{}',
    created_at    timestamptz NOT NULL DEFAULT clock_timestamp(),
    read_at       timestamptz,
    delivered_at  timestamptz,
    FOREIGN KEY (org_id, user_id) REFERENCES users (org_id, id),
    FOREIGN KEY (org_id, request_id) REFERENCES requests (org_id, id)
);
CREATE INDEX notifications_user ON notifications (user_id, created_at DESC, id DESC);
CREATE INDEX notifications_undelivered ON notifications (created_at) WHERE delivered_at IS NULL;

CREATE TABLE sla_extensions (
    id             uuid        PRIMARY KEY DEFAULT gen_random_uuid(),
    org_id         uuid        NOT NULL,
    request_id     uuid        NOT NULL,
    target         text        NOT NULL,
    requested_due  timestamptz NOT NULL,
    reason         text        NOT NULL CHECK (length(reason) BETWEEN 1 AND 2000),
    state          text        NOT NULL DEFAULT 'requested' CHECK (state IN ('requested','approved','rejected')),
    requested_by   uuid        NOT NULL,
    decided_by     uuid,
    decided_at     timestamptz,
    decision_note  text,
    created_at     timestamptz NOT NULL DEFAULT clock_timestamp(),
    FOREIGN KEY (org_id, request_id) REFERENCES requests (org_id, id),
    UNIQUE (org_id, id)
);
CREATE INDEX sla_extensions_request ON sla_extensions (request_id, created_at);

-- The JSON of a request, now with its SLA due times; pii=false masks the reporter's phone.
CREATE OR REPLACE FUNCTION request_json(r requests, pii boolean) RETURNS json
LANGUAGE plpgsql STABLE AS $$
DECLARE
    wo json;
BEGIN
    SELECT json_build_object('id', w.id, 'number', w.number, 'state', w.state,
            'department_id', w.department_id, 'assignee_id', w.assignee_id,
            'appointment_at', rfc3339(w.appointment_at), 'dispatched_at', rfc3339(w.dispatched_at),
            'accepted_at', rfc3339(w.accepted_at), 'arrived_at', rfc3339(w.arrived_at),
            'reported_at', rfc3339(w.reported_at), 'result', w.result,
            'signed_at', rfc3339(w.signed_at),
            'signer', CASE WHEN w.signer_kind IS NOT NULL THEN json_build_object('kind', w.signer_kind,
                'resident_id', w.signer_resident_id, 'user_id', w.signer_user_id,
                'name', w.signer_name) END)
        INTO wo FROM work_orders w WHERE w.request_id = r.id ORDER BY w.created_at DESC LIMIT 1;
    RETURN json_build_object(
    'id', r.id, 'organisation_id', r.org_id, 'project_id', r.project_id, 'number', r.number,
    'type', r.type, 'channel', r.channel, 'severity', r.severity, 'category', r.category,
    'validity', r.validity, 'state', r.state,
    'pending', CASE WHEN r.state = 'pending' THEN json_build_object('reason', r.pending_reason,
        'until', rfc3339(r.pending_until), 'resume_to', r.state_before_pending) END,
    'location', json_build_object('kind', r.location_kind, 'unit_id', r.unit_id,
        'common_area', r.common_area),
    'reporter', json_build_object('resident_id', r.reporter_resident_id,
        'user_id', r.reporter_user_id, 'name', r.reporter_name,
        'phone', CASE WHEN pii THEN r.reporter_phone ELSE mask_phone(r.reporter_phone) END),
    'reporting_department_kind', r.reporting_dept_kind,
    'title', r.title, 'description', r.description,
    'customer_deadline', rfc3339(r.customer_deadline),
    'department_id', r.department_id, 'assignee_id', r.assignee_id,
    'external_ref', CASE WHEN r.external_source IS NOT NULL THEN
        json_build_object('source', r.external_source, 'id', r.external_id) END,
    'night_desk', r.night_desk, 'handed_over_at', rfc3339(r.handed_over_at),
    'reopen_count', r.reopen_count, 'escalation_level', r.escalation_level,
    'explanation', r.explanation, 'resolution', r.resolution,
    'received_at', rfc3339(r.received_at), 'resolved_at', rfc3339(r.resolved_at),
    'closed_at', rfc3339(r.closed_at),
    'work_order', wo,
    'sla', json_build_object('next_due', rfc3339(r.sla_next_due),
        'overdue', r.sla_next_due IS NOT NULL AND r.sla_next_due < now(),
        'due', json_build_object('first_response', rfc3339(r.due_first_response),
            'on_site', rfc3339(r.due_on_site), 'answer', rfc3339(r.due_answer),
            'resolution', rfc3339(r.due_resolution), 'handover', rfc3339(r.due_handover),
            'callback', rfc3339(r.due_callback), 'gm_report', rfc3339(r.due_gm_report))),
    'version', r.version, 'created_at', rfc3339(r.created_at), 'updated_at', rfc3339(r.updated_at));
END $$;

-- The timeline reduced to what the SLA clocks read, as a JSON array of arrays:
-- [action, actor_role, from_state, to_state, occurred_at (epoch s), public comment,
--  level, target, new_due (epoch s), appointment_at (epoch s)] in the order things
-- happened (a paper record entered later sorts by when it really happened).
CREATE FUNCTION sla_events_json(p_request uuid) RETURNS json
LANGUAGE sql STABLE AS $$
SELECT coalesce(json_agg(json_build_array(e.action, e.actor_role, e.from_state, e.to_state,
        floor(extract(epoch FROM e.occurred_at))::bigint,
        coalesce(e.details->>'visibility', '') = 'public',
        coalesce((e.details->>'level')::int, 0),
        e.details->>'target',
        coalesce(floor(extract(epoch FROM (e.details->>'new_due')::timestamptz))::bigint, 0),
        coalesce(floor(extract(epoch FROM (e.details->>'appointment_at')::timestamptz))::bigint, 0))
        ORDER BY e.occurred_at, e.seq), '[]')
FROM request_events e WHERE e.request_id = p_request
$$;

-- Alerts already recorded for a request: [target, kind, level, due_at, created_at].
CREATE FUNCTION sla_alerts_json(p_request uuid) RETURNS json
LANGUAGE sql STABLE AS $$
SELECT coalesce(json_agg(json_build_array(a.target, a.kind, a.level,
        floor(extract(epoch FROM a.due_at))::bigint, floor(extract(epoch FROM a.created_at))::bigint)
        ORDER BY a.id), '[]')
FROM sla_alerts a WHERE a.request_id = p_request
$$;

-- The ladder: level → role.
CREATE FUNCTION ladder_role(p_level integer) RETURNS text
LANGUAGE sql IMMUTABLE AS $$
SELECT (ARRAY['agent','supervisor','manager','director','gm'])[p_level + 1]
$$;

INSERT INTO schema_version (version) VALUES (3);
