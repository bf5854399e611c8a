/*
 * tests/api/test_keys.c — the key register and its ledgers end to end (issue 10 part 1,
 * RULES §3.4, §3.13): registration, control-room hand-over with count check and the
 * manager's notification, loans (staff, contractor via engineering with approval), return
 * checklist, daily check, daily lists, sealed keys (emergency opening with GM approval and
 * witnesses signing by their own calls, owner-requested opening waiting for the stamped
 * application, reseal and sign-off), corrections, role and project scope, concurrent loans,
 * the append-only trigger and the hash chain's verify after tampering.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "tests/lib/expect.h"
#include "tests/lib/fixtures.h"
#include "tests/lib/harness.h"

static char p1[40], p2[40], resident[40];
static char u_security[40], u_technician[40], u_supervisor[40], u_manager[40], u_agent[40];

static int setup(void **state)
{
    (void)state;
    static const char *const env[] = {"DESK_SWEEP_INTERVAL_MS=0", NULL};
    if (th_start(env) != 0)
        return -1;
    if (th_fx_project("demo", p1) || th_fx_resident("demo", "张伟", resident) ||
        th_fx_user("security", u_security) || th_fx_user("technician", u_technician) ||
        th_fx_user("supervisor", u_supervisor) || th_fx_user("manager", u_manager) ||
        th_fx_user("agent", u_agent))
        return -1;
    /* A second project of the demo organisation; the demo clerk works in P1 only. */
    if (th_grab(p2, "INSERT INTO projects (org_id, code, name, time_zone, business_hours) "
                    "SELECT org_id, 'P2', '翠湖大厦', time_zone, business_hours FROM projects "
                    "WHERE id = (SELECT p.id FROM projects p JOIN organisations o ON o.id = "
                    "p.org_id WHERE o.code = 'demo') RETURNING id"))
        return -1;
    return 0;
}

static int teardown(void **state)
{
    return th_group_stop(state);
}

/* ---- helpers ---------------------------------------------------------------------------- */

static void iso(long delta, char out[40])
{
    th_iso_utc(time(NULL) + delta, out);
}

/* Registers a key set; returns its id in dst. */
static void reg(const char *who, const char *project, const char *kind, const char *tag,
                long occurred_delta, char dst[40])
{
    char body[512], t[40];
    iso(occurred_delta, t);
    snprintf(body, sizeof body,
             "{\"project_id\":\"%s\",\"kind\":\"%s\",\"tag\":\"%s\",\"key_count\":3,"
             "\"location\":\"客服部钥匙柜 A\",\"occurred_at\":\"%s\"}",
             project, kind, tag, t);
    th_resp_t *r = th_req("POST", "/v1/keys", th_token(who), body, NULL);
    EXPECT_STATUS(r, 201);
    snprintf(dst, 40, "%s", th_js(r->json, "key_set.id"));
    assert_string_equal(th_js(r->json, "entry.action"), "register");
    assert_int_equal(th_jn(r->json, "entry.seq"), 1);
    th_free(r);
}

/* Posts an entry; returns the response (caller frees). */
static th_resp_t *post(const char *who, const char *id, const char *body)
{
    char path[128];
    snprintf(path, sizeof path, "/v1/keys/%s/entries", id);
    return th_req("POST", path, th_token(who), body, NULL);
}

static void ok(const char *who, const char *id, const char *body, const char *want_state)
{
    th_resp_t *r = post(who, id, body);
    if (r->status != 201)
        fprintf(stderr, "%s %s -> %ld %s\n", who, body, r->status, r->body);
    EXPECT_STATUS(r, 201);
    if (want_state)
        assert_string_equal(th_js(r->json, "key_set.state"), want_state);
    th_free(r);
}

static void refused(const char *who, const char *id, const char *body, long st, const char *code)
{
    th_resp_t *r = post(who, id, body);
    if (r->status != st)
        fprintf(stderr, "%s %s -> %ld %s\n", who, body, r->status, r->body);
    EXPECT_PROBLEM(r, st, code);
}

static th_resp_t *get(const char *who, const char *fmt, const char *id)
{
    char path[160];
    snprintf(path, sizeof path, fmt, id);
    return th_req("GET", path, th_token(who), NULL, NULL);
}

static long notifications(const char *kind)
{
    const char *v[] = {u_manager, kind};
    return th_sql_long("SELECT count(*) FROM notifications WHERE user_id = $1 AND kind = $2", v, 2);
}

static int list_has(const th_resp_t *r, const char *id)
{
    const cJSON *it;
    cJSON_ArrayForEach(it, cJSON_GetObjectItemCaseSensitive(r->json, "items"))
    {
        if (!strcmp(th_js(it, "id"), id))
            return 1;
    }
    return 0;
}

/* ---- flows ------------------------------------------------------------------------------ */

static void test_control_room_handover(void **state)
{
    (void)state;
    char id[40], body[512];
    reg("agent", p1, "management_area", "MGMT-1", -60, id);
    th_resp_t *r = get("agent", "/v1/keys/%s", id);
    assert_string_equal(th_js(r->json, "state"), "at_control_room");
    th_free(r);
    /* the counterparty must be the control room's guard */
    snprintf(body, sizeof body,
             "{\"action\":\"shift_take\",\"count\":3,\"counterparty\":{\"kind\":\"user\","
             "\"user_id\":\"%s\"}}",
             u_technician);
    refused("agent", id, body, 422, "counterparty_not_security");
    refused("agent", id, "{\"action\":\"shift_take\",\"count\":3}", 422,
            "counterparty_not_security");
    snprintf(body, sizeof body,
             "{\"action\":\"shift_take\",\"counterparty\":{\"kind\":\"user\",\"user_id\":\"%s\"}}",
             u_security);
    refused("agent", id, body, 422, "count_required");
    snprintf(body, sizeof body,
             "{\"action\":\"shift_take\",\"count\":3,\"counterparty\":{\"kind\":\"user\","
             "\"user_id\":\"%s\"}}",
             u_security);
    ok("agent", id, body, "at_control_room"); /* waits for the guard */
    refused("agent", id, body, 409, "handover_pending");
    refused("technician", id, "{\"action\":\"handover_confirm\",\"count\":3}", 403,
            "not_counterparty");
    long before = notifications("custody_discrepancy");
    /* the guard counts two: a discrepancy entry and the manager notified */
    r = post("security", id, "{\"action\":\"handover_confirm\",\"count\":2}");
    EXPECT_STATUS(r, 201);
    assert_string_equal(th_js(r->json, "key_set.state"), "with_shift");
    assert_string_equal(th_js(r->json, "discrepancy.action"), "discrepancy");
    assert_int_equal(th_jn(r->json, "discrepancy.details.expected"), 3);
    assert_int_equal(th_jn(r->json, "discrepancy.details.counted"), 2);
    assert_true(th_jtrue(r->json, "key_set.open_discrepancy"));
    th_free(r);
    assert_int_equal(notifications("custody_discrepancy"), before + 1);
    r = th_req("GET", "/v1/keys/discrepancies", th_token("supervisor"), NULL, NULL);
    EXPECT_STATUS(r, 200);
    assert_true(list_has(r, id));
    th_free(r);
    r = th_req("GET", "/v1/keys/on-loan", th_token("clerk"), NULL, NULL);
    assert_true(list_has(r, id)); /* with the shift = out of the control room */
    th_free(r);
    refused("agent", id, "{\"action\":\"resolve_discrepancy\",\"purpose\":\"found\"}", 403,
            "forbidden_role");
    ok("manager", id,
       "{\"action\":\"resolve_discrepancy\",\"purpose\":\"third key was in the "
       "drawer\"}",
       NULL);
    r = th_req("GET", "/v1/keys/discrepancies", th_token("supervisor"), NULL, NULL);
    assert_false(list_has(r, id));
    th_free(r);
    /* the mid shift returns it with the full count */
    snprintf(body, sizeof body,
             "{\"action\":\"shift_return\",\"count\":3,\"counterparty\":{\"kind\":\"user\","
             "\"user_id\":\"%s\"}}",
             u_security);
    ok("supervisor", id, body, "with_shift");
    r = post("security", id, "{\"action\":\"handover_confirm\",\"count\":3}");
    EXPECT_STATUS(r, 201);
    assert_string_equal(th_js(r->json, "key_set.state"), "at_control_room");
    assert_true(th_jnull(r->json, "discrepancy"));
    th_free(r);
    /* management keys are not lent */
    refused("agent", id,
            "{\"action\":\"loan\",\"purpose\":\"x\",\"due_back\":\"2099-01-01T00:00:00Z\"}", 409,
            "wrong_kind");
}

static void test_loan_return_daily_check(void **state)
{
    (void)state;
    char id[40], body[512], t1[40], t2[40];
    reg("clerk", p1, "unit_vacant", "1-201-V", -3 * 3600, id);
    iso(-2 * 3600, t1);
    iso(-3600, t2);
    /* validation */
    refused("agent", id, "{\"action\":\"loan\",\"purpose\":\"viewing\"}", 422, "due_back_required");
    snprintf(body, sizeof body, "{\"action\":\"loan\",\"due_back\":\"%s\",\"occurred_at\":\"%s\"}",
             t2, t1);
    refused("agent", id, body, 422, "purpose_required");
    snprintf(body, sizeof body,
             "{\"action\":\"loan\",\"purpose\":\"viewing\",\"due_back\":\"%s\","
             "\"counterparty\":{\"kind\":\"resident\",\"resident_id\":\"%s\"}}",
             t2, resident);
    refused("agent", id, body, 422, "borrower_not_staff");
    refused("agent", id, "{\"action\":\"loan\",\"colour\":\"red\"}", 422, "unknown_field");
    refused("agent", id, "{\"action\":\"borrow\"}", 422, "invalid_field");
    refused("agent", id, "{\"action\":\"discrepancy\"}", 422, "invalid_field");
    refused("agent", id,
            "{\"action\":\"note\",\"purpose\":\"x\",\"occurred_at\":\"2099-01-01T00:00:00Z\"}", 422,
            "occurred_in_future");
    refused("agent", id,
            "{\"action\":\"note\",\"purpose\":\"x\",\"occurred_at\":\"2001-01-01T00:00:00Z\"}", 422,
            "occurred_before_previous_event");
    /* a loan entered later from the paper register, already overdue */
    snprintf(body, sizeof body,
             "{\"action\":\"loan\",\"purpose\":\"看房 viewing\",\"due_back\":\"%s\","
             "\"occurred_at\":\"%s\",\"count\":3}",
             t2, t1);
    th_resp_t *r = post("agent", id, body);
    EXPECT_STATUS(r, 201);
    assert_string_equal(th_js(r->json, "key_set.state"), "on_loan");
    assert_string_equal(th_js(r->json, "key_set.holder_id"), u_agent);
    assert_true(th_jtrue(r->json, "key_set.overdue"));
    assert_string_equal(th_js(r->json, "entry.actor_id"), u_agent);
    th_free(r);
    r = th_req("GET", "/v1/keys/on-loan", th_token("clerk"), NULL, NULL);
    EXPECT_STATUS(r, 200);
    assert_true(list_has(r, id));
    th_free(r);
    refused("supervisor", id, body, 409, "already_on_loan");
    /* daily check: a reason for every key not returned */
    refused("clerk", id, "{\"action\":\"daily_check\"}", 422, "reason_required");
    ok("clerk", id, "{\"action\":\"daily_check\",\"purpose\":\"viewing ran late, back at 18:00\"}",
       "on_loan");
    /* return: the borrower, with the checklist */
    refused("supervisor", id,
            "{\"action\":\"return\",\"count\":3,\"power_off\":true,\"windows_closed\":true,"
            "\"unit_locked\":true}",
            403, "not_borrower");
    refused("agent", id,
            "{\"action\":\"return\",\"count\":3,\"power_off\":true,\"unit_locked\":true}", 422,
            "return_checklist_incomplete");
    refused("agent", id,
            "{\"action\":\"return\",\"count\":3,\"power_off\":true,\"windows_closed\":false,"
            "\"unit_locked\":true}",
            422, "return_checklist_incomplete");
    ok("agent", id,
       "{\"action\":\"return\",\"count\":3,\"power_off\":true,\"windows_closed\":true,"
       "\"unit_locked\":true}",
       "in_cabinet");
    refused("clerk", id, "{\"action\":\"daily_check\",\"purpose\":\"x\"}", 409, "not_out");
    r = th_req("GET", "/v1/keys/on-loan", th_token("clerk"), NULL, NULL);
    assert_false(list_has(r, id));
    th_free(r);
    /* loss notifies the manager */
    long before = notifications("custody_key_lost");
    ok("agent", id,
       "{\"action\":\"report_lost\",\"purpose\":\"set not in the cabinet at the "
       "evening count\"}",
       "lost");
    assert_int_equal(notifications("custody_key_lost"), before + 1);
}

static void test_contractor_loan(void **state)
{
    (void)state;
    char id[40], body[640], due[40];
    reg("agent", p1, "machine_room", "PUMP-ROOM", -60, id);
    iso(3600, due);
    const char *fmt = "{\"action\":\"loan\",\"purpose\":\"pump repair\",\"due_back\":\"%s\","
                      "\"counterparty\":{\"kind\":\"outsider\",\"name\":\"王师傅\",\"company\":"
                      "\"深圳水泵维修公司\",\"phone\":\"13512345678\",\"id_type\":\"id_card\","
                      "\"id_number\":\"440301199001011234\"}}";
    snprintf(body, sizeof body, fmt, due);
    refused("agent", id, body, 403, "contractor_loan_by_engineering");
    refused("technician", id, body, 409, "approval_required");
    char ap[256];
    snprintf(
        ap, sizeof ap,
        "{\"action\":\"loan_approve\",\"counterparty\":{\"kind\":\"user\",\"user_id\":\"%s\"}}",
        u_technician);
    refused("agent", id, ap, 403, "approver_not_supervisor");
    ok("supervisor", id, ap, "in_cabinet");
    th_resp_t *r = post("technician", id, body);
    EXPECT_STATUS(r, 201);
    assert_string_equal(th_js(r->json, "key_set.state"), "on_loan");
    const cJSON *a = cJSON_GetArrayItem(th_jpath(r->json, "entry.approvals"), 0);
    assert_non_null(a);
    assert_string_equal(th_js(a, "user_id"), u_supervisor);
    assert_string_equal(th_js(r->json, "entry.counterparty.id_last4"), "1234");
    assert_null(strstr(r->body, "440301199001011234"));
    th_free(r);
    const char *v[] = {id};
    assert_int_equal(th_sql_long("SELECT count(*) FROM custody_entries WHERE item_id = $1 AND "
                                 "counterparty::text LIKE '%440301199001%'",
                                 v, 1),
                     0);
}

static void test_sealed_emergency_opening(void **state)
{
    (void)state;
    char id[40], body[800];
    reg("agent", p1, "unit_entrusted", "1-101-SEALED", -600, id);
    snprintf(body, sizeof body,
             "{\"action\":\"seal\",\"seal_number\":\"S-0001\",\"count\":3,\"counterparty\":"
             "{\"kind\":\"resident\",\"resident_id\":\"%s\"},\"attachments\":[{\"name\":"
             "\"单元钥匙交接单.pdf\",\"content_type\":\"application/pdf\",\"size_bytes\":1024}]}",
             resident);
    ok("agent", id, body, "sealed");
    refused("agent", id,
            "{\"action\":\"loan\",\"purpose\":\"x\",\"due_back\":\"2099-01-01T00:00:00Z\"}", 409,
            "key_sealed");
    refused("agent", id, "{\"action\":\"unseal_open\"}", 409, "unseal_not_approved");
    const char *req = "{\"action\":\"unseal_request\",\"episode\":\"emergency\",\"purpose\":"
                      "\"water leaking from 1-101 into 1-001\",\"customer_unreachable\":true,"
                      "\"contact_attempts\":[{\"at\":\"2026-01-01T00:00:00Z\",\"method\":\"phone\","
                      "\"result\":\"no answer\"}]}";
    refused("agent", id, req, 403, "requester_not_manager");
    refused("manager", id,
            "{\"action\":\"unseal_request\",\"episode\":\"emergency\",\"purpose\":\"leak\","
            "\"customer_unreachable\":true}",
            422, "contact_attempts_required");
    refused("manager", id,
            "{\"action\":\"unseal_request\",\"episode\":\"emergency\",\"purpose\":\"leak\","
            "\"customer_unreachable\":false,\"contact_attempts\":[{\"at\":"
            "\"2026-01-01T00:00:00Z\",\"method\":\"phone\"}]}",
            422, "customer_reachable");
    ok("manager", id, req, "sealed");
    refused("director", id, "{\"action\":\"unseal_approve\"}", 403, "approver_not_gm");
    refused("agent", id, "{\"action\":\"witness\"}", 409, "unseal_not_approved");
    ok("gm", id, "{\"action\":\"unseal_approve\",\"purpose\":\"approved by phone\"}", "sealed");
    refused("agent", id, "{\"action\":\"unseal_open\"}", 409, "witnesses_missing");
    refused("gm", id, "{\"action\":\"witness\"}", 403, "approver_cannot_witness");
    refused("technician", id, "{\"action\":\"witness\"}", 403, "not_a_witness_role");
    ok("agent", id, "{\"action\":\"witness\"}", "sealed");
    refused("agent", id, "{\"action\":\"witness\"}", 409, "already_witnessed");
    ok("supervisor", id, "{\"action\":\"witness\"}", "sealed");
    refused("agent", id, "{\"action\":\"unseal_open\"}", 409, "witnesses_missing");
    ok("security", id, "{\"action\":\"witness\"}", "sealed");
    th_resp_t *r = post("agent", id, "{\"action\":\"unseal_open\",\"purpose\":\"opened 1-101\"}");
    EXPECT_STATUS(r, 201);
    assert_string_equal(th_js(r->json, "key_set.state"), "unsealed");
    assert_int_equal(cJSON_GetArraySize(th_jpath(r->json, "entry.witnesses")), 3);
    assert_string_equal(th_js(cJSON_GetArrayItem(th_jpath(r->json, "entry.approvals"), 0), "role"),
                        "gm");
    th_free(r);
    r = th_req("GET", "/v1/keys/sealed", th_token("clerk"), NULL, NULL);
    assert_true(list_has(r, id));
    th_free(r);
    refused("agent", id, "{\"action\":\"reseal\",\"seal_number\":\"S-0001\",\"count\":3}", 422,
            "seal_number_reused");
    ok("agent", id, "{\"action\":\"reseal\",\"seal_number\":\"S-0002\",\"count\":3}", "sealed");
    refused("gm", id, "{\"action\":\"sign_off\"}", 403, "signer_not_manager");
    refused("manager", id, req, 409, "episode_open");
    r = post("manager", id, "{\"action\":\"sign_off\",\"purpose\":\"records checked\"}");
    EXPECT_STATUS(r, 201);
    assert_string_equal(th_js(r->json, "key_set.seal_number"), "S-0002");
    assert_true(th_jnull(r->json, "key_set.episode"));
    th_free(r);
    r = get("auditor", "/v1/keys/%s/verify", id);
    EXPECT_STATUS(r, 200);
    assert_true(th_jtrue(r->json, "valid"));
    assert_int_equal(th_jn(r->json, "entries_checked"), 10);
    th_free(r);
}

static void test_owner_requested_opening(void **state)
{
    (void)state;
    char id[40], body[800];
    reg("agent", p1, "unit_office", "2-102-OFFICE", -600, id);
    snprintf(body, sizeof body,
             "{\"action\":\"seal\",\"seal_number\":\"S-0100\",\"count\":3,\"counterparty\":"
             "{\"kind\":\"resident\",\"resident_id\":\"%s\"}}",
             resident);
    ok("agent", id, body, "sealed");
    snprintf(body, sizeof body,
             "{\"action\":\"unseal_request\",\"episode\":\"owner\",\"purpose\":\"owner lost "
             "the office key\",\"counterparty\":{\"kind\":\"resident\",\"resident_id\":\"%s\"}}",
             resident);
    refused("agent", id, body, 422, "application_required");
    snprintf(body, sizeof body,
             "{\"action\":\"unseal_request\",\"episode\":\"owner\",\"purpose\":\"owner lost "
             "the office key\",\"counterparty\":{\"kind\":\"resident\",\"resident_id\":\"%s\"},"
             "\"attachments\":[{\"name\":\"application.jpg\"}]}",
             resident);
    ok("agent", id, body, "sealed");
    refused("supervisor", id, "{\"action\":\"unseal_approve\"}", 403, "approver_not_manager");
    ok("manager", id, "{\"action\":\"unseal_approve\"}", "sealed");
    ok("agent", id, "{\"action\":\"unseal_open\"}", "unsealed");
    ok("agent", id, "{\"action\":\"reseal\",\"seal_number\":\"S-0101\",\"count\":3}", "sealed");
    refused("manager", id, "{\"action\":\"sign_off\"}", 409, "awaiting_owner_stamp");
    refused("agent", id,
            "{\"action\":\"attach_application\",\"attachments\":[{\"name\":\"a.jpg\"}]}", 422,
            "stamped_application_required");
    ok("agent", id,
       "{\"action\":\"attach_application\",\"stamped\":true,\"attachments\":[{\"name\":"
       "\"application-stamped.jpg\",\"sha256\":\"ab12\"}]}",
       "sealed");
    ok("manager", id, "{\"action\":\"sign_off\"}", "sealed");
}

static void test_correction(void **state)
{
    (void)state;
    char a[40], b[40], body[256];
    reg("agent", p1, "show_flat", "SHOW-1", -60, a);
    reg("agent", p1, "show_flat", "SHOW-2", -60, b);
    th_resp_t *r = post("agent", a, "{\"action\":\"note\",\"purpose\":\"tag is worn\"}");
    EXPECT_STATUS(r, 201);
    char note[40];
    snprintf(note, sizeof note, "%s", th_js(r->json, "entry.id"));
    th_free(r);
    snprintf(body, sizeof body,
             "{\"action\":\"correction\",\"corrects\":\"%s\",\"purpose\":\"wrong set\"}", note);
    refused("agent", b, body, 422, "invalid_field"); /* another ledger's entry */
    snprintf(body, sizeof body, "{\"action\":\"correction\",\"corrects\":\"%s\"}", note);
    refused("agent", a, body, 422, "reason_required");
    snprintf(body, sizeof body,
             "{\"action\":\"correction\",\"corrects\":\"%s\",\"purpose\":\"tag is fine, it was "
             "SHOW-2\"}",
             note);
    r = post("agent", a, body);
    EXPECT_STATUS(r, 201);
    assert_string_equal(th_js(r->json, "entry.corrects"), note);
    th_free(r);
    /* the corrected entry is still there, unchanged */
    r = get("agent", "/v1/keys/%s/entries", a);
    EXPECT_STATUS(r, 200);
    assert_int_equal(cJSON_GetArraySize(th_jpath(r->json, "items")), 3);
    assert_string_equal(th_js(cJSON_GetArrayItem(th_jpath(r->json, "items"), 1), "purpose"),
                        "tag is worn");
    th_free(r);
}

static void test_roles_and_scope(void **state)
{
    (void)state;
    char mine[40], theirs[40];
    reg("clerk", p1, "unit_vacant", "SCOPE-P1", -60, mine);
    reg("gm", p2, "unit_vacant", "SCOPE-P2", -60, theirs);
    /* the clerk of P1 does not see P2's keys */
    th_resp_t *r = get("clerk", "/v1/keys/%s", theirs);
    EXPECT_PROBLEM(r, 404, "not_found");
    r = get("clerk", "/v1/keys/%s/entries", theirs);
    EXPECT_PROBLEM(r, 404, "not_found");
    r = get("clerk", "/v1/keys/%s/verify", theirs);
    EXPECT_PROBLEM(r, 404, "not_found");
    refused("clerk", theirs, "{\"action\":\"note\",\"purpose\":\"x\"}", 404, "not_found");
    char body[256];
    snprintf(body, sizeof body,
             "{\"project_id\":\"%s\",\"kind\":\"other\",\"tag\":\"X\",\"key_count\":1}", p2);
    r = th_req("POST", "/v1/keys", th_token("clerk"), body, NULL);
    EXPECT_PROBLEM(r, 404, "not_found");
    r = th_req("GET", "/v1/keys?limit=200", th_token("clerk"), NULL, NULL);
    EXPECT_STATUS(r, 200);
    assert_true(list_has(r, mine));
    assert_false(list_has(r, theirs));
    th_free(r);
    /* the auditor reads everything and writes nothing */
    r = th_req("GET", "/v1/keys?limit=200", th_token("auditor"), NULL, NULL);
    assert_true(list_has(r, mine));
    assert_true(list_has(r, theirs));
    th_free(r);
    r = get("auditor", "/v1/keys/%s/entries", theirs);
    EXPECT_STATUS(r, 200);
    th_free(r);
    refused("auditor", mine, "{\"action\":\"note\",\"purpose\":\"x\"}", 403, "forbidden");
    snprintf(body, sizeof body,
             "{\"project_id\":\"%s\",\"kind\":\"other\",\"tag\":\"Y\",\"key_count\":1}", p1);
    r = th_req("POST", "/v1/keys", th_token("auditor"), body, NULL);
    EXPECT_PROBLEM(r, 403, "forbidden");
    /* residents and integrations see nothing of key custody */
    r = th_req("GET", "/v1/keys", th_token("resident"), NULL, NULL);
    EXPECT_PROBLEM(r, 403, "forbidden");
    r = get("resident", "/v1/keys/%s", mine);
    EXPECT_PROBLEM(r, 403, "forbidden");
    r = th_req("GET", "/v1/keys/sealed", th_token("integration"), NULL, NULL);
    EXPECT_PROBLEM(r, 403, "forbidden");
    /* another organisation sees nothing */
    r = get("other.agent", "/v1/keys/%s", mine);
    EXPECT_PROBLEM(r, 404, "not_found");
    r = th_req("GET", "/v1/keys", th_token("other.agent"), NULL, NULL);
    assert_false(list_has(r, mine));
    th_free(r);
    r = th_req("GET", "/v1/keys", NULL, NULL, NULL);
    assert_int_equal(r->status, 401);
    th_free(r);
}

/* ---- concurrency ------------------------------------------------------------------------ */

#define RACERS 8
static char race_id[40];
static const char *race_token[RACERS];
static long race_status[RACERS];

static void *racer(void *arg)
{
    long i = (long)(intptr_t)arg;
    char path[128];
    snprintf(path, sizeof path, "/v1/keys/%s/entries", race_id);
    th_resp_t *r = th_req_mt("POST", path, race_token[i],
                             "{\"action\":\"loan\",\"purpose\":\"repair\",\"due_back\":"
                             "\"2099-01-01T00:00:00Z\"}",
                             NULL);
    race_status[i] = r->status;
    th_free(r);
    return NULL;
}

static void test_concurrent_loans(void **state)
{
    (void)state;
    reg("agent", p1, "unit_vacant", "RACE-1", -60, race_id);
    static const char *who[] = {"agent", "supervisor", "clerk", "manager"};
    for (int i = 0; i < RACERS; i++)
        race_token[i] = th_token(who[i % 4]);
    pthread_t t[RACERS];
    for (long i = 0; i < RACERS; i++)
        assert_int_equal(pthread_create(&t[i], NULL, racer, (void *)(intptr_t)i), 0);
    for (int i = 0; i < RACERS; i++)
        pthread_join(t[i], NULL);
    int won = 0, lost = 0;
    for (int i = 0; i < RACERS; i++) {
        if (race_status[i] == 201)
            won++;
        else if (race_status[i] == 409)
            lost++;
        else
            fprintf(stderr, "racer %d: %ld\n", i, race_status[i]);
    }
    assert_int_equal(won, 1);
    assert_int_equal(lost, RACERS - 1);
    const char *v[] = {race_id};
    assert_int_equal(
        th_sql_long("SELECT count(*) FROM custody_entries WHERE item_id = $1 AND action = 'loan'",
                    v, 1),
        1);
    th_resp_t *r = get("auditor", "/v1/keys/%s/verify", race_id);
    assert_true(th_jtrue(r->json, "valid"));
    th_free(r);
}

/* ---- append-only and tamper evidence ----------------------------------------------------- */

static int sql_ok(const char *sql)
{
    PGresult *res = PQexec(th_db(), sql);
    int st = PQresultStatus(res);
    PQclear(res);
    return st == PGRES_COMMAND_OK || st == PGRES_TUPLES_OK;
}

static void test_tamper_detected(void **state)
{
    (void)state;
    char id[40], sql[512];
    reg("agent", p1, "unit_vacant", "TAMPER-1", -600, id);
    ok("agent", id, "{\"action\":\"note\",\"purpose\":\"first note\"}", NULL);
    ok("agent", id, "{\"action\":\"note\",\"purpose\":\"second note\"}", NULL);
    ok("agent", id, "{\"action\":\"note\",\"purpose\":\"third note\"}", NULL);
    th_resp_t *r = get("auditor", "/v1/keys/%s/verify", id);
    EXPECT_STATUS(r, 200);
    assert_true(th_jtrue(r->json, "valid"));
    assert_int_equal(th_jn(r->json, "entries_checked"), 4);
    assert_true(th_jnull(r->json, "first_broken"));
    th_free(r);
    /* the database refuses changes, even from a superuser, while the trigger stands */
    snprintf(sql, sizeof sql,
             "UPDATE custody_entries SET purpose = 'x' WHERE item_id = '%s' AND seq = 2", id);
    assert_false(sql_ok(sql));
    snprintf(sql, sizeof sql, "DELETE FROM custody_entries WHERE item_id = '%s' AND seq = 4", id);
    assert_false(sql_ok(sql));
    assert_false(sql_ok("TRUNCATE custody_entries CASCADE"));
    /* a superuser who switches the trigger off edits entry 2: verify names it */
    assert_true(sql_ok("SET session_replication_role = replica"));
    snprintf(sql, sizeof sql,
             "UPDATE custody_entries SET purpose = 'first note, edited' WHERE item_id = '%s' AND "
             "seq = 2",
             id);
    assert_true(sql_ok(sql));
    assert_true(sql_ok("RESET session_replication_role"));
    r = get("auditor", "/v1/keys/%s/verify", id);
    EXPECT_STATUS(r, 200);
    assert_false(th_jtrue(r->json, "valid"));
    assert_int_equal(th_jn(r->json, "first_broken.seq"), 2);
    assert_string_equal(th_js(r->json, "first_broken.problem"), "hash_mismatch");
    assert_int_equal(th_jn(r->json, "entries_checked"), 1);
    th_free(r);

    /* a truncated ledger (last entry removed) is caught by the stored head */
    char id2[40];
    reg("agent", p1, "unit_vacant", "TAMPER-2", -600, id2);
    ok("agent", id2, "{\"action\":\"note\",\"purpose\":\"kept\"}", NULL);
    ok("agent", id2, "{\"action\":\"note\",\"purpose\":\"to be removed\"}", NULL);
    assert_true(sql_ok("SET session_replication_role = replica"));
    snprintf(sql, sizeof sql, "DELETE FROM custody_entries WHERE item_id = '%s' AND seq = 3", id2);
    assert_true(sql_ok(sql));
    assert_true(sql_ok("RESET session_replication_role"));
    r = get("manager", "/v1/keys/%s/verify", id2);
    assert_false(th_jtrue(r->json, "valid"));
    assert_int_equal(th_jn(r->json, "first_broken.seq"), 3);
    assert_string_equal(th_js(r->json, "first_broken.problem"), "head_mismatch");
    th_free(r);

    /* an entry removed from the middle breaks the sequence */
    char id3[40];
    reg("agent", p1, "unit_vacant", "TAMPER-3", -600, id3);
    ok("agent", id3, "{\"action\":\"note\",\"purpose\":\"a\"}", NULL);
    ok("agent", id3, "{\"action\":\"note\",\"purpose\":\"b\"}", NULL);
    assert_true(sql_ok("SET session_replication_role = replica"));
    snprintf(sql, sizeof sql, "DELETE FROM custody_entries WHERE item_id = '%s' AND seq = 2", id3);
    assert_true(sql_ok(sql));
    assert_true(sql_ok("RESET session_replication_role"));
    r = get("manager", "/v1/keys/%s/verify", id3);
    assert_false(th_jtrue(r->json, "valid"));
    assert_int_equal(th_jn(r->json, "first_broken.seq"), 2);
    assert_string_equal(th_js(r->json, "first_broken.problem"), "missing_entry");
    th_free(r);
}

/* The demo's key sets were written by SQL (db/demo.c) with PostgreSQL's sha256(): the same
 * chain the service computes with OpenSSL, so verify accepts them and the ledger goes on. */
static void test_demo_key_sets(void **state)
{
    (void)state;
    char id[40];
    assert_int_equal(th_grab(id, "SELECT i.id FROM custody_items i JOIN organisations o ON "
                                 "o.id = i.org_id WHERE o.code = 'demo' AND i.tag = '1-101-E'"),
                     0);
    th_resp_t *r = get("auditor", "/v1/keys/%s/verify", id);
    EXPECT_STATUS(r, 200);
    assert_true(th_jtrue(r->json, "valid"));
    assert_int_equal(th_jn(r->json, "entries_checked"), 2);
    th_free(r);
    r = th_req("GET", "/v1/keys/sealed", th_token("agent"), NULL, NULL);
    assert_true(list_has(r, id));
    th_free(r);
    ok("agent", id, "{\"action\":\"note\",\"purpose\":\"seal checked intact\"}", "sealed");
    r = get("auditor", "/v1/keys/%s/verify", id);
    assert_true(th_jtrue(r->json, "valid"));
    assert_int_equal(th_jn(r->json, "entries_checked"), 3);
    th_free(r);
}

static void test_register_validation(void **state)
{
    (void)state;
    char body[256];
    th_resp_t *r = th_req("POST", "/v1/keys", th_token("agent"), "{\"kind\":\"other\"}", NULL);
    EXPECT_PROBLEM(r, 422, "missing_field");
    snprintf(body, sizeof body,
             "{\"project_id\":\"%s\",\"kind\":\"spare\",\"tag\":\"X\",\"key_count\":1}", p1);
    r = th_req("POST", "/v1/keys", th_token("agent"), body, NULL);
    EXPECT_PROBLEM(r, 422, "invalid_field");
    snprintf(body, sizeof body,
             "{\"project_id\":\"%s\",\"kind\":\"other\",\"tag\":\"X\",\"key_count\":0}", p1);
    r = th_req("POST", "/v1/keys", th_token("agent"), body, NULL);
    EXPECT_PROBLEM(r, 422, "invalid_field");
    snprintf(body, sizeof body,
             "{\"project_id\":\"%s\",\"kind\":\"other\",\"tag\":\"DUP\",\"key_count\":1}", p1);
    r = th_req("POST", "/v1/keys", th_token("agent"), body, NULL);
    EXPECT_STATUS(r, 201);
    th_free(r);
    r = th_req("POST", "/v1/keys", th_token("agent"), body, NULL);
    EXPECT_STATUS(r, 409);
    th_free(r);
    r = th_req("POST", "/v1/keys", th_token("technician"), body, NULL);
    EXPECT_PROBLEM(r, 403, "forbidden_role");
    r = th_req("GET", "/v1/keys?state=floating", th_token("agent"), NULL, NULL);
    EXPECT_PROBLEM(r, 400, "invalid_query");
    r = th_req("GET", "/v1/keys/00000000-0000-0000-0000-000000000000", th_token("agent"), NULL,
               NULL);
    EXPECT_PROBLEM(r, 404, "not_found");
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_control_room_handover),
        cmocka_unit_test(test_loan_return_daily_check),
        cmocka_unit_test(test_contractor_loan),
        cmocka_unit_test(test_sealed_emergency_opening),
        cmocka_unit_test(test_owner_requested_opening),
        cmocka_unit_test(test_correction),
        cmocka_unit_test(test_roles_and_scope),
        cmocka_unit_test(test_concurrent_loans),
        cmocka_unit_test(test_tamper_detected),
        cmocka_unit_test(test_demo_key_sets),
        cmocka_unit_test(test_register_validation),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
