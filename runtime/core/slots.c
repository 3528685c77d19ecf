#include "slots.h"

#include <stdlib.h>
#include <string.h>

#define GEN_MASK 0xFFFFFFu

void mt_slots_init(mt_slots *t, size_t elem_size, unsigned chunk_shift,
                   uint8_t epoch) {
  memset(t, 0, sizeof *t);
  t->elem_size = elem_size;
  t->chunk_shift = chunk_shift;
  t->epoch = epoch;
}

void mt_slots_destroy(mt_slots *t) {
  for (size_t c = 0; c < t->nchunks; c++) {
    free(t->chunks[c]);
  }
  free(t->chunks);
  mt_slots_init(t, t->elem_size, t->chunk_shift, t->epoch);
}

void *mt_slots_at(const mt_slots *t, size_t i) {
  size_t mask = ((size_t)1 << t->chunk_shift) - 1;
  return t->chunks[i >> t->chunk_shift] + (i & mask) * t->elem_size;
}

void *mt_slots_alloc(mt_slots *t) {
  size_t idx, chunk_slots = (size_t)1 << t->chunk_shift;
  if (t->free) {
    idx = t->free - 1;
    t->free = ((mt_slot *)mt_slots_at(t, idx))->next_free;
  } else {
    if (t->used == t->nchunks * chunk_slots) {
      if (t->used >= UINT32_MAX - chunk_slots) {
        return NULL; /* ids have 32 bits of index */
      }
      char **chunks = realloc(t->chunks, (t->nchunks + 1) * sizeof *chunks);
      if (!chunks) {
        return NULL;
      }
      t->chunks = chunks;
      if (!(chunks[t->nchunks] = calloc(chunk_slots, t->elem_size))) {
        return NULL;
      }
      t->nchunks++;
    }
    idx = t->used++;
  }
  mt_slot *s = mt_slots_at(t, idx);
  uint32_t gen = s->gen;
  memset(s, 0, t->elem_size);
  s->gen = gen;
  s->idx = (uint32_t)idx;
  s->live = true;
  return s;
}

void mt_slots_free(mt_slots *t, void *elem) {
  mt_slot *s = elem;
  s->live = false;
  s->gen = (s->gen + 1) & GEN_MASK;
  s->next_free = t->free;
  t->free = s->idx + 1;
}

uint64_t mt_slots_id(const mt_slots *t, const void *elem) {
  const mt_slot *s = elem;
  return ((uint64_t)t->epoch << 56) | ((uint64_t)(s->gen & GEN_MASK) << 32) |
         (uint64_t)(s->idx + 1);
}

void *mt_slots_find(const mt_slots *t, uint64_t id) {
  uint32_t low = (uint32_t)id;
  if ((uint8_t)(id >> 56) != t->epoch || low == 0 || low > t->used) {
    return NULL;
  }
  mt_slot *s = mt_slots_at(t, low - 1);
  return s->live && s->gen == ((id >> 32) & GEN_MASK) ? s : NULL;
}
