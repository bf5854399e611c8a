/*
 * core/survey.c — the satisfaction-survey rules (RULES §3.2): enums, the campaign state
 * machine, the follow-up an answer sets off, and the report's exact formulas.
 */
#include "core/survey.h"

#include <stdio.h>

static const char *const kind_names[SURVEY_KIND__COUNT] = {
    [SURVEY_KIND_PERIODIC] = "periodic",
    [SURVEY_KIND_AFTER_REPAIR] = "after_repair",
    [SURVEY_KIND_VISIT] = "visit",
    [SURVEY_KIND_SPECIAL] = "special",
};
CORE_STRTAB_FUNCS(core_survey_kind, survey_kind_t, kind_names, SURVEY_KIND__COUNT)

static const char *const cadence_names[SURVEY_CADENCE__COUNT] = {
    [SURVEY_CADENCE_QUARTERLY] = "quarterly",
    [SURVEY_CADENCE_SEMI_ANNUAL] = "semi_annual",
    [SURVEY_CADENCE_YEARLY] = "yearly",
    [SURVEY_CADENCE_ONCE] = "once",
};
CORE_STRTAB_FUNCS(core_survey_cadence, survey_cadence_t, cadence_names, SURVEY_CADENCE__COUNT)

static const char *const state_names[SURVEY_STATE__COUNT] = {
    [SURVEY_DRAFT] = "draft",
    [SURVEY_OPEN] = "open",
    [SURVEY_CLOSED] = "closed",
    [SURVEY_REPORTED] = "reported",
};
CORE_STRTAB_FUNCS(core_survey_state, survey_state_t, state_names, SURVEY_STATE__COUNT)

static const char *const action_names[SURVEY_ACT__COUNT] = {
    [SURVEY_ACT_OPEN] = "open",
    [SURVEY_ACT_CLOSE] = "close",
    [SURVEY_ACT_REPORT] = "report",
};
CORE_STRTAB_FUNCS(core_survey_action, survey_action_t, action_names, SURVEY_ACT__COUNT)

static const char *const rating_names[SURVEY_R__COUNT] = {
    [SURVEY_R_VERY_SATISFIED] = "very_satisfied",
    [SURVEY_R_FAIRLY_SATISFIED] = "fairly_satisfied",
    [SURVEY_R_BASICALLY_SATISFIED] = "basically_satisfied",
    [SURVEY_R_SOMEWHAT_DISSATISFIED] = "somewhat_dissatisfied",
    [SURVEY_R_DISSATISFIED] = "dissatisfied",
};
CORE_STRTAB_FUNCS(core_survey_rating, survey_rating_t, rating_names, SURVEY_R__COUNT)

static const char *const rating_labels[SURVEY_R__COUNT] = {
    [SURVEY_R_VERY_SATISFIED] = "很满意",        [SURVEY_R_FAIRLY_SATISFIED] = "比较满意",
    [SURVEY_R_BASICALLY_SATISFIED] = "基本满意", [SURVEY_R_SOMEWHAT_DISSATISFIED] = "不太满意",
    [SURVEY_R_DISSATISFIED] = "不满意",
};

const char *core_survey_rating_label(survey_rating_t r)
{
    return (unsigned)r < SURVEY_R__COUNT ? rating_labels[r] : NULL;
}

int core_survey_rating_satisfied(survey_rating_t r)
{
    return (unsigned)r <= SURVEY_R_BASICALLY_SATISFIED;
}

survey_followup_t core_survey_followup(survey_rating_t r)
{
    switch (r) {
    case SURVEY_R_DISSATISFIED:
        return SURVEY_FOLLOWUP_COMPLAINT;
    case SURVEY_R_SOMEWHAT_DISSATISFIED:
        return SURVEY_FOLLOWUP_CALLBACK;
    default:
        return SURVEY_FOLLOWUP_NONE;
    }
}

const char *core_survey_followup_name(survey_followup_t f)
{
    return f == SURVEY_FOLLOWUP_COMPLAINT  ? "complaint"
           : f == SURVEY_FOLLOWUP_CALLBACK ? "callback"
                                           : "none";
}

static survey_verdict_t ok(void)
{
    return (survey_verdict_t){0, NULL, NULL};
}

static survey_verdict_t refuse(int status, const char *code, const char *detail)
{
    return (survey_verdict_t){status, code, detail};
}

survey_verdict_t core_survey_transition(survey_state_t from, survey_action_t a, int nitems,
                                        long copies, int has_opinion, survey_state_t *next)
{
    static const survey_state_t need[SURVEY_ACT__COUNT] = {
        [SURVEY_ACT_OPEN] = SURVEY_DRAFT,
        [SURVEY_ACT_CLOSE] = SURVEY_OPEN,
        [SURVEY_ACT_REPORT] = SURVEY_CLOSED,
    };
    static const char *const why[SURVEY_ACT__COUNT] = {
        [SURVEY_ACT_OPEN] = "only a draft campaign can be opened",
        [SURVEY_ACT_CLOSE] = "only an open campaign can be closed",
        [SURVEY_ACT_REPORT] = "only a closed campaign can be reported",
    };
    if ((unsigned)a >= SURVEY_ACT__COUNT || (unsigned)from >= SURVEY_STATE__COUNT)
        return refuse(422, "invalid_action", "unknown action");
    if (from != need[a])
        return refuse(409, "invalid_transition", why[a]);
    if (a == SURVEY_ACT_OPEN && nitems < 1)
        return refuse(409, "campaign_incomplete", "a campaign needs at least one item to open");
    if (a == SURVEY_ACT_OPEN && copies < 1)
        return refuse(409, "campaign_incomplete",
                      "a campaign needs the number of copies distributed (at least 1) to open");
    if (a == SURVEY_ACT_REPORT && !has_opinion)
        return refuse(422, "missing_field",
                      "'opinion' (the service centre's opinion on the results) is required");
    *next = a == SURVEY_ACT_OPEN    ? SURVEY_OPEN
            : a == SURVEY_ACT_CLOSE ? SURVEY_CLOSED
                                    : SURVEY_REPORTED;
    return ok();
}

survey_verdict_t core_survey_check_editable(survey_state_t s)
{
    return s == SURVEY_DRAFT ? ok()
                             : refuse(409, "campaign_not_draft",
                                      "the campaign is no longer a draft: its items, period and "
                                      "copies can no longer change");
}

survey_verdict_t core_survey_check_respond(survey_state_t s, int correction)
{
    if (s == SURVEY_OPEN)
        return ok();
    if (correction && s == SURVEY_CLOSED)
        return ok();
    if (s == SURVEY_REPORTED)
        return refuse(409, "campaign_reported",
                      "the campaign is reported: its numbers are frozen and take no answers");
    return refuse(409, "campaign_not_open",
                  s == SURVEY_DRAFT ? "the campaign is not open yet"
                                    : "the campaign is closed: it takes no new responses");
}

survey_ratio_t core_survey_ratio(long num, long den)
{
    survey_ratio_t q = {num, den, -1};
    if (den > 0 && num >= 0)
        q.percent_x100 = (num * 20000 / den + 1) / 2; /* 10000·num/den rounded half up */
    return q;
}

void core_survey_percent_text(const survey_ratio_t *q, char *buf, size_t len)
{
    if (q->percent_x100 < 0)
        snprintf(buf, len, "%s", "");
    else
        snprintf(buf, len, "%ld.%02ld", q->percent_x100 / 100, q->percent_x100 % 100);
}

int core_survey_below_target(const survey_ratio_t *q, int target_percent)
{
    if (!q || q->den <= 0 || q->num < 0 || target_percent < 1 || target_percent > 100)
        return 0;
    return (long long)q->num * 100 < (long long)target_percent * (long long)q->den;
}

void core_survey_tally_add(survey_tally_t *t, survey_rating_t r)
{
    if ((unsigned)r >= SURVEY_R__COUNT)
        return;
    t->by_rating[r]++;
    t->answered++;
    if (core_survey_rating_satisfied(r))
        t->satisfied++;
}

survey_ratio_t core_survey_tally_rate(const survey_tally_t *t)
{
    return core_survey_ratio(t->satisfied, t->answered);
}

survey_ratio_t core_survey_return_rate(long returned, long distributed)
{
    return core_survey_ratio(returned, distributed);
}

int core_survey_summarise(long distributed, long returned, const survey_answer_fact_t *facts,
                          size_t nfacts, const int *item_dept, int nitems, int ndepts,
                          survey_summary_t *s)
{
    for (int i = 0; i < nitems; i++)
        if (item_dept[i] < -1 || item_dept[i] >= ndepts)
            return -1;
    s->distributed = distributed;
    s->returned = returned;
    s->nitems = nitems;
    s->ndepts = ndepts;
    for (size_t k = 0; k < nfacts; k++) {
        const survey_answer_fact_t *f = &facts[k];
        if (f->item < 0) {
            core_survey_tally_add(&s->overall, f->rating);
        } else if (f->item < nitems) {
            core_survey_tally_add(&s->items[f->item], f->rating);
            if (item_dept[f->item] >= 0)
                core_survey_tally_add(&s->depts[item_dept[f->item]], f->rating);
        }
    }
    s->return_rate = core_survey_return_rate(returned, distributed);
    /* Overall satisfaction divides by the returned forms (002 第8篇 5.10), every one of
     * which carries the mandatory overall rating. */
    s->overall_rate = core_survey_ratio(s->overall.satisfied, returned);
    return 0;
}
