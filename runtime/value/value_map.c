/*
 * The index of a map value: past a few entries, keys are hashed into an
 * open-addressing table of entry numbers, so a lookup in a large map does
 * not scan it. Building, inserting and looking up; the map itself (its
 * entries, mutation, reading) is in value.c.
 */
#include "hash.h"
#include "value_internal.h"

#include <stdlib.h>
#include <string.h>

/* The runtime's keyed hash (base/hash.h): map keys can come off the wire,
 * and a fixed hash would let a peer send keys that all collide and turn a
 * decode into quadratic work. */
static uint64_t key_hash(const char *key, size_t len) {
  return mt_hash_bytes(key, len);
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
