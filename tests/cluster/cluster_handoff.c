/*
 * Task handoff across nodes (docs/scheduling.md, "Handing a task back"),
 * driven by run-handoff-test.sh: node B's slots are all held by long
 * tasks of another driver ("handoff_block") while the caller
 * ("handoff_meet"), whose view of the cluster is older than that (its
 * heartbeat is a minute long), still sees B idle. Its calls of `meet`, a
 * rendezvous that succeeds only when all of them run at once, are placed
 * partly on B by that view; B must hand back those it cannot start so
 * that they all run at once on C.
 *
 * The two drivers and the script meet through files in MANTA_TEST_DIR:
 * ready (the caller has its view), blocked (B's slots are held), done
 * (the caller finished).
 */
#include "cluster_driver.h"

#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static char *path_in(const char *dir, const char *name) {
  size_t n = strlen(dir) + strlen(name) + 2;
  char *p = malloc(n);
  REQUIRE(p != NULL);
  snprintf(p, n, "%s/%s", dir, name);
  return p;
}

/* Entries in dir, not counting . and .. */
static int count_files(const char *dir) {
  DIR *d = opendir(dir);
  int n = 0;
  for (struct dirent *e; d && (e = readdir(d));) {
    n += e->d_name[0] != '.';
  }
  if (d) {
    closedir(d);
  }
  return n;
}

/* Submits meet(dir, want) n times with opts (NULL: DEFAULT). */
static void submit_meets(const char *dir, int want, int n,
                         const manta_call_options *opts, manta_ref *refs) {
  for (int i = 0; i < n; i++) {
    manta_value *args[2] = {manta_cstring(dir), manta_int(want)};
    REQUIRE_OK(manta_submit("meet", (const manta_value *const *)args, 2, opts,
                            &refs[i]));
    manta_value_free(args[0]);
    manta_value_free(args[1]);
  }
}

/* Another driver's long tasks hold both slots of node B (its pid in
 * MANTA_TEST_BUSY_PID): two meets waiting for a third that comes only
 * once the caller is done. */
static void test_block(void) {
  const char *dir = getenv("MANTA_TEST_DIR");
  const char *busy = getenv("MANTA_TEST_BUSY_PID");
  REQUIRE(dir && busy);
  char id[17];
  node_of_pid(atoll(busy), id, sizeof id);
  REQUIRE(id[0] != '\0');
  char *hold = path_in(dir, "hold");
  manta_call_options *on_b;
  REQUIRE_OK(manta_call_options_new(&on_b));
  REQUIRE_OK(manta_call_options_set_node_affinity(on_b, id, 0));
  manta_ref refs[2];
  submit_meets(hold, 3, 2, on_b, refs);
  manta_call_options_free(on_b);
  /* Both started (each left its file): B has no slot free. */
  for (int i = 0; i < 1500 && count_files(hold) < 2; i++) {
    mt_test_sleep_ms(20);
  }
  CHECK_INT_EQ(count_files(hold), 2);
  mt_test_touch(dir, "blocked");
  CHECK(mt_test_wait_file(dir, "done", 90000));
  mt_test_touch(hold, "release"); /* the third: both return */
  for (int i = 0; i < 2; i++) {
    manta_value *v = mt_test_take(refs[i], 30000);
    CHECK_INT_EQ(mt_test_int(v), atoll(busy));
    manta_value_free(v);
  }
  free(hold);
}

/* The caller: its view shows B idle (taken before B's slots were held),
 * so some of its calls go to B; all must run at once, on C. */
static void test_meet(void) {
  enum { N = 4 };
  const char *dir = getenv("MANTA_TEST_DIR");
  const char *busy = getenv("MANTA_TEST_BUSY_PID");
  REQUIRE(dir && busy);
  mt_test_touch(dir, "ready");
  REQUIRE(mt_test_wait_file(dir, "blocked", 30000));
  char *meet_dir = path_in(dir, "meet");
  manta_ref refs[N];
  submit_meets(meet_dir, N, N, NULL, refs);
  int ok = 0;
  for (int i = 0; i < N; i++) {
    manta_value *v = NULL;
    manta_err err = manta_get(refs[i], 45000, &v);
    if (err == MANTA_OK && manta_value_kind(v) == MANTA_KIND_INT) {
      ok++;
      CHECK(mt_test_int(v) != atoll(busy)); /* B never had a slot */
    } else {
      mt_test_print_value("meet", i, v);
    }
    manta_value_free(v);
    manta_ref_release(refs[i]);
  }
  CHECK_INT_EQ(ok, N);
  mt_test_touch(dir, "done");
  free(meet_dir);
}

int cluster_handoff_phase(const char *phase) {
  if (strcmp(phase, "handoff_block") == 0) {
    RUN_TEST(test_block);
  } else if (strcmp(phase, "handoff_meet") == 0) {
    RUN_TEST(test_meet);
  } else {
    return 0;
  }
  return 1;
}
