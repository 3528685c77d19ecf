/*
 * The ingress's pollers.
 *
 * With libmicrohttpd's own polling thread every request cost two thread
 * wake-ups: a worker woken to run the call, and the polling thread woken
 * (by the resume) to send the answer. On a 2-vCPU machine that was one
 * context switch per request, most of the CPU the ingress spent, and the
 * p50 over the plain server's (docs/benchmarks.md, "Serve").
 *
 * So libmicrohttpd runs without a thread of its own, and one poller at a
 * time, the holder of the turn, waits for its events, runs it, then runs
 * the calls its requests submitted itself (mt_serve_run_here): the answer
 * is resumed on the thread that sends it, and nobody is woken. Calls that
 * last must not stall the other connections, so the second poller stands
 * by: while the holder runs calls it looks every STANDBY_CHECK_MS and takes
 * the turn over from a holder away for AWAY_TAKEOVER_MS or more; a call
 * that blocks (get, wait) hands the turn over at once. Connections thus
 * wait at most about two milliseconds for a poller, whatever the calls do,
 * and an idle ingress has no thread waking up. The node service's
 * transport does the same for the tasks it receives.
 *
 * Only the holder calls MHD_run: a takeover happens only while the holder
 * is marked away (under mu), and the holder looks whether it still holds
 * the turn only after marking itself back (under mu).
 */
#include "serve_pollers.h"

#include "clock.h"
#include "log.h"
#include "serve_runtime.h"

#include <limits.h>
#include <microhttpd.h>
#include <poll.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdint.h>
#include <stdio.h>
#include <sys/eventfd.h>
#include <unistd.h>

#define POLLERS 2

enum {
  STANDBY_CHECK_MS = 1,
  AWAY_TAKEOVER_MS = 1,
  /* Since the holder last ran calls: the standby keeps looking. */
  BUSY_MS = 10,
};

static struct {
  struct MHD_Daemon *daemon;
  int stop_fd;            /* eventfd: readable once the pollers are to end */
  int wake_fd;            /* eventfd: a connection was resumed (below) */
  _Atomic bool wake_sent; /* written since the holder last looked */
  pthread_t threads[POLLERS];
  int started;
  pthread_mutex_t mu;
  pthread_cond_t cv;   /* on CLOCK_MONOTONIC */
  _Atomic int holder;  /* -1: none; set under mu */
  int64_t away_since;  /* under mu: ns, 0: the holder is not away */
  int64_t last_away;   /* under mu: ns */
  bool standby_sleeps; /* under mu: a standby waits without a timeout */
  _Atomic bool stopping;
} p = {.mu = PTHREAD_MUTEX_INITIALIZER,
       .holder = -1,
       .stop_fd = -1,
       .wake_fd = -1};

static _Thread_local int poller_me = -1;
/* This poller resumed a connection while it held the turn: its next
 * MHD_run answers it, unless it loses the turn first (then it wakes the
 * holder). */
static _Thread_local bool resumed_here;

static void init_cv(void) {
  mt_cond_init(&p.cv);
}

/* Waits for the turn; false once the pollers are to end. */
static bool take_turn(int me) {
  pthread_mutex_lock(&p.mu);
  for (;;) {
    if (atomic_load(&p.stopping)) {
      pthread_mutex_unlock(&p.mu);
      return false;
    }
    int h = atomic_load(&p.holder);
    if (h < 0) {
      break;
    }
    int64_t t = mt_now_ns();
    if (p.away_since &&
        t - p.away_since >= (int64_t)AWAY_TAKEOVER_MS * 1000000) {
      mt_log(MT_LOG_DEBUG,
             "serve: poller %d away on a call for %.1f ms, poller %d "
             "serves the connections meanwhile",
             h, (double)(t - p.away_since) / 1e6, me);
      break;
    }
    if (p.away_since || t - p.last_away < (int64_t)BUSY_MS * 1000000) {
      struct timespec ts;
      mt_deadline(STANDBY_CHECK_MS, &ts);
      pthread_cond_timedwait(&p.cv, &p.mu, &ts);
    } else {
      p.standby_sleeps = true;
      pthread_cond_wait(&p.cv, &p.mu);
      p.standby_sleeps = false;
    }
  }
  atomic_store(&p.holder, me);
  p.away_since = 0;
  pthread_mutex_unlock(&p.mu);
  return true;
}

/* libmicrohttpd without its own thread does not notice a resume (its
 * inter-thread channel is for its own threads only): the holder is woken
 * to run it. */
static void wake_holder(void) {
  uint64_t one = 1;
  /* Once until the holder looks: a worker's batch resumes many. */
  if (!atomic_exchange(&p.wake_sent, true) &&
      write(p.wake_fd, &one, sizeof one) < 0) {
    /* Full (never in practice) means readable: the holder wakes anyway. */
  }
}

/* After this poller lost the turn: what it resumed meanwhile is the new
 * holder's to answer. */
static void hand_over_resumed(void) {
  if (resumed_here) {
    resumed_here = false;
    wake_holder();
  }
}

static void away(void) {
  pthread_mutex_lock(&p.mu);
  if (atomic_load(&p.holder) == poller_me) {
    p.away_since = p.last_away = mt_now_ns();
    if (p.standby_sleeps) {
      pthread_cond_signal(&p.cv); /* it looks with a timeout from now on */
    }
  }
  pthread_mutex_unlock(&p.mu);
}

static void back(void) {
  pthread_mutex_lock(&p.mu);
  bool holds = atomic_load(&p.holder) == poller_me;
  if (holds) {
    p.away_since = 0; /* no takeover from now on */
  }
  pthread_mutex_unlock(&p.mu);
  if (!holds) {
    hand_over_resumed();
  }
}

static void step_aside(void) {
  pthread_mutex_lock(&p.mu);
  if (atomic_load(&p.holder) == poller_me) {
    atomic_store(&p.holder, -1);
    p.away_since = 0;
    pthread_cond_signal(&p.cv);
  }
  pthread_mutex_unlock(&p.mu);
  hand_over_resumed();
}

/* Until libmicrohttpd has something to do (a socket, a resumed
 * connection, a connection's timeout) or the pollers are to end. */
static void wait_events(void) {
  const union MHD_DaemonInfo *info =
      MHD_get_daemon_info(p.daemon, MHD_DAEMON_INFO_EPOLL_FD);
  MHD_UNSIGNED_LONG_LONG ms = 0;
  int timeout = -1;
  if (resumed_here) {
    resumed_here = false;
    timeout = 0;
  } else if (MHD_get_timeout(p.daemon, &ms) == MHD_YES) {
    timeout = ms > INT_MAX ? INT_MAX : (int)ms;
  }
  struct pollfd fds[3] = {{.fd = info ? info->epoll_fd : -1, .events = POLLIN},
                          {.fd = p.wake_fd, .events = POLLIN},
                          {.fd = p.stop_fd, .events = POLLIN}};
  if (poll(fds, 3, timeout) > 0 && (fds[1].revents & POLLIN)) {
    uint64_t n;
    if (read(p.wake_fd, &n, sizeof n) < 0) {
      /* Read by nobody else: cannot fail but for EAGAIN, harmless. */
    }
  }
  /* After the read, before MHD_run: a resume from now on writes again (one
   * between the two is run by that MHD_run). */
  atomic_store(&p.wake_sent, false);
}

static void *poll_loop(void *arg) {
  int me = (int)(intptr_t)arg;
  poller_me = me;
  while (take_turn(me)) {
    while (atomic_load(&p.holder) == me) {
      wait_events();
      bool last = atomic_load(&p.stopping);
      MHD_run(p.daemon);
      mt_serve_run_here(away, step_aside, back);
      if (last) {
        /* Connections resumed before the stop were answered just now. */
        MHD_run(p.daemon);
        step_aside();
        break;
      }
    }
  }
  poller_me = -1;
  return NULL;
}

void mt_serve_pollers_resumed(void) {
  if (poller_me >= 0 && atomic_load(&p.holder) == poller_me) {
    resumed_here = true;
  } else {
    wake_holder();
  }
}

void mt_serve_pollers_defer(void) {
  if (poller_me >= 0) {
    mt_serve_defer_kicks();
  }
}

bool mt_serve_pollers_start(struct MHD_Daemon *d, char *why, size_t why_size) {
  static pthread_once_t cv_once = PTHREAD_ONCE_INIT;
  pthread_once(&cv_once, init_cv);
  p.daemon = d;
  p.stop_fd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
  p.wake_fd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
  if (p.stop_fd < 0 || p.wake_fd < 0) {
    snprintf(why, why_size, "cannot make the Serve pollers' eventfds");
    mt_serve_pollers_stop();
    return false;
  }
  atomic_store(&p.stopping, false);
  atomic_store(&p.wake_sent, false);
  atomic_store(&p.holder, -1);
  p.away_since = p.last_away = 0;
  for (p.started = 0; p.started < POLLERS; p.started++) {
    if (pthread_create(&p.threads[p.started], NULL, poll_loop,
                       (void *)(intptr_t)p.started) != 0) {
      snprintf(why, why_size, "cannot start the Serve poller threads");
      mt_serve_pollers_stop();
      return false;
    }
  }
  return true;
}

void mt_serve_pollers_stop(void) {
  pthread_mutex_lock(&p.mu);
  atomic_store(&p.stopping, true);
  pthread_cond_broadcast(&p.cv);
  pthread_mutex_unlock(&p.mu);
  uint64_t one = 1;
  if (p.stop_fd >= 0 && write(p.stop_fd, &one, sizeof one) < 0) {
    /* Never: the counter is far from full; the pollers would still end at
     * their next event. */
  }
  for (int i = 0; i < p.started; i++) {
    pthread_join(p.threads[i], NULL);
  }
  p.started = 0;
  if (p.stop_fd >= 0) {
    close(p.stop_fd);
  }
  if (p.wake_fd >= 0) {
    close(p.wake_fd);
  }
  p.stop_fd = p.wake_fd = -1;
  p.daemon = NULL;
}
