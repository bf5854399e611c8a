/*
 * api/custody.h — what the custody handler files share: the ledger hash, a JSON string
 * reader, and the read-side handlers (api/custody_read.c) that api_custody_register() routes.
 */
#ifndef API_CUSTODY_H
#define API_CUSTODY_H

#include <cjson/cJSON.h>

#include "api/http.h"
#include "api/validate.h"
#include "core/custody.h"
#include "db/custody.h"

/* The hash before the first entry, and how many entries verify reads at a time. */
#define GENESIS      "0000000000000000000000000000000000000000000000000000000000000000"
#define VERIFY_BATCH 5000

/* hash = SHA-256(prev_hash ‖ canonical entry) as 64 hex digits; 0 / -1. */
int api_custody_chain_hash(const char *prev_hex, const char *canonical, char out[65]);
/* The string member name of o, or NULL. */
const char *api_custody_jstr(const cJSON *o, const char *name);

#define MAX_TEXT 4000

/* Everything an append needs besides the locked item (api/custody_entry.c fills it). */
typedef struct append_in {
    custody_key_entry_t e;
    cJSON *counterparty, *attachments, *details;
    const char *corrects;
} append_in_t;

/* Members a posted entry may have (NULL-terminated). */
extern const char *const api_custody_entry_fields[];
int api_custody_known(const char *const *list, const char *name);
/* Parses the common entry fields of a posted body into *in.  -1 (sent) on bad input. */
int api_custody_parse_entry(req_t *r, db_conn_t *c, const char *project, const cJSON *b,
                            append_in_t *in, PGresult **keep, custody_person_t *actor);
void api_custody_append_in_free(append_in_t *in);
/* Loads a staff member as a custody person (api/custody.c). */
int api_custody_load_person(req_t *r, db_conn_t *c, const char *user, custody_person_t *p,
                            PGresult **keep);

/* ---- the shared append path (api/custody_ledger.c) ----------------------------------
 * Every area appends the same way: lock the item → load the area's ledger state from the
 * row and `ext` → judge the entry (core) → insert the entry (and a service entry such as a
 * count discrepancy) with their hashes → store the derived state → notify → commit.  An
 * area gives its load/check/store callbacks and its names; the rest is shared. */

/* The locked item row as every area sees it (strings owned by res). */
typedef struct custody_row {
    PGresult *res;
    const char *id, *project, *kind, *state, *seal_number, *holder_id, *head, *due_back;
    const char *unit_id; /* NULL when none */
    int key_count, open_discrepancy, last_seq, fresh;
    int64_t last_occurred_at;
    cJSON *ext;
    int mail_remind_days, lost_unclaimed_days; /* the project's; 0: the server's default */
} custody_row_t;

/* What the area's store callback hands back for the shared path to write. */
typedef struct custody_outcome {
    cJSON *approvals, *witnesses; /* the entry's arrays (owned; NULL = []) */
    const char *state, *seal_number, *holder_id;
    const char *due_back; /* RFC 3339 or NULL */
    int open_discrepancy;
    cJSON *ext; /* the item's new ext (owned) */
    /* an entry the service writes after the posted one (a short count's discrepancy) */
    const char *extra_action, *extra_purpose;
    cJSON *extra_details;    /* owned; the shared path adds "entry_id" */
    const char *notify_kind; /* notify the project's CS managers, NULL: nobody */
    char buf[96];            /* room for a formatted due time */
} custody_outcome_t;

typedef struct custody_area_ops {
    const char *area;   /* custody_items.area */
    const char *noun;   /* "key set", in 404 texts */
    const char *member; /* the item's member in a 201 answer ("key_set") */
    az_action_t read_az;
    /* Reads the area's ledger state from the row into ctx. */
    void (*load)(void *ctx, const custody_row_t *row);
    /* Judges the entry in ctx against the loaded state at time now (keeps the next state). */
    custody_verdict_t (*check)(void *ctx, int64_t now);
    /* Describes the stored state after the allowed entry. */
    void (*store)(void *ctx, const custody_row_t *row, custody_outcome_t *o);
    /* The area's state and kind names (list filters): *_from_string. */
    int (*state_from)(const char *s);
    int (*kind_from)(const char *s);
} custody_area_ops_t;

/* A daily list of an area (route data of api_custody_daily_h). */
typedef struct custody_daily {
    const custody_area_ops_t *ops;
    const char *states;     /* comma-separated */
    int with_discrepancies; /* also items with an open discrepancy */
    int due_only;           /* only items past their due time */
} custody_daily_t;

/* The area-neutral parts of a posted entry (borrowed). */
typedef struct custody_post {
    const char *action, *purpose, *corrects;
    int64_t occurred_at; /* 0: now */
    const cJSON *counterparty, *attachments, *details;
} custody_post_t;

/* Locks item id of the area and checks the caller's scope for az; 404/403 (sent) and -1. */
int api_custody_lock(req_t *r, db_conn_t *c, const custody_area_ops_t *ops, const char *id,
                     az_action_t az, custody_row_t *row);
void api_custody_row_free(custody_row_t *row);
/* Judges and writes the entry against the locked row; answers the request and ends the
 * transaction either way. */
void api_custody_append(req_t *r, db_conn_t *c, const custody_area_ops_t *ops,
                        const custody_row_t *row, void *ctx, const custody_post_t *p);
/* Answers a refusal of the rules. */
void api_custody_problem(req_t *r, custody_verdict_t v);
/* The caller as a custody person (role from the token); -1 (sent) when gone. */
int api_custody_load_actor(req_t *r, db_conn_t *c, custody_person_t *actor, PGresult **keep);

/* A counterparty as the rules see it. */
typedef struct custody_party {
    custody_party_kind_t kind;
    custody_person_t user; /* kind CP_USER */
    const char *id_type;   /* an ID document was shown (NULL: none) */
    const char *id_hash;   /* its keyed hash (valid while the normalised object lives) */
} custody_party_t;
/* Validates a posted counterparty against the project, normalised into *out (ID numbers
 * become id_type, id_hash, id_last4).  -1 (sent) on bad input. */
int api_custody_parse_party(req_t *r, db_conn_t *c, const char *project, const cJSON *v,
                            custody_party_t *p, cJSON **out, PGresult **keep);
/* Attachments metadata into *out, counted in *n.  -1 (sent). */
int api_custody_parse_attachments(req_t *r, const cJSON *v, int *n, cJSON **out);

/* Reads (api/custody_read.c); the area comes from the route's data (custody_area_ops_t). */
void api_custody_item_get_h(req_t *r);
void api_custody_entries_h(req_t *r);
void api_custody_verify_h(req_t *r);
void api_custody_key_list_h(req_t *r);
/* GET of an area's register (filters project_id, state, kind; residents see their units). */
void api_custody_area_list_h(req_t *r);
/* GET /v1/custody/heads: the daily head hashes of every custody ledger. */
void api_custody_heads_h(req_t *r);
/* GET of a daily list (custody_daily_t). */
void api_custody_daily_h(req_t *r);
/* Registers an area's item routes under base ("/v1/mail"): GET base/{id}, GET/POST
 * base/{id}/entries, GET base/{id}/verify. */
void api_custody_item_routes(const char *base, const custody_area_ops_t *ops,
                             handler_fn entry_post);
/* A user holds archive files or keys on loan: 1, 0, -1 (sent).  For user deactivation. */
int api_custody_user_has_loans(req_t *r, db_conn_t *c, const char *user);
/* A whole-number setting from the environment within [lo, hi], or def. */
int api_custody_env_days(const char *name, int def, int lo, int hi);
void api_custody_on_loan_h(req_t *r);
void api_custody_sealed_h(req_t *r);
void api_custody_discrepancies_h(req_t *r);

#endif
