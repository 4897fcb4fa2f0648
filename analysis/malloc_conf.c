/*
 * jemalloc's options for mtasts-analyze (read when jemalloc is linked, ignored otherwise;
 * MALLOC_CONF in the environment still overrides them). A walk thread builds the trees of
 * 16 records before it frees them, hundreds of small blocks of each size: with the default
 * thread cache those frees overflowed it and a summary spent a tenth of its instructions
 * moving blocks between the cache and the arena. A cache 16 times larger keeps them (it
 * can hold about 16 slabs of each size class per thread; a 200k-domain summary's peak RSS
 * went from 19 to 20 MiB).
 */
const char *malloc_conf = "tcache_nslots_small_max:2000,lg_tcache_nslots_mul:4";
