#include "clock.h"

static int64_t ns_of(clockid_t id) {
  struct timespec ts;
  clock_gettime(id, &ts);
  return (int64_t)ts.tv_sec * 1000000000 + ts.tv_nsec;
}

int64_t mt_now_ns(void) {
  return ns_of(CLOCK_MONOTONIC);
}

int64_t mt_now_ms(void) {
  return mt_now_ns() / 1000000;
}

int64_t mt_wall_ns(void) {
  return ns_of(CLOCK_REALTIME);
}

void mt_deadline(int64_t timeout_ms, struct timespec *ts) {
  clock_gettime(CLOCK_MONOTONIC, ts);
  if (timeout_ms < 0) {
    return;
  }
  ts->tv_sec += (time_t)(timeout_ms / 1000);
  ts->tv_nsec += (long)(timeout_ms % 1000) * 1000000L;
  if (ts->tv_nsec >= 1000000000L) {
    ts->tv_sec++;
    ts->tv_nsec -= 1000000000L;
  }
}

void mt_cond_init(pthread_cond_t *cv) {
  pthread_condattr_t attr;
  pthread_condattr_init(&attr);
  pthread_condattr_setclock(&attr, CLOCK_MONOTONIC);
  pthread_cond_init(cv, &attr);
  pthread_condattr_destroy(&attr);
}
