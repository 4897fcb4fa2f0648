/*
 * Why this file exists: libcurl's multi interface can be driven by any event loop, but
 * only through two callbacks whose contract is easy to get subtly wrong (a socket whose
 * interest changes, a timer of 0 ms meaning "now", sockets removed while their event is
 * pending). Keeping that contract in one small file lets the HTTPS fetcher think only in
 * transfers, and makes the loop reusable for any other curl use on the scanner's
 * event_base. One event per socket curl watches, one timer for the whole multi handle.
 */
#include "curl_loop.h"

#include <errno.h>
#include <stdlib.h>

struct mts_curl_loop {
    struct event_base *base;
    CURLM *multi;
    struct event *timer;
    mts_curl_loop_done_fn done;
    void *done_arg;
};

/* One socket curl asked us to watch; assigned to the socket with curl_multi_assign(). */
struct watched_socket {
    struct mts_curl_loop *loop;
    struct event *ev;
};

static void read_finished(struct mts_curl_loop *loop)
{
    CURLMsg *msg;
    int left;

    while ((msg = curl_multi_info_read(loop->multi, &left)) != NULL) {
        if (msg->msg != CURLMSG_DONE) {
            continue;
        }
        CURL *easy = msg->easy_handle;
        CURLcode rc = msg->data.result;
        /* msg is invalid after remove_handle: everything needed was copied above. */
        curl_multi_remove_handle(loop->multi, easy);
        loop->done(loop->done_arg, easy, rc);
    }
}

static void on_socket_event(evutil_socket_t fd, short what, void *arg)
{
    struct mts_curl_loop *loop = arg;
    int flags = 0, running;

    if (what & EV_READ) {
        flags |= CURL_CSELECT_IN;
    }
    if (what & EV_WRITE) {
        flags |= CURL_CSELECT_OUT;
    }
    curl_multi_socket_action(loop->multi, fd, flags, &running);
    read_finished(loop);
}

static void on_timer(evutil_socket_t fd, short what, void *arg)
{
    struct mts_curl_loop *loop = arg;
    int running;

    (void)fd;
    (void)what;
    curl_multi_socket_action(loop->multi, CURL_SOCKET_TIMEOUT, 0, &running);
    read_finished(loop);
}

static int socket_cb(CURL *easy, curl_socket_t s, int what, void *userp, void *socketp)
{
    struct mts_curl_loop *loop = userp;
    struct watched_socket *ws = socketp;

    (void)easy;
    if (what == CURL_POLL_REMOVE) {
        if (ws) {
            event_free(ws->ev);
            free(ws);
            curl_multi_assign(loop->multi, s, NULL);
        }
        return 0;
    }
    short kind = EV_PERSIST;
    if (what & CURL_POLL_IN) {
        kind |= EV_READ;
    }
    if (what & CURL_POLL_OUT) {
        kind |= EV_WRITE;
    }
    if (!ws) {
        ws = calloc(1, sizeof *ws);
        if (!ws) {
            return -1;
        }
        ws->loop = loop;
        ws->ev = event_new(loop->base, s, kind, on_socket_event, loop);
        if (!ws->ev) {
            free(ws);
            return -1;
        }
        curl_multi_assign(loop->multi, s, ws);
    } else {
        event_del(ws->ev);
        event_assign(ws->ev, loop->base, s, kind, on_socket_event, loop);
    }
    return event_add(ws->ev, NULL) == 0 ? 0 : -1;
}

static int timer_cb(CURLM *multi, long timeout_ms, void *userp)
{
    struct mts_curl_loop *loop = userp;

    (void)multi;
    if (timeout_ms < 0) {
        return event_del(loop->timer) == 0 ? 0 : -1;
    }
    struct timeval tv = {.tv_sec = timeout_ms / 1000, .tv_usec = (timeout_ms % 1000) * 1000};
    return evtimer_add(loop->timer, &tv) == 0 ? 0 : -1;
}

int mts_curl_loop_new(struct mts_curl_loop **out, struct event_base *base,
                      mts_curl_loop_done_fn done, void *arg)
{
    struct mts_curl_loop *loop = calloc(1, sizeof *loop);

    *out = NULL;
    if (!loop) {
        return -ENOMEM;
    }
    loop->base = base;
    loop->done = done;
    loop->done_arg = arg;
    loop->multi = curl_multi_init();
    loop->timer = evtimer_new(base, on_timer, loop);
    if (!loop->multi || !loop->timer ||
        curl_multi_setopt(loop->multi, CURLMOPT_SOCKETFUNCTION, socket_cb) != CURLM_OK ||
        curl_multi_setopt(loop->multi, CURLMOPT_SOCKETDATA, loop) != CURLM_OK ||
        curl_multi_setopt(loop->multi, CURLMOPT_TIMERFUNCTION, timer_cb) != CURLM_OK ||
        curl_multi_setopt(loop->multi, CURLMOPT_TIMERDATA, loop) != CURLM_OK) {
        mts_curl_loop_free(loop);
        return -EIO;
    }
    *out = loop;
    return 0;
}

CURLM *mts_curl_loop_multi(struct mts_curl_loop *loop)
{
    return loop->multi;
}

int mts_curl_loop_add(struct mts_curl_loop *loop, CURL *easy)
{
    return curl_multi_add_handle(loop->multi, easy) == CURLM_OK ? 0 : -EIO;
}

int mts_curl_loop_remove(struct mts_curl_loop *loop, CURL *easy)
{
    return curl_multi_remove_handle(loop->multi, easy) == CURLM_OK ? 0 : -EIO;
}

void mts_curl_loop_free(struct mts_curl_loop *loop)
{
    if (!loop) {
        return;
    }
    if (loop->multi) {
        /* May call socket_cb with CURL_POLL_REMOVE for sockets still open. */
        curl_multi_cleanup(loop->multi);
    }
    if (loop->timer) {
        event_free(loop->timer);
    }
    free(loop);
}
