/*
 * core/custody_areas.c — the mail (§3.6), lost-property (§3.7) and archive (§3.5) rules over
 * one item's ledger.  Each rule is a refusal with a stable code; see custody_areas.h.
 */
#include "core/custody_areas.h"

#include <string.h>

#include "core/request.h"

static const char *const mail_kind_names[MAIL_KIND__COUNT] = {
    "registered_letter", "telegram", "money_order", "parcel",
    "express",           "magazine", "newspaper",   "other"};
static const char *const mail_state_names[MAIL_ST__COUNT] = {
    "in_custody", "collected", "returned_to_sender", "handed_to_other"};
static const char *const mail_action_names[MA__COUNT] = {
    "receive", "hand_over", "call", "return_to_sender", "hand_to_other", "correction", "note"};
CORE_STRTAB_FUNCS(core_mail_kind, mail_kind_t, mail_kind_names, MAIL_KIND__COUNT)
CORE_STRTAB_FUNCS(core_mail_state, mail_state_t, mail_state_names, MAIL_ST__COUNT)
CORE_STRTAB_FUNCS(core_mail_action, mail_action_t, mail_action_names, MA__COUNT)

static const char *const lost_kind_names[LOST_KIND__COUNT] = {"found_item", "valuable_deposit"};
static const char *const lost_state_names[LOST_ST__COUNT] = {
    "found", "held", "claimed", "handed_to_police", "deposited", "returned"};
static const char *const lost_action_names[LA__COUNT] = {
    "register", "deposit", "receive", "claim", "hand_to_police", "return", "correction", "note"};
CORE_STRTAB_FUNCS(core_lost_kind, lost_kind_t, lost_kind_names, LOST_KIND__COUNT)
CORE_STRTAB_FUNCS(core_lost_state, lost_state_t, lost_state_names, LOST_ST__COUNT)
CORE_STRTAB_FUNCS(core_lost_action, lost_action_t, lost_action_names, LA__COUNT)

static const char *const arc_class_names[ARC_CLASS__COUNT] = {"official", "ordinary",
                                                              "confidential", "personnel"};
static const char *const arc_state_names[ARC_ST__COUNT] = {
    "active", "reading", "loan_pending", "on_loan", "return_pending", "lost", "destroyed"};
static const char *const arc_action_names[AA__COUNT] = {
    "register",    "read_approve", "read_start",          "read_end",
    "copy",        "loan",         "loan_sign",           "return",
    "return_sign", "inventory",    "resolve_discrepancy", "destroy_approve",
    "destroy",     "report_lost",  "correction",          "note"};
static const char *const destroy_method_names[DESTROY__COUNT] = {"shred", "tear"};
CORE_STRTAB_FUNCS(core_archive_class, archive_class_t, arc_class_names, ARC_CLASS__COUNT)
CORE_STRTAB_FUNCS(core_archive_state, archive_state_t, arc_state_names, ARC_ST__COUNT)
CORE_STRTAB_FUNCS(core_archive_action, archive_action_t, arc_action_names, AA__COUNT)
CORE_STRTAB_FUNCS(core_destroy_method, destroy_method_t, destroy_method_names, DESTROY__COUNT)

/* ---- shared ------------------------------------------------------------------------------ */

static custody_verdict_t V(int status, const char *code, const char *detail)
{
    custody_verdict_t v = {status, code, detail};
    return v;
}

#define OK V(0, "ok", "the entry may be appended")

static int same(const char *a, const char *b)
{
    return a && b && strcmp(a, b) == 0;
}

static int blank(const char *s)
{
    return !s || !s[0];
}

/* The desk's keepers: they register items and hand them over. */
static int is_keeper(role_t r)
{
    return r == ROLE_AGENT || r == ROLE_CLERK || r == ROLE_SUPERVISOR || r == ROLE_MANAGER ||
           r == ROLE_DIRECTOR || r == ROLE_GM;
}

static int ladder_at_least(role_t r, int level)
{
    return core_role_ladder_level(r) >= level;
}

/* The checks every area makes first: time, the registration first and once, and what a
 * closed item still takes.  Returns a verdict with status -1 when the entry goes on to the
 * area's own rules. */
static custody_verdict_t common(int fresh, int64_t last, int closed, int is_register, int is_amend,
                                int64_t occurred_at, int64_t now, const char *noun_registered,
                                const char *noun_closed)
{
    const char *tc;
    const char *tr;
    if (core_request_check_occurred_at(occurred_at, fresh ? 0 : last, now, &tc, &tr) != 0)
        return V(422, tc, tr);
    if (fresh != is_register)
        return V(409, fresh ? "not_registered" : "already_registered",
                 fresh ? "an item's ledger starts with its registration" : noun_registered);
    if (closed && !is_amend)
        return V(409, "closed_item", noun_closed);
    return V(-1, "", "");
}

static custody_verdict_t amend(int is_correction, int has_corrects, const char *purpose)
{
    if (is_correction && !has_corrects)
        return V(422, "corrects_required", "name the entry this corrects ('corrects')");
    if (blank(purpose))
        return is_correction
                   ? V(422, "reason_required", "give the reason for the correction ('purpose')")
                   : V(422, "purpose_required", "a note needs its text ('purpose')");
    return OK;
}

/* ---- mail ---------------------------------------------------------------------------------- */

custody_verdict_t core_custody_mail_check(const custody_mail_ledger_t *cur,
                                          const custody_mail_entry_t *e, int64_t now,
                                          custody_mail_ledger_t *next)
{
    *next = *cur;
    if ((unsigned)e->action >= MA__COUNT)
        return V(422, "invalid_action", "unknown ledger action");
    if (e->actor.role == ROLE_INTEGRATION) {
        if (e->action != MA_RECEIVE)
            return V(403, "forbidden_role",
                     "an integration pushes received items; staff hand them over");
    } else if (!core_custody_role_writes(e->actor.role)) {
        return V(403, "forbidden_role", "your role reads the mail register but writes nothing");
    }
    int amend_ = e->action == MA_CORRECTION || e->action == MA_NOTE;
    custody_verdict_t v = common(cur->fresh, cur->last_occurred_at,
                                 cur->state != MAIL_ST_IN_CUSTODY, e->action == MA_RECEIVE, amend_,
                                 e->occurred_at, now, "the mail item is already registered",
                                 "the mail item has left the desk: only corrections and notes");
    if (v.status >= 0)
        return v;
    next->last_occurred_at = e->occurred_at;
    if (amend_)
        return amend(e->action == MA_CORRECTION, e->has_corrects, e->purpose);
    if (e->actor.role != ROLE_INTEGRATION && !is_keeper(e->actor.role))
        return V(403, "forbidden_role", "the desk's reception staff keep the mail register");
    switch (e->action) {
    case MA_RECEIVE:
        if (e->resident_out != 1)
            return V(422, "resident_not_out",
                     "the desk takes mail in only when the recipient is out "
                     "('resident_out': true); otherwise the postman delivers to the home");
        next->fresh = 0;
        next->state = MAIL_ST_IN_CUSTODY;
        next->calls = 0;
        return OK;
    case MA_HAND_OVER:
        if (e->party != CP_RESIDENT && e->party != CP_OUTSIDER)
            return V(422, "collector_required",
                     "name who collects the item ('counterparty': the resident, or an outsider "
                     "with name, phone and relation)");
        if (!e->id_type)
            return V(422, "id_required",
                     "check the collector's valid ID and record it ('id_type', 'id_number')");
        if (cur->kind == MAIL_KIND_MONEY_ORDER && strcmp(e->id_type, "id_card") != 0)
            return V(422, "id_card_required",
                     "a money order is handed over only against the ID card "
                     "('id_type': 'id_card') with its number recorded");
        if (e->attachments < 1)
            return V(422, "signature_required", "attach the collector's signature on the register");
        next->state = MAIL_ST_COLLECTED;
        return OK;
    case MA_CALL:
        if (e->reached < 0)
            return V(422, "reached_required",
                     "record whether the recipient was reached ('reached': true or false)");
        next->calls = cur->calls + 1;
        return OK;
    case MA_RETURN_TO_SENDER:
        if (blank(e->purpose))
            return V(422, "reason_required", "say why the item goes back ('purpose')");
        next->state = MAIL_ST_RETURNED_TO_SENDER;
        return OK;
    case MA_HAND_TO_OTHER:
        if (e->party == CP_NONE)
            return V(422, "counterparty_required", "name who takes the item ('counterparty')");
        if (blank(e->purpose))
            return V(422, "reason_required", "say why the item goes to someone else ('purpose')");
        if (e->party != CP_USER && !e->id_type)
            return V(422, "id_required", "record the ID of the person who takes it");
        next->state = MAIL_ST_HANDED_TO_OTHER;
        return OK;
    default:
        return V(422, "invalid_action", "unknown ledger action");
    }
}

/* ---- lost property and valuables ------------------------------------------------------------ */

static int lost_closed(lost_state_t s)
{
    return s == LOST_ST_CLAIMED || s == LOST_ST_HANDED_TO_POLICE || s == LOST_ST_RETURNED;
}

custody_verdict_t core_custody_lost_check(const custody_lost_ledger_t *cur,
                                          const custody_lost_entry_t *e, int64_t now,
                                          custody_lost_ledger_t *next)
{
    *next = *cur;
    if ((unsigned)e->action >= LA__COUNT)
        return V(422, "invalid_action", "unknown ledger action");
    if (!core_custody_role_writes(e->actor.role))
        return V(403, "forbidden_role",
                 "your role reads the lost-property register but writes nothing");
    int amend_ = e->action == LA_CORRECTION || e->action == LA_NOTE;
    int reg = e->action == LA_REGISTER || e->action == LA_DEPOSIT;
    custody_verdict_t v =
        common(cur->fresh, cur->last_occurred_at, !cur->fresh && lost_closed(cur->state), reg,
               amend_, e->occurred_at, now, "the item is already registered",
               "the item has left the service centre: only corrections and notes");
    if (v.status >= 0)
        return v;
    next->last_occurred_at = e->occurred_at;
    if (amend_)
        return amend(e->action == LA_CORRECTION, e->has_corrects, e->purpose);
    int found = cur->kind == LOST_KIND_FOUND_ITEM;
    switch (e->action) {
    case LA_REGISTER:
        if (!found)
            return V(409, "wrong_kind", "a valuables deposit is registered with 'deposit'");
        if (!e->has_place || !e->has_description)
            return V(422, "found_details_required",
                     "record where the item was found ('location') and what it is "
                     "('description')");
        next->fresh = 0;
        next->state = LOST_ST_FOUND;
        return OK;
    case LA_DEPOSIT:
        if (found)
            return V(409, "wrong_kind", "a found item is registered with 'register'");
        if (!is_keeper(e->actor.role))
            return V(403, "forbidden_role", "the desk's staff take valuables on deposit");
        if (e->party != CP_RESIDENT && e->party != CP_OUTSIDER)
            return V(422, "depositor_required", "name the depositor ('counterparty')");
        if (!e->id_type)
            return V(422, "id_required",
                     "record the depositor's ID: the deposit is handed back against it");
        if (e->count < 1 || !e->has_description || !e->has_receipt)
            return V(422, "deposit_details_required",
                     "record the items' count ('count'), their condition ('description') and "
                     "the receipt number ('receipt_number')");
        next->fresh = 0;
        next->state = LOST_ST_DEPOSITED;
        return OK;
    case LA_RECEIVE:
        if (!found)
            return V(409, "wrong_kind", "only a found item goes to the duty manager");
        if (cur->state != LOST_ST_FOUND)
            return V(409, "not_found_state", "the item is already with the duty manager");
        if (!ladder_at_least(e->actor.role, 1))
            return V(403, "not_duty_manager",
                     "found property is handed to the duty manager, who signs for it with their "
                     "own login");
        next->state = LOST_ST_HELD;
        return OK;
    case LA_CLAIM:
        if (!found)
            return V(409, "wrong_kind", "a deposit is handed back with 'return'");
        if (cur->state != LOST_ST_HELD)
            return V(409, "not_held",
                     "the item is claimed from the duty manager's custody (receive it first)");
        if (!is_keeper(e->actor.role))
            return V(403, "forbidden_role", "the desk's staff hand found property back");
        if (e->party != CP_RESIDENT && e->party != CP_OUTSIDER)
            return V(422, "claimant_required", "name the claimant ('counterparty')");
        if (!e->has_lost_date || !e->has_place || !e->has_description)
            return V(422, "claim_details_required",
                     "the claimant states the date ('lost_on'), place ('lost_at') and details "
                     "('description') of the loss");
        if (!e->id_type)
            return V(422, "id_required", "the claimant signs with their ID number registered");
        if (e->attachments < 1)
            return V(422, "signature_required", "attach the claimant's signature in the work log");
        next->state = LOST_ST_CLAIMED;
        return OK;
    case LA_HAND_TO_POLICE:
        if (!found)
            return V(409, "wrong_kind", "deposits are handed back to the depositor");
        if (!ladder_at_least(e->actor.role, 1))
            return V(403, "not_duty_manager", "the duty manager hands property to the police");
        if (!e->has_station || !e->has_officer || !e->has_receipt)
            return V(422, "police_receipt_required",
                     "record the police station ('station'), the officer ('officer') and the "
                     "receipt number ('receipt_number')");
        next->state = LOST_ST_HANDED_TO_POLICE;
        return OK;
    case LA_RETURN:
        if (found)
            return V(409, "wrong_kind", "a found item is handed back with 'claim'");
        if (!is_keeper(e->actor.role))
            return V(403, "forbidden_role", "the desk's staff hand deposits back");
        if (e->party != CP_RESIDENT && e->party != CP_OUTSIDER)
            return V(422, "collector_required", "name who collects the deposit ('counterparty')");
        if (!e->id_type)
            return V(422, "id_required", "a deposit is handed back against ID");
        if (e->id_matches == 0)
            return V(403, "id_mismatch", "the ID shown is not the depositor's");
        if (e->attachments < 1)
            return V(422, "signature_required", "attach the collector's signature");
        next->state = LOST_ST_RETURNED;
        return OK;
    default:
        return V(422, "invalid_action", "unknown ledger action");
    }
}

/* ---- archives -------------------------------------------------------------------------------- */

static custody_verdict_t arc_counted(const custody_archive_entry_t *e)
{
    if (e->count < 1)
        return V(422, "count_required",
                 "count the pieces face to face and give 'count' (both parties sign for it)");
    return OK;
}

custody_verdict_t core_custody_archive_check(const custody_archive_ledger_t *cur,
                                             const custody_archive_entry_t *e, int64_t now,
                                             custody_archive_ledger_t *next,
                                             custody_archive_effect_t *fx)
{
    *next = *cur;
    memset(fx, 0, sizeof *fx);
    if ((unsigned)e->action >= AA__COUNT)
        return V(422, "invalid_action", "unknown ledger action");
    if (!core_custody_role_writes(e->actor.role))
        return V(403, "forbidden_role", "your role reads the archive register but writes nothing");
    if (cur->cls == ARC_CLASS_PERSONNEL)
        return V(403, "personnel_file",
                 "personnel files are not accessible to the desk: nobody but HR reads or keeps "
                 "them");
    int amend_ = e->action == AA_CORRECTION || e->action == AA_NOTE;
    custody_verdict_t v = common(cur->fresh, cur->last_occurred_at, cur->state == ARC_ST_DESTROYED,
                                 e->action == AA_REGISTER, amend_, e->occurred_at, now,
                                 "the file is already registered",
                                 "the file is destroyed: only corrections and notes");
    if (v.status >= 0)
        return v;
    next->last_occurred_at = e->occurred_at;
    if (amend_)
        return amend(e->action == AA_CORRECTION, e->has_corrects, e->purpose);
    const char *reader = e->party == CP_USER ? e->party_user.user_id : e->actor.user_id;
    switch (e->action) {
    case AA_REGISTER:
        if (!is_keeper(e->actor.role))
            return V(403, "forbidden_role", "the clerk files documents into the archive");
        next->fresh = 0;
        next->state = ARC_ST_ACTIVE;
        return OK;
    case AA_READ_APPROVE:
        if (cur->cls != ARC_CLASS_CONFIDENTIAL)
            return V(409, "no_approval_needed",
                     "only confidential files need the GM's approval to be read");
        if (e->actor.role != ROLE_GM)
            return V(403, "approver_not_gm", "a confidential file is read with the GM's approval");
        if (e->party != CP_USER)
            return V(422, "reader_required", "name the reader ('counterparty': a user)");
        next->read_approval_for = e->party_user.user_id;
        return OK;
    case AA_READ_START:
        if (cur->state != ARC_ST_ACTIVE)
            return V(409, "not_available", "the file is not in the archive room");
        if (!is_keeper(e->actor.role))
            return V(403, "forbidden_role", "the clerk opens the file for on-site reading");
        if (blank(e->purpose))
            return V(422, "purpose_required", "say what the file is read for ('purpose')");
        if (cur->cls == ARC_CLASS_CONFIDENTIAL && !same(cur->read_approval_for, reader))
            return V(409, "approval_required",
                     "a confidential file is read on site only with the GM's approval for this "
                     "reader (read_approve)");
        next->state = ARC_ST_READING;
        next->holder_id = reader;
        next->read_approval_for = NULL;
        return OK;
    case AA_READ_END:
        if (cur->state != ARC_ST_READING)
            return V(409, "not_reading", "the file is not being read");
        if (!is_keeper(e->actor.role))
            return V(403, "forbidden_role", "the clerk takes the file back after reading");
        next->state = ARC_ST_ACTIVE;
        next->holder_id = NULL;
        return OK;
    case AA_COPY:
        if (cur->cls == ARC_CLASS_CONFIDENTIAL)
            return V(409, "confidential_never_copied", "confidential files are never copied");
        if (!is_keeper(e->actor.role))
            return V(403, "forbidden_role", "the clerk makes copies");
        if (blank(e->purpose))
            return V(422, "purpose_required", "say what the copy is for ('purpose')");
        return OK;
    case AA_LOAN:
        if (cur->cls == ARC_CLASS_OFFICIAL)
            return V(409, "official_read_only",
                     "official documents are read on site only, never lent (read_start)");
        if (cur->cls == ARC_CLASS_CONFIDENTIAL)
            return V(409, "confidential_never_lent",
                     "confidential files are never lent; they are read on site with the GM's "
                     "approval");
        if (cur->state != ARC_ST_ACTIVE)
            return V(409, "not_available", "the file is not in the archive room");
        if (!is_keeper(e->actor.role))
            return V(403, "forbidden_role", "the clerk lends files");
        if (e->party != CP_USER)
            return V(422, "borrower_not_staff",
                     "files never leave the company: the borrower is a staff member "
                     "('counterparty': a user); outsiders read on site");
        if (!core_custody_role_writes(e->party_user.role) || !e->party_user.active)
            return V(422, "borrower_not_staff", "only active staff borrow files");
        if (same(e->party_user.user_id, e->actor.user_id))
            return V(403, "self_loan", "the clerk and the borrower are two different people");
        if (blank(e->purpose))
            return V(422, "purpose_required", "say what the file is borrowed for ('purpose')");
        if (e->due_back <= 0 || e->due_back <= e->occurred_at)
            return V(422, "due_back_required", "give the return time after the loan ('due_back')");
        v = arc_counted(e);
        if (v.status)
            return v;
        next->state = ARC_ST_LOAN_PENDING;
        next->holder_id = e->party_user.user_id;
        next->pending_by = e->actor.user_id;
        next->pending_count = e->count;
        return OK;
    case AA_LOAN_SIGN:
    case AA_RETURN_SIGN: {
        int loan = e->action == AA_LOAN_SIGN;
        if (cur->state != (loan ? ARC_ST_LOAN_PENDING : ARC_ST_RETURN_PENDING))
            return V(409, "nothing_to_sign",
                     loan ? "no loan is waiting for the borrower's signature"
                          : "no return is waiting for the clerk's signature");
        if (loan && !same(cur->holder_id, e->actor.user_id))
            return V(403, "not_borrower", "the borrower signs the loan with their own login");
        if (!loan && (!is_keeper(e->actor.role) || same(cur->holder_id, e->actor.user_id)))
            return V(403, "not_keeper", "the clerk (not the borrower) signs for the return");
        v = arc_counted(e);
        if (v.status)
            return v;
        if (e->count != cur->pending_count)
            return V(409, "count_mismatch",
                     "the two counts differ: count again face to face before signing");
        next->state = loan ? ARC_ST_ON_LOAN : ARC_ST_ACTIVE;
        if (!loan)
            next->holder_id = NULL;
        next->pending_by = NULL;
        next->pending_count = 0;
        return OK;
    }
    case AA_RETURN:
        if (cur->state != ARC_ST_ON_LOAN)
            return V(409, "not_on_loan", "the file is not on loan");
        if (!same(cur->holder_id, e->actor.user_id))
            return V(403, "not_borrower", "the borrower returns the file with their own login");
        v = arc_counted(e);
        if (v.status)
            return v;
        next->state = ARC_ST_RETURN_PENDING;
        next->pending_by = e->actor.user_id;
        next->pending_count = e->count;
        return OK;
    case AA_INVENTORY:
        if (!is_keeper(e->actor.role))
            return V(403, "forbidden_role", "the clerk takes the monthly inventory");
        if (e->present < 0)
            return V(422, "present_required",
                     "record whether the file is in its place ('present': true or false)");
        /* A file out on loan or being read is accounted for by its ledger. */
        if (!e->present && cur->state == ARC_ST_ACTIVE) {
            fx->discrepancy = 1;
            next->open_discrepancy = 1;
        }
        return OK;
    case AA_RESOLVE_DISCREPANCY:
        if (!cur->open_discrepancy)
            return V(409, "no_discrepancy", "the file has no open discrepancy");
        if (!ladder_at_least(e->actor.role, 2))
            return V(403, "forbidden_role", "the manager closes an inventory discrepancy");
        if (blank(e->purpose))
            return V(422, "reason_required", "say how the discrepancy was settled ('purpose')");
        next->open_discrepancy = 0;
        return OK;
    case AA_DESTROY_APPROVE:
        if (cur->retention_until <= 0 || now < cur->retention_until)
            return V(409, "retention_not_ended",
                     "a file is destroyed only after its retention period has ended");
        if (cur->cls == ARC_CLASS_CONFIDENTIAL && e->actor.role != ROLE_GM)
            return V(403, "approver_not_gm", "the GM approves destroying a confidential file");
        if (e->actor.role != ROLE_GM && e->actor.role != ROLE_DIRECTOR)
            return V(403, "approver_not_director",
                     "the service-centre director (or the GM) approves destroying a file");
        next->destroy_approved_by = e->actor.user_id;
        return OK;
    case AA_DESTROY:
        if (cur->retention_until <= 0 || now < cur->retention_until)
            return V(409, "retention_not_ended",
                     "a file is destroyed only after its retention period has ended");
        if (!cur->destroy_approved_by)
            return V(409, "approval_required",
                     cur->cls == ARC_CLASS_CONFIDENTIAL
                         ? "destroying a confidential file needs the GM's approval first"
                         : "destroying a file needs the director's approval first");
        if (cur->state != ARC_ST_ACTIVE)
            return V(409, "not_available", "the file must be in the archive room");
        if (!is_keeper(e->actor.role))
            return V(403, "forbidden_role", "the clerk destroys the approved file");
        if (e->method < 0)
            return V(422, "method_required", "record the method ('method': shred or tear)");
        if (cur->cls == ARC_CLASS_CONFIDENTIAL && e->method != DESTROY_SHRED)
            return V(422, "shred_required", "confidential files are destroyed in the shredder");
        next->state = ARC_ST_DESTROYED;
        return OK;
    case AA_REPORT_LOST:
        if (cur->state == ARC_ST_LOST)
            return V(409, "already_reported", "the loss is already reported");
        if (blank(e->purpose))
            return V(422, "account_required", "give the written report ('purpose')");
        next->state = ARC_ST_LOST;
        fx->notify_manager = 1;
        return OK;
    default:
        return V(422, "invalid_action", "unknown ledger action");
    }
}
