/*
 * The progress line. Rates are computed over the whole run so far (a long scan's rate is
 * steady; a sliding window would only add noise), and the total is an estimate from the
 * input files' line counts, so the ETA is marked approximate.
 */
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <sys/time.h>

#include <zlib.h>

#include "progress.h"

struct mts_progress {
    struct event *timer;
    FILE *out;
    bool live, plain, line_open;
    uint64_t total; /* 0: unknown */
    struct timeval t0;
    mts_progress_fill_cb *fill;
    void *arg;
};

/* Lines in a list (plain or gzip), or 0 when it cannot be read or is stdin. */
static uint64_t count_lines(const char *path)
{
    if (strcmp(path, "-") == 0)
        return 0;
    gzFile f = gzopen(path, "rb");
    if (!f)
        return 0;
    char buf[1 << 16];
    uint64_t lines = 0;
    int n;
    while ((n = gzread(f, buf, sizeof buf)) > 0)
        for (const char *p = buf; (p = memchr(p, '\n', (size_t)(buf + n - p))) != NULL; p++)
            lines++;
    gzclose(f);
    return lines;
}

static double elapsed(const struct mts_progress *p)
{
    struct timeval now;
    gettimeofday(&now, NULL);
    return (double)(now.tv_sec - p->t0.tv_sec) + (double)(now.tv_usec - p->t0.tv_usec) / 1e6;
}

static void format_line(const struct mts_progress *p, const struct mts_progress_counts *c,
                        char *buf, size_t len)
{
    double secs = elapsed(p);
    double rate = secs > 0 ? (double)c->done / secs : 0;
    int n = snprintf(buf, len, "%llu", (unsigned long long)c->done);
    if (p->total && n > 0 && (size_t)n < len)
        n += snprintf(buf + n, len - (size_t)n, "/~%llu", (unsigned long long)p->total);
    if (n > 0 && (size_t)n < len)
        n += snprintf(buf + n, len - (size_t)n, " domains  %.0f/s", rate);
    if (p->total > c->done && rate > 0 && n > 0 && (size_t)n < len) {
        unsigned eta = (unsigned)((double)(p->total - c->done) / rate);
        n += snprintf(buf + n, len - (size_t)n, "  ETA ~%um%02us", eta / 60, eta % 60);
    }
    if (n > 0 && (size_t)n < len)
        snprintf(buf + n, len - (size_t)n,
                 "  in flight %llu  dns %llu q (%llu timeouts)  policies %llu",
                 (unsigned long long)c->inflight, (unsigned long long)c->dns_queries,
                 (unsigned long long)c->dns_timeouts, (unsigned long long)c->policy_fetches);
}

static void on_tick(evutil_socket_t fd, short what, void *arg)
{
    (void)fd;
    (void)what;
    struct mts_progress *p = arg;
    struct mts_progress_counts c = {0};
    char line[256];
    p->fill(p->arg, &c);
    format_line(p, &c, line, sizeof line);
    if (p->live) {
        fprintf(p->out, "\r\033[K%s", line);
        p->line_open = true;
    } else {
        fprintf(p->out, "progress: %s\n", line);
    }
    fflush(p->out);
}

struct mts_progress *mts_progress_new(struct event_base *base, const char *const *inputs,
                                      size_t ninputs, bool live, bool plain, FILE *out,
                                      mts_progress_fill_cb *fill, void *arg)
{
    struct mts_progress *p = calloc(1, sizeof *p);
    if (!p)
        return NULL;
    p->out = out;
    p->live = live;
    p->plain = plain;
    p->fill = fill;
    p->arg = arg;
    gettimeofday(&p->t0, NULL);
    if (!live && !plain)
        return p;
    for (size_t i = 0; i < ninputs; i++)
        p->total += count_lines(inputs[i]);
    p->timer = event_new(base, -1, EV_PERSIST, on_tick, p);
    struct timeval tv = {live ? 1 : 5, 0};
    if (!p->timer || event_add(p->timer, &tv) != 0) {
        mts_progress_free(p);
        return NULL;
    }
    return p;
}

static void end_line(struct mts_progress *p)
{
    if (p->line_open) {
        fputc('\n', p->out);
        p->line_open = false;
    }
}

void mts_progress_note(struct mts_progress *p, const char *fmt, ...)
{
    if (!p || (!p->live && !p->plain))
        return;
    end_line(p);
    va_list ap;
    va_start(ap, fmt);
    vfprintf(p->out, fmt, ap);
    va_end(ap);
    fputc('\n', p->out);
    fflush(p->out);
}

void mts_progress_final(struct mts_progress *p, const struct mts_progress_counts *c,
                        const char *state, bool resuming)
{
    if (!p || (!p->live && !p->plain))
        return;
    end_line(p);
    fprintf(p->out, "scan %s: %llu domains in %.1f s", state, (unsigned long long)c->done,
            elapsed(p));
    if (resuming)
        fprintf(p->out, " (%llu resumed, %llu new)", (unsigned long long)c->resumed,
                (unsigned long long)(c->done - c->resumed));
    fputc('\n', p->out);
    fflush(p->out);
}

void mts_progress_free(struct mts_progress *p)
{
    if (!p)
        return;
    if (p->timer)
        event_free(p->timer);
    free(p);
}
