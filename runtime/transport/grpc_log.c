/* gRPC's log lines, failed TLS handshakes rate-limited (grpc_log.h). */
#include "grpc_log.h"

#include "clock.h"
#include "refusals.h"

#include <grpc/support/log.h>
#include <pthread.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

/* The counter while the transport runs; NULL otherwise (lines then go out
 * as they come). The lock keeps a line being counted from meeting the
 * counter's free: such lines are rare, the lock is cheap enough. */
static pthread_mutex_t mu = PTHREAD_MUTEX_INITIALIZER;
static mt_refusals *handshakes;

static void log_line(gpr_log_func_args *a) {
  if (strstr(a->message, "Handshake failed")) {
    pthread_mutex_lock(&mu);
    bool counted = handshakes != NULL;
    if (counted) {
      /* gRPC does not say which peer: they share one count. */
      mt_refusals_note(handshakes, "TLS peers (gRPC does not say which)",
                       "a TLS handshake", a->message, mt_now_ms());
    }
    pthread_mutex_unlock(&mu);
    if (counted) {
      return;
    }
  }
  const char *file = strrchr(a->file, '/');
  fprintf(stderr, "%s grpc %s:%d] %s\n", gpr_log_severity_string(a->severity),
          file ? file + 1 : a->file, a->line, a->message);
}

static void install(void) {
  gpr_set_log_function(log_line);
}

void mt_tp_grpc_log_start(void) {
  static pthread_once_t once = PTHREAD_ONCE_INIT;
  pthread_once(&once, install);
  mt_refusals *r = mt_refusals_new(MT_REFUSALS_INTERVAL_MS, NULL, NULL);
  pthread_mutex_lock(&mu);
  handshakes = r;
  pthread_mutex_unlock(&mu);
}

void mt_tp_grpc_log_stop(void) {
  pthread_mutex_lock(&mu);
  mt_refusals *r = handshakes;
  handshakes = NULL;
  pthread_mutex_unlock(&mu);
  mt_refusals_free(r);
}
