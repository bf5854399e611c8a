/*
 * core/tenancy.h — rental registration (出租房屋登记表, RULES §2 item 12, seed 003 (二)): the
 * enums of a tenancy (use, the tenant's ID document), its term, and the rule for ending it
 * early — registered by both sides at least TENANCY_NOTICE_DAYS days before the new end,
 * signed by the owner and by a supervisor (or above), each with their own authenticated call.
 * Dates are local day numbers (days since 1970-01-01 in the project's zone).  Pure.
 */
#ifndef CORE_TENANCY_H
#define CORE_TENANCY_H

#include <stdint.h>

#include "core/roles.h"
#include "core/strtab.h"

#define TENANCY_NOTICE_DAYS 3

typedef enum {
    TEN_USE_RESIDENCE, /* 居住 */
    TEN_USE_OFFICE,    /* 办公 */
    TEN_USE_SHOP,      /* 商铺 */
    TEN_USE_DORMITORY, /* 员工宿舍 */
    TEN_USE_STORAGE,   /* 仓储 */
    TEN_USE_OTHER,     /* 其他 */
    TEN_USE__COUNT
} tenancy_use_t;
CORE_STRTAB_DECLS(core_tenancy_use, tenancy_use_t)
extern const char *const core_tenancy_use_names[TEN_USE__COUNT + 1];

typedef enum {
    TEN_ID_RESIDENT_ID_CARD,         /* 居民身份证 */
    TEN_ID_PASSPORT,                 /* 护照 */
    TEN_ID_HK_MACAU_PERMIT,          /* 港澳居民来往内地通行证 */
    TEN_ID_TAIWAN_PERMIT,            /* 台湾居民来往大陆通行证 */
    TEN_ID_FOREIGN_RESIDENCE_PERMIT, /* 外国人永久居留身份证 */
    TEN_ID_OTHER,                    /* 其他 */
    TEN_ID__COUNT
} tenancy_id_type_t;
CORE_STRTAB_DECLS(core_tenancy_id_type, tenancy_id_type_t)
extern const char *const core_tenancy_id_type_names[TEN_ID__COUNT + 1];

typedef enum { TEN_SIDE_OWNER, TEN_SIDE_SUPERVISOR } tenancy_side_t;

/* What the rule needs of a tenancy (day numbers; -1 when unset). */
typedef struct tenancy_facts {
    int64_t term_start, term_end;
    int64_t termination_date; /* the end the first signature registered, or -1 */
    int owner_signed, supervisor_signed;
    int ended; /* both have signed: the term ended on termination_date */
} tenancy_facts_t;

typedef struct tenancy_verdict {
    int status; /* 0 allowed; else 403 / 409 / 422 */
    const char *code;
    const char *detail;        /* English, static */
    const char *pointer_field; /* the body member a 422 is about, or NULL */
} tenancy_verdict_t;

/* A new tenancy's term: the end on or after the start.  status 0 or 422. */
tenancy_verdict_t core_tenancy_check_term(int64_t term_start, int64_t term_end);

/* Whether the tenancy is in its term on local day `today`. */
int core_tenancy_in_term(const tenancy_facts_t *t, int64_t today);

/*
 * One signature of an early end at local day `today` for the end `end_date` (the last day of
 * the term).  role: the signer's role; is_owner: a resident who is the tenancy's owner.
 * The side is the owner for a resident, the supervisor for supervisor, manager, director or
 * GM; anyone else 403.  Refused: an ended tenancy or a side that has signed (409), an end
 * other than the one the first signature registered (409), an end outside the term (422),
 * or fewer than TENANCY_NOTICE_DAYS days before the end (422 notice_too_short).  On success
 * *side is set and *completes says the other side has signed already (the term now ends).
 */
tenancy_verdict_t core_tenancy_sign(const tenancy_facts_t *t, role_t role, int is_owner,
                                    int64_t today, int64_t end_date, tenancy_side_t *side,
                                    int *completes);

#endif
