/*
 * Progress of a scan for the operator: on a terminal a live line redrawn every second,
 * elsewhere a plain status line every few seconds, nothing with --quiet. Runs on the
 * scan's event loop; it only reads counters through the fill callback.
 */
#ifndef MTS_PROGRESS_H
#define MTS_PROGRESS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include <event2/event.h>

struct mts_progress_counts {
    uint64_t done;    /* domains committed (including those a resume skipped) */
    uint64_t resumed; /* of done, the domains a resume found committed and skipped */
    uint64_t inflight;
    uint64_t dns_queries, dns_timeouts;
    uint64_t policy_fetches;
};

typedef void mts_progress_fill_cb(void *arg, struct mts_progress_counts *counts);

struct mts_progress;

/*
 * live: redraw one line every second (for a terminal); plain: print a line every five
 * seconds; neither: stay silent. The total is estimated by counting the lines of the
 * input files (not stdin). inputs and out are borrowed for the reporter's lifetime.
 * Returns NULL only when out of memory (then the scan runs silently).
 */
struct mts_progress *mts_progress_new(struct event_base *base, const char *const *inputs,
                                      size_t ninputs, bool live, bool plain, FILE *out,
                                      mts_progress_fill_cb *fill, void *arg);

/* Prints a one-off message on its own line (unless silent). NULL is a no-op. */
void mts_progress_note(struct mts_progress *p, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

/* Prints the closing summary line (unless silent); after --resume (resuming) it also says
   how many domains were resumed and how many are new. NULL is a no-op. */
void mts_progress_final(struct mts_progress *p, const struct mts_progress_counts *counts,
                        const char *state, bool resuming);

void mts_progress_free(struct mts_progress *p);

#endif
