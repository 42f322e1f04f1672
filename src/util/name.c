/* name.c: the one check of sensor names (see name.h). */
#include "util/name.h"

#include <stdio.h>
#include <string.h>

_Static_assert(DS_SENSOR_NAME_MAX == 63, "DS_SENSOR_NAME_RULE spells the maximum out");

int ds_sensor_name_ok(const char *name)
{
    size_t n = 0;
    int only_dots = 1;
    if (!name)
        return 0;
    for (const char *p = name; *p; p++, n++) {
        char c = *p;
        if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '-' || c == '_' ||
              c == '.'))
            return 0;
        if (c != '.')
            only_dots = 0;
        if (n >= DS_SENSOR_NAME_MAX)
            return 0;
    }
    return n >= 1 && !only_dots;
}

ds_rc ds_sensor_name_check(const char *name, ds_err *err)
{
    if (ds_sensor_name_ok(name))
        return DS_OK;
    /* show what was given, but never raw control bytes, and not a page of it */
    char shown[100];
    size_t k = 0;
    for (const char *p = name ? name : ""; *p; p++) {
        if (k + 8 >= sizeof shown) {   /* room for "\xNN", "..." and the NUL */
            memcpy(shown + k, "...", 3);
            k += 3;
            break;
        }
        unsigned char c = (unsigned char)*p;
        if (c >= 0x20 && c < 0x7f && c != '\\' && c != '\'')
            shown[k++] = (char)c;
        else
            k += (size_t)snprintf(shown + k, sizeof shown - k, "\\x%02x", c);
    }
    shown[k] = '\0';
    return ds_fail(err, DS_EINVAL, "sensor name '%s' is not allowed: names are " DS_SENSOR_NAME_RULE, shown);
}
