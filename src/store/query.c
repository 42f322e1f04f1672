/* query.c: see query.h.  What belongs to the interface itself: freeing its results, which an
 * engine fills and analysis frees, and the rate arithmetic every engine and path shares. */
#include "store/query.h"

#include <stdlib.h>
#include <string.h>

#include "store/store.h"

ds_rc ds_top_result_addresses(struct ds_store *st, int64_t sensor_id, ds_top_result *res, ds_err *err)
{
    ds_sensor_info *sensors = NULL;
    size_t n = 0;
    ds_rc rc = ds_store_sensors(st, &sensors, &n, err);
    res->addresses = 0;
    for (size_t i = 0; rc == DS_OK && i < n; i++)
        if (!sensor_id || sensors[i].id == sensor_id)
            res->addresses += sensors[i].v4_addresses;
    free(sensors);
    return rc;
}

void ds_top_result_rates(ds_top_result *res, int have_addr_days, double addr_days)
{
    double denom = have_addr_days ? addr_days : (double)res->addresses * (double)res->days;
    uint64_t total = res->total_packets;
    res->addr_days = denom;
    for (size_t i = 0; i < res->n; i++) {
        ds_top_row *r = &res->rows[i];
        r->share = total ? (double)r->packets / (double)total : 0;
        r->per_ip_per_day = denom > 0 ? (double)r->packets / denom : 0;
    }
}

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
