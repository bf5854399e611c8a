/*
 * core/tenancy.c — the rules of a rental registration (出租房屋登记表): its term and the
 * two signatures of an early end with TENANCY_NOTICE_DAYS days' notice.
 */
#include "core/tenancy.h"

const char *const core_tenancy_use_names[TEN_USE__COUNT + 1] = {
    "residence", "office", "shop", "dormitory", "storage", "other", NULL};
CORE_STRTAB_FUNCS(core_tenancy_use, tenancy_use_t, core_tenancy_use_names, TEN_USE__COUNT)

const char *const core_tenancy_id_type_names[TEN_ID__COUNT + 1] = {"resident_id_card",
                                                                   "passport",
                                                                   "hk_macau_permit",
                                                                   "taiwan_permit",
                                                                   "foreign_residence_permit",
                                                                   "other",
                                                                   NULL};
CORE_STRTAB_FUNCS(core_tenancy_id_type, tenancy_id_type_t, core_tenancy_id_type_names,
                  TEN_ID__COUNT)

static tenancy_verdict_t verdict(int status, const char *code, const char *detail,
                                 const char *field)
{
    tenancy_verdict_t v = {status, code, detail, field};
    return v;
}

tenancy_verdict_t core_tenancy_check_term(int64_t term_start, int64_t term_end)
{
    if (term_end < term_start)
        return verdict(422, "invalid_term", "'term_end' must be on or after 'term_start'",
                       "term_end");
    return verdict(0, NULL, NULL, NULL);
}

int core_tenancy_in_term(const tenancy_facts_t *t, int64_t today)
{
    int64_t end = t->ended ? t->termination_date : t->term_end;
    return today >= t->term_start && today <= end;
}

tenancy_verdict_t core_tenancy_sign(const tenancy_facts_t *t, role_t role, int is_owner,
                                    int64_t today, int64_t end_date, tenancy_side_t *side,
                                    int *completes)
{
    *completes = 0;
    if (role == ROLE_RESIDENT) {
        if (!is_owner)
            return verdict(403, "forbidden",
                           "only the owner named on the tenancy signs for the owner's side", NULL);
        *side = TEN_SIDE_OWNER;
    } else if (core_role_ladder_level(role) >= 1) {
        *side = TEN_SIDE_SUPERVISOR;
    } else {
        return verdict(403, "forbidden",
                       "the end of a tenancy is signed by the owner and by a supervisor or above",
                       NULL);
    }
    if (t->ended)
        return verdict(409, "tenancy_ended", "the tenancy's end has been signed by both sides",
                       NULL);
    if ((*side == TEN_SIDE_OWNER && t->owner_signed) ||
        (*side == TEN_SIDE_SUPERVISOR && t->supervisor_signed))
        return verdict(409, "already_signed", "this side has signed the tenancy's end already",
                       NULL);
    if (t->termination_date >= 0 && end_date != t->termination_date)
        return verdict(409, "termination_mismatch",
                       "the other side registered a different end date; sign the same 'end_date'",
                       NULL);
    if (end_date < t->term_start || end_date > t->term_end)
        return verdict(422, "invalid_end_date", "'end_date' must lie within the tenancy's term",
                       "end_date");
    if (end_date - today < TENANCY_NOTICE_DAYS)
        return verdict(422, "notice_too_short",
                       "the end of a tenancy is registered at least 3 days before it "
                       "(出租房屋登记表: 提前三天)",
                       "end_date");
    *completes = *side == TEN_SIDE_OWNER ? t->supervisor_signed : t->owner_signed;
    return verdict(0, NULL, NULL, NULL);
}
