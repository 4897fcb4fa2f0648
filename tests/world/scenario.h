/*
 * Inside the world: the definition of struct world shared by the model (lookups), the scenario
 * parser and the generator, and the record-building helpers they share. Not for the servers:
 * they use model.h only.
 */
#ifndef MTS_WORLD_SCENARIO_H
#define MTS_WORLD_SCENARIO_H

#include "model.h"

/* An open-addressing index from a key hash to an array position (stored worlds only). */
struct world_index {
    size_t cap; /* power of two, or 0 */
    uint64_t *hash;
    uint32_t *pos; /* position + 1; 0 = empty slot */
};

struct world {
    bool generated;
    /* generated worlds */
    uint64_t n, seed;
    unsigned hostile_ppm;     /* hostile domains per million */
    unsigned char *huge_body; /* hostile bodies, owned (NULL without hostile domains) */
    size_t huge_len;
    unsigned char *bomb_body;
    size_t bomb_len;
    /* scenario worlds: everything stored, found through the indexes */
    struct world_domain *domains;
    size_t ndomains, domains_cap;
    struct world_host *hosts;
    size_t nhosts, hosts_cap;
    struct world_node *nodes;
    size_t nnodes, nodes_cap;
    struct world_index domain_by_name, host_by_name, host_by_addr, node_by_name;
    char **owned; /* strings and bodies the world frees */
    size_t nowned, owned_cap;
    uint32_t next_addr; /* next automatic per-host address (host order) */
};

/* Normalise a DNS name into out (WORLD_NAME_MAX): lower case, no trailing dot; "." and "" give
 * "". Returns 0 or -WORLD_E_ARG (empty label, label over 63, name over 253 octets). */
int world_name_norm(const char *in, char *out);

/* Hash of a normalised name or of a 32-bit address, for the indexes and the generator. */
uint64_t world_hash_str(const char *s);
uint64_t world_mix64(uint64_t x);

/* Node building: append one record with the given wire rdata. 0 or -WORLD_E_NOMEM (the node's
 * record table or data area is full). */
int world_node_add(struct world_node *n, uint16_t type, const void *rdata, size_t len);
int world_node_add_a(struct world_node *n, struct in_addr a);
int world_node_add_mx(struct world_node *n, uint16_t pref, const char *host);
/* One TXT record of nstr character-strings (each up to 255 bytes). */
int world_node_add_txt(struct world_node *n, const unsigned char *const *str, const size_t *len,
                       size_t nstr);
/* One TXT record of one string; longer than 255 bytes is split into several strings. */
int world_node_add_txt_str(struct world_node *n, const char *s);
/* Reset a node to "exists, no records" for name. */
void world_node_init(struct world_node *n, const char *name);

/* Name in uncompressed wire form; returns its length, or -WORLD_E_ARG. */
int world_name_to_wire(const char *name, unsigned char *out, size_t cap);

/* Stored-world index operations (model.c). */
int world_index_put(struct world_index *ix, uint64_t hash, uint32_t pos);
/* First position with that hash at or after *cursor (start with *cursor = 0); -1 when none. */
long world_index_next(const struct world_index *ix, uint64_t hash, size_t *cursor);
void world_index_free(struct world_index *ix);

/* Keep s (malloc'd) until world_free(). 0 or -WORLD_E_NOMEM (s is freed then). */
int world_own(struct world *w, void *s);

/* Generated worlds (generator.c). */
int world_gen_node(const struct world *w, const char *qname, struct world_node *out);
int world_gen_domain(const struct world *w, uint64_t index, struct world_domain *out);
int world_gen_domain_by_name(const struct world *w, const char *name, struct world_domain *out);
int world_gen_host_by_addr(const struct world *w, struct in_addr a, struct world_host *out);
int world_gen_host_by_name(const struct world *w, const char *name, struct world_host *out);

/* Host defaults shared by the scenario parser and the generator: a well-behaved MX or policy
 * host with a valid certificate for name. */
void world_host_defaults(struct world_host *h, const char *name);
void world_https_defaults(struct world_https *h, const char *cert_name);

#endif
