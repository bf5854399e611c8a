/*
 * core/custody_areas.h — the rules of the custody areas after keys, as pure functions over
 * one item's ledger state (RULES "Common to every custody area", §3.5 archives, §3.6 mail
 * and parcels, §3.7 lost property and valuables).  Same model as core/custody.h: the caller
 * loads the state, describes the entry (the acting user's own token, the counterparty, the
 * ID shown, approvals and counts gathered so far) and asks whether it may be appended; the
 * verdict is 0 or an HTTP status with a stable code and a detail, and on success *next is
 * the state after the entry.  No I/O, no clock: `now` comes in.
 */
#ifndef CORE_CUSTODY_AREAS_H
#define CORE_CUSTODY_AREAS_H

#include <stdint.h>

#include "core/custody.h"

/* ---- mail and parcels (§3.6, 邮件收发登记表) ------------------------------------------- */

typedef enum {
    MAIL_KIND_REGISTERED_LETTER, /* 挂号信 */
    MAIL_KIND_TELEGRAM,          /* 电报 */
    MAIL_KIND_MONEY_ORDER,       /* 汇款单 / 汇票 */
    MAIL_KIND_PARCEL,            /* 包裹 */
    MAIL_KIND_EXPRESS,           /* 特快专递 */
    MAIL_KIND_MAGAZINE,          /* 杂志 */
    MAIL_KIND_NEWSPAPER,         /* 报刊 */
    MAIL_KIND_OTHER,
    MAIL_KIND__COUNT
} mail_kind_t;

typedef enum {
    MAIL_ST_IN_CUSTODY,
    MAIL_ST_COLLECTED,
    MAIL_ST_RETURNED_TO_SENDER,
    MAIL_ST_HANDED_TO_OTHER,
    MAIL_ST__COUNT
} mail_state_t;

typedef enum {
    MA_RECEIVE, /* the item's registration: signed for at the desk */
    MA_HAND_OVER,
    MA_CALL, /* a reminder call to the recipient, reached or not */
    MA_RETURN_TO_SENDER,
    MA_HAND_TO_OTHER,
    MA_CORRECTION,
    MA_NOTE,
    MA__COUNT
} mail_action_t;

typedef struct custody_mail_ledger {
    int fresh;
    mail_kind_t kind;
    mail_state_t state;
    int calls;
    int64_t last_occurred_at;
} custody_mail_ledger_t;

typedef struct custody_mail_entry {
    mail_action_t action;
    custody_person_t actor;
    custody_party_kind_t party;
    const char *id_type; /* ID shown by the collector; NULL none */
    int resident_out;    /* receive: 1 the recipient is out, 0 at home, -1 not said */
    int reached;         /* call: 1 / 0 / -1 not said */
    int attachments;     /* signature on the register */
    int has_corrects;
    const char *purpose;
    int64_t occurred_at;
} custody_mail_entry_t;

custody_verdict_t core_custody_mail_check(const custody_mail_ledger_t *cur,
                                          const custody_mail_entry_t *e, int64_t now,
                                          custody_mail_ledger_t *next);

CORE_STRTAB_DECLS(core_mail_kind, mail_kind_t)
CORE_STRTAB_DECLS(core_mail_state, mail_state_t)
CORE_STRTAB_DECLS(core_mail_action, mail_action_t)

/* ---- lost property and valuables (§3.7) ------------------------------------------------ */

typedef enum { LOST_KIND_FOUND_ITEM, LOST_KIND_VALUABLE_DEPOSIT, LOST_KIND__COUNT } lost_kind_t;

typedef enum {
    LOST_ST_FOUND, /* registered, not yet with the duty manager */
    LOST_ST_HELD,  /* with the duty manager / service centre, awaiting the owner */
    LOST_ST_CLAIMED,
    LOST_ST_HANDED_TO_POLICE,
    LOST_ST_DEPOSITED,
    LOST_ST_RETURNED,
    LOST_ST__COUNT
} lost_state_t;

typedef enum {
    LA_REGISTER, /* a found item */
    LA_DEPOSIT,  /* a valuables deposit */
    LA_RECEIVE,  /* the duty manager takes the found item */
    LA_CLAIM,
    LA_HAND_TO_POLICE,
    LA_RETURN, /* a deposit handed back */
    LA_CORRECTION,
    LA_NOTE,
    LA__COUNT
} lost_action_t;

typedef struct custody_lost_ledger {
    int fresh;
    lost_kind_t kind;
    lost_state_t state;
    int64_t last_occurred_at;
} custody_lost_ledger_t;

typedef struct custody_lost_entry {
    lost_action_t action;
    custody_person_t actor;
    custody_party_kind_t party;
    const char *id_type; /* ID shown; NULL none */
    int id_matches;      /* return: 1 same ID as the deposit's, 0 another, -1 not checked */
    /* register: where found and what; claim: the loss's date, place and details */
    int has_place, has_description, has_lost_date;
    /* hand_to_police */
    int has_station, has_officer, has_receipt;
    int count; /* deposit: how many items, -1 not said */
    int attachments;
    int has_corrects;
    const char *purpose;
    int64_t occurred_at;
} custody_lost_entry_t;

custody_verdict_t core_custody_lost_check(const custody_lost_ledger_t *cur,
                                          const custody_lost_entry_t *e, int64_t now,
                                          custody_lost_ledger_t *next);

CORE_STRTAB_DECLS(core_lost_kind, lost_kind_t)
CORE_STRTAB_DECLS(core_lost_state, lost_state_t)
CORE_STRTAB_DECLS(core_lost_action, lost_action_t)

/* ---- archives (§3.5) -------------------------------------------------------------------- */

typedef enum {
    ARC_CLASS_OFFICIAL, /* 文书档案: read on site only */
    ARC_CLASS_ORDINARY,
    ARC_CLASS_CONFIDENTIAL, /* on-site reading with the GM's approval only */
    ARC_CLASS_PERSONNEL,    /* no desk access at all */
    ARC_CLASS__COUNT
} archive_class_t;

typedef enum {
    ARC_ST_ACTIVE,
    ARC_ST_READING,
    ARC_ST_LOAN_PENDING, /* the clerk signed the loan; the borrower's signature is due */
    ARC_ST_ON_LOAN,
    ARC_ST_RETURN_PENDING, /* the borrower signed the return; the clerk's signature is due */
    ARC_ST_LOST,
    ARC_ST_DESTROYED,
    ARC_ST__COUNT
} archive_state_t;

typedef enum {
    AA_REGISTER,
    AA_READ_APPROVE, /* the GM approves a confidential read for one reader */
    AA_READ_START,
    AA_READ_END,
    AA_COPY,
    AA_LOAN,
    AA_LOAN_SIGN,
    AA_RETURN,
    AA_RETURN_SIGN,
    AA_INVENTORY,
    AA_RESOLVE_DISCREPANCY,
    AA_DESTROY_APPROVE,
    AA_DESTROY,
    AA_REPORT_LOST,
    AA_CORRECTION,
    AA_NOTE,
    AA__COUNT
} archive_action_t;

typedef enum { DESTROY_SHRED, DESTROY_TEAR, DESTROY__COUNT } destroy_method_t;

typedef struct custody_archive_ledger {
    int fresh;
    archive_class_t cls;
    archive_state_t state;
    int64_t retention_until; /* 0: kept permanently */
    const char *holder_id;   /* reader / borrower */
    const char *pending_by;  /* who signed the first half of a loan or return */
    int pending_count;
    const char *read_approval_for; /* a GM approval not yet used: the reader */
    const char *destroy_approved_by;
    int open_discrepancy;
    int64_t last_occurred_at;
} custody_archive_ledger_t;

typedef struct custody_archive_entry {
    archive_action_t action;
    custody_person_t actor;
    custody_party_kind_t party;
    custody_person_t party_user; /* the reader / borrower when party == CP_USER */
    int count;                   /* pieces counted, -1 not said */
    int present;                 /* inventory: 1 / 0 / -1 not said */
    int method;                  /* destroy: a destroy_method_t, -1 not said */
    int64_t due_back;
    int has_corrects;
    const char *purpose;
    int64_t occurred_at;
} custody_archive_entry_t;

typedef struct custody_archive_effect {
    int discrepancy;    /* inventory found the file missing: open a discrepancy */
    int notify_manager; /* a loss */
} custody_archive_effect_t;

custody_verdict_t core_custody_archive_check(const custody_archive_ledger_t *cur,
                                             const custody_archive_entry_t *e, int64_t now,
                                             custody_archive_ledger_t *next,
                                             custody_archive_effect_t *fx);

CORE_STRTAB_DECLS(core_archive_class, archive_class_t)
CORE_STRTAB_DECLS(core_archive_state, archive_state_t)
CORE_STRTAB_DECLS(core_archive_action, archive_action_t)
CORE_STRTAB_DECLS(core_destroy_method, destroy_method_t)

#endif
