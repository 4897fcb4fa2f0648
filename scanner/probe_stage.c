/*
 * Stage 2 of a two-stage scan. Two phases:
 *
 *   COLLECT  walk the scan's domain records in every stage-1 store; every MX probe entry
 *            without "skip" whose address falls in this shard goes into a set of distinct
 *            (host, address) pairs, bounded in bytes by --mx-cache-bytes
 *   PROBE    one STARTTLS probe per pair, at most --smtp-max at once, each record handed
 *            to the store's writer under the same scan id
 *
 * The records of stage 1 are this scanner's own, but they are read as data: a malformed
 * entry is passed over. Stage 1 already applied every skip rule (opt-out list, special
 * addresses, --max-addrs, scope), so stage 2 probes exactly what the records list.
 */
#include <errno.h>
#include <math.h>
#include <signal.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/time.h>

#include <event2/event.h>
#include <jansson.h>
#include <openssl/crypto.h>
#include <openssl/rand.h>

#include "conn_limit.h"
#include "mts_hash.h"
#include "mts_store.h"
#include "mts_vocab.h"
#include "mts_writer.h"
#include "mxprobe_cache.h"
#include "pipeline.h"
#include "probe_stage.h"
#include "smtp_probe.h"
#include "writer_watch.h"

/* Distinct (host, address) pairs: open addressing over "host\0addr" strings. The host
   names come from DNS answers, so the hash key is drawn per run (no crafted collisions). */
struct pair_set {
    char **slot; /* owned, cap of them; NULL: empty */
    size_t cap, n;
    size_t bytes; /* the table and its strings, with allocator overhead */
    uint8_t key[16];
};

#define PAIR_OVERHEAD 16 /* what malloc adds to a small string, roughly */

struct stage {
    const struct mts_scan_config *cfg;
    struct event_base *base;
    struct mts_store *store;
    struct mts_writer *writer;
    struct mts_conn_limit *limit;
    struct mts_smtp *smtp;
    struct mts_mxprobe_cache *probes;
    struct mts_writer_watch *watch;
    struct event *sigint_ev, *sigterm_ev, *grace_ev, *fill_ev;

    struct pair_set set;
    size_t next; /* the next slot of set to probe */
    unsigned inflight;
    bool stopping, abandoned;
    int signals;
    int err;
    char errmsg[256];
    double t0;
    uint64_t listed, probed, resumed, refused, local_errors, queue_timeouts;
};

static double now_seconds(void)
{
    struct timeval tv;
    gettimeofday(&tv, NULL);
    return (double)tv.tv_sec + (double)tv.tv_usec / 1e6;
}

unsigned mts_probe_stage_shard_of(const char *addr, unsigned n)
{
    return mts_shard_of(addr, strlen(addr), n);
}

static void stage_fail(struct stage *s, int err, const char *what)
{
    if (s->err)
        return;
    s->err = err ? err : -EIO;
    snprintf(s->errmsg, sizeof s->errmsg, "%s", what);
    s->stopping = true;
    if (s->base)
        event_base_loopbreak(s->base);
}

/* ---- the pair set -------------------------------------------------------------------- */

static size_t pair_len(const char *pair)
{
    size_t h = strlen(pair);
    return h + 1 + strlen(pair + h + 1);
}

static size_t pair_slot(const struct pair_set *set, const char *pair, size_t len)
{
    size_t i = (size_t)mts_siphash24(set->key, pair, len) & (set->cap - 1);
    while (set->slot[i] && !(pair_len(set->slot[i]) == len && memcmp(set->slot[i], pair, len) == 0))
        i = (i + 1) & (set->cap - 1);
    return i;
}

static int pair_set_grow(struct pair_set *set)
{
    size_t cap = set->cap ? set->cap * 2 : 1024;
    char **old = set->slot;
    size_t old_cap = set->cap;
    if (!(set->slot = calloc(cap, sizeof *set->slot))) {
        set->slot = old;
        return -ENOMEM;
    }
    set->cap = cap;
    set->bytes += (cap - old_cap) * sizeof *set->slot;
    for (size_t i = 0; i < old_cap; i++)
        if (old[i])
            set->slot[pair_slot(set, old[i], pair_len(old[i]))] = old[i];
    free(old);
    return 0;
}

/* Adds (host, addr) unless present. Returns 0, -ENOMEM or -E2BIG (past max_bytes). */
static int pair_set_add(struct pair_set *set, const char *host, const char *addr, size_t max_bytes)
{
    size_t hl = strlen(host), al = strlen(addr), len = hl + 1 + al;
    char *pair = malloc(len + 1);
    if (!pair)
        return -ENOMEM;
    memcpy(pair, host, hl + 1);
    memcpy(pair + hl + 1, addr, al + 1);
    if (set->cap && set->slot[pair_slot(set, pair, len)]) {
        free(pair);
        return 0;
    }
    int rc = 0;
    if ((set->n + 1) * 2 > set->cap) {
        size_t table = (set->cap ? set->cap : 1024) * sizeof *set->slot;
        rc = set->bytes + table > max_bytes ? -E2BIG : pair_set_grow(set);
    }
    if (rc == 0 && set->bytes + len + 1 + PAIR_OVERHEAD > max_bytes)
        rc = -E2BIG;
    if (rc != 0) {
        free(pair);
        return rc;
    }
    set->slot[pair_slot(set, pair, len)] = pair;
    set->n++;
    set->bytes += len + 1 + PAIR_OVERHEAD;
    return 0;
}

static void pair_set_free(struct pair_set *set)
{
    for (size_t i = 0; i < set->cap; i++)
        free(set->slot[i]);
    free(set->slot);
}

/* ---- COLLECT ------------------------------------------------------------------------- */

/* Takes the pairs of one domain record that stage 1 left for stage 2 in this shard. */
static int collect_domain(void *arg, const char *domain, json_t *rec)
{
    struct stage *s = arg;
    (void)domain;
    size_t i, j;
    json_t *mx, *probe;
    int rc = 0;
    json_array_foreach(json_object_get(rec, "mx"), i, mx)
    {
        const char *host = json_string_value(json_object_get(mx, "host"));
        json_array_foreach(json_object_get(mx, "probes"), j, probe)
        {
            const char *addr = json_string_value(json_object_get(probe, "addr"));
            if (!host || !addr || json_object_get(probe, "skip"))
                continue;
            s->listed++;
            if (mts_probe_stage_shard_of(addr, s->cfg->shard_n) != s->cfg->shard_k)
                continue;
            if ((rc = pair_set_add(&s->set, host, addr, s->cfg->mx_cache_bytes)) != 0)
                break;
        }
        if (rc)
            break;
    }
    json_decref(rec);
    return rc;
}

/* Checks that dir holds stage 1 of the scan, complete, and collects its pairs. */
static int collect_store(struct stage *s, const char *dir, char *err, size_t errlen)
{
    const char *id = s->cfg->scan_id;
    struct mts_store *in = NULL;
    json_t *meta = NULL;
    int rc = mts_store_open(&in, dir, MTS_STORE_RDONLY, 0);
    if (rc == 0 && (rc = mts_store_scan_get(in, id, &meta)) != 0)
        snprintf(err, errlen, "%s: no scan '%s': %s", dir, id, mts_store_strerror(rc));
    else if (rc != 0)
        snprintf(err, errlen, "cannot open stage-1 store %s: %s", dir, mts_store_strerror(rc));
    const char *stage = json_string_value(json_object_get(meta, "stage"));
    const char *state = json_string_value(json_object_get(meta, "state"));
    if (rc == 0 && mts_scan_stage_parse(stage) != MTS_SCAN_STAGE_DNS) {
        snprintf(err, errlen, "%s: scan '%s' is not a stage-1 scan (mtasts-scan --stage dns)", dir,
                 id);
        rc = -EINVAL;
    } else if (rc == 0 && mts_scan_state_parse(state) != MTS_SCAN_COMPLETE) {
        snprintf(err, errlen, "%s: stage 1 of scan '%s' is %s: finish it (--resume) first", dir, id,
                 state ? state : "of unknown state");
        rc = -EINVAL;
    }
    if (rc == 0) {
        rc = mts_store_foreach_domain(in, id, collect_domain, s);
        if (rc == -E2BIG)
            snprintf(err, errlen,
                     "the (MX host, address) pairs of this shard pass --mx-cache-bytes %u: "
                     "raise it or use more stage-2 shards",
                     s->cfg->mx_cache_bytes);
        else if (rc != 0)
            snprintf(err, errlen, "%s: %s", dir,
                     rc == -ENOMEM ? "out of memory" : mts_store_strerror(rc));
    }
    json_decref(meta);
    mts_store_close(in);
    return rc;
}

/* ---- PROBE --------------------------------------------------------------------------- */

static void stage_fill(struct stage *s);

static void on_probe_done(void *arg, const json_t *record)
{
    struct stage *s = arg;
    (void)record;
    s->inflight--;
    /* Not from inside the prober's callback: the next probes start on the next loop turn. */
    event_active(s->fill_ev, EV_TIMEOUT, 1);
}

/* The cache's hook: the one full record of a pair goes to the writer. */
static void on_probe_finished(void *arg, const char *host, const char *addr, json_t *record)
{
    struct stage *s = arg;
    if (s->err) {
        json_decref(record);
        return;
    }
    enum mts_smtp_result r =
        mts_smtp_result_parse(json_string_value(json_object_get(record, "result")));
    s->local_errors += r == MTS_SMTP_LOCAL_ERROR;
    s->queue_timeouts += r == MTS_SMTP_QUEUE_TIMEOUT;
    int rc = mts_writer_put_mxprobe(s->writer, s->cfg->scan_id, host, addr, record);
    if (rc != 0)
        stage_fail(s, rc, mts_store_strerror(rc));
}

static bool stage_done(const struct stage *s)
{
    return s->next == s->set.cap && s->inflight == 0;
}

/* Starts probes until --smtp-max run, the pairs end or the writer is behind. */
static void stage_fill(struct stage *s)
{
    const struct mts_scan_config *c = s->cfg;
    while (!s->stopping && s->next < s->set.cap && s->inflight < c->smtp_max &&
           !mts_writer_behind(s->writer)) {
        const char *host = s->set.slot[s->next++];
        if (!host)
            continue;
        const char *addr = host + strlen(host) + 1;
        json_t *done = NULL;
        if (c->resume && mts_store_mxprobe_get(s->store, c->scan_id, host, addr, &done) == 0) {
            json_decref(done);
            s->resumed++;
            continue;
        }
        int rc = mts_mxprobe_request(s->probes, host, addr, on_probe_done, s);
        if (rc == -ENOMEM) {
            stage_fail(s, rc, "out of memory");
            return;
        }
        if (rc != 0) {
            s->refused++; /* the prober would not take this host: no record */
            continue;
        }
        s->inflight++;
        s->probed++;
    }
    if (stage_done(s) || (s->stopping && s->inflight == 0))
        event_base_loopbreak(s->base);
}

static void on_grace_over(evutil_socket_t fd, short what, void *arg)
{
    struct stage *s = arg;
    (void)fd;
    (void)what;
    s->abandoned = true;
    event_base_loopbreak(s->base);
}

static void on_signal(evutil_socket_t sig, short what, void *arg)
{
    struct stage *s = arg;
    (void)sig;
    (void)what;
    if (++s->signals > 1 || s->inflight == 0) {
        s->abandoned = s->inflight > 0;
        event_base_loopbreak(s->base);
        return;
    }
    s->stopping = true;
    struct timeval tv = {s->cfg->grace_ms / 1000, (s->cfg->grace_ms % 1000) * 1000};
    s->grace_ev = evtimer_new(s->base, on_grace_over, s);
    if (s->grace_ev)
        evtimer_add(s->grace_ev, &tv);
}

static void on_fill(evutil_socket_t fd, short what, void *arg)
{
    (void)fd;
    (void)what;
    stage_fill(arg);
}

/* The writer drained after falling behind: start probes again. */
static void on_writer_drained(void *arg)
{
    stage_fill(arg);
}

/* ---- the store and the engines ------------------------------------------------------- */

static int put_meta(struct stage *s, json_t *prev, enum mts_scan_state state)
{
    const struct mts_scan_config *c = s->cfg;
    char shard[32];
    snprintf(shard, sizeof shard, "%u/%u", c->shard_k, c->shard_n);
    json_t *meta = json_pack("{s:i, s:s, s:s, s:s, s:s, s:s, s:s}", "v", 1, "scan", c->scan_id,
                             "stage", mts_scan_stage_name(MTS_SCAN_STAGE_PROBES), "state",
                             mts_scan_state_name(state), "shard", shard, "version", MTS_VERSION,
                             "openssl", OpenSSL_version(OPENSSL_VERSION));
    if (!meta)
        return -ENOMEM;
    json_t *t0 = json_object_get(prev, "t_start");
    json_object_set_new(meta, "t_start",
                        t0 ? json_copy(t0) : json_real(floor(s->t0 * 1000.0 + 0.5) / 1000.0));
    if (state != MTS_SCAN_RUNNING)
        json_object_set_new(meta, "t_end", json_real(floor(now_seconds() * 1000.0 + 0.5) / 1000.0));
    json_t *argv = json_array(), *sources = json_array();
    for (int i = 0; i < c->argc; i++)
        json_array_append_new(argv, json_string(c->argv[i]));
    for (size_t i = 0; i < c->nprobe_from; i++)
        json_array_append_new(sources, json_string(c->probe_from[i]));
    json_object_set_new(meta, "argv", argv);
    json_object_set_new(meta, "sources", sources);
    json_object_set_new(meta, "limits",
                        json_pack("{s:I, s:i, s:i, s:i}", "open_files", (json_int_t)c->open_files,
                                  "smtp_max", (int)c->smtp_max, "per_ip", (int)c->per_ip,
                                  "queue_timeout_ms", (int)c->queue_ms));
    if (state != MTS_SCAN_RUNNING)
        json_object_set_new(meta, "counts",
                            json_pack("{s:I, s:I, s:I, s:I, s:I, s:I, s:I}", "listed",
                                      (json_int_t)s->listed, "pairs", (json_int_t)s->set.n,
                                      "probes", (json_int_t)s->probed, "resumed",
                                      (json_int_t)s->resumed, "refused", (json_int_t)s->refused,
                                      "local_errors", (json_int_t)s->local_errors, "queue_timeouts",
                                      (json_int_t)s->queue_timeouts));
    return mts_writer_put_scan(s->writer, c->scan_id, meta);
}

/* Opens the output store: a new scan, or with --resume the same shard of stage 2. */
static int open_store(struct stage *s, json_t **prev, char *err, size_t errlen)
{
    const struct mts_scan_config *c = s->cfg;
    int rc = mts_store_open(&s->store, c->db, MTS_STORE_CREATE, 0);
    if (rc != 0) {
        snprintf(err, errlen, "cannot open store %s: %s", c->db, mts_store_strerror(rc));
        return rc;
    }
    rc = mts_store_scan_get(s->store, c->scan_id, prev);
    char shard[32];
    snprintf(shard, sizeof shard, "%u/%u", c->shard_k, c->shard_n);
    const char *was = json_string_value(json_object_get(*prev, "shard"));
    const char *stage = json_string_value(json_object_get(*prev, "stage"));
    if (c->resume && rc == MTS_STORE_NOTFOUND) {
        snprintf(err, errlen, "no scan '%s' in %s to resume", c->scan_id, c->db);
        return rc;
    }
    if (c->resume && rc == 0 && mts_scan_stage_parse(stage) != MTS_SCAN_STAGE_PROBES) {
        snprintf(err, errlen, "scan '%s' in %s is not a stage-2 scan", c->scan_id, c->db);
        return -EINVAL;
    }
    if (c->resume && rc == 0 && was && strcmp(was, shard) != 0) {
        snprintf(err, errlen, "scan '%s' is shard %s, not %s: resume it with --shard %s",
                 c->scan_id, was, shard, was);
        return -EINVAL;
    }
    if (!c->resume && rc == 0) {
        snprintf(err, errlen, "scan '%s' already exists in %s: use --resume or another --db",
                 c->scan_id, c->db);
        return -EEXIST;
    }
    struct mts_writer_watch_opts wo = {
        .backlog = c->writer_backlog, .on_drained = on_writer_drained, .arg = s};
    rc = mts_writer_watch_start(&s->watch, s->base, s->store, &wo, err, errlen);
    s->writer = mts_writer_watch_writer(s->watch);
    return rc;
}

static int open_engines(struct stage *s, char *err, size_t errlen)
{
    const struct mts_scan_config *c = s->cfg;
    int rc = mts_conn_limit_new(&s->limit, s->base, c->per_ip, c->smtp_max);
    if (rc != 0) {
        snprintf(err, errlen, "connection limits: out of memory");
        return rc;
    }
    mts_conn_limit_set_wait_ms(s->limit, c->queue_ms);
    struct mts_smtp_opts sopts = mts_pipeline_smtp_opts(c, s->limit);
    if ((rc = mts_smtp_new(&s->smtp, s->base, &sopts)) != 0) {
        snprintf(err, errlen, "SMTP prober: %s", mts_smtp_strerror(rc));
        return rc;
    }
    if ((rc = mts_mxprobe_cache_new(&s->probes, s->smtp, on_probe_finished, s)) != 0) {
        snprintf(err, errlen, "MX probe cache: out of memory");
        return rc;
    }
    /* Every pair is asked once: finished entries may all be forgotten. */
    mts_mxprobe_cache_set_max_bytes(s->probes, 1);
    return 0;
}

static void close_engines(struct stage *s)
{
    /* The prober first: it aborts its sessions without calling back. */
    mts_smtp_free(s->smtp);
    mts_mxprobe_cache_free(s->probes);
    mts_conn_limit_free(s->limit);
    s->smtp = NULL;
    s->probes = NULL;
    s->limit = NULL;
}

static int install_signals(struct stage *s)
{
    s->sigint_ev = evsignal_new(s->base, SIGINT, on_signal, s);
    s->sigterm_ev = evsignal_new(s->base, SIGTERM, on_signal, s);
    s->fill_ev = event_new(s->base, -1, 0, on_fill, s);
    if (!s->sigint_ev || !s->sigterm_ev || !s->fill_ev || evsignal_add(s->sigint_ev, NULL) ||
        evsignal_add(s->sigterm_ev, NULL))
        return -ENOMEM;
    return 0;
}

/* The last line says how stage 2 ended (the recipes read it). */
static void report_end(const struct stage *s, const char *state)
{
    if (s->cfg->quiet)
        return;
    if (s->local_errors || s->queue_timeouts)
        fprintf(stderr,
                "%llu probes could not be made on this machine (local-error) and %llu waited "
                "past --queue-timeout (queue-timeout): not facts about the servers\n",
                (unsigned long long)s->local_errors, (unsigned long long)s->queue_timeouts);
    fprintf(stderr,
            "scan %s: %llu MX probes of %zu (MX host, address) pairs in shard %u/%u in %.1f s",
            state, (unsigned long long)s->probed, s->set.n, s->cfg->shard_k, s->cfg->shard_n,
            now_seconds() - s->t0);
    if (s->cfg->resume)
        fprintf(stderr, " (%llu resumed)", (unsigned long long)s->resumed);
    fputc('\n', stderr);
}

int mts_probe_stage_run(const struct mts_scan_config *cfg, char *err, size_t errlen)
{
    struct stage s = {.cfg = cfg, .t0 = now_seconds()};
    json_t *prev = NULL;
    int rc = RAND_bytes(s.set.key, sizeof s.set.key) == 1 ? 0 : -EIO;
    if (rc != 0)
        snprintf(err, errlen, "no random bytes for the pair table's key");
    for (size_t i = 0; rc == 0 && i < cfg->nprobe_from; i++)
        rc = collect_store(&s, cfg->probe_from[i], err, errlen);
    if (rc != 0)
        goto out;
    if (!(s.base = event_base_new())) {
        snprintf(err, errlen, "cannot create the event loop");
        rc = -ENOMEM;
        goto out;
    }
    if ((rc = open_store(&s, &prev, err, errlen)) != 0 || (rc = open_engines(&s, err, errlen)) != 0)
        goto out;
    /* Signals first: once the scan is recorded as running, SIGTERM ends it cleanly. */
    if ((rc = install_signals(&s)) != 0) {
        snprintf(err, errlen, "cannot install signal handlers");
        goto out;
    }
    if ((rc = put_meta(&s, prev, MTS_SCAN_RUNNING)) != 0 ||
        (rc = mts_writer_flush(s.writer)) != 0) {
        snprintf(err, errlen, "cannot record the scan: %s", mts_store_strerror(rc));
        goto out;
    }
    stage_fill(&s);
    if (!s.err && !stage_done(&s))
        event_base_dispatch(s.base);

    bool complete = stage_done(&s) && !s.abandoned && !s.err;
    close_engines(&s);
    enum mts_scan_state end = complete ? MTS_SCAN_COMPLETE : MTS_SCAN_INTERRUPTED;
    int mrc = put_meta(&s, prev, end);
    int frc = mts_writer_flush(s.writer);
    if (s.err) {
        rc = s.err;
        snprintf(err, errlen, "%s", s.errmsg);
    } else if (mrc || frc) {
        rc = mrc ? mrc : frc;
        snprintf(err, errlen, "cannot record the scan: %s", mts_store_strerror(rc));
    } else {
        report_end(&s, mts_scan_state_name(end));
    }

out:
    close_engines(&s);
    int wrc = mts_writer_watch_stop(s.watch);
    if (!rc && wrc) {
        rc = wrc;
        snprintf(err, errlen, "store: %s", mts_store_strerror(wrc));
    }
    if (s.sigint_ev)
        event_free(s.sigint_ev);
    if (s.sigterm_ev)
        event_free(s.sigterm_ev);
    if (s.grace_ev)
        event_free(s.grace_ev);
    if (s.fill_ev)
        event_free(s.fill_ev);
    mts_store_close(s.store);
    if (s.base)
        event_base_free(s.base);
    pair_set_free(&s.set);
    json_decref(prev);
    return rc;
}
