/*
 * The placement-group phase of the cluster driver (docs/scheduling.md).
 * run-cluster-test.sh starts a cluster of its own for it: a head with 1
 * CPU and two nodes, p and q, with 2 CPUs and the custom resource pg=2
 * each, loading cluster_module.c ("where" gives the pid that ran it,
 * Counter.pid too); this driver joins with 1 CPU. Bundles ask for pg, so
 * only p and q can hold them:
 *
 *   pg  STRICT_SPREAD puts one bundle on each node (pids of tasks run in
 *       each bundle differ), STRICT_PACK both on one; STRICT_SPREAD of 3
 *       is infeasible at once; a group waits while others hold the
 *       resources and is reserved once one is removed, and a task
 *       submitted into it meanwhile waits and then runs; a call larger than
 *       its bundle fails; removing a group fails the call queued in it;
 *       a gang of 4 actors in a {CPU:1, pg:1} x 4 SPREAD group all start,
 *       2 per node, and die with the group; tasks holding every pg
 *       keep a group pending until they end (no node over-commits, even
 *       when the head's view is stale); `manta status` (the head's
 *       ClusterStatus) lists a group with its bundles' nodes.
 *       With capture_child_tasks on, a task in a bundle on p or q (never
 *       the group's creator) runs a child and a grandchild, and creates
 *       an actor, that all ask for pg, which only the group holds: they
 *       run because they are captured, on the bundle's node.
 *       Actors created into groups not reserved yet get their handles at
 *       once and are called at once: one whose group is removed first
 *       fails its calls naming the group; the other is built on p or q
 *       once a group holding pg is removed, and answers in order (with no
 *       Counter class in the driver, then with one).
 *   pg_lost  (a cluster of three nodes with pg=2 each) a bundle whose node
 *       is killed is reserved again on a live node, as Ray reschedules
 *       it: STRICT_SPREAD still keeps it off the node of the other bundle,
 *       whose actor lives on untouched.
 */
#include "cluster_driver.h"

#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

/* n bundles of {pg: qty} (and CPU: cpu when > 0). */
static manta_placement_group group_of(int n, double qty, double cpu,
                                      manta_pg_strategy s) {
  manta_value *l = manta_list();
  for (int i = 0; i < n; i++) {
    manta_value *m = manta_map();
    REQUIRE_OK(manta_map_put(m, "pg", manta_double(qty)));
    if (cpu > 0) {
      REQUIRE_OK(manta_map_put(m, "CPU", manta_double(cpu)));
    }
    REQUIRE_OK(manta_list_push(l, m));
  }
  manta_placement_group pg;
  REQUIRE_OK(manta_placement_group_create(l, s, &pg));
  manta_value_free(l);
  return pg;
}

static manta_placement_group group(int n, double cpu, manta_pg_strategy s) {
  return group_of(n, 1, cpu, s);
}

/* A group of one bundle {pg: qty}, STRICT_PACK. */
static manta_placement_group one_bundle(double qty) {
  return group_of(1, qty, 0, MANTA_PG_STRICT_PACK);
}

static manta_call_options *in_bundle(manta_placement_group pg, int i,
                                     double cpus) {
  manta_call_options *o;
  REQUIRE_OK(manta_call_options_new(&o));
  REQUIRE_OK(manta_call_options_set_placement_group(o, pg, i));
  if (cpus >= 0) {
    REQUIRE_OK(manta_call_options_set_num_cpus(o, cpus));
  }
  return o;
}

/* The pid that ran where() in bundle i, or 0 if it failed (printed unless
 * quiet). */
static int64_t where_in_or_quiet(manta_placement_group pg, int i, bool quiet) {
  manta_call_options *o = in_bundle(pg, i, -1);
  manta_ref r;
  manta_value *v = NULL;
  REQUIRE_OK(manta_submit("where", NULL, 0, o, &r));
  manta_call_options_free(o);
  manta_get(r, 30000, &v);
  manta_ref_release(r);
  int64_t pid = 0;
  if (manta_get_int(v, &pid) != MANTA_OK) {
    pid = 0;
    if (!quiet) {
      mt_test_print_value("where in bundle", i, v);
    }
  }
  manta_value_free(v);
  return pid;
}

static int64_t where_in(manta_placement_group pg, int i) {
  return where_in_or_quiet(pg, i, false);
}

/* The node ids of the group's bundles as the head lists them, in the
 * status (manta status); how many bundles. */
static size_t status_nodes(manta_placement_group pg, char ids[][17],
                           size_t max) {
  manta_value *info = NULL, *st = NULL;
  REQUIRE_OK(manta_placement_group_info(pg, &info));
  const manta_value *v, *list, *g, *b, *bundles;
  const char *id, *s;
  size_t len, n = 0, got = 0;
  REQUIRE_OK(manta_map_find(info, "id", &v));
  REQUIRE_OK(manta_get_string(v, &id, &len));
  REQUIRE_OK(manta_cluster_status(getenv("MANTA_ADDRESS"), NULL, 5000, &st));
  REQUIRE_OK(manta_map_find(st, "placement_groups", &list));
  manta_len(list, &n);
  for (size_t i = 0; i < n; i++) {
    manta_list_at(list, i, &g);
    manta_map_find(g, "id", &v);
    manta_get_string(v, &s, &len);
    if (strcmp(s, id) != 0) {
      continue;
    }
    manta_map_find(g, "state", &v);
    manta_get_string(v, &s, &len);
    CHECK(strcmp(s, "CREATED") == 0);
    manta_map_find(g, "bundles", &bundles);
    manta_len(bundles, &got);
    for (size_t k = 0; k < got && k < max; k++) {
      manta_list_at(bundles, k, &b);
      manta_map_find(b, "node_id", &v);
      manta_get_string(v, &s, &len);
      snprintf(ids[k], 17, "%s", s);
    }
  }
  manta_value_free(st);
  manta_value_free(info);
  return got;
}

static void test_strict_spread_and_pack(void) {
  int64_t me = getpid();
  manta_placement_group pg = group(2, 1, MANTA_PG_STRICT_SPREAD);
  manta_value *why = NULL;
  CHECK_OK(manta_placement_group_wait(pg, 20000, &why));
  if (why) {
    mt_test_print_value("strict spread", 0, why);
    manta_value_free(why);
  }
  int64_t a = where_in(pg, 0), b = where_in(pg, 1);
  printf("strict spread: bundle 0 ran in pid %lld, bundle 1 in %lld\n",
         (long long)a, (long long)b);
  CHECK(a > 0 && b > 0 && a != b && a != me && b != me);
  char ids[2][17] = {"", ""};
  CHECK(status_nodes(pg, ids, 2) == 2);
  CHECK(ids[0][0] && ids[1][0] && strcmp(ids[0], ids[1]) != 0);
  /* The CLI prints it (its path given by run-cluster-test.sh). */
  const char *cli = getenv("MANTA_TEST_CLI");
  if (cli) {
    char cmd[1024];
    snprintf(cmd, sizeof cmd,
             "'%s' status --address '%s' | grep -A2 'STRICT_SPREAD *CREATED' "
             "| grep -c 'bundle [01] {pg 1, CPU 1}  on node' | grep -qx 2",
             cli, getenv("MANTA_ADDRESS"));
    CHECK(system(cmd) == 0);
  }
  CHECK_OK(manta_placement_group_remove(pg));

  pg = group(2, 1, MANTA_PG_STRICT_PACK);
  CHECK_OK(manta_placement_group_wait(pg, 20000, NULL));
  a = where_in(pg, 0);
  b = where_in(pg, 1);
  printf("strict pack: bundle 0 ran in pid %lld, bundle 1 in %lld\n",
         (long long)a, (long long)b);
  CHECK(a > 0 && a == b && a != me);
  CHECK_OK(manta_placement_group_remove(pg));
}

static void test_infeasible(void) {
  manta_placement_group pg = group(3, 0, MANTA_PG_STRICT_SPREAD);
  manta_value *why = NULL;
  double t0 = mt_test_now_ms();
  CHECK_ERR(manta_placement_group_wait(pg, 20000, &why), MANTA_ERR_INFEASIBLE);
  CHECK(mt_test_now_ms() - t0 < 3000);
  mt_test_check_error(why, MANTA_ERR_INFEASIBLE, "STRICT_SPREAD");
  manta_value_free(why);
  CHECK_OK(manta_placement_group_remove(pg));
  /* More than any node has. */
  pg = one_bundle(3);
  why = NULL;
  CHECK_ERR(manta_placement_group_wait(pg, 20000, &why), MANTA_ERR_INFEASIBLE);
  mt_test_check_error(why, MANTA_ERR_INFEASIBLE, "bundle 0 asks pg 3");
  manta_value_free(why);
  CHECK_OK(manta_placement_group_remove(pg));
}

/* Two groups hold all of pg: a third waits, and is reserved once one of
 * them is removed. */
static void test_pending_until_removed(void) {
  manta_placement_group a = one_bundle(2), b = one_bundle(2);
  CHECK_OK(manta_placement_group_wait(a, 20000, NULL));
  CHECK_OK(manta_placement_group_wait(b, 20000, NULL));
  manta_placement_group c = one_bundle(1);
  manta_value *why = NULL;
  CHECK_ERR(manta_placement_group_wait(c, 1500, &why), MANTA_ERR_TIMEOUT);
  mt_test_check_error(why, MANTA_ERR_TIMEOUT, "waiting for resources");
  manta_value_free(why);
  CHECK_OK(manta_placement_group_remove(a));
  CHECK_OK(manta_placement_group_wait(c, 20000, NULL));
  CHECK_OK(manta_placement_group_remove(b));
  CHECK_OK(manta_placement_group_remove(c));
  /* Everything was given back: all of pg can be reserved again. */
  manta_placement_group all = group(4, 0, MANTA_PG_SPREAD);
  CHECK_OK(manta_placement_group_wait(all, 20000, NULL));
  CHECK_OK(manta_placement_group_remove(all));
}

/* A call into a group the head has not reserved yet waits for it: two
 * groups hold all of pg, a task submitted into a third waits (nobody
 * calls wait: this node's heartbeat asks the head) and runs on p or q once
 * one of the two is removed; a call waiting in a group removed before it
 * was reserved fails as CANCELLED. */
static void test_calls_wait_for_group(void) {
  manta_placement_group a = one_bundle(2), b = one_bundle(2);
  CHECK_OK(manta_placement_group_wait(a, 20000, NULL));
  CHECK_OK(manta_placement_group_wait(b, 20000, NULL));
  manta_placement_group c = one_bundle(1), d = one_bundle(1);
  manta_call_options *oc = in_bundle(c, 0, 0), *od = in_bundle(d, 0, 0);
  manta_ref waits, dropped;
  REQUIRE_OK(manta_submit("where", NULL, 0, oc, &waits));
  REQUIRE_OK(manta_submit("where", NULL, 0, od, &dropped));
  manta_call_options_free(oc);
  manta_call_options_free(od);
  manta_value *v = NULL;
  CHECK_ERR(manta_get(waits, 1000, &v), MANTA_ERR_TIMEOUT); /* waits */
  manta_value_free(v);
  v = NULL;
  CHECK_OK(manta_placement_group_remove(d));
  CHECK_ERR(manta_get(dropped, 20000, &v), MANTA_ERR_CANCELLED);
  mt_test_check_error(v, MANTA_ERR_CANCELLED, "was removed before it ran");
  manta_value_free(v);
  manta_ref_release(dropped);
  CHECK_OK(manta_placement_group_remove(a));
  int64_t pid = mt_test_take_int(waits);
  printf("a call that waited for its group ran in pid %lld\n", (long long)pid);
  CHECK(pid > 0 && pid != getpid());
  CHECK_OK(manta_placement_group_remove(b));
  CHECK_OK(manta_placement_group_remove(c));
}

static void test_calls_and_remove(void) {
  manta_placement_group pg = group(1, 1, MANTA_PG_PACK);
  CHECK_OK(manta_placement_group_wait(pg, 20000, NULL));
  /* Larger than its bundle. */
  manta_call_options *o = in_bundle(pg, 0, 2);
  manta_ref r;
  manta_value *v = NULL;
  REQUIRE_OK(manta_submit("where", NULL, 0, o, &r));
  manta_get(r, 10000, &v);
  mt_test_check_error(v, MANTA_ERR_INFEASIBLE, "asks more than bundle 0");
  manta_value_free(v);
  manta_ref_release(r);
  manta_call_options_free(o);
  /* One call runs (2 s), the next waits for the bundle's CPU: removing the
   * group fails the waiting one on the node that held it. */
  o = in_bundle(pg, 0, -1);
  manta_value *args[2] = {manta_int(2000), manta_int(7)};
  manta_ref running, queued;
  REQUIRE_OK(manta_submit("sleep_then", (const manta_value *const *)args, 2, o,
                          &running));
  REQUIRE_OK(manta_submit("sleep_then", (const manta_value *const *)args, 2, o,
                          &queued));
  manta_value_free(args[0]);
  manta_value_free(args[1]);
  manta_call_options_free(o);
  mt_test_sleep_ms(500);
  CHECK_OK(manta_placement_group_remove(pg));
  v = NULL;
  CHECK_ERR(manta_get(queued, 20000, &v), MANTA_ERR_CANCELLED);
  mt_test_check_error(v, MANTA_ERR_CANCELLED, "was removed");
  manta_value_free(v);
  v = NULL;
  manta_get(running, 20000, &v);
  CHECK(v != NULL); /* resolved: cancelled, or its result if it ended */
  manta_value_free(v);
  manta_ref_release(queued);
  manta_ref_release(running);
}

/* Tasks take every pg of both nodes a moment before a group asks for
 * them: the head, whose view is up to a heartbeat old, may believe them
 * free, but the nodes refuse to prepare what is not free there, so the
 * group is reserved only once the tasks ended (never over-committed). */
static void test_nodes_never_overcommit(void) {
  manta_call_options *o;
  REQUIRE_OK(manta_call_options_new(&o));
  REQUIRE_OK(manta_call_options_set_strategy(o, MANTA_STRATEGY_SPREAD));
  REQUIRE_OK(manta_call_options_set_resource(o, "pg", 1));
  manta_value *args[2] = {manta_int(3000), manta_int(1)};
  manta_ref busy[4];
  for (int i = 0; i < 4; i++) {
    REQUIRE_OK(manta_submit("sleep_then", (const manta_value *const *)args, 2,
                            o, &busy[i]));
  }
  manta_value_free(args[0]);
  manta_value_free(args[1]);
  manta_call_options_free(o);
  mt_test_sleep_ms(200); /* they run: sent and started */
  manta_placement_group pg = group(2, 0, MANTA_PG_STRICT_SPREAD);
  CHECK_ERR(manta_placement_group_wait(pg, 1000, NULL), MANTA_ERR_TIMEOUT);
  CHECK_OK(manta_placement_group_wait(pg, 20000, NULL));
  for (int i = 0; i < 4; i++) {
    manta_value *v = NULL;
    /* Ready only after every task ended: each is done by now. */
    CHECK_OK(manta_get(busy[i], 0, &v));
    manta_value_free(v);
    manta_ref_release(busy[i]);
  }
  CHECK_OK(manta_placement_group_remove(pg));
}

/* A gang: 4 actors that must all start, one per bundle. */
static void test_gang(void) {
  int64_t me = getpid();
  manta_placement_group pg = group(4, 1, MANTA_PG_SPREAD);
  CHECK_OK(manta_placement_group_wait(pg, 20000, NULL));
  manta_actor actors[4];
  int64_t pids[4];
  for (int i = 0; i < 4; i++) {
    manta_call_options *o = in_bundle(pg, i, 1);
    REQUIRE_OK(manta_actor_create("Counter", NULL, 0, o, &actors[i]));
    manta_call_options_free(o);
  }
  for (int i = 0; i < 4; i++) {
    manta_ref r;
    REQUIRE_OK(manta_actor_call(actors[i], "pid", NULL, 0, &r));
    pids[i] = mt_test_take_int(r);
  }
  int same0 = 0;
  for (int i = 0; i < 4; i++) {
    CHECK(pids[i] > 0 && pids[i] != me);
    same0 += pids[i] == pids[0];
  }
  printf("gang: actors in pids %lld %lld %lld %lld\n", (long long)pids[0],
         (long long)pids[1], (long long)pids[2], (long long)pids[3]);
  CHECK(same0 == 2); /* two per node: 2 pg each */
  CHECK_OK(manta_placement_group_remove(pg));
  /* The actors die with their group, on their nodes. */
  for (int i = 0; i < 4; i++) {
    manta_err err = MANTA_OK;
    for (int k = 0; k < 100 && err == MANTA_OK; k++) {
      manta_ref r;
      manta_value *v = NULL;
      REQUIRE_OK(manta_actor_call(actors[i], "pid", NULL, 0, &r));
      err = manta_get(r, 10000, &v);
      manta_value_free(v);
      manta_ref_release(r);
      if (err == MANTA_OK) {
        mt_test_sleep_ms(100);
      }
    }
    CHECK_ERR(err, MANTA_ERR_ACTOR_DEAD);
    manta_actor_release(actors[i]);
  }
}

/* Bundle 0's node is killed: the head reserves bundle 0 again on the third
 * node (STRICT_SPREAD: not on bundle 1's), calls in bundle 0 run there,
 * and bundle 1 with its actor is left alone. */
static void test_lost_bundle_placed_again(void) {
  int64_t me = getpid();
  manta_placement_group pg = group(2, 1, MANTA_PG_STRICT_SPREAD);
  CHECK_OK(manta_placement_group_wait(pg, 20000, NULL));
  manta_call_options *o = in_bundle(pg, 1, 0);
  manta_actor keeper;
  REQUIRE_OK(manta_actor_create("Counter", NULL, 0, o, &keeper));
  manta_call_options_free(o);
  manta_ref r;
  REQUIRE_OK(manta_actor_call(keeper, "pid", NULL, 0, &r));
  int64_t kept = mt_test_take_int(r);
  int64_t lost = where_in(pg, 0);
  printf("lost bundle: bundle 0 in pid %lld (killed now), bundle 1 in %lld\n",
         (long long)lost, (long long)kept);
  REQUIRE(lost > 0 && kept > 0 && lost != kept && lost != me);
  REQUIRE(kill((pid_t)lost, SIGKILL) == 0);
  /* Calls in bundle 0 fail (its node died) or wait (the group is placed
   * again) until it is reserved elsewhere: tried for 60 s at most. */
  int64_t again = 0;
  double t0 = mt_test_now_ms();
  while ((again <= 0 || again == lost) && mt_test_now_ms() - t0 < 60000) {
    again = where_in_or_quiet(pg, 0, true);
    if (again <= 0) {
      mt_test_sleep_ms(200);
    }
  }
  printf("lost bundle: bundle 0 placed again in pid %lld\n", (long long)again);
  CHECK(again > 0 && again != lost && again != kept && again != me);
  CHECK_OK(manta_placement_group_wait(pg, 20000, NULL));
  char ids[2][17] = {"", ""};
  CHECK(status_nodes(pg, ids, 2) == 2);
  CHECK(ids[0][0] && ids[1][0] && strcmp(ids[0], ids[1]) != 0);
  /* Bundle 1 was not touched: the same actor answers from the same node. */
  REQUIRE_OK(manta_actor_call(keeper, "pid", NULL, 0, &r));
  CHECK(mt_test_take_int(r) == kept);
  CHECK(where_in(pg, 1) == kept);
  manta_actor_release(keeper);
  CHECK_OK(manta_placement_group_remove(pg));
}

/* fn(args) in bundle i of pg (1 CPU): its int result, 0 if it failed
 * (printed). */
static int64_t call_in(manta_placement_group pg, int i, const char *fn,
                       manta_value *arg) {
  manta_call_options *o = in_bundle(pg, i, 1);
  manta_ref r;
  manta_value *v = NULL;
  REQUIRE_OK(
      manta_submit(fn, (const manta_value *const *)&arg, arg ? 1 : 0, o, &r));
  manta_call_options_free(o);
  manta_value_free(arg);
  manta_get(r, 60000, &v);
  manta_ref_release(r);
  int64_t pid = 0;
  if (manta_get_int(v, &pid) != MANTA_OK) {
    mt_test_print_value(fn, i, v);
    pid = 0;
  }
  manta_value_free(v);
  return pid;
}

/* A group holding all of p's and q's pg; with capture on, what a task in
 * one of its bundles submits (a child, its own child) or creates (an
 * actor) asking for pg runs in the group, on that bundle's node, although
 * the task runs on a node that did not create the group. */
static void test_capture_across_nodes(void) {
  manta_placement_group pg = group_of(2, 2, 1, MANTA_PG_STRICT_SPREAD);
  CHECK_OK(manta_placement_group_wait(pg, 20000, NULL));
  CHECK_OK(manta_placement_group_set_capture_child_tasks(pg, 1));
  for (int i = 0; i < 2; i++) {
    int64_t node = where_in(pg, i);
    int64_t nested = call_in(pg, i, "pg_capture_probe", manta_int(1));
    int64_t actor = call_in(pg, i, "pg_capture_actor", NULL);
    printf("capture: bundle %d on pid %lld: grandchild ran in %lld, actor "
           "lived in %lld\n",
           i, (long long)node, (long long)nested, (long long)actor);
    CHECK(node > 0 && node != getpid());
    CHECK(nested == node);
    CHECK(actor == node);
  }
  CHECK_OK(manta_placement_group_remove(pg));
}

/* The group's id as manta_placement_group_info gives it (hex). */
static void group_hex(manta_placement_group pg, char hex[17]) {
  manta_value *info = NULL;
  const manta_value *v;
  const char *s = "";
  REQUIRE_OK(manta_placement_group_info(pg, &info));
  REQUIRE_OK(manta_map_find(info, "id", &v));
  REQUIRE_OK(manta_get_string(v, &s, NULL));
  snprintf(hex, 17, "%s", s);
  manta_value_free(info);
}

/* A Counter of this driver's own (made for the second round below): the
 * same methods, but if it were built here its pid would be the driver's. */
static void *drv_counter_new(const manta_value *const *a, size_t n, void *cd,
                             manta_value **error) {
  (void)cd, (void)error;
  int64_t *c = calloc(1, sizeof *c);
  if (c && n == 1) {
    manta_get_int(a[0], c);
  }
  return c;
}

static void drv_counter_free(void *state, void *cd) {
  (void)cd;
  free(state);
}

static manta_value *drv_counter_add(void *state, const manta_value *const *a,
                                    size_t n, void *md) {
  (void)n, (void)md;
  int64_t x = 0;
  manta_get_int(a[0], &x);
  return manta_int(*(int64_t *)state += x);
}

static manta_value *drv_counter_pid(void *state, const manta_value *const *a,
                                    size_t n, void *md) {
  (void)state, (void)a, (void)n, (void)md;
  return manta_int((int64_t)getpid());
}

/* Two groups hold all of pg; actors are created into two more, pending,
 * and called at once (nobody calls wait: the heartbeat asks the head).
 * One group is removed while pending: its actor's calls fail, naming it.
 * Once a holder is removed, the other group is reserved on p or q, and the
 * actor is created there (not here) and answers its calls in order, after
 * its constructor (which starts it at 100). */
static void actor_waits_for_group_round(const char *round) {
  manta_placement_group a = one_bundle(2), b = one_bundle(2);
  CHECK_OK(manta_placement_group_wait(a, 20000, NULL));
  CHECK_OK(manta_placement_group_wait(b, 20000, NULL));
  manta_placement_group c = one_bundle(1), d = one_bundle(1);
  manta_call_options *oc = in_bundle(c, 0, -1), *od = in_bundle(d, 0, -1);
  manta_value *hundred = manta_int(100);
  manta_actor x, y;
  REQUIRE_OK(manta_actor_create("Counter", (const manta_value *const *)&hundred,
                                1, oc, &x));
  REQUIRE_OK(manta_actor_create("Counter", NULL, 0, od, &y));
  manta_value_free(hundred);
  manta_call_options_free(oc);
  manta_call_options_free(od);
  manta_ref calls[4], dropped;
  for (int i = 0; i < 3; i++) {
    manta_value *arg = manta_int(i + 1);
    REQUIRE_OK(manta_actor_call(x, "add", (const manta_value *const *)&arg, 1,
                                &calls[i]));
    manta_value_free(arg);
  }
  REQUIRE_OK(manta_actor_call(x, "pid", NULL, 0, &calls[3]));
  REQUIRE_OK(manta_actor_call(y, "pid", NULL, 0, &dropped));
  manta_value *v = NULL;
  CHECK_ERR(manta_get(calls[0], 1000, &v), MANTA_ERR_TIMEOUT); /* waits */
  manta_value_free(v);
  v = NULL;
  char hex[17], want[120];
  group_hex(d, hex);
  snprintf(want, sizeof want, "placement group %s was removed before it ran",
           hex);
  CHECK_OK(manta_placement_group_remove(d));
  CHECK_ERR(manta_get(dropped, 20000, &v), MANTA_ERR_ACTOR_DEAD);
  mt_test_check_error(v, MANTA_ERR_ACTOR_DEAD, want);
  manta_value_free(v);
  manta_ref_release(dropped);
  CHECK_OK(manta_placement_group_remove(a));
  int64_t got[4];
  for (int i = 0; i < 4; i++) {
    v = NULL;
    CHECK_OK(manta_get(calls[i], 30000, &v));
    got[i] = mt_test_int(v);
    manta_value_free(v);
    manta_ref_release(calls[i]);
  }
  printf("%s: an actor that waited for its group answered %lld %lld %lld "
         "from pid %lld\n",
         round, (long long)got[0], (long long)got[1], (long long)got[2],
         (long long)got[3]);
  CHECK(got[0] == 101 && got[1] == 103 && got[2] == 106);
  CHECK(got[3] > 0 && got[3] != getpid());
  CHECK_OK(manta_actor_release(x));
  CHECK_OK(manta_actor_release(y));
  CHECK_OK(manta_placement_group_remove(b));
  CHECK_OK(manta_placement_group_remove(c));
}

/* First with no Counter class here (the handle is a proxy from the
 * start), then with one (the handle is made as a local actor and becomes
 * a proxy of the one built on the bundle's node). */
static void test_actor_waits_for_group(void) {
  actor_waits_for_group_round("no class here");
  REQUIRE_OK(
      manta_register_class("Counter", drv_counter_new, drv_counter_free, NULL));
  REQUIRE_OK(manta_register_method("Counter", "add", drv_counter_add, 1, NULL));
  REQUIRE_OK(manta_register_method("Counter", "pid", drv_counter_pid, 0, NULL));
  actor_waits_for_group_round("a class here");
}

int cluster_pg_phase(const char *phase) {
  if (strcmp(phase, "pg_lost") == 0) {
    RUN_TEST(test_lost_bundle_placed_again);
    return 1;
  }
  if (strcmp(phase, "pg") != 0) {
    return 0;
  }
  RUN_TEST(test_strict_spread_and_pack);
  RUN_TEST(test_infeasible);
  RUN_TEST(test_pending_until_removed);
  RUN_TEST(test_calls_wait_for_group);
  RUN_TEST(test_calls_and_remove);
  RUN_TEST(test_nodes_never_overcommit);
  RUN_TEST(test_gang);
  RUN_TEST(test_capture_across_nodes);
  RUN_TEST(test_actor_waits_for_group); /* last: it registers a class */
  return 1;
}
