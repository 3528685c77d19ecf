#include "test_util.h"

#include <stdbool.h>
#include <string.h>
#include <time.h>

_Atomic int mt_test_failures;
_Atomic int mt_test_checks;
static int tests_passed;
static int tests_failed;

void mt_test_run(const char *name, void (*fn)(void)) {
  int before = mt_test_failures;
  fprintf(stderr, "-- %s\n", name);
  fn();
  if (mt_test_failures == before) {
    tests_passed++;
  } else {
    tests_failed++;
    fprintf(stderr, "-- %s FAILED\n", name);
  }
}

int mt_test_done(void) {
  printf("%d passed, %d failed\n", tests_passed, tests_failed);
  return tests_failed == 0 && mt_test_failures == 0 ? 0 : 1;
}

void mt_test_print_value(const char *label, int index, const manta_value *v) {
  char *r = v ? manta_value_repr(v) : NULL;
  fprintf(stderr, "%s %d: %s\n", label, index, r ? r : "NULL");
  manta_free(r);
}

int64_t mt_test_int(const manta_value *v) {
  int64_t i = INT64_MIN;
  if (manta_get_int(v, &i) != MANTA_OK) {
    char *r = v ? manta_value_repr(v) : NULL;
    fprintf(stderr, "expected an int, got %s\n", r ? r : "NULL");
    manta_free(r);
    mt_test_failures++;
  }
  return i;
}

int64_t mt_test_take_int(manta_ref r) {
  manta_value *v = NULL;
  CHECK_OK(manta_get(r, 10000, &v));
  int64_t x = mt_test_int(v);
  manta_value_free(v);
  manta_ref_release(r);
  return x;
}

manta_value *mt_test_new_actor_ask(const char *cls,
                                   const manta_call_options *opts,
                                   const char *method) {
  manta_actor a;
  manta_ref r;
  manta_value *v = NULL;
  REQUIRE_OK(manta_actor_create(cls, NULL, 0, opts, &a));
  REQUIRE_OK(manta_actor_call(a, method, NULL, 0, &r));
  manta_get(r, 30000, &v);
  manta_ref_release(r);
  manta_actor_release(a);
  return v;
}

double mt_test_now_ms(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (double)ts.tv_sec * 1e3 + (double)ts.tv_nsec / 1e6;
}

manta_value *mt_test_call(const char *fn, const manta_call_options *opts,
                          int64_t timeout_ms) {
  manta_ref r;
  manta_value *v = NULL;
  REQUIRE_OK(manta_submit(fn, NULL, 0, opts, &r));
  manta_get(r, timeout_ms, &v);
  manta_ref_release(r);
  return v;
}

void mt_test_check_error(const manta_value *v, manta_err kind,
                         const char *part) {
  bool ok = v && manta_value_kind(v) == MANTA_KIND_ERROR &&
            manta_error_code(v) == kind &&
            strstr(manta_error_message(v), part) != NULL;
  CHECK(ok);
  if (!ok) {
    fprintf(stderr, "expected %s with '%s'\n", manta_errname(kind), part);
    mt_test_print_value("got", 0, v);
  }
}
