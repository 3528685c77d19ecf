/* Completion callbacks (manta_when_ready) on the embedded runtime: each
 * fires exactly once with the right value or error, on refs ready already,
 * on failing tasks, on refs the program released, and at shutdown. */
#include "test_util.h"

#include <pthread.h>
#include <string.h>

static manta_value *fn_twice(const manta_value *const *args, size_t n,
                             void *u) {
  (void)n, (void)u;
  int64_t x = 0;
  manta_get_int(args[0], &x);
  return manta_int(2 * x);
}

static manta_value *fn_fail(const manta_value *const *args, size_t n, void *u) {
  (void)args, (void)n, (void)u;
  return manta_error(MANTA_ERR_TASK_FAILED, "no such row %d", 7);
}

static atomic_bool gate;

/* Holds its worker until the test opens the gate (10 s at most). */
static manta_value *fn_hold(const manta_value *const *args, size_t n, void *u) {
  (void)args, (void)n, (void)u;
  for (int i = 0; i < 10000 && !atomic_load(&gate); i++) {
    mt_test_sleep_ms(1);
  }
  return manta_int(1);
}

static void start(double cpus) {
  manta_options *o;
  REQUIRE_OK(manta_options_new(&o));
  REQUIRE_OK(manta_options_set_num_cpus(o, cpus));
  REQUIRE_OK(manta_init(o));
  manta_options_free(o);
  REQUIRE_OK(manta_register_function("twice", fn_twice, 1, NULL));
  REQUIRE_OK(manta_register_function("fail", fn_fail, 0, NULL));
  REQUIRE_OK(manta_register_function("hold", fn_hold, 0, NULL));
}

static manta_ref submit_int(const char *fn, int64_t x) {
  manta_value *a = manta_int(x);
  manta_ref r = {0};
  REQUIRE_OK(manta_submit(fn, (const manta_value *const *)&a, 1, NULL, &r));
  manta_value_free(a);
  return r;
}

/* ---- one record per callback -------------------------------------------- */

#define MANY 1000

typedef struct slot {
  atomic_int calls;
  manta_err err;
  int64_t value;
  bool get_agreed;  /* manta_get on the ref, from inside, gave the same */
  bool call_get;    /* whether to try that (the program holds the ref) */
  pthread_t thread; /* where it ran */
} slot;

static slot slots[MANY];
static atomic_int fired;

static void on_ready(void *arg, manta_ref ref, manta_err err,
                     manta_value *value) {
  slot *s = arg;
  s->err = err;
  s->value = INT64_MIN;
  manta_get_int(value, &s->value);
  s->thread = pthread_self();
  if (s->call_get) {
    manta_value *again = NULL;
    manta_err e = manta_get(ref, 0, &again);
    s->get_agreed = e == err && manta_value_equal(again, value);
    manta_value_free(again);
  }
  atomic_fetch_add(&s->calls, 1); /* last: the test reads the rest after */
  atomic_fetch_add(&fired, 1);
}

static void reset(void) {
  memset(slots, 0, sizeof slots);
  atomic_store(&fired, 0);
}

static bool fired_at_least(void *arg) {
  return atomic_load(&fired) >= *(int *)arg;
}

/* ---- tests -------------------------------------------------------------- */

static void test_many_refs_each_once(void) {
  start(2);
  reset();
  manta_ref refs[MANY];
  for (int i = 0; i < MANY; i++) {
    refs[i] = submit_int("twice", i);
    slots[i].call_get = true;
    CHECK_OK(manta_when_ready(refs[i], on_ready, &slots[i]));
  }
  int want = MANY;
  CHECK(mt_test_wait_until(fired_at_least, &want, 30000));
  for (int i = 0; i < MANY; i++) {
    CHECK_INT_EQ(atomic_load(&slots[i].calls), 1);
    CHECK_ERR(slots[i].err, MANTA_OK);
    CHECK_INT_EQ(slots[i].value, 2 * i);
    CHECK(slots[i].get_agreed);
    manta_ref_release(refs[i]);
  }
  CHECK_OK(manta_shutdown());
  CHECK_INT_EQ(atomic_load(&fired), MANY); /* none fired twice at the end */
}

static void test_ready_already_runs_on_caller(void) {
  start(1);
  reset();
  manta_value *v = manta_int(41);
  manta_ref r;
  REQUIRE_OK(manta_put(v, &r));
  manta_value_free(v);
  slots[0].call_get = true;
  CHECK_OK(manta_when_ready(r, on_ready, &slots[0]));
  /* Ran before manta_when_ready returned, here. */
  CHECK_INT_EQ(atomic_load(&slots[0].calls), 1);
  CHECK(pthread_equal(slots[0].thread, pthread_self()));
  CHECK_INT_EQ(slots[0].value, 41);
  CHECK(slots[0].get_agreed);
  manta_ref_release(r);
  CHECK_OK(manta_shutdown());
}

static manta_value *kept_error;

static void keep_error(void *arg, manta_ref ref, manta_err err,
                       manta_value *value) {
  (void)ref;
  *(manta_err *)arg = err;
  kept_error = manta_value_ref(value);
  atomic_fetch_add(&fired, 1);
}

static void test_failing_task_delivers_error(void) {
  start(1);
  reset();
  manta_ref r;
  REQUIRE_OK(manta_submit("fail", NULL, 0, NULL, &r));
  manta_err err = MANTA_OK;
  CHECK_OK(manta_when_ready(r, keep_error, &err));
  int want = 1;
  CHECK(mt_test_wait_until(fired_at_least, &want, 10000));
  CHECK_ERR(err, MANTA_ERR_TASK_FAILED);
  mt_test_check_error(kept_error, MANTA_ERR_TASK_FAILED, "no such row 7");
  manta_value_free(kept_error);
  kept_error = NULL;
  manta_ref_release(r);
  CHECK_OK(manta_shutdown());
}

/* The runtime keeps the object for the callback: the program may let go of
 * its ref at once. */
static void test_released_ref_still_delivers(void) {
  start(2);
  reset();
  for (int i = 0; i < 100; i++) {
    manta_ref r = submit_int("twice", i + 1000);
    CHECK_OK(manta_when_ready(r, on_ready, &slots[i]));
    CHECK_OK(manta_ref_release(r));
  }
  int want = 100;
  CHECK(mt_test_wait_until(fired_at_least, &want, 30000));
  for (int i = 0; i < 100; i++) {
    CHECK_INT_EQ(atomic_load(&slots[i].calls), 1);
    CHECK_INT_EQ(slots[i].value, 2 * (i + 1000));
  }
  int64_t live = -1;
  CHECK_OK(manta_stat_get(MANTA_STAT_LIVE_OBJECTS, &live));
  CHECK_INT_EQ(live, 0);
  CHECK_OK(manta_shutdown());
}

/* Opens the gate once shutdown has begun (submits refused), so the running
 * task can finish and shutdown can join its worker. */
static void *open_when_shutting_down(void *arg) {
  (void)arg;
  for (int i = 0; i < 10000; i++) {
    manta_ref r;
    manta_err e = manta_submit("fail", NULL, 0, NULL, &r);
    if (e != MANTA_OK) {
      break; /* SHUTDOWN or NOT_INITIALIZED: shutdown has begun */
    }
    manta_ref_release(r);
    mt_test_sleep_ms(1);
  }
  atomic_store(&gate, true);
  return NULL;
}

/* Callbacks still waiting when the runtime stops are called once each, with
 * MANTA_ERR_SHUTDOWN (or OK for work that finished first); none is lost,
 * none leaks (ASan). */
static void test_shutdown_with_callbacks_pending(void) {
  enum { N = 50 };
  start(1);
  reset();
  atomic_store(&gate, false);
  manta_ref hold;
  REQUIRE_OK(manta_submit("hold", NULL, 0, NULL, &hold));
  CHECK_OK(manta_when_ready(hold, on_ready, &slots[0]));
  manta_ref_release(hold);
  for (int i = 1; i < N; i++) {
    manta_ref r = submit_int("twice", i);
    CHECK_OK(manta_when_ready(r, on_ready, &slots[i]));
    manta_ref_release(r);
  }
  pthread_t opener;
  REQUIRE(pthread_create(&opener, NULL, open_when_shutting_down, NULL) == 0);
  CHECK_OK(manta_shutdown());
  pthread_join(opener, NULL);
  CHECK_INT_EQ(atomic_load(&fired), N);
  int shut = 0;
  for (int i = 0; i < N; i++) {
    CHECK_INT_EQ(atomic_load(&slots[i].calls), 1);
    CHECK(slots[i].err == MANTA_OK || slots[i].err == MANTA_ERR_SHUTDOWN);
    if (slots[i].err == MANTA_OK) {
      CHECK_INT_EQ(slots[i].value, i == 0 ? 1 : 2 * i);
    } else {
      shut++;
    }
  }
  fprintf(stderr, "  %d of %d callbacks saw MANTA_ERR_SHUTDOWN\n", shut, N);
}

static void test_bad_input(void) {
  manta_ref none = {12345};
  CHECK_ERR(manta_when_ready(none, on_ready, NULL), MANTA_ERR_NOT_INITIALIZED);
  start(1);
  CHECK_ERR(manta_when_ready(none, on_ready, NULL), MANTA_ERR_BAD_HANDLE);
  manta_value *v = manta_int(1);
  manta_ref r;
  REQUIRE_OK(manta_put(v, &r));
  manta_value_free(v);
  CHECK_ERR(manta_when_ready(r, NULL, NULL), MANTA_ERR_INVALID);
  manta_ref_release(r);
  CHECK_OK(manta_shutdown());
}

int main(void) {
  RUN_TEST(test_many_refs_each_once);
  RUN_TEST(test_ready_already_runs_on_caller);
  RUN_TEST(test_failing_task_delivers_error);
  RUN_TEST(test_released_ref_still_delivers);
  RUN_TEST(test_shutdown_with_callbacks_pending);
  RUN_TEST(test_bad_input);
  return mt_test_done();
}
