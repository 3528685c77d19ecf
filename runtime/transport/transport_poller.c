/*
 * The pollers of gRPC's completion queue and the policy by which they take
 * turns at it; starting and stopping gRPC with them.
 */
#include "transport_internal.h"

#include "clock.h"

#include "grpc_log.h"
#include "log.h"

#include <malloc.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#define POLLERS 2

static struct {
  pthread_mutex_t mu;
  int starts;
  grpc_completion_queue *cq;
  pthread_t pollers[POLLERS];
  /* The turn at the queue (below). */
  pthread_mutex_t turn_mu;
  pthread_cond_t turn_cv;      /* on CLOCK_MONOTONIC */
  _Atomic int holder;          /* the poller with the turn, -1: none; set under
                                * turn_mu, read by the holder without */
  bool queue_shut;             /* under turn_mu */
  int64_t away_since;          /* under turn_mu: the holder runs work of unknown
                                * length since (ns), 0: it does not */
  _Atomic int64_t last_event;  /* ns */
  _Atomic bool standby_sleeps; /* a poller stands by without a timeout */
} tp = {.mu = PTHREAD_MUTEX_INITIALIZER,
        .turn_mu = PTHREAD_MUTEX_INITIALIZER,
        .holder = -1};

/*
 * One poller at a time has the turn: it waits in the queue and runs what it
 * takes, then waits again. Pollers that all waited in the queue at once
 * handed the work to each other through gRPC's kicks, a thread wake-up per
 * message or two: 5-25% of an object transfer's rate on a 2-core machine,
 * and 10-20 us of a round trip when a poller woke another to receive while
 * it ran a task.
 *
 * So the holder runs received tasks itself without waking anyone
 * (mt_tp_away_begin/end mark it away meanwhile) and the others stand by:
 * while the queue is busy a standby looks every STANDBY_CHECK_MS and takes
 * the turn over from a holder away for AWAY_TAKEOVER_MS or more; a holder
 * whose task blocks hands the turn over at once (mt_tp_step_aside). The
 * node thus never stops receiving for more than about two milliseconds,
 * whatever a task does, and an idle node has no thread waking up. A
 * callback that holds the turn must never wait for another completion of
 * the queue.
 */
enum {
  STANDBY_CHECK_MS = 1,
  AWAY_TAKEOVER_MS = 1,
  /* Since the last event: the queue counts as busy. */
  BUSY_MS = 10,
};

static _Thread_local int poller_me = -1; /* this thread's poller index */

static void init_turn_cv(void) {
  mt_cond_init(&tp.turn_cv);
}

/* Waits for the turn; false once the queue is shut down. */
static bool take_turn(int me) {
  pthread_mutex_lock(&tp.turn_mu);
  for (;;) {
    if (tp.queue_shut) {
      pthread_mutex_unlock(&tp.turn_mu);
      return false;
    }
    int h = atomic_load(&tp.holder);
    if (h < 0) {
      break;
    }
    int64_t t = mt_now_ns();
    if (tp.away_since &&
        t - tp.away_since >= (int64_t)AWAY_TAKEOVER_MS * 1000000) {
      mt_log(MT_LOG_DEBUG,
             "transport: poller %d away on a task for %.1f ms, poller %d "
             "receives meanwhile",
             h, (double)(t - tp.away_since) / 1e6, me);
      break;
    }
    if (tp.away_since ||
        t - atomic_load(&tp.last_event) < (int64_t)BUSY_MS * 1000000) {
      int64_t until = t + (int64_t)STANDBY_CHECK_MS * 1000000;
      struct timespec ts = {(time_t)(until / 1000000000),
                            (long)(until % 1000000000)};
      pthread_cond_timedwait(&tp.turn_cv, &tp.turn_mu, &ts);
    } else {
      atomic_store(&tp.standby_sleeps, true);
      pthread_cond_wait(&tp.turn_cv, &tp.turn_mu);
      atomic_store(&tp.standby_sleeps, false);
    }
  }
  atomic_store(&tp.holder, me);
  tp.away_since = 0;
  pthread_mutex_unlock(&tp.turn_mu);
  return true;
}

/* A standby poller sleeping without a timeout looks again. */
static void wake_standby(void) {
  if (atomic_load(&tp.standby_sleeps)) {
    pthread_mutex_lock(&tp.turn_mu);
    pthread_cond_broadcast(&tp.turn_cv);
    pthread_mutex_unlock(&tp.turn_mu);
  }
}

/* Marks this poller, if it holds the turn, away since `since` (0: back). */
static void mark_away(int64_t since) {
  pthread_mutex_lock(&tp.turn_mu);
  if (atomic_load(&tp.holder) == poller_me) {
    tp.away_since = since;
  }
  pthread_mutex_unlock(&tp.turn_mu);
}

void mt_tp_away_begin(void) {
  if (poller_me >= 0) {
    mark_away(mt_now_ns());
    wake_standby(); /* it waits with a timeout from now on */
  }
}

void mt_tp_away_end(void) {
  if (poller_me >= 0) {
    mark_away(0);
  }
}

void mt_tp_step_aside(void) {
  if (poller_me < 0) {
    return;
  }
  pthread_mutex_lock(&tp.turn_mu);
  if (atomic_load(&tp.holder) == poller_me) {
    atomic_store(&tp.holder, -1);
    tp.away_since = 0;
    pthread_cond_signal(&tp.turn_cv);
  }
  pthread_mutex_unlock(&tp.turn_mu);
}

static void *poll_loop(void *arg) {
  int me = (int)(intptr_t)arg;
  poller_me = me;
  while (take_turn(me)) {
    while (atomic_load_explicit(&tp.holder, memory_order_relaxed) == me) {
      grpc_event ev = grpc_completion_queue_next(
          tp.cq, gpr_inf_future(GPR_CLOCK_MONOTONIC), NULL);
      if (ev.type == GRPC_QUEUE_SHUTDOWN) {
        /* Drained: the pollers standing by end too. */
        pthread_mutex_lock(&tp.turn_mu);
        tp.queue_shut = true;
        atomic_store(&tp.holder, -1);
        pthread_cond_broadcast(&tp.turn_cv);
        pthread_mutex_unlock(&tp.turn_mu);
        return NULL;
      }
      atomic_store_explicit(&tp.last_event, mt_now_ns(), memory_order_relaxed);
      wake_standby();
      if (ev.type == GRPC_OP_COMPLETE) {
        tp_op *op = ev.tag;
        (void)atomic_load_explicit(&op->armed, memory_order_acquire);
        op->done(op, ev.success != 0);
      }
    }
  }
  return NULL;
}

/*
 * gRPC receives into 64 KiB pieces it mallocs on the poller threads and
 * frees once a message is read. With glibc's default trim threshold each
 * such free at the top of a thread's heap hands the memory back to the
 * kernel (madvise), so every received chunk faulted its pages in again:
 * half of a fetching node's CPU per GB. Heap tops of up to 64 MiB are kept
 * instead (blocks from 4 MiB are still mapped apart), unless the user
 * tuned malloc already.
 */
static void keep_heap_tops(void) {
#if defined(M_TRIM_THRESHOLD) && defined(M_MMAP_THRESHOLD)
  const char *tunables = getenv("GLIBC_TUNABLES");
  if (getenv("MALLOC_TRIM_THRESHOLD_") || getenv("MALLOC_MMAP_THRESHOLD_") ||
      (tunables && strstr(tunables, "glibc.malloc."))) {
    return;
  }
  mallopt(M_MMAP_THRESHOLD, 4 << 20);
  mallopt(M_TRIM_THRESHOLD, 64 << 20);
#endif
}

bool mt_tp_start(void) {
  pthread_mutex_lock(&tp.mu);
  if (tp.starts++ > 0) {
    pthread_mutex_unlock(&tp.mu);
    return true;
  }
  keep_heap_tops();
  static pthread_once_t turn_cv_once = PTHREAD_ONCE_INIT;
  pthread_once(&turn_cv_once, init_turn_cv);
  tp.queue_shut = false;
  atomic_store(&tp.holder, -1);
  tp.away_since = 0;
  mt_tp_grpc_log_start();
  grpc_init();
  tp.cq = grpc_completion_queue_create_for_next(NULL);
  int started = 0;
  for (; started < POLLERS; started++) {
    if (pthread_create(&tp.pollers[started], NULL, poll_loop,
                       (void *)(intptr_t)started) != 0) {
      break;
    }
  }
  if (started < POLLERS) {
    grpc_completion_queue_shutdown(tp.cq);
    for (int i = 0; i < started; i++) {
      pthread_join(tp.pollers[i], NULL);
    }
    grpc_completion_queue_destroy(tp.cq);
    grpc_shutdown_blocking();
    mt_tp_grpc_log_stop();
    tp.starts = 0;
    pthread_mutex_unlock(&tp.mu);
    mt_log(MT_LOG_ERROR, "transport: cannot start poller threads");
    return false;
  }
  pthread_mutex_unlock(&tp.mu);
  return true;
}

void mt_tp_stop(void) {
  pthread_mutex_lock(&tp.mu);
  if (tp.starts == 0 || --tp.starts > 0) {
    pthread_mutex_unlock(&tp.mu);
    return;
  }
  /* Every call has ended (servers and channels wait for theirs), so the
   * queue drains to the shutdown event. */
  grpc_completion_queue_shutdown(tp.cq);
  for (int i = 0; i < POLLERS; i++) {
    pthread_join(tp.pollers[i], NULL);
  }
  grpc_completion_queue_destroy(tp.cq);
  tp.cq = NULL;
  grpc_shutdown_blocking();
  mt_tp_grpc_log_stop(); /* gRPC's threads are gone: no line comes now */
  pthread_mutex_unlock(&tp.mu);
}

grpc_completion_queue *tp_queue(void) {
  return tp.cq;
}
