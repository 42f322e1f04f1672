/* datadir.h: find a file shipped in the repository's data/ folder (IoT port table, ICMP type
 * names, ...) whether darkscope runs from its build directory, from a test binary, or from an
 * installed prefix. */
#ifndef DS_DATADIR_H
#define DS_DATADIR_H
#include <stddef.h>

#include "util/result.h"

/* Writes the path of the first readable regular file among, in order:
 *   1. $DARKSCOPE_DATA_DIR/name                 (when the variable is set and not empty)
 *   2. <dir of /proc/self/exe>/../data/name     (build/darkscope, build-sanitize/darkscope, ...)
 *   3. <dir of /proc/self/exe>/../../data/name  (build/tests/test_x)
 *   4. <dir of /proc/self/exe>/../share/darkscope/name   (an installed tree, staged or moved)
 *   5. DS_DATADIR/name                          ($(PREFIX)/share/darkscope of `make install`)
 * name is a relative path without "..".  DS_ENOTFOUND lists every place tried; DS_EINVAL for a
 * bad name or an out buffer too small for the path found. */
ds_rc ds_data_path(const char *name, char *out, size_t outlen, ds_err *err);

/* DS_DATADIR: the folder `make install` puts the data files in, as compiled in. */
const char *ds_data_dir_installed(void);

#endif
