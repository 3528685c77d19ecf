/* The one clock (runtime/base/clock.c): monotonic readings in step with
 * each other, deadlines ahead of now, and a monotonic condition variable
 * that times out at such a deadline. */
#include "clock.h"
#include "test_util.h"

#include <errno.h>
#include <pthread.h>

static int64_t ts_ns(const struct timespec *ts) {
  return (int64_t)ts->tv_sec * 1000000000 + ts->tv_nsec;
}

static void monotonic(void) {
  int64_t a = mt_now_ns();
  int64_t ms = mt_now_ms();
  int64_t b = mt_now_ns();
  CHECK(a > 0);
  CHECK(b >= a);
  CHECK(ms >= a / 1000000 && ms <= b / 1000000);
  int64_t prev = mt_now_ns();
  for (int i = 0; i < 100000; i++) {
    int64_t t = mt_now_ns();
    CHECK(t >= prev);
    prev = t;
  }
}

/* Wall time is the epoch's, not the monotonic clock's. */
static void wall(void) {
  int64_t w = mt_wall_ns();
  time_t t = time(NULL);
  CHECK(w / 1000000000 >= (int64_t)t - 1 && w / 1000000000 <= (int64_t)t + 1);
}

static void deadlines(void) {
  struct timespec ts;
  int64_t before = mt_now_ns();
  mt_deadline(1500, &ts);
  int64_t after = mt_now_ns();
  CHECK(ts.tv_nsec >= 0 && ts.tv_nsec < 1000000000L);
  CHECK(ts_ns(&ts) >= before + 1500 * 1000000LL);
  CHECK(ts_ns(&ts) <= after + 1500 * 1000000LL);
  mt_deadline(-1, &ts); /* no timeout: now */
  CHECK(ts_ns(&ts) >= after);
  /* ms that carry into the seconds. */
  for (int64_t ms = 990; ms < 1010; ms++) {
    mt_deadline(ms, &ts);
    CHECK(ts.tv_nsec >= 0 && ts.tv_nsec < 1000000000L);
  }
}

/* mt_cond_init's waits run on the clock mt_deadline reads: a wait to a
 * deadline 20 ms ahead ends with ETIMEDOUT at or after it (on a realtime
 * condvar the same timespec would lie decades in the past). */
static void cond_waits_on_monotonic(void) {
  pthread_mutex_t mu = PTHREAD_MUTEX_INITIALIZER;
  pthread_cond_t cv;
  mt_cond_init(&cv);
  struct timespec ts;
  mt_deadline(20, &ts);
  pthread_mutex_lock(&mu);
  int rc = 0;
  for (int i = 0; i < 1000 && rc != ETIMEDOUT; i++) {
    rc = pthread_cond_timedwait(&cv, &mu, &ts);
  }
  pthread_mutex_unlock(&mu);
  CHECK_INT_EQ(rc, ETIMEDOUT);
  CHECK(mt_now_ns() >= ts_ns(&ts));
  pthread_cond_destroy(&cv);
}

int main(void) {
  RUN_TEST(monotonic);
  RUN_TEST(wall);
  RUN_TEST(deadlines);
  RUN_TEST(cond_waits_on_monotonic);
  return mt_test_done();
}
