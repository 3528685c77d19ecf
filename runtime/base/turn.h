/* A round-robin turn over a set of 64-bit ids (never 0), in cyclic id
 * order: the next id is the smallest one above the id taken last, else the
 * smallest of all. The id taken last is passed in, so several turns (one
 * per function, say) can share one order; a turn remembers where it took
 * last, so that a run of takes by the same turn costs O(1) each, plus the
 * ids it skips as not eligible now; after another turn took, the place is
 * found again by binary search. Not thread-safe: callers hold their lock. */
#ifndef MT_TURN_H
#define MT_TURN_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

typedef struct mt_turn {
  uint64_t *ids; /* sorted once built */
  size_t n, cap;
  uint64_t taken; /* the id this turn took last (0: none, or rebuilt) */
  size_t cursor;  /* index of the first id after `taken` in turn */
} mt_turn;

/* Empties the set (keeps its memory). */
void mt_turn_clear(mt_turn *t);
/* Adds an id (call mt_turn_sort once all are added); false on OOM. */
bool mt_turn_add(mt_turn *t, uint64_t id);
void mt_turn_sort(mt_turn *t);
void mt_turn_free(mt_turn *t);

/* Whether id may be taken now. */
typedef bool (*mt_turn_ok_fn)(uint64_t id, void *arg);

/* The first id in turn after `last` for which ok() holds; `extra`, when
 * not 0, is one more candidate outside the set, always eligible. 0 when
 * there is none. *probes (may be NULL) gets how many ids were looked at. */
uint64_t mt_turn_next(mt_turn *t, uint64_t last, uint64_t extra,
                      mt_turn_ok_fn ok, void *arg, size_t *probes);

#endif
