/* Several return values (num_returns, manta_submit_returns) on the
 * embedded runtime: N refs each with its item, errors failing all N, a
 * list of the wrong length or a non-list refused by name, refs passed on
 * as dependencies, and bad input. */
#include "test_util.h"

#include <string.h>

/* [x, x+1, ..., x+n-1] with n from the second argument. */
static manta_value *fn_range(const manta_value *const *args, size_t n,
                             void *u) {
  (void)n, (void)u;
  int64_t x = 0, len = 0;
  manta_get_int(args[0], &x);
  manta_get_int(args[1], &len);
  manta_value *l = manta_list();
  for (int64_t i = 0; i < len; i++) {
    manta_list_push(l, manta_int(x + i));
  }
  return l;
}

static manta_value *fn_fail(const manta_value *const *args, size_t n, void *u) {
  (void)args, (void)n, (void)u;
  return manta_error(MANTA_ERR_TASK_FAILED, "bad row %d", 3);
}

static manta_value *fn_scalar(const manta_value *const *args, size_t n,
                              void *u) {
  (void)args, (void)n, (void)u;
  return manta_int(5);
}

static manta_value *fn_add(const manta_value *const *args, size_t n, void *u) {
  (void)n, (void)u;
  int64_t a = 0, b = 0;
  manta_get_int(args[0], &a);
  manta_get_int(args[1], &b);
  return manta_int(a + b);
}

/* An actor counting its calls: next(k) returns [count, count + k]. */
static void *counter_new(const manta_value *const *args, size_t n, void *cd,
                         manta_value **err) {
  (void)args, (void)n, (void)cd, (void)err;
  return calloc(1, sizeof(int64_t));
}

static void counter_free(void *state, void *cd) {
  (void)cd;
  free(state);
}

static manta_value *counter_next(void *state, const manta_value *const *args,
                                 size_t n, void *md) {
  (void)n, (void)md;
  int64_t *count = state, k = 0;
  manta_get_int(args[0], &k);
  ++*count;
  manta_value *l = manta_list();
  manta_list_push(l, manta_int(*count));
  manta_list_push(l, manta_int(*count + k));
  return l;
}

static manta_call_options *returns(size_t n) {
  manta_call_options *o;
  REQUIRE_OK(manta_call_options_new(&o));
  REQUIRE_OK(manta_call_options_set_num_returns(o, n));
  return o;
}

static void start(void) {
  manta_options *o;
  REQUIRE_OK(manta_options_new(&o));
  REQUIRE_OK(manta_options_set_num_cpus(o, 2));
  REQUIRE_OK(manta_init(o));
  manta_options_free(o);
  REQUIRE_OK(manta_register_function("range", fn_range, 2, NULL));
  REQUIRE_OK(manta_register_function("fail", fn_fail, 0, NULL));
  REQUIRE_OK(manta_register_function("scalar", fn_scalar, 0, NULL));
  REQUIRE_OK(manta_register_function("add", fn_add, 2, NULL));
  REQUIRE_OK(manta_register_class("Counter", counter_new, counter_free, NULL));
  REQUIRE_OK(manta_register_method("Counter", "next", counter_next, 1, NULL));
}

/* Calls range(x, len) declared with num_returns n. */
static void submit_range(int64_t x, int64_t len, size_t n, manta_ref *out) {
  manta_call_options *o = returns(n);
  manta_value *args[2] = {manta_int(x), manta_int(len)};
  CHECK_OK(manta_submit_returns("range", (const manta_value *const *)args, 2, o,
                                out, n));
  manta_value_free(args[0]);
  manta_value_free(args[1]);
  manta_call_options_free(o);
}

static void test_each_ref_gets_its_item(void) {
  start();
  enum { N = 5 };
  manta_ref r[N];
  submit_range(10, N, N, r);
  for (int i = N - 1; i >= 0; i--) { /* any order */
    CHECK_INT_EQ(mt_test_take_int(r[i]), 10 + i);
  }
  /* Many calls, many refs each. */
  enum { CALLS = 200, K = 3 };
  static manta_ref many[CALLS][K];
  for (int c = 0; c < CALLS; c++) {
    submit_range(c * 10, K, K, many[c]);
  }
  for (int c = 0; c < CALLS; c++) {
    for (int k = 0; k < K; k++) {
      CHECK_INT_EQ(mt_test_take_int(many[c][k]), c * 10 + k);
    }
  }
  int64_t live = -1;
  CHECK_OK(manta_stat_get(MANTA_STAT_LIVE_OBJECTS, &live));
  CHECK_INT_EQ(live, 0);
  CHECK_OK(manta_shutdown());
}

static void test_one_return_through_the_new_call(void) {
  start();
  manta_ref r;
  manta_value *args[2] = {manta_int(1), manta_int(2)};
  CHECK_OK(manta_submit_returns("add", (const manta_value *const *)args, 2,
                                NULL, &r, 1));
  manta_value_free(args[0]);
  manta_value_free(args[1]);
  /* One return: the value itself, not split. */
  CHECK_INT_EQ(mt_test_take_int(r), 3);
  CHECK_OK(manta_shutdown());
}

static void check_all_fail(manta_ref *r, size_t n, manta_err kind,
                           const char *part) {
  for (size_t i = 0; i < n; i++) {
    manta_value *v = mt_test_take(r[i], 10000);
    mt_test_check_error(v, kind, part);
    manta_value_free(v);
  }
}

static void test_errors_fail_all_refs(void) {
  start();
  manta_ref r[3];
  manta_call_options *o = returns(3);
  CHECK_OK(manta_submit_returns("fail", NULL, 0, o, r, 3));
  check_all_fail(r, 3, MANTA_ERR_TASK_FAILED, "bad row 3");
  CHECK_OK(manta_submit_returns("scalar", NULL, 0, o, r, 3));
  check_all_fail(r, 3, MANTA_ERR_TYPE,
                 "returned int, not a list; num_returns 3 wants a list of 3");
  CHECK_OK(manta_submit_returns("no_such_fn", NULL, 0, o, r, 3));
  check_all_fail(r, 3, MANTA_ERR_NOT_FOUND, "no_such_fn");
  manta_call_options_free(o);
  submit_range(0, 2, 3, r);
  check_all_fail(
      r, 3, MANTA_ERR_TYPE,
      "returned a list of 2 values; num_returns 3 wants a list of 3");
  submit_range(0, 4, 3, r);
  check_all_fail(r, 3, MANTA_ERR_TYPE, "a list of 4 values");
  CHECK_OK(manta_shutdown());
}

/* A part passed on as a dependency: the next call waits for that part. */
static void test_parts_as_dependencies(void) {
  start();
  manta_ref r[2];
  submit_range(100, 2, 2, r);
  manta_value *args[2] = {manta_ref_value(r[0]), manta_ref_value(r[1])};
  manta_ref sum;
  REQUIRE_OK(
      manta_submit("add", (const manta_value *const *)args, 2, NULL, &sum));
  manta_value_free(args[0]);
  manta_value_free(args[1]);
  manta_ref_release(r[0]);
  manta_ref_release(r[1]);
  CHECK_INT_EQ(mt_test_take_int(sum), 201);
  CHECK_OK(manta_shutdown());
}

/* Actor methods: parts in call order, a wrong count fails them all. */
static void test_actor_method_parts(void) {
  start();
  manta_actor a;
  REQUIRE_OK(manta_actor_create("Counter", NULL, 0, NULL, &a));
  enum { CALLS = 10 };
  manta_ref parts[CALLS][2];
  for (int i = 0; i < CALLS; i++) {
    manta_value *k = manta_int(100);
    CHECK_OK(manta_actor_call_returns(a, "next", (const manta_value *const *)&k,
                                      1, parts[i], 2));
    manta_value_free(k);
  }
  for (int i = 0; i < CALLS; i++) {
    CHECK_INT_EQ(mt_test_take_int(parts[i][1]), i + 1 + 100);
    CHECK_INT_EQ(mt_test_take_int(parts[i][0]), i + 1);
  }
  manta_value *k = manta_int(0);
  manta_ref three[3];
  CHECK_OK(manta_actor_call_returns(a, "next", (const manta_value *const *)&k,
                                    1, three, 3));
  check_all_fail(
      three, 3, MANTA_ERR_TYPE,
      "returned a list of 2 values; num_returns 3 wants a list of 3");
  CHECK_ERR(manta_actor_call_returns(a, "next", (const manta_value *const *)&k,
                                     1, three, 0),
            MANTA_ERR_INVALID);
  manta_value_free(k);
  manta_actor_release(a);
  CHECK_OK(manta_shutdown());
}

/* Parts the program released before they were ready, and calls still
 * waiting at shutdown: nothing leaks (ASan), nothing hangs. */
static void test_released_and_shutdown(void) {
  start();
  for (int i = 0; i < 50; i++) {
    manta_ref r[4];
    submit_range(i, 4, 4, r);
    manta_ref_release(r[1]);
    manta_ref_release(r[3]);
    if (i % 2) {
      CHECK_INT_EQ(mt_test_take_int(r[0]), i);
      manta_ref_release(r[2]);
    } else {
      manta_ref_release(r[0]);
      manta_ref_release(r[2]);
    }
  }
  manta_ref keep[2];
  submit_range(7, 2, 2, keep);
  CHECK_OK(manta_shutdown());
}

static void test_bad_input(void) {
  manta_call_options *o;
  REQUIRE_OK(manta_call_options_new(&o));
  CHECK_ERR(manta_call_options_set_num_returns(o, 0), MANTA_ERR_INVALID);
  CHECK_ERR(manta_call_options_set_num_returns(o, 65537), MANTA_ERR_INVALID);
  CHECK_ERR(manta_call_options_set_num_returns(NULL, 2), MANTA_ERR_INVALID);
  CHECK_OK(manta_call_options_set_num_returns(o, 2));
  start();
  manta_ref r[3];
  /* out's room must be num_returns. */
  CHECK_ERR(manta_submit_returns("scalar", NULL, 0, o, r, 3),
            MANTA_ERR_INVALID);
  CHECK_ERR(manta_submit_returns("scalar", NULL, 0, o, NULL, 2),
            MANTA_ERR_INVALID);
  CHECK_ERR(manta_submit_returns("scalar", NULL, 0, NULL, r, 2),
            MANTA_ERR_INVALID);
  /* manta_submit gives one ref: it refuses num_returns > 1. */
  CHECK_ERR(manta_submit("scalar", NULL, 0, o, r), MANTA_ERR_INVALID);
  manta_call_options_free(o);
  CHECK_OK(manta_shutdown());
}

int main(void) {
  RUN_TEST(test_each_ref_gets_its_item);
  RUN_TEST(test_one_return_through_the_new_call);
  RUN_TEST(test_errors_fail_all_refs);
  RUN_TEST(test_parts_as_dependencies);
  RUN_TEST(test_actor_method_parts);
  RUN_TEST(test_released_and_shutdown);
  RUN_TEST(test_bad_input);
  return mt_test_done();
}
