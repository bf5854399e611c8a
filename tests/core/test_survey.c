/*
 * tests/core/test_survey.c — the survey rules (RULES §3.2): the scale and what counts as
 * satisfied, the follow-up each rating sets off, the campaign state machine, and the
 * report formulas on a fixture computed by hand.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <string.h>

#include "core/authz.h"
#include "core/survey.h"

static void test_scale(void **state)
{
    (void)state;
    static const struct {
        const char *code, *label;
        int satisfied;
        survey_followup_t f;
    } rows[] = {
        {"very_satisfied", "很满意", 1, SURVEY_FOLLOWUP_NONE},
        {"fairly_satisfied", "比较满意", 1, SURVEY_FOLLOWUP_NONE},
        {"basically_satisfied", "基本满意", 1, SURVEY_FOLLOWUP_NONE},
        {"somewhat_dissatisfied", "不太满意", 0, SURVEY_FOLLOWUP_CALLBACK},
        {"dissatisfied", "不满意", 0, SURVEY_FOLLOWUP_COMPLAINT},
    };
    assert_int_equal(sizeof rows / sizeof rows[0], SURVEY_R__COUNT);
    for (size_t i = 0; i < sizeof rows / sizeof rows[0]; i++) {
        int r = core_survey_rating_from_string(rows[i].code);
        assert_int_equal(r, (int)i);
        assert_string_equal(core_survey_rating_label((survey_rating_t)r), rows[i].label);
        assert_int_equal(core_survey_rating_satisfied((survey_rating_t)r), rows[i].satisfied);
        assert_int_equal(core_survey_followup((survey_rating_t)r), rows[i].f);
    }
    assert_int_equal(core_survey_rating_from_string("满意"), -1);
    assert_int_equal(core_survey_rating_from_string("satisfied"), -1);
    assert_null(core_survey_rating_label(SURVEY_R__COUNT));
    assert_int_equal(core_survey_kind_from_string("periodic"), SURVEY_KIND_PERIODIC);
    assert_int_equal(core_survey_kind_from_string("after_repair"), SURVEY_KIND_AFTER_REPAIR);
    assert_int_equal(core_survey_kind_from_string("visit"), SURVEY_KIND_VISIT);
    assert_int_equal(core_survey_kind_from_string("special"), SURVEY_KIND_SPECIAL);
    assert_int_equal(core_survey_kind_from_string("monthly"), -1);
    assert_string_equal(core_survey_cadence_name(SURVEY_CADENCE_QUARTERLY), "quarterly");
}

static void test_transitions(void **state)
{
    (void)state;
    static const struct {
        survey_state_t from;
        survey_action_t a;
        int nitems;
        long copies;
        int opinion;
        int status;
        const char *code;
        survey_state_t next;
    } rows[] = {
        {SURVEY_DRAFT, SURVEY_ACT_OPEN, 3, 40, 0, 0, NULL, SURVEY_OPEN},
        {SURVEY_DRAFT, SURVEY_ACT_OPEN, 0, 40, 0, 409, "campaign_incomplete", 0},
        {SURVEY_DRAFT, SURVEY_ACT_OPEN, 3, 0, 0, 409, "campaign_incomplete", 0},
        {SURVEY_DRAFT, SURVEY_ACT_CLOSE, 3, 40, 0, 409, "invalid_transition", 0},
        {SURVEY_DRAFT, SURVEY_ACT_REPORT, 3, 40, 1, 409, "invalid_transition", 0},
        {SURVEY_OPEN, SURVEY_ACT_OPEN, 3, 40, 0, 409, "invalid_transition", 0},
        {SURVEY_OPEN, SURVEY_ACT_CLOSE, 3, 40, 0, 0, NULL, SURVEY_CLOSED},
        {SURVEY_OPEN, SURVEY_ACT_REPORT, 3, 40, 1, 409, "invalid_transition", 0},
        {SURVEY_CLOSED, SURVEY_ACT_OPEN, 3, 40, 0, 409, "invalid_transition", 0},
        {SURVEY_CLOSED, SURVEY_ACT_CLOSE, 3, 40, 0, 409, "invalid_transition", 0},
        {SURVEY_CLOSED, SURVEY_ACT_REPORT, 3, 40, 0, 422, "missing_field", 0},
        {SURVEY_CLOSED, SURVEY_ACT_REPORT, 3, 40, 1, 0, NULL, SURVEY_REPORTED},
        {SURVEY_REPORTED, SURVEY_ACT_OPEN, 3, 40, 1, 409, "invalid_transition", 0},
        {SURVEY_REPORTED, SURVEY_ACT_CLOSE, 3, 40, 1, 409, "invalid_transition", 0},
        {SURVEY_REPORTED, SURVEY_ACT_REPORT, 3, 40, 1, 409, "invalid_transition", 0},
    };
    for (size_t i = 0; i < sizeof rows / sizeof rows[0]; i++) {
        survey_state_t next = (survey_state_t)99;
        survey_verdict_t v = core_survey_transition(rows[i].from, rows[i].a, rows[i].nitems,
                                                    rows[i].copies, rows[i].opinion, &next);
        assert_int_equal(v.status, rows[i].status);
        if (rows[i].code)
            assert_string_equal(v.code, rows[i].code);
        else
            assert_int_equal(next, rows[i].next);
    }
    assert_int_equal(core_survey_check_editable(SURVEY_DRAFT).status, 0);
    for (int s = SURVEY_OPEN; s < SURVEY_STATE__COUNT; s++) {
        survey_verdict_t v = core_survey_check_editable((survey_state_t)s);
        assert_int_equal(v.status, 409);
        assert_string_equal(v.code, "campaign_not_draft");
    }
    /* new response: open only; correction: open or closed */
    static const int respond[SURVEY_STATE__COUNT][2] = {
        [SURVEY_DRAFT] = {409, 409},
        [SURVEY_OPEN] = {0, 0},
        [SURVEY_CLOSED] = {409, 0},
        [SURVEY_REPORTED] = {409, 409},
    };
    for (int s = 0; s < SURVEY_STATE__COUNT; s++)
        for (int c = 0; c < 2; c++)
            assert_int_equal(core_survey_check_respond((survey_state_t)s, c).status, respond[s][c]);
    assert_string_equal(core_survey_check_respond(SURVEY_REPORTED, 1).code, "campaign_reported");
}

static void test_ratio(void **state)
{
    (void)state;
    static const struct {
        long num, den, x100;
        const char *text;
    } rows[] = {
        {2, 3, 6667, "66.67"}, {1, 3, 3333, "33.33"},   {1, 8, 1250, "12.50"},
        {1, 32, 313, "3.13"},  {5, 7, 7143, "71.43"},   {7, 40, 1750, "17.50"},
        {0, 5, 0, "0.00"},     {5, 5, 10000, "100.00"}, {0, 0, -1, ""},
        {1, 20000, 1, "0.01"}, {1, 40000, 0, "0.00"},
    };
    for (size_t i = 0; i < sizeof rows / sizeof rows[0]; i++) {
        survey_ratio_t q = core_survey_ratio(rows[i].num, rows[i].den);
        assert_int_equal(q.num, rows[i].num);
        assert_int_equal(q.den, rows[i].den);
        assert_int_equal(q.percent_x100, rows[i].x100);
        char buf[24];
        core_survey_percent_text(&q, buf, sizeof buf);
        assert_string_equal(buf, rows[i].text);
    }
}

/* The hand-computed fixture (the API test uses the same numbers): 40 copies distributed,
 * 7 forms returned.  Overall: 很满意 ×2, 比较满意, 基本满意 ×2, 不太满意, 不满意 → 5 of 7
 * satisfied = 71.43 %; return rate 7/40 = 17.50 %.  Item 0 (department 0): 很满意, 不满意,
 * 基本满意 → 2/3 = 66.67 %; item 1 (department 0): 不太满意 ×2 → 0/2 = 0.00 %; item 2
 * (department 1): 比较满意 → 1/1 = 100 %; item 3 (no department): no answers, undefined.
 * Department 0: 2 of 5 = 40.00 %; department 1: 1/1. */
static void test_summary_fixture(void **state)
{
    (void)state;
    const survey_answer_fact_t f[] = {
        {-1, SURVEY_R_VERY_SATISFIED},       {-1, SURVEY_R_FAIRLY_SATISFIED},
        {-1, SURVEY_R_BASICALLY_SATISFIED},  {-1, SURVEY_R_SOMEWHAT_DISSATISFIED},
        {-1, SURVEY_R_DISSATISFIED},         {-1, SURVEY_R_BASICALLY_SATISFIED},
        {-1, SURVEY_R_VERY_SATISFIED},       {0, SURVEY_R_VERY_SATISFIED},
        {0, SURVEY_R_DISSATISFIED},          {0, SURVEY_R_BASICALLY_SATISFIED},
        {1, SURVEY_R_SOMEWHAT_DISSATISFIED}, {1, SURVEY_R_SOMEWHAT_DISSATISFIED},
        {2, SURVEY_R_FAIRLY_SATISFIED},      {9, SURVEY_R_DISSATISFIED}, /* no such item: ignored */
    };
    const int dept[4] = {0, 0, 1, -1};
    survey_tally_t items[4], depts[2];
    memset(items, 0, sizeof items);
    memset(depts, 0, sizeof depts);
    survey_summary_t s;
    memset(&s, 0, sizeof s);
    s.items = items;
    s.depts = depts;
    assert_int_equal(core_survey_summarise(40, 7, f, sizeof f / sizeof f[0], dept, 4, 2, &s), 0);
    assert_int_equal(s.return_rate.percent_x100, 1750);
    assert_int_equal(s.overall.answered, 7);
    assert_int_equal(s.overall.satisfied, 5);
    assert_int_equal(s.overall.by_rating[SURVEY_R_VERY_SATISFIED], 2);
    assert_int_equal(s.overall.by_rating[SURVEY_R_BASICALLY_SATISFIED], 2);
    assert_int_equal(s.overall_rate.num, 5);
    assert_int_equal(s.overall_rate.den, 7);
    assert_int_equal(s.overall_rate.percent_x100, 7143);
    survey_ratio_t q = core_survey_tally_rate(&items[0]);
    assert_int_equal(q.num, 2);
    assert_int_equal(q.den, 3);
    assert_int_equal(q.percent_x100, 6667);
    assert_int_equal(core_survey_tally_rate(&items[1]).percent_x100, 0);
    assert_int_equal(core_survey_tally_rate(&items[2]).percent_x100, 10000);
    assert_int_equal(core_survey_tally_rate(&items[3]).percent_x100, -1);
    assert_int_equal(depts[0].answered, 5);
    assert_int_equal(core_survey_tally_rate(&depts[0]).percent_x100, 4000);
    assert_int_equal(core_survey_tally_rate(&depts[1]).percent_x100, 10000);
    /* a department index out of range is refused */
    const int bad[4] = {0, 0, 2, -1};
    assert_int_equal(core_survey_summarise(40, 7, f, 1, bad, 4, 2, &s), -1);
    /* nothing distributed: the return rate is undefined, not a division by zero */
    assert_int_equal(core_survey_return_rate(3, 0).percent_x100, -1);
}

/* Who may answer for which household, and whose campaigns a desk user sees (RULES §3.2.11). */
static void test_scope(void **state)
{
    (void)state;
    const char *org = "o", *p1 = "p1", *p2 = "p2";
    const char *const projects[] = {p1}, *const units[] = {"u1"};
    principal_t resident = {"r", org, ROLE_RESIDENT, 0, projects, 1, units, 1, NULL};
    principal_t agent = {"a", org, ROLE_AGENT, 0, projects, 1, NULL, 0, NULL};
    principal_t auditor = {"q", org, ROLE_AUDITOR, 1, NULL, 0, NULL, 0, NULL};
    principal_t tech = {"t", org, ROLE_TECHNICIAN, 0, projects, 1, NULL, 0, "d"};
    az_target_t own = {org, p1, "u1", NULL, NULL}, neighbour = {org, p1, "u2", NULL, NULL};
    az_target_t other = {org, p2, "u9", NULL, NULL}, camp2 = {org, p2, NULL, NULL, NULL};
    assert_int_equal(core_authz_check(&resident, AZ_SURVEY_RESPOND, &own), AZ_ALLOW);
    assert_int_equal(core_authz_check(&resident, AZ_SURVEY_RESPOND, &neighbour), AZ_NOT_FOUND);
    assert_int_equal(core_authz_check(&resident, AZ_SURVEY_RESPONSE_READ, &neighbour),
                     AZ_NOT_FOUND);
    assert_int_equal(core_authz_check(&resident, AZ_SURVEY_READ, &own), AZ_FORBIDDEN);
    assert_int_equal(core_authz_check(&agent, AZ_SURVEY_RESPOND, &neighbour), AZ_ALLOW);
    assert_int_equal(core_authz_check(&agent, AZ_SURVEY_RESPOND, &other), AZ_NOT_FOUND);
    assert_int_equal(core_authz_check(&agent, AZ_SURVEY_READ, &camp2), AZ_NOT_FOUND);
    assert_int_equal(core_authz_check(&agent, AZ_SURVEY_MANAGE, &own), AZ_FORBIDDEN);
    assert_int_equal(core_authz_check(&auditor, AZ_SURVEY_READ, &camp2), AZ_ALLOW);
    assert_int_equal(core_authz_check(&auditor, AZ_SURVEY_RESPOND, &own), AZ_FORBIDDEN);
    assert_int_equal(core_authz_check(&tech, AZ_SURVEY_RESPOND, &own), AZ_FORBIDDEN);
    assert_int_equal(core_authz_check(&agent, AZ_VISIT_WRITE, &camp2), AZ_NOT_FOUND);
    assert_int_equal(core_authz_check(&auditor, AZ_VISIT_WRITE, &camp2), AZ_FORBIDDEN);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_scale), cmocka_unit_test(test_transitions),
        cmocka_unit_test(test_ratio), cmocka_unit_test(test_summary_fixture),
        cmocka_unit_test(test_scope),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
