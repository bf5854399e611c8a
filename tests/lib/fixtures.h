/*
 * tests/lib/fixtures.h — ids of the records the demo seed puts in the test database, for
 * the set-up of API and DB tests.  `org` is the organisation's code: "demo" (users
 * "agent", "supervisor", ...) or "other" (the second organisation th_start adds, users
 * "other.agent", ...).  Each copies the id into dst (40 bytes) and returns 0, or returns
 * -1 with a message when there is no such record, so a set-up can chain them with ||.
 */
#ifndef TESTS_FIXTURES_H
#define TESTS_FIXTURES_H

/* The organisation's project (each seeded organisation has one). */
int th_fx_project(const char *org, char dst[40]);
/* A building by code ("B1"), a unit by code ("1-101"). */
int th_fx_building(const char *org, const char *code, char dst[40]);
int th_fx_unit(const char *org, const char *code, char dst[40]);
/* A resident by name ("张伟"). */
int th_fx_resident(const char *org, const char *name, char dst[40]);
/* A department by kind ("engineering", "customer_service", "security"). */
int th_fx_dept(const char *org, const char *kind, char dst[40]);
/* A user by username (unique across organisations). */
int th_fx_user(const char *username, char dst[40]);

#endif
