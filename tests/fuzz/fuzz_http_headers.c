/*
 * Why: a policy host's web server sends any status line and headers it likes. libcurl
 * parses them, and the fetcher turns status, Content-Type and Location into the FETCHOBS
 * (https_fetch.c). The input is the whole response, sent by a peer on loopback in place of
 * the TLS connection, so libcurl runs its real HTTP/1.1 reader. libFuzzer looks for
 * responses that crash, or make the observation fail (every response is a fact to record)
 * or fail to serialise.
 */
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <curl/curl.h>
#include <jansson.h>

#include "https_fetch.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static size_t discard(char *ptr, size_t size, size_t nmemb, void *arg)
{
    (void)ptr;
    (void)arg;
    return size * nmemb;
}

/* The response and the server's end of the connection, for send_response. */
struct peer {
    int listener;
    int fd;
    const uint8_t *data;
    size_t size;
};

/* Once libcurl is connected (before it sends the request): the peer accepts, sends the
   whole response and closes its sending side. */
static int send_response(void *arg, char *primary_ip, char *local_ip, int primary_port,
                         int local_port)
{
    (void)primary_ip;
    (void)local_ip;
    (void)primary_port;
    (void)local_port;
    struct peer *p = arg;
    p->fd = accept(p->listener, NULL, NULL);
    if (p->fd < 0)
        abort();
    for (size_t off = 0; off < p->size;) {
        ssize_t n = write(p->fd, p->data + off, p->size - off);
        if (n <= 0)
            abort(); /* the socket buffers hold more than the inputs */
        off += (size_t)n;
    }
    shutdown(p->fd, SHUT_WR);
    return CURL_PREREQFUNC_OK;
}

/* A listening socket on a free loopback port, made once; its URL in url. */
static int listener(char *url, size_t size)
{
    static int fd = -1;
    static struct sockaddr_in addr = {.sin_family = AF_INET};
    if (fd < 0) {
        socklen_t len = sizeof addr;
        addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
        fd = socket(AF_INET, SOCK_STREAM, 0);
        if (fd < 0 || bind(fd, (struct sockaddr *)&addr, sizeof addr) != 0 || listen(fd, 4) != 0 ||
            getsockname(fd, (struct sockaddr *)&addr, &len) != 0)
            abort();
    }
    snprintf(url, size, "http://127.0.0.1:%u/.well-known/mta-sts.txt",
             (unsigned)ntohs(addr.sin_port));
    return fd;
}

/* Runs one transfer against a peer that sends data; the easy handle afterwards. */
static CURL *transfer(struct peer *p)
{
    char url[128];
    p->listener = listener(url, sizeof url);
    p->fd = -1;
    CURL *e = curl_easy_init();
    if (!e)
        abort();
    curl_easy_setopt(e, CURLOPT_URL, url);
    curl_easy_setopt(e, CURLOPT_PROXY, "");
    curl_easy_setopt(e, CURLOPT_PREREQFUNCTION, send_response);
    curl_easy_setopt(e, CURLOPT_PREREQDATA, p);
    curl_easy_setopt(e, CURLOPT_WRITEFUNCTION, discard);
    curl_easy_setopt(e, CURLOPT_NOSIGNAL, 1L);
    curl_easy_setopt(e, CURLOPT_TIMEOUT_MS, 2000L);
    curl_easy_setopt(e, CURLOPT_HTTP_VERSION, (long)CURL_HTTP_VERSION_1_1);
    curl_easy_setopt(e, CURLOPT_FOLLOWLOCATION, 0L);
    curl_easy_perform(e);
    return e;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size > 16384) /* what the socket buffers surely hold before libcurl reads */
        return 0;
    struct peer p = {.data = data, .size = size};
    CURL *e = transfer(&p);
    json_t *o = json_object();
    int rc = mts_https_response_headers(e, o);
    if (rc < 0)
        abort(); /* only ENOMEM may fail */
    char *text = json_dumps(o, JSON_COMPACT);
    if (!text)
        abort();
    free(text);
    json_decref(o);
    curl_easy_cleanup(e);
    if (p.fd >= 0)
        close(p.fd);
    return 0;
}
