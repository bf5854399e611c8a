-- 0017: satisfaction surveys and household visits (RULES §3.2; issue 9).
--
-- A campaign (survey_campaigns) has ordered items in groups (survey_items, each naming
-- the department it measures, if any), editable only while the campaign is a draft.  A
-- household answers once per campaign (survey_responses, unique per unit); its answers
-- are immutable: each entry or correction is a new version (survey_response_versions with
-- its survey_answers, both append-only) and the response points at the latest, which is
-- the one that counts.  survey_followups links an answer (overall: item_id NULL) to what
-- it set off: a complaint request (不满意) or a callback still to be created (不太满意).
-- visit_records are the 走访业户记录表.
CREATE DOMAIN survey_rating AS text
    CHECK (VALUE IN ('very_satisfied','fairly_satisfied','basically_satisfied','somewhat_dissatisfied','dissatisfied'));

CREATE TABLE survey_campaigns (
    id                  uuid        PRIMARY KEY DEFAULT gen_random_uuid(),
    org_id              uuid        NOT NULL,
    project_id          uuid        NOT NULL,
    title               text        NOT NULL CHECK (length(title) BETWEEN 1 AND 200),
    kind                text        NOT NULL CHECK (kind IN ('periodic','after_repair','visit','special')),
    cadence             text        NOT NULL CHECK (cadence IN ('quarterly','semi_annual','yearly','once')),
    period_start        date,
    period_end          date,
    state               text        NOT NULL DEFAULT 'draft' CHECK (state IN ('draft','open','closed','reported')),
    distribution        text        NOT NULL DEFAULT 'count' CHECK (distribution IN ('count','per_unit')),
    copies_distributed  integer     CHECK (copies_distributed BETWEEN 0 AND 10000000),
    opinion             text        CHECK (length(opinion) BETWEEN 1 AND 10000),
    report              jsonb,
    opened_at           timestamptz,
    closed_at           timestamptz,
    reported_at         timestamptz,
    created_by          uuid        NOT NULL,
    version             integer     NOT NULL DEFAULT 1,
    created_at          timestamptz NOT NULL DEFAULT clock_timestamp(),
    updated_at          timestamptz NOT NULL DEFAULT clock_timestamp(),
    FOREIGN KEY (org_id, project_id) REFERENCES projects (org_id, id),
    FOREIGN KEY (org_id, created_by) REFERENCES users (org_id, id),
    CHECK (period_end IS NULL OR period_start IS NULL OR period_end >= period_start),
    CHECK ((state = 'reported') = (report IS NOT NULL)),
    UNIQUE (org_id, id)
);
CREATE INDEX survey_campaigns_list ON survey_campaigns (org_id, project_id, created_at, id);

CREATE TABLE survey_items (
    id             uuid     PRIMARY KEY DEFAULT gen_random_uuid(),
    org_id         uuid     NOT NULL,
    campaign_id    uuid     NOT NULL,
    position       integer  NOT NULL CHECK (position BETWEEN 1 AND 200),
    code           text     NOT NULL CHECK (length(code) BETWEEN 1 AND 32),
    group_name     text     NOT NULL CHECK (length(group_name) BETWEEN 1 AND 100),
    text           text     NOT NULL CHECK (length(text) BETWEEN 1 AND 500),
    department_id  uuid,
    FOREIGN KEY (org_id, campaign_id) REFERENCES survey_campaigns (org_id, id) ON DELETE CASCADE,
    FOREIGN KEY (org_id, department_id) REFERENCES departments (org_id, id),
    UNIQUE (campaign_id, position),
    UNIQUE (campaign_id, code),
    UNIQUE (org_id, id)
);

CREATE TABLE survey_responses (
    id               uuid        PRIMARY KEY DEFAULT gen_random_uuid(),
    org_id           uuid        NOT NULL,
    project_id       uuid        NOT NULL,
    campaign_id      uuid        NOT NULL,
    unit_id          uuid        NOT NULL,
    channel          text        NOT NULL CHECK (channel IN ('paper','app','visit','integration')),
    respondent_name  text        CHECK (length(respondent_name) BETWEEN 1 AND 100),
    external_source  text        CHECK (length(external_source) BETWEEN 1 AND 64),
    external_id      text        CHECK (length(external_id) BETWEEN 1 AND 128),
    returned_at      timestamptz NOT NULL,
    entered_by       uuid        NOT NULL,
    current_version  integer     NOT NULL DEFAULT 1,
    created_at       timestamptz NOT NULL DEFAULT clock_timestamp(),
    updated_at       timestamptz NOT NULL DEFAULT clock_timestamp(),
    FOREIGN KEY (org_id, campaign_id) REFERENCES survey_campaigns (org_id, id),
    FOREIGN KEY (org_id, unit_id) REFERENCES units (org_id, id),
    FOREIGN KEY (org_id, entered_by) REFERENCES users (org_id, id),
    CHECK ((external_source IS NULL) = (external_id IS NULL)),
    CONSTRAINT survey_responses_household UNIQUE (campaign_id, unit_id),
    CONSTRAINT survey_responses_external UNIQUE (org_id, external_source, external_id),
    UNIQUE (org_id, id)
);
CREATE INDEX survey_responses_list ON survey_responses (campaign_id, created_at, id);

CREATE TABLE survey_response_versions (
    id              uuid        PRIMARY KEY DEFAULT gen_random_uuid(),
    org_id          uuid        NOT NULL,
    response_id     uuid        NOT NULL,
    version         integer     NOT NULL CHECK (version >= 1),
    overall_rating  survey_rating NOT NULL,
    comment         text        CHECK (length(comment) BETWEEN 1 AND 4000),
    reason          text        CHECK (length(reason) BETWEEN 1 AND 1000),
    recorded_by     uuid        NOT NULL,
    recorded_role   text        NOT NULL,
    recorded_at     timestamptz NOT NULL DEFAULT clock_timestamp(),
    FOREIGN KEY (org_id, response_id) REFERENCES survey_responses (org_id, id),
    FOREIGN KEY (org_id, recorded_by) REFERENCES users (org_id, id),
    CHECK ((version = 1) = (reason IS NULL)),
    UNIQUE (response_id, version),
    UNIQUE (org_id, id)
);

CREATE TABLE survey_answers (
    org_id      uuid NOT NULL,
    version_id  uuid NOT NULL,
    item_id     uuid NOT NULL,
    rating      survey_rating,
    text        text CHECK (length(text) BETWEEN 1 AND 2000),
    PRIMARY KEY (version_id, item_id),
    FOREIGN KEY (org_id, version_id) REFERENCES survey_response_versions (org_id, id),
    FOREIGN KEY (org_id, item_id) REFERENCES survey_items (org_id, id),
    CHECK (rating IS NOT NULL OR text IS NOT NULL)
);

CREATE TABLE survey_followups (
    id                uuid        PRIMARY KEY DEFAULT gen_random_uuid(),
    org_id            uuid        NOT NULL,
    response_id       uuid        NOT NULL,
    version           integer     NOT NULL,
    item_id           uuid,
    rating            survey_rating NOT NULL,
    kind              text        NOT NULL CHECK (kind IN ('complaint','callback')),
    state             text        NOT NULL CHECK (state IN ('opened','pending')),
    request_id        uuid,
    callback_task_id  uuid,
    created_at        timestamptz NOT NULL DEFAULT clock_timestamp(),
    FOREIGN KEY (org_id, response_id) REFERENCES survey_responses (org_id, id),
    FOREIGN KEY (org_id, item_id) REFERENCES survey_items (org_id, id),
    FOREIGN KEY (org_id, request_id) REFERENCES requests (org_id, id),
    CHECK (kind <> 'complaint' OR request_id IS NOT NULL)
);
-- One complaint / callback per answer of a household, however often it is corrected.
CREATE UNIQUE INDEX survey_followups_once ON survey_followups
    (response_id, kind, coalesce(item_id, '00000000-0000-0000-0000-000000000000'::uuid));
-- What the callback feature still has to pick up.
CREATE INDEX survey_followups_pending ON survey_followups (org_id, created_at)
    WHERE state = 'pending';

CREATE TABLE visit_records (
    id                     uuid        PRIMARY KEY DEFAULT gen_random_uuid(),
    org_id                 uuid        NOT NULL,
    project_id             uuid        NOT NULL,
    visited_on             date        NOT NULL,
    unit_id                uuid,
    client_name            text        CHECK (length(client_name) BETWEEN 1 AND 100),
    client_org             text        CHECK (length(client_org) BETWEEN 1 AND 200),
    client_kind            text        CHECK (client_kind IN ('official','developer','owners_committee','influential_owner')),
    visitors               uuid[]      NOT NULL CHECK (cardinality(visitors) BETWEEN 1 AND 20),
    topics                 text        NOT NULL CHECK (length(topics) BETWEEN 1 AND 2000),
    opinions               text        CHECK (length(opinions) BETWEEN 1 AND 4000),
    follow_up              text        CHECK (length(follow_up) BETWEEN 1 AND 2000),
    follow_up_request_id   uuid,
    corrective_action_ref  text        CHECK (length(corrective_action_ref) BETWEEN 1 AND 64),
    created_by             uuid        NOT NULL,
    version                integer     NOT NULL DEFAULT 1,
    created_at             timestamptz NOT NULL DEFAULT clock_timestamp(),
    updated_at             timestamptz NOT NULL DEFAULT clock_timestamp(),
    FOREIGN KEY (org_id, project_id) REFERENCES projects (org_id, id),
    FOREIGN KEY (org_id, unit_id) REFERENCES units (org_id, id),
    FOREIGN KEY (org_id, follow_up_request_id) REFERENCES requests (org_id, id),
    FOREIGN KEY (org_id, created_by) REFERENCES users (org_id, id),
    CHECK (unit_id IS NOT NULL OR client_name IS NOT NULL),
    CHECK (client_kind IS NULL OR client_name IS NOT NULL)
);
CREATE INDEX visit_records_month ON visit_records (project_id, visited_on, id);

-- Answers are never changed or removed: a correction is a new version.
CREATE FUNCTION survey_append_only() RETURNS trigger
LANGUAGE plpgsql AS
$$ BEGIN
  RAISE EXCEPTION 'survey answers are append-only (a correction is a new version): % refused', TG_OP
    USING ERRCODE = 'insufficient_privilege';
END $$;
CREATE TRIGGER survey_response_versions_append_only BEFORE UPDATE OR DELETE ON survey_response_versions
    FOR EACH ROW EXECUTE FUNCTION survey_append_only();
CREATE TRIGGER survey_response_versions_no_truncate BEFORE TRUNCATE ON survey_response_versions
    FOR EACH STATEMENT EXECUTE FUNCTION survey_append_only();
CREATE TRIGGER survey_answers_append_only BEFORE UPDATE OR DELETE ON survey_answers
    FOR EACH ROW EXECUTE FUNCTION survey_append_only();
CREATE TRIGGER survey_answers_no_truncate BEFORE TRUNCATE ON survey_answers
    FOR EACH STATEMENT EXECUTE FUNCTION survey_append_only();

CREATE TRIGGER audit AFTER INSERT OR UPDATE OR DELETE ON survey_campaigns FOR EACH ROW EXECUTE FUNCTION audit_row('survey_campaign', 'id');
CREATE TRIGGER audit AFTER INSERT OR UPDATE OR DELETE ON survey_items FOR EACH ROW EXECUTE FUNCTION audit_row('survey_item', 'id');
CREATE TRIGGER audit AFTER INSERT OR UPDATE OR DELETE ON survey_responses FOR EACH ROW EXECUTE FUNCTION audit_row('survey_response', 'id');
CREATE TRIGGER audit AFTER INSERT OR UPDATE OR DELETE ON survey_response_versions FOR EACH ROW EXECUTE FUNCTION audit_row('survey_response_version', 'id');
CREATE TRIGGER audit AFTER INSERT OR UPDATE OR DELETE ON survey_answers FOR EACH ROW EXECUTE FUNCTION audit_row('survey_answer', 'version_id');
CREATE TRIGGER audit AFTER INSERT OR UPDATE OR DELETE ON survey_followups FOR EACH ROW EXECUTE FUNCTION audit_row('survey_followup', 'id');
CREATE TRIGGER audit AFTER INSERT OR UPDATE OR DELETE ON visit_records FOR EACH ROW EXECUTE FUNCTION audit_row('visit_record', 'id');

DO $$
BEGIN
    IF EXISTS (SELECT 1 FROM pg_roles WHERE rolname = 'deskd_app') THEN
        GRANT SELECT, INSERT, UPDATE, DELETE ON survey_campaigns, survey_items, survey_responses,
            survey_followups, visit_records TO deskd_app;
        GRANT SELECT, INSERT ON survey_response_versions, survey_answers TO deskd_app;
        REVOKE UPDATE, DELETE, TRUNCATE ON survey_response_versions, survey_answers FROM deskd_app;
    END IF;
EXCEPTION WHEN insufficient_privilege THEN
    RAISE NOTICE 'deskd_app not granted the survey tables (%): run this migration''s DO block as a user with the right to grant', SQLERRM;
END $$;

INSERT INTO schema_version (version) VALUES (17);
