/* Starting and stopping the runtime of this process, its lock and what it
 * reports about itself. */
#include "bigalloc.h"
#include "cluster_seam.h"
#include "rt.h"
#include "streams.h"
#include "timeline.h"

#include <errno.h>
#include <fcntl.h>
#include <sched.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

/* Adaptive: spins a little before sleeping, since the lock is held only for
 * short stretches and a futex wake-up costs more than the wait. */
mt_runtime mt_rt = {.mu = PTHREAD_ADAPTIVE_MUTEX_INITIALIZER_NP};

static _Thread_local bool holding_lock;

/* Wake-ups of workers asked for under rt.mu, made just after this thread
 * releases it: a worker signalled while the waker still holds the lock
 * would wake only to block on it (glibc's condition variables do not move
 * a woken thread onto the mutex), one futex sleep and wake more per kick.
 * A worker's condition variable lives until shutdown, which waits for the
 * wake-ups in flight (mt_wakes_settle) before it frees one. */
#define DEFERRED_WAKES 64
static _Thread_local pthread_cond_t *deferred_wakes[DEFERRED_WAKES];
static _Thread_local unsigned deferred_count;
static _Atomic unsigned wakes_in_flight;

void mt_wake_after_unlock_locked(pthread_cond_t *cv) {
  if (deferred_count == DEFERRED_WAKES) {
    pthread_cond_signal(cv); /* rare: more at once than the list holds */
    return;
  }
  atomic_fetch_add_explicit(&wakes_in_flight, 1, memory_order_relaxed);
  deferred_wakes[deferred_count++] = cv;
}

static void wake_deferred(void) {
  unsigned n = deferred_count;
  deferred_count = 0;
  for (unsigned i = 0; i < n; i++) {
    pthread_cond_signal(deferred_wakes[i]);
  }
  if (n) {
    atomic_fetch_sub_explicit(&wakes_in_flight, n, memory_order_release);
  }
}

void mt_wakes_settle(void) {
  while (atomic_load_explicit(&wakes_in_flight, memory_order_acquire) != 0) {
    sched_yield();
  }
}

void mt_lock(void) {
  pthread_mutex_lock(&mt_rt.mu);
  holding_lock = true;
}

void mt_unlock(void) {
  holding_lock = false;
  pthread_mutex_unlock(&mt_rt.mu);
  wake_deferred();
}

bool mt_lock_held(void) {
  return holding_lock;
}

int mt_cond_wait(pthread_cond_t *cv, const struct timespec *deadline) {
  wake_deferred(); /* still under the lock: this thread may sleep long */
  if (!deadline) {
    return pthread_cond_wait(cv, &mt_rt.mu);
  }
  return pthread_cond_timedwait(cv, &mt_rt.mu, deadline);
}

/* ---- init --------------------------------------------------------------- */

static uint64_t random_node_id(void) {
  uint64_t id = 0;
  int fd = open("/dev/urandom", O_RDONLY | O_CLOEXEC);
  if (fd >= 0) {
    if (read(fd, &id, sizeof id) != (ssize_t)sizeof id) {
      id = 0;
    }
    close(fd);
  }
  if (id == 0) {
    int64_t ns = mt_wall_ns();
    id = ((uint64_t)(ns % 1000000000) << 32) ^ (uint64_t)(ns / 1000000000) ^
         ((uint64_t)getpid() << 16);
  }
  return id ? id : 1;
}

/* ---- the cluster seam --------------------------------------------------- */

static _Atomic(const mt_cluster_seam *) cluster_seam;
/* The seam whose start joined the running cluster: its stop leaves it. */
static const mt_cluster_seam *joined_seam;

void mt_cluster_seam_register(const mt_cluster_seam *seam) {
  atomic_store(&cluster_seam, seam);
}

void mt_cluster_seam_default(const mt_cluster_seam *seam) {
  const mt_cluster_seam *none = NULL;
  atomic_compare_exchange_strong(&cluster_seam, &none, seam);
}

static double default_cpus(void) {
  long n = sysconf(_SC_NPROCESSORS_ONLN);
  return n > 0 ? (double)n : 1.0;
}

static void stop_runtime(void) {
  if (mt_runtime_stop_begin() == MANTA_OK) {
    mt_runtime_stop_finish();
  }
}

manta_err mt_runtime_start(const manta_options *opts) {
  const char *address =
      opts && opts->address ? opts->address : getenv("MANTA_ADDRESS");
  bool head = opts && opts->role == MANTA_ROLE_HEAD;
  bool cluster = head || (address && *address);
  if (!manta_is_initialized() && !mt_timeline_init()) {
    return MANTA_ERR_INVALID; /* a bad MANTA_TIMELINE, logged */
  }
  mt_lock();
  if (mt_rt.initialized || mt_rt.shutting_down) {
    mt_unlock();
    return mt_rt.shutting_down ? MANTA_ERR_SHUTDOWN
                               : MANTA_ERR_ALREADY_INITIALIZED;
  }
  mt_rt.epoch++;
  if (mt_rt.epoch == 0) {
    mt_rt.epoch = 1; /* epoch 0 never names a live handle */
  }
  /* Objects are many and small, actors few: chunks sized to match. */
  mt_slots_init(&mt_rt.objects, sizeof(mt_object), 12, mt_rt.epoch);
  mt_slots_init(&mt_rt.actors, sizeof(mt_actor), 10, mt_rt.epoch);
  mt_rt.node_id = random_node_id();
  mt_task_set_node(0, NULL); /* embedded until the cluster says otherwise */
  mt_rt.nres = 1;
  strcpy(mt_rt.res_names[0], "CPU");
  mt_rt.res_total[0] =
      opts && opts->num_cpus >= 0 ? opts->num_cpus : default_cpus();
  for (int i = 0; opts && i < opts->resources.n; i++) {
    strcpy(mt_rt.res_names[mt_rt.nres], opts->resources.names[i]);
    mt_rt.res_total[mt_rt.nres++] = opts->resources.qty[i];
  }
  memcpy(mt_rt.res_avail, mt_rt.res_total, sizeof mt_rt.res_avail);
  mt_rt.max_workers = opts && opts->max_workers ? opts->max_workers : 1024;
  mt_store_init_locked(opts);
  mt_strmap_init(&mt_rt.functions);
  mt_strmap_init(&mt_rt.classes);
  mt_strmap_init(&mt_rt.actor_names);
  mt_cond_init(&mt_rt.exit_cv);
  mt_rt.tasks_queued = mt_rt.tasks_running = mt_rt.tasks_finished = 0;
  mt_rt.submitted_other = 0;
  mt_rt.tasks_retried = 0;
  mt_rt.retried_other = 0;
  mt_value_set_hooks(&mt_runtime_value_hooks);
  mt_rt.initialized = true;
  mt_log(MT_LOG_INFO, "runtime started: %s, %g CPU, %d resource kinds",
         cluster ? "cluster" : "embedded", mt_rt.res_total[0], mt_rt.nres);
  mt_unlock();
  for (size_t i = 0; opts && i < opts->nmodules; i++) {
    manta_err err = manta_module_load(opts->modules[i]);
    if (err != MANTA_OK) {
      stop_runtime();
      return err;
    }
  }
  if (cluster) {
    const mt_cluster_seam *seam = atomic_load(&cluster_seam);
    manta_err err = MANTA_ERR_INVALID;
    if (!seam) {
      mt_log(MT_LOG_ERROR, "cluster mode asked for, but no cluster is built "
                           "into this runtime");
    } else {
      joined_seam = seam;
      err = seam->start(opts, head ? NULL : address);
    }
    if (err != MANTA_OK) {
      stop_runtime();
      return err;
    }
  }
  return MANTA_OK;
}

int manta_is_initialized(void) {
  mt_lock();
  int on = mt_rt.initialized;
  mt_unlock();
  return on;
}

manta_err manta_node_id(char *buf, size_t size) {
  if (!buf || size == 0) {
    return MANTA_ERR_INVALID;
  }
  mt_lock();
  manta_err err = MANTA_OK;
  if (!mt_rt.initialized) {
    err = MANTA_ERR_NOT_INITIALIZED;
  } else if ((size_t)snprintf(buf, size, "%016llx",
                              (unsigned long long)mt_rt.node_id) >= size) {
    err = MANTA_ERR_RANGE;
  }
  mt_unlock();
  return err;
}

/* ---- shutdown ----------------------------------------------------------- */

static void fail_queued_locked(mt_garbage *g) {
  for (mt_sched_class *c = mt_rt.classes_list; c; c = c->next) {
    while (c->queue.head) {
      mt_task *t = c->queue.head;
      mt_task_cancel_locked(
          t, mt_task_error(t, MANTA_ERR_SHUTDOWN, "the runtime shut down"), g);
    }
  }
}

manta_err mt_runtime_stop_begin(void) {
  mt_lock();
  if (!mt_rt.initialized || mt_rt.shutting_down) {
    mt_unlock();
    return mt_rt.shutting_down ? MANTA_ERR_SHUTDOWN : MANTA_ERR_NOT_INITIALIZED;
  }
  if (mt_self) {
    mt_unlock();
    return MANTA_ERR_INVALID; /* a task cannot join its own worker */
  }
  mt_rt.shutting_down = true;
  mt_unlock();
  return MANTA_OK;
}

manta_err mt_runtime_stop_finish(void) {
  mt_garbage g;
  mt_garbage_init(&g);
  mt_lock();
  if (mt_rt.cluster) {
    /* Leave the cluster first: its callbacks take the lock, and tasks sent
     * away fail with SHUTDOWN as they are let go. */
    mt_unlock();
    joined_seam->stop();
    mt_lock();
  }
  int64_t finished = mt_rt.tasks_finished;
  /* Queued work resolves to SHUTDOWN; work waiting on dependencies follows
   * as they resolve; running work finishes. */
  fail_queued_locked(&g);
  mt_actors_shutdown_locked(&g);
  mt_streams_wake_all_locked(); /* producers waiting for room return */
  mt_sched_shutdown();
  mt_pgs_wake_all_locked();
  /* Threads still inside get/wait hold pointers into the table. */
  while (mt_rt.in_wait > 0) {
    mt_cond_wait(&mt_rt.exit_cv, NULL);
  }
  mt_pgs_shutdown_locked(&g);
  mt_ready_callbacks_shutdown_locked(&g); /* they run after the unlock */
  mt_multi_returns_shutdown_locked();
  mt_streams_shutdown_locked(&g);
  mt_actors_destroy(&g);
  mt_objects_destroy(&g);
  mt_registry_destroy_locked();
  mt_modules_forget_locked();
  mt_strmap_destroy(&mt_rt.actor_names);
  pthread_cond_destroy(&mt_rt.exit_cv);
  mt_rt.initialized = false;
  mt_rt.shutting_down = false;
  mt_unlock();
  /* Values and destructors run last, with the runtime already gone: refs
   * inside values are then released as no-ops. */
  mt_garbage_free(&g);
  mt_big_trim();
  mt_log(MT_LOG_INFO, "runtime stopped after %lld tasks", (long long)finished);
  return MANTA_OK;
}

/* ---- introspection ------------------------------------------------------ */

manta_err manta_stat_get(manta_stat which, int64_t *out) {
  if (!out) {
    return MANTA_ERR_INVALID;
  }
  if (which == MANTA_STAT_LIVE_VALUES) {
    *out = mt_value_live_count();
    return MANTA_OK;
  }
  manta_err err = MANTA_OK;
  mt_lock();
  if (!mt_rt.initialized) {
    err = MANTA_ERR_NOT_INITIALIZED;
  } else {
    switch (which) {
    case MANTA_STAT_LIVE_OBJECTS:
      *out = mt_rt.live_objects;
      break;
    case MANTA_STAT_LIVE_OBJECT_BYTES:
      *out = mt_rt.live_bytes;
      break;
    case MANTA_STAT_TASKS_QUEUED:
      *out = mt_rt.tasks_queued;
      break;
    case MANTA_STAT_TASKS_RUNNING:
      *out = mt_rt.tasks_running;
      break;
    case MANTA_STAT_TASKS_FINISHED:
      *out = mt_rt.tasks_finished;
      break;
    case MANTA_STAT_WORKER_THREADS:
      *out = mt_rt.workers_total;
      break;
    case MANTA_STAT_LIVE_ACTORS:
      *out = mt_rt.live_actors;
      break;
    case MANTA_STAT_TASKS_RETRIED:
      *out = (int64_t)mt_rt.tasks_retried;
      break;
    default:
      err = MANTA_ERR_INVALID;
    }
  }
  mt_unlock();
  return err;
}

manta_err manta_resource_get(const char *name, double *total,
                             double *available) {
  if (!name) {
    return MANTA_ERR_INVALID;
  }
  manta_err err = MANTA_ERR_NOT_FOUND;
  mt_lock();
  if (!mt_rt.initialized) {
    err = MANTA_ERR_NOT_INITIALIZED;
  } else {
    for (int k = 0; k < mt_rt.nres; k++) {
      if (strcmp(mt_rt.res_names[k], name) == 0) {
        if (total) {
          *total = mt_rt.res_total[k];
        }
        if (available) {
          *available = mt_rt.res_avail[k];
        }
        err = MANTA_OK;
        break;
      }
    }
  }
  mt_unlock();
  return err;
}
