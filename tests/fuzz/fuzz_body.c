/*
 * tests/fuzz/fuzz_body.c — the request-body validators: every operation that takes a
 * JSON body, reached the way a client reaches it (dispatch: routing, body read under the
 * size cap, token check, handler, http_json_body, the handler's field checks).
 *
 * Input: byte 0 picks the operation, byte 1 the caller's role, the rest is the body.
 */
#include "tests/fuzz/fuzz_harness.h"

#include <stdio.h>

#define ID FZ_ID

static const struct {
    const char *method, *path;
} ops[] = {
    {"POST", "/v1/auth/login"},
    {"POST", "/v1/auth/refresh"},
    {"POST", "/v1/auth/logout"},
    {"POST", "/fuzz/requests"}, /* POST /v1/requests validation, see fuzz_harness.c */
    {"POST", "/v1/requests"},
    {"POST", "/v1/requests/batch"},
    {"PATCH", "/v1/requests/" ID},
    {"POST", "/v1/requests/" ID "/actions/dispatch"},
    {"POST", "/v1/requests/" ID "/actions/accept"},
    {"POST", "/v1/requests/" ID "/actions/arrive"},
    {"POST", "/v1/requests/" ID "/actions/report_result"},
    {"POST", "/v1/requests/" ID "/actions/sign_off"},
    {"POST", "/v1/requests/" ID "/actions/resolve"},
    {"POST", "/v1/requests/" ID "/actions/pend"},
    {"POST", "/v1/requests/" ID "/actions/resume"},
    {"POST", "/v1/requests/" ID "/actions/reject"},
    {"POST", "/v1/requests/" ID "/actions/close_not_responsible"},
    {"POST", "/v1/requests/" ID "/actions/start_callback"},
    {"POST", "/v1/requests/" ID "/actions/callback_result"},
    {"POST", "/v1/requests/" ID "/actions/close"},
    {"POST", "/v1/requests/" ID "/actions/reopen"},
    {"POST", "/v1/requests/" ID "/actions/handover"},
    {"POST", "/v1/requests/" ID "/comments"},
    {"POST", "/v1/requests/" ID "/attachments"},
    {"POST", "/v1/requests/" ID "/escalate"},
    {"POST", "/v1/requests/" ID "/sla/reapply"},
    {"POST", "/v1/requests/" ID "/sla/extensions"},
    {"POST", "/v1/requests/" ID "/sla/extensions/" ID "/approve"},
    {"POST", "/v1/requests/" ID "/sla/extensions/" ID "/reject"},
    {"POST", "/v1/sla/policies"},
    {"PATCH", "/v1/sla/policies/" ID},
    {"PUT", "/v1/projects/" ID "/calendar"},
    {"POST", "/v1/notifications/" ID "/read"},
    {"POST", "/v1/admin/sla/sweep"},
    {"PATCH", "/v1/organisations/" ID},
    {"POST", "/v1/projects"},
    {"PATCH", "/v1/projects/" ID},
    {"POST", "/v1/buildings"},
    {"PATCH", "/v1/buildings/" ID},
    {"POST", "/v1/units"},
    {"PATCH", "/v1/units/" ID},
    {"POST", "/v1/departments"},
    {"PATCH", "/v1/departments/" ID},
    {"POST", "/v1/residents"},
    {"PATCH", "/v1/residents/" ID},
    {"POST", "/v1/users"},
    {"PATCH", "/v1/users/" ID},
};

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
    (void)argc;
    (void)argv;
    fz_init();
    return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size < 2)
        return 0;
    size_t op = data[0] % (sizeof ops / sizeof ops[0]);
    char auth[2100];
    snprintf(auth, sizeof auth, "Bearer %s", fz_token(data[1]));
    fz_header_t h[] = {{"Authorization", auth},
                       {"Content-Type", "application/json"},
                       {"If-Match", "\"1\""},
                       {"Idempotency-Key", "fuzz-key-0001"}};
    fz_request(ops[op].method, ops[op].path, h, 4, data + 2, size - 2);
    return 0;
}
