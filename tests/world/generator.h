/*
 * Generated worlds: a deterministic population of N domains derived from (seed, index).
 * The public entry point is world_generate() in model.h; this header names the generator's
 * constants for the tests and the documentation.
 */
#ifndef MTS_WORLD_GENERATOR_H
#define MTS_WORLD_GENERATOR_H

#include "model.h"

/* Generated domains are "d%07u.example"; at most this many (one 127.x address each). */
#define WORLD_GEN_MAX_DOMAINS 16646143ULL
#define WORLD_GEN_DOMAIN_FMT  "d%07" PRIu64 ".example"
#define WORLD_GEN_NPROVIDERS  25

#endif
