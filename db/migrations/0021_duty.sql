-- 0021: duty shifts, duty log, daily review, shift handovers and special incident reports.

-- Duty, handover and special incident reports (RULES §3.8, §3.9).
--
-- duty_shifts: who is on duty at a post of a project, planned and actual times; the control
-- room's "major equipment starting or stopping" flag lives on the shift.  duty_log_entries
-- is append-only like the custody ledger (a trigger refuses UPDATE/DELETE/TRUNCATE; a
-- correction is a new entry naming the old one in `corrects`).  duty_reviews records the
-- supervisor's daily review of a project's log (one per local day).  handovers go draft →
-- submitted → accepted; their prefilled snapshot of live data is kept in `prefill`.
-- incident_reports (特别事件报告) go draft → submitted → acknowledged, due by the end of the
-- next local day after the event (computed by core_incident_due_at).
CREATE TABLE duty_settings (
    project_id            uuid        PRIMARY KEY,
    org_id                uuid        NOT NULL,
    handover_checklist    jsonb       NOT NULL DEFAULT '[]',
    accept_grace_minutes  integer     NOT NULL DEFAULT 15 CHECK (accept_grace_minutes BETWEEN 0 AND 1440),
    updated_by            uuid,
    updated_at            timestamptz NOT NULL DEFAULT clock_timestamp(),
    FOREIGN KEY (org_id, project_id) REFERENCES projects (org_id, id)
);

CREATE TABLE duty_shifts (
    id                    uuid        PRIMARY KEY DEFAULT gen_random_uuid(),
    org_id                uuid        NOT NULL,
    project_id            uuid        NOT NULL,
    post                  text        NOT NULL CHECK (post IN ('front_desk','office','control_room')),
    user_ids              uuid[]      NOT NULL CHECK (cardinality(user_ids) BETWEEN 1 AND 20),
    planned_start         timestamptz NOT NULL,
    planned_end           timestamptz NOT NULL,
    actual_start          timestamptz,
    actual_end            timestamptz,
    equipment_transition  boolean     NOT NULL DEFAULT false,
    equipment_note        text        CHECK (length(equipment_note) <= 2000),
    created_by            uuid        NOT NULL,
    created_at            timestamptz NOT NULL DEFAULT clock_timestamp(),
    updated_at            timestamptz NOT NULL DEFAULT clock_timestamp(),
    version               integer     NOT NULL DEFAULT 1,
    CHECK (planned_end > planned_start),
    FOREIGN KEY (org_id, project_id) REFERENCES projects (org_id, id),
    FOREIGN KEY (org_id, created_by) REFERENCES users (org_id, id),
    UNIQUE (org_id, id)
);
CREATE INDEX duty_shifts_project ON duty_shifts (project_id, planned_start, id);

CREATE TABLE duty_log_entries (
    id                    uuid        PRIMARY KEY DEFAULT gen_random_uuid(),
    org_id                uuid        NOT NULL,
    project_id            uuid        NOT NULL,
    shift_id              uuid        NOT NULL,
    kind                  text        NOT NULL CHECK (kind IN ('event','phone_record','inspection','lighting','instruction','incident','note')),
    at                    timestamptz NOT NULL,
    summary               text        NOT NULL CHECK (length(summary) BETWEEN 1 AND 4000),
    cause                 text        CHECK (length(cause) <= 4000),
    handling              text        CHECK (length(handling) <= 4000),
    result                text        CHECK (length(result) <= 4000),
    corrects              uuid        REFERENCES duty_log_entries (id),
    correction_reason     text        CHECK (length(correction_reason) <= 2000),
    author_id             uuid        NOT NULL,
    author_role           text        NOT NULL,
    recorded_at           timestamptz NOT NULL DEFAULT clock_timestamp(),
    CHECK (kind NOT IN ('event','incident') OR (cause IS NOT NULL AND handling IS NOT NULL AND result IS NOT NULL)),
    CHECK (corrects IS NULL OR correction_reason IS NOT NULL),
    FOREIGN KEY (org_id, shift_id) REFERENCES duty_shifts (org_id, id),
    FOREIGN KEY (org_id, author_id) REFERENCES users (org_id, id)
);
CREATE INDEX duty_log_entries_shift ON duty_log_entries (shift_id, at, id);
CREATE INDEX duty_log_entries_project ON duty_log_entries (project_id, at);

CREATE FUNCTION duty_append_only() RETURNS trigger
LANGUAGE plpgsql AS
$$ BEGIN
  RAISE EXCEPTION 'duty log entries are append-only: % refused', TG_OP
    USING ERRCODE = 'insufficient_privilege';
END $$;
CREATE TRIGGER duty_log_entries_append_only BEFORE UPDATE OR DELETE ON duty_log_entries
    FOR EACH ROW EXECUTE FUNCTION duty_append_only();
CREATE TRIGGER duty_log_entries_no_truncate BEFORE TRUNCATE ON duty_log_entries
    FOR EACH STATEMENT EXECUTE FUNCTION duty_append_only();
REVOKE UPDATE, DELETE, TRUNCATE ON duty_log_entries FROM PUBLIC;

CREATE TABLE duty_reviews (
    id                    uuid        PRIMARY KEY DEFAULT gen_random_uuid(),
    org_id                uuid        NOT NULL,
    project_id            uuid        NOT NULL,
    day                   date        NOT NULL,
    reviewed_by           uuid        NOT NULL,
    reviewed_at           timestamptz NOT NULL DEFAULT clock_timestamp(),
    note                  text        CHECK (length(note) <= 2000),
    FOREIGN KEY (org_id, project_id) REFERENCES projects (org_id, id),
    FOREIGN KEY (org_id, reviewed_by) REFERENCES users (org_id, id),
    UNIQUE (project_id, day)
);

CREATE TABLE handovers (
    id                    uuid        PRIMARY KEY DEFAULT gen_random_uuid(),
    org_id                uuid        NOT NULL,
    project_id            uuid        NOT NULL,
    from_shift_id         uuid        NOT NULL,
    to_shift_id           uuid,
    outgoing_user_id      uuid        NOT NULL,
    incoming_user_id      uuid        NOT NULL,
    planned_at            timestamptz NOT NULL,
    state                 text        NOT NULL DEFAULT 'draft' CHECK (state IN ('draft','submitted','accepted')),
    prefill               jsonb       NOT NULL DEFAULT '{}',
    sections              jsonb       NOT NULL DEFAULT '[]',
    unfinished            jsonb       NOT NULL DEFAULT '[]',
    instructions          text        CHECK (length(instructions) <= 4000),
    major_issues          text        CHECK (length(major_issues) <= 4000),
    equipment_status      text        CHECK (length(equipment_status) <= 4000),
    staffing_changes      text        CHECK (length(staffing_changes) <= 4000),
    incoming_unfit        boolean     NOT NULL DEFAULT false,
    unfit_note            text        CHECK (length(unfit_note) <= 2000),
    replacement_user_id   uuid,
    grace_minutes         integer     NOT NULL DEFAULT 15,
    submitted_by          uuid,
    submitted_at          timestamptz,
    accepted_by           uuid,
    accepted_at           timestamptz,
    late_notified_at      timestamptz,
    created_at            timestamptz NOT NULL DEFAULT clock_timestamp(),
    updated_at            timestamptz NOT NULL DEFAULT clock_timestamp(),
    version               integer     NOT NULL DEFAULT 1,
    FOREIGN KEY (org_id, project_id) REFERENCES projects (org_id, id),
    FOREIGN KEY (org_id, from_shift_id) REFERENCES duty_shifts (org_id, id),
    FOREIGN KEY (org_id, to_shift_id) REFERENCES duty_shifts (org_id, id),
    FOREIGN KEY (org_id, outgoing_user_id) REFERENCES users (org_id, id),
    FOREIGN KEY (org_id, incoming_user_id) REFERENCES users (org_id, id),
    FOREIGN KEY (org_id, replacement_user_id) REFERENCES users (org_id, id),
    UNIQUE (from_shift_id)
);
CREATE INDEX handovers_project ON handovers (project_id, planned_at, id);
CREATE INDEX handovers_late_due ON handovers (planned_at) WHERE state <> 'accepted' AND late_notified_at IS NULL;

CREATE TABLE incident_reports (
    id                    uuid        PRIMARY KEY DEFAULT gen_random_uuid(),
    org_id                uuid        NOT NULL,
    project_id            uuid        NOT NULL,
    kind                  text        NOT NULL CHECK (kind IN ('fire','flood','lift_entrapment','gas','theft_robbery','fight','injury_illness','power_water_cut','forced_entry','other')),
    request_ids           uuid[]      NOT NULL DEFAULT '{}',
    occurred_at           timestamptz NOT NULL,
    ended_at              timestamptz,
    place                 text        CHECK (length(place) <= 500),
    discovered_by         text        CHECK (length(discovered_by) <= 200),
    actions               text        CHECK (length(actions) <= 8000),
    services              text[]      NOT NULL DEFAULT '{}' CHECK (services <@ ARRAY['110','119','120','lift_company']::text[]),
    police                jsonb,
    lift_company          jsonb,
    affected_units        uuid[]      NOT NULL DEFAULT '{}',
    owners_notified       boolean,
    forced_entry          jsonb,
    damage                text        CHECK (length(damage) <= 4000),
    state                 text        NOT NULL DEFAULT 'draft' CHECK (state IN ('draft','submitted','acknowledged')),
    due_at                timestamptz NOT NULL,
    written_by            uuid        NOT NULL,
    submitted_by          uuid,
    submitted_at          timestamptz,
    acknowledged_by       uuid,
    acknowledged_at       timestamptz,
    escalated_at          timestamptz,
    created_at            timestamptz NOT NULL DEFAULT clock_timestamp(),
    updated_at            timestamptz NOT NULL DEFAULT clock_timestamp(),
    version               integer     NOT NULL DEFAULT 1,
    FOREIGN KEY (org_id, project_id) REFERENCES projects (org_id, id),
    FOREIGN KEY (org_id, written_by) REFERENCES users (org_id, id),
    UNIQUE (org_id, id)
);
CREATE INDEX incident_reports_project ON incident_reports (project_id, occurred_at, id);
CREATE INDEX incident_reports_overdue ON incident_reports (due_at) WHERE state = 'draft' AND escalated_at IS NULL;

CREATE TRIGGER audit AFTER INSERT OR UPDATE OR DELETE ON duty_settings FOR EACH ROW EXECUTE FUNCTION audit_row('duty_settings', 'project_id');
CREATE TRIGGER audit AFTER INSERT OR UPDATE OR DELETE ON duty_shifts FOR EACH ROW EXECUTE FUNCTION audit_row('duty_shift', 'id');
CREATE TRIGGER audit AFTER INSERT OR UPDATE OR DELETE ON duty_log_entries FOR EACH ROW EXECUTE FUNCTION audit_row('duty_log_entry', 'id');
CREATE TRIGGER audit AFTER INSERT OR UPDATE OR DELETE ON duty_reviews FOR EACH ROW EXECUTE FUNCTION audit_row('duty_review', 'id');
CREATE TRIGGER audit AFTER INSERT OR UPDATE OR DELETE ON handovers FOR EACH ROW EXECUTE FUNCTION audit_row('handover', 'id');
CREATE TRIGGER audit AFTER INSERT OR UPDATE OR DELETE ON incident_reports FOR EACH ROW EXECUTE FUNCTION audit_row('incident_report', 'id');

DO $$
BEGIN
    GRANT SELECT, INSERT, UPDATE, DELETE ON duty_settings, duty_shifts, duty_reviews, handovers, incident_reports TO deskd_app;
    GRANT SELECT, INSERT ON duty_log_entries TO deskd_app;
    REVOKE UPDATE, DELETE, TRUNCATE ON duty_log_entries FROM deskd_app;
EXCEPTION WHEN undefined_object OR insufficient_privilege THEN
    RAISE NOTICE 'deskd_app not granted on the duty tables (%)', SQLERRM;
END $$;

INSERT INTO schema_version (version) VALUES (21);
