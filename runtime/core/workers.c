/*
 * The worker pool and the scheduler of one node.
 *
 * Ready tasks wait in scheduling classes, one per resource shape. A worker
 * that takes work from a class acquires the shape's resources once and runs
 * a batch of its tasks under that one acquisition (Ray's lease reuse), which
 * keeps the lock out of the per-task path when tasks are many and small.
 * A batch never holds work hostage: while it has tasks not yet started and
 * a slot of its shape is free, an idle worker takes half of them over (the
 * batch's tasks are handed out by an atomic cursor), so whatever the task
 * length no runnable task waits while a slot is idle. Actors with runnable
 * calls wait in their own queue and hold no CPU per call.
 *
 * Threads are started on demand, and a kick wakes (or starts) as many
 * workers as there is work that could start now, at once: a chain of
 * wake-ups, each worker waking the next, would cost a wake-up latency per
 * slot. A worker blocked in get/wait gives its resources back, so another
 * may start; nested tasks can never deadlock the pool.
 */
#include "cluster_seam.h"
#include "rt.h"
#include "streams.h"
#include "task_context.h"
#include "timeline.h"

#include <errno.h>
#include <sched.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#define MAX_BATCH 32

_Thread_local mt_worker *mt_self;
/* This thread queues work that it runs itself next (mt_sched_run_here). */
static _Thread_local bool kicks_deferred;

/* ---- resources ---------------------------------------------------------- */

manta_err mt_demand_resolve(const mt_resource_request *r, double num_cpus,
                            mt_demand *out, char *missing, size_t size) {
  memset(out, 0, sizeof *out);
  if (!(num_cpus >= 0)) {
    return MANTA_ERR_INVALID;
  }
  out->q[0] = num_cpus;
  for (int i = 0; r && i < r->n; i++) {
    int k;
    for (k = 0; k < mt_rt.nres; k++) {
      if (strcmp(mt_rt.res_names[k], r->names[i]) == 0) {
        break;
      }
    }
    if (k == mt_rt.nres) {
      if (r->qty[i] > 0 && missing && !missing[0]) {
        snprintf(missing, size, "%s", r->names[i]);
      }
      continue;
    }
    out->q[k] = r->qty[i];
  }
  return MANTA_OK;
}

bool mt_demand_fits_total(const mt_demand *d) {
  for (int k = 0; k < mt_rt.nres; k++) {
    if (d->q[k] > mt_rt.res_total[k]) {
      return false;
    }
  }
  return true;
}

/* How many tasks of shape d could start now on the free resources, up to
 * cap (a shape that asks for nothing: cap). */
static unsigned fits_count_locked(const mt_demand *d, unsigned cap) {
  double best = (double)cap;
  for (int k = 0; k < mt_rt.nres; k++) {
    if (d->q[k] > 0) {
      double f = (mt_rt.res_avail[k] + 1e-9) / d->q[k];
      best = f < best ? f : best;
    }
  }
  return best < 1 ? 0 : (unsigned)best;
}

void mt_demand_acquire_locked(const mt_demand *d) {
  for (int k = 0; k < mt_rt.nres; k++) {
    mt_rt.res_avail[k] -= d->q[k];
  }
  if (mt_rt.bundles_watch) {
    mt_bundles_moved_locked(d, -1); /* placement groups (bundles.c) */
  }
}

void mt_demand_release_locked(const mt_demand *d) {
  for (int k = 0; k < mt_rt.nres; k++) {
    mt_rt.res_avail[k] += d->q[k];
  }
  if (mt_rt.bundles_watch) {
    mt_bundles_moved_locked(d, +1); /* placement groups (bundles.c) */
  }
}

/* ---- scheduling classes ------------------------------------------------- */

mt_sched_class *mt_class_for_locked(const mt_demand *d) {
  for (mt_sched_class *c = mt_rt.classes_list; c; c = c->next) {
    if (memcmp(&c->demand, d, sizeof *d) == 0) {
      return c;
    }
  }
  mt_sched_class *c = calloc(1, sizeof *c);
  if (!c) {
    return NULL;
  }
  c->demand = *d;
  c->next = mt_rt.classes_list;
  mt_rt.classes_list = c;
  return c;
}

void mt_class_push_locked(mt_sched_class *c, mt_task *t) {
  atomic_fetch_add_explicit(&mt_rt.work_seq, 1, memory_order_relaxed);
  mt_task_list_push(&c->queue, t);
}

void mt_class_unlink_locked(mt_task *t) {
  mt_task_list_unlink(&t->cls->queue, t);
}

/* The first class whose head can run now. (Classes are few; a scan in
 * creation order is fair enough until one starves another.) */
static mt_sched_class *runnable_class_locked(void) {
  for (mt_sched_class *c = mt_rt.classes_list; c; c = c->next) {
    if (c->queue.len > 0 && fits_count_locked(&c->demand, 1) > 0) {
      return c;
    }
  }
  return NULL;
}

static void hold_locked(mt_worker *w, const mt_demand *d) {
  w->held = *d;
  w->holding = true;
  mt_demand_acquire_locked(d);
}

static void unhold_locked(mt_worker *w) {
  if (w->holding) {
    mt_demand_release_locked(&w->held);
    w->holding = false;
  }
}

/* ---- clocks and spinning ------------------------------------------------ */

/* How long a waiter or an idle worker spins before it sleeps. */
#define SPIN_NS 40000

static uint64_t now_ns(void) {
  return (uint64_t)mt_now_ns();
}

/* No PAUSE: under a hypervisor, pause loops trigger pause-loop exits that
 * deschedule the vCPU, which costs far more than the spin saves. */
static inline void cpu_relax(unsigned i) {
  if (i > 256) {
    sched_yield();
  } else {
    __asm__ volatile("" ::: "memory");
  }
}

/* Spins without the lock until done(arg) or SPIN_NS pass. */
static void spin_unlocked(bool (*done)(const void *), const void *arg) {
  mt_unlock();
  uint64_t end = now_ns() + SPIN_NS;
  for (unsigned i = 1; !done(arg); i++) {
    cpu_relax(i);
    if ((i & 7) == 0 && now_ns() > end) {
      break;
    }
  }
  mt_lock();
}

typedef struct counter_goal {
  size_t *counter;
  size_t target;
} counter_goal;

static bool counter_reached(const void *arg) {
  const counter_goal *c = arg;
  return __atomic_load_n(c->counter, __ATOMIC_ACQUIRE) >= c->target;
}

void mt_spin_until_locked(size_t *counter, size_t target, int64_t timeout_ms) {
  if (timeout_ms == 0 || mt_rt.shutting_down) {
    return;
  }
  counter_goal goal = {counter, target};
  spin_unlocked(counter_reached, &goal);
}

static bool work_seq_moved(const void *arg) {
  return atomic_load_explicit(&mt_rt.work_seq, memory_order_relaxed) !=
         *(const uint64_t *)arg;
}

/* An idle worker spins a moment for new work before it sleeps. Returns with
 * rt.mu held; the caller looks for work again. */
static void spin_for_work_locked(void) {
  uint64_t seq = atomic_load_explicit(&mt_rt.work_seq, memory_order_relaxed);
  mt_rt.spinner_active = true;
  spin_unlocked(work_seq_moved, &seq);
  mt_rt.spinner_active = false;
}

/* ---- taking over part of a batch ---------------------------------------- */

/* A batch whose cursor has not moved for this long (its worker is inside
 * one task all that time) is taken over by an idle worker, half at a time.
 * Not at once: tasks of a batch of short ones are taken by its worker
 * sooner than by any other, and taking them over would only cost the lock. */
#define TAKE_OVER_NS 50000
/* One idle worker, the watcher, looks at the shared batches again after
 * mt_rt.watch_ns, from TAKE_OVER_NS doubling up to this while it finds
 * none stalled: a flood of short tasks, whose batches always move, costs a
 * wake-up per millisecond, and a stall is still found within about one. */
#define WATCH_MAX_NS 1000000

static size_t batch_left(mt_worker *w) {
  size_t next = atomic_load_explicit(&w->batch_next, memory_order_relaxed);
  return next < w->batch_len ? w->batch_len - next : 0;
}

/* A shared batch with tasks left whose shape fits now. */
static bool batch_takeable_locked(mt_worker *v) {
  return batch_left(v) > 0 && fits_count_locked(&v->batch_cls->demand, 1);
}

/* Lets idle workers take from w's batch while it has more than one task. */
static void share_batch_locked(mt_worker *w) {
  if (w->batch_len < 2) {
    return;
  }
  w->shared = true;
  w->seen_next = 1; /* its worker takes the first task at once */
  w->seen_ns = now_ns();
  w->shared_prev = NULL;
  w->shared_next = mt_rt.shared_batches;
  if (mt_rt.shared_batches) {
    mt_rt.shared_batches->shared_prev = w;
  }
  mt_rt.shared_batches = w;
}

static void unshare_batch_locked(mt_worker *w) {
  if (!w->shared) {
    return;
  }
  if (w->shared_prev) {
    w->shared_prev->shared_next = w->shared_next;
  } else {
    mt_rt.shared_batches = w->shared_next;
  }
  if (w->shared_next) {
    w->shared_next->shared_prev = w->shared_prev;
  }
  w->shared = false;
}

/* A shared batch that may be taken over now, or NULL; *later is set when
 * one will be takeable if its cursor still stands still a moment on. */
static mt_worker *stalled_batch_locked(bool *later) {
  uint64_t now = 0;
  for (mt_worker *v = mt_rt.shared_batches; v; v = v->shared_next) {
    if (!batch_takeable_locked(v)) {
      continue;
    }
    size_t next = atomic_load_explicit(&v->batch_next, memory_order_relaxed);
    now = now ? now : now_ns();
    if (next != v->seen_next) {
      v->seen_next = next;
      v->seen_ns = now;
    }
    if (now - v->seen_ns >= TAKE_OVER_NS) {
      return v;
    }
    *later = true;
  }
  return NULL;
}

/* Takes over half (rounded up) of the tasks a stalled batch has not
 * started, as w's own batch, holding their shape. False if none was. */
static bool take_over_locked(mt_worker *w, bool *later) {
  for (;;) {
    mt_worker *v = stalled_batch_locked(later);
    if (!v) {
      return false;
    }
    size_t k = (batch_left(v) + 1) / 2;
    size_t first = atomic_fetch_add(&v->batch_next, k);
    if (first >= v->batch_len) {
      continue; /* its worker took the rest meanwhile */
    }
    size_t end = first + k < v->batch_len ? first + k : v->batch_len;
    mt_rt.watch_ns = TAKE_OVER_NS; /* stalls happen: look often again */
    w->batch_cls = v->batch_cls;
    w->batch_len = end - first;
    memcpy(w->batch, v->batch + first, w->batch_len * sizeof *w->batch);
    atomic_store_explicit(&w->batch_next, 0, memory_order_relaxed);
    hold_locked(w, &w->batch_cls->demand);
    return true;
  }
}

/* ---- batch sizes -------------------------------------------------------- */

/* A batch holds about this much work by its functions' measured times, so
 * that its worker pays for the lock once per batch of short tasks while
 * long ones go one by one. */
#define BATCH_NS 20000

/* How many of the class's next tasks make a batch by their measured time
 * (1 to MAX_BATCH). Unknown (never run) counts as long: the first calls
 * go one by one. */
static size_t batch_by_time_locked(const mt_sched_class *c) {
  const mt_function *fn = c->queue.head->fn;
  uint64_t each = fn && fn->run_ns ? fn->run_ns : BATCH_NS;
  size_t n = (size_t)(BATCH_NS / (each ? each : 1));
  return n < 1 ? 1 : n > MAX_BATCH ? MAX_BATCH : n;
}

static size_t batch_size_locked(const mt_sched_class *c) {
  size_t share = c->queue.len /
                 (2 * (size_t)(mt_rt.workers_total ? mt_rt.workers_total : 1));
  size_t by_time = batch_by_time_locked(c);
  share = share < by_time ? share : by_time;
  return share < 1 ? 1 : share;
}

/* ---- waking and starting workers ---------------------------------------- */

/* A kick looks at no more than this many units of work beyond the workers
 * already on their way; each woken worker kicks again for the rest. */
#define KICK_MAX 64

/* Units of work that could start now, each of which would keep one more
 * worker busy, up to cap: each task of a long function (one per batch:
 * unknown or measured at 20 us or more) whose shape fits, and one in all
 * for the rest: short tasks (a worker takes many at a time, and waking
 * more workers for them only makes them contend for the lock: a flood of
 * no-op tasks ran at half the rate), the ready actors (their calls hold no
 * CPU, so nothing bounds how many could run at once), and, when there is
 * nothing else, the shared batches while no worker watches them. That one
 * keeps the old pace: one worker on its way at a time, each woken worker
 * waking the next while work is left. */
static unsigned runnable_units_locked(unsigned cap) {
  unsigned n = 0;
  bool some = mt_rt.ready_head != NULL || mt_rt.pg_release_due;
  for (mt_sched_class *c = mt_rt.classes_list; c && n < cap; c = c->next) {
    if (c->queue.len > 0) {
      unsigned fit = fits_count_locked(&c->demand, cap);
      if (batch_by_time_locked(c) > 1) {
        some |= fit > 0;
      } else {
        n += c->queue.len < fit ? (unsigned)c->queue.len : fit;
      }
    }
  }
  n += some;
  if (n == 0 && !mt_rt.watcher) {
    for (mt_worker *v = mt_rt.shared_batches; v; v = v->shared_next) {
      if (batch_takeable_locked(v)) {
        n++;
        break;
      }
    }
  }
  return n < cap ? n : cap;
}

static void *worker_main(void *arg);

static void spawn_worker_locked(void) {
  mt_worker *w = calloc(1, sizeof *w);
  if (!w) {
    mt_log(MT_LOG_ERROR, "out of memory starting a worker");
    return;
  }
  mt_cond_init(&w->cv);
  pthread_attr_t attr;
  pthread_attr_init(&attr);
  /* Tasks may recurse and hold values on the stack: 8 MiB like a main
   * thread, only reserved, not committed. */
  pthread_attr_setstacksize(&attr, 8u << 20);
  int rc = pthread_create(&w->thread, &attr, worker_main, w);
  pthread_attr_destroy(&attr);
  if (rc != 0) {
    mt_log(MT_LOG_ERROR, "cannot start a worker thread: %s", strerror(rc));
    pthread_cond_destroy(&w->cv);
    free(w);
    return;
  }
  w->next = mt_rt.workers;
  mt_rt.workers = w;
  mt_rt.workers_total++;
  mt_log(MT_LOG_DEBUG, "worker %u started", mt_rt.workers_total);
}

static void wake_locked(mt_worker *w) {
  w->woken = true;
  mt_wake_after_unlock_locked(&w->cv);
}

/* Pool workers awake and not busy: started or woken and not yet at work,
 * spinning, or between two batches. Each takes a unit of work as it looks
 * for one, so a kick wakes only for the units beyond them. */
static unsigned free_agents_locked(void) {
  unsigned asleep = mt_rt.workers_idle + (mt_rt.watcher ? 1u : 0u);
  unsigned taken = asleep + mt_rt.workers_busy;
  return mt_rt.workers_total > taken ? mt_rt.workers_total - taken : 0;
}

void mt_sched_kick_locked(void) {
  if (kicks_deferred) {
    return; /* mt_sched_run_here kicks once it has taken its share */
  }
  /* Workers awake and not busy each take one unit; wake or start one more
   * for each unit beyond them: the watcher first (it sleeps only briefly
   * anyway), then the idle worker that slept last (its cache is the
   * warmest). */
  unsigned on_way = free_agents_locked();
  unsigned units = runnable_units_locked(on_way + KICK_MAX);
  for (; units > on_way; on_way++) {
    if (mt_rt.watcher) {
      wake_locked(mt_rt.watcher);
      mt_rt.watcher = NULL;
    } else if (mt_rt.idle_workers) {
      mt_worker *w = mt_rt.idle_workers;
      mt_rt.idle_workers = w->idle_next;
      mt_rt.workers_idle--;
      wake_locked(w);
    } else if (mt_rt.workers_total < mt_rt.max_workers) {
      spawn_worker_locked();
    } else {
      break;
    }
  }
}

/* ---- a worker's life ---------------------------------------------------- */

/* Runs the tasks it takes from its batch, unlocked; mine[i] and results[i]
 * are the i-th task it ran and what it returned. Returns how many, and in
 * *ns the time they took. */
static size_t run_class_batch(mt_worker *w, mt_task **mine,
                              manta_value **results, uint64_t *ns) {
  size_t n = 0;
  uint64_t start = now_ns();
  bool timed = mt_timeline_on(); /* off: this load is all it costs */
  mt_tl_run run = {0};
  for (;;) {
    size_t i = atomic_fetch_add(&w->batch_next, 1);
    if (i >= w->batch_len) {
      *ns = now_ns() - start;
      if (timed) {
        mt_timeline_end(&run, (int64_t)(start + *ns));
      }
      return n;
    }
    mt_task *t = w->batch[i];
    mine[n] = t;
    int expected = MT_CLAIM_FREE;
    if (!atomic_compare_exchange_strong(&t->claim, &expected,
                                        MT_CLAIM_STARTED)) {
      results[n++] = NULL; /* cancelled while it waited in the batch */
      continue;
    }
    if (timed) {
      mt_timeline_call(&run, t, (int64_t)start);
    }
    if (t->kind == MT_TASK_ACTOR_CREATE) {
      mt_actor_construct(t);
      results[n++] = NULL;
    } else {
      mt_stream *outer = mt_stream_enter(t->stream); /* for manta_emit */
      results[n++] = mt_task_invoke(t);              /* task_context.c */
      mt_stream_leave(outer);
    }
  }
}

/* Folds the time per task of a batch into its functions' estimates. */
static void measure_locked(mt_task **mine, size_t n, uint64_t ns) {
  uint64_t each = n ? ns / n : 0;
  mt_function *last = NULL;
  for (size_t i = 0; i < n; i++) {
    mt_function *fn = mine[i]->fn;
    if (fn && fn != last) {
      fn->run_ns = fn->run_ns ? (3 * fn->run_ns + each) / 4 : each + 1;
      last = fn;
    }
    if (fn && !mine[i]->cancelled) {
      mt_fn_stats_run(&fn->stats, each); /* the batch's mean, per task */
    }
  }
}

static void finish_class_batch_locked(mt_worker *w, mt_task **mine,
                                      manta_value **results, size_t n,
                                      mt_garbage *g) {
  for (size_t i = 0; i < n; i++) {
    mt_task *t = mine[i];
    mt_rt.tasks_running--;
    if (t->fn) {
      t->fn->stats.running--;
    }
    if (t->kind == MT_TASK_ACTOR_CREATE && !t->cancelled) {
      if (mt_actor_constructed_locked(t, g)) {
        w->holding = false; /* the actor holds them for its lifetime */
      }
    } else {
      mt_task_finish_locked(t, results[i], g);
    }
  }
  w->batch_len = 0;
  atomic_store_explicit(&w->batch_next, 0, memory_order_relaxed);
}

static void pop_class_batch_locked(mt_worker *w, mt_sched_class *c) {
  size_t n =
      c->queue.head->kind == MT_TASK_ACTOR_CREATE ? 1 : batch_size_locked(c);
  w->batch_len = 0;
  w->batch_cls = c;
  while (w->batch_len < n && c->queue.head) {
    mt_task *t = c->queue.head;
    if (t->kind == MT_TASK_ACTOR_CREATE && w->batch_len > 0) {
      break; /* creations hold their own resources: one per batch */
    }
    mt_class_unlink_locked(t);
    t->where = MT_WHERE_BATCH;
    if (t->fn) {
      t->fn->stats.running++; /* manta_tasks_running{function} */
    }
    w->batch[w->batch_len++] = t;
  }
  atomic_store_explicit(&w->batch_next, 0, memory_order_relaxed);
  mt_rt.tasks_queued -= (int64_t)w->batch_len;
  mt_rt.tasks_running += (int64_t)w->batch_len;
}

/* Runs one actor turn, or one batch of one class, or part of a stalled
 * batch of another worker, whichever is ready first; false if nothing is
 * (*later: a batch may be taken over soon). Called and returns with rt.mu
 * held. */
static bool run_some_locked(mt_worker *w, mt_task **mine, manta_value **results,
                            mt_garbage *g, bool *later) {
  if (mt_rt.pg_release_due) {
    mt_pgs_release_due_locked(g); /* calls that waited for their group */
  }
  mt_actor *a = mt_rt.ready_head;
  if (a) {
    /* Busy before the turn takes the actor off the ready queue and kicks
     * for what is left (another actor): a kick made here, with the actor
     * still queued and this worker counted free, woke nobody for it. */
    mt_rt.workers_busy += w->pool;
    mt_actor_turn_locked(w, a, g);
    mt_unlock();
    mt_garbage_free(g);
    mt_lock();
    mt_rt.workers_busy -= w->pool;
    return true;
  }
  mt_sched_class *c = runnable_class_locked();
  if (c) {
    hold_locked(w, &c->demand);
    pop_class_batch_locked(w, c);
  } else if (!take_over_locked(w, later)) {
    return false;
  }
  mt_rt.workers_busy += w->pool;
  share_batch_locked(w);
  mt_sched_kick_locked();
  mt_unlock();
  uint64_t ns;
  size_t n = run_class_batch(w, mine, results, &ns);
  mt_lock();
  unshare_batch_locked(w);
  measure_locked(mine, n, ns);
  finish_class_batch_locked(w, mine, results, n, g);
  if (g->len > 8 || g->dtors || g->calls) {
    /* Still holding the slot: freeing what the tasks left is their work,
     * and a slot that looked free meanwhile would wake another worker.
     * Completion callbacks (g->calls) run now, not at the next idle. */
    mt_unlock();
    mt_garbage_free(g);
    mt_lock();
  }
  unhold_locked(w);
  mt_rt.workers_busy -= w->pool;
  return true;
}

/* Sleeps until a kick picks this worker or the runtime shuts down; as the
 * watcher (a batch may be taken over soon), at most until then. */
static void sleep_locked(mt_worker *w, bool watch) {
  if (watch) {
    mt_rt.watcher = w;
    uint64_t ns = mt_rt.watch_ns ? mt_rt.watch_ns : TAKE_OVER_NS;
    mt_rt.watch_ns = 2 * ns < WATCH_MAX_NS ? 2 * ns : WATCH_MAX_NS;
    struct timespec deadline;
    mt_deadline(0, &deadline);
    deadline.tv_nsec += (long)ns;
    if (deadline.tv_nsec >= 1000000000) {
      deadline.tv_sec++;
      deadline.tv_nsec -= 1000000000;
    }
    while (!w->woken && !mt_rt.shutting_down &&
           mt_cond_wait(&w->cv, &deadline) == 0) {
    }
    if (mt_rt.watcher == w) {
      mt_rt.watcher = NULL;
    }
  } else {
    w->idle_next = mt_rt.idle_workers;
    mt_rt.idle_workers = w;
    mt_rt.workers_idle++;
    while (!w->woken && !mt_rt.shutting_down) {
      mt_cond_wait(&w->cv, NULL);
    }
  }
  w->woken = false;
}

static void *worker_main(void *arg) {
  mt_worker *w = arg;
  mt_task *batch[MAX_BATCH], *mine[MAX_BATCH];
  manta_value *results[MAX_BATCH];
  mt_garbage g;
  mt_garbage_init(&g);
  bool spun = false; /* spun since the last work: sleep next time */
  w->batch = batch;
  w->pool = true;
  mt_self = w;
  mt_lock();
  for (;;) {
    bool later = false;
    if (run_some_locked(w, mine, results, &g, &later)) {
      spun = false;
      continue;
    }
    if (mt_rt.shutting_down) {
      break;
    }
    if (g.len > 0 || g.calls) {
      mt_unlock();
      mt_garbage_free(&g);
      mt_lock();
      continue;
    }
    if (later && !mt_rt.watcher) {
      sleep_locked(w, true); /* a kick wakes it sooner for new work */
      spun = false;
      continue;
    }
    if (!spun && !mt_rt.spinner_active) {
      spin_for_work_locked();
      spun = true;
      continue;
    }
    spun = false;
    sleep_locked(w, false);
  }
  mt_rt.workers_exited++;
  pthread_cond_broadcast(&mt_rt.exit_cv);
  mt_unlock();
  mt_garbage_free(&g);
  mt_self = NULL;
  return NULL;
}

/* ---- taking back a task not started ------------------------------------- */

/* Only a task in its class queue is taken back: it is under rt.mu alone
 * (no worker holds it, so its claim is not raced). Tasks a worker popped
 * into a batch are left: idle workers here take them over instead. */
bool mt_task_waits_for_slot_locked(const mt_task *t) {
  return t->kind == MT_TASK_FUNCTION && t->fn && t->where == MT_WHERE_CLASS &&
         !t->cancelled && !(atomic_load(&t->cancel_req) & MT_CANCEL_SET) &&
         t->cls && fits_count_locked(&t->cls->demand, 1) == 0;
}

bool mt_task_queue_overflows_locked(const mt_task *t) {
  if (t->where != MT_WHERE_CLASS || !t->cls) {
    return false;
  }
  size_t len = t->cls->queue.len;
  unsigned cap = len < 65536 ? (unsigned)len : 65536u;
  return len > fits_count_locked(&t->cls->demand, cap);
}

bool mt_task_take_back_locked(mt_task *t, manta_value *why, mt_garbage *g) {
  if (!mt_task_waits_for_slot_locked(t)) {
    mt_garbage_add(g, why);
    return false;
  }
  /* As a cancel before it ran: out of its queue, its result resolved. */
  mt_task_cancel_locked(t, why, g);
  return true;
}

/* ---- running on the thread that received the work ----------------------- */

void mt_sched_defer_kicks(void) {
  kicks_deferred = !mt_self;
}

/*
 * One non-worker thread at a time runs here, so that of the threads that
 * receive from the network at least one always keeps receiving, whatever
 * the work run here does (it may take long, or block in get: it lends its
 * slot as a worker does, through mt_self). The hooks tell the receiving
 * thread's transport, which has another thread take over receiving if the
 * work lasts or blocks.
 */
void mt_sched_run_here(const mt_here_hooks *hooks) {
  if (!kicks_deferred) {
    return;
  }
  kicks_deferred = false;
  mt_garbage g;
  mt_garbage_init(&g);
  mt_lock();
  if (mt_rt.running_here || mt_rt.shutting_down) {
    mt_sched_kick_locked();
    mt_unlock();
    return;
  }
  mt_task *batch[MAX_BATCH], *mine[MAX_BATCH];
  manta_value *results[MAX_BATCH];
  mt_worker here = {.batch = batch, .on_block = hooks ? hooks->block : NULL};
  mt_rt.running_here = true;
  mt_self = &here;
  if (hooks && hooks->begin) {
    hooks->begin();
  }
  bool later = false;
  run_some_locked(&here, mine, results, &g, &later);
  if (hooks && hooks->end) {
    hooks->end();
  }
  mt_self = NULL;
  mt_rt.running_here = false;
  mt_sched_kick_locked(); /* whatever came meanwhile */
  mt_unlock();
  mt_garbage_free(&g);
}

/* ---- blocking inside a task --------------------------------------------- */

void mt_worker_block_locked(void) {
  mt_worker *w = mt_self;
  w->blocked = true;
  if (w->on_block) {
    w->on_block();
  }
  /* Tasks popped with this one but not started go back to the front, so a
   * task waiting on its batch-mates cannot wait forever. Under rt.mu no
   * other worker takes from the batch, and this one is here: the exchange
   * gives it every index not yet taken. */
  size_t first = atomic_exchange(&w->batch_next, w->batch_len);
  for (size_t i = w->batch_len; i > first; i--) {
    /* A cancelled one goes back too (claim stays CANCELLED): whoever pops
     * it next frees it. */
    mt_task *t = w->batch[i - 1];
    mt_rt.tasks_running--;
    if (t->fn) {
      t->fn->stats.running--;
    }
    t->where = MT_WHERE_CLASS;
    mt_task_list_push_front(&w->batch_cls->queue, t);
    mt_rt.tasks_queued++;
  }
  unshare_batch_locked(w);
  if (w->holding) {
    mt_demand_release_locked(&w->held);
  }
  mt_sched_kick_locked();
}

void mt_worker_unblock_locked(void) {
  mt_worker *w = mt_self;
  /* Take the slot back even if that oversubscribes for a moment: the task
   * is already running. */
  if (w->holding) {
    mt_demand_acquire_locked(&w->held);
  }
  w->blocked = false;
}

/* ---- shutdown ----------------------------------------------------------- */

void mt_sched_shutdown(void) {
  /* Called with rt.mu held, shutting_down set and every queue emptied:
   * wake all and join. */
  for (mt_worker *w = mt_rt.idle_workers; w; w = w->idle_next) {
    pthread_cond_signal(&w->cv);
  }
  if (mt_rt.watcher) {
    pthread_cond_signal(&mt_rt.watcher->cv);
  }
  while (mt_rt.workers_exited < mt_rt.workers_total) {
    mt_cond_wait(&mt_rt.exit_cv, NULL);
  }
  mt_worker *w = mt_rt.workers;
  mt_rt.workers = NULL;
  mt_unlock();
  mt_wakes_settle(); /* a kick made just before may still be signalling */
  while (w) {
    mt_worker *next = w->next;
    pthread_join(w->thread, NULL);
    pthread_cond_destroy(&w->cv);
    free(w);
    w = next;
  }
  mt_lock();
  mt_rt.workers_total = mt_rt.workers_exited = 0;
  mt_rt.workers_idle = mt_rt.workers_busy = 0;
  mt_rt.idle_workers = mt_rt.watcher = NULL;
  mt_rt.shared_batches = NULL;
  while (mt_rt.classes_list) {
    mt_sched_class *c = mt_rt.classes_list;
    mt_rt.classes_list = c->next;
    free(c);
  }
}
