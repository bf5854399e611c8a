/*
 * tests/core/test_custody.c — table-driven tests of the key and sealed-key rules
 * (core/custody.c, RULES §3.4): every rule's acceptance and each of its refusals, with the
 * next state and the effects (discrepancy, manager notified), plus the name tables.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdio.h>
#include <string.h>

#include "core/custody.h"

#define N(a) (sizeof(a) / sizeof((a)[0]))
#define NOW  1800000000LL

/* ---- people ------------------------------------------------------------------------ */

enum {
    P_AGENT,
    P_AGENT2,
    P_SUP,
    P_MGR,
    P_DIR,
    P_GM,
    P_TECH,
    P_SEC,
    P_SEC2,
    P_CLERK,
    P_AUDIT,
    P_RES,
    P_ENG_AGENT,
    P_ADMIN,
    P__COUNT
};
static const custody_person_t people[P__COUNT] = {
    [P_AGENT] = {"agent", ROLE_AGENT, DEPT_CUSTOMER_SERVICE, 1},
    [P_AGENT2] = {"agent2", ROLE_AGENT, DEPT_CUSTOMER_SERVICE, 1},
    [P_SUP] = {"sup", ROLE_SUPERVISOR, DEPT_CUSTOMER_SERVICE, 1},
    [P_MGR] = {"mgr", ROLE_MANAGER, DEPT_CUSTOMER_SERVICE, 1},
    [P_DIR] = {"dir", ROLE_DIRECTOR, -1, 1},
    [P_GM] = {"gm", ROLE_GM, -1, 1},
    [P_TECH] = {"tech", ROLE_TECHNICIAN, DEPT_ENGINEERING, 1},
    [P_SEC] = {"sec", ROLE_SECURITY, DEPT_SECURITY, 1},
    [P_SEC2] = {"sec2", ROLE_SECURITY, DEPT_SECURITY, 1},
    [P_CLERK] = {"clerk", ROLE_CLERK, -1, 1},
    [P_AUDIT] = {"audit", ROLE_AUDITOR, -1, 1},
    [P_RES] = {"res", ROLE_RESIDENT, -1, 1},
    [P_ENG_AGENT] = {"engagent", ROLE_AGENT, DEPT_ENGINEERING, 1},
    [P_ADMIN] = {"admin", ROLE_ADMIN, -1, 1},
};

/* ---- ledger fixtures ------------------------------------------------------------------ */

enum {
    L_FRESH_UNIT,
    L_FRESH_MGMT,
    L_CABINET,
    L_MACHINE,
    L_CONTROL,
    L_TAKE_PENDING,
    L_WITH_SHIFT,
    L_RETURN_PENDING,
    L_ON_LOAN,
    L_APPROVED_FOR_TECH,
    L_SEALED,
    L_EM_REQUESTED,
    L_EM_APPROVED,
    L_EM_WITNESSED,
    L_EM_WITNESSED_WEAK, /* two security, one CS */
    L_EM_OPENED,
    L_EM_RESEALED,
    L_OW_REQUESTED,
    L_OW_OPENED,
    L_OW_RESEALED,
    L_OW_RESEALED_STAMPED,
    L_LOST,
    L_RETIRED,
    L_DISCREPANCY,
    L__COUNT
};

static custody_key_ledger_t ledger(int which)
{
    custody_key_ledger_t l;
    memset(&l, 0, sizeof l);
    l.kind = KEY_KIND_UNIT_ENTRUSTED;
    l.state = KEY_ST_IN_CABINET;
    l.key_count = 3;
    l.pending_action = -1;
    l.seal_number = "";
    l.last_occurred_at = NOW - 3600;
    switch (which) {
    case L_FRESH_UNIT:
        l.fresh = 1;
        l.last_occurred_at = 0;
        break;
    case L_FRESH_MGMT:
        l.fresh = 1;
        l.kind = KEY_KIND_MANAGEMENT_AREA;
        l.last_occurred_at = 0;
        break;
    case L_CABINET:
        break;
    case L_MACHINE:
        l.kind = KEY_KIND_MACHINE_ROOM;
        break;
    case L_CONTROL:
        l.kind = KEY_KIND_MANAGEMENT_AREA;
        l.state = KEY_ST_AT_CONTROL_ROOM;
        break;
    case L_TAKE_PENDING:
        l.kind = KEY_KIND_MANAGEMENT_AREA;
        l.state = KEY_ST_AT_CONTROL_ROOM;
        l.pending_action = KA_SHIFT_TAKE;
        l.pending_by = "agent";
        l.pending_counterparty = "sec";
        break;
    case L_WITH_SHIFT:
        l.kind = KEY_KIND_MANAGEMENT_AREA;
        l.state = KEY_ST_WITH_SHIFT;
        l.holder_id = "agent";
        break;
    case L_RETURN_PENDING:
        l.kind = KEY_KIND_MANAGEMENT_AREA;
        l.state = KEY_ST_WITH_SHIFT;
        l.holder_id = "agent";
        l.pending_action = KA_SHIFT_RETURN;
        l.pending_by = "agent2";
        l.pending_counterparty = "sec";
        break;
    case L_ON_LOAN:
        l.state = KEY_ST_ON_LOAN;
        l.holder_id = "agent";
        break;
    case L_APPROVED_FOR_TECH:
        l.approval_by = "sup";
        l.approval_for = "tech";
        break;
    case L_SEALED:
        l.state = KEY_ST_SEALED;
        l.seal_number = "S-1";
        break;
    case L_EM_REQUESTED:
    case L_EM_APPROVED:
    case L_EM_WITNESSED:
    case L_EM_WITNESSED_WEAK:
    case L_EM_OPENED:
    case L_EM_RESEALED:
        l.state = KEY_ST_SEALED;
        l.seal_number = "S-1";
        l.ep_kind = EP_EMERGENCY;
        l.ep_stage = EPS_REQUESTED;
        l.ep_requested_by = "mgr";
        if (which == L_EM_REQUESTED)
            break;
        l.ep_stage = EPS_APPROVED;
        l.ep_approved_by = "gm";
        if (which == L_EM_APPROVED)
            break;
        if (which == L_EM_WITNESSED_WEAK) {
            l.ep_witnesses[0] = people[P_AGENT];
            l.ep_witnesses[1] = people[P_SEC];
            l.ep_witnesses[2] = people[P_SEC2];
            l.ep_nwitnesses = 3;
            break;
        }
        l.ep_witnesses[0] = people[P_AGENT];
        l.ep_witnesses[1] = people[P_SUP];
        l.ep_witnesses[2] = people[P_SEC];
        l.ep_nwitnesses = 3;
        if (which == L_EM_WITNESSED)
            break;
        l.state = KEY_ST_UNSEALED;
        l.ep_stage = EPS_OPENED;
        if (which == L_EM_OPENED)
            break;
        l.state = KEY_ST_SEALED;
        l.seal_number = "S-2";
        l.ep_stage = EPS_RESEALED;
        break;
    case L_OW_REQUESTED:
    case L_OW_OPENED:
    case L_OW_RESEALED:
    case L_OW_RESEALED_STAMPED:
        l.state = KEY_ST_SEALED;
        l.seal_number = "S-1";
        l.ep_kind = EP_OWNER;
        l.ep_stage = EPS_REQUESTED;
        l.ep_requested_by = "agent";
        if (which == L_OW_REQUESTED)
            break;
        l.ep_approved_by = "mgr";
        l.state = KEY_ST_UNSEALED;
        l.ep_stage = EPS_OPENED;
        if (which == L_OW_OPENED)
            break;
        l.state = KEY_ST_SEALED;
        l.seal_number = "S-2";
        l.ep_stage = EPS_RESEALED;
        l.ep_stamped = which == L_OW_RESEALED_STAMPED;
        break;
    case L_LOST:
        l.state = KEY_ST_LOST;
        break;
    case L_RETIRED:
        l.state = KEY_ST_RETIRED;
        break;
    case L_DISCREPANCY:
        l.open_discrepancy = 1;
        break;
    }
    return l;
}

/* ---- the table ------------------------------------------------------------------------ */

typedef struct row {
    const char *name;
    int ledger;
    key_action_t action;
    int actor;
    custody_party_kind_t party;
    int party_user; /* index into people when party == CP_USER */
    const char *purpose;
    int count;
    int checklist; /* 1: all three true; 0: all absent; 2: windows left open */
    const char *seal;
    key_episode_kind_t ep;
    int unreachable, attempts, stamped, attachments, corrects;
    int64_t occurred_delta; /* relative to NOW */
    int64_t due_delta;      /* relative to occurred; 0 = absent */
    int want_status;
    const char *want_code;
    int want_state; /* -1: unchanged */
    int want_discrepancy, want_notify;
} row_t;

#define P  "purpose text"
#define H  3600
#define NA -1

static const row_t rows[] = {
    /* registration */
    {"register unit set", L_FRESH_UNIT, KA_REGISTER, P_CLERK, .count = 3, .want_code = "ok",
     .want_state = KEY_ST_IN_CABINET},
    {"register management set goes to control room", L_FRESH_MGMT, KA_REGISTER, P_AGENT, .count = 3,
     .want_code = "ok", .want_state = KEY_ST_AT_CONTROL_ROOM},
    {"technician may not register", L_FRESH_UNIT, KA_REGISTER, P_TECH, .want_status = 403,
     .want_code = "forbidden_role", .want_state = NA},
    {"only register starts a ledger", L_FRESH_UNIT, KA_NOTE, P_AGENT, .purpose = P,
     .want_status = 409, .want_code = "not_registered", .want_state = NA},
    {"register twice", L_CABINET, KA_REGISTER, P_AGENT, .want_status = 409,
     .want_code = "already_registered", .want_state = NA},
    {"auditor writes nothing", L_CABINET, KA_NOTE, P_AUDIT, .purpose = P, .want_status = 403,
     .want_code = "forbidden_role", .want_state = NA},
    {"admin writes nothing", L_CABINET, KA_NOTE, P_ADMIN, .purpose = P, .want_status = 403,
     .want_code = "forbidden_role", .want_state = NA},
    {"resident writes nothing", L_CABINET, KA_NOTE, P_RES, .purpose = P, .want_status = 403,
     .want_code = "forbidden_role", .want_state = NA},
    {"discrepancy is not posted", L_CABINET, KA_DISCREPANCY, P_MGR, .want_status = 422,
     .want_code = "invalid_action", .want_state = NA},
    /* paper-record time rules */
    {"occurred in the future", L_CABINET, KA_NOTE, P_AGENT, .purpose = P, .occurred_delta = H,
     .want_status = 422, .want_code = "occurred_in_future", .want_state = NA},
    {"occurred before previous entry", L_CABINET, KA_NOTE, P_AGENT, .purpose = P,
     .occurred_delta = -2 * H, .want_status = 422, .want_code = "occurred_before_previous_event",
     .want_state = NA},
    {"late paper record accepted", L_CABINET, KA_NOTE, P_AGENT, .purpose = P,
     .occurred_delta = -H / 2, .want_code = "ok", .want_state = NA},
    /* management-area keys: two-party hand-over with count check */
    {"shift take by desk with guard", L_CONTROL, KA_SHIFT_TAKE, P_AGENT, CP_USER, P_SEC, .count = 3,
     .want_code = "ok", .want_state = KEY_ST_AT_CONTROL_ROOM},
    {"shift take short count", L_CONTROL, KA_SHIFT_TAKE, P_AGENT, CP_USER, P_SEC, .count = 2,
     .want_code = "ok", .want_state = KEY_ST_AT_CONTROL_ROOM, .want_discrepancy = 1,
     .want_notify = 1},
    {"shift take without count", L_CONTROL, KA_SHIFT_TAKE, P_AGENT, CP_USER, P_SEC, .count = -1,
     .want_status = 422, .want_code = "count_required", .want_state = NA},
    {"shift take without guard", L_CONTROL, KA_SHIFT_TAKE, P_AGENT, CP_USER, P_SUP, .count = 3,
     .want_status = 422, .want_code = "counterparty_not_security", .want_state = NA},
    {"shift take by technician", L_CONTROL, KA_SHIFT_TAKE, P_TECH, CP_USER, P_SEC, .count = 3,
     .want_status = 403, .want_code = "forbidden_role", .want_state = NA},
    {"shift take of a unit set", L_CABINET, KA_SHIFT_TAKE, P_AGENT, CP_USER, P_SEC, .count = 3,
     .want_status = 409, .want_code = "wrong_kind", .want_state = NA},
    {"shift take while pending", L_TAKE_PENDING, KA_SHIFT_TAKE, P_AGENT, CP_USER, P_SEC, .count = 3,
     .want_status = 409, .want_code = "handover_pending", .want_state = NA},
    {"guard confirms take", L_TAKE_PENDING, KA_HANDOVER_CONFIRM, P_SEC, .count = 3,
     .want_code = "ok", .want_state = KEY_ST_WITH_SHIFT},
    {"other guard may not confirm", L_TAKE_PENDING, KA_HANDOVER_CONFIRM, P_SEC2, .count = 3,
     .want_status = 403, .want_code = "not_counterparty", .want_state = NA},
    {"confirm short count", L_TAKE_PENDING, KA_HANDOVER_CONFIRM, P_SEC, .count = 1,
     .want_code = "ok", .want_state = KEY_ST_WITH_SHIFT, .want_discrepancy = 1, .want_notify = 1},
    {"confirm without pending", L_CONTROL, KA_HANDOVER_CONFIRM, P_SEC, .count = 3,
     .want_status = 409, .want_code = "nothing_pending", .want_state = NA},
    {"shift return", L_WITH_SHIFT, KA_SHIFT_RETURN, P_AGENT2, CP_USER, P_SEC, .count = 3,
     .want_code = "ok", .want_state = KEY_ST_WITH_SHIFT},
    {"guard confirms return", L_RETURN_PENDING, KA_HANDOVER_CONFIRM, P_SEC, .count = 3,
     .want_code = "ok", .want_state = KEY_ST_AT_CONTROL_ROOM},
    {"shift return when at control room", L_CONTROL, KA_SHIFT_RETURN, P_AGENT, CP_USER, P_SEC,
     .count = 3, .want_status = 409, .want_code = "not_with_shift", .want_state = NA},
    {"management keys are not lent", L_CONTROL, KA_LOAN, P_AGENT, .purpose = P, .due_delta = H,
     .want_status = 409, .want_code = "wrong_kind", .want_state = NA},
    /* loans */
    {"staff loan", L_CABINET, KA_LOAN, P_AGENT, .purpose = P, .due_delta = H, .want_code = "ok",
     .want_state = KEY_ST_ON_LOAN},
    {"clerk loan", L_CABINET, KA_LOAN, P_CLERK, .purpose = P, .due_delta = H, .want_code = "ok",
     .want_state = KEY_ST_ON_LOAN},
    {"loan to a resident", L_CABINET, KA_LOAN, P_AGENT, CP_RESIDENT, .purpose = P, .due_delta = H,
     .want_status = 422, .want_code = "borrower_not_staff", .want_state = NA},
    {"loan for another user", L_CABINET, KA_LOAN, P_AGENT, CP_USER, P_TECH, .purpose = P,
     .due_delta = H, .want_status = 422, .want_code = "borrower_signs_own_loan", .want_state = NA},
    {"loan without purpose", L_CABINET, KA_LOAN, P_AGENT, .due_delta = H, .want_status = 422,
     .want_code = "purpose_required", .want_state = NA},
    {"loan without due_back", L_CABINET, KA_LOAN, P_AGENT, .purpose = P, .want_status = 422,
     .want_code = "due_back_required", .want_state = NA},
    {"loan due before it starts", L_CABINET, KA_LOAN, P_AGENT, .purpose = P, .due_delta = -60,
     .want_status = 422, .want_code = "due_back_before_loan", .want_state = NA},
    {"loan when on loan", L_ON_LOAN, KA_LOAN, P_SUP, .purpose = P, .due_delta = H,
     .want_status = 409, .want_code = "already_on_loan", .want_state = NA},
    {"sealed set is never lent", L_SEALED, KA_LOAN, P_AGENT, .purpose = P, .due_delta = H,
     .want_status = 409, .want_code = "key_sealed", .want_state = NA},
    {"contractor loan by an agent", L_CABINET, KA_LOAN, P_AGENT, CP_OUTSIDER, .purpose = P,
     .due_delta = H, .want_status = 403, .want_code = "contractor_loan_by_engineering",
     .want_state = NA},
    {"contractor loan by engineering without approval", L_CABINET, KA_LOAN, P_TECH, CP_OUTSIDER,
     .purpose = P, .due_delta = H, .want_status = 409, .want_code = "approval_required",
     .want_state = NA},
    {"contractor loan by engineering with approval", L_APPROVED_FOR_TECH, KA_LOAN, P_TECH,
     CP_OUTSIDER, .purpose = P, .due_delta = H, .want_code = "ok", .want_state = KEY_ST_ON_LOAN},
    {"approval for someone else does not count", L_APPROVED_FOR_TECH, KA_LOAN, P_ENG_AGENT,
     CP_OUTSIDER, .purpose = P, .due_delta = H, .want_status = 409,
     .want_code = "approval_required", .want_state = NA},
    {"machine room by agent needs approval", L_MACHINE, KA_LOAN, P_AGENT, .purpose = P,
     .due_delta = H, .want_status = 409, .want_code = "approval_required", .want_state = NA},
    {"machine room by supervisor", L_MACHINE, KA_LOAN, P_SUP, .purpose = P, .due_delta = H,
     .want_code = "ok", .want_state = KEY_ST_ON_LOAN},
    {"supervisor approves loan", L_CABINET, KA_LOAN_APPROVE, P_SUP, CP_USER, P_TECH,
     .want_code = "ok", .want_state = KEY_ST_IN_CABINET},
    {"agent may not approve", L_CABINET, KA_LOAN_APPROVE, P_AGENT, CP_USER, P_TECH,
     .want_status = 403, .want_code = "approver_not_supervisor", .want_state = NA},
    {"approval of own loan", L_CABINET, KA_LOAN_APPROVE, P_SUP, CP_USER, P_SUP, .want_status = 403,
     .want_code = "self_approval", .want_state = NA},
    {"approval for a resident user", L_CABINET, KA_LOAN_APPROVE, P_SUP, CP_USER, P_RES,
     .want_status = 422, .want_code = "borrower_not_staff", .want_state = NA},
    /* returns */
    {"return with checklist", L_ON_LOAN, KA_RETURN, P_AGENT, .count = 3, .checklist = 1,
     .want_code = "ok", .want_state = KEY_ST_IN_CABINET},
    {"return short count", L_ON_LOAN, KA_RETURN, P_AGENT, .count = 2, .checklist = 1,
     .want_code = "ok", .want_state = KEY_ST_IN_CABINET, .want_discrepancy = 1, .want_notify = 1},
    {"return without checklist", L_ON_LOAN, KA_RETURN, P_AGENT, .count = 3, .want_status = 422,
     .want_code = "return_checklist_incomplete", .want_state = NA},
    {"return with windows open", L_ON_LOAN, KA_RETURN, P_AGENT, .count = 3, .checklist = 2,
     .want_status = 422, .want_code = "return_checklist_incomplete", .want_state = NA},
    {"return by someone else", L_ON_LOAN, KA_RETURN, P_AGENT2, .count = 3, .checklist = 1,
     .want_status = 403, .want_code = "not_borrower", .want_state = NA},
    {"return when not lent", L_CABINET, KA_RETURN, P_AGENT, .count = 3, .checklist = 1,
     .want_status = 409, .want_code = "not_on_loan", .want_state = NA},
    {"return without count", L_ON_LOAN, KA_RETURN, P_AGENT, .count = -1, .checklist = 1,
     .want_status = 422, .want_code = "count_required", .want_state = NA},
    /* daily check */
    {"daily check with reason", L_ON_LOAN, KA_DAILY_CHECK, P_CLERK, .purpose = P, .want_code = "ok",
     .want_state = KEY_ST_ON_LOAN},
    {"daily check without reason", L_ON_LOAN, KA_DAILY_CHECK, P_CLERK, .want_status = 422,
     .want_code = "reason_required", .want_state = NA},
    {"daily check of a returned key", L_CABINET, KA_DAILY_CHECK, P_CLERK, .purpose = P,
     .want_status = 409, .want_code = "not_out", .want_state = NA},
    {"daily check by security", L_ON_LOAN, KA_DAILY_CHECK, P_SEC, .purpose = P, .want_status = 403,
     .want_code = "forbidden_role", .want_state = NA},
    /* loss and damage */
    {"report lost notifies", L_ON_LOAN, KA_REPORT_LOST, P_AGENT, .purpose = P, .want_code = "ok",
     .want_state = KEY_ST_LOST, .want_notify = 1},
    {"report damaged notifies", L_CABINET, KA_REPORT_DAMAGED, P_TECH, .purpose = P,
     .want_code = "ok", .want_state = KEY_ST_DAMAGED, .want_notify = 1},
    {"report lost without account", L_CABINET, KA_REPORT_LOST, P_AGENT, .want_status = 422,
     .want_code = "account_required", .want_state = NA},
    {"sealed loss needs attached account", L_SEALED, KA_REPORT_LOST, P_AGENT, .purpose = P,
     .want_status = 422, .want_code = "account_attachment_required", .want_state = NA},
    {"sealed loss with attached account", L_SEALED, KA_REPORT_LOST, P_AGENT, .purpose = P,
     .attachments = 1, .want_code = "ok", .want_state = KEY_ST_LOST, .want_notify = 1},
    {"lost twice", L_LOST, KA_REPORT_LOST, P_AGENT, .purpose = P, .want_status = 409,
     .want_code = "already_reported", .want_state = NA},
    {"manager retires lost set", L_LOST, KA_RETIRE, P_MGR, .purpose = P, .want_code = "ok",
     .want_state = KEY_ST_RETIRED},
    {"retired set takes only notes", L_RETIRED, KA_LOAN, P_AGENT, .purpose = P, .due_delta = H,
     .want_status = 409, .want_code = "closed_item", .want_state = NA},
    {"retired set takes notes", L_RETIRED, KA_NOTE, P_AGENT, .purpose = P, .want_code = "ok",
     .want_state = NA},
    /* discrepancies */
    {"manager resolves discrepancy", L_DISCREPANCY, KA_RESOLVE_DISCREPANCY, P_MGR, .purpose = P,
     .want_code = "ok", .want_state = NA},
    {"agent may not resolve", L_DISCREPANCY, KA_RESOLVE_DISCREPANCY, P_AGENT, .purpose = P,
     .want_status = 403, .want_code = "forbidden_role", .want_state = NA},
    {"nothing to resolve", L_CABINET, KA_RESOLVE_DISCREPANCY, P_MGR, .purpose = P,
     .want_status = 409, .want_code = "no_discrepancy", .want_state = NA},
    /* corrections */
    {"correction with reason", L_CABINET, KA_CORRECTION, P_AGENT, .purpose = P, .corrects = 1,
     .want_code = "ok", .want_state = NA},
    {"correction without target", L_CABINET, KA_CORRECTION, P_AGENT, .purpose = P,
     .want_status = 422, .want_code = "corrects_required", .want_state = NA},
    {"correction without reason", L_CABINET, KA_CORRECTION, P_AGENT, .corrects = 1,
     .want_status = 422, .want_code = "reason_required", .want_state = NA},
    /* sealing */
    {"seal entrusted keys", L_CABINET, KA_SEAL, P_AGENT, CP_RESIDENT, .seal = "S-1", .count = 3,
     .want_code = "ok", .want_state = KEY_ST_SEALED},
    {"seal without number", L_CABINET, KA_SEAL, P_AGENT, CP_RESIDENT, .count = 3,
     .want_status = 422, .want_code = "seal_number_required", .want_state = NA},
    {"seal without owner", L_CABINET, KA_SEAL, P_AGENT, .seal = "S-1", .count = 3,
     .want_status = 422, .want_code = "owner_required", .want_state = NA},
    {"machine-room keys are not sealed", L_MACHINE, KA_SEAL, P_AGENT, CP_RESIDENT, .seal = "S-1",
     .count = 3, .want_status = 409, .want_code = "wrong_kind", .want_state = NA},
    /* emergency unsealing */
    {"manager requests emergency", L_SEALED, KA_UNSEAL_REQUEST, P_MGR, .purpose = P,
     .ep = EP_EMERGENCY, .unreachable = 1, .attempts = 2, .want_code = "ok",
     .want_state = KEY_ST_SEALED},
    {"agent may not request emergency", L_SEALED, KA_UNSEAL_REQUEST, P_AGENT, .purpose = P,
     .ep = EP_EMERGENCY, .unreachable = 1, .attempts = 2, .want_status = 403,
     .want_code = "requester_not_manager", .want_state = NA},
    {"emergency with customer reachable", L_SEALED, KA_UNSEAL_REQUEST, P_MGR, .purpose = P,
     .ep = EP_EMERGENCY, .unreachable = 0, .attempts = 2, .want_status = 422,
     .want_code = "customer_reachable", .want_state = NA},
    {"emergency without contact attempts", L_SEALED, KA_UNSEAL_REQUEST, P_MGR, .purpose = P,
     .ep = EP_EMERGENCY, .unreachable = 1, .attempts = 0, .want_status = 422,
     .want_code = "contact_attempts_required", .want_state = NA},
    {"request without episode kind", L_SEALED, KA_UNSEAL_REQUEST, P_MGR, .purpose = P,
     .want_status = 422, .want_code = "episode_kind_required", .want_state = NA},
    {"request on an unsealed-free set", L_CABINET, KA_UNSEAL_REQUEST, P_MGR, .purpose = P,
     .ep = EP_EMERGENCY, .unreachable = 1, .attempts = 1, .want_status = 409,
     .want_code = "not_sealed", .want_state = NA},
    {"second request while open", L_EM_REQUESTED, KA_UNSEAL_REQUEST, P_MGR, .purpose = P,
     .ep = EP_EMERGENCY, .unreachable = 1, .attempts = 1, .want_status = 409,
     .want_code = "episode_open", .want_state = NA},
    {"gm approves emergency", L_EM_REQUESTED, KA_UNSEAL_APPROVE, P_GM, .want_code = "ok",
     .want_state = KEY_ST_SEALED},
    {"director may not approve emergency", L_EM_REQUESTED, KA_UNSEAL_APPROVE, P_DIR,
     .want_status = 403, .want_code = "approver_not_gm", .want_state = NA},
    {"approve without request", L_SEALED, KA_UNSEAL_APPROVE, P_GM, .want_status = 409,
     .want_code = "no_unseal_request", .want_state = NA},
    {"approve twice", L_EM_APPROVED, KA_UNSEAL_APPROVE, P_GM, .want_status = 409,
     .want_code = "already_approved", .want_state = NA},
    {"open before approval", L_EM_REQUESTED, KA_UNSEAL_OPEN, P_MGR, .want_status = 409,
     .want_code = "unseal_not_approved", .want_state = NA},
    {"open without request", L_SEALED, KA_UNSEAL_OPEN, P_MGR, .want_status = 409,
     .want_code = "unseal_not_approved", .want_state = NA},
    {"cs agent witnesses", L_EM_APPROVED, KA_WITNESS, P_AGENT, .want_code = "ok",
     .want_state = KEY_ST_SEALED},
    {"guard witnesses", L_EM_APPROVED, KA_WITNESS, P_SEC, .want_code = "ok",
     .want_state = KEY_ST_SEALED},
    {"approver may not witness", L_EM_APPROVED, KA_WITNESS, P_GM, .want_status = 403,
     .want_code = "approver_cannot_witness", .want_state = NA},
    {"technician is no witness", L_EM_APPROVED, KA_WITNESS, P_TECH, .want_status = 403,
     .want_code = "not_a_witness_role", .want_state = NA},
    {"agent outside CS is no witness", L_EM_APPROVED, KA_WITNESS, P_ENG_AGENT, .want_status = 403,
     .want_code = "not_a_witness_role", .want_state = NA},
    {"witness twice", L_EM_WITNESSED, KA_WITNESS, P_AGENT, .want_status = 409,
     .want_code = "already_witnessed", .want_state = NA},
    {"witness before approval", L_EM_REQUESTED, KA_WITNESS, P_AGENT, .want_status = 409,
     .want_code = "unseal_not_approved", .want_state = NA},
    {"open without witnesses", L_EM_APPROVED, KA_UNSEAL_OPEN, P_MGR, .want_status = 409,
     .want_code = "witnesses_missing", .want_state = NA},
    {"open with one CS witness", L_EM_WITNESSED_WEAK, KA_UNSEAL_OPEN, P_MGR, .want_status = 409,
     .want_code = "witnesses_missing", .want_state = NA},
    {"open with 2 CS + guard", L_EM_WITNESSED, KA_UNSEAL_OPEN, P_MGR, .want_code = "ok",
     .want_state = KEY_ST_UNSEALED},
    {"guard may not open", L_EM_WITNESSED, KA_UNSEAL_OPEN, P_SEC, .want_status = 403,
     .want_code = "forbidden_role", .want_state = NA},
    {"reseal with new number", L_EM_OPENED, KA_RESEAL, P_AGENT, .seal = "S-2", .count = 3,
     .want_code = "ok", .want_state = KEY_ST_SEALED},
    {"reseal with the old number", L_EM_OPENED, KA_RESEAL, P_AGENT, .seal = "S-1", .count = 3,
     .want_status = 422, .want_code = "seal_number_reused", .want_state = NA},
    {"reseal short count", L_EM_OPENED, KA_RESEAL, P_AGENT, .seal = "S-2", .count = 2,
     .want_code = "ok", .want_state = KEY_ST_SEALED, .want_discrepancy = 1, .want_notify = 1},
    {"reseal a sealed set", L_SEALED, KA_RESEAL, P_AGENT, .seal = "S-2", .count = 3,
     .want_status = 409, .want_code = "not_unsealed", .want_state = NA},
    {"manager signs off", L_EM_RESEALED, KA_SIGN_OFF, P_MGR, .want_code = "ok",
     .want_state = KEY_ST_SEALED},
    {"gm may not sign off", L_EM_RESEALED, KA_SIGN_OFF, P_GM, .want_status = 403,
     .want_code = "signer_not_manager", .want_state = NA},
    {"sign off before reseal", L_EM_OPENED, KA_SIGN_OFF, P_MGR, .want_status = 409,
     .want_code = "not_resealed", .want_state = NA},
    {"no new episode before sign-off", L_EM_RESEALED, KA_UNSEAL_REQUEST, P_MGR, .purpose = P,
     .ep = EP_EMERGENCY, .unreachable = 1, .attempts = 1, .want_status = 409,
     .want_code = "episode_open", .want_state = NA},
    {"no hand-back during an episode", L_EM_RESEALED, KA_HAND_TO_OWNER, P_AGENT, CP_RESIDENT,
     .want_status = 409, .want_code = "episode_open", .want_state = NA},
    /* owner-requested unsealing */
    {"agent takes owner request", L_SEALED, KA_UNSEAL_REQUEST, P_AGENT, CP_RESIDENT, .purpose = P,
     .ep = EP_OWNER, .attachments = 1, .want_code = "ok", .want_state = KEY_ST_SEALED},
    {"owner request without application", L_SEALED, KA_UNSEAL_REQUEST, P_AGENT, CP_RESIDENT,
     .purpose = P, .ep = EP_OWNER, .want_status = 422, .want_code = "application_required",
     .want_state = NA},
    {"owner request without owner", L_SEALED, KA_UNSEAL_REQUEST, P_AGENT, .purpose = P,
     .ep = EP_OWNER, .attachments = 1, .want_status = 422, .want_code = "owner_required",
     .want_state = NA},
    {"manager consents", L_OW_REQUESTED, KA_UNSEAL_APPROVE, P_MGR, .want_code = "ok",
     .want_state = KEY_ST_SEALED},
    {"supervisor may not consent", L_OW_REQUESTED, KA_UNSEAL_APPROVE, P_SUP, .want_status = 403,
     .want_code = "approver_not_manager", .want_state = NA},
    {"stamped application attached", L_OW_OPENED, KA_ATTACH_APPLICATION, P_AGENT, .attachments = 1,
     .stamped = 1, .want_code = "ok", .want_state = KEY_ST_UNSEALED},
    {"unstamped application refused", L_OW_OPENED, KA_ATTACH_APPLICATION, P_AGENT, .attachments = 1,
     .want_status = 422, .want_code = "stamped_application_required", .want_state = NA},
    {"application on emergency episode", L_EM_OPENED, KA_ATTACH_APPLICATION, P_AGENT,
     .attachments = 1, .stamped = 1, .want_status = 409, .want_code = "no_owner_episode",
     .want_state = NA},
    {"owner episode stays open until stamp", L_OW_RESEALED, KA_SIGN_OFF, P_MGR, .want_status = 409,
     .want_code = "awaiting_owner_stamp", .want_state = NA},
    {"owner episode signed off after stamp", L_OW_RESEALED_STAMPED, KA_SIGN_OFF, P_MGR,
     .want_code = "ok", .want_state = KEY_ST_SEALED},
    /* hand-back */
    {"hand sealed set to owner", L_SEALED, KA_HAND_TO_OWNER, P_AGENT, CP_RESIDENT,
     .want_code = "ok", .want_state = KEY_ST_RETURNED_TO_OWNER},
    {"hand-back without owner", L_SEALED, KA_HAND_TO_OWNER, P_AGENT, .want_status = 422,
     .want_code = "owner_required", .want_state = NA},
};

static custody_key_entry_t entry_of(const row_t *r)
{
    custody_key_entry_t e;
    memset(&e, 0, sizeof e);
    e.action = r->action;
    e.actor = people[r->actor];
    e.party = r->party;
    if (r->party == CP_USER)
        e.party_user = people[r->party_user];
    e.purpose = r->purpose;
    e.count = r->count ? r->count : (r->action == KA_REGISTER ? 3 : -1);
    if (r->count == -1)
        e.count = -1;
    e.power_off = e.windows_closed = e.unit_locked = r->checklist ? 1 : -1;
    if (r->checklist == 2)
        e.windows_closed = 0;
    e.seal_number = r->seal;
    e.episode_kind = r->ep;
    e.customer_unreachable = r->ep == EP_EMERGENCY ? r->unreachable : -1;
    e.contact_attempts = r->attempts;
    e.stamped = r->stamped;
    e.attachments = r->attachments;
    e.has_corrects = r->corrects;
    e.occurred_at = NOW + r->occurred_delta;
    e.due_back = r->due_delta ? e.occurred_at + r->due_delta : 0;
    return e;
}

static void test_table(void **state)
{
    (void)state;
    int failures = 0;
    for (size_t i = 0; i < N(rows); i++) {
        const row_t *r = &rows[i];
        custody_key_ledger_t cur = ledger(r->ledger), next;
        custody_key_entry_t e = entry_of(r);
        custody_key_effect_t fx;
        custody_verdict_t v = core_custody_key_check(&cur, &e, NOW, &next, &fx);
        int bad = v.status != r->want_status || strcmp(v.code, r->want_code) != 0;
        if (!bad && v.status == 0) {
            int want_state = r->want_state == NA ? (int)cur.state : r->want_state;
            bad = (int)next.state != want_state || fx.discrepancy != r->want_discrepancy ||
                  fx.notify_manager != r->want_notify;
        }
        if (bad) {
            print_error("%s: got %d %s (state %s, discrepancy %d, notify %d)\n", r->name, v.status,
                        v.code, core_key_state_name(next.state), fx.discrepancy, fx.notify_manager);
            failures++;
        }
    }
    assert_int_equal(failures, 0);
}

/* The emergency episode end to end through the pure rules. */
static void test_emergency_episode_walk(void **state)
{
    (void)state;
    custody_key_ledger_t l = ledger(L_SEALED), n;
    custody_key_effect_t fx;
    custody_key_entry_t e;
    int64_t t = NOW - 1800;
#define STEP(act, who, ...)                                                                        \
    do {                                                                                           \
        memset(&e, 0, sizeof e);                                                                   \
        e.action = act;                                                                            \
        e.actor = people[who];                                                                     \
        e.count = -1;                                                                              \
        e.power_off = e.windows_closed = e.unit_locked = e.customer_unreachable = -1;              \
        e.occurred_at = (t += 60);                                                                 \
        __VA_ARGS__;                                                                               \
        custody_verdict_t v = core_custody_key_check(&l, &e, NOW, &n, &fx);                        \
        assert_int_equal(v.status, 0);                                                             \
        l = n;                                                                                     \
    } while (0)
    STEP(KA_UNSEAL_REQUEST, P_MGR, e.episode_kind = EP_EMERGENCY, e.purpose = "water leak",
         e.customer_unreachable = 1, e.contact_attempts = 2);
    assert_int_equal(l.ep_stage, EPS_REQUESTED);
    STEP(KA_UNSEAL_APPROVE, P_GM);
    STEP(KA_WITNESS, P_AGENT);
    STEP(KA_WITNESS, P_SUP);
    /* two CS witnesses but no guard yet */
    memset(&e, 0, sizeof e);
    e.action = KA_UNSEAL_OPEN;
    e.actor = people[P_MGR];
    e.occurred_at = t + 1;
    assert_int_equal(core_custody_key_check(&l, &e, NOW, &n, &fx).status, 409);
    STEP(KA_WITNESS, P_SEC);
    STEP(KA_UNSEAL_OPEN, P_MGR);
    assert_true(fx.record_witnesses);
    assert_int_equal(l.state, KEY_ST_UNSEALED);
    STEP(KA_RESEAL, P_AGENT, e.seal_number = "S-9", e.count = 3);
    assert_string_equal(l.seal_number, "S-9");
    STEP(KA_SIGN_OFF, P_MGR);
    assert_int_equal(l.state, KEY_ST_SEALED);
    assert_int_equal(l.ep_stage, EPS_NONE);
    assert_int_equal(l.ep_nwitnesses, 0);
#undef STEP
}

static void test_names(void **state)
{
    (void)state;
    for (int a = 0; a < KA__COUNT; a++)
        assert_int_equal(core_key_action_from_string(core_key_action_name((key_action_t)a)), a);
    for (int s = 0; s < KEY_ST__COUNT; s++)
        assert_int_equal(core_key_state_from_string(core_key_state_name((key_state_t)s)), s);
    for (int k = 0; k < KEY_KIND__COUNT; k++)
        assert_int_equal(core_key_kind_from_string(core_key_kind_name((key_kind_t)k)), k);
    for (int a = 0; a < CUSTODY_AREA__COUNT; a++)
        assert_int_equal(core_custody_area_from_string(core_custody_area_name((custody_area_t)a)),
                         a);
    assert_int_equal(core_key_action_from_string("unseal"), -1);
    assert_null(core_key_action_name(KA__COUNT));
    custody_person_t eng = people[P_ENG_AGENT];
    assert_false(core_custody_is_cs_staff(&eng));
    assert_true(core_custody_is_cs_staff(&people[P_MGR]));
    assert_false(core_custody_is_cs_staff(&people[P_GM]));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_table),
        cmocka_unit_test(test_emergency_episode_walk),
        cmocka_unit_test(test_names),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
