/* core/strtab.c — see strtab.h. */
#include "core/strtab.h"

#include <string.h>

int core_strtab_index(const char *const *names, int n, const char *s)
{
    if (!s)
        return -1;
    for (int i = 0; i < n; i++)
        if (names[i] && strcmp(names[i], s) == 0)
            return i;
    return -1;
}
