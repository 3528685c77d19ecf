/*
 * The driver of the head's store test (run-head-store-test.sh,
 * docs/head-store.md). The nodes load cluster_module.c (Counter,
 * sleep_then, where) and hold the resource pg=1 each; this driver joins
 * with 1 CPU and none of it. Phases:
 *
 *   hold    creates the named actor "keeper" (a Counter, add 5), the
 *           named actor "doomed", which it kills when the file
 *           $MANTA_TEST_KILL_FILE appears, and a
 *           placement group of one bundle {pg: 1}, prints "held", and
 *           keeps both until the file $MANTA_TEST_STOP_FILE appears; then
 *           runs a task in the group's bundle and adds 1 to keeper (6: the
 *           same instance as before the head restarts) and lets go.
 *   lookup  finds "keeper" (prints "lookup: found" at once), then reads
 *           its count (5): run right after the head restarted, while the
 *           nodes are stopped and cannot announce anything.
 *   work    tasks across the nodes and a named actor: what a cluster
 *           does while its store is away.
 */
#include "test_util.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static int64_t call_int(manta_actor a, const char *m, int64_t arg, bool with) {
  manta_value *args[1] = {manta_int(arg)};
  manta_value *v = mt_test_actor_call_get(a, m, args, with ? 1 : 0, 60000);
  if (!with) {
    manta_value_free(args[0]);
  }
  int64_t x = v && manta_value_kind(v) == MANTA_KIND_INT ? mt_test_int(v) : -1;
  if (x < 0) {
    mt_test_print_value(m, 0, v);
  }
  manta_value_free(v);
  return x;
}

/* A Counter named name (a node hosts it: this driver offers no class). */
static manta_actor named_counter(const char *name) {
  manta_call_options *co;
  REQUIRE_OK(manta_call_options_new(&co));
  REQUIRE_OK(manta_call_options_set_name(co, name));
  manta_actor a;
  REQUIRE_OK(manta_actor_create("Counter", NULL, 0, co, &a));
  manta_call_options_free(co);
  return a;
}

static void test_hold(void) {
  const char *stop = getenv("MANTA_TEST_STOP_FILE");
  REQUIRE(stop != NULL);
  manta_actor a = named_counter("keeper");
  CHECK_INT_EQ(call_int(a, "add", 5, true), 5);
  /* doomed: killed while no head runs (its name's drop is lost). */
  manta_actor doomed = named_counter("doomed");
  CHECK_INT_EQ(call_int(doomed, "add", 1, true), 1);

  manta_value *bundles = manta_list(), *b = manta_map();
  REQUIRE_OK(manta_map_put(b, "pg", manta_double(1)));
  REQUIRE_OK(manta_list_push(bundles, b));
  manta_placement_group pg;
  REQUIRE_OK(manta_placement_group_create(bundles, MANTA_PG_STRICT_PACK, &pg));
  manta_value_free(bundles);
  manta_value *why = NULL;
  REQUIRE_OK(manta_placement_group_wait(pg, 30000, &why));
  printf("held\n");
  fflush(stdout);

  const char *kill_file = getenv("MANTA_TEST_KILL_FILE");
  bool killed = false;
  double t0 = mt_test_now_ms();
  while (access(stop, F_OK) != 0 && mt_test_now_ms() - t0 < 300000) {
    if (!killed && kill_file && access(kill_file, F_OK) == 0) {
      CHECK_OK(manta_actor_kill(doomed));
      manta_actor_release(doomed);
      killed = true;
      printf("doomed killed\n");
      fflush(stdout);
    }
    mt_test_sleep_ms(50);
  }
  CHECK(killed);
  /* This process's channel to the head may still be in gRPC's reconnect
   * back-off (up to 1 s after the restart), where calls to the head fail
   * at once: a lookup (which asks the head) answers once it is through. */
  manta_actor found;
  manta_err err = MANTA_ERR_NOT_FOUND;
  for (int i = 0; i < 200 && err != MANTA_OK; i++) {
    if ((err = manta_actor_lookup("keeper", &found)) != MANTA_OK) {
      mt_test_sleep_ms(50);
    }
  }
  REQUIRE_OK(err);
  manta_actor_release(found);
  /* After the restarts: the group still places work, keeper still counts
   * from where it was. */
  manta_call_options *in;
  REQUIRE_OK(manta_call_options_new(&in));
  REQUIRE_OK(manta_call_options_set_placement_group(in, pg, 0));
  REQUIRE_OK(manta_call_options_set_num_cpus(in, 0)); /* the bundle: pg */
  manta_value *pid = mt_test_call("where", in, 60000);
  CHECK(pid && manta_value_kind(pid) == MANTA_KIND_INT);
  if (!pid || manta_value_kind(pid) != MANTA_KIND_INT) {
    mt_test_print_value("task in the group", 0, pid);
  }
  manta_value_free(pid);
  manta_call_options_free(in);
  CHECK_INT_EQ(call_int(a, "add", 1, true), 6);
  CHECK_OK(manta_placement_group_remove(pg));
  manta_actor_release(a);
  printf("hold: ok\n");
}

static void test_lookup(void) {
  manta_actor a;
  REQUIRE_OK(manta_actor_lookup("keeper", &a));
  printf("lookup: found\n");
  fflush(stdout);
  int64_t n = call_int(a, "get", 0, false);
  printf("lookup: keeper=%lld\n", (long long)n);
  CHECK_INT_EQ(n, 5);
  manta_actor_release(a);
}

static void test_work(void) {
  enum { N = 16 };
  manta_ref refs[N];
  for (int i = 0; i < N; i++) {
    manta_value *args[2] = {manta_int(10), manta_int(i)};
    REQUIRE_OK(manta_submit("sleep_then", (const manta_value *const *)args, 2,
                            NULL, &refs[i]));
    manta_value_free(args[0]);
    manta_value_free(args[1]);
  }
  for (int i = 0; i < N; i++) {
    manta_value *v = mt_test_take(refs[i], 60000);
    const manta_value *x = NULL;
    bool right = v && manta_list_at(v, 0, &x) == MANTA_OK &&
                 manta_value_kind(x) == MANTA_KIND_INT && mt_test_int(x) == i;
    if (!right) {
      mt_test_print_value("task", i, v);
    }
    CHECK(right);
    manta_value_free(v);
  }
  manta_actor a = named_counter("during_outage");
  CHECK_INT_EQ(call_int(a, "add", 2, true), 2);
  manta_actor found;
  CHECK_OK(manta_actor_lookup("during_outage", &found));
  manta_actor_release(found);
  manta_actor_release(a);
  printf("work: ok\n");
}

int main(int argc, char **argv) {
  REQUIRE(argc == 2);
  const char *phase = argv[1];
  manta_options *o;
  REQUIRE_OK(manta_options_new(&o));
  REQUIRE_OK(manta_options_set_num_cpus(o, 1));
  REQUIRE_OK(manta_init(o));
  manta_options_free(o);
  if (strcmp(phase, "hold") == 0) {
    RUN_TEST(test_hold);
  } else if (strcmp(phase, "lookup") == 0) {
    RUN_TEST(test_lookup);
  } else if (strcmp(phase, "work") == 0) {
    RUN_TEST(test_work);
  } else {
    fprintf(stderr, "unknown phase %s\n", phase);
    return 2;
  }
  REQUIRE_OK(manta_shutdown());
  return mt_test_done();
}
