/*
 * core/custody.h — the custody ledgers' rules as pure functions (RULES "Common to every
 * custody area", §3.4 keys and sealed keys).
 *
 * Every custody area (keys now; archives, mail, lost property next) is a register of items
 * and, per item, an append-only ledger of entries.  The state of an item is derived from its
 * ledger: the caller loads it (custody_key_ledger_t), describes the entry a caller wants to
 * append (custody_key_entry_t: action, the acting user's own role and department, the
 * counterparty, counts, checklist, approvals/witnesses gathered so far) and asks
 * core_custody_key_check() whether it may be appended.  The answer is a verdict (HTTP status,
 * stable code, detail) and, when allowed, the next ledger state and the side effects (a count
 * discrepancy to record, the manager to notify).  No I/O, no clock: `now` comes in.
 */
#ifndef CORE_CUSTODY_H
#define CORE_CUSTODY_H

#include <stddef.h>
#include <stdint.h>

#include "core/roles.h"

/* The registers sharing the ledger design.  Only keys has rules yet. */
typedef enum {
    CUSTODY_AREA_KEYS,
    CUSTODY_AREA_ARCHIVES,
    CUSTODY_AREA_MAIL,
    CUSTODY_AREA_LOST_PROPERTY,
    CUSTODY_AREA__COUNT
} custody_area_t;

typedef enum {
    KEY_KIND_MANAGEMENT_AREA,
    KEY_KIND_UNIT_ENTRUSTED,
    KEY_KIND_UNIT_VACANT,
    KEY_KIND_UNIT_OFFICE,
    KEY_KIND_MACHINE_ROOM,
    KEY_KIND_SHOW_FLAT,
    KEY_KIND_OTHER,
    KEY_KIND__COUNT
} key_kind_t;

typedef enum {
    KEY_ST_IN_CABINET,
    KEY_ST_AT_CONTROL_ROOM,
    KEY_ST_WITH_SHIFT,
    KEY_ST_ON_LOAN,
    KEY_ST_SEALED,
    KEY_ST_UNSEALED,
    KEY_ST_LOST,
    KEY_ST_DAMAGED,
    KEY_ST_RETURNED_TO_OWNER,
    KEY_ST_RETIRED,
    KEY_ST__COUNT
} key_state_t;

/* Ledger actions of a key set.  KA_DISCREPANCY is written by the service itself (after a
 * short count), never posted. */
typedef enum {
    KA_REGISTER,
    KA_SHIFT_TAKE,
    KA_SHIFT_RETURN,
    KA_HANDOVER_CONFIRM,
    KA_LOAN_APPROVE,
    KA_LOAN,
    KA_RETURN,
    KA_SEAL,
    KA_UNSEAL_REQUEST,
    KA_UNSEAL_APPROVE,
    KA_WITNESS,
    KA_UNSEAL_OPEN,
    KA_ATTACH_APPLICATION,
    KA_RESEAL,
    KA_SIGN_OFF,
    KA_REPORT_LOST,
    KA_REPORT_DAMAGED,
    KA_DAILY_CHECK,
    KA_RESOLVE_DISCREPANCY,
    KA_HAND_TO_OWNER,
    KA_RETIRE,
    KA_CORRECTION,
    KA_NOTE,
    KA_DISCREPANCY,
    KA__COUNT
} key_action_t;

typedef enum { EP_NONE, EP_EMERGENCY, EP_OWNER } key_episode_kind_t;
typedef enum {
    EPS_NONE,
    EPS_REQUESTED,
    EPS_APPROVED,
    EPS_OPENED,
    EPS_RESEALED
} key_episode_stage_t;

typedef enum { CP_NONE, CP_USER, CP_RESIDENT, CP_OUTSIDER } custody_party_kind_t;

/* A user as the rules see them.  dept_kind: a dept_kind_t, or -1 without a department. */
typedef struct custody_person {
    const char *user_id;
    role_t role;
    int dept_kind;
    int active;
} custody_person_t;

#define CUSTODY_MAX_WITNESSES 8

/* The state of one key set's ledger, derived from its entries.  Strings are borrowed. */
typedef struct custody_key_ledger {
    int fresh; /* no entry yet: only `register` may come */
    key_kind_t kind;
    key_state_t state;
    int key_count;
    const char *seal_number; /* NULL or "" when never sealed */
    const char *holder_id;   /* on loan / with the shift: who holds it */
    /* a control-room hand-over waiting for the other party */
    int pending_action; /* KA_SHIFT_TAKE / KA_SHIFT_RETURN, or -1 */
    const char *pending_by;
    const char *pending_counterparty;
    /* a loan approval not yet used */
    const char *approval_by;
    const char *approval_for;
    /* the open unsealing episode */
    key_episode_kind_t ep_kind;
    key_episode_stage_t ep_stage;
    const char *ep_requested_by;
    const char *ep_approved_by;
    int ep_stamped;
    custody_person_t ep_witnesses[CUSTODY_MAX_WITNESSES];
    size_t ep_nwitnesses;
    int open_discrepancy;
    int64_t last_occurred_at; /* UTC seconds; 0 when none */
} custody_key_ledger_t;

/* The entry a caller wants to append. */
typedef struct custody_key_entry {
    key_action_t action;
    custody_person_t actor; /* the caller's own token */
    custody_party_kind_t party;
    custody_person_t party_user; /* when party == CP_USER (loaded by the caller) */
    const char *purpose;         /* purpose / reason / written account; NULL when absent */
    int count;                   /* keys counted, -1 when not given */
    int power_off, windows_closed, unit_locked; /* return checklist: 1, 0, -1 absent */
    const char *seal_number;
    key_episode_kind_t episode_kind; /* unseal_request */
    int customer_unreachable;        /* 1 / 0 / -1 absent */
    int contact_attempts;            /* how many recorded */
    int stamped;                     /* attach_application: the application bears the stamp */
    int attachments;                 /* how many attachments */
    int has_corrects;                /* correction: names the corrected entry */
    int64_t occurred_at;
    int64_t due_back; /* loan: 0 when absent */
} custody_key_entry_t;

typedef struct custody_verdict {
    int status; /* 0 allowed; otherwise 403 / 409 / 422 */
    const char *code;
    const char *detail;
} custody_verdict_t;

typedef struct custody_key_effect {
    int discrepancy;    /* a count differed from the register: append a discrepancy entry */
    int notify_manager; /* notify the project's CS managers */
    const char *notify_kind;
    int record_witnesses; /* the entry carries the episode's witnesses */
    int record_approval;  /* the entry carries the loan approval it used */
} custody_key_effect_t;

/* May entry e be appended to ledger cur at time now?  On success (status 0) *next is the
 * ledger after it (strings borrowed from cur and e) and *fx the effects to carry out. */
custody_verdict_t core_custody_key_check(const custody_key_ledger_t *cur,
                                         const custody_key_entry_t *e, int64_t now,
                                         custody_key_ledger_t *next, custody_key_effect_t *fx);

/* Whether the person counts as customer-service staff for witnessing (agent, supervisor or
 * manager of a customer_service department) / as a security guard. */
int core_custody_is_cs_staff(const custody_person_t *p);
int core_custody_is_security(const custody_person_t *p);
/* Roles that write custody entries at all (property staff): not residents, integrations,
 * auditors or administrators. */
int core_custody_role_writes(role_t role);

/* Names and parsing (-1 when unknown). */
const char *core_custody_area_name(custody_area_t a);
int core_custody_area_from_string(const char *s);
const char *core_key_kind_name(key_kind_t k);
int core_key_kind_from_string(const char *s);
const char *core_key_state_name(key_state_t s);
int core_key_state_from_string(const char *s);
const char *core_key_action_name(key_action_t a);
int core_key_action_from_string(const char *s);
const char *core_key_episode_kind_name(key_episode_kind_t k);
int core_key_episode_kind_from_string(const char *s);
const char *core_key_episode_stage_name(key_episode_stage_t s);
int core_key_episode_stage_from_string(const char *s);

#endif
