-- 0040: no request_facts row for a staff create (issue 14: WAL per create).
--
-- 0038 keeps the monthly report's timeline facts in request_facts; a request created by
-- staff got a row at once, only to say that its first staff action is its own create event
-- (+389 B of WAL per create, bench/bench_wal.sh).  Now req_create records that in the
-- request itself — staff_created, true exactly when the create statement also wrote a
-- `create` event by a staff role (not resident, integration or system: the report's
-- definition) at received_at — and the facts triggers write no row for a staff event of
-- such a request at or after received_at: the report takes the first staff action of a
-- staff-created request as least(received_at, the stored one).  A row is still written for
-- callback results, refusals, work orders and any staff event before received_at.
-- Existing requests keep staff_created false and their facts rows (0038's backfill).
ALTER TABLE requests ADD COLUMN staff_created boolean NOT NULL DEFAULT false;

-- The facts of an event (0038), but a staff event of a staff-created request at or after
-- its received_at is not a fact: it proposes no row, and a row written for another fact
-- does not store it as the first staff action.
CREATE OR REPLACE FUNCTION request_facts_on_event() RETURNS trigger
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

-- The same rows as the triggers give (tests/api/test_request_facts.c compares them).
CREATE OR REPLACE FUNCTION request_facts_fill() RETURNS bigint
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

-- staff_created joins the columns a create's audit image leaves out at their default.
DROP TRIGGER audit ON requests;
CREATE TRIGGER audit AFTER INSERT OR UPDATE OR DELETE ON requests FOR EACH ROW EXECUTE FUNCTION audit_row('request', 'id', 'sla_next_check', 'sla_next_due', 'has_notifications', '~created_at', '~last_event_at', '~due_first_response', '~due_resolution', '~due_answer', '~due_on_site', '~due_callback', '~due_handover', '~due_gm_report', '~first_receiver_id', '~owner_id', '={"state": "received", "validity": "unknown", "night_desk": false, "is_repeat": false, "reopen_count": 0, "escalation_level": 0, "staff_created": false}');

INSERT INTO schema_version (version) VALUES (40);
