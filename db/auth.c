/* db/auth.c — SQL for logins, failed-login throttling and refresh-token rotation. */
#include "db/auth.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define USER_COLS                                                                                  \
    "SELECT id, org_id, role, coalesce(department_id::text, ''), "                                 \
    "coalesce(resident_id::text, ''), password_hash, active, "                                     \
    "greatest(0, ceil(extract(epoch FROM locked_until - now())))::int, "                           \
    "(SELECT o.active FROM organisations o WHERE o.id = users.org_id) FROM users "

static const db_stmt_t find_user = {"auth_find_user", USER_COLS "WHERE lower(username) = lower($1)",
                                    1};
static const db_stmt_t find_user_id = {"auth_find_user_id", USER_COLS "WHERE id = $1", 1};
static const db_stmt_t scope = {
    "auth_scope",
    "SELECT CASE WHEN $2::uuid IS NULL THEN "
    "  coalesce((SELECT json_agg(project_id ORDER BY project_id) FROM user_projects WHERE "
    "user_id = $1), '[]') "
    "ELSE coalesce((SELECT json_agg(DISTINCT u.project_id) FROM resident_scope_units($2) s "
    "JOIN units u ON u.id = s), '[]') END, "
    "coalesce((SELECT json_agg(s ORDER BY s) FROM resident_scope_units($2) s), '[]')",
    2};
static const db_stmt_t failed = {
    "auth_failed",
    "UPDATE users SET failed_logins = failed_logins + 1 "
    "WHERE id = $1 RETURNING greatest(0, ceil(extract(epoch FROM locked_until - now())))::int",
    1};
static const db_stmt_t ok = {"auth_ok",
                             "UPDATE users SET failed_logins = 0, locked_until = NULL "
                             "WHERE id = $1 AND (failed_logins <> 0 OR locked_until IS NOT NULL)",
                             1};
static const db_stmt_t rt_insert = {
    "auth_rt_insert",
    "INSERT INTO refresh_tokens (org_id, user_id, family_id, token_hash, expires_at) "
    "VALUES ($1, $2, coalesce($3::uuid, gen_random_uuid()), $4, now() + make_interval(secs => "
    "$5::int))",
    5};
static const db_stmt_t rt_use = {
    "auth_rt_use",
    "UPDATE refresh_tokens SET used_at = now() WHERE token_hash = $1 AND used_at IS NULL "
    "AND revoked_at IS NULL AND expires_at > now() RETURNING user_id, family_id",
    1};
static const db_stmt_t rt_reuse = {
    "auth_rt_reuse",
    "UPDATE refresh_tokens SET revoked_at = now() WHERE revoked_at IS NULL AND family_id = "
    "(SELECT family_id FROM refresh_tokens WHERE token_hash = $1 AND used_at IS NOT NULL)",
    1};
static const db_stmt_t rt_revoke = {
    "auth_rt_revoke",
    "UPDATE refresh_tokens SET revoked_at = now() WHERE revoked_at IS NULL AND family_id = "
    "(SELECT family_id FROM refresh_tokens WHERE token_hash = $1)",
    1};
static const db_stmt_t rt_revoke_user = {
    "auth_rt_revoke_user",
    "UPDATE refresh_tokens SET revoked_at = now() WHERE user_id = $1 AND revoked_at IS NULL "
    "AND expires_at > now()",
    1};
static const db_stmt_t me = {
    "auth_me",
    "SELECT json_build_object('id', u.id, 'organisation_id', u.org_id, 'username', u.username, "
    "'display_name', u.display_name, 'role', u.role, 'department_id', u.department_id, "
    "'resident_id', u.resident_id, 'phone', u.phone, 'active', u.active, "
    "'project_ids', coalesce((SELECT json_agg(project_id ORDER BY project_id) FROM user_projects "
    "p WHERE p.user_id = u.id), '[]'), "
    "'units', coalesce((SELECT json_agg(json_build_object('unit_id', ru.unit_id, 'relation', "
    "ru.relation, 'is_adult', ru.is_adult) ORDER BY ru.unit_id) FROM resident_units ru WHERE "
    "ru.resident_id = u.resident_id), '[]'), "
    "'created_at', rfc3339(u.created_at), 'updated_at', rfc3339(u.updated_at))::text "
    "FROM users u WHERE u.id = $1 AND u.org_id = $2",
    2};

static int fill_user(PGresult *r, db_login_user_t *u)
{
    if (!db_ok(r)) {
        PQclear(r);
        return -1;
    }
    if (PQntuples(r) == 0) {
        PQclear(r);
        return 0;
    }
    snprintf(u->id, sizeof u->id, "%s", PQgetvalue(r, 0, 0));
    snprintf(u->org_id, sizeof u->org_id, "%s", PQgetvalue(r, 0, 1));
    snprintf(u->role, sizeof u->role, "%s", PQgetvalue(r, 0, 2));
    snprintf(u->dept_id, sizeof u->dept_id, "%s", PQgetvalue(r, 0, 3));
    snprintf(u->resident_id, sizeof u->resident_id, "%s", PQgetvalue(r, 0, 4));
    snprintf(u->password_hash, sizeof u->password_hash, "%s", PQgetvalue(r, 0, 5));
    u->active = PQgetvalue(r, 0, 6)[0] == 't';
    u->locked_secs = atoi(PQgetvalue(r, 0, 7));
    u->org_active = PQgetvalue(r, 0, 8)[0] == 't';
    PQclear(r);
    return 1;
}

int db_auth_find_user(db_conn_t *c, const char *username, db_login_user_t *u)
{
    const char *v[] = {username};
    return fill_user(db_exec(c, &find_user, v), u);
}

int db_auth_find_user_by_id(db_conn_t *c, const char *id, db_login_user_t *u)
{
    const char *v[] = {id};
    return fill_user(db_exec(c, &find_user_id, v), u);
}

int db_auth_scope(db_conn_t *c, const db_login_user_t *u, char **prj_json, char **units_json)
{
    const char *v[] = {u->id, u->resident_id[0] ? u->resident_id : NULL};
    PGresult *r = db_exec(c, &scope, v);
    if (!db_ok(r) || PQntuples(r) != 1) {
        PQclear(r);
        return -1;
    }
    *prj_json = strdup(PQgetvalue(r, 0, 0));
    *units_json = strdup(PQgetvalue(r, 0, 1));
    PQclear(r);
    return 0;
}

int db_auth_login_failed(db_conn_t *c, const char *user_id, int *locked_secs)
{
    const char *v[] = {user_id};
    PGresult *r = db_exec(c, &failed, v);
    int rc = db_ok(r) ? 0 : -1;
    *locked_secs = rc == 0 && PQntuples(r) ? atoi(PQgetvalue(r, 0, 0)) : 0;
    PQclear(r);
    return rc;
}

static int exec_ok(db_conn_t *c, const db_stmt_t *st, const char *const *v)
{
    PGresult *r = db_exec(c, st, v);
    int rc = db_ok(r) ? 0 : -1;
    PQclear(r);
    return rc;
}

int db_auth_login_ok(db_conn_t *c, const char *user_id)
{
    const char *v[] = {user_id};
    return exec_ok(c, &ok, v);
}

int db_auth_refresh_insert(db_conn_t *c, const char *org_id, const char *user_id,
                           const char *family, const char *hash, int ttl_secs)
{
    char ttl[16];
    snprintf(ttl, sizeof ttl, "%d", ttl_secs);
    const char *v[] = {org_id, user_id, family, hash, ttl};
    return exec_ok(c, &rt_insert, v);
}

int db_auth_refresh_use(db_conn_t *c, const char *hash, char *user_id, char *family)
{
    const char *v[] = {hash};
    PGresult *r = db_exec(c, &rt_use, v);
    if (!db_ok(r)) {
        PQclear(r);
        return -1;
    }
    if (PQntuples(r) == 1) {
        snprintf(user_id, 40, "%s", PQgetvalue(r, 0, 0));
        snprintf(family, 40, "%s", PQgetvalue(r, 0, 1));
        PQclear(r);
        return 1;
    }
    PQclear(r);
    /* A token that was already used is being replayed: revoke everything it led to. */
    return exec_ok(c, &rt_reuse, v) == 0 ? 0 : -1;
}

int db_auth_refresh_revoke(db_conn_t *c, const char *hash)
{
    const char *v[] = {hash};
    return exec_ok(c, &rt_revoke, v);
}

int db_auth_refresh_revoke_user(db_conn_t *c, const char *user_id)
{
    const char *v[] = {user_id};
    return exec_ok(c, &rt_revoke_user, v);
}

int db_auth_me(db_conn_t *c, const char *user_id, const char *org_id, char **out)
{
    const char *v[] = {user_id, org_id};
    PGresult *r = db_exec(c, &me, v);
    int rc = db_ok(r) ? PQntuples(r) == 1 : -1;
    *out = rc == 1 ? strdup(PQgetvalue(r, 0, 0)) : NULL;
    PQclear(r);
    return rc;
}
