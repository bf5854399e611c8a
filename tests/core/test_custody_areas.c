/*
 * tests/core/test_custody_areas.c — table-driven tests of the mail (§3.6), lost-property
 * (§3.7) and archive (§3.5) rules (core/custody_areas.c): for each row a ledger state, an
 * entry (action, actor, counterparty, ID, counts, approvals) and the expected verdict and
 * next state.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdio.h>
#include <string.h>

#include "core/custody_areas.h"

#define N(a) (sizeof(a) / sizeof((a)[0]))
#define NOW  1800000000LL
#define DAY  86400LL

static const custody_person_t agent = {"agent", ROLE_AGENT, DEPT_CUSTOMER_SERVICE, 1};
static const custody_person_t clerk = {"clerk", ROLE_CLERK, -1, 1};
static const custody_person_t sup = {"sup", ROLE_SUPERVISOR, DEPT_CUSTOMER_SERVICE, 1};
static const custody_person_t mgr = {"mgr", ROLE_MANAGER, DEPT_CUSTOMER_SERVICE, 1};
static const custody_person_t dir = {"dir", ROLE_DIRECTOR, -1, 1};
static const custody_person_t gm = {"gm", ROLE_GM, -1, 1};
static const custody_person_t sec = {"sec", ROLE_SECURITY, DEPT_SECURITY, 1};
static const custody_person_t tech = {"tech", ROLE_TECHNICIAN, DEPT_ENGINEERING, 1};
static const custody_person_t audit = {"audit", ROLE_AUDITOR, -1, 1};
static const custody_person_t res = {"res", ROLE_RESIDENT, -1, 1};
static const custody_person_t integ = {"integ", ROLE_INTEGRATION, -1, 1};
static const custody_person_t admin = {"admin", ROLE_ADMIN, -1, 1};
static const custody_person_t gone = {"gone", ROLE_AGENT, DEPT_CUSTOMER_SERVICE, 0};

/* ---- mail ----------------------------------------------------------------------------------- */

enum { M_FRESH, M_FRESH_MONEY, M_HELD, M_HELD_MONEY, M_COLLECTED, M__COUNT };
static const custody_mail_ledger_t mail_l[M__COUNT] = {
    [M_FRESH] = {1, MAIL_KIND_PARCEL, MAIL_ST_IN_CUSTODY, 0, 0},
    [M_FRESH_MONEY] = {1, MAIL_KIND_MONEY_ORDER, MAIL_ST_IN_CUSTODY, 0, 0},
    [M_HELD] = {0, MAIL_KIND_PARCEL, MAIL_ST_IN_CUSTODY, 1, NOW - DAY},
    [M_HELD_MONEY] = {0, MAIL_KIND_MONEY_ORDER, MAIL_ST_IN_CUSTODY, 0, NOW - DAY},
    [M_COLLECTED] = {0, MAIL_KIND_PARCEL, MAIL_ST_COLLECTED, 0, NOW - DAY},
};

typedef struct {
    const char *name;
    int ledger;
    mail_action_t action;
    const custody_person_t *actor;
    custody_party_kind_t party;
    const char *id_type;
    int resident_out, reached, attachments;
    const char *purpose;
    int64_t occurred;
    int status;
    const char *code;
    int next_state, next_calls;
} mail_case_t;

#define ANY -1
static const mail_case_t mail_cases[] = {
    {"receive while out", M_FRESH, MA_RECEIVE, &agent, CP_NONE, NULL, 1, -1, 0, NULL, NOW, 0, "ok",
     MAIL_ST_IN_CUSTODY, 0},
    {"integration pushes", M_FRESH, MA_RECEIVE, &integ, CP_NONE, NULL, 1, -1, 0, NULL, NOW, 0, "ok",
     MAIL_ST_IN_CUSTODY, 0},
    {"receive while home", M_FRESH, MA_RECEIVE, &agent, CP_NONE, NULL, 0, -1, 0, NULL, NOW, 422,
     "resident_not_out", ANY, ANY},
    {"receive not said", M_FRESH, MA_RECEIVE, &agent, CP_NONE, NULL, -1, -1, 0, NULL, NOW, 422,
     "resident_not_out", ANY, ANY},
    {"receive twice", M_HELD, MA_RECEIVE, &agent, CP_NONE, NULL, 1, -1, 0, NULL, NOW, 409,
     "already_registered", ANY, ANY},
    {"hand over before registering", M_FRESH, MA_HAND_OVER, &agent, CP_RESIDENT, "id_card", -1, -1,
     1, NULL, NOW, 409, "not_registered", ANY, ANY},
    {"future time", M_FRESH, MA_RECEIVE, &agent, CP_NONE, NULL, 1, -1, 0, NULL, NOW + 3600, 422,
     NULL, ANY, ANY},
    {"before previous entry", M_HELD, MA_CALL, &agent, CP_NONE, NULL, -1, 1, 0, NULL, NOW - 2 * DAY,
     422, NULL, ANY, ANY},
    {"resident writes", M_FRESH, MA_RECEIVE, &res, CP_NONE, NULL, 1, -1, 0, NULL, NOW, 403,
     "forbidden_role", ANY, ANY},
    {"auditor writes", M_HELD, MA_NOTE, &audit, CP_NONE, NULL, -1, -1, 0, "x", NOW, 403,
     "forbidden_role", ANY, ANY},
    {"admin writes", M_HELD, MA_NOTE, &admin, CP_NONE, NULL, -1, -1, 0, "x", NOW, 403,
     "forbidden_role", ANY, ANY},
    {"integration hands over", M_HELD, MA_HAND_OVER, &integ, CP_RESIDENT, "id_card", -1, -1, 1,
     NULL, NOW, 403, "forbidden_role", ANY, ANY},
    {"technician hands over", M_HELD, MA_HAND_OVER, &tech, CP_RESIDENT, "id_card", -1, -1, 1, NULL,
     NOW, 403, "forbidden_role", ANY, ANY},
    {"hand over with ID", M_HELD, MA_HAND_OVER, &agent, CP_RESIDENT, "passport", -1, -1, 1, NULL,
     NOW, 0, "ok", MAIL_ST_COLLECTED, 1},
    {"hand over to outsider", M_HELD, MA_HAND_OVER, &clerk, CP_OUTSIDER, "id_card", -1, -1, 1, NULL,
     NOW, 0, "ok", MAIL_ST_COLLECTED, 1},
    {"hand over without ID", M_HELD, MA_HAND_OVER, &agent, CP_RESIDENT, NULL, -1, -1, 1, NULL, NOW,
     422, "id_required", ANY, ANY},
    {"hand over nobody", M_HELD, MA_HAND_OVER, &agent, CP_NONE, "id_card", -1, -1, 1, NULL, NOW,
     422, "collector_required", ANY, ANY},
    {"hand over to staff", M_HELD, MA_HAND_OVER, &agent, CP_USER, "id_card", -1, -1, 1, NULL, NOW,
     422, "collector_required", ANY, ANY},
    {"hand over unsigned", M_HELD, MA_HAND_OVER, &agent, CP_RESIDENT, "id_card", -1, -1, 0, NULL,
     NOW, 422, "signature_required", ANY, ANY},
    {"money order on passport", M_HELD_MONEY, MA_HAND_OVER, &agent, CP_RESIDENT, "passport", -1, -1,
     1, NULL, NOW, 422, "id_card_required", ANY, ANY},
    {"money order on ID card", M_HELD_MONEY, MA_HAND_OVER, &agent, CP_RESIDENT, "id_card", -1, -1,
     1, NULL, NOW, 0, "ok", MAIL_ST_COLLECTED, 0},
    {"call reached", M_HELD, MA_CALL, &agent, CP_NONE, NULL, -1, 1, 0, NULL, NOW, 0, "ok",
     MAIL_ST_IN_CUSTODY, 2},
    {"call not reached", M_HELD, MA_CALL, &agent, CP_NONE, NULL, -1, 0, 0, NULL, NOW, 0, "ok",
     MAIL_ST_IN_CUSTODY, 2},
    {"call without result", M_HELD, MA_CALL, &agent, CP_NONE, NULL, -1, -1, 0, NULL, NOW, 422,
     "reached_required", ANY, ANY},
    {"call after collection", M_COLLECTED, MA_CALL, &agent, CP_NONE, NULL, -1, 1, 0, NULL, NOW, 409,
     "closed_item", ANY, ANY},
    {"note after collection", M_COLLECTED, MA_NOTE, &agent, CP_NONE, NULL, -1, -1, 0, "n", NOW, 0,
     "ok", MAIL_ST_COLLECTED, 0},
    {"return to sender", M_HELD, MA_RETURN_TO_SENDER, &agent, CP_NONE, NULL, -1, -1, 0, "moved",
     NOW, 0, "ok", MAIL_ST_RETURNED_TO_SENDER, 1},
    {"return without reason", M_HELD, MA_RETURN_TO_SENDER, &agent, CP_NONE, NULL, -1, -1, 0, NULL,
     NOW, 422, "reason_required", ANY, ANY},
    {"hand to other without ID", M_HELD, MA_HAND_TO_OTHER, &agent, CP_OUTSIDER, NULL, -1, -1, 0,
     "neighbour", NOW, 422, "id_required", ANY, ANY},
    {"hand to other", M_HELD, MA_HAND_TO_OTHER, &agent, CP_OUTSIDER, "id_card", -1, -1, 0,
     "neighbour", NOW, 0, "ok", MAIL_ST_HANDED_TO_OTHER, 1},
    {"correction without target", M_HELD, MA_CORRECTION, &agent, CP_NONE, NULL, -1, -1, 0, "x", NOW,
     422, "corrects_required", ANY, ANY},
};

static void test_mail_rules(void **state)
{
    (void)state;
    for (size_t i = 0; i < N(mail_cases); i++) {
        const mail_case_t *c = &mail_cases[i];
        custody_mail_entry_t e = {c->action,  *c->actor,      c->party, c->id_type, c->resident_out,
                                  c->reached, c->attachments, 0,        c->purpose, c->occurred};
        custody_mail_ledger_t next;
        custody_verdict_t v = core_custody_mail_check(&mail_l[c->ledger], &e, NOW, &next);
        if (v.status != c->status || (c->code && strcmp(v.code, c->code) != 0))
            fail_msg("mail case '%s': got %d %s (%s)", c->name, v.status, v.code, v.detail);
        if (c->status == 0 && c->next_state != ANY) {
            assert_int_equal(next.state, c->next_state);
            assert_int_equal(next.calls, c->next_calls);
            assert_int_equal(next.fresh, 0);
            assert_int_equal(next.last_occurred_at, c->occurred);
        }
    }
}

/* ---- lost property ------------------------------------------------------------------------- */

enum { LF_FRESH, LF_FOUND, LF_HELD, LF_CLAIMED, LV_FRESH, LV_DEPOSITED, L__COUNT };
static const custody_lost_ledger_t lost_l[L__COUNT] = {
    [LF_FRESH] = {1, LOST_KIND_FOUND_ITEM, LOST_ST_FOUND, 0},
    [LF_FOUND] = {0, LOST_KIND_FOUND_ITEM, LOST_ST_FOUND, NOW - DAY},
    [LF_HELD] = {0, LOST_KIND_FOUND_ITEM, LOST_ST_HELD, NOW - DAY},
    [LF_CLAIMED] = {0, LOST_KIND_FOUND_ITEM, LOST_ST_CLAIMED, NOW - DAY},
    [LV_FRESH] = {1, LOST_KIND_VALUABLE_DEPOSIT, LOST_ST_DEPOSITED, 0},
    [LV_DEPOSITED] = {0, LOST_KIND_VALUABLE_DEPOSIT, LOST_ST_DEPOSITED, NOW - DAY},
};

typedef struct {
    const char *name;
    int ledger;
    lost_action_t action;
    const custody_person_t *actor;
    custody_party_kind_t party;
    const char *id_type;
    int id_matches;
    int place, description, lost_date, station, officer, receipt, count, attachments;
    int status;
    const char *code;
    int next_state;
} lost_case_t;

static const lost_case_t lost_cases[] = {
    {"guard registers a find", LF_FRESH, LA_REGISTER, &sec, CP_NONE, NULL, -1, 1, 1, 0, 0, 0, 0, -1,
     0, 0, "ok", LOST_ST_FOUND},
    {"find without place", LF_FRESH, LA_REGISTER, &agent, CP_NONE, NULL, -1, 0, 1, 0, 0, 0, 0, -1,
     0, 422, "found_details_required", ANY},
    {"resident registers", LF_FRESH, LA_REGISTER, &res, CP_NONE, NULL, -1, 1, 1, 0, 0, 0, 0, -1, 0,
     403, "forbidden_role", ANY},
    {"deposit as a find", LF_FRESH, LA_DEPOSIT, &agent, CP_RESIDENT, "id_card", -1, 0, 1, 0, 0, 0,
     1, 2, 0, 409, "wrong_kind", ANY},
    {"duty manager receives", LF_FOUND, LA_RECEIVE, &sup, CP_NONE, NULL, -1, 0, 0, 0, 0, 0, 0, -1,
     0, 0, "ok", LOST_ST_HELD},
    {"agent receives", LF_FOUND, LA_RECEIVE, &agent, CP_NONE, NULL, -1, 0, 0, 0, 0, 0, 0, -1, 0,
     403, "not_duty_manager", ANY},
    {"received twice", LF_HELD, LA_RECEIVE, &mgr, CP_NONE, NULL, -1, 0, 0, 0, 0, 0, 0, -1, 0, 409,
     "not_found_state", ANY},
    {"claim", LF_HELD, LA_CLAIM, &agent, CP_RESIDENT, "id_card", -1, 1, 1, 1, 0, 0, 0, -1, 1, 0,
     "ok", LOST_ST_CLAIMED},
    {"claim before duty manager", LF_FOUND, LA_CLAIM, &agent, CP_RESIDENT, "id_card", -1, 1, 1, 1,
     0, 0, 0, -1, 1, 409, "not_held", ANY},
    {"claim without date", LF_HELD, LA_CLAIM, &agent, CP_RESIDENT, "id_card", -1, 1, 1, 0, 0, 0, 0,
     -1, 1, 422, "claim_details_required", ANY},
    {"claim without ID", LF_HELD, LA_CLAIM, &agent, CP_OUTSIDER, NULL, -1, 1, 1, 1, 0, 0, 0, -1, 1,
     422, "id_required", ANY},
    {"claim unsigned", LF_HELD, LA_CLAIM, &agent, CP_OUTSIDER, "id_card", -1, 1, 1, 1, 0, 0, 0, -1,
     0, 422, "signature_required", ANY},
    {"claim by nobody", LF_HELD, LA_CLAIM, &agent, CP_NONE, NULL, -1, 1, 1, 1, 0, 0, 0, -1, 1, 422,
     "claimant_required", ANY},
    {"claim after claim", LF_CLAIMED, LA_CLAIM, &agent, CP_RESIDENT, "id_card", -1, 1, 1, 1, 0, 0,
     0, -1, 1, 409, "closed_item", ANY},
    {"police hand-over", LF_HELD, LA_HAND_TO_POLICE, &mgr, CP_NONE, NULL, -1, 0, 0, 0, 1, 1, 1, -1,
     0, 0, "ok", LOST_ST_HANDED_TO_POLICE},
    {"police without receipt", LF_HELD, LA_HAND_TO_POLICE, &mgr, CP_NONE, NULL, -1, 0, 0, 0, 1, 1,
     0, -1, 0, 422, "police_receipt_required", ANY},
    {"police by agent", LF_HELD, LA_HAND_TO_POLICE, &agent, CP_NONE, NULL, -1, 0, 0, 0, 1, 1, 1, -1,
     0, 403, "not_duty_manager", ANY},
    {"deposit", LV_FRESH, LA_DEPOSIT, &agent, CP_RESIDENT, "id_card", -1, 0, 1, 0, 0, 0, 1, 2, 0, 0,
     "ok", LOST_ST_DEPOSITED},
    {"deposit without ID", LV_FRESH, LA_DEPOSIT, &agent, CP_RESIDENT, NULL, -1, 0, 1, 0, 0, 0, 1, 2,
     0, 422, "id_required", ANY},
    {"deposit without receipt", LV_FRESH, LA_DEPOSIT, &agent, CP_RESIDENT, "id_card", -1, 0, 1, 0,
     0, 0, 0, 2, 0, 422, "deposit_details_required", ANY},
    {"deposit by guard", LV_FRESH, LA_DEPOSIT, &sec, CP_RESIDENT, "id_card", -1, 0, 1, 0, 0, 0, 1,
     2, 0, 403, "forbidden_role", ANY},
    {"return against ID", LV_DEPOSITED, LA_RETURN, &agent, CP_RESIDENT, "id_card", 1, 0, 0, 0, 0, 0,
     0, -1, 1, 0, "ok", LOST_ST_RETURNED},
    {"return on another ID", LV_DEPOSITED, LA_RETURN, &agent, CP_RESIDENT, "id_card", 0, 0, 0, 0, 0,
     0, 0, -1, 1, 403, "id_mismatch", ANY},
    {"return without ID", LV_DEPOSITED, LA_RETURN, &agent, CP_RESIDENT, NULL, -1, 0, 0, 0, 0, 0, 0,
     -1, 1, 422, "id_required", ANY},
    {"claim a deposit", LV_DEPOSITED, LA_CLAIM, &agent, CP_RESIDENT, "id_card", -1, 1, 1, 1, 0, 0,
     0, -1, 1, 409, "wrong_kind", ANY},
    {"auditor notes", LF_HELD, LA_NOTE, &audit, CP_NONE, NULL, -1, 0, 0, 0, 0, 0, 0, -1, 0, 403,
     "forbidden_role", ANY},
};

static void test_lost_rules(void **state)
{
    (void)state;
    for (size_t i = 0; i < N(lost_cases); i++) {
        const lost_case_t *c = &lost_cases[i];
        custody_lost_entry_t e;
        memset(&e, 0, sizeof e);
        e.action = c->action;
        e.actor = *c->actor;
        e.party = c->party;
        e.id_type = c->id_type;
        e.id_matches = c->id_matches;
        e.has_place = c->place;
        e.has_description = c->description;
        e.has_lost_date = c->lost_date;
        e.has_station = c->station;
        e.has_officer = c->officer;
        e.has_receipt = c->receipt;
        e.count = c->count;
        e.attachments = c->attachments;
        e.purpose = "note";
        e.occurred_at = NOW;
        custody_lost_ledger_t next;
        custody_verdict_t v = core_custody_lost_check(&lost_l[c->ledger], &e, NOW, &next);
        if (v.status != c->status || strcmp(v.code, c->code) != 0)
            fail_msg("lost case '%s': got %d %s (%s)", c->name, v.status, v.code, v.detail);
        if (c->status == 0 && c->next_state != ANY) {
            assert_int_equal(next.state, c->next_state);
            assert_int_equal(next.fresh, 0);
        }
    }
}

/* ---- archives -------------------------------------------------------------------------------- */

enum {
    A_FRESH,
    A_FRESH_PERSONNEL,
    A_ORDINARY,
    A_OFFICIAL,
    A_CONF,
    A_CONF_APPROVED,
    A_LOAN_PENDING,
    A_ON_LOAN,
    A_RETURN_PENDING,
    A_EXPIRED,
    A_EXPIRED_APPROVED,
    A_CONF_EXPIRED_APPROVED,
    A_DISCREPANCY,
    A_READING,
    A__COUNT
};
#define ARC(cls, st, ret, holder, pby, pc, rfor, dby, disc)                                        \
    {                                                                                              \
        0, cls, st, ret, holder, pby, pc, rfor, dby, disc, NOW - DAY                               \
    }
static const custody_archive_ledger_t arc_l[A__COUNT] = {
    [A_FRESH] = {1, ARC_CLASS_ORDINARY, ARC_ST_ACTIVE, 0, NULL, NULL, 0, NULL, NULL, 0, 0},
    [A_FRESH_PERSONNEL] = {1, ARC_CLASS_PERSONNEL, ARC_ST_ACTIVE, 0, NULL, NULL, 0, NULL, NULL, 0,
                           0},
    [A_ORDINARY] = ARC(ARC_CLASS_ORDINARY, ARC_ST_ACTIVE, NOW + DAY, NULL, NULL, 0, NULL, NULL, 0),
    [A_OFFICIAL] = ARC(ARC_CLASS_OFFICIAL, ARC_ST_ACTIVE, 0, NULL, NULL, 0, NULL, NULL, 0),
    [A_CONF] = ARC(ARC_CLASS_CONFIDENTIAL, ARC_ST_ACTIVE, 0, NULL, NULL, 0, NULL, NULL, 0),
    [A_CONF_APPROVED] =
        ARC(ARC_CLASS_CONFIDENTIAL, ARC_ST_ACTIVE, 0, NULL, NULL, 0, "sup", NULL, 0),
    [A_LOAN_PENDING] =
        ARC(ARC_CLASS_ORDINARY, ARC_ST_LOAN_PENDING, 0, "agent", "clerk", 3, NULL, NULL, 0),
    [A_ON_LOAN] = ARC(ARC_CLASS_ORDINARY, ARC_ST_ON_LOAN, 0, "agent", NULL, 0, NULL, NULL, 0),
    [A_RETURN_PENDING] =
        ARC(ARC_CLASS_ORDINARY, ARC_ST_RETURN_PENDING, 0, "agent", "agent", 3, NULL, NULL, 0),
    [A_EXPIRED] = ARC(ARC_CLASS_ORDINARY, ARC_ST_ACTIVE, NOW - DAY, NULL, NULL, 0, NULL, NULL, 0),
    [A_EXPIRED_APPROVED] =
        ARC(ARC_CLASS_ORDINARY, ARC_ST_ACTIVE, NOW - DAY, NULL, NULL, 0, NULL, "dir", 0),
    [A_CONF_EXPIRED_APPROVED] =
        ARC(ARC_CLASS_CONFIDENTIAL, ARC_ST_ACTIVE, NOW - DAY, NULL, NULL, 0, NULL, "gm", 0),
    [A_DISCREPANCY] = ARC(ARC_CLASS_ORDINARY, ARC_ST_ACTIVE, 0, NULL, NULL, 0, NULL, NULL, 1),
    [A_READING] = ARC(ARC_CLASS_OFFICIAL, ARC_ST_READING, 0, "sup", NULL, 0, NULL, NULL, 0),
};

typedef struct {
    const char *name;
    int ledger;
    archive_action_t action;
    const custody_person_t *actor;
    const custody_person_t *party_user; /* NULL: no counterparty */
    int count, present, method;
    int64_t due;
    int status;
    const char *code;
    int next_state;
    int discrepancy;
} arc_case_t;

static const arc_case_t arc_cases[] = {
    {"clerk files", A_FRESH, AA_REGISTER, &clerk, NULL, -1, -1, -1, 0, 0, "ok", ARC_ST_ACTIVE, 0},
    {"guard files", A_FRESH, AA_REGISTER, &sec, NULL, -1, -1, -1, 0, 403, "forbidden_role", ANY, 0},
    {"personnel file", A_FRESH_PERSONNEL, AA_REGISTER, &clerk, NULL, -1, -1, -1, 0, 403,
     "personnel_file", ANY, 0},
    {"auditor writes", A_ORDINARY, AA_NOTE, &audit, NULL, -1, -1, -1, 0, 403, "forbidden_role", ANY,
     0},
    {"lend ordinary", A_ORDINARY, AA_LOAN, &clerk, &agent, 3, -1, -1, NOW + DAY, 0, "ok",
     ARC_ST_LOAN_PENDING, 0},
    {"lend official", A_OFFICIAL, AA_LOAN, &clerk, &agent, 3, -1, -1, NOW + DAY, 409,
     "official_read_only", ANY, 0},
    {"lend confidential", A_CONF_APPROVED, AA_LOAN, &clerk, &agent, 3, -1, -1, NOW + DAY, 409,
     "confidential_never_lent", ANY, 0},
    {"lend to outsider", A_ORDINARY, AA_LOAN, &clerk, NULL, 3, -1, -1, NOW + DAY, 422,
     "borrower_not_staff", ANY, 0},
    {"lend to a leaver", A_ORDINARY, AA_LOAN, &clerk, &gone, 3, -1, -1, NOW + DAY, 422,
     "borrower_not_staff", ANY, 0},
    {"lend uncounted", A_ORDINARY, AA_LOAN, &clerk, &agent, -1, -1, -1, NOW + DAY, 422,
     "count_required", ANY, 0},
    {"lend without due", A_ORDINARY, AA_LOAN, &clerk, &agent, 3, -1, -1, 0, 422,
     "due_back_required", ANY, 0},
    {"lend to oneself", A_ORDINARY, AA_LOAN, &clerk, &clerk, 3, -1, -1, NOW + DAY, 403, "self_loan",
     ANY, 0},
    {"lend on loan", A_ON_LOAN, AA_LOAN, &clerk, &sup, 3, -1, -1, NOW + DAY, 409, "not_available",
     ANY, 0},
    {"borrower signs", A_LOAN_PENDING, AA_LOAN_SIGN, &agent, NULL, 3, -1, -1, 0, 0, "ok",
     ARC_ST_ON_LOAN, 0},
    {"other signs", A_LOAN_PENDING, AA_LOAN_SIGN, &sup, NULL, 3, -1, -1, 0, 403, "not_borrower",
     ANY, 0},
    {"counts differ at loan", A_LOAN_PENDING, AA_LOAN_SIGN, &agent, NULL, 2, -1, -1, 0, 409,
     "count_mismatch", ANY, 0},
    {"sign nothing", A_ORDINARY, AA_LOAN_SIGN, &agent, NULL, 3, -1, -1, 0, 409, "nothing_to_sign",
     ANY, 0},
    {"borrower returns", A_ON_LOAN, AA_RETURN, &agent, NULL, 3, -1, -1, 0, 0, "ok",
     ARC_ST_RETURN_PENDING, 0},
    {"other returns", A_ON_LOAN, AA_RETURN, &sup, NULL, 3, -1, -1, 0, 403, "not_borrower", ANY, 0},
    {"clerk signs return", A_RETURN_PENDING, AA_RETURN_SIGN, &clerk, NULL, 3, -1, -1, 0, 0, "ok",
     ARC_ST_ACTIVE, 0},
    {"borrower signs own return", A_RETURN_PENDING, AA_RETURN_SIGN, &agent, NULL, 3, -1, -1, 0, 403,
     "not_keeper", ANY, 0},
    {"counts differ at return", A_RETURN_PENDING, AA_RETURN_SIGN, &clerk, NULL, 1, -1, -1, 0, 409,
     "count_mismatch", ANY, 0},
    {"read official on site", A_OFFICIAL, AA_READ_START, &clerk, &sup, -1, -1, -1, 0, 0, "ok",
     ARC_ST_READING, 0},
    {"read ends", A_READING, AA_READ_END, &clerk, NULL, -1, -1, -1, 0, 0, "ok", ARC_ST_ACTIVE, 0},
    {"read confidential unapproved", A_CONF, AA_READ_START, &clerk, &sup, -1, -1, -1, 0, 409,
     "approval_required", ANY, 0},
    {"read confidential other reader", A_CONF_APPROVED, AA_READ_START, &clerk, &agent, -1, -1, -1,
     0, 409, "approval_required", ANY, 0},
    {"read confidential approved", A_CONF_APPROVED, AA_READ_START, &clerk, &sup, -1, -1, -1, 0, 0,
     "ok", ARC_ST_READING, 0},
    {"manager approves confidential", A_CONF, AA_READ_APPROVE, &mgr, &sup, -1, -1, -1, 0, 403,
     "approver_not_gm", ANY, 0},
    {"GM approves confidential", A_CONF, AA_READ_APPROVE, &gm, &sup, -1, -1, -1, 0, 0, "ok",
     ARC_ST_ACTIVE, 0},
    {"copy confidential", A_CONF_APPROVED, AA_COPY, &clerk, NULL, -1, -1, -1, 0, 409,
     "confidential_never_copied", ANY, 0},
    {"copy ordinary", A_ORDINARY, AA_COPY, &clerk, NULL, -1, -1, -1, 0, 0, "ok", ARC_ST_ACTIVE, 0},
    {"inventory present", A_ORDINARY, AA_INVENTORY, &clerk, NULL, -1, 1, -1, 0, 0, "ok",
     ARC_ST_ACTIVE, 0},
    {"inventory missing", A_ORDINARY, AA_INVENTORY, &clerk, NULL, -1, 0, -1, 0, 0, "ok",
     ARC_ST_ACTIVE, 1},
    {"inventory on loan", A_ON_LOAN, AA_INVENTORY, &clerk, NULL, -1, 0, -1, 0, 0, "ok",
     ARC_ST_ON_LOAN, 0},
    {"inventory unsaid", A_ORDINARY, AA_INVENTORY, &clerk, NULL, -1, -1, -1, 0, 422,
     "present_required", ANY, 0},
    {"resolve by agent", A_DISCREPANCY, AA_RESOLVE_DISCREPANCY, &agent, NULL, -1, -1, -1, 0, 403,
     "forbidden_role", ANY, 0},
    {"resolve by manager", A_DISCREPANCY, AA_RESOLVE_DISCREPANCY, &mgr, NULL, -1, -1, -1, 0, 0,
     "ok", ARC_ST_ACTIVE, 0},
    {"approve destruction early", A_ORDINARY, AA_DESTROY_APPROVE, &dir, NULL, -1, -1, -1, 0, 409,
     "retention_not_ended", ANY, 0},
    {"approve destruction", A_EXPIRED, AA_DESTROY_APPROVE, &dir, NULL, -1, -1, -1, 0, 0, "ok",
     ARC_ST_ACTIVE, 0},
    {"manager approves destruction", A_EXPIRED, AA_DESTROY_APPROVE, &mgr, NULL, -1, -1, -1, 0, 403,
     "approver_not_director", ANY, 0},
    {"director approves confidential destruction", A_CONF_EXPIRED_APPROVED, AA_DESTROY_APPROVE,
     &dir, NULL, -1, -1, -1, 0, 403, "approver_not_gm", ANY, 0},
    {"destroy unapproved", A_EXPIRED, AA_DESTROY, &clerk, NULL, -1, -1, DESTROY_TEAR, 0, 409,
     "approval_required", ANY, 0},
    {"destroy without method", A_EXPIRED_APPROVED, AA_DESTROY, &clerk, NULL, -1, -1, -1, 0, 422,
     "method_required", ANY, 0},
    {"destroy torn", A_EXPIRED_APPROVED, AA_DESTROY, &clerk, NULL, -1, -1, DESTROY_TEAR, 0, 0, "ok",
     ARC_ST_DESTROYED, 0},
    {"tear confidential", A_CONF_EXPIRED_APPROVED, AA_DESTROY, &clerk, NULL, -1, -1, DESTROY_TEAR,
     0, 422, "shred_required", ANY, 0},
    {"shred confidential", A_CONF_EXPIRED_APPROVED, AA_DESTROY, &clerk, NULL, -1, -1, DESTROY_SHRED,
     0, 0, "ok", ARC_ST_DESTROYED, 0},
};

static void test_archive_rules(void **state)
{
    (void)state;
    for (size_t i = 0; i < N(arc_cases); i++) {
        const arc_case_t *c = &arc_cases[i];
        custody_archive_entry_t e;
        memset(&e, 0, sizeof e);
        e.action = c->action;
        e.actor = *c->actor;
        e.party = c->party_user ? CP_USER : (c->action == AA_LOAN ? CP_OUTSIDER : CP_NONE);
        if (c->party_user)
            e.party_user = *c->party_user;
        e.count = c->count;
        e.present = c->present;
        e.method = c->method;
        e.due_back = c->due;
        e.purpose = "why";
        e.occurred_at = NOW;
        custody_archive_ledger_t next;
        custody_archive_effect_t fx;
        custody_verdict_t v = core_custody_archive_check(&arc_l[c->ledger], &e, NOW, &next, &fx);
        if (v.status != c->status || strcmp(v.code, c->code) != 0)
            fail_msg("archive case '%s': got %d %s (%s)", c->name, v.status, v.code, v.detail);
        if (c->status == 0) {
            assert_int_equal(next.state, c->next_state);
            assert_int_equal(fx.discrepancy, c->discrepancy);
        }
    }
}

static void test_archive_next_state(void **state)
{
    (void)state;
    custody_archive_entry_t e;
    memset(&e, 0, sizeof e);
    e.action = AA_LOAN;
    e.actor = clerk;
    e.party = CP_USER;
    e.party_user = agent;
    e.count = 3;
    e.due_back = NOW + DAY;
    e.purpose = "audit";
    e.occurred_at = NOW;
    custody_archive_ledger_t next;
    custody_archive_effect_t fx;
    assert_int_equal(core_custody_archive_check(&arc_l[A_ORDINARY], &e, NOW, &next, &fx).status, 0);
    assert_string_equal(next.holder_id, "agent");
    assert_string_equal(next.pending_by, "clerk");
    assert_int_equal(next.pending_count, 3);
    /* A GM approval is for one reader and is used up by the reading. */
    e.action = AA_READ_START;
    e.party_user = sup;
    assert_int_equal(
        core_custody_archive_check(&arc_l[A_CONF_APPROVED], &e, NOW, &next, &fx).status, 0);
    assert_null(next.read_approval_for);
    assert_string_equal(next.holder_id, "sup");
}

static void test_names(void **state)
{
    (void)state;
    for (int i = 0; i < MAIL_KIND__COUNT; i++)
        assert_int_equal(core_mail_kind_from_string(core_mail_kind_name((mail_kind_t)i)), i);
    for (int i = 0; i < MA__COUNT; i++)
        assert_int_equal(core_mail_action_from_string(core_mail_action_name((mail_action_t)i)), i);
    for (int i = 0; i < LA__COUNT; i++)
        assert_int_equal(core_lost_action_from_string(core_lost_action_name((lost_action_t)i)), i);
    for (int i = 0; i < AA__COUNT; i++)
        assert_int_equal(
            core_archive_action_from_string(core_archive_action_name((archive_action_t)i)), i);
    for (int i = 0; i < ARC_ST__COUNT; i++)
        assert_int_equal(
            core_archive_state_from_string(core_archive_state_name((archive_state_t)i)), i);
    assert_int_equal(core_mail_kind_from_string("money_order"), MAIL_KIND_MONEY_ORDER);
    assert_int_equal(core_archive_class_from_string("personnel"), ARC_CLASS_PERSONNEL);
    assert_int_equal(core_mail_kind_from_string("bogus"), -1);
    assert_null(core_mail_state_name((mail_state_t)99));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_mail_rules),    cmocka_unit_test(test_lost_rules),
        cmocka_unit_test(test_archive_rules), cmocka_unit_test(test_archive_next_state),
        cmocka_unit_test(test_names),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
