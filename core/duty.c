/*
 * core/duty.c — see core/duty.h.  Duty log, handover and incident report rules.
 */
#include "core/duty.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>

static const char *const post_names[DUTY_POST__COUNT + 1] = {"front_desk", "office", "control_room",
                                                             NULL};
CORE_STRTAB_FUNCS(core_duty_post, duty_post_t, post_names, DUTY_POST__COUNT)

static const char *const log_kind_names[DLOG__COUNT + 1] = {
    "event", "phone_record", "inspection", "lighting", "instruction", "incident", "note", NULL};
CORE_STRTAB_FUNCS(core_duty_log_kind, duty_log_kind_t, log_kind_names, DLOG__COUNT)

static const char *const incident_names[INC__COUNT + 1] = {
    "fire",  "flood",          "lift_entrapment", "gas",          "theft_robbery",
    "fight", "injury_illness", "power_water_cut", "forced_entry", "other",
    NULL};
CORE_STRTAB_FUNCS(core_incident_kind, incident_kind_t, incident_names, INC__COUNT)

static const char *const reason_names[HO_R__COUNT + 1] = {"open_emergency",
                                                          "open_major_complaint",
                                                          "open_incident",
                                                          "equipment_transition",
                                                          "section_unconfirmed",
                                                          "incoming_unfit",
                                                          NULL};
CORE_STRTAB_FUNCS(core_handover_reason, handover_reason_t, reason_names, HO_R__COUNT)

static int blank(const char *s)
{
    if (!s)
        return 1;
    for (; *s; s++)
        if (*s != ' ' && *s != '\t' && *s != '\n' && *s != '\r')
            return 0;
    return 1;
}

static duty_verdict_t verdict(int status, const char *code, const char *pointer, const char *fmt,
                              ...) __attribute__((format(printf, 4, 5)));
static duty_verdict_t verdict(int status, const char *code, const char *pointer, const char *fmt,
                              ...)
{
    duty_verdict_t v;
    memset(&v, 0, sizeof v);
    v.status = status;
    v.code = code;
    snprintf(v.pointer, sizeof v.pointer, "%s", pointer ? pointer : "");
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(v.detail, sizeof v.detail, fmt, ap);
    va_end(ap);
    return v;
}

static const duty_verdict_t allowed = {0, NULL, "", ""};

duty_verdict_t core_duty_log_check(const duty_log_entry_t *e, int64_t now)
{
    if (e->kind < 0 || e->kind >= DLOG__COUNT)
        return verdict(422, "invalid_field", "/kind",
                       "'kind' must be one of: event, phone_record, inspection, lighting, "
                       "instruction, incident, note");
    if (blank(e->summary))
        return verdict(422, "missing_field", "/summary", "'summary' (what happened) is required");
    if (e->kind == DLOG_EVENT || e->kind == DLOG_INCIDENT) {
        /* RULES §3.8.1: for each matter its cause, process and result. */
        if (blank(e->cause))
            return verdict(422, "missing_field", "/cause", "an %s entry needs its 'cause'",
                           log_kind_names[e->kind]);
        if (blank(e->handling))
            return verdict(422, "missing_field", "/handling",
                           "an %s entry needs its 'handling' (what was done)",
                           log_kind_names[e->kind]);
        if (blank(e->result))
            return verdict(422, "missing_field", "/result", "an %s entry needs its 'result'",
                           log_kind_names[e->kind]);
    }
    if (e->at > now + 60)
        return verdict(422, "invalid_field", "/at", "'at' may not be in the future");
    if (e->shift_start && e->at < e->shift_start - 86400)
        return verdict(422, "invalid_field", "/at",
                       "'at' is more than a day before the shift's planned start");
    if (e->corrects && blank(e->correction_reason))
        return verdict(422, "missing_field", "/correction_reason",
                       "a correction needs its 'correction_reason'");
    return allowed;
}

/* ---- handover ----------------------------------------------------------------------- */

static void add(handover_reason_item_t *out, size_t *n, handover_reason_t r, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));
static void add(handover_reason_item_t *out, size_t *n, handover_reason_t r, const char *fmt, ...)
{
    if (*n >= HANDOVER_MAX_REASONS)
        return;
    handover_reason_item_t *it = &out[(*n)++];
    it->reason = r;
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(it->detail, sizeof it->detail, fmt, ap);
    va_end(ap);
}

size_t core_handover_check(const handover_state_t *s, handover_reason_item_t *out)
{
    size_t n = 0;
    if (s->open_emergencies > 0)
        add(out, &n, HO_R_OPEN_EMERGENCY,
            "%d emergency request(s) of the project are still received, dispatched, accepted "
            "or on site",
            s->open_emergencies);
    if (s->open_major > 0)
        add(out, &n, HO_R_OPEN_MAJOR,
            "%d major complaint(s) of the project are still received, dispatched, accepted or "
            "on site",
            s->open_major);
    if (s->open_incidents > 0)
        add(out, &n, HO_R_OPEN_INCIDENT,
            "%d special incident report(s) of the project are still open (not submitted)",
            s->open_incidents);
    if (s->equipment_transition)
        add(out, &n, HO_R_EQUIPMENT, "major equipment is starting or stopping (control room)");
    for (size_t i = 0; i < s->nsections && i < HANDOVER_MAX_SECTIONS; i++)
        if (s->sections[i].required && !s->sections[i].confirmed)
            add(out, &n, HO_R_SECTION_UNCONFIRMED, "required section '%s' is not confirmed",
                s->sections[i].code ? s->sections[i].code : "");
    if (s->incoming_unfit && !s->replacement_accepting)
        add(out, &n, HO_R_INCOMING_UNFIT,
            "the incoming person is flagged unfit for duty and no replacement has taken over");
    return n;
}

duty_verdict_t core_handover_unfinished_check(const handover_unfinished_t *items, size_t n,
                                              const char *const *open_ids, size_t nopen)
{
    char p[64];
    for (size_t i = 0; i < n; i++) {
        const handover_unfinished_t *u = &items[i];
        const char *t = u->ref_type;
        if (blank(t) || (strcmp(t, "request") && strcmp(t, "work_order") && strcmp(t, "incident") &&
                         strcmp(t, "other"))) {
            snprintf(p, sizeof p, "/unfinished/%zu/ref_type", i);
            return verdict(422, "invalid_field", p,
                           "'ref_type' must be one of: request, work_order, incident, other");
        }
        if (strcmp(t, "other") && blank(u->ref_id)) {
            snprintf(p, sizeof p, "/unfinished/%zu/ref_id", i);
            return verdict(422, "missing_field", p, "an unfinished %s needs its 'ref_id'", t);
        }
        if (blank(u->reason)) {
            snprintf(p, sizeof p, "/unfinished/%zu/reason", i);
            return verdict(422, "missing_field", p,
                           "each unfinished item handed over needs the 'reason' it was not "
                           "finished this shift");
        }
    }
    for (size_t k = 0; k < nopen; k++) {
        int found = 0;
        for (size_t i = 0; i < n && !found; i++)
            found = items[i].ref_id && open_ids[k] && !strcmp(items[i].ref_id, open_ids[k]);
        if (!found)
            return verdict(422, "unfinished_not_handed_over", "/unfinished",
                           "open matter %s is neither finished nor handed over with a reason",
                           open_ids[k] ? open_ids[k] : "");
    }
    return allowed;
}

long core_handover_late_minutes(int64_t planned_at, int64_t accepted_at, int64_t now, int grace_min)
{
    int64_t end = accepted_at ? accepted_at : now;
    int64_t late = end - planned_at;
    if (late <= (int64_t)grace_min * 60)
        return 0;
    return (long)(late / 60);
}

int core_handover_overdue(int64_t planned_at, int accepted, int64_t now, int grace_min)
{
    return !accepted && now >= planned_at + (int64_t)grace_min * 60;
}

int core_handover_takes_night_request(int64_t planned_at, int64_t received_at, int64_t due_at)
{
    if (planned_at <= received_at)
        return 0;
    return due_at == 0 || planned_at >= due_at - HANDOVER_MORNING_WINDOW_S;
}

/* ---- incident reports --------------------------------------------------------------- */

static int64_t floor_div(int64_t a, int64_t b)
{
    int64_t q = a / b;
    return (a % b != 0 && ((a < 0) != (b < 0))) ? q - 1 : q;
}

int64_t core_incident_due_at(const tz_rules_t *tz, int64_t occurred_at)
{
    int64_t local = core_tz_utc_to_local(tz, occurred_at);
    int64_t day = floor_div(local, 86400);
    return core_tz_local_to_utc(tz, (day + 2) * 86400);
}

int core_incident_to_gm(incident_kind_t k)
{
    return k == INC_FIRE || k == INC_THEFT_ROBBERY;
}

duty_verdict_t core_incident_submit_check(const incident_facts_t *f)
{
    if (blank(f->place))
        return verdict(422, "missing_field", "/place", "a report needs the 'place'");
    if (blank(f->actions))
        return verdict(422, "missing_field", "/actions", "a report needs the 'actions' taken");
    if (f->police_called) {
        if (blank(f->police_officer_number))
            return verdict(422, "missing_field", "/police/officer_number",
                           "110 was called: record the police officer's number");
        if (blank(f->police_case_number))
            return verdict(422, "missing_field", "/police/case_number",
                           "110 was called: record the police case number");
    }
    if (f->kind == INC_LIFT_ENTRAPMENT) {
        if (!f->lift_company_called || blank(f->lift_company_contact))
            return verdict(422, "missing_field", "/lift_company/contact",
                           "a lift entrapment needs the lift company contact's name");
        if (!f->lift_company_arrived_at)
            return verdict(422, "missing_field", "/lift_company/arrived_at",
                           "a lift entrapment needs the lift company's arrival time");
    }
    if (f->kind == INC_FORCED_ENTRY || f->forced_entry) {
        if (blank(f->forced_entry_decided_by))
            return verdict(422, "missing_field", "/forced_entry/decided_by",
                           "a forced entry needs who decided it");
        if (blank(f->forced_entry_explanation))
            return verdict(422, "missing_field", "/forced_entry/explanation",
                           "a forced entry needs the explanation given to the user afterwards");
    }
    if (f->affected_units > 0 && !f->owners_notified_known)
        return verdict(422, "missing_field", "/owners_notified",
                       "units were affected: record whether their owners were told");
    return allowed;
}
