-- 0042: the SLA sweep writes a batch's request audit rows in one INSERT (issue 14).
--
-- A sweep batch rewrites up to 500 requests with one UPDATE (sla_store_many); the row
-- trigger audit_row() then ran once per row — two to_jsonb() images of the ~60-column row
-- (its search bigrams included), a diff over all keys, two audit_clean() calls and a
-- single-row INSERT: ~0.7 of the batch's UPDATE time (bench/bench_sweep.sh).
-- sla_store_batch() does the same UPDATE and writes the same audit rows with one INSERT ...
-- SELECT: the sweep's UPDATE sets only the due columns, sla_next_due / sla_next_check,
-- escalation_level, version and updated_at (requests has no BEFORE UPDATE trigger and no
-- generated column), so only those can differ between the images; of them audit_row()
-- leaves out sla_next_check, sla_next_due (trigger arguments), version and updated_at
-- (audit_clean()), and audit_clean() keeps the others unchanged (no secret-like or phone
-- name).  The diff is therefore the changed ones of due_* and escalation_level, before and
-- after, and no row when none changed — exactly what audit_row() writes for that UPDATE
-- (tests/db/test_sweep_audit.c compares both ways).  No merging with an earlier row of the
-- same request: the sweep's transaction writes nothing before it (the single-request sweep,
-- which may follow other writes, keeps the row trigger).
--
-- The row trigger skips a row only inside sla_store_batch(): the transaction-local setting
-- deskd.audit_sweep = 'on' AND the current user being that function's owner (it is SECURITY
-- DEFINER), so a session of the service's role that sets the variable itself is still
-- audited row by row.

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

DROP TRIGGER audit ON requests;
CREATE TRIGGER audit AFTER INSERT OR UPDATE OR DELETE ON requests FOR EACH ROW WHEN (current_setting('deskd.audit_sweep', true) IS DISTINCT FROM 'on' OR NOT audit_sweep_batch()) EXECUTE FUNCTION audit_row('request', 'id', 'sla_next_check', 'sla_next_due', 'has_notifications', '~created_at', '~last_event_at', '~due_first_response', '~due_resolution', '~due_answer', '~due_on_site', '~due_callback', '~due_handover', '~due_gm_report', '~first_receiver_id', '~owner_id', '={"state": "received", "validity": "unknown", "night_desk": false, "is_repeat": false, "reopen_count": 0, "escalation_level": 0, "staff_created": false}');

INSERT INTO schema_version (version) VALUES (42);
