/*
 * api/platform.h — the hosting operator's view across organisations: the
 * /v1/platform/organisations endpoints (guarded by DESK_PLATFORM_TOKEN, never by an
 * organisation's token), the check that keeps a deactivated organisation's users out, and
 * the operator commands of the command line (--create-org, --list-orgs, --deactivate-org,
 * --activate-org).
 */
#ifndef API_PLATFORM_H
#define API_PLATFORM_H

/* 1 when organisation org_id is deactivated.  Reads a set of the deactivated organisations
 * that is loaded again at most every PLATFORM_ORG_TTL_MS (a change on this server counts
 * at once; one made elsewhere — another server, deskd --deactivate-org — within that). */
#define PLATFORM_ORG_TTL_MS 5000
int platform_org_inactive(const char *org_id);

/* Runs the operator command g_config asks for against the database pool (already
 * initialised, schema current).  Returns the process exit status: 0 done, 1 refused (a
 * message on stderr), 2 usage. */
int platform_cli_run(void);
/* 1 when g_config asks for an operator command. */
int platform_cli_wanted(void);

#endif
