/*
 * The value model: construction, reference counting, freezing, mutation,
 * reading and equality of manta_value. The wire encoding lives in
 * value_codec.c, a map's hash index in value_map.c, repr in value_repr.c.
 *
 * Values form trees (DAGs when a value is shared). Nothing here recurses on
 * the shape of a value except repr, which is depth-limited: free, freeze,
 * equality and the cycle check walk with an explicit stack, so a value nested
 * a million deep by a careless builder cannot overflow a worker's stack.
 */
#include "bigalloc.h"
#include "value_internal.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* ------------------------------------------------------------------------ */
/* Allocation and hooks                                                      */
/* ------------------------------------------------------------------------ */

static _Atomic int64_t live_values;

int64_t mt_value_live_count(void) {
  return atomic_load_explicit(&live_values, memory_order_relaxed);
}

static manta_value *value_alloc(manta_kind kind, size_t extra) {
  if (extra > SIZE_MAX - sizeof(manta_value)) {
    return NULL;
  }
  manta_value *v = malloc(sizeof(manta_value) + extra);
  if (!v) {
    return NULL;
  }
  atomic_init(&v->refs, 1);
  v->kind = (uint8_t)kind;
  atomic_init(&v->frozen, 0);
  atomic_init(&v->contained, 0);
  memset(&v->u, 0, sizeof v->u);
  atomic_fetch_add_explicit(&live_values, 1, memory_order_relaxed);
  return v;
}

static void value_dealloc(manta_value *v) {
  free(v);
  atomic_fetch_sub_explicit(&live_values, 1, memory_order_relaxed);
}

static void hook_noop(uint64_t id) {
  (void)id;
}

/* Without a runtime a local id is its own wire id: the owner half is zero. */
static void hook_to_wire(uint64_t id, uint8_t wire[16]) {
  memset(wire, 0, 8);
  for (int i = 0; i < 8; i++) {
    wire[8 + i] = (uint8_t)(id >> (56 - 8 * i));
  }
}

static manta_err hook_from_wire(const uint8_t wire[16], uint64_t *id) {
  uint64_t x = 0;
  for (int i = 8; i < 16; i++) {
    x = (x << 8) | wire[i];
  }
  *id = x;
  return MANTA_OK;
}

static const mt_value_hooks default_hooks = {
    hook_noop,    hook_noop,    hook_noop,      hook_noop,
    hook_to_wire, hook_to_wire, hook_from_wire, hook_from_wire};

static mt_value_hooks hooks = {hook_noop,      hook_noop,     hook_noop,
                               hook_noop,      hook_to_wire,  hook_to_wire,
                               hook_from_wire, hook_from_wire};

void mt_value_set_hooks(const mt_value_hooks *h) {
  mt_value_hooks n = default_hooks;
  if (h) {
#define MT_TAKE_HOOK_(f)                                                       \
  if (h->f) {                                                                  \
    n.f = h->f;                                                                \
  }
    MT_TAKE_HOOK_(ref_retain)
    MT_TAKE_HOOK_(ref_release)
    MT_TAKE_HOOK_(actor_retain)
    MT_TAKE_HOOK_(actor_release)
    MT_TAKE_HOOK_(ref_to_wire)
    MT_TAKE_HOOK_(actor_to_wire)
    MT_TAKE_HOOK_(ref_from_wire)
    MT_TAKE_HOOK_(actor_from_wire)
#undef MT_TAKE_HOOK_
  }
  hooks = n;
}

const mt_value_hooks *mt_value_hooks_get(void) {
  return &hooks;
}

/* ------------------------------------------------------------------------ */
/* Constructors                                                              */
/* ------------------------------------------------------------------------ */

manta_value *manta_null(void) {
  return value_alloc(MANTA_KIND_NULL, 0);
}

manta_value *manta_bool(int b) {
  manta_value *v = value_alloc(MANTA_KIND_BOOL, 0);
  if (v) {
    v->u.b = b != 0;
  }
  return v;
}

manta_value *manta_int(int64_t i) {
  manta_value *v = value_alloc(MANTA_KIND_INT, 0);
  if (v) {
    v->u.i = i;
  }
  return v;
}

manta_value *manta_double(double d) {
  manta_value *v = value_alloc(MANTA_KIND_DOUBLE, 0);
  if (v) {
    v->u.d = d;
  }
  return v;
}

manta_value *manta_string(const char *s, size_t len) {
  if ((!s && len) || len == SIZE_MAX) {
    return NULL;
  }
  manta_value *v = value_alloc(MANTA_KIND_STRING, len + 1);
  if (!v) {
    return NULL;
  }
  v->u.str.data = (char *)(v + 1);
  v->u.str.len = len;
  if (len) {
    memcpy(v->u.str.data, s, len);
  }
  v->u.str.data[len] = '\0';
  return v;
}

manta_value *manta_cstring(const char *s) {
  return s ? manta_string(s, strlen(s)) : NULL;
}

/* The short call form's name for it (manta.h, "Calls, the short form"). */
manta_value *manta_str(const char *s) {
  return manta_cstring(s);
}

static void big_release(void *data, void *cap) {
  mt_big_free(data, (size_t)(uintptr_t)cap);
}

/* A large payload goes to its own reusable block (bigalloc.h). */
static manta_value *big_bytes(const void *data, size_t len) {
  size_t cap;
  void *buf = mt_big_alloc(len, &cap);
  if (!buf) {
    return NULL;
  }
  memcpy(buf, data, len);
  manta_value *v =
      manta_bytes_wrap(buf, len, big_release, (void *)(uintptr_t)cap);
  if (!v) {
    mt_big_free(buf, cap);
  }
  return v;
}

manta_value *manta_bytes(const void *data, size_t len) {
  if (!data && len) {
    return NULL;
  }
  if (len >= MT_BIG_MIN) {
    return big_bytes(data, len);
  }
  manta_value *v = value_alloc(MANTA_KIND_BYTES, len);
  if (!v) {
    return NULL;
  }
  /* Point at the inline area even when empty so readers never see NULL. */
  v->u.bytes.data = v + 1;
  v->u.bytes.len = len;
  if (len) {
    memcpy(v->u.bytes.data, data, len);
  }
  return v;
}

manta_value *manta_bytes_wrap(void *data, size_t len,
                              void (*release)(void *data, void *arg),
                              void *arg) {
  if (!data && len) {
    return NULL;
  }
  manta_value *v = value_alloc(MANTA_KIND_BYTES, 0);
  if (!v) {
    return NULL;
  }
  v->u.bytes.data = data;
  v->u.bytes.len = len;
  v->u.bytes.release = release;
  v->u.bytes.arg = arg;
  return v;
}

manta_value *manta_list(void) {
  return value_alloc(MANTA_KIND_LIST, 0);
}

manta_value *manta_map(void) {
  return value_alloc(MANTA_KIND_MAP, 0);
}

manta_value *manta_ref_value(manta_ref ref) {
  manta_value *v = value_alloc(MANTA_KIND_REF, 0);
  if (v) {
    v->u.id = ref.id;
    hooks.ref_retain(ref.id);
  }
  return v;
}

/* Takes over the caller's count (released if no value can be made). */
manta_value *manta_ref_take(manta_ref ref) {
  return mt_value_adopt_id(MANTA_KIND_REF, ref.id);
}

manta_value *manta_actor_value(manta_actor actor) {
  manta_value *v = value_alloc(MANTA_KIND_ACTOR, 0);
  if (v) {
    v->u.id = actor.id;
    hooks.actor_retain(actor.id);
  }
  return v;
}

manta_value *mt_value_wrap_id(manta_kind kind, uint64_t id) {
  manta_value *v = value_alloc(kind, 0);
  if (v) {
    v->u.id = id;
  }
  return v;
}

manta_value *mt_value_adopt_id(manta_kind kind, uint64_t id) {
  manta_value *v = mt_value_wrap_id(kind, id);
  if (v) {
    return v;
  }
  if (kind == MANTA_KIND_REF) {
    hooks.ref_release(id);
  } else {
    hooks.actor_release(id);
  }
  return v;
}

uint64_t mt_value_ref_id(const manta_value *v) {
  return v && v->kind == MANTA_KIND_REF ? v->u.id : 0;
}

/* Origin "" is stored as NULL so the common error without one costs no
 * second allocation. */
static bool error_set_origin_n(manta_value *v, const char *origin, size_t len) {
  char *copy = NULL;
  if (len) {
    copy = malloc(len + 1);
    if (!copy) {
      return false;
    }
    memcpy(copy, origin, len);
    copy[len] = '\0';
  }
  free(v->u.err.origin);
  v->u.err.origin = copy;
  return true;
}

manta_value *mt_error_build(int32_t code, const char *msg, size_t msg_len,
                            const char *origin, size_t origin_len) {
  if ((!msg && msg_len) || (!origin && origin_len) || msg_len == SIZE_MAX) {
    return NULL;
  }
  manta_value *v = value_alloc(MANTA_KIND_ERROR, msg_len + 1);
  if (!v) {
    return NULL;
  }
  v->u.err.code = code;
  v->u.err.message = (char *)(v + 1);
  if (msg_len) {
    memcpy(v->u.err.message, msg, msg_len);
  }
  v->u.err.message[msg_len] = '\0';
  if (!error_set_origin_n(v, origin, origin_len)) {
    value_dealloc(v);
    return NULL;
  }
  return v;
}

static manta_value *error_vnew(manta_err code, const char *origin,
                               const char *fmt, va_list ap) {
  int n = 0;
  if (fmt) {
    va_list probe;
    va_copy(probe, ap);
    n = vsnprintf(NULL, 0, fmt, probe);
    va_end(probe);
  }
  /* A format the C library cannot render still yields the error itself: the
   * code is what callers act on. */
  if (n < 0) {
    n = 0;
    fmt = NULL;
  }
  manta_value *v = value_alloc(MANTA_KIND_ERROR, (size_t)n + 1);
  if (!v) {
    return NULL;
  }
  v->u.err.code = (int32_t)code;
  v->u.err.message = (char *)(v + 1);
  v->u.err.message[0] = '\0';
  if (fmt) {
    vsnprintf(v->u.err.message, (size_t)n + 1, fmt, ap);
  }
  if (origin && !error_set_origin_n(v, origin, strlen(origin))) {
    value_dealloc(v);
    return NULL;
  }
  return v;
}

manta_value *manta_error(manta_err code, const char *fmt, ...) {
  va_list ap;
  va_start(ap, fmt);
  manta_value *v = error_vnew(code, NULL, fmt, ap);
  va_end(ap);
  return v;
}

manta_value *mt_error_new(manta_err code, const char *origin, const char *fmt,
                          ...) {
  va_list ap;
  va_start(ap, fmt);
  manta_value *v = error_vnew(code, origin, fmt, ap);
  va_end(ap);
  return v;
}

/* ------------------------------------------------------------------------ */
/* Walking without recursion                                                 */
/* ------------------------------------------------------------------------ */

static bool is_container(const manta_value *v) {
  return v->kind == MANTA_KIND_LIST || v->kind == MANTA_KIND_MAP ||
         v->kind == MANTA_KIND_ERROR;
}

static bool is_frozen(const manta_value *v) {
  return atomic_load_explicit(&v->frozen, memory_order_relaxed) != 0;
}

/* The i-th child of a container (list items, map values, error cause), or
 * NULL past the last. Returns non-const like strchr: callers that own the
 * parent may drop the child. */
static manta_value *child_at(const manta_value *v, size_t i) {
  switch (v->kind) {
  case MANTA_KIND_LIST:
    return i < v->u.list.len ? v->u.list.items[i] : NULL;
  case MANTA_KIND_MAP:
    return i < v->u.map.len ? v->u.map.entries[i].val : NULL;
  case MANTA_KIND_ERROR:
    return i == 0 ? v->u.err.cause : NULL;
  default:
    return NULL;
  }
}

typedef struct walk_frame {
  manta_value *v;
  const manta_value *other; /* equality walks two values in step */
  size_t next;
} walk_frame;

/* A stack of frames that lives on the C stack until it outgrows it. */
typedef struct walk {
  walk_frame *frames;
  size_t n;
  size_t cap;
  walk_frame local[32];
} walk;

static void walk_init(walk *w) {
  w->frames = w->local;
  w->n = 0;
  w->cap = sizeof w->local / sizeof w->local[0];
}

static bool walk_push(walk *w, manta_value *v, const manta_value *other) {
  if (w->n == w->cap) {
    if (w->cap > SIZE_MAX / 2 / sizeof(walk_frame)) {
      return false;
    }
    size_t cap = w->cap * 2;
    walk_frame *f = w->frames == w->local ? malloc(cap * sizeof *f)
                                          : realloc(w->frames, cap * sizeof *f);
    if (!f) {
      return false;
    }
    if (w->frames == w->local) {
      memcpy(f, w->local, sizeof w->local);
    }
    w->frames = f;
    w->cap = cap;
  }
  w->frames[w->n++] = (walk_frame){v, other, 0};
  return true;
}

static void walk_fini(walk *w) {
  if (w->frames != w->local) {
    free(w->frames);
  }
}

/* ------------------------------------------------------------------------ */
/* References and freeing                                                    */
/* ------------------------------------------------------------------------ */

manta_value *manta_value_ref(manta_value *v) {
  if (v) {
    atomic_fetch_add_explicit(&v->refs, 1, memory_order_relaxed);
  }
  return v;
}

static bool drop_ref(manta_value *v) {
  /* The sole owner skips the atomic read-modify-write, most of the cost of
   * freeing a small value: with one reference, ours, nobody can add another.
   * The acquire pairs with the release of whoever dropped theirs before. */
  if (atomic_load_explicit(&v->refs, memory_order_acquire) == 1) {
    return true;
  }
  return atomic_fetch_sub_explicit(&v->refs, 1, memory_order_acq_rel) == 1;
}

/* Frees what v owns besides its children, which are already dropped. */
static void destroy_shell(manta_value *v) {
  switch ((manta_kind)v->kind) {
  case MANTA_KIND_BYTES:
    if (v->u.bytes.release) {
      v->u.bytes.release(v->u.bytes.data, v->u.bytes.arg);
    }
    break;
  case MANTA_KIND_LIST:
    free(v->u.list.items);
    break;
  case MANTA_KIND_MAP:
    for (uint32_t i = 0; i < v->u.map.len; i++) {
      free(v->u.map.entries[i].key);
    }
    free(v->u.map.entries);
    free(v->u.map.slots);
    break;
  case MANTA_KIND_REF:
    hooks.ref_release(v->u.id);
    break;
  case MANTA_KIND_ACTOR:
    hooks.actor_release(v->u.id);
    break;
  case MANTA_KIND_ERROR:
    free(v->u.err.origin);
    break;
  default:
    break;
  }
  value_dealloc(v);
}

/* Tears down a dead container and every child that dies with it. */
static void drop_tree(manta_value *root) {
  walk w;
  walk_init(&w);
  walk_push(&w, root, NULL);
  while (w.n) {
    walk_frame *top = &w.frames[w.n - 1];
    manta_value *c = child_at(top->v, top->next);
    if (!c) {
      destroy_shell(top->v);
      w.n--;
      continue;
    }
    top->next++;
    if (!drop_ref(c)) {
      continue;
    }
    if (!is_container(c)) {
      destroy_shell(c);
    } else if (!walk_push(&w, c, NULL)) {
      /* Out of memory for the stack: a nested walk has its own 32 frames
       * on the C stack, so this still cannot recurse once per level. */
      drop_tree(c);
    }
  }
  walk_fini(&w);
}

void manta_value_free(manta_value *v) {
  if (!v || !drop_ref(v)) {
    return;
  }
  if (is_container(v)) {
    drop_tree(v);
  } else {
    destroy_shell(v);
  }
}

/* ------------------------------------------------------------------------ */
/* Freezing                                                                  */
/* ------------------------------------------------------------------------ */

static void set_frozen(manta_value *v) {
  atomic_store_explicit(&v->frozen, 1, memory_order_relaxed);
}

/* Everything below a frozen value is frozen (mutation of a frozen value is
 * refused), so the walk stops at frozen children: freezing is linear in the
 * part that was still mutable, and freezing twice costs nothing. */
static void freeze_children(manta_value *root) {
  walk w;
  walk_init(&w);
  walk_push(&w, root, NULL);
  while (w.n) {
    walk_frame *top = &w.frames[w.n - 1];
    manta_value *c = child_at(top->v, top->next);
    if (!c) {
      w.n--;
      continue;
    }
    top->next++;
    if (is_frozen(c)) {
      continue;
    }
    set_frozen(c);
    if (is_container(c) && !walk_push(&w, c, NULL)) {
      freeze_children(c);
    }
  }
  walk_fini(&w);
}

void mt_value_freeze(manta_value *v) {
  if (!v || is_frozen(v)) {
    return;
  }
  set_frozen(v);
  if (is_container(v)) {
    freeze_children(v);
  }
}

bool mt_value_frozen(const manta_value *v) {
  return v && is_frozen(v);
}

/* ------------------------------------------------------------------------ */
/* Mutation                                                                  */
/* ------------------------------------------------------------------------ */

static manta_err check_mutable(const manta_value *v, manta_kind kind) {
  if (!v) {
    return MANTA_ERR_INVALID;
  }
  if (v->kind != kind) {
    return MANTA_ERR_TYPE;
  }
  return is_frozen(v) ? MANTA_ERR_FROZEN : MANTA_OK;
}

static void mark_contained(manta_value *item) {
  if (!atomic_load_explicit(&item->contained, memory_order_relaxed)) {
    atomic_store_explicit(&item->contained, 1, memory_order_relaxed);
  }
}

/*
 * Whether a value below root (not root itself) is one `hit` accepts,
 * looking inside the containers `enter` accepts: 1 found, 0 not, -1 out of
 * memory.
 */
static int walk_find(const manta_value *root,
                     bool (*hit)(const manta_value *c, const void *arg),
                     const void *arg, bool (*enter)(const manta_value *c)) {
  walk w;
  walk_init(&w);
  int found = walk_push(&w, (manta_value *)root, NULL) ? 0 : -1;
  while (w.n && !found) {
    walk_frame *top = &w.frames[w.n - 1];
    manta_value *c = child_at(top->v, top->next);
    if (!c) {
      w.n--;
      continue;
    }
    top->next++;
    if (hit(c, arg)) {
      found = 1;
    } else if (enter(c) && !walk_push(&w, c, NULL)) {
      found = -1;
    }
  }
  walk_fini(&w);
  return found;
}

static bool is_item(const manta_value *c, const void *container) {
  return c == container;
}

static bool unfrozen_container(const manta_value *c) {
  return is_container(c) && !is_frozen(c);
}

/*
 * Storing `item` into `container` must not close a cycle: a cycle would
 * never be freed and would make freeze and equality loop. Only a container
 * that was itself stored somewhere can be inside `item`, and only below
 * mutable containers (everything below a frozen value is frozen). So the
 * usual bottom-up build (fill a fresh container, then store it) never walks,
 * and a walk, when needed, skips frozen subtrees.
 */
static manta_err check_no_cycle(const manta_value *container,
                                manta_value *item) {
  if (item == container) {
    return MANTA_ERR_INVALID;
  }
  if (!is_container(item) || is_frozen(item) ||
      !atomic_load_explicit(&container->contained, memory_order_relaxed)) {
    return MANTA_OK;
  }
  int found = walk_find(item, is_item, container, unfrozen_container);
  return found > 0 ? MANTA_ERR_INVALID : found < 0 ? MANTA_ERR_NOMEM : MANTA_OK;
}

manta_err mt_list_append(manta_value *list, manta_value *item) {
  if (list->u.list.len == list->u.list.cap) {
    size_t cap = list->u.list.cap ? list->u.list.cap * 2 : 4;
    manta_value **items = NULL;
    if (cap <= SIZE_MAX / sizeof *items) {
      items = realloc(list->u.list.items, cap * sizeof *items);
    }
    if (!items) {
      manta_value_free(item);
      return MANTA_ERR_NOMEM;
    }
    list->u.list.items = items;
    list->u.list.cap = cap;
  }
  mark_contained(item);
  list->u.list.items[list->u.list.len++] = item;
  return MANTA_OK;
}

/* Whether `item` may go into `container` (a mutable value of `kind`,
 * no cycle); on any failure the item, which the caller gave away, is freed.
 * `ok` folds in the caller's own argument checks. */
static manta_err check_insert(manta_value *container, manta_kind kind,
                              manta_value *item, bool ok) {
  manta_err err = check_mutable(container, kind);
  if (!err && (!ok || !item)) {
    err = MANTA_ERR_INVALID;
  }
  if (!err) {
    err = check_no_cycle(container, item);
  }
  if (err) {
    manta_value_free(item);
  }
  return err;
}

manta_err manta_list_push(manta_value *list, manta_value *item) {
  manta_err err = check_insert(list, MANTA_KIND_LIST, item, true);
  return err ? err : mt_list_append(list, item);
}

/* --- map index ---------------------------------------------------------- */

/* Past this many entries a map keeps a hash index; below, a linear scan over
 * a few cache lines is faster than hashing. */
#define MAP_INDEX_MIN 16

/* Entry numbers must fit the uint32 index, and the array in size_t. */
#define MAP_MAX_CAP                                                            \
  (SIZE_MAX / sizeof(mt_map_entry) < UINT32_MAX / 2                            \
       ? SIZE_MAX / sizeof(mt_map_entry)                                       \
       : UINT32_MAX / 2)

manta_err mt_map_put_n(manta_value *map, const char *key, size_t klen,
                       manta_value *item) {
  uint64_t hash = 0;
  int64_t at = mt_map_lookup(map, key, klen, &hash);
  if (at >= 0) {
    /* Store first: item may be another reference to the old value. */
    manta_value *old = map->u.map.entries[at].val;
    mark_contained(item);
    map->u.map.entries[at].val = item;
    manta_value_free(old);
    return MANTA_OK;
  }
  if (map->u.map.len == map->u.map.cap) {
    uint32_t cap = map->u.map.cap ? map->u.map.cap * 2 : 4;
    mt_map_entry *entries = NULL;
    if (map->u.map.cap < MAP_MAX_CAP / 2) {
      entries = realloc(map->u.map.entries, cap * sizeof *entries);
    }
    if (!entries) {
      manta_value_free(item);
      return MANTA_ERR_NOMEM;
    }
    map->u.map.entries = entries;
    map->u.map.cap = cap;
  }
  char *copy = klen < SIZE_MAX ? malloc(klen + 1) : NULL;
  if (!copy) {
    manta_value_free(item);
    return MANTA_ERR_NOMEM;
  }
  memcpy(copy, key, klen);
  copy[klen] = '\0';
  mark_contained(item);
  uint32_t i = map->u.map.len++;
  map->u.map.entries[i] = (mt_map_entry){copy, klen, hash, item};
  if (map->u.map.slots && (size_t)map->u.map.len * 2 <= map->u.map.nslots) {
    mt_map_index_insert(map->u.map.slots, map->u.map.nslots, hash, i);
  } else if (map->u.map.len > MAP_INDEX_MIN &&
             !mt_map_index_rebuild(map, map->u.map.len)) {
    /* An index that misses the new entry would hide it: fall back to the
     * linear scan, and try to index again on a later put. */
    free(map->u.map.slots);
    map->u.map.slots = NULL;
    map->u.map.nslots = 0;
  }
  return MANTA_OK;
}

manta_err manta_map_put(manta_value *map, const char *key, manta_value *item) {
  manta_err err = check_insert(map, MANTA_KIND_MAP, item, key != NULL);
  return err ? err : mt_map_put_n(map, key, strlen(key), item);
}

manta_err manta_error_set_cause(manta_value *err, manta_value *cause) {
  manta_err e = check_insert(err, MANTA_KIND_ERROR, cause, true);
  if (e) {
    return e;
  }
  manta_value *old = err->u.err.cause;
  mark_contained(cause);
  err->u.err.cause = cause;
  manta_value_free(old);
  return MANTA_OK;
}

manta_err manta_error_set_origin(manta_value *err, const char *origin) {
  manta_err e = check_mutable(err, MANTA_KIND_ERROR);
  if (!e && !origin) {
    e = MANTA_ERR_INVALID;
  }
  if (e) {
    return e;
  }
  return error_set_origin_n(err, origin, strlen(origin)) ? MANTA_OK
                                                         : MANTA_ERR_NOMEM;
}

/* ------------------------------------------------------------------------ */
/* Readers                                                                   */
/* ------------------------------------------------------------------------ */

/* NULL reads as null: a task function returns NULL to mean the null value. */
manta_kind manta_value_kind(const manta_value *v) {
  return v ? (manta_kind)v->kind : MANTA_KIND_NULL;
}

const char *manta_kind_name(manta_kind kind) {
  static const char *const names[] = {"null",   "bool",  "int",  "double",
                                      "string", "bytes", "list", "map",
                                      "ref",    "actor", "error"};
  if ((unsigned)kind < sizeof names / sizeof names[0]) {
    return names[kind];
  }
  return "unknown";
}

static manta_err check_read(const manta_value *v, const void *out,
                            manta_kind kind) {
  if (!v || !out) {
    return MANTA_ERR_INVALID;
  }
  return v->kind == kind ? MANTA_OK : MANTA_ERR_TYPE;
}

manta_err manta_get_bool(const manta_value *v, int *out) {
  manta_err err = check_read(v, out, MANTA_KIND_BOOL);
  if (!err) {
    *out = v->u.b;
  }
  return err;
}

manta_err manta_get_int(const manta_value *v, int64_t *out) {
  manta_err err = check_read(v, out, MANTA_KIND_INT);
  if (!err) {
    *out = v->u.i;
  }
  return err;
}

manta_err manta_get_double(const manta_value *v, double *out) {
  manta_err err = check_read(v, out, MANTA_KIND_DOUBLE);
  if (!err) {
    *out = v->u.d;
  }
  return err;
}

manta_err manta_get_string(const manta_value *v, const char **s, size_t *len) {
  manta_err err = check_read(v, s, MANTA_KIND_STRING);
  if (!err) {
    *s = v->u.str.data;
    if (len) {
      *len = v->u.str.len;
    }
  }
  return err;
}

manta_err manta_get_bytes(const manta_value *v, const void **data,
                          size_t *len) {
  manta_err err = check_read(v, data, MANTA_KIND_BYTES);
  if (!err) {
    *data = v->u.bytes.data;
    if (len) {
      *len = v->u.bytes.len;
    }
  }
  return err;
}

manta_err manta_len(const manta_value *v, size_t *len) {
  if (!v || !len) {
    return MANTA_ERR_INVALID;
  }
  if (v->kind == MANTA_KIND_LIST) {
    *len = v->u.list.len;
  } else if (v->kind == MANTA_KIND_MAP) {
    *len = v->u.map.len;
  } else {
    return MANTA_ERR_TYPE;
  }
  return MANTA_OK;
}

manta_err manta_list_at(const manta_value *list, size_t i,
                        const manta_value **item) {
  manta_err err = check_read(list, item, MANTA_KIND_LIST);
  if (!err && i >= list->u.list.len) {
    err = MANTA_ERR_RANGE;
  }
  if (!err) {
    *item = list->u.list.items[i];
  }
  return err;
}

/* Either output may be NULL: iterating keys only, or values only. */
manta_err manta_map_at(const manta_value *map, size_t i, const char **key,
                       const manta_value **item) {
  if (!map) {
    return MANTA_ERR_INVALID;
  }
  if (map->kind != MANTA_KIND_MAP) {
    return MANTA_ERR_TYPE;
  }
  if (i >= map->u.map.len) {
    return MANTA_ERR_RANGE;
  }
  if (key) {
    *key = map->u.map.entries[i].key;
  }
  if (item) {
    *item = map->u.map.entries[i].val;
  }
  return MANTA_OK;
}

manta_err manta_map_find(const manta_value *map, const char *key,
                         const manta_value **item) {
  manta_err err = check_read(map, item, MANTA_KIND_MAP);
  if (!err && !key) {
    err = MANTA_ERR_INVALID;
  }
  if (err) {
    return err;
  }
  uint64_t hash;
  int64_t at = mt_map_lookup(map, key, strlen(key), &hash);
  if (at < 0) {
    return MANTA_ERR_NOT_FOUND;
  }
  *item = map->u.map.entries[at].val;
  return MANTA_OK;
}

manta_err manta_get_ref(const manta_value *v, manta_ref *out) {
  manta_err err = check_read(v, out, MANTA_KIND_REF);
  if (!err) {
    out->id = v->u.id;
  }
  return err;
}

manta_err manta_get_actor(const manta_value *v, manta_actor *out) {
  manta_err err = check_read(v, out, MANTA_KIND_ACTOR);
  if (!err) {
    out->id = v->u.id;
  }
  return err;
}

manta_err manta_error_code(const manta_value *err) {
  if (!err) {
    return MANTA_ERR_INVALID;
  }
  return err->kind == MANTA_KIND_ERROR ? (manta_err)err->u.err.code
                                       : MANTA_ERR_TYPE;
}

const char *manta_error_message(const manta_value *err) {
  return err && err->kind == MANTA_KIND_ERROR ? err->u.err.message : "";
}

const char *manta_error_origin(const manta_value *err) {
  if (!err || err->kind != MANTA_KIND_ERROR || !err->u.err.origin) {
    return "";
  }
  return err->u.err.origin;
}

const manta_value *manta_error_cause(const manta_value *err) {
  return err && err->kind == MANTA_KIND_ERROR ? err->u.err.cause : NULL;
}

/* ------------------------------------------------------------------------ */
/* Size, equality                                                            */
/* ------------------------------------------------------------------------ */

static size_t own_payload(const manta_value *v) {
  if (v->kind == MANTA_KIND_STRING) {
    return v->u.str.len;
  }
  return v->kind == MANTA_KIND_BYTES ? v->u.bytes.len : 0;
}

size_t mt_value_payload_bytes(const manta_value *v) {
  if (!v) {
    return 0;
  }
  size_t total = own_payload(v);
  if (!is_container(v)) {
    return total;
  }
  walk w;
  walk_init(&w);
  walk_push(&w, (manta_value *)v, NULL);
  while (w.n) {
    walk_frame *top = &w.frames[w.n - 1];
    manta_value *c = child_at(top->v, top->next);
    if (!c) {
      w.n--;
      continue;
    }
    top->next++;
    total += own_payload(c);
    if (is_container(c) && !walk_push(&w, c, NULL)) {
      total += mt_value_payload_bytes(c);
    }
  }
  walk_fini(&w);
  return total;
}

static bool is_handle(const manta_value *v) {
  return v->kind == MANTA_KIND_REF || v->kind == MANTA_KIND_ACTOR;
}

static bool is_handle_at(const manta_value *c, const void *arg) {
  (void)arg;
  return is_handle(c);
}

bool mt_value_holds_handles(const manta_value *v) {
  if (!v || is_handle(v)) {
    return v != NULL;
  }
  /* Out of memory counts as found: the caller then keeps v in memory. */
  return is_container(v) && walk_find(v, is_handle_at, NULL, is_container) != 0;
}

uint32_t mt_value_refcount(const manta_value *v) {
  return atomic_load_explicit(&v->refs, memory_order_acquire);
}

static const char *origin_or_empty(const manta_value *v) {
  return v->u.err.origin ? v->u.err.origin : "";
}

/* Compares a and b without their children; for containers it checks that the
 * children line up (same count, same keys, cause on both or neither). */
static bool shallow_equal(const manta_value *a, const manta_value *b) {
  if (a->kind != b->kind) {
    return false;
  }
  switch ((manta_kind)a->kind) {
  case MANTA_KIND_NULL:
    return true;
  case MANTA_KIND_BOOL:
    return a->u.b == b->u.b;
  case MANTA_KIND_INT:
    return a->u.i == b->u.i;
  case MANTA_KIND_DOUBLE:
    /* Bitwise: NaN equals itself and -0.0 differs from 0.0, which is what a
     * round trip must preserve. */
    return memcmp(&a->u.d, &b->u.d, sizeof(double)) == 0;
  case MANTA_KIND_STRING:
    return a->u.str.len == b->u.str.len &&
           memcmp(a->u.str.data, b->u.str.data, a->u.str.len) == 0;
  case MANTA_KIND_BYTES:
    return a->u.bytes.len == b->u.bytes.len &&
           (a->u.bytes.len == 0 ||
            memcmp(a->u.bytes.data, b->u.bytes.data, a->u.bytes.len) == 0);
  case MANTA_KIND_LIST:
    return a->u.list.len == b->u.list.len;
  case MANTA_KIND_MAP:
    return a->u.map.len == b->u.map.len;
  case MANTA_KIND_REF:
  case MANTA_KIND_ACTOR:
    return a->u.id == b->u.id;
  case MANTA_KIND_ERROR:
    return a->u.err.code == b->u.err.code &&
           strcmp(a->u.err.message, b->u.err.message) == 0 &&
           strcmp(origin_or_empty(a), origin_or_empty(b)) == 0 &&
           (a->u.err.cause == NULL) == (b->u.err.cause == NULL);
  }
  return false;
}

/* The child of b that pairs with child i of a. Map entries pair by key, so
 * maps compare as maps: equal whatever their insertion order. */
static bool child_pair(const manta_value *a, const manta_value *b, size_t i,
                       const manta_value **ca, const manta_value **cb) {
  *ca = child_at(a, i);
  if (!*ca) {
    return true;
  }
  if (a->kind != MANTA_KIND_MAP) {
    *cb = child_at(b, i);
    return true;
  }
  const mt_map_entry *ea = &a->u.map.entries[i];
  const mt_map_entry *eb = &b->u.map.entries[i];
  if (ea->klen == eb->klen && memcmp(ea->key, eb->key, ea->klen) == 0) {
    *cb = eb->val;
    return true;
  }
  uint64_t hash;
  int64_t at = mt_map_lookup(b, ea->key, ea->klen, &hash);
  if (at < 0) {
    return false;
  }
  *cb = b->u.map.entries[at].val;
  return true;
}

int manta_value_equal(const manta_value *a, const manta_value *b) {
  if (a == b) {
    return 1;
  }
  if (!a || !b || !shallow_equal(a, b)) {
    return 0;
  }
  if (!is_container(a)) {
    return 1;
  }
  bool equal = true;
  walk w;
  walk_init(&w);
  /* Frames are shared with free; equality never writes through them. */
  walk_push(&w, (manta_value *)a, b);
  while (w.n && equal) {
    walk_frame *top = &w.frames[w.n - 1];
    const manta_value *ca, *cb;
    if (!child_pair(top->v, top->other, top->next, &ca, &cb)) {
      equal = false;
      break;
    }
    if (!ca) {
      w.n--;
      continue;
    }
    top->next++;
    if (ca == cb) {
      continue;
    }
    if (!shallow_equal(ca, cb)) {
      equal = false;
    } else if (is_container(ca) && !walk_push(&w, (manta_value *)ca, cb)) {
      equal = manta_value_equal(ca, cb);
    }
  }
  walk_fini(&w);
  return equal;
}
