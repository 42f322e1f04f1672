/* web_assets.h: the dashboard's files, compiled into the binary.
 *
 * The Makefile turns the files of web/ (html, js, css) and the chart library from npm (uPlot, vendored into
 * build/web/node_modules by `npm ci`) into $(BUILD)/gen/web_assets.c with scripts/embed-web.sh.
 * Compiled in rather than installed under share/: the app and the API it reads are always of the
 * same build (an upgrade cannot leave old scripts beside a new API), `darkscope serve` needs no
 * install step and no path option, and no file on disk can be swapped under a running server.
 * The price, some 150 KB of binary, is paid once.
 */
#ifndef DS_NET_WEB_ASSETS_H
#define DS_NET_WEB_ASSETS_H
#include <stddef.h>

typedef struct ds_web_asset {
    const char *name;            /* "index.html", "app.js", "uPlot.iife.min.js" */
    const char *type;            /* Content-Type */
    const unsigned char *data;
    size_t len;
} ds_web_asset;

extern const ds_web_asset ds_web_assets[];
extern const size_t ds_web_nassets;

#endif
