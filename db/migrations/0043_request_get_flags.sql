-- 0043: whether a request has any work order and any register note, kept on the request so
-- that GET /v1/requests/{id} reads only the request's own row when it has neither (issue 14:
-- the latest-work-order LATERAL join and the register-notes EXISTS ran on every GET, ~10 of
-- the statement's ~40 CPU-µs; `pgbench -S` is one index scan at ~15).  Set by triggers in the
-- transaction that writes the first work order / note, whatever writes it; work orders are
-- never deleted by deskd and register notes are append-only, so a flag only goes from false
-- to true (a flag left true with no rows only costs the GET the join it did before).  Derived
-- columns like has_notifications (0039): left out of the audit (no audit row of their own,
-- not in a create's image), not part of the request's JSON, its version or updated_at.
ALTER TABLE requests ADD COLUMN has_work_orders boolean NOT NULL DEFAULT false;
ALTER TABLE requests ADD COLUMN has_register_notes boolean NOT NULL DEFAULT false;

CREATE FUNCTION request_has_work_orders() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
    UPDATE requests SET has_work_orders = true
     WHERE id = NEW.request_id AND NOT has_work_orders;
    RETURN NULL;
END $$;
CREATE TRIGGER request_has_work_orders AFTER INSERT OR UPDATE OF request_id ON work_orders
    FOR EACH ROW EXECUTE FUNCTION request_has_work_orders();

CREATE FUNCTION request_has_register_notes() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
    UPDATE requests SET has_register_notes = true
     WHERE id = NEW.request_id AND NOT has_register_notes;
    RETURN NULL;
END $$;
CREATE TRIGGER request_has_register_notes AFTER INSERT ON request_register_notes
    FOR EACH ROW EXECUTE FUNCTION request_has_register_notes();

DROP TRIGGER audit ON requests;
CREATE TRIGGER audit AFTER INSERT OR UPDATE OR DELETE ON requests FOR EACH ROW WHEN (current_setting('deskd.audit_sweep', true) IS DISTINCT FROM 'on' OR NOT audit_sweep_batch()) EXECUTE FUNCTION audit_row('request', 'id', 'sla_next_check', 'sla_next_due', 'has_notifications', 'has_work_orders', 'has_register_notes', '~created_at', '~last_event_at', '~due_first_response', '~due_resolution', '~due_answer', '~due_on_site', '~due_callback', '~due_handover', '~due_gm_report', '~first_receiver_id', '~owner_id', '={"state": "received", "validity": "unknown", "night_desk": false, "is_repeat": false, "reopen_count": 0, "escalation_level": 0, "staff_created": false}');

-- Backfill (after the audit trigger skips the columns: no audit rows).
UPDATE requests r SET has_work_orders = true
 WHERE EXISTS (SELECT 1 FROM work_orders w WHERE w.request_id = r.id);
UPDATE requests r SET has_register_notes = true
 WHERE EXISTS (SELECT 1 FROM request_register_notes m WHERE m.request_id = r.id);

INSERT INTO schema_version (version) VALUES (43);
