-- schema.sql — the whole current schema of deskd, as a snapshot: every object is
-- defined once, in its final form (no ALTERs, no redefinitions).  Applied as-is to an
-- empty database; existing databases are brought forward by db/migrations/NNNN_*.sql
-- instead, and tests/db/test_schema.c proves both give the same catalog.  So a column a
-- migration adds goes at the end of its table here too (column order is part of the
-- catalog), and a change is written twice: as a new migration and into this file.  The
-- last statement records the version, which must equal the highest migration number.
--
-- Every table carries org_id, and every reference between tenant tables is a composite
-- foreign key (org_id, id) so a row can never point into another organisation.

CREATE TABLE schema_version (
    version     integer     NOT NULL PRIMARY KEY,
    applied_at  timestamptz NOT NULL DEFAULT now()
);

-- RFC 3339 UTC text for JSON output, with microseconds so cursors are exact.  STABLE
-- like the to_char() it wraps, so PostgreSQL inlines it instead of planning a call.
CREATE FUNCTION rfc3339(t timestamptz) RETURNS text
LANGUAGE sql STABLE PARALLEL SAFE AS
$$ SELECT to_char(t AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.US"Z"') $$;

-- Phone numbers for roles that must not see them in full: keep the first 3 and last 4.
CREATE FUNCTION mask_phone(p text) RETURNS text
LANGUAGE sql IMMUTABLE PARALLEL SAFE AS
$$ SELECT CASE WHEN p IS NULL THEN NULL
               WHEN length(p) <= 7 THEN repeat('*', length(p))
               ELSE left(p, 3) || repeat('*', length(p) - 7) || right(p, 4) END $$;

CREATE TABLE organisations (
    id          uuid        PRIMARY KEY DEFAULT gen_random_uuid(),
    org_id      uuid        GENERATED ALWAYS AS (id) STORED,
    code        text        NOT NULL UNIQUE CHECK (code ~ '^[a-z0-9][a-z0-9_-]{1,62}$'),
    name        text        NOT NULL CHECK (length(name) BETWEEN 1 AND 200),
    phone       text,
    address     text,
    version     integer     NOT NULL DEFAULT 1,
    created_at  timestamptz NOT NULL DEFAULT clock_timestamp(),
    updated_at  timestamptz NOT NULL DEFAULT clock_timestamp(),
    -- A hosting operator's switch: while false none of its users can log in or use a token.
    active          boolean     NOT NULL DEFAULT true,
    deactivated_at  timestamptz
);

CREATE TABLE projects (
    id              uuid        PRIMARY KEY DEFAULT gen_random_uuid(),
    org_id          uuid        NOT NULL REFERENCES organisations(id),
    code            text        NOT NULL CHECK (length(code) BETWEEN 1 AND 64),
    name            text        NOT NULL CHECK (length(name) BETWEEN 1 AND 200),
    time_zone       text        NOT NULL,
    business_hours  jsonb       NOT NULL,
    address         text,
    phone           text,
    version         integer     NOT NULL DEFAULT 1,
    created_at      timestamptz NOT NULL DEFAULT clock_timestamp(),
    updated_at      timestamptz NOT NULL DEFAULT clock_timestamp(),
    mail_remind_days    integer CHECK (mail_remind_days BETWEEN 1 AND 60),
    lost_unclaimed_days integer CHECK (lost_unclaimed_days BETWEEN 1 AND 3650),
    -- RULES §3.2.9 (0025): the departments' satisfaction target in per cent (NULL: 90).
    survey_target_percent integer CHECK (survey_target_percent BETWEEN 1 AND 100),
    UNIQUE (org_id, code),
    UNIQUE (org_id, id)
);
CREATE INDEX projects_list ON projects (org_id, created_at, id);

CREATE TABLE buildings (
    id          uuid        PRIMARY KEY DEFAULT gen_random_uuid(),
    org_id      uuid        NOT NULL,
    project_id  uuid        NOT NULL,
    code        text        NOT NULL CHECK (length(code) BETWEEN 1 AND 64),
    name        text        NOT NULL CHECK (length(name) BETWEEN 1 AND 200),
    floors      integer     CHECK (floors BETWEEN 1 AND 300),
    version     integer     NOT NULL DEFAULT 1,
    created_at  timestamptz NOT NULL DEFAULT clock_timestamp(),
    updated_at  timestamptz NOT NULL DEFAULT clock_timestamp(),
    FOREIGN KEY (org_id, project_id) REFERENCES projects (org_id, id),
    UNIQUE (project_id, code),
    UNIQUE (org_id, id),
    UNIQUE (project_id, id)
);
CREATE INDEX buildings_list ON buildings (org_id, created_at, id);
CREATE INDEX buildings_project ON buildings (project_id, created_at, id);

CREATE TABLE units (
    id           uuid        PRIMARY KEY DEFAULT gen_random_uuid(),
    org_id       uuid        NOT NULL,
    project_id   uuid        NOT NULL,
    building_id  uuid        NOT NULL,
    code         text        NOT NULL CHECK (length(code) BETWEEN 1 AND 64),
    floor        integer     CHECK (floor BETWEEN -10 AND 300),
    area_m2      numeric(10,2) CHECK (area_m2 > 0),
    status       text        NOT NULL DEFAULT 'occupied' CHECK (status IN ('occupied','vacant','rented','decorating')),
    version      integer     NOT NULL DEFAULT 1,
    created_at   timestamptz NOT NULL DEFAULT clock_timestamp(),
    updated_at   timestamptz NOT NULL DEFAULT clock_timestamp(),
    FOREIGN KEY (org_id, project_id) REFERENCES projects (org_id, id),
    FOREIGN KEY (org_id, building_id) REFERENCES buildings (org_id, id),
    FOREIGN KEY (project_id, building_id) REFERENCES buildings (project_id, id),
    UNIQUE (building_id, code),
    UNIQUE (org_id, id)
);
CREATE INDEX units_list ON units (org_id, created_at, id);
CREATE INDEX units_project ON units (project_id, created_at, id);
CREATE INDEX units_building ON units (building_id, created_at, id);

CREATE TABLE departments (
    id          uuid        PRIMARY KEY DEFAULT gen_random_uuid(),
    org_id      uuid        NOT NULL REFERENCES organisations(id),
    project_id  uuid,
    kind        text        NOT NULL CHECK (kind IN ('customer_service','engineering','security','cleaning','greenery','finance','supplier','other')),
    name        text        NOT NULL CHECK (length(name) BETWEEN 1 AND 200),
    phone       text,
    version     integer     NOT NULL DEFAULT 1,
    created_at  timestamptz NOT NULL DEFAULT clock_timestamp(),
    updated_at  timestamptz NOT NULL DEFAULT clock_timestamp(),
    FOREIGN KEY (org_id, project_id) REFERENCES projects (org_id, id),
    UNIQUE (org_id, id)
);
CREATE INDEX departments_list ON departments (org_id, created_at, id);
CREATE INDEX departments_project ON departments (project_id, created_at, id);

CREATE TABLE residents (
    id              uuid        PRIMARY KEY DEFAULT gen_random_uuid(),
    org_id          uuid        NOT NULL,
    project_id      uuid        NOT NULL,
    name            text        NOT NULL CHECK (length(name) BETWEEN 1 AND 200),
    phone           text,
    -- ID numbers are kept only as a keyed hash so they can be verified, never read back.
    id_number_hash  text,
    version         integer     NOT NULL DEFAULT 1,
    created_at      timestamptz NOT NULL DEFAULT clock_timestamp(),
    updated_at      timestamptz NOT NULL DEFAULT clock_timestamp(),
    FOREIGN KEY (org_id, project_id) REFERENCES projects (org_id, id),
    UNIQUE (org_id, id)
);
CREATE INDEX residents_list ON residents (org_id, created_at, id);
CREATE INDEX residents_project ON residents (project_id, created_at, id);

CREATE TABLE resident_units (
    org_id       uuid    NOT NULL,
    resident_id  uuid    NOT NULL,
    unit_id      uuid    NOT NULL,
    relation     text    NOT NULL CHECK (relation IN ('owner','tenant','family')),
    is_adult     boolean NOT NULL DEFAULT true,
    PRIMARY KEY (resident_id, unit_id),
    FOREIGN KEY (org_id, resident_id) REFERENCES residents (org_id, id) ON DELETE CASCADE,
    FOREIGN KEY (org_id, unit_id) REFERENCES units (org_id, id)
);
CREATE INDEX resident_units_unit ON resident_units (unit_id);

CREATE TABLE users (
    id             uuid        PRIMARY KEY DEFAULT gen_random_uuid(),
    org_id         uuid        NOT NULL REFERENCES organisations(id),
    username       text        NOT NULL CHECK (username ~ '^[A-Za-z0-9._@-]{2,64}$'),
    display_name   text        NOT NULL CHECK (length(display_name) BETWEEN 1 AND 200),
    role           text        NOT NULL CHECK (role IN ('resident','agent','technician','security','supervisor','manager','director','gm','clerk','integration','auditor','admin')),
    department_id  uuid,
    resident_id    uuid,
    phone          text,
    password_hash  text        NOT NULL,
    active         boolean     NOT NULL DEFAULT true,
    failed_logins  integer     NOT NULL DEFAULT 0,
    locked_until   timestamptz,
    version        integer     NOT NULL DEFAULT 1,
    created_at     timestamptz NOT NULL DEFAULT clock_timestamp(),
    updated_at     timestamptz NOT NULL DEFAULT clock_timestamp(),
    FOREIGN KEY (org_id, department_id) REFERENCES departments (org_id, id),
    FOREIGN KEY (org_id, resident_id) REFERENCES residents (org_id, id),
    CHECK ((role = 'resident') = (resident_id IS NOT NULL)),
    UNIQUE (org_id, id)
);
-- Usernames are global so that login needs no organisation; case-insensitive.
CREATE UNIQUE INDEX users_username ON users (lower(username));
CREATE INDEX users_list ON users (org_id, created_at, id);

CREATE TABLE user_projects (
    org_id      uuid NOT NULL,
    user_id     uuid NOT NULL,
    project_id  uuid NOT NULL,
    PRIMARY KEY (user_id, project_id),
    FOREIGN KEY (org_id, user_id) REFERENCES users (org_id, id) ON DELETE CASCADE,
    FOREIGN KEY (org_id, project_id) REFERENCES projects (org_id, id)
);
CREATE INDEX user_projects_project ON user_projects (project_id);

CREATE TABLE refresh_tokens (
    id          uuid        PRIMARY KEY DEFAULT gen_random_uuid(),
    org_id      uuid        NOT NULL,
    user_id     uuid        NOT NULL,
    family_id   uuid        NOT NULL,
    token_hash  text        NOT NULL UNIQUE,
    created_at  timestamptz NOT NULL DEFAULT clock_timestamp(),
    expires_at  timestamptz NOT NULL,
    used_at     timestamptz,
    revoked_at  timestamptz,
    FOREIGN KEY (org_id, user_id) REFERENCES users (org_id, id) ON DELETE CASCADE
);
CREATE INDEX refresh_tokens_family ON refresh_tokens (family_id);

-- Service requests, work orders, their timeline, comments, attachments, the
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

-- A request's value rules.  Domains and varchar(n), not table CHECKs: PostgreSQL reads
-- and plans a table's CHECK constraints again for every INSERT/UPDATE statement but
-- caches a domain's per session (migration 0005); only the rules relating two columns
-- remain CHECKs on the table.
CREATE DOMAIN request_type AS text
    CHECK (VALUE IN ('complaint','repair','inquiry','suggestion','praise','emergency'));
CREATE DOMAIN request_channel AS text
    CHECK (VALUE IN ('phone','visit','letter','fax','app','web','email','night_desk','patrol','integration','survey','other'));
CREATE DOMAIN complaint_severity AS text CHECK (VALUE IN ('major','important','general'));
CREATE DOMAIN complaint_category AS text
    CHECK (VALUE IN ('attitude','timeliness','quality','service_range','developer_legacy','fees','other'));
CREATE DOMAIN request_validity AS text CHECK (VALUE IN ('unknown','valid','invalid'));
CREATE DOMAIN request_state AS text
    CHECK (VALUE IN ('received','dispatched','accepted','on_site','pending','resolved','callback','closed','rejected','not_responsible'));
CREATE DOMAIN pending_reason AS text
    CHECK (VALUE IN ('customer','appointment','parts','developer','other'));
CREATE DOMAIN location_kind AS text CHECK (VALUE IN ('unit','common_area'));
CREATE DOMAIN department_kind AS text
    CHECK (VALUE IN ('customer_service','engineering','security','cleaning','greenery','finance','supplier','other'));

CREATE TABLE requests (
    id                    uuid        PRIMARY KEY DEFAULT gen_random_uuid(),
    org_id                uuid        NOT NULL,
    project_id            uuid        NOT NULL,
    number                text        NOT NULL,
    type                  request_type NOT NULL,
    channel               request_channel NOT NULL,
    severity              complaint_severity,
    category              complaint_category,
    validity              request_validity NOT NULL DEFAULT 'unknown',
    state                 request_state NOT NULL DEFAULT 'received',
    state_before_pending  text,
    pending_reason        pending_reason,
    pending_until         timestamptz,
    location_kind         location_kind NOT NULL,
    unit_id               uuid,
    common_area           varchar(200),
    reporter_resident_id  uuid,
    reporter_user_id      uuid,
    reporter_name         varchar(100),
    reporter_phone        varchar(40),
    title                 varchar(200),
    description           varchar(10000) NOT NULL,
    customer_deadline     timestamptz,
    department_id         uuid,
    assignee_id           uuid,
    reporting_dept_kind   department_kind,
    external_source       varchar(64),
    external_id           varchar(128),
    night_desk            boolean     NOT NULL DEFAULT false,
    handed_over_at        timestamptz,
    reopen_count          integer     NOT NULL DEFAULT 0,
    escalation_level      integer     NOT NULL DEFAULT 0,
    explanation           varchar(4000),
    resolution            varchar(4000),
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
    -- The SLA policy and calendar versions the request started with.  Versions are
    -- immutable and never deleted; no foreign keys, so creations do not all lock the same
    -- few version rows.
    sla_policy_version_id    uuid,
    sla_calendar_version_id  uuid,
    -- Each clock's due time (NULL when it does not run), the earliest of them, and when
    -- the sweeper looks at the request next.
    due_first_response    timestamptz,
    due_on_site           timestamptz,
    due_answer            timestamptz,
    due_resolution        timestamptz,
    due_handover          timestamptz,
    due_callback          timestamptz,
    due_gm_report         timestamptz,
    sla_next_due          timestamptz,
    sla_next_check        timestamptz,
    -- The distinct character bigrams of "title description number" (see search_bigrams()):
    -- a column, not an expression index, so an insert does not run a function per row
    -- inside index maintenance.
    search_terms          text[]      NOT NULL,
    -- 首问负责制 (0022): who first received the matter (staff who registered it) and who
    -- owns it now (the first receiver until it is handed on).  No foreign keys, as for
    -- created_by.
    first_receiver_id     uuid,
    owner_id              uuid,
    -- 返修 (0022): a repair of the same unit and category within 30 days of a previous
    -- one closing (request_intake_flow()).
    repeat_of             uuid,
    is_repeat             boolean     NOT NULL DEFAULT false,
    -- Telling the customer (0022): when someone will come, and the approximate deadline
    -- (大致期限) given for a hard problem.
    appointment_at        timestamptz,
    promised_by           timestamptz,
    -- Any record_notification event (0039, trigger request_notified): GET reads the
    -- notifications only when set.  Derived; not audited, not in the request's JSON.
    has_notifications     boolean     NOT NULL DEFAULT false,
    -- 0040: created by a staff role, with its `create` event at received_at (req_create):
    -- the monthly report's first staff action without a request_facts row.
    staff_created         boolean     NOT NULL DEFAULT false,
    -- Any work order / register note (0043, triggers request_has_work_orders and
    -- request_has_register_notes): GET joins the latest work order and says "has notes" only
    -- when set.  Derived; not audited, not in the request's JSON.
    has_work_orders       boolean     NOT NULL DEFAULT false,
    has_register_notes    boolean     NOT NULL DEFAULT false,
    FOREIGN KEY (org_id, reporter_resident_id) REFERENCES residents (org_id, id),
    FOREIGN KEY (org_id, department_id) REFERENCES departments (org_id, id),
    CHECK ((location_kind = 'unit') = (unit_id IS NOT NULL)),
    CHECK (location_kind = 'unit' OR common_area IS NOT NULL),
    CHECK (type = 'complaint' OR severity IS NULL),
    CHECK ((external_source IS NULL) = (external_id IS NULL)),
    CONSTRAINT requests_description_check CHECK (description <> ''),
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
-- "What is due next" and the sweeper's work queue are index range scans.
CREATE INDEX requests_next_due ON requests (project_id, sla_next_due) WHERE sla_next_due IS NOT NULL;
CREATE INDEX requests_next_check ON requests (sla_next_check) WHERE sla_next_check IS NOT NULL;
CREATE INDEX requests_text ON requests USING gin (search_terms);
-- 0022: the previous closed repair of a unit (repeat detection at intake) and "my
-- registrations still open" (the repairs of a period use requests_project_received).
CREATE INDEX requests_repeat_lookup ON requests (unit_id, closed_at DESC) WHERE type = 'repair' AND state = 'closed';
CREATE INDEX requests_owner_created ON requests (owner_id, created_at DESC, id DESC) WHERE owner_id IS NOT NULL;
CREATE INDEX requests_first_receiver_created ON requests (first_receiver_id, created_at DESC, id DESC) WHERE first_receiver_id IS NOT NULL;
-- Free-text search finds Chinese substrings: words are two characters long (漏水, 电梯),
-- below what trigrams can index, so a request's text ("title description number") is
-- indexed by its character bigrams (requests.search_terms) and a LIKE rechecks
-- the candidates.  deskd cuts the same bigrams at intake (core/search.c); this function
-- cuts them for queries, edits and migrations.  Linear: the text is split into characters
-- once and each is paired with the next.  PL/pgSQL so its plan is cached per session.
CREATE FUNCTION search_bigrams(t text) RETURNS text[]
LANGUAGE plpgsql IMMUTABLE STRICT PARALLEL SAFE AS $$
BEGIN
    RETURN coalesce((SELECT array_agg(DISTINCT b) FROM
                        (SELECT c || lead(c) OVER (ORDER BY i) AS b
                         FROM unnest(string_to_array(t, NULL)) WITH ORDINALITY AS u(c, i)) s
                     WHERE b IS NOT NULL), '{}');
END $$;

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
    state               text        NOT NULL DEFAULT 'dispatched' CONSTRAINT work_orders_state_check CHECK (state IN ('dispatched','accepted','on_site','done_unsigned','signed_off','cancelled','declined')),
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
    -- A refusal (拒绝接单, 0022): why, by whom, when.
    decline_reason      text        CHECK (decline_reason IN ('not_ours','parts','no_access','other')),
    decline_note        text        CHECK (length(decline_note) <= 4000),
    declined_at         timestamptz,
    declined_by         uuid,
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
-- Refusals of a period, counted per department and person (0022).
CREATE INDEX work_orders_declined ON work_orders (project_id, declined_at) WHERE state = 'declined';

-- Responsibility zones (0022, 002 第15篇 4.2.4): a common area of a project, named as the
-- desk writes it in a request's location, with the department and the person responsible
-- for it.  A public-facility repair there is dispatched to them by default, else to the
-- project's engineering department, whose technician on duty takes it.
CREATE TABLE zones (
    id                   uuid        PRIMARY KEY DEFAULT gen_random_uuid(),
    org_id               uuid        NOT NULL,
    project_id           uuid        NOT NULL,
    name                 text        NOT NULL CHECK (length(name) BETWEEN 1 AND 200),
    department_id        uuid        NOT NULL,
    responsible_user_id  uuid,
    version              integer     NOT NULL DEFAULT 1,
    created_at           timestamptz NOT NULL DEFAULT clock_timestamp(),
    updated_at           timestamptz NOT NULL DEFAULT clock_timestamp(),
    FOREIGN KEY (org_id, project_id) REFERENCES projects (org_id, id),
    FOREIGN KEY (org_id, department_id) REFERENCES departments (org_id, id),
    FOREIGN KEY (org_id, responsible_user_id) REFERENCES users (org_id, id),
    UNIQUE (project_id, name),
    UNIQUE (org_id, id)
);
CREATE INDEX zones_department ON zones (department_id);

-- A zone's department works on its project (or organisation-wide), and its responsible
-- person is an active member of that department.
CREATE FUNCTION zones_check() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
    IF NOT EXISTS (SELECT 1 FROM departments d WHERE d.id = NEW.department_id
                   AND d.org_id = NEW.org_id
                   AND (d.project_id IS NULL OR d.project_id = NEW.project_id)) THEN
        RAISE EXCEPTION 'department_id is not a department of the zone''s project'
            USING ERRCODE = 'check_violation', CONSTRAINT = 'zones_department_project';
    END IF;
    IF NEW.responsible_user_id IS NOT NULL AND NOT EXISTS (SELECT 1 FROM users u
            WHERE u.id = NEW.responsible_user_id AND u.org_id = NEW.org_id AND u.active
              AND u.department_id = NEW.department_id) THEN
        RAISE EXCEPTION 'responsible_user_id is not an active member of the zone''s department'
            USING ERRCODE = 'check_violation', CONSTRAINT = 'zones_responsible_member';
    END IF;
    RETURN NEW;
END $$;
CREATE TRIGGER zones_check BEFORE INSERT OR UPDATE ON zones FOR EACH ROW EXECUTE FUNCTION zones_check();

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

-- The JSON of a request as the API returns it, with its active work order and SLA due
-- times; pii=false masks the reporter's phone.
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
                'name', w.signer_name) END,
            'decline', CASE WHEN w.state = 'declined' THEN json_build_object('reason', w.decline_reason,
                'note', w.decline_note, 'by', w.declined_by, 'at', rfc3339(w.declined_at)) END)
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
    'first_receiver_id', r.first_receiver_id, 'owner_id', r.owner_id,
    'repeat_of', r.repeat_of, 'is_repeat', r.is_repeat,
    'appointment_at', rfc3339(r.appointment_at), 'promised_by', rfc3339(r.promised_by),
    'notifications_made', (SELECT coalesce(json_agg(json_build_object(
            'by_user_id', coalesce((e.details->>'by_user_id')::uuid, e.actor_id),
            'to_department_id', e.details->>'to_department_id', 'to_user_id', e.details->>'to_user_id',
            'at', rfc3339(coalesce((e.details->>'notified_at')::timestamptz, e.occurred_at)),
            'recorded_by', e.actor_id, 'note', e.details->>'note')
            ORDER BY coalesce((e.details->>'notified_at')::timestamptz, e.occurred_at), e.seq), '[]')
        FROM request_events e WHERE e.request_id = r.id AND e.action = 'record_notification'),
    'sla', json_build_object('next_due', rfc3339(r.sla_next_due),
        'overdue', r.sla_next_due IS NOT NULL AND r.sla_next_due < now(),
        'due', json_build_object('first_response', rfc3339(r.due_first_response),
            'on_site', rfc3339(r.due_on_site), 'answer', rfc3339(r.due_answer),
            'resolution', rfc3339(r.due_resolution), 'handover', rfc3339(r.due_handover),
            'callback', rfc3339(r.due_callback), 'gm_report', rfc3339(r.due_gm_report))),
    'version', r.version, 'created_at', rfc3339(r.created_at), 'updated_at', rfc3339(r.updated_at));
END $$;

-- At intake (0022): the first receiver (首问负责制) is the staff member who registered the
-- request — not a resident or another system — and owns it until it is handed on; a repair
-- of a unit whose previous repair of the same category closed within the last 30 days
-- (core_request_is_repeat(), CORE_REQUEST_REPEAT_WINDOW_S) is a repeat repair (返修)
-- linked to that one.
CREATE FUNCTION request_intake_flow() RETURNS trigger
LANGUAGE plpgsql AS $$
DECLARE
    v uuid;
BEGIN
    IF NEW.first_receiver_id IS NULL THEN
        SELECT u.id INTO v FROM users u WHERE u.id = NEW.created_by AND u.org_id = NEW.org_id
            AND u.role NOT IN ('resident', 'integration');
        NEW.first_receiver_id := v;
    END IF;
    NEW.owner_id := coalesce(NEW.owner_id, NEW.first_receiver_id);
    IF NEW.repeat_of IS NULL AND NEW.type = 'repair' AND NEW.unit_id IS NOT NULL THEN
        SELECT p.id INTO v FROM requests p
            WHERE p.unit_id = NEW.unit_id AND p.type = 'repair' AND p.state = 'closed'
              AND p.org_id = NEW.org_id AND p.category IS NOT DISTINCT FROM NEW.category
              AND p.closed_at >= NEW.received_at - interval '30 days'
              AND p.closed_at <= NEW.received_at
            ORDER BY p.closed_at DESC LIMIT 1;
        NEW.repeat_of := v;
    END IF;
    NEW.is_repeat := NEW.repeat_of IS NOT NULL;
    RETURN NEW;
END $$;
-- (0044) Not fired for a staff create: req_create sets the same columns itself (db/request.c).
CREATE TRIGGER request_intake_flow BEFORE INSERT ON requests FOR EACH ROW
    WHEN (NOT NEW.staff_created)
    EXECUTE FUNCTION request_intake_flow();

-- SLA policies and calendars (versioned, immutable versions), alerts (warnings /
-- escalations, each recorded once), the notification outbox, and deadline-extension
-- requests.  The clocks' due times are columns of requests (above).

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
    delivered_at  timestamptz
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

-- 重要投诉 (0022): an important complaint reaches the project director (物业服务中心主任) at
-- once, when it is registered so and when it is re-classified so: the people at ladder level
-- 3 of its project are notified (core_request_severity_ladder_level()).  A major complaint
-- reaches the GM through its SLA policy and the sweeper.
CREATE FUNCTION request_severity_routing() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
    IF NEW.type = 'complaint' AND NEW.severity = 'important'
       AND (TG_OP = 'INSERT' OR OLD.severity IS DISTINCT FROM NEW.severity) THEN
        INSERT INTO notifications (org_id, user_id, kind, request_id, payload)
        SELECT NEW.org_id, u.id, 'important_complaint', NEW.id,
               jsonb_build_object('reason', 'important complaint', 'number', NEW.number)
        FROM users u WHERE u.org_id = NEW.org_id AND u.active AND u.role = ladder_role(3)
            AND EXISTS (SELECT 1 FROM user_projects up WHERE up.user_id = u.id
                        AND up.project_id = NEW.project_id);
    END IF;
    RETURN NULL;
END $$;
CREATE TRIGGER request_severity_routing AFTER INSERT OR UPDATE OF severity ON requests
    FOR EACH ROW WHEN (NEW.severity = 'important') EXECUTE FUNCTION request_severity_routing();

-- Webhooks (RULES §3.12): subscriptions, the outbox of events, one delivery per
-- (subscription, event) and every attempt.  The events are written by a trigger on
-- request_events that runs at COMMIT of the transaction that wrote the timeline row
-- (deferred), so an event carries the request as it was committed and is stored in the
-- same transaction as the change; the worker (api/webhook_worker.c) delivers them.
-- Custody, duty and report events join by a trigger on their own ledgers as those land.
CREATE TABLE webhooks (
    id                     uuid        PRIMARY KEY DEFAULT gen_random_uuid(),
    org_id                 uuid        NOT NULL REFERENCES organisations(id),
    project_id             uuid,
    url                    text        NOT NULL CHECK (length(url) BETWEEN 8 AND 2000),
    description            text        CHECK (length(description) <= 500),
    event_types            text[]      NOT NULL CHECK (cardinality(event_types) BETWEEN 1 AND 64),
    -- 0028: encrypted at rest (api/webhook_secret.h): "whs1$<kid>$<base64>"
    secret                 text        NOT NULL CHECK (length(secret) BETWEEN 16 AND 512),
    previous_secret        text,
    previous_secret_until  timestamptz,
    active                 boolean     NOT NULL DEFAULT true,
    disabled_reason        text,
    disabled_at            timestamptz,
    created_by             uuid,
    version                integer     NOT NULL DEFAULT 1,
    created_at             timestamptz NOT NULL DEFAULT clock_timestamp(),
    updated_at             timestamptz NOT NULL DEFAULT clock_timestamp(),
    FOREIGN KEY (org_id, project_id) REFERENCES projects (org_id, id),
    UNIQUE (org_id, id)
);
CREATE INDEX webhooks_org ON webhooks (org_id, created_at, id);

-- The per-request sequence of webhook events (dense among the events written): the row
-- lock taken to advance it is held to COMMIT, so sequence order is commit order.
CREATE TABLE webhook_sequences (
    request_id  uuid    PRIMARY KEY,
    last_seq    bigint  NOT NULL
);

-- The outbox: one row per event, its id the stable event id consumers de-duplicate by.
CREATE TABLE webhook_events (
    id            uuid        PRIMARY KEY DEFAULT gen_random_uuid(),
    org_id        uuid        NOT NULL,
    project_id    uuid,
    request_id    uuid,
    seq           bigint      NOT NULL,
    type          text        NOT NULL,
    source_event  bigint,
    payload       jsonb       NOT NULL,
    created_at    timestamptz NOT NULL DEFAULT clock_timestamp(),
    -- 0028: the event's subject (a request, a custody item, a callback task, …), sequenced
    -- per subject.
    subject_kind  text        NOT NULL,
    subject_id    uuid        NOT NULL,
    FOREIGN KEY (org_id, request_id) REFERENCES requests (org_id, id),
    UNIQUE (request_id, seq),
    CONSTRAINT webhook_events_subject_seq UNIQUE (subject_kind, subject_id, seq)
);

-- One delivery per (subscription, event).  A claimed delivery stays 'pending' with its
-- next_attempt_at pushed past the attempt's lease, so nobody else takes it meanwhile and a
-- later event of the same request waits for it.
CREATE TABLE webhook_deliveries (
    id               uuid        PRIMARY KEY DEFAULT gen_random_uuid(),
    org_id           uuid        NOT NULL,
    webhook_id       uuid        NOT NULL,
    event_id         uuid        NOT NULL REFERENCES webhook_events (id),
    request_id       uuid,
    seq              bigint      NOT NULL,
    state            text        NOT NULL DEFAULT 'pending'
                                 CHECK (state IN ('pending','delivered','failed')),
    attempts         integer     NOT NULL DEFAULT 0,
    manual           boolean     NOT NULL DEFAULT false,
    claimed_until    timestamptz,
    next_attempt_at  timestamptz NOT NULL DEFAULT clock_timestamp(),
    last_status      integer,
    last_error       text,
    last_attempt_at  timestamptz,
    delivered_at     timestamptz,
    created_at       timestamptz NOT NULL DEFAULT clock_timestamp(),
    subject_kind     text        NOT NULL,
    subject_id       uuid        NOT NULL,
    FOREIGN KEY (org_id, webhook_id) REFERENCES webhooks (org_id, id),
    UNIQUE (webhook_id, event_id)
);
CREATE INDEX webhook_deliveries_due ON webhook_deliveries (next_attempt_at) WHERE state = 'pending';
-- The claim's "earlier pending event of the same subject" probe (0028).
CREATE INDEX webhook_deliveries_order ON webhook_deliveries (webhook_id, subject_kind, subject_id, seq)
    WHERE state = 'pending';
CREATE INDEX webhook_deliveries_list ON webhook_deliveries (webhook_id, created_at DESC, id DESC);
-- Retention (0024): the janitor deletes delivered deliveries DESK_WEBHOOK_RETENTION_DAYS old.
CREATE INDEX webhook_deliveries_delivered ON webhook_deliveries (delivered_at) WHERE state = 'delivered';

-- Every attempt, once: (delivery, attempt) is unique, so two servers can never both record
-- the same attempt.
CREATE TABLE webhook_attempts (
    id           bigint      GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    org_id       uuid        NOT NULL,
    delivery_id  uuid        NOT NULL REFERENCES webhook_deliveries (id),
    attempt      integer     NOT NULL,
    manual       boolean     NOT NULL DEFAULT false,
    server       text        NOT NULL,
    started_at   timestamptz NOT NULL,
    duration_ms  integer     NOT NULL,
    status       integer,
    error        text,
    UNIQUE (delivery_id, attempt)
);

-- A subscription's patterns against an event type: '*', the type itself, or 'prefix.*'
-- (the same rule as core_webhook_type_matches); 'capa.opened' is another name of
-- 'capa.created' (0036).
CREATE FUNCTION webhook_type_matches(p_patterns text[], p_type text) RETURNS boolean
LANGUAGE sql IMMUTABLE AS $$
SELECT EXISTS (SELECT 1 FROM unnest(p_patterns) p
               WHERE p = '*' OR p = p_type
                  OR (p = 'capa.opened' AND p_type = 'capa.created')
                  OR (right(p, 2) = '.*' AND length(p_type) >= length(p)
                      AND left(p_type, length(p) - 1) = left(p, -1)))
$$;

-- The webhook event type of a timeline action; NULL: not announced.
CREATE FUNCTION webhook_event_type(p_action text, p_details jsonb) RETURNS text
LANGUAGE sql IMMUTABLE AS $$
SELECT CASE p_action
    WHEN 'create' THEN 'request.created'
    WHEN 'update' THEN 'request.updated'
    WHEN 'dispatch' THEN 'request.dispatched'
    WHEN 'redispatch' THEN 'request.dispatched'
    WHEN 'accept' THEN 'request.accepted'
    WHEN 'arrive' THEN 'request.arrived'
    WHEN 'report_result' THEN 'request.result_reported'
    WHEN 'sign_off' THEN 'request.signed_off'
    WHEN 'resolve' THEN 'request.resolved'
    WHEN 'pend' THEN 'request.pending'
    WHEN 'resume' THEN 'request.resumed'
    WHEN 'reject' THEN 'request.rejected'
    WHEN 'close_not_responsible' THEN 'request.not_responsible'
    WHEN 'start_callback' THEN 'callback.due'
    WHEN 'callback_result' THEN 'request.callback_done'
    WHEN 'close' THEN 'request.closed'
    WHEN 'reopen' THEN 'request.reopened'
    WHEN 'handover' THEN 'request.handed_over'
    WHEN 'decline' THEN 'request.declined'
    WHEN 'set_appointment' THEN 'request.appointment_set'
    WHEN 'set_deadline' THEN 'request.deadline_set'
    WHEN 'hand_on' THEN 'request.handed_on'
    WHEN 'record_notification' THEN 'request.notification_recorded'
    WHEN 'escalate' THEN 'request.escalated'
    WHEN 'sla_warning' THEN 'sla.warning'
    WHEN 'sla_reapplied' THEN 'sla.reapplied'
    WHEN 'sla_extension_requested' THEN 'sla.extension_requested'
    WHEN 'sla_extension_approved' THEN 'sla.extension_approved'
    WHEN 'sla_extension_rejected' THEN 'sla.extension_rejected'
    WHEN 'comment' THEN CASE WHEN p_details->>'visibility' = 'public' THEN 'request.commented' END
    ELSE 'request.' || p_action
END
$$;

-- At COMMIT, for each timeline row: the events it announces (an automatic escalation that
-- is the first for its clock's breach is announced as sla.breached, then
-- request.escalated), each written once with the next per-request sequence and one
-- delivery per active matching subscription of the organisation (and project).
CREATE FUNCTION webhook_on_request_event() RETURNS trigger
LANGUAGE plpgsql AS $$
DECLARE
    r requests;
    t text;
    types text[] := '{}';
    s bigint;
    ev uuid;
BEGIN
    IF NOT EXISTS (SELECT 1 FROM webhooks w WHERE w.org_id = NEW.org_id AND w.active) THEN
        RETURN NULL;
    END IF;
    t := webhook_event_type(NEW.action, NEW.details);
    IF t IS NULL THEN
        RETURN NULL;
    END IF;
    IF NEW.action = 'escalate' AND coalesce(NEW.details->>'automatic', '') = 'true'
       AND NOT EXISTS (SELECT 1 FROM sla_alerts a WHERE a.request_id = NEW.request_id
                       AND a.kind = 'escalation' AND a.target = NEW.details->>'target'
                       AND abs(extract(epoch FROM a.due_at - (NEW.details->>'due_at')::timestamptz)) < 1
                       AND a.level < (NEW.details->>'level')::int) THEN
        types := ARRAY['sla.breached'];
    END IF;
    types := types || t;
    SELECT * INTO r FROM requests WHERE id = NEW.request_id;
    FOREACH t IN ARRAY types LOOP
        CONTINUE WHEN NOT EXISTS (SELECT 1 FROM webhooks w WHERE w.org_id = NEW.org_id AND w.active
                AND (w.project_id IS NULL OR w.project_id = r.project_id)
                AND webhook_type_matches(w.event_types, t));
        INSERT INTO webhook_sequences AS q (request_id, last_seq) VALUES (NEW.request_id, 1)
            ON CONFLICT (request_id) DO UPDATE SET last_seq = q.last_seq + 1
            RETURNING q.last_seq INTO s;
        ev := gen_random_uuid();
        INSERT INTO webhook_events (id, org_id, project_id, request_id, seq, type, source_event, payload)
        VALUES (ev, NEW.org_id, r.project_id, NEW.request_id, s, t, NEW.id,
            jsonb_build_object('id', ev, 'type', t, 'sequence', s,
                'occurred_at', rfc3339(NEW.occurred_at), 'created_at', rfc3339(clock_timestamp()),
                'organisation_id', NEW.org_id, 'project_id', r.project_id,
                'request_id', NEW.request_id,
                'data', jsonb_build_object(
                    'request', request_json(r, false)::jsonb,
                    'event', jsonb_build_object('seq', NEW.seq, 'action', NEW.action,
                        'actor_role', NEW.actor_role, 'from_state', NEW.from_state,
                        'to_state', NEW.to_state, 'details', NEW.details))));
        INSERT INTO webhook_deliveries (org_id, webhook_id, event_id, request_id, seq)
        SELECT NEW.org_id, w.id, ev, NEW.request_id, s FROM webhooks w
        WHERE w.org_id = NEW.org_id AND w.active
          AND (w.project_id IS NULL OR w.project_id = r.project_id)
          AND webhook_type_matches(w.event_types, t);
    END LOOP;
    RETURN NULL;
END
$$;

CREATE CONSTRAINT TRIGGER request_events_webhooks AFTER INSERT ON request_events
    DEFERRABLE INITIALLY DEFERRED FOR EACH ROW EXECUTE FUNCTION webhook_on_request_event();

-- Monthly reports (migration 0013).
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

-- Roster imports (POST /v1/imports): one row per import, written and committed on a
-- connection of its own while the import runs, so that it can be polled for progress
-- (rows read so far) and stays as the audit record — who, when, the file's SHA-256 and
-- the counts — whether the import was written, only checked (dry run) or refused.
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

-- Custody ledgers (RULES "Common to every custody area", §3.4, §3.13): custody_items is
-- the register of every area, custody_entries the append-only ledger; each item's entries
-- are one hash chain (see db/migrations/0010_custody.sql for the reasoning).
CREATE TABLE custody_items (
    id                    uuid        PRIMARY KEY DEFAULT gen_random_uuid(),
    org_id                uuid        NOT NULL,
    project_id            uuid        NOT NULL,
    area                  text        NOT NULL CHECK (area IN ('keys','archives','mail','lost_property')),
    kind                  text        NOT NULL CHECK (length(kind) BETWEEN 1 AND 64),
    tag                   text        NOT NULL CHECK (length(tag) BETWEEN 1 AND 100),
    description           text        CHECK (length(description) <= 2000),
    unit_id               uuid,
    location              text        CHECK (length(location) <= 200),
    keeper_department_id  uuid,
    key_count             integer     CHECK (key_count BETWEEN 1 AND 1000),
    seal_number           text        CHECK (length(seal_number) BETWEEN 1 AND 100),
    state                 text        NOT NULL CHECK (length(state) BETWEEN 1 AND 64),
    holder_id             uuid,
    due_back              timestamptz,
    open_discrepancy      boolean     NOT NULL DEFAULT false,
    ext                   jsonb       NOT NULL DEFAULT '{}',
    last_seq              integer     NOT NULL DEFAULT 0,
    last_occurred_at      timestamptz,
    head_hash             text        NOT NULL DEFAULT repeat('0', 64),
    version               integer     NOT NULL DEFAULT 1,
    created_by            uuid        NOT NULL,
    created_at            timestamptz NOT NULL DEFAULT clock_timestamp(),
    updated_at            timestamptz NOT NULL DEFAULT clock_timestamp(),
    external_ref          text        CHECK (length(external_ref) BETWEEN 1 AND 200),
    FOREIGN KEY (org_id, project_id) REFERENCES projects (org_id, id),
    FOREIGN KEY (org_id, unit_id) REFERENCES units (org_id, id),
    FOREIGN KEY (org_id, keeper_department_id) REFERENCES departments (org_id, id),
    FOREIGN KEY (org_id, holder_id) REFERENCES users (org_id, id),
    FOREIGN KEY (org_id, created_by) REFERENCES users (org_id, id),
    UNIQUE (project_id, area, tag),
    UNIQUE (org_id, id)
);
CREATE INDEX custody_items_list ON custody_items (org_id, area, created_at, id);
CREATE INDEX custody_items_state ON custody_items (project_id, area, state);
-- 0020: courier-locker pushes are idempotent by their reference; daily lists by due time.
CREATE UNIQUE INDEX custody_items_external_ref ON custody_items (org_id, area, external_ref)
    WHERE external_ref IS NOT NULL;
CREATE INDEX custody_items_due ON custody_items (project_id, area, due_back)
    WHERE due_back IS NOT NULL;
CREATE INDEX custody_items_holder ON custody_items (holder_id) WHERE holder_id IS NOT NULL;

CREATE TABLE custody_entries (
    id            uuid        PRIMARY KEY DEFAULT gen_random_uuid(),
    org_id        uuid        NOT NULL,
    project_id    uuid        NOT NULL,
    item_id       uuid        NOT NULL,
    seq           integer     NOT NULL CHECK (seq >= 1),
    action        text        NOT NULL CHECK (length(action) BETWEEN 1 AND 64),
    actor_id      uuid        NOT NULL,
    actor_role    text        NOT NULL,
    counterparty  jsonb,
    purpose       text        CHECK (length(purpose) <= 4000),
    occurred_at   timestamptz NOT NULL,
    recorded_at   timestamptz NOT NULL,
    approvals     jsonb       NOT NULL DEFAULT '[]',
    witnesses     jsonb       NOT NULL DEFAULT '[]',
    attachments   jsonb       NOT NULL DEFAULT '[]',
    corrects      uuid,
    details       jsonb       NOT NULL DEFAULT '{}',
    prev_hash     text        NOT NULL CHECK (prev_hash ~ '^[0-9a-f]{64}$'),
    hash          text        NOT NULL CHECK (hash ~ '^[0-9a-f]{64}$'),
    FOREIGN KEY (org_id, item_id) REFERENCES custody_items (org_id, id),
    FOREIGN KEY (org_id, actor_id) REFERENCES users (org_id, id),
    FOREIGN KEY (corrects) REFERENCES custody_entries (id),
    UNIQUE (item_id, seq)
);
CREATE INDEX custody_entries_project ON custody_entries (project_id, action, occurred_at);

-- The canonical text of an entry that its hash covers: every stored field except the hashes,
-- with the ledger's identity (organisation, item, seq) so an entry cannot be moved.
CREATE FUNCTION custody_canonical(p_org uuid, p_item uuid, p_seq integer, p_action text,
    p_actor uuid, p_actor_role text, p_counterparty jsonb, p_purpose text,
    p_occurred timestamptz, p_recorded timestamptz, p_approvals jsonb, p_witnesses jsonb,
    p_attachments jsonb, p_corrects uuid, p_details jsonb) RETURNS text
LANGUAGE sql STABLE PARALLEL SAFE AS
$$ SELECT json_build_array(p_org, p_item, p_seq, p_action, p_actor, p_actor_role,
       p_counterparty, p_purpose, rfc3339(p_occurred), rfc3339(p_recorded), p_approvals,
       p_witnesses, p_attachments, p_corrects, p_details)::text $$;

-- Ledger entries are never changed or removed (a correction is a new entry).
CREATE FUNCTION custody_append_only() RETURNS trigger
LANGUAGE plpgsql AS
$$ BEGIN
  RAISE EXCEPTION 'custody ledger entries are append-only: % refused', TG_OP
    USING ERRCODE = 'insufficient_privilege';
END $$;
CREATE TRIGGER custody_entries_append_only BEFORE UPDATE OR DELETE ON custody_entries
    FOR EACH ROW EXECUTE FUNCTION custody_append_only();
CREATE TRIGGER custody_entries_no_truncate BEFORE TRUNCATE ON custody_entries
    FOR EACH STATEMENT EXECUTE FUNCTION custody_append_only();
REVOKE UPDATE, DELETE, TRUNCATE ON custody_entries FROM PUBLIC;

-- 0038: what a request's timeline says for the monthly report, kept at write time (issue 12).
-- report_aggregate (db/report.c) used to work out, per request of the period, the first
-- staff action, the last callback result (when, who, what) and the refusals with a LATERAL
-- aggregate over request_events, and the work orders with a count: 100,000 index probes
-- for a 100,000-request month, about half the statement (bench/README.md).  These triggers
-- keep the same facts in one narrow row per request, joined by (project_id, received_at).
-- A request has a row once any of its facts exists (a staff action, a callback result, a
-- refusal, a work order); no row means none of them.
--   first_staff_at  least occurred_at of an event whose actor_role is staff (not resident,
--                   integration or system: the report's definition)
--   cb_at, cb_seq, cb_by, cb   the last callback_result by (occurred_at, seq): its time,
--                   seq, actor and details
--   declines        the number of decline events
--   wos             the number of work orders
-- No foreign key: the row is derived and written inside the request's own transactions.
CREATE TABLE request_facts (
    request_id      uuid        PRIMARY KEY,
    project_id      uuid        NOT NULL,
    received_at     timestamptz NOT NULL,
    first_staff_at  timestamptz,
    cb_at           timestamptz,
    cb_seq          integer,
    cb_by           uuid,
    cb              jsonb,
    declines        integer     NOT NULL DEFAULT 0,
    wos             integer     NOT NULL DEFAULT 0
);
CREATE INDEX request_facts_project_received ON request_facts (project_id, received_at);

-- Only events that can change a fact reach it (the trigger's WHEN); a staff event after the
-- first staff action changes nothing and is left after one primary-key read, no write.
CREATE FUNCTION request_facts_on_event() RETURNS trigger
LANGUAGE plpgsql AS $$
DECLARE
    staff boolean := NEW.actor_role NOT IN ('resident', 'integration', 'system');
    cbr boolean := NEW.action = 'callback_result';
    dec boolean := NEW.action = 'decline';
    fs timestamptz;
BEGIN
    IF NOT cbr AND NOT dec THEN
        SELECT f.first_staff_at INTO fs FROM request_facts f WHERE f.request_id = NEW.request_id;
        IF fs <= NEW.occurred_at THEN
            RETURN NULL;
        END IF;
    END IF;
    INSERT INTO request_facts AS f (request_id, project_id, received_at, first_staff_at, cb_at,
                                    cb_seq, cb_by, cb, declines)
    SELECT r.id, r.project_id, r.received_at,
           CASE WHEN staff AND NOT (r.staff_created AND NEW.occurred_at >= r.received_at)
                THEN NEW.occurred_at END,
           CASE WHEN cbr THEN NEW.occurred_at END, CASE WHEN cbr THEN NEW.seq END,
           CASE WHEN cbr THEN NEW.actor_id END, CASE WHEN cbr THEN NEW.details END,
           CASE WHEN dec THEN 1 ELSE 0 END
      FROM requests r
     WHERE r.id = NEW.request_id
       AND (cbr OR dec OR NOT (r.staff_created AND NEW.occurred_at >= r.received_at))
    ON CONFLICT (request_id) DO UPDATE SET
        first_staff_at = CASE WHEN excluded.first_staff_at IS NOT NULL
                                   AND (f.first_staff_at IS NULL
                                        OR excluded.first_staff_at < f.first_staff_at)
                              THEN excluded.first_staff_at ELSE f.first_staff_at END,
        cb_at = CASE WHEN cbr AND (f.cb_at IS NULL OR (NEW.occurred_at, NEW.seq) > (f.cb_at, f.cb_seq))
                     THEN NEW.occurred_at ELSE f.cb_at END,
        cb_seq = CASE WHEN cbr AND (f.cb_at IS NULL OR (NEW.occurred_at, NEW.seq) > (f.cb_at, f.cb_seq))
                      THEN NEW.seq ELSE f.cb_seq END,
        cb_by = CASE WHEN cbr AND (f.cb_at IS NULL OR (NEW.occurred_at, NEW.seq) > (f.cb_at, f.cb_seq))
                     THEN NEW.actor_id ELSE f.cb_by END,
        cb = CASE WHEN cbr AND (f.cb_at IS NULL OR (NEW.occurred_at, NEW.seq) > (f.cb_at, f.cb_seq))
                  THEN NEW.details ELSE f.cb END,
        declines = f.declines + CASE WHEN dec THEN 1 ELSE 0 END;
    RETURN NULL;
END $$;
-- (0044) A staff `create` event never makes a fact (req_create writes it at received_at
-- of a staff_created request): left out by the WHEN, the function is not even called.
CREATE TRIGGER request_facts AFTER INSERT ON request_events FOR EACH ROW
    WHEN (NEW.action IN ('callback_result', 'decline')
          OR (NEW.actor_role NOT IN ('resident', 'integration', 'system')
              AND NEW.action <> 'create'))
    EXECUTE FUNCTION request_facts_on_event();

-- requests.has_notifications (0039): set in the transaction that records a notification, so
-- GET /v1/requests/{id} reads the notifications only for the requests that have some.
CREATE FUNCTION request_notified() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
    UPDATE requests SET has_notifications = true
     WHERE id = NEW.request_id AND NOT has_notifications;
    RETURN NULL;
END $$;
CREATE TRIGGER request_notified AFTER INSERT ON request_events FOR EACH ROW
    WHEN (NEW.action = 'record_notification')
    EXECUTE FUNCTION request_notified();

CREATE FUNCTION request_facts_on_work_order() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
    INSERT INTO request_facts AS f (request_id, project_id, received_at, wos)
    SELECT r.id, r.project_id, r.received_at, 1 FROM requests r WHERE r.id = NEW.request_id
    ON CONFLICT (request_id) DO UPDATE SET wos = f.wos + 1;
    RETURN NULL;
END $$;
CREATE TRIGGER request_facts AFTER INSERT ON work_orders FOR EACH ROW
    EXECUTE FUNCTION request_facts_on_work_order();

-- requests.has_work_orders (0043): set in the transaction that writes a request's first
-- work order, so GET /v1/requests/{id} joins the latest work order only when there is one.
CREATE FUNCTION request_has_work_orders() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
    UPDATE requests SET has_work_orders = true
     WHERE id = NEW.request_id AND NOT has_work_orders;
    RETURN NULL;
END $$;
CREATE TRIGGER request_has_work_orders AFTER INSERT OR UPDATE OF request_id ON work_orders
    FOR EACH ROW EXECUTE FUNCTION request_has_work_orders();

-- deskd never moves a request to another project nor changes when it was received; should
-- anything do so, the row follows (UPDATE OF: the trigger is not even queued otherwise).
CREATE FUNCTION request_facts_on_move() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
    UPDATE request_facts SET project_id = NEW.project_id, received_at = NEW.received_at
     WHERE request_id = NEW.id;
    RETURN NULL;
END $$;
CREATE TRIGGER request_facts_move AFTER UPDATE OF project_id, received_at ON requests FOR EACH ROW
    WHEN (OLD.project_id IS DISTINCT FROM NEW.project_id
          OR OLD.received_at IS DISTINCT FROM NEW.received_at)
    EXECUTE FUNCTION request_facts_on_move();

-- The facts of every request that has none yet, from the timeline and the work orders as the
-- report read them before 0038: the backfill below, and the bench load (which skips
-- triggers).  Returns the rows written.
CREATE FUNCTION request_facts_fill() RETURNS bigint
LANGUAGE sql AS $$
    WITH w AS (INSERT INTO request_facts (request_id, project_id, received_at, first_staff_at,
                                          cb_at, cb_seq, cb_by, cb, declines, wos)
        SELECT r.id, r.project_id, r.received_at, ev.first_staff_at, ev.cb_at, ev.cb_seq,
               ev.cb_by, ev.cb, ev.declines, wo.n
          FROM requests r
          CROSS JOIN LATERAL (SELECT
                 min(e.occurred_at) FILTER (WHERE e.actor_role NOT IN ('resident', 'integration', 'system')
                                              AND NOT (r.staff_created AND e.occurred_at >= r.received_at)) AS first_staff_at,
                 max(e.occurred_at) FILTER (WHERE e.action = 'callback_result') AS cb_at,
                 (array_agg(e.seq ORDER BY e.occurred_at DESC, e.seq DESC) FILTER (WHERE e.action = 'callback_result'))[1] AS cb_seq,
                 (array_agg(e.actor_id ORDER BY e.occurred_at DESC, e.seq DESC) FILTER (WHERE e.action = 'callback_result'))[1] AS cb_by,
                 (array_agg(e.details ORDER BY e.occurred_at DESC, e.seq DESC) FILTER (WHERE e.action = 'callback_result'))[1] AS cb,
                 count(*) FILTER (WHERE e.action = 'decline')::int AS declines
            FROM request_events e WHERE e.request_id = r.id) ev
          CROSS JOIN LATERAL (SELECT count(*)::int AS n FROM work_orders o WHERE o.request_id = r.id) wo
         WHERE ev.first_staff_at IS NOT NULL OR ev.cb_at IS NOT NULL OR ev.declines > 0 OR wo.n > 0
        ON CONFLICT (request_id) DO NOTHING
        RETURNING 1)
    SELECT count(*) FROM w
$$;
DO $$
BEGIN
    IF EXISTS (SELECT 1 FROM pg_roles WHERE rolname = 'deskd_app') THEN
        GRANT SELECT, INSERT, UPDATE ON request_facts TO deskd_app;
    END IF;
EXCEPTION WHEN insufficient_privilege THEN
    RAISE NOTICE 'deskd_app not granted on request_facts (%)', SQLERRM;
END $$;

-- 0045: the references on the create and sweep paths are checked without a row lock
-- (issue 14: database work per create and per escalation, bench/bench_wal.sh).
--
-- A foreign key checks each new child row with `SELECT 1 FROM parent … FOR KEY SHARE`: a
-- row lock, so that nobody deletes the parent or changes its key before the child commits.
-- On deskd's hottest paths that lock is pure cost:
--   * every create share-locks its project's and its unit's row — a Heap/LOCK WAL record
--     each, and, with concurrent creates on one project, a new MultiXact for the project row
--     every time (0.76 per create at 64 clients, each copying the member list) — and
--     share-locks its own new row again for its `create` timeline event;
--   * every escalation of the SLA sweep runs four such checks (alert, timeline event,
--     notification → request, notification → user), one SPI query per row.
-- The parents — projects, units, users, requests — are never deleted and their keys never
-- change: deskd has no route that deletes one (users are deactivated, units change status,
-- requests are closed), and records are kept for years.  Triggers below make that a rule
-- of the database (a DELETE, a TRUNCATE or a change of id / org_id is refused), and with it
-- the lock has nothing left to protect: a parent that exists when the child is checked
-- exists for good.  The checks themselves stay, as set-based queries once per statement
-- (a batch of 500 alerts is one anti-join), and raise what a foreign key raises — SQLSTATE
-- 23503 with the same constraint name, message and detail — so clients see no difference.
--
-- References that keep their foreign key: everything else, including requests → residents
-- (residents may be removed) and requests → departments.  A retention purge (RULES rule 8: nothing
-- hard-deleted before its retention period) does not exist; one that is added has to delete
-- a request's timeline, alerts and notifications itself, and change these triggers to let it.

-- The error a foreign key raises, for the checks below.
CREATE FUNCTION ref_violation(child text, con text, cols text, vals text, parent text)
RETURNS void LANGUAGE plpgsql AS $$
BEGIN
    RAISE EXCEPTION 'insert or update on table "%" violates foreign key constraint "%"', child, con
        USING ERRCODE = 'foreign_key_violation', CONSTRAINT = con, TABLE = child,
              DETAIL = format('Key (%s)=(%s) is not present in table "%s".', cols, vals, parent);
END
$$;

-- Parents: never deleted, never truncated, keys never changed.
CREATE FUNCTION ref_parent_keep() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF TG_OP = 'UPDATE' THEN
        IF NEW.id IS NOT DISTINCT FROM OLD.id AND NEW.org_id IS NOT DISTINCT FROM OLD.org_id THEN
            RETURN NEW;
        END IF;
        RAISE EXCEPTION 'the id and org_id of % rows never change', TG_TABLE_NAME
            USING ERRCODE = 'restrict_violation', TABLE = TG_TABLE_NAME,
                  HINT = 'other rows refer to them without a row lock (migration 0045)';
    END IF;
    RAISE EXCEPTION '% rows are never deleted', TG_TABLE_NAME
        USING ERRCODE = 'restrict_violation', TABLE = TG_TABLE_NAME,
              HINT = 'other rows refer to them without a row lock (migration 0045)';
END
$$;

CREATE TRIGGER ref_parent_keep BEFORE DELETE OR UPDATE OF id, org_id ON projects
    FOR EACH ROW EXECUTE FUNCTION ref_parent_keep();
CREATE TRIGGER ref_parent_keep BEFORE DELETE OR UPDATE OF id, org_id ON units
    FOR EACH ROW EXECUTE FUNCTION ref_parent_keep();
CREATE TRIGGER ref_parent_keep BEFORE DELETE OR UPDATE OF id, org_id ON users
    FOR EACH ROW EXECUTE FUNCTION ref_parent_keep();
CREATE TRIGGER ref_parent_keep BEFORE DELETE OR UPDATE OF id, org_id ON requests
    FOR EACH ROW EXECUTE FUNCTION ref_parent_keep();
CREATE TRIGGER ref_parent_no_truncate BEFORE TRUNCATE ON projects
    FOR EACH STATEMENT EXECUTE FUNCTION ref_parent_keep();
CREATE TRIGGER ref_parent_no_truncate BEFORE TRUNCATE ON units
    FOR EACH STATEMENT EXECUTE FUNCTION ref_parent_keep();
CREATE TRIGGER ref_parent_no_truncate BEFORE TRUNCATE ON users
    FOR EACH STATEMENT EXECUTE FUNCTION ref_parent_keep();
CREATE TRIGGER ref_parent_no_truncate BEFORE TRUNCATE ON requests
    FOR EACH STATEMENT EXECUTE FUNCTION ref_parent_keep();

-- requests → projects, units, users (reporter, assignee), requests (repeat_of).
-- Inserted rows: once per statement over the statement's rows, one query of outer joins
-- (index probes; NOT EXISTS under OR would be sub-plans that hash whole parent tables).  Only
-- a violation looks at which reference it was.
CREATE FUNCTION requests_refs_inserted() RETURNS trigger LANGUAGE plpgsql AS $$
DECLARE
    r record;
BEGIN
    FOR r IN
        SELECT n.org_id, n.project_id, n.unit_id, n.reporter_user_id, n.assignee_id, n.repeat_of
        FROM new_rows n
        LEFT JOIN projects p ON p.org_id = n.org_id AND p.id = n.project_id
        LEFT JOIN units u ON u.org_id = n.org_id AND u.id = n.unit_id
        LEFT JOIN users ur ON ur.org_id = n.org_id AND ur.id = n.reporter_user_id
        LEFT JOIN users ua ON ua.org_id = n.org_id AND ua.id = n.assignee_id
        LEFT JOIN requests q ON q.org_id = n.org_id AND q.id = n.repeat_of
        WHERE p.id IS NULL OR (n.unit_id IS NOT NULL AND u.id IS NULL)
           OR (n.reporter_user_id IS NOT NULL AND ur.id IS NULL)
           OR (n.assignee_id IS NOT NULL AND ua.id IS NULL)
           OR (n.repeat_of IS NOT NULL AND q.id IS NULL)
        LIMIT 1
    LOOP
        PERFORM requests_refs_check(r.org_id, r.project_id, r.unit_id, r.reporter_user_id,
                                    r.assignee_id, r.repeat_of);
    END LOOP;
    RETURN NULL;
END
$$;

-- One row's references, each on its own, raising for the first one missing.
CREATE FUNCTION requests_refs_check(o uuid, project uuid, unit uuid, reporter uuid,
                                    assignee uuid, repeat uuid)
RETURNS void LANGUAGE plpgsql AS $$
BEGIN
    IF NOT EXISTS (SELECT 1 FROM projects p WHERE p.org_id = o AND p.id = project) THEN
        PERFORM ref_violation('requests', 'requests_org_id_project_id_fkey', 'org_id, project_id',
                              o || ', ' || coalesce(project::text, ''), 'projects');
    END IF;
    IF unit IS NOT NULL AND NOT EXISTS (SELECT 1 FROM units u WHERE u.org_id = o AND u.id = unit) THEN
        PERFORM ref_violation('requests', 'requests_org_id_unit_id_fkey', 'org_id, unit_id',
                              o || ', ' || unit, 'units');
    END IF;
    IF reporter IS NOT NULL AND NOT EXISTS (SELECT 1 FROM users u WHERE u.org_id = o AND u.id = reporter) THEN
        PERFORM ref_violation('requests', 'requests_org_id_reporter_user_id_fkey',
                              'org_id, reporter_user_id', o || ', ' || reporter, 'users');
    END IF;
    IF assignee IS NOT NULL AND NOT EXISTS (SELECT 1 FROM users u WHERE u.org_id = o AND u.id = assignee) THEN
        PERFORM ref_violation('requests', 'requests_org_id_assignee_id_fkey',
                              'org_id, assignee_id', o || ', ' || assignee, 'users');
    END IF;
    IF repeat IS NOT NULL AND NOT EXISTS (SELECT 1 FROM requests q WHERE q.org_id = o AND q.id = repeat) THEN
        PERFORM ref_violation('requests', 'requests_org_id_repeat_of_fkey', 'org_id, repeat_of',
                              o || ', ' || repeat, 'requests');
    END IF;
END
$$;

-- Updated rows: only when a reference changes (an escalation or a state change never
-- fires it).
CREATE FUNCTION requests_refs_updated() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    PERFORM requests_refs_check(NEW.org_id, NEW.project_id, NEW.unit_id, NEW.reporter_user_id,
                                NEW.assignee_id, NEW.repeat_of);
    RETURN NULL;
END
$$;

CREATE TRIGGER ref_check_insert AFTER INSERT ON requests
    REFERENCING NEW TABLE AS new_rows
    FOR EACH STATEMENT EXECUTE FUNCTION requests_refs_inserted();
CREATE TRIGGER ref_check_update AFTER UPDATE OF org_id, project_id, unit_id, reporter_user_id,
    assignee_id, repeat_of ON requests FOR EACH ROW
    WHEN (NEW.org_id IS DISTINCT FROM OLD.org_id OR NEW.project_id IS DISTINCT FROM OLD.project_id
          OR NEW.unit_id IS DISTINCT FROM OLD.unit_id
          OR NEW.reporter_user_id IS DISTINCT FROM OLD.reporter_user_id
          OR NEW.assignee_id IS DISTINCT FROM OLD.assignee_id
          OR NEW.repeat_of IS DISTINCT FROM OLD.repeat_of)
    EXECUTE FUNCTION requests_refs_updated();

-- request_events, sla_alerts → requests; notifications → users, requests.  Their
-- references are written once: an UPDATE that would change one is refused (request_events
-- refuses every UPDATE already).
CREATE FUNCTION ref_child_key_fixed() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    RAISE EXCEPTION 'the references of % rows never change', TG_TABLE_NAME
        USING ERRCODE = 'restrict_violation', TABLE = TG_TABLE_NAME;
END
$$;

-- request_events and sla_alerts: one function (PL/pgSQL keeps its plans per trigger).
CREATE FUNCTION request_child_refs_inserted() RETURNS trigger LANGUAGE plpgsql AS $$
DECLARE
    r record;
BEGIN
    FOR r IN
        SELECT n.org_id, n.request_id FROM new_rows n
        WHERE NOT EXISTS (SELECT 1 FROM requests q WHERE q.org_id = n.org_id AND q.id = n.request_id)
        LIMIT 1
    LOOP
        PERFORM ref_violation(TG_TABLE_NAME, TG_TABLE_NAME || '_org_id_request_id_fkey',
                              'org_id, request_id', r.org_id || ', ' || r.request_id, 'requests');
    END LOOP;
    RETURN NULL;
END
$$;

CREATE FUNCTION notifications_refs_inserted() RETURNS trigger LANGUAGE plpgsql AS $$
DECLARE
    r record;
BEGIN
    FOR r IN
        SELECT n.org_id, n.user_id, n.request_id, u.id IS NULL AS no_user
        FROM new_rows n
        LEFT JOIN users u ON u.org_id = n.org_id AND u.id = n.user_id
        LEFT JOIN requests q ON q.org_id = n.org_id AND q.id = n.request_id
        WHERE u.id IS NULL OR (n.request_id IS NOT NULL AND q.id IS NULL)
        LIMIT 1
    LOOP
        IF r.no_user THEN
            PERFORM ref_violation('notifications', 'notifications_org_id_user_id_fkey',
                                  'org_id, user_id', r.org_id || ', ' || coalesce(r.user_id::text, ''), 'users');
        END IF;
        PERFORM ref_violation('notifications', 'notifications_org_id_request_id_fkey',
                              'org_id, request_id', r.org_id || ', ' || r.request_id, 'requests');
    END LOOP;
    RETURN NULL;
END
$$;

CREATE TRIGGER ref_check_insert AFTER INSERT ON request_events
    REFERENCING NEW TABLE AS new_rows
    FOR EACH STATEMENT EXECUTE FUNCTION request_child_refs_inserted();

CREATE TRIGGER ref_check_insert AFTER INSERT ON sla_alerts
    REFERENCING NEW TABLE AS new_rows
    FOR EACH STATEMENT EXECUTE FUNCTION request_child_refs_inserted();
CREATE TRIGGER ref_key_fixed BEFORE UPDATE OF org_id, request_id ON sla_alerts FOR EACH ROW
    WHEN (NEW.org_id IS DISTINCT FROM OLD.org_id OR NEW.request_id IS DISTINCT FROM OLD.request_id)
    EXECUTE FUNCTION ref_child_key_fixed();

CREATE TRIGGER ref_check_insert AFTER INSERT ON notifications
    REFERENCING NEW TABLE AS new_rows
    FOR EACH STATEMENT EXECUTE FUNCTION notifications_refs_inserted();
CREATE TRIGGER ref_key_fixed BEFORE UPDATE OF org_id, user_id, request_id ON notifications FOR EACH ROW
    WHEN (NEW.org_id IS DISTINCT FROM OLD.org_id OR NEW.user_id IS DISTINCT FROM OLD.user_id
          OR NEW.request_id IS DISTINCT FROM OLD.request_id)
    EXECUTE FUNCTION ref_child_key_fixed();

-- Every version up to the current one, as a database walked through the migrations has.

-- The audit log (RULES §3.13) — every write and every authentication event, with its
-- actor, in the same transaction as the change; append-only; a hash chain per organisation.

-- One row per changed business row (written by audit_row(), a row trigger on the business
-- tables) or per authentication event (written by the service in the login / refresh /
-- logout transaction).  The actor comes from the transaction-local setting deskd.actor that
-- the service sends with BEGIN (db/pool.c): {"u": user, "r": role, "q": request id,
-- "a": client address} or {"s": worker} for background work.  A row is written once and
-- never changed; audit_seal_pending(), run by a background worker after the row's
-- transaction has committed, chains it with a row of audit_seals: seq, prev_hash and hash
-- (0030).
CREATE TABLE audit_log (
    id             bigint      GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    org_id         uuid,
    at             timestamptz NOT NULL DEFAULT clock_timestamp(),
    actor_user_id  uuid,
    actor_role     text,
    actor_system   text,
    request_id     text,
    client_addr    text,
    action         text        NOT NULL,
    resource_type  text        NOT NULL,
    resource_id    text,
    diff           jsonb       NOT NULL DEFAULT '{}',
    result         text        NOT NULL DEFAULT 'success' CHECK (result IN ('success', 'failure'))
);
CREATE INDEX audit_log_list ON audit_log (org_id, at, id);
CREATE INDEX audit_log_resource ON audit_log (org_id, resource_type, resource_id, id);

-- The head of each organisation's chain (the all-zero key: events of no organisation, such
-- as a failed login with an unknown user name).  Its row lock, taken by the sealer only,
-- keeps two sealers off the same chain.
CREATE TABLE audit_chain_heads (
    org_key  uuid    PRIMARY KEY,
    seq      bigint  NOT NULL DEFAULT 0,
    hash     text
);

-- One row per sealed audit_log row (its id), hashes as bytes.  No foreign key to audit_log:
-- its check would lock the audit row (a WAL record per seal); only audit_seal_pending()
-- writes here, with ids read from audit_log.  No index on (organisation, seq): seq is unique
-- per chain because only the holder of the chain head's row lock seals, and verify reads a
-- whole chain anyway (through audit_log_list); one index entry fewer per audit row.
CREATE TABLE audit_seals (
    id         bigint  PRIMARY KEY,
    seq        bigint  NOT NULL,
    prev_hash  bytea,
    hash       bytea   NOT NULL
);

-- Where the sealer looks for unsealed rows: every audit_log row with an id below low is
-- sealed or never commits.  next_low (the greatest id visible at one sealer run, plus one)
-- becomes low once every transaction that was running then has ended (the current
-- snapshot's xmin has passed next_after, that run's snapshot xmax), because then every row
-- with a smaller id is visible or rolled back for good: ids are handed out in time order
-- and every writer of audit_log holds a transaction id before it takes one (audit_row() is
-- an AFTER trigger of a write; audit_event() asks for its transaction id first).
CREATE TABLE audit_seal_state (
    one         boolean PRIMARY KEY DEFAULT true CHECK (one),
    low         bigint  NOT NULL,
    next_low    bigint,
    next_after  xid8
);
INSERT INTO audit_seal_state (low) VALUES (1);

-- The text that is hashed: every field of the row but the hashes, in a fixed order, times
-- as RFC 3339 UTC (independent of the session's TimeZone); jsonb prints its keys sorted.
CREATE FUNCTION audit_canonical(a audit_log, seq bigint) RETURNS text
LANGUAGE sql STABLE PARALLEL SAFE AS
$$ SELECT jsonb_build_array(seq, a.org_id, rfc3339(a.at), a.actor_user_id, a.actor_role,
                            a.actor_system, a.request_id, a.client_addr, a.action,
                            a.resource_type, a.resource_id, a.diff, a.result)::text $$;

-- hash = SHA-256(prev_hash ‖ canonical row), hex.
CREATE FUNCTION audit_hash(prev text, canonical text) RETURNS text
LANGUAGE sql IMMUTABLE PARALLEL SAFE AS
$$ SELECT encode(sha256(coalesce(decode(prev, 'hex'), ''::bytea) || convert_to(canonical, 'UTF8')), 'hex') $$;

-- A row as the audit log keeps it: no secrets, password or ID-number hashes, tokens or
-- search terms; phones masked; bookkeeping columns (updated_at, version) and the extra
-- names given left out.
CREATE FUNCTION audit_clean(j jsonb, skip text[]) RETURNS jsonb
LANGUAGE plpgsql IMMUTABLE PARALLEL SAFE AS $$
DECLARE
    r jsonb := j - skip - '{updated_at,version}'::text[];
    secret text[];
    masked jsonb;
BEGIN
    SELECT array_agg(x) FILTER (WHERE s),
           jsonb_object_agg(x, mask_phone(r ->> x)) FILTER (WHERE NOT s AND jsonb_typeof(r -> x) = 'string')
      INTO secret, masked
      FROM (SELECT x, x LIKE ANY (ARRAY['%hash%', '%secret%', '%token%', '%id\_number%', '%password%',
                                        '%search\_terms%']) AS s
              FROM jsonb_object_keys(r) AS x) k
     WHERE s OR x LIKE '%phone%';
    RETURN (r - coalesce(secret, '{}')) || coalesce(masked, '{}');
END $$;

-- A create's image: the non-null kept columns but the resource key, org_id, the derived
-- columns and the columns holding their default; and the digest of the full cleaned image.
CREATE FUNCTION audit_create_image(n jsonb, leave_out text[], defaults jsonb) RETURNS jsonb
LANGUAGE plpgsql IMMUTABLE PARALLEL SAFE AS $$
DECLARE
    a jsonb := jsonb_strip_nulls(n) - leave_out;
BEGIN
    IF defaults IS NOT NULL THEN
        a := a - ARRAY(SELECT k FROM jsonb_each(defaults) AS e(k, v) WHERE a -> k = v);
    END IF;
    RETURN jsonb_build_object('after', a, 'digest', encode(sha256(convert_to(n::text, 'UTF8')), 'hex'));
END $$;

-- The row trigger of every audited table.  TG_ARGV: [0] resource type, [1] the column that
-- names the resource, [2..] columns left out of the diff ('~name': left out of a create's
-- image only, derived from kept columns; '={...}': a JSON object of NOT NULL columns and
-- their defaults, left out of a create's image when they hold it).  An UPDATE that changes
-- nothing kept (a login resetting failed_logins) writes no row.  A create's diff is
-- {"after": the non-null kept columns but the resource id, org_id, the derived ones and
-- those at their default, "digest": SHA-256 of the full cleaned image}.
CREATE FUNCTION audit_row() RETURNS trigger
LANGUAGE plpgsql AS $$
DECLARE
    x text;
    skip text[] := '{}';
    leave_out text[] := ARRAY[TG_ARGV[1], 'org_id'];
    defaults jsonb;
    o jsonb;
    n jsonb;
    oj jsonb;
    nj jsonb;
    d jsonb;
    r jsonb;
    a jsonb := coalesce(nullif(current_setting('deskd.actor', true), '')::jsonb, '{}');
    rkey text;
    prev_key text[];
    p audit_log;
    b jsonb;
    newid bigint;
BEGIN
    FOREACH x IN ARRAY coalesce(TG_ARGV[2:], '{}') LOOP
        IF left(x, 1) = '~' THEN
            leave_out := leave_out || substr(x, 2);
        ELSIF left(x, 1) = '=' THEN
            defaults := substr(x, 2)::jsonb;
        ELSE
            skip := skip || x;
        END IF;
    END LOOP;
    IF TG_OP <> 'INSERT' THEN
        oj := to_jsonb(OLD);
    END IF;
    IF TG_OP <> 'DELETE' THEN
        nj := to_jsonb(NEW);
    END IF;
    IF TG_OP = 'UPDATE' THEN
        -- Only the columns whose raw value changed can differ once cleaned (audit_clean()
        -- keeps a column by its name and masks a value by itself): clean just those (0034;
        -- cleaning both whole images was most of the trigger's time on a wide row).
        SELECT jsonb_object_agg(e.k, oj -> e.k), jsonb_object_agg(e.k, e.v) INTO o, n
          FROM jsonb_each(nj) AS e(k, v) WHERE (oj -> e.k) IS DISTINCT FROM e.v;
        o := audit_clean(coalesce(o, '{}'), skip);
        n := audit_clean(coalesce(n, '{}'), skip);
        SELECT jsonb_build_object('before', jsonb_object_agg(k, o -> k), 'after', jsonb_object_agg(k, v))
          INTO d FROM jsonb_each(n) AS e(k, v) WHERE (o -> k) IS DISTINCT FROM v;
        IF d -> 'after' IS NULL OR d -> 'after' = 'null' THEN
            RETURN NULL;
        END IF;
    ELSIF TG_OP = 'INSERT' THEN
        d := audit_create_image(audit_clean(nj, skip), leave_out, defaults);
    ELSE
        o := audit_clean(oj, skip);
        d := jsonb_build_object('before', o);
    END IF;
    r := coalesce(nj, oj);
    -- One row per resource per run of writes in a transaction: an UPDATE following a write
    -- of the same resource in the same transaction (deskd.audit_last, transaction-local:
    -- {resource, id, audit row}) is merged into that write's row — into a create's image
    -- (then the final one), or an update's before (the first) / after (the last).
    rkey := TG_ARGV[0] || ':' || coalesce(r ->> TG_ARGV[1], '');
    prev_key := string_to_array(nullif(current_setting('deskd.audit_last', true), ''), '|');
    IF TG_OP = 'UPDATE' AND prev_key[1] = rkey THEN
        SELECT * INTO p FROM audit_log WHERE audit_log.id = prev_key[2]::bigint;
        IF p.action = TG_ARGV[0] || '.create' THEN
            d := audit_create_image(audit_clean(nj, skip), leave_out, defaults);
        ELSIF p.action = TG_ARGV[0] || '.update' THEN
            b := (d -> 'before') || coalesce(p.diff -> 'before', '{}');
            SELECT jsonb_build_object('before', coalesce(jsonb_object_agg(e.k, b -> e.k), '{}'),
                                      'after', coalesce(jsonb_object_agg(e.k, e.v), '{}'))
              INTO d FROM jsonb_each(coalesce(p.diff -> 'after', '{}') || (d -> 'after')) AS e(k, v)
             WHERE (b -> e.k) IS DISTINCT FROM e.v;
        ELSE
            p := NULL;
        END IF;
        IF p.id IS NOT NULL AND audit_merge(p.id, d) THEN
            RETURN NULL;
        END IF;
    END IF;
    INSERT INTO audit_log (org_id, actor_user_id, actor_role, actor_system, request_id,
                           client_addr, action, resource_type, resource_id, diff)
    VALUES ((r ->> 'org_id')::uuid, (a ->> 'u')::uuid, a ->> 'r',
            CASE WHEN a ? 'u' THEN NULL
                 WHEN a ? 's' THEN 'system:' || (a ->> 's')
                 WHEN a ? 'q' THEN 'anonymous'
                 ELSE 'system' END,
            a ->> 'q', a ->> 'a',
            TG_ARGV[0] || '.' || CASE TG_OP WHEN 'INSERT' THEN 'create'
                                             WHEN 'UPDATE' THEN 'update' ELSE 'delete' END,
            TG_ARGV[0], r ->> TG_ARGV[1], d)
    RETURNING audit_log.id INTO newid;
    PERFORM set_config('deskd.audit_last', rkey || '|' || newid, true);
    RETURN NULL;
END $$;

-- An authentication event (login, refresh, logout, lockout, token revocation), written by
-- the service with the same actor setting.
CREATE FUNCTION audit_event(p_org uuid, p_user uuid, p_role text, p_action text,
                            p_result text, p_detail jsonb) RETURNS void
LANGUAGE plpgsql AS $$
DECLARE
    a jsonb := coalesce(nullif(current_setting('deskd.actor', true), '')::jsonb, '{}');
BEGIN
    PERFORM pg_current_xact_id();
    INSERT INTO audit_log (org_id, actor_user_id, actor_role, actor_system, request_id,
                           client_addr, action, resource_type, resource_id, diff, result)
    VALUES (p_org, coalesce((a ->> 'u')::uuid, p_user), coalesce(a ->> 'r', p_role),
            CASE WHEN coalesce(a ->> 'u', p_user::text) IS NOT NULL THEN NULL
                 WHEN a ? 's' THEN 'system:' || (a ->> 's') ELSE 'anonymous' END,
            a ->> 'q', a ->> 'a', p_action, 'session', p_user::text,
            coalesce(p_detail, '{}'), p_result);
END $$;

-- Seals committed rows into their organisations' chains, at most p_max rows; returns how
-- many it sealed.  Called by the service's audit sealer (svc/audit_sealer.c) every
-- DESK_AUDIT_SEAL_INTERVAL_MS, outside the requests' transactions, so a write transaction
-- takes no lock of its own for the chain and an organisation's writes commit side by side
-- (group commit).  Per organisation with unsealed rows: its head row is locked FOR UPDATE
-- SKIP LOCKED (another sealer holding it is sealing that chain now: the organisation is
-- skipped, never sealed twice), then its committed unsealed rows get seq, prev_hash and
-- hash in id order.  The chain order is therefore the seal order (seq): a row of a
-- transaction that committed late is sealed after rows with a greater id sealed before it.
-- SECURITY DEFINER: the service's role may only INSERT into audit_log and may not touch
-- the chain heads.
CREATE FUNCTION audit_seal_pending(p_max int) RETURNS int
LANGUAGE plpgsql SECURITY DEFINER SET search_path = public, pg_temp AS $$
DECLARE
    zero constant uuid := '00000000-0000-0000-0000-000000000000';
    st audit_seal_state;
    k uuid;
    h audit_chain_heads;
    x audit_log;
    hx text;
    cand bigint;
    n int := 0;
BEGIN
    SELECT * INTO st FROM audit_seal_state;
    FOR k IN SELECT DISTINCT coalesce(s.org_id, zero)
               FROM (SELECT a.org_id FROM audit_log a
                      WHERE a.id >= st.low AND NOT EXISTS (SELECT 1 FROM audit_seals z WHERE z.id = a.id)
                      ORDER BY a.id LIMIT greatest(p_max, 0)) s LOOP
        EXIT WHEN n >= p_max;
        IF NOT EXISTS (SELECT 1 FROM audit_chain_heads WHERE org_key = k) THEN
            INSERT INTO audit_chain_heads (org_key) VALUES (k) ON CONFLICT DO NOTHING;
        END IF;
        SELECT * INTO h FROM audit_chain_heads WHERE org_key = k FOR UPDATE SKIP LOCKED;
        CONTINUE WHEN NOT FOUND;
        FOR x IN SELECT * FROM audit_log a
                  WHERE a.id >= st.low AND coalesce(a.org_id, zero) = k
                    AND NOT EXISTS (SELECT 1 FROM audit_seals z WHERE z.id = a.id)
                  ORDER BY a.id LIMIT p_max - n LOOP
            hx := audit_hash(h.hash, audit_canonical(x, h.seq + 1));
            INSERT INTO audit_seals (id, seq, prev_hash, hash)
            VALUES (x.id, h.seq + 1, decode(h.hash, 'hex'), decode(hx, 'hex'));
            h.seq := h.seq + 1;
            h.hash := hx;
            n := n + 1;
        END LOOP;
        UPDATE audit_chain_heads SET seq = h.seq, hash = h.hash WHERE org_key = k;
    END LOOP;

    -- The watermark (one row; its lock orders concurrent sealers).
    SELECT * INTO st FROM audit_seal_state FOR UPDATE;
    IF st.next_after IS NOT NULL AND pg_snapshot_xmin(pg_current_snapshot()) >= st.next_after THEN
        SELECT min(a.id) INTO cand FROM audit_log a
         WHERE a.id >= st.low AND a.id < st.next_low
           AND NOT EXISTS (SELECT 1 FROM audit_seals z WHERE z.id = a.id);
        UPDATE audit_seal_state SET low = greatest(low, coalesce(cand, st.next_low)),
                                    next_low = NULL, next_after = NULL;
        st.next_after := NULL;
    END IF;
    IF st.next_after IS NULL THEN
        UPDATE audit_seal_state s SET next_low = v.m, next_after = v.x
          FROM (SELECT (SELECT max(id) + 1 FROM audit_log) AS m,
                       pg_snapshot_xmax(pg_current_snapshot()) AS x) v
         WHERE v.m IS NOT NULL AND v.m > s.low;
    END IF;
    RETURN n;
END $$;

-- 1 when a row with this xmin was written by the current transaction (or one of its
-- subtransactions): the row is visible and its writer still in progress — another
-- transaction's uncommitted rows are never visible.  xmin is 32-bit: its epoch is the
-- current transaction's (or the one before, when the counter wrapped since).
CREATE FUNCTION audit_row_is_own(x xid) RETURNS boolean
LANGUAGE sql VOLATILE AS $$
    SELECT pg_xact_status((((c >> 32) - CASE WHEN x::text::bigint > (c & 4294967295) THEN 1 ELSE 0 END) << 32
                           | x::text::bigint)::text::xid8) = 'in progress'
      FROM (SELECT pg_current_xact_id()::text::bigint AS c) s $$;

-- Replaces the diff of an audit row the current transaction wrote and nobody has seen (one
-- logical write = one row: audit_row() merges a second update of the same resource into the
-- first).  SECURITY DEFINER: the service's role has no UPDATE on audit_log; the append-only
-- trigger lets this one change through for unsealed rows of the current transaction only.
CREATE FUNCTION audit_merge(p_id bigint, p_diff jsonb) RETURNS boolean
LANGUAGE plpgsql SECURITY DEFINER SET search_path = public, pg_temp AS $$
BEGIN
    UPDATE audit_log SET diff = p_diff WHERE id = p_id AND audit_row_is_own(xmin);
    RETURN FOUND;
END $$;

-- Append-only, whoever asks (the owner too): UPDATE, DELETE and TRUNCATE are refused; the
-- UPDATEs let through on audit_log are the seal of a row not yet sealed, changing nothing
-- but seq and the hashes, and audit_merge()'s new diff of a row of the current transaction.
CREATE FUNCTION audit_append_only() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
    -- audit_merge(): the diff of a row of this very transaction, not yet committed.
    IF TG_OP = 'UPDATE' AND TG_TABLE_NAME = 'audit_log' AND to_jsonb(OLD) - 'diff' = to_jsonb(NEW) - 'diff'
       AND (SELECT audit_row_is_own(l.xmin) FROM audit_log l WHERE l.id = OLD.id) THEN
        RETURN NEW;
    END IF;
    RAISE EXCEPTION '% is append-only: % refused', TG_TABLE_NAME, TG_OP
        USING ERRCODE = 'insufficient_privilege';
END $$;
CREATE TRIGGER audit_log_append_only BEFORE UPDATE OR DELETE ON audit_log
    FOR EACH ROW EXECUTE FUNCTION audit_append_only();
CREATE TRIGGER audit_log_no_truncate BEFORE TRUNCATE ON audit_log
    FOR EACH STATEMENT EXECUTE FUNCTION audit_append_only();
CREATE TRIGGER audit_seals_append_only BEFORE UPDATE OR DELETE ON audit_seals
    FOR EACH ROW EXECUTE FUNCTION audit_append_only();
CREATE TRIGGER audit_seals_no_truncate BEFORE TRUNCATE ON audit_seals
    FOR EACH STATEMENT EXECUTE FUNCTION audit_append_only();
CREATE TRIGGER request_events_append_only BEFORE UPDATE OR DELETE ON request_events
    FOR EACH ROW EXECUTE FUNCTION audit_append_only();
CREATE TRIGGER request_events_no_truncate BEFORE TRUNCATE ON request_events
    FOR EACH STATEMENT EXECUTE FUNCTION audit_append_only();

-- The SLA sweep's batch writes its request audit rows set-based (0042; see the migration).
-- A sweep batch's due times, next checks and escalation levels (one element per claimed
-- request: id, the due_* columns, next_due, next_check, level — as sla_store_many), and its
-- audit rows.  Returns the number of requests rewritten.
CREATE FUNCTION sla_store_batch(p json) RETURNS integer
LANGUAGE plpgsql SECURITY DEFINER SET search_path = public, pg_temp AS $$
DECLARE
    a jsonb := coalesce(nullif(current_setting('deskd.actor', true), '')::jsonb, '{}');
    n integer;
BEGIN
    PERFORM set_config('deskd.audit_sweep', 'on', true);
    -- o: the row as the batch's transaction locked it (the claim holds it FOR UPDATE), i.e.
    -- the image before this UPDATE.
    WITH x AS (SELECT * FROM json_to_recordset(p) AS x(id uuid, due_first_response timestamptz,
                   due_on_site timestamptz, due_answer timestamptz, due_resolution timestamptz,
                   due_handover timestamptz, due_callback timestamptz, due_gm_report timestamptz,
                   next_due timestamptz, next_check timestamptz, level int)),
    u AS (UPDATE requests r SET due_first_response = x.due_first_response,
                 due_on_site = x.due_on_site, due_answer = x.due_answer,
                 due_resolution = x.due_resolution, due_handover = x.due_handover,
                 due_callback = x.due_callback, due_gm_report = x.due_gm_report,
                 sla_next_due = x.next_due, sla_next_check = x.next_check,
                 escalation_level = greatest(r.escalation_level, coalesce(x.level, 0)),
                 version = r.version + CASE WHEN coalesce(x.level, 0) > r.escalation_level
                                            THEN 1 ELSE 0 END,
                 updated_at = CASE WHEN coalesce(x.level, 0) > r.escalation_level
                                   THEN clock_timestamp() ELSE r.updated_at END
            FROM x JOIN requests o ON o.id = x.id
           WHERE r.id = x.id
       RETURNING r.id, r.org_id,
                 jsonb_build_object('due_first_response', o.due_first_response,
                     'due_on_site', o.due_on_site, 'due_answer', o.due_answer,
                     'due_resolution', o.due_resolution, 'due_handover', o.due_handover,
                     'due_callback', o.due_callback, 'due_gm_report', o.due_gm_report,
                     'escalation_level', o.escalation_level) AS oj,
                 jsonb_build_object('due_first_response', r.due_first_response,
                     'due_on_site', r.due_on_site, 'due_answer', r.due_answer,
                     'due_resolution', r.due_resolution, 'due_handover', r.due_handover,
                     'due_callback', r.due_callback, 'due_gm_report', r.due_gm_report,
                     'escalation_level', r.escalation_level) AS nj),
    d AS (SELECT u.id, u.org_id, jsonb_build_object('before', jsonb_object_agg(e.k, u.oj -> e.k),
                                                    'after', jsonb_object_agg(e.k, e.v)) AS diff
            FROM u CROSS JOIN LATERAL jsonb_each(u.nj) AS e(k, v)
           WHERE (u.oj -> e.k) IS DISTINCT FROM e.v
           GROUP BY u.id, u.org_id),
    w AS (INSERT INTO audit_log (org_id, actor_user_id, actor_role, actor_system, request_id,
                                 client_addr, action, resource_type, resource_id, diff)
          SELECT d.org_id, (a ->> 'u')::uuid, a ->> 'r',
                 CASE WHEN a ? 'u' THEN NULL
                      WHEN a ? 's' THEN 'system:' || (a ->> 's')
                      WHEN a ? 'q' THEN 'anonymous'
                      ELSE 'system' END,
                 a ->> 'q', a ->> 'a', 'request.update', 'request', d.id::text, d.diff
            FROM d ORDER BY d.id)
    SELECT count(*) INTO n FROM u;
    PERFORM set_config('deskd.audit_sweep', '', true);
    RETURN n;
END $$;

-- True inside sla_store_batch() (see above); the setting is tested first, in the trigger's
-- WHEN, so an ordinary write pays one current_setting() per row.
CREATE FUNCTION audit_sweep_batch() RETURNS boolean
LANGUAGE sql STABLE AS $$
    SELECT current_setting('deskd.audit_sweep', true) = 'on'
       AND current_user = (SELECT pg_get_userbyid(p.proowner) FROM pg_proc p
                            WHERE p.oid = 'sla_store_batch(json)'::regprocedure)
$$;


-- The audited tables.  request_events and custody_entries are not among them: each is
-- itself an append-only ledger (custody_entries hash-chained) written with the change of
-- the row (requests, custody_items) whose trigger records it.  Nor is bookkeeping written
-- by the workers: webhook events, deliveries and attempts, SLA and report alerts.
CREATE TRIGGER audit AFTER INSERT OR UPDATE OR DELETE ON organisations FOR EACH ROW EXECUTE FUNCTION audit_row('organisation', 'id');
CREATE TRIGGER audit AFTER INSERT OR UPDATE OR DELETE ON projects FOR EACH ROW EXECUTE FUNCTION audit_row('project', 'id');
CREATE TRIGGER audit AFTER INSERT OR UPDATE OR DELETE ON buildings FOR EACH ROW EXECUTE FUNCTION audit_row('building', 'id');
CREATE TRIGGER audit AFTER INSERT OR UPDATE OR DELETE ON units FOR EACH ROW EXECUTE FUNCTION audit_row('unit', 'id');
CREATE TRIGGER audit AFTER INSERT OR UPDATE OR DELETE ON departments FOR EACH ROW EXECUTE FUNCTION audit_row('department', 'id');
CREATE TRIGGER audit AFTER INSERT OR UPDATE OR DELETE ON residents FOR EACH ROW EXECUTE FUNCTION audit_row('resident', 'id');
CREATE TRIGGER audit AFTER INSERT OR UPDATE OR DELETE ON resident_units FOR EACH ROW EXECUTE FUNCTION audit_row('resident_unit', 'resident_id');
CREATE TRIGGER audit AFTER INSERT OR UPDATE OR DELETE ON users FOR EACH ROW EXECUTE FUNCTION audit_row('user', 'id', 'failed_logins', 'locked_until');
CREATE TRIGGER audit AFTER INSERT OR UPDATE OR DELETE ON user_projects FOR EACH ROW EXECUTE FUNCTION audit_row('user_project', 'user_id');
CREATE TRIGGER audit AFTER INSERT OR UPDATE OR DELETE ON requests FOR EACH ROW WHEN (current_setting('deskd.audit_sweep', true) IS DISTINCT FROM 'on' OR NOT audit_sweep_batch()) EXECUTE FUNCTION audit_row('request', 'id', 'sla_next_check', 'sla_next_due', 'has_notifications', 'has_work_orders', 'has_register_notes', '~created_at', '~last_event_at', '~due_first_response', '~due_resolution', '~due_answer', '~due_on_site', '~due_callback', '~due_handover', '~due_gm_report', '~first_receiver_id', '~owner_id', '={"state": "received", "validity": "unknown", "night_desk": false, "is_repeat": false, "reopen_count": 0, "escalation_level": 0, "staff_created": false}');
CREATE TRIGGER audit AFTER INSERT OR UPDATE OR DELETE ON work_orders FOR EACH ROW EXECUTE FUNCTION audit_row('work_order', 'id');
CREATE TRIGGER audit AFTER INSERT OR UPDATE OR DELETE ON zones FOR EACH ROW EXECUTE FUNCTION audit_row('zone', 'id');
CREATE TRIGGER audit AFTER INSERT OR UPDATE OR DELETE ON request_comments FOR EACH ROW EXECUTE FUNCTION audit_row('comment', 'id');
CREATE TRIGGER audit AFTER INSERT OR UPDATE OR DELETE ON request_attachments FOR EACH ROW EXECUTE FUNCTION audit_row('attachment', 'id');
CREATE TRIGGER audit AFTER INSERT OR UPDATE OR DELETE ON sla_calendars FOR EACH ROW EXECUTE FUNCTION audit_row('sla_calendar', 'id');
CREATE TRIGGER audit AFTER INSERT OR UPDATE OR DELETE ON sla_calendar_versions FOR EACH ROW EXECUTE FUNCTION audit_row('sla_calendar_version', 'id');
CREATE TRIGGER audit AFTER INSERT OR UPDATE OR DELETE ON sla_policies FOR EACH ROW EXECUTE FUNCTION audit_row('sla_policy', 'id');
CREATE TRIGGER audit AFTER INSERT OR UPDATE OR DELETE ON sla_policy_versions FOR EACH ROW EXECUTE FUNCTION audit_row('sla_policy_version', 'id');
CREATE TRIGGER audit AFTER INSERT OR UPDATE OR DELETE ON sla_extensions FOR EACH ROW EXECUTE FUNCTION audit_row('extension', 'id');
CREATE TRIGGER audit AFTER INSERT OR UPDATE OR DELETE ON webhooks FOR EACH ROW EXECUTE FUNCTION audit_row('webhook', 'id');
CREATE TRIGGER audit AFTER INSERT OR UPDATE OR DELETE ON monthly_reports FOR EACH ROW EXECUTE FUNCTION audit_row('report', 'id');
CREATE TRIGGER audit AFTER INSERT OR UPDATE OR DELETE ON imports FOR EACH ROW EXECUTE FUNCTION audit_row('import', 'id');
CREATE TRIGGER audit AFTER INSERT OR UPDATE OR DELETE ON custody_items FOR EACH ROW EXECUTE FUNCTION audit_row('custody_item', 'id');

-- The registers' own columns and rental registration (0023).

-- Every note written in a register column of a request, with who wrote it and when.  The
-- request shows the latest per column; earlier ones are the column's history, never changed.
CREATE TABLE request_register_notes (
    id           uuid        PRIMARY KEY DEFAULT gen_random_uuid(),
    org_id       uuid        NOT NULL,
    request_id   uuid        NOT NULL,
    field        text        NOT NULL CHECK (field IN ('customer_wish','receiving_opinion',
                     'handling_opinion','supervisor_assessment','owner_feedback')),
    body         varchar(4000) NOT NULL CHECK (body <> ''),
    author_id    uuid        NOT NULL,
    author_role  text        NOT NULL,
    written_at   timestamptz NOT NULL DEFAULT clock_timestamp(),
    FOREIGN KEY (org_id, request_id) REFERENCES requests (org_id, id),
    FOREIGN KEY (org_id, author_id) REFERENCES users (org_id, id)
);
CREATE INDEX request_register_notes_latest
    ON request_register_notes (request_id, field, written_at DESC, id DESC);

-- Refuses UPDATE, DELETE and TRUNCATE of any table (0023's register_notes_append_only,
-- renamed by 0036: handover_refusals uses it too).
CREATE FUNCTION append_only() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
    RAISE EXCEPTION '% is append-only: % refused', TG_TABLE_NAME, TG_OP
        USING ERRCODE = 'insufficient_privilege';
END $$;
CREATE TRIGGER request_register_notes_append_only BEFORE UPDATE OR DELETE ON request_register_notes
    FOR EACH ROW EXECUTE FUNCTION append_only();
CREATE TRIGGER request_register_notes_no_truncate BEFORE TRUNCATE ON request_register_notes
    FOR EACH STATEMENT EXECUTE FUNCTION append_only();
CREATE TRIGGER audit AFTER INSERT OR UPDATE OR DELETE ON request_register_notes FOR EACH ROW EXECUTE FUNCTION audit_row('register_note', 'id');

-- requests.has_register_notes (0043): set in the transaction that writes a request's first
-- register note (append-only), so GET /v1/requests/{id} need not look for notes.
CREATE FUNCTION request_has_register_notes() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
    UPDATE requests SET has_register_notes = true
     WHERE id = NEW.request_id AND NOT has_register_notes;
    RETURN NULL;
END $$;
CREATE TRIGGER request_has_register_notes AFTER INSERT ON request_register_notes
    FOR EACH ROW EXECUTE FUNCTION request_has_register_notes();

-- A tenancy (出租房屋登记表): the owner, the tenant (a resident of the organisation, or a
-- name and phone), the use, the term, the tenant's ID (keyed hash and last 4, never the
-- number) and employer.  Ending it early is registered by both sides: the owner's and a
-- supervisor's signatures (two authenticated calls), each at least 3 days before the new
-- end; when both have signed, ended_on is the last day of the term.
CREATE TABLE tenancies (
    id                    uuid        PRIMARY KEY DEFAULT gen_random_uuid(),
    org_id                uuid        NOT NULL,
    project_id            uuid        NOT NULL,
    unit_id               uuid        NOT NULL,
    owner_resident_id     uuid        NOT NULL,
    tenant_resident_id    uuid,
    tenant_name           varchar(100) NOT NULL CHECK (tenant_name <> ''),
    tenant_phone          varchar(40),
    use                   text        NOT NULL CHECK (use IN ('residence','office','shop',
                              'dormitory','storage','other')),
    term_start            date        NOT NULL,
    term_end              date        NOT NULL,
    tenant_id_type        text        CHECK (tenant_id_type IN ('resident_id_card','passport',
                              'hk_macau_permit','taiwan_permit','foreign_residence_permit','other')),
    tenant_id_hash        text,
    tenant_id_last4       varchar(4),
    employer              varchar(200),
    termination_date      date,
    termination_reason    varchar(1000),
    owner_signed_by       uuid,
    owner_signed_at       timestamptz,
    supervisor_signed_by  uuid,
    supervisor_signed_at  timestamptz,
    ended_on              date,
    created_by            uuid        NOT NULL,
    version               integer     NOT NULL DEFAULT 1,
    created_at            timestamptz NOT NULL DEFAULT clock_timestamp(),
    updated_at            timestamptz NOT NULL DEFAULT clock_timestamp(),
    FOREIGN KEY (org_id, project_id) REFERENCES projects (org_id, id),
    FOREIGN KEY (org_id, unit_id) REFERENCES units (org_id, id),
    FOREIGN KEY (org_id, owner_resident_id) REFERENCES residents (org_id, id),
    FOREIGN KEY (org_id, tenant_resident_id) REFERENCES residents (org_id, id),
    CHECK (term_end >= term_start),
    CHECK ((tenant_id_hash IS NULL) = (tenant_id_type IS NULL)),
    CHECK (ended_on IS NULL OR (owner_signed_at IS NOT NULL AND supervisor_signed_at IS NOT NULL
           AND ended_on = termination_date)),
    UNIQUE (org_id, id)
);
CREATE INDEX tenancies_unit ON tenancies (unit_id, term_start);
CREATE INDEX tenancies_tenant ON tenancies (tenant_resident_id) WHERE tenant_resident_id IS NOT NULL;
CREATE INDEX tenancies_project ON tenancies (project_id, created_at, id);
CREATE TRIGGER audit AFTER INSERT OR UPDATE OR DELETE ON tenancies FOR EACH ROW EXECUTE FUNCTION audit_row('tenancy', 'id');

-- The units a resident has in scope (the access token's `units`): every unit they are linked
-- to, except a tenant's unit whose registered tenancies of that tenant are all outside their
-- term on the project's local date (a tenant with no tenancy registered keeps the unit).
CREATE FUNCTION resident_scope_units(p_resident uuid) RETURNS SETOF uuid
LANGUAGE sql STABLE AS $$
    SELECT ru.unit_id FROM resident_units ru
    WHERE ru.resident_id = p_resident
      AND NOT (ru.relation = 'tenant'
          AND EXISTS (SELECT 1 FROM tenancies t WHERE t.unit_id = ru.unit_id
                      AND t.tenant_resident_id = ru.resident_id)
          AND NOT EXISTS (SELECT 1 FROM tenancies t JOIN projects p ON p.id = t.project_id
                          WHERE t.unit_id = ru.unit_id AND t.tenant_resident_id = ru.resident_id
                            AND (now() AT TIME ZONE p.time_zone)::date
                                BETWEEN t.term_start AND coalesce(t.ended_on, t.term_end)))
$$;
-- Callbacks (回访, RULES §3.1): one task per resolution of a request that needs one (or
-- that the desk asked for), and the append-only attempts recorded against it.
CREATE TABLE callback_tasks (
    id                   uuid        PRIMARY KEY DEFAULT gen_random_uuid(),
    org_id               uuid        NOT NULL,
    project_id           uuid        NOT NULL,
    -- The subject: a request, or (kind survey, 0025) a survey response; exactly one.
    request_id           uuid,
    kind                 text        NOT NULL CHECK (kind IN ('repair', 'complaint', 'other', 'survey')),
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
    survey_response_id   uuid,
    FOREIGN KEY (org_id, project_id) REFERENCES projects (org_id, id),
    FOREIGN KEY (org_id, request_id) REFERENCES requests (org_id, id),
    FOREIGN KEY (org_id, assignee_id) REFERENCES users (org_id, id),
    FOREIGN KEY (org_id, follow_up_request_id) REFERENCES requests (org_id, id),
    UNIQUE (org_id, id),
    CHECK ((state = 'open') = (finished_at IS NULL)),
    CHECK (state <> 'given_up' OR give_up_reason IS NOT NULL),
    CONSTRAINT callback_tasks_subject
        CHECK (num_nonnulls(request_id, survey_response_id) = 1
               AND (kind = 'survey') = (survey_response_id IS NOT NULL))
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
    request_id              uuid,
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
-- Duty, handover and special incident reports (RULES §3.8, §3.9).
--
-- duty_shifts: who is on duty at a post of a project, planned and actual times; the control
-- room's "major equipment starting or stopping" flag lives on the shift.  duty_log_entries
-- is append-only like the custody ledger (a trigger refuses UPDATE/DELETE/TRUNCATE; a
-- correction is a new entry naming the old one in `corrects`).  duty_reviews records the
-- supervisor's daily review of a project's log (one per local day).  handovers go draft →
-- submitted → accepted; their prefilled snapshot of live data is kept in `prefill`.
-- incident_reports (特别事件报告) go draft → submitted → acknowledged, due by the end of the
-- next local day after the event (computed by core_incident_due_at).
CREATE TABLE duty_settings (
    project_id            uuid        PRIMARY KEY,
    org_id                uuid        NOT NULL,
    handover_checklist    jsonb       NOT NULL DEFAULT '[]',
    accept_grace_minutes  integer     NOT NULL DEFAULT 15 CHECK (accept_grace_minutes BETWEEN 0 AND 1440),
    updated_by            uuid,
    updated_at            timestamptz NOT NULL DEFAULT clock_timestamp(),
    FOREIGN KEY (org_id, project_id) REFERENCES projects (org_id, id)
);

CREATE TABLE duty_shifts (
    id                    uuid        PRIMARY KEY DEFAULT gen_random_uuid(),
    org_id                uuid        NOT NULL,
    project_id            uuid        NOT NULL,
    post                  text        NOT NULL CHECK (post IN ('front_desk','office','control_room')),
    user_ids              uuid[]      NOT NULL CHECK (cardinality(user_ids) BETWEEN 1 AND 20),
    planned_start         timestamptz NOT NULL,
    planned_end           timestamptz NOT NULL,
    actual_start          timestamptz,
    actual_end            timestamptz,
    equipment_transition  boolean     NOT NULL DEFAULT false,
    equipment_note        text        CHECK (length(equipment_note) <= 2000),
    created_by            uuid        NOT NULL,
    created_at            timestamptz NOT NULL DEFAULT clock_timestamp(),
    updated_at            timestamptz NOT NULL DEFAULT clock_timestamp(),
    version               integer     NOT NULL DEFAULT 1,
    CHECK (planned_end > planned_start),
    FOREIGN KEY (org_id, project_id) REFERENCES projects (org_id, id),
    FOREIGN KEY (org_id, created_by) REFERENCES users (org_id, id),
    UNIQUE (org_id, id)
);
CREATE INDEX duty_shifts_project ON duty_shifts (project_id, planned_start, id);

CREATE TABLE duty_log_entries (
    id                    uuid        PRIMARY KEY DEFAULT gen_random_uuid(),
    org_id                uuid        NOT NULL,
    project_id            uuid        NOT NULL,
    shift_id              uuid        NOT NULL,
    kind                  text        NOT NULL CHECK (kind IN ('event','phone_record','inspection','lighting','instruction','incident','note')),
    at                    timestamptz NOT NULL,
    summary               text        NOT NULL CHECK (length(summary) BETWEEN 1 AND 4000),
    cause                 text        CHECK (length(cause) <= 4000),
    handling              text        CHECK (length(handling) <= 4000),
    result                text        CHECK (length(result) <= 4000),
    corrects              uuid        REFERENCES duty_log_entries (id),
    correction_reason     text        CHECK (length(correction_reason) <= 2000),
    author_id             uuid        NOT NULL,
    author_role           text        NOT NULL,
    recorded_at           timestamptz NOT NULL DEFAULT clock_timestamp(),
    CHECK (kind NOT IN ('event','incident') OR (cause IS NOT NULL AND handling IS NOT NULL AND result IS NOT NULL)),
    CHECK (corrects IS NULL OR correction_reason IS NOT NULL),
    FOREIGN KEY (org_id, shift_id) REFERENCES duty_shifts (org_id, id),
    FOREIGN KEY (org_id, author_id) REFERENCES users (org_id, id)
);
CREATE INDEX duty_log_entries_shift ON duty_log_entries (shift_id, at, id);
CREATE INDEX duty_log_entries_project ON duty_log_entries (project_id, at);

CREATE FUNCTION duty_append_only() RETURNS trigger
LANGUAGE plpgsql AS
$$ BEGIN
  RAISE EXCEPTION 'duty log entries are append-only: % refused', TG_OP
    USING ERRCODE = 'insufficient_privilege';
END $$;
CREATE TRIGGER duty_log_entries_append_only BEFORE UPDATE OR DELETE ON duty_log_entries
    FOR EACH ROW EXECUTE FUNCTION duty_append_only();
CREATE TRIGGER duty_log_entries_no_truncate BEFORE TRUNCATE ON duty_log_entries
    FOR EACH STATEMENT EXECUTE FUNCTION duty_append_only();
REVOKE UPDATE, DELETE, TRUNCATE ON duty_log_entries FROM PUBLIC;

CREATE TABLE duty_reviews (
    id                    uuid        PRIMARY KEY DEFAULT gen_random_uuid(),
    org_id                uuid        NOT NULL,
    project_id            uuid        NOT NULL,
    day                   date        NOT NULL,
    reviewed_by           uuid        NOT NULL,
    reviewed_at           timestamptz NOT NULL DEFAULT clock_timestamp(),
    note                  text        CHECK (length(note) <= 2000),
    FOREIGN KEY (org_id, project_id) REFERENCES projects (org_id, id),
    FOREIGN KEY (org_id, reviewed_by) REFERENCES users (org_id, id),
    UNIQUE (project_id, day)
);

CREATE TABLE handovers (
    id                    uuid        PRIMARY KEY DEFAULT gen_random_uuid(),
    org_id                uuid        NOT NULL,
    project_id            uuid        NOT NULL,
    from_shift_id         uuid        NOT NULL,
    to_shift_id           uuid,
    outgoing_user_id      uuid        NOT NULL,
    incoming_user_id      uuid        NOT NULL,
    planned_at            timestamptz NOT NULL,
    state                 text        NOT NULL DEFAULT 'draft' CHECK (state IN ('draft','submitted','accepted')),
    prefill               jsonb       NOT NULL DEFAULT '{}',
    sections              jsonb       NOT NULL DEFAULT '[]',
    unfinished            jsonb       NOT NULL DEFAULT '[]',
    instructions          text        CHECK (length(instructions) <= 4000),
    major_issues          text        CHECK (length(major_issues) <= 4000),
    equipment_status      text        CHECK (length(equipment_status) <= 4000),
    staffing_changes      text        CHECK (length(staffing_changes) <= 4000),
    incoming_unfit        boolean     NOT NULL DEFAULT false,
    unfit_note            text        CHECK (length(unfit_note) <= 2000),
    replacement_user_id   uuid,
    grace_minutes         integer     NOT NULL DEFAULT 15,
    submitted_by          uuid,
    submitted_at          timestamptz,
    accepted_by           uuid,
    accepted_at           timestamptz,
    late_notified_at      timestamptz,
    created_at            timestamptz NOT NULL DEFAULT clock_timestamp(),
    updated_at            timestamptz NOT NULL DEFAULT clock_timestamp(),
    version               integer     NOT NULL DEFAULT 1,
    FOREIGN KEY (org_id, project_id) REFERENCES projects (org_id, id),
    FOREIGN KEY (org_id, from_shift_id) REFERENCES duty_shifts (org_id, id),
    FOREIGN KEY (org_id, to_shift_id) REFERENCES duty_shifts (org_id, id),
    FOREIGN KEY (org_id, outgoing_user_id) REFERENCES users (org_id, id),
    FOREIGN KEY (org_id, incoming_user_id) REFERENCES users (org_id, id),
    FOREIGN KEY (org_id, replacement_user_id) REFERENCES users (org_id, id),
    UNIQUE (from_shift_id)
);
CREATE INDEX handovers_project ON handovers (project_id, planned_at, id);
CREATE INDEX handovers_late_due ON handovers (planned_at) WHERE state <> 'accepted' AND late_notified_at IS NULL;

CREATE TABLE incident_reports (
    id                    uuid        PRIMARY KEY DEFAULT gen_random_uuid(),
    org_id                uuid        NOT NULL,
    project_id            uuid        NOT NULL,
    kind                  text        NOT NULL CHECK (kind IN ('fire','flood','lift_entrapment','gas','theft_robbery','fight','injury_illness','power_water_cut','forced_entry','other')),
    request_ids           uuid[]      NOT NULL DEFAULT '{}',
    occurred_at           timestamptz NOT NULL,
    ended_at              timestamptz,
    place                 text        CHECK (length(place) <= 500),
    discovered_by         text        CHECK (length(discovered_by) <= 200),
    actions               text        CHECK (length(actions) <= 8000),
    services              text[]      NOT NULL DEFAULT '{}' CHECK (services <@ ARRAY['110','119','120','lift_company']::text[]),
    police                jsonb,
    lift_company          jsonb,
    affected_units        uuid[]      NOT NULL DEFAULT '{}',
    owners_notified       boolean,
    forced_entry          jsonb,
    damage                text        CHECK (length(damage) <= 4000),
    state                 text        NOT NULL DEFAULT 'draft' CHECK (state IN ('draft','submitted','acknowledged')),
    due_at                timestamptz NOT NULL,
    written_by            uuid        NOT NULL,
    submitted_by          uuid,
    submitted_at          timestamptz,
    acknowledged_by       uuid,
    acknowledged_at       timestamptz,
    escalated_at          timestamptz,
    created_at            timestamptz NOT NULL DEFAULT clock_timestamp(),
    updated_at            timestamptz NOT NULL DEFAULT clock_timestamp(),
    version               integer     NOT NULL DEFAULT 1,
    FOREIGN KEY (org_id, project_id) REFERENCES projects (org_id, id),
    FOREIGN KEY (org_id, written_by) REFERENCES users (org_id, id),
    UNIQUE (org_id, id)
);
CREATE INDEX incident_reports_project ON incident_reports (project_id, occurred_at, id);
CREATE INDEX incident_reports_overdue ON incident_reports (due_at) WHERE state = 'draft' AND escalated_at IS NULL;

CREATE TRIGGER audit AFTER INSERT OR UPDATE OR DELETE ON duty_settings FOR EACH ROW EXECUTE FUNCTION audit_row('duty_settings', 'project_id');
CREATE TRIGGER audit AFTER INSERT OR UPDATE OR DELETE ON duty_shifts FOR EACH ROW EXECUTE FUNCTION audit_row('duty_shift', 'id');
CREATE TRIGGER audit AFTER INSERT OR UPDATE OR DELETE ON duty_log_entries FOR EACH ROW EXECUTE FUNCTION audit_row('duty_log_entry', 'id');
CREATE TRIGGER audit AFTER INSERT OR UPDATE OR DELETE ON duty_reviews FOR EACH ROW EXECUTE FUNCTION audit_row('duty_review', 'id');
CREATE TRIGGER audit AFTER INSERT OR UPDATE OR DELETE ON handovers FOR EACH ROW EXECUTE FUNCTION audit_row('handover', 'id');
CREATE TRIGGER audit AFTER INSERT OR UPDATE OR DELETE ON incident_reports FOR EACH ROW EXECUTE FUNCTION audit_row('incident_report', 'id');

-- The service's database role (scripts/run.sh logs in as a member of it): everything it
-- needs, but only INSERT and SELECT on the append-only tables.  CREATE ROLE needs the
-- CREATEROLE privilege: without it the role is skipped with a notice (the triggers above
-- refuse UPDATE/DELETE anyway), and a later run by a privileged user adds it.
DO $$
BEGIN
    IF NOT EXISTS (SELECT 1 FROM pg_roles WHERE rolname = 'deskd_app') THEN
        CREATE ROLE deskd_app NOLOGIN;
    END IF;
    -- CREATE: next_number() makes a sequence per (project, year, prefix) on first use.
    GRANT USAGE, CREATE ON SCHEMA public TO deskd_app;
    GRANT SELECT, INSERT, UPDATE, DELETE ON ALL TABLES IN SCHEMA public TO deskd_app;
    GRANT USAGE, SELECT, UPDATE ON ALL SEQUENCES IN SCHEMA public TO deskd_app;
    REVOKE UPDATE, DELETE, TRUNCATE ON audit_log, request_events, request_register_notes, callback_attempts FROM deskd_app;
    REVOKE INSERT, UPDATE, DELETE, TRUNCATE ON audit_chain_heads FROM deskd_app;
    REVOKE UPDATE, DELETE, TRUNCATE ON duty_log_entries FROM deskd_app;
    ALTER DEFAULT PRIVILEGES IN SCHEMA public GRANT SELECT, INSERT, UPDATE, DELETE ON TABLES TO deskd_app;
    ALTER DEFAULT PRIVILEGES IN SCHEMA public GRANT USAGE, SELECT, UPDATE ON SEQUENCES TO deskd_app;
EXCEPTION WHEN insufficient_privilege THEN
    RAISE NOTICE 'role deskd_app not created or granted (%): run this migration''s DO block as a user with CREATEROLE', SQLERRM;
END $$;

-- Satisfaction surveys and household visits (RULES §3.2; issue 9).
--
-- A campaign (survey_campaigns) has ordered items in groups (survey_items, each naming
-- the department it measures, if any), editable only while the campaign is a draft.  A
-- household answers once per campaign (survey_responses, unique per unit); its answers
-- are immutable: each entry or correction is a new version (survey_response_versions with
-- its survey_answers, both append-only) and the response points at the latest, which is
-- the one that counts.  survey_followups links an answer (overall: item_id NULL) to what
-- it set off: a complaint request (不满意) or a callback still to be created (不太满意).
-- visit_records are the 走访业户记录表.
CREATE DOMAIN survey_rating AS text
    CHECK (VALUE IN ('very_satisfied','fairly_satisfied','basically_satisfied','somewhat_dissatisfied','dissatisfied'));

CREATE TABLE survey_campaigns (
    id                  uuid        PRIMARY KEY DEFAULT gen_random_uuid(),
    org_id              uuid        NOT NULL,
    project_id          uuid        NOT NULL,
    title               text        NOT NULL CHECK (length(title) BETWEEN 1 AND 200),
    kind                text        NOT NULL CHECK (kind IN ('periodic','after_repair','visit','special')),
    cadence             text        NOT NULL CHECK (cadence IN ('quarterly','semi_annual','yearly','once')),
    period_start        date,
    period_end          date,
    state               text        NOT NULL DEFAULT 'draft' CHECK (state IN ('draft','open','closed','reported')),
    distribution        text        NOT NULL DEFAULT 'count' CHECK (distribution IN ('count','per_unit')),
    copies_distributed  integer     CHECK (copies_distributed BETWEEN 0 AND 10000000),
    opinion             text        CHECK (length(opinion) BETWEEN 1 AND 10000),
    report              jsonb,
    opened_at           timestamptz,
    closed_at           timestamptz,
    reported_at         timestamptz,
    created_by          uuid        NOT NULL,
    version             integer     NOT NULL DEFAULT 1,
    created_at          timestamptz NOT NULL DEFAULT clock_timestamp(),
    updated_at          timestamptz NOT NULL DEFAULT clock_timestamp(),
    FOREIGN KEY (org_id, project_id) REFERENCES projects (org_id, id),
    FOREIGN KEY (org_id, created_by) REFERENCES users (org_id, id),
    CHECK (period_end IS NULL OR period_start IS NULL OR period_end >= period_start),
    CHECK ((state = 'reported') = (report IS NOT NULL)),
    UNIQUE (org_id, id)
);
CREATE INDEX survey_campaigns_list ON survey_campaigns (org_id, project_id, created_at, id);

CREATE TABLE survey_items (
    id             uuid     PRIMARY KEY DEFAULT gen_random_uuid(),
    org_id         uuid     NOT NULL,
    campaign_id    uuid     NOT NULL,
    position       integer  NOT NULL CHECK (position BETWEEN 1 AND 200),
    code           text     NOT NULL CHECK (length(code) BETWEEN 1 AND 32),
    group_name     text     NOT NULL CHECK (length(group_name) BETWEEN 1 AND 100),
    text           text     NOT NULL CHECK (length(text) BETWEEN 1 AND 500),
    department_id  uuid,
    FOREIGN KEY (org_id, campaign_id) REFERENCES survey_campaigns (org_id, id) ON DELETE CASCADE,
    FOREIGN KEY (org_id, department_id) REFERENCES departments (org_id, id),
    UNIQUE (campaign_id, position),
    UNIQUE (campaign_id, code),
    UNIQUE (org_id, id)
);

CREATE TABLE survey_responses (
    id               uuid        PRIMARY KEY DEFAULT gen_random_uuid(),
    org_id           uuid        NOT NULL,
    project_id       uuid        NOT NULL,
    campaign_id      uuid        NOT NULL,
    unit_id          uuid        NOT NULL,
    channel          text        NOT NULL CHECK (channel IN ('paper','app','visit','integration')),
    respondent_name  text        CHECK (length(respondent_name) BETWEEN 1 AND 100),
    external_source  text        CHECK (length(external_source) BETWEEN 1 AND 64),
    external_id      text        CHECK (length(external_id) BETWEEN 1 AND 128),
    returned_at      timestamptz NOT NULL,
    entered_by       uuid        NOT NULL,
    current_version  integer     NOT NULL DEFAULT 1,
    created_at       timestamptz NOT NULL DEFAULT clock_timestamp(),
    updated_at       timestamptz NOT NULL DEFAULT clock_timestamp(),
    FOREIGN KEY (org_id, campaign_id) REFERENCES survey_campaigns (org_id, id),
    FOREIGN KEY (org_id, unit_id) REFERENCES units (org_id, id),
    FOREIGN KEY (org_id, entered_by) REFERENCES users (org_id, id),
    CHECK ((external_source IS NULL) = (external_id IS NULL)),
    CONSTRAINT survey_responses_household UNIQUE (campaign_id, unit_id),
    CONSTRAINT survey_responses_external UNIQUE (org_id, external_source, external_id),
    UNIQUE (org_id, id)
);
CREATE INDEX survey_responses_list ON survey_responses (campaign_id, created_at, id);

CREATE TABLE survey_response_versions (
    id              uuid        PRIMARY KEY DEFAULT gen_random_uuid(),
    org_id          uuid        NOT NULL,
    response_id     uuid        NOT NULL,
    version         integer     NOT NULL CHECK (version >= 1),
    overall_rating  survey_rating NOT NULL,
    comment         text        CHECK (length(comment) BETWEEN 1 AND 4000),
    reason          text        CHECK (length(reason) BETWEEN 1 AND 1000),
    recorded_by     uuid        NOT NULL,
    recorded_role   text        NOT NULL,
    recorded_at     timestamptz NOT NULL DEFAULT clock_timestamp(),
    FOREIGN KEY (org_id, response_id) REFERENCES survey_responses (org_id, id),
    FOREIGN KEY (org_id, recorded_by) REFERENCES users (org_id, id),
    CHECK ((version = 1) = (reason IS NULL)),
    UNIQUE (response_id, version),
    UNIQUE (org_id, id)
);

CREATE TABLE survey_answers (
    org_id      uuid NOT NULL,
    version_id  uuid NOT NULL,
    item_id     uuid NOT NULL,
    rating      survey_rating,
    text        text CHECK (length(text) BETWEEN 1 AND 2000),
    PRIMARY KEY (version_id, item_id),
    FOREIGN KEY (org_id, version_id) REFERENCES survey_response_versions (org_id, id),
    FOREIGN KEY (org_id, item_id) REFERENCES survey_items (org_id, id),
    CHECK (rating IS NOT NULL OR text IS NOT NULL)
);

CREATE TABLE survey_followups (
    id                uuid        PRIMARY KEY DEFAULT gen_random_uuid(),
    org_id            uuid        NOT NULL,
    response_id       uuid        NOT NULL,
    version           integer     NOT NULL,
    item_id           uuid,
    rating            survey_rating NOT NULL,
    kind              text        NOT NULL CHECK (kind IN ('complaint','callback')),
    state             text        NOT NULL CHECK (state IN ('opened','pending')),
    request_id        uuid,
    callback_task_id  uuid,
    created_at        timestamptz NOT NULL DEFAULT clock_timestamp(),
    FOREIGN KEY (org_id, response_id) REFERENCES survey_responses (org_id, id),
    FOREIGN KEY (org_id, item_id) REFERENCES survey_items (org_id, id),
    FOREIGN KEY (org_id, request_id) REFERENCES requests (org_id, id),
    CHECK (kind <> 'complaint' OR request_id IS NOT NULL),
    -- 0025: a callback follow-up opens its task in the answer's transaction.
    CONSTRAINT survey_followups_callback_task_fkey
        FOREIGN KEY (org_id, callback_task_id) REFERENCES callback_tasks (org_id, id),
    CONSTRAINT survey_followups_callback_opened
        CHECK (kind <> 'callback' OR (state = 'opened' AND callback_task_id IS NOT NULL))
);
-- One complaint / callback per answer of a household, however often it is corrected.
CREATE UNIQUE INDEX survey_followups_once ON survey_followups
    (response_id, kind, coalesce(item_id, '00000000-0000-0000-0000-000000000000'::uuid));
-- What the callback feature still has to pick up.
CREATE INDEX survey_followups_pending ON survey_followups (org_id, created_at)
    WHERE state = 'pending';
CREATE INDEX survey_followups_task ON survey_followups (callback_task_id)
    WHERE callback_task_id IS NOT NULL;
-- A survey response as a callback task's subject (0025): one open task per response.
ALTER TABLE callback_tasks ADD CONSTRAINT callback_tasks_survey_response_fkey
    FOREIGN KEY (org_id, survey_response_id) REFERENCES survey_responses (org_id, id);
CREATE UNIQUE INDEX callback_tasks_one_open_survey ON callback_tasks (survey_response_id)
    WHERE state = 'open';

CREATE TABLE visit_records (
    id                     uuid        PRIMARY KEY DEFAULT gen_random_uuid(),
    org_id                 uuid        NOT NULL,
    project_id             uuid        NOT NULL,
    visited_on             date        NOT NULL,
    unit_id                uuid,
    client_name            text        CHECK (length(client_name) BETWEEN 1 AND 100),
    client_org             text        CHECK (length(client_org) BETWEEN 1 AND 200),
    client_kind            text        CHECK (client_kind IN ('official','developer','owners_committee','influential_owner')),
    visitors               uuid[]      NOT NULL CHECK (cardinality(visitors) BETWEEN 1 AND 20),
    topics                 text        NOT NULL CHECK (length(topics) BETWEEN 1 AND 2000),
    opinions               text        CHECK (length(opinions) BETWEEN 1 AND 4000),
    follow_up              text        CHECK (length(follow_up) BETWEEN 1 AND 2000),
    follow_up_request_id   uuid,
    -- The free CA number of records entered before 0025 (corrective_action_id links now).
    corrective_action_ref  text        CHECK (length(corrective_action_ref) BETWEEN 1 AND 64),
    created_by             uuid        NOT NULL,
    version                integer     NOT NULL DEFAULT 1,
    created_at             timestamptz NOT NULL DEFAULT clock_timestamp(),
    updated_at             timestamptz NOT NULL DEFAULT clock_timestamp(),
    corrective_action_id   uuid,
    FOREIGN KEY (org_id, project_id) REFERENCES projects (org_id, id),
    FOREIGN KEY (org_id, unit_id) REFERENCES units (org_id, id),
    FOREIGN KEY (org_id, follow_up_request_id) REFERENCES requests (org_id, id),
    FOREIGN KEY (org_id, created_by) REFERENCES users (org_id, id),
    CHECK (unit_id IS NOT NULL OR client_name IS NOT NULL),
    CHECK (client_kind IS NULL OR client_name IS NOT NULL)
);
CREATE INDEX visit_records_month ON visit_records (project_id, visited_on, id);

-- Answers are never changed or removed: a correction is a new version.
CREATE FUNCTION survey_append_only() RETURNS trigger
LANGUAGE plpgsql AS
$$ BEGIN
  RAISE EXCEPTION 'survey answers are append-only (a correction is a new version): % refused', TG_OP
    USING ERRCODE = 'insufficient_privilege';
END $$;
CREATE TRIGGER survey_response_versions_append_only BEFORE UPDATE OR DELETE ON survey_response_versions
    FOR EACH ROW EXECUTE FUNCTION survey_append_only();
CREATE TRIGGER survey_response_versions_no_truncate BEFORE TRUNCATE ON survey_response_versions
    FOR EACH STATEMENT EXECUTE FUNCTION survey_append_only();
CREATE TRIGGER survey_answers_append_only BEFORE UPDATE OR DELETE ON survey_answers
    FOR EACH ROW EXECUTE FUNCTION survey_append_only();
CREATE TRIGGER survey_answers_no_truncate BEFORE TRUNCATE ON survey_answers
    FOR EACH STATEMENT EXECUTE FUNCTION survey_append_only();

CREATE TRIGGER audit AFTER INSERT OR UPDATE OR DELETE ON survey_campaigns FOR EACH ROW EXECUTE FUNCTION audit_row('survey_campaign', 'id');
CREATE TRIGGER audit AFTER INSERT OR UPDATE OR DELETE ON survey_items FOR EACH ROW EXECUTE FUNCTION audit_row('survey_item', 'id');
CREATE TRIGGER audit AFTER INSERT OR UPDATE OR DELETE ON survey_responses FOR EACH ROW EXECUTE FUNCTION audit_row('survey_response', 'id');
CREATE TRIGGER audit AFTER INSERT OR UPDATE OR DELETE ON survey_response_versions FOR EACH ROW EXECUTE FUNCTION audit_row('survey_response_version', 'id');
CREATE TRIGGER audit AFTER INSERT OR UPDATE OR DELETE ON survey_answers FOR EACH ROW EXECUTE FUNCTION audit_row('survey_answer', 'version_id');
CREATE TRIGGER audit AFTER INSERT OR UPDATE OR DELETE ON survey_followups FOR EACH ROW EXECUTE FUNCTION audit_row('survey_followup', 'id');
CREATE TRIGGER audit AFTER INSERT OR UPDATE OR DELETE ON visit_records FOR EACH ROW EXECUTE FUNCTION audit_row('visit_record', 'id');
-- 0018: corrective and preventive actions (纠正措施 / 预防措施, RULES §3.3) and the
-- rectifications of patrol findings (§3.10): the record, its sources, an append-only event
-- per change, a per-organisation yearly counter for the CA-<year>-<6> numbers, and the
-- overdue alerts (each recorded once per due time).

-- CA numbers: one counter row per (organisation, year), taken with the creation's
-- transaction (INSERT … ON CONFLICT DO UPDATE locks the row until commit), so concurrent
-- creations get consecutive numbers and a rolled-back creation gives its number back.
CREATE TABLE capa_counters (
    org_id  uuid     NOT NULL REFERENCES organisations(id),
    year    integer  NOT NULL CHECK (year BETWEEN 2000 AND 9999),
    last    integer  NOT NULL CHECK (last BETWEEN 1 AND 999999),
    PRIMARY KEY (org_id, year)
);

CREATE FUNCTION capa_next_number(p_org uuid, p_year integer) RETURNS text
LANGUAGE sql AS $$
    INSERT INTO capa_counters AS k (org_id, year, last) VALUES (p_org, p_year, 1)
    ON CONFLICT (org_id, year) DO UPDATE SET last = k.last + 1
    RETURNING 'CA-' || k.year || '-' || lpad(k.last::text, 6, '0')
$$;

CREATE TABLE corrective_actions (
    id                     uuid        PRIMARY KEY DEFAULT gen_random_uuid(),
    org_id                 uuid        NOT NULL,
    project_id             uuid        NOT NULL,
    number                 text        NOT NULL CHECK (number ~ '^CA-[0-9]{4}-[0-9]{6}$'),
    kind                   text        NOT NULL CHECK (kind IN ('corrective','preventive','rectification')),
    state                  text        NOT NULL DEFAULT 'open' CHECK (state IN ('open','measures_proposed','approved','implementing','implemented','verified','ineffective','cancelled')),
    title                  text        NOT NULL CHECK (length(title) BETWEEN 1 AND 200),
    problem                text        CHECK (length(problem) <= 4000),
    major                  boolean     NOT NULL DEFAULT false,
    department_id          uuid,
    responsible_id         uuid,
    other_departments      uuid[]      NOT NULL DEFAULT '{}' CHECK (cardinality(other_departments) <= 20),
    cause_analysis         text        CHECK (length(cause_analysis) <= 4000),
    responsibility         text        CHECK (length(responsibility) <= 4000),
    remedial_action        text        CHECK (length(remedial_action) <= 4000),
    measures               text        CHECK (length(measures) <= 4000),
    due_at                 timestamptz,
    approved_by            uuid,
    approved_at            timestamptz,
    implementation_notes   text        CHECK (length(implementation_notes) <= 4000),
    implemented_at         timestamptz,
    verification           text        CHECK (length(verification) <= 4000),
    verified_by            uuid,
    verified_at            timestamptz,
    customer_confirmation  text        CHECK (length(customer_confirmation) <= 4000),
    customer_confirmed     boolean,
    customer_confirmed_at  timestamptz,
    cancel_reason          text        CHECK (length(cancel_reason) <= 2000),
    reviews                jsonb       NOT NULL DEFAULT '[]',
    created_by             uuid,
    created_at             timestamptz NOT NULL DEFAULT clock_timestamp(),
    updated_at             timestamptz NOT NULL DEFAULT clock_timestamp(),
    version                integer     NOT NULL DEFAULT 1,
    FOREIGN KEY (org_id, project_id) REFERENCES projects (org_id, id),
    FOREIGN KEY (org_id, department_id) REFERENCES departments (org_id, id),
    FOREIGN KEY (org_id, responsible_id) REFERENCES users (org_id, id),
    FOREIGN KEY (org_id, created_by) REFERENCES users (org_id, id),
    CHECK (state <> 'cancelled' OR cancel_reason IS NOT NULL),
    UNIQUE (org_id, number),
    UNIQUE (org_id, id)
);
CREATE INDEX corrective_actions_list ON corrective_actions (project_id, created_at, id);
-- A visit's follow-up corrective action (0025).
ALTER TABLE visit_records ADD CONSTRAINT visit_records_corrective_action_fkey
    FOREIGN KEY (org_id, corrective_action_id) REFERENCES corrective_actions (org_id, id);
CREATE INDEX corrective_actions_responsible ON corrective_actions (responsible_id, state);
-- The overdue clock's work queue: only actions whose deadline still runs.
CREATE INDEX corrective_actions_due ON corrective_actions (due_at)
    WHERE state IN ('open','measures_proposed','approved','implementing','ineffective') AND due_at IS NOT NULL;

-- Where an action comes from: a generic (kind, ref) list — request ids, survey items
-- ("<campaign>/<item>"), a department below target ("<department>/<period>"), visit
-- records, patrol findings.  One action per department and period below target.
CREATE TABLE corrective_action_sources (
    org_id      uuid  NOT NULL,
    action_id   uuid  NOT NULL,
    source_kind text  NOT NULL CHECK (source_kind IN ('request','survey_item','department_below_target','visit','patrol_finding','other')),
    source_id   text  NOT NULL CHECK (length(source_id) BETWEEN 1 AND 200),
    FOREIGN KEY (org_id, action_id) REFERENCES corrective_actions (org_id, id),
    PRIMARY KEY (action_id, source_kind, source_id)
);
CREATE INDEX corrective_action_sources_ref ON corrective_action_sources (org_id, source_kind, source_id);
CREATE UNIQUE INDEX corrective_action_sources_dept_period ON corrective_action_sources (org_id, source_id)
    WHERE source_kind = 'department_below_target';

-- Every change, with its actor and time; append-only (audit_append_only, 0015).
CREATE TABLE corrective_action_events (
    id          bigint      GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    org_id      uuid        NOT NULL,
    action_id   uuid        NOT NULL,
    seq         integer     NOT NULL CHECK (seq >= 1),
    action      text        NOT NULL CHECK (length(action) BETWEEN 1 AND 64),
    from_state  text,
    to_state    text        NOT NULL,
    actor_id    uuid,
    actor_role  text,
    at          timestamptz NOT NULL DEFAULT clock_timestamp(),
    details     jsonb       NOT NULL DEFAULT '{}',
    FOREIGN KEY (org_id, action_id) REFERENCES corrective_actions (org_id, id),
    FOREIGN KEY (org_id, actor_id) REFERENCES users (org_id, id),
    UNIQUE (action_id, seq)
);
CREATE TRIGGER corrective_action_events_append_only BEFORE UPDATE OR DELETE ON corrective_action_events
    FOR EACH ROW EXECUTE FUNCTION audit_append_only();
CREATE TRIGGER corrective_action_events_no_truncate BEFORE TRUNCATE ON corrective_action_events
    FOR EACH STATEMENT EXECUTE FUNCTION audit_append_only();

-- Overdue warnings and escalations, each once per (action, kind, due time).
CREATE TABLE capa_alerts (
    org_id      uuid        NOT NULL,
    action_id   uuid        NOT NULL,
    kind        text        NOT NULL CHECK (kind IN ('warning','escalation')),
    due_at      timestamptz NOT NULL,
    created_at  timestamptz NOT NULL DEFAULT clock_timestamp(),
    FOREIGN KEY (org_id, action_id) REFERENCES corrective_actions (org_id, id),
    PRIMARY KEY (action_id, kind, due_at)
);

-- The JSON of an action as the API returns it.
CREATE FUNCTION capa_json(a corrective_actions) RETURNS json
LANGUAGE sql STABLE AS $$
    SELECT json_build_object('id', a.id, 'number', a.number, 'project_id', a.project_id,
        'kind', a.kind, 'state', a.state, 'title', a.title, 'problem', a.problem,
        'major', a.major, 'department_id', a.department_id, 'responsible_id', a.responsible_id,
        'other_departments', to_json(a.other_departments),
        'sources', (SELECT coalesce(json_agg(json_build_object('kind', s.source_kind, 'id', s.source_id)
                    ORDER BY s.source_kind, s.source_id), '[]') FROM corrective_action_sources s
                    WHERE s.action_id = a.id),
        'cause_analysis', a.cause_analysis, 'responsibility', a.responsibility,
        'remedial_action', a.remedial_action, 'measures', a.measures,
        'due_at', rfc3339(a.due_at),
        'overdue', a.due_at IS NOT NULL AND a.due_at < clock_timestamp()
                   AND a.state IN ('open','measures_proposed','approved','implementing','ineffective'),
        'approved_by', a.approved_by, 'approved_at', rfc3339(a.approved_at),
        'implementation_notes', a.implementation_notes, 'implemented_at', rfc3339(a.implemented_at),
        'verification', a.verification, 'verified_by', a.verified_by, 'verified_at', rfc3339(a.verified_at),
        'customer_confirmation', a.customer_confirmation, 'customer_confirmed', a.customer_confirmed,
        'customer_confirmed_at', rfc3339(a.customer_confirmed_at),
        'cancel_reason', a.cancel_reason, 'reviews', a.reviews, 'created_by', a.created_by,
        'created_at', rfc3339(a.created_at), 'updated_at', rfc3339(a.updated_at), 'version', a.version)
$$;

CREATE TRIGGER audit AFTER INSERT OR UPDATE OR DELETE ON corrective_actions FOR EACH ROW EXECUTE FUNCTION audit_row('corrective_action', 'id');
CREATE TRIGGER audit AFTER INSERT OR UPDATE OR DELETE ON corrective_action_sources FOR EACH ROW EXECUTE FUNCTION audit_row('corrective_action_source', 'action_id');

DO $$
BEGIN
    IF EXISTS (SELECT 1 FROM pg_roles WHERE rolname = 'deskd_app') THEN
        GRANT SELECT, INSERT, UPDATE, DELETE ON survey_campaigns, survey_items, survey_responses,
            survey_followups, visit_records TO deskd_app;
        GRANT SELECT, INSERT ON survey_response_versions, survey_answers TO deskd_app;
        REVOKE UPDATE, DELETE, TRUNCATE ON survey_response_versions, survey_answers FROM deskd_app;
    END IF;
EXCEPTION WHEN insufficient_privilege THEN
    RAISE NOTICE 'deskd_app not granted the survey tables (%): run this migration''s DO block as a user with the right to grant', SQLERRM;
END $$;

DO $$
BEGIN
    IF EXISTS (SELECT 1 FROM pg_roles WHERE rolname = 'deskd_app') THEN
        GRANT SELECT, INSERT, UPDATE, DELETE ON capa_counters, corrective_actions,
            corrective_action_sources, capa_alerts TO deskd_app;
        GRANT SELECT, INSERT ON corrective_action_events TO deskd_app;
        REVOKE UPDATE, DELETE, TRUNCATE ON corrective_action_events FROM deskd_app;
    END IF;
EXCEPTION WHEN insufficient_privilege THEN
    RAISE NOTICE 'deskd_app not granted (%)', SQLERRM;
END $$;

-- 0019: patrols (巡检, RULES §3.10, seed 004 一.3): a plan per project and kind with its
-- planned local times (twice a day) and grace, rounds (actual start and end, participants,
-- coverage, the checklist answers), findings with their disposition — fixed on the spot,
-- a rectification (a corrective action of kind rectification) or a service request
-- (channel patrol) — and the missed slots, each notified once.
CREATE TABLE patrol_plans (
    id             uuid        PRIMARY KEY DEFAULT gen_random_uuid(),
    org_id         uuid        NOT NULL,
    project_id     uuid        NOT NULL,
    kind           text        NOT NULL CHECK (kind IN ('quality','building','vacant_units','night')),
    times          text[]      NOT NULL CHECK (cardinality(times) BETWEEN 1 AND 12),
    grace_minutes  integer     NOT NULL DEFAULT 30 CHECK (grace_minutes BETWEEN 0 AND 720),
    active         boolean     NOT NULL DEFAULT true,
    version        integer     NOT NULL DEFAULT 1,
    created_at     timestamptz NOT NULL DEFAULT clock_timestamp(),
    updated_at     timestamptz NOT NULL DEFAULT clock_timestamp(),
    FOREIGN KEY (org_id, project_id) REFERENCES projects (org_id, id),
    UNIQUE (project_id, kind),
    UNIQUE (org_id, id)
);

CREATE TABLE patrol_rounds (
    id             uuid        PRIMARY KEY DEFAULT gen_random_uuid(),
    org_id         uuid        NOT NULL,
    project_id     uuid        NOT NULL,
    kind           text        NOT NULL CHECK (kind IN ('quality','building','vacant_units','night')),
    plan_id        uuid,
    planned_at     timestamptz,
    state          text        NOT NULL DEFAULT 'in_progress' CHECK (state IN ('in_progress','finished')),
    started_at     timestamptz NOT NULL DEFAULT clock_timestamp(),
    ended_at       timestamptz,
    started_by     uuid        NOT NULL,
    finished_by    uuid,
    participants   uuid[]      NOT NULL DEFAULT '{}' CHECK (cardinality(participants) <= 20),
    coverage       text        NOT NULL DEFAULT 'whole' CHECK (coverage IN ('whole','sampled')),
    coverage_note  text        CHECK (length(coverage_note) <= 1000),
    checks         jsonb       NOT NULL DEFAULT '{}',
    short_reason   text        CHECK (length(short_reason) <= 1000),
    version        integer     NOT NULL DEFAULT 1,
    created_at     timestamptz NOT NULL DEFAULT clock_timestamp(),
    updated_at     timestamptz NOT NULL DEFAULT clock_timestamp(),
    FOREIGN KEY (org_id, project_id) REFERENCES projects (org_id, id),
    FOREIGN KEY (org_id, plan_id) REFERENCES patrol_plans (org_id, id),
    FOREIGN KEY (org_id, started_by) REFERENCES users (org_id, id),
    FOREIGN KEY (org_id, finished_by) REFERENCES users (org_id, id),
    CHECK ((state = 'finished') = (ended_at IS NOT NULL)),
    UNIQUE (plan_id, planned_at),
    UNIQUE (org_id, id)
);
CREATE INDEX patrol_rounds_project ON patrol_rounds (project_id, started_at, id);

CREATE TABLE patrol_findings (
    id                uuid        PRIMARY KEY DEFAULT gen_random_uuid(),
    org_id            uuid        NOT NULL,
    project_id        uuid        NOT NULL,
    round_id          uuid        NOT NULL,
    point             text        NOT NULL CHECK (length(point) BETWEEN 1 AND 64),
    description       text        NOT NULL CHECK (length(description) BETWEEN 1 AND 2000),
    location          text        NOT NULL CHECK (length(location) BETWEEN 1 AND 200),
    photo_id          uuid,
    owner_related     boolean     NOT NULL DEFAULT false,
    follow_up_id      uuid,
    reply_due         timestamptz,
    responsible_id    uuid,
    disposition       text        CHECK (disposition IN ('fixed_on_spot','rectification','request')),
    disposition_note  text        CHECK (length(disposition_note) <= 2000),
    disposed_by       uuid,
    disposed_at       timestamptz,
    capa_id           uuid,
    request_id        uuid,
    created_by        uuid        NOT NULL,
    created_at        timestamptz NOT NULL DEFAULT clock_timestamp(),
    updated_at        timestamptz NOT NULL DEFAULT clock_timestamp(),
    version           integer     NOT NULL DEFAULT 1,
    FOREIGN KEY (org_id, round_id) REFERENCES patrol_rounds (org_id, id),
    FOREIGN KEY (org_id, follow_up_id) REFERENCES users (org_id, id),
    FOREIGN KEY (org_id, responsible_id) REFERENCES users (org_id, id),
    FOREIGN KEY (org_id, disposed_by) REFERENCES users (org_id, id),
    FOREIGN KEY (org_id, created_by) REFERENCES users (org_id, id),
    FOREIGN KEY (org_id, capa_id) REFERENCES corrective_actions (org_id, id),
    FOREIGN KEY (org_id, request_id) REFERENCES requests (org_id, id),
    CHECK (NOT owner_related OR (follow_up_id IS NOT NULL AND reply_due IS NOT NULL)),
    CHECK ((disposition = 'rectification') = (capa_id IS NOT NULL)),
    CHECK ((disposition = 'request') = (request_id IS NOT NULL)),
    UNIQUE (org_id, id)
);
CREATE INDEX patrol_findings_round ON patrol_findings (round_id, created_at, id);
CREATE INDEX patrol_findings_open ON patrol_findings (project_id, created_at) WHERE disposition IS NULL;

-- Slots of a plan with no round started by planned time + grace, notified once.
CREATE TABLE patrol_missed (
    org_id       uuid        NOT NULL,
    project_id   uuid        NOT NULL,
    plan_id      uuid        NOT NULL,
    planned_at   timestamptz NOT NULL,
    created_at   timestamptz NOT NULL DEFAULT clock_timestamp(),
    FOREIGN KEY (org_id, plan_id) REFERENCES patrol_plans (org_id, id),
    PRIMARY KEY (plan_id, planned_at)
);

-- The planned slots of a project's active plans on local day p_day (the project's zone).
CREATE FUNCTION patrol_slots(p_project uuid, p_day date)
RETURNS TABLE (plan_id uuid, kind text, planned_at timestamptz, grace_minutes integer)
LANGUAGE sql STABLE AS $$
    SELECT pl.id, pl.kind, (p_day + t::time) AT TIME ZONE pr.time_zone, pl.grace_minutes
    FROM patrol_plans pl JOIN projects pr ON pr.id = pl.project_id, unnest(pl.times) AS t
    WHERE pl.project_id = p_project AND pl.active
$$;

CREATE FUNCTION patrol_round_json(r patrol_rounds) RETURNS json
LANGUAGE sql STABLE AS $$
    SELECT json_build_object('id', r.id, 'project_id', r.project_id, 'kind', r.kind,
        'plan_id', r.plan_id, 'planned_at', rfc3339(r.planned_at), 'state', r.state,
        'started_at', rfc3339(r.started_at), 'ended_at', rfc3339(r.ended_at),
        'started_by', r.started_by, 'finished_by', r.finished_by,
        'participants', to_json(r.participants), 'coverage', r.coverage,
        'coverage_note', r.coverage_note, 'checks', r.checks, 'short_reason', r.short_reason,
        'finding_count', (SELECT count(*) FROM patrol_findings f WHERE f.round_id = r.id),
        'open_finding_count', (SELECT count(*) FROM patrol_findings f WHERE f.round_id = r.id
                          AND f.disposition IS NULL),
        'version', r.version, 'created_at', rfc3339(r.created_at), 'updated_at', rfc3339(r.updated_at))
$$;

CREATE FUNCTION patrol_finding_json(f patrol_findings) RETURNS json
LANGUAGE sql STABLE AS $$
    SELECT json_build_object('id', f.id, 'project_id', f.project_id, 'round_id', f.round_id,
        'point', f.point, 'description', f.description, 'location', f.location,
        'photo_id', f.photo_id, 'owner_related', f.owner_related, 'follow_up_id', f.follow_up_id,
        'reply_due', rfc3339(f.reply_due), 'responsible_id', f.responsible_id,
        'disposition', f.disposition, 'disposition_note', f.disposition_note,
        'disposed_by', f.disposed_by, 'disposed_at', rfc3339(f.disposed_at),
        'corrective_action_id', f.capa_id, 'request_id', f.request_id,
        'created_by', f.created_by, 'created_at', rfc3339(f.created_at), 'version', f.version)
$$;

CREATE TRIGGER audit AFTER INSERT OR UPDATE OR DELETE ON patrol_plans FOR EACH ROW EXECUTE FUNCTION audit_row('patrol_plan', 'id');
CREATE TRIGGER audit AFTER INSERT OR UPDATE OR DELETE ON patrol_rounds FOR EACH ROW EXECUTE FUNCTION audit_row('patrol_round', 'id');
CREATE TRIGGER audit AFTER INSERT OR UPDATE OR DELETE ON patrol_findings FOR EACH ROW EXECUTE FUNCTION audit_row('patrol_finding', 'id');

DO $$
BEGIN
    IF EXISTS (SELECT 1 FROM pg_roles WHERE rolname = 'deskd_app') THEN
        GRANT SELECT, INSERT, UPDATE, DELETE ON patrol_plans, patrol_rounds, patrol_findings,
            patrol_missed TO deskd_app;
    END IF;
EXCEPTION WHEN insufficient_privilege THEN
    RAISE NOTICE 'deskd_app not granted (%)', SQLERRM;
END $$;

-- 0027: what the morning handover did with each night-desk request it listed.
ALTER TABLE handovers ADD COLUMN night_desk_actions jsonb NOT NULL DEFAULT '[]';

-- Patrol photos (RULES §3.10.3: a finding has its photo).  The file lives in object storage;
-- the row records it as a request attachment does (name, type, size, storage key, URL,
-- digest), under the round it was taken on.  A finding's photo_id names one of its round's
-- photos.  Findings recorded before this migration named a bare uuid: the reference is not
-- validated for them (NOT VALID), only for every finding written from now on.
CREATE TABLE patrol_photos (
    id            uuid        PRIMARY KEY DEFAULT gen_random_uuid(),
    org_id        uuid        NOT NULL,
    project_id    uuid        NOT NULL,
    round_id      uuid        NOT NULL,
    filename      text        NOT NULL CHECK (length(filename) BETWEEN 1 AND 255),
    content_type  text        NOT NULL CHECK (content_type LIKE 'image/%' AND length(content_type) <= 127),
    size_bytes    bigint      NOT NULL CHECK (size_bytes >= 0),
    storage_key   text        NOT NULL CHECK (length(storage_key) BETWEEN 1 AND 1024),
    url           text        CHECK (length(url) <= 2048),
    sha256        text        CHECK (sha256 ~ '^[0-9a-f]{64}$'),
    created_by    uuid        NOT NULL,
    created_at    timestamptz NOT NULL DEFAULT clock_timestamp(),
    FOREIGN KEY (org_id, project_id) REFERENCES projects (org_id, id),
    FOREIGN KEY (org_id, round_id) REFERENCES patrol_rounds (org_id, id),
    FOREIGN KEY (org_id, created_by) REFERENCES users (org_id, id),
    UNIQUE (org_id, id)
);
CREATE INDEX patrol_photos_round ON patrol_photos (round_id, created_at, id);
ALTER TABLE patrol_findings ADD CONSTRAINT patrol_findings_photo_fkey
    FOREIGN KEY (org_id, photo_id) REFERENCES patrol_photos (org_id, id) NOT VALID;
CREATE TRIGGER audit AFTER INSERT OR UPDATE OR DELETE ON patrol_photos FOR EACH ROW EXECUTE FUNCTION audit_row('patrol_photo', 'id');

DO $$
BEGIN
    IF EXISTS (SELECT 1 FROM pg_roles WHERE rolname = 'deskd_app') THEN
        GRANT SELECT, INSERT ON patrol_photos TO deskd_app;
    END IF;
EXCEPTION WHEN insufficient_privilege THEN
    RAISE NOTICE 'deskd_app not granted (%)', SQLERRM;
END $$;

-- 0030: the service's role reads the audit seals; only audit_seal_pending() writes.
DO $$
BEGIN
    IF EXISTS (SELECT 1 FROM pg_roles WHERE rolname = 'deskd_app') THEN
        GRANT SELECT ON audit_seals, audit_seal_state TO deskd_app;
        REVOKE INSERT, UPDATE, DELETE, TRUNCATE ON audit_seals, audit_seal_state FROM deskd_app;
    END IF;
EXCEPTION WHEN insufficient_privilege THEN
    RAISE NOTICE 'grants on audit_seals not changed (%): run this migration''s DO block as a user with CREATEROLE', SQLERRM;
END $$;

-- 0028: webhook events for every resource (see db/migrations/0028_webhook_events.sql).
CREATE TABLE webhook_subject_sequences (
    subject_kind  text    NOT NULL,
    subject_id    uuid    NOT NULL,
    last_seq      bigint  NOT NULL,
    PRIMARY KEY (subject_kind, subject_id)
);

-- Rows written with a request_id only (the request trigger of 0014) get the request as
-- their subject.
CREATE FUNCTION webhook_subject_default() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
    IF NEW.subject_id IS NULL AND NEW.request_id IS NOT NULL THEN
        NEW.subject_kind := 'request';
        NEW.subject_id := NEW.request_id;
    END IF;
    RETURN NEW;
END
$$;
CREATE TRIGGER webhook_events_subject BEFORE INSERT ON webhook_events
    FOR EACH ROW EXECUTE FUNCTION webhook_subject_default();
CREATE TRIGGER webhook_deliveries_subject BEFORE INSERT ON webhook_deliveries
    FOR EACH ROW EXECUTE FUNCTION webhook_subject_default();

-- Free text in a payload (notes, summaries, descriptions) with the personal numbers people
-- type into it masked: an 18-character ID number entirely, a mainland mobile number as
-- mask_phone does (first 3 and last 4 kept).
CREATE FUNCTION webhook_mask_text(p text) RETURNS text
LANGUAGE sql IMMUTABLE PARALLEL SAFE AS $$
    SELECT regexp_replace(regexp_replace(p, '(?<![0-9])[0-9]{17}[0-9Xx](?![0-9])',
        '******************', 'g'), '(?<![0-9])(1[3-9][0-9])[0-9]{4}([0-9]{4})(?![0-9])',
        '\1****\2', 'g')
$$;

-- Whether any active subscription of the organisation exists: the triggers' cheap exit
-- before they build a payload.
CREATE FUNCTION webhook_any(p_org uuid) RETURNS boolean
LANGUAGE sql STABLE AS $$
    SELECT EXISTS (SELECT 1 FROM webhooks w WHERE w.org_id = p_org AND w.active)
$$;

-- Writes one event of a subject when an active subscription of the organisation (and
-- project) matches its type: the next per-subject sequence (the row lock that advances it
-- is held to COMMIT, so sequence order is commit order), the event and one delivery per
-- matching subscription.  The body: id, type, sequence, occurred_at, created_at,
-- organisation_id, project_id, subject {kind, id}, data.
CREATE FUNCTION webhook_emit(p_org uuid, p_project uuid, p_kind text, p_subject uuid,
                             p_type text, p_occurred timestamptz, p_data jsonb) RETURNS void
LANGUAGE plpgsql AS $$
DECLARE
    s bigint;
    ev uuid;
BEGIN
    IF NOT EXISTS (SELECT 1 FROM webhooks w WHERE w.org_id = p_org AND w.active
                   AND (w.project_id IS NULL OR w.project_id = p_project)
                   AND webhook_type_matches(w.event_types, p_type)) THEN
        RETURN;
    END IF;
    INSERT INTO webhook_subject_sequences AS q (subject_kind, subject_id, last_seq)
    VALUES (p_kind, p_subject, 1)
    ON CONFLICT (subject_kind, subject_id) DO UPDATE SET last_seq = q.last_seq + 1
    RETURNING q.last_seq INTO s;
    ev := gen_random_uuid();
    INSERT INTO webhook_events (id, org_id, project_id, subject_kind, subject_id, seq, type, payload)
    VALUES (ev, p_org, p_project, p_kind, p_subject, s, p_type,
        jsonb_build_object('id', ev, 'type', p_type, 'sequence', s,
            'occurred_at', rfc3339(coalesce(p_occurred, clock_timestamp())),
            'created_at', rfc3339(clock_timestamp()), 'organisation_id', p_org,
            'project_id', p_project,
            'subject', jsonb_build_object('kind', p_kind, 'id', p_subject),
            'data', p_data));
    INSERT INTO webhook_deliveries (org_id, webhook_id, event_id, subject_kind, subject_id, seq)
    SELECT p_org, w.id, ev, p_kind, p_subject, s FROM webhooks w
    WHERE w.org_id = p_org AND w.active
      AND (w.project_id IS NULL OR w.project_id = p_project)
      AND webhook_type_matches(w.event_types, p_type);
END
$$;

-- Custody (RULES §3.4–3.7): custody.item_registered, custody.entry_appended (every ledger
-- entry, with its area and action) followed, where RULES §3.12.2 names one, by the
-- area's own event (key.loaned, sealed_key.unsealed, mail.received, mail.collected, …);
-- the reminder worker's marks as mail.reminder, lost_property.unclaimed and
-- archive.overdue.  Subject: the item.  Counterparties (names, phones, ID numbers) are
-- never in the payload.
CREATE FUNCTION webhook_custody_item_json(i custody_items) RETURNS jsonb
LANGUAGE sql STABLE AS $$
    SELECT jsonb_build_object('id', i.id, 'area', i.area, 'kind', i.kind, 'tag', i.tag,
        'state', i.state, 'unit_id', i.unit_id, 'location', i.location,
        'holder_id', i.holder_id, 'due_back', rfc3339(i.due_back),
        'open_discrepancy', i.open_discrepancy)
$$;

CREATE FUNCTION webhook_custody_type(p_area text, p_action text) RETURNS text
LANGUAGE sql IMMUTABLE AS $$
    SELECT CASE p_area || '/' || p_action
        WHEN 'keys/loan' THEN 'key.loaned'
        WHEN 'keys/return' THEN 'key.returned'
        WHEN 'keys/unseal_open' THEN 'sealed_key.unsealed'
        WHEN 'keys/report_lost' THEN 'key.lost'
        WHEN 'mail/receive' THEN 'mail.received'
        WHEN 'mail/hand_over' THEN 'mail.collected'
        WHEN 'mail/return_to_sender' THEN 'mail.returned_to_sender'
        WHEN 'lost_property/register' THEN 'lost_property.registered'
        WHEN 'lost_property/claim' THEN 'lost_property.claimed'
        WHEN 'archives/loan' THEN 'archive.loaned'
        WHEN 'archives/return' THEN 'archive.returned'
        WHEN 'archives/destroy' THEN 'archive.destroyed'
    END
$$;

CREATE FUNCTION webhook_on_custody_item() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
    IF NOT webhook_any(NEW.org_id) THEN
        RETURN NULL;
    END IF;
    IF TG_OP = 'INSERT' THEN
        PERFORM webhook_emit(NEW.org_id, NEW.project_id, 'custody_item', NEW.id,
            'custody.item_registered', NEW.created_at,
            jsonb_build_object('item', webhook_custody_item_json(NEW)));
    ELSIF NEW.ext ? 'reminded_at' AND NOT OLD.ext ? 'reminded_at' THEN
        PERFORM webhook_emit(NEW.org_id, NEW.project_id, 'custody_item', NEW.id,
            CASE NEW.area WHEN 'mail' THEN 'mail.reminder'
                WHEN 'lost_property' THEN 'lost_property.unclaimed'
                WHEN 'archives' THEN 'archive.overdue' ELSE 'key.overdue' END,
            clock_timestamp(), jsonb_build_object('item', webhook_custody_item_json(NEW)));
    END IF;
    RETURN NULL;
END
$$;
CREATE CONSTRAINT TRIGGER webhooks AFTER INSERT OR UPDATE ON custody_items
    DEFERRABLE INITIALLY DEFERRED FOR EACH ROW EXECUTE FUNCTION webhook_on_custody_item();

CREATE FUNCTION webhook_on_custody_entry() RETURNS trigger
LANGUAGE plpgsql AS $$
DECLARE
    i custody_items;
    d jsonb;
    t text;
BEGIN
    IF NOT webhook_any(NEW.org_id) THEN
        RETURN NULL;
    END IF;
    SELECT * INTO i FROM custody_items WHERE id = NEW.item_id;
    d := jsonb_build_object('area', i.area, 'action', NEW.action,
        'item', webhook_custody_item_json(i),
        'entry', jsonb_build_object('seq', NEW.seq, 'action', NEW.action,
            'actor_role', NEW.actor_role, 'occurred_at', rfc3339(NEW.occurred_at),
            'recorded_at', rfc3339(NEW.recorded_at), 'corrects', NEW.corrects));
    PERFORM webhook_emit(NEW.org_id, NEW.project_id, 'custody_item', NEW.item_id,
        'custody.entry_appended', NEW.occurred_at, d);
    t := webhook_custody_type(i.area, NEW.action);
    IF t IS NOT NULL THEN
        PERFORM webhook_emit(NEW.org_id, NEW.project_id, 'custody_item', NEW.item_id, t,
            NEW.occurred_at, d);
    END IF;
    RETURN NULL;
END
$$;
CREATE CONSTRAINT TRIGGER webhooks AFTER INSERT ON custody_entries
    DEFERRABLE INITIALLY DEFERRED FOR EACH ROW EXECUTE FUNCTION webhook_on_custody_entry();

-- Callbacks (RULES §3.1): subject the task; its attempts in its order.
CREATE FUNCTION webhook_callback_task_json(t callback_tasks) RETURNS jsonb
LANGUAGE sql STABLE AS $$
    SELECT jsonb_build_object('id', t.id, 'request_id', t.request_id, 'kind', t.kind,
        'state', t.state, 'min_role', t.min_role, 'resolved_at', rfc3339(t.resolved_at),
        'due_at', rfc3339(t.due_at), 'on_demand', t.on_demand, 'assignee_id', t.assignee_id,
        'overdue_at', rfc3339(t.overdue_at), 'outcome', t.outcome, 'rating', t.rating,
        'follow_up_request_id', t.follow_up_request_id, 'give_up_reason', t.give_up_reason,
        'attempts', t.attempts, 'finished_at', rfc3339(t.finished_at))
$$;

CREATE FUNCTION webhook_on_callback_task() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
    IF NOT webhook_any(NEW.org_id) THEN
        RETURN NULL;
    END IF;
    IF TG_OP = 'INSERT' THEN
        PERFORM webhook_emit(NEW.org_id, NEW.project_id, 'callback_task', NEW.id,
            'callback.task_opened', NEW.created_at,
            jsonb_build_object('task', webhook_callback_task_json(NEW)));
        RETURN NULL;
    END IF;
    IF NEW.overdue_at IS NOT NULL AND OLD.overdue_at IS NULL THEN
        PERFORM webhook_emit(NEW.org_id, NEW.project_id, 'callback_task', NEW.id,
            'callback.overdue', NEW.overdue_at,
            jsonb_build_object('task', webhook_callback_task_json(NEW)));
    END IF;
    IF NEW.state <> 'open' AND OLD.state = 'open' THEN
        PERFORM webhook_emit(NEW.org_id, NEW.project_id, 'callback_task', NEW.id,
            'callback.task_finished', NEW.finished_at,
            jsonb_build_object('task', webhook_callback_task_json(NEW)));
    END IF;
    RETURN NULL;
END
$$;
CREATE CONSTRAINT TRIGGER webhooks AFTER INSERT OR UPDATE ON callback_tasks
    DEFERRABLE INITIALLY DEFERRED FOR EACH ROW EXECUTE FUNCTION webhook_on_callback_task();

CREATE FUNCTION webhook_on_callback_attempt() RETURNS trigger
LANGUAGE plpgsql AS $$
DECLARE
    t callback_tasks;
BEGIN
    IF NOT webhook_any(NEW.org_id) THEN
        RETURN NULL;
    END IF;
    SELECT * INTO t FROM callback_tasks WHERE id = NEW.task_id;
    PERFORM webhook_emit(NEW.org_id, t.project_id, 'callback_task', NEW.task_id,
        'callback.attempt_recorded', NEW.occurred_at,
        jsonb_build_object('task', webhook_callback_task_json(t),
            'attempt', jsonb_build_object('id', NEW.id, 'caller_role', NEW.caller_role,
                'occurred_at', rfc3339(NEW.occurred_at), 'method', NEW.method,
                'reached', NEW.reached, 'rating', NEW.rating, 'notes', webhook_mask_text(NEW.notes))));
    RETURN NULL;
END
$$;
CREATE CONSTRAINT TRIGGER webhooks AFTER INSERT ON callback_attempts
    DEFERRABLE INITIALLY DEFERRED FOR EACH ROW EXECUTE FUNCTION webhook_on_callback_attempt();

-- Surveys and visits (RULES §3.2): subject the campaign (its state changes) and the
-- response (created, then each correction); respondents' names stay out.
CREATE FUNCTION webhook_on_survey_campaign() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
    IF NOT webhook_any(NEW.org_id) OR NEW.state = OLD.state THEN
        RETURN NULL;
    END IF;
    PERFORM webhook_emit(NEW.org_id, NEW.project_id, 'survey_campaign', NEW.id,
        'survey.campaign.state_changed', clock_timestamp(),
        jsonb_build_object('campaign', jsonb_build_object('id', NEW.id, 'title', NEW.title,
            'kind', NEW.kind, 'cadence', NEW.cadence, 'state', NEW.state,
            'period_start', NEW.period_start, 'period_end', NEW.period_end,
            'opened_at', rfc3339(NEW.opened_at), 'closed_at', rfc3339(NEW.closed_at),
            'reported_at', rfc3339(NEW.reported_at)),
            'from_state', OLD.state, 'to_state', NEW.state));
    RETURN NULL;
END
$$;
CREATE CONSTRAINT TRIGGER webhooks AFTER UPDATE ON survey_campaigns
    DEFERRABLE INITIALLY DEFERRED FOR EACH ROW EXECUTE FUNCTION webhook_on_survey_campaign();

CREATE FUNCTION webhook_on_survey_response() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
    IF NOT webhook_any(NEW.org_id)
       OR (TG_OP = 'UPDATE' AND NEW.current_version = OLD.current_version) THEN
        RETURN NULL;
    END IF;
    PERFORM webhook_emit(NEW.org_id, NEW.project_id, 'survey_response', NEW.id,
        CASE TG_OP WHEN 'INSERT' THEN 'survey.response.created' ELSE 'survey.response.corrected' END,
        NEW.updated_at,
        jsonb_build_object('response', jsonb_build_object('id', NEW.id,
            'campaign_id', NEW.campaign_id, 'unit_id', NEW.unit_id, 'channel', NEW.channel,
            'returned_at', rfc3339(NEW.returned_at), 'version', NEW.current_version)));
    RETURN NULL;
END
$$;
CREATE CONSTRAINT TRIGGER webhooks AFTER INSERT OR UPDATE ON survey_responses
    DEFERRABLE INITIALLY DEFERRED FOR EACH ROW EXECUTE FUNCTION webhook_on_survey_response();

CREATE FUNCTION webhook_on_visit() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
    IF NOT webhook_any(NEW.org_id) THEN
        RETURN NULL;
    END IF;
    PERFORM webhook_emit(NEW.org_id, NEW.project_id, 'visit_record', NEW.id,
        CASE TG_OP WHEN 'INSERT' THEN 'visit.recorded' ELSE 'visit.updated' END, NEW.updated_at,
        jsonb_build_object('visit', jsonb_build_object('id', NEW.id,
            'visited_on', NEW.visited_on, 'unit_id', NEW.unit_id, 'client_kind', NEW.client_kind,
            'topics', webhook_mask_text(NEW.topics), 'follow_up', webhook_mask_text(NEW.follow_up),
            'follow_up_request_id', NEW.follow_up_request_id, 'version', NEW.version)));
    RETURN NULL;
END
$$;
CREATE CONSTRAINT TRIGGER webhooks AFTER INSERT OR UPDATE ON visit_records
    DEFERRABLE INITIALLY DEFERRED FOR EACH ROW EXECUTE FUNCTION webhook_on_visit();

-- Corrective actions (RULES §3.3): capa.created, capa.state_changed, capa.overdue (each
-- overdue warning or escalation of the CAPA clock), capa.closed after the state change to
-- verified or cancelled (0036).  Subject the action.
CREATE FUNCTION webhook_capa_json(a corrective_actions) RETURNS jsonb
LANGUAGE sql STABLE AS $$
    SELECT jsonb_build_object('id', a.id, 'number', a.number, 'kind', a.kind,
        'state', a.state, 'title', webhook_mask_text(a.title), 'major', a.major,
        'department_id', a.department_id, 'responsible_id', a.responsible_id,
        'due_at', rfc3339(a.due_at), 'approved_at', rfc3339(a.approved_at),
        'implemented_at', rfc3339(a.implemented_at), 'verified_at', rfc3339(a.verified_at),
        'version', a.version)
$$;

CREATE FUNCTION webhook_on_capa() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
    IF NOT webhook_any(NEW.org_id) THEN
        RETURN NULL;
    END IF;
    IF TG_OP = 'INSERT' THEN
        PERFORM webhook_emit(NEW.org_id, NEW.project_id, 'corrective_action', NEW.id,
            'capa.created', NEW.created_at, jsonb_build_object('action', webhook_capa_json(NEW)));
    ELSIF NEW.state <> OLD.state THEN
        PERFORM webhook_emit(NEW.org_id, NEW.project_id, 'corrective_action', NEW.id,
            'capa.state_changed', NEW.updated_at,
            jsonb_build_object('action', webhook_capa_json(NEW), 'from_state', OLD.state,
                'to_state', NEW.state));
        IF NEW.state IN ('verified', 'cancelled') THEN
            PERFORM webhook_emit(NEW.org_id, NEW.project_id, 'corrective_action', NEW.id,
                'capa.closed', NEW.updated_at,
                jsonb_build_object('action', webhook_capa_json(NEW), 'from_state', OLD.state,
                    'outcome', NEW.state));
        END IF;
    END IF;
    RETURN NULL;
END
$$;
CREATE CONSTRAINT TRIGGER webhooks AFTER INSERT OR UPDATE ON corrective_actions
    DEFERRABLE INITIALLY DEFERRED FOR EACH ROW EXECUTE FUNCTION webhook_on_capa();

CREATE FUNCTION webhook_on_capa_alert() RETURNS trigger
LANGUAGE plpgsql AS $$
DECLARE
    a corrective_actions;
BEGIN
    IF NOT webhook_any(NEW.org_id) THEN
        RETURN NULL;
    END IF;
    SELECT * INTO a FROM corrective_actions WHERE id = NEW.action_id;
    PERFORM webhook_emit(NEW.org_id, a.project_id, 'corrective_action', NEW.action_id,
        'capa.overdue', NEW.created_at,
        jsonb_build_object('action', webhook_capa_json(a), 'alert', NEW.kind,
            'due_at', rfc3339(NEW.due_at)));
    RETURN NULL;
END
$$;
CREATE CONSTRAINT TRIGGER webhooks AFTER INSERT ON capa_alerts
    DEFERRABLE INITIALLY DEFERRED FOR EACH ROW EXECUTE FUNCTION webhook_on_capa_alert();

-- Patrols (RULES §3.8): subject the round (started, each finding's disposition, finished);
-- a missed slot's subject is its plan.
CREATE FUNCTION webhook_patrol_round_json(r patrol_rounds) RETURNS jsonb
LANGUAGE sql STABLE AS $$
    SELECT jsonb_build_object('id', r.id, 'kind', r.kind, 'plan_id', r.plan_id,
        'planned_at', rfc3339(r.planned_at), 'state', r.state,
        'started_at', rfc3339(r.started_at), 'ended_at', rfc3339(r.ended_at),
        'coverage', r.coverage, 'short_reason', r.short_reason)
$$;

CREATE FUNCTION webhook_on_patrol_round() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
    IF NOT webhook_any(NEW.org_id) THEN
        RETURN NULL;
    END IF;
    IF TG_OP = 'INSERT' THEN
        PERFORM webhook_emit(NEW.org_id, NEW.project_id, 'patrol_round', NEW.id,
            'patrol.round_started', NEW.started_at,
            jsonb_build_object('round', webhook_patrol_round_json(NEW)));
    ELSIF NEW.state = 'finished' AND OLD.state <> 'finished' THEN
        PERFORM webhook_emit(NEW.org_id, NEW.project_id, 'patrol_round', NEW.id,
            'patrol.round_finished', NEW.ended_at,
            jsonb_build_object('round', webhook_patrol_round_json(NEW)));
    END IF;
    RETURN NULL;
END
$$;
CREATE CONSTRAINT TRIGGER webhooks AFTER INSERT OR UPDATE ON patrol_rounds
    DEFERRABLE INITIALLY DEFERRED FOR EACH ROW EXECUTE FUNCTION webhook_on_patrol_round();

CREATE FUNCTION webhook_on_patrol_finding() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
    IF NOT webhook_any(NEW.org_id) OR NEW.disposition IS NULL
       OR OLD.disposition IS NOT DISTINCT FROM NEW.disposition THEN
        RETURN NULL;
    END IF;
    PERFORM webhook_emit(NEW.org_id, NEW.project_id, 'patrol_round', NEW.round_id,
        'patrol.finding_disposed', coalesce(NEW.disposed_at, NEW.updated_at),
        jsonb_build_object('finding', jsonb_build_object('id', NEW.id, 'round_id', NEW.round_id,
            'point', NEW.point, 'description', webhook_mask_text(NEW.description), 'location', NEW.location,
            'owner_related', NEW.owner_related, 'disposition', NEW.disposition,
            'disposition_note', webhook_mask_text(NEW.disposition_note), 'disposed_at', rfc3339(NEW.disposed_at),
            'capa_id', NEW.capa_id, 'request_id', NEW.request_id)));
    RETURN NULL;
END
$$;
CREATE CONSTRAINT TRIGGER webhooks AFTER UPDATE ON patrol_findings
    DEFERRABLE INITIALLY DEFERRED FOR EACH ROW EXECUTE FUNCTION webhook_on_patrol_finding();

CREATE FUNCTION webhook_on_patrol_missed() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
    IF NOT webhook_any(NEW.org_id) THEN
        RETURN NULL;
    END IF;
    PERFORM webhook_emit(NEW.org_id, NEW.project_id, 'patrol_plan', NEW.plan_id,
        'patrol.missed', NEW.created_at,
        jsonb_build_object('plan_id', NEW.plan_id, 'planned_at', rfc3339(NEW.planned_at)));
    RETURN NULL;
END
$$;
CREATE CONSTRAINT TRIGGER webhooks AFTER INSERT ON patrol_missed
    DEFERRABLE INITIALLY DEFERRED FOR EACH ROW EXECUTE FUNCTION webhook_on_patrol_missed();

-- Duty (RULES §3.9–3.10): handover.submitted / accepted / late (subject the handover),
-- duty_log.entry_created (subject the shift: its log in order), incident.submitted /
-- acknowledged / overdue (subject the report).
CREATE FUNCTION webhook_handover_json(h handovers) RETURNS jsonb
LANGUAGE sql STABLE AS $$
    SELECT jsonb_build_object('id', h.id, 'from_shift_id', h.from_shift_id,
        'to_shift_id', h.to_shift_id, 'outgoing_user_id', h.outgoing_user_id,
        'incoming_user_id', h.incoming_user_id, 'planned_at', rfc3339(h.planned_at),
        'state', h.state, 'unfinished_items', jsonb_array_length(h.unfinished),
        'incoming_unfit', h.incoming_unfit, 'replacement_user_id', h.replacement_user_id,
        'submitted_at', rfc3339(h.submitted_at), 'accepted_at', rfc3339(h.accepted_at),
        'late_notified_at', rfc3339(h.late_notified_at))
$$;

CREATE FUNCTION webhook_on_handover() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
    IF NOT webhook_any(NEW.org_id) THEN
        RETURN NULL;
    END IF;
    IF NEW.late_notified_at IS NOT NULL AND OLD.late_notified_at IS NULL THEN
        PERFORM webhook_emit(NEW.org_id, NEW.project_id, 'handover', NEW.id, 'handover.late',
            NEW.late_notified_at, jsonb_build_object('handover', webhook_handover_json(NEW)));
    END IF;
    IF NEW.state <> OLD.state AND NEW.state IN ('submitted', 'accepted') THEN
        PERFORM webhook_emit(NEW.org_id, NEW.project_id, 'handover', NEW.id,
            'handover.' || NEW.state,
            CASE NEW.state WHEN 'submitted' THEN NEW.submitted_at ELSE NEW.accepted_at END,
            jsonb_build_object('handover', webhook_handover_json(NEW)));
    END IF;
    RETURN NULL;
END
$$;
CREATE CONSTRAINT TRIGGER webhooks AFTER UPDATE ON handovers
    DEFERRABLE INITIALLY DEFERRED FOR EACH ROW EXECUTE FUNCTION webhook_on_handover();

CREATE FUNCTION webhook_on_duty_log() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
    IF NOT webhook_any(NEW.org_id) THEN
        RETURN NULL;
    END IF;
    PERFORM webhook_emit(NEW.org_id, NEW.project_id, 'duty_shift', NEW.shift_id,
        'duty_log.entry_created', NEW.at,
        jsonb_build_object('entry', jsonb_build_object('id', NEW.id, 'shift_id', NEW.shift_id,
            'kind', NEW.kind, 'at', rfc3339(NEW.at), 'summary', webhook_mask_text(NEW.summary),
            'cause', webhook_mask_text(NEW.cause), 'handling', webhook_mask_text(NEW.handling),
            'result', webhook_mask_text(NEW.result),
            'corrects', NEW.corrects, 'author_role', NEW.author_role,
            'recorded_at', rfc3339(NEW.recorded_at))));
    RETURN NULL;
END
$$;
CREATE CONSTRAINT TRIGGER webhooks AFTER INSERT ON duty_log_entries
    DEFERRABLE INITIALLY DEFERRED FOR EACH ROW EXECUTE FUNCTION webhook_on_duty_log();

CREATE FUNCTION webhook_incident_json(r incident_reports) RETURNS jsonb
LANGUAGE sql STABLE AS $$
    SELECT jsonb_build_object('id', r.id, 'kind', r.kind, 'state', r.state,
        'occurred_at', rfc3339(r.occurred_at), 'ended_at', rfc3339(r.ended_at),
        'place', r.place, 'services', to_jsonb(r.services), 'request_ids', to_jsonb(r.request_ids),
        'affected_units', to_jsonb(r.affected_units), 'due_at', rfc3339(r.due_at),
        'submitted_at', rfc3339(r.submitted_at), 'acknowledged_at', rfc3339(r.acknowledged_at),
        'escalated_at', rfc3339(r.escalated_at))
$$;

CREATE FUNCTION webhook_on_incident() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
    IF NOT webhook_any(NEW.org_id) THEN
        RETURN NULL;
    END IF;
    IF NEW.escalated_at IS NOT NULL AND OLD.escalated_at IS NULL THEN
        PERFORM webhook_emit(NEW.org_id, NEW.project_id, 'incident_report', NEW.id,
            'incident.overdue', NEW.escalated_at,
            jsonb_build_object('report', webhook_incident_json(NEW)));
    END IF;
    IF NEW.state <> OLD.state AND NEW.state IN ('submitted', 'acknowledged') THEN
        PERFORM webhook_emit(NEW.org_id, NEW.project_id, 'incident_report', NEW.id,
            'incident.' || NEW.state,
            CASE NEW.state WHEN 'submitted' THEN NEW.submitted_at ELSE NEW.acknowledged_at END,
            jsonb_build_object('report', webhook_incident_json(NEW)));
    END IF;
    RETURN NULL;
END
$$;
CREATE CONSTRAINT TRIGGER webhooks AFTER UPDATE ON incident_reports
    DEFERRABLE INITIALLY DEFERRED FOR EACH ROW EXECUTE FUNCTION webhook_on_incident();

-- Tenancies (租户登记): registered, updated, ended.  Subject the tenancy; the
-- tenant's phone masked, the ID number's hash and last digits never.
CREATE FUNCTION webhook_on_tenancy() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
    IF NOT webhook_any(NEW.org_id) THEN
        RETURN NULL;
    END IF;
    PERFORM webhook_emit(NEW.org_id, NEW.project_id, 'tenancy', NEW.id,
        CASE WHEN TG_OP = 'INSERT' THEN 'tenancy.registered'
             WHEN NEW.ended_on IS NOT NULL AND OLD.ended_on IS NULL THEN 'tenancy.ended'
             ELSE 'tenancy.updated' END, NEW.updated_at,
        jsonb_build_object('tenancy', jsonb_build_object('id', NEW.id, 'unit_id', NEW.unit_id,
            'owner_resident_id', NEW.owner_resident_id,
            'tenant_resident_id', NEW.tenant_resident_id, 'tenant_name', NEW.tenant_name,
            'tenant_phone', mask_phone(NEW.tenant_phone), 'use', NEW.use,
            'term_start', NEW.term_start, 'term_end', NEW.term_end,
            'termination_date', NEW.termination_date, 'ended_on', NEW.ended_on,
            'owner_signed_at', rfc3339(NEW.owner_signed_at),
            'supervisor_signed_at', rfc3339(NEW.supervisor_signed_at), 'version', NEW.version)));
    RETURN NULL;
END
$$;
CREATE CONSTRAINT TRIGGER webhooks AFTER INSERT OR UPDATE ON tenancies
    DEFERRABLE INITIALLY DEFERRED FOR EACH ROW EXECUTE FUNCTION webhook_on_tenancy();

-- Monthly reports (RULES §3.11): report.submitted and report.overdue (the late check's
-- warning or escalation).  Subject: the project's monthly reports (kind monthly_reports,
-- id the project), so a month's overdue and its submission arrive in order.
CREATE FUNCTION webhook_on_monthly_report() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
    IF NOT webhook_any(NEW.org_id) OR NEW.state <> 'submitted' OR OLD.state = 'submitted' THEN
        RETURN NULL;
    END IF;
    PERFORM webhook_emit(NEW.org_id, NEW.project_id, 'monthly_reports', NEW.project_id,
        'report.submitted', NEW.submitted_at,
        jsonb_build_object('report', jsonb_build_object('id', NEW.id,
            'month', to_char(NEW.month, 'YYYY-MM'), 'version', NEW.version, 'state', NEW.state,
            'due_at', rfc3339(NEW.due_at), 'submitted_by', NEW.submitted_by,
            'submitted_at', rfc3339(NEW.submitted_at),
            'late', NEW.submitted_at > NEW.due_at)));
    RETURN NULL;
END
$$;
CREATE CONSTRAINT TRIGGER webhooks AFTER UPDATE ON monthly_reports
    DEFERRABLE INITIALLY DEFERRED FOR EACH ROW EXECUTE FUNCTION webhook_on_monthly_report();

CREATE FUNCTION webhook_on_monthly_report_alert() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
    IF NOT webhook_any(NEW.org_id) THEN
        RETURN NULL;
    END IF;
    PERFORM webhook_emit(NEW.org_id, NEW.project_id, 'monthly_reports', NEW.project_id,
        'report.overdue', NEW.created_at,
        jsonb_build_object('month', to_char(NEW.month, 'YYYY-MM'), 'alert', NEW.kind));
    RETURN NULL;
END
$$;
CREATE CONSTRAINT TRIGGER webhooks AFTER INSERT ON monthly_report_alerts
    DEFERRABLE INITIALLY DEFERRED FOR EACH ROW EXECUTE FUNCTION webhook_on_monthly_report_alert();

-- 0036: refused handover attempts, announced as handover.refused (see
-- db/migrations/0036_webhook_leftovers.sql).
CREATE TABLE handover_refusals (
    id            uuid        PRIMARY KEY DEFAULT gen_random_uuid(),
    org_id        uuid        NOT NULL,
    project_id    uuid        NOT NULL,
    handover_id   uuid        NOT NULL REFERENCES handovers (id),
    stage         text        NOT NULL CHECK (stage IN ('submit','accept')),
    refused_by    uuid        NOT NULL,
    reasons       jsonb       NOT NULL CHECK (jsonb_typeof(reasons) = 'array'),
    at            timestamptz NOT NULL DEFAULT clock_timestamp(),
    FOREIGN KEY (org_id, project_id) REFERENCES projects (org_id, id),
    FOREIGN KEY (org_id, refused_by) REFERENCES users (org_id, id)
);
CREATE INDEX handover_refusals_handover ON handover_refusals (handover_id, at);
CREATE TRIGGER handover_refusals_append_only BEFORE UPDATE OR DELETE ON handover_refusals
    FOR EACH ROW EXECUTE FUNCTION append_only();
CREATE TRIGGER handover_refusals_no_truncate BEFORE TRUNCATE ON handover_refusals
    FOR EACH STATEMENT EXECUTE FUNCTION append_only();
CREATE TRIGGER audit AFTER INSERT OR UPDATE OR DELETE ON handover_refusals FOR EACH ROW EXECUTE FUNCTION audit_row('handover_refusal', 'id');

CREATE FUNCTION webhook_on_handover_refusal() RETURNS trigger
LANGUAGE plpgsql AS $$
DECLARE
    h handovers;
BEGIN
    IF NOT webhook_any(NEW.org_id) THEN
        RETURN NULL;
    END IF;
    SELECT * INTO h FROM handovers WHERE id = NEW.handover_id;
    PERFORM webhook_emit(NEW.org_id, NEW.project_id, 'handover', NEW.handover_id,
        'handover.refused', NEW.at,
        jsonb_build_object('handover', webhook_handover_json(h),
            'refusal', jsonb_build_object('id', NEW.id, 'stage', NEW.stage,
                'refused_by', NEW.refused_by, 'reasons', NEW.reasons,
                'at', rfc3339(NEW.at))));
    RETURN NULL;
END
$$;
CREATE CONSTRAINT TRIGGER webhooks AFTER INSERT ON handover_refusals
    DEFERRABLE INITIALLY DEFERRED FOR EACH ROW EXECUTE FUNCTION webhook_on_handover_refusal();

DO $$
BEGIN
    IF EXISTS (SELECT 1 FROM pg_roles WHERE rolname = 'deskd_app') THEN
        GRANT SELECT, INSERT ON handover_refusals TO deskd_app;
        REVOKE UPDATE, DELETE, TRUNCATE ON handover_refusals FROM deskd_app;
    END IF;
EXCEPTION WHEN insufficient_privilege THEN
    RAISE NOTICE 'deskd_app not granted on handover_refusals (%)', SQLERRM;
END $$;


-- Every version up to the current one, as a database walked through the migrations has.

INSERT INTO schema_version (version) VALUES (1), (2), (3), (4), (5), (10), (11), (12), (13), (14), (15), (16), (17), (18), (19), (20), (21), (22), (23), (24), (25), (27), (28), (30), (33), (34), (36), (38), (39), (40), (42), (43), (44), (45);
