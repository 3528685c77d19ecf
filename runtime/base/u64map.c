#include "u64map.h"

#include "hash.h"

#include <stdlib.h>

#define TOMB UINT64_MAX

static size_t slot_of(uint64_t key, size_t cap) {
  return (size_t)mt_hash_u64(key) & (cap - 1);
}

void *mt_u64map_get(const mt_u64map *m, uint64_t key) {
  if (!m->cap) {
    return NULL;
  }
  for (size_t i = slot_of(key, m->cap);; i = (i + 1) & (m->cap - 1)) {
    if (m->keys[i] == key) {
      return m->vals[i];
    }
    if (m->keys[i] == 0) {
      return NULL;
    }
  }
}

static bool grow(mt_u64map *m) {
  size_t cap = m->cap ? m->cap * 2 : 64;
  /* Rehashing in place of tombstones: shrink back when mostly removed. */
  if (m->cap && m->len * 4 < m->cap) {
    cap = m->cap;
  }
  uint64_t *keys = calloc(cap, sizeof *keys);
  void **vals = calloc(cap, sizeof *vals);
  if (!keys || !vals) {
    free(keys);
    free(vals);
    return false;
  }
  for (size_t i = 0; i < m->cap; i++) {
    uint64_t k = m->keys[i];
    if (k != 0 && k != TOMB) {
      size_t j = slot_of(k, cap);
      while (keys[j]) {
        j = (j + 1) & (cap - 1);
      }
      keys[j] = k;
      vals[j] = m->vals[i];
    }
  }
  free(m->keys);
  free(m->vals);
  m->keys = keys;
  m->vals = vals;
  m->cap = cap;
  m->used = m->len;
  return true;
}

bool mt_u64map_put(mt_u64map *m, uint64_t key, void *val) {
  if ((m->used + 1) * 4 > m->cap * 3 && !grow(m)) {
    return false;
  }
  size_t i = slot_of(key, m->cap);
  while (m->keys[i] != 0 && m->keys[i] != TOMB && m->keys[i] != key) {
    i = (i + 1) & (m->cap - 1);
  }
  if (m->keys[i] != key) {
    m->used += m->keys[i] == 0;
    m->len++;
  }
  m->keys[i] = key;
  m->vals[i] = val;
  return true;
}

void *mt_u64map_remove(mt_u64map *m, uint64_t key) {
  if (!m->cap) {
    return NULL;
  }
  for (size_t i = slot_of(key, m->cap);; i = (i + 1) & (m->cap - 1)) {
    if (m->keys[i] == key) {
      void *v = m->vals[i];
      m->keys[i] = TOMB;
      m->vals[i] = NULL;
      m->len--;
      return v;
    }
    if (m->keys[i] == 0) {
      return NULL;
    }
  }
}

bool mt_u64map_next(const mt_u64map *m, size_t *pos, uint64_t *key,
                    void **val) {
  for (; *pos < m->cap; (*pos)++) {
    uint64_t k = m->keys[*pos];
    if (k != 0 && k != TOMB) {
      *key = k;
      *val = m->vals[*pos];
      (*pos)++;
      return true;
    }
  }
  return false;
}

void mt_u64map_free(mt_u64map *m) {
  free(m->keys);
  free(m->vals);
  *m = (mt_u64map){0};
}
