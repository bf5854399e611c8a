-- 0024: fewer WAL bytes per write, one audit row per logical write (issue 14), webhook
-- delivery retention (issue 12).  The audit row of a create was the full row
-- image (for a request ~1.5 kB of JSON, half of it nulls and server-derived times), written
-- once by the trigger and a second time when the sealer sets its hash: ~5 kB of an 8–10 kB
-- create.  Measured by bench/bench_wal.sh (WAL bytes do not depend on the machine's load).

-- The create image: the row as audit_clean() keeps it, without its null columns (absent
-- means null in a create), without the columns the audit row names anyway (the resource id
-- column, org_id) and without the columns the table's trigger marks '~name' (derived by the
-- server from columns that are kept, e.g. a request's deadlines from its policy version and
-- received_at).  "digest" is the SHA-256 (hex) of the full cleaned image as jsonb text, so
-- the complete first version can be rebuilt (current row + the updates' "before" values)
-- and checked.
-- 1 when a row with this xmin was written by the current transaction (or one of its
-- subtransactions): the row is visible and its writer still in progress — another
-- transaction's uncommitted rows are never visible.  xmin is 32-bit: its epoch is the
-- current transaction's (or the one before, when the counter wrapped since).
CREATE FUNCTION audit_row_is_own(x xid) RETURNS boolean
LANGUAGE sql VOLATILE AS $$
    SELECT pg_xact_status((((c >> 32) - CASE WHEN x::text::bigint > (c & 4294967295) THEN 1 ELSE 0 END) << 32
                           | x::text::bigint)::text::xid8) = 'in progress'
      FROM (SELECT pg_current_xact_id()::text::bigint AS c) s $$;

-- Replaces the diff of an audit row the current transaction wrote and nobody has seen (one
-- logical write = one row: audit_row() merges a second update of the same resource into the
-- first).  SECURITY DEFINER: the service's role has no UPDATE on audit_log; the append-only
-- trigger lets this one change through for unsealed rows of the current transaction only.
CREATE FUNCTION audit_merge(p_id bigint, p_diff jsonb) RETURNS boolean
LANGUAGE plpgsql SECURITY DEFINER SET search_path = public, pg_temp AS $$
BEGIN
    UPDATE audit_log SET diff = p_diff WHERE id = p_id AND hash IS NULL AND audit_row_is_own(xmin);
    RETURN FOUND;
END $$;

CREATE OR REPLACE FUNCTION audit_append_only() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
    IF TG_OP = 'UPDATE' AND TG_TABLE_NAME = 'audit_log' THEN
        IF OLD.hash IS NULL AND NEW.hash IS NOT NULL
           AND to_jsonb(OLD) - '{seq,prev_hash,hash}'::text[] = to_jsonb(NEW) - '{seq,prev_hash,hash}'::text[] THEN
            RETURN NEW;
        END IF;
        -- audit_merge(): the diff of a row of this very transaction, not yet committed.
        IF OLD.hash IS NULL AND NEW.hash IS NULL AND to_jsonb(OLD) - 'diff' = to_jsonb(NEW) - 'diff'
           AND (SELECT audit_row_is_own(l.xmin) FROM audit_log l WHERE l.id = OLD.id) THEN
            RETURN NEW;
        END IF;
    END IF;
    RAISE EXCEPTION '% is append-only: % refused', TG_TABLE_NAME, TG_OP
        USING ERRCODE = 'insufficient_privilege';
END $$;

CREATE OR REPLACE FUNCTION audit_row() RETURNS trigger
LANGUAGE plpgsql AS $$
DECLARE
    args text[] := coalesce(TG_ARGV[2:], '{}');
    skip text[] := ARRAY(SELECT x FROM unnest(args) x WHERE x NOT LIKE '~%');
    derived text[] := ARRAY(SELECT substr(x, 2) FROM unnest(args) x WHERE x LIKE '~%');
    o jsonb;
    n jsonb;
    d jsonb;
    r jsonb;
    a jsonb := coalesce(nullif(current_setting('deskd.actor', true), '')::jsonb, '{}');
    rkey text;
    prev_key text[];
    p audit_log;
    b jsonb;
    newid bigint;
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
        d := jsonb_build_object('after', jsonb_strip_nulls(n) - (derived || ARRAY[TG_ARGV[1], 'org_id']),
                                'digest', encode(sha256(convert_to(n::text, 'UTF8')), 'hex'));
    ELSE
        d := jsonb_build_object('before', o);
    END IF;
    r := coalesce(to_jsonb(NEW), to_jsonb(OLD));
    -- One row per resource per run of writes in a transaction: an UPDATE following a write
    -- of the same resource in the same transaction (deskd.audit_last, transaction-local:
    -- {resource, id, audit row}) is merged into that write's row — into a create's image
    -- (then the final one), or an update's before (the first) / after (the last).
    rkey := TG_ARGV[0] || ':' || coalesce(r ->> TG_ARGV[1], '');
    prev_key := string_to_array(nullif(current_setting('deskd.audit_last', true), ''), '|');
    IF TG_OP = 'UPDATE' AND prev_key[1] = rkey THEN
        SELECT * INTO p FROM audit_log WHERE audit_log.id = prev_key[2]::bigint;
        IF p.action = TG_ARGV[0] || '.create' THEN
            d := jsonb_build_object('after', jsonb_strip_nulls(n) - (derived || ARRAY[TG_ARGV[1], 'org_id']),
                                    'digest', encode(sha256(convert_to(n::text, 'UTF8')), 'hex'));
        ELSIF p.action = TG_ARGV[0] || '.update' THEN
            b := (d -> 'before') || coalesce(p.diff -> 'before', '{}');
            SELECT jsonb_build_object('before', coalesce(jsonb_object_agg(e.k, b -> e.k), '{}'),
                                      'after', coalesce(jsonb_object_agg(e.k, e.v), '{}'))
              INTO d FROM jsonb_each(coalesce(p.diff -> 'after', '{}') || (d -> 'after')) AS e(k, v)
             WHERE (b -> e.k) IS DISTINCT FROM e.v;
        ELSE
            p := NULL;
        END IF;
        IF p.id IS NOT NULL AND audit_merge(p.id, d) THEN
            RETURN NULL;
        END IF;
    END IF;
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
            TG_ARGV[0], r ->> TG_ARGV[1], d)
    RETURNING audit_log.id INTO newid;
    PERFORM set_config('deskd.audit_last', rkey || '|' || newid, true);
    RETURN NULL;
END $$;

-- A request's deadlines and bookkeeping times are derived at creation from columns the image
-- keeps (received_at, the policy and calendar versions); its updates still show them.
DROP TRIGGER audit ON requests;
CREATE TRIGGER audit AFTER INSERT OR UPDATE OR DELETE ON requests FOR EACH ROW EXECUTE FUNCTION audit_row('request', 'id', 'sla_next_check', 'sla_next_due', '~created_at', '~last_event_at', '~due_first_response', '~due_resolution', '~due_answer', '~due_on_site', '~due_callback', '~due_handover', '~due_gm_report');

-- The chain index held an entry (seq NULL) for every unsealed row and a second one after the
-- seal; only sealed rows need it (uniqueness of seq per chain; the readers filter
-- seq IS NOT NULL).
DROP INDEX audit_log_chain;
CREATE UNIQUE INDEX audit_log_chain ON audit_log (coalesce(org_id, '00000000-0000-0000-0000-000000000000'::uuid), seq) WHERE seq IS NOT NULL;

-- The sealer rewrites each row once to set seq and the hashes (a non-HOT update: a new row
-- version).  When the new version fits on the same page, PostgreSQL logs only the bytes that
-- differ from the old one (the seal: ~150 bytes) instead of the whole row (~1 kB): half of
-- each page is left free for that.
ALTER TABLE audit_log SET (fillfactor = 50);

-- Webhook retention (issue 12): the janitor deletes deliveries delivered more than
-- DESK_WEBHOOK_RETENTION_DAYS (30) days ago, with their attempts, finding them here.
CREATE INDEX webhook_deliveries_delivered ON webhook_deliveries (delivered_at) WHERE state = 'delivered';

INSERT INTO schema_version (version) VALUES (24);
