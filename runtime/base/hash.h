/* The one hash of the runtime's maps (ids and strings).
 *
 * SipHash-1-3 under a key drawn at random once per process. Map keys come
 * off the wire (object ids a peer lends, actor names, task sequence numbers
 * a peer answers), and with an unkeyed hash (FNV, a multiply-shift mix) a
 * peer could choose keys that all land in one probe run and turn every
 * lookup linear. A keyed PRF leaves nothing to choose; the 1-3 variant
 * (the one CPython and Rust's HashMap use) costs a few ns on short keys,
 * which the maps' lookups on the task path can afford. */
#ifndef MT_HASH_H
#define MT_HASH_H

#include <stddef.h>
#include <stdint.h>

/* SipHash-1-3 of p[0..n) under key k (k[0] the first 8 key bytes, read
 * little-endian): the function itself, for known-answer tests. */
uint64_t mt_siphash13(const uint64_t k[2], const void *p, size_t n);

/* The process's hash: mt_siphash13 under the per-process random key. */
uint64_t mt_hash_bytes(const void *p, size_t n);
uint64_t mt_hash_str(const char *s);
/* The hash of the 8 little-endian bytes of x. */
uint64_t mt_hash_u64(uint64_t x);

#endif
