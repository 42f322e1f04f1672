/* progress.h: one self-overwriting status line on stderr for long jobs, only when stderr is a
 * terminal (nothing at all in pipes, logs and CI). */
#ifndef DS_PROGRESS_H
#define DS_PROGRESS_H
#include <stdint.h>

typedef struct ds_progress {
    int enabled;
    double start, last;
    const char *label;
} ds_progress;

void ds_progress_start(ds_progress *p, const char *label);
/* done/total in bytes (total 0 = unknown), packets so far.  Cheap to call often: it redraws at
 * most 4 times a second. */
void ds_progress_update(ds_progress *p, uint64_t done, uint64_t total, uint64_t packets);
void ds_progress_end(ds_progress *p);
double ds_now(void);

#endif
