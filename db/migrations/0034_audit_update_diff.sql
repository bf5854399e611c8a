-- 0034: audit_row() diffs an UPDATE from the raw images and cleans only the changed columns.
-- audit_clean() keeps or drops a column by its name and masks a phone value by itself, so
-- cleaning just the columns whose raw value changed gives exactly the diff of cleaning both
-- whole images.  The SLA sweep's escalation rewrites a request (≈ 60 columns): the two full
-- cleanings were ~0.6 of its ~0.7 ms audit trigger (bench/bench_sweep.sh).  Same rows,
-- same diffs; INSERT and DELETE as 0033 left them (a create's image without defaults and
-- derived columns, arguments read in one loop).
CREATE OR REPLACE FUNCTION audit_row() RETURNS trigger
LANGUAGE plpgsql AS $$
DECLARE
    x text;
    skip text[] := '{}';
    leave_out text[] := ARRAY[TG_ARGV[1], 'org_id'];
    defaults jsonb;
    o jsonb;
    n jsonb;
    oj jsonb;
    nj jsonb;
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
        oj := to_jsonb(OLD);
    END IF;
    IF TG_OP <> 'DELETE' THEN
        nj := to_jsonb(NEW);
    END IF;
    IF TG_OP = 'UPDATE' THEN
        -- Only the columns whose raw value changed can differ once cleaned (audit_clean()
        -- keeps a column by its name and masks a value by itself): clean just those (0034;
        -- cleaning both whole images was most of the trigger's time on a wide row).
        SELECT jsonb_object_agg(e.k, oj -> e.k), jsonb_object_agg(e.k, e.v) INTO o, n
          FROM jsonb_each(nj) AS e(k, v) WHERE (oj -> e.k) IS DISTINCT FROM e.v;
        o := audit_clean(coalesce(o, '{}'), skip);
        n := audit_clean(coalesce(n, '{}'), skip);
        SELECT jsonb_build_object('before', jsonb_object_agg(k, o -> k), 'after', jsonb_object_agg(k, v))
          INTO d FROM jsonb_each(n) AS e(k, v) WHERE (o -> k) IS DISTINCT FROM v;
        IF d -> 'after' IS NULL OR d -> 'after' = 'null' THEN
            RETURN NULL;
        END IF;
    ELSIF TG_OP = 'INSERT' THEN
        d := audit_create_image(audit_clean(nj, skip), leave_out, defaults);
    ELSE
        o := audit_clean(oj, skip);
        d := jsonb_build_object('before', o);
    END IF;
    r := coalesce(nj, oj);
    -- One row per resource per run of writes in a transaction: an UPDATE following a write
    -- of the same resource in the same transaction (deskd.audit_last, transaction-local:
    -- {resource, id, audit row}) is merged into that write's row — into a create's image
    -- (then the final one), or an update's before (the first) / after (the last).
    rkey := TG_ARGV[0] || ':' || coalesce(r ->> TG_ARGV[1], '');
    prev_key := string_to_array(nullif(current_setting('deskd.audit_last', true), ''), '|');
    IF TG_OP = 'UPDATE' AND prev_key[1] = rkey THEN
        SELECT * INTO p FROM audit_log WHERE audit_log.id = prev_key[2]::bigint;
        IF p.action = TG_ARGV[0] || '.create' THEN
            d := audit_create_image(audit_clean(nj, skip), leave_out, defaults);
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

INSERT INTO schema_version (version) VALUES (34);
