-- 0002: service requests, work orders, their timeline, comments, attachments, the
-- per-project yearly number counters, and idempotency keys for integrations.

-- 受理编号 counters: one row per (project, year, prefix); the row lock makes numbers
-- unique and gap-free even under concurrent creation.
CREATE TABLE number_counters (
    org_id      uuid    NOT NULL,
    project_id  uuid    NOT NULL,
    year        integer NOT NULL,
    prefix      text    NOT NULL,
    last        integer NOT NULL,
    PRIMARY KEY (project_id, year, prefix),
    FOREIGN KEY (org_id, project_id) REFERENCES projects (org_id, id)
);

CREATE TABLE requests (
    id                    uuid        PRIMARY KEY DEFAULT gen_random_uuid(),
    org_id                uuid        NOT NULL,
    project_id            uuid        NOT NULL,
    number                text        NOT NULL,
    type                  text        NOT NULL CHECK (type IN ('complaint','repair','inquiry','suggestion','praise','emergency')),
    channel               text        NOT NULL CHECK (channel IN ('phone','visit','letter','fax','app','web','email','night_desk','patrol','integration','survey','other')),
    severity              text        CHECK (severity IN ('major','important','general')),
    category              text        CHECK (category IN ('attitude','timeliness','quality','service_range','developer_legacy','fees','other')),
    validity              text        NOT NULL DEFAULT 'unknown' CHECK (validity IN ('unknown','valid','invalid')),
    state                 text        NOT NULL DEFAULT 'received' CHECK (state IN ('received','dispatched','accepted','on_site','pending','resolved','callback','closed','rejected','not_responsible')),
    state_before_pending  text,
    pending_reason        text        CHECK (pending_reason IN ('customer','appointment','parts','developer','other')),
    pending_until         timestamptz,
    location_kind         text        NOT NULL CHECK (location_kind IN ('unit','common_area')),
    unit_id               uuid,
    common_area           text        CHECK (length(common_area) <= 200),
    reporter_resident_id  uuid,
    reporter_user_id      uuid,
    reporter_name         text        CHECK (length(reporter_name) <= 100),
    reporter_phone        text        CHECK (length(reporter_phone) <= 40),
    title                 text        CHECK (length(title) <= 200),
    description           text        NOT NULL CHECK (length(description) BETWEEN 1 AND 10000),
    customer_deadline     timestamptz,
    department_id         uuid,
    assignee_id           uuid,
    reporting_dept_kind   text        CHECK (reporting_dept_kind IN ('customer_service','engineering','security','cleaning','greenery','finance','supplier','other')),
    external_source       text        CHECK (length(external_source) <= 64),
    external_id           text        CHECK (length(external_id) <= 128),
    night_desk            boolean     NOT NULL DEFAULT false,
    handed_over_at        timestamptz,
    reopen_count          integer     NOT NULL DEFAULT 0,
    escalation_level      integer     NOT NULL DEFAULT 0,
    explanation           text        CHECK (length(explanation) <= 4000),
    resolution            text        CHECK (length(resolution) <= 4000),
    received_at           timestamptz NOT NULL,
    resolved_at           timestamptz,
    closed_at             timestamptz,
    last_event_at         timestamptz NOT NULL,
    -- The authenticated creator.  No foreign key: every creation by one desk account would
    -- key-share-lock the same users row (multixacts under load); users are never deleted.
    created_by            uuid        NOT NULL,
    version               integer     NOT NULL DEFAULT 1,
    created_at            timestamptz NOT NULL DEFAULT clock_timestamp(),
    updated_at            timestamptz NOT NULL DEFAULT clock_timestamp(),
    FOREIGN KEY (org_id, project_id) REFERENCES projects (org_id, id),
    FOREIGN KEY (org_id, unit_id) REFERENCES units (org_id, id),
    FOREIGN KEY (org_id, reporter_resident_id) REFERENCES residents (org_id, id),
    FOREIGN KEY (org_id, reporter_user_id) REFERENCES users (org_id, id),
    FOREIGN KEY (org_id, department_id) REFERENCES departments (org_id, id),
    FOREIGN KEY (org_id, assignee_id) REFERENCES users (org_id, id),
    CHECK ((location_kind = 'unit') = (unit_id IS NOT NULL)),
    CHECK (location_kind = 'unit' OR common_area IS NOT NULL),
    CHECK (type = 'complaint' OR severity IS NULL),
    CHECK ((external_source IS NULL) = (external_id IS NULL)),
    UNIQUE (project_id, number),
    UNIQUE (org_id, id)
);
-- One push per external record, per organisation.
CREATE UNIQUE INDEX requests_external ON requests (org_id, external_source, external_id)
    WHERE external_source IS NOT NULL;
-- Lists: newest first, keyset on (created_at, id); one index per common filter.  Columns
-- that are empty at intake get partial indexes, so a creation does not pay for them.
CREATE INDEX requests_org_created ON requests (org_id, created_at DESC, id DESC);
CREATE INDEX requests_project_created ON requests (project_id, created_at DESC, id DESC);
CREATE INDEX requests_state_created ON requests (project_id, state, created_at DESC, id DESC);
CREATE INDEX requests_dept_created ON requests (department_id, created_at DESC, id DESC) WHERE department_id IS NOT NULL;
CREATE INDEX requests_assignee_created ON requests (assignee_id, created_at DESC, id DESC) WHERE assignee_id IS NOT NULL;
CREATE INDEX requests_unit_created ON requests (unit_id, created_at DESC, id DESC);
CREATE INDEX requests_reporter_created ON requests (reporter_user_id, created_at DESC, id DESC) WHERE reporter_user_id IS NOT NULL;
CREATE INDEX requests_updated ON requests (org_id, updated_at DESC);
-- Free-text search finds Chinese substrings: words are two characters long (漏水, 电梯),
-- below what trigrams can index, so the text is indexed by its character bigrams and a
-- LIKE rechecks the candidates.
-- PL/pgSQL so its query plan is cached per session (a SQL function holding an aggregate
-- is planned again on every call, and every insert calls it).  Duplicates are left in:
-- GIN keeps each key once.
CREATE FUNCTION search_bigrams(t text) RETURNS text[]
LANGUAGE plpgsql IMMUTABLE STRICT PARALLEL SAFE AS $$
BEGIN
    RETURN coalesce((SELECT array_agg(substr(t, i, 2)) FROM generate_series(1, length(t) - 1) AS i),
                    '{}');
END $$;
CREATE INDEX requests_text ON requests USING gin
    (search_bigrams(coalesce(title, '') || ' ' || description || ' ' || number));

-- 工作任务单: the order sent to a department.  A request can have several over its life
-- (reopened, redispatched); the latest is the active one.
CREATE TABLE work_orders (
    id                  uuid        PRIMARY KEY DEFAULT gen_random_uuid(),
    org_id              uuid        NOT NULL,
    project_id          uuid        NOT NULL,
    request_id          uuid        NOT NULL,
    number              text        NOT NULL,
    department_id       uuid        NOT NULL,
    assignee_id         uuid,
    state               text        NOT NULL DEFAULT 'dispatched' CHECK (state IN ('dispatched','accepted','on_site','done_unsigned','signed_off','cancelled')),
    appointment_at      timestamptz,
    dispatched_at       timestamptz NOT NULL,
    accepted_at         timestamptz,
    arrived_at          timestamptz,
    reported_at         timestamptz,
    result              text        CHECK (length(result) <= 4000),
    signed_at           timestamptz,
    signer_kind         text        CHECK (signer_kind IN ('resident','staff')),
    signer_resident_id  uuid,
    signer_user_id      uuid,
    signer_name         text,
    version             integer     NOT NULL DEFAULT 1,
    created_at          timestamptz NOT NULL DEFAULT clock_timestamp(),
    updated_at          timestamptz NOT NULL DEFAULT clock_timestamp(),
    FOREIGN KEY (org_id, request_id) REFERENCES requests (org_id, id),
    FOREIGN KEY (org_id, department_id) REFERENCES departments (org_id, id),
    FOREIGN KEY (org_id, assignee_id) REFERENCES users (org_id, id),
    FOREIGN KEY (org_id, signer_resident_id) REFERENCES residents (org_id, id),
    FOREIGN KEY (org_id, signer_user_id) REFERENCES users (org_id, id),
    UNIQUE (project_id, number),
    UNIQUE (org_id, id)
);
CREATE INDEX work_orders_request ON work_orders (request_id, created_at DESC);
CREATE INDEX work_orders_dept ON work_orders (department_id, created_at DESC, id DESC);
CREATE INDEX work_orders_assignee ON work_orders (assignee_id, created_at DESC, id DESC);

-- The timeline: one row per change, never updated.
CREATE TABLE request_events (
    id            bigint      GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    org_id        uuid        NOT NULL,
    request_id    uuid        NOT NULL,
    seq           integer     NOT NULL,
    actor_id      uuid,
    actor_role    text        NOT NULL,
    action        text        NOT NULL,
    from_state    text,
    to_state      text,
    channel       text,
    occurred_at   timestamptz NOT NULL,
    recorded_at   timestamptz NOT NULL DEFAULT clock_timestamp(),
    details       jsonb       NOT NULL DEFAULT '{}',
    FOREIGN KEY (org_id, request_id) REFERENCES requests (org_id, id),
    UNIQUE (request_id, seq)
);

CREATE TABLE request_comments (
    id           uuid        PRIMARY KEY DEFAULT gen_random_uuid(),
    org_id       uuid        NOT NULL,
    request_id   uuid        NOT NULL,
    author_id    uuid        NOT NULL,
    author_role  text        NOT NULL,
    visibility   text        NOT NULL CHECK (visibility IN ('internal','public')),
    body         text        NOT NULL CHECK (length(body) BETWEEN 1 AND 10000),
    created_at   timestamptz NOT NULL DEFAULT clock_timestamp(),
    FOREIGN KEY (org_id, request_id) REFERENCES requests (org_id, id),
    FOREIGN KEY (org_id, author_id) REFERENCES users (org_id, id)
);
CREATE INDEX request_comments_request ON request_comments (request_id, created_at, id);

CREATE TABLE request_attachments (
    id            uuid        PRIMARY KEY DEFAULT gen_random_uuid(),
    org_id        uuid        NOT NULL,
    request_id    uuid        NOT NULL,
    filename      text        NOT NULL CHECK (length(filename) BETWEEN 1 AND 255),
    content_type  text        NOT NULL CHECK (length(content_type) BETWEEN 3 AND 127),
    size_bytes    bigint      NOT NULL CHECK (size_bytes >= 0),
    storage_key   text        NOT NULL CHECK (length(storage_key) BETWEEN 1 AND 1024),
    url           text        CHECK (length(url) <= 2048),
    sha256        text        CHECK (sha256 ~ '^[0-9a-f]{64}$'),
    visibility    text        NOT NULL DEFAULT 'public' CHECK (visibility IN ('internal','public')),
    uploaded_by   uuid        NOT NULL,
    created_at    timestamptz NOT NULL DEFAULT clock_timestamp(),
    FOREIGN KEY (org_id, request_id) REFERENCES requests (org_id, id),
    FOREIGN KEY (org_id, uploaded_by) REFERENCES users (org_id, id)
);
CREATE INDEX request_attachments_request ON request_attachments (request_id, created_at, id);

-- Idempotency-Key: the first response to a key is replayed for the same body; a
-- different body under the same key is refused.  Kept at least 24 hours.
CREATE TABLE idempotency_keys (
    org_id        uuid        NOT NULL,
    user_id       uuid        NOT NULL,
    key           text        NOT NULL CHECK (length(key) BETWEEN 1 AND 200),
    body_hash     text        NOT NULL,
    status        integer     NOT NULL,
    response      text        NOT NULL,
    created_at    timestamptz NOT NULL DEFAULT clock_timestamp(),
    PRIMARY KEY (org_id, user_id, key)
);
CREATE INDEX idempotency_keys_age ON idempotency_keys (created_at);

-- Next value of a per-(project, year, prefix) number series.  Sequences never hand out
-- a value twice and never block concurrent callers (a counter row would serialise every
-- creation in a project on one row lock); a rolled-back creation leaves a gap, which the
-- numbering allows.  The sequence is made on first use under an advisory lock.
CREATE FUNCTION next_number(p_project uuid, p_prefix text, p_year integer) RETURNS text
LANGUAGE plpgsql AS $$
DECLARE
    s text := format('num_%s_%s_%s', replace(p_project::text, '-', ''), p_year, lower(p_prefix));
BEGIN
    IF to_regclass(s) IS NULL THEN
        PERFORM pg_advisory_xact_lock(hashtext(s));
        EXECUTE format('CREATE SEQUENCE IF NOT EXISTS %I', s);
    END IF;
    RETURN p_prefix || '-' || p_year || '-' || lpad(nextval(s)::text, 6, '0');
END $$;

-- The JSON of a request as the API returns it; pii=false masks the reporter's phone.
CREATE FUNCTION request_json(r requests, pii boolean) RETURNS json
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
    'version', r.version, 'created_at', rfc3339(r.created_at), 'updated_at', rfc3339(r.updated_at));
END $$;

INSERT INTO schema_version (version) VALUES (2);
