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

INSERT INTO schema_version (version) VALUES (19);
