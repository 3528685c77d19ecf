/*
 * The index of a map value: past a few entries, keys are hashed into an
 * open-addressing table of entry numbers, so a lookup in a large map does
 * not scan it. Building, inserting and looking up; the map itself (its
 * entries, mutation, reading) is in value.c.
 */
#include "value_internal.h"

#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <time.h>

/*
 * SipHash-1-3 with a per-process random key: map keys can come off the wire,
 * and a fixed hash would let a peer send keys that all collide and turn a
 * decode into quadratic work.
 */
static uint64_t sip_k0, sip_k1;
static pthread_once_t sip_once = PTHREAD_ONCE_INIT;

static void sip_init(void) {
  uint64_t k[2];
  if (getrandom(k, sizeof k, GRND_NONBLOCK) != (ssize_t)sizeof k) {
    /* Early boot without entropy: weaker, but only against flooding. */
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    k[0] = (uint64_t)ts.tv_nsec ^ ((uint64_t)ts.tv_sec << 32) ^
           (uint64_t)(uintptr_t)&ts;
    k[1] = (uint64_t)(uintptr_t)&sip_k0 * 0x9e3779b97f4a7c15ULL;
  }
  sip_k0 = k[0];
  sip_k1 = k[1];
}

static uint64_t rotl64(uint64_t x, int b) {
  return (x << b) | (x >> (64 - b));
}

#define SIP_ROUND()                                                            \
  do {                                                                         \
    v0 += v1;                                                                  \
    v1 = rotl64(v1, 13);                                                       \
    v1 ^= v0;                                                                  \
    v0 = rotl64(v0, 32);                                                       \
    v2 += v3;                                                                  \
    v3 = rotl64(v3, 16);                                                       \
    v3 ^= v2;                                                                  \
    v0 += v3;                                                                  \
    v3 = rotl64(v3, 21);                                                       \
    v3 ^= v0;                                                                  \
    v2 += v1;                                                                  \
    v1 = rotl64(v1, 17);                                                       \
    v1 ^= v2;                                                                  \
    v2 = rotl64(v2, 32);                                                       \
  } while (0)

static uint64_t key_hash(const char *key, size_t len) {
  pthread_once(&sip_once, sip_init);
  uint64_t v0 = 0x736f6d6570736575ULL ^ sip_k0;
  uint64_t v1 = 0x646f72616e646f6dULL ^ sip_k1;
  uint64_t v2 = 0x6c7967656e657261ULL ^ sip_k0;
  uint64_t v3 = 0x7465646279746573ULL ^ sip_k1;
  const unsigned char *p = (const unsigned char *)key;
  size_t whole = len - len % 8;
  for (size_t i = 0; i < whole; i += 8) {
    uint64_t m;
    memcpy(&m, p + i, 8);
    v3 ^= m;
    SIP_ROUND();
    v0 ^= m;
  }
  uint64_t b = (uint64_t)len << 56;
  for (size_t i = 0; i < len % 8; i++) {
    b |= (uint64_t)p[whole + i] << (8 * i);
  }
  v3 ^= b;
  SIP_ROUND();
  v0 ^= b;
  v2 ^= 0xff;
  SIP_ROUND();
  SIP_ROUND();
  SIP_ROUND();
  return v0 ^ v1 ^ v2 ^ v3;
}

void mt_map_index_insert(uint32_t *slots, uint32_t nslots, uint64_t hash,
                         uint32_t entry) {
  uint32_t mask = nslots - 1;
  uint32_t i = (uint32_t)hash & mask;
  while (slots[i]) {
    i = (i + 1) & mask;
  }
  slots[i] = entry + 1;
}

/* (Re)builds the index with room for at least `want` entries at a load of at
 * most one half. Failing leaves the old index (or none) in place: lookups
 * stay correct, only slower. */
bool mt_map_index_rebuild(manta_value *m, size_t want) {
  size_t n = 64;
  while (n < want * 2) {
    n *= 2;
  }
  if (n > UINT32_MAX / 2 + 1) {
    return false;
  }
  uint32_t *slots = calloc(n, sizeof *slots);
  if (!slots) {
    return false;
  }
  bool had_index = m->u.map.slots != NULL;
  for (uint32_t i = 0; i < m->u.map.len; i++) {
    mt_map_entry *e = &m->u.map.entries[i];
    if (!had_index) {
      e->hash = key_hash(e->key, e->klen);
    }
    mt_map_index_insert(slots, (uint32_t)n, e->hash, i);
  }
  free(m->u.map.slots);
  m->u.map.slots = slots;
  m->u.map.nslots = (uint32_t)n;
  return true;
}

/* Index of key in m, or -1. `hash` is set when the map is indexed. */
int64_t mt_map_lookup(const manta_value *m, const char *key, size_t klen,
                      uint64_t *hash) {
  const mt_map_entry *entries = m->u.map.entries;
  if (m->u.map.slots) {
    uint64_t h = key_hash(key, klen);
    *hash = h;
    uint32_t mask = m->u.map.nslots - 1;
    for (uint32_t i = (uint32_t)h & mask; m->u.map.slots[i];
         i = (i + 1) & mask) {
      const mt_map_entry *e = &entries[m->u.map.slots[i] - 1];
      if (e->hash == h && e->klen == klen && memcmp(e->key, key, klen) == 0) {
        return m->u.map.slots[i] - 1;
      }
    }
    return -1;
  }
  for (uint32_t i = 0; i < m->u.map.len; i++) {
    if (entries[i].klen == klen && memcmp(entries[i].key, key, klen) == 0) {
      return i;
    }
  }
  return -1;
}
