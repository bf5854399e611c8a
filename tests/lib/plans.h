/*
 * tests/lib/plans.h — the request list query for the tests that prove a list or search keeps
 * its index and its answers (tests/db/test_list_plan.c, test_list_search2.c): its EXPLAIN
 * (FORMAT JSON) walked node by node — each test keeps its own tally (scans of requests,
 * BitmapAnd nodes, planned rows of the search index) — and its pages compared with a plain
 * substring scan.
 */
#ifndef TESTS_PLANS_H
#define TESTS_PLANS_H

#include <cjson/cJSON.h>
#include <stddef.h>

#include "db/db.h"
#include "db/request.h"

/* Called for every plan node (every JSON object of the plan), depth first. */
typedef void (*th_plan_visit_fn)(const cJSON *node, void *arg);

/* A node's string field (NULL when absent) and number field (-1 when absent). */
const char *th_plan_str(const cJSON *node, const char *key);
double th_plan_num(const cJSON *node, const char *key);
/* 1 when the node's "Node Type" is type. */
int th_plan_is(const cJSON *node, const char *type);
/* Appends "<Node Type> <Index Name>" of a node that reads an index to used (", " between
 * them); nothing for other nodes. */
void th_plan_note_index(const cJSON *node, char *used, size_t len);

/* EXPLAIN (ANALYZE, FORMAT JSON) of db_request_list_sql(f) on th_db(), visit called for
 * each node.  Fails the running test (naming `name` and showing the SQL) when the list SQL
 * cannot be built or EXPLAIN fails. */
void th_explain_list(const char *name, const request_filter_t *f, th_plan_visit_fn visit,
                     void *arg);

/* The ids a plain substring scan (strpos over title, description and number) finds for f —
 * its organisation, q, type, cursor, project_id or projects, open — newest first, at most
 * limit: what db_request_list must answer.  Comma-separated (free it). */
char *th_list_reference(const request_filter_t *f, int limit);
/* db_request_list's ids for f, comma-separated (free it); the cursor the API hands out (the
 * page's last row) into ts / id, "" when the answer has at most one row.  Fails the running
 * test when the list fails. */
char *th_list_ids(db_conn_t *c, const request_filter_t *f, char ts[64], char id[40]);
/* Up to `pages` pages of f (f->limit rows each: one more than a page, as the API asks)
 * listed by db_request_list and compared with th_list_reference, following the cursor until
 * a page is short; fails the running test naming `what` and the page.  f's cursor is left at
 * the last page compared (it points into static storage).  Returns the pages compared. */
int th_list_pages_match(db_conn_t *c, request_filter_t *f, int pages, const char *what);

#endif
