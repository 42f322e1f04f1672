/* query.c: see query.h.  What belongs to the interface itself: freeing its results, which an
 * engine fills and analysis frees. */
#include "store/query.h"

#include <stdlib.h>
#include <string.h>

void ds_top_result_free(ds_top_result *res)
{
    free(res->rows);
    res->rows = NULL;
    res->n = 0;
}

void ds_cube_free(ds_cube *c)
{
    free(c->cells);
    memset(c, 0, sizeof *c);
}
