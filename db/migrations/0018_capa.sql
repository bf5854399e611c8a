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
        GRANT SELECT, INSERT, UPDATE, DELETE ON capa_counters, corrective_actions,
            corrective_action_sources, capa_alerts TO deskd_app;
        GRANT SELECT, INSERT ON corrective_action_events TO deskd_app;
        REVOKE UPDATE, DELETE, TRUNCATE ON corrective_action_events FROM deskd_app;
    END IF;
EXCEPTION WHEN insufficient_privilege THEN
    RAISE NOTICE 'deskd_app not granted (%)', SQLERRM;
END $$;

INSERT INTO schema_version (version) VALUES (18);
