#include "log.h"

#include <pthread.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <strings.h>
#include <unistd.h>

static const char *const names[] = {"error", "warn", "info", "debug"};

/* -1 until MANTA_LOG is read (once), or set by mt_log_set_level. */
static atomic_int log_level = -1;

/* The sink and its arg change together under mu, which each line holds
 * while it is written: setting a sink waits for lines in the old one. */
static pthread_mutex_t mu = PTHREAD_MUTEX_INITIALIZER;
static mt_log_sink sink;
static void *sink_arg;
/* Set while this thread is in the sink: a line it logs goes to stderr
 * rather than deadlocking on mu. */
static _Thread_local bool in_sink;

static int read_log_level(void) {
  const char *s = getenv("MANTA_LOG");
  if (s && *s) {
    for (int i = 0; i < 4; i++) {
      if (strcasecmp(s, names[i]) == 0) {
        return i;
      }
    }
  }
  return MT_LOG_WARN;
}

int mt_log_enabled(mt_log_level level) {
  int l = atomic_load_explicit(&log_level, memory_order_relaxed);
  if (l < 0) {
    l = read_log_level();
    atomic_store_explicit(&log_level, l, memory_order_relaxed);
  }
  return (int)level <= l;
}

static void to_stderr(mt_log_level level, const char *msg) {
  fprintf(stderr, "manta[%d] %s: %s\n", (int)getpid(), names[level], msg);
}

void mt_log(mt_log_level level, const char *fmt, ...) {
  if (!mt_log_enabled(level)) {
    return;
  }
  char msg[1024];
  va_list ap;
  va_start(ap, fmt);
  vsnprintf(msg, sizeof msg, fmt, ap);
  va_end(ap);
  if (in_sink) {
    to_stderr(level, msg);
    return;
  }
  pthread_mutex_lock(&mu);
  if (sink) {
    in_sink = true;
    sink(level, msg, sink_arg);
    in_sink = false;
  } else {
    to_stderr(level, msg);
  }
  pthread_mutex_unlock(&mu);
}

void mt_log_set_sink(mt_log_sink s, void *arg) {
  if (in_sink) { /* this thread holds mu already */
    sink = s;
    sink_arg = s ? arg : NULL;
    return;
  }
  pthread_mutex_lock(&mu);
  sink = s;
  sink_arg = s ? arg : NULL;
  pthread_mutex_unlock(&mu);
}

void mt_log_set_level(mt_log_level level) {
  atomic_store_explicit(&log_level, (int)level, memory_order_relaxed);
}

mt_log_level mt_log_get_level(void) {
  for (int l = MT_LOG_DEBUG; l > MT_LOG_ERROR; l--) {
    if (mt_log_enabled((mt_log_level)l)) {
      return (mt_log_level)l;
    }
  }
  return MT_LOG_ERROR;
}
