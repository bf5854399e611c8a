/*
 * svc/sla_config.h — what the SLA clocks run on, loaded from the database and kept in
 * bounded caches: policy and calendar versions (by version id), each project's current
 * configuration (by organisation and project, a few seconds), and the time-zone rules
 * of the system tz database (every zone a calendar names, loaded once).  Thread-safe.
 */
#ifndef SVC_SLA_CONFIG_H
#define SVC_SLA_CONFIG_H

#include <stddef.h>
#include <stdint.h>

#include "core/sla_policy.h"
#include "core/sla_request.h"
#include "db/db.h"

/* The rules of an IANA zone read from /usr/share/zoneinfo (kept for the process's
 * life), or NULL when the name is malformed or has no zone. */
const tz_rules_t *sla_zone(const char *name);

/* Checks a calendar definition (as an administrator sends it): 0, or -1 with err set. */
int sla_calendar_check(const char *json, char *err, size_t errlen);

/* A policy version by id (cached).  0, or -1 (logged) when missing or unusable. */
int sla_policy_load(db_conn_t *c, const char *version_id, sla_policy_t *out);
/* A calendar version by id, pinned while in use: release with sla_calendar_unpin.
 * NULL (logged) when missing or unusable. */
const sla_calendar_def_t *sla_calendar_pin(db_conn_t *c, const char *version_id);
void sla_calendar_unpin(const sla_calendar_def_t *cal);

/* A project's current configuration: its calendar version and active policy versions
 * with what each matches (empty strings match anything). */
#define SLA_MAX_POLICIES 32
typedef struct sla_project_cfg {
    char org[40], project[40];
    int64_t loaded;
    char calendar[40];
    int npol;
    struct {
        char version[40];
        char type[16], severity[16], category[24];
    } pol[SLA_MAX_POLICIES];
} sla_project_cfg_t;

/* The configuration of project in org: 0 (empty when the project has none, or is not a
 * project of org; only an existing project's configuration is cached) or -1. */
int sla_project_config(db_conn_t *c, const char *org, const char *project, sla_project_cfg_t *out);
/* The policy version for a request (most specific match), or NULL. */
const char *sla_project_match(const sla_project_cfg_t *cfg, const char *type, const char *severity,
                              const char *category);
/* Forgets cached project configuration (after a policy/calendar change). */
void sla_invalidate_project(const char *project);

#endif
