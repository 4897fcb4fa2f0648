/*
 * Glue between one libcurl multi handle and a libevent event_base: curl says which sockets
 * to watch and when to wake it (CURLMOPT_SOCKETFUNCTION, CURLMOPT_TIMERFUNCTION), the loop
 * calls curl_multi_socket_action() back, and finished transfers are handed out one by one.
 * Nothing here blocks; nothing here knows about MTA-STS.
 */
#ifndef MTS_CURL_LOOP_H
#define MTS_CURL_LOOP_H

#include <curl/curl.h>
#include <event2/event.h>

struct mts_curl_loop;

/*
 * Called from the event loop once per finished transfer, after `easy` has been removed
 * from the multi handle, so the callee may curl_easy_cleanup() it or add it (or other
 * handles) again. `rc` is the transfer's result. Never called from inside
 * mts_curl_loop_add().
 */
typedef void (*mts_curl_loop_done_fn)(void *arg, CURL *easy, CURLcode rc);

/*
 * Creates a multi handle driven by `base` (borrowed; must outlive the loop). Returns 0 and
 * sets *out, or -ENOMEM / -EIO (a curl or libevent setup call failed).
 */
int mts_curl_loop_new(struct mts_curl_loop **out, struct event_base *base,
                      mts_curl_loop_done_fn done, void *arg);

/*
 * The multi handle, borrowed until mts_curl_loop_free(), for curl_multi_setopt(). Do not
 * change CURLMOPT_SOCKETFUNCTION / CURLMOPT_TIMERFUNCTION or their data.
 */
CURLM *mts_curl_loop_multi(struct mts_curl_loop *loop);

/* Starts `easy` (borrowed until it is handed back to done or removed). 0 or -EIO. */
int mts_curl_loop_add(struct mts_curl_loop *loop, CURL *easy);

/* Stops an unfinished transfer without calling done. 0 or -EIO. */
int mts_curl_loop_remove(struct mts_curl_loop *loop, CURL *easy);

/* Frees the loop; every handle must have been removed first. NULL is a no-op. */
void mts_curl_loop_free(struct mts_curl_loop *loop);

#endif
