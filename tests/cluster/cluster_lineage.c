/*
 * The lineage phase of the cluster driver (run-lineage-test.sh):
 *
 *   lineage  node x alone offers the functions; results too large to travel
 *            inline stay there: one object on its own (D), a chain A ->
 *            B = step(A), a put made on x, and an object whose lineage is
 *            larger than MANTA_LINEAGE_MEMORY (E, evicted at once). The
 *            script then starts node y; this driver kills x with SIGKILL
 *            and gets each: D and B come back rebuilt on y with the same
 *            bytes (three tasks run again: D, B and A under it), the put
 *            and E resolve to OBJECT_LOST saying why they cannot be
 *            rebuilt. Before any get, a task pinned to y is given D: y
 *            asks this driver to rebuild it and runs with it; given the
 *            put or E, the task fails saying why they cannot be.
 *
 * The handshake with the script goes through files in MANTA_TEST_SYNC_DIR:
 * this driver writes "prepared" and waits (bounded) for "go".
 */
#include "cluster_driver.h"

#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#define BIG_A (4u << 20)
#define BIG_D ((3u << 20) + 5)
#define SMALL_E (100u << 10)

/* make_bytes' pattern (cluster_module.c). */
static unsigned char made(size_t i) {
  return (unsigned char)(i * 31 + 7);
}

/* step_bytes' byte. */
static unsigned char stepped(unsigned char b) {
  return (unsigned char)(b * 3 + 1);
}

static manta_ref submit(const char *fn, manta_value **args, size_t n) {
  manta_ref r = {0};
  REQUIRE_OK(manta_submit(fn, (const manta_value *const *)args, n, NULL, &r));
  for (size_t i = 0; i < n; i++) {
    manta_value_free(args[i]);
  }
  return r;
}

/* Checks that v is bytes of len where byte i is want(i, arg). */
static void check_bytes(const char *what, const manta_value *v, size_t len,
                        unsigned char (*want)(size_t, size_t), size_t arg) {
  const void *data;
  size_t got;
  if (manta_get_bytes(v, &data, &got) != MANTA_OK) {
    char *repr = manta_value_repr(v);
    fprintf(stderr, "%s: not bytes: %s\n", what, repr ? repr : "?");
    manta_free(repr);
    CHECK(0);
    return;
  }
  CHECK(got == len);
  const unsigned char *p = data;
  size_t bad = 0;
  for (size_t i = 0; i < got && i < len; i++) {
    bad += p[i] != want(i, arg);
  }
  if (bad) {
    fprintf(stderr, "%s: %zu bytes differ\n", what, bad);
  }
  CHECK(bad == 0);
}

static unsigned char want_made(size_t i, size_t unused) {
  (void)unused;
  return made(i);
}

static unsigned char want_step(size_t i, size_t unused) {
  (void)unused;
  return stepped(made(i));
}

/* Gets r, expecting OBJECT_LOST whose message holds every one of needles. */
static void check_lost(const char *what, manta_ref r,
                       const char *const *needles, size_t n) {
  manta_value *got = NULL;
  CHECK_ERR(manta_get(r, 60000, &got), MANTA_ERR_OBJECT_LOST);
  char *repr = got ? manta_value_repr(got) : NULL;
  printf("lineage: %s: %s\n", what, repr ? repr : "(nothing)");
  for (size_t i = 0; i < n; i++) {
    if (!repr || !strstr(repr, needles[i])) {
      fprintf(stderr, "%s: the error does not say '%s'\n", what, needles[i]);
      CHECK(0);
    }
  }
  manta_free(repr);
  manta_value_free(got);
}

/* Runs on_y.len_sum(r) on node y, expecting it to fail with an error whose
 * message holds every one of needles. */
static void check_task_lost(const char *what, manta_ref r,
                            const char *const *needles, size_t n) {
  manta_ref t =
      submit("on_y.len_sum", (manta_value *[]){manta_ref_value(r)}, 1);
  manta_value *got = NULL;
  manta_err err = manta_get(t, 60000, &got);
  char *repr = got ? manta_value_repr(got) : NULL;
  printf("lineage: %s: %s (%s)\n", what, repr ? repr : "(nothing)",
         manta_strerror(err));
  CHECK(err != MANTA_OK && err != MANTA_ERR_TIMEOUT);
  for (size_t i = 0; i < n; i++) {
    if (!repr || !strstr(repr, needles[i])) {
      fprintf(stderr, "%s: the error does not say '%s': %s\n", what, needles[i],
              repr ? repr : "(nothing)");
      CHECK(0);
    }
  }
  manta_free(repr);
  manta_value_free(got);
  manta_ref_release(t);
}

static void wait_for_go(const char *dir) {
  char path[4096];
  snprintf(path, sizeof path, "%s/prepared", dir);
  FILE *f = fopen(path, "w");
  REQUIRE(f != NULL);
  fclose(f);
  snprintf(path, sizeof path, "%s/go", dir);
  struct stat st;
  int i = 0;
  for (; i < 1200 && stat(path, &st) != 0; i++) {
    mt_test_sleep_ms(50);
  }
  REQUIRE(i < 1200); /* the script starts node y within 60 s */
}

/* Waits (60 s at most) until n more tasks finished than at the last call:
 * how this driver knows results were made on x without waiting for them,
 * which would fetch them here (a copy here is not lost with x). */
static void wait_finished(int64_t n) {
  static int64_t seen = -1;
  int64_t now = 0;
  if (seen < 0) {
    REQUIRE_OK(manta_stat_get(MANTA_STAT_TASKS_FINISHED, &seen));
  }
  int i = 0;
  for (; i < 1200; i++) {
    REQUIRE_OK(manta_stat_get(MANTA_STAT_TASKS_FINISHED, &now));
    if (now >= seen + n) {
      break;
    }
    mt_test_sleep_ms(50);
  }
  REQUIRE(i < 1200);
  seen += n;
}

static void test_lineage(void) {
  const char *dir = getenv("MANTA_TEST_SYNC_DIR");
  REQUIRE(dir != NULL);
  manta_value *pidv = mt_test_submit_get("on_x.pid", NULL, 0, NULL, 30000);
  int64_t x = mt_test_int(pidv);
  manta_value_free(pidv);
  REQUIRE(x > 1);

  wait_finished(0);
  /* E first: its lineage alone exceeds the limit, so it is evicted at
   * once and keeps none of the others out. */
  unsigned char *e_in = malloc(SMALL_E);
  REQUIRE(e_in != NULL);
  for (size_t i = 0; i < SMALL_E; i++) {
    e_in[i] = (unsigned char)(i & 0xff);
  }
  manta_ref e =
      submit("step_bytes",
             (manta_value *[]){manta_bytes(e_in, SMALL_E), manta_int(4)}, 2);
  free(e_in);
  manta_ref d = submit("make_bytes", (manta_value *[]){manta_int(BIG_D)}, 1);
  manta_ref a = submit("make_bytes", (manta_value *[]){manta_int(BIG_A)}, 1);
  wait_finished(3);
  /* Submitted once A is made: B waiting for A would fetch A here. */
  manta_ref b = submit("step_bytes",
                       (manta_value *[]){manta_ref_value(a), manta_int(1)}, 2);
  manta_ref_release(a); /* only B's lineage holds A now */
  wait_finished(1);
  manta_value *listed = mt_test_submit_get(
      "on_x.put_nested", (manta_value *[]){manta_int(300000)}, 1, NULL, 30000);
  const manta_value *item;
  manta_ref put = {0};
  REQUIRE_OK(manta_list_at(listed, 0, &item));
  REQUIRE_OK(manta_get_ref(item, &put));

  /* Everything made on x, without fetching any of it here: a sum of each
   * computed where it lives. */
  manta_ref sums[3] = {
      submit("sum_bytes", (manta_value *[]){manta_ref_value(b)}, 1),
      submit("sum_bytes", (manta_value *[]){manta_ref_value(d)}, 1),
      submit("sum_bytes", (manta_value *[]){manta_ref_value(e)}, 1)};
  for (int i = 0; i < 3; i++) {
    manta_value *s = mt_test_take(sums[i], 60000);
    const manta_value *len;
    CHECK(manta_list_at(s, 0, &len) == MANTA_OK &&
          mt_test_int(len) == (i == 0   ? BIG_A
                               : i == 1 ? BIG_D
                                        : 4 * SMALL_E));
    manta_value_free(s);
  }
  int64_t retried_before = -1;
  REQUIRE_OK(manta_stat_get(MANTA_STAT_TASKS_RETRIED, &retried_before));

  wait_for_go(dir); /* node y offers the functions now */
  printf("lineage: kill -9 of node x (pid %lld)\n", (long long)x);
  fflush(stdout);
  REQUIRE(kill((pid_t)x, SIGKILL) == 0);

  /* Before anyone here waits for D: a task on y given D. y cannot fetch
   * it from x, asks this process (which sent the ref), which rebuilds D;
   * the task then runs on y with the new copy. */
  manta_ref on_y =
      submit("on_y.len_sum", (manta_value *[]){manta_ref_value(d)}, 1);
  manta_value *sum = mt_test_take(on_y, 60000);
  const manta_value *len_v = NULL, *sum_v = NULL;
  uint64_t want_sum = 0;
  for (size_t i = 0; i < BIG_D; i++) {
    want_sum = want_sum * 31 + made(i);
  }
  CHECK(manta_list_at(sum, 0, &len_v) == MANTA_OK &&
        mt_test_int(len_v) == BIG_D);
  CHECK(manta_list_at(sum, 1, &sum_v) == MANTA_OK &&
        (uint64_t)mt_test_int(sum_v) == (want_sum & 0x7fffffffffffffffULL));
  printf("lineage: a task on y given D, lost with x: length %lld\n",
         (long long)(len_v ? mt_test_int(len_v) : -1));
  manta_value_free(sum);
  /* The same for objects that cannot be rebuilt: the task fails with the
   * reason. */
  check_task_lost("a task on y given the put", put,
                  (const char *const[]){"put", "cannot be rebuilt"}, 2);
  check_task_lost("a task on y given E", e,
                  (const char *const[]){"lineage", "evicted"}, 2);

  /* One object on its own, rebuilt. */
  manta_value *v = mt_test_take(d, 60000);
  check_bytes("D", v, BIG_D, want_made, 0);
  manta_value_free(v);
  /* A chain: B's rebuild needs A, lost too and rebuilt first. */
  v = mt_test_take(b, 60000);
  check_bytes("B", v, BIG_A, want_step, 0);
  manta_value_free(v);
  int64_t retried = -1;
  REQUIRE_OK(manta_stat_get(MANTA_STAT_TASKS_RETRIED, &retried));
  printf("lineage: %lld tasks run again\n",
         (long long)(retried - retried_before));
  CHECK_INT_EQ(retried - retried_before, 3); /* D, A and B */

  /* A put cannot be rebuilt, and says so. */
  check_lost("put", put, (const char *const[]){"put", "cannot be rebuilt"}, 2);
  manta_value_free(listed);
  /* Lineage beyond the limit: evicted, and says so. */
  check_lost("evicted", e,
             (const char *const[]){"lineage", "evicted", "MANTA_LINEAGE_MEMORY",
                                   "step_bytes"},
             4);
  manta_ref_release(e);
}

int cluster_lineage_phase(const char *phase) {
  if (strcmp(phase, "lineage") != 0) {
    return 0;
  }
  RUN_TEST(test_lineage);
  return 1;
}
