/* core/strtab.c — see strtab.h. */
#include "core/strtab.h"

#include <string.h>

int core_strtab_index(const char *const *names, int n, const char *s)
{
    if (!s)
        return -1;
    for (int i = 0; n < 0 ? names[i] != NULL : i < n; i++)
        if (names[i] && strcmp(names[i], s) == 0)
            return i;
    return -1;
}

size_t core_strtab_join(const char *const *names, int n, char *buf, size_t len)
{
    size_t o = 0;
    if (len)
        buf[0] = 0;
    for (int i = 0; n < 0 ? names[i] != NULL : i < n; i++) {
        if (!names[i])
            continue;
        const char *parts[2] = {o ? ", " : "", names[i]};
        for (int k = 0; k < 2; k++) {
            size_t l = strlen(parts[k]);
            if (o < len) {
                size_t fit = len - 1 - o < l ? len - 1 - o : l;
                memcpy(buf + o, parts[k], fit);
                buf[o + fit] = 0;
            }
            o += l;
        }
    }
    return o;
}
