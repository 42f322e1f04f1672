/* filter.c: see filter.h. */
#include "store/filter.h"

#include <string.h>

void ds_filter_init(ds_filter *f)
{
    memset(f, 0, sizeof *f);
    f->cls = -1;
}

int ds_filter_match(const ds_filter *f, const ds_rec_srcsvc *r)
{
    if (f->one_source && r->src != f->source)
        return 0;
    if (f->cls >= 0 && r->cls != f->cls)
        return 0;
    if (f->nports) {
        size_t i = 0;
        while (i < f->nports && f->ports[i] != r->service)
            i++;
        if (i == f->nports)
            return 0;
    }
    if (f->ncountries) {
        uint16_t cc = ds_cc_pack(r->cc);
        size_t i = 0;
        while (i < f->ncountries && f->countries[i] != cc)
            i++;
        if (i == f->ncountries)
            return 0;
    }
    if (f->nasns) {
        size_t i = 0;
        while (i < f->nasns && f->asns[i] != r->asn)
            i++;
        if (i == f->nasns)
            return 0;
    }
    if (f->exclude && ds_u64set_has(f->exclude, r->src))
        return 0;
    if (f->only && !ds_u64set_has(f->only, r->src))
        return 0;
    if (f->tools && !(r->tools & f->tools))
        return 0;
    return 1;
}
