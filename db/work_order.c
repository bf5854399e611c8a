/* db/work_order.c — work-order reads: one work order with its scope, and the list. */
#include "db/work_order.h"

#include <stdio.h>
#include <string.h>

#define WO_JSON                                                                                    \
    "json_build_object('id', w.id, 'organisation_id', w.org_id, 'project_id', w.project_id, "      \
    "'request_id', w.request_id, 'request_number', r.number, 'number', w.number, "                 \
    "'department_id', w.department_id, 'assignee_id', w.assignee_id, 'state', w.state, "           \
    "'request_state', r.state, 'request_type', r.type, 'location', json_build_object('kind', "     \
    "r.location_kind, 'unit_id', r.unit_id, 'common_area', r.common_area), 'description', "        \
    "r.description, 'appointment_at', rfc3339(w.appointment_at), 'dispatched_at', "                \
    "rfc3339(w.dispatched_at), 'accepted_at', rfc3339(w.accepted_at), 'arrived_at', "              \
    "rfc3339(w.arrived_at), 'reported_at', rfc3339(w.reported_at), 'result', w.result, "           \
    "'signed_at', rfc3339(w.signed_at), 'signer', CASE WHEN w.signer_kind IS NOT NULL THEN "       \
    "json_build_object('kind', w.signer_kind, 'resident_id', w.signer_resident_id, 'user_id', "    \
    "w.signer_user_id, 'name', w.signer_name) END, 'decline', CASE WHEN w.state = 'declined' "     \
    "THEN json_build_object('reason', w.decline_reason, 'note', w.decline_note, 'by', "            \
    "w.declined_by, 'at', rfc3339(w.declined_at)) END, 'version', w.version, 'created_at', "       \
    "rfc3339(w.created_at), 'updated_at', rfc3339(w.updated_at))"

static const db_stmt_t wo_get = {
    "wo_get",
    "SELECT " WO_JSON "::text, w.project_id, w.department_id FROM work_orders w JOIN requests r "
    "ON r.id = w.request_id WHERE w.id = $1 AND w.org_id = $2",
    2};
static const db_stmt_t wo_list = {
    "wo_list",
    "SELECT " WO_JSON "::text, rfc3339(w.created_at), w.id FROM work_orders w JOIN requests r ON "
    "r.id = w.request_id WHERE w.org_id = $1 AND ($2::uuid[] IS NULL OR w.project_id = "
    "ANY($2::uuid[])) AND ($3::uuid IS NULL OR w.department_id = $3) AND ($4::uuid IS NULL OR "
    "w.department_id = $4) AND ($5::text IS NULL OR w.state = $5) AND ($6::uuid IS NULL OR "
    "w.assignee_id = $6) AND ($7::uuid IS NULL OR w.request_id = $7) AND ($8::timestamptz IS "
    "NULL OR (w.created_at, w.id) < ($8::timestamptz, $9::uuid)) "
    "ORDER BY w.created_at DESC, w.id DESC LIMIT $10",
    10};

int db_workorder_get(db_conn_t *c, const char *id, const char *org, char **json, wo_scope_t *sc)
{
    const char *v[] = {id, org};
    PGresult *r = db_exec(c, &wo_get, v);
    int rc = db_ok(r) ? PQntuples(r) > 0 : -1;
    if (rc == 1) {
        if (!(*json = strdup(PQgetvalue(r, 0, 0))))
            rc = -1; /* out of memory */
        snprintf(sc->project_id, sizeof sc->project_id, "%s", PQgetvalue(r, 0, 1));
        snprintf(sc->department_id, sizeof sc->department_id, "%s", PQgetvalue(r, 0, 2));
    }
    PQclear(r);
    return rc;
}

PGresult *db_workorder_list(db_conn_t *c, const char *org, const char *projects,
                            const char *dept_only, const char *department_id, const char *state,
                            const char *assignee_id, const char *request_id, const char *after_ts,
                            const char *after_id, int limit)
{
    char lim[16];
    snprintf(lim, sizeof lim, "%d", limit);
    const char *v[] = {org,         projects,   dept_only, department_id, state,
                       assignee_id, request_id, after_ts,  after_id,      lim};
    /* Unnamed, so it is planned with the actual filters (a generic plan cannot use the
     * right index for "$n IS NULL OR col = $n"). */
    return db_query(c, wo_list.sql, wo_list.nparams, v);
}
