/*
 * Scan-wide de-duplication of STARTTLS probes: each (MX host, address) is probed once per
 * scan however many domains use it. The first request starts the probe; requests while it
 * runs join it; later requests are answered without the record (it is in the store). The
 * full record is handed once to on_finished (the pipeline stores it in the mxprobes
 * database) before any request for it is answered, so a domain record never refers to a
 * probe record that is not yet stored.
 *
 * Memory: one entry per distinct key, holding the key (about 100 bytes with allocator
 * overhead: ~10 MB for 100,000 MX addresses); the record itself is released as soon as
 * the waiting requests have seen it. The entries are bounded in bytes
 * (mts_mxprobe_cache_set_max_bytes): past the bound the oldest finished keys are forgotten,
 * and a forgotten key asked again is probed again (its store record is replaced). A probe
 * that ended in local-error (this machine's fault) is forgotten at once in the same way.
 *
 * Errors are negative errno values. Not thread-safe: one event loop owns a cache.
 */
#ifndef MTS_MXPROBE_CACHE_H
#define MTS_MXPROBE_CACHE_H

#include <jansson.h>

#include "smtp_probe.h"

struct mts_mxprobe_cache;

/*
 * Creates a cache that starts probes with smtp (borrowed; must outlive the cache's last
 * running probe) and answers on smtp's event loop. on_finished (may be NULL) is called
 * once per key, before the requests of that key are answered, with host and addr borrowed
 * for the call and a new reference to the finished record that the hook owns (it may hand
 * it to the store's writer, which takes ownership). Returns 0, -EINVAL or -ENOMEM.
 */
int mts_mxprobe_cache_new(struct mts_mxprobe_cache **out, struct mts_smtp *smtp,
                          void (*on_finished)(void *arg, const char *host, const char *addr,
                                              json_t *record),
                          void *arg);

/*
 * Asks for the probe of (host, addr) (both copied; the caller normalises them; host in
 * presentation form, escapes and all, as the domain record writes it). done is
 * called exactly once, from the event loop and never from inside this call, with the
 * record (borrowed for the call); record is NULL when the probe had finished before this
 * request (read it from the store). done may make new requests.
 * done must not free the cache. Returns 0, or -EINVAL / -ENOMEM (also when the probe
 * could not start); done is then never called.
 */
int mts_mxprobe_request(struct mts_mxprobe_cache *cache, const char *host, const char *addr,
                        void (*done)(void *arg, const json_t *record), void *arg);

/* Bounds the bytes of the entries (0: no bound, the default). */
void mts_mxprobe_cache_set_max_bytes(struct mts_mxprobe_cache *cache, size_t max_bytes);

struct mts_mxprobe_cache_stats {
    unsigned long keys;     /* keys probed (a forgotten key asked again counts again) */
    unsigned long evicted;  /* finished keys forgotten for the byte bound */
    size_t bytes;           /* bytes of the entries held now */
    unsigned long running;  /* probes running now */
    unsigned long requests; /* requests made */
    unsigned long joined;   /* requests that joined a running probe */
    unsigned long hits;     /* requests answered from a finished probe */
};
void mts_mxprobe_cache_stats(const struct mts_mxprobe_cache *cache,
                             struct mts_mxprobe_cache_stats *st);

/*
 * Frees the cache and drops pending requests without calling them. Free the prober first
 * (mts_smtp_free aborts its sessions) or call this only when no probe is running.
 */
void mts_mxprobe_cache_free(struct mts_mxprobe_cache *cache);

#endif
