/*
 * api/validate.c — reading members of a JSON body into C values, each refusal a 4xx
 * api_err_t that points at the member (see validate.h).
 */
#include "api/validate.h"
#include "api/codec.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

int api_err_set(api_err_t *e, int status, const char *code, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    e->status = status;
    e->code = code;
    vsnprintf(e->detail, sizeof e->detail, fmt, ap);
    va_end(ap);
    return -1;
}

int api_err_at(api_err_t *e, const cJSON *at, const char *name, const char *err, const char *code,
               const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    e->status = 422;
    e->code = code;
    vsnprintf(e->detail, sizeof e->detail, fmt, ap);
    va_end(ap);
    e->at = at;
    e->name = name;
    e->err = err;
    return -1;
}

void api_err_send(req_t *r, const api_err_t *e)
{
    if (e->status == 422 && e->err)
        http_invalid(r, e->at, e->name, e->code, e->err, "%s", e->detail);
    else
        http_problem(r, e->status, e->code, "%s", e->detail);
}

cJSON *api_err_entry(req_t *r, const api_err_t *e)
{
    char ptr[512];
    http_json_pointer(r->json, e->at, e->name, ptr, sizeof ptr);
    if (!e->err)
        ptr[0] = 0;
    return http_error_entry(ptr, e->err ? e->err : e->code, e->detail);
}

int api_opt_str(const cJSON *o, const char *name, size_t maxlen, const char **out, api_err_t *e)
{
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(o, name);
    *out = NULL;
    if (!v || cJSON_IsNull(v))
        return 0;
    if (!cJSON_IsString(v) || !v->valuestring[0] || strlen(v->valuestring) > maxlen)
        return api_err_at(e, o, name, http_str_err(v, maxlen), "invalid_field",
                          "'%s' must be a non-empty string of at most %zu bytes", name, maxlen);
    *out = v->valuestring;
    return 1;
}

int api_req_str(const cJSON *o, const char *name, size_t maxlen, const char **out, api_err_t *e)
{
    int rc = api_opt_str(o, name, maxlen, out, e);
    if (rc == 0)
        return api_err_at(e, o, name, "required", "missing_field", "'%s' is required", name);
    return rc;
}

int api_opt_uuid(const cJSON *o, const char *name, const char **out, api_err_t *e)
{
    int rc = api_opt_str(o, name, 36, out, e);
    if (rc == 1 && !http_is_uuid(*out))
        return api_err_at(e, o, name, "invalid_format", "invalid_field", "'%s' must be a UUID",
                          name);
    if (rc < 0)
        return api_err_at(e, o, name, e->err, "invalid_field", "'%s' must be a UUID", name);
    return rc;
}

int api_opt_enum(const cJSON *o, const char *name, int (*from)(const char *),
                 size_t (*list)(char *, size_t), const char **out, api_err_t *e)
{
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(o, name);
    *out = NULL;
    if (!v || cJSON_IsNull(v))
        return 0;
    if (!cJSON_IsString(v) || from(v->valuestring) < 0) {
        char allowed[512];
        list(allowed, sizeof allowed);
        return api_err_at(e, o, name, cJSON_IsString(v) ? "invalid_enum" : "invalid_type",
                          "invalid_enum", "'%s' must be one of: %s", name, allowed);
    }
    *out = v->valuestring;
    return 1;
}

int api_opt_time(const cJSON *o, const char *name, int64_t *out, api_err_t *e)
{
    const char *s;
    int rc = api_opt_str(o, name, 64, &s, e);
    if (rc <= 0)
        return rc < 0 ? api_err_at(e, o, name, e->err, "invalid_field",
                                   "'%s' must be an RFC 3339 time such as "
                                   "2026-11-23T09:30:00+08:00",
                                   name)
                      : 0;
    if (rfc3339_parse(s, out) != 0)
        return api_err_at(e, o, name, "invalid_format", "invalid_field",
                          "'%s' must be an RFC 3339 time such as 2026-11-23T09:30:00+08:00", name);
    return 1;
}

int api_opt_bool(const cJSON *o, const char *name, int *out, api_err_t *e)
{
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(o, name);
    *out = -1;
    if (!v || cJSON_IsNull(v))
        return 0;
    if (!cJSON_IsBool(v))
        return api_err_at(e, o, name, "invalid_type", "invalid_field", "'%s' must be true or false",
                          name);
    *out = cJSON_IsTrue(v) ? 1 : 0;
    return 1;
}

int api_opt_count(const cJSON *o, const char *name, int max, int *out, api_err_t *e)
{
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(o, name);
    *out = -1;
    if (!v || cJSON_IsNull(v))
        return 0;
    if (!cJSON_IsNumber(v) || v->valuedouble != (double)(int)v->valuedouble || v->valueint < 0 ||
        v->valueint > max)
        return api_err_at(e, o, name, cJSON_IsNumber(v) ? "out_of_range" : "invalid_type",
                          "invalid_field", "'%s' must be a whole number from 0 to %d", name, max);
    *out = v->valueint;
    return 1;
}

int api_only_known(const cJSON *o, const char *const *known, const char *what, api_err_t *e)
{
    const cJSON *m;
    cJSON_ArrayForEach(m, o)
    {
        int ok = 0;
        for (const char *const *k = known; *k && !ok; k++)
            ok = !strcmp(*k, m->string);
        if (!ok)
            return api_err_at(e, o, m->string, "unknown_field", "unknown_field",
                              "'%s' is not a field of %s", m->string, what);
    }
    return 0;
}

int api_uuid_array(const cJSON *o, const char *name, int max, char **out, int *count, api_err_t *e)
{
    *out = NULL;
    if (count)
        *count = 0;
    const cJSON *a = cJSON_GetObjectItemCaseSensitive(o, name);
    if (!a || cJSON_IsNull(a))
        return 0;
    if (!cJSON_IsArray(a))
        return api_err_at(e, o, name, "invalid_type", "invalid_field",
                          "'%s' must be an array of UUIDs", name);
    int n = cJSON_GetArraySize(a);
    if (n > max)
        return api_err_at(e, o, name, "out_of_range", "invalid_field", "'%s' holds at most %d ids",
                          name, max);
    char *lit = malloc((size_t)n * 37 + 3);
    if (!lit)
        return api_err_set(e, 503, "unavailable", "out of memory: try again");
    size_t len = 0;
    lit[len++] = '{';
    const cJSON *it;
    int i = 0;
    cJSON_ArrayForEach(it, a)
    {
        if (!cJSON_IsString(it) || !http_is_uuid(it->valuestring)) {
            free(lit);
            return api_err_at(e, it, NULL, "invalid_format", "invalid_field",
                              "every member of '%s' must be a UUID", name);
        }
        for (const cJSON *prev = a->child; prev != it; prev = prev->next) {
            if (!strcasecmp(prev->valuestring, it->valuestring)) {
                free(lit);
                return api_err_at(e, it, NULL, "duplicate", "invalid_field", "'%s' names %s twice",
                                  name, it->valuestring);
            }
        }
        if (i++)
            lit[len++] = ',';
        memcpy(lit + len, it->valuestring, 36);
        len += 36;
    }
    lit[len++] = '}';
    lit[len] = 0;
    *out = lit;
    if (count)
        *count = n;
    return 1;
}
