/*
 * Why: a scan of millions of domains runs for hours and is stopped, killed and resumed;
 * what it promises (a record for every committed domain, a scan record saying how it
 * ended, counts that add up, a clean stop on SIGINT/SIGTERM) does not depend on what a
 * domain's stages do. This file keeps those promises: it opens the store and the engines,
 * admits domains from the input (skipping the committed ones on --resume), watches the
 * signals and the loop's punctuality, and writes the scan record at the start and the end.
 * The jobs and their stages are in pipeline.c.
 */
#include <errno.h>
#include <math.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <event2/event.h>
#include <jansson.h>
#include <openssl/crypto.h>

#include "domain_record.h"
#include "mts_defaults.h"
#include "mts_util.h"
#include "mts_vocab.h"
#include "pipeline.h"
#include "scan.h"

#define LAG_TICK_MS 100

void mts_scan_fail(struct scan *s, int err, const char *what)
{
    if (s->err)
        return;
    s->err = err ? err : -EIO;
    snprintf(s->errmsg, sizeof s->errmsg, "%s", what);
    s->stopping = true;
    event_base_loopbreak(s->base);
}

/* Counts a probe or fetch that this machine or the admission deadline kept from the net. */
void mts_scan_count_unmade(struct scan *s, bool local_error, bool queue_timeout)
{
    s->local_errors += local_error;
    s->queue_timeouts += queue_timeout;
}

static void scan_finish_if_idle(struct scan *s)
{
    if (s->inflight == 0 && (s->input_done || s->stopping))
        event_base_loopbreak(s->base);
}

void mts_scan_fill(struct scan *s)
{
    while (!s->stopping && !s->input_done && s->inflight < s->cfg->concurrency &&
           !mts_writer_behind(s->writer)) {
        const char *name;
        int rc = mts_input_next(s->input, &name);
        if (rc == 0) {
            s->input_done = true;
            break;
        }
        if (rc < 0) {
            mts_scan_fail(s, rc, mts_input_message(s->input));
            return;
        }
        if (s->cfg->resume && mts_store_domain_done(s->store, s->cfg->scan_id, name)) {
            s->resumed++;
            continue;
        }
        mts_job_start(s, name);
    }
    scan_finish_if_idle(s);
}

static void on_grace_over(evutil_socket_t fd, short what, void *arg)
{
    (void)fd;
    (void)what;
    struct scan *s = arg;
    s->abandoned = true;
    event_base_loopbreak(s->base);
}

static void on_signal(evutil_socket_t sig, short what, void *arg)
{
    (void)what;
    struct scan *s = arg;
    s->signals++;
    if (s->signals > 1) {
        s->abandoned = s->inflight > 0;
        event_base_loopbreak(s->base);
        return;
    }
    mts_progress_note(s->progress, "%s: finishing %u domains in flight (again to stop now)",
                      strsignal((int)sig), s->inflight);
    s->stopping = true;
    if (s->inflight == 0) {
        event_base_loopbreak(s->base);
        return;
    }
    struct timeval tv = {s->cfg->grace_ms / 1000, (s->cfg->grace_ms % 1000) * 1000};
    s->grace_ev = evtimer_new(s->base, on_grace_over, s);
    if (s->grace_ev)
        evtimer_add(s->grace_ev, &tv);
}

/* Every measured timeout is only as good as the loop's punctuality: the scan records the
   worst lateness of a steady tick (a loop blocked on the disk would show here). */
static void on_lag_tick(evutil_socket_t fd, short what, void *arg)
{
    struct scan *s = arg;
    (void)fd;
    (void)what;
    double now = mts_now_ms();
    if (now - s->lag_due > s->lag_max_ms)
        s->lag_max_ms = now - s->lag_due;
    s->lag_due = now + LAG_TICK_MS;
}

/* The writer drained after falling behind: admit domains again. */
static void on_writer_drained(void *arg)
{
    mts_scan_fill(arg);
}

static void on_commit(void *arg, const struct mts_writer_commit *info)
{
    struct scan *s = arg;
    atomic_store(&s->committed_domains, info->total_domains);
}

static void on_probe_finished(void *arg, const char *host, const char *addr, json_t *record)
{
    struct scan *s = arg;
    if (s->err) {
        json_decref(record);
        return;
    }
    enum mts_smtp_result r =
        mts_smtp_result_parse(json_string_value(json_object_get(record, "result")));
    mts_scan_count_unmade(s, r == MTS_SMTP_LOCAL_ERROR, r == MTS_SMTP_QUEUE_TIMEOUT);
    int rc = mts_writer_put_mxprobe(s->writer, s->cfg->scan_id, host, addr, record);
    if (rc != 0)
        mts_scan_fail(s, rc, mts_store_strerror(rc));
}

static void fill_progress(struct scan *s, struct mts_progress_counts *pc)
{
    struct mts_dns_stats ds = s->dns_final;
    if (s->dns)
        mts_dns_stats(s->dns, &ds);
    pc->done = atomic_load(&s->committed_domains) + s->resumed;
    pc->inflight = s->inflight;
    pc->dns_queries = ds.sent;
    pc->dns_timeouts = ds.timeouts;
    pc->policy_fetches = s->policy_fetches;
}

static void on_progress(void *arg, struct mts_progress_counts *pc)
{
    fill_progress(arg, pc);
}

/* Writes the scan's metadata record. */
static int put_scan_meta(struct scan *s, json_t *prev, enum mts_scan_state state)
{
    const struct mts_scan_config *c = s->cfg;
    json_t *meta = json_pack("{s:i, s:s, s:s, s:s, s:s}", "v", 1, "scan", c->scan_id, "state",
                             mts_scan_state_name(state), "version", MTS_VERSION, "openssl",
                             OpenSSL_version(OPENSSL_VERSION));
    if (!meta)
        return -ENOMEM;
    json_t *t0 = json_object_get(prev, "t_start");
    json_object_set_new(meta, "t_start", t0 ? json_copy(t0) : json_real(mts_record_now()));
    if (state != MTS_SCAN_RUNNING)
        json_object_set_new(meta, "t_end", json_real(mts_record_now()));
    json_t *argv = json_array(), *inputs = json_array(), *resolvers = json_array();
    for (int i = 0; i < c->argc; i++)
        json_array_append_new(argv, json_string(c->argv[i]));
    for (size_t i = 0; i < c->ninputs; i++)
        json_array_append_new(inputs, json_string(c->inputs[i]));
    for (size_t i = 0; i < c->nresolvers; i++)
        json_array_append_new(resolvers, json_string(c->resolvers[i]));
    json_object_set_new(meta, "argv", argv);
    json_object_set_new(meta, "inputs", inputs);
    json_object_set_new(meta, "resolvers", resolvers);
    char shard[32];
    snprintf(shard, sizeof shard, "%u/%u", c->shard_k, c->shard_n);
    json_object_set_new(meta, "shard", json_string(shard));
    if (c->defer_probes)
        json_object_set_new(meta, "stage", json_string(mts_scan_stage_name(MTS_SCAN_STAGE_DNS)));
    /* The limits the scan really ran with: main.c may have lowered them to fit this
       machine, and they bound what could be observed. */
    json_object_set_new(meta, "limits",
                        json_pack("{s:I, s:i, s:i, s:i, s:i, s:i}", "open_files",
                                  (json_int_t)c->open_files, "concurrency", (int)c->concurrency,
                                  "https_max", (int)c->https_max, "smtp_max", (int)c->smtp_max,
                                  "dns_tcp_max", (int)c->dns_tcp_max, "queue_timeout_ms",
                                  (int)c->queue_ms));
    char digest[65];
    if (s->input_done && mts_input_digest(s->input, digest) == 0) {
        char text[80];
        snprintf(text, sizeof text, "sha256:%s", digest);
        json_object_set_new(meta, "input_digest", json_string(text));
    }
    if (state != MTS_SCAN_RUNNING) {
        struct mts_progress_counts pc = {0};
        fill_progress(s, &pc);
        struct mts_input_stats is;
        mts_input_get_stats(s->input, &is);
        json_object_set_new(
            meta, "counts",
            json_pack("{s:I, s:I, s:I, s:I, s:I, s:I, s:I, s:I, s:I}", "domains",
                      (json_int_t)(s->finished + s->resumed), "resumed", (json_int_t)s->resumed,
                      "rejected", (json_int_t)is.rejected, "duplicates", (json_int_t)is.duplicates,
                      "excluded", (json_int_t)is.excluded, "dns_queries",
                      (json_int_t)pc.dns_queries, "policy_fetches", (json_int_t)s->policy_fetches,
                      "local_errors", (json_int_t)s->local_errors, "queue_timeouts",
                      (json_int_t)s->queue_timeouts));
        json_object_set_new(meta, "loop_lag_ms", json_real(floor(s->lag_max_ms + 0.5)));
    }
    return mts_writer_put_scan(s->writer, c->scan_id, meta);
}

static int scan_open_store(struct scan *s, json_t **prev, char *err, size_t errlen)
{
    const struct mts_scan_config *c = s->cfg;
    int rc = mts_store_open(&s->store, c->db, MTS_STORE_CREATE, 0);
    if (rc != 0) {
        snprintf(err, errlen, "cannot open store %s: %s", c->db, mts_store_strerror(rc));
        return rc;
    }
    rc = mts_store_scan_get(s->store, c->scan_id, prev);
    if (c->resume && rc == MTS_STORE_NOTFOUND) {
        snprintf(err, errlen, "no scan '%s' in %s to resume", c->scan_id, c->db);
        return rc;
    }
    char shard[32];
    snprintf(shard, sizeof shard, "%u/%u", c->shard_k, c->shard_n);
    const char *was = json_string_value(json_object_get(*prev, "shard"));
    if (c->resume && rc == 0 && was && strcmp(was, shard) != 0) {
        snprintf(err, errlen, "scan '%s' is shard %s, not %s: resume it with --shard %s",
                 c->scan_id, was, shard, was);
        return -EINVAL;
    }
    if (!c->resume && rc == 0) {
        snprintf(err, errlen, "scan '%s' already exists in %s: use --resume or another --scan-id",
                 c->scan_id, c->db);
        return -EEXIST;
    }
    struct mts_writer_watch_opts wo = {.backlog = c->writer_backlog,
                                       .on_drained = on_writer_drained,
                                       .arg = s,
                                       .on_commit = on_commit,
                                       .on_commit_arg = s};
    rc = mts_writer_watch_start(&s->watch, s->base, s->store, &wo, err, errlen);
    s->writer = mts_writer_watch_writer(s->watch);
    return rc;
}

static int scan_open_engines(struct scan *s, char *err, size_t errlen)
{
    const struct mts_scan_config *c = s->cfg;
    struct mts_dns_opts dopts = {
        .resolvers = c->nresolvers ? c->resolvers : NULL,
        .nresolvers = c->nresolvers,
        .timeout_ms = c->timeout_dns_ms,
        .tries = c->dns_tries,
        .max_inflight = c->dns_inflight,
        .rate_qps = c->rate,
        .max_tcp = c->dns_tcp_max,
        .cache_bytes = c->dns_cache_bytes,
    };
    int rc = mts_dns_new(&s->dns, s->base, &dopts);
    if (rc != 0) {
        snprintf(err, errlen, "DNS engine: %s", mts_dns_strerror(rc));
        return rc;
    }
    if ((rc = mts_conn_limit_new(&s->https_limit, s->base, c->per_ip, c->https_max)) != 0 ||
        (rc = mts_conn_limit_new(&s->smtp_limit, s->base, c->per_ip, c->smtp_max)) != 0) {
        snprintf(err, errlen, "connection limits: out of memory");
        return rc;
    }
    mts_conn_limit_set_wait_ms(s->https_limit, c->queue_ms);
    mts_conn_limit_set_wait_ms(s->smtp_limit, c->queue_ms);
    struct mts_https_opts hopts = {
        .ca_file = c->ca_file,
        .port = c->https_port,
        .connect_timeout_ms = c->timeout_connect_ms,
        .total_timeout_ms = c->timeout_https_ms,
        .max_body = c->max_body,
        .max_transfers = c->https_max,
        .user_agent = c->user_agent,
        .fetch_unauthenticated = c->fetch_unauthenticated,
        .conn_limit = s->https_limit,
    };
    if ((rc = mts_https_new(&s->https, s->base, &hopts)) != 0) {
        snprintf(err, errlen, "HTTPS fetcher: cannot start (error %d)", rc);
        return rc;
    }
    struct mts_smtp_opts sopts = mts_pipeline_smtp_opts(c, s->smtp_limit);
    if ((rc = mts_smtp_new(&s->smtp, s->base, &sopts)) != 0) {
        snprintf(err, errlen, "SMTP prober: %s", mts_smtp_strerror(rc));
        return rc;
    }
    rc = mts_mxprobe_cache_new(&s->probes, s->smtp, on_probe_finished, s);
    if (rc != 0) {
        snprintf(err, errlen, "MX probe cache: out of memory");
        return rc;
    }
    mts_mxprobe_cache_set_max_bytes(s->probes, c->mx_cache_bytes);
    if (!c->no_https &&
        (rc = mts_rua_tls_new(&s->rua_tls, s->base, s->https, MTS_DEFAULT_RUA_TLS_BYTES)) != 0) {
        snprintf(err, errlen, "TLS-RPT host checks: out of memory");
        return rc;
    }
    return 0;
}

static void scan_close_engines(struct scan *s)
{
    /* Engines cancel what they still hold without calling back: jobs can go afterwards. */
    mts_mxprobe_cache_free(s->probes);
    mts_rua_tls_free(s->rua_tls);
    s->rua_tls = NULL;
    mts_smtp_free(s->smtp);
    mts_https_free(s->https);
    mts_conn_limit_free(s->smtp_limit);
    mts_conn_limit_free(s->https_limit);
    if (s->dns)
        mts_dns_stats(s->dns, &s->dns_final);
    mts_dns_free(s->dns);
    s->probes = NULL;
    s->smtp = NULL;
    s->https = NULL;
    s->smtp_limit = s->https_limit = NULL;
    s->dns = NULL;
    mts_jobs_free(s);
}

struct mts_smtp_opts mts_pipeline_smtp_opts(const struct mts_scan_config *c,
                                            struct mts_conn_limit *limit)
{
    unsigned stage_ms = c->timeout_smtp_ms;
    return (struct mts_smtp_opts){
        .ehlo_name = c->ehlo,
        .scan_id = c->scan_id,
        .port = c->smtp_port,
        .connect_ms = c->timeout_connect_ms,
        .banner_ms = stage_ms,
        .ehlo_ms = stage_ms,
        .starttls_ms = stage_ms,
        .handshake_ms = stage_ms,
        .session_ms = MTS_DEFAULT_SMTP_SESSION_STAGES * stage_ms,
        .ca_file = c->ca_file,
        .conn_limit = limit,
    };
}

int mts_pipeline_run(const struct mts_scan_config *cfg, const struct mts_exclude *ex, char *err,
                     size_t errlen)
{
    struct scan s = {
        .cfg = cfg,
        .ex = ex,
        .addr_policy = {.ex = ex, .ipv6 = cfg->ipv6, .allow_private = cfg->allow_private}};
    json_t *prev = NULL;
    int rc;
    char msg[512] = "";

    struct mts_input_opts io = {
        .paths = cfg->inputs,
        .npaths = cfg->ninputs,
        .strict = cfg->strict,
        .shard_k = cfg->shard_k,
        .shard_n = cfg->shard_n,
        .exclude = ex,
    };
    if ((rc = mts_input_open(&s.input, &io, msg, sizeof msg)) != 0) {
        snprintf(err, errlen, "%s", msg[0] ? msg : mts_input_strerror(rc));
        return rc;
    }
    if (!(s.base = event_base_new())) {
        snprintf(err, errlen, "cannot create the event loop");
        mts_input_free(s.input);
        return -ENOMEM;
    }
    if ((rc = scan_open_store(&s, &prev, err, errlen)) != 0 ||
        (rc = scan_open_engines(&s, err, errlen)) != 0)
        goto out;
    if ((rc = put_scan_meta(&s, prev, MTS_SCAN_RUNNING)) != 0 ||
        (rc = mts_writer_flush(s.writer)) != 0) {
        snprintf(err, errlen, "cannot record the scan: %s", mts_store_strerror(rc));
        goto out;
    }

    bool show = cfg->progress || (!cfg->quiet && isatty(STDERR_FILENO));
    bool plain = !cfg->quiet && !show;
    s.progress =
        mts_progress_new(s.base, cfg->inputs, cfg->ninputs, show, plain, stderr, on_progress, &s);
    s.sigint_ev = evsignal_new(s.base, SIGINT, on_signal, &s);
    s.sigterm_ev = evsignal_new(s.base, SIGTERM, on_signal, &s);
    if (!s.sigint_ev || !s.sigterm_ev || evsignal_add(s.sigint_ev, NULL) ||
        evsignal_add(s.sigterm_ev, NULL)) {
        snprintf(err, errlen, "cannot install signal handlers");
        rc = -ENOMEM;
        goto out;
    }

    struct timeval tick = {0, LAG_TICK_MS * 1000};
    s.lag_ev = event_new(s.base, -1, EV_PERSIST, on_lag_tick, &s);
    s.lag_due = mts_now_ms() + LAG_TICK_MS;
    if (s.lag_ev)
        event_add(s.lag_ev, &tick);
    mts_scan_fill(&s);
    if (!s.err && (s.inflight > 0 || !s.input_done))
        event_base_dispatch(s.base);

    bool complete = s.input_done && !s.abandoned && s.inflight == 0 && !s.err;
    scan_close_engines(&s);
    enum mts_scan_state end = complete ? MTS_SCAN_COMPLETE : MTS_SCAN_INTERRUPTED;
    int mrc = put_scan_meta(&s, prev, end);
    int frc = mts_writer_flush(s.writer);
    if (s.err) {
        rc = s.err;
        snprintf(err, errlen, "%s", s.errmsg);
    } else if (mrc || frc) {
        rc = mrc ? mrc : frc;
        snprintf(err, errlen, "cannot record the scan: %s", mts_store_strerror(rc));
    }
    struct mts_progress_counts pc = {.done = atomic_load(&s.committed_domains) + s.resumed,
                                     .resumed = s.resumed};
    if (s.local_errors || s.queue_timeouts)
        mts_progress_note(s.progress,
                          "%llu probes could not be made on this machine (local-error) and %llu "
                          "waited past --queue-timeout (queue-timeout): not facts about the "
                          "servers, their domains are indeterminate",
                          (unsigned long long)s.local_errors, (unsigned long long)s.queue_timeouts);
    mts_progress_final(s.progress, &pc, mts_scan_state_name(end), cfg->resume);

out:
    mts_progress_free(s.progress);
    if (s.sigint_ev)
        event_free(s.sigint_ev);
    if (s.sigterm_ev)
        event_free(s.sigterm_ev);
    if (s.grace_ev)
        event_free(s.grace_ev);
    if (s.lag_ev)
        event_free(s.lag_ev);
    scan_close_engines(&s);
    int wrc = mts_writer_watch_stop(s.watch);
    if (!rc && wrc) {
        rc = wrc;
        snprintf(err, errlen, "store: %s", mts_store_strerror(wrc));
    }
    mts_store_close(s.store);
    event_base_free(s.base);
    mts_input_free(s.input);
    json_decref(prev);
    return rc;
}
