/*
 * The worker pool and the scheduler of one node.
 *
 * Ready tasks wait in scheduling classes, one per resource shape. A worker
 * that takes work from a class acquires the shape's resources once and runs
 * a batch of its tasks under that one acquisition (Ray's lease reuse), which
 * keeps the lock out of the per-task path when tasks are many and small;
 * batches stay small when the queue is short, so long tasks still spread over
 * every slot. Actors with runnable calls wait in their own queue and hold no
 * CPU per call.
 *
 * Threads are started on demand: when work fits and no worker is idle or
 * already on its way. A worker blocked in get/wait gives its resources back,
 * so another may start; nested tasks can never deadlock the pool.
 */
#include "rt.h"

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

static bool demand_fits_now(const mt_demand *d) {
  for (int k = 0; k < mt_rt.nres; k++) {
    if (d->q[k] > 0 && d->q[k] > mt_rt.res_avail[k] + 1e-9) {
      return false;
    }
  }
  return true;
}

void mt_demand_acquire_locked(const mt_demand *d) {
  for (int k = 0; k < mt_rt.nres; k++) {
    mt_rt.res_avail[k] -= d->q[k];
  }
}

void mt_demand_release_locked(const mt_demand *d) {
  for (int k = 0; k < mt_rt.nres; k++) {
    mt_rt.res_avail[k] += d->q[k];
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
    if (c->queue.len > 0 && demand_fits_now(&c->demand)) {
      return c;
    }
  }
  return NULL;
}

static bool has_work_locked(void) {
  return mt_rt.ready_head != NULL || runnable_class_locked() != NULL;
}

/* ---- waking and starting workers ---------------------------------------- */

static void *worker_main(void *arg);

static void spawn_worker_locked(void) {
  mt_worker *w = calloc(1, sizeof *w);
  if (!w) {
    mt_log(MT_LOG_ERROR, "out of memory starting a worker");
    return;
  }
  pthread_attr_t attr;
  pthread_attr_init(&attr);
  /* Tasks may recurse and hold values on the stack: 8 MiB like a main
   * thread, only reserved, not committed. */
  pthread_attr_setstacksize(&attr, 8u << 20);
  int rc = pthread_create(&w->thread, &attr, worker_main, w);
  pthread_attr_destroy(&attr);
  if (rc != 0) {
    mt_log(MT_LOG_ERROR, "cannot start a worker thread: %s", strerror(rc));
    free(w);
    return;
  }
  w->next = mt_rt.workers;
  mt_rt.workers = w;
  mt_rt.workers_total++;
  mt_rt.wakeups_pending++; /* it will look for work as it starts */
  mt_log(MT_LOG_DEBUG, "worker %u started", mt_rt.workers_total);
}

/* How long a waiter or an idle worker spins before it sleeps. */
#define SPIN_NS 40000

static uint64_t now_ns(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
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

void mt_sched_kick_locked(void) {
  if (kicks_deferred) {
    return; /* mt_sched_run_here kicks once it has taken its share */
  }
  if (mt_rt.wakeups_pending > 0 || mt_rt.spinner_active || !has_work_locked()) {
    return; /* a worker is already on its way, and it kicks the next */
  }
  if (mt_rt.workers_idle > 0) {
    mt_rt.wakeups_pending++;
    pthread_cond_signal(&mt_rt.work_cv);
  } else if (mt_rt.workers_total < mt_rt.max_workers) {
    spawn_worker_locked();
  }
}

/* ---- a worker's life ---------------------------------------------------- */

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

static size_t batch_size_locked(const mt_sched_class *c) {
  size_t share = c->queue.len /
                 (2 * (size_t)(mt_rt.workers_total ? mt_rt.workers_total : 1));
  return share < 1 ? 1 : share > MAX_BATCH ? MAX_BATCH : share;
}

/* Runs the tasks popped from one class, unlocked. */
static void run_class_batch(mt_worker *w, manta_value **results) {
  for (; w->batch_pos < w->batch_len;) {
    size_t i = w->batch_pos++;
    mt_task *t = w->batch[i];
    int expected = MT_CLAIM_FREE;
    if (!atomic_compare_exchange_strong(&t->claim, &expected,
                                        MT_CLAIM_STARTED)) {
      results[i] = NULL; /* cancelled while it waited in the batch */
      continue;
    }
    if (t->kind == MT_TASK_ACTOR_CREATE) {
      mt_actor_construct(t);
      results[i] = NULL;
    } else {
      results[i] =
          mt_task_result(t, t->fn->fn((const manta_value *const *)t->args,
                                      t->nargs, t->fn->data));
    }
  }
}

static void finish_class_batch_locked(mt_worker *w, manta_value **results,
                                      mt_garbage *g) {
  for (size_t i = 0; i < w->batch_len; i++) {
    mt_task *t = w->batch[i];
    mt_rt.tasks_running--;
    if (t->kind == MT_TASK_ACTOR_CREATE && !t->cancelled) {
      if (mt_actor_constructed_locked(t, g)) {
        w->holding = false; /* the actor holds them for its lifetime */
      }
    } else {
      mt_task_finish_locked(t, results[i], g);
    }
  }
  w->batch_pos = w->batch_len = 0;
}

static void pop_class_batch_locked(mt_worker *w, mt_sched_class *c) {
  size_t n = c->queue.head && c->queue.head->kind == MT_TASK_ACTOR_CREATE
                 ? 1
                 : batch_size_locked(c);
  w->batch_pos = w->batch_len = 0;
  w->batch_cls = c;
  while (w->batch_len < n && c->queue.head) {
    mt_task *t = c->queue.head;
    if (t->kind == MT_TASK_ACTOR_CREATE && w->batch_len > 0) {
      break; /* creations hold their own resources: one per batch */
    }
    mt_class_unlink_locked(t);
    t->where = MT_WHERE_BATCH;
    w->batch[w->batch_len++] = t;
  }
  mt_rt.tasks_queued -= (int64_t)w->batch_len;
  mt_rt.tasks_running += (int64_t)w->batch_len;
}

/* Runs one actor turn or one batch of one class, whichever is ready first;
 * false if nothing is. Called and returns with rt.mu held. */
static bool run_some_locked(mt_worker *w, manta_value **results,
                            mt_garbage *g) {
  mt_actor *a = mt_rt.ready_head;
  mt_sched_class *c = a ? NULL : runnable_class_locked();
  if (!a && !c) {
    return false;
  }
  if (a) {
    mt_sched_kick_locked(); /* more work may wait for another worker */
    mt_actor_turn_locked(w, a, g);
    mt_unlock();
    mt_garbage_free(g);
    mt_lock();
    return true;
  }
  hold_locked(w, &c->demand);
  pop_class_batch_locked(w, c);
  mt_sched_kick_locked();
  mt_unlock();
  run_class_batch(w, results);
  mt_lock();
  finish_class_batch_locked(w, results, g);
  unhold_locked(w);
  if (g->len > 8 || g->dtors) {
    mt_unlock();
    mt_garbage_free(g);
    mt_lock();
  }
  return true;
}

static void *worker_main(void *arg) {
  mt_worker *w = arg;
  mt_task *batch[MAX_BATCH];
  manta_value *results[MAX_BATCH];
  mt_garbage g;
  mt_garbage_init(&g);
  bool spun = false; /* spun since the last work: sleep next time */
  w->batch = batch;
  mt_self = w;
  mt_lock();
  if (mt_rt.wakeups_pending > 0) {
    mt_rt.wakeups_pending--;
  }
  for (;;) {
    if (run_some_locked(w, results, &g)) {
      spun = false;
      continue;
    }
    if (mt_rt.shutting_down) {
      break;
    }
    if (g.len > 0) {
      mt_unlock();
      mt_garbage_free(&g);
      mt_lock();
      continue;
    }
    if (!spun && !mt_rt.spinner_active) {
      spin_for_work_locked();
      spun = true;
      continue;
    }
    spun = false;
    mt_rt.workers_idle++;
    pthread_cond_wait(&mt_rt.work_cv, &mt_rt.mu);
    mt_rt.workers_idle--;
    if (mt_rt.wakeups_pending > 0) {
      mt_rt.wakeups_pending--;
    }
  }
  mt_rt.workers_exited++;
  pthread_cond_broadcast(&mt_rt.exit_cv);
  mt_unlock();
  mt_garbage_free(&g);
  mt_self = NULL;
  return NULL;
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
  mt_task *batch[MAX_BATCH];
  manta_value *results[MAX_BATCH];
  mt_worker here = {.batch = batch, .on_block = hooks ? hooks->block : NULL};
  mt_rt.running_here = true;
  mt_self = &here;
  if (hooks && hooks->begin) {
    hooks->begin();
  }
  run_some_locked(&here, results, &g);
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
   * task waiting on its batch-mates cannot wait forever. */
  while (w->batch_len > w->batch_pos) {
    /* A cancelled one goes back too (claim stays CANCELLED): whoever pops
     * it next frees it. */
    mt_task *t = w->batch[--w->batch_len];
    mt_rt.tasks_running--;
    t->where = MT_WHERE_CLASS;
    mt_task_list_push_front(&w->batch_cls->queue, t);
    mt_rt.tasks_queued++;
  }
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
  /* Called with rt.mu held and every queue emptied: wake all and join. */
  pthread_cond_broadcast(&mt_rt.work_cv);
  while (mt_rt.workers_exited < mt_rt.workers_total) {
    pthread_cond_wait(&mt_rt.exit_cv, &mt_rt.mu);
  }
  mt_worker *w = mt_rt.workers;
  mt_rt.workers = NULL;
  mt_unlock();
  while (w) {
    mt_worker *next = w->next;
    pthread_join(w->thread, NULL);
    free(w);
    w = next;
  }
  mt_lock();
  mt_rt.workers_total = mt_rt.workers_exited = 0;
  mt_rt.workers_idle = mt_rt.wakeups_pending = 0;
  while (mt_rt.classes_list) {
    mt_sched_class *c = mt_rt.classes_list;
    mt_rt.classes_list = c->next;
    free(c);
  }
}
