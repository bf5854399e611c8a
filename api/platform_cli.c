/*
 * api/platform_cli.c — the operator commands of the command line, for a hosting operator
 * without HTTP access: --create-org NAME --admin USER (the first administrator's password
 * from --admin-password-file or a prompt with echo off, never from the command line),
 * --list-orgs, --deactivate-org ID, --activate-org ID.  Each prints JSON on stdout and
 * explains a refusal on stderr with exit status 1.
 */
#include "api/auth.h"
#include "api/config.h"
#include "api/platform.h"
#include "db/platform.h"

#include <cjson/cJSON.h>
#include <regex.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <termios.h>
#include <unistd.h>

#define PW_MAX 256

int platform_cli_wanted(void)
{
    return g_config.create_org[0] || g_config.list_orgs || g_config.deactivate_org[0] ||
           g_config.activate_org[0];
}

static int matches(const char *s, const char *pattern)
{
    regex_t re;
    if (regcomp(&re, pattern, REG_EXTENDED | REG_NOSUB) != 0)
        return 0;
    int ok = regexec(&re, s, 0, NULL, 0) == 0;
    regfree(&re);
    return ok;
}

static void chomp(char *s)
{
    size_t n = strlen(s);
    while (n && (s[n - 1] == '\n' || s[n - 1] == '\r'))
        s[--n] = 0;
}

/* One line from f into out; -1 when there is none or it is longer than PW_MAX. */
static int read_line(FILE *f, char *out, size_t len)
{
    if (!fgets(out, (int)len, f))
        return -1;
    if (!strchr(out, '\n') && strlen(out) >= len - 1)
        return -1;
    chomp(out);
    return 0;
}

/* Asks twice on the terminal with echo off.  0 / -1 (message printed). */
static int prompt_password(char *out, size_t len)
{
    FILE *tty = isatty(STDIN_FILENO) ? fopen("/dev/tty", "r+") : NULL;
    if (!tty) {
        fprintf(stderr, "deskd: no terminal to ask for the administrator's password: give it in "
                        "a file with --admin-password-file PATH (or '-' for standard input)\n");
        return -1;
    }
    struct termios old, quiet;
    int fd = fileno(tty), rc = -1;
    if (tcgetattr(fd, &old) != 0) {
        fclose(tty);
        fprintf(stderr, "deskd: cannot switch the terminal's echo off\n");
        return -1;
    }
    quiet = old;
    quiet.c_lflag &= ~(tcflag_t)ECHO;
    tcsetattr(fd, TCSAFLUSH, &quiet);
    char again[PW_MAX + 2];
    fprintf(tty, "Password for the administrator %s: ", g_config.admin_username);
    fflush(tty);
    int r1 = read_line(tty, out, len);
    fprintf(tty, "\nThe same again: ");
    fflush(tty);
    int r2 = read_line(tty, again, sizeof again);
    fprintf(tty, "\n");
    tcsetattr(fd, TCSAFLUSH, &old);
    fclose(tty);
    if (r1 != 0 || r2 != 0)
        fprintf(stderr, "deskd: no password given (at most %d bytes)\n", PW_MAX);
    else if (strcmp(out, again) != 0)
        fprintf(stderr, "deskd: the two passwords differ; nothing was created\n");
    else
        rc = 0;
    memset(again, 0, sizeof again);
    return rc;
}

/* The administrator's password: first line of the file ('-': standard input), or asked on
 * the terminal.  At least 8 characters, like every user's.  0 / -1 (message printed). */
static int admin_password(char *out, size_t len)
{
    const char *path = g_config.admin_password_file;
    if (!path[0]) {
        if (prompt_password(out, len) != 0)
            return -1;
    } else {
        FILE *f = strcmp(path, "-") == 0 ? stdin : fopen(path, "r");
        if (!f) {
            fprintf(stderr, "deskd: cannot read --admin-password-file %s\n", path);
            return -1;
        }
        int rc = read_line(f, out, len);
        if (f != stdin)
            fclose(f);
        if (rc != 0) {
            fprintf(stderr,
                    "deskd: --admin-password-file %s holds no password line (at most %d "
                    "bytes)\n",
                    path, PW_MAX);
            return -1;
        }
    }
    if (strlen(out) < 8) {
        fprintf(stderr, "deskd: the administrator's password must be at least 8 characters\n");
        return -1;
    }
    return 0;
}

static void print_org(const db_new_org_t *o)
{
    cJSON *j = cJSON_CreateObject();
    cJSON_AddStringToObject(j, "organisation_id", o->org_id);
    cJSON_AddStringToObject(j, "organisation_code", o->org_code);
    cJSON_AddStringToObject(j, "name", g_config.create_org);
    cJSON_AddStringToObject(j, "admin_user_id", o->admin_id);
    cJSON_AddStringToObject(j, "admin_username", o->admin_username);
    cJSON_AddBoolToObject(j, "created", o->created);
    char *s = cJSON_PrintUnformatted(j);
    if (s)
        printf("%s\n", s);
    free(s);
    cJSON_Delete(j);
}

static int create_org(db_conn_t *c)
{
    const char *name = g_config.create_org, *admin = g_config.admin_username;
    const char *code = g_config.org_code[0] ? g_config.org_code : NULL;
    if (strlen(name) > 200 || !name[strspn(name, " \t")]) {
        fprintf(stderr, "deskd: --create-org wants the organisation's name, 1 to 200 bytes\n");
        return 2;
    }
    if (!matches(admin, "^[A-Za-z0-9._@-]{2,64}$")) {
        fprintf(stderr, "deskd: --admin '%s' is not a user name: 2 to 64 of A-Z a-z 0-9 . _ @ -\n",
                admin);
        return 2;
    }
    if (code && !matches(code, "^[a-z0-9][a-z0-9_-]{1,62}$")) {
        fprintf(stderr,
                "deskd: --org-code '%s' must be 2 to 63 of a-z 0-9 _ - (starting with a "
                "letter or digit)\n",
                code);
        return 2;
    }
    db_new_org_t o;
    char other[256], pw[PW_MAX + 2], hash[200];
    int rc = db_platform_create_org(c, name, code, admin, NULL, &o, other, sizeof other);
    if (rc == DB_ORG_NEEDS_PASSWORD) {
        /* Only now, when something is to be created, is the password wanted. */
        if (admin_password(pw, sizeof pw) != 0)
            return 1;
        int hr = auth_password_hash(pw, g_config.pbkdf2_iter, hash, sizeof hash);
        memset(pw, 0, sizeof pw);
        if (hr != 0) {
            fprintf(stderr, "deskd: could not hash the password\n");
            return 1;
        }
        rc = db_platform_create_org(c, name, code, admin, hash, &o, other, sizeof other);
    }
    switch (rc) {
    case 0:
        print_org(&o);
        return 0;
    case DB_ORG_ADMIN_TAKEN:
        fprintf(stderr,
                "deskd: the user name '%s' is already taken (by a user of %s); user names are "
                "unique across all organisations: choose another --admin.  Nothing was created.\n",
                admin, other);
        return 1;
    case DB_ORG_OTHER_ADMIN:
        fprintf(stderr,
                "deskd: organisation '%s' already exists (id %s, code %s) and its administrator "
                "is '%s', not '%s'; nothing was changed.  Add more users with POST /v1/users as "
                "its administrator.\n",
                name, o.org_id, o.org_code, other, admin);
        return 1;
    case DB_ORG_CODE_TAKEN:
        fprintf(stderr,
                "deskd: the organisation code '%s' is already used by '%s'; choose another "
                "--org-code.  Nothing was created.\n",
                code, other);
        return 1;
    case DB_ORG_NEEDS_PASSWORD:
    default:
        fprintf(stderr, "deskd: could not create the organisation (database error; see the log); "
                        "nothing was created\n");
        return 1;
    }
}

static int list_orgs(db_conn_t *c)
{
    char after_ts[64] = "", after_id[40] = "";
    const int page = 200;
    int n = 0;
    printf("{\"items\":[");
    for (;;) {
        PGresult *r = db_platform_list(c, after_ts, after_id, page);
        if (!db_ok(r)) {
            PQclear(r);
            printf("]}\n");
            fprintf(stderr, "deskd: could not list the organisations (database error)\n");
            return 1;
        }
        int rows = PQntuples(r), shown = rows > page ? page : rows;
        for (int i = 0; i < shown; i++)
            printf("%s%s", n++ ? "," : "", PQgetvalue(r, i, 0));
        if (shown) {
            snprintf(after_ts, sizeof after_ts, "%s", PQgetvalue(r, shown - 1, 1));
            snprintf(after_id, sizeof after_id, "%s", PQgetvalue(r, shown - 1, 2));
        }
        PQclear(r);
        if (rows <= page)
            break;
    }
    printf("]}\n");
    return 0;
}

static int set_active(db_conn_t *c, const char *key, int active)
{
    char *json = NULL, org[40];
    int rc = db_platform_set_active(c, key, active, &json, org);
    if (rc < 0) {
        fprintf(stderr, "deskd: could not change the organisation (database error); nothing was "
                        "changed\n");
        return 1;
    }
    if (rc == 0) {
        fprintf(stderr, "deskd: no organisation has the id or code '%s' (see --list-orgs)\n", key);
        return 1;
    }
    printf("%s\n", json);
    free(json);
    if (!active)
        fprintf(stderr,
                "deskd: organisation %s deactivated: its sessions are revoked; running servers "
                "refuse its tokens within %d s\n",
                org, PLATFORM_ORG_TTL_MS / 1000);
    return 0;
}

int platform_cli_run(void)
{
    int n = !!g_config.create_org[0] + !!g_config.list_orgs + !!g_config.deactivate_org[0] +
            !!g_config.activate_org[0];
    if (n != 1) {
        fprintf(stderr, "deskd: give one of --create-org, --list-orgs, --deactivate-org, "
                        "--activate-org at a time\n");
        return 2;
    }
    db_conn_t *c = db_acquire();
    if (!c) {
        fprintf(stderr, "deskd: the database is unreachable (DATABASE_URL)\n");
        return 1;
    }
    int rc;
    if (g_config.create_org[0])
        rc = create_org(c);
    else if (g_config.list_orgs)
        rc = list_orgs(c);
    else if (g_config.deactivate_org[0])
        rc = set_active(c, g_config.deactivate_org, 0);
    else
        rc = set_active(c, g_config.activate_org, 1);
    fflush(stdout);
    db_release(c);
    return rc;
}
