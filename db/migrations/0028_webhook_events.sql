-- 0028: webhook events for every resource (issue 12, RULES §3.12.2), not only requests.
--
-- The outbox is generalised from (request_id, seq) to (subject_kind, subject_id, seq): each
-- event belongs to one subject (a request, a custody item, a callback task, a corrective
-- action, a handover, …) and is sequenced and delivered in order per subject.  Request
-- events keep their trigger, sequence table and payload unchanged (their subject is filled
-- in from request_id); every other event is written by webhook_emit(), called from a small
-- trigger on the resource's own table, so it is in the same transaction as the change (a
-- refused or rolled-back change announces nothing) and feature code does not change.  Like
-- the request trigger they are deferred to COMMIT (in the order the rows were written), so
-- an event carries its subject as committed (a ledger entry's item after its state moved).
CREATE TABLE webhook_subject_sequences (
    subject_kind  text    NOT NULL,
    subject_id    uuid    NOT NULL,
    last_seq      bigint  NOT NULL,
    PRIMARY KEY (subject_kind, subject_id)
);

ALTER TABLE webhook_events ADD COLUMN subject_kind text;
ALTER TABLE webhook_events ADD COLUMN subject_id uuid;
UPDATE webhook_events SET subject_kind = 'request', subject_id = request_id
    WHERE subject_id IS NULL;
ALTER TABLE webhook_events ALTER COLUMN subject_kind SET NOT NULL;
ALTER TABLE webhook_events ALTER COLUMN subject_id SET NOT NULL;
ALTER TABLE webhook_events ADD CONSTRAINT webhook_events_subject_seq
    UNIQUE (subject_kind, subject_id, seq);

ALTER TABLE webhook_deliveries ADD COLUMN subject_kind text;
ALTER TABLE webhook_deliveries ADD COLUMN subject_id uuid;
UPDATE webhook_deliveries SET subject_kind = 'request', subject_id = request_id
    WHERE subject_id IS NULL;
ALTER TABLE webhook_deliveries ALTER COLUMN subject_kind SET NOT NULL;
ALTER TABLE webhook_deliveries ALTER COLUMN subject_id SET NOT NULL;
-- The claim's "earlier pending event of the same subject" probe.
DROP INDEX webhook_deliveries_order;
CREATE INDEX webhook_deliveries_order ON webhook_deliveries (webhook_id, subject_kind, subject_id, seq)
    WHERE state = 'pending';

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
-- overdue warning or escalation of the CAPA clock).  Subject the action.
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

-- Subscription secrets at rest: encrypted by the service (AES-256-GCM under DESK_WEBHOOK_KEY
-- or a key derived from DESK_PII_KEY, api/webhook_secret.h) as "whs1$<kid>$<base64>", longer
-- than the 256-character plaintext; existing plaintext secrets are re-encrypted when the
-- service starts.
ALTER TABLE webhooks DROP CONSTRAINT webhooks_secret_check;
ALTER TABLE webhooks ADD CONSTRAINT webhooks_secret_check
    CHECK (length(secret) BETWEEN 16 AND 512);

INSERT INTO schema_version (version) VALUES (28);
