/* A string-keyed hash map (open addressing, linear probing) for the
 * registries and named actors. Not thread-safe: callers hold the runtime
 * lock. Keys are copied; values are the caller's pointers. */
#ifndef MT_STRMAP_H
#define MT_STRMAP_H

#include <stdbool.h>
#include <stddef.h>

typedef struct mt_strmap {
  struct mt_strmap_slot *slots;
  size_t cap; /* power of two or 0 */
  size_t len;
  size_t tombstones;
} mt_strmap;

void mt_strmap_init(mt_strmap *m);
/* Frees the table and the copied keys, not the values. */
void mt_strmap_destroy(mt_strmap *m);
void *mt_strmap_get(const mt_strmap *m, const char *key);
/* Inserts a new key; false if it exists or memory ran out (see *oom). */
bool mt_strmap_insert(mt_strmap *m, const char *key, void *value, bool *oom);
/* Removes key; returns its value or NULL. */
void *mt_strmap_remove(mt_strmap *m, const char *key);
/* Iterates: start with *pos = 0; returns false at the end. */
bool mt_strmap_next(const mt_strmap *m, size_t *pos, const char **key,
                    void **value);

#endif
