-- 0010: custody ledgers (RULES "Common to every custody area", §3.4 keys, §3.13).
--
-- One design for every custody area: custody_items is the register (a key set now; an
-- archive file, a mail item, a found item next, each with area = its register and
-- area-specific columns in ext), custody_entries the append-only ledger.  Each item's
-- entries form one hash chain: hash = SHA-256(prev_hash ‖ custody_canonical(entry)),
-- computed by the service (OpenSSL) and rechecked by GET …/verify.  The chain is per item
-- because every append already locks its item (the state is derived from the ledger and
-- kept in step in the same transaction), so the chain costs no lock of its own and appends
-- to different items never wait for each other; the item keeps its last seq and head hash
-- so a truncated ledger is detected too.
CREATE TABLE custody_items (
    id                    uuid        PRIMARY KEY DEFAULT gen_random_uuid(),
    org_id                uuid        NOT NULL,
    project_id            uuid        NOT NULL,
    area                  text        NOT NULL CHECK (area IN ('keys','archives','mail','lost_property')),
    kind                  text        NOT NULL CHECK (length(kind) BETWEEN 1 AND 64),
    tag                   text        NOT NULL CHECK (length(tag) BETWEEN 1 AND 100),
    description           text        CHECK (length(description) <= 2000),
    unit_id               uuid,
    location              text        CHECK (length(location) <= 200),
    keeper_department_id  uuid,
    key_count             integer     CHECK (key_count BETWEEN 1 AND 1000),
    seal_number           text        CHECK (length(seal_number) BETWEEN 1 AND 100),
    state                 text        NOT NULL CHECK (length(state) BETWEEN 1 AND 64),
    holder_id             uuid,
    due_back              timestamptz,
    open_discrepancy      boolean     NOT NULL DEFAULT false,
    ext                   jsonb       NOT NULL DEFAULT '{}',
    last_seq              integer     NOT NULL DEFAULT 0,
    last_occurred_at      timestamptz,
    head_hash             text        NOT NULL DEFAULT repeat('0', 64),
    version               integer     NOT NULL DEFAULT 1,
    created_by            uuid        NOT NULL,
    created_at            timestamptz NOT NULL DEFAULT clock_timestamp(),
    updated_at            timestamptz NOT NULL DEFAULT clock_timestamp(),
    FOREIGN KEY (org_id, project_id) REFERENCES projects (org_id, id),
    FOREIGN KEY (org_id, unit_id) REFERENCES units (org_id, id),
    FOREIGN KEY (org_id, keeper_department_id) REFERENCES departments (org_id, id),
    FOREIGN KEY (org_id, holder_id) REFERENCES users (org_id, id),
    FOREIGN KEY (org_id, created_by) REFERENCES users (org_id, id),
    UNIQUE (project_id, area, tag),
    UNIQUE (org_id, id)
);
CREATE INDEX custody_items_list ON custody_items (org_id, area, created_at, id);
CREATE INDEX custody_items_state ON custody_items (project_id, area, state);

CREATE TABLE custody_entries (
    id            uuid        PRIMARY KEY DEFAULT gen_random_uuid(),
    org_id        uuid        NOT NULL,
    project_id    uuid        NOT NULL,
    item_id       uuid        NOT NULL,
    seq           integer     NOT NULL CHECK (seq >= 1),
    action        text        NOT NULL CHECK (length(action) BETWEEN 1 AND 64),
    actor_id      uuid        NOT NULL,
    actor_role    text        NOT NULL,
    counterparty  jsonb,
    purpose       text        CHECK (length(purpose) <= 4000),
    occurred_at   timestamptz NOT NULL,
    recorded_at   timestamptz NOT NULL,
    approvals     jsonb       NOT NULL DEFAULT '[]',
    witnesses     jsonb       NOT NULL DEFAULT '[]',
    attachments   jsonb       NOT NULL DEFAULT '[]',
    corrects      uuid,
    details       jsonb       NOT NULL DEFAULT '{}',
    prev_hash     text        NOT NULL CHECK (prev_hash ~ '^[0-9a-f]{64}$'),
    hash          text        NOT NULL CHECK (hash ~ '^[0-9a-f]{64}$'),
    FOREIGN KEY (org_id, item_id) REFERENCES custody_items (org_id, id),
    FOREIGN KEY (org_id, actor_id) REFERENCES users (org_id, id),
    FOREIGN KEY (corrects) REFERENCES custody_entries (id),
    UNIQUE (item_id, seq)
);
CREATE INDEX custody_entries_project ON custody_entries (project_id, action, occurred_at);

-- The canonical text of an entry that its hash covers: every stored field except the hashes,
-- with the ledger's identity (organisation, item, seq) so an entry cannot be moved.
CREATE FUNCTION custody_canonical(p_org uuid, p_item uuid, p_seq integer, p_action text,
    p_actor uuid, p_actor_role text, p_counterparty jsonb, p_purpose text,
    p_occurred timestamptz, p_recorded timestamptz, p_approvals jsonb, p_witnesses jsonb,
    p_attachments jsonb, p_corrects uuid, p_details jsonb) RETURNS text
LANGUAGE sql STABLE PARALLEL SAFE AS
$$ SELECT json_build_array(p_org, p_item, p_seq, p_action, p_actor, p_actor_role,
       p_counterparty, p_purpose, rfc3339(p_occurred), rfc3339(p_recorded), p_approvals,
       p_witnesses, p_attachments, p_corrects, p_details)::text $$;

-- Ledger entries are never changed or removed (a correction is a new entry).
CREATE FUNCTION custody_append_only() RETURNS trigger
LANGUAGE plpgsql AS
$$ BEGIN
  RAISE EXCEPTION 'custody ledger entries are append-only: % refused', TG_OP
    USING ERRCODE = 'insufficient_privilege';
END $$;
CREATE TRIGGER custody_entries_append_only BEFORE UPDATE OR DELETE ON custody_entries
    FOR EACH ROW EXECUTE FUNCTION custody_append_only();
CREATE TRIGGER custody_entries_no_truncate BEFORE TRUNCATE ON custody_entries
    FOR EACH STATEMENT EXECUTE FUNCTION custody_append_only();
REVOKE UPDATE, DELETE, TRUNCATE ON custody_entries FROM PUBLIC;

INSERT INTO schema_version (version) VALUES (10);
