/*
 * tests/core/test_callback_survey.c — callbacks whose subject is a survey response (RULES
 * §3.1.8, §3.2.7; core/callback.c): the derived outcome touches no request (不满意 /
 * 极不满意 → a follow-up complaint, the rest → closed, for every request type the caller
 * might pass), the refusals of a survey task's attempt (a visit, a resident, a
 * contradicting client outcome), the request subject unchanged, and the names.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <string.h>

#include "core/callback.h"

static void test_survey_outcome_table(void **state)
{
    (void)state;
    static const struct {
        callback_rating_t r;
        callback_outcome_t survey, complaint_req, repair_req;
    } cases[] = {
        {CB_RATING_VERY_SATISFIED, CB_OUTCOME_CLOSED, CB_OUTCOME_CLOSED, CB_OUTCOME_CLOSED},
        {CB_RATING_SATISFIED, CB_OUTCOME_CLOSED, CB_OUTCOME_CLOSED, CB_OUTCOME_CLOSED},
        {CB_RATING_NEUTRAL, CB_OUTCOME_CLOSED, CB_OUTCOME_CLOSED, CB_OUTCOME_CLOSED},
        {CB_RATING_DISSATISFIED, CB_OUTCOME_FOLLOW_UP_COMPLAINT, CB_OUTCOME_REOPENED,
         CB_OUTCOME_FOLLOW_UP_COMPLAINT},
        {CB_RATING_VERY_DISSATISFIED, CB_OUTCOME_FOLLOW_UP_COMPLAINT, CB_OUTCOME_REOPENED,
         CB_OUTCOME_FOLLOW_UP_COMPLAINT},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        /* a survey task never reopens anything, whatever type is passed */
        for (int t = 0; t < REQ_TYPE__COUNT; t++)
            assert_int_equal(core_callback_outcome_for(CB_SUBJECT_SURVEY_RESPONSE,
                                                       (request_type_t)t, cases[i].r),
                             cases[i].survey);
        assert_int_equal(
            core_callback_outcome_for(CB_SUBJECT_REQUEST, REQ_TYPE_COMPLAINT, cases[i].r),
            cases[i].complaint_req);
        assert_int_equal(core_callback_outcome_for(CB_SUBJECT_REQUEST, REQ_TYPE_REPAIR, cases[i].r),
                         cases[i].repair_req);
    }
}

static callback_attempt_in_t in(int method, int reached, int rating)
{
    callback_attempt_in_t a = {method, reached, rating, 0, 0, -1, -1, 0};
    return a;
}

static void test_survey_attempt_checks(void **state)
{
    (void)state;
    int o = 99;
    callback_attempt_in_t a = in(CB_METHOD_PHONE, 1, CB_RATING_DISSATISFIED);
    cb_verdict_t v = core_callback_check_attempt_on(CB_TASK_OPEN, CB_SUBJECT_SURVEY_RESPONSE,
                                                    REQ_TYPE_COMPLAINT, &a, &o);
    assert_true(v.ok);
    assert_int_equal(o, CB_OUTCOME_FOLLOW_UP_COMPLAINT);
    /* the same attempt on a complaint request reopens it */
    v = core_callback_check_attempt_on(CB_TASK_OPEN, CB_SUBJECT_REQUEST, REQ_TYPE_COMPLAINT, &a,
                                       &o);
    assert_true(v.ok);
    assert_int_equal(o, CB_OUTCOME_REOPENED);
    /* the client may send the derived outcome, not another one */
    a.client_outcome = CB_OUTCOME_FOLLOW_UP_COMPLAINT;
    v = core_callback_check_attempt_on(CB_TASK_OPEN, CB_SUBJECT_SURVEY_RESPONSE, REQ_TYPE_COMPLAINT,
                                       &a, &o);
    assert_true(v.ok);
    a.client_outcome = CB_OUTCOME_REOPENED;
    v = core_callback_check_attempt_on(CB_TASK_OPEN, CB_SUBJECT_SURVEY_RESPONSE, REQ_TYPE_COMPLAINT,
                                       &a, &o);
    assert_false(v.ok);
    assert_int_equal(v.status, 422);
    assert_string_equal(v.code, "contradicting_outcome");
    assert_int_equal(o, -1);
    a = in(CB_METHOD_SMS, 1, CB_RATING_NEUTRAL);
    a.client_satisfied = 0;
    v = core_callback_check_attempt_on(CB_TASK_OPEN, CB_SUBJECT_SURVEY_RESPONSE, REQ_TYPE_INQUIRY,
                                       &a, &o);
    assert_string_equal(v.code, "contradicting_outcome");
    a.client_satisfied = 1;
    v = core_callback_check_attempt_on(CB_TASK_OPEN, CB_SUBJECT_SURVEY_RESPONSE, REQ_TYPE_INQUIRY,
                                       &a, &o);
    assert_true(v.ok);
    assert_int_equal(o, CB_OUTCOME_CLOSED);
    /* a visit: refused on a survey task even with signer and signature */
    a = in(CB_METHOD_VISIT, 1, CB_RATING_SATISFIED);
    a.signer_given = a.signature_given = 1;
    v = core_callback_check_attempt_on(CB_TASK_OPEN, CB_SUBJECT_SURVEY_RESPONSE, REQ_TYPE_COMPLAINT,
                                       &a, &o);
    assert_int_equal(v.status, 422);
    assert_string_equal(v.code, "method_not_available");
    assert_string_equal(v.field, "method");
    v = core_callback_check_attempt_on(CB_TASK_OPEN, CB_SUBJECT_REQUEST, REQ_TYPE_COMPLAINT, &a,
                                       &o);
    assert_true(v.ok);
    /* a resident's app answer: request tasks only */
    a = in(CB_METHOD_APP, 1, CB_RATING_SATISFIED);
    a.resident = 1;
    v = core_callback_check_attempt_on(CB_TASK_OPEN, CB_SUBJECT_SURVEY_RESPONSE, REQ_TYPE_COMPLAINT,
                                       &a, &o);
    assert_string_equal(v.code, "method_not_available");
    /* unreached: no outcome; a closed task: 409; an unknown subject: 500 */
    a = in(CB_METHOD_PHONE, 0, -1);
    v = core_callback_check_attempt_on(CB_TASK_OPEN, CB_SUBJECT_SURVEY_RESPONSE, REQ_TYPE_COMPLAINT,
                                       &a, &o);
    assert_true(v.ok);
    assert_int_equal(o, -1);
    v = core_callback_check_attempt_on(CB_TASK_DONE, CB_SUBJECT_SURVEY_RESPONSE, REQ_TYPE_COMPLAINT,
                                       &a, &o);
    assert_int_equal(v.status, 409);
    v = core_callback_check_attempt_on(CB_TASK_OPEN, (callback_subject_t)7, REQ_TYPE_COMPLAINT, &a,
                                       &o);
    assert_int_equal(v.status, 500);
}

static void test_names(void **state)
{
    (void)state;
    assert_string_equal(core_callback_kind_name(CB_KIND_SURVEY), "survey");
    assert_int_equal(core_callback_kind_from_string("survey"), CB_KIND_SURVEY);
    assert_string_equal(core_callback_subject_name(CB_SUBJECT_REQUEST), "request");
    assert_string_equal(core_callback_subject_name(CB_SUBJECT_SURVEY_RESPONSE), "survey_response");
    assert_int_equal(core_callback_subject_from_string("survey_response"),
                     CB_SUBJECT_SURVEY_RESPONSE);
    assert_int_equal(core_callback_subject_from_string("visit"), -1);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_survey_outcome_table),
        cmocka_unit_test(test_survey_attempt_checks),
        cmocka_unit_test(test_names),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
