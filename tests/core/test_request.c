/*
 * tests/core/test_request.c — table-driven tests of the request state machine
 * (core/request.c) and of the shared role tables (core/roles.c).  Every (state × action)
 * pair is judged for every type and every desk role, every role × action from a state
 * where the action is possible, and the sign-off, explanation, pending, callback and
 * occurred_at rules; counts of allowed cells are asserted so a silent change fails.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdio.h>
#include <string.h>

#include "core/request.h"
#include "core/roles.h"

#define N(a) (sizeof(a) / sizeof((a)[0]))

/* ---- fixtures --------------------------------------------------------------------- */

/* Representative situations; on_site appears twice: before and after the result. */
typedef enum {
    FX_RECEIVED,
    FX_DISPATCHED,
    FX_ACCEPTED,
    FX_ON_SITE,
    FX_ON_SITE_DONE,
    FX_PENDING, /* pended from dispatched */
    FX_RESOLVED,
    FX_CALLBACK,
    FX_CLOSED,
    FX_REJECTED,
    FX_NOT_RESPONSIBLE,
    FX__COUNT
} fixture_t;

static const char *const fixture_names[FX__COUNT] = {
    "received", "dispatched", "accepted", "on_site",  "on_site(done)",   "pending",
    "resolved", "callback",   "closed",   "rejected", "not_responsible",
};

/* Facts under which every action's own arguments are present and valid, so that the
 * state and the role decide: an agent of customer service, a night-desk request not yet
 * handed over, an adult resident signer, an explanation, a pending reason and a
 * satisfied callback. */
static request_facts_t base_facts(request_type_t type)
{
    request_facts_t f;
    memset(&f, 0, sizeof f);
    f.state = REQ_STATE_RECEIVED;
    f.type = type;
    f.channel = REQ_CHANNEL_NIGHT_DESK;
    f.state_before_pending = REQ_STATE_RECEIVED;
    f.location_kind = REQ_LOCATION_UNIT;
    f.is_valid_complaint = REQ_VALIDITY_UNKNOWN;
    f.actor_role = ROLE_AGENT;
    f.actor_dept_kind = DEPT_CUSTOMER_SERVICE;
    f.actor_in_responsible_dept = 1;
    f.actor_is_assignee = 1;
    f.work_order_has_assignee = 1;
    f.signer_kind = SIGNER_RESIDENT;
    f.signer_is_adult_household_member = 1;
    f.signer_role = ROLE_AGENT;
    f.signer_dept_kind = DEPT_CUSTOMER_SERVICE;
    f.reporting_dept_kind = DEPT_CUSTOMER_SERVICE;
    f.explanation = "Explained to the customer on the phone.";
    f.pending_reason = REQ_PENDING_APPOINTMENT;
    f.pending_until = 1700003600;
    f.callback_satisfied = 1;
    f.decline_reason = DECLINE_PARTS;
    f.decline_note = "The valve is out of stock.";
    f.promised_at = 1700090000;
    f.actor_is_owner = 1;
    f.has_hand_on_target = 1;
    f.out_of_hours = 1;
    f.has_notice_target = 1;
    return f;
}

static void set_wo(request_facts_t *f, int wo)
{
    f->has_active_work_order = wo >= 0;
    f->work_order_state = wo >= 0 ? (work_order_state_t)wo : WO_STATE_DISPATCHED;
}

static request_facts_t fixture(request_type_t type, fixture_t fx)
{
    request_facts_t f = base_facts(type);
    int done_wo =
        (type == REQ_TYPE_REPAIR || type == REQ_TYPE_EMERGENCY) ? WO_STATE_SIGNED_OFF : -1;
    switch (fx) {
    case FX_RECEIVED:
        f.state = REQ_STATE_RECEIVED;
        set_wo(&f, -1);
        break;
    case FX_DISPATCHED:
        f.state = REQ_STATE_DISPATCHED;
        set_wo(&f, WO_STATE_DISPATCHED);
        break;
    case FX_ACCEPTED:
        f.state = REQ_STATE_ACCEPTED;
        set_wo(&f, WO_STATE_ACCEPTED);
        break;
    case FX_ON_SITE:
        f.state = REQ_STATE_ON_SITE;
        set_wo(&f, WO_STATE_ON_SITE);
        break;
    case FX_ON_SITE_DONE:
        f.state = REQ_STATE_ON_SITE;
        set_wo(&f, WO_STATE_DONE_UNSIGNED);
        break;
    case FX_PENDING:
        f.state = REQ_STATE_PENDING;
        f.state_before_pending = REQ_STATE_DISPATCHED;
        set_wo(&f, WO_STATE_DISPATCHED);
        break;
    case FX_RESOLVED:
        f.state = REQ_STATE_RESOLVED;
        set_wo(&f, done_wo);
        break;
    case FX_CALLBACK:
        f.state = REQ_STATE_CALLBACK;
        set_wo(&f, done_wo);
        break;
    case FX_CLOSED:
        f.state = REQ_STATE_CLOSED;
        set_wo(&f, done_wo);
        break;
    case FX_REJECTED:
        f.state = REQ_STATE_REJECTED;
        set_wo(&f, -1);
        break;
    case FX_NOT_RESPONSIBLE:
        f.state = REQ_STATE_NOT_RESPONSIBLE;
        set_wo(&f, WO_STATE_CANCELLED);
        break;
    default:
        fail_msg("bad fixture %d", (int)fx);
    }
    return f;
}

/* Every transition_t must be self-consistent whatever the verdict. */
static void check_shape(const request_facts_t *f, transition_t t)
{
    assert_non_null(t.code);
    assert_non_null(t.reason);
    assert_true(strlen(t.reason) > 10);
    if (t.ok) {
        assert_string_equal(t.code, REQ_CODE_OK);
        assert_true(t.new_state >= 0 && t.new_state < REQ_STATE__COUNT);
        assert_true(t.new_work_order_state >= -1 && t.new_work_order_state < WO_STATE__COUNT);
        assert_true(t.reopen_increment == 0 || t.reopen_increment == 1);
    } else {
        assert_string_not_equal(t.code, REQ_CODE_OK);
        if (f)
            assert_int_equal(t.new_state, f->state);
        assert_int_equal(t.new_work_order_state, -1);
        assert_int_equal(t.reopen_increment, 0);
        /* Every refusal code maps to a client or server error. */
        assert_true(core_request_code_http_status(t.code) >= 403);
    }
}

static transition_t judge(const request_facts_t *f, request_action_t a)
{
    transition_t t = core_request_transition(f, a);
    check_shape(f, t);
    return t;
}

/* ---- the (state × action) matrices for desk staff ---------------------------------
 *
 * One row per fixture, one column per action in enum order:
 *   dispatch accept arrive report_result sign_off resolve pend resume reject
 *   close_not_responsible start_callback callback_result close reopen handover comment
 *   redispatch decline set_appointment set_deadline hand_on record_notification
 * Allowed: the new state — R received, D dispatched, A accepted, O on_site, P pending,
 *   V resolved, C callback, X closed, J rejected, N not_responsible, = unchanged.
 * Refused: . invalid_transition, s signoff_required, w work_not_reported,
 *   c callback_required.
 */
typedef const char *matrix_t[FX__COUNT];

static const matrix_t repair_matrix = {
    /*            dAarSrpuRnscCohmDKTLHN */
    [FX_RECEIVED] = "D....sP.JN....==..====",        [FX_DISPATCHED] = ".A...sP..N....==DR====",
    [FX_ACCEPTED] = "..O..sP..N....==DR====",        [FX_ON_SITE] = "...=wsP..N....==DR====",
    [FX_ON_SITE_DONE] = "....VsP..N....==D.====",    [FX_PENDING] = ".......D.N....==..====",
    [FX_RESOLVED] = "..........C.cR==.....=",        [FX_CALLBACK] = "...........XXR==.....=",
    [FX_CLOSED] = ".............R==.....=",          [FX_REJECTED] = "......................",
    [FX_NOT_RESPONSIBLE] = "......................",
};

/* Inquiries, suggestions and praise: resolved directly, closed without callback. */
static const matrix_t inquiry_matrix = {
    [FX_RECEIVED] = "D....VP.JN....==..====",        [FX_DISPATCHED] = ".A...VP..N....==DR====",
    [FX_ACCEPTED] = "..O..VP..N....==DR====",        [FX_ON_SITE] = "...=wVP..N....==DR====",
    [FX_ON_SITE_DONE] = "....VVP..N....==D.====",    [FX_PENDING] = ".......D.N....==..====",
    [FX_RESOLVED] = "..........C.XR==.....=",        [FX_CALLBACK] = "...........XXR==.....=",
    [FX_CLOSED] = ".............R==.....=",          [FX_REJECTED] = "......................",
    [FX_NOT_RESPONSIBLE] = "......................",
};

/* Complaints of unknown validity: resolved directly only before dispatch; callback due. */
static const matrix_t complaint_matrix = {
    [FX_RECEIVED] = "D....VP.JN....==..====",        [FX_DISPATCHED] = ".A...sP..N....==DR====",
    [FX_ACCEPTED] = "..O..sP..N....==DR====",        [FX_ON_SITE] = "...=wsP..N....==DR====",
    [FX_ON_SITE_DONE] = "....VsP..N....==D.====",    [FX_PENDING] = ".......D.N....==..====",
    [FX_RESOLVED] = "..........C.cR==.....=",        [FX_CALLBACK] = "...........XXR==.....=",
    [FX_CLOSED] = ".............R==.....=",          [FX_REJECTED] = "......................",
    [FX_NOT_RESPONSIBLE] = "......................",
};

static const struct {
    request_type_t type;
    const matrix_t *matrix;
    int allowed; /* cells that must come out allowed */
} type_matrices[] = {
    {REQ_TYPE_COMPLAINT, &complaint_matrix, 77}, {REQ_TYPE_REPAIR, &repair_matrix, 76},
    {REQ_TYPE_INQUIRY, &inquiry_matrix, 82},     {REQ_TYPE_SUGGESTION, &inquiry_matrix, 82},
    {REQ_TYPE_PRAISE, &inquiry_matrix, 82},      {REQ_TYPE_EMERGENCY, &repair_matrix, 76},
};

static int state_of_letter(char c)
{
    switch (c) {
    case 'R':
        return REQ_STATE_RECEIVED;
    case 'D':
        return REQ_STATE_DISPATCHED;
    case 'A':
        return REQ_STATE_ACCEPTED;
    case 'O':
        return REQ_STATE_ON_SITE;
    case 'P':
        return REQ_STATE_PENDING;
    case 'V':
        return REQ_STATE_RESOLVED;
    case 'C':
        return REQ_STATE_CALLBACK;
    case 'X':
        return REQ_STATE_CLOSED;
    case 'J':
        return REQ_STATE_REJECTED;
    case 'N':
        return REQ_STATE_NOT_RESPONSIBLE;
    default:
        return -1;
    }
}

static const char *code_of_letter(char c)
{
    switch (c) {
    case '.':
        return REQ_CODE_INVALID_TRANSITION;
    case 's':
        return REQ_CODE_SIGNOFF_REQUIRED;
    case 'w':
        return REQ_CODE_WORK_NOT_REPORTED;
    case 'c':
        return REQ_CODE_CALLBACK_REQUIRED;
    default:
        return NULL;
    }
}

/* Checks one cell; returns 1 when it was (and had to be) allowed. */
static int check_cell(const request_facts_t *f, request_action_t a, char want, const char *ctx)
{
    transition_t t = judge(f, a);
    const char *want_code = code_of_letter(want);
    if (want_code) {
        if (t.ok || strcmp(t.code, want_code) != 0)
            fail_msg("%s %s: want %s, got ok=%d %s (%s)", ctx, core_request_action_name(a),
                     want_code, t.ok, t.code, t.reason);
        return 0;
    }
    int want_state = want == '=' ? (int)f->state : state_of_letter(want);
    assert_true(want_state >= 0);
    if (!t.ok || t.new_state != want_state)
        fail_msg("%s %s: want → %s, got ok=%d → %s %s (%s)", ctx, core_request_action_name(a),
                 core_request_state_name(want_state), t.ok, core_request_state_name(t.new_state),
                 t.code, t.reason);
    assert_int_equal(t.reopen_increment, a == REQ_ACTION_REOPEN ? 1 : 0);
    return 1;
}

static void test_matrix_every_state_action_for_desk_roles(void **state)
{
    (void)state;
    const role_t desk[] = {ROLE_AGENT, ROLE_SUPERVISOR, ROLE_MANAGER, ROLE_DIRECTOR, ROLE_GM};
    int cells = 0, total_allowed = 0;
    for (size_t r = 0; r < N(desk); r++) {
        for (size_t i = 0; i < N(type_matrices); i++) {
            int allowed = 0;
            for (int fx = 0; fx < FX__COUNT; fx++) {
                const char *row = (*type_matrices[i].matrix)[fx];
                assert_int_equal(strlen(row), REQ_ACTION__COUNT);
                for (int a = 0; a < REQ_ACTION__COUNT; a++) {
                    char ctx[96];
                    request_facts_t f = fixture(type_matrices[i].type, (fixture_t)fx);
                    f.actor_role = desk[r];
                    snprintf(ctx, sizeof ctx, "%s %s %s", core_role_name(desk[r]),
                             core_request_type_name(f.type), fixture_names[fx]);
                    allowed += check_cell(&f, (request_action_t)a, row[a], ctx);
                    cells++;
                }
            }
            assert_int_equal(allowed, type_matrices[i].allowed);
            total_allowed += allowed;
        }
    }
    assert_int_equal(cells, 5 * 6 * FX__COUNT * REQ_ACTION__COUNT);
    assert_int_equal(total_allowed, 5 * (77 + 76 + 82 + 82 + 82 + 76));
}

/* A complaint judged not valid needs no callback, so it closes straight from resolved. */
static void test_matrix_invalid_complaint_differs_only_at_close(void **state)
{
    (void)state;
    int differences = 0;
    for (int fx = 0; fx < FX__COUNT; fx++) {
        for (int a = 0; a < REQ_ACTION__COUNT; a++) {
            request_facts_t f = fixture(REQ_TYPE_COMPLAINT, (fixture_t)fx);
            f.is_valid_complaint = REQ_VALIDITY_INVALID;
            char want = complaint_matrix[fx][a];
            if (fx == FX_RESOLVED && a == REQ_ACTION_CLOSE) {
                assert_int_equal(want, 'c');
                want = 'X';
                differences++;
            }
            check_cell(&f, (request_action_t)a, want, "invalid complaint");
        }
    }
    assert_int_equal(differences, 1);
}

/* ---- roles ------------------------------------------------------------------------ */

/* For each action, a situation where an agent may take it. */
static const struct {
    request_type_t type;
    fixture_t fx;
} action_home[REQ_ACTION__COUNT] = {
    [REQ_ACTION_DISPATCH] = {REQ_TYPE_REPAIR, FX_RECEIVED},
    [REQ_ACTION_ACCEPT] = {REQ_TYPE_REPAIR, FX_DISPATCHED},
    [REQ_ACTION_ARRIVE] = {REQ_TYPE_REPAIR, FX_ACCEPTED},
    [REQ_ACTION_REPORT_RESULT] = {REQ_TYPE_REPAIR, FX_ON_SITE},
    [REQ_ACTION_SIGN_OFF] = {REQ_TYPE_REPAIR, FX_ON_SITE_DONE},
    [REQ_ACTION_RESOLVE] = {REQ_TYPE_INQUIRY, FX_RECEIVED},
    [REQ_ACTION_PEND] = {REQ_TYPE_REPAIR, FX_RECEIVED},
    [REQ_ACTION_RESUME] = {REQ_TYPE_REPAIR, FX_PENDING},
    [REQ_ACTION_REJECT] = {REQ_TYPE_REPAIR, FX_RECEIVED},
    [REQ_ACTION_CLOSE_NOT_RESPONSIBLE] = {REQ_TYPE_REPAIR, FX_RECEIVED},
    [REQ_ACTION_START_CALLBACK] = {REQ_TYPE_REPAIR, FX_RESOLVED},
    [REQ_ACTION_CALLBACK_RESULT] = {REQ_TYPE_REPAIR, FX_CALLBACK},
    [REQ_ACTION_CLOSE] = {REQ_TYPE_REPAIR, FX_CALLBACK},
    [REQ_ACTION_REOPEN] = {REQ_TYPE_REPAIR, FX_CLOSED},
    [REQ_ACTION_HANDOVER] = {REQ_TYPE_REPAIR, FX_RECEIVED},
    [REQ_ACTION_COMMENT] = {REQ_TYPE_REPAIR, FX_RECEIVED},
    [REQ_ACTION_REDISPATCH] = {REQ_TYPE_REPAIR, FX_DISPATCHED},
    [REQ_ACTION_DECLINE] = {REQ_TYPE_REPAIR, FX_DISPATCHED},
    [REQ_ACTION_SET_APPOINTMENT] = {REQ_TYPE_REPAIR, FX_RECEIVED},
    [REQ_ACTION_SET_DEADLINE] = {REQ_TYPE_REPAIR, FX_RECEIVED},
    [REQ_ACTION_HAND_ON] = {REQ_TYPE_REPAIR, FX_RECEIVED},
    [REQ_ACTION_RECORD_NOTIFICATION] = {REQ_TYPE_REPAIR, FX_RECEIVED},
};

/* Columns as in the state matrices; y allowed, - forbidden_role. */
static const char *const role_rows[ROLE__COUNT] = {
    /*                 dAarSrpuRnscCohmDKTLHN */
    [ROLE_RESIDENT] = "----y----------y------",   [ROLE_AGENT] = "yyyyyyyyyyyyyyyyyyyyyy",
    [ROLE_TECHNICIAN] = "-yyy-----------y-y---y", [ROLE_SECURITY] = "y---y---------yy-----y",
    [ROLE_SUPERVISOR] = "yyyyyyyyyyyyyyyyyyyyyy", [ROLE_MANAGER] = "yyyyyyyyyyyyyyyyyyyyyy",
    [ROLE_DIRECTOR] = "yyyyyyyyyyyyyyyyyyyyyy",   [ROLE_GM] = "yyyyyyyyyyyyyyyyyyyyyy",
    [ROLE_CLERK] = "----------------------",      [ROLE_INTEGRATION] = "---------------y------",
    [ROLE_AUDITOR] = "----------------------",    [ROLE_ADMIN] = "----------------------",
};

static void test_roles_every_role_every_action(void **state)
{
    (void)state;
    int allowed = 0;
    for (int r = 0; r < ROLE__COUNT; r++) {
        assert_non_null(role_rows[r]);
        assert_int_equal(strlen(role_rows[r]), REQ_ACTION__COUNT);
        for (int a = 0; a < REQ_ACTION__COUNT; a++) {
            request_facts_t f = fixture(action_home[a].type, action_home[a].fx);
            f.actor_role = (role_t)r;
            transition_t t = judge(&f, (request_action_t)a);
            if (role_rows[r][a] == 'y') {
                if (!t.ok)
                    fail_msg("%s %s: want allowed, got %s (%s)", core_role_name((role_t)r),
                             core_request_action_name((request_action_t)a), t.code, t.reason);
                allowed++;
            } else {
                if (t.ok || strcmp(t.code, REQ_CODE_FORBIDDEN_ROLE) != 0)
                    fail_msg("%s %s: want forbidden_role, got ok=%d %s", core_role_name((role_t)r),
                             core_request_action_name((request_action_t)a), t.ok, t.code);
                assert_int_equal(core_request_code_http_status(t.code), 403);
            }
        }
    }
    /* resident 2 + technician 6 + security 5 + integration 1 + five desk roles × all */
    assert_int_equal(allowed, 2 + 6 + 5 + 1 + 5 * REQ_ACTION__COUNT);
}

/* The role check comes before the state check: a forbidden role learns nothing more. */
static void test_roles_forbidden_before_state(void **state)
{
    (void)state;
    const role_t none[] = {ROLE_CLERK, ROLE_AUDITOR, ROLE_ADMIN};
    int n = 0;
    for (size_t r = 0; r < N(none); r++)
        for (int fx = 0; fx < FX__COUNT; fx++)
            for (int a = 0; a < REQ_ACTION__COUNT; a++) {
                request_facts_t f = fixture(REQ_TYPE_REPAIR, (fixture_t)fx);
                f.actor_role = none[r];
                transition_t t = judge(&f, (request_action_t)a);
                assert_false(t.ok);
                assert_string_equal(t.code, REQ_CODE_FORBIDDEN_ROLE);
                n++;
            }
    assert_int_equal(n, 3 * FX__COUNT * REQ_ACTION__COUNT);
}

static void test_technician_department_and_assignee(void **state)
{
    (void)state;
    static const struct {
        role_t role;
        request_action_t action;
        int in_dept, has_assignee, is_assignee;
        const char *code;
    } rows[] = {
        {ROLE_TECHNICIAN, REQ_ACTION_ACCEPT, 1, 0, 0, REQ_CODE_OK},
        {ROLE_TECHNICIAN, REQ_ACTION_ACCEPT, 1, 1, 1, REQ_CODE_OK},
        {ROLE_TECHNICIAN, REQ_ACTION_ACCEPT, 1, 1, 0, REQ_CODE_NOT_ASSIGNEE},
        {ROLE_TECHNICIAN, REQ_ACTION_ACCEPT, 0, 0, 0, REQ_CODE_NOT_RESPONSIBLE_DEPT},
        {ROLE_TECHNICIAN, REQ_ACTION_ACCEPT, 0, 1, 1, REQ_CODE_NOT_RESPONSIBLE_DEPT},
        {ROLE_TECHNICIAN, REQ_ACTION_ARRIVE, 1, 1, 1, REQ_CODE_OK},
        {ROLE_TECHNICIAN, REQ_ACTION_ARRIVE, 1, 1, 0, REQ_CODE_NOT_ASSIGNEE},
        {ROLE_TECHNICIAN, REQ_ACTION_ARRIVE, 0, 1, 1, REQ_CODE_NOT_RESPONSIBLE_DEPT},
        {ROLE_TECHNICIAN, REQ_ACTION_REPORT_RESULT, 1, 1, 1, REQ_CODE_OK},
        {ROLE_TECHNICIAN, REQ_ACTION_REPORT_RESULT, 1, 1, 0, REQ_CODE_NOT_ASSIGNEE},
        {ROLE_TECHNICIAN, REQ_ACTION_REPORT_RESULT, 0, 0, 0, REQ_CODE_NOT_RESPONSIBLE_DEPT},
        /* Comments are not tied to the work order. */
        {ROLE_TECHNICIAN, REQ_ACTION_COMMENT, 0, 1, 0, REQ_CODE_OK},
        /* Desk staff record paper work orders on the department's behalf. */
        {ROLE_AGENT, REQ_ACTION_ACCEPT, 0, 1, 0, REQ_CODE_OK},
        {ROLE_SUPERVISOR, REQ_ACTION_ARRIVE, 0, 1, 0, REQ_CODE_OK},
        {ROLE_GM, REQ_ACTION_REPORT_RESULT, 0, 1, 0, REQ_CODE_OK},
    };
    for (size_t i = 0; i < N(rows); i++) {
        request_action_t a = rows[i].action;
        request_facts_t f =
            fixture(REQ_TYPE_REPAIR, a == REQ_ACTION_COMMENT ? FX_RECEIVED : action_home[a].fx);
        f.actor_role = rows[i].role;
        f.actor_dept_kind = DEPT_ENGINEERING;
        f.actor_in_responsible_dept = rows[i].in_dept;
        f.work_order_has_assignee = rows[i].has_assignee;
        f.actor_is_assignee = rows[i].is_assignee;
        transition_t t = judge(&f, a);
        if (strcmp(t.code, rows[i].code) != 0)
            fail_msg("row %zu: want %s got %s", i, rows[i].code, t.code);
    }
    /* A technician in the right department still meets the state rules. */
    request_facts_t f = fixture(REQ_TYPE_REPAIR, FX_RECEIVED);
    f.actor_role = ROLE_TECHNICIAN;
    assert_string_equal(judge(&f, REQ_ACTION_ACCEPT).code, REQ_CODE_INVALID_TRANSITION);
}

/* ---- sign-off --------------------------------------------------------------------- */

static void test_sign_off_matrix(void **state)
{
    (void)state;
    enum { U = REQ_LOCATION_UNIT, C = REQ_LOCATION_COMMON_AREA };
    enum { RES = SIGNER_RESIDENT, STF = SIGNER_STAFF, NON = SIGNER_NONE };
    static const struct {
        int loc, kind, adult;
        role_t role;
        dept_kind_t dept, reporting;
        int ok;
    } rows[] = {
        /* unit: an adult of the household, nobody else */
        {U, RES, 1, ROLE_RESIDENT, DEPT_OTHER, DEPT_CUSTOMER_SERVICE, 1},
        {U, RES, 0, ROLE_RESIDENT, DEPT_OTHER, DEPT_CUSTOMER_SERVICE, 0},
        {U, STF, 0, ROLE_AGENT, DEPT_CUSTOMER_SERVICE, DEPT_CUSTOMER_SERVICE, 0},
        {U, STF, 1, ROLE_GM, DEPT_CUSTOMER_SERVICE, DEPT_CUSTOMER_SERVICE, 0},
        {U, STF, 0, ROLE_TECHNICIAN, DEPT_ENGINEERING, DEPT_ENGINEERING, 0},
        {U, NON, 0, ROLE_RESIDENT, DEPT_OTHER, DEPT_CUSTOMER_SERVICE, 0},
        /* common area reported by customer service: agent or above of 客服部 */
        {C, STF, 0, ROLE_AGENT, DEPT_CUSTOMER_SERVICE, DEPT_CUSTOMER_SERVICE, 1},
        {C, STF, 0, ROLE_SUPERVISOR, DEPT_CUSTOMER_SERVICE, DEPT_CUSTOMER_SERVICE, 1},
        {C, STF, 0, ROLE_MANAGER, DEPT_CUSTOMER_SERVICE, DEPT_CUSTOMER_SERVICE, 1},
        {C, STF, 0, ROLE_DIRECTOR, DEPT_OTHER, DEPT_CUSTOMER_SERVICE, 1},
        {C, STF, 0, ROLE_GM, DEPT_OTHER, DEPT_CUSTOMER_SERVICE, 1},
        {C, STF, 0, ROLE_AGENT, DEPT_ENGINEERING, DEPT_CUSTOMER_SERVICE, 0},
        {C, STF, 0, ROLE_SUPERVISOR, DEPT_ENGINEERING, DEPT_CUSTOMER_SERVICE, 0},
        {C, STF, 0, ROLE_TECHNICIAN, DEPT_CUSTOMER_SERVICE, DEPT_CUSTOMER_SERVICE, 0},
        {C, STF, 0, ROLE_SECURITY, DEPT_SECURITY, DEPT_CUSTOMER_SERVICE, 0},
        {C, STF, 0, ROLE_CLERK, DEPT_CUSTOMER_SERVICE, DEPT_CUSTOMER_SERVICE, 0},
        {C, RES, 1, ROLE_RESIDENT, DEPT_OTHER, DEPT_CUSTOMER_SERVICE, 0},
        {C, NON, 0, ROLE_AGENT, DEPT_CUSTOMER_SERVICE, DEPT_CUSTOMER_SERVICE, 0},
        /* reported by security: team leader (supervisor) or above of 保安部 */
        {C, STF, 0, ROLE_SUPERVISOR, DEPT_SECURITY, DEPT_SECURITY, 1},
        {C, STF, 0, ROLE_MANAGER, DEPT_SECURITY, DEPT_SECURITY, 1},
        {C, STF, 0, ROLE_DIRECTOR, DEPT_CUSTOMER_SERVICE, DEPT_SECURITY, 1},
        {C, STF, 0, ROLE_SECURITY, DEPT_SECURITY, DEPT_SECURITY, 0},
        {C, STF, 0, ROLE_AGENT, DEPT_SECURITY, DEPT_SECURITY, 0},
        {C, STF, 0, ROLE_SUPERVISOR, DEPT_CUSTOMER_SERVICE, DEPT_SECURITY, 0},
        {C, RES, 1, ROLE_RESIDENT, DEPT_OTHER, DEPT_SECURITY, 0},
        /* reported by another department: supervisor or above of that department */
        {C, STF, 0, ROLE_SUPERVISOR, DEPT_ENGINEERING, DEPT_ENGINEERING, 1},
        {C, STF, 0, ROLE_GM, DEPT_FINANCE, DEPT_ENGINEERING, 1},
        {C, STF, 0, ROLE_TECHNICIAN, DEPT_ENGINEERING, DEPT_ENGINEERING, 0},
        {C, STF, 0, ROLE_AGENT, DEPT_ENGINEERING, DEPT_ENGINEERING, 0},
        {C, STF, 0, ROLE_SUPERVISOR, DEPT_CUSTOMER_SERVICE, DEPT_ENGINEERING, 0},
        {C, STF, 0, ROLE_SUPERVISOR, DEPT_CLEANING, DEPT_CLEANING, 1},
        {C, STF, 0, ROLE_AGENT, DEPT_CLEANING, DEPT_CLEANING, 0},
        {C, STF, 0, ROLE_MANAGER, DEPT_GREENERY, DEPT_CLEANING, 0},
    };
    int ok = 0;
    for (size_t i = 0; i < N(rows); i++) {
        request_facts_t f = fixture(REQ_TYPE_REPAIR, FX_ON_SITE_DONE);
        f.location_kind = (location_kind_t)rows[i].loc;
        f.signer_kind = (signer_kind_t)rows[i].kind;
        f.signer_is_adult_household_member = rows[i].adult;
        f.signer_role = rows[i].role;
        f.signer_dept_kind = rows[i].dept;
        f.reporting_dept_kind = rows[i].reporting;
        transition_t t = judge(&f, REQ_ACTION_SIGN_OFF);
        if (t.ok != rows[i].ok)
            fail_msg("sign-off row %zu: want ok=%d got %s (%s)", i, rows[i].ok, t.code, t.reason);
        if (t.ok) {
            assert_int_equal(t.new_state, REQ_STATE_RESOLVED);
            assert_int_equal(t.new_work_order_state, WO_STATE_SIGNED_OFF);
            ok++;
        } else {
            assert_string_equal(t.code, REQ_CODE_SIGNER_NOT_QUALIFIED);
        }
    }
    assert_int_equal(ok, 12);
}

static void test_sign_off_actor_and_work_order_state(void **state)
{
    (void)state;
    /* A resident signs as themselves only. */
    request_facts_t f = fixture(REQ_TYPE_REPAIR, FX_ON_SITE_DONE);
    f.actor_role = ROLE_RESIDENT;
    assert_true(judge(&f, REQ_ACTION_SIGN_OFF).ok);
    f.signer_kind = SIGNER_STAFF;
    assert_string_equal(judge(&f, REQ_ACTION_SIGN_OFF).code, REQ_CODE_SIGNER_NOT_QUALIFIED);

    /* Security records the signature of its team leader on a facility it reported. */
    f = fixture(REQ_TYPE_REPAIR, FX_ON_SITE_DONE);
    f.actor_role = ROLE_SECURITY;
    f.location_kind = REQ_LOCATION_COMMON_AREA;
    f.reporting_dept_kind = DEPT_SECURITY;
    f.signer_kind = SIGNER_STAFF;
    f.signer_role = ROLE_SUPERVISOR;
    f.signer_dept_kind = DEPT_SECURITY;
    assert_true(judge(&f, REQ_ACTION_SIGN_OFF).ok);
    f.signer_role = ROLE_SECURITY; /* the guard himself is not a team leader */
    assert_string_equal(judge(&f, REQ_ACTION_SIGN_OFF).code, REQ_CODE_SIGNER_NOT_QUALIFIED);
    f.reporting_dept_kind = (dept_kind_t)42;
    assert_string_equal(judge(&f, REQ_ACTION_SIGN_OFF).code, REQ_CODE_INVALID_FACTS);

    /* Only from done_unsigned. */
    static const struct {
        int wo;
        const char *code;
    } wo_rows[] = {
        {-1, REQ_CODE_INVALID_TRANSITION},
        {WO_STATE_DISPATCHED, REQ_CODE_WORK_NOT_REPORTED},
        {WO_STATE_ACCEPTED, REQ_CODE_WORK_NOT_REPORTED},
        {WO_STATE_ON_SITE, REQ_CODE_WORK_NOT_REPORTED},
        {WO_STATE_DONE_UNSIGNED, REQ_CODE_OK},
        {WO_STATE_SIGNED_OFF, REQ_CODE_INVALID_TRANSITION},
        {WO_STATE_CANCELLED, REQ_CODE_INVALID_TRANSITION},
    };
    for (size_t i = 0; i < N(wo_rows); i++) {
        f = fixture(REQ_TYPE_REPAIR, FX_ON_SITE);
        set_wo(&f, wo_rows[i].wo);
        assert_string_equal(judge(&f, REQ_ACTION_SIGN_OFF).code, wo_rows[i].code);
    }
    /* Waiting for the owner to come home to sign: resume first. */
    f = fixture(REQ_TYPE_REPAIR, FX_ON_SITE_DONE);
    f.state = REQ_STATE_PENDING;
    f.state_before_pending = REQ_STATE_ON_SITE;
    transition_t t = judge(&f, REQ_ACTION_SIGN_OFF);
    assert_string_equal(t.code, REQ_CODE_INVALID_TRANSITION);
    assert_non_null(strstr(t.reason, "resume"));
}

/* ---- work-order side effects ------------------------------------------------------ */

static void test_work_order_effects(void **state)
{
    (void)state;
    static const struct {
        request_type_t type;
        fixture_t fx;
        request_action_t action;
        int wo;
    } rows[] = {
        {REQ_TYPE_REPAIR, FX_RECEIVED, REQ_ACTION_DISPATCH, WO_STATE_DISPATCHED},
        {REQ_TYPE_REPAIR, FX_DISPATCHED, REQ_ACTION_ACCEPT, WO_STATE_ACCEPTED},
        {REQ_TYPE_REPAIR, FX_ACCEPTED, REQ_ACTION_ARRIVE, WO_STATE_ON_SITE},
        {REQ_TYPE_REPAIR, FX_ON_SITE, REQ_ACTION_REPORT_RESULT, WO_STATE_DONE_UNSIGNED},
        {REQ_TYPE_REPAIR, FX_ON_SITE_DONE, REQ_ACTION_SIGN_OFF, WO_STATE_SIGNED_OFF},
        {REQ_TYPE_REPAIR, FX_RECEIVED, REQ_ACTION_PEND, -1},
        {REQ_TYPE_REPAIR, FX_PENDING, REQ_ACTION_RESUME, -1},
        {REQ_TYPE_REPAIR, FX_RECEIVED, REQ_ACTION_CLOSE_NOT_RESPONSIBLE, -1},
        {REQ_TYPE_REPAIR, FX_DISPATCHED, REQ_ACTION_CLOSE_NOT_RESPONSIBLE, WO_STATE_CANCELLED},
        {REQ_TYPE_REPAIR, FX_ON_SITE_DONE, REQ_ACTION_CLOSE_NOT_RESPONSIBLE, WO_STATE_CANCELLED},
        {REQ_TYPE_REPAIR, FX_PENDING, REQ_ACTION_CLOSE_NOT_RESPONSIBLE, WO_STATE_CANCELLED},
        {REQ_TYPE_REPAIR, FX_CLOSED, REQ_ACTION_REOPEN, -1},
        {REQ_TYPE_REPAIR, FX_CALLBACK, REQ_ACTION_CALLBACK_RESULT, -1},
        {REQ_TYPE_INQUIRY, FX_RECEIVED, REQ_ACTION_RESOLVE, -1},
        {REQ_TYPE_INQUIRY, FX_DISPATCHED, REQ_ACTION_RESOLVE, WO_STATE_CANCELLED},
        {REQ_TYPE_INQUIRY, FX_ACCEPTED, REQ_ACTION_RESOLVE, WO_STATE_CANCELLED},
        {REQ_TYPE_SUGGESTION, FX_ON_SITE, REQ_ACTION_RESOLVE, WO_STATE_CANCELLED},
        {REQ_TYPE_PRAISE, FX_ON_SITE_DONE, REQ_ACTION_RESOLVE, -1},
        {REQ_TYPE_COMPLAINT, FX_RECEIVED, REQ_ACTION_RESOLVE, -1},
    };
    for (size_t i = 0; i < N(rows); i++) {
        request_facts_t f = fixture(rows[i].type, rows[i].fx);
        transition_t t = judge(&f, rows[i].action);
        assert_true(t.ok);
        if (t.new_work_order_state != rows[i].wo)
            fail_msg("row %zu: want wo %d got %d", i, rows[i].wo, t.new_work_order_state);
    }
}

/* A complaint reopened after a finished work order is back in received and may again be
 * answered directly; an open work order (impossible in practice) would forbid it. */
static void test_resolve_complaint_after_reopen(void **state)
{
    (void)state;
    const int wos[] = {WO_STATE_SIGNED_OFF, WO_STATE_CANCELLED, WO_STATE_DISPATCHED};
    const int oks[] = {1, 1, 0};
    for (size_t i = 0; i < N(wos); i++) {
        request_facts_t f = fixture(REQ_TYPE_COMPLAINT, FX_RECEIVED);
        f.reopen_count = 1;
        set_wo(&f, wos[i]);
        transition_t t = judge(&f, REQ_ACTION_RESOLVE);
        assert_int_equal(t.ok, oks[i]);
        if (!t.ok)
            assert_string_equal(t.code, REQ_CODE_SIGNOFF_REQUIRED);
        assert_int_equal(judge(&f, REQ_ACTION_DISPATCH).ok, oks[i]);
    }
    /* A repair is never resolved directly, whatever its work order says. */
    for (int wo = -1; wo < WO_STATE__COUNT; wo++) {
        request_facts_t f = fixture(REQ_TYPE_REPAIR, FX_ON_SITE);
        set_wo(&f, wo);
        assert_string_equal(judge(&f, REQ_ACTION_RESOLVE).code, REQ_CODE_SIGNOFF_REQUIRED);
    }
}

/* ---- arguments -------------------------------------------------------------------- */

static void test_explanation_required(void **state)
{
    (void)state;
    static const struct {
        request_type_t type;
        fixture_t fx;
        request_action_t action;
        int needed;
    } rows[] = {
        {REQ_TYPE_REPAIR, FX_RECEIVED, REQ_ACTION_REJECT, 1},
        {REQ_TYPE_INQUIRY, FX_RECEIVED, REQ_ACTION_REJECT, 1},
        {REQ_TYPE_COMPLAINT, FX_RECEIVED, REQ_ACTION_CLOSE_NOT_RESPONSIBLE, 1},
        {REQ_TYPE_REPAIR, FX_ON_SITE, REQ_ACTION_CLOSE_NOT_RESPONSIBLE, 1},
        {REQ_TYPE_REPAIR, FX_PENDING, REQ_ACTION_CLOSE_NOT_RESPONSIBLE, 1},
        /* giving up a due callback */
        {REQ_TYPE_REPAIR, FX_CALLBACK, REQ_ACTION_CLOSE, 1},
        {REQ_TYPE_COMPLAINT, FX_CALLBACK, REQ_ACTION_CLOSE, 1},
        /* a courtesy callback may simply end */
        {REQ_TYPE_INQUIRY, FX_CALLBACK, REQ_ACTION_CLOSE, 0},
        {REQ_TYPE_PRAISE, FX_RESOLVED, REQ_ACTION_CLOSE, 0},
        {REQ_TYPE_REPAIR, FX_RECEIVED, REQ_ACTION_DISPATCH, 0},
        {REQ_TYPE_REPAIR, FX_CLOSED, REQ_ACTION_REOPEN, 0},
    };
    const char *blanks[] = {NULL, "", "   ", " \t\r\n"};
    int refusals = 0;
    for (size_t i = 0; i < N(rows); i++) {
        for (size_t b = 0; b < N(blanks); b++) {
            request_facts_t f = fixture(rows[i].type, rows[i].fx);
            f.explanation = blanks[b];
            transition_t t = judge(&f, rows[i].action);
            if (rows[i].needed) {
                assert_false(t.ok);
                assert_string_equal(t.code, REQ_CODE_EXPLANATION_REQUIRED);
                assert_int_equal(core_request_code_http_status(t.code), 422);
                refusals++;
            } else {
                assert_true(t.ok);
            }
        }
        request_facts_t f = fixture(rows[i].type, rows[i].fx);
        f.explanation = "x";
        assert_true(judge(&f, rows[i].action).ok);
    }
    assert_int_equal(refusals, 7 * 4);
}

static void test_pend_requires_reason_and_until(void **state)
{
    (void)state;
    static const struct {
        int reason;
        int64_t until;
        const char *code;
    } rows[] = {
        {-1, 1700003600, REQ_CODE_PENDING_REASON_REQ},
        {REQ_PENDING__COUNT, 1700003600, REQ_CODE_PENDING_REASON_REQ},
        {99, 1700003600, REQ_CODE_PENDING_REASON_REQ},
        {-1, 0, REQ_CODE_PENDING_REASON_REQ},
        {REQ_PENDING_PARTS, 0, REQ_CODE_PENDING_UNTIL_REQ},
        {REQ_PENDING_PARTS, -5, REQ_CODE_PENDING_UNTIL_REQ},
        {REQ_PENDING_CUSTOMER, 1, REQ_CODE_OK},
        {REQ_PENDING_APPOINTMENT, 1700003600, REQ_CODE_OK},
        {REQ_PENDING_PARTS, 1700003600, REQ_CODE_OK},
        {REQ_PENDING_DEVELOPER, 1700003600, REQ_CODE_OK},
        {REQ_PENDING_OTHER, 1700003600, REQ_CODE_OK},
    };
    const fixture_t from[] = {FX_RECEIVED, FX_DISPATCHED, FX_ACCEPTED, FX_ON_SITE, FX_ON_SITE_DONE};
    int ok = 0;
    for (size_t s = 0; s < N(from); s++)
        for (size_t i = 0; i < N(rows); i++) {
            request_facts_t f = fixture(REQ_TYPE_REPAIR, from[s]);
            f.pending_reason = rows[i].reason;
            f.pending_until = rows[i].until;
            transition_t t = judge(&f, REQ_ACTION_PEND);
            assert_string_equal(t.code, rows[i].code);
            if (t.ok) {
                assert_int_equal(t.new_state, REQ_STATE_PENDING);
                ok++;
            }
        }
    assert_int_equal(ok, 5 * 5);
    /* Already pending: no second pause. */
    request_facts_t f = fixture(REQ_TYPE_REPAIR, FX_PENDING);
    assert_string_equal(judge(&f, REQ_ACTION_PEND).code, REQ_CODE_INVALID_TRANSITION);
}

static void test_resume_returns_to_prior_state(void **state)
{
    (void)state;
    static const struct {
        int before;
        const char *code;
    } rows[] = {
        {REQ_STATE_RECEIVED, REQ_CODE_OK},           {REQ_STATE_DISPATCHED, REQ_CODE_OK},
        {REQ_STATE_ACCEPTED, REQ_CODE_OK},           {REQ_STATE_ON_SITE, REQ_CODE_OK},
        {REQ_STATE_PENDING, REQ_CODE_INVALID_FACTS}, {REQ_STATE_RESOLVED, REQ_CODE_INVALID_FACTS},
        {REQ_STATE_CLOSED, REQ_CODE_INVALID_FACTS},  {-1, REQ_CODE_INVALID_FACTS},
        {REQ_STATE__COUNT, REQ_CODE_INVALID_FACTS},
    };
    for (size_t i = 0; i < N(rows); i++) {
        request_facts_t f = fixture(REQ_TYPE_REPAIR, FX_PENDING);
        f.state_before_pending = (request_state_t)rows[i].before;
        transition_t t = judge(&f, REQ_ACTION_RESUME);
        assert_string_equal(t.code, rows[i].code);
        if (t.ok) {
            assert_int_equal(t.new_state, rows[i].before);
            assert_int_equal(t.new_work_order_state, -1);
        }
    }
}

static void test_callback_result_and_reopen(void **state)
{
    (void)state;
    for (int type = 0; type < REQ_TYPE__COUNT; type++) {
        request_facts_t f = fixture((request_type_t)type, FX_CALLBACK);
        f.reopen_count = 2;
        f.callback_satisfied = 1;
        transition_t t = judge(&f, REQ_ACTION_CALLBACK_RESULT);
        assert_true(t.ok);
        assert_int_equal(t.new_state, REQ_STATE_CLOSED);
        assert_int_equal(t.reopen_increment, 0);
        f.callback_satisfied = 0;
        t = judge(&f, REQ_ACTION_CALLBACK_RESULT);
        assert_true(t.ok);
        assert_int_equal(t.new_state, REQ_STATE_RECEIVED);
        assert_int_equal(t.reopen_increment, 1);
        /* Manual reopen by staff from each reopenable state. */
        const fixture_t from[] = {FX_RESOLVED, FX_CALLBACK, FX_CLOSED};
        for (size_t i = 0; i < N(from); i++) {
            f = fixture((request_type_t)type, from[i]);
            t = judge(&f, REQ_ACTION_REOPEN);
            assert_true(t.ok);
            assert_int_equal(t.new_state, REQ_STATE_RECEIVED);
            assert_int_equal(t.reopen_increment, 1);
            f.actor_role = ROLE_RESIDENT;
            assert_string_equal(judge(&f, REQ_ACTION_REOPEN).code, REQ_CODE_FORBIDDEN_ROLE);
        }
    }
}

static void test_handover(void **state)
{
    (void)state;
    static const struct {
        fixture_t fx;
        role_t role;
        request_channel_t channel;
        int handed_over;
        const char *code;
    } rows[] = {
        {FX_RECEIVED, ROLE_SECURITY, REQ_CHANNEL_NIGHT_DESK, 0, REQ_CODE_OK},
        {FX_RECEIVED, ROLE_AGENT, REQ_CHANNEL_NIGHT_DESK, 0, REQ_CODE_OK},
        {FX_DISPATCHED, ROLE_SECURITY, REQ_CHANNEL_NIGHT_DESK, 0, REQ_CODE_OK},
        {FX_CLOSED, ROLE_SECURITY, REQ_CHANNEL_NIGHT_DESK, 0, REQ_CODE_OK},
        {FX_RECEIVED, ROLE_SECURITY, REQ_CHANNEL_NIGHT_DESK, 1, REQ_CODE_ALREADY_HANDED_OVER},
        {FX_RECEIVED, ROLE_SECURITY, REQ_CHANNEL_PHONE, 0, REQ_CODE_NOT_NIGHT_DESK},
        {FX_RECEIVED, ROLE_AGENT, REQ_CHANNEL_PATROL, 0, REQ_CODE_NOT_NIGHT_DESK},
        {FX_REJECTED, ROLE_SECURITY, REQ_CHANNEL_NIGHT_DESK, 0, REQ_CODE_INVALID_TRANSITION},
        {FX_RECEIVED, ROLE_TECHNICIAN, REQ_CHANNEL_NIGHT_DESK, 0, REQ_CODE_FORBIDDEN_ROLE},
        {FX_RECEIVED, ROLE_INTEGRATION, REQ_CHANNEL_NIGHT_DESK, 0, REQ_CODE_FORBIDDEN_ROLE},
    };
    for (size_t i = 0; i < N(rows); i++) {
        request_facts_t f = fixture(REQ_TYPE_EMERGENCY, rows[i].fx);
        f.actor_role = rows[i].role;
        f.channel = rows[i].channel;
        f.handed_over = rows[i].handed_over;
        transition_t t = judge(&f, REQ_ACTION_HANDOVER);
        if (strcmp(t.code, rows[i].code) != 0)
            fail_msg("handover row %zu: want %s got %s", i, rows[i].code, t.code);
        if (t.ok)
            assert_int_equal(t.new_state, f.state);
    }
}

static void test_invalid_facts(void **state)
{
    (void)state;
    transition_t t = core_request_transition(NULL, REQ_ACTION_COMMENT);
    check_shape(NULL, t);
    assert_string_equal(t.code, REQ_CODE_INVALID_FACTS);
    assert_int_equal(core_request_code_http_status(t.code), 500);

    request_facts_t f = fixture(REQ_TYPE_REPAIR, FX_RECEIVED);
    assert_string_equal(judge(&f, (request_action_t)REQ_ACTION__COUNT).code,
                        REQ_CODE_INVALID_FACTS);
    assert_string_equal(judge(&f, (request_action_t)-1).code, REQ_CODE_INVALID_FACTS);

    static const struct {
        int field, value;
    } rows[] = {{0, -1},
                {0, REQ_STATE__COUNT},
                {1, -1},
                {1, REQ_TYPE__COUNT},
                {2, 99},
                {3, 2},
                {4, -1},
                {4, ROLE__COUNT},
                {5, WO_STATE__COUNT},
                {5, -1}};
    for (size_t i = 0; i < N(rows); i++) {
        f = fixture(REQ_TYPE_REPAIR, FX_DISPATCHED);
        switch (rows[i].field) {
        case 0:
            f.state = (request_state_t)rows[i].value;
            break;
        case 1:
            f.type = (request_type_t)rows[i].value;
            break;
        case 2:
            f.channel = (request_channel_t)rows[i].value;
            break;
        case 3:
            f.location_kind = (location_kind_t)rows[i].value;
            break;
        case 4:
            f.actor_role = (role_t)rows[i].value;
            break;
        case 5:
            f.work_order_state = (work_order_state_t)rows[i].value;
            break;
        }
        assert_string_equal(core_request_transition(&f, REQ_ACTION_COMMENT).code,
                            REQ_CODE_INVALID_FACTS);
    }
}

/* The path of SPEC §3 driven as a caller would: store what the verdict says. */
static void apply(request_facts_t *f, request_action_t a)
{
    transition_t t = judge(f, a);
    if (!t.ok)
        fail_msg("walk: %s from %s refused: %s (%s)", core_request_action_name(a),
                 core_request_state_name(f->state), t.code, t.reason);
    if (a == REQ_ACTION_PEND)
        f->state_before_pending = f->state;
    if (a == REQ_ACTION_HANDOVER)
        f->handed_over = 1;
    if (a == REQ_ACTION_DISPATCH)
        f->has_active_work_order = 1;
    if (t.new_work_order_state >= 0)
        f->work_order_state = (work_order_state_t)t.new_work_order_state;
    f->reopen_count += t.reopen_increment;
    f->state = (request_state_t)t.new_state;
}

static void test_walk_repair_lifecycle(void **state)
{
    (void)state;
    request_facts_t f = fixture(REQ_TYPE_REPAIR, FX_RECEIVED);
    f.actor_role = ROLE_SECURITY;
    apply(&f, REQ_ACTION_HANDOVER);
    assert_string_equal(judge(&f, REQ_ACTION_HANDOVER).code, REQ_CODE_ALREADY_HANDED_OVER);
    f.actor_role = ROLE_AGENT;
    apply(&f, REQ_ACTION_DISPATCH);
    f.actor_role = ROLE_TECHNICIAN;
    apply(&f, REQ_ACTION_ACCEPT);
    f.actor_role = ROLE_AGENT;
    apply(&f, REQ_ACTION_PEND);
    assert_int_equal(f.state_before_pending, REQ_STATE_ACCEPTED);
    apply(&f, REQ_ACTION_RESUME);
    assert_int_equal(f.state, REQ_STATE_ACCEPTED);
    f.actor_role = ROLE_TECHNICIAN;
    apply(&f, REQ_ACTION_ARRIVE);
    apply(&f, REQ_ACTION_REPORT_RESULT);
    assert_int_equal(f.state, REQ_STATE_ON_SITE);
    assert_int_equal(f.work_order_state, WO_STATE_DONE_UNSIGNED);
    f.actor_role = ROLE_RESIDENT;
    apply(&f, REQ_ACTION_SIGN_OFF);
    assert_int_equal(f.state, REQ_STATE_RESOLVED);
    f.actor_role = ROLE_AGENT;
    assert_string_equal(judge(&f, REQ_ACTION_CLOSE).code, REQ_CODE_CALLBACK_REQUIRED);
    apply(&f, REQ_ACTION_START_CALLBACK);
    f.callback_satisfied = 0;
    apply(&f, REQ_ACTION_CALLBACK_RESULT);
    assert_int_equal(f.state, REQ_STATE_RECEIVED);
    assert_int_equal(f.reopen_count, 1);
    /* The reopened repair needs a new work order. */
    f.has_active_work_order = 0;
    apply(&f, REQ_ACTION_DISPATCH);
    apply(&f, REQ_ACTION_ACCEPT);
    apply(&f, REQ_ACTION_ARRIVE);
    apply(&f, REQ_ACTION_REPORT_RESULT);
    apply(&f, REQ_ACTION_SIGN_OFF);
    apply(&f, REQ_ACTION_START_CALLBACK);
    f.callback_satisfied = 1;
    apply(&f, REQ_ACTION_CALLBACK_RESULT);
    assert_int_equal(f.state, REQ_STATE_CLOSED);
    assert_int_equal(f.reopen_count, 1);
    apply(&f, REQ_ACTION_COMMENT);
}

/* ---- predicates and tables -------------------------------------------------------- */

static void test_needs_callback(void **state)
{
    (void)state;
    /* columns: validity unknown, invalid, valid */
    static const int want[REQ_TYPE__COUNT][3] = {
        [REQ_TYPE_COMPLAINT] = {1, 0, 1}, [REQ_TYPE_REPAIR] = {1, 1, 1},
        [REQ_TYPE_INQUIRY] = {0, 0, 0},   [REQ_TYPE_SUGGESTION] = {0, 0, 0},
        [REQ_TYPE_PRAISE] = {0, 0, 0},    [REQ_TYPE_EMERGENCY] = {1, 1, 1},
    };
    const int validity[3] = {REQ_VALIDITY_UNKNOWN, REQ_VALIDITY_INVALID, REQ_VALIDITY_VALID};
    int yes = 0;
    for (int t = 0; t < REQ_TYPE__COUNT; t++)
        for (int v = 0; v < 3; v++) {
            int got = core_request_needs_callback((request_type_t)t, validity[v]);
            assert_int_equal(got, want[t][v]);
            yes += got;
        }
    assert_int_equal(yes, 8);
    assert_int_equal(core_request_needs_callback((request_type_t)REQ_TYPE__COUNT, 1), 0);
}

static void test_final_and_open(void **state)
{
    (void)state;
    static const int final[REQ_STATE__COUNT] = {
        [REQ_STATE_CLOSED] = 1, [REQ_STATE_REJECTED] = 1, [REQ_STATE_NOT_RESPONSIBLE] = 1};
    int nfinal = 0;
    for (int s = 0; s < REQ_STATE__COUNT; s++) {
        assert_int_equal(core_request_is_final((request_state_t)s), final[s]);
        assert_int_equal(core_request_is_open((request_state_t)s), !final[s]);
        nfinal += final[s];
    }
    assert_int_equal(nfinal, 3);
    assert_int_equal(core_request_is_open((request_state_t)-1), 0);
    assert_int_equal(core_request_is_open((request_state_t)REQ_STATE__COUNT), 0);
    assert_int_equal(core_request_is_final((request_state_t)REQ_STATE__COUNT), 0);
}

static void test_number_prefix(void **state)
{
    (void)state;
    static const char *const want[REQ_TYPE__COUNT] = {
        [REQ_TYPE_COMPLAINT] = "TS",  [REQ_TYPE_REPAIR] = "BX", [REQ_TYPE_INQUIRY] = "ZX",
        [REQ_TYPE_SUGGESTION] = "JY", [REQ_TYPE_PRAISE] = "BY", [REQ_TYPE_EMERGENCY] = "TF",
    };
    for (int t = 0; t < REQ_TYPE__COUNT; t++)
        assert_string_equal(core_request_number_prefix((request_type_t)t), want[t]);
    assert_null(core_request_number_prefix((request_type_t)REQ_TYPE__COUNT));
    assert_null(core_request_number_prefix((request_type_t)-1));
}

static void test_occurred_at(void **state)
{
    (void)state;
    const int64_t now = 1700000000;
    static const struct {
        int64_t occurred, previous, now;
        const char *code;
    } rows[] = {
        {1700000000, 0, 1700000000, REQ_CODE_OK},
        {1700000000 + 60, 0, 1700000000, REQ_CODE_OK}, /* clock skew tolerated */
        {1700000000 + 61, 0, 1700000000, REQ_CODE_OCCURRED_IN_FUTURE},
        {1700000000 + 86400, 0, 1700000000, REQ_CODE_OCCURRED_IN_FUTURE},
        {1700000000 - 3600, 1700000000 - 7200, 1700000000, REQ_CODE_OK},
        {1700000000 - 7200, 1700000000 - 7200, 1700000000, REQ_CODE_OK}, /* same second */
        {1700000000 - 7201, 1700000000 - 7200, 1700000000, REQ_CODE_OCCURRED_BEFORE_PREV},
        {1, 0, 1700000000, REQ_CODE_OK},
        {1, -5, 1700000000, REQ_CODE_OK},
        {0, 0, 1700000000, REQ_CODE_OCCURRED_AT_INVALID},
        {-5, 0, 1700000000, REQ_CODE_OCCURRED_AT_INVALID},
        /* both wrong: the future is reported first */
        {1700000000 + 100, 1700000000 + 200, 1700000000, REQ_CODE_OCCURRED_IN_FUTURE},
        /* no overflow at the edge */
        {INT64_MAX, 0, INT64_MAX, REQ_CODE_OK},
        {INT64_MAX, 0, INT64_MAX - 60, REQ_CODE_OK},
        {INT64_MAX, 0, INT64_MAX - 61, REQ_CODE_OCCURRED_IN_FUTURE},
        {INT64_MAX, 0, INT64_MIN, REQ_CODE_OCCURRED_IN_FUTURE},
    };
    for (size_t i = 0; i < N(rows); i++) {
        const char *code = NULL, *reason = NULL;
        int rc = core_request_check_occurred_at(rows[i].occurred, rows[i].previous, rows[i].now,
                                                &code, &reason);
        if (strcmp(code, rows[i].code) != 0)
            fail_msg("occurred_at row %zu: want %s got %s", i, rows[i].code, code);
        assert_non_null(reason);
        assert_int_equal(rc, strcmp(rows[i].code, REQ_CODE_OK) == 0 ? 0 : -1);
        assert_int_equal(core_request_code_http_status(code), rc == 0 ? 200 : 422);
    }
    /* Output pointers are optional. */
    assert_int_equal(core_request_check_occurred_at(now, 0, now, NULL, NULL), 0);
    assert_int_equal(core_request_check_occurred_at(now + 61, 0, now, NULL, NULL), -1);
}

static void test_http_status(void **state)
{
    (void)state;
    static const struct {
        const char *code;
        int status;
    } rows[] = {
        {REQ_CODE_OK, 200},
        {REQ_CODE_FORBIDDEN_ROLE, 403},
        {REQ_CODE_NOT_RESPONSIBLE_DEPT, 403},
        {REQ_CODE_NOT_ASSIGNEE, 403},
        {REQ_CODE_INVALID_TRANSITION, 409},
        {REQ_CODE_SIGNOFF_REQUIRED, 409},
        {REQ_CODE_WORK_NOT_REPORTED, 409},
        {REQ_CODE_CALLBACK_REQUIRED, 409},
        {REQ_CODE_NOT_NIGHT_DESK, 409},
        {REQ_CODE_ALREADY_HANDED_OVER, 409},
        {REQ_CODE_SIGNER_NOT_QUALIFIED, 422},
        {REQ_CODE_EXPLANATION_REQUIRED, 422},
        {REQ_CODE_PENDING_REASON_REQ, 422},
        {REQ_CODE_PENDING_UNTIL_REQ, 422},
        {REQ_CODE_OCCURRED_AT_INVALID, 422},
        {REQ_CODE_OCCURRED_IN_FUTURE, 422},
        {REQ_CODE_OCCURRED_BEFORE_PREV, 422},
        {REQ_CODE_INVALID_FACTS, 500},
        {"no_such_code", 500},
        {NULL, 500},
    };
    for (size_t i = 0; i < N(rows); i++)
        assert_int_equal(core_request_code_http_status(rows[i].code), rows[i].status);
}

/* Every enum's API strings, both ways, spelled out once more so a rename is caught. */
#define CHECK_TABLE(fn, type_t, count, ...)                                                        \
    do {                                                                                           \
        static const char *const want[] = {__VA_ARGS__};                                           \
        assert_int_equal(N(want), count);                                                          \
        for (int i = 0; i < (int)(count); i++) {                                                   \
            assert_string_equal(fn##_name((type_t)i), want[i]);                                    \
            assert_int_equal(fn##_from_string(want[i]), i);                                        \
        }                                                                                          \
        assert_null(fn##_name((type_t)(count)));                                                   \
        assert_null(fn##_name((type_t)-1));                                                        \
        assert_int_equal(fn##_from_string("no_such_value"), -1);                                   \
        assert_int_equal(fn##_from_string(""), -1);                                                \
        assert_int_equal(fn##_from_string(NULL), -1);                                              \
        tables++;                                                                                  \
        strings += (int)(count);                                                                   \
    } while (0)

static void test_string_tables(void **state)
{
    (void)state;
    int tables = 0, strings = 0;
    CHECK_TABLE(core_request_type, request_type_t, REQ_TYPE__COUNT, "complaint", "repair",
                "inquiry", "suggestion", "praise", "emergency");
    CHECK_TABLE(core_request_channel, request_channel_t, REQ_CHANNEL__COUNT, "phone", "visit",
                "letter", "fax", "app", "web", "email", "night_desk", "patrol", "integration",
                "survey", "other");
    CHECK_TABLE(core_request_severity, request_severity_t, REQ_SEVERITY__COUNT, "major",
                "important", "general");
    CHECK_TABLE(core_request_category, request_category_t, REQ_CATEGORY__COUNT, "attitude",
                "timeliness", "quality", "service_range", "developer_legacy", "fees", "other");
    CHECK_TABLE(core_request_location_kind, location_kind_t, REQ_LOCATION__COUNT, "unit",
                "common_area");
    CHECK_TABLE(core_request_state, request_state_t, REQ_STATE__COUNT, "received", "dispatched",
                "accepted", "on_site", "pending", "resolved", "callback", "closed", "rejected",
                "not_responsible");
    CHECK_TABLE(core_request_pending_reason, pending_reason_t, REQ_PENDING__COUNT, "customer",
                "appointment", "parts", "developer", "other");
    CHECK_TABLE(core_request_work_order_state, work_order_state_t, WO_STATE__COUNT, "dispatched",
                "accepted", "on_site", "done_unsigned", "signed_off", "cancelled", "declined");
    CHECK_TABLE(core_request_signer_kind, signer_kind_t, SIGNER__COUNT, "none", "resident",
                "staff");
    CHECK_TABLE(core_request_action, request_action_t, REQ_ACTION__COUNT, "dispatch", "accept",
                "arrive", "report_result", "sign_off", "resolve", "pend", "resume", "reject",
                "close_not_responsible", "start_callback", "callback_result", "close", "reopen",
                "handover", "comment", "redispatch", "decline", "set_appointment", "set_deadline",
                "hand_on", "record_notification");
    CHECK_TABLE(core_request_decline_reason, decline_reason_t, DECLINE__COUNT, "not_ours", "parts",
                "no_access", "other");
    CHECK_TABLE(core_role, role_t, ROLE__COUNT, "resident", "agent", "technician", "security",
                "supervisor", "manager", "director", "gm", "clerk", "integration", "auditor",
                "admin");
    CHECK_TABLE(core_dept_kind, dept_kind_t, DEPT__COUNT, "customer_service", "engineering",
                "security", "cleaning", "greenery", "finance", "supplier", "other");
    assert_int_equal(tables, 13);
    assert_int_equal(strings, 6 + 12 + 3 + 7 + 2 + 10 + 5 + 7 + 3 + 22 + 4 + 12 + 8);
    /* Case matters: the API strings are lower case. */
    assert_int_equal(core_request_type_from_string("Repair"), -1);
}

static void test_role_ladder(void **state)
{
    (void)state;
    static const int want[ROLE__COUNT] = {
        [ROLE_RESIDENT] = -1,    [ROLE_AGENT] = 0,      [ROLE_TECHNICIAN] = -1,
        [ROLE_SECURITY] = -1,    [ROLE_SUPERVISOR] = 1, [ROLE_MANAGER] = 2,
        [ROLE_DIRECTOR] = 3,     [ROLE_GM] = 4,         [ROLE_CLERK] = -1,
        [ROLE_INTEGRATION] = -1, [ROLE_AUDITOR] = -1,   [ROLE_ADMIN] = -1,
    };
    int on_ladder = 0;
    for (int r = 0; r < ROLE__COUNT; r++) {
        assert_int_equal(core_role_ladder_level((role_t)r), want[r]);
        on_ladder += want[r] >= 0;
    }
    assert_int_equal(on_ladder, 5);
    assert_int_equal(core_role_ladder_level((role_t)ROLE__COUNT), -1);
    assert_int_equal(core_role_ladder_level((role_t)-1), -1);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_matrix_every_state_action_for_desk_roles),
        cmocka_unit_test(test_matrix_invalid_complaint_differs_only_at_close),
        cmocka_unit_test(test_roles_every_role_every_action),
        cmocka_unit_test(test_roles_forbidden_before_state),
        cmocka_unit_test(test_technician_department_and_assignee),
        cmocka_unit_test(test_sign_off_matrix),
        cmocka_unit_test(test_sign_off_actor_and_work_order_state),
        cmocka_unit_test(test_work_order_effects),
        cmocka_unit_test(test_resolve_complaint_after_reopen),
        cmocka_unit_test(test_explanation_required),
        cmocka_unit_test(test_pend_requires_reason_and_until),
        cmocka_unit_test(test_resume_returns_to_prior_state),
        cmocka_unit_test(test_callback_result_and_reopen),
        cmocka_unit_test(test_handover),
        cmocka_unit_test(test_invalid_facts),
        cmocka_unit_test(test_walk_repair_lifecycle),
        cmocka_unit_test(test_needs_callback),
        cmocka_unit_test(test_final_and_open),
        cmocka_unit_test(test_number_prefix),
        cmocka_unit_test(test_occurred_at),
        cmocka_unit_test(test_http_status),
        cmocka_unit_test(test_string_tables),
        cmocka_unit_test(test_role_ladder),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
