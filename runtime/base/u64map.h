/* A map from 64-bit ids (never 0 or UINT64_MAX) to pointers: open
 * addressing with linear probing and tombstones, for tasks in flight,
 * proxies, borrows and holds. Not thread-safe: each map is used under its
 * owner's mutex. Grows at 3/4 full (empty slots plus tombstones), so a
 * probe always ends at an empty slot. */
#ifndef MT_U64MAP_H
#define MT_U64MAP_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

typedef struct mt_u64map {
  uint64_t *keys; /* 0: empty, UINT64_MAX: removed */
  void **vals;
  size_t cap;  /* power of two or 0 */
  size_t len;  /* keys present */
  size_t used; /* keys present plus tombstones */
} mt_u64map;

/* A zeroed mt_u64map is an empty map; no init needed. */
void *mt_u64map_get(const mt_u64map *m, uint64_t key);
/* Sets key's value (inserting or replacing); false if memory ran out. */
bool mt_u64map_put(mt_u64map *m, uint64_t key, void *val);
/* Removes key; its value, or NULL if it was not there. */
void *mt_u64map_remove(mt_u64map *m, uint64_t key);
/* Iterates: start with *pos = 0; false at the end. Removing the key just
 * returned is allowed during the walk; putting is not. */
bool mt_u64map_next(const mt_u64map *m, size_t *pos, uint64_t *key, void **val);
/* Frees the table, not the values; the map is empty again. */
void mt_u64map_free(mt_u64map *m);

#endif
