-- 0033: less database work per request create (issue 14, bench/bench_wal.sh).
--
-- 1. A create's audit image leaves out what the row's own definition already says: besides
--    the nulls, the resource id, org_id and the '~' derived columns (0024), the columns that
--    hold their DEFAULT (trigger argument '={"col": default, ...}', NOT NULL columns only, so
--    an absent key is the default there and null elsewhere) — for a request its state
--    'received', validity 'unknown', night_desk / is_repeat false and the counters 0 — and a
--    request's first_receiver_id and owner_id ('~': both are created_by for a staff
--    creator, request_intake_flow()).  The digest is still the SHA-256 of the full cleaned
--    image, so an image rebuilt from defaults and derivations is checked against it.
--    Request create rows: 947 → ~700 bytes of diff.
-- 2. Cheaper per call (CPU per write): audit_clean() is PL/pgSQL, so its query is planned
--    once per session instead of at every call (a non-inlined SQL function is planned per
--    calling query), and it removes the left-out keys from the row (jsonb minus) and
--    overwrites the masked phones in one step instead of rebuilding the object key by key
--    with two regular expressions per key (LIKE on the names instead);
--    audit_row() splits its arguments with FOREACH instead of three
--    subqueries and reuses the cleaned image for the resource key and org_id instead of a
--    second to_jsonb() of the row.

CREATE OR REPLACE FUNCTION audit_clean(j jsonb, skip text[]) RETURNS jsonb
LANGUAGE plpgsql IMMUTABLE PARALLEL SAFE AS $$
DECLARE
    r jsonb := j - skip - '{updated_at,version}'::text[];
    secret text[];
    masked jsonb;
BEGIN
    SELECT array_agg(x) FILTER (WHERE s),
           jsonb_object_agg(x, mask_phone(r ->> x)) FILTER (WHERE NOT s AND jsonb_typeof(r -> x) = 'string')
      INTO secret, masked
      FROM (SELECT x, x LIKE ANY (ARRAY['%hash%', '%secret%', '%token%', '%id\_number%', '%password%',
                                        '%search\_terms%']) AS s
              FROM jsonb_object_keys(r) AS x) k
     WHERE s OR x LIKE '%phone%';
    RETURN (r - coalesce(secret, '{}')) || coalesce(masked, '{}');
END $$;

-- A create's image: the non-null kept columns but the resource key, org_id, the derived
-- columns and the columns holding their default; and the digest of the full cleaned image.
CREATE FUNCTION audit_create_image(n jsonb, leave_out text[], defaults jsonb) RETURNS jsonb
LANGUAGE plpgsql IMMUTABLE PARALLEL SAFE AS $$
DECLARE
    a jsonb := jsonb_strip_nulls(n) - leave_out;
BEGIN
    IF defaults IS NOT NULL THEN
        a := a - ARRAY(SELECT k FROM jsonb_each(defaults) AS e(k, v) WHERE a -> k = v);
    END IF;
    RETURN jsonb_build_object('after', a, 'digest', encode(sha256(convert_to(n::text, 'UTF8')), 'hex'));
END $$;

-- The row trigger of every audited table.  TG_ARGV: [0] resource type, [1] the column that
-- names the resource, [2..] columns left out of the diff ('~name': left out of a create's
-- image only, derived from kept columns; '={...}': a JSON object of NOT NULL columns and
-- their defaults, left out of a create's image when they hold it).  An UPDATE that changes
-- nothing kept (a login resetting failed_logins) writes no row.  A create's diff is
-- {"after": the non-null kept columns but the resource id, org_id, the derived ones and
-- those at their default, "digest": SHA-256 of the full cleaned image}.
CREATE OR REPLACE FUNCTION audit_row() RETURNS trigger
LANGUAGE plpgsql AS $$
DECLARE
    x text;
    skip text[] := '{}';
    leave_out text[] := ARRAY[TG_ARGV[1], 'org_id'];
    defaults jsonb;
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
    FOREACH x IN ARRAY coalesce(TG_ARGV[2:], '{}') LOOP
        IF left(x, 1) = '~' THEN
            leave_out := leave_out || substr(x, 2);
        ELSIF left(x, 1) = '=' THEN
            defaults := substr(x, 2)::jsonb;
        ELSE
            skip := skip || x;
        END IF;
    END LOOP;
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
        d := audit_create_image(n, leave_out, defaults);
    ELSE
        d := jsonb_build_object('before', o);
    END IF;
    -- The resource key and org_id: the cleaned image keeps both (neither is a secret nor
    -- ever skipped); the raw row only for a table without them.
    r := coalesce(n, o);
    IF NOT (r ? TG_ARGV[1] AND r ? 'org_id') THEN
        r := coalesce(to_jsonb(NEW), to_jsonb(OLD));
    END IF;
    -- One row per resource per run of writes in a transaction: an UPDATE following a write
    -- of the same resource in the same transaction (deskd.audit_last, transaction-local:
    -- {resource, id, audit row}) is merged into that write's row — into a create's image
    -- (then the final one), or an update's before (the first) / after (the last).
    rkey := TG_ARGV[0] || ':' || coalesce(r ->> TG_ARGV[1], '');
    prev_key := string_to_array(nullif(current_setting('deskd.audit_last', true), ''), '|');
    IF TG_OP = 'UPDATE' AND prev_key[1] = rkey THEN
        SELECT * INTO p FROM audit_log WHERE audit_log.id = prev_key[2]::bigint;
        IF p.action = TG_ARGV[0] || '.create' THEN
            d := audit_create_image(n, leave_out, defaults);
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

-- A request: first_receiver_id and owner_id are derived at intake from created_by (and the
-- creator's role); state, validity, night_desk, is_repeat and the counters start at their
-- defaults.
DROP TRIGGER audit ON requests;
CREATE TRIGGER audit AFTER INSERT OR UPDATE OR DELETE ON requests FOR EACH ROW EXECUTE FUNCTION audit_row('request', 'id', 'sla_next_check', 'sla_next_due', '~created_at', '~last_event_at', '~due_first_response', '~due_resolution', '~due_answer', '~due_on_site', '~due_callback', '~due_handover', '~due_gm_report', '~first_receiver_id', '~owner_id', '={"state": "received", "validity": "unknown", "night_desk": false, "is_repeat": false, "reopen_count": 0, "escalation_level": 0}');

INSERT INTO schema_version (version) VALUES (33);
