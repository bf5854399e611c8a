-- 0045: the references on the create and sweep paths are checked without a row lock
-- (issue 14: database work per create and per escalation, bench/bench_wal.sh).
--
-- A foreign key checks each new child row with `SELECT 1 FROM parent … FOR KEY SHARE`: a
-- row lock, so that nobody deletes the parent or changes its key before the child commits.
-- On deskd's hottest paths that lock is pure cost:
--   * every create share-locks its project's and its unit's row — a Heap/LOCK WAL record
--     each, and, with concurrent creates on one project, a new MultiXact for the project row
--     every time (0.76 per create at 64 clients, each copying the member list) — and
--     share-locks its own new row again for its `create` timeline event;
--   * every escalation of the SLA sweep runs four such checks (alert, timeline event,
--     notification → request, notification → user), one SPI query per row.
-- The parents — projects, units, users, requests — are never deleted and their keys never
-- change: deskd has no route that deletes one (users are deactivated, units change status,
-- requests are closed), and records are kept for years.  Triggers below make that a rule
-- of the database (a DELETE, a TRUNCATE or a change of id / org_id is refused), and with it
-- the lock has nothing left to protect: a parent that exists when the child is checked
-- exists for good.  The checks themselves stay, as set-based queries once per statement
-- (a batch of 500 alerts is one anti-join), and raise what a foreign key raises — SQLSTATE
-- 23503 with the same constraint name, message and detail — so clients see no difference.
--
-- References that keep their foreign key: everything else, including requests → residents
-- (residents may be removed) and requests → departments.  A retention purge (RULES rule 8: nothing
-- hard-deleted before its retention period) does not exist; one that is added has to delete
-- a request's timeline, alerts and notifications itself, and change these triggers to let it.

-- The error a foreign key raises, for the checks below.
CREATE FUNCTION ref_violation(child text, con text, cols text, vals text, parent text)
RETURNS void LANGUAGE plpgsql AS $$
BEGIN
    RAISE EXCEPTION 'insert or update on table "%" violates foreign key constraint "%"', child, con
        USING ERRCODE = 'foreign_key_violation', CONSTRAINT = con, TABLE = child,
              DETAIL = format('Key (%s)=(%s) is not present in table "%s".', cols, vals, parent);
END
$$;

-- Parents: never deleted, never truncated, keys never changed.
CREATE FUNCTION ref_parent_keep() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF TG_OP = 'UPDATE' THEN
        IF NEW.id IS NOT DISTINCT FROM OLD.id AND NEW.org_id IS NOT DISTINCT FROM OLD.org_id THEN
            RETURN NEW;
        END IF;
        RAISE EXCEPTION 'the id and org_id of % rows never change', TG_TABLE_NAME
            USING ERRCODE = 'restrict_violation', TABLE = TG_TABLE_NAME,
                  HINT = 'other rows refer to them without a row lock (migration 0045)';
    END IF;
    RAISE EXCEPTION '% rows are never deleted', TG_TABLE_NAME
        USING ERRCODE = 'restrict_violation', TABLE = TG_TABLE_NAME,
              HINT = 'other rows refer to them without a row lock (migration 0045)';
END
$$;

CREATE TRIGGER ref_parent_keep BEFORE DELETE OR UPDATE OF id, org_id ON projects
    FOR EACH ROW EXECUTE FUNCTION ref_parent_keep();
CREATE TRIGGER ref_parent_keep BEFORE DELETE OR UPDATE OF id, org_id ON units
    FOR EACH ROW EXECUTE FUNCTION ref_parent_keep();
CREATE TRIGGER ref_parent_keep BEFORE DELETE OR UPDATE OF id, org_id ON users
    FOR EACH ROW EXECUTE FUNCTION ref_parent_keep();
CREATE TRIGGER ref_parent_keep BEFORE DELETE OR UPDATE OF id, org_id ON requests
    FOR EACH ROW EXECUTE FUNCTION ref_parent_keep();
CREATE TRIGGER ref_parent_no_truncate BEFORE TRUNCATE ON projects
    FOR EACH STATEMENT EXECUTE FUNCTION ref_parent_keep();
CREATE TRIGGER ref_parent_no_truncate BEFORE TRUNCATE ON units
    FOR EACH STATEMENT EXECUTE FUNCTION ref_parent_keep();
CREATE TRIGGER ref_parent_no_truncate BEFORE TRUNCATE ON users
    FOR EACH STATEMENT EXECUTE FUNCTION ref_parent_keep();
CREATE TRIGGER ref_parent_no_truncate BEFORE TRUNCATE ON requests
    FOR EACH STATEMENT EXECUTE FUNCTION ref_parent_keep();

-- requests → projects, units, users (reporter, assignee), requests (repeat_of).
-- Inserted rows: once per statement over the statement's rows, one query of outer joins
-- (index probes; NOT EXISTS under OR would be sub-plans that hash whole parent tables).  Only
-- a violation looks at which reference it was.
CREATE FUNCTION requests_refs_inserted() RETURNS trigger LANGUAGE plpgsql AS $$
DECLARE
    r record;
BEGIN
    FOR r IN
        SELECT n.org_id, n.project_id, n.unit_id, n.reporter_user_id, n.assignee_id, n.repeat_of
        FROM new_rows n
        LEFT JOIN projects p ON p.org_id = n.org_id AND p.id = n.project_id
        LEFT JOIN units u ON u.org_id = n.org_id AND u.id = n.unit_id
        LEFT JOIN users ur ON ur.org_id = n.org_id AND ur.id = n.reporter_user_id
        LEFT JOIN users ua ON ua.org_id = n.org_id AND ua.id = n.assignee_id
        LEFT JOIN requests q ON q.org_id = n.org_id AND q.id = n.repeat_of
        WHERE p.id IS NULL OR (n.unit_id IS NOT NULL AND u.id IS NULL)
           OR (n.reporter_user_id IS NOT NULL AND ur.id IS NULL)
           OR (n.assignee_id IS NOT NULL AND ua.id IS NULL)
           OR (n.repeat_of IS NOT NULL AND q.id IS NULL)
        LIMIT 1
    LOOP
        PERFORM requests_refs_check(r.org_id, r.project_id, r.unit_id, r.reporter_user_id,
                                    r.assignee_id, r.repeat_of);
    END LOOP;
    RETURN NULL;
END
$$;

-- One row's references, each on its own, raising for the first one missing.
CREATE FUNCTION requests_refs_check(o uuid, project uuid, unit uuid, reporter uuid,
                                    assignee uuid, repeat uuid)
RETURNS void LANGUAGE plpgsql AS $$
BEGIN
    IF NOT EXISTS (SELECT 1 FROM projects p WHERE p.org_id = o AND p.id = project) THEN
        PERFORM ref_violation('requests', 'requests_org_id_project_id_fkey', 'org_id, project_id',
                              o || ', ' || coalesce(project::text, ''), 'projects');
    END IF;
    IF unit IS NOT NULL AND NOT EXISTS (SELECT 1 FROM units u WHERE u.org_id = o AND u.id = unit) THEN
        PERFORM ref_violation('requests', 'requests_org_id_unit_id_fkey', 'org_id, unit_id',
                              o || ', ' || unit, 'units');
    END IF;
    IF reporter IS NOT NULL AND NOT EXISTS (SELECT 1 FROM users u WHERE u.org_id = o AND u.id = reporter) THEN
        PERFORM ref_violation('requests', 'requests_org_id_reporter_user_id_fkey',
                              'org_id, reporter_user_id', o || ', ' || reporter, 'users');
    END IF;
    IF assignee IS NOT NULL AND NOT EXISTS (SELECT 1 FROM users u WHERE u.org_id = o AND u.id = assignee) THEN
        PERFORM ref_violation('requests', 'requests_org_id_assignee_id_fkey',
                              'org_id, assignee_id', o || ', ' || assignee, 'users');
    END IF;
    IF repeat IS NOT NULL AND NOT EXISTS (SELECT 1 FROM requests q WHERE q.org_id = o AND q.id = repeat) THEN
        PERFORM ref_violation('requests', 'requests_org_id_repeat_of_fkey', 'org_id, repeat_of',
                              o || ', ' || repeat, 'requests');
    END IF;
END
$$;

-- Updated rows: only when a reference changes (an escalation or a state change never
-- fires it).
CREATE FUNCTION requests_refs_updated() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    PERFORM requests_refs_check(NEW.org_id, NEW.project_id, NEW.unit_id, NEW.reporter_user_id,
                                NEW.assignee_id, NEW.repeat_of);
    RETURN NULL;
END
$$;

ALTER TABLE requests
    DROP CONSTRAINT requests_org_id_project_id_fkey,
    DROP CONSTRAINT requests_org_id_unit_id_fkey,
    DROP CONSTRAINT requests_org_id_reporter_user_id_fkey,
    DROP CONSTRAINT requests_org_id_assignee_id_fkey,
    DROP CONSTRAINT requests_org_id_repeat_of_fkey;
CREATE TRIGGER ref_check_insert AFTER INSERT ON requests
    REFERENCING NEW TABLE AS new_rows
    FOR EACH STATEMENT EXECUTE FUNCTION requests_refs_inserted();
CREATE TRIGGER ref_check_update AFTER UPDATE OF org_id, project_id, unit_id, reporter_user_id,
    assignee_id, repeat_of ON requests FOR EACH ROW
    WHEN (NEW.org_id IS DISTINCT FROM OLD.org_id OR NEW.project_id IS DISTINCT FROM OLD.project_id
          OR NEW.unit_id IS DISTINCT FROM OLD.unit_id
          OR NEW.reporter_user_id IS DISTINCT FROM OLD.reporter_user_id
          OR NEW.assignee_id IS DISTINCT FROM OLD.assignee_id
          OR NEW.repeat_of IS DISTINCT FROM OLD.repeat_of)
    EXECUTE FUNCTION requests_refs_updated();

-- request_events, sla_alerts → requests; notifications → users, requests.  Their
-- references are written once: an UPDATE that would change one is refused (request_events
-- refuses every UPDATE already).
CREATE FUNCTION ref_child_key_fixed() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    RAISE EXCEPTION 'the references of % rows never change', TG_TABLE_NAME
        USING ERRCODE = 'restrict_violation', TABLE = TG_TABLE_NAME;
END
$$;

-- request_events and sla_alerts: one function (PL/pgSQL keeps its plans per trigger).
CREATE FUNCTION request_child_refs_inserted() RETURNS trigger LANGUAGE plpgsql AS $$
DECLARE
    r record;
BEGIN
    FOR r IN
        SELECT n.org_id, n.request_id FROM new_rows n
        WHERE NOT EXISTS (SELECT 1 FROM requests q WHERE q.org_id = n.org_id AND q.id = n.request_id)
        LIMIT 1
    LOOP
        PERFORM ref_violation(TG_TABLE_NAME, TG_TABLE_NAME || '_org_id_request_id_fkey',
                              'org_id, request_id', r.org_id || ', ' || r.request_id, 'requests');
    END LOOP;
    RETURN NULL;
END
$$;

CREATE FUNCTION notifications_refs_inserted() RETURNS trigger LANGUAGE plpgsql AS $$
DECLARE
    r record;
BEGIN
    FOR r IN
        SELECT n.org_id, n.user_id, n.request_id, u.id IS NULL AS no_user
        FROM new_rows n
        LEFT JOIN users u ON u.org_id = n.org_id AND u.id = n.user_id
        LEFT JOIN requests q ON q.org_id = n.org_id AND q.id = n.request_id
        WHERE u.id IS NULL OR (n.request_id IS NOT NULL AND q.id IS NULL)
        LIMIT 1
    LOOP
        IF r.no_user THEN
            PERFORM ref_violation('notifications', 'notifications_org_id_user_id_fkey',
                                  'org_id, user_id', r.org_id || ', ' || coalesce(r.user_id::text, ''), 'users');
        END IF;
        PERFORM ref_violation('notifications', 'notifications_org_id_request_id_fkey',
                              'org_id, request_id', r.org_id || ', ' || r.request_id, 'requests');
    END LOOP;
    RETURN NULL;
END
$$;

ALTER TABLE request_events DROP CONSTRAINT request_events_org_id_request_id_fkey;
CREATE TRIGGER ref_check_insert AFTER INSERT ON request_events
    REFERENCING NEW TABLE AS new_rows
    FOR EACH STATEMENT EXECUTE FUNCTION request_child_refs_inserted();

ALTER TABLE sla_alerts DROP CONSTRAINT sla_alerts_org_id_request_id_fkey;
CREATE TRIGGER ref_check_insert AFTER INSERT ON sla_alerts
    REFERENCING NEW TABLE AS new_rows
    FOR EACH STATEMENT EXECUTE FUNCTION request_child_refs_inserted();
CREATE TRIGGER ref_key_fixed BEFORE UPDATE OF org_id, request_id ON sla_alerts FOR EACH ROW
    WHEN (NEW.org_id IS DISTINCT FROM OLD.org_id OR NEW.request_id IS DISTINCT FROM OLD.request_id)
    EXECUTE FUNCTION ref_child_key_fixed();

ALTER TABLE notifications
    DROP CONSTRAINT notifications_org_id_user_id_fkey,
    DROP CONSTRAINT notifications_org_id_request_id_fkey;
CREATE TRIGGER ref_check_insert AFTER INSERT ON notifications
    REFERENCING NEW TABLE AS new_rows
    FOR EACH STATEMENT EXECUTE FUNCTION notifications_refs_inserted();
CREATE TRIGGER ref_key_fixed BEFORE UPDATE OF org_id, user_id, request_id ON notifications FOR EACH ROW
    WHEN (NEW.org_id IS DISTINCT FROM OLD.org_id OR NEW.user_id IS DISTINCT FROM OLD.user_id
          OR NEW.request_id IS DISTINCT FROM OLD.request_id)
    EXECUTE FUNCTION ref_child_key_fixed();

INSERT INTO schema_version (version) VALUES (45);
