/*
 * A thread that calls a function every period until stopped: the one loop
 * behind Serve's autoscaler, health probe and route sync. Stopping wakes
 * it at once and joins it; it can be started again afterwards.
 */
#ifndef MT_SERVE_TICKER_H
#define MT_SERVE_TICKER_H

#include <pthread.h>
#include <stdbool.h>

typedef struct mt_serve_ticker {
  void (*tick)(void); /* called without the ticker's lock */
  long period_ms;
  bool tick_first; /* tick at once when started, then every period */
  pthread_mutex_t mu;
  pthread_cond_t cv;
  pthread_t thread;
  bool running, stopping;
} mt_serve_ticker;

#define MT_SERVE_TICKER(fn, ms, first)                                         \
  {                                                                            \
    .tick = (fn), .period_ms = (ms), .tick_first = (first),                    \
    .mu = PTHREAD_MUTEX_INITIALIZER, .cv = PTHREAD_COND_INITIALIZER            \
  }

/* Starts the thread unless it runs. */
void mt_serve_ticker_start(mt_serve_ticker *t);
/* Stops it (waiting for a tick under way); nothing if it does not run. */
void mt_serve_ticker_stop(mt_serve_ticker *t);
/* Whether it runs (started and not stopped). */
bool mt_serve_ticker_running(mt_serve_ticker *t);

#endif
