/*
 * Errors that describe this machine, not the remote host: out of descriptors, buffers,
 * memory or local ports. When socket(), connect() or accept() fails with one of them the
 * caller backs off and tries again later; a probe that still cannot run is recorded as
 * "local-error", never as the remote host's failure (docs/pipeline.md).
 */
#ifndef MTS_LOCAL_ERROR_H
#define MTS_LOCAL_ERROR_H

#include <errno.h>
#include <stdbool.h>

static inline bool mts_errno_is_local(int err)
{
    return err == EMFILE || err == ENFILE || err == ENOBUFS || err == ENOMEM ||
           err == EADDRNOTAVAIL;
}

/* Back-off before the next try after a local error: 50 ms doubling, at most 1.6 s. */
static inline unsigned mts_local_backoff_ms(unsigned tries)
{
    return 50u << (tries < 5 ? tries : 5);
}

#endif
