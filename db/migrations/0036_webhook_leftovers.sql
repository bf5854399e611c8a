-- 0036: the last webhook events of RULES §3.12.2 that were accepted but never announced
-- (handover.refused, capa.opened, capa.closed; key.overdue needs no SQL here: the reminder
-- worker now marks overdue key loans too, see db/custody.c).
--
-- handover.refused (RULES §3.8.3): a submission or acceptance refused with 409
-- `handover_refused` changes nothing (its transaction is rolled back), but the refusal itself
-- is a fact of the shift — who tried, at which step, for which reasons.  The handler records
-- it in its own transaction in handover_refusals (append-only, audited) and this table's
-- trigger announces it, subject the handover, in that transaction.
CREATE TABLE handover_refusals (
    id            uuid        PRIMARY KEY DEFAULT gen_random_uuid(),
    org_id        uuid        NOT NULL,
    project_id    uuid        NOT NULL,
    handover_id   uuid        NOT NULL REFERENCES handovers (id),
    stage         text        NOT NULL CHECK (stage IN ('submit','accept')),
    refused_by    uuid        NOT NULL,
    reasons       jsonb       NOT NULL CHECK (jsonb_typeof(reasons) = 'array'),
    at            timestamptz NOT NULL DEFAULT clock_timestamp(),
    FOREIGN KEY (org_id, project_id) REFERENCES projects (org_id, id),
    FOREIGN KEY (org_id, refused_by) REFERENCES users (org_id, id)
);
CREATE INDEX handover_refusals_handover ON handover_refusals (handover_id, at);
CREATE TRIGGER audit AFTER INSERT OR UPDATE OR DELETE ON handover_refusals FOR EACH ROW EXECUTE FUNCTION audit_row('handover_refusal', 'id');

CREATE FUNCTION webhook_on_handover_refusal() RETURNS trigger
LANGUAGE plpgsql AS $$
DECLARE
    h handovers;
BEGIN
    IF NOT webhook_any(NEW.org_id) THEN
        RETURN NULL;
    END IF;
    SELECT * INTO h FROM handovers WHERE id = NEW.handover_id;
    PERFORM webhook_emit(NEW.org_id, NEW.project_id, 'handover', NEW.handover_id,
        'handover.refused', NEW.at,
        jsonb_build_object('handover', webhook_handover_json(h),
            'refusal', jsonb_build_object('id', NEW.id, 'stage', NEW.stage,
                'refused_by', NEW.refused_by, 'reasons', NEW.reasons,
                'at', rfc3339(NEW.at))));
    RETURN NULL;
END
$$;
CREATE CONSTRAINT TRIGGER webhooks AFTER INSERT ON handover_refusals
    DEFERRABLE INITIALLY DEFERRED FOR EACH ROW EXECUTE FUNCTION webhook_on_handover_refusal();

-- capa.opened and capa.closed (accepted since 0028, never announced).  RULES §3.12.2 names
-- `capa.*`; capa.created and capa.state_changed already announce every change (RULES §3.3
-- "every change is an event").  capa.opened is the same fact as capa.created, so it is a
-- second name for it, not a second event: a subscription naming capa.opened receives the
-- capa.created events (once, whatever else it names).  capa.closed is the end of an action
-- (verified, or cancelled), announced right after that change's capa.state_changed, as
-- key.returned follows custody.entry_appended.
CREATE OR REPLACE FUNCTION webhook_type_matches(p_patterns text[], p_type text) RETURNS boolean
LANGUAGE sql IMMUTABLE AS $$
SELECT EXISTS (SELECT 1 FROM unnest(p_patterns) p
               WHERE p = '*' OR p = p_type
                  OR (p = 'capa.opened' AND p_type = 'capa.created')
                  OR (right(p, 2) = '.*' AND length(p_type) >= length(p)
                      AND left(p_type, length(p) - 1) = left(p, -1)))
$$;

CREATE OR REPLACE FUNCTION webhook_on_capa() RETURNS trigger
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
        IF NEW.state IN ('verified', 'cancelled') THEN
            PERFORM webhook_emit(NEW.org_id, NEW.project_id, 'corrective_action', NEW.id,
                'capa.closed', NEW.updated_at,
                jsonb_build_object('action', webhook_capa_json(NEW), 'from_state', OLD.state,
                    'outcome', NEW.state));
        END IF;
    END IF;
    RETURN NULL;
END
$$;

-- register_notes_append_only (0023) refuses UPDATE, DELETE and TRUNCATE of any table with a
-- message naming the table: a generic function under a register-specific name.  Renamed
-- append_only() (its triggers follow), it serves handover_refusals too.  audit_append_only
-- is not a drop-in for it: its audit_log exception compares OLD.id with audit_log's bigint
-- id, which does not even plan for a table with a uuid id.
ALTER FUNCTION register_notes_append_only() RENAME TO append_only;

CREATE TRIGGER handover_refusals_append_only BEFORE UPDATE OR DELETE ON handover_refusals
    FOR EACH ROW EXECUTE FUNCTION append_only();
CREATE TRIGGER handover_refusals_no_truncate BEFORE TRUNCATE ON handover_refusals
    FOR EACH STATEMENT EXECUTE FUNCTION append_only();

DO $$
BEGIN
    IF EXISTS (SELECT 1 FROM pg_roles WHERE rolname = 'deskd_app') THEN
        GRANT SELECT, INSERT ON handover_refusals TO deskd_app;
        REVOKE UPDATE, DELETE, TRUNCATE ON handover_refusals FROM deskd_app;
    END IF;
EXCEPTION WHEN insufficient_privilege THEN
    RAISE NOTICE 'deskd_app not granted on handover_refusals (%)', SQLERRM;
END $$;

INSERT INTO schema_version (version) VALUES (36);
