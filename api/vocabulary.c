/*
 * api/vocabulary.c — GET /v1/vocabulary: every enum of the API with its zh-CN label as the
 * desk's forms write it and an English one (core/vocab.c), so every client shows the same
 * words.  Any authenticated caller may read it; it holds no data of anyone.
 */
#include "api/api.h"
#include "api/http.h"
#include "core/vocab.h"

#include <stdlib.h>

static cJSON *build(void)
{
    cJSON *o = cJSON_CreateObject();
    cJSON *langs = cJSON_AddArrayToObject(o, "languages");
    cJSON_AddItemToArray(langs, cJSON_CreateString("zh-CN"));
    cJSON_AddItemToArray(langs, cJSON_CreateString("en"));
    cJSON *enums = cJSON_AddObjectToObject(o, "enums");
    size_t n;
    const vocab_enum_t *all = core_vocab_enums(&n);
    for (size_t i = 0; i < n; i++) {
        cJSON *arr = cJSON_AddArrayToObject(enums, all[i].name);
        const char *v;
        for (size_t k = 0; (v = core_vocab_value(&all[i], k)) != NULL; k++) {
            const vocab_term_t *t = core_vocab_term(&all[i], v);
            cJSON *e = cJSON_CreateObject();
            cJSON_AddStringToObject(e, "value", v);
            cJSON_AddStringToObject(e, "zh-CN", t ? t->zh : v);
            cJSON_AddStringToObject(e, "en", t ? t->en : v);
            cJSON_AddItemToArray(arr, e);
        }
    }
    return o;
}

static void vocabulary_h(req_t *r)
{
    if (http_no_body(r) != 0)
        return;
    cJSON *o = build();
    http_send_cjson(r, 200, o, NULL);
    cJSON_Delete(o);
}

void api_vocabulary_register(void)
{
    http_route("GET", "/v1/vocabulary", vocabulary_h, 0, NULL);
}
