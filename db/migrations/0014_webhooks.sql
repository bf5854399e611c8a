-- 0014: webhooks — subscriptions, the event outbox, deliveries and attempts.

-- Webhooks (RULES §3.12): subscriptions, the outbox of events, one delivery per
-- (subscription, event) and every attempt.  The events are written by a trigger on
-- request_events that runs at COMMIT of the transaction that wrote the timeline row
-- (deferred), so an event carries the request as it was committed and is stored in the
-- same transaction as the change; the worker (api/webhook_worker.c) delivers them.
-- Custody, duty and report events join by a trigger on their own ledgers as those land.
CREATE TABLE webhooks (
    id                     uuid        PRIMARY KEY DEFAULT gen_random_uuid(),
    org_id                 uuid        NOT NULL REFERENCES organisations(id),
    project_id             uuid,
    url                    text        NOT NULL CHECK (length(url) BETWEEN 8 AND 2000),
    description            text        CHECK (length(description) <= 500),
    event_types            text[]      NOT NULL CHECK (cardinality(event_types) BETWEEN 1 AND 64),
    secret                 text        NOT NULL CHECK (length(secret) BETWEEN 16 AND 256),
    previous_secret        text,
    previous_secret_until  timestamptz,
    active                 boolean     NOT NULL DEFAULT true,
    disabled_reason        text,
    disabled_at            timestamptz,
    created_by             uuid,
    version                integer     NOT NULL DEFAULT 1,
    created_at             timestamptz NOT NULL DEFAULT clock_timestamp(),
    updated_at             timestamptz NOT NULL DEFAULT clock_timestamp(),
    FOREIGN KEY (org_id, project_id) REFERENCES projects (org_id, id),
    UNIQUE (org_id, id)
);
CREATE INDEX webhooks_org ON webhooks (org_id, created_at, id);

-- The per-request sequence of webhook events (dense among the events written): the row
-- lock taken to advance it is held to COMMIT, so sequence order is commit order.
CREATE TABLE webhook_sequences (
    request_id  uuid    PRIMARY KEY,
    last_seq    bigint  NOT NULL
);

-- The outbox: one row per event, its id the stable event id consumers de-duplicate by.
CREATE TABLE webhook_events (
    id            uuid        PRIMARY KEY DEFAULT gen_random_uuid(),
    org_id        uuid        NOT NULL,
    project_id    uuid,
    request_id    uuid,
    seq           bigint      NOT NULL,
    type          text        NOT NULL,
    source_event  bigint,
    payload       jsonb       NOT NULL,
    created_at    timestamptz NOT NULL DEFAULT clock_timestamp(),
    FOREIGN KEY (org_id, request_id) REFERENCES requests (org_id, id),
    UNIQUE (request_id, seq)
);

-- One delivery per (subscription, event).  A claimed delivery stays 'pending' with its
-- next_attempt_at pushed past the attempt's lease, so nobody else takes it meanwhile and a
-- later event of the same request waits for it.
CREATE TABLE webhook_deliveries (
    id               uuid        PRIMARY KEY DEFAULT gen_random_uuid(),
    org_id           uuid        NOT NULL,
    webhook_id       uuid        NOT NULL,
    event_id         uuid        NOT NULL REFERENCES webhook_events (id),
    request_id       uuid,
    seq              bigint      NOT NULL,
    state            text        NOT NULL DEFAULT 'pending'
                                 CHECK (state IN ('pending','delivered','failed')),
    attempts         integer     NOT NULL DEFAULT 0,
    manual           boolean     NOT NULL DEFAULT false,
    claimed_until    timestamptz,
    next_attempt_at  timestamptz NOT NULL DEFAULT clock_timestamp(),
    last_status      integer,
    last_error       text,
    last_attempt_at  timestamptz,
    delivered_at     timestamptz,
    created_at       timestamptz NOT NULL DEFAULT clock_timestamp(),
    FOREIGN KEY (org_id, webhook_id) REFERENCES webhooks (org_id, id),
    UNIQUE (webhook_id, event_id)
);
CREATE INDEX webhook_deliveries_due ON webhook_deliveries (next_attempt_at) WHERE state = 'pending';
CREATE INDEX webhook_deliveries_order ON webhook_deliveries (webhook_id, request_id, seq)
    WHERE state = 'pending';
CREATE INDEX webhook_deliveries_list ON webhook_deliveries (webhook_id, created_at DESC, id DESC);

-- Every attempt, once: (delivery, attempt) is unique, so two servers can never both record
-- the same attempt.
CREATE TABLE webhook_attempts (
    id           bigint      GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    org_id       uuid        NOT NULL,
    delivery_id  uuid        NOT NULL REFERENCES webhook_deliveries (id),
    attempt      integer     NOT NULL,
    manual       boolean     NOT NULL DEFAULT false,
    server       text        NOT NULL,
    started_at   timestamptz NOT NULL,
    duration_ms  integer     NOT NULL,
    status       integer,
    error        text,
    UNIQUE (delivery_id, attempt)
);

-- A subscription's patterns against an event type: '*', the type itself, or 'prefix.*'
-- (the same rule as core_webhook_type_matches).
CREATE FUNCTION webhook_type_matches(p_patterns text[], p_type text) RETURNS boolean
LANGUAGE sql IMMUTABLE AS $$
SELECT EXISTS (SELECT 1 FROM unnest(p_patterns) p
               WHERE p = '*' OR p = p_type
                  OR (right(p, 2) = '.*' AND length(p_type) >= length(p)
                      AND left(p_type, length(p) - 1) = left(p, -1)))
$$;

-- The webhook event type of a timeline action; NULL: not announced.
CREATE FUNCTION webhook_event_type(p_action text, p_details jsonb) RETURNS text
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

-- At COMMIT, for each timeline row: the events it announces (an automatic escalation that
-- is the first for its clock's breach is announced as sla.breached, then
-- request.escalated), each written once with the next per-request sequence and one
-- delivery per active matching subscription of the organisation (and project).
CREATE FUNCTION webhook_on_request_event() RETURNS trigger
LANGUAGE plpgsql AS $$
DECLARE
    r requests;
    t text;
    types text[] := '{}';
    s bigint;
    ev uuid;
BEGIN
    IF NOT EXISTS (SELECT 1 FROM webhooks w WHERE w.org_id = NEW.org_id AND w.active) THEN
        RETURN NULL;
    END IF;
    t := webhook_event_type(NEW.action, NEW.details);
    IF t IS NULL THEN
        RETURN NULL;
    END IF;
    IF NEW.action = 'escalate' AND coalesce(NEW.details->>'automatic', '') = 'true'
       AND NOT EXISTS (SELECT 1 FROM sla_alerts a WHERE a.request_id = NEW.request_id
                       AND a.kind = 'escalation' AND a.target = NEW.details->>'target'
                       AND abs(extract(epoch FROM a.due_at - (NEW.details->>'due_at')::timestamptz)) < 1
                       AND a.level < (NEW.details->>'level')::int) THEN
        types := ARRAY['sla.breached'];
    END IF;
    types := types || t;
    SELECT * INTO r FROM requests WHERE id = NEW.request_id;
    FOREACH t IN ARRAY types LOOP
        CONTINUE WHEN NOT EXISTS (SELECT 1 FROM webhooks w WHERE w.org_id = NEW.org_id AND w.active
                AND (w.project_id IS NULL OR w.project_id = r.project_id)
                AND webhook_type_matches(w.event_types, t));
        INSERT INTO webhook_sequences AS q (request_id, last_seq) VALUES (NEW.request_id, 1)
            ON CONFLICT (request_id) DO UPDATE SET last_seq = q.last_seq + 1
            RETURNING q.last_seq INTO s;
        ev := gen_random_uuid();
        INSERT INTO webhook_events (id, org_id, project_id, request_id, seq, type, source_event, payload)
        VALUES (ev, NEW.org_id, r.project_id, NEW.request_id, s, t, NEW.id,
            jsonb_build_object('id', ev, 'type', t, 'sequence', s,
                'occurred_at', rfc3339(NEW.occurred_at), 'created_at', rfc3339(clock_timestamp()),
                'organisation_id', NEW.org_id, 'project_id', r.project_id,
                'request_id', NEW.request_id,
                'data', jsonb_build_object(
                    'request', request_json(r, false)::jsonb,
                    'event', jsonb_build_object('seq', NEW.seq, 'action', NEW.action,
                        'actor_role', NEW.actor_role, 'from_state', NEW.from_state,
                        'to_state', NEW.to_state, 'details', NEW.details))));
        INSERT INTO webhook_deliveries (org_id, webhook_id, event_id, request_id, seq)
        SELECT NEW.org_id, w.id, ev, NEW.request_id, s FROM webhooks w
        WHERE w.org_id = NEW.org_id AND w.active
          AND (w.project_id IS NULL OR w.project_id = r.project_id)
          AND webhook_type_matches(w.event_types, t);
    END LOOP;
    RETURN NULL;
END
$$;

CREATE CONSTRAINT TRIGGER request_events_webhooks AFTER INSERT ON request_events
    DEFERRABLE INITIALLY DEFERRED FOR EACH ROW EXECUTE FUNCTION webhook_on_request_event();

INSERT INTO schema_version (version) VALUES (14);
