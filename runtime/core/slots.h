/*
 * A table of fixed-size slots named by checked 64-bit ids: the object table
 * and the actor table are both one.
 *
 * An id is epoch (8 bits) | generation (24 bits) | slot index + 1 (32 bits).
 * A slot's generation changes when it is freed and the epoch when the
 * runtime starts again, so a stale or forged id finds nothing instead of
 * touching memory. Slots sit in chunks that never move, so a pointer to a
 * live slot stays valid. Not thread-safe: callers hold the runtime lock.
 */
#ifndef MT_SLOTS_H
#define MT_SLOTS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* The first member of every element of a table. */
typedef struct mt_slot {
  uint32_t gen;
  uint32_t idx;       /* own index */
  uint32_t next_free; /* free list link (index + 1) */
  bool live;
} mt_slot;

typedef struct mt_slots {
  char **chunks;
  size_t nchunks, used;
  uint32_t free; /* index + 1 of the first free slot; 0: none */
  size_t elem_size;
  unsigned chunk_shift;
  uint8_t epoch;
} mt_slots;

void mt_slots_init(mt_slots *t, size_t elem_size, unsigned chunk_shift,
                   uint8_t epoch);
/* Frees every chunk; the elements' own resources are the caller's. */
void mt_slots_destroy(mt_slots *t);
/* A live, zeroed element (its header set); NULL when memory runs out. */
void *mt_slots_alloc(mt_slots *t);
void mt_slots_free(mt_slots *t, void *elem);
/* The live element an id names, or NULL. */
void *mt_slots_find(const mt_slots *t, uint64_t id);
uint64_t mt_slots_id(const mt_slots *t, const void *elem);
/* Element i, live or not, for i < t->used (walking the table). */
void *mt_slots_at(const mt_slots *t, size_t i);

#endif
