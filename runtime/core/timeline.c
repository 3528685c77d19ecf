/* The timeline's rings (timeline.h). */
#include "timeline.h"
#include "rt.h"

#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

_Atomic int64_t mt_timeline_capacity;

/* What a worker writes: pointers into the registry (valid while the
 * runtime runs; the rings of a runtime are dropped at the next init) and
 * the monotonic clock. Names are resolved when the rings are copied. */
typedef struct raw_event {
  int64_t start_ns, end_ns;
  uint64_t id;
  const char *name; /* function or method name */
  const char *cls;  /* actor class name, or NULL */
  uint32_t calls;
  uint8_t kind;
} raw_event;

/* One worker thread's events: written by it, copied by a reader. */
typedef struct ring {
  pthread_mutex_t mu;
  raw_event *ev;
  size_t cap;
  uint64_t n; /* written since the ring was made; ev[n % cap] is next */
  int worker;
  struct ring *next;
} ring;

static pthread_mutex_t rings_mu = PTHREAD_MUTEX_INITIALIZER;
static ring *rings;                 /* rings_mu */
static int nrings;                  /* rings_mu */
static _Atomic uint64_t generation; /* changes when the rings are dropped */
/* This thread's ring, valid while mine_gen == generation (a thread may
 * outlive a runtime: a driver's thread that lent itself). */
static __thread ring *mine;
static __thread uint64_t mine_gen;

int64_t mt_timeline_now(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (int64_t)ts.tv_sec * 1000000000 + ts.tv_nsec;
}

bool mt_timeline_init(void) {
  pthread_mutex_lock(&rings_mu);
  for (ring *r = rings, *next; r; r = next) {
    next = r->next;
    pthread_mutex_destroy(&r->mu);
    free(r->ev);
    free(r);
  }
  rings = NULL;
  nrings = 0;
  atomic_fetch_add(&generation, 1);
  pthread_mutex_unlock(&rings_mu);
  const char *env = getenv("MANTA_TIMELINE");
  int64_t cap = 0;
  if (env && *env && strcmp(env, "0") != 0 && strcmp(env, "off") != 0) {
    char *end;
    errno = 0;
    long long v = strtoll(env, &end, 10);
    if (strcmp(env, "1") == 0 || strcmp(env, "on") == 0) {
      cap = MT_TIMELINE_DEFAULT;
    } else if (errno || *end || v < 2 || v > MT_TIMELINE_MAX) {
      mt_log(MT_LOG_ERROR,
             "MANTA_TIMELINE='%s' is not 'on', 'off' or a number of events "
             "per worker from 2 to %d",
             env, MT_TIMELINE_MAX);
      return false;
    } else {
      cap = v;
    }
  }
  atomic_store(&mt_timeline_capacity, cap);
  return true;
}

void mt_timeline_set_capacity(int64_t events) {
  /* Turned on (or resized), every ring starts again now, not when its
   * worker next runs something: a ring whose worker stays idle would go on
   * showing (and counting as dropped) what it kept before. Turned off, the
   * rings keep what they hold, to be read. */
  pthread_mutex_lock(&rings_mu);
  atomic_store(&mt_timeline_capacity, events);
  for (ring *r = events > 0 ? rings : NULL; r; r = r->next) {
    pthread_mutex_lock(&r->mu);
    raw_event *ev =
        (size_t)events != r->cap ? calloc((size_t)events, sizeof *ev) : NULL;
    if (ev) {
      free(r->ev);
      r->ev = ev;
      r->cap = (size_t)events;
    }
    r->n = 0;
    pthread_mutex_unlock(&r->mu);
  }
  pthread_mutex_unlock(&rings_mu);
}

/* This thread's ring, or NULL on OOM. */
static ring *my_ring(size_t cap) {
  if (mine && mine_gen == atomic_load(&generation)) {
    return mine;
  }
  ring *r = calloc(1, sizeof *r);
  raw_event *ev = calloc(cap, sizeof *ev);
  if (!r || !ev) {
    free(r);
    free(ev);
    return NULL;
  }
  pthread_mutex_init(&r->mu, NULL);
  r->ev = ev;
  r->cap = cap;
  pthread_mutex_lock(&rings_mu);
  r->worker = ++nrings;
  r->next = rings;
  rings = r;
  mine_gen = atomic_load(&generation);
  pthread_mutex_unlock(&rings_mu);
  mine = r;
  return r;
}

/* What a run of t's calls is named by and ends at. */
static const void *what_of(const mt_task *t) {
  return t->kind == MT_TASK_FUNCTION     ? (const void *)t->fn
         : t->kind == MT_TASK_ACTOR_CALL ? (const void *)t->method
                                         : NULL;
}

static void note(const mt_tl_run *run, int64_t end) {
  const mt_task *t = run->first;
  int64_t cap =
      atomic_load_explicit(&mt_timeline_capacity, memory_order_relaxed);
  ring *r = cap > 0 ? my_ring((size_t)cap) : NULL;
  if (!r) {
    return;
  }
  pthread_mutex_lock(&r->mu);
  if (r->cap != (size_t)cap) {
    /* The capacity changed (manta_timeline_enable): this ring starts
     * again at the new size. */
    raw_event *ev = calloc((size_t)cap, sizeof *ev);
    if (!ev) {
      pthread_mutex_unlock(&r->mu);
      return;
    }
    free(r->ev);
    r->ev = ev;
    r->cap = (size_t)cap;
    r->n = 0;
  }
  raw_event *e = &r->ev[r->n % r->cap];
  e->start_ns = run->start_ns;
  e->end_ns = end;
  e->id = t->result ? mt_slots_id(&mt_rt.objects, t->result) : 0;
  e->calls = run->calls;
  e->kind = t->kind;
  e->name = t->kind == MT_TASK_FUNCTION     ? t->fn->name
            : t->kind == MT_TASK_ACTOR_CALL ? t->method->name
                                            : "__init__";
  e->cls = t->kind == MT_TASK_FUNCTION ? NULL : t->actor->cls->name;
  r->n++;
  pthread_mutex_unlock(&r->mu);
}

void mt_timeline_call(mt_tl_run *r, const void *task, int64_t batch_start) {
  const mt_task *t = task;
  const void *what = what_of(t);
  int64_t start = batch_start;
  if (r->first && what && what == r->what) {
    r->calls++; /* the same function again: the same run */
    return;
  }
  if (r->first) {
    start = mt_timeline_now(); /* only where the function changes */
    note(r, start);
  }
  r->first = t;
  r->what = what;
  r->calls = 1;
  r->start_ns = start;
}

void mt_timeline_end(mt_tl_run *r, int64_t end) {
  if (r->first && r->calls) {
    note(r, end);
  }
  r->first = NULL;
}

bool mt_timeline_copy(mt_tl_event **out, size_t *n, uint64_t *dropped) {
  *out = NULL;
  *n = 0;
  *dropped = 0;
  /* Monotonic to wall clock, once for every event. */
  struct timespec wall;
  clock_gettime(CLOCK_REALTIME, &wall);
  int64_t shift =
      (int64_t)wall.tv_sec * 1000000000 + wall.tv_nsec - mt_timeline_now();
  mt_lock(); /* the names live in the registry while the runtime runs */
  pthread_mutex_lock(&rings_mu);
  size_t total = 0;
  for (ring *r = rings; r && mt_rt.initialized; r = r->next) {
    pthread_mutex_lock(&r->mu);
    total += r->n < r->cap ? (size_t)r->n : r->cap;
    pthread_mutex_unlock(&r->mu);
  }
  mt_tl_event *ev = calloc(total ? total : 1, sizeof *ev);
  size_t k = 0;
  for (ring *r = ev ? rings : NULL; r && mt_rt.initialized; r = r->next) {
    pthread_mutex_lock(&r->mu);
    size_t have = r->n < r->cap ? (size_t)r->n : r->cap;
    if (have > total - k) {
      have = total - k; /* written since the count: the newest are left */
    }
    *dropped += r->n - (r->n < r->cap ? r->n : r->cap);
    for (uint64_t i = r->n - have; i < r->n; i++) {
      const raw_event *e = &r->ev[i % r->cap];
      mt_tl_event *o = &ev[k++];
      o->start_ns = e->start_ns + shift;
      o->end_ns = e->end_ns + shift;
      o->id = e->id;
      o->calls = e->calls;
      o->worker = r->worker;
      o->kind = e->kind;
      if (e->cls) {
        snprintf(o->name, sizeof o->name, "%s.%s", e->cls, e->name);
      } else {
        snprintf(o->name, sizeof o->name, "%s", e->name);
      }
    }
    pthread_mutex_unlock(&r->mu);
  }
  pthread_mutex_unlock(&rings_mu);
  mt_unlock();
  if (!ev) {
    return false;
  }
  *out = ev;
  *n = k;
  return true;
}
