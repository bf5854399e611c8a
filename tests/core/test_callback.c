/*
 * tests/core/test_callback.c — the callback rules of core/callback.c (RULES §3.1): the
 * rating enum and its labels, the derived outcome, who gets a task and who may call it,
 * what an attempt must carry (and a contradicting client outcome), the give-up rule, the
 * task's states and the month's figures.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <string.h>

#include "core/callback.h"

static void test_rating_codes_and_labels(void **state)
{
    (void)state;
    static const struct {
        const char *in;
        int want;
    } cases[] = {
        {"very_satisfied", CB_RATING_VERY_SATISFIED},
        {"非常满意", CB_RATING_VERY_SATISFIED},
        {"satisfied", CB_RATING_SATISFIED},
        {"满意", CB_RATING_SATISFIED},
        {"average", CB_RATING_NEUTRAL},
        {"neutral", CB_RATING_NEUTRAL},
        {"一般", CB_RATING_NEUTRAL},
        {"dissatisfied", CB_RATING_DISSATISFIED},
        {"不满意", CB_RATING_DISSATISFIED},
        {"very_dissatisfied", CB_RATING_VERY_DISSATISFIED},
        {"极不满意", CB_RATING_VERY_DISSATISFIED},
        {"很满意", -1}, /* the survey scale, not the callback one */
        {"Satisfied", -1},
        {"", -1},
        {NULL, -1},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++)
        assert_int_equal(core_callback_rating_from_string(cases[i].in), cases[i].want);
    assert_string_equal(core_callback_rating_label(CB_RATING_NEUTRAL), "一般");
    assert_string_equal(core_callback_rating_name(CB_RATING_VERY_DISSATISFIED),
                        "very_dissatisfied");
    assert_null(core_callback_rating_label(CB_RATING__COUNT));
    char buf[128];
    core_callback_rating_list(buf, sizeof buf);
    assert_string_equal(buf, "very_satisfied, satisfied, average, dissatisfied, very_dissatisfied");
    int sat[] = {1, 1, 0, 0, 0};
    for (int r = 0; r < CB_RATING__COUNT; r++)
        assert_int_equal(core_callback_rating_satisfied((callback_rating_t)r), sat[r]);
    assert_int_equal(core_callback_rating_satisfied(CB_RATING__COUNT), -1);
}

static void test_derived_outcome(void **state)
{
    (void)state;
    /* rows: rating; columns: complaint, repair, emergency, inquiry */
    static const request_type_t types[] = {REQ_TYPE_COMPLAINT, REQ_TYPE_REPAIR, REQ_TYPE_EMERGENCY,
                                           REQ_TYPE_INQUIRY};
    static const int want[CB_RATING__COUNT][4] = {
        {CB_OUTCOME_CLOSED, CB_OUTCOME_CLOSED, CB_OUTCOME_CLOSED, CB_OUTCOME_CLOSED},
        {CB_OUTCOME_CLOSED, CB_OUTCOME_CLOSED, CB_OUTCOME_CLOSED, CB_OUTCOME_CLOSED},
        {CB_OUTCOME_CLOSED, CB_OUTCOME_CLOSED, CB_OUTCOME_CLOSED, CB_OUTCOME_CLOSED},
        {CB_OUTCOME_REOPENED, CB_OUTCOME_FOLLOW_UP_COMPLAINT, CB_OUTCOME_REOPENED,
         CB_OUTCOME_REOPENED},
        {CB_OUTCOME_REOPENED, CB_OUTCOME_FOLLOW_UP_COMPLAINT, CB_OUTCOME_REOPENED,
         CB_OUTCOME_REOPENED},
    };
    for (int r = 0; r < CB_RATING__COUNT; r++)
        for (int t = 0; t < 4; t++)
            assert_int_equal(core_callback_outcome(types[t], (callback_rating_t)r), want[r][t]);
}

static void test_who_gets_a_task(void **state)
{
    (void)state;
    assert_true(core_callback_automatic(REQ_TYPE_COMPLAINT, REQ_VALIDITY_VALID));
    assert_true(core_callback_automatic(REQ_TYPE_COMPLAINT, REQ_VALIDITY_UNKNOWN));
    assert_false(core_callback_automatic(REQ_TYPE_COMPLAINT, REQ_VALIDITY_INVALID));
    assert_true(core_callback_automatic(REQ_TYPE_REPAIR, REQ_VALIDITY_UNKNOWN));
    assert_true(core_callback_automatic(REQ_TYPE_EMERGENCY, REQ_VALIDITY_UNKNOWN));
    assert_false(core_callback_automatic(REQ_TYPE_INQUIRY, REQ_VALIDITY_UNKNOWN));
    assert_true(core_callback_on_demand(REQ_TYPE_INQUIRY, REQ_VALIDITY_UNKNOWN));
    assert_true(core_callback_on_demand(REQ_TYPE_SUGGESTION, REQ_VALIDITY_UNKNOWN));
    assert_true(core_callback_on_demand(REQ_TYPE_COMPLAINT, REQ_VALIDITY_INVALID));
    assert_false(core_callback_on_demand(REQ_TYPE_REPAIR, REQ_VALIDITY_UNKNOWN));
    assert_int_equal(core_callback_kind_for(REQ_TYPE_EMERGENCY), CB_KIND_REPAIR);
    assert_int_equal(core_callback_kind_for(REQ_TYPE_COMPLAINT), CB_KIND_COMPLAINT);
    assert_int_equal(core_callback_kind_for(REQ_TYPE_SUGGESTION), CB_KIND_OTHER);
    assert_int_equal(core_callback_min_role(REQ_TYPE_COMPLAINT, REQ_SEVERITY_MAJOR),
                     ROLE_SUPERVISOR);
    assert_int_equal(core_callback_min_role(REQ_TYPE_COMPLAINT, REQ_SEVERITY_IMPORTANT),
                     ROLE_SUPERVISOR);
    assert_int_equal(core_callback_min_role(REQ_TYPE_COMPLAINT, REQ_SEVERITY_GENERAL), ROLE_AGENT);
    assert_int_equal(core_callback_min_role(REQ_TYPE_COMPLAINT, -1), ROLE_AGENT);
    assert_int_equal(core_callback_min_role(REQ_TYPE_REPAIR, -1), ROLE_AGENT);
}

static void test_who_may_call(void **state)
{
    (void)state;
    static const struct {
        role_t role;
        int has_dept;
        dept_kind_t kind;
        int did, active;
        role_t min;
        const char *code; /* NULL: allowed */
    } cases[] = {
        {ROLE_AGENT, 1, DEPT_CUSTOMER_SERVICE, 0, 1, ROLE_AGENT, NULL},
        {ROLE_AGENT, 0, DEPT_OTHER, 0, 1, ROLE_AGENT, NULL},
        {ROLE_AGENT, 1, DEPT_ENGINEERING, 0, 1, ROLE_AGENT, "not_customer_service"},
        {ROLE_SUPERVISOR, 1, DEPT_SECURITY, 0, 1, ROLE_AGENT, "not_customer_service"},
        {ROLE_MANAGER, 1, DEPT_ENGINEERING, 0, 1, ROLE_AGENT, NULL}, /* managers and up: any */
        {ROLE_AGENT, 1, DEPT_CUSTOMER_SERVICE, 1, 1, ROLE_AGENT, "did_the_work"},
        {ROLE_DIRECTOR, 0, DEPT_OTHER, 1, 1, ROLE_AGENT, "did_the_work"},
        {ROLE_AGENT, 1, DEPT_CUSTOMER_SERVICE, 0, 1, ROLE_SUPERVISOR, "supervisor_required"},
        {ROLE_SUPERVISOR, 1, DEPT_CUSTOMER_SERVICE, 0, 1, ROLE_SUPERVISOR, NULL},
        {ROLE_GM, 0, DEPT_OTHER, 0, 1, ROLE_SUPERVISOR, NULL},
        {ROLE_TECHNICIAN, 1, DEPT_ENGINEERING, 0, 1, ROLE_AGENT, "forbidden_role"},
        {ROLE_SECURITY, 1, DEPT_SECURITY, 0, 1, ROLE_AGENT, "forbidden_role"},
        {ROLE_RESIDENT, 0, DEPT_OTHER, 0, 1, ROLE_AGENT, "forbidden_role"},
        {ROLE_CLERK, 0, DEPT_OTHER, 0, 1, ROLE_AGENT, "forbidden_role"},
        {ROLE_AUDITOR, 0, DEPT_OTHER, 0, 1, ROLE_AGENT, "forbidden_role"},
        {ROLE_AGENT, 1, DEPT_CUSTOMER_SERVICE, 0, 0, ROLE_AGENT, "caller_inactive"},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        callback_caller_t c = {cases[i].role, cases[i].has_dept, cases[i].kind, cases[i].did,
                               cases[i].active};
        cb_verdict_t v = core_callback_may_call(&c, cases[i].min);
        if (!cases[i].code) {
            assert_true(v.ok);
        } else {
            assert_false(v.ok);
            assert_string_equal(v.code, cases[i].code);
            assert_true(v.status == 403 || v.status == 422);
        }
    }
    assert_false(core_callback_may_call(NULL, ROLE_AGENT).ok);
}

static callback_attempt_in_t att(int method, int reached, int rating)
{
    callback_attempt_in_t a = {method, reached, rating, 0, 0, -1, -1, 0};
    return a;
}

static void test_attempt_checks(void **state)
{
    (void)state;
    int out;
    callback_attempt_in_t a = att(CB_METHOD_PHONE, 1, CB_RATING_SATISFIED);
    cb_verdict_t v = core_callback_check_attempt(CB_TASK_OPEN, REQ_TYPE_COMPLAINT, &a, &out);
    assert_true(v.ok);
    assert_int_equal(out, CB_OUTCOME_CLOSED);

    a = att(CB_METHOD_PHONE, 0, -1);
    v = core_callback_check_attempt(CB_TASK_OPEN, REQ_TYPE_COMPLAINT, &a, &out);
    assert_true(v.ok);
    assert_int_equal(out, -1);

    static const struct {
        callback_task_state_t st;
        callback_attempt_in_t a;
        int status;
        const char *code, *field;
    } bad[] = {
        {CB_TASK_DONE, {CB_METHOD_PHONE, 1, 1, 0, 0, -1, -1, 0}, 409, "task_not_open", NULL},
        {CB_TASK_GIVEN_UP, {CB_METHOD_PHONE, 0, -1, 0, 0, -1, -1, 0}, 409, "task_not_open", NULL},
        {CB_TASK_OPEN, {-1, 1, 1, 0, 0, -1, -1, 0}, 422, "missing_field", "method"},
        {CB_TASK_OPEN, {CB_METHOD_PHONE, -1, 1, 0, 0, -1, -1, 0}, 422, "missing_field", "reached"},
        {CB_TASK_OPEN, {CB_METHOD_PHONE, 1, -1, 0, 0, -1, -1, 0}, 422, "missing_field", "rating"},
        {CB_TASK_OPEN, {CB_METHOD_PHONE, 0, 2, 0, 0, -1, -1, 0}, 422, "invalid_field", "rating"},
        {CB_TASK_OPEN,
         {CB_METHOD_PHONE, 0, -1, 0, 0, 1, -1, 0},
         422,
         "contradicting_outcome",
         "satisfied"},
        {CB_TASK_OPEN,
         {CB_METHOD_VISIT, 1, 1, 0, 1, -1, -1, 0},
         422,
         "signature_required",
         "signer_name"},
        {CB_TASK_OPEN,
         {CB_METHOD_VISIT, 1, 1, 1, 0, -1, -1, 0},
         422,
         "signature_required",
         "signature_attachment_id"},
        /* 不满意 with satisfied true; 满意 with satisfied false; 一般 with outcome reopened */
        {CB_TASK_OPEN,
         {CB_METHOD_PHONE, 1, 3, 0, 0, 1, -1, 0},
         422,
         "contradicting_outcome",
         "satisfied"},
        {CB_TASK_OPEN,
         {CB_METHOD_PHONE, 1, 1, 0, 0, 0, -1, 0},
         422,
         "contradicting_outcome",
         "satisfied"},
        {CB_TASK_OPEN,
         {CB_METHOD_PHONE, 1, 2, 0, 0, -1, CB_OUTCOME_REOPENED, 0},
         422,
         "contradicting_outcome",
         "outcome"},
        /* a resident answers in the app, reached */
        {CB_TASK_OPEN, {CB_METHOD_PHONE, 1, 1, 0, 0, -1, -1, 1}, 422, "invalid_field", "method"},
        {CB_TASK_OPEN, {CB_METHOD_APP, 0, -1, 0, 0, -1, -1, 1}, 422, "invalid_field", "method"},
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        v = core_callback_check_attempt(bad[i].st, REQ_TYPE_COMPLAINT, &bad[i].a, &out);
        assert_false(v.ok);
        assert_int_equal(v.status, bad[i].status);
        assert_string_equal(v.code, bad[i].code);
        if (bad[i].field)
            assert_string_equal(v.field, bad[i].field);
        assert_int_equal(out, -1);
    }
    /* Agreeing client fields are accepted; a visit with both signatures passes. */
    callback_attempt_in_t okv = {
        CB_METHOD_VISIT, 1, CB_RATING_DISSATISFIED, 1, 1, 0, CB_OUTCOME_FOLLOW_UP_COMPLAINT, 0};
    v = core_callback_check_attempt(CB_TASK_OPEN, REQ_TYPE_REPAIR, &okv, &out);
    assert_true(v.ok);
    assert_int_equal(out, CB_OUTCOME_FOLLOW_UP_COMPLAINT);
    callback_attempt_in_t app = {CB_METHOD_APP, 1, CB_RATING_NEUTRAL, 0, 0, 1, -1, 1};
    v = core_callback_check_attempt(CB_TASK_OPEN, REQ_TYPE_REPAIR, &app, &out);
    assert_true(v.ok);
    assert_int_equal(out, CB_OUTCOME_CLOSED);
}

static void test_give_up_rule(void **state)
{
    (void)state;
    static const struct {
        int32_t days[6];
        size_t n;
        int ok;
    } cases[] = {
        {{0}, 0, 0},
        {{100, 101}, 2, 0},           /* two attempts, two days */
        {{100, 100, 100}, 3, 0},      /* three on one day */
        {{100, 100, 100, 100}, 4, 0}, /* still one day */
        {{100, 100, 101}, 3, 1},
        {{101, 100, 100}, 3, 1},
        {{100, 102, 104}, 3, 1},
        {{100, 100, 100, 100, 100, 101}, 6, 1},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        cb_verdict_t v = core_callback_check_give_up(CB_TASK_OPEN, CB_GIVE_UP_UNREACHABLE, NULL,
                                                     cases[i].days, cases[i].n);
        assert_int_equal(v.ok, cases[i].ok);
        if (!v.ok) {
            assert_int_equal(v.status, 409);
            assert_string_equal(v.code, "give_up_too_early");
        }
    }
    int32_t d[] = {1, 1, 2};
    cb_verdict_t v = core_callback_check_give_up(CB_TASK_OPEN, -1, NULL, d, 3);
    assert_string_equal(v.code, "missing_field");
    v = core_callback_check_give_up(CB_TASK_OPEN, CB_GIVE_UP_OTHER, "  ", d, 3);
    assert_string_equal(v.code, "note_required");
    v = core_callback_check_give_up(CB_TASK_OPEN, CB_GIVE_UP_OTHER, "住户出国", d, 3);
    assert_true(v.ok);
    v = core_callback_check_give_up(CB_TASK_DONE, CB_GIVE_UP_REFUSED, NULL, d, 3);
    assert_int_equal(v.status, 409);
    assert_string_equal(v.code, "task_not_open");
}

static void test_task_states(void **state)
{
    (void)state;
    static const int want[CB_EV_CANCEL + 1] = {CB_TASK_OPEN, CB_TASK_OPEN, CB_TASK_DONE,
                                               CB_TASK_GIVEN_UP, CB_TASK_CANCELLED};
    for (int e = 0; e <= CB_EV_CANCEL; e++) {
        cb_verdict_t v;
        assert_int_equal(core_callback_task_next(CB_TASK_OPEN, (callback_event_t)e, &v), want[e]);
        assert_true(v.ok);
        for (int s = CB_TASK_DONE; s < CB_TASK__COUNT; s++) {
            assert_int_equal(
                core_callback_task_next((callback_task_state_t)s, (callback_event_t)e, &v), -1);
            assert_string_equal(v.code, "task_not_open");
        }
    }
    assert_string_equal(core_callback_task_state_name(CB_TASK_GIVEN_UP), "given_up");
    assert_int_equal(core_callback_give_up_from_string("moved_out"), CB_GIVE_UP_MOVED_OUT);
    assert_int_equal(core_callback_method_from_string("sms"), CB_METHOD_SMS);
    assert_int_equal(core_callback_outcome_from_string("follow_up_complaint"),
                     CB_OUTCOME_FOLLOW_UP_COMPLAINT);
}

static void test_figures(void **state)
{
    (void)state;
    callback_figures_t f = {8, 6, 5, 0, 0, 0, 0};
    core_callback_figures(&f);
    assert_true(f.has_rate && f.has_satisfaction);
    assert_float_equal(f.callback_rate, 0.75, 1e-12);
    assert_float_equal(f.satisfaction, 5.0 / 6.0, 1e-12);
    callback_figures_t z = {3, 0, 0, 0, 0, 0, 0};
    core_callback_figures(&z);
    assert_true(z.has_rate);
    assert_float_equal(z.callback_rate, 0.0, 1e-12);
    assert_false(z.has_satisfaction);
    callback_figures_t none = {0, 0, 0, 0, 0, 0, 0};
    core_callback_figures(&none);
    assert_false(none.has_rate);
    assert_false(none.has_satisfaction);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_rating_codes_and_labels),
        cmocka_unit_test(test_derived_outcome),
        cmocka_unit_test(test_who_gets_a_task),
        cmocka_unit_test(test_who_may_call),
        cmocka_unit_test(test_attempt_checks),
        cmocka_unit_test(test_give_up_rule),
        cmocka_unit_test(test_task_states),
        cmocka_unit_test(test_figures),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
