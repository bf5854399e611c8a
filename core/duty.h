/*
 * core/duty.h — the rules of duty shifts, the duty log, shift handovers and special
 * incident reports (RULES §3.8, §3.9), as pure functions: the enums and their API strings,
 * the duty-log entry check (cause, handling and result for events and incidents), the
 * handover refusal reasons (handover_check: 409 with every reason), the unfinished-item
 * check (each item handed over needs a reason; each open matter must be finished or
 * handed over), handover lateness, and an incident report's due instant (end of the next
 * local day after the event) and its submission check.  No I/O: times are arguments.
 */
#ifndef CORE_DUTY_H
#define CORE_DUTY_H

#include <stddef.h>
#include <stdint.h>

#include "core/strtab.h"
#include "core/tz.h"

/* Posts that keep a duty (RULES §3.8). */
typedef enum {
    DUTY_POST_FRONT_DESK,   /* "front_desk"   前台 */
    DUTY_POST_OFFICE,       /* "office"       办公室 */
    DUTY_POST_CONTROL_ROOM, /* "control_room" 监控中心 */
    DUTY_POST__COUNT
} duty_post_t;
CORE_STRTAB_DECLS(core_duty_post, duty_post_t)

/* Kinds of duty-log entry. */
typedef enum {
    DLOG_EVENT,        /* "event" */
    DLOG_PHONE_RECORD, /* "phone_record" */
    DLOG_INSPECTION,   /* "inspection" */
    DLOG_LIGHTING,     /* "lighting" */
    DLOG_INSTRUCTION,  /* "instruction" */
    DLOG_INCIDENT,     /* "incident" */
    DLOG_NOTE,         /* "note" */
    DLOG__COUNT
} duty_log_kind_t;
CORE_STRTAB_DECLS(core_duty_log_kind, duty_log_kind_t)

/* Special incident kinds (RULES §3.9). */
typedef enum {
    INC_FIRE,
    INC_FLOOD,
    INC_LIFT_ENTRAPMENT,
    INC_GAS,
    INC_THEFT_ROBBERY,
    INC_FIGHT,
    INC_INJURY_ILLNESS,
    INC_POWER_WATER_CUT,
    INC_FORCED_ENTRY,
    INC_OTHER,
    INC__COUNT
} incident_kind_t;
CORE_STRTAB_DECLS(core_incident_kind, incident_kind_t)

/* A verdict: status 0 allowed, else the HTTP status with a stable code, the JSON Pointer
 * (RFC 6901, into the request body) of the offending member for a 422, and a detail. */
typedef struct duty_verdict {
    int status;
    const char *code;
    char pointer[64];
    char detail[200];
} duty_verdict_t;

/* A duty-log entry as posted.  Strings may be NULL (absent). */
typedef struct duty_log_entry {
    int kind; /* duty_log_kind_t, or -1 when unknown */
    const char *summary, *cause, *handling, *result;
    int64_t at;          /* when it happened */
    int64_t shift_start; /* the shift's planned start (entries may not precede it by > 1 day) */
    int corrects;        /* 1 when it corrects an earlier entry */
    const char *correction_reason;
} duty_log_entry_t;

/* Judges a posted entry at instant now: kind known, summary present, cause, handling and
 * result present for events and incidents, `at` not in the future, a correction with a
 * reason.  422 verdicts name the member. */
duty_verdict_t core_duty_log_check(const duty_log_entry_t *e, int64_t now);

/* ---- handover ----------------------------------------------------------------------- */

/* Why a handover may not be submitted or accepted now (RULES §3.8.3).  The API strings are
 * the `code` members of the 409's reasons. */
typedef enum {
    HO_R_OPEN_EMERGENCY,      /* "open_emergency" */
    HO_R_OPEN_MAJOR,          /* "open_major_complaint" */
    HO_R_OPEN_INCIDENT,       /* "open_incident" */
    HO_R_EQUIPMENT,           /* "equipment_transition" */
    HO_R_SECTION_UNCONFIRMED, /* "section_unconfirmed" */
    HO_R_INCOMING_UNFIT,      /* "incoming_unfit" */
    HO_R__COUNT
} handover_reason_t;
CORE_STRTAB_DECLS(core_handover_reason, handover_reason_t)

#define HANDOVER_MAX_SECTIONS 32

typedef struct handover_section {
    const char *code;
    int required;
    int confirmed;
} handover_section_t;

/* The live facts a handover is judged on. */
typedef struct handover_state {
    int open_emergencies;     /* emergency requests of the project received..on_site */
    int open_major;           /* major complaints of the project received..on_site */
    int open_incidents;       /* incident reports of the project not yet submitted */
    int equipment_transition; /* major equipment starting or stopping (control room flag) */
    const handover_section_t *sections;
    size_t nsections;
    int incoming_unfit;        /* the incoming person is flagged unfit */
    int replacement_accepting; /* a replacement (not the unfit person) is the one accepting */
} handover_state_t;

typedef struct handover_reason_item {
    handover_reason_t reason;
    char detail[160];
} handover_reason_item_t;

#define HANDOVER_MAX_REASONS (HO_R__COUNT + HANDOVER_MAX_SECTIONS)

/* Every reason the handover is refused for, into out (room for HANDOVER_MAX_REASONS); one
 * entry per unconfirmed required section.  Returns the count (0: it may proceed). */
size_t core_handover_check(const handover_state_t *s, handover_reason_item_t *out);

/* One unfinished item handed over: a reference (type "request", "work_order", "incident",
 * "other"), its id, and the reason it is handed over rather than finished. */
typedef struct handover_unfinished {
    const char *ref_type, *ref_id, *reason;
} handover_unfinished_t;

/* Checks the unfinished items (each needs a known ref_type, a ref_id unless "other", and a
 * reason) and that every still-open matter (open_ids: the ids of the project's open requests
 * and work orders at submission) appears among them.  422 with the pointer
 * "/unfinished/<i>/<member>", or "/unfinished" for an open matter not handed over. */
duty_verdict_t core_handover_unfinished_check(const handover_unfinished_t *items, size_t n,
                                              const char *const *open_ids, size_t nopen);

/* Minutes the acceptance is late: (accepted_at, or now while not accepted) minus planned_at,
 * when that exceeds grace_min; 0 otherwise. */
long core_handover_late_minutes(int64_t planned_at, int64_t accepted_at, int64_t now,
                                int grace_min);

/* Whether the supervisor is to be told: not accepted and now >= planned_at + grace. */
int core_handover_overdue(int64_t planned_at, int accepted, int64_t now, int grace_min);

/* The night desk's requests (RULES §3.8.13): the control room hands them to customer
 * service by the next local 09:00 (their "handover" clock, due_at).  A handover takes a
 * listed night-desk request's hand-over action when it is the morning handover for it:
 * planned no earlier than HANDOVER_MORNING_WINDOW_S before that clock falls due (so the
 * 05:00–09:00 shift changes, and any later one once the clock has passed), and after the
 * request was received.  due_at 0 (no hand-over clock under the project's SLA policy): any
 * handover planned after the request was received.  1 or 0. */
#define HANDOVER_MORNING_WINDOW_S (4 * 3600)
int core_handover_takes_night_request(int64_t planned_at, int64_t received_at, int64_t due_at);

/* ---- special incident reports ------------------------------------------------------- */

/* The due instant of a report on an event at occurred_at: the end of the next local day
 * in tz (local midnight starting the day after next), RULES §3.9.2. */
int64_t core_incident_due_at(const tz_rules_t *tz, int64_t occurred_at);

/* Whether the GM must receive the report too (fire, theft or robbery). */
int core_incident_to_gm(incident_kind_t k);

/* What a report holds when it is submitted (NULL / 0: absent). */
typedef struct incident_facts {
    incident_kind_t kind;
    const char *place, *actions;
    int64_t occurred_at;
    int police_called; /* 110 among the services */
    const char *police_officer_number, *police_case_number;
    int lift_company_called;
    const char *lift_company_contact;
    int64_t lift_company_arrived_at;
    int forced_entry; /* kind forced_entry, or forced_entry.decided_by given */
    const char *forced_entry_decided_by, *forced_entry_explanation;
    int affected_units;        /* how many units were affected */
    int owners_notified_known; /* owners_notified given */
} incident_facts_t;

/* The submission check: place and actions; police officer and case number when 110 was
 * called; lift company contact and arrival for a lift entrapment; who decided and the
 * explanation given afterwards for a forced entry; owners_notified when units were
 * affected.  Pointers are into the report's JSON ("/police/officer_number", ...). */
duty_verdict_t core_incident_submit_check(const incident_facts_t *f);

#endif
