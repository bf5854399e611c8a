/*
 * tests/api/test_create_triggers.c — a staff create does request_intake_flow()'s work in the
 * create statement and the trigger is not fired (0044): the row is the one the trigger
 * gives.  For staff creates of several kinds (a repair with and without an earlier repair of
 * the unit closed within 30 days, with a category, a common-area complaint), a copy of the
 * row inserted the way any other writer does (staff_created false, no owner, no repeat
 * link, no first receiver: the trigger fills them) gets the same first receiver, owner,
 * repeat link and repeat flag.  A resident's create still goes through the trigger (no
 * first receiver or owner; its repeat link found by the trigger).  And the triggers' WHEN
 * clauses: request_facts is not fired for a staff create event, request_intake_flow for a
 * staff-created row.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "tests/lib/expect.h"
#include "tests/lib/fixtures.h"
#include "tests/lib/harness.h"
#include "tests/lib/requests.h"

static char unit101[40], unit2101[40], proj[40], agent[40];

static int setup(void **state)
{
    const char *env[] = {"DESK_SWEEP_INTERVAL_MS=0", NULL};
    (void)state;
    if (th_start(env) != 0 || th_fx_unit("demo", "1-101", unit101) ||
        th_fx_unit("demo", "2-101", unit2101) || th_fx_project("demo", proj) ||
        th_fx_user("agent", agent))
        return -1;
    return 0;
}

static void repair(const char *user, const char *unit, const char *category, char id[40])
{
    char body[1024];
    snprintf(body, sizeof body,
             "{\"type\":\"repair\",\"channel\":\"phone\",%s%s%s\"location\":{\"unit_id\":\"%s\"},"
             "%s\"description\":\"门锁坏了\"}",
             category ? "\"category\":\"" : "", category ? category : "", category ? "\"," : "",
             unit, strcmp(user, "resident") ? "\"reporter\":{\"name\":\"王先生\"}," : "");
    th_free(th_create_request_at(__LINE__, user, body, id));
}

static void closed_days_ago(const char *id, int days)
{
    char d[16];
    snprintf(d, sizeof d, "%d", days);
    const char *p[] = {id, d};
    assert_non_null(th_sql1("UPDATE requests SET state = 'closed', closed_at = now() - $2::int * "
                            "interval '1 day' WHERE id = $1 RETURNING id",
                            p, 2));
}

/* intake(id): "first_receiver|owner|repeat_of|is_repeat" of the request. */
static const char *intake(const char *id)
{
    const char *p[] = {id};
    return th_sql1("SELECT concat_ws('|', coalesce(first_receiver_id::text, '-'), "
                   "coalesce(owner_id::text, '-'), coalesce(repeat_of::text, '-'), is_repeat) "
                   "FROM requests WHERE id = $1",
                   p, 1);
}

/* The row of staff create id equals a copy of it that request_intake_flow() completes. */
static void same_as_trigger(const char *id)
{
    char mine[200];
    const char *m = intake(id);
    assert_non_null(m);
    snprintf(mine, sizeof mine, "%s", m);
    const char *p[] = {id};
    assert_string_equal(th_sql1("SELECT staff_created FROM requests WHERE id = $1", p, 1), "t");
    const char *copy = th_sql1(
        "INSERT INTO requests (org_id, project_id, number, type, channel, severity, category, "
        "location_kind, unit_id, common_area, reporter_name, description, received_at, "
        "last_event_at, created_by, search_terms) SELECT org_id, project_id, number || '-copy', "
        "type, channel, severity, category, location_kind, unit_id, common_area, reporter_name, "
        "description, received_at, last_event_at, created_by, '{}' FROM requests WHERE id = $1 "
        "RETURNING concat_ws('|', coalesce(first_receiver_id::text, '-'), "
        "coalesce(owner_id::text, '-'), coalesce(repeat_of::text, '-'), is_repeat)",
        p, 1);
    assert_non_null(copy);
    if (strcmp(mine, copy) != 0)
        fail_msg("request %s: create %s, trigger %s", id, mine, copy);
}

static void test_staff_create_is_what_the_trigger_gives(void **state)
{
    (void)state;
    char a[40], b[40], c[40], d[40], e[40], body[1024];
    /* no earlier repair of the unit */
    repair("agent", unit2101, NULL, a);
    same_as_trigger(a);
    char want[200];
    snprintf(want, sizeof want, "%s|%s|-|f", agent, agent);
    assert_string_equal(intake(a), want);
    /* an earlier one closed 5 days ago: a repeat */
    closed_days_ago(a, 5);
    repair("agent", unit2101, NULL, b);
    snprintf(want, sizeof want, "%s|%s|%s|t", agent, agent, a);
    assert_string_equal(intake(b), want);
    same_as_trigger(b);
    /* with a category: only a closed repair of the same category counts */
    repair("technician", unit2101, "quality", c);
    same_as_trigger(c);
    closed_days_ago(c, 2);
    repair("agent", unit2101, "quality", d);
    same_as_trigger(d);
    const char *pd[] = {d};
    assert_string_equal(th_sql1("SELECT repeat_of FROM requests WHERE id = $1", pd, 1), c);
    /* closed more than 30 days ago: none */
    closed_days_ago(d, 31);
    closed_days_ago(c, 40);
    repair("agent", unit2101, "quality", e);
    same_as_trigger(e);
    assert_string_equal(
        th_sql1("SELECT is_repeat FROM requests WHERE id = $1", (const char *[]){e}, 1), "f");
    /* a complaint in a common area: no look-up at all */
    snprintf(body, sizeof body,
             "{\"type\":\"complaint\",\"channel\":\"visit\",\"severity\":\"general\","
             "\"project_id\":\"%s\",\"location\":{\"common_area\":\"大堂\"},"
             "\"reporter\":{\"name\":\"李\"},\"description\":\"噪音\"}",
             proj);
    th_free(th_create_request_at(__LINE__, "agent", body, a));
    same_as_trigger(a);
}

static void test_resident_create_goes_through_the_trigger(void **state)
{
    (void)state;
    char a[40], b[40];
    repair("agent", unit101, NULL, a);
    closed_days_ago(a, 3);
    repair("resident", unit101, NULL, b);
    char want[200];
    snprintf(want, sizeof want, "-|-|%s|t", a);
    assert_string_equal(intake(b), want);
    const char *p[] = {b};
    assert_string_equal(th_sql1("SELECT staff_created FROM requests WHERE id = $1", p, 1), "f");
}

/* The WHEN clauses as the catalog holds them (0044). */
static void test_when_clauses(void **state)
{
    (void)state;
    const char *facts = th_sql1("SELECT pg_get_triggerdef(oid) FROM pg_trigger WHERE tgname = "
                                "'request_facts' AND tgrelid = 'request_events'::regclass",
                                NULL, 0);
    assert_non_null(facts);
    assert_non_null(strstr(facts, "<> 'create'"));
    const char *flow = th_sql1("SELECT pg_get_triggerdef(oid) FROM pg_trigger WHERE tgname = "
                               "'request_intake_flow'",
                               NULL, 0);
    assert_non_null(flow);
    assert_non_null(strstr(flow, "WHEN ((NOT new.staff_created))"));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_staff_create_is_what_the_trigger_gives),
        cmocka_unit_test(test_resident_create_goes_through_the_trigger),
        cmocka_unit_test(test_when_clauses),
    };
    return cmocka_run_group_tests(tests, setup, th_group_stop);
}
