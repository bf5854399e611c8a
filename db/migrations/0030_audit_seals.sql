-- 0030: the audit chain's seals live in a narrow side table (issue 14).  The sealer used to
-- UPDATE every audit_log row to set seq, prev_hash and hash: a second row version (logged as
-- a diff thanks to fillfactor 50, which cost twice the disk) and a second entry in each of
-- audit_log's indexes.  Now audit_log is insert-only and the seal is a narrow row of
-- audit_seals (id, seq, prev_hash, hash; the hashes as 32 bytes, not 64 hex characters) — the
-- chain semantics are unchanged (seq per
-- organisation in seal order, hash = SHA-256(prev_hash ‖ canonical row), the same canonical
-- text, so the seals written before this migration still verify).  Measured with
-- bench/bench_wal.sh.

-- No writer may hold an unsealed row we cannot see while the seals move and the
-- watermark below starts.
LOCK TABLE audit_log IN SHARE MODE;

-- One row per sealed audit_log row (its id), hashes as bytes.  No foreign key to audit_log:
-- its check would lock the audit row (a WAL record per seal); only audit_seal_pending()
-- writes here, with ids read from audit_log.  No index on (organisation, seq): seq is unique
-- per chain because only the holder of the chain head's row lock seals, and verify reads a
-- whole chain anyway (through audit_log_list); one index entry fewer per audit row.
CREATE TABLE audit_seals (
    id         bigint  PRIMARY KEY,
    seq        bigint  NOT NULL,
    prev_hash  bytea,
    hash       bytea   NOT NULL
);

-- Where the sealer looks for unsealed rows: every audit_log row with an id below low is
-- sealed or never commits.  next_low (the greatest id visible at one sealer run, plus one)
-- becomes low once every transaction that was running then has ended (the current
-- snapshot's xmin has passed next_after, that run's snapshot xmax), because then every row
-- with a smaller id is visible or rolled back for good: ids are handed out in time order
-- and every writer of audit_log holds a transaction id before it takes one (audit_row() is
-- an AFTER trigger of a write; audit_event() asks for its transaction id first).
CREATE TABLE audit_seal_state (
    one         boolean PRIMARY KEY DEFAULT true CHECK (one),
    low         bigint  NOT NULL,
    next_low    bigint,
    next_after  xid8
);

INSERT INTO audit_seals (id, seq, prev_hash, hash)
SELECT id, seq, decode(prev_hash, 'hex'), decode(hash, 'hex') FROM audit_log WHERE seq IS NOT NULL;
INSERT INTO audit_seal_state (low)
SELECT coalesce((SELECT min(id) FROM audit_log WHERE hash IS NULL),
                (SELECT max(id) + 1 FROM audit_log), 1);

-- The canonical text takes the seq apart (the row has no seq any more); same text as before.
DROP FUNCTION audit_canonical(audit_log);
CREATE FUNCTION audit_canonical(a audit_log, seq bigint) RETURNS text
LANGUAGE sql STABLE PARALLEL SAFE AS
$$ SELECT jsonb_build_array(seq, a.org_id, rfc3339(a.at), a.actor_user_id, a.actor_role,
                            a.actor_system, a.request_id, a.client_addr, a.action,
                            a.resource_type, a.resource_id, a.diff, a.result)::text $$;

DROP INDEX audit_log_chain;
DROP INDEX audit_log_unsealed;
ALTER TABLE audit_log DROP COLUMN seq, DROP COLUMN prev_hash, DROP COLUMN hash;
-- Insert-only now: pages are filled (fillfactor 50 made room for the seal's row version).
ALTER TABLE audit_log RESET (fillfactor);

-- The only UPDATE left on audit_log is audit_merge()'s (a row of the current transaction,
-- not committed, hence not sealed); audit_seals is append-only.
CREATE OR REPLACE FUNCTION audit_merge(p_id bigint, p_diff jsonb) RETURNS boolean
LANGUAGE plpgsql SECURITY DEFINER SET search_path = public, pg_temp AS $$
BEGIN
    UPDATE audit_log SET diff = p_diff WHERE id = p_id AND audit_row_is_own(xmin);
    RETURN FOUND;
END $$;

CREATE OR REPLACE FUNCTION audit_append_only() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
    -- audit_merge(): the diff of a row of this very transaction, not yet committed.
    IF TG_OP = 'UPDATE' AND TG_TABLE_NAME = 'audit_log' AND to_jsonb(OLD) - 'diff' = to_jsonb(NEW) - 'diff'
       AND (SELECT audit_row_is_own(l.xmin) FROM audit_log l WHERE l.id = OLD.id) THEN
        RETURN NEW;
    END IF;
    RAISE EXCEPTION '% is append-only: % refused', TG_TABLE_NAME, TG_OP
        USING ERRCODE = 'insufficient_privilege';
END $$;
CREATE TRIGGER audit_seals_append_only BEFORE UPDATE OR DELETE ON audit_seals
    FOR EACH ROW EXECUTE FUNCTION audit_append_only();
CREATE TRIGGER audit_seals_no_truncate BEFORE TRUNCATE ON audit_seals
    FOR EACH STATEMENT EXECUTE FUNCTION audit_append_only();

-- The watermark needs every writer to hold a transaction id before its row takes an id.
CREATE OR REPLACE FUNCTION audit_event(p_org uuid, p_user uuid, p_role text, p_action text,
                                       p_result text, p_detail jsonb) RETURNS void
LANGUAGE plpgsql AS $$
DECLARE
    a jsonb := coalesce(nullif(current_setting('deskd.actor', true), '')::jsonb, '{}');
BEGIN
    PERFORM pg_current_xact_id();
    INSERT INTO audit_log (org_id, actor_user_id, actor_role, actor_system, request_id,
                           client_addr, action, resource_type, resource_id, diff, result)
    VALUES (p_org, coalesce((a ->> 'u')::uuid, p_user), coalesce(a ->> 'r', p_role),
            CASE WHEN coalesce(a ->> 'u', p_user::text) IS NOT NULL THEN NULL
                 WHEN a ? 's' THEN 'system:' || (a ->> 's') ELSE 'anonymous' END,
            a ->> 'q', a ->> 'a', p_action, 'session', p_user::text,
            coalesce(p_detail, '{}'), p_result);
END $$;

-- As before (0015), but a seal is a row of audit_seals, unsealed rows are those at or above
-- the watermark without one, and each call moves the watermark on (see audit_seal_state).
CREATE OR REPLACE FUNCTION audit_seal_pending(p_max int) RETURNS int
LANGUAGE plpgsql SECURITY DEFINER SET search_path = public, pg_temp AS $$
DECLARE
    zero constant uuid := '00000000-0000-0000-0000-000000000000';
    st audit_seal_state;
    k uuid;
    h audit_chain_heads;
    x audit_log;
    hx text;
    cand bigint;
    n int := 0;
BEGIN
    SELECT * INTO st FROM audit_seal_state;
    FOR k IN SELECT DISTINCT coalesce(s.org_id, zero)
               FROM (SELECT a.org_id FROM audit_log a
                      WHERE a.id >= st.low AND NOT EXISTS (SELECT 1 FROM audit_seals z WHERE z.id = a.id)
                      ORDER BY a.id LIMIT greatest(p_max, 0)) s LOOP
        EXIT WHEN n >= p_max;
        IF NOT EXISTS (SELECT 1 FROM audit_chain_heads WHERE org_key = k) THEN
            INSERT INTO audit_chain_heads (org_key) VALUES (k) ON CONFLICT DO NOTHING;
        END IF;
        SELECT * INTO h FROM audit_chain_heads WHERE org_key = k FOR UPDATE SKIP LOCKED;
        CONTINUE WHEN NOT FOUND;
        FOR x IN SELECT * FROM audit_log a
                  WHERE a.id >= st.low AND coalesce(a.org_id, zero) = k
                    AND NOT EXISTS (SELECT 1 FROM audit_seals z WHERE z.id = a.id)
                  ORDER BY a.id LIMIT p_max - n LOOP
            hx := audit_hash(h.hash, audit_canonical(x, h.seq + 1));
            INSERT INTO audit_seals (id, seq, prev_hash, hash)
            VALUES (x.id, h.seq + 1, decode(h.hash, 'hex'), decode(hx, 'hex'));
            h.seq := h.seq + 1;
            h.hash := hx;
            n := n + 1;
        END LOOP;
        UPDATE audit_chain_heads SET seq = h.seq, hash = h.hash WHERE org_key = k;
    END LOOP;

    -- The watermark (one row; its lock orders concurrent sealers).
    SELECT * INTO st FROM audit_seal_state FOR UPDATE;
    IF st.next_after IS NOT NULL AND pg_snapshot_xmin(pg_current_snapshot()) >= st.next_after THEN
        SELECT min(a.id) INTO cand FROM audit_log a
         WHERE a.id >= st.low AND a.id < st.next_low
           AND NOT EXISTS (SELECT 1 FROM audit_seals z WHERE z.id = a.id);
        UPDATE audit_seal_state SET low = greatest(low, coalesce(cand, st.next_low)),
                                    next_low = NULL, next_after = NULL;
        st.next_after := NULL;
    END IF;
    IF st.next_after IS NULL THEN
        UPDATE audit_seal_state s SET next_low = v.m, next_after = v.x
          FROM (SELECT (SELECT max(id) + 1 FROM audit_log) AS m,
                       pg_snapshot_xmax(pg_current_snapshot()) AS x) v
         WHERE v.m IS NOT NULL AND v.m > s.low;
    END IF;
    RETURN n;
END $$;

-- The service's role reads the seals; only audit_seal_pending() (SECURITY DEFINER) writes.
DO $$
BEGIN
    IF EXISTS (SELECT 1 FROM pg_roles WHERE rolname = 'deskd_app') THEN
        GRANT SELECT ON audit_seals, audit_seal_state TO deskd_app;
        REVOKE INSERT, UPDATE, DELETE, TRUNCATE ON audit_seals, audit_seal_state FROM deskd_app;
    END IF;
EXCEPTION WHEN insufficient_privilege THEN
    RAISE NOTICE 'grants on audit_seals not changed (%): run this migration''s DO block as a user with CREATEROLE', SQLERRM;
END $$;

INSERT INTO schema_version (version) VALUES (30);
