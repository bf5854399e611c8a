/*
 * core/custody.c — the key and sealed-key rules of RULES §3.4 over one key set's ledger.
 * Each rule is a refusal with a stable code; see custody.h for the model.
 */
#include "core/custody.h"

#include <string.h>

#include "core/request.h"
#include "core/strtab.h"

static const char *const area_names[CUSTODY_AREA__COUNT] = {"keys", "archives", "mail",
                                                            "lost_property"};
static const char *const kind_names[KEY_KIND__COUNT] = {
    "management_area", "unit_entrusted", "unit_vacant", "unit_office",
    "machine_room",    "show_flat",      "other"};
static const char *const state_names[KEY_ST__COUNT] = {
    "in_cabinet", "at_control_room", "with_shift",        "on_loan", "sealed", "unsealed",
    "lost",       "damaged",         "returned_to_owner", "retired"};
static const char *const action_names[KA__COUNT] = {"register",
                                                    "shift_take",
                                                    "shift_return",
                                                    "handover_confirm",
                                                    "loan_approve",
                                                    "loan",
                                                    "return",
                                                    "seal",
                                                    "unseal_request",
                                                    "unseal_approve",
                                                    "witness",
                                                    "unseal_open",
                                                    "attach_application",
                                                    "reseal",
                                                    "sign_off",
                                                    "report_lost",
                                                    "report_damaged",
                                                    "daily_check",
                                                    "resolve_discrepancy",
                                                    "hand_to_owner",
                                                    "retire",
                                                    "correction",
                                                    "note",
                                                    "discrepancy"};
static const char *const ep_kind_names[] = {"none", "emergency", "owner"};
static const char *const ep_stage_names[] = {"none", "requested", "approved", "opened", "resealed"};

#define NAME(tab, n, v) ((unsigned)(v) < (unsigned)(n) ? (tab)[v] : NULL)
#define COUNT(tab)      ((int)(sizeof(tab) / sizeof((tab)[0])))

const char *core_custody_area_name(custody_area_t a)
{
    return NAME(area_names, CUSTODY_AREA__COUNT, a);
}
int core_custody_area_from_string(const char *s)
{
    return core_strtab_index(area_names, CUSTODY_AREA__COUNT, s);
}
const char *core_key_kind_name(key_kind_t k)
{
    return NAME(kind_names, KEY_KIND__COUNT, k);
}
int core_key_kind_from_string(const char *s)
{
    return core_strtab_index(kind_names, KEY_KIND__COUNT, s);
}
const char *core_key_state_name(key_state_t s)
{
    return NAME(state_names, KEY_ST__COUNT, s);
}
int core_key_state_from_string(const char *s)
{
    return core_strtab_index(state_names, KEY_ST__COUNT, s);
}
const char *core_key_action_name(key_action_t a)
{
    return NAME(action_names, KA__COUNT, a);
}
int core_key_action_from_string(const char *s)
{
    return core_strtab_index(action_names, KA__COUNT, s);
}
const char *core_key_episode_kind_name(key_episode_kind_t k)
{
    return NAME(ep_kind_names, COUNT(ep_kind_names), k);
}
int core_key_episode_kind_from_string(const char *s)
{
    return core_strtab_index(ep_kind_names, COUNT(ep_kind_names), s);
}
const char *core_key_episode_stage_name(key_episode_stage_t s)
{
    return NAME(ep_stage_names, COUNT(ep_stage_names), s);
}
int core_key_episode_stage_from_string(const char *s)
{
    return core_strtab_index(ep_stage_names, COUNT(ep_stage_names), s);
}

/* ---- who is who ------------------------------------------------------------------- */

int core_custody_role_writes(role_t role)
{
    switch (role) {
    case ROLE_AGENT:
    case ROLE_TECHNICIAN:
    case ROLE_SECURITY:
    case ROLE_SUPERVISOR:
    case ROLE_MANAGER:
    case ROLE_DIRECTOR:
    case ROLE_GM:
    case ROLE_CLERK:
        return 1;
    default:
        return 0;
    }
}

int core_custody_is_cs_staff(const custody_person_t *p)
{
    return (p->role == ROLE_AGENT || p->role == ROLE_SUPERVISOR || p->role == ROLE_MANAGER) &&
           p->dept_kind == DEPT_CUSTOMER_SERVICE;
}

int core_custody_is_security(const custody_person_t *p)
{
    return p->role == ROLE_SECURITY;
}

/* The keepers of the register (agent/keeper, clerk, and the desk's management). */
static int is_keeper(role_t r)
{
    return r == ROLE_AGENT || r == ROLE_CLERK || r == ROLE_SUPERVISOR || r == ROLE_MANAGER ||
           r == ROLE_DIRECTOR || r == ROLE_GM;
}

/* Desk staff who take and return the control room's keys. */
static int is_desk(role_t r)
{
    return r == ROLE_AGENT || r == ROLE_CLERK || r == ROLE_SUPERVISOR || r == ROLE_MANAGER;
}

static int ladder_at_least(role_t r, int level)
{
    return core_role_ladder_level(r) >= level;
}

static int same(const char *a, const char *b)
{
    return a && b && strcmp(a, b) == 0;
}

static int blank(const char *s)
{
    return !s || !s[0];
}

static int terminal(key_state_t s)
{
    return s == KEY_ST_RETURNED_TO_OWNER || s == KEY_ST_RETIRED;
}

static custody_verdict_t V(int status, const char *code, const char *detail)
{
    custody_verdict_t v = {status, code, detail};
    return v;
}

#define OK V(0, "ok", "the entry may be appended")

/* ---- the rules ---------------------------------------------------------------------- */

static custody_verdict_t check_count(const custody_key_ledger_t *cur, const custody_key_entry_t *e,
                                     custody_key_effect_t *fx, int required)
{
    if (e->count < 0) {
        if (required)
            return V(422, "count_required",
                     "count the keys and give 'count': the hand-over is checked against the "
                     "registered number");
        return OK;
    }
    if (e->count != cur->key_count) {
        fx->discrepancy = 1;
        fx->notify_manager = 1;
        fx->notify_kind = "custody_discrepancy";
    }
    return OK;
}

static custody_verdict_t check_loan(const custody_key_ledger_t *cur, const custody_key_entry_t *e,
                                    custody_key_ledger_t *next, custody_key_effect_t *fx)
{
    if (cur->kind == KEY_KIND_MANAGEMENT_AREA)
        return V(409, "wrong_kind",
                 "management-area keys go between the control room and the shift "
                 "(shift_take / shift_return), they are not lent");
    if (cur->state == KEY_ST_SEALED || cur->state == KEY_ST_UNSEALED)
        return V(409, "key_sealed",
                 "a sealed key set is used only through an unsealing episode, never lent");
    if (cur->state == KEY_ST_ON_LOAN)
        return V(409, "already_on_loan", "the key set is already on loan");
    if (cur->state != KEY_ST_IN_CABINET)
        return V(409, "not_in_cabinet", "only a key set kept at customer service can be lent");
    if (e->party == CP_RESIDENT)
        return V(422, "borrower_not_staff",
                 "keys are never lent to non-property people: the borrower is the property "
                 "staff member who signs (a contractor's loan is signed by engineering staff)");
    if (e->party == CP_USER && !same(e->party_user.user_id, e->actor.user_id))
        return V(422, "borrower_signs_own_loan",
                 "the borrower signs the loan with their own login; leave 'counterparty' out "
                 "or name yourself");
    int contractor = e->party == CP_OUTSIDER;
    if (contractor && e->actor.dept_kind != DEPT_ENGINEERING && !ladder_at_least(e->actor.role, 1))
        return V(403, "contractor_loan_by_engineering",
                 "contractors never borrow directly: engineering staff (or a manager) sign and "
                 "borrow on their behalf");
    if (blank(e->purpose))
        return V(422, "purpose_required", "say what the keys are borrowed for ('purpose')");
    if (e->due_back <= 0)
        return V(422, "due_back_required", "give the time the keys are due back ('due_back')");
    if (e->due_back <= e->occurred_at)
        return V(422, "due_back_before_loan", "'due_back' must lie after the loan");
    int needs_approval =
        contractor || (cur->kind == KEY_KIND_MACHINE_ROOM && !ladder_at_least(e->actor.role, 1));
    if (needs_approval) {
        if (blank(cur->approval_by) || !same(cur->approval_for, e->actor.user_id))
            return V(409, "approval_required",
                     contractor ? "a contractor's loan needs a supervisor's approval for the "
                                  "borrower first (loan_approve)"
                                : "a machine-room loan by an agent needs a supervisor's approval "
                                  "for the borrower first (loan_approve)");
        fx->record_approval = 1;
    }
    custody_verdict_t v = check_count(cur, e, fx, 0);
    if (v.status)
        return v;
    next->state = KEY_ST_ON_LOAN;
    next->holder_id = e->actor.user_id;
    next->approval_by = next->approval_for = NULL;
    return OK;
}

static custody_verdict_t check_return(const custody_key_ledger_t *cur, const custody_key_entry_t *e,
                                      custody_key_ledger_t *next, custody_key_effect_t *fx)
{
    if (cur->state != KEY_ST_ON_LOAN)
        return V(409, "not_on_loan", "the key set is not on loan");
    if (!same(cur->holder_id, e->actor.user_id))
        return V(403, "not_borrower",
                 "the borrower returns the keys and confirms the unit is safe with their own "
                 "login");
    if (e->power_off != 1 || e->windows_closed != 1 || e->unit_locked != 1)
        return V(422, "return_checklist_incomplete",
                 "confirm power cut off, doors and windows closed and unit locked "
                 "('power_off', 'windows_closed', 'unit_locked' all true) before returning");
    custody_verdict_t v = check_count(cur, e, fx, 1);
    if (v.status)
        return v;
    next->state = KEY_ST_IN_CABINET;
    next->holder_id = NULL;
    return OK;
}

static custody_verdict_t check_shift(const custody_key_ledger_t *cur, const custody_key_entry_t *e,
                                     custody_key_ledger_t *next, custody_key_effect_t *fx)
{
    if (cur->kind != KEY_KIND_MANAGEMENT_AREA)
        return V(409, "wrong_kind", "only management-area keys are taken from the control room");
    if (!is_desk(e->actor.role))
        return V(403, "forbidden_role", "the desk's staff take and return the control room's keys");
    if (cur->pending_action >= 0)
        return V(409, "handover_pending",
                 "a hand-over is waiting for the other party's confirmation");
    key_state_t need = e->action == KA_SHIFT_TAKE ? KEY_ST_AT_CONTROL_ROOM : KEY_ST_WITH_SHIFT;
    if (cur->state != need)
        return V(409, e->action == KA_SHIFT_TAKE ? "not_at_control_room" : "not_with_shift",
                 e->action == KA_SHIFT_TAKE ? "the keys are not at the control room"
                                            : "the keys are not with the shift");
    if (e->party != CP_USER || !core_custody_is_security(&e->party_user) || !e->party_user.active)
        return V(422, "counterparty_not_security",
                 "name the control room's security guard as 'counterparty' (a user): they "
                 "confirm the hand-over with their own login");
    custody_verdict_t v = check_count(cur, e, fx, 1);
    if (v.status)
        return v;
    next->pending_action = (int)e->action;
    next->pending_by = e->actor.user_id;
    next->pending_counterparty = e->party_user.user_id;
    return OK;
}

static custody_verdict_t check_confirm(const custody_key_ledger_t *cur,
                                       const custody_key_entry_t *e, custody_key_ledger_t *next,
                                       custody_key_effect_t *fx)
{
    if (cur->pending_action < 0)
        return V(409, "nothing_pending", "no hand-over is waiting for confirmation");
    if (!same(cur->pending_counterparty, e->actor.user_id))
        return V(403, "not_counterparty",
                 "only the guard named in the hand-over confirms it, with their own login");
    custody_verdict_t v = check_count(cur, e, fx, 1);
    if (v.status)
        return v;
    if (cur->pending_action == KA_SHIFT_TAKE) {
        next->state = KEY_ST_WITH_SHIFT;
        next->holder_id = cur->pending_by;
    } else {
        next->state = KEY_ST_AT_CONTROL_ROOM;
        next->holder_id = NULL;
    }
    next->pending_action = -1;
    next->pending_by = next->pending_counterparty = NULL;
    return OK;
}

static custody_verdict_t check_unseal_request(const custody_key_ledger_t *cur,
                                              const custody_key_entry_t *e,
                                              custody_key_ledger_t *next)
{
    if (cur->state != KEY_ST_SEALED)
        return V(409, "not_sealed", "only a sealed key set can be unsealed");
    if (cur->ep_stage != EPS_NONE)
        return V(409, "episode_open",
                 "an unsealing episode is already open: it ends with a reseal and the "
                 "manager's sign-off");
    if (blank(e->purpose))
        return V(422, "purpose_required", "say why the set must be opened ('purpose')");
    if (e->episode_kind == EP_EMERGENCY) {
        if (e->actor.role != ROLE_MANAGER)
            return V(403, "requester_not_manager",
                     "an emergency unsealing is requested by the customer-service manager");
        if (e->customer_unreachable != 1)
            return V(422, "customer_reachable",
                     "a sealed key is opened only when the customer cannot be notified or "
                     "cannot come ('customer_unreachable': true)");
        if (e->contact_attempts < 1)
            return V(422, "contact_attempts_required",
                     "record the attempts to reach the customer ('contact_attempts')");
    } else if (e->episode_kind == EP_OWNER) {
        if (!is_desk(e->actor.role))
            return V(403, "forbidden_role",
                     "an owner's unsealing request is taken by customer-service staff");
        if (e->party != CP_RESIDENT && e->party != CP_OUTSIDER)
            return V(422, "owner_required",
                     "name the owner who applies ('counterparty': resident or outsider)");
        if (e->attachments < 1)
            return V(422, "application_required", "attach the owner's written application");
    } else {
        return V(422, "episode_kind_required",
                 "'episode' must be 'emergency' or 'owner' for an unsealing request");
    }
    next->ep_kind = e->episode_kind;
    next->ep_stage = EPS_REQUESTED;
    next->ep_requested_by = e->actor.user_id;
    next->ep_approved_by = NULL;
    next->ep_stamped = 0;
    next->ep_nwitnesses = 0;
    return OK;
}

static custody_verdict_t check_unseal_approve(const custody_key_ledger_t *cur,
                                              const custody_key_entry_t *e,
                                              custody_key_ledger_t *next)
{
    if (cur->ep_stage != EPS_REQUESTED)
        return V(409, cur->ep_stage == EPS_NONE ? "no_unseal_request" : "already_approved",
                 cur->ep_stage == EPS_NONE ? "no unsealing request is waiting for approval"
                                           : "the unsealing request is already approved");
    if (cur->ep_kind == EP_EMERGENCY && e->actor.role != ROLE_GM)
        return V(403, "approver_not_gm", "an emergency unsealing is approved by the GM");
    if (cur->ep_kind == EP_OWNER && !ladder_at_least(e->actor.role, 2))
        return V(403, "approver_not_manager",
                 "an owner's unsealing needs the customer-service manager's consent");
    if (same(cur->ep_requested_by, e->actor.user_id))
        return V(403, "self_approval", "the requester may not approve their own request");
    next->ep_stage = EPS_APPROVED;
    next->ep_approved_by = e->actor.user_id;
    return OK;
}

static custody_verdict_t check_witness(const custody_key_ledger_t *cur,
                                       const custody_key_entry_t *e, custody_key_ledger_t *next)
{
    if (cur->ep_stage != EPS_APPROVED)
        return V(409, "unseal_not_approved",
                 "witnesses sign for an approved unsealing, before it is opened");
    if (same(cur->ep_approved_by, e->actor.user_id))
        return V(403, "approver_cannot_witness", "the approver may not count as a witness");
    if (!core_custody_is_cs_staff(&e->actor) && !core_custody_is_security(&e->actor))
        return V(403, "not_a_witness_role",
                 "witnesses are customer-service staff (agent, supervisor or manager of a "
                 "customer-service department) and security guards");
    for (size_t i = 0; i < cur->ep_nwitnesses; i++)
        if (same(cur->ep_witnesses[i].user_id, e->actor.user_id))
            return V(409, "already_witnessed", "you have already signed as a witness");
    if (cur->ep_nwitnesses >= CUSTODY_MAX_WITNESSES)
        return V(409, "too_many_witnesses", "enough witnesses have signed");
    next->ep_witnesses[next->ep_nwitnesses++] = e->actor;
    return OK;
}

static custody_verdict_t check_unseal_open(const custody_key_ledger_t *cur,
                                           const custody_key_entry_t *e, custody_key_ledger_t *next,
                                           custody_key_effect_t *fx)
{
    if (cur->state != KEY_ST_SEALED)
        return V(409, "not_sealed", "the key set is not sealed");
    if (cur->ep_stage != EPS_APPROVED)
        return V(409, "unseal_not_approved",
                 "nobody opens a sealed set without an approved unsealing request");
    if (!is_desk(e->actor.role))
        return V(403, "forbidden_role", "customer-service staff open the sealed set");
    if (cur->ep_kind == EP_EMERGENCY) {
        size_t cs = 0, sec = 0;
        for (size_t i = 0; i < cur->ep_nwitnesses; i++) {
            const custody_person_t *w = &cur->ep_witnesses[i];
            if (same(w->user_id, cur->ep_approved_by))
                continue;
            if (core_custody_is_cs_staff(w))
                cs++;
            else if (core_custody_is_security(w))
                sec++;
        }
        if (cs < 2 || sec < 1)
            return V(409, "witnesses_missing",
                     "an emergency opening needs two customer-service staff and one security "
                     "guard present, each signing as a witness (none of them the approver)");
        fx->record_witnesses = 1;
    } else if (cur->ep_nwitnesses > 0) {
        fx->record_witnesses = 1;
    }
    next->state = KEY_ST_UNSEALED;
    next->ep_stage = EPS_OPENED;
    return OK;
}

static custody_verdict_t check_reseal(const custody_key_ledger_t *cur, const custody_key_entry_t *e,
                                      custody_key_ledger_t *next, custody_key_effect_t *fx)
{
    if (cur->state != KEY_ST_UNSEALED || cur->ep_stage != EPS_OPENED)
        return V(409, "not_unsealed", "only an opened set is resealed");
    if (!is_keeper(e->actor.role))
        return V(403, "forbidden_role", "the desk's keepers reseal the set");
    if (blank(e->seal_number))
        return V(422, "seal_number_required", "give the new seal's number ('seal_number')");
    if (same(e->seal_number, cur->seal_number))
        return V(422, "seal_number_reused", "a reseal uses a new seal: give its new number");
    custody_verdict_t v = check_count(cur, e, fx, 1);
    if (v.status)
        return v;
    next->state = KEY_ST_SEALED;
    next->seal_number = e->seal_number;
    next->ep_stage = EPS_RESEALED;
    return OK;
}

static custody_verdict_t check_sign_off(const custody_key_ledger_t *cur,
                                        const custody_key_entry_t *e, custody_key_ledger_t *next)
{
    if (cur->ep_stage != EPS_RESEALED)
        return V(409, "not_resealed", "an unsealing episode is signed off after the reseal");
    if (e->actor.role != ROLE_MANAGER)
        return V(403, "signer_not_manager", "the customer-service manager signs the episode off");
    if (cur->ep_kind == EP_OWNER && !cur->ep_stamped)
        return V(409, "awaiting_owner_stamp",
                 "the owner's stamped application must be attached before sign-off");
    next->ep_kind = EP_NONE;
    next->ep_stage = EPS_NONE;
    next->ep_requested_by = next->ep_approved_by = NULL;
    next->ep_stamped = 0;
    next->ep_nwitnesses = 0;
    return OK;
}

custody_verdict_t core_custody_key_check(const custody_key_ledger_t *cur,
                                         const custody_key_entry_t *e, int64_t now,
                                         custody_key_ledger_t *next, custody_key_effect_t *fx)
{
    *next = *cur;
    memset(fx, 0, sizeof *fx);
    if ((unsigned)e->action >= KA__COUNT)
        return V(422, "invalid_action", "unknown ledger action");
    if (!core_custody_role_writes(e->actor.role))
        return V(403, "forbidden_role", "your role reads the custody ledgers but writes nothing");
    if (e->action == KA_DISCREPANCY)
        return V(422, "invalid_action",
                 "discrepancy entries are written by the service after a short count");
    const char *tc;
    const char *tr;
    if (core_request_check_occurred_at(e->occurred_at, cur->fresh ? 0 : cur->last_occurred_at, now,
                                       &tc, &tr) != 0)
        return V(422, tc, tr);
    if (cur->fresh != (e->action == KA_REGISTER))
        return V(409, cur->fresh ? "not_registered" : "already_registered",
                 cur->fresh ? "a key set's ledger starts with its registration"
                            : "the key set is already registered");
    if (terminal(cur->state) && e->action != KA_CORRECTION && e->action != KA_NOTE)
        return V(409, "closed_item", "the key set is no longer held: only corrections and notes");
    next->last_occurred_at = e->occurred_at;

    switch (e->action) {
    case KA_REGISTER:
        if (!is_keeper(e->actor.role))
            return V(403, "forbidden_role", "the desk's keepers register key sets");
        if (cur->key_count < 1)
            return V(422, "count_required", "a key set has at least one key ('key_count')");
        next->fresh = 0;
        next->state =
            cur->kind == KEY_KIND_MANAGEMENT_AREA ? KEY_ST_AT_CONTROL_ROOM : KEY_ST_IN_CABINET;
        next->pending_action = -1;
        return OK;
    case KA_SHIFT_TAKE:
    case KA_SHIFT_RETURN:
        return check_shift(cur, e, next, fx);
    case KA_HANDOVER_CONFIRM:
        return check_confirm(cur, e, next, fx);
    case KA_LOAN_APPROVE:
        if (!ladder_at_least(e->actor.role, 1))
            return V(403, "approver_not_supervisor", "a supervisor or above approves key loans");
        if (cur->state != KEY_ST_IN_CABINET)
            return V(409, "not_in_cabinet", "only a key set kept at customer service can be lent");
        if (e->party != CP_USER)
            return V(422, "borrower_required",
                     "name the staff member who will borrow ('counterparty': a user)");
        if (!core_custody_role_writes(e->party_user.role) || !e->party_user.active)
            return V(422, "borrower_not_staff", "only active property staff borrow keys");
        if (same(e->party_user.user_id, e->actor.user_id))
            return V(403, "self_approval", "you may not approve your own loan");
        next->approval_by = e->actor.user_id;
        next->approval_for = e->party_user.user_id;
        return OK;
    case KA_LOAN:
        return check_loan(cur, e, next, fx);
    case KA_RETURN:
        return check_return(cur, e, next, fx);
    case KA_SEAL:
        if (!is_keeper(e->actor.role))
            return V(403, "forbidden_role", "the desk's keepers seal entrusted keys");
        if (cur->kind != KEY_KIND_UNIT_ENTRUSTED && cur->kind != KEY_KIND_UNIT_VACANT &&
            cur->kind != KEY_KIND_UNIT_OFFICE)
            return V(409, "wrong_kind", "only a unit's entrusted keys are sealed");
        if (cur->state != KEY_ST_IN_CABINET)
            return V(409, "not_in_cabinet", "only a key set kept at customer service is sealed");
        if (blank(e->seal_number))
            return V(422, "seal_number_required", "give the seal's number ('seal_number')");
        if (e->party != CP_RESIDENT && e->party != CP_OUTSIDER)
            return V(422, "owner_required",
                     "name the customer who entrusts the keys ('counterparty')");
        {
            custody_verdict_t v = check_count(cur, e, fx, 1);
            if (v.status)
                return v;
        }
        next->state = KEY_ST_SEALED;
        next->seal_number = e->seal_number;
        return OK;
    case KA_UNSEAL_REQUEST:
        return check_unseal_request(cur, e, next);
    case KA_UNSEAL_APPROVE:
        return check_unseal_approve(cur, e, next);
    case KA_WITNESS:
        return check_witness(cur, e, next);
    case KA_UNSEAL_OPEN:
        return check_unseal_open(cur, e, next, fx);
    case KA_ATTACH_APPLICATION:
        if (cur->ep_kind != EP_OWNER || cur->ep_stage < EPS_OPENED)
            return V(409, "no_owner_episode",
                     "the stamped application belongs to an opened owner-requested unsealing");
        if (cur->ep_stamped)
            return V(409, "already_attached", "the stamped application is already attached");
        if (e->attachments < 1 || e->stamped != 1)
            return V(422, "stamped_application_required",
                     "attach the application bearing the owner's company stamp and signature "
                     "('attachments', 'stamped': true)");
        next->ep_stamped = 1;
        return OK;
    case KA_RESEAL:
        return check_reseal(cur, e, next, fx);
    case KA_SIGN_OFF:
        return check_sign_off(cur, e, next);
    case KA_REPORT_LOST:
    case KA_REPORT_DAMAGED:
        if (cur->state == KEY_ST_LOST || cur->state == KEY_ST_DAMAGED)
            return V(409, "already_reported", "the loss or damage is already reported");
        if (blank(e->purpose))
            return V(422, "account_required", "give the written account ('purpose')");
        if ((cur->state == KEY_ST_SEALED || cur->state == KEY_ST_UNSEALED) && e->attachments < 1)
            return V(422, "account_attachment_required",
                     "a sealed key's loss or damage is reported with the detailed written "
                     "account attached");
        next->state = e->action == KA_REPORT_LOST ? KEY_ST_LOST : KEY_ST_DAMAGED;
        next->holder_id = NULL;
        fx->notify_manager = 1;
        fx->notify_kind = e->action == KA_REPORT_LOST ? "custody_key_lost" : "custody_key_damaged";
        return OK;
    case KA_DAILY_CHECK:
        if (!is_keeper(e->actor.role))
            return V(403, "forbidden_role", "the register's keeper makes the daily check");
        if (cur->state != KEY_ST_ON_LOAN && cur->state != KEY_ST_WITH_SHIFT)
            return V(409, "not_out", "the daily check records a reason for keys not returned");
        if (blank(e->purpose))
            return V(422, "reason_required", "record why the keys are not back ('purpose')");
        return OK;
    case KA_RESOLVE_DISCREPANCY:
        if (!cur->open_discrepancy)
            return V(409, "no_discrepancy", "the key set has no open discrepancy");
        if (!ladder_at_least(e->actor.role, 2))
            return V(403, "forbidden_role", "the manager closes a count discrepancy");
        if (blank(e->purpose))
            return V(422, "reason_required", "say how the discrepancy was settled ('purpose')");
        next->open_discrepancy = 0;
        return OK;
    case KA_HAND_TO_OWNER:
        if (!is_keeper(e->actor.role))
            return V(403, "forbidden_role", "the desk's keepers hand keys back");
        if (cur->state != KEY_ST_IN_CABINET && cur->state != KEY_ST_SEALED)
            return V(409, "not_held", "only keys held at customer service are handed back");
        if (cur->ep_stage != EPS_NONE)
            return V(409, "episode_open", "finish the unsealing episode first");
        if (e->party != CP_RESIDENT && e->party != CP_OUTSIDER)
            return V(422, "owner_required", "name who receives the keys ('counterparty')");
        next->state = KEY_ST_RETURNED_TO_OWNER;
        return OK;
    case KA_RETIRE:
        if (!ladder_at_least(e->actor.role, 2))
            return V(403, "forbidden_role", "the manager retires a key set");
        if (cur->state != KEY_ST_IN_CABINET && cur->state != KEY_ST_LOST &&
            cur->state != KEY_ST_DAMAGED && cur->state != KEY_ST_AT_CONTROL_ROOM)
            return V(409, "not_retirable", "only a held, lost or damaged set is retired");
        if (blank(e->purpose))
            return V(422, "reason_required", "say why the set is retired ('purpose')");
        next->state = KEY_ST_RETIRED;
        return OK;
    case KA_CORRECTION:
        if (!e->has_corrects)
            return V(422, "corrects_required", "name the entry this corrects ('corrects')");
        if (blank(e->purpose))
            return V(422, "reason_required", "give the reason for the correction ('purpose')");
        return OK;
    case KA_NOTE:
        if (blank(e->purpose))
            return V(422, "purpose_required", "a note needs its text ('purpose')");
        return OK;
    default:
        return V(422, "invalid_action", "unknown ledger action");
    }
}
