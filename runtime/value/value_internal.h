/*
 * Private to the value module: the layout of manta_value and the unchecked
 * builders the codec needs. Only value.c and value_codec.c include this;
 * everyone else goes through value.h and manta.h.
 */
#ifndef MT_VALUE_INTERNAL_H
#define MT_VALUE_INTERNAL_H

#include "value.h"

#include <stdatomic.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

typedef struct mt_map_entry {
  char *key; /* NUL-terminated copy */
  size_t klen;
  uint64_t hash; /* valid only while the map has an index */
  manta_value *val;
} mt_map_entry;

/*
 * 40 bytes on LP64: small enough that scalars fit a 48-byte malloc chunk.
 * String and copied-bytes payloads live right after the struct, in the same
 * allocation, so a small string costs one malloc and one free.
 */
struct manta_value {
  _Atomic uint32_t refs;
  uint8_t kind;              /* manta_kind */
  _Atomic uint8_t frozen;    /* relaxed: set once, read by the owner */
  _Atomic uint8_t contained; /* ever stored in a container: cycle check */
  union {
    int b;
    int64_t i;
    double d;
    struct {
      char *data; /* NUL-terminated, may hold NULs before len */
      size_t len;
    } str;
    struct {
      void *data;
      size_t len;
      void (*release)(void *data, void *arg); /* NULL: inline or static */
      void *arg;
    } bytes;
    struct {
      manta_value **items;
      size_t len;
      size_t cap;
    } list;
    struct {
      mt_map_entry *entries;
      uint32_t *slots; /* open-addressing index of entry+1; NULL if small */
      uint32_t len;
      uint32_t cap;
      uint32_t nslots; /* a power of two, or 0 */
    } map;
    uint64_t id; /* ref or actor */
    struct {
      char *message; /* inline after the struct, never NULL */
      char *origin;  /* NULL means "" */
      manta_value *cause;
      int32_t code;
    } err;
  } u;
};

/* The installed hooks with every member set (defaults fill the gaps). */
const mt_value_hooks *mt_value_hooks_get(void);

/* A ref (kind MANTA_KIND_REF) or actor value that takes over an id already
 * counted for it. On failure the count is released and NULL returned. */
manta_value *mt_value_adopt_id(manta_kind kind, uint64_t id);

/* An error value from length-carrying parts (no NULs inside). */
manta_value *mt_error_build(int32_t code, const char *msg, size_t msg_len,
                            const char *origin, size_t origin_len);

/* Container growth without the frozen and cycle checks: for values that are
 * still private to their builder. Both take `item` even on failure. */
manta_err mt_list_append(manta_value *list, manta_value *item);
manta_err mt_map_put_n(manta_value *map, const char *key, size_t klen,
                       manta_value *item);

/* The map index (value_map.c). Index of key in m, or -1; `hash` is set
 * when the map is indexed. */
int64_t mt_map_lookup(const manta_value *m, const char *key, size_t klen,
                      uint64_t *hash);
/* Adds entry number `entry` under hash to an index of nslots slots. */
void mt_map_index_insert(uint32_t *slots, uint32_t nslots, uint64_t hash,
                         uint32_t entry);
/* (Re)builds m's index with room for at least `want` entries at a load of
 * at most one half; false leaves the old index (or none) in place. */
bool mt_map_index_rebuild(manta_value *m, size_t want);

#endif
