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
    SELECT r.id, r.project_id, r.received_at, CASE WHEN staff THEN NEW.occurred_at END,
           CASE WHEN cbr THEN NEW.occurred_at END, CASE WHEN cbr THEN NEW.seq END,
           CASE WHEN cbr THEN NEW.actor_id END, CASE WHEN cbr THEN NEW.details END,
           CASE WHEN dec THEN 1 ELSE 0 END
      FROM requests r WHERE r.id = NEW.request_id
    ON CONFLICT (request_id) DO UPDATE SET
        first_staff_at = CASE WHEN staff AND (f.first_staff_at IS NULL
                                              OR NEW.occurred_at < f.first_staff_at)
                              THEN NEW.occurred_at ELSE f.first_staff_at END,
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
CREATE TRIGGER request_facts AFTER INSERT ON request_events FOR EACH ROW
    WHEN (NEW.action IN ('callback_result', 'decline')
          OR NEW.actor_role NOT IN ('resident', 'integration', 'system'))
    EXECUTE FUNCTION request_facts_on_event();

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
                 min(e.occurred_at) FILTER (WHERE e.actor_role NOT IN ('resident', 'integration', 'system')) AS first_staff_at,
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
SELECT request_facts_fill();

DO $$
BEGIN
    IF EXISTS (SELECT 1 FROM pg_roles WHERE rolname = 'deskd_app') THEN
        GRANT SELECT, INSERT, UPDATE ON request_facts TO deskd_app;
    END IF;
EXCEPTION WHEN insufficient_privilege THEN
    RAISE NOTICE 'deskd_app not granted on request_facts (%)', SQLERRM;
END $$;

INSERT INTO schema_version (version) VALUES (38);
