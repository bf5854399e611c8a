/*
 * db/demo.c — the demo organisation: one project (Asia/Shanghai, desk hours 09:00–20:00),
 * two buildings, units, residents, the departments 客服部 / 工程部 / 保安部, one user for
 * every role, two key sets (the control room's management-area keys; 1-101's sealed keys),
 * mail items, found property and valuables, and archive files — every register item with its
 * ledger hash-chained as the service writes it.  Parameterised by organisation code and username
 * prefix so tests can create a second, independent organisation the same way.
 */
#include "db/demo.h"

#include <stdio.h>
#include <string.h>

static const char seed_fn[] =
    "CREATE OR REPLACE FUNCTION pg_temp.desk_seed(p_code text, p_name text, p_prefix text, "
    "p_hash text, p_id_hash text) RETURNS uuid LANGUAGE plpgsql AS $f$\n"
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
    "  PERFORM pg_temp.desk_entry(k, 'register', uid, NULL, NULL, NULL, jsonb_build_object("
    "'kind', 'management_area', 'tag', 'MGMT-01', 'key_count', 12));\n"
    "  INSERT INTO custody_items (org_id, project_id, area, kind, tag, unit_id, location, "
    "keeper_department_id, key_count, seal_number, state, created_by) VALUES (o, p, 'keys', "
    "'unit_entrusted', '1-101-E', u101, '客服部钥匙柜 A-01', d_cs, 3, 'S-0001', 'sealed', uid) "
    "RETURNING id INTO k;\n"
    "  PERFORM pg_temp.desk_entry(k, 'register', uid, NULL, NULL, NULL, jsonb_build_object("
    "'kind', 'unit_entrusted', 'tag', '1-101-E', 'key_count', 3));\n"
    "  PERFORM pg_temp.desk_entry(k, 'seal', uid, jsonb_build_object('kind', 'resident', "
    "'resident_id', r1), NULL, NULL, jsonb_build_object('count', 3, 'seal_number', 'S-0001'));\n"
    "  PERFORM pg_temp.desk_seed_mail(o, p, p_prefix);\n"
    "  PERFORM pg_temp.desk_seed_lost(o, p, p_prefix, p_id_hash);\n"
    "  PERFORM pg_temp.desk_seed_archives(o, p, p_prefix);\n"
    "  RETURN o;\n"
    "END $f$";

/* One ledger entry appended to an item's hash chain, the bytes custody_canonical() defines: the
 * chain the service writes with OpenSSL (api/custody_ledger.c), so GET …/verify accepts it. */
static const char entry_fn[] =
    "CREATE OR REPLACE FUNCTION pg_temp.desk_entry(p_item uuid, p_action text, p_actor uuid, p_cp "
    "jsonb, p_purpose text, p_at timestamptz, p_details jsonb, p_witnesses jsonb DEFAULT '[]') "
    "RETURNS uuid LANGUAGE plpgsql AS $f$\n"
    "DECLARE i custody_items; ts timestamptz := coalesce(p_at, date_trunc('second', "
    "clock_timestamp())); r text; h text; e uuid;\n"
    "BEGIN\n"
    "  SELECT * INTO i FROM custody_items WHERE id = p_item FOR UPDATE;\n"
    "  SELECT role INTO r FROM users WHERE id = p_actor;\n"
    "  h := encode(sha256(decode(i.head_hash, 'hex') || convert_to(custody_canonical(i.org_id, "
    "i.id, i.last_seq + 1, p_action, p_actor, r, p_cp, p_purpose, ts, ts, '[]', p_witnesses, '[]', "
    "NULL, p_details), 'UTF8')), 'hex');\n"
    "  INSERT INTO custody_entries (org_id, project_id, item_id, seq, action, actor_id, "
    "actor_role, counterparty, purpose, occurred_at, recorded_at, witnesses, details, prev_hash, "
    "hash) VALUES (i.org_id, i.project_id, i.id, i.last_seq + 1, p_action, p_actor, r, p_cp, "
    "p_purpose, ts, ts, p_witnesses, p_details, i.head_hash, h) RETURNING id INTO e;\n"
    "  UPDATE custody_items SET last_seq = last_seq + 1, head_hash = h, last_occurred_at = ts "
    "WHERE id = p_item;\n"
    "  RETURN e;\n"
    "END $f$";

/* A register item as db_custody_area_create() inserts it (state 'registering' until its first
 * entry). */
static const char item_fn[] =
    "CREATE OR REPLACE FUNCTION pg_temp.desk_item(o uuid, p uuid, p_area text, p_kind text, p_tag "
    "text, p_desc text, p_unit uuid, p_loc text, p_count int, p_ext jsonb, p_by uuid) RETURNS uuid "
    "LANGUAGE sql AS $f$\n"
    "  INSERT INTO custody_items (org_id, project_id, area, kind, tag, description, unit_id, "
    "location, key_count, ext, state, created_by) VALUES (o, p, p_area, p_kind, coalesce(p_tag, "
    "upper(left(replace(gen_random_uuid()::text, '-', ''), 12))), p_desc, p_unit, p_loc, p_count, "
    "p_ext, 'registering', p_by) RETURNING id\n"
    "$f$\n"
    ";\n"
    "CREATE OR REPLACE FUNCTION pg_temp.desk_ts(t timestamptz) RETURNS text LANGUAGE sql AS $f$\n"
    "  SELECT to_char(t AT TIME ZONE 'UTC', 'YYYY-MM-DD\"T\"HH24:MI:SS\"Z\"')\n"
    "$f$";

/* Mail and parcels (RULES §3.6): three items taken in for residents who were out; the registered
 * letter is uncollected past the reminder (one call recorded, the agents reminded, as
 * svc/custody_reminders.c does). */
static const char mail_fn[] =
    "CREATE OR REPLACE FUNCTION pg_temp.desk_seed_mail(o uuid, p uuid, p_prefix text) RETURNS void "
    "LANGUAGE plpgsql AS $f$\n"
    "DECLARE ag uuid; u101 uuid; u2101 uuid; r1 uuid; r2 uuid; m uuid; reg jsonb; t timestamptz; "
    "due timestamptz; k int; days int;\n"
    "  now_ timestamptz := date_trunc('second', clock_timestamp());\n"
    "BEGIN\n"
    "  SELECT id INTO ag FROM users WHERE org_id = o AND username = p_prefix || 'agent';\n"
    "  SELECT id INTO u101 FROM units WHERE project_id = p AND code = '1-101';\n"
    "  SELECT id INTO u2101 FROM units WHERE project_id = p AND code = '2-101';\n"
    "  SELECT id INTO r1 FROM residents WHERE project_id = p AND phone = '13800138001';\n"
    "  SELECT id INTO r2 FROM residents WHERE project_id = p AND phone = '13900139002';\n"
    "  SELECT coalesce(nullif(mail_remind_days, 0), 2) INTO days FROM projects WHERE id = p;\n"
    "  FOR k IN 1..3 LOOP\n"
    "    t := now_ - CASE k WHEN 1 THEN interval '3 days' WHEN 2 THEN interval '1 day' ELSE "
    "interval '2 hours' END;\n"
    "    reg := CASE k\n"
    "      WHEN 1 THEN jsonb_build_object('mail_number', 'EMS1186620391CN', 'sender_location', "
    "'北京市海淀区', 'recipient_name', '张伟', 'resident_id', r1, 'count', 1)\n"
    "      WHEN 2 THEN jsonb_build_object('mail_number', 'MO2026112600017', 'sender_location', "
    "'广州市天河区', 'recipient_name', '张伟', 'resident_id', r1, 'count', 1)\n"
    "      ELSE jsonb_build_object('mail_number', 'SF1402883349', 'sender_location', "
    "'深圳市福田区', 'recipient_name', '李娜', 'resident_id', r2, 'count', 1) END;\n"
    "    m := pg_temp.desk_item(o, p, 'mail', (ARRAY['registered_letter', 'money_order', "
    "'parcel'])[k], NULL, NULL, CASE k WHEN 3 THEN u2101 ELSE u101 END, '收发室 A 柜', 1, "
    "jsonb_build_object('register', reg, 'calls', 0), ag);\n"
    "    PERFORM pg_temp.desk_entry(m, 'receive', ag, NULL, NULL, t, "
    "jsonb_build_object('resident_out', true, 'register', reg));\n"
    "    due := t + make_interval(days => days);\n"
    "    UPDATE custody_items SET state = 'in_custody', due_back = due WHERE id = m;\n"
    "    IF k = 1 THEN\n"
    "      /* uncollected past the reminder: the desk phoned once, the reminder went out */\n"
    "      PERFORM pg_temp.desk_entry(m, 'call', ag, NULL, '电话通知取件，无人接听', t + interval "
    "'1 day', jsonb_build_object('reached', false));\n"
    "      UPDATE custody_items SET ext = ext || jsonb_build_object('calls', 1, 'last_call', "
    "jsonb_build_object('at', pg_temp.desk_ts(t + interval '1 day'), 'reached', false), "
    "'reminded_at', pg_temp.desk_ts(due + interval '1 minute')) WHERE id = m;\n"
    "      INSERT INTO notifications (org_id, user_id, kind, payload, created_at) SELECT o, u.id, "
    "'custody_mail_reminder', jsonb_build_object('item_id', m, 'area', 'mail', 'due', "
    "pg_temp.desk_ts(due)), due + interval '1 minute' FROM users u WHERE u.org_id = o AND u.active "
    "AND u.role = 'agent' AND EXISTS (SELECT 1 FROM user_projects up WHERE up.user_id = u.id AND "
    "up.project_id = p);\n"
    "    END IF;\n"
    "  END LOOP;\n"
    "END $f$";

/* Lost property and valuables (RULES §3.7): a found wallet with the duty manager; a valuables
 * deposit against 张伟's ID card when a personal-data key is configured (p_id_hash). */
static const char lost_fn[] =
    "CREATE OR REPLACE FUNCTION pg_temp.desk_seed_lost(o uuid, p uuid, p_prefix text, p_id_hash "
    "text) RETURNS void LANGUAGE plpgsql AS $f$\n"
    "DECLARE ag uuid; sec uuid; sup uuid; r1 uuid; l uuid; reg jsonb; t timestamptz; days int;\n"
    "  now_ timestamptz := date_trunc('second', clock_timestamp());\n"
    "BEGIN\n"
    "  SELECT id INTO ag FROM users WHERE org_id = o AND username = p_prefix || 'agent';\n"
    "  SELECT id INTO sec FROM users WHERE org_id = o AND username = p_prefix || 'security';\n"
    "  SELECT id INTO sup FROM users WHERE org_id = o AND username = p_prefix || 'supervisor';\n"
    "  SELECT id INTO r1 FROM residents WHERE project_id = p AND phone = '13800138001';\n"
    "  SELECT coalesce(nullif(lost_unclaimed_days, 0), 30) INTO days FROM projects WHERE id = p;\n"
    "  /* a wallet the night guard found, handed to the duty manager next morning */\n"
    "  t := now_ - interval '20 hours';\n"
    "  reg := jsonb_build_object('found_at', '1栋大堂休息区', 'finder', '保安部 夜班巡逻岗');\n"
    "  l := pg_temp.desk_item(o, p, 'lost_property', 'found_item', NULL, "
    "'黑色男士钱包，内有银行卡两张、现金约 200 元', NULL, '客服中心失物柜', 1, "
    "jsonb_build_object('register', reg), sec);\n"
    "  PERFORM pg_temp.desk_entry(l, 'register', sec, NULL, NULL, t, "
    "jsonb_build_object('register', reg, 'count', 1));\n"
    "  PERFORM pg_temp.desk_entry(l, 'receive', sup, NULL, NULL, t + interval '9 hours', '{}');\n"
    "  UPDATE custody_items SET state = 'held', holder_id = sup, due_back = t + make_interval(days "
    "=> days) WHERE id = l;\n"
    "  /* valuables on deposit against the owner's ID card (only with a personal-data key) */\n"
    "  IF p_id_hash IS NOT NULL THEN\n"
    "    t := now_ - interval '5 hours';\n"
    "    reg := jsonb_build_object('receipt_number', 'DEP-0001', 'depositor_id_hash', p_id_hash);\n"
    "    l := pg_temp.desk_item(o, p, 'lost_property', 'valuable_deposit', NULL, "
    "'金项链一条、手表一块，外观完好', NULL, '客服中心保险柜', 2, jsonb_build_object('register', "
    "reg), ag);\n"
    "    PERFORM pg_temp.desk_entry(l, 'deposit', ag, jsonb_build_object('kind', 'resident', "
    "'resident_id', r1, 'id_type', 'id_card', 'id_hash', p_id_hash, 'id_last4', '0017'), "
    "'出差期间寄存', t, jsonb_build_object('register', reg, 'count', 2));\n"
    "    UPDATE custody_items SET state = 'deposited' WHERE id = l;\n"
    "  END IF;\n"
    "END $f$";

/* Archives (RULES §3.5): an official, an ordinary and a confidential file; the ordinary one on loan
 * to the agent, signed by both. */
static const char archive_fn[] =
    "CREATE OR REPLACE FUNCTION pg_temp.desk_seed_archives(o uuid, p uuid, p_prefix text) RETURNS "
    "void LANGUAGE plpgsql AS $f$\n"
    "DECLARE cl uuid; ag uuid; a uuid; reg jsonb; k int; t timestamptz; due timestamptz;\n"
    "  now_ timestamptz := date_trunc('second', clock_timestamp());\n"
    "BEGIN\n"
    "  SELECT id INTO cl FROM users WHERE org_id = o AND username = p_prefix || 'clerk';\n"
    "  SELECT id INTO ag FROM users WHERE org_id = o AND username = p_prefix || 'agent';\n"
    "  /* one file of each class the desk keeps (personnel files are HR's, never the desk's) */\n"
    "  FOR k IN 1..3 LOOP\n"
    "    t := now_ - interval '30 days';\n"
    "    reg := CASE k\n"
    "      WHEN 1 THEN jsonb_build_object('number', 'GW-2026-001', 'classification', 'official', "
    "'category', '政府来文', 'retention_until', NULL, 'original', true)\n"
    "      WHEN 2 THEN jsonb_build_object('number', 'PT-2026-015', 'classification', 'ordinary', "
    "'category', '合同', 'retention_until', pg_temp.desk_ts(date_trunc('day', now_) + interval '10 "
    "years'), 'original', true)\n"
    "      ELSE jsonb_build_object('number', 'JM-2026-002', 'classification', 'confidential', "
    "'category', '业主大会', 'retention_until', pg_temp.desk_ts(date_trunc('day', now_) + interval "
    "'5 years'), 'original', true) END;\n"
    "    a := pg_temp.desk_item(o, p, 'archives', reg->>'classification', reg->>'number', "
    "(ARRAY['深圳市住建局关于加强住宅小区消防安全管理的通知', '2026 年 1 "
    "栋电梯维保合同及验收记录', '业主委员会换届选举投票原始记录'])[k], NULL, '档案室 ' || k || ' "
    "号柜', CASE k WHEN 2 THEN 3 ELSE 1 END, jsonb_build_object('register', reg), cl);\n"
    "    PERFORM pg_temp.desk_entry(a, 'register', cl, NULL, NULL, t, "
    "jsonb_build_object('register', reg, 'count', CASE k WHEN 2 THEN 3 ELSE 1 END));\n"
    "    UPDATE custody_items SET state = 'active' WHERE id = a;\n"
    "    IF k = 2 THEN\n"
    "      /* on loan to the agent: counted and signed by the clerk, then by the borrower */\n"
    "      t := now_ - interval '1 day';\n"
    "      due := now_ + interval '6 days';\n"
    "      PERFORM pg_temp.desk_entry(a, 'loan', cl, jsonb_build_object('kind', 'user', 'user_id', "
    "ag, 'role', 'agent'), '核对电梯年检与维保记录', t, jsonb_build_object('count', 3, 'due_back', "
    "pg_temp.desk_ts(due)));\n"
    "      PERFORM pg_temp.desk_entry(a, 'loan_sign', ag, NULL, NULL, t + interval '2 minutes', "
    "jsonb_build_object('count', 3), jsonb_build_array(jsonb_build_object('user_id', cl, 'signed', "
    "'loan', 'count', 3)));\n"
    "      UPDATE custody_items SET state = 'on_loan', holder_id = ag, due_back = due WHERE id = "
    "a;\n"
    "    END IF;\n"
    "  END LOOP;\n"
    "END $f$";

static const db_stmt_t run_seed = {"demo_seed", "SELECT pg_temp.desk_seed($1, $2, $3, $4, $5)", 5};

int db_demo_seed(db_conn_t *c, const char *code, const char *name, const char *prefix,
                 const char *password_hash, const char *id_hash)
{
    const char *const fns[] = {entry_fn, item_fn, mail_fn, lost_fn, archive_fn, seed_fn};
    for (size_t i = 0; i < sizeof fns / sizeof *fns; i++)
        if (db_simple(c, fns[i]) != 0)
            return -1;
    const char *v[] = {code, name, prefix, password_hash, id_hash};
    /* The statement depends on a temporary function: run it unprepared. */
    PGresult *r = db_query(c, run_seed.sql, 5, v);
    int rc = -1;
    if (db_ok(r))
        rc = PQgetisnull(r, 0, 0) ? 0 : 1;
    else
        fprintf(stderr, "demo seed failed: %s", PQresultErrorMessage(r));
    PQclear(r);
    return rc;
}
