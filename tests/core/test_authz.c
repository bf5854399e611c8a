/*
 * tests/core/test_authz.c — the role × action × scope table, role by role (SPEC §1).
 * The expected matrix is written out here independently of core/authz.c's table.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <string.h>

#include "core/authz.h"

/* One row per role: the actions it may perform (1) or not (0), in az_action_t order. */
static const struct {
    role_t role;
    unsigned char allow[AZ__COUNT];
} matrix[] = {
    /*                 orgR orgU prjR prjW plR plW dR dW uR uW rR rW qC qR qA qCm qI woR slaA slaR
       esc ops nR qE extD wh rR rS imp cR cW aud regW regX tenR tenW tenS cbR cbW cbA svR svM svRsp
       svRR svPub viR viW mR mP arR dR dW dS cpR cpC cpA paR paW paP */
    {ROLE_RESIDENT,
     {1, 0, 1, 0, 1, 0, 0, 0, 0, 0, 0, 0, 1, 1, 1, 1, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0,
      0, 0, 1, 0, 1, 0, 1, 0, 0, 1, 0, 0, 1, 1, 1, 0, 0, 1, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0}},
    {ROLE_AGENT,
     {1, 0, 1, 0, 1, 0, 1, 0, 0, 0, 1, 1, 1, 1, 1, 1, 1, 1, 0, 1, 1, 0, 1, 1, 0, 0, 0, 0, 0, 1,
      1, 0, 1, 1, 1, 1, 0, 1, 1, 0, 1, 0, 1, 1, 1, 1, 1, 1, 0, 1, 1, 1, 0, 1, 0, 1, 1, 1, 0}},
    {ROLE_TECHNICIAN,
     {1, 0, 1, 0, 1, 0, 1, 0, 0, 0, 0, 0, 1, 1, 1, 1, 1, 1, 0, 0, 0, 0, 1, 0, 0, 0, 0, 0, 0, 1,
      1, 0, 1, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1, 0, 0, 1, 0, 1, 1, 1, 0}},
    {ROLE_SECURITY,
     {1, 0, 1, 0, 1, 0, 1, 0, 0, 0, 0, 0, 1, 1, 1, 1, 1, 0, 0, 0, 0, 0, 1, 0, 0, 0, 0, 0, 0, 1,
      1, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1, 0, 0, 1, 1, 0, 1, 0, 1, 1, 1, 0}},
    {ROLE_SUPERVISOR,
     {1, 0, 1, 0, 1, 0, 1, 0, 0, 0, 1, 1, 1, 1, 1, 1, 1, 1, 0, 1, 1, 0, 1, 1, 0, 0, 1, 1, 0, 1,
      1, 0, 1, 1, 1, 1, 1, 1, 1, 0, 1, 1, 1, 1, 1, 1, 1, 1, 0, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1}},
    {ROLE_MANAGER,
     {1, 0, 1, 0, 1, 1, 1, 0, 0, 0, 1, 1, 1, 1, 1, 1, 1, 1, 0, 1, 1, 0, 1, 1, 0, 0, 1, 1, 0, 1,
      1, 0, 1, 1, 1, 1, 1, 1, 1, 0, 1, 1, 1, 1, 1, 1, 1, 1, 0, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1}},
    {ROLE_DIRECTOR,
     {1, 0, 1, 0, 1, 1, 1, 0, 0, 0, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 0, 1, 1, 1, 0, 1, 0, 0, 1,
      1, 0, 1, 1, 1, 1, 1, 1, 1, 0, 1, 1, 1, 1, 1, 1, 1, 1, 0, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1}},
    {ROLE_GM,
     {1, 0, 1, 0, 1, 0, 1, 0, 1, 0, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 0, 1, 1, 1, 0, 1, 0, 0, 1,
      1, 1, 1, 1, 1, 1, 1, 1, 1, 0, 1, 1, 1, 1, 1, 1, 1, 1, 0, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1}},
    {ROLE_CLERK,
     {1, 0, 1, 0, 1, 0, 1, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1, 0, 0, 0, 0, 0, 0, 1,
      1, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1, 0, 1, 1, 1, 0, 0, 0, 0, 0, 0, 0}},
    {ROLE_INTEGRATION,
     {1, 0, 1, 0, 1, 0, 1, 0, 0, 0, 0, 0, 1, 1, 0, 1, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0,
      0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1, 1, 1, 0, 0, 0, 1, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0}},
    {ROLE_AUDITOR,
     {1, 0, 1, 0, 1, 0, 1, 0, 1, 0, 1, 0, 0, 1, 0, 0, 1, 1, 0, 1, 0, 0, 1, 0, 0, 0, 1, 0, 0, 1,
      0, 1, 0, 1, 1, 0, 0, 1, 0, 0, 1, 0, 0, 1, 1, 1, 0, 1, 0, 1, 1, 0, 0, 1, 1, 1, 1, 0, 0}},
    {ROLE_ADMIN,
     {1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 0, 0, 0, 0, 0, 0, 1, 1, 0, 1, 1, 0, 0, 1, 0, 0, 1, 1,
      0, 1, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1, 0, 1, 1, 0, 0, 0, 0, 0, 0, 0, 0}},
};

static void test_matrix_covers_every_role(void **state)
{
    (void)state;
    assert_int_equal(sizeof matrix / sizeof matrix[0], ROLE__COUNT);
    int seen[ROLE__COUNT] = {0};
    for (size_t i = 0; i < sizeof matrix / sizeof matrix[0]; i++)
        seen[matrix[i].role]++;
    for (int r = 0; r < ROLE__COUNT; r++)
        assert_int_equal(seen[r], 1);
}

static void test_role_matrix(void **state)
{
    (void)state;
    int mismatches = 0;
    for (size_t i = 0; i < sizeof matrix / sizeof matrix[0]; i++)
        for (int a = 0; a < AZ__COUNT; a++) {
            az_result_t want = matrix[i].allow[a] ? AZ_ALLOW : AZ_FORBIDDEN;
            az_result_t got = core_authz_role(matrix[i].role, (az_action_t)a);
            if (want != got) {
                print_error("role %s action %s: want %d got %d\n", core_role_name(matrix[i].role),
                            core_authz_action_name((az_action_t)a), want, got);
                mismatches++;
            }
        }
    assert_int_equal(mismatches, 0);
}

#define ORG_A  "11111111-1111-1111-1111-111111111111"
#define ORG_B  "22222222-2222-2222-2222-222222222222"
#define PRJ_1  "aaaaaaaa-0000-0000-0000-000000000001"
#define PRJ_2  "aaaaaaaa-0000-0000-0000-000000000002"
#define UNIT_1 "bbbbbbbb-0000-0000-0000-000000000001"
#define UNIT_2 "bbbbbbbb-0000-0000-0000-000000000002"
#define DEPT_E "cccccccc-0000-0000-0000-000000000001"
#define DEPT_S "cccccccc-0000-0000-0000-000000000002"

static const char *const projects[] = {PRJ_1};
static const char *const units[] = {UNIT_1};

static principal_t who(role_t role)
{
    principal_t p = {"dddddddd-0000-0000-0000-000000000001",
                     ORG_A,
                     role,
                     core_authz_org_wide(role),
                     projects,
                     1,
                     NULL,
                     0,
                     NULL};
    if (role == ROLE_RESIDENT) {
        p.units = units;
        p.nunits = 1;
    }
    if (role == ROLE_TECHNICIAN)
        p.dept_id = DEPT_E;
    return p;
}

static void test_other_organisation_is_not_found(void **state)
{
    (void)state;
    for (int r = 0; r < ROLE__COUNT; r++) {
        principal_t p = who((role_t)r);
        az_target_t t = {ORG_B, PRJ_1, UNIT_1, DEPT_E, NULL};
        for (int a = 0; a < AZ__COUNT; a++) {
            az_result_t got = core_authz_check(&p, (az_action_t)a, &t);
            /* Either the role may never do it (403) or the row is invisible (404). */
            assert_true(got == AZ_FORBIDDEN || got == AZ_NOT_FOUND);
            if (core_authz_role((role_t)r, (az_action_t)a) == AZ_ALLOW)
                assert_int_equal(got, AZ_NOT_FOUND);
        }
    }
}

static void test_project_scope(void **state)
{
    (void)state;
    principal_t agent = who(ROLE_AGENT);
    az_target_t in = {ORG_A, PRJ_1, NULL, NULL, NULL}, out = {ORG_A, PRJ_2, NULL, NULL, NULL};
    assert_int_equal(core_authz_check(&agent, AZ_PLACE_READ, &in), AZ_ALLOW);
    assert_int_equal(core_authz_check(&agent, AZ_PLACE_READ, &out), AZ_NOT_FOUND);
    assert_int_equal(core_authz_check(&agent, AZ_PLACE_WRITE, &in), AZ_FORBIDDEN);
    principal_t gm = who(ROLE_GM); /* organisation-wide */
    assert_int_equal(core_authz_check(&gm, AZ_PLACE_READ, &out), AZ_ALLOW);
    principal_t mgr = who(ROLE_MANAGER);
    assert_int_equal(core_authz_check(&mgr, AZ_PLACE_WRITE, &in), AZ_ALLOW);
    assert_int_equal(core_authz_check(&mgr, AZ_PLACE_WRITE, &out), AZ_NOT_FOUND);
    /* Org-level records (no project) are visible to everyone in the org. */
    az_target_t orgwide = {ORG_A, NULL, NULL, NULL, NULL};
    assert_int_equal(core_authz_check(&agent, AZ_DEPT_READ, &orgwide), AZ_ALLOW);
}

static void test_resident_own_unit_only(void **state)
{
    (void)state;
    principal_t res = who(ROLE_RESIDENT);
    az_target_t mine = {ORG_A, PRJ_1, UNIT_1, NULL, NULL};
    az_target_t neighbour = {ORG_A, PRJ_1, UNIT_2, NULL, NULL};
    az_target_t reported = {ORG_A, PRJ_1, NULL, NULL, res.user_id};
    assert_int_equal(core_authz_check(&res, AZ_REQUEST_READ, &mine), AZ_ALLOW);
    assert_int_equal(core_authz_check(&res, AZ_REQUEST_READ, &neighbour), AZ_NOT_FOUND);
    assert_int_equal(core_authz_check(&res, AZ_REQUEST_CREATE, &neighbour), AZ_NOT_FOUND);
    assert_int_equal(core_authz_check(&res, AZ_REQUEST_READ, &reported), AZ_ALLOW);
    assert_int_equal(core_authz_check(&res, AZ_REQUEST_INTERNAL, &mine), AZ_FORBIDDEN);
}

static void test_technician_own_department(void **state)
{
    (void)state;
    principal_t tech = who(ROLE_TECHNICIAN);
    az_target_t eng = {ORG_A, PRJ_1, NULL, DEPT_E, NULL};
    az_target_t sec = {ORG_A, PRJ_1, NULL, DEPT_S, NULL};
    az_target_t none = {ORG_A, PRJ_1, NULL, NULL, NULL};
    assert_int_equal(core_authz_check(&tech, AZ_WORKORDER_READ, &eng), AZ_ALLOW);
    assert_int_equal(core_authz_check(&tech, AZ_WORKORDER_READ, &sec), AZ_NOT_FOUND);
    assert_int_equal(core_authz_check(&tech, AZ_REQUEST_READ, &none), AZ_NOT_FOUND);
    assert_int_equal(core_authz_check(&tech, AZ_REQUEST_ACT, &eng), AZ_ALLOW);
    /* A technician may still register what they find (SPEC §3: anyone receiving a contact). */
    assert_int_equal(core_authz_check(&tech, AZ_REQUEST_CREATE, &none), AZ_ALLOW);
    /* Lists filter a technician by department exactly where the check holds them to it. */
    assert_true(core_authz_own_department_only(&tech, AZ_WORKORDER_READ));
    assert_true(core_authz_own_department_only(&tech, AZ_REQUEST_READ));
    assert_false(core_authz_own_department_only(&tech, AZ_REQUEST_CREATE));
    assert_false(core_authz_own_department_only(&tech, AZ_REQUEST_INTERNAL));
    principal_t agent = who(ROLE_AGENT);
    assert_false(core_authz_own_department_only(&agent, AZ_WORKORDER_READ));
    assert_false(core_authz_own_department_only(&tech, (az_action_t)999));
}

/* The request edit and the extension decision, once compared by hand in the handlers. */
static void test_edit_and_extension_decision(void **state)
{
    (void)state;
    az_target_t in = {ORG_A, PRJ_1, UNIT_1, NULL, NULL}, out = {ORG_A, PRJ_2, NULL, NULL, NULL};
    principal_t agent = who(ROLE_AGENT), res = who(ROLE_RESIDENT), dir = who(ROLE_DIRECTOR);
    principal_t gm = who(ROLE_GM), mgr = who(ROLE_MANAGER), tech = who(ROLE_TECHNICIAN);
    assert_int_equal(core_authz_check(&agent, AZ_REQUEST_EDIT, &in), AZ_ALLOW);
    assert_int_equal(core_authz_check(&agent, AZ_REQUEST_EDIT, &out), AZ_NOT_FOUND);
    assert_int_equal(core_authz_check(&res, AZ_REQUEST_EDIT, &in), AZ_FORBIDDEN);
    assert_int_equal(core_authz_check(&tech, AZ_REQUEST_EDIT, &in), AZ_FORBIDDEN);
    assert_int_equal(core_authz_check(&dir, AZ_SLA_EXT_DECIDE, &in), AZ_ALLOW);
    assert_int_equal(core_authz_check(&dir, AZ_SLA_EXT_DECIDE, &out), AZ_NOT_FOUND);
    assert_int_equal(core_authz_check(&gm, AZ_SLA_EXT_DECIDE, &out), AZ_ALLOW);
    assert_int_equal(core_authz_check(&mgr, AZ_SLA_EXT_DECIDE, &in), AZ_FORBIDDEN);
    assert_string_equal(core_authz_action_name(AZ_REQUEST_EDIT), "request.edit");
    assert_string_equal(core_authz_action_name(AZ_SLA_EXT_DECIDE), "sla.extension.decide");
}

static void test_pii_visibility(void **state)
{
    (void)state;
    const int want[ROLE__COUNT] = {
        [ROLE_RESIDENT] = 1, [ROLE_AGENT] = 1,    [ROLE_TECHNICIAN] = 1, [ROLE_SUPERVISOR] = 1,
        [ROLE_MANAGER] = 1,  [ROLE_DIRECTOR] = 1, [ROLE_GM] = 1,         [ROLE_ADMIN] = 1};
    for (int r = 0; r < ROLE__COUNT; r++)
        assert_int_equal(core_authz_sees_pii((role_t)r), want[r]);
}

static void test_bad_inputs(void **state)
{
    (void)state;
    assert_int_equal(core_authz_role((role_t)99, AZ_ORG_READ), AZ_FORBIDDEN);
    assert_int_equal(core_authz_role(ROLE_ADMIN, (az_action_t)999), AZ_FORBIDDEN);
    principal_t p = who(ROLE_AGENT);
    p.org_id = NULL;
    az_target_t t = {ORG_A, PRJ_1, NULL, NULL, NULL};
    assert_int_equal(core_authz_check(&p, AZ_PLACE_READ, &t), AZ_NOT_FOUND);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_matrix_covers_every_role),
        cmocka_unit_test(test_role_matrix),
        cmocka_unit_test(test_other_organisation_is_not_found),
        cmocka_unit_test(test_project_scope),
        cmocka_unit_test(test_resident_own_unit_only),
        cmocka_unit_test(test_technician_own_department),
        cmocka_unit_test(test_edit_and_extension_decision),
        cmocka_unit_test(test_pii_visibility),
        cmocka_unit_test(test_bad_inputs),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
