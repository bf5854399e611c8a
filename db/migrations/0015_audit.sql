-- 0015: the audit log (RULES §3.13) — every write and every authentication event, with its
-- actor, in the same transaction as the change; append-only; a hash chain per organisation.

-- One row per changed business row (written by audit_row(), a row trigger on the business
-- tables) or per authentication event (written by the service in the login / refresh /
-- logout transaction).  The actor comes from the transaction-local setting deskd.actor that
-- the service sends with BEGIN (db/pool.c): {"u": user, "r": role, "q": request id,
-- "a": client address} or {"s": worker} for background work.  A row is written unsealed
-- (seq, prev_hash, hash NULL); audit_seal_pending(), run by a background worker after the
-- row's transaction has committed, chains it: seq, prev_hash and hash.
CREATE TABLE audit_log (
    id             bigint      GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    org_id         uuid,
    at             timestamptz NOT NULL DEFAULT clock_timestamp(),
    actor_user_id  uuid,
    actor_role     text,
    actor_system   text,
    request_id     text,
    client_addr    text,
    action         text        NOT NULL,
    resource_type  text        NOT NULL,
    resource_id    text,
    diff           jsonb       NOT NULL DEFAULT '{}',
    result         text        NOT NULL DEFAULT 'success' CHECK (result IN ('success', 'failure')),
    seq            bigint,
    prev_hash      text,
    hash           text
);
CREATE UNIQUE INDEX audit_log_chain ON audit_log (coalesce(org_id, '00000000-0000-0000-0000-000000000000'::uuid), seq);
CREATE INDEX audit_log_list ON audit_log (org_id, at, id);
CREATE INDEX audit_log_resource ON audit_log (org_id, resource_type, resource_id, id);
-- The rows still to be sealed (few: the sealer keeps up), in id order.
CREATE INDEX audit_log_unsealed ON audit_log (id) WHERE hash IS NULL;

-- The head of each organisation's chain (the all-zero key: events of no organisation, such
-- as a failed login with an unknown user name).  Its row lock, taken by the sealer only,
-- keeps two sealers off the same chain.
CREATE TABLE audit_chain_heads (
    org_key  uuid    PRIMARY KEY,
    seq      bigint  NOT NULL DEFAULT 0,
    hash     text
);

-- The text that is hashed: every field of the row but the hashes, in a fixed order, times
-- as RFC 3339 UTC (independent of the session's TimeZone); jsonb prints its keys sorted.
CREATE FUNCTION audit_canonical(a audit_log) RETURNS text
LANGUAGE sql STABLE PARALLEL SAFE AS
$$ SELECT jsonb_build_array(a.seq, a.org_id, rfc3339(a.at), a.actor_user_id, a.actor_role,
                            a.actor_system, a.request_id, a.client_addr, a.action,
                            a.resource_type, a.resource_id, a.diff, a.result)::text $$;

-- hash = SHA-256(prev_hash ‖ canonical row), hex.
CREATE FUNCTION audit_hash(prev text, canonical text) RETURNS text
LANGUAGE sql IMMUTABLE PARALLEL SAFE AS
$$ SELECT encode(sha256(coalesce(decode(prev, 'hex'), ''::bytea) || convert_to(canonical, 'UTF8')), 'hex') $$;

-- A row as the audit log keeps it: no secrets, password or ID-number hashes, tokens or
-- search terms; phones masked; bookkeeping columns (updated_at, version) and the extra
-- names given left out.
CREATE FUNCTION audit_clean(j jsonb, skip text[]) RETURNS jsonb
LANGUAGE sql IMMUTABLE PARALLEL SAFE AS
$$ SELECT coalesce(jsonb_object_agg(k, CASE WHEN k ~ 'phone' AND jsonb_typeof(v) = 'string'
                                            THEN to_jsonb(mask_phone(v #>> '{}')) ELSE v END),
                   '{}')
     FROM jsonb_each(j) AS e(k, v)
    WHERE k !~ '(hash|secret|token|id_number|password|search_terms)'
      AND k <> ALL (skip || '{updated_at,version}'::text[]) $$;

-- The row trigger of every audited table.  TG_ARGV: [0] resource type, [1] the column that
-- names the resource, [2..] columns left out of the diff.  An UPDATE that changes nothing
-- kept (a login resetting failed_logins) writes no row.
CREATE FUNCTION audit_row() RETURNS trigger
LANGUAGE plpgsql AS $$
DECLARE
    skip text[] := coalesce(TG_ARGV[2:], '{}');
    o jsonb;
    n jsonb;
    d jsonb;
    r jsonb;
    a jsonb := coalesce(nullif(current_setting('deskd.actor', true), '')::jsonb, '{}');
BEGIN
    IF TG_OP <> 'INSERT' THEN
        o := audit_clean(to_jsonb(OLD), skip);
    END IF;
    IF TG_OP <> 'DELETE' THEN
        n := audit_clean(to_jsonb(NEW), skip);
    END IF;
    IF TG_OP = 'UPDATE' THEN
        SELECT jsonb_build_object('before', jsonb_object_agg(k, o -> k), 'after', jsonb_object_agg(k, v))
          INTO d FROM jsonb_each(n) AS e(k, v) WHERE (o -> k) IS DISTINCT FROM v;
        IF d -> 'after' IS NULL OR d -> 'after' = 'null' THEN
            RETURN NULL;
        END IF;
    ELSIF TG_OP = 'INSERT' THEN
        d := jsonb_build_object('after', n);
    ELSE
        d := jsonb_build_object('before', o);
    END IF;
    r := coalesce(to_jsonb(NEW), to_jsonb(OLD));
    INSERT INTO audit_log (org_id, actor_user_id, actor_role, actor_system, request_id,
                           client_addr, action, resource_type, resource_id, diff)
    VALUES ((r ->> 'org_id')::uuid, (a ->> 'u')::uuid, a ->> 'r',
            CASE WHEN a ? 'u' THEN NULL
                 WHEN a ? 's' THEN 'system:' || (a ->> 's')
                 WHEN a ? 'q' THEN 'anonymous'
                 ELSE 'system' END,
            a ->> 'q', a ->> 'a',
            TG_ARGV[0] || '.' || CASE TG_OP WHEN 'INSERT' THEN 'create'
                                             WHEN 'UPDATE' THEN 'update' ELSE 'delete' END,
            TG_ARGV[0], r ->> TG_ARGV[1], d);
    RETURN NULL;
END $$;

-- An authentication event (login, refresh, logout, lockout, token revocation), written by
-- the service with the same actor setting.
CREATE FUNCTION audit_event(p_org uuid, p_user uuid, p_role text, p_action text,
                            p_result text, p_detail jsonb) RETURNS void
LANGUAGE sql AS $$
    INSERT INTO audit_log (org_id, actor_user_id, actor_role, actor_system, request_id,
                           client_addr, action, resource_type, resource_id, diff, result)
    SELECT p_org, coalesce((a ->> 'u')::uuid, p_user), coalesce(a ->> 'r', p_role),
           CASE WHEN coalesce(a ->> 'u', p_user::text) IS NOT NULL THEN NULL
                WHEN a ? 's' THEN 'system:' || (a ->> 's') ELSE 'anonymous' END,
           a ->> 'q', a ->> 'a', p_action, 'session', p_user::text,
           coalesce(p_detail, '{}'), p_result
      FROM (SELECT coalesce(nullif(current_setting('deskd.actor', true), '')::jsonb, '{}') AS a) s
$$;

-- Seals committed rows into their organisations' chains, at most p_max rows; returns how
-- many it sealed.  Called by the service's audit sealer (svc/audit_sealer.c) every
-- DESK_AUDIT_SEAL_INTERVAL_MS, outside the requests' transactions, so a write transaction
-- takes no lock of its own for the chain and an organisation's writes commit side by side
-- (group commit).  Per organisation with unsealed rows: its head row is locked FOR UPDATE
-- SKIP LOCKED (another sealer holding it is sealing that chain now: the organisation is
-- skipped, never sealed twice), then its committed unsealed rows get seq, prev_hash and
-- hash in id order.  The chain order is therefore the seal order (seq): a row of a
-- transaction that committed late is sealed after rows with a greater id sealed before it.
-- SECURITY DEFINER: the service's role may only INSERT into audit_log and may not touch
-- the chain heads.
CREATE FUNCTION audit_seal_pending(p_max int) RETURNS int
LANGUAGE plpgsql SECURITY DEFINER SET search_path = public, pg_temp AS $$
DECLARE
    zero constant uuid := '00000000-0000-0000-0000-000000000000';
    k uuid;
    h audit_chain_heads;
    x audit_log;
    n int := 0;
BEGIN
    FOR k IN SELECT DISTINCT coalesce(s.org_id, zero)
               FROM (SELECT a.org_id FROM audit_log a WHERE a.hash IS NULL
                      ORDER BY a.id LIMIT greatest(p_max, 0)) s LOOP
        EXIT WHEN n >= p_max;
        IF NOT EXISTS (SELECT 1 FROM audit_chain_heads WHERE org_key = k) THEN
            INSERT INTO audit_chain_heads (org_key) VALUES (k) ON CONFLICT DO NOTHING;
        END IF;
        SELECT * INTO h FROM audit_chain_heads WHERE org_key = k FOR UPDATE SKIP LOCKED;
        CONTINUE WHEN NOT FOUND;
        FOR x IN SELECT * FROM audit_log a
                  WHERE a.hash IS NULL AND coalesce(a.org_id, zero) = k
                  ORDER BY a.id LIMIT p_max - n LOOP
            x.seq := h.seq + 1;
            x.prev_hash := h.hash;
            x.hash := audit_hash(h.hash, audit_canonical(x));
            UPDATE audit_log SET seq = x.seq, prev_hash = x.prev_hash, hash = x.hash
             WHERE id = x.id;
            h.seq := x.seq;
            h.hash := x.hash;
            n := n + 1;
        END LOOP;
        UPDATE audit_chain_heads SET seq = h.seq, hash = h.hash WHERE org_key = k;
    END LOOP;
    RETURN n;
END $$;

-- Append-only, whoever asks (the owner too): UPDATE, DELETE and TRUNCATE are refused; the
-- one UPDATE let through on audit_log is the seal of a row not yet sealed, changing
-- nothing but seq and the hashes.
CREATE FUNCTION audit_append_only() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
    IF TG_OP = 'UPDATE' AND TG_TABLE_NAME = 'audit_log' THEN
        IF OLD.hash IS NULL AND NEW.hash IS NOT NULL
           AND to_jsonb(OLD) - '{seq,prev_hash,hash}'::text[] = to_jsonb(NEW) - '{seq,prev_hash,hash}'::text[] THEN
            RETURN NEW;
        END IF;
    END IF;
    RAISE EXCEPTION '% is append-only: % refused', TG_TABLE_NAME, TG_OP
        USING ERRCODE = 'insufficient_privilege';
END $$;
CREATE TRIGGER audit_log_append_only BEFORE UPDATE OR DELETE ON audit_log
    FOR EACH ROW EXECUTE FUNCTION audit_append_only();
CREATE TRIGGER audit_log_no_truncate BEFORE TRUNCATE ON audit_log
    FOR EACH STATEMENT EXECUTE FUNCTION audit_append_only();
CREATE TRIGGER request_events_append_only BEFORE UPDATE OR DELETE ON request_events
    FOR EACH ROW EXECUTE FUNCTION audit_append_only();
CREATE TRIGGER request_events_no_truncate BEFORE TRUNCATE ON request_events
    FOR EACH STATEMENT EXECUTE FUNCTION audit_append_only();

-- The audited tables.  request_events and custody_entries are not among them: each is
-- itself an append-only ledger (custody_entries hash-chained) written with the change of
-- the row (requests, custody_items) whose trigger records it.  Nor is bookkeeping written
-- by the workers: webhook events, deliveries and attempts, SLA and report alerts.
CREATE TRIGGER audit AFTER INSERT OR UPDATE OR DELETE ON organisations FOR EACH ROW EXECUTE FUNCTION audit_row('organisation', 'id');
CREATE TRIGGER audit AFTER INSERT OR UPDATE OR DELETE ON projects FOR EACH ROW EXECUTE FUNCTION audit_row('project', 'id');
CREATE TRIGGER audit AFTER INSERT OR UPDATE OR DELETE ON buildings FOR EACH ROW EXECUTE FUNCTION audit_row('building', 'id');
CREATE TRIGGER audit AFTER INSERT OR UPDATE OR DELETE ON units FOR EACH ROW EXECUTE FUNCTION audit_row('unit', 'id');
CREATE TRIGGER audit AFTER INSERT OR UPDATE OR DELETE ON departments FOR EACH ROW EXECUTE FUNCTION audit_row('department', 'id');
CREATE TRIGGER audit AFTER INSERT OR UPDATE OR DELETE ON residents FOR EACH ROW EXECUTE FUNCTION audit_row('resident', 'id');
CREATE TRIGGER audit AFTER INSERT OR UPDATE OR DELETE ON resident_units FOR EACH ROW EXECUTE FUNCTION audit_row('resident_unit', 'resident_id');
CREATE TRIGGER audit AFTER INSERT OR UPDATE OR DELETE ON users FOR EACH ROW EXECUTE FUNCTION audit_row('user', 'id', 'failed_logins', 'locked_until');
CREATE TRIGGER audit AFTER INSERT OR UPDATE OR DELETE ON user_projects FOR EACH ROW EXECUTE FUNCTION audit_row('user_project', 'user_id');
CREATE TRIGGER audit AFTER INSERT OR UPDATE OR DELETE ON requests FOR EACH ROW EXECUTE FUNCTION audit_row('request', 'id', 'sla_next_check', 'sla_next_due');
CREATE TRIGGER audit AFTER INSERT OR UPDATE OR DELETE ON work_orders FOR EACH ROW EXECUTE FUNCTION audit_row('work_order', 'id');
CREATE TRIGGER audit AFTER INSERT OR UPDATE OR DELETE ON request_comments FOR EACH ROW EXECUTE FUNCTION audit_row('comment', 'id');
CREATE TRIGGER audit AFTER INSERT OR UPDATE OR DELETE ON request_attachments FOR EACH ROW EXECUTE FUNCTION audit_row('attachment', 'id');
CREATE TRIGGER audit AFTER INSERT OR UPDATE OR DELETE ON sla_calendars FOR EACH ROW EXECUTE FUNCTION audit_row('sla_calendar', 'id');
CREATE TRIGGER audit AFTER INSERT OR UPDATE OR DELETE ON sla_calendar_versions FOR EACH ROW EXECUTE FUNCTION audit_row('sla_calendar_version', 'id');
CREATE TRIGGER audit AFTER INSERT OR UPDATE OR DELETE ON sla_policies FOR EACH ROW EXECUTE FUNCTION audit_row('sla_policy', 'id');
CREATE TRIGGER audit AFTER INSERT OR UPDATE OR DELETE ON sla_policy_versions FOR EACH ROW EXECUTE FUNCTION audit_row('sla_policy_version', 'id');
CREATE TRIGGER audit AFTER INSERT OR UPDATE OR DELETE ON sla_extensions FOR EACH ROW EXECUTE FUNCTION audit_row('extension', 'id');
CREATE TRIGGER audit AFTER INSERT OR UPDATE OR DELETE ON webhooks FOR EACH ROW EXECUTE FUNCTION audit_row('webhook', 'id');
CREATE TRIGGER audit AFTER INSERT OR UPDATE OR DELETE ON monthly_reports FOR EACH ROW EXECUTE FUNCTION audit_row('report', 'id');
CREATE TRIGGER audit AFTER INSERT OR UPDATE OR DELETE ON imports FOR EACH ROW EXECUTE FUNCTION audit_row('import', 'id');
CREATE TRIGGER audit AFTER INSERT OR UPDATE OR DELETE ON custody_items FOR EACH ROW EXECUTE FUNCTION audit_row('custody_item', 'id');

-- The service's database role (scripts/run.sh logs in as a member of it): everything it
-- needs, but only INSERT and SELECT on the append-only tables.  CREATE ROLE needs the
-- CREATEROLE privilege: without it the role is skipped with a notice (the triggers above
-- refuse UPDATE/DELETE anyway), and a later run by a privileged user adds it.
DO $$
BEGIN
    IF NOT EXISTS (SELECT 1 FROM pg_roles WHERE rolname = 'deskd_app') THEN
        CREATE ROLE deskd_app NOLOGIN;
    END IF;
    -- CREATE: next_number() makes a sequence per (project, year, prefix) on first use.
    GRANT USAGE, CREATE ON SCHEMA public TO deskd_app;
    GRANT SELECT, INSERT, UPDATE, DELETE ON ALL TABLES IN SCHEMA public TO deskd_app;
    GRANT USAGE, SELECT, UPDATE ON ALL SEQUENCES IN SCHEMA public TO deskd_app;
    REVOKE UPDATE, DELETE, TRUNCATE ON audit_log, request_events FROM deskd_app;
    REVOKE INSERT, UPDATE, DELETE, TRUNCATE ON audit_chain_heads FROM deskd_app;
    ALTER DEFAULT PRIVILEGES IN SCHEMA public GRANT SELECT, INSERT, UPDATE, DELETE ON TABLES TO deskd_app;
    ALTER DEFAULT PRIVILEGES IN SCHEMA public GRANT USAGE, SELECT, UPDATE ON SEQUENCES TO deskd_app;
EXCEPTION WHEN insufficient_privilege THEN
    RAISE NOTICE 'role deskd_app not created or granted (%): run this migration''s DO block as a user with CREATEROLE', SQLERRM;
END $$;

INSERT INTO schema_version (version) VALUES (15);
