/*
 * db/demo.c — the demo organisation: one project (Asia/Shanghai, desk hours 09:00–20:00),
 * two buildings, units, residents, the departments 客服部 / 工程部 / 保安部, one user for
 * every role, and two key sets (the control room's management-area keys; 1-101's sealed
 * keys).  Parameterised by organisation code and username prefix so tests can create a
 * second, independent organisation the same way.
 */
#include "db/demo.h"

#include <stdio.h>
#include <string.h>

static const char seed_fn[] =
    "CREATE OR REPLACE FUNCTION pg_temp.desk_seed(p_code text, p_name text, p_prefix text, "
    "p_hash text) RETURNS uuid LANGUAGE plpgsql AS $f$\n"
    "DECLARE o uuid; p uuid; b1 uuid; b2 uuid; d_cs uuid; d_eng uuid; d_sec uuid;\n"
    "  u101 uuid; u102 uuid; u201 uuid; u2101 uuid; u2102 uuid; r1 uuid; r1b uuid; r2 uuid;\n"
    "  rl text; uid uuid; k uuid;\n"
    "BEGIN\n"
    "  SELECT id INTO o FROM organisations WHERE code = p_code;\n"
    "  IF FOUND THEN RETURN NULL; END IF;\n"
    "  INSERT INTO organisations (code, name, phone) VALUES (p_code, p_name, '400-800-1234') "
    "RETURNING id INTO o;\n"
    "  INSERT INTO projects (org_id, code, name, time_zone, business_hours, address, phone) "
    "VALUES (o, 'SUNRISE', '阳光花园', 'Asia/Shanghai', "
    "'{\"mon\":[[\"09:00\",\"20:00\"]],\"tue\":[[\"09:00\",\"20:00\"]],\"wed\":[[\"09:00\","
    "\"20:00\"]],\"thu\":[[\"09:00\",\"20:00\"]],\"fri\":[[\"09:00\",\"20:00\"]],\"sat\":[["
    "\"09:00\",\"20:00\"]],\"sun\":[[\"09:00\",\"20:00\"]]}', '深圳市南山区阳光路1号', "
    "'0755-88886666') RETURNING id INTO p;\n"
    "  INSERT INTO buildings (org_id, project_id, code, name, floors) VALUES (o, p, 'B1', "
    "'1栋', 18) RETURNING id INTO b1;\n"
    "  INSERT INTO buildings (org_id, project_id, code, name, floors) VALUES (o, p, 'B2', "
    "'2栋', 12) RETURNING id INTO b2;\n"
    "  INSERT INTO units (org_id, project_id, building_id, code, floor, area_m2) VALUES "
    "(o, p, b1, '1-101', 1, 89.5) RETURNING id INTO u101;\n"
    "  INSERT INTO units (org_id, project_id, building_id, code, floor, area_m2) VALUES "
    "(o, p, b1, '1-102', 1, 120) RETURNING id INTO u102;\n"
    "  INSERT INTO units (org_id, project_id, building_id, code, floor, area_m2, status) VALUES "
    "(o, p, b1, '1-201', 2, 89.5, 'vacant') RETURNING id INTO u201;\n"
    "  INSERT INTO units (org_id, project_id, building_id, code, floor, area_m2, status) VALUES "
    "(o, p, b2, '2-101', 1, 76, 'rented') RETURNING id INTO u2101;\n"
    "  INSERT INTO units (org_id, project_id, building_id, code, floor, area_m2) VALUES "
    "(o, p, b2, '2-102', 1, 76) RETURNING id INTO u2102;\n"
    "  INSERT INTO departments (org_id, project_id, kind, name, phone) VALUES "
    "(o, p, 'customer_service', '客服部', '0755-88886666') RETURNING id INTO d_cs;\n"
    "  INSERT INTO departments (org_id, project_id, kind, name) VALUES "
    "(o, p, 'engineering', '工程部') RETURNING id INTO d_eng;\n"
    "  INSERT INTO departments (org_id, project_id, kind, name) VALUES "
    "(o, p, 'security', '保安部') RETURNING id INTO d_sec;\n"
    "  INSERT INTO residents (org_id, project_id, name, phone) VALUES "
    "(o, p, '张伟', '13800138001') RETURNING id INTO r1;\n"
    "  INSERT INTO residents (org_id, project_id, name, phone) VALUES "
    "(o, p, '张小明', '13800138003') RETURNING id INTO r1b;\n"
    "  INSERT INTO residents (org_id, project_id, name, phone) VALUES "
    "(o, p, '李娜', '13900139002') RETURNING id INTO r2;\n"
    "  INSERT INTO resident_units (org_id, resident_id, unit_id, relation, is_adult) VALUES "
    "(o, r1, u101, 'owner', true), (o, r1b, u101, 'family', false), "
    "(o, r2, u2101, 'tenant', true);\n"
    "  FOREACH rl IN ARRAY ARRAY['admin','gm','director','manager','supervisor','agent',"
    "'technician','security','clerk','auditor','integration'] LOOP\n"
    "    INSERT INTO users (org_id, username, display_name, role, department_id, phone, "
    "password_hash) VALUES (o, p_prefix || rl, initcap(rl) || ' (' || p_name || ')', rl, "
    "CASE rl WHEN 'technician' THEN d_eng WHEN 'security' THEN d_sec "
    "WHEN 'agent' THEN d_cs WHEN 'supervisor' THEN d_cs WHEN 'manager' THEN d_cs END, "
    "'1370000' || lpad((abs(hashtext(p_prefix || rl)) % 10000)::text, 4, '0'), p_hash) "
    "RETURNING id INTO uid;\n"
    "    IF rl NOT IN ('admin','gm','auditor') THEN\n"
    "      INSERT INTO user_projects (org_id, user_id, project_id) VALUES (o, uid, p);\n"
    "    END IF;\n"
    "  END LOOP;\n"
    "  INSERT INTO users (org_id, username, display_name, role, resident_id, phone, "
    "password_hash) VALUES (o, p_prefix || 'resident', '张伟', 'resident', r1, '13800138001', "
    "p_hash), (o, p_prefix || 'resident2', '李娜', 'resident', r2, '13900139002', p_hash);\n"
    /* The key register (RULES §3.4): the management-area keys at the control room, and
     * 1-101's entrusted keys sealed with seal S-0001 for the owner 张伟; each with its ledger
     * (register, seal) hash-chained as the service writes it. */
    "  SELECT id INTO uid FROM users WHERE org_id = o AND username = p_prefix || 'agent';\n"
    "  INSERT INTO custody_items (org_id, project_id, area, kind, tag, location, "
    "keeper_department_id, key_count, state, created_by) VALUES (o, p, 'keys', "
    "'management_area', 'MGMT-01', '中控室', d_cs, 12, 'at_control_room', uid) RETURNING id "
    "INTO k;\n"
    "  PERFORM pg_temp.desk_key_entry(k, 'register', uid, NULL, jsonb_build_object('kind', "
    "'management_area', 'tag', 'MGMT-01', 'key_count', 12));\n"
    "  INSERT INTO custody_items (org_id, project_id, area, kind, tag, unit_id, location, "
    "keeper_department_id, key_count, seal_number, state, created_by) VALUES (o, p, 'keys', "
    "'unit_entrusted', '1-101-E', u101, '客服部钥匙柜 A-01', d_cs, 3, 'S-0001', 'sealed', uid) "
    "RETURNING id INTO k;\n"
    "  PERFORM pg_temp.desk_key_entry(k, 'register', uid, NULL, jsonb_build_object('kind', "
    "'unit_entrusted', 'tag', '1-101-E', 'key_count', 3));\n"
    "  PERFORM pg_temp.desk_key_entry(k, 'seal', uid, jsonb_build_object('kind', 'resident', "
    "'resident_id', r1), jsonb_build_object('count', 3, 'seal_number', 'S-0001'));\n"
    "  RETURN o;\n"
    "END $f$";

static const char key_fn[] =
    "CREATE OR REPLACE FUNCTION pg_temp.desk_key_entry(p_item uuid, p_action text, p_actor "
    "uuid, p_cp jsonb, p_details jsonb) RETURNS void LANGUAGE plpgsql AS $f$\n"
    "DECLARE i custody_items; ts timestamptz := date_trunc('second', clock_timestamp()); "
    "r text; h text;\n"
    "BEGIN\n"
    "  SELECT * INTO i FROM custody_items WHERE id = p_item FOR UPDATE;\n"
    "  SELECT role INTO r FROM users WHERE id = p_actor;\n"
    "  h := encode(sha256(decode(i.head_hash, 'hex') || convert_to(custody_canonical(i.org_id, "
    "i.id, i.last_seq + 1, p_action, p_actor, r, p_cp, NULL, ts, ts, '[]', '[]', '[]', NULL, "
    "p_details), 'UTF8')), 'hex');\n"
    "  INSERT INTO custody_entries (org_id, project_id, item_id, seq, action, actor_id, "
    "actor_role, counterparty, occurred_at, recorded_at, details, prev_hash, hash) VALUES "
    "(i.org_id, i.project_id, i.id, i.last_seq + 1, p_action, p_actor, r, p_cp, ts, ts, "
    "p_details, i.head_hash, h);\n"
    "  UPDATE custody_items SET last_seq = last_seq + 1, head_hash = h, last_occurred_at = ts "
    "WHERE id = p_item;\n"
    "END $f$";

static const db_stmt_t run_seed = {"demo_seed", "SELECT pg_temp.desk_seed($1, $2, $3, $4)", 4};

int db_demo_seed(db_conn_t *c, const char *code, const char *name, const char *prefix,
                 const char *password_hash)
{
    if (db_simple(c, key_fn) != 0 || db_simple(c, seed_fn) != 0)
        return -1;
    const char *v[] = {code, name, prefix, password_hash};
    /* The statement depends on a temporary function: run it unprepared. */
    PGresult *r = db_query(c, run_seed.sql, 4, v);
    int rc = -1;
    if (db_ok(r))
        rc = PQgetisnull(r, 0, 0) ? 0 : 1;
    else
        fprintf(stderr, "demo seed failed: %s", PQresultErrorMessage(r));
    PQclear(r);
    return rc;
}
