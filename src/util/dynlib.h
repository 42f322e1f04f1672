/* dynlib.h: load a shared library's functions on first use instead of at program start.
 *
 * darkscope is one binary, but only `report` draws charts (cairo, pango, glib), only the sensor
 * uploads (libcurl) and only the collector serves HTTP (libmicrohttpd).  Linked the usual way,
 * those three bring 60 more shared objects that the dynamic loader maps and relocates before
 * main() for every command: 26 ms of a 32 ms start, measured on this VM, which is a third of
 * `top` over a quarter and a tenth of `events`.  So they are not linked; the module that uses
 * one asks for it here the first time it needs it, and gets a table of function pointers.
 *
 * The table: a module lists the functions it calls in an X-macro (X(curl_easy_init) ...), and
 * from that list declares a struct of pointers typed from the library's own header
 * (__typeof__(curl_easy_init) *), the array of names to look up, and #defines that send each
 * call through the table, so its call sites read as plain library calls (the pattern SDL's
 * "dynapi" uses).  A function called but not listed fails the link, since the library is not
 * linked; a listed one missing from the installed library fails the load with its name.
 * Loading is thread-safe and happens at most once per table.
 *
 * The shared object names (sonames) come from the build (Makefile: DS_SONAME_*), read off the
 * libraries the headers belong to, so the ABI loaded is the ABI compiled against.
 */
#ifndef DS_DYNLIB_H
#define DS_DYNLIB_H

#include <pthread.h>
#include <stddef.h>

#include "util/result.h"

typedef struct ds_dynlib {
    const char *what;            /* for messages: "report charts", "sensor uploads" */
    const char *const *sonames;  /* NULL-terminated; functions are looked up in them in order */
    const char *package;         /* the Debian package that installs them, for the message */
    const char *const *names;    /* the functions, in table order */
    size_t nnames;
    void **addr;                 /* [nnames]: their addresses, filled by the load */
    /* Copies addr[] into the module's typed table, under the lock (memcpy per pointer: a data
     * pointer is not stored through a function pointer's type, nor the other way round). */
    void (*bind)(void *const *addr);
    /* state */
    pthread_mutex_t mu;
    int loaded;
} ds_dynlib;

#define DS_DYNLIB_INIT(what_, sonames_, package_, names_, nnames_, addr_, bind_) \
    { (what_), (sonames_), (package_), (names_), (nnames_), (addr_), (bind_), PTHREAD_MUTEX_INITIALIZER, 0 }

/* Open the libraries and fill every slot, once.  Returns DS_OK, or DS_ENOTFOUND with a message
 * naming the library (or function) that is missing and the package to install. */
ds_rc ds_dynlib_load(ds_dynlib *lib, ds_err *err);

#endif
