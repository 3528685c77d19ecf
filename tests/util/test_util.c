#include "test_util.h"

#include <ftw.h>
#include <stdbool.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

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
  return mt_test_submit_get(fn, NULL, 0, opts, timeout_ms);
}

static void free_args(manta_value **args, size_t n) {
  for (size_t i = 0; i < n; i++) {
    manta_value_free(args[i]);
  }
}

manta_value *mt_test_take(manta_ref r, int64_t timeout_ms) {
  manta_value *v = NULL;
  manta_get(r, timeout_ms, &v);
  manta_ref_release(r);
  return v;
}

manta_value *mt_test_submit_get(const char *fn, manta_value **args, size_t n,
                                const manta_call_options *opts,
                                int64_t timeout_ms) {
  manta_ref r;
  REQUIRE_OK(manta_submit(fn, (const manta_value *const *)args, n, opts, &r));
  free_args(args, n);
  return mt_test_take(r, timeout_ms);
}

manta_ref mt_test_actor_call_async(manta_actor a, const char *method,
                                   manta_value **args, size_t n) {
  manta_ref r = {0};
  CHECK_OK(
      manta_actor_call(a, method, (const manta_value *const *)args, n, &r));
  free_args(args, n);
  return r;
}

manta_value *mt_test_actor_call_get(manta_actor a, const char *method,
                                    manta_value **args, size_t n,
                                    int64_t timeout_ms) {
  return mt_test_take(mt_test_actor_call_async(a, method, args, n), timeout_ms);
}

void mt_test_sleep_ms(long ms) {
  struct timespec ts = {ms / 1000, (ms % 1000) * 1000000L};
  nanosleep(&ts, NULL);
}

bool mt_test_wait_until(bool (*done)(void *arg), void *arg,
                        int64_t timeout_ms) {
  double end = mt_test_now_ms() + (double)timeout_ms;
  for (;;) {
    if (done(arg)) {
      return true;
    }
    if (mt_test_now_ms() >= end) {
      return false;
    }
    mt_test_sleep_ms(5);
  }
}

char *mt_test_tmpdir(const char *tag) {
  const char *base = getenv("TMPDIR");
  char path[4096];
  snprintf(path, sizeof path, "%s/manta_%s_XXXXXX",
           base && *base ? base : "/tmp", tag);
  REQUIRE(mkdtemp(path) != NULL);
  char *out = strdup(path);
  REQUIRE(out != NULL);
  return out;
}

static int remove_entry(const char *path, const struct stat *st, int flag,
                        struct FTW *ftw) {
  (void)st, (void)flag, (void)ftw;
  return remove(path);
}

void mt_test_rmdir(const char *path) {
  nftw(path, remove_entry, 16, FTW_DEPTH | FTW_PHYS);
}

void mt_test_touch(const char *dir, const char *name) {
  char path[4096];
  snprintf(path, sizeof path, "%s/%s", dir, name);
  FILE *f = fopen(path, "w");
  REQUIRE(f != NULL);
  fclose(f);
}

bool mt_test_wait_file(const char *dir, const char *name, int64_t timeout_ms) {
  char path[4096];
  snprintf(path, sizeof path, "%s/%s", dir, name);
  for (int64_t waited = 0; access(path, F_OK) != 0; waited += 10) {
    if (waited >= timeout_ms) {
      fprintf(stderr, "%s did not appear in %lld ms\n", path,
              (long long)timeout_ms);
      return false;
    }
    mt_test_sleep_ms(10);
  }
  return true;
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
