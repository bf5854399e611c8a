/*
 * tests/core/test_strtab.c — the enum lists error messages name, rendered from the core
 * tables (one spelling of every enum), and the escalation ladder read both ways.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <string.h>

#include "core/request.h"
#include "core/roles.h"
#include "core/sla_request.h"
#include "core/strtab.h"

static void test_join(void **state)
{
    (void)state;
    static const char *const t[] = {"a", NULL, "bb", "ccc"};
    char buf[64];
    assert_int_equal(core_strtab_join(t, 4, buf, sizeof buf), strlen("a, bb, ccc"));
    assert_string_equal(buf, "a, bb, ccc");
    /* n < 0: up to the first NULL. */
    assert_int_equal(core_strtab_join(t, -1, buf, sizeof buf), 1);
    assert_string_equal(buf, "a");
    assert_int_equal(core_strtab_join(t, 0, buf, sizeof buf), 0);
    assert_string_equal(buf, "");
    /* Cut short, always terminated, the length needed returned. */
    char small[6];
    assert_int_equal(core_strtab_join(t, 4, small, sizeof small), strlen("a, bb, ccc"));
    assert_string_equal(small, "a, bb");
    char tiny[1] = {'x'};
    assert_int_equal(core_strtab_join(t, 4, tiny, sizeof tiny), strlen("a, bb, ccc"));
    assert_string_equal(tiny, "");
    assert_int_equal(core_strtab_join(t, 4, NULL, 0), strlen("a, bb, ccc"));
}

static void test_index_null_terminated(void **state)
{
    (void)state;
    assert_int_equal(core_strtab_index(core_role_names, -1, "admin"), ROLE_ADMIN);
    assert_int_equal(core_strtab_index(core_role_names, -1, "nobody"), -1);
    assert_null(core_role_names[ROLE__COUNT]);
    assert_null(core_dept_kind_names[DEPT__COUNT]);
    assert_int_equal(core_strtab_index(core_dept_kind_names, -1, "other"), DEPT_OTHER);
}

/* The lists the API's 422 details name, exactly as they read before they came from core. */
static void test_enum_lists(void **state)
{
    (void)state;
    char buf[256];
    core_request_severity_list(buf, sizeof buf);
    assert_string_equal(buf, "major, important, general");
    core_request_category_list(buf, sizeof buf);
    assert_string_equal(
        buf, "attitude, timeliness, quality, service_range, developer_legacy, fees, other");
    core_request_type_list(buf, sizeof buf);
    assert_string_equal(buf, "complaint, repair, inquiry, suggestion, praise, emergency");
    core_request_channel_list(buf, sizeof buf);
    assert_string_equal(buf, "phone, visit, letter, fax, app, web, email, night_desk, patrol, "
                             "integration, survey, other");
    core_request_pending_reason_list(buf, sizeof buf);
    assert_string_equal(buf, "customer, appointment, parts, developer, other");
    core_dept_kind_list(buf, sizeof buf);
    assert_string_equal(buf, "customer_service, engineering, security, cleaning, greenery, "
                             "finance, supplier, other");
    core_role_list(buf, sizeof buf);
    assert_string_equal(buf, "resident, agent, technician, security, supervisor, manager, "
                             "director, gm, clerk, integration, auditor, admin");
    core_sla_target_list(buf, sizeof buf);
    assert_string_equal(
        buf, "first_response, on_site, answer, resolution, handover, callback, gm_report");
}

static void test_ladder_both_ways(void **state)
{
    (void)state;
    static const char *const want[] = {"agent", "supervisor", "manager", "director", "gm"};
    assert_int_equal(sizeof want / sizeof want[0], ROLE_LADDER_TOP + 1);
    assert_int_equal(SLA_TOP_LEVEL, ROLE_LADDER_TOP);
    for (int l = 0; l <= ROLE_LADDER_TOP; l++) {
        int role = core_role_at_ladder_level(l);
        assert_true(role >= 0);
        assert_string_equal(core_role_name((role_t)role), want[l]);
        assert_int_equal(core_role_ladder_level((role_t)role), l);
    }
    assert_int_equal(core_role_at_ladder_level(-1), -1);
    assert_int_equal(core_role_at_ladder_level(ROLE_LADDER_TOP + 1), -1);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_join),
        cmocka_unit_test(test_index_null_terminated),
        cmocka_unit_test(test_enum_lists),
        cmocka_unit_test(test_ladder_both_ways),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
