#include "strmap.h"

#include "hash.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

struct mt_strmap_slot {
  char *key; /* NULL: empty; TOMBSTONE: deleted */
  void *value;
  uint64_t hash;
};

static char tombstone_mark;
#define TOMBSTONE (&tombstone_mark)

void mt_strmap_init(mt_strmap *m) {
  memset(m, 0, sizeof *m);
}

void mt_strmap_destroy(mt_strmap *m) {
  for (size_t i = 0; i < m->cap; i++) {
    if (m->slots[i].key && m->slots[i].key != TOMBSTONE) {
      free(m->slots[i].key);
    }
  }
  free(m->slots);
  mt_strmap_init(m);
}

static struct mt_strmap_slot *find(const mt_strmap *m, const char *key,
                                   uint64_t h) {
  if (m->cap == 0) {
    return NULL;
  }
  for (size_t i = h & (m->cap - 1);; i = (i + 1) & (m->cap - 1)) {
    struct mt_strmap_slot *s = &m->slots[i];
    if (s->key == NULL) {
      return NULL;
    }
    if (s->key != TOMBSTONE && s->hash == h && strcmp(s->key, key) == 0) {
      return s;
    }
  }
}

void *mt_strmap_get(const mt_strmap *m, const char *key) {
  struct mt_strmap_slot *s = find(m, key, mt_hash_str(key));
  return s ? s->value : NULL;
}

static bool grow(mt_strmap *m) {
  size_t cap = m->cap ? m->cap * 2 : 16;
  if (m->len * 2 < m->cap) {
    cap = m->cap; /* only tombstones to clear */
  }
  struct mt_strmap_slot *slots = calloc(cap, sizeof *slots);
  if (!slots) {
    return false;
  }
  for (size_t i = 0; i < m->cap; i++) {
    struct mt_strmap_slot *s = &m->slots[i];
    if (s->key && s->key != TOMBSTONE) {
      size_t j = s->hash & (cap - 1);
      while (slots[j].key) {
        j = (j + 1) & (cap - 1);
      }
      slots[j] = *s;
    }
  }
  free(m->slots);
  m->slots = slots;
  m->cap = cap;
  m->tombstones = 0;
  return true;
}

bool mt_strmap_insert(mt_strmap *m, const char *key, void *value, bool *oom) {
  uint64_t h = mt_hash_str(key);
  if (oom) {
    *oom = false;
  }
  if (find(m, key, h)) {
    return false;
  }
  if ((m->len + m->tombstones + 1) * 4 > m->cap * 3 && !grow(m)) {
    if (oom) {
      *oom = true;
    }
    return false;
  }
  char *copy = strdup(key);
  if (!copy) {
    if (oom) {
      *oom = true;
    }
    return false;
  }
  size_t i = h & (m->cap - 1);
  while (m->slots[i].key && m->slots[i].key != TOMBSTONE) {
    i = (i + 1) & (m->cap - 1);
  }
  if (m->slots[i].key == TOMBSTONE) {
    m->tombstones--;
  }
  m->slots[i] = (struct mt_strmap_slot){copy, value, h};
  m->len++;
  return true;
}

void *mt_strmap_remove(mt_strmap *m, const char *key) {
  struct mt_strmap_slot *s = find(m, key, mt_hash_str(key));
  if (!s) {
    return NULL;
  }
  void *value = s->value;
  free(s->key);
  s->key = TOMBSTONE;
  s->value = NULL;
  m->len--;
  m->tombstones++;
  return value;
}

bool mt_strmap_next(const mt_strmap *m, size_t *pos, const char **key,
                    void **value) {
  for (; *pos < m->cap; (*pos)++) {
    struct mt_strmap_slot *s = &m->slots[*pos];
    if (s->key && s->key != TOMBSTONE) {
      *key = s->key;
      *value = s->value;
      (*pos)++;
      return true;
    }
  }
  return false;
}
