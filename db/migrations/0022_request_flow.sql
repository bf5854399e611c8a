-- 0022: the request workflow from the customer-service handbook (seed 001, RULES §2):
-- work-order refusals (拒绝接单) with a reason, counted per department and person; telling
-- the customer when someone will come and the approximate deadline (大致期限); repeat
-- repairs (返修) linked at intake; first-contact responsibility (首问负责制): the first
-- receiver, and the owner until the matter is handed on.

ALTER TABLE requests
    ADD COLUMN first_receiver_id uuid,
    ADD COLUMN owner_id uuid,
    ADD COLUMN repeat_of uuid,
    ADD COLUMN is_repeat boolean NOT NULL DEFAULT false,
    ADD COLUMN appointment_at timestamptz,
    ADD COLUMN promised_by timestamptz,
    ADD FOREIGN KEY (org_id, repeat_of) REFERENCES requests (org_id, id);

-- Requests registered before 0022: the creator is the first receiver when staff.
UPDATE requests r SET first_receiver_id = u.id, owner_id = u.id
    FROM users u WHERE u.id = r.created_by AND u.org_id = r.org_id
    AND u.role NOT IN ('resident', 'integration');

CREATE INDEX requests_repeat_lookup ON requests (unit_id, closed_at DESC) WHERE type = 'repair' AND state = 'closed';
CREATE INDEX requests_owner_created ON requests (owner_id, created_at DESC, id DESC) WHERE owner_id IS NOT NULL;
CREATE INDEX requests_first_receiver_created ON requests (first_receiver_id, created_at DESC, id DESC) WHERE first_receiver_id IS NOT NULL;

ALTER TABLE work_orders
    DROP CONSTRAINT work_orders_state_check,
    ADD CONSTRAINT work_orders_state_check CHECK (state IN ('dispatched','accepted','on_site','done_unsigned','signed_off','cancelled','declined')),
    ADD COLUMN decline_reason text CHECK (decline_reason IN ('not_ours','parts','no_access','other')),
    ADD COLUMN decline_note text CHECK (length(decline_note) <= 4000),
    ADD COLUMN declined_at timestamptz,
    ADD COLUMN declined_by uuid;
CREATE INDEX work_orders_declined ON work_orders (project_id, declined_at) WHERE state = 'declined';

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
CREATE TRIGGER request_intake_flow BEFORE INSERT ON requests FOR EACH ROW EXECUTE FUNCTION request_intake_flow();

CREATE OR REPLACE FUNCTION request_json(r requests, pii boolean) RETURNS json
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

CREATE OR REPLACE FUNCTION webhook_event_type(p_action text, p_details jsonb) RETURNS text
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
CREATE TRIGGER audit AFTER INSERT OR UPDATE OR DELETE ON zones FOR EACH ROW EXECUTE FUNCTION audit_row('zone', 'id');

INSERT INTO schema_version (version) VALUES (22);
