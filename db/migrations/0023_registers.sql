-- 0023: the registers' own columns on requests (RULES §2 item 5, appendix: 客户希望/要求,
-- 受理单位意见, 处理意见, 主管评估意见, 业主反馈情况) and rental registration (出租房屋登记表,
-- RULES §2 item 12): a tenancy on a unit with its term, whose end decides whether the tenant
-- still has the unit in scope.

-- Every note written in a register column of a request, with who wrote it and when.  The
-- request shows the latest per column; earlier ones are the column's history, never changed.
CREATE TABLE request_register_notes (
    id           uuid        PRIMARY KEY DEFAULT gen_random_uuid(),
    org_id       uuid        NOT NULL,
    request_id   uuid        NOT NULL,
    field        text        NOT NULL CHECK (field IN ('customer_wish','receiving_opinion',
                     'handling_opinion','supervisor_assessment','owner_feedback')),
    body         varchar(4000) NOT NULL CHECK (body <> ''),
    author_id    uuid        NOT NULL,
    author_role  text        NOT NULL,
    written_at   timestamptz NOT NULL DEFAULT clock_timestamp(),
    FOREIGN KEY (org_id, request_id) REFERENCES requests (org_id, id),
    FOREIGN KEY (org_id, author_id) REFERENCES users (org_id, id)
);
CREATE INDEX request_register_notes_latest
    ON request_register_notes (request_id, field, written_at DESC, id DESC);

CREATE FUNCTION register_notes_append_only() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
    RAISE EXCEPTION '% is append-only: % refused', TG_TABLE_NAME, TG_OP
        USING ERRCODE = 'insufficient_privilege';
END $$;
CREATE TRIGGER request_register_notes_append_only BEFORE UPDATE OR DELETE ON request_register_notes
    FOR EACH ROW EXECUTE FUNCTION register_notes_append_only();
CREATE TRIGGER request_register_notes_no_truncate BEFORE TRUNCATE ON request_register_notes
    FOR EACH STATEMENT EXECUTE FUNCTION register_notes_append_only();
CREATE TRIGGER audit AFTER INSERT OR UPDATE OR DELETE ON request_register_notes FOR EACH ROW EXECUTE FUNCTION audit_row('register_note', 'id');

-- A tenancy (出租房屋登记表): the owner, the tenant (a resident of the organisation, or a
-- name and phone), the use, the term, the tenant's ID (keyed hash and last 4, never the
-- number) and employer.  Ending it early is registered by both sides: the owner's and a
-- supervisor's signatures (two authenticated calls), each at least 3 days before the new
-- end; when both have signed, ended_on is the last day of the term.
CREATE TABLE tenancies (
    id                    uuid        PRIMARY KEY DEFAULT gen_random_uuid(),
    org_id                uuid        NOT NULL,
    project_id            uuid        NOT NULL,
    unit_id               uuid        NOT NULL,
    owner_resident_id     uuid        NOT NULL,
    tenant_resident_id    uuid,
    tenant_name           varchar(100) NOT NULL CHECK (tenant_name <> ''),
    tenant_phone          varchar(40),
    use                   text        NOT NULL CHECK (use IN ('residence','office','shop',
                              'dormitory','storage','other')),
    term_start            date        NOT NULL,
    term_end              date        NOT NULL,
    tenant_id_type        text        CHECK (tenant_id_type IN ('resident_id_card','passport',
                              'hk_macau_permit','taiwan_permit','foreign_residence_permit','other')),
    tenant_id_hash        text,
    tenant_id_last4       varchar(4),
    employer              varchar(200),
    termination_date      date,
    termination_reason    varchar(1000),
    owner_signed_by       uuid,
    owner_signed_at       timestamptz,
    supervisor_signed_by  uuid,
    supervisor_signed_at  timestamptz,
    ended_on              date,
    created_by            uuid        NOT NULL,
    version               integer     NOT NULL DEFAULT 1,
    created_at            timestamptz NOT NULL DEFAULT clock_timestamp(),
    updated_at            timestamptz NOT NULL DEFAULT clock_timestamp(),
    FOREIGN KEY (org_id, project_id) REFERENCES projects (org_id, id),
    FOREIGN KEY (org_id, unit_id) REFERENCES units (org_id, id),
    FOREIGN KEY (org_id, owner_resident_id) REFERENCES residents (org_id, id),
    FOREIGN KEY (org_id, tenant_resident_id) REFERENCES residents (org_id, id),
    CHECK (term_end >= term_start),
    CHECK ((tenant_id_hash IS NULL) = (tenant_id_type IS NULL)),
    CHECK (ended_on IS NULL OR (owner_signed_at IS NOT NULL AND supervisor_signed_at IS NOT NULL
           AND ended_on = termination_date)),
    UNIQUE (org_id, id)
);
CREATE INDEX tenancies_unit ON tenancies (unit_id, term_start);
CREATE INDEX tenancies_tenant ON tenancies (tenant_resident_id) WHERE tenant_resident_id IS NOT NULL;
CREATE INDEX tenancies_project ON tenancies (project_id, created_at, id);
CREATE TRIGGER audit AFTER INSERT OR UPDATE OR DELETE ON tenancies FOR EACH ROW EXECUTE FUNCTION audit_row('tenancy', 'id');

-- The units a resident has in scope (the access token's `units`): every unit they are linked
-- to, except a tenant's unit whose registered tenancies of that tenant are all outside their
-- term on the project's local date (a tenant with no tenancy registered keeps the unit).
CREATE FUNCTION resident_scope_units(p_resident uuid) RETURNS SETOF uuid
LANGUAGE sql STABLE AS $$
    SELECT ru.unit_id FROM resident_units ru
    WHERE ru.resident_id = p_resident
      AND NOT (ru.relation = 'tenant'
          AND EXISTS (SELECT 1 FROM tenancies t WHERE t.unit_id = ru.unit_id
                      AND t.tenant_resident_id = ru.resident_id)
          AND NOT EXISTS (SELECT 1 FROM tenancies t JOIN projects p ON p.id = t.project_id
                          WHERE t.unit_id = ru.unit_id AND t.tenant_resident_id = ru.resident_id
                            AND (now() AT TIME ZONE p.time_zone)::date
                                BETWEEN t.term_start AND coalesce(t.ended_on, t.term_end)))
$$;

DO $$
BEGIN
    IF EXISTS (SELECT 1 FROM pg_roles WHERE rolname = 'deskd_app') THEN
        GRANT SELECT, INSERT ON request_register_notes TO deskd_app;
        REVOKE UPDATE, DELETE, TRUNCATE ON request_register_notes FROM deskd_app;
        GRANT SELECT, INSERT, UPDATE, DELETE ON tenancies TO deskd_app;
    END IF;
EXCEPTION WHEN insufficient_privilege THEN
    RAISE NOTICE 'deskd_app not granted (%): run this migration''s DO block as a privileged user', SQLERRM;
END $$;

INSERT INTO schema_version (version) VALUES (23);
