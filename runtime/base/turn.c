#include "turn.h"

#include <stdlib.h>

void mt_turn_clear(mt_turn *t) {
  t->n = 0;
  t->taken = 0;
  t->cursor = 0;
}

bool mt_turn_add(mt_turn *t, uint64_t id) {
  if (t->n == t->cap) {
    size_t cap = t->cap ? 2 * t->cap : 8;
    uint64_t *ids = realloc(t->ids, cap * sizeof *ids);
    if (!ids) {
      return false;
    }
    t->ids = ids;
    t->cap = cap;
  }
  t->ids[t->n++] = id;
  return true;
}

static int cmp_id(const void *a, const void *b) {
  uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;
  return (x > y) - (x < y);
}

void mt_turn_sort(mt_turn *t) {
  if (t->n > 1) { /* qsort's array may not be NULL, even for 0 elements */
    qsort(t->ids, t->n, sizeof *t->ids, cmp_id);
  }
  t->taken = 0;
}

void mt_turn_free(mt_turn *t) {
  free(t->ids);
  t->ids = NULL;
  t->n = t->cap = 0;
  t->taken = 0;
}

/* Index of the first id above x (n if none). */
static size_t above(const mt_turn *t, uint64_t x) {
  size_t lo = 0, hi = t->n;
  while (lo < hi) {
    size_t mid = lo + (hi - lo) / 2;
    if (t->ids[mid] <= x) {
      lo = mid + 1;
    } else {
      hi = mid;
    }
  }
  return lo;
}

/* How far id comes after last in turn: 0 for the next id up, the most for
 * last itself (unsigned arithmetic wraps the order around). */
static uint64_t distance(uint64_t last, uint64_t id) {
  return id - last - 1;
}

uint64_t mt_turn_next(mt_turn *t, uint64_t last, uint64_t extra,
                      mt_turn_ok_fn ok, void *arg, size_t *probes) {
  size_t start = t->taken && t->taken == last ? t->cursor : above(t, last);
  if (start >= t->n) {
    start = 0;
  }
  size_t k = 0;
  for (; k < t->n; k++) {
    size_t j = start + k < t->n ? start + k : start + k - t->n;
    uint64_t id = t->ids[j];
    if (extra && distance(last, extra) < distance(last, id)) {
      /* extra comes first; ids[j] is the first of the set after it. */
      t->taken = extra;
      t->cursor = j;
      break;
    }
    if (ok(id, arg)) {
      t->taken = id;
      t->cursor = j + 1 < t->n ? j + 1 : 0;
      if (probes) {
        *probes = k + 1;
      }
      return id;
    }
  }
  if (probes) {
    *probes = k;
  }
  if (extra && k == t->n) {
    t->taken = 0; /* found again by search next time */
  }
  return extra;
}
