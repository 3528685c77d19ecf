#include "serve_ticker.h"

#include <time.h>

static void *loop(void *arg) {
  mt_serve_ticker *t = arg;
  bool due = t->tick_first;
  pthread_mutex_lock(&t->mu);
  while (!t->stopping) {
    if (!due) {
      struct timespec ts;
      clock_gettime(CLOCK_REALTIME, &ts);
      ts.tv_nsec += t->period_ms * 1000000L;
      ts.tv_sec += ts.tv_nsec / 1000000000L;
      ts.tv_nsec %= 1000000000L;
      pthread_cond_timedwait(&t->cv, &t->mu, &ts);
      if (t->stopping) {
        break;
      }
    }
    due = false;
    pthread_mutex_unlock(&t->mu);
    t->tick();
    pthread_mutex_lock(&t->mu);
  }
  pthread_mutex_unlock(&t->mu);
  return NULL;
}

void mt_serve_ticker_start(mt_serve_ticker *t) {
  pthread_mutex_lock(&t->mu);
  if (!t->running) {
    t->stopping = false;
    t->running = pthread_create(&t->thread, NULL, loop, t) == 0;
  }
  pthread_mutex_unlock(&t->mu);
}

void mt_serve_ticker_stop(mt_serve_ticker *t) {
  pthread_mutex_lock(&t->mu);
  bool was = t->running;
  t->stopping = true;
  t->running = false;
  pthread_cond_signal(&t->cv);
  pthread_mutex_unlock(&t->mu);
  if (was) {
    pthread_join(t->thread, NULL);
  }
}

bool mt_serve_ticker_running(mt_serve_ticker *t) {
  pthread_mutex_lock(&t->mu);
  bool running = t->running;
  pthread_mutex_unlock(&t->mu);
  return running;
}
