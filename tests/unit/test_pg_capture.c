/* Child capture of placement groups (manta_placement_group_set_capture_
 * child_tasks, docs/scheduling.md) on the embedded runtime with 4 CPUs: a
 * group of 2 bundles {CPU:1} reserves 2 of them, and a parent task in the
 * group submits children with no group of their own. With capture on they
 * run in the group's bundles (the node's 2 other CPUs stay free, at most 2
 * run at once); off, or with a strategy of their own, they take the node's
 * CPUs. */
#include "test_util.h"

#include <stdatomic.h>

enum { CHILDREN = 6 };

static atomic_int running, most_running;

/* A child: counts how many run with it, waits (bounded) for a second one
 * so that they overlap, and returns the node's free CPUs it saw. */
static manta_value *fn_child(const manta_value *const *args, size_t n,
                             void *u) {
  (void)args, (void)n, (void)u;
  int now = atomic_fetch_add(&running, 1) + 1;
  int most = atomic_load(&most_running);
  while (now > most &&
         !atomic_compare_exchange_weak(&most_running, &most, now)) {
  }
  double total = 0, avail = -1;
  manta_resource_get("CPU", &total, &avail);
  for (int i = 0; i < 300 && atomic_load(&running) < 2; i++) {
    mt_test_sleep_ms(1);
  }
  atomic_fetch_sub(&running, 1);
  return manta_int((int64_t)avail);
}

/* A parent's work: CHILDREN children, with no options (spread == 0) or
 * with the SPREAD strategy; the fewest free CPUs a child saw. */
static manta_value *spawn_children(int64_t spread) {
  manta_call_options *o = NULL;
  if (spread) {
    manta_call_options_new(&o);
    manta_call_options_set_strategy(o, MANTA_STRATEGY_SPREAD);
  }
  manta_ref refs[CHILDREN];
  int made = 0;
  for (; made < CHILDREN; made++) {
    if (manta_submit("child", NULL, 0, o, &refs[made]) != MANTA_OK) {
      break;
    }
  }
  manta_call_options_free(o);
  int64_t fewest = 100;
  for (int i = 0; i < made; i++) {
    manta_value *v = NULL;
    int64_t free_cpus = -1;
    if (manta_get(refs[i], 10000, &v) != MANTA_OK ||
        manta_get_int(v, &free_cpus) != MANTA_OK) {
      free_cpus = -1;
    }
    manta_value_free(v);
    manta_ref_release(refs[i]);
    fewest = free_cpus < fewest ? free_cpus : fewest;
  }
  return made == CHILDREN
             ? manta_int(fewest)
             : manta_error(MANTA_ERR_INVALID, "a child was not submitted");
}

/* The parent as a task: args[0] is spread. */
static manta_value *fn_parent(const manta_value *const *args, size_t n,
                              void *u) {
  (void)n, (void)u;
  int64_t spread = 0;
  manta_get_int(args[0], &spread);
  return spawn_children(spread);
}

/* The parent as an actor's method (the actor made in the group). */
static void *spawner_new(const manta_value *const *args, size_t n, void *cd,
                         manta_value **error) {
  (void)args, (void)n, (void)cd, (void)error;
  return NULL;
}

static manta_value *spawner_spawn(void *state, const manta_value *const *args,
                                  size_t n, void *md) {
  (void)state, (void)args, (void)n, (void)md;
  return spawn_children(0);
}

static manta_placement_group make_group(void) {
  manta_value *l = manta_list();
  for (int i = 0; i < 2; i++) {
    manta_value *m = manta_map();
    REQUIRE_OK(manta_map_put(m, "CPU", manta_double(1)));
    REQUIRE_OK(manta_list_push(l, m));
  }
  manta_placement_group pg = {0};
  REQUIRE_OK(manta_placement_group_create(l, MANTA_PG_STRICT_PACK, &pg));
  manta_value_free(l);
  REQUIRE_OK(manta_placement_group_wait(pg, 5000, NULL));
  return pg;
}

/* Runs the parent in pg (spread: its children ask SPREAD); the fewest
 * node CPUs free a child saw. */
static int64_t run_parent(manta_placement_group pg, int spread) {
  atomic_store(&most_running, 0);
  manta_call_options *o;
  REQUIRE_OK(manta_call_options_new(&o));
  REQUIRE_OK(manta_call_options_set_placement_group(o, pg, -1));
  manta_value *args[1] = {manta_int(spread)};
  manta_value *v = mt_test_submit_get("parent", args, 1, o, 20000);
  manta_call_options_free(o);
  int64_t fewest = mt_test_int(v);
  manta_value_free(v);
  return fewest;
}

static void test_capture_on(void) {
  manta_placement_group pg = make_group();
  CHECK_OK(manta_placement_group_set_capture_child_tasks(pg, 1));
  /* In the group's bundles: the node's 2 CPUs outside it stay free. */
  CHECK_INT_EQ(run_parent(pg, 0), 2);
  int most = atomic_load(&most_running);
  CHECK(most >= 1 && most <= 2);
  /* A child with a strategy of its own keeps it: the node's CPUs. */
  CHECK(run_parent(pg, 1) <= 1);
  /* An actor made in the group: its method's children are captured. */
  manta_call_options *o;
  REQUIRE_OK(manta_call_options_new(&o));
  REQUIRE_OK(manta_call_options_set_placement_group(o, pg, -1));
  manta_actor a;
  REQUIRE_OK(manta_actor_create("Spawner", NULL, 0, o, &a));
  manta_call_options_free(o);
  manta_value *v = mt_test_actor_call_get(a, "spawn", NULL, 0, 20000);
  CHECK_INT_EQ(mt_test_int(v), 2);
  manta_value_free(v);
  CHECK_OK(manta_actor_release(a));
  CHECK_OK(manta_placement_group_remove(pg));
  CHECK_ERR(manta_placement_group_set_capture_child_tasks(pg, 1),
            MANTA_ERR_BAD_HANDLE);
}

static void test_capture_off(void) {
  manta_placement_group pg = make_group();
  /* Off by default: children take the node's CPUs, outside the group. */
  CHECK(run_parent(pg, 0) <= 1);
  CHECK_OK(manta_placement_group_set_capture_child_tasks(pg, 1));
  CHECK_OK(manta_placement_group_set_capture_child_tasks(pg, 0));
  CHECK(run_parent(pg, 0) <= 1);
  CHECK_OK(manta_placement_group_remove(pg));
}

int main(void) {
  manta_options *opts;
  REQUIRE_OK(manta_options_new(&opts));
  REQUIRE_OK(manta_options_set_num_cpus(opts, 4));
  REQUIRE_OK(manta_init(opts));
  manta_options_free(opts);
  REQUIRE_OK(manta_register_function("child", fn_child, 0, NULL));
  REQUIRE_OK(manta_register_function("parent", fn_parent, 1, NULL));
  REQUIRE_OK(manta_register_class("Spawner", spawner_new, NULL, NULL));
  REQUIRE_OK(manta_register_method("Spawner", "spawn", spawner_spawn, 0, NULL));
  RUN_TEST(test_capture_on);
  RUN_TEST(test_capture_off);
  CHECK_OK(manta_shutdown());
  return mt_test_done();
}
