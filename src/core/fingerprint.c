/* fingerprint.c: tool names for the bits of fingerprint.h (header fingerprints, then payload tools). */
#include "core/fingerprint.h"

#include <stdio.h>
#include <string.h>
#include <strings.h>

static const char *const TOOL_NAMES[] = { "mirai", "zmap", "masscan", "nmap", "sipvicious", "sip-other", "slammer", "nachi" };

unsigned ds_tool_parse(const char *name)
{
    for (unsigned i = 0; i < sizeof TOOL_NAMES / sizeof TOOL_NAMES[0]; i++)
        if (strcasecmp(name, TOOL_NAMES[i]) == 0)
            return 1u << i;
    return 0;
}

char *ds_tools_format(unsigned tools, char *buf, unsigned long len)
{
    size_t used = 0;
    if (len)
        buf[0] = 0;
    for (unsigned i = 0; i < sizeof TOOL_NAMES / sizeof TOOL_NAMES[0]; i++) {
        if (!(tools >> i & 1))
            continue;
        int n = snprintf(buf + used, len > used ? len - used : 0, "%s%s", used ? "," : "", TOOL_NAMES[i]);
        if (n < 0 || (size_t)n >= len - used) {   /* whole names only */
            if (len)
                buf[used] = 0;
            break;
        }
        used += (size_t)n;
    }
    return buf;
}
