/* db/tenancy.c — rental registrations: storage, JSON and the signatures of an early end. */
#include "db/tenancy.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* The JSON of tenancy t (alias) with project p; $P is whether phones are shown. */
#define TENANCY_JSON(P)                                                                            \
    "json_build_object('id', t.id, 'organisation_id', t.org_id, 'project_id', t.project_id, "      \
    "'unit_id', t.unit_id, 'owner', json_build_object('resident_id', t.owner_resident_id, "        \
    "'name', o.name, 'phone', CASE WHEN " P " THEN o.phone ELSE mask_phone(o.phone) END), "        \
    "'tenant', json_build_object('resident_id', t.tenant_resident_id, 'name', t.tenant_name, "     \
    "'phone', CASE WHEN " P " THEN t.tenant_phone ELSE mask_phone(t.tenant_phone) END, "           \
    "'id_document', CASE WHEN t.tenant_id_type IS NOT NULL THEN json_build_object('type', "        \
    "t.tenant_id_type, 'last4', t.tenant_id_last4) END, 'employer', t.employer), "                 \
    "'use', t.use, 'term_start', t.term_start::text, 'term_end', t.term_end::text, "               \
    "'state', CASE WHEN (now() AT TIME ZONE p.time_zone)::date > coalesce(t.ended_on, "            \
    "t.term_end) THEN 'ended' WHEN (now() AT TIME ZONE p.time_zone)::date < t.term_start THEN "    \
    "'upcoming' WHEN t.termination_date IS NOT NULL THEN 'ending' ELSE 'active' END, "             \
    "'termination', CASE WHEN t.termination_date IS NOT NULL THEN json_build_object("              \
    "'end_date', t.termination_date::text, 'reason', t.termination_reason, 'owner_signed_by', "    \
    "t.owner_signed_by, 'owner_signed_at', rfc3339(t.owner_signed_at), 'supervisor_signed_by', "   \
    "t.supervisor_signed_by, 'supervisor_signed_at', rfc3339(t.supervisor_signed_at)) END, "       \
    "'ended_on', t.ended_on::text, 'created_by', t.created_by, 'version', t.version, "             \
    "'created_at', rfc3339(t.created_at), 'updated_at', rfc3339(t.updated_at))"

#define TENANCY_FROM                                                                               \
    " JOIN projects p ON p.id = t.project_id JOIN residents o ON o.id = t.owner_resident_id "

static const db_stmt_t unit_st = {"tenancy_unit",
                                  "SELECT project_id FROM units WHERE id = $1 AND org_id = $2", 2};
static const db_stmt_t owner_st = {
    "tenancy_is_owner",
    "SELECT EXISTS (SELECT 1 FROM resident_units WHERE unit_id = $1 AND resident_id = $2 AND "
    "org_id = $3 AND relation = 'owner')",
    3};

static const db_stmt_t insert_st = {
    "tenancy_insert",
    "WITH tr AS (SELECT name, phone FROM residents WHERE id = $5 AND org_id = $1), "
    "t AS (INSERT INTO tenancies (org_id, project_id, unit_id, owner_resident_id, "
    "tenant_resident_id, tenant_name, tenant_phone, use, term_start, term_end, tenant_id_type, "
    "tenant_id_hash, tenant_id_last4, employer, created_by) VALUES ($1, $2, $3, $4, $5, "
    "coalesce($6, (SELECT name FROM tr)), coalesce($7, (SELECT phone FROM tr)), $8, $9::date, "
    "$10::date, $11, $12, $13, $14, $15) RETURNING *), "
    "l AS (INSERT INTO resident_units (org_id, resident_id, unit_id, relation) SELECT t.org_id, "
    "t.tenant_resident_id, t.unit_id, 'tenant' FROM t WHERE t.tenant_resident_id IS NOT NULL "
    "ON CONFLICT (resident_id, unit_id) DO NOTHING) "
    "SELECT " TENANCY_JSON("$16::boolean") "::text FROM t" TENANCY_FROM,
    16};

static const db_stmt_t get_st = {
    "tenancy_get",
    "SELECT " TENANCY_JSON(
        "$3::boolean") "::text, t.project_id, t.unit_id FROM tenancies t" TENANCY_FROM
                       "WHERE t.id = $1 AND t.org_id = $2",
    3};

static const db_stmt_t list_st = {
    "tenancy_list",
    "SELECT coalesce(json_agg(" TENANCY_JSON(
        "$3::boolean") " ORDER BY t.term_start DESC, "
                       "t.created_at DESC), '[]')::text FROM tenancies t" TENANCY_FROM
                       "WHERE t.unit_id = $1 AND t.org_id = $2",
    3};

static const db_stmt_t lock_st = {
    "tenancy_lock",
    "SELECT t.project_id, t.unit_id, (now() AT TIME ZONE p.time_zone)::date - date '1970-01-01', "
    "t.term_start - date '1970-01-01', t.term_end - date '1970-01-01', "
    "coalesce(t.termination_date - date '1970-01-01', -1), t.owner_signed_at IS NOT NULL, "
    "t.supervisor_signed_at IS NOT NULL, t.ended_on IS NOT NULL, "
    "coalesce((SELECT u.resident_id FROM users u WHERE u.id = $3) = t.owner_resident_id, false) "
    "FROM tenancies t JOIN projects p ON p.id = t.project_id WHERE t.id = $1 AND t.org_id = $2 "
    "FOR UPDATE OF t",
    3};

static const db_stmt_t sign_st = {
    "tenancy_sign",
    "WITH t AS (UPDATE tenancies t SET termination_date = $5::date, termination_reason = "
    "coalesce($6, t.termination_reason), "
    "owner_signed_by = CASE WHEN $3 = 'owner' THEN $4::uuid ELSE t.owner_signed_by END, "
    "owner_signed_at = CASE WHEN $3 = 'owner' THEN clock_timestamp() ELSE t.owner_signed_at END, "
    "supervisor_signed_by = CASE WHEN $3 = 'supervisor' THEN $4::uuid ELSE "
    "t.supervisor_signed_by END, supervisor_signed_at = CASE WHEN $3 = 'supervisor' THEN "
    "clock_timestamp() ELSE t.supervisor_signed_at END, "
    "ended_on = CASE WHEN $7::boolean THEN $5::date ELSE t.ended_on END, "
    "version = t.version + 1, updated_at = clock_timestamp() WHERE t.id = $1 AND t.org_id = $2 "
    "RETURNING *) SELECT " TENANCY_JSON("$8::boolean") "::text FROM t" TENANCY_FROM,
    8};

int db_tenancy_unit(db_conn_t *c, const char *org, const char *unit, char project[40])
{
    const char *v[] = {unit, org};
    PGresult *r = db_exec(c, &unit_st, v);
    int rc = !db_ok(r) ? -1 : PQntuples(r) == 1;
    if (rc == 1)
        snprintf(project, 40, "%s", PQgetvalue(r, 0, 0));
    PQclear(r);
    return rc;
}

int db_tenancy_is_owner(db_conn_t *c, const char *org, const char *unit, const char *resident)
{
    const char *v[] = {unit, resident, org};
    PGresult *r = db_exec(c, &owner_st, v);
    int rc = !db_ok(r) || PQntuples(r) != 1 ? -1 : PQgetvalue(r, 0, 0)[0] == 't';
    PQclear(r);
    return rc;
}

PGresult *db_tenancy_insert(db_conn_t *c, const tenancy_new_t *t, int pii)
{
    const char *v[] = {t->org,
                       t->project,
                       t->unit,
                       t->owner_resident,
                       t->tenant_resident,
                       t->tenant_name,
                       t->tenant_phone,
                       t->use,
                       t->term_start,
                       t->term_end,
                       t->id_type,
                       t->id_hash,
                       t->id_last4,
                       t->employer,
                       t->created_by,
                       pii ? "true" : "false"};
    return db_exec(c, &insert_st, v);
}

int db_tenancy_get(db_conn_t *c, const char *org, const char *id, int pii, char **json,
                   char project[40], char unit[40])
{
    const char *v[] = {id, org, pii ? "true" : "false"};
    PGresult *r = db_exec(c, &get_st, v);
    int rc = !db_ok(r) ? -1 : PQntuples(r) == 1;
    if (rc == 1) {
        *json = strdup(PQgetvalue(r, 0, 0));
        snprintf(project, 40, "%s", PQgetvalue(r, 0, 1));
        snprintf(unit, 40, "%s", PQgetvalue(r, 0, 2));
        if (!*json)
            rc = -1;
    }
    PQclear(r);
    return rc;
}

char *db_tenancy_list(db_conn_t *c, const char *org, const char *unit, int pii)
{
    const char *v[] = {unit, org, pii ? "true" : "false"};
    return db_exec_text(c, &list_st, v);
}

int db_tenancy_lock(db_conn_t *c, const char *org, const char *id, const char *user,
                    tenancy_locked_t *out)
{
    const char *v[] = {id, org, user};
    PGresult *r = db_exec(c, &lock_st, v);
    int rc = !db_ok(r) ? -1 : PQntuples(r) == 1;
    if (rc == 1) {
        snprintf(out->project, sizeof out->project, "%s", PQgetvalue(r, 0, 0));
        snprintf(out->unit, sizeof out->unit, "%s", PQgetvalue(r, 0, 1));
        out->today = strtoll(PQgetvalue(r, 0, 2), NULL, 10);
        out->term_start = strtoll(PQgetvalue(r, 0, 3), NULL, 10);
        out->term_end = strtoll(PQgetvalue(r, 0, 4), NULL, 10);
        out->termination_date = strtoll(PQgetvalue(r, 0, 5), NULL, 10);
        out->owner_signed = PQgetvalue(r, 0, 6)[0] == 't';
        out->supervisor_signed = PQgetvalue(r, 0, 7)[0] == 't';
        out->ended = PQgetvalue(r, 0, 8)[0] == 't';
        out->is_owner = PQgetvalue(r, 0, 9)[0] == 't';
    }
    PQclear(r);
    return rc;
}

PGresult *db_tenancy_sign(db_conn_t *c, const char *org, const char *id, const char *side,
                          const char *user, const char *end_date, const char *reason, int completes,
                          int pii)
{
    const char *v[] = {id,
                       org,
                       side,
                       user,
                       end_date,
                       reason,
                       completes ? "true" : "false",
                       pii ? "true" : "false"};
    return db_exec(c, &sign_st, v);
}
