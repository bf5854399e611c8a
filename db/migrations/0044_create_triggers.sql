-- 0044: the create's triggers that have nothing to do are not fired (issue 14: database
-- work per create, bench/bench_wal.sh's function table).
--
-- request_facts on request_events: a `create` event is written only by req_create
-- (db/request.c), in the statement that inserts its request, by the actor the request
-- records as staff_created (0040) exactly when that actor is staff, and at received_at.
-- request_facts_on_event() therefore never writes a row for a staff `create` event (a staff
-- event of a staff-created request at or after received_at is not a fact), yet it ran for
-- every staff create: a PL/pgSQL call, a request_facts probe and an INSERT … SELECT that
-- found nothing (~50 µs of PostgreSQL's CPU per create).  The trigger's WHEN now leaves
-- staff `create` events out; callback results, refusals and every other staff event reach
-- it as before, and the same rows are written (tests/api/test_request_facts.c).
DROP TRIGGER request_facts ON request_events;
CREATE TRIGGER request_facts AFTER INSERT ON request_events FOR EACH ROW
    WHEN (NEW.action IN ('callback_result', 'decline')
          OR (NEW.actor_role NOT IN ('resident', 'integration', 'system')
              AND NEW.action <> 'create'))
    EXECUTE FUNCTION request_facts_on_event();

-- request_intake_flow on requests: for a staff create req_create now sets what the trigger
-- would — first_receiver_id (already since 0022), owner_id (the first receiver), repeat_of
-- (the same look-up of the unit's last closed repair of the category within 30 days) and
-- is_repeat — and marks the row staff_created (0040), so the trigger is fired only for the
-- rows nobody else did that for: a resident's or an integration's create, and any insert
-- outside req_create (staff_created false, the column's default).
DROP TRIGGER request_intake_flow ON requests;
CREATE TRIGGER request_intake_flow BEFORE INSERT ON requests FOR EACH ROW
    WHEN (NOT NEW.staff_created)
    EXECUTE FUNCTION request_intake_flow();

INSERT INTO schema_version (version) VALUES (44);
