/* Tasks on the embedded runtime: submit, refs as dependencies, nesting,
 * resources, cancel, errors as values, init/shutdown. */
#include "test_util.h"

#include <stdatomic.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

static void start(double cpus) {
  manta_options *o;
  REQUIRE_OK(manta_options_new(&o));
  REQUIRE_OK(manta_options_set_num_cpus(o, cpus));
  REQUIRE_OK(manta_options_set_resource(o, "GPU", 1));
  REQUIRE_OK(manta_init(o));
  manta_options_free(o);
}

/* ---- functions under test ----------------------------------------------- */

static manta_value *fn_add(const manta_value *const *args, size_t n, void *u) {
  (void)u;
  int64_t sum = 0;
  for (size_t i = 0; i < n; i++) {
    int64_t x;
    if (manta_get_int(args[i], &x) != MANTA_OK) {
      return manta_error(MANTA_ERR_TYPE, "argument %zu is not an int", i);
    }
    sum += x;
  }
  return manta_int(sum);
}

static manta_value *fn_fail(const manta_value *const *args, size_t n, void *u) {
  (void)args, (void)n, (void)u;
  return manta_error(MANTA_ERR_TASK_FAILED, "division by zero in row %d", 7);
}

static manta_value *fn_sleep(const manta_value *const *args, size_t n,
                             void *u) {
  (void)n, (void)u;
  int64_t ms = 0;
  manta_get_int(args[0], &ms);
  mt_test_sleep_ms((int)ms);
  return manta_int(ms);
}

/* Returns 7 once the test opens the gate (at most 30 s later): a call
 * that cannot finish before the test says so, however loaded the
 * machine. */
static atomic_bool gate_open;

static manta_value *fn_gate(const manta_value *const *args, size_t n, void *u) {
  (void)args, (void)n, (void)u;
  for (int i = 0; i < 3000 && !atomic_load(&gate_open); i++) {
    mt_test_sleep_ms(10);
  }
  return manta_int(7);
}

static manta_value *fn_kind(const manta_value *const *args, size_t n, void *u) {
  (void)n, (void)u;
  return manta_cstring(manta_kind_name(manta_value_kind(args[0])));
}

/* fib(n) = fib(n-1) + fib(n-2), each level a nested task that waits. */
static manta_value *fn_fib(const manta_value *const *args, size_t n, void *u) {
  (void)n, (void)u;
  int64_t k = 0;
  manta_get_int(args[0], &k);
  if (k < 2) {
    return manta_int(k);
  }
  manta_value *a = manta_int(k - 1), *b = manta_int(k - 2);
  manta_ref r[2];
  manta_err e1 =
      manta_submit("fib", (const manta_value *const *)&a, 1, NULL, &r[0]);
  manta_err e2 =
      manta_submit("fib", (const manta_value *const *)&b, 1, NULL, &r[1]);
  manta_value_free(a);
  manta_value_free(b);
  if (e1 != MANTA_OK || e2 != MANTA_OK) {
    return manta_error(e1 != MANTA_OK ? e1 : e2, "submit failed");
  }
  manta_value *out[2];
  manta_err err = manta_get_many(r, 2, MANTA_FOREVER, out);
  manta_ref_release(r[0]);
  manta_ref_release(r[1]);
  manta_value *res;
  if (err != MANTA_OK) {
    res = manta_error(err, "child failed");
  } else {
    int64_t x = 0, y = 0;
    manta_get_int(out[0], &x);
    manta_get_int(out[1], &y);
    res = manta_int(x + y);
  }
  manta_value_free(out[0]);
  manta_value_free(out[1]);
  return res;
}

static void register_all(void) {
  REQUIRE_OK(manta_register_function("add", fn_add, -1, NULL));
  REQUIRE_OK(manta_register_function("fail", fn_fail, 0, NULL));
  REQUIRE_OK(manta_register_function("sleep_ms", fn_sleep, 1, NULL));
  REQUIRE_OK(manta_register_function("kind", fn_kind, 1, NULL));
  REQUIRE_OK(manta_register_function("gate", fn_gate, 0, NULL));
  REQUIRE_OK(manta_register_function("fib", fn_fib, 1, NULL));
}

static manta_ref submit1(const char *fn, manta_value *arg) {
  manta_ref r = {0};
  CHECK_OK(manta_submit(fn, (const manta_value *const *)&arg, arg ? 1 : 0, NULL,
                        &r));
  manta_value_free(arg);
  return r;
}

/* ---- tests -------------------------------------------------------------- */

static void test_lifecycle(void) {
  CHECK(!manta_is_initialized());
  manta_ref r;
  manta_value *v = manta_int(1);
  CHECK_ERR(manta_put(v, &r), MANTA_ERR_NOT_INITIALIZED);
  CHECK_ERR(manta_shutdown(), MANTA_ERR_NOT_INITIALIZED);
  start(2);
  CHECK_ERR(manta_init(NULL), MANTA_ERR_ALREADY_INITIALIZED);
  REQUIRE_OK(manta_put(v, &r));
  CHECK_OK(manta_shutdown());
  /* A ref from before a restart is stale, never confused with a new one. */
  start(2);
  manta_value *got = NULL;
  CHECK_ERR(manta_get(r, 0, &got), MANTA_ERR_BAD_HANDLE);
  CHECK(manta_error_code(got) == MANTA_ERR_BAD_HANDLE);
  manta_value_free(got);
  CHECK_OK(manta_shutdown());
  manta_value_free(v);
}

static void test_submit_and_get(void) {
  manta_value *args[3] = {manta_int(1), manta_int(2), manta_int(39)};
  manta_ref r;
  REQUIRE_OK(
      manta_submit("add", (const manta_value *const *)args, 3, NULL, &r));
  CHECK_INT_EQ(mt_test_take_int(r), 42);
  /* Arguments are frozen by the submit: the task reads what was sent. */
  manta_value *l = manta_list();
  REQUIRE_OK(manta_submit("kind", (const manta_value *const *)&l, 1, NULL, &r));
  CHECK_ERR(manta_list_push(l, manta_int(1)), MANTA_ERR_FROZEN);
  manta_value_free(l);
  manta_ref_release(r);
  for (int i = 0; i < 3; i++) {
    manta_value_free(args[i]);
  }
  /* Many at once, read back in order. */
  enum { N = 2000 };
  static manta_ref refs[N];
  for (int i = 0; i < N; i++) {
    refs[i] = submit1("add", manta_int(i));
  }
  static manta_value *vals[N];
  CHECK_OK(manta_get_many(refs, N, 10000, vals));
  int ok = 1;
  for (int i = 0; i < N; i++) {
    int64_t x = -1;
    manta_get_int(vals[i], &x);
    ok &= x == i;
    manta_value_free(vals[i]);
    manta_ref_release(refs[i]);
  }
  CHECK(ok);
}

static void test_errors_are_values(void) {
  manta_value *v = NULL;
  /* Unknown function. */
  manta_ref r = submit1("no_such_fn", NULL);
  CHECK_ERR(manta_get(r, 1000, &v), MANTA_ERR_NOT_FOUND);
  CHECK(strstr(manta_error_message(v), "no_such_fn") != NULL);
  manta_value_free(v);
  manta_ref_release(r);
  /* Wrong argument count. */
  r = submit1("sleep_ms", NULL);
  CHECK_ERR(manta_get(r, 1000, &v), MANTA_ERR_ARITY);
  CHECK(strstr(manta_error_message(v), "takes 1") != NULL);
  manta_value_free(v);
  manta_ref_release(r);
  /* A failing function: its own kind and message, and where. */
  r = submit1("fail", NULL);
  CHECK_ERR(manta_get(r, 1000, &v), MANTA_ERR_TASK_FAILED);
  CHECK(strcmp(manta_error_message(v), "division by zero in row 7") == 0);
  CHECK(strcmp(manta_error_origin(v), "function fail") == 0);
  manta_value_free(v);
  /* A failed ref as argument fails the dependent, cause attached. */
  manta_value *dep = manta_ref_value(r);
  manta_ref r2 = submit1("add", dep);
  CHECK_ERR(manta_get(r2, 1000, &v), MANTA_ERR_DEPENDENCY);
  const manta_value *cause = manta_error_cause(v);
  CHECK(cause != NULL);
  CHECK(manta_error_code(cause) == MANTA_ERR_TASK_FAILED);
  CHECK(strcmp(manta_error_message(cause), "division by zero in row 7") == 0);
  manta_value_free(v);
  manta_ref_release(r2);
  manta_ref_release(r);
  /* Timeout: an error value too, and the ref stays usable. The call
   * waits for the gate: a sleep could end before a get delayed by a
   * loaded machine started waiting. */
  atomic_store(&gate_open, false);
  r = submit1("gate", NULL);
  CHECK_ERR(manta_get(r, 20, &v), MANTA_ERR_TIMEOUT);
  CHECK(manta_error_code(v) == MANTA_ERR_TIMEOUT);
  manta_value_free(v);
  atomic_store(&gate_open, true);
  CHECK_INT_EQ(mt_test_take_int(r), 7);
  /* Bad calls fail at once. */
  CHECK_ERR(manta_submit(NULL, NULL, 0, NULL, &r), MANTA_ERR_INVALID);
  CHECK_ERR(manta_get((manta_ref){12345}, 0, &v), MANTA_ERR_BAD_HANDLE);
  manta_value_free(v);
  CHECK_ERR(manta_ref_release((manta_ref){0xdeadbeef}), MANTA_ERR_BAD_HANDLE);
}

static void test_refs_as_arguments(void) {
  /* The dependent starts only after its inputs, and gets their values. */
  manta_ref a = submit1("sleep_ms", manta_int(100));
  manta_ref b = submit1("sleep_ms", manta_int(50));
  manta_value *args[3] = {manta_ref_value(a), manta_ref_value(b), manta_int(1)};
  manta_ref sum;
  REQUIRE_OK(
      manta_submit("add", (const manta_value *const *)args, 3, NULL, &sum));
  for (int i = 0; i < 3; i++) {
    manta_value_free(args[i]);
  }
  manta_ref_release(a);
  manta_ref_release(b); /* the task keeps them alive */
  CHECK_INT_EQ(mt_test_take_int(sum), 151);
  /* A ref inside a list is passed as a ref, not resolved. */
  manta_ref p;
  manta_value *x = manta_int(5);
  REQUIRE_OK(manta_put(x, &p));
  manta_value_free(x);
  manta_value *list = manta_list();
  manta_list_push(list, manta_ref_value(p));
  manta_ref k = submit1("kind", list);
  manta_value *v = NULL;
  REQUIRE_OK(manta_get(k, 1000, &v));
  const char *s = NULL;
  size_t len = 0;
  CHECK_OK(manta_get_string(v, &s, &len));
  CHECK(s && strcmp(s, "list") == 0);
  manta_value_free(v);
  manta_ref_release(k);
  /* At top level the same ref is resolved to its value. */
  k = submit1("kind", manta_ref_value(p));
  REQUIRE_OK(manta_get(k, 1000, &v));
  CHECK_OK(manta_get_string(v, &s, &len));
  CHECK(s && strcmp(s, "int") == 0);
  manta_value_free(v);
  manta_ref_release(k);
  manta_ref_release(p);
}

static void test_nested_deeper_than_pool(void) {
  /* fib(12) keeps far more tasks blocked in get than there are slots. */
  manta_ref r = submit1("fib", manta_int(12));
  CHECK_INT_EQ(mt_test_take_int(r), 144);
  int64_t threads = 0;
  CHECK_OK(manta_stat_get(MANTA_STAT_WORKER_THREADS, &threads));
  CHECK(threads > 2); /* blocked workers were replaced */
}

static void test_wait(void) {
  /* Zero CPUs each, so all four sleep at once on the 2-slot node. */
  manta_call_options *o;
  REQUIRE_OK(manta_call_options_new(&o));
  REQUIRE_OK(manta_call_options_set_num_cpus(o, 0));
  manta_ref refs[4];
  int delays[4] = {400, 10, 400, 20};
  for (int i = 0; i < 4; i++) {
    manta_value *d = manta_int(delays[i]);
    REQUIRE_OK(manta_submit("sleep_ms", (const manta_value *const *)&d, 1, o,
                            &refs[i]));
    manta_value_free(d);
  }
  manta_call_options_free(o);
  manta_ref ready[4], not_ready[4];
  size_t nr = 0, nn = 0;
  CHECK_OK(manta_wait(refs, 4, 2, 5000, ready, &nr, not_ready, &nn));
  CHECK_INT_EQ(nr, 2);
  CHECK_INT_EQ(nn, 2);
  /* Input order is kept in both lists. */
  CHECK(ready[0].id == refs[1].id && ready[1].id == refs[3].id);
  CHECK(not_ready[0].id == refs[0].id && not_ready[1].id == refs[2].id);
  /* A timeout is not an error for wait. */
  CHECK_OK(manta_wait(refs, 4, 4, 10, ready, &nr, not_ready, &nn));
  CHECK(nr < 4);
  CHECK_ERR(manta_wait(refs, 4, 5, 10, ready, &nr, not_ready, &nn),
            MANTA_ERR_INVALID);
  CHECK_OK(manta_wait(refs, 4, 4, MANTA_FOREVER, ready, &nr, not_ready, &nn));
  CHECK_INT_EQ(nr, 4);
  for (int i = 0; i < 4; i++) {
    manta_ref_release(refs[i]);
  }
}

static void test_resources(void) {
  double total = 0, avail = 0;
  CHECK_OK(manta_resource_get("GPU", &total, &avail));
  CHECK(total == 1 && avail == 1);
  CHECK_ERR(manta_resource_get("TPU", &total, &avail), MANTA_ERR_NOT_FOUND);
  manta_call_options *o;
  REQUIRE_OK(manta_call_options_new(&o));
  /* More CPUs than the node has: an error, not a hang. */
  CHECK_OK(manta_call_options_set_num_cpus(o, 64));
  manta_value *arg = manta_int(1);
  manta_ref r;
  REQUIRE_OK(
      manta_submit("sleep_ms", (const manta_value *const *)&arg, 1, o, &r));
  manta_value *v = NULL;
  CHECK_ERR(manta_get(r, 1000, &v), MANTA_ERR_INFEASIBLE);
  manta_value_free(v);
  manta_ref_release(r);
  /* A resource the node lacks. */
  CHECK_OK(manta_call_options_set_num_cpus(o, 1));
  CHECK_OK(manta_call_options_set_resource(o, "TPU", 1));
  REQUIRE_OK(
      manta_submit("sleep_ms", (const manta_value *const *)&arg, 1, o, &r));
  CHECK_ERR(manta_get(r, 1000, &v), MANTA_ERR_INFEASIBLE);
  CHECK(strstr(manta_error_message(v), "TPU") != NULL);
  manta_value_free(v);
  manta_ref_release(r);
  manta_call_options_free(o);
  /* One GPU: two GPU tasks run one after the other. */
  REQUIRE_OK(manta_call_options_new(&o));
  CHECK_OK(manta_call_options_set_resource(o, "GPU", 1));
  manta_value_free(arg);
  arg = manta_int(150);
  manta_ref g1, g2;
  double t0 = mt_test_now_ms();
  REQUIRE_OK(
      manta_submit("sleep_ms", (const manta_value *const *)&arg, 1, o, &g1));
  REQUIRE_OK(
      manta_submit("sleep_ms", (const manta_value *const *)&arg, 1, o, &g2));
  mt_test_sleep_ms(50);
  CHECK_OK(manta_resource_get("GPU", &total, &avail));
  CHECK(avail == 0);
  CHECK_INT_EQ(mt_test_take_int(g1), 150);
  CHECK_INT_EQ(mt_test_take_int(g2), 150);
  CHECK(mt_test_now_ms() - t0 >= 290); /* serialized by the resource */
  CHECK_OK(manta_resource_get("GPU", &total, &avail));
  CHECK(avail == 1);
  manta_call_options_free(o);
  manta_value_free(arg);
}

static void test_cancel(void) {
  /* Fill both CPU slots, then cancel a task still queued. */
  manta_ref busy[2];
  for (int i = 0; i < 2; i++) {
    busy[i] = submit1("sleep_ms", manta_int(200));
  }
  mt_test_sleep_ms(30);
  manta_ref q = submit1("sleep_ms", manta_int(1));
  CHECK_OK(manta_cancel(q));
  manta_value *v = NULL;
  CHECK_ERR(manta_get(q, 1000, &v), MANTA_ERR_CANCELLED);
  manta_value_free(v);
  CHECK_ERR(manta_cancel(q), MANTA_ERR_INVALID); /* already resolved */
  /* A task waiting on a dependency can be cancelled. */
  manta_value *dep = manta_ref_value(busy[0]);
  manta_ref w = submit1("add", dep);
  CHECK_OK(manta_cancel(w));
  CHECK_ERR(manta_get(w, 1000, &v), MANTA_ERR_CANCELLED);
  manta_value_free(v);
  manta_ref_release(w);
  manta_ref_release(q);
  /* A running one is asked to stop (test_cancel_running.c): sleep_ms does
   * not look, runs to its end, and its ref says CANCELLED all the same. */
  CHECK_OK(manta_cancel(busy[0]));
  CHECK_ERR(manta_get(busy[0], 5000, &v), MANTA_ERR_CANCELLED);
  manta_value_free(v);
  manta_ref_release(busy[0]);
  CHECK_INT_EQ(mt_test_take_int(busy[1]), 200);
}

static void test_objects_freed(void) {
  int64_t objs0 = 0, bytes0 = 0, objs = 0, bytes = 0;
  CHECK_OK(manta_stat_get(MANTA_STAT_LIVE_OBJECTS, &objs0));
  CHECK_OK(manta_stat_get(MANTA_STAT_LIVE_OBJECT_BYTES, &bytes0));
  static char big[1 << 20];
  memset(big, 7, sizeof big);
  manta_value *b = manta_bytes(big, sizeof big);
  manta_ref r, r2;
  REQUIRE_OK(manta_put(b, &r));
  manta_value_free(b);
  CHECK_OK(manta_stat_get(MANTA_STAT_LIVE_OBJECTS, &objs));
  CHECK_OK(manta_stat_get(MANTA_STAT_LIVE_OBJECT_BYTES, &bytes));
  CHECK_INT_EQ(objs, objs0 + 1);
  CHECK_INT_EQ(bytes, bytes0 + (1 << 20));
  /* A second count keeps it alive; a ref inside a value counts too. */
  CHECK_OK(manta_ref_clone(r, &r2));
  manta_value *holder = manta_ref_value(r);
  CHECK_OK(manta_ref_release(r));
  CHECK_OK(manta_ref_release(r2));
  CHECK_OK(manta_stat_get(MANTA_STAT_LIVE_OBJECTS, &objs));
  CHECK_INT_EQ(objs, objs0 + 1);
  manta_value_free(holder);
  CHECK_OK(manta_stat_get(MANTA_STAT_LIVE_OBJECTS, &objs));
  CHECK_OK(manta_stat_get(MANTA_STAT_LIVE_OBJECT_BYTES, &bytes));
  CHECK_INT_EQ(objs, objs0);
  CHECK_INT_EQ(bytes, bytes0);
  manta_value *v = NULL;
  CHECK_ERR(manta_get(r, 0, &v), MANTA_ERR_BAD_HANDLE);
  manta_value_free(v);
  /* Task results too: released refs leave nothing behind. */
  for (int i = 0; i < 100; i++) {
    manta_ref t = submit1("add", manta_int(i));
    manta_ref_release(t); /* before or after it ran */
  }
  manta_ref last = submit1("add", manta_int(0));
  CHECK_INT_EQ(mt_test_take_int(last), 0);
  for (int i = 0; i < 100; i++) {
    CHECK_OK(manta_stat_get(MANTA_STAT_LIVE_OBJECTS, &objs));
    if (objs == objs0) {
      break;
    }
    mt_test_sleep_ms(10);
  }
  CHECK_INT_EQ(objs, objs0);
}

static void test_shutdown_with_work_in_flight(void) {
  start(1);
  register_all();
  manta_ref running = submit1("sleep_ms", manta_int(100));
  mt_test_sleep_ms(20);
  manta_ref queued = submit1("sleep_ms", manta_int(100));
  manta_value *dep = manta_ref_value(queued);
  manta_ref waiting = submit1("add", dep);
  int64_t values_before = 0;
  CHECK_OK(manta_shutdown());
  CHECK_ERR(manta_get(running, 0, NULL), MANTA_ERR_NOT_INITIALIZED);
  (void)waiting;
  CHECK_OK(manta_stat_get(MANTA_STAT_LIVE_VALUES, &values_before));
  CHECK_INT_EQ(values_before, 0);
}

int main(void) {
  RUN_TEST(test_lifecycle);
  start(2);
  register_all();
  RUN_TEST(test_submit_and_get);
  RUN_TEST(test_errors_are_values);
  RUN_TEST(test_refs_as_arguments);
  RUN_TEST(test_nested_deeper_than_pool);
  RUN_TEST(test_wait);
  RUN_TEST(test_resources);
  RUN_TEST(test_cancel);
  RUN_TEST(test_objects_freed);
  CHECK_OK(manta_shutdown());
  int64_t live = -1;
  CHECK_OK(manta_stat_get(MANTA_STAT_LIVE_VALUES, &live));
  CHECK_INT_EQ(live, 0);
  RUN_TEST(test_shutdown_with_work_in_flight);
  return mt_test_done();
}
