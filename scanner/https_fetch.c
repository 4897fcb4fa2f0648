/*
 * Why this file exists: an MTA-STS sender fetches one small file over HTTPS with rules
 * stricter than a browser's (no redirects, no caching, a body bound, Web PKI for exactly
 * mta-sts.<domain>), and a scanner must record *why* a fetch failed rather than merely
 * that it did. libcurl does the HTTP; this file decides what it may do and what is kept:
 *
 * - Names are never resolved here: every transfer gets CURLOPT_CONNECT_TO with a numeric
 *   address from the scanner's DNS, so curl's resolver (a thread per lookup) never runs.
 * - curl's own certificate checks are off; the TLS library records the first verification
 *   error and lets the handshake finish (tls_observe), so a bad certificate is observed
 *   with its class and code. CURLOPT_PREREQFUNCTION runs after the handshake and before
 *   the request is written: there the verdict is read and, unless the research option
 *   fetch_unauthenticated is on, the transfer is aborted, so no request ever reaches a
 *   server that failed verification.
 * - Admission is ours: a fetch first waits for a per-address slot (conn_limit), then for
 *   one of max_transfers transfer slots, and only then is handed to curl, whose own limits
 *   are lifted so that no time spent queueing counts against curl's timeouts.
 *
 * Each fetch is a small state machine (enum fetch_state, enter_state()); its observation
 * is always delivered from its own deferred event, so callbacks never nest.
 */
#include "https_fetch.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/queue.h>
#include <sys/socket.h>

#include <arpa/inet.h>
#include <curl/curl.h>
#include <openssl/evp.h>
#include <openssl/ssl.h>

#include "conn_limit.h"
#include "local_error.h"
#include "mts_util.h"
#include "mts_defaults.h"
#include "curl_loop.h"
#include "tls_observe.h"

/* The URL's port (https://mta-sts.D/...), whatever port is dialled (opts.port). */
#define URL_PORT        443
#define POLICY_PATH     "/.well-known/mta-sts.txt"
#define MAX_HOST_LEN    253
#define LOCAL_TRIES_MAX 8 /* attempts this machine cannot make before giving up */

enum fetch_state {
    ST_WAIT_SLOT, /* waiting for a per-address connection slot */
    ST_BACKOFF,   /* this machine had no socket to give: waiting to try again */
    ST_QUEUED,    /* waiting for a transfer slot (h->queue) */
    ST_TRANSFER,  /* in curl */
    ST_DELIVER,   /* observation built; deferred event pending */
};

struct fetch {
    struct mts_https *h;
    TAILQ_ENTRY(fetch) all_link;   /* h->all: every live fetch */
    TAILQ_ENTRY(fetch) queue_link; /* h->queue, while ST_QUEUED */
    enum fetch_state state;
    char *host, *url;
    const char *why;     /* static (mts_fetch_why_name) */
    bool handshake_only; /* a TLS-RPT report host: TCP and TLS, never a request */
    uint16_t port;       /* dialled on each address */
    char **addrs;        /* IPv4 first */
    size_t naddrs, ai;
    mts_https_done_fn done;
    void *arg;
    struct event *deliver_ev;
    struct event *backoff_ev;
    unsigned local_tries; /* attempts this machine could not make */
    struct mts_conn_slot *slot;
    /* One attempt (one address): reset by start_transfer(). */
    CURL *easy;
    struct curl_slist *connect_to;
    char errbuf[CURL_ERROR_SIZE];
    int socket_errno; /* why this attempt's socket() failed, or 0 */
    unsigned char *body;
    size_t body_len, body_cap;
    bool truncated;
    bool tcp_connected; /* curl began TLS, so TCP was up */
    bool server_spoke;  /* a TLS record arrived from the server */
    bool cert_failed;
    json_t *tls;
    /* The result. */
    json_t *obs;
};

TAILQ_HEAD(fetch_list, fetch);

struct mts_https {
    struct event_base *base;
    struct mts_curl_loop *loop;
    struct mts_conn_limit *limit;
    SSL_CTX *trust; /* holds the X509_STORE shared by every connection */
    char *user_agent;
    struct mts_https_opts o;
    struct fetch_list all, queue;
    struct mts_https_stats st;
    bool closing;
};

static void begin_attempt(struct fetch *f);
static void pump(struct mts_https *h);

/* The single place where a fetch changes state, keeping the queue and counters right. */
static void enter_state(struct fetch *f, enum fetch_state next)
{
    struct mts_https *h = f->h;

    if (f->state == ST_QUEUED) {
        TAILQ_REMOVE(&h->queue, f, queue_link);
        h->st.queued--;
    } else if (f->state == ST_TRANSFER) {
        h->st.transfers--;
    }
    f->state = next;
    if (next == ST_QUEUED) {
        TAILQ_INSERT_TAIL(&h->queue, f, queue_link);
        h->st.queued++;
    } else if (next == ST_TRANSFER) {
        h->st.transfers++;
        h->st.started++;
        if (h->st.transfers > h->st.max_transfers_seen) {
            h->st.max_transfers_seen = h->st.transfers;
        }
    }
}

static void end_attempt(struct fetch *f)
{
    if (f->easy) {
        curl_easy_cleanup(f->easy);
        f->easy = NULL;
    }
    curl_slist_free_all(f->connect_to);
    f->connect_to = NULL;
    if (f->slot) {
        mts_conn_release(f->h->limit, f->slot);
        f->slot = NULL;
    }
}

static void fetch_free(struct fetch *f)
{
    end_attempt(f);
    if (f->deliver_ev) {
        event_free(f->deliver_ev);
    }
    if (f->backoff_ev) {
        event_free(f->backoff_ev);
    }
    for (size_t i = 0; i < f->naddrs; i++) {
        free(f->addrs[i]);
    }
    free(f->addrs);
    free(f->host);
    free(f->url);
    free(f->body);
    json_decref(f->tls);
    json_decref(f->obs);
    free(f);
}

static void on_deliver(evutil_socket_t fd, short what, void *arg)
{
    struct fetch *f = arg;
    struct mts_https *h = f->h;
    json_t *obs = f->obs;

    (void)fd;
    (void)what;
    TAILQ_REMOVE(&h->all, f, all_link);
    f->obs = NULL;
    h->st.finished++;
    f->done(f->arg, obs, f->body_len ? f->body : NULL, f->body_len);
    fetch_free(f);
}

/* ---- observation ------------------------------------------------------------------- */

static int set_new(json_t *o, const char *key, json_t *v)
{
    return v ? json_object_set_new(o, key, v) : -1;
}

static double to_ms(curl_off_t us)
{
    return (double)us / 1000.0;
}

static json_t *body_obs(const struct fetch *f)
{
    unsigned char md[EVP_MAX_MD_SIZE];
    unsigned int mdlen = 0;
    char hex[2 * EVP_MAX_MD_SIZE + 1];

    if (!EVP_Digest(f->body ? f->body : (const unsigned char *)"", f->body_len, md, &mdlen,
                    EVP_sha256(), NULL)) {
        return NULL;
    }
    *mts_hex_encode(hex, md, mdlen) = '\0';
    return json_pack("{s:s, s:I, s:b}", "sha256", hex, "len", (json_int_t)f->body_len, "truncated",
                     f->truncated);
}

int mts_https_response_headers(CURL *easy, json_t *o)
{
    long status = 0;
    struct curl_header *hd;

    curl_easy_getinfo(easy, CURLINFO_RESPONSE_CODE, &status);
    if (status <= 0) {
        return 0;
    }
    if (set_new(o, "http_status", json_integer(status)) < 0) {
        return -1;
    }
    /* Header bytes are the server's: kept exactly, as hex when they are not UTF-8 text. */
    if (curl_easy_header(easy, "Content-Type", 0, CURLH_HEADER, -1, &hd) == CURLHE_OK &&
        set_new(o, "content_type", mts_json_bytes(hd->value, strlen(hd->value))) < 0) {
        return -1;
    }
    if (curl_easy_header(easy, "Location", 0, CURLH_HEADER, -1, &hd) == CURLHE_OK &&
        set_new(o, "location", mts_json_bytes(hd->value, strlen(hd->value))) < 0) {
        return -1;
    }
    if (curl_easy_header(easy, "Content-Encoding", 0, CURLH_HEADER, -1, &hd) == CURLHE_OK &&
        set_new(o, "content_encoding", mts_json_bytes(hd->value, strlen(hd->value))) < 0) {
        return -1;
    }
    return 1;
}

/* The HTTP part of an observation (status, media type, Location, body) into o. */
static int add_response(const struct fetch *f, json_t *o)
{
    int rc = mts_https_response_headers(f->easy, o);
    return rc <= 0 ? rc : set_new(o, "body", body_obs(f));
}

/* What the transfer itself came to, as a FETCHOBS result, ignoring the certificate. */
static enum mts_fetch_result classify(const struct fetch *f, CURLcode rc)
{
    long status = 0, os_errno = 0;

    switch (rc) {
    case CURLE_OK:
        curl_easy_getinfo(f->easy, CURLINFO_RESPONSE_CODE, &status);
        if (status == 200) {
            return MTS_FETCH_OK;
        }
        if (status >= 300 && status < 400) {
            return MTS_FETCH_REDIRECT;
        }
        return status > 0 ? MTS_FETCH_HTTP_STATUS : MTS_FETCH_ERROR;
    case CURLE_COULDNT_CONNECT:
        curl_easy_getinfo(f->easy, CURLINFO_OS_ERRNO, &os_errno);
        /* A reset right after the SYN was answered refuses the connection just the same:
         * whether the client notices it during connect or later is a race (see below). */
        if (os_errno == ECONNREFUSED || os_errno == ECONNRESET) {
            return MTS_FETCH_CONNECT_REFUSED;
        }
        return os_errno == ETIMEDOUT ? MTS_FETCH_CONNECT_TIMEOUT : MTS_FETCH_ERROR;
    case CURLE_OPERATION_TIMEDOUT:
        /* A TLS handshake that never ends is the server's stall, not an unreachable host. */
        return f->tcp_connected ? MTS_FETCH_TIMEOUT : MTS_FETCH_CONNECT_TIMEOUT;
    case CURLE_WRITE_ERROR:
        return f->truncated ? MTS_FETCH_TOO_LARGE : MTS_FETCH_ERROR;
    case CURLE_PEER_FAILED_VERIFICATION:
    case CURLE_SSL_CERTPROBLEM:
    case CURLE_SSL_CIPHER:
        return MTS_FETCH_TLS_FAILURE;
    case CURLE_SSL_CONNECT_ERROR:
        /* The connection came up and died before the server sent a single TLS byte: it
         * refused to talk. (curl reports no errno here, and whether a reset is noticed
         * during connect, at the first TLS read or at a write is a race.) */
        return f->server_spoke ? MTS_FETCH_TLS_FAILURE : MTS_FETCH_CONNECT_REFUSED;
    case CURLE_RECV_ERROR:
    case CURLE_SEND_ERROR:
    case CURLE_GOT_NOTHING:
    case CURLE_PARTIAL_FILE:
        return f->server_spoke ? MTS_FETCH_RESET : MTS_FETCH_CONNECT_REFUSED;
    case CURLE_ABORTED_BY_CALLBACK:
        /* Only the pre-request callback aborts: for a failed or missing handshake
         * observation, or after every handshake of a handshake-only check. */
        if (f->handshake_only && f->tls && !f->cert_failed)
            return MTS_FETCH_OK;
        return f->cert_failed ? MTS_FETCH_CERT_INVALID : MTS_FETCH_TLS_FAILURE;
    default:
        return MTS_FETCH_ERROR;
    }
}

static bool is_connect_failure(enum mts_fetch_result r)
{
    return r == MTS_FETCH_CONNECT_REFUSED || r == MTS_FETCH_CONNECT_TIMEOUT;
}

static json_t *build_obs(struct fetch *f, CURLcode rc, enum mts_fetch_result transfer,
                         enum mts_fetch_result *result)
{
    struct mts_https *h = f->h;
    json_t *o = json_object();
    curl_off_t t;

    *result = f->cert_failed ? MTS_FETCH_CERT_INVALID : transfer;
    /* A handshake-only check that saw its handshake stopped itself: no error of curl's. */
    if (f->handshake_only && transfer == MTS_FETCH_OK)
        rc = CURLE_OK;
    /* curl's message may quote the server's bytes: kept like a header. */
    const char *error = rc == CURLE_OK ? "" : f->errbuf[0] ? f->errbuf : curl_easy_strerror(rc);
    if (!o || set_new(o, "url", json_string(f->url)) < 0 ||
        set_new(o, "why", json_string(f->why)) < 0 ||
        set_new(o, "result", json_string(mts_fetch_result_name(*result))) < 0 ||
        set_new(o, "addr", json_string(f->addrs[f->ai])) < 0 ||
        set_new(o, "port", json_integer(f->port)) < 0 ||
        set_new(o, "curl_code", json_integer(rc)) < 0 ||
        set_new(o, "curl_error", mts_json_bytes(error, strlen(error))) < 0) {
        goto fail;
    }
    if (!f->cert_failed && add_response(f, o) < 0) {
        goto fail;
    }
    if (f->tls && json_object_set(o, "tls", f->tls) < 0) {
        goto fail;
    }
    json_t *ms = json_object();
    if (set_new(o, "ms", ms) < 0) {
        goto fail;
    }
    static const struct {
        const char *key;
        CURLINFO info;
    } times[] = {{"connect", CURLINFO_CONNECT_TIME_T},
                 {"tls", CURLINFO_APPCONNECT_TIME_T},
                 {"first_byte", CURLINFO_STARTTRANSFER_TIME_T},
                 {"total", CURLINFO_TOTAL_TIME_T}};
    for (size_t i = 0; i < sizeof(times) / sizeof(times[0]); i++) {
        t = 0;
        curl_easy_getinfo(f->easy, times[i].info, &t);
        if ((t > 0 || times[i].info == CURLINFO_TOTAL_TIME_T) &&
            set_new(ms, times[i].key, json_real(to_ms(t))) < 0) {
            goto fail;
        }
    }
    if (f->cert_failed && h->o.fetch_unauthenticated && !f->handshake_only) {
        json_t *u = json_object();
        if (set_new(o, "unauthenticated", u) < 0 ||
            set_new(u, "result", json_string(mts_fetch_result_name(transfer))) < 0 ||
            add_response(f, u) < 0) {
            goto fail;
        }
    }
    return o;
fail:
    json_decref(o);
    return NULL;
}

/* An observation of a fetch that never talked to the server: why, and nothing else. */
static json_t *bare_obs(const struct fetch *f, enum mts_fetch_result result, const char *detail)
{
    return json_pack("{s:s, s:s, s:s, s:s, s:i, s:s}", "url", f->url, "why", f->why, "result",
                     mts_fetch_result_name(result), "addr", f->addrs[f->ai], "port", (int)f->port,
                     "curl_error", detail);
}

/* Ends the fetch: its observation (or, out of memory, a bare one) goes out from the loop. */
static void deliver(struct fetch *f, json_t *obs, enum mts_fetch_result result)
{
    struct mts_https *h = f->h;

    end_attempt(f);
    if (!obs) {
        result = MTS_FETCH_ERROR;
        obs = json_pack("{s:s, s:s, s:s}", "url", f->url, "why", f->why, "result",
                        mts_fetch_result_name(result));
    }
    h->st.by_result[result]++;
    f->obs = obs;
    enter_state(f, ST_DELIVER);
    event_active(f->deliver_ev, EV_TIMEOUT, 1);
}

/* ---- curl callbacks -------------------------------------------------------------- */

static size_t on_body(char *data, size_t size, size_t nmemb, void *arg)
{
    struct fetch *f = arg;
    size_t n = size * nmemb, max = f->h->o.max_body;
    size_t take = n <= max - f->body_len ? n : max - f->body_len;

    if (f->body_len + take > f->body_cap) {
        size_t cap = f->body_cap ? f->body_cap : 1024;
        while (cap < f->body_len + take) {
            cap *= 2;
        }
        cap = cap < max ? cap : max;
        unsigned char *p = realloc(f->body, cap);
        if (!p) {
            return 0;
        }
        f->body = p;
        f->body_cap = cap;
    }
    memcpy(f->body + f->body_len, data, take);
    f->body_len += take;
    if (take < n) {
        f->truncated = true; /* returning short stops the transfer: CURLE_WRITE_ERROR */
        return take;
    }
    return n;
}

/* OpenSSL's protocol message trace: only notes that the server sent something. */
/* Our socket, so that a shortage of this machine is told apart from the server's failure. */
static curl_socket_t on_open_socket(void *arg, curlsocktype purpose, struct curl_sockaddr *a)
{
    struct fetch *f = arg;
    (void)purpose;
    curl_socket_t fd = socket(a->family, a->socktype | SOCK_CLOEXEC, a->protocol);
    if (fd == CURL_SOCKET_BAD) {
        f->socket_errno = errno;
    }
    return fd;
}

static void on_tls_message(int write_p, int version, int content_type, const void *buf, size_t len,
                           SSL *ssl, void *arg)
{
    (void)version;
    (void)content_type;
    (void)buf;
    (void)len;
    (void)ssl;
    if (!write_p)
        ((struct fetch *)arg)->server_spoke = true;
}

/* Runs for each connection curl sets up, before the SSL object is made from the context. */
static CURLcode on_ssl_ctx(CURL *easy, void *sslctx, void *arg)
{
    struct fetch *f = arg;
    SSL_CTX *ctx = sslctx;

    (void)easy;
    f->tcp_connected = true;
    SSL_CTX_set1_cert_store(ctx, SSL_CTX_get_cert_store(f->h->trust));
    if (mts_tls_ctx_install_verify(ctx) < 0 || mts_tls_ctx_expect_host(ctx, f->host) < 0) {
        return CURLE_OUT_OF_MEMORY;
    }
    /* Every handshake is a full one, so verification always runs and is recorded. */
    SSL_CTX_set_session_cache_mode(ctx, SSL_SESS_CACHE_OFF);
    SSL_CTX_set_msg_callback(ctx, on_tls_message);
    SSL_CTX_set_msg_callback_arg(ctx, f);
    return CURLE_OK;
}

/* After TCP and TLS, before the request is written: the one place to refuse to send it. */
static int on_prereq(void *arg, char *primary_ip, char *local_ip, int primary_port, int local_port)
{
    struct fetch *f = arg;
    struct curl_tlssessioninfo *ti = NULL;

    (void)primary_ip;
    (void)local_ip;
    (void)primary_port;
    (void)local_port;
    if (curl_easy_getinfo(f->easy, CURLINFO_TLS_SSL_PTR, &ti) != CURLE_OK || !ti ||
        ti->backend != CURLSSLBACKEND_OPENSSL || !ti->internals) {
        return CURL_PREREQFUNC_ABORT; /* no observable TLS session: never send blind */
    }
    const SSL *ssl = ti->internals;
    json_decref(f->tls);
    f->tls = mts_tls_observe(ssl);
    f->cert_failed = mts_tls_verify_result(ssl) != X509_V_OK;
    if (f->handshake_only) {
        return CURL_PREREQFUNC_ABORT; /* the handshake was all there was to see */
    }
    if (f->cert_failed && !f->h->o.fetch_unauthenticated) {
        return CURL_PREREQFUNC_ABORT;
    }
    return f->tls ? CURL_PREREQFUNC_OK : CURL_PREREQFUNC_ABORT;
}

/* ---- attempts ------------------------------------------------------------------------ */

static int setup_easy(struct fetch *f)
{
    struct mts_https *h = f->h;
    const char *a = f->addrs[f->ai];
    bool v6 = strchr(a, ':') != NULL;
    size_t len = strlen(f->host) + strlen(a) + 32;
    char *map = malloc(len);

    if (!map) {
        return -ENOMEM;
    }
    /* The URL's port: a policy URL names none (443), a report host's check names its own. */
    snprintf(map, len, "%s:%u:%s%s%s:%u", f->host,
             (unsigned)(f->handshake_only ? f->port : URL_PORT), v6 ? "[" : "", a, v6 ? "]" : "",
             (unsigned)f->port);
    f->connect_to = curl_slist_append(NULL, map);
    free(map);
    f->easy = curl_easy_init();
    if (!f->connect_to || !f->easy) {
        return -ENOMEM;
    }
    CURL *e = f->easy;
    CURLcode rc = CURLE_OK;
#define SET(opt, val)                                                                              \
    do {                                                                                           \
        if (rc == CURLE_OK) {                                                                      \
            rc = curl_easy_setopt(e, opt, val);                                                    \
        }                                                                                          \
    } while (0)
    SET(CURLOPT_PRIVATE, f);
    SET(CURLOPT_URL, f->url);
    SET(CURLOPT_CONNECT_TO, f->connect_to);
    SET(CURLOPT_PROTOCOLS_STR, "https");
    SET(CURLOPT_PROXY, "");
    SET(CURLOPT_NOSIGNAL, 1L);
    SET(CURLOPT_DNS_CACHE_TIMEOUT, 0L);
    SET(CURLOPT_HTTP_VERSION, (long)CURL_HTTP_VERSION_1_1);
    SET(CURLOPT_FOLLOWLOCATION, 0L);
    SET(CURLOPT_USERAGENT, h->user_agent);
    /* Ask for and decode the codings senders decode (Go asks for gzip, aiohttp for gzip and
       deflate); on_body sees decoded bytes, so the body bound holds for the decoded size
       and a decompression bomb stops there. */
    SET(CURLOPT_ACCEPT_ENCODING, "gzip, deflate");
    SET(CURLOPT_CONNECTTIMEOUT_MS, (long)h->o.connect_timeout_ms);
    SET(CURLOPT_TIMEOUT_MS, (long)h->o.total_timeout_ms);
    SET(CURLOPT_LOW_SPEED_LIMIT, (long)h->o.low_speed_bytes);
    SET(CURLOPT_LOW_SPEED_TIME, (long)h->o.low_speed_secs);
    SET(CURLOPT_FORBID_REUSE, 1L);
    SET(CURLOPT_FRESH_CONNECT, 1L);
    SET(CURLOPT_SSL_SESSIONID_CACHE, 0L);
    SET(CURLOPT_SSL_VERIFYPEER, 0L);
    SET(CURLOPT_SSL_VERIFYHOST, 0L);
    SET(CURLOPT_CAINFO, NULL);
    SET(CURLOPT_CAPATH, NULL);
    SET(CURLOPT_SSL_CTX_FUNCTION, on_ssl_ctx);
    SET(CURLOPT_SSL_CTX_DATA, f);
    SET(CURLOPT_PREREQFUNCTION, on_prereq);
    SET(CURLOPT_PREREQDATA, f);
    SET(CURLOPT_WRITEFUNCTION, on_body);
    SET(CURLOPT_WRITEDATA, f);
    SET(CURLOPT_ERRORBUFFER, f->errbuf);
    SET(CURLOPT_OPENSOCKETFUNCTION, on_open_socket);
    SET(CURLOPT_OPENSOCKETDATA, f);
#undef SET
    return rc == CURLE_OK ? 0 : -EIO;
}

static void start_transfer(struct fetch *f)
{
    f->errbuf[0] = '\0';
    f->socket_errno = 0;
    f->body_len = 0;
    f->truncated = false;
    f->tcp_connected = false;
    f->server_spoke = false;
    f->cert_failed = false;
    json_decref(f->tls);
    f->tls = NULL;
    enter_state(f, ST_TRANSFER);
    if (setup_easy(f) < 0 || mts_curl_loop_add(f->h->loop, f->easy) < 0) {
        deliver(f, NULL, MTS_FETCH_ERROR);
    }
}

static void pump(struct mts_https *h)
{
    while (!h->closing && h->st.transfers < h->o.max_transfers && !TAILQ_EMPTY(&h->queue)) {
        start_transfer(TAILQ_FIRST(&h->queue));
    }
}

static void on_slot(void *arg, struct mts_conn_slot *slot)
{
    struct fetch *f = arg;

    f->slot = slot;
    if (mts_conn_slot_expired(slot)) {
        /* A tarpit may hold every slot of its address: the next address may do better. */
        end_attempt(f);
        if (f->ai + 1 < f->naddrs) {
            f->ai++;
            begin_attempt(f);
        } else {
            deliver(
                f,
                bare_obs(f, MTS_FETCH_QUEUE_TIMEOUT, "no connection slot to the address in time"),
                MTS_FETCH_QUEUE_TIMEOUT);
        }
        return;
    }
    enter_state(f, ST_QUEUED);
    pump(f->h);
}

static void on_backoff_over(evutil_socket_t fd, short what, void *arg)
{
    struct fetch *f = arg;

    (void)fd;
    (void)what;
    begin_attempt(f);
    pump(f->h);
}

/* This machine could not open the connection: try the same address again after a back-off,
 * or give up with a local error. Never a fact about the server. */
static void local_failure(struct fetch *f, int err)
{
    end_attempt(f);
    if (++f->local_tries >= LOCAL_TRIES_MAX) {
        deliver(f, bare_obs(f, MTS_FETCH_LOCAL_ERROR, strerror(err)), MTS_FETCH_LOCAL_ERROR);
        return;
    }
    if (!f->backoff_ev && !(f->backoff_ev = evtimer_new(f->h->base, on_backoff_over, f))) {
        deliver(f, NULL, MTS_FETCH_ERROR);
        return;
    }
    unsigned ms = mts_local_backoff_ms(f->local_tries);
    struct timeval tv = {ms / 1000, (suseconds_t)(ms % 1000) * 1000};
    enter_state(f, ST_BACKOFF);
    evtimer_add(f->backoff_ev, &tv);
}

/* The errno of this machine that stopped the attempt from connecting, or 0. */
static int local_errno(const struct fetch *f, CURLcode rc)
{
    long os_errno = 0;

    if (f->socket_errno) {
        return mts_errno_is_local(f->socket_errno) ? f->socket_errno : 0;
    }
    if (rc == CURLE_OUT_OF_MEMORY) {
        return ENOMEM;
    }
    if (rc != CURLE_COULDNT_CONNECT ||
        curl_easy_getinfo(f->easy, CURLINFO_OS_ERRNO, &os_errno) != CURLE_OK) {
        return 0;
    }
    return mts_errno_is_local((int)os_errno) ? (int)os_errno : 0;
}

static void begin_attempt(struct fetch *f)
{
    struct mts_https *h = f->h;

    if (!h->limit) {
        enter_state(f, ST_QUEUED);
        return;
    }
    enter_state(f, ST_WAIT_SLOT);
    f->slot = mts_conn_acquire(h->limit, f->addrs[f->ai], on_slot, f);
    if (!f->slot) {
        deliver(f, NULL, MTS_FETCH_ERROR);
    }
}

static void on_transfer_done(void *arg, CURL *easy, CURLcode rc)
{
    struct mts_https *h = arg;
    void *priv = NULL;
    enum mts_fetch_result transfer, result;

    curl_easy_getinfo(easy, CURLINFO_PRIVATE, &priv);
    struct fetch *f = priv;
    int local = local_errno(f, rc);
    transfer = classify(f, rc);
    if (local) {
        local_failure(f, local); /* leaves ST_TRANSFER */
    } else if (is_connect_failure(transfer) && f->ai + 1 < f->naddrs) {
        end_attempt(f);
        f->ai++;
        begin_attempt(f); /* leaves ST_TRANSFER */
    } else {
        json_t *obs = build_obs(f, rc, transfer, &result);
        deliver(f, obs, result);
    }
    pump(h);
}

/* ---- public ------------------------------------------------------------------------ */

static unsigned or_default(unsigned v, unsigned dflt)
{
    return v ? v : dflt;
}

int mts_https_new(struct mts_https **out, struct event_base *base,
                  const struct mts_https_opts *opts)
{
    struct mts_https *h;
    int err = 0;

    *out = NULL;
    if (!base || !opts) {
        return -EINVAL;
    }
    if (curl_global_init(CURL_GLOBAL_DEFAULT) != CURLE_OK) {
        return -EIO;
    }
    h = calloc(1, sizeof *h);
    if (!h) {
        curl_global_cleanup();
        return -ENOMEM;
    }
    h->base = base;
    h->o = *opts;
    h->o.port = opts->port ? opts->port : MTS_DEFAULT_HTTPS_PORT;
    h->o.connect_timeout_ms = or_default(opts->connect_timeout_ms, MTS_DEFAULT_TIMEOUT_CONNECT_MS);
    h->o.total_timeout_ms = or_default(opts->total_timeout_ms, MTS_DEFAULT_TIMEOUT_HTTPS_MS);
    h->o.low_speed_bytes = or_default(opts->low_speed_bytes, MTS_DEFAULT_HTTPS_LOW_SPEED_BYTES);
    h->o.low_speed_secs = or_default(opts->low_speed_secs, MTS_DEFAULT_HTTPS_LOW_SPEED_SECS);
    h->o.max_body = opts->max_body ? opts->max_body : MTS_DEFAULT_MAX_BODY;
    h->o.max_transfers = or_default(opts->max_transfers, MTS_DEFAULT_HTTPS_MAX);
    h->o.ca_file = NULL;
    h->limit = opts->conn_limit;
    TAILQ_INIT(&h->all);
    TAILQ_INIT(&h->queue);
    h->user_agent = strdup(opts->user_agent ? opts->user_agent : MTS_DEFAULT_USER_AGENT);
    h->o.user_agent = h->user_agent;
    h->trust = mts_tls_client_ctx_new(opts->ca_file, &err);
    if (!h->user_agent || !h->trust) {
        int rc = h->trust ? -ENOMEM : (err ? err : -ENOMEM);
        mts_https_free(h);
        return rc;
    }
    err = mts_curl_loop_new(&h->loop, base, on_transfer_done, h);
    if (err < 0) {
        mts_https_free(h);
        return err;
    }
    /* Our admission decides what runs; curl must neither queue nor multiplex. */
    CURLM *m = mts_curl_loop_multi(h->loop);
    if (curl_multi_setopt(m, CURLMOPT_MAX_HOST_CONNECTIONS, 0L) != CURLM_OK ||
        curl_multi_setopt(m, CURLMOPT_MAX_TOTAL_CONNECTIONS, 0L) != CURLM_OK ||
        curl_multi_setopt(m, CURLMOPT_MAXCONNECTS, (long)h->o.max_transfers) != CURLM_OK ||
        curl_multi_setopt(m, CURLMOPT_PIPELINING, (long)CURLPIPE_NOTHING) != CURLM_OK) {
        mts_https_free(h);
        return -EIO;
    }
    *out = h;
    return 0;
}

static bool valid_host(const char *s)
{
    size_t n = strlen(s);

    if (n == 0 || n > MAX_HOST_LEN) {
        return false;
    }
    for (const char *p = s; *p; p++) {
        if (!((*p >= 'a' && *p <= 'z') || (*p >= '0' && *p <= '9') || *p == '-' || *p == '.' ||
              *p == '_')) {
            return false;
        }
    }
    return true;
}

/* Queues a transfer of url from host's addresses on port (see mts_https_fetch). */
static int fetch_start(struct mts_https *h, const char *host, const char *url, uint16_t port,
                       bool handshake_only, const char *const *addrs, size_t naddrs,
                       enum mts_fetch_why why, mts_https_done_fn done, void *arg)
{
    unsigned char buf[sizeof(struct in6_addr)];

    if (!h || !host || !addrs || naddrs == 0 || !mts_fetch_why_name(why) || !done || h->closing ||
        !valid_host(host)) {
        return -EINVAL;
    }
    for (size_t i = 0; i < naddrs; i++) {
        if (!addrs[i] ||
            (inet_pton(AF_INET, addrs[i], buf) != 1 && inet_pton(AF_INET6, addrs[i], buf) != 1)) {
            return -EINVAL;
        }
    }
    struct fetch *f = calloc(1, sizeof *f);
    if (!f) {
        return -ENOMEM;
    }
    f->h = h;
    f->done = done;
    f->arg = arg;
    f->state = ST_WAIT_SLOT;
    f->handshake_only = handshake_only;
    f->port = port;
    f->host = strdup(host);
    f->why = mts_fetch_why_name(why);
    f->url = strdup(url);
    f->addrs = calloc(naddrs, sizeof *f->addrs);
    f->deliver_ev = event_new(h->base, -1, 0, on_deliver, f);
    if (!f->host || !f->addrs || !f->deliver_ev || !f->url) {
        fetch_free(f);
        return -ENOMEM;
    }
    /* IPv4 first, each family in the given order. */
    for (int pass = 0; pass < 2; pass++) {
        for (size_t i = 0; i < naddrs; i++) {
            if ((strchr(addrs[i], ':') == NULL) == (pass == 0)) {
                if (!(f->addrs[f->naddrs] = strdup(addrs[i]))) {
                    fetch_free(f);
                    return -ENOMEM;
                }
                f->naddrs++;
            }
        }
    }
    TAILQ_INSERT_TAIL(&h->all, f, all_link);
    begin_attempt(f);
    pump(h);
    return 0;
}

int mts_https_fetch(struct mts_https *h, const char *policy_host, const char *const *addrs,
                    size_t naddrs, enum mts_fetch_why why, mts_https_done_fn done, void *arg)
{
    char url[MAX_HOST_LEN + sizeof("https://" POLICY_PATH)];

    if (!h || !policy_host || strlen(policy_host) > MAX_HOST_LEN) {
        return -EINVAL;
    }
    snprintf(url, sizeof url, "https://%s" POLICY_PATH, policy_host);
    return fetch_start(h, policy_host, url, h->o.port, false, addrs, naddrs, why, done, arg);
}

int mts_https_handshake(struct mts_https *h, const char *host, uint16_t port,
                        const char *const *addrs, size_t naddrs, mts_https_done_fn done, void *arg)
{
    char url[MAX_HOST_LEN + sizeof("https://:65535/")];

    if (!h || !host || strlen(host) > MAX_HOST_LEN) {
        return -EINVAL;
    }
    port = port ? port : h->o.port;
    snprintf(url, sizeof url, "https://%s:%u/", host, (unsigned)port);
    return fetch_start(h, host, url, port, true, addrs, naddrs, MTS_FETCH_WHY_TLSRPT, done, arg);
}

void mts_https_get_stats(const struct mts_https *h, struct mts_https_stats *out)
{
    *out = h->st;
}

void mts_https_free(struct mts_https *h)
{
    struct fetch *f;

    if (!h) {
        return;
    }
    h->closing = true;
    while ((f = TAILQ_FIRST(&h->all)) != NULL) {
        TAILQ_REMOVE(&h->all, f, all_link);
        if (f->state == ST_QUEUED) {
            TAILQ_REMOVE(&h->queue, f, queue_link);
        }
        if (f->state == ST_TRANSFER && f->easy) {
            mts_curl_loop_remove(h->loop, f->easy);
        }
        fetch_free(f);
    }
    mts_curl_loop_free(h->loop);
    SSL_CTX_free(h->trust);
    free(h->user_agent);
    free(h);
    curl_global_cleanup();
}
