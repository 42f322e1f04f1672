/* dynlib.c: libraries loaded on first use (see dynlib.h for why).
 *
 * Every soname of a table is opened with RTLD_NOW (a missing dependency shows here, not at some
 * later call) and RTLD_LOCAL (nothing leaks into the global namespace), and each function is
 * looked up in them in order.  Handles stay open for the life of the process: the pointers in the
 * table point into them.  A failed load leaves the table unloaded, so a later call fails the
 * same way with the same message.
 */
#include "util/dynlib.h"

#include <dlfcn.h>
#include <stdio.h>

#define MAX_SONAMES 8

ds_rc ds_dynlib_load(ds_dynlib *lib, ds_err *err)
{
    void *h[MAX_SONAMES] = { 0 };
    size_t nh = 0;
    ds_rc rc = DS_OK;
    pthread_mutex_lock(&lib->mu);
    if (lib->loaded)
        goto out;
    for (; lib->sonames[nh]; nh++) {
        if (nh == MAX_SONAMES) {
            rc = ds_fail(err, DS_EINVAL, "%s: more than %d libraries to load", lib->what, MAX_SONAMES);
            goto fail;
        }
        if (!(h[nh] = dlopen(lib->sonames[nh], RTLD_NOW | RTLD_LOCAL))) {
            const char *why = dlerror();
            rc = ds_fail(err, DS_ENOTFOUND, "%s: cannot load %s (%s); install the Debian package %s",
                         lib->what, lib->sonames[nh], why ? why : "not found", lib->package);
            goto fail;
        }
    }
    for (size_t i = 0; i < lib->nnames; i++) {
        void *f = NULL;
        for (size_t k = 0; k < nh && !f; k++)
            f = dlsym(h[k], lib->names[i]);
        if (!f) {
            rc = ds_fail(err, DS_ENOTFOUND, "%s: the installed %s has no function %s (too old?)",
                         lib->what, lib->package, lib->names[i]);
            goto fail;
        }
        lib->addr[i] = f;
    }
    lib->bind(lib->addr);
    lib->loaded = 1;
    goto out;
fail:
    for (size_t k = 0; k < nh; k++)
        if (h[k])
            dlclose(h[k]);
out:
    pthread_mutex_unlock(&lib->mu);
    return rc;
}
