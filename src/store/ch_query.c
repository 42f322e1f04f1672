/* ch_query.c: placeholder, filled below */
#include "store/ch_int.h"
const ds_store_query_ops ch_query_ops = { 0 };
