/*
 * tests/api/test_vocabulary.c — labels in the desk's language:
 *   - GET /v1/vocabulary lists the API's enums with their zh-CN labels as the forms write
 *     them and English ones;
 *   - every enum in openapi.yaml's components (read from the file, inline [a, b] and block
 *     lists alike) is covered by one enum of the vocabulary, so a new enum or value without
 *     labels fails here;
 *   - a problem's detail honours Accept-Language: zh-CN (401, 403, 404, 422) while status,
 *     code, title and errors[] pointers stay the same; English otherwise.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "tests/lib/expect.h"
#include "tests/lib/fixtures.h"
#include "tests/lib/harness.h"

static cJSON *vocab;

static int setup(void **state)
{
    if (th_group_start(state))
        return -1;
    th_resp_t *r = th_req("GET", "/v1/vocabulary", th_token("agent"), NULL, NULL);
    if (r->status != 200 || !r->json) {
        th_free(r);
        return -1;
    }
    vocab = cJSON_Duplicate(r->json, 1);
    th_free(r);
    return 0;
}

static int teardown(void **state)
{
    cJSON_Delete(vocab);
    return th_group_stop(state);
}

static const char *label(const char *en, const char *value, const char *lang)
{
    const cJSON *arr = cJSON_GetObjectItemCaseSensitive(th_jpath(vocab, "enums"), en);
    const cJSON *e;
    cJSON_ArrayForEach(e, arr)
    {
        if (!strcmp(th_js(e, "value"), value))
            return th_js(e, lang);
    }
    return NULL;
}

static void test_vocabulary_labels(void **state)
{
    (void)state;
    static const char *const want[][3] = {
        {"request_type", "complaint", "投诉"},
        {"request_type", "repair", "报修"},
        {"request_type", "inquiry", "咨询"},
        {"request_type", "suggestion", "建议"},
        {"request_type", "praise", "表扬"},
        {"request_type", "emergency", "突发事件"},
        {"callback_rating", "very_satisfied", "非常满意"},
        {"callback_rating", "very_dissatisfied", "极不满意"},
        {"request_severity", "important", "重要"},
        {"role", "director", "物业服务中心主任"},
        {"department_kind", "engineering", "工程部"},
        {"request_channel", "night_desk", "夜间监控中心"},
        {"request_state", "not_responsible", "非我方责任"},
        {"key_state", "sealed", "已封存"},
        {"register_field", "supervisor_assessment", "主管评估意见"},
        {"register_form", "complaint-handling", "投诉处理记录表"},
        {"tenancy_use", "residence", "居住"},
    };
    for (size_t i = 0; i < sizeof want / sizeof want[0]; i++) {
        const char *l = label(want[i][0], want[i][1], "zh-CN");
        if (!l || strcmp(l, want[i][2]) != 0)
            fail_msg("%s.%s: zh-CN '%s', want '%s'", want[i][0], want[i][1], l ? l : "(none)",
                     want[i][2]);
    }
    assert_string_equal(label("request_type", "complaint", "en"), "Complaint");
    assert_string_equal(cJSON_GetStringValue(cJSON_GetArrayItem(th_jpath(vocab, "languages"), 0)),
                        "zh-CN");
    /* any authenticated caller; nobody without a token */
    th_resp_t *r = th_req("GET", "/v1/vocabulary", th_token("resident"), NULL, NULL);
    EXPECT_STATUS(r, 200);
    th_free(r);
    EXPECT_PROBLEM(th_req("GET", "/v1/vocabulary", NULL, NULL, NULL), 401, "missing_token");
}

/* ---------------------------------------------------------------- openapi enums */

#define MAX_VALS 64
typedef struct {
    char where[128];
    int n;
    char v[MAX_VALS][64];
} yenum_t;

static void add_val(yenum_t *e, const char *s, size_t n)
{
    while (n && isspace((unsigned char)*s))
        s++, n--;
    while (n && isspace((unsigned char)s[n - 1]))
        n--;
    if (n >= 2 && (s[0] == '\'' || s[0] == '"'))
        s++, n -= 2;
    if (!n || (n == 4 && !strncmp(s, "null", 4)) || e->n >= MAX_VALS)
        return;
    snprintf(e->v[e->n++], 64, "%.*s", (int)n, s);
}

/* Whether some vocabulary enum holds every value of e. */
static int covered(const yenum_t *e)
{
    const cJSON *en;
    cJSON_ArrayForEach(en, th_jpath(vocab, "enums"))
    {
        int all = 1;
        for (int i = 0; all && i < e->n; i++) {
            int found = 0;
            const cJSON *t;
            cJSON_ArrayForEach(t, en) found |= !strcmp(th_js(t, "value"), e->v[i]);
            all = found;
        }
        if (all)
            return 1;
    }
    return 0;
}

static void test_every_openapi_enum_has_labels(void **state)
{
    (void)state;
    char fn[1024];
    snprintf(fn, sizeof fn, "%s/openapi.yaml", getenv("DESKD_SOURCE_DIR"));
    FILE *f = fopen(fn, "r");
    assert_non_null(f);
    char line[4096], last_key[128] = "";
    int in_components = 0, checked = 0, missing = 0;
    yenum_t cur;
    int block = -1; /* indent of a block list's items, or -1 */
    while (fgets(line, sizeof line, f)) {
        line[strcspn(line, "\r\n")] = 0;
        int ind = 0;
        while (line[ind] == ' ')
            ind++;
        const char *s = line + ind;
        if (ind == 0 && *s)
            in_components = !strncmp(s, "components:", 11);
        if (block >= 0) {
            if (ind >= block && s[0] == '-' && s[1] == ' ') {
                add_val(&cur, s + 2, strlen(s + 2));
                continue;
            }
            block = -1;
            /* technical enums with no words to show: the Idempotent-Replayed header */
            if (!(cur.n == 1 && !strcmp(cur.v[0], "true"))) {
                checked++;
                if (!covered(&cur)) {
                    missing++;
                    print_error("openapi enum at %s (%s, ...) has no vocabulary entry in "
                                "core/vocab.c\n",
                                cur.where, cur.v[0]);
                }
            }
        }
        if (!in_components || !*s)
            continue;
        if (s[strlen(s) - 1] == ':' && strncmp(s, "enum:", 5) != 0)
            snprintf(last_key, sizeof last_key, "%.*s", (int)strlen(s) - 1, s);
        if (!strncmp(s, "enum:", 5)) {
            memset(&cur, 0, sizeof cur);
            snprintf(cur.where, sizeof cur.where, "%s", last_key);
            const char *b = strchr(s, '[');
            if (b) {
                const char *p = b + 1, *end = strchr(p, ']');
                assert_non_null(end);
                while (p < end) {
                    const char *c = memchr(p, ',', (size_t)(end - p));
                    const char *stop = c ? c : end;
                    add_val(&cur, p, (size_t)(stop - p));
                    p = stop + 1;
                }
                checked++;
                if (!covered(&cur)) {
                    missing++;
                    print_error("openapi enum at %s (%s, ...) has no vocabulary entry\n", cur.where,
                                cur.v[0]);
                }
            } else {
                block = ind;
            }
        }
    }
    fclose(f);
    assert_true(checked >= 35);
    if (missing)
        fail_msg("%d openapi enum(s) without labels in GET /v1/vocabulary", missing);
}

/* ---------------------------------------------------------------- zh-CN details */

static const char *const ZH[] = {"Accept-Language: zh-CN,zh;q=0.9,en;q=0.8", NULL};
static const char *const EN_FIRST[] = {"Accept-Language: en;q=0.9, zh-CN;q=0.5", NULL};

static void test_problem_detail_in_zh(void **state)
{
    (void)state;
    /* 404 */
    const char *path = "/v1/requests/00000000-0000-4000-8000-000000000000";
    th_resp_t *en = th_req("GET", path, th_token("agent"), NULL, NULL);
    th_resp_t *zh = th_req("GET", path, th_token("agent"), NULL, ZH);
    assert_int_equal(en->status, 404);
    assert_int_equal(zh->status, 404);
    assert_string_equal(th_str(zh, "code"), th_str(en, "code"));
    assert_string_equal(th_str(zh, "title"), "Not Found");
    assert_string_equal(th_str(zh, "type"), th_str(en, "type"));
    assert_string_equal(th_str(en, "detail"), "no request with this id in your scope");
    assert_string_equal(th_str(zh, "detail"), "您的权限范围内没有此编号的请求");
    assert_string_equal(th_header(zh, "Content-Language"), "zh-CN");
    assert_null(th_header(en, "Content-Language"));
    th_free(en);
    th_free(zh);

    /* English wins when it weighs more */
    en = th_req("GET", path, th_token("agent"), NULL, EN_FIRST);
    assert_string_equal(th_str(en, "detail"), "no request with this id in your scope");
    th_free(en);

    /* 403 */
    char unit[40], body[256];
    th_fx_unit("demo", "1-101", unit);
    char tp[120];
    snprintf(tp, sizeof tp, "/v1/units/%s/tenancies", unit);
    snprintf(body, sizeof body, "{}");
    zh = th_req("POST", tp, th_token("resident"), body, ZH);
    assert_int_equal(zh->status, 403);
    assert_string_equal(th_str(zh, "code"), "forbidden");
    assert_string_equal(th_str(zh, "detail"), "角色“resident”无权执行“tenancy.write”");
    th_free(zh);

    /* 401 */
    zh = th_req("GET", "/v1/vocabulary", NULL, NULL, ZH);
    assert_int_equal(zh->status, 401);
    assert_string_equal(th_str(zh, "code"), "missing_token");
    assert_non_null(strstr(th_str(zh, "detail"), "缺少访问令牌"));
    th_free(zh);

    /* 422: the same pointer and entry code, the detail in zh-CN in both places */
    const char *req = "{\"type\":\"repair\",\"channel\":\"phone\",\"location\":{\"kind\":"
                      "\"common_area\",\"common_area\":\"大堂\"},\"reporter\":{\"name\":\"张三\","
                      "\"phone\":\"13800000000\"}}";
    en = th_req("POST", "/v1/requests", th_token("agent"), req, NULL);
    zh = th_req("POST", "/v1/requests", th_token("agent"), req, ZH);
    assert_int_equal(en->status, 422);
    assert_int_equal(zh->status, 422);
    assert_string_equal(th_str(zh, "code"), th_str(en, "code"));
    const cJSON *ee = cJSON_GetArrayItem(th_jpath(en->json, "errors"), 0);
    const cJSON *ze = cJSON_GetArrayItem(th_jpath(zh->json, "errors"), 0);
    assert_string_equal(th_js(ze, "pointer"), th_js(ee, "pointer"));
    assert_string_equal(th_js(ze, "code"), th_js(ee, "code"));
    assert_string_equal(th_js(ee, "pointer"), "/description");
    assert_string_equal(th_str(en, "detail"), "'description' is required");
    assert_string_equal(th_str(zh, "detail"), "缺少必填字段“description”");
    assert_string_equal(th_js(ze, "detail"), "缺少必填字段“description”");
    th_free(en);
    th_free(zh);

    /* a detail the table does not know stays English (the code's general text otherwise) */
    zh = th_req("GET",
                "/v1/projects/00000000-0000-4000-8000-000000000000/registers/nope?month="
                "2026-03",
                th_token("agent"), NULL, ZH);
    assert_int_equal(zh->status, 404);
    assert_string_equal(th_str(zh, "detail"), "未找到该记录，或它不在您的权限范围内");
    th_free(zh);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_vocabulary_labels),
        cmocka_unit_test(test_every_openapi_enum_has_labels),
        cmocka_unit_test(test_problem_detail_in_zh),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
