/*
 * tests/lib/plans.h — EXPLAIN (FORMAT JSON) of the request list query, walked node by node,
 * for the tests that prove a list or search keeps its index (tests/db/test_list_plan.c,
 * test_list_search2.c).  Each test keeps its own tally (what it counts differs: scans of
 * requests, BitmapAnd nodes, planned rows of the search index); the EXPLAIN, its parsing
 * and the walk are here once.
 */
#ifndef TESTS_PLANS_H
#define TESTS_PLANS_H

#include <cjson/cJSON.h>
#include <stddef.h>

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

#endif
