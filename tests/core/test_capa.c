/*
 * tests/core/test_capa.c — the corrective-action state machine and the approver rule
 * (RULES §3.3), row by row: who may do each action, in which state, and where it leads.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <string.h>

#include "core/capa.h"

#define OPEN  CAPA_ST_OPEN
#define PROP  CAPA_ST_MEASURES_PROPOSED
#define APPR  CAPA_ST_APPROVED
#define IMPLG CAPA_ST_IMPLEMENTING
#define IMPLD CAPA_ST_IMPLEMENTED
#define VER   CAPA_ST_VERIFIED
#define INEF  CAPA_ST_INEFFECTIVE
#define CANC  CAPA_ST_CANCELLED

static const struct {
    int line;
    capa_state_t state;
    role_t role;
    int responsible, ndepts, major, gm_review, effective;
    capa_action_t action;
    int status;
    const char *code;
    capa_state_t next;
} rows[] = {
    /* propose: the responsible person (whatever the role) or supervisor and above */
    {__LINE__, OPEN, ROLE_TECHNICIAN, 1, 1, 0, 0, 0, CAPA_ACT_PROPOSE, 0, NULL, PROP},
    {__LINE__, OPEN, ROLE_TECHNICIAN, 0, 1, 0, 0, 0, CAPA_ACT_PROPOSE, 403, "not_responsible",
     OPEN},
    {__LINE__, OPEN, ROLE_AGENT, 0, 1, 0, 0, 0, CAPA_ACT_PROPOSE, 403, "not_responsible", OPEN},
    {__LINE__, OPEN, ROLE_SUPERVISOR, 0, 1, 0, 0, 0, CAPA_ACT_PROPOSE, 0, NULL, PROP},
    {__LINE__, PROP, ROLE_SUPERVISOR, 0, 1, 0, 0, 0, CAPA_ACT_PROPOSE, 0, NULL, PROP},
    {__LINE__, INEF, ROLE_SUPERVISOR, 0, 1, 0, 0, 0, CAPA_ACT_PROPOSE, 0, NULL, PROP},
    {__LINE__, APPR, ROLE_SUPERVISOR, 0, 1, 0, 0, 0, CAPA_ACT_PROPOSE, 409, "invalid_state", APPR},
    {__LINE__, VER, ROLE_MANAGER, 0, 1, 0, 0, 0, CAPA_ACT_PROPOSE, 409, "invalid_state", VER},
    /* approve: manager for one department, director for several, GM always */
    {__LINE__, PROP, ROLE_MANAGER, 0, 1, 0, 0, 0, CAPA_ACT_APPROVE, 0, NULL, APPR},
    {__LINE__, PROP, ROLE_DIRECTOR, 0, 1, 0, 0, 0, CAPA_ACT_APPROVE, 0, NULL, APPR},
    {__LINE__, PROP, ROLE_GM, 0, 3, 0, 0, 0, CAPA_ACT_APPROVE, 0, NULL, APPR},
    {__LINE__, PROP, ROLE_SUPERVISOR, 0, 1, 0, 0, 0, CAPA_ACT_APPROVE, 403, "approver_required",
     PROP},
    {__LINE__, PROP, ROLE_AUDITOR, 0, 1, 0, 0, 0, CAPA_ACT_APPROVE, 403, "approver_required", PROP},
    {__LINE__, PROP, ROLE_TECHNICIAN, 1, 1, 0, 0, 0, CAPA_ACT_APPROVE, 403, "approver_required",
     PROP},
    {__LINE__, PROP, ROLE_MANAGER, 0, 2, 0, 0, 0, CAPA_ACT_APPROVE, 403, "director_required", PROP},
    {__LINE__, PROP, ROLE_DIRECTOR, 0, 2, 0, 0, 0, CAPA_ACT_APPROVE, 0, NULL, APPR},
    {__LINE__, OPEN, ROLE_MANAGER, 0, 1, 0, 0, 0, CAPA_ACT_APPROVE, 409, "invalid_state", OPEN},
    {__LINE__, APPR, ROLE_MANAGER, 0, 1, 0, 0, 0, CAPA_ACT_APPROVE, 409, "invalid_state", APPR},
    /* a major quality problem: a joint review convened by the GM first */
    {__LINE__, PROP, ROLE_MANAGER, 0, 1, 1, 0, 0, CAPA_ACT_APPROVE, 409, "gm_review_required",
     PROP},
    {__LINE__, PROP, ROLE_GM, 0, 1, 1, 0, 0, CAPA_ACT_APPROVE, 409, "gm_review_required", PROP},
    {__LINE__, PROP, ROLE_MANAGER, 0, 1, 1, 1, 0, CAPA_ACT_APPROVE, 0, NULL, APPR},
    /* start and implement */
    {__LINE__, APPR, ROLE_TECHNICIAN, 1, 1, 0, 0, 0, CAPA_ACT_START, 0, NULL, IMPLG},
    {__LINE__, APPR, ROLE_TECHNICIAN, 0, 1, 0, 0, 0, CAPA_ACT_START, 403, "not_responsible", APPR},
    {__LINE__, PROP, ROLE_SUPERVISOR, 0, 1, 0, 0, 0, CAPA_ACT_START, 409, "invalid_state", PROP},
    {__LINE__, IMPLG, ROLE_TECHNICIAN, 1, 1, 0, 0, 0, CAPA_ACT_IMPLEMENT, 0, NULL, IMPLD},
    {__LINE__, APPR, ROLE_SUPERVISOR, 0, 1, 0, 0, 0, CAPA_ACT_IMPLEMENT, 409, "invalid_state",
     APPR},
    /* verify: QA or supervisor+, never the responsible person; effective or not */
    {__LINE__, IMPLD, ROLE_AUDITOR, 0, 1, 0, 0, 1, CAPA_ACT_VERIFY, 0, NULL, VER},
    {__LINE__, IMPLD, ROLE_SUPERVISOR, 0, 1, 0, 0, 0, CAPA_ACT_VERIFY, 0, NULL, INEF},
    {__LINE__, IMPLD, ROLE_SUPERVISOR, 1, 1, 0, 0, 1, CAPA_ACT_VERIFY, 403, "own_verification",
     IMPLD},
    {__LINE__, IMPLD, ROLE_AGENT, 0, 1, 0, 0, 1, CAPA_ACT_VERIFY, 403, "verifier_required", IMPLD},
    {__LINE__, IMPLG, ROLE_AUDITOR, 0, 1, 0, 0, 1, CAPA_ACT_VERIFY, 409, "invalid_state", IMPLG},
    {__LINE__, APPR, ROLE_AUDITOR, 0, 1, 0, 0, 1, CAPA_ACT_VERIFY, 409, "invalid_state", APPR},
    /* cancel */
    {__LINE__, IMPLG, ROLE_MANAGER, 0, 1, 0, 0, 0, CAPA_ACT_CANCEL, 0, NULL, CANC},
    {__LINE__, OPEN, ROLE_SUPERVISOR, 0, 1, 0, 0, 0, CAPA_ACT_CANCEL, 403, "manager_required",
     OPEN},
    {__LINE__, VER, ROLE_GM, 0, 1, 0, 0, 0, CAPA_ACT_CANCEL, 409, "invalid_state", VER},
    {__LINE__, CANC, ROLE_GM, 0, 1, 0, 0, 0, CAPA_ACT_CANCEL, 409, "invalid_state", CANC},
    /* customer confirmation: desk staff, once implemented */
    {__LINE__, IMPLD, ROLE_AGENT, 0, 1, 0, 0, 0, CAPA_ACT_CONFIRM, 0, NULL, IMPLD},
    {__LINE__, VER, ROLE_AGENT, 0, 1, 0, 0, 0, CAPA_ACT_CONFIRM, 0, NULL, VER},
    {__LINE__, APPR, ROLE_AGENT, 0, 1, 0, 0, 0, CAPA_ACT_CONFIRM, 409, "invalid_state", APPR},
    {__LINE__, IMPLD, ROLE_AUDITOR, 0, 1, 0, 0, 0, CAPA_ACT_CONFIRM, 403, "desk_required", IMPLD},
    /* joint review: manager and above */
    {__LINE__, OPEN, ROLE_MANAGER, 0, 1, 0, 0, 0, CAPA_ACT_REVIEW, 0, NULL, OPEN},
    {__LINE__, PROP, ROLE_GM, 0, 1, 1, 0, 0, CAPA_ACT_REVIEW, 0, NULL, PROP},
    {__LINE__, OPEN, ROLE_SUPERVISOR, 0, 1, 0, 0, 0, CAPA_ACT_REVIEW, 403, "convener_required",
     OPEN},
    {__LINE__, CANC, ROLE_MANAGER, 0, 1, 0, 0, 0, CAPA_ACT_REVIEW, 409, "invalid_state", CANC},
};

static void test_machine(void **state)
{
    (void)state;
    int bad = 0;
    for (size_t i = 0; i < sizeof rows / sizeof rows[0]; i++) {
        capa_facts_t f = {rows[i].state, rows[i].role,      rows[i].responsible, rows[i].ndepts,
                          rows[i].major, rows[i].gm_review, rows[i].effective};
        capa_verdict_t v = core_capa_judge(&f, rows[i].action);
        int ok = v.status == rows[i].status && v.next == rows[i].next &&
                 (rows[i].code ? v.code && !strcmp(v.code, rows[i].code) : v.code == NULL) &&
                 (v.status == 0 || (v.detail && v.detail[0]));
        if (!ok) {
            print_error("line %d: %s by %s in %s: got %d %s -> %s\n", rows[i].line,
                        core_capa_action_name(rows[i].action), core_role_name(rows[i].role),
                        core_capa_state_name(rows[i].state), v.status, v.code ? v.code : "-",
                        core_capa_state_name(v.next));
            bad++;
        }
    }
    assert_int_equal(bad, 0);
}

static void test_approver(void **state)
{
    (void)state;
    assert_int_equal(core_capa_approver(0), ROLE_MANAGER);
    assert_int_equal(core_capa_approver(1), ROLE_MANAGER);
    assert_int_equal(core_capa_approver(2), ROLE_DIRECTOR);
    assert_int_equal(core_capa_approver(7), ROLE_DIRECTOR);
}

static void test_names_round_trip(void **state)
{
    (void)state;
    for (int s = 0; s < CAPA__STATE_COUNT; s++)
        assert_int_equal(core_capa_state_from_string(core_capa_state_name((capa_state_t)s)), s);
    for (int a = 0; a < CAPA__ACT_COUNT; a++)
        assert_int_equal(core_capa_action_from_string(core_capa_action_name((capa_action_t)a)), a);
    assert_int_equal(core_capa_kind_from_string("rectification"), CAPA_RECTIFICATION);
    assert_int_equal(core_capa_kind_from_string("Rectification"), -1);
    assert_int_equal(core_capa_action_from_string("delete"), -1);
}

static void test_clock(void **state)
{
    (void)state;
    const int64_t day = 86400;
    /* a fifth of the span before the deadline, at most a day */
    assert_int_equal(core_capa_warn_at(0, 5 * 3600), 4 * 3600);
    assert_int_equal(core_capa_warn_at(0, 30 * day), 29 * day);
    assert_int_equal(core_capa_warn_at(100, 100), 100);
    assert_int_equal(core_capa_warn_at(100, 50), 50);
    int running[CAPA__STATE_COUNT] = {1, 1, 1, 1, 0, 0, 1, 0};
    for (int s = 0; s < CAPA__STATE_COUNT; s++)
        assert_int_equal(core_capa_clock_running((capa_state_t)s), running[s]);
    assert_true(core_capa_below_target(84.9, 85));
    assert_false(core_capa_below_target(85, 85));
    assert_false(core_capa_below_target(10, 0));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_machine),
        cmocka_unit_test(test_approver),
        cmocka_unit_test(test_names_round_trip),
        cmocka_unit_test(test_clock),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
