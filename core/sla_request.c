/*
 * core/sla_request.c — reads a request's clocks off its timeline, runs them through
 * core_sla_compute(), and plans warnings and escalations on the ladder
 * agent(0) → supervisor(1) → manager(2) → director(3) → gm(4).
 */
#include "core/sla_request.h"
#include "core/strtab.h"

#include <string.h>

static const char *const target_names[SLA_T__COUNT] = {
    "first_response", "on_site", "answer", "resolution", "handover", "callback", "gm_report"};

CORE_STRTAB_FUNCS(core_sla_target, sla_target_id_t, target_names, SLA_T__COUNT)

static int eq(const char *a, const char *b)
{
    return a && b && !strcmp(a, b);
}

int core_sla_policy_match(const sla_match_t *c, size_t n, const char *type, const char *severity,
                          const char *category)
{
    int best = -1, best_score = -1;
    for (size_t i = 0; i < n; i++) {
        int score = 0;
        if (c[i].type) {
            if (!eq(c[i].type, type))
                continue;
            score++;
        }
        if (c[i].severity) {
            if (!eq(c[i].severity, severity))
                continue;
            score++;
        }
        if (c[i].category) {
            if (!eq(c[i].category, category))
                continue;
            score++;
        }
        if (score > best_score) {
            best = (int)i;
            best_score = score;
        }
    }
    return best;
}

/* Staff who can answer for the company; residents, integrations and the sweeper
 * ("system") do not count as a response. */
static int is_staff(const char *role)
{
    return role && strcmp(role, "resident") != 0 && strcmp(role, "integration") != 0 &&
           strcmp(role, "system") != 0;
}

static int is_resolution(const sla_event_t *e)
{
    return eq(e->action, "resolve") || eq(e->action, "sign_off");
}

static int is_reopen(const sla_event_t *e)
{
    return eq(e->action, "reopen") ||
           (eq(e->action, "callback_result") && eq(e->to_state, "received"));
}

#define MAX_PAUSES 64

/* Pauses: from entering pending to leaving it (the last one SLA_PAUSE_OPEN while it
 * lasts), zero-length ones dropped.  The count, or -1 past MAX_PAUSES. */
static long collect_pauses(const sla_event_t *ev, size_t nev, sla_pause_t pauses[MAX_PAUSES])
{
    size_t np = 0;
    int in_pause = 0;
    for (size_t i = 0; i < nev; i++) {
        const sla_event_t *e = &ev[i];
        int to_p = eq(e->to_state, "pending"), from_p = eq(e->from_state, "pending");
        if (!in_pause && to_p && !from_p) {
            if (np == MAX_PAUSES)
                return -1;
            pauses[np].from = e->at;
            pauses[np].to = SLA_PAUSE_OPEN;
            np++;
            in_pause = 1;
        } else if (in_pause && from_p && !to_p) {
            pauses[np - 1].to = e->at;
            in_pause = 0;
        }
    }
    /* Zero-length pauses carry no time and would confuse ordering checks. */
    size_t k = 0;
    for (size_t i = 0; i < np; i++)
        if (pauses[i].to > pauses[i].from)
            pauses[k++] = pauses[i];
    return (long)k;
}

/* The instants the clocks start and stop at, read from the timeline (0: not yet). */
typedef struct milestones {
    int64_t received, first_response, dispatch, appointment, arrive, answer, resolved, handover;
    int64_t first_arrive, first_resolved, reopened, gm, callback_done;
    int64_t override[SLA_T__COUNT]; /* approved extensions (new due), by target */
} milestones_t;

static void read_milestones(const sla_event_t *ev, size_t nev, milestones_t *m)
{
    memset(m, 0, sizeof *m);
    m->received = ev[0].at;
    m->first_response = is_staff(ev[0].actor_role) ? m->received : 0;
    for (size_t i = 1; i < nev; i++) {
        const sla_event_t *e = &ev[i];
        if (!m->first_response && is_staff(e->actor_role))
            m->first_response = e->at;
        if (eq(e->action, "dispatch")) {
            m->dispatch = e->at; /* a redispatch restarts the on-site clock */
            m->appointment = e->appointment_at;
            m->arrive = 0;
        }
        if (!m->arrive && eq(e->action, "arrive"))
            m->arrive = e->at;
        if (!m->first_arrive && eq(e->action, "arrive"))
            m->first_arrive = e->at;
        if (!m->answer &&
            ((eq(e->action, "comment") && e->public_comment && is_staff(e->actor_role)) ||
             is_resolution(e)))
            m->answer = e->at;
        if (is_resolution(e)) {
            m->resolved = e->at;
            if (!m->first_resolved)
                m->first_resolved = e->at;
        }
        if (is_reopen(e)) {
            /* A reopen starts the resolution clock again, from the reopen, with its
             * full target; an extension approved for the earlier resolution (or its
             * callback) does not carry over. */
            m->resolved = 0;
            m->reopened = e->at;
            m->override[SLA_T_RESOLUTION] = 0;
            m->override[SLA_T_CALLBACK] = 0;
        }
        if (!m->handover && eq(e->action, "handover"))
            m->handover = e->at;
        if (!m->gm && eq(e->action, "escalate") && e->level >= SLA_TOP_LEVEL)
            m->gm = e->at;
        if (eq(e->action, "sla_extension_approved") && (unsigned)e->target < SLA_T__COUNT)
            m->override[e->target] = e->new_due;
    }
    /* The callback is done when the request closes after its (last) resolution. */
    if (m->resolved)
        for (size_t i = 0; i < nev; i++)
            if (ev[i].at >= m->resolved && eq(ev[i].to_state, "closed") &&
                (eq(ev[i].action, "callback_result") || eq(ev[i].action, "close"))) {
                m->callback_done = ev[i].at;
                break;
            }
}

/* Which clocks this request runs (start != 0), from when, and when each was met. */
static void clock_bounds(const sla_request_facts_t *f, milestones_t *m, int64_t start[SLA_T__COUNT],
                         int64_t met[SLA_T__COUNT])
{
    int complaint = eq(f->type, "complaint");
    int work = eq(f->type, "repair") || eq(f->type, "emergency");
    int major = complaint && eq(f->severity, "major");
    start[SLA_T_FIRST_RESPONSE] = m->received;
    met[SLA_T_FIRST_RESPONSE] = m->first_response;
    if (complaint || work) {
        start[SLA_T_ON_SITE] = work ? m->dispatch : m->received;
        if (work) {
            met[SLA_T_ON_SITE] = m->arrive;
        } else {
            /* A complaint's handler is on site at the first arrival or the first
             * resolution, whichever came first; a later reopen does not undo it. */
            int64_t t = m->first_arrive;
            if (m->first_resolved && (!t || m->first_resolved < t))
                t = m->first_resolved;
            met[SLA_T_ON_SITE] = t;
        }
        if (work && m->appointment)
            m->override[SLA_T_ON_SITE] = m->appointment;
    }
    start[SLA_T_ANSWER] = m->received;
    met[SLA_T_ANSWER] = m->answer;
    start[SLA_T_RESOLUTION] = m->reopened ? m->reopened : m->received;
    met[SLA_T_RESOLUTION] = m->resolved;
    if (f->night_desk) {
        start[SLA_T_HANDOVER] = m->received;
        met[SLA_T_HANDOVER] = m->handover;
    }
    if (f->needs_callback && m->resolved) {
        start[SLA_T_CALLBACK] = m->resolved;
        met[SLA_T_CALLBACK] = m->callback_done;
    }
    if (major) {
        start[SLA_T_GM_REPORT] = m->received;
        met[SLA_T_GM_REPORT] = m->gm;
    }
}

int core_sla_request_eval(const sla_policy_t *pol, const calendar_t *cal,
                          const sla_request_facts_t *f, const sla_event_t *ev, size_t nev,
                          int64_t now, sla_clock_view_t out[SLA_T__COUNT])
{
    memset(out, 0, sizeof(sla_clock_view_t) * SLA_T__COUNT);
    for (int t = 0; t < SLA_T__COUNT; t++)
        out[t].target = (sla_target_id_t)t;
    if (!pol || !cal || !f || !ev || nev == 0 || !eq(ev[0].action, "create"))
        return -1;

    sla_pause_t pauses[MAX_PAUSES];
    long npl = collect_pauses(ev, nev, pauses);
    if (npl < 0)
        return -1;
    size_t np = (size_t)npl;
    milestones_t ms;
    read_milestones(ev, nev, &ms);
    int64_t start[SLA_T__COUNT] = {0}, met[SLA_T__COUNT] = {0};
    clock_bounds(f, &ms, start, met);
    int64_t reopened = ms.reopened;
    const int64_t *override = ms.override;

    int rc = 0;
    for (int t = 0; t < SLA_T__COUNT; t++) {
        const sla_rule_t *rule = &pol->rules[t];
        if (!rule->enabled || !start[t])
            continue;
        sla_target_t tg = {rule->kind, rule->duration_s, rule->hh, rule->mm, pol->warn_pct,
                           0,          override[t]};
        /* The customer's deadline bounds the resolution; one that had passed by a
         * reopen belonged to the earlier resolution. */
        if (t == SLA_T_RESOLUTION && (!reopened || f->customer_deadline > reopened))
            tg.customer_deadline = f->customer_deadline;
        /* Pauses that matter to this clock: those after its start. */
        sla_pause_t mine[MAX_PAUSES];
        size_t nm = 0;
        for (size_t i = 0; i < np; i++) {
            if (pauses[i].to != SLA_PAUSE_OPEN && pauses[i].to <= start[t])
                continue;
            if (met[t] && pauses[i].from >= met[t])
                break; /* after the clock was met: not its pause */
            mine[nm] = pauses[i];
            if (mine[nm].from < start[t])
                mine[nm].from = start[t];
            nm++;
        }
        out[t].start = start[t];
        out[t].met_at = met[t];
        out[t].npauses = (int)nm;
        if (core_sla_compute(&tg, cal, start[t], mine, nm, met[t], now, &out[t].clock) != 0) {
            rc = -1;
            continue;
        }
        out[t].active = 1;
    }
    return rc;
}

int64_t core_sla_next_due(const sla_clock_view_t v[SLA_T__COUNT])
{
    int64_t best = 0;
    for (int t = 0; t < SLA_T__COUNT; t++) {
        if (!v[t].active || v[t].met_at)
            continue;
        if (!best || v[t].clock.due_at < best)
            best = v[t].clock.due_at;
    }
    return best;
}

static void consider(int64_t *next, int64_t at, int64_t now)
{
    if (at > now && (!*next || at < *next))
        *next = at;
}

size_t core_sla_plan_history(const sla_policy_t *pol, const sla_clock_view_t v[SLA_T__COUNT],
                             int level, const sla_history_t *h, int64_t now, sla_alert_t *out,
                             size_t max, int64_t *next_check)
{
    static const sla_history_t none;
    if (!h)
        h = &none;
    size_t n = 0;
    int cur = level < 0 ? 0 : level;
    int64_t every = pol && pol->escalate_every_s >= 60 ? pol->escalate_every_s : 3600;
    int fresh = -1;   /* earliest-due breach that is new since the request last rose */
    int waiting = -1; /* earliest-due breach not escalated itself, seen by the last rise */
    int rising = -1;  /* the first clock escalated for its current breach */
    int jumped = 0;   /* a rule sent the request straight to a level */
    *next_check = 0;

    /* A major complaint goes to the GM at once, whatever its clock says. */
    const sla_clock_view_t *g = &v[SLA_T_GM_REPORT];
    if (g->active && !g->met_at && cur < SLA_TOP_LEVEL && !h->last_esc_at[SLA_T_GM_REPORT]) {
        if (n < max)
            out[n++] = (sla_alert_t){SLA_T_GM_REPORT, 1, SLA_TOP_LEVEL, g->clock.due_at};
        cur = SLA_TOP_LEVEL;
        jumped = 1;
    }
    for (int t = 0; t < SLA_T__COUNT; t++) {
        const sla_clock_view_t *c = &v[t];
        if (!c->active || c->met_at)
            continue;
        if (t == SLA_T_GM_REPORT && jumped)
            continue;
        int64_t due = c->clock.due_at;
        if (c->clock.state == SLA_BREACHED) {
            if (h->last_esc_at[t]) {
                if (rising < 0)
                    rising = t;
            } else if (h->moved[t] || due > h->last_rise) {
                /* Breached since the request last rose, or its deadline moved since it
                 * was escalated: a new breach. */
                if (fresh < 0 || due < v[fresh].clock.due_at)
                    fresh = t;
            } else {
                /* Already past due when the request last rose: that rise covered it. */
                if (waiting < 0 || due < v[waiting].clock.due_at)
                    waiting = t;
            }
            continue;
        }
        if (c->clock.state == SLA_RUNNING && !h->warned[t] && now >= c->clock.warn_at &&
            now < due) {
            if (n < max)
                out[n++] = (sla_alert_t){(sla_target_id_t)t, 0, 0, due};
        } else if (c->clock.state == SLA_RUNNING && !h->warned[t]) {
            consider(next_check, c->clock.warn_at, now);
        }
        /* Running or paused: look again when it falls due (a paused clock's due is a
         * projection; the recheck recomputes it). */
        consider(next_check, due, now);
        if (due <= now)
            consider(next_check, now + 60, now);
    }
    /* At most one level per evaluation (the GM rule aside), and never an escalation
     * that changes nothing: a new breach raises the request one level at once; while
     * anything stays breached it rises one more level per interval since the request last
     * rose (per request, not per clock), until the top.  A step of the schedule names the clock it
     * is for: one not yet escalated itself first. */
    if (jumped || cur >= SLA_TOP_LEVEL)
        return n;
    int step = -1;
    if (fresh >= 0)
        step = fresh;
    else if ((waiting >= 0 || rising >= 0) && now >= h->last_rise + every)
        step = waiting >= 0 ? waiting : rising;
    else if (waiting >= 0 || rising >= 0)
        consider(next_check, h->last_rise + every, now);
    if (step >= 0) {
        cur++;
        if (n < max)
            out[n++] = (sla_alert_t){(sla_target_id_t)step, 1, cur, v[step].clock.due_at};
        if (cur < SLA_TOP_LEVEL)
            consider(next_check, now + every, now);
    }
    return n;
}

size_t core_sla_plan(const sla_policy_t *pol, const sla_clock_view_t v[SLA_T__COUNT], int level,
                     const int64_t last_esc_at[SLA_T__COUNT], const int warned[SLA_T__COUNT],
                     int64_t now, sla_alert_t *out, size_t max, int64_t *next_check)
{
    sla_history_t h;
    memset(&h, 0, sizeof h);
    for (int t = 0; t < SLA_T__COUNT; t++) {
        h.last_esc_at[t] = last_esc_at[t];
        h.warned[t] = warned[t];
        if (last_esc_at[t] > h.last_rise)
            h.last_rise = last_esc_at[t];
    }
    return core_sla_plan_history(pol, v, level, &h, now, out, max, next_check);
}

#define MIN  60
#define HOUR 3600
#define DAY  86400
#define CAL(s)                                                                                     \
    {                                                                                              \
        1, SLA_CALENDAR, (s), 0, 0                                                                 \
    }
#define OFF                                                                                        \
    {                                                                                              \
        0, SLA_CALENDAR, 0, 0, 0                                                                   \
    }
#define EOD                                                                                        \
    {                                                                                              \
        1, SLA_END_OF_DAY, 0, 0, 0                                                                 \
    }
#define NINE                                                                                       \
    {                                                                                              \
        1, SLA_NEXT_LOCAL_TIME, 0, 9, 0                                                            \
    }

/* SPEC §4 defaults.  Order of rules: first_response, on_site, answer, resolution,
 * handover, callback, gm_report. */
static const sla_default_t defaults[] = {
    {"默认",
     {NULL, NULL, NULL},
     {{CAL(5 * MIN), OFF, OFF, CAL(2 * DAY), NINE, CAL(24 * HOUR), OFF}, 80, HOUR}},
    {"报修",
     {"repair", NULL, NULL},
     {{CAL(5 * MIN), CAL(5 * MIN), OFF, CAL(2 * DAY), NINE, CAL(24 * HOUR), OFF}, 80, HOUR}},
    {"突发事件",
     {"emergency", NULL, NULL},
     {{CAL(5 * MIN), CAL(5 * MIN), OFF, CAL(1 * DAY), NINE, CAL(24 * HOUR), OFF}, 80, HOUR}},
    {"一般投诉",
     {"complaint", "general", NULL},
     {{CAL(5 * MIN), CAL(5 * MIN), OFF, CAL(2 * DAY), NINE, CAL(24 * HOUR), OFF}, 80, HOUR}},
    {"重要投诉",
     {"complaint", "important", NULL},
     {{CAL(5 * MIN), CAL(5 * MIN), CAL(1 * DAY), CAL(3 * DAY), NINE, CAL(24 * HOUR), OFF},
      80,
      HOUR}},
    {"重大投诉",
     {"complaint", "major", NULL},
     {{CAL(5 * MIN), CAL(5 * MIN), CAL(2 * DAY), CAL(7 * DAY), NINE, CAL(24 * HOUR), EOD},
      80,
      HOUR}},
};

size_t core_sla_defaults(sla_default_t *out, size_t max)
{
    size_t n = sizeof defaults / sizeof defaults[0];
    for (size_t i = 0; i < n && i < max; i++)
        out[i] = defaults[i];
    return n;
}
