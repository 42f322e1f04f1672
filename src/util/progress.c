#include "util/progress.h"

#include <stdio.h>
#include <time.h>
#include <unistd.h>

double ds_now(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

void ds_progress_start(ds_progress *p, const char *label)
{
    p->enabled = isatty(STDERR_FILENO);
    p->start = p->last = ds_now();
    p->label = label;
}

void ds_progress_update(ds_progress *p, uint64_t done, uint64_t total, uint64_t packets)
{
    if (!p->enabled)
        return;
    double now = ds_now();
    if (now - p->last < 0.25)
        return;
    p->last = now;
    double el = now - p->start, rate = el > 0 ? (double)packets / el : 0;
    if (total && done <= total && done > 0) {
        double eta = el * (double)(total - done) / (double)done;
        fprintf(stderr, "\r\033[K%s: %llu packets, %.2f M/s, %.0f%%, ETA %.0fs", p->label,
                (unsigned long long)packets, rate / 1e6, 100.0 * (double)done / (double)total, eta);
    } else {
        fprintf(stderr, "\r\033[K%s: %llu packets, %.2f M/s", p->label, (unsigned long long)packets, rate / 1e6);
    }
}

void ds_progress_end(ds_progress *p)
{
    if (p->enabled)
        fprintf(stderr, "\r\033[K");
}
