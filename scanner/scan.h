/*
 * The one-stage scan as its two halves see it: the lifecycle (scan.c: store, engines,
 * signals, admission, the scan record) and the jobs with their stages (pipeline.c).
 * Nothing outside the scanner sees it; the entry point is mts_pipeline_run (pipeline.h).
 */
#ifndef MTS_SCAN_H
#define MTS_SCAN_H

#include <jansson.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>

#include <event2/event.h>

#include "addr_policy.h"
#include "conn_limit.h"
#include "dns_engine.h"
#include "https_fetch.h"
#include "mts_exclude.h"
#include "mts_input.h"
#include "mts_store.h"
#include "mts_writer.h"
#include "mxprobe_cache.h"
#include "progress.h"
#include "rua_tls.h"
#include "scan_config.h"
#include "smtp_probe.h"
#include "writer_watch.h"

struct job;

struct scan {
    const struct mts_scan_config *cfg;
    const struct mts_exclude *ex;
    struct mts_addr_policy addr_policy; /* from cfg and ex */
    struct event_base *base;
    struct mts_store *store;
    struct mts_writer_watch *watch;
    struct mts_writer *writer; /* the watch's */
    struct mts_input *input;
    struct mts_dns *dns;
    struct mts_https *https;
    struct mts_conn_limit *https_limit, *smtp_limit;
    struct mts_smtp *smtp;
    struct mts_mxprobe_cache *probes;
    struct mts_rua_tls *rua_tls; /* TLS checks of https: report hosts; NULL with --no-https */
    struct mts_progress *progress;
    struct event *sigint_ev, *sigterm_ev, *grace_ev;
    struct event *lag_ev; /* a steady tick that measures how late the loop runs timers */
    double lag_due, lag_max_ms;

    struct job *jobs; /* in flight */
    unsigned inflight;
    bool input_done, stopping, abandoned;
    int signals;
    int err; /* first fatal error; stops the scan */
    char errmsg[256];

    struct mts_dns_stats dns_final; /* the engine's counters, kept when it is freed */
    uint64_t resumed, finished, policy_fetches;
    uint64_t local_errors, queue_timeouts; /* probes and fetches this scan could not make */
    _Atomic uint64_t committed_domains;
};

/* scan.c */

/* Ends the scan for a fault of the process (the first one is kept). */
void mts_scan_fail(struct scan *s, int err, const char *what);
/* Starts jobs until the concurrency bound is reached, the input ends or the writer is
   behind (the writer watch calls again). */
void mts_scan_fill(struct scan *s);
/* Counts a probe or fetch that this machine or the admission deadline kept from the net. */
void mts_scan_count_unmade(struct scan *s, bool local_error, bool queue_timeout);

/* pipeline.c */

/* Starts the job of domain (copied); a failure ends the scan. */
void mts_job_start(struct scan *s, const char *domain);
/* Frees every job still in flight, after the engines were freed. */
void mts_jobs_free(struct scan *s);

#endif
