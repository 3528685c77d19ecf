/* Actors on the embedded runtime: creation, ordered calls, named lookup,
 * kill, failures, concurrency, and destruction. */
#include "test_util.h"

#include <pthread.h>
#include <stdatomic.h>
#include <string.h>
#include <time.h>

static atomic_int live_counters;
static atomic_int in_method, max_in_method;

typedef struct counter {
  int64_t total;
} counter;

static void *counter_new(const manta_value *const *args, size_t n, void *cd,
                         manta_value **error) {
  (void)cd;
  int64_t start = 0;
  if (n > 0 && manta_get_int(args[0], &start) != MANTA_OK) {
    *error = manta_error(MANTA_ERR_TYPE, "start must be an int");
    return NULL;
  }
  if (start < 0) {
    *error = manta_error(MANTA_ERR_TASK_FAILED, "negative start %lld",
                         (long long)start);
    return NULL;
  }
  counter *c = malloc(sizeof *c);
  c->total = start;
  atomic_fetch_add(&live_counters, 1);
  return c;
}

static void counter_free(void *state, void *cd) {
  (void)cd;
  free(state);
  atomic_fetch_sub(&live_counters, 1);
}

static manta_value *counter_add(void *state, const manta_value *const *args,
                                size_t n, void *md) {
  (void)n, (void)md;
  counter *c = state;
  int64_t x = 0;
  if (manta_get_int(args[0], &x) != MANTA_OK) {
    return manta_error(MANTA_ERR_TYPE, "add takes an int");
  }
  c->total += x;
  return manta_int(c->total);
}

static manta_value *counter_get(void *state, const manta_value *const *args,
                                size_t n, void *md) {
  (void)args, (void)n, (void)md;
  return manta_int(((counter *)state)->total);
}

static manta_value *counter_slow(void *state, const manta_value *const *args,
                                 size_t n, void *md) {
  (void)state, (void)args, (void)n, (void)md;
  int now = atomic_fetch_add(&in_method, 1) + 1;
  int prev = atomic_load(&max_in_method);
  while (now > prev &&
         !atomic_compare_exchange_weak(&max_in_method, &prev, now)) {
  }
  struct timespec ts = {0, 50 * 1000000L};
  nanosleep(&ts, NULL);
  atomic_fetch_sub(&in_method, 1);
  return NULL;
}

static manta_value *fn_slow_value(const manta_value *const *args, size_t n,
                                  void *u) {
  (void)n, (void)u;
  struct timespec ts = {0, 100 * 1000000L};
  nanosleep(&ts, NULL);
  return manta_value_ref((manta_value *)args[0]);
}

/* Returns once the test opens the gate (or after 10 s). */
static atomic_int gate_open;
static manta_value *fn_gate(const manta_value *const *args, size_t n, void *u) {
  (void)args, (void)n, (void)u;
  for (int i = 0; i < 10000 && !atomic_load(&gate_open); i++) {
    struct timespec ts = {0, 1000000L};
    nanosleep(&ts, NULL);
  }
  return manta_int(10);
}

static manta_actor make_counter(int64_t start, const char *name,
                                unsigned max_conc) {
  manta_call_options *o = NULL;
  if (name || max_conc) {
    REQUIRE_OK(manta_call_options_new(&o));
    if (name) {
      REQUIRE_OK(manta_call_options_set_name(o, name));
    }
    if (max_conc) {
      REQUIRE_OK(manta_call_options_set_max_concurrency(o, max_conc));
    }
  }
  manta_value *arg = manta_int(start);
  manta_actor a = {0};
  CHECK_OK(manta_actor_create("Counter", (const manta_value *const *)&arg, 1, o,
                              &a));
  manta_value_free(arg);
  manta_call_options_free(o);
  return a;
}

static manta_ref call1(manta_actor a, const char *m, manta_value *arg) {
  manta_ref r = {0};
  CHECK_OK(manta_actor_call(a, m, (const manta_value *const *)&arg, arg ? 1 : 0,
                            &r));
  manta_value_free(arg);
  return r;
}

static manta_err take_err(manta_ref r, manta_value **err) {
  manta_value *v = NULL;
  manta_err e = manta_get(r, 10000, &v);
  manta_ref_release(r);
  if (err) {
    *err = v;
  } else {
    manta_value_free(v);
  }
  return e;
}

static void test_counter_in_order(void) {
  manta_actor a = make_counter(0, NULL, 0);
  manta_ref refs[5];
  for (int i = 0; i < 5; i++) {
    refs[i] = call1(a, "add", manta_int(i));
  }
  int64_t expect[5] = {0, 1, 3, 6, 10};
  for (int i = 0; i < 5; i++) {
    CHECK_INT_EQ(mt_test_take_int(refs[i]), expect[i]);
  }
  /* Thousands of calls keep their order. */
  enum { N = 5000 };
  static manta_ref many[N];
  for (int i = 0; i < N; i++) {
    many[i] = call1(a, "add", manta_int(1));
  }
  int ordered = 1;
  for (int i = 0; i < N; i++) {
    ordered &= mt_test_take_int(many[i]) == 11 + i;
  }
  CHECK(ordered);
  CHECK_OK(manta_actor_release(a));
}

static void test_order_waits_for_dependencies(void) {
  /* The first call waits on a slow dependency; the second must not pass. */
  manta_actor a = make_counter(0, NULL, 0);
  manta_value *ten = manta_int(10);
  manta_ref slow;
  REQUIRE_OK(manta_submit("slow_value", (const manta_value *const *)&ten, 1,
                          NULL, &slow));
  manta_value_free(ten);
  manta_ref r1 = call1(a, "add", manta_ref_value(slow));
  manta_ref r2 = call1(a, "add", manta_int(1));
  CHECK_INT_EQ(mt_test_take_int(r1), 10);
  CHECK_INT_EQ(mt_test_take_int(r2), 11);
  manta_ref_release(slow);
  manta_actor_release(a);
}

static void test_cancel_lets_later_calls_run(void) {
  /* A call held back by its dependency is cancelled: the call behind it,
   * ready all along, runs without waiting for the dependency. */
  manta_actor a = make_counter(0, NULL, 0);
  CHECK_INT_EQ(mt_test_take_int(call1(a, "get", NULL)), 0); /* constructed */
  atomic_store(&gate_open, 0);
  manta_ref gate;
  REQUIRE_OK(manta_submit("gate", NULL, 0, NULL, &gate));
  manta_ref r1 = call1(a, "add", manta_ref_value(gate));
  manta_ref r2 = call1(a, "add", manta_int(1));
  CHECK_OK(manta_cancel(r1));
  /* r2 runs while the gate, r1's dependency, is still closed. */
  CHECK_INT_EQ(mt_test_take_int(r2), 1);
  atomic_store(&gate_open, 1);
  CHECK_ERR(take_err(r1, NULL), MANTA_ERR_CANCELLED);
  manta_ref_release(gate);
  manta_actor_release(a);
}

static void test_creation_with_a_failed_dependency(void) {
  /* The constructor never runs: calls say ACTOR_DEAD with the cause, at
   * once, instead of waiting for a construction that will not come. */
  manta_value *bad = manta_error(MANTA_ERR_TASK_FAILED, "no start value");
  manta_ref failed;
  REQUIRE_OK(manta_put(bad, &failed));
  manta_value_free(bad);
  manta_value *arg = manta_ref_value(failed);
  manta_actor a;
  REQUIRE_OK(manta_actor_create("Counter", (const manta_value *const *)&arg, 1,
                                NULL, &a));
  manta_value_free(arg);
  manta_value *err = NULL;
  CHECK_ERR(take_err(call1(a, "get", NULL), &err), MANTA_ERR_ACTOR_DEAD);
  CHECK(err && strstr(manta_error_message(err), "no start value") != NULL);
  manta_value_free(err);
  CHECK_INT_EQ(atomic_load(&live_counters), 0);
  manta_ref_release(failed);
  manta_actor_release(a);
}

static void test_named_and_kill(void) {
  manta_actor a = make_counter(100, "bank", 0);
  manta_actor dup = make_counter(0, NULL, 0);
  manta_actor_release(dup);
  /* The name is taken. */
  manta_call_options *o;
  REQUIRE_OK(manta_call_options_new(&o));
  REQUIRE_OK(manta_call_options_set_name(o, "bank"));
  manta_actor b;
  CHECK_ERR(manta_actor_create("Counter", NULL, 0, o, &b), MANTA_ERR_EXISTS);
  manta_call_options_free(o);
  /* Found by name, from another handle. */
  manta_actor found;
  REQUIRE_OK(manta_actor_lookup("bank", &found));
  CHECK_INT_EQ(mt_test_take_int(call1(found, "add", manta_int(5))), 105);
  CHECK_ERR(manta_actor_lookup("nobody", &b), MANTA_ERR_NOT_FOUND);
  /* Releasing every handle keeps a named actor alive. */
  manta_actor_release(a);
  manta_actor_release(found);
  REQUIRE_OK(manta_actor_lookup("bank", &found));
  CHECK_INT_EQ(mt_test_take_int(call1(found, "get", NULL)), 105);
  /* Kill: later calls fail with ACTOR_DEAD, the name is free again. */
  CHECK_OK(manta_actor_kill(found));
  manta_value *err = NULL;
  CHECK_ERR(take_err(call1(found, "get", NULL), &err), MANTA_ERR_ACTOR_DEAD);
  CHECK(strstr(manta_error_message(err), "killed") != NULL);
  manta_value_free(err);
  CHECK_ERR(manta_actor_lookup("bank", &b), MANTA_ERR_NOT_FOUND);
  manta_actor_release(found);
  manta_actor again = make_counter(1, "bank", 0);
  CHECK_INT_EQ(mt_test_take_int(call1(again, "get", NULL)), 1);
  manta_actor_kill(again);
  manta_actor_release(again);
  CHECK_ERR(manta_actor_release(again), MANTA_ERR_BAD_HANDLE);
}

static void test_kill_fails_queued_calls(void) {
  manta_actor a = make_counter(0, NULL, 0);
  manta_ref slow = call1(a, "slow", NULL);
  struct timespec ts = {0, 10 * 1000000L};
  nanosleep(&ts, NULL);
  manta_ref queued[3];
  for (int i = 0; i < 3; i++) {
    queued[i] = call1(a, "add", manta_int(1));
  }
  CHECK_OK(manta_actor_kill(a));
  CHECK_OK(take_err(slow, NULL)); /* the running call finishes */
  for (int i = 0; i < 3; i++) {
    CHECK_ERR(take_err(queued[i], NULL), MANTA_ERR_ACTOR_DEAD);
  }
  manta_actor_release(a);
}

static void test_kill_stops_calls_of_the_same_turn(void) {
  /* The calls wait together behind the construction (its argument is not
   * ready), so one turn takes them all; the kill comes while the first
   * runs: the others are not run. */
  atomic_store(&gate_open, 0);
  manta_ref start;
  REQUIRE_OK(manta_submit("gate", NULL, 0, NULL, &start));
  manta_value *arg = manta_ref_value(start);
  manta_actor a;
  REQUIRE_OK(manta_actor_create("Counter", (const manta_value *const *)&arg, 1,
                                NULL, &a));
  manta_value_free(arg);
  manta_ref slow = call1(a, "slow", NULL);
  manta_ref later[3];
  for (int i = 0; i < 3; i++) {
    later[i] = call1(a, "add", manta_int(1));
  }
  atomic_store(&gate_open, 1);
  for (int i = 0; i < 10000 && atomic_load(&in_method) == 0; i++) {
    struct timespec ts = {0, 100000L};
    nanosleep(&ts, NULL);
  }
  CHECK_INT_EQ(atomic_load(&in_method), 1);
  CHECK_OK(manta_actor_kill(a));
  CHECK_OK(take_err(slow, NULL));
  for (int i = 0; i < 3; i++) {
    manta_value *err = NULL;
    CHECK_ERR(take_err(later[i], &err), MANTA_ERR_ACTOR_DEAD);
    CHECK(err && strstr(manta_error_message(err), "add not run") != NULL);
    manta_value_free(err);
  }
  manta_ref_release(start);
  manta_actor_release(a);
}

static void test_call_errors(void) {
  manta_actor a = make_counter(0, NULL, 0);
  manta_value *err = NULL;
  /* Unknown method: an error for the caller, the actor lives on. */
  CHECK_ERR(take_err(call1(a, "withdraw", manta_int(1)), &err),
            MANTA_ERR_NOT_FOUND);
  CHECK(strstr(manta_error_message(err), "withdraw") != NULL);
  manta_value_free(err);
  CHECK_ERR(take_err(call1(a, "add", NULL), NULL), MANTA_ERR_ARITY);
  CHECK_ERR(take_err(call1(a, "add", manta_cstring("x")), &err),
            MANTA_ERR_TYPE);
  CHECK(strcmp(manta_error_origin(err), "actor Counter.add") == 0);
  manta_value_free(err);
  CHECK_INT_EQ(mt_test_take_int(call1(a, "add", manta_int(2))), 2);
  manta_actor_release(a);
  /* Unknown class and failing constructor: calls say why it died. */
  manta_actor ghost;
  CHECK_OK(manta_actor_create("Ghost", NULL, 0, NULL, &ghost));
  CHECK_ERR(take_err(call1(ghost, "get", NULL), &err), MANTA_ERR_ACTOR_DEAD);
  const manta_value *cause = manta_error_cause(err);
  CHECK(cause && manta_error_code(cause) == MANTA_ERR_NOT_FOUND);
  manta_value_free(err);
  manta_actor_release(ghost);
  manta_actor bad = make_counter(-5, NULL, 0);
  CHECK_ERR(take_err(call1(bad, "get", NULL), &err), MANTA_ERR_ACTOR_DEAD);
  cause = manta_error_cause(err);
  CHECK(cause && manta_error_cause(cause) &&
        strstr(manta_error_message(manta_error_cause(cause)), "negative") !=
            NULL);
  manta_value_free(err);
  manta_actor_release(bad);
  manta_ref r;
  CHECK_ERR(manta_actor_call((manta_actor){77}, "get", NULL, 0, &r),
            MANTA_ERR_BAD_HANDLE);
}

static void test_max_concurrency(void) {
  atomic_store(&max_in_method, 0);
  manta_actor serial = make_counter(0, NULL, 0);
  manta_actor wide = make_counter(0, NULL, 3);
  manta_ref rs[6];
  for (int i = 0; i < 6; i++) {
    rs[i] = call1(serial, "slow", NULL);
  }
  for (int i = 0; i < 6; i++) {
    take_err(rs[i], NULL);
  }
  CHECK_INT_EQ(atomic_load(&max_in_method), 1);
  for (int i = 0; i < 6; i++) {
    rs[i] = call1(wide, "slow", NULL);
  }
  for (int i = 0; i < 6; i++) {
    take_err(rs[i], NULL);
  }
  CHECK(atomic_load(&max_in_method) > 1);
  CHECK(atomic_load(&max_in_method) <= 3);
  manta_actor_release(serial);
  manta_actor_release(wide);
}

/* Embedded, an actor cannot lose its node: the restart options are taken
 * (and checked) and change nothing (docs/fault-tolerance.md). */
static void test_restart_options_embedded(void) {
  manta_call_options *o = NULL;
  REQUIRE_OK(manta_call_options_new(&o));
  CHECK_ERR(manta_call_options_set_max_restarts(NULL, 1), MANTA_ERR_INVALID);
  CHECK_ERR(manta_call_options_set_max_restarts(o, -2), MANTA_ERR_INVALID);
  CHECK_ERR(manta_call_options_set_max_task_retries(o, -2), MANTA_ERR_INVALID);
  CHECK_OK(manta_call_options_set_max_restarts(o, -1));
  CHECK_OK(manta_call_options_set_max_task_retries(o, 3));
  manta_value *arg = manta_int(7);
  manta_actor a = {0};
  CHECK_OK(manta_actor_create("Counter", (const manta_value *const *)&arg, 1, o,
                              &a));
  manta_value_free(arg);
  manta_call_options_free(o);
  manta_value *v = NULL;
  manta_ref r = call1(a, "add", manta_int(1));
  CHECK_OK(manta_get(r, 10000, &v));
  CHECK_INT_EQ(mt_test_int(v), 8);
  manta_value_free(v);
  manta_ref_release(r);
  manta_actor_release(a);
}

static void test_destroyed_when_unreferenced(void) {
  int before = atomic_load(&live_counters);
  manta_actor a = make_counter(3, NULL, 0);
  CHECK_INT_EQ(mt_test_take_int(call1(a, "get", NULL)), 3);
  CHECK_INT_EQ(atomic_load(&live_counters), before + 1);
  /* A handle inside a value counts as a handle. */
  manta_value *held = manta_actor_value(a);
  manta_actor_release(a);
  CHECK_INT_EQ(atomic_load(&live_counters), before + 1);
  manta_value_free(held);
  CHECK_INT_EQ(atomic_load(&live_counters), before);
  int64_t actors = -1;
  CHECK_OK(manta_stat_get(MANTA_STAT_LIVE_ACTORS, &actors));
  CHECK_INT_EQ(actors, 0);
}

static void *caller_thread(void *arg) {
  manta_actor a = *(manta_actor *)arg;
  for (int i = 0; i < 200; i++) {
    manta_ref r = call1(a, "add", manta_int(1));
    manta_ref_release(r);
  }
  return NULL;
}

static void test_many_callers(void) {
  manta_actor a = make_counter(0, NULL, 0);
  pthread_t th[4];
  for (int i = 0; i < 4; i++) {
    pthread_create(&th[i], NULL, caller_thread, &a);
  }
  for (int i = 0; i < 4; i++) {
    pthread_join(th[i], NULL);
  }
  CHECK_INT_EQ(mt_test_take_int(call1(a, "get", NULL)), 800);
  manta_actor_release(a);
}

int main(void) {
  manta_options *o;
  REQUIRE_OK(manta_options_new(&o));
  REQUIRE_OK(manta_options_set_num_cpus(o, 2));
  REQUIRE_OK(manta_init(o));
  manta_options_free(o);
  REQUIRE_OK(manta_register_class("Counter", counter_new, counter_free, NULL));
  REQUIRE_OK(manta_register_method("Counter", "add", counter_add, 1, NULL));
  REQUIRE_OK(manta_register_method("Counter", "get", counter_get, 0, NULL));
  REQUIRE_OK(manta_register_method("Counter", "slow", counter_slow, 0, NULL));
  CHECK_ERR(manta_register_method("Nope", "x", counter_get, 0, NULL),
            MANTA_ERR_NOT_FOUND);
  REQUIRE_OK(manta_register_function("slow_value", fn_slow_value, 1, NULL));
  REQUIRE_OK(manta_register_function("gate", fn_gate, 0, NULL));
  RUN_TEST(test_counter_in_order);
  RUN_TEST(test_order_waits_for_dependencies);
  RUN_TEST(test_cancel_lets_later_calls_run);
  RUN_TEST(test_creation_with_a_failed_dependency);
  RUN_TEST(test_named_and_kill);
  RUN_TEST(test_kill_fails_queued_calls);
  RUN_TEST(test_kill_stops_calls_of_the_same_turn);
  RUN_TEST(test_call_errors);
  RUN_TEST(test_max_concurrency);
  RUN_TEST(test_restart_options_embedded);
  RUN_TEST(test_destroyed_when_unreferenced);
  RUN_TEST(test_many_callers);
  /* A live actor at shutdown is destroyed by it. */
  manta_actor keep = make_counter(0, "kept", 0);
  (void)keep;
  CHECK_OK(manta_shutdown());
  CHECK_INT_EQ(atomic_load(&live_counters), 0);
  int64_t live = -1;
  CHECK_OK(manta_stat_get(MANTA_STAT_LIVE_VALUES, &live));
  CHECK_INT_EQ(live, 0);
  return mt_test_done();
}
