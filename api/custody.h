/*
 * api/custody.h — what the custody handler files share: the ledger hash, a JSON string
 * reader, and the read-side handlers (api/custody_read.c) that api_custody_register() routes.
 */
#ifndef API_CUSTODY_H
#define API_CUSTODY_H

#include <cjson/cJSON.h>

#include "api/http.h"
#include "core/custody.h"
#include "db/custody.h"

/* The key area's name in the ledger tables, the hash before the first entry, and how many
 * entries verify reads at a time. */
#define AREA         "keys"
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
    const char *occurred_text; /* epoch seconds */
} append_in_t;

/* Members a posted entry may have (NULL-terminated). */
extern const char *const api_custody_entry_fields[];
int api_custody_known(const char *const *list, const char *name);
/* Optional members, each answering 422 (sent) and returning -1 when present but wrong. */
int api_custody_opt_str(req_t *r, const cJSON *o, const char *name, size_t max, const char **out);
int api_custody_opt_bool(req_t *r, const cJSON *o, const char *name, int *out);
int api_custody_opt_time(req_t *r, const cJSON *o, const char *name, int64_t *out);
int api_custody_opt_count(req_t *r, const cJSON *o, const char *name, int *out);
/* Parses the common entry fields of a posted body into *in.  -1 (sent) on bad input. */
int api_custody_parse_entry(req_t *r, db_conn_t *c, const char *project, const cJSON *b,
                            append_in_t *in, PGresult **keep, custody_person_t *actor);
void api_custody_append_in_free(append_in_t *in);
/* Loads a staff member as a custody person (api/custody.c). */
int api_custody_load_person(req_t *r, db_conn_t *c, const char *user, custody_person_t *p,
                            PGresult **keep);

/* Reads (api/custody_read.c). */
void api_custody_key_get_h(req_t *r);
void api_custody_entries_h(req_t *r);
void api_custody_verify_h(req_t *r);
void api_custody_key_list_h(req_t *r);
void api_custody_on_loan_h(req_t *r);
void api_custody_sealed_h(req_t *r);
void api_custody_discrepancies_h(req_t *r);

#endif
