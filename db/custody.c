/* db/custody.c — custody registers and ledgers; see custody.h and 0010_custody.sql. */
#include "db/custody.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define ITEM_JSON                                                                                  \
    "json_build_object('id', i.id, 'project_id', i.project_id, 'area', i.area, 'kind', i.kind, "   \
    "'tag', i.tag, 'description', i.description, 'unit_id', i.unit_id, 'location', i.location, "   \
    "'keeper_department_id', i.keeper_department_id, 'key_count', i.key_count, 'seal_number', "    \
    "i.seal_number, 'state', i.state, 'holder_id', i.holder_id, 'due_back', "                      \
    "rfc3339(i.due_back), 'overdue', coalesce(i.due_back < now(), "                                \
    "false), 'open_discrepancy', i.open_discrepancy, 'episode', i.ext->'episode', "                \
    "'pending_handover', i.ext->'pending', 'loan_approval', i.ext->'approval', 'register', "       \
    "i.ext->'register', 'progress', i.ext - 'register' - 'episode' - 'pending' - 'approval', "     \
    "'external_ref', i.external_ref, 'last_seq', i.last_seq, 'head_hash', i.head_hash, "           \
    "'version', i.version, 'created_at', rfc3339(i.created_at), 'updated_at', "                    \
    "rfc3339(i.updated_at))"

#define ENTRY_JSON                                                                                 \
    "json_build_object('id', e.id, 'item_id', e.item_id, 'seq', e.seq, 'action', e.action, "       \
    "'actor_id', e.actor_id, 'actor_role', e.actor_role, 'counterparty', e.counterparty, "         \
    "'purpose', e.purpose, 'occurred_at', rfc3339(e.occurred_at), 'recorded_at', "                 \
    "rfc3339(e.recorded_at), 'approvals', e.approvals, 'witnesses', e.witnesses, "                 \
    "'attachments', e.attachments, 'corrects', e.corrects, 'details', e.details, 'prev_hash', "    \
    "e.prev_hash, 'hash', e.hash)"

static const db_stmt_t item_create = {
    "custody_item_create",
    "INSERT INTO custody_items (org_id, project_id, area, kind, tag, description, unit_id, "
    "location, keeper_department_id, key_count, state, created_by) VALUES ($1, $2, $3, $4, $5, "
    "$6, $7, $8, $9, $10::int, 'registering', $11) RETURNING id",
    11};
static const db_stmt_t item_lock = {
    "custody_item_lock",
    "SELECT project_id, kind, state, coalesce(key_count, 0), coalesce(seal_number, ''), "
    "holder_id, open_discrepancy, ext::text, last_seq, coalesce(extract(epoch FROM "
    "last_occurred_at)::bigint, 0), head_hash, coalesce(rfc3339(due_back), ''), unit_id, "
    "(SELECT coalesce(p.mail_remind_days, 0) FROM projects p WHERE p.id = project_id), (SELECT "
    "coalesce(p.lost_unclaimed_days, 0) FROM projects p WHERE p.id = project_id) FROM "
    "custody_items WHERE org_id = $1 AND area = $2 AND id = $3 FOR UPDATE",
    3};
static const db_stmt_t person = {
    "custody_person",
    "SELECT u.role, coalesce(d.kind, ''), u.active FROM users u LEFT JOIN departments d ON "
    "d.id = u.department_id WHERE u.org_id = $1 AND u.id = $2",
    2};
static const db_stmt_t resident_in = {
    "custody_resident_in",
    "SELECT count(*) FROM residents WHERE org_id = $1 AND project_id = $2 AND id = $3", 3};
static const db_stmt_t entry_of = {
    "custody_entry_of", "SELECT count(*) FROM custody_entries WHERE item_id = $1 AND id = $2", 2};
static const db_stmt_t canonical = {
    "custody_canonical",
    "WITH t AS (SELECT clock_timestamp() AS rec) SELECT rfc3339(t.rec), custody_canonical($1, "
    "$2, $3::int, $4, $5, $6, $7::jsonb, $8, to_timestamp($9::bigint), t.rec, $10::jsonb, "
    "$11::jsonb, $12::jsonb, $13, $14::jsonb) FROM t",
    14};
static const db_stmt_t entry_insert = {
    "custody_entry_insert",
    "INSERT INTO custody_entries AS e (org_id, project_id, item_id, seq, action, actor_id, "
    "actor_role, counterparty, purpose, occurred_at, recorded_at, approvals, witnesses, "
    "attachments, corrects, details, prev_hash, hash) VALUES ($1, $15, $2, $3::int, $4, $5, $6, "
    "$7::jsonb, $8, to_timestamp($9::bigint), $16::timestamptz, $10::jsonb, $11::jsonb, "
    "$12::jsonb, $13, $14::jsonb, $17, $18) RETURNING e.id, " ENTRY_JSON "::text",
    18};
static const db_stmt_t item_store = {
    "custody_item_store",
    "UPDATE custody_items SET state = $3, seal_number = nullif($4, ''), holder_id = $5, "
    "due_back = $6::timestamptz, open_discrepancy = $7::boolean, ext = $8::jsonb, last_seq = "
    "$9::int, last_occurred_at = to_timestamp($10::bigint), head_hash = $11, version = version + "
    "1, updated_at = clock_timestamp() WHERE org_id = $1 AND id = $2",
    11};
static const db_stmt_t notify_managers = {
    "custody_notify_managers",
    "INSERT INTO notifications (org_id, user_id, kind, payload) SELECT $1, u.id, $3, $4::jsonb "
    "FROM users u WHERE u.org_id = $1 AND u.active AND u.role = 'manager' AND EXISTS (SELECT 1 "
    "FROM user_projects up WHERE up.user_id = u.id AND up.project_id = $2)",
    4};
static const db_stmt_t item_get = {"custody_item_get",
                                   "SELECT " ITEM_JSON "::text FROM custody_items i WHERE "
                                   "i.org_id = $1 AND i.area = $2 AND i.id = $3",
                                   3};
static const db_stmt_t item_list = {
    "custody_item_list",
    "SELECT " ITEM_JSON "::text, rfc3339(i.created_at), i.id FROM custody_items i WHERE "
    "i.org_id = $1 AND i.area = $2 AND ($3::uuid[] IS NULL OR i.project_id = ANY($3::uuid[])) "
    "AND ($4::uuid IS NULL OR i.project_id = $4) AND ($5::text IS NULL OR i.state = $5) AND "
    "($6::text IS NULL OR i.kind = $6) AND ($7::timestamptz IS NULL OR (i.created_at, i.id) > "
    "($7::timestamptz, $8::uuid)) ORDER BY i.created_at, i.id LIMIT $9::int",
    9};
static const db_stmt_t entries = {"custody_entries",
                                  "SELECT coalesce(json_agg(" ENTRY_JSON
                                  " ORDER BY e.seq), '[]')::text FROM custody_entries "
                                  "e WHERE e.org_id = $1 AND e.item_id = $2",
                                  2};
static const db_stmt_t verify_batch = {
    "custody_verify_batch",
    "SELECT e.seq, e.id, e.prev_hash, e.hash, custody_canonical(e.org_id, e.item_id, e.seq, "
    "e.action, e.actor_id, e.actor_role, e.counterparty, e.purpose, e.occurred_at, "
    "e.recorded_at, e.approvals, e.witnesses, e.attachments, e.corrects, e.details) FROM "
    "custody_entries e WHERE e.item_id = $1 AND e.seq > $2::int ORDER BY e.seq LIMIT $3::int",
    3};
static const db_stmt_t key_list = {
    "custody_key_list",
    "SELECT coalesce(json_agg(" ITEM_JSON " ORDER BY i.due_back NULLS LAST, i.tag), "
    "'[]')::text FROM custody_items i WHERE i.org_id = $1 AND i.area = 'keys' AND ($2::uuid[] "
    "IS NULL OR i.project_id = ANY($2::uuid[])) AND ($3::uuid IS NULL OR i.project_id = $3) AND "
    "CASE $4 WHEN 'on_loan' THEN i.state IN ('on_loan', 'with_shift') WHEN 'sealed' THEN "
    "i.seal_number IS NOT NULL AND i.state IN ('sealed', 'unsealed') WHEN 'discrepancies' THEN "
    "i.open_discrepancy ELSE false END",
    4};

PGresult *db_custody_item_create(db_conn_t *c, const char *org, const char *project,
                                 const char *area, const char *kind, const char *tag,
                                 const char *description, const char *unit, const char *location,
                                 const char *keeper_dept, const char *key_count,
                                 const char *created_by)
{
    const char *v[] = {org,  project,  area,        kind,      tag,       description,
                       unit, location, keeper_dept, key_count, created_by};
    return db_exec(c, &item_create, v);
}

PGresult *db_custody_item_lock(db_conn_t *c, const char *org, const char *area, const char *id)
{
    const char *v[] = {org, area, id};
    return db_exec(c, &item_lock, v);
}

PGresult *db_custody_person(db_conn_t *c, const char *org, const char *user)
{
    const char *v[] = {org, user};
    return db_exec(c, &person, v);
}

static int count1(db_conn_t *c, const db_stmt_t *st, const char *const *v)
{
    PGresult *r = db_exec(c, st, v);
    int out = db_ok(r) && PQntuples(r) == 1 ? (atoi(PQgetvalue(r, 0, 0)) > 0) : -1;
    PQclear(r);
    return out;
}

int db_custody_resident_in(db_conn_t *c, const char *org, const char *project, const char *res)
{
    const char *v[] = {org, project, res};
    return count1(c, &resident_in, v);
}

int db_custody_entry_of(db_conn_t *c, const char *item, const char *entry)
{
    const char *v[] = {item, entry};
    return count1(c, &entry_of, v);
}

PGresult *db_custody_canonical(db_conn_t *c, const db_custody_entry_t *e)
{
    char seq[16];
    snprintf(seq, sizeof seq, "%d", e->seq);
    const char *v[] = {e->org,        e->item,         seq,         e->action,      e->actor,
                       e->actor_role, e->counterparty, e->purpose,  e->occurred_at, e->approvals,
                       e->witnesses,  e->attachments,  e->corrects, e->details};
    return db_exec(c, &canonical, v);
}

PGresult *db_custody_entry_insert(db_conn_t *c, const db_custody_entry_t *e,
                                  const char *recorded_at, const char *prev_hash, const char *hash)
{
    char seq[16];
    snprintf(seq, sizeof seq, "%d", e->seq);
    const char *v[] = {e->org,        e->item,         seq,         e->action,      e->actor,
                       e->actor_role, e->counterparty, e->purpose,  e->occurred_at, e->approvals,
                       e->witnesses,  e->attachments,  e->corrects, e->details,     e->project,
                       recorded_at,   prev_hash,       hash};
    return db_exec(c, &entry_insert, v);
}

int db_custody_item_store(db_conn_t *c, const char *org, const char *id, const char *state,
                          const char *seal_number, const char *holder, const char *due_back,
                          int open_discrepancy, const char *ext, int last_seq,
                          const char *last_occurred_epoch, const char *head_hash)
{
    char seq[16];
    snprintf(seq, sizeof seq, "%d", last_seq);
    const char *v[] = {org,
                       id,
                       state,
                       seal_number ? seal_number : "",
                       holder,
                       due_back,
                       open_discrepancy ? "true" : "false",
                       ext,
                       seq,
                       last_occurred_epoch,
                       head_hash};
    PGresult *r = db_exec(c, &item_store, v);
    int rc = db_ok(r) && atoi(PQcmdTuples(r)) == 1 ? 0 : -1;
    PQclear(r);
    return rc;
}

int db_custody_notify_managers(db_conn_t *c, const char *org, const char *project, const char *kind,
                               const char *payload)
{
    const char *v[] = {org, project, kind, payload};
    PGresult *r = db_exec(c, &notify_managers, v);
    int rc = db_ok(r) ? 0 : -1;
    PQclear(r);
    return rc;
}

char *db_custody_item_json(db_conn_t *c, const char *org, const char *area, const char *id)
{
    const char *v[] = {org, area, id};
    return db_exec_text(c, &item_get, v);
}

PGresult *db_custody_item_list(db_conn_t *c, const char *org, const char *area,
                               const char *projects, const char *project, const char *state,
                               const char *kind, const char *after_ts, const char *after_id,
                               int limit)
{
    char l[16];
    snprintf(l, sizeof l, "%d", limit);
    const char *v[] = {org, area, projects, project, state, kind, after_ts, after_id, l};
    return db_exec(c, &item_list, v);
}

char *db_custody_entries_json(db_conn_t *c, const char *org, const char *item)
{
    const char *v[] = {org, item};
    return db_exec_text(c, &entries, v);
}

PGresult *db_custody_verify_batch(db_conn_t *c, const char *item, int after_seq, int limit)
{
    char a[16], l[16];
    snprintf(a, sizeof a, "%d", after_seq);
    snprintf(l, sizeof l, "%d", limit);
    const char *v[] = {item, a, l};
    return db_exec(c, &verify_batch, v);
}

char *db_custody_key_list(db_conn_t *c, const char *org, const char *projects, const char *project,
                          const char *which)
{
    const char *v[] = {org, projects, project, which};
    return db_exec_text(c, &key_list, v);
}

/* ---- the areas after keys ----------------------------------------------------------------- */

static const db_stmt_t area_create = {
    "custody_area_create",
    "INSERT INTO custody_items (org_id, project_id, area, kind, tag, description, unit_id, "
    "location, key_count, external_ref, ext, state, created_by) VALUES ($1, $2, $3, $4, "
    "coalesce($5, upper(left(replace(gen_random_uuid()::text, '-', ''), 12))), $6, $7, $8, "
    "$9::int, $10, $11::jsonb, 'registering', $12) ON CONFLICT (org_id, area, external_ref) "
    "WHERE external_ref IS NOT NULL DO NOTHING RETURNING id",
    12};
static const db_stmt_t unit_in = {
    "custody_unit_in",
    "SELECT count(*) FROM units WHERE org_id = $1 AND project_id = $2 AND id = $3", 3};
static const db_stmt_t by_external_ref = {
    "custody_by_external_ref",
    "SELECT id FROM custody_items WHERE org_id = $1 AND area = $2 AND external_ref = $3", 3};
static const db_stmt_t area_list = {
    "custody_area_list",
    "SELECT " ITEM_JSON "::text, rfc3339(i.created_at), i.id FROM custody_items i WHERE "
    "i.org_id = $1 AND i.area = $2 AND ($3::uuid[] IS NULL OR i.project_id = ANY($3::uuid[])) "
    "AND ($4::uuid[] IS NULL OR i.unit_id = ANY($4::uuid[])) AND ($5::uuid IS NULL OR "
    "i.project_id = $5) AND ($6::text IS NULL OR i.state = $6) AND ($7::text IS NULL OR i.kind "
    "= $7) AND ($8::timestamptz IS NULL OR (i.created_at, i.id) > ($8::timestamptz, $9::uuid)) "
    "AND i.state <> 'registering' ORDER BY i.created_at, i.id LIMIT $10::int",
    10};
static const db_stmt_t due_list = {
    "custody_due_list",
    "SELECT coalesce(json_agg(" ITEM_JSON " ORDER BY i.due_back NULLS LAST, i.created_at), "
    "'[]')::text FROM custody_items i WHERE i.org_id = $1 AND i.area = $2 AND ($3::uuid[] IS "
    "NULL OR i.project_id = ANY($3::uuid[])) AND ($4::uuid[] IS NULL OR i.unit_id = "
    "ANY($4::uuid[])) AND ($5::uuid IS NULL OR i.project_id = $5) AND (i.state = "
    "ANY(string_to_array($6, ',')) OR ($7::boolean AND i.open_discrepancy)) AND (NOT "
    "$8::boolean OR i.due_back <= now())",
    8};
static const db_stmt_t open_loans = {
    "custody_open_loans",
    "SELECT count(*) FROM custody_items WHERE org_id = $1 AND holder_id = $2 AND ((area = "
    "'archives' AND state IN ('loan_pending', 'on_loan', 'return_pending', 'reading')) OR "
    "(area = 'keys' AND state = 'on_loan'))",
    2};
static const db_stmt_t heads = {
    "custody_heads",
    "WITH d AS (SELECT ($3::date + 1)::timestamp AT TIME ZONE coalesce(p.time_zone, 'UTC') AS "
    "cut, p.id AS project_id, p.time_zone FROM projects p WHERE p.org_id = $1 AND ($2::uuid[] IS "
    "NULL OR p.id = ANY($2::uuid[])) AND ($4::uuid IS NULL OR p.id = $4)), h AS (SELECT "
    "d.project_id, i.area, i.id AS item_id, e.seq, e.hash FROM d JOIN custody_items i ON "
    "i.project_id = d.project_id AND i.org_id = $1 JOIN LATERAL (SELECT x.seq, x.hash FROM "
    "custody_entries x WHERE x.item_id = i.id AND x.recorded_at < d.cut ORDER BY x.seq DESC "
    "LIMIT 1) e ON true) SELECT coalesce(json_agg(json_build_object('project_id', d.project_id, "
    "'date', $3::date, 'time_zone', d.time_zone, 'cut_off', rfc3339(d.cut), 'items', "
    "(SELECT count(*) FROM h WHERE h.project_id = d.project_id), 'entries', (SELECT "
    "coalesce(sum(h.seq), 0) FROM h WHERE h.project_id = d.project_id), 'digest', "
    "encode(sha256(convert_to(coalesce((SELECT string_agg(h.area || ':' || h.item_id || ':' || "
    "h.seq || ':' || h.hash, E'\\n' ORDER BY h.area, h.item_id) FROM h WHERE h.project_id = "
    "d.project_id), ''), 'UTF8')), 'hex'), 'heads', (SELECT coalesce(json_agg(json_build_object("
    "'area', h.area, 'item_id', h.item_id, 'seq', h.seq, 'hash', h.hash) ORDER BY h.area, "
    "h.item_id), '[]') FROM h WHERE h.project_id = d.project_id)) ORDER BY d.project_id), "
    "'[]')::text FROM d",
    4};

PGresult *db_custody_area_create(db_conn_t *c, const db_custody_new_t *n)
{
    const char *v[] = {n->org,
                       n->project,
                       n->area,
                       n->kind,
                       n->tag,
                       n->description,
                       n->unit,
                       n->location,
                       n->count,
                       n->external_ref,
                       n->ext ? n->ext : "{}",
                       n->created_by};
    return db_exec(c, &area_create, v);
}

PGresult *db_custody_by_external_ref(db_conn_t *c, const char *org, const char *area,
                                     const char *ref)
{
    const char *v[] = {org, area, ref};
    return db_exec(c, &by_external_ref, v);
}

PGresult *db_custody_area_list(db_conn_t *c, const char *org, const char *area,
                               const char *projects, const char *units, const char *project,
                               const char *state, const char *kind, const char *after_ts,
                               const char *after_id, int limit)
{
    char l[16];
    snprintf(l, sizeof l, "%d", limit);
    const char *v[] = {org, area, projects, units, project, state, kind, after_ts, after_id, l};
    return db_exec(c, &area_list, v);
}

char *db_custody_due_list(db_conn_t *c, const char *org, const char *area, const char *projects,
                          const char *units, const char *project, const char *states,
                          int with_discrepancies, int due_only)
{
    const char *v[] = {org,
                       area,
                       projects,
                       units,
                       project,
                       states,
                       with_discrepancies ? "true" : "false",
                       due_only ? "true" : "false"};
    return db_exec_text(c, &due_list, v);
}

int db_custody_open_loans(db_conn_t *c, const char *org, const char *user)
{
    const char *v[] = {org, user};
    PGresult *r = db_exec(c, &open_loans, v);
    int n = db_ok(r) && PQntuples(r) == 1 ? atoi(PQgetvalue(r, 0, 0)) : -1;
    PQclear(r);
    return n;
}

char *db_custody_heads(db_conn_t *c, const char *org, const char *projects, const char *date,
                       const char *project)
{
    const char *v[] = {org, projects, date, project};
    return db_exec_text(c, &heads, v);
}

int db_custody_unit_in(db_conn_t *c, const char *org, const char *project, const char *unit)
{
    const char *v[] = {org, project, unit};
    return count1(c, &unit_in, v);
}

static const db_stmt_t remind_due = {
    "custody_remind_due",
    "WITH due AS (SELECT i.id FROM custody_items i WHERE i.due_back <= now() AND NOT i.ext ? "
    "'reminded_at' AND ((i.area = 'mail' AND i.state = 'in_custody') OR (i.area = "
    "'lost_property' AND i.state IN ('found', 'held')) OR (i.area = 'archives' AND i.state IN "
    "('loan_pending', 'on_loan', 'return_pending')) OR (i.area = 'keys' AND i.state = "
    "'on_loan')) ORDER BY i.due_back LIMIT 500 FOR UPDATE "
    "SKIP LOCKED), marked AS (UPDATE custody_items i SET ext = i.ext || "
    "jsonb_build_object('reminded_at', rfc3339(now())) FROM due WHERE i.id = due.id RETURNING "
    "i.id, i.org_id, i.project_id, i.area, i.holder_id, i.due_back), sent AS (INSERT INTO "
    "notifications (org_id, user_id, kind, payload) SELECT m.org_id, u.id, CASE m.area WHEN "
    "'mail' THEN 'custody_mail_reminder' WHEN 'lost_property' THEN 'custody_lost_unclaimed' "
    "WHEN 'keys' THEN 'custody_key_overdue' ELSE 'custody_archive_overdue' END, "
    "jsonb_build_object('item_id', m.id, 'area', m.area, 'due', rfc3339(m.due_back)) FROM "
    "marked m JOIN users u ON u.org_id = m.org_id AND u.active WHERE (m.area IN ('archives', "
    "'keys') AND u.id = m.holder_id) OR (CASE m.area WHEN 'mail' THEN u.role = 'agent' WHEN "
    "'lost_property' THEN u.role IN ('supervisor', 'manager') WHEN 'keys' THEN u.role = "
    "'agent' ELSE u.role = 'clerk' END AND EXISTS (SELECT 1 FROM user_projects up WHERE up.user_id "
    "= u.id AND "
    "up.project_id = m.project_id)) RETURNING 1) SELECT (SELECT count(*) FROM marked), (SELECT "
    "count(*) FROM sent)",
    0};

int db_custody_remind_due(db_conn_t *c, int *notified)
{
    PGresult *r = db_exec(c, &remind_due, NULL);
    int n = -1;
    if (db_ok(r) && PQntuples(r) == 1) {
        n = atoi(PQgetvalue(r, 0, 0));
        *notified = atoi(PQgetvalue(r, 0, 1));
    }
    PQclear(r);
    return n;
}
