-- 0039: whether a request has any recorded notification (record_notification events), kept
-- on the request so that GET /v1/requests/{id} reads its notifications only when there are
-- some (issue 14: the json_agg sub-select over request_events was ~12 of the statement's ~42
-- CPU-µs on every GET, though almost no request has any).  Set by a trigger in the
-- transaction that records the notification, whatever writes the event; a derived column,
-- left out of the audit (no audit row of its own, not in a create's image) and not part of
-- the request's JSON, its version or updated_at.
ALTER TABLE requests ADD COLUMN has_notifications boolean NOT NULL DEFAULT false;

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

DROP TRIGGER audit ON requests;
CREATE TRIGGER audit AFTER INSERT OR UPDATE OR DELETE ON requests FOR EACH ROW EXECUTE FUNCTION audit_row('request', 'id', 'sla_next_check', 'sla_next_due', 'has_notifications', '~created_at', '~last_event_at', '~due_first_response', '~due_resolution', '~due_answer', '~due_on_site', '~due_callback', '~due_handover', '~due_gm_report', '~first_receiver_id', '~owner_id', '={"state": "received", "validity": "unknown", "night_desk": false, "is_repeat": false, "reopen_count": 0, "escalation_level": 0}');

-- Backfill (after the audit trigger skips the column: no audit rows).
UPDATE requests r SET has_notifications = true
 WHERE EXISTS (SELECT 1 FROM request_events e
                WHERE e.request_id = r.id AND e.action = 'record_notification');

INSERT INTO schema_version (version) VALUES (39);
