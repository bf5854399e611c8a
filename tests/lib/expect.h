/*
 * tests/lib/expect.h — cmocka expectations shared by the API tests: an answer's status, a
 * problem+json answer, a count from the database.  A failed expectation fails the running
 * test with the caller's line and the answer's body.
 */
#ifndef TESTS_EXPECT_H
#define TESTS_EXPECT_H

#include "tests/lib/harness.h"

/* The answer has HTTP status st (the answer is left to the caller). */
void th_expect_status_at(int line, const th_resp_t *r, long st);
#define EXPECT_STATUS(r, st) th_expect_status_at(__LINE__, (r), (st))

/* The answer is application/problem+json with status st, the code (when not NULL) and a
 * detail; frees the answer. */
void th_expect_problem_at(int line, th_resp_t *r, long st, const char *code);
#define EXPECT_PROBLEM(r, st, code) th_expect_problem_at(__LINE__, (r), (st), (code))

/* The one value of a query (nparams parameters) as a number; fails the test when the query
 * fails or returns no row. */
long th_sql_long(const char *sql, const char *const *params, int nparams);

/* What a refused call must leave alone: the one value of sql with $1 = id, malloc'd
 * ("(missing)" when there is none); and the check that it is still `before` (fails the
 * running test with both values otherwise). */
char *th_snapshot(const char *sql, const char *id);
void th_expect_snapshot_at(int line, const char *sql, const char *id, const char *before);

#endif
