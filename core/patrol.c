/* core/patrol.c — see core/patrol.h. */
#include "core/patrol.h"

#include <string.h>

static const char *const kind_names[PATROL__KIND_COUNT + 1] = {"quality", "building",
                                                               "vacant_units", "night", NULL};
static const char *const disp_names[PATROL__DISP_COUNT + 1] = {"fixed_on_spot", "rectification",
                                                               "request", NULL};
static const char *const slot_names[SLOT__COUNT + 1] = {"upcoming", "due",    "in_progress",
                                                        "done",     "missed", NULL};

CORE_STRTAB_FUNCS(core_patrol_kind, patrol_kind_t, kind_names, PATROL__KIND_COUNT)
CORE_STRTAB_FUNCS(core_patrol_disposition, patrol_disposition_t, disp_names, PATROL__DISP_COUNT)
CORE_STRTAB_FUNCS(core_patrol_slot, patrol_slot_t, slot_names, SLOT__COUNT)

/* 004 一.3 (3): a 清洁绿化, b 秩序 (people, vehicles, goods; use of public areas; decoration;
 * illegal building), c 公共设备 (power, water, fire linkage), d 空置单元, e 在岗人员. */
const char *const core_patrol_points[] = {"cleaning.entrances",
                                          "cleaning.roads",
                                          "cleaning.corridors",
                                          "cleaning.car_parks",
                                          "cleaning.water_features",
                                          "cleaning.greenery",
                                          "order.people_vehicles_goods",
                                          "order.public_facilities",
                                          "order.decoration",
                                          "order.illegal_building",
                                          "equipment.power",
                                          "equipment.water",
                                          "equipment.fire_linkage",
                                          "vacant_units.safety",
                                          "vacant_units.cleanliness",
                                          "staff.appearance",
                                          "staff.attitude",
                                          "staff.discipline",
                                          NULL};

int core_patrol_point_known(const char *point)
{
    return core_strtab_index(core_patrol_points, -1, point) >= 0;
}

static int in_section(const char *point, const char *section)
{
    size_t n = strlen(section);
    return !strncmp(point, section, n) && point[n] == '.';
}

int core_patrol_point_applies(patrol_kind_t k, const char *point)
{
    if (!core_patrol_point_known(point))
        return 0;
    switch (k) {
    case PATROL_QUALITY:
        return 1;
    case PATROL_BUILDING:
        return in_section(point, "cleaning") || in_section(point, "order") ||
               in_section(point, "equipment");
    case PATROL_VACANT_UNITS:
        return in_section(point, "vacant_units");
    case PATROL_NIGHT:
        return in_section(point, "order") || in_section(point, "equipment");
    case PATROL__KIND_COUNT:
        break;
    }
    return 0;
}

patrol_verdict_t core_patrol_finish_check(const patrol_finish_t *f)
{
    patrol_verdict_t v = {0, NULL, NULL};
    if (f->undisposed > 0) {
        v.status = 409;
        v.code = "findings_not_disposed";
        v.detail = "every finding must be fixed on the spot, turned into a rectification or into "
                   "a service request before the round finishes";
    } else if (f->unanswered > 0) {
        v.status = 409;
        v.code = "checklist_incomplete";
        v.detail = "every checklist point of the round's kind needs ok or a finding";
    } else if (f->now - f->started_at < PATROL_MIN_SECONDS && !f->has_reason) {
        v.status = 422;
        v.code = "round_too_short";
        v.detail = "a round lasts at least one hour; give a reason for a shorter one";
    }
    return v;
}

patrol_slot_t core_patrol_slot_status(int64_t planned, int grace_min, int64_t started_at,
                                      int64_t ended_at, int64_t now)
{
    int64_t limit = planned + (int64_t)grace_min * 60;
    if (started_at && started_at <= limit)
        return ended_at ? SLOT_DONE : SLOT_IN_PROGRESS;
    if (now > limit)
        return SLOT_MISSED;
    return now >= planned ? SLOT_DUE : SLOT_UPCOMING;
}

int core_patrol_hhmm(const char *s)
{
    if (!s || strlen(s) != 5 || s[2] != ':')
        return -1;
    for (int i = 0; i < 5; i++)
        if (i != 2 && (s[i] < '0' || s[i] > '9'))
            return -1;
    int h = (s[0] - '0') * 10 + (s[1] - '0'), m = (s[3] - '0') * 10 + (s[4] - '0');
    return h < 24 && m < 60 ? h * 60 + m : -1;
}
