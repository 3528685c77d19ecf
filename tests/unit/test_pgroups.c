/* Placement groups on the embedded runtime (docs/scheduling.md): bundles
 * reserved from this node's resources at once or not at all, waiting with
 * a timeout, infeasible groups resolved at once, pending groups reserved
 * as resources free up, calls taking their bundle's resources (not the
 * node's), and what removing a group does to its calls and actors. The
 * node has 2 CPUs. */
#include "test_util.h"

#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

/* A task that holds its slot until the gate opens (bounded: 20 s). */
static atomic_int gate_open, gate_started;

static manta_value *fn_gate(const manta_value *const *args, size_t n, void *u) {
  (void)args, (void)n, (void)u;
  atomic_fetch_add(&gate_started, 1);
  for (int i = 0; i < 20000 && !atomic_load(&gate_open); i++) {
    mt_test_sleep_ms(1);
  }
  return manta_int(1);
}

static manta_value *fn_one(const manta_value *const *args, size_t n, void *u) {
  (void)args, (void)n, (void)u;
  return manta_int(1);
}

static void *box_new(const manta_value *const *args, size_t n, void *cd,
                     manta_value **error) {
  (void)args, (void)n, (void)cd, (void)error;
  return NULL;
}

/* A constructor that waits for the gate (bounded, as fn_gate). */
static void *slow_new(const manta_value *const *args, size_t n, void *cd,
                      manta_value **error) {
  manta_value_free(fn_gate(args, n, cd));
  (void)error;
  return NULL;
}

static manta_value *box_one(void *state, const manta_value *const *args,
                            size_t n, void *md) {
  (void)state, (void)args, (void)n, (void)md;
  return manta_int(1);
}

/* A counter that starts at 10: its calls answer 11, 12, ... only if its
 * constructor ran first, and in the order they were made. */
static void *counter_new(const manta_value *const *args, size_t n, void *cd,
                         manta_value **error) {
  (void)args, (void)n, (void)cd, (void)error;
  int64_t *c = malloc(sizeof *c);
  if (c) {
    *c = 10;
  }
  return c;
}

static void counter_free(void *state, void *cd) {
  (void)cd;
  free(state);
}

static manta_value *counter_next(void *state, const manta_value *const *args,
                                 size_t n, void *md) {
  (void)args, (void)n, (void)md;
  return manta_int(++*(int64_t *)state);
}

/* A list of n bundles, each {name: qty}. */
static manta_value *bundles(int n, const char *name, double qty) {
  manta_value *l = manta_list();
  for (int i = 0; i < n; i++) {
    manta_value *m = manta_map();
    REQUIRE_OK(manta_map_put(m, name, manta_double(qty)));
    REQUIRE_OK(manta_list_push(l, m));
  }
  return l;
}

static manta_placement_group make(int n, const char *name, double qty,
                                  manta_pg_strategy s) {
  manta_value *b = bundles(n, name, qty);
  manta_placement_group pg = {0};
  REQUIRE_OK(manta_placement_group_create(b, s, &pg));
  manta_value_free(b);
  return pg;
}

static double cpu_free(void) {
  double total = 0, avail = -1;
  CHECK_OK(manta_resource_get("CPU", &total, &avail));
  return avail;
}

static manta_call_options *in_group(manta_placement_group pg, int bundle) {
  manta_call_options *o;
  REQUIRE_OK(manta_call_options_new(&o));
  REQUIRE_OK(manta_call_options_set_placement_group(o, pg, bundle));
  return o;
}

/* Runs fn with opts; the result or error value. */
static manta_value *run(const char *fn, const manta_call_options *opts) {
  return mt_test_call(fn, opts, 10000);
}

static void test_create_checks(void) {
  manta_placement_group pg;
  manta_value *empty = manta_list();
  CHECK_ERR(manta_placement_group_create(empty, MANTA_PG_PACK, &pg),
            MANTA_ERR_INVALID);
  manta_value_free(empty);
  manta_value *zero = bundles(1, "CPU", 0);
  CHECK_ERR(manta_placement_group_create(zero, MANTA_PG_PACK, &pg),
            MANTA_ERR_INVALID);
  manta_value_free(zero);
  manta_value *ok = bundles(1, "CPU", 1);
  CHECK_ERR(manta_placement_group_create(ok, (manta_pg_strategy)4, &pg),
            MANTA_ERR_INVALID);
  CHECK_ERR(manta_placement_group_create(NULL, MANTA_PG_PACK, &pg),
            MANTA_ERR_INVALID);
  manta_value_free(ok);
  manta_placement_group forged = {0x0100000000000007ull};
  CHECK_ERR(manta_placement_group_wait(forged, 0, NULL), MANTA_ERR_BAD_HANDLE);
  CHECK_ERR(manta_placement_group_remove(forged), MANTA_ERR_BAD_HANDLE);
  manta_call_options *o;
  REQUIRE_OK(manta_call_options_new(&o));
  CHECK_ERR(manta_call_options_set_placement_group(o, forged, -2),
            MANTA_ERR_INVALID);
  manta_call_options_free(o);
}

/* {CPU:1} x 2 takes both CPUs of the node: a task outside the group waits
 * until the group is removed; tasks inside run, from the bundle's CPU. */
static void test_reserve_and_run(void) {
  manta_placement_group pg = make(2, "CPU", 1, MANTA_PG_STRICT_PACK);
  CHECK_OK(manta_placement_group_wait(pg, 5000, NULL));
  CHECK(cpu_free() == 0);
  manta_value *info = NULL;
  REQUIRE_OK(manta_placement_group_info(pg, &info));
  char *repr = manta_value_repr(info);
  CHECK(strstr(repr, "CREATED") && strstr(repr, "STRICT_PACK"));
  manta_free(repr);
  manta_value_free(info);
  manta_ref outside;
  REQUIRE_OK(manta_submit("one", NULL, 0, NULL, &outside));
  manta_value *v = NULL;
  CHECK_ERR(manta_get(outside, 300, &v), MANTA_ERR_TIMEOUT);
  manta_value_free(v);
  for (int b = -1; b < 2; b++) {
    manta_call_options *o = in_group(pg, b);
    v = run("one", o);
    CHECK_INT_EQ(mt_test_int(v), 1);
    manta_value_free(v);
    manta_call_options_free(o);
  }
  CHECK_OK(manta_placement_group_remove(pg));
  CHECK_INT_EQ(mt_test_take_int(outside), 1);
  CHECK(cpu_free() == 2);
  /* The handle is stale now. */
  CHECK_ERR(manta_placement_group_wait(pg, 0, NULL), MANTA_ERR_BAD_HANDLE);
  CHECK_ERR(manta_placement_group_remove(pg), MANTA_ERR_BAD_HANDLE);
}

/* Groups no node can ever hold resolve at once, saying why. */
static void test_infeasible_at_once(void) {
  struct {
    int n;
    const char *name;
    double qty;
    manta_pg_strategy s;
    const char *part;
  } cases[] = {
      {1, "CPU", 3, MANTA_PG_PACK, "bundle 0 asks CPU 3"},
      {2, "CPU", 1, MANTA_PG_STRICT_SPREAD, "STRICT_SPREAD"},
      {3, "CPU", 1, MANTA_PG_STRICT_PACK, "STRICT_PACK"},
      {3, "CPU", 1, MANTA_PG_SPREAD, "the cluster has 2"},
      {1, "GPU", 1, MANTA_PG_PACK, "GPU"},
  };
  for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
    manta_placement_group pg =
        make(cases[i].n, cases[i].name, cases[i].qty, cases[i].s);
    manta_value *why = NULL;
    double t0 = mt_test_now_ms();
    CHECK_ERR(manta_placement_group_wait(pg, 10000, &why),
              MANTA_ERR_INFEASIBLE);
    CHECK(mt_test_now_ms() - t0 < 1000); /* at once, not at the timeout */
    mt_test_check_error(why, MANTA_ERR_INFEASIBLE, cases[i].part);
    manta_value_free(why);
    /* A call in it says so too. */
    manta_call_options *o = in_group(pg, 0);
    manta_value *v = run("one", o);
    mt_test_check_error(v, MANTA_ERR_INFEASIBLE, "INFEASIBLE");
    manta_value_free(v);
    manta_call_options_free(o);
    CHECK_OK(manta_placement_group_remove(pg));
  }
  CHECK(cpu_free() == 2);
}

/* A group that fits in total but not now waits, bounded by the caller's
 * timeout, and is reserved once resources free up: from a removed group,
 * and from a task that ends. */
static void test_pending_until_freed(void) {
  manta_placement_group a = make(1, "CPU", 2, MANTA_PG_PACK);
  CHECK_OK(manta_placement_group_wait(a, 5000, NULL));
  manta_placement_group b = make(2, "CPU", 0.5, MANTA_PG_SPREAD);
  manta_value *why = NULL;
  CHECK_ERR(manta_placement_group_wait(b, 200, &why), MANTA_ERR_TIMEOUT);
  mt_test_check_error(why, MANTA_ERR_TIMEOUT, "waiting for resources");
  manta_value_free(why);
  CHECK_OK(manta_placement_group_remove(a));
  CHECK_OK(manta_placement_group_wait(b, 5000, NULL));
  CHECK(cpu_free() == 1);
  CHECK_OK(manta_placement_group_remove(b));

  /* A task holds a CPU: {CPU:2} waits until it ends. */
  atomic_store(&gate_open, 0);
  atomic_store(&gate_started, 0);
  manta_ref r;
  REQUIRE_OK(manta_submit("gate", NULL, 0, NULL, &r));
  for (int i = 0; i < 5000 && !atomic_load(&gate_started); i++) {
    mt_test_sleep_ms(1);
  }
  manta_placement_group c = make(1, "CPU", 2, MANTA_PG_STRICT_PACK);
  CHECK_ERR(manta_placement_group_wait(c, 200, NULL), MANTA_ERR_TIMEOUT);
  atomic_store(&gate_open, 1);
  CHECK_INT_EQ(mt_test_take_int(r), 1);
  CHECK_OK(manta_placement_group_wait(c, 5000, NULL));
  CHECK_OK(manta_placement_group_remove(c));
}

/* Starts a gate task (holding one CPU) and waits until it runs. */
static manta_ref start_gate(void) {
  atomic_store(&gate_open, 0);
  atomic_store(&gate_started, 0);
  manta_ref r;
  REQUIRE_OK(manta_submit("gate", NULL, 0, NULL, &r));
  for (int i = 0; i < 5000 && !atomic_load(&gate_started); i++) {
    mt_test_sleep_ms(1);
  }
  return r;
}

/* Calls into a group not reserved yet wait for it (they do not fail at
 * once): they run once it is reserved, fail as CANCELLED when it is
 * removed first, can be cancelled while they wait. */
static void test_calls_wait_for_group(void) {
  manta_ref gate = start_gate(); /* one of the 2 CPUs */
  manta_placement_group pg = make(1, "CPU", 2, MANTA_PG_PACK);
  CHECK_ERR(manta_placement_group_wait(pg, 0, NULL), MANTA_ERR_TIMEOUT);
  manta_call_options *o = in_group(pg, 0);
  manta_ref waits, cancelled, again;
  REQUIRE_OK(manta_submit("one", NULL, 0, o, &waits));
  REQUIRE_OK(manta_submit("one", NULL, 0, o, &cancelled));
  manta_value *v = NULL;
  CHECK_ERR(manta_get(waits, 200, &v), MANTA_ERR_TIMEOUT); /* still waits */
  manta_value_free(v);
  CHECK_OK(manta_cancel(cancelled));
  v = mt_test_take(cancelled, 10000);
  mt_test_check_error(v, MANTA_ERR_CANCELLED, "cancelled before it ran");
  manta_value_free(v);
  /* The gate ends: its CPU frees, the group is reserved, the call runs. */
  atomic_store(&gate_open, 1);
  CHECK_INT_EQ(mt_test_take_int(gate), 1);
  CHECK_INT_EQ(mt_test_take_int(waits), 1);
  CHECK_OK(manta_placement_group_wait(pg, 5000, NULL));
  /* Once reserved, a call goes in as before. */
  REQUIRE_OK(manta_submit("one", NULL, 0, o, &again));
  CHECK_INT_EQ(mt_test_take_int(again), 1);
  manta_call_options_free(o);
  CHECK_OK(manta_placement_group_remove(pg));

  /* Removed before it was reserved: the waiting call fails, CANCELLED. */
  gate = start_gate();
  pg = make(1, "CPU", 2, MANTA_PG_PACK);
  o = in_group(pg, -1);
  REQUIRE_OK(manta_submit("one", NULL, 0, o, &waits));
  CHECK_ERR(manta_get(waits, 100, &v), MANTA_ERR_TIMEOUT);
  manta_value_free(v);
  CHECK_OK(manta_placement_group_remove(pg));
  v = mt_test_take(waits, 10000);
  mt_test_check_error(v, MANTA_ERR_CANCELLED, "was removed before it ran");
  manta_value_free(v);
  manta_call_options_free(o);
  atomic_store(&gate_open, 1);
  CHECK_INT_EQ(mt_test_take_int(gate), 1);
}

/* An actor created into a group not reserved yet gets its handle at once;
 * its creation waits for the group, and calls made meanwhile wait in
 * order behind the constructor. Removed first: the actor is not created,
 * and every call fails with an error naming the group and why. */
static void test_actor_waits_for_group(void) {
  manta_ref gate = start_gate(); /* one of the 2 CPUs */
  manta_placement_group pg = make(1, "CPU", 2, MANTA_PG_PACK);
  CHECK_ERR(manta_placement_group_wait(pg, 0, NULL), MANTA_ERR_TIMEOUT);
  manta_call_options *o = in_group(pg, 0);
  manta_actor a;
  REQUIRE_OK(manta_actor_create("Counter", NULL, 0, o, &a));
  manta_ref calls[3];
  for (int i = 0; i < 3; i++) {
    REQUIRE_OK(manta_actor_call(a, "next", NULL, 0, &calls[i]));
  }
  manta_value *v = NULL;
  CHECK_ERR(manta_get(calls[0], 200, &v), MANTA_ERR_TIMEOUT); /* waits */
  manta_value_free(v);
  atomic_store(&gate_open, 1);
  CHECK_INT_EQ(mt_test_take_int(gate), 1);
  for (int i = 0; i < 3; i++) {
    CHECK_INT_EQ(mt_test_take_int(calls[i]), 11 + i);
  }
  /* It holds its bundle: one more call still goes. */
  REQUIRE_OK(manta_actor_call(a, "next", NULL, 0, &calls[0]));
  CHECK_INT_EQ(mt_test_take_int(calls[0]), 14);
  CHECK_OK(manta_actor_release(a));
  CHECK_OK(manta_placement_group_remove(pg));

  /* Removed while pending: the calls fail with the group's reason. */
  gate = start_gate();
  pg = make(1, "CPU", 2, MANTA_PG_PACK);
  CHECK_OK(manta_call_options_set_placement_group(o, pg, -1));
  REQUIRE_OK(manta_actor_create("Counter", NULL, 0, o, &a));
  REQUIRE_OK(manta_actor_call(a, "next", NULL, 0, &calls[0]));
  CHECK_ERR(manta_get(calls[0], 100, &v), MANTA_ERR_TIMEOUT);
  manta_value_free(v);
  manta_value *info = NULL;
  REQUIRE_OK(manta_placement_group_info(pg, &info));
  const manta_value *id = NULL;
  const char *hex = "";
  REQUIRE_OK(manta_map_find(info, "id", &id));
  REQUIRE_OK(manta_get_string(id, &hex, NULL));
  char want[120];
  snprintf(want, sizeof want, "placement group %s was removed before it ran",
           hex);
  manta_value_free(info);
  CHECK_OK(manta_placement_group_remove(pg));
  v = mt_test_take(calls[0], 10000);
  mt_test_check_error(v, MANTA_ERR_ACTOR_DEAD, want);
  manta_value_free(v);
  /* A call made after it died fails the same way, at once. */
  REQUIRE_OK(manta_actor_call(a, "next", NULL, 0, &calls[1]));
  v = mt_test_take(calls[1], 10000);
  mt_test_check_error(v, MANTA_ERR_ACTOR_DEAD, want);
  manta_value_free(v);
  CHECK_OK(manta_actor_release(a));

  /* Killed while it waits: its calls fail at once, and nothing is built
   * once the group is reserved. */
  pg = make(1, "CPU", 2, MANTA_PG_PACK);
  CHECK_OK(manta_call_options_set_placement_group(o, pg, 0));
  REQUIRE_OK(manta_actor_create("Counter", NULL, 0, o, &a));
  REQUIRE_OK(manta_actor_call(a, "next", NULL, 0, &calls[0]));
  CHECK_OK(manta_actor_kill(a));
  v = mt_test_take(calls[0], 10000);
  mt_test_check_error(v, MANTA_ERR_ACTOR_DEAD, "killed by manta_actor_kill");
  manta_value_free(v);
  manta_call_options_free(o);
  atomic_store(&gate_open, 1);
  CHECK_INT_EQ(mt_test_take_int(gate), 1);
  CHECK_OK(manta_placement_group_wait(pg, 5000, NULL));
  REQUIRE_OK(manta_actor_call(a, "next", NULL, 0, &calls[0]));
  v = mt_test_take(calls[0], 10000);
  mt_test_check_error(v, MANTA_ERR_ACTOR_DEAD, "killed by manta_actor_kill");
  manta_value_free(v);
  CHECK_OK(manta_actor_release(a));
  CHECK_OK(manta_placement_group_remove(pg));
}

static void test_call_larger_than_bundle(void) {
  manta_placement_group pg = make(2, "CPU", 1, MANTA_PG_PACK);
  CHECK_OK(manta_placement_group_wait(pg, 5000, NULL));
  manta_call_options *o = in_group(pg, 0);
  REQUIRE_OK(manta_call_options_set_num_cpus(o, 2));
  manta_value *v = run("one", o);
  mt_test_check_error(v, MANTA_ERR_INFEASIBLE,
                      "asks more than bundle 0 of placement group");
  manta_value_free(v);
  CHECK_OK(manta_call_options_set_placement_group(o, pg, -1));
  v = run("one", o);
  mt_test_check_error(v, MANTA_ERR_INFEASIBLE, "than any bundle");
  manta_value_free(v);
  CHECK_OK(manta_call_options_set_placement_group(o, pg, 2));
  v = run("one", o);
  mt_test_check_error(v, MANTA_ERR_RANGE, "has 2 bundles");
  manta_value_free(v);
  manta_call_options_free(o);
  CHECK_OK(manta_placement_group_remove(pg));
}

/* Removing a group: the running task's ref resolves now (its thread runs
 * on, its CPU still counted until it ends), the queued one fails, actors
 * in it die. */
static void test_remove_fails_calls(void) {
  manta_placement_group pg = make(1, "CPU", 1, MANTA_PG_PACK);
  CHECK_OK(manta_placement_group_wait(pg, 5000, NULL));
  atomic_store(&gate_open, 0);
  atomic_store(&gate_started, 0);
  manta_call_options *o = in_group(pg, 0);
  manta_ref running, queued;
  REQUIRE_OK(manta_submit("gate", NULL, 0, o, &running));
  for (int i = 0; i < 5000 && !atomic_load(&gate_started); i++) {
    mt_test_sleep_ms(1);
  }
  REQUIRE_OK(manta_submit("one", NULL, 0, o, &queued));
  manta_value *v = NULL;
  CHECK_ERR(manta_get(queued, 100, &v), MANTA_ERR_TIMEOUT); /* no CPU left */
  manta_value_free(v);
  manta_call_options_free(o);

  manta_placement_group pa = make(1, "CPU", 1, MANTA_PG_PACK);
  CHECK_OK(manta_placement_group_wait(pa, 5000, NULL));
  o = in_group(pa, 0);
  REQUIRE_OK(manta_call_options_set_num_cpus(o, 1));
  manta_actor a;
  REQUIRE_OK(manta_actor_create("Box", NULL, 0, o, &a));
  manta_call_options_free(o);
  manta_ref r;
  REQUIRE_OK(manta_actor_call(a, "one", NULL, 0, &r));
  CHECK_INT_EQ(mt_test_take_int(r), 1);
  CHECK(cpu_free() == 0);

  CHECK_OK(manta_placement_group_remove(pg));
  v = NULL;
  CHECK_ERR(manta_get(queued, 5000, &v), MANTA_ERR_CANCELLED);
  mt_test_check_error(v, MANTA_ERR_CANCELLED, "was removed before it ran");
  manta_value_free(v);
  v = NULL;
  CHECK_ERR(manta_get(running, 5000, &v), MANTA_ERR_CANCELLED);
  mt_test_check_error(v, MANTA_ERR_CANCELLED, "while it ran");
  manta_value_free(v);
  CHECK(cpu_free() == 0); /* the running task still holds its CPU */
  atomic_store(&gate_open, 1);
  for (int i = 0; i < 5000 && cpu_free() != 1; i++) {
    mt_test_sleep_ms(1);
  }
  CHECK(cpu_free() == 1);

  CHECK_OK(manta_placement_group_remove(pa));
  REQUIRE_OK(manta_actor_call(a, "one", NULL, 0, &r));
  v = NULL;
  CHECK_ERR(manta_get(r, 5000, &v), MANTA_ERR_ACTOR_DEAD);
  mt_test_check_error(v, MANTA_ERR_ACTOR_DEAD, "placement group");
  manta_value_free(v);
  manta_ref_release(r);
  manta_ref_release(queued);
  manta_ref_release(running);
  manta_actor_release(a);
  for (int i = 0; i < 5000 && cpu_free() != 2; i++) {
    mt_test_sleep_ms(1);
  }
  CHECK(cpu_free() == 2);
}

/* An actor whose constructor runs when its group is removed is dead at
 * once, and destroyed once its constructor returns. */
static void test_remove_kills_actor_being_built(void) {
  manta_placement_group pg = make(1, "CPU", 1, MANTA_PG_PACK);
  CHECK_OK(manta_placement_group_wait(pg, 5000, NULL));
  atomic_store(&gate_open, 0);
  atomic_store(&gate_started, 0);
  manta_call_options *o = in_group(pg, 0);
  REQUIRE_OK(manta_call_options_set_num_cpus(o, 1));
  manta_actor a;
  REQUIRE_OK(manta_actor_create("SlowBox", NULL, 0, o, &a));
  manta_call_options_free(o);
  for (int i = 0; i < 5000 && !atomic_load(&gate_started); i++) {
    mt_test_sleep_ms(1);
  }
  CHECK_OK(manta_placement_group_remove(pg));
  manta_ref r;
  manta_value *v = NULL;
  REQUIRE_OK(manta_actor_call(a, "one", NULL, 0, &r));
  CHECK_ERR(manta_get(r, 5000, &v), MANTA_ERR_ACTOR_DEAD);
  mt_test_check_error(v, MANTA_ERR_ACTOR_DEAD, "placement group");
  manta_value_free(v);
  manta_ref_release(r);
  atomic_store(&gate_open, 1);
  manta_actor_release(a);
  for (int i = 0; i < 5000 && cpu_free() != 2; i++) {
    mt_test_sleep_ms(1);
  }
  CHECK(cpu_free() == 2);
}

int main(void) {
  manta_options *opts;
  REQUIRE_OK(manta_options_new(&opts));
  REQUIRE_OK(manta_options_set_num_cpus(opts, 2));
  REQUIRE_OK(manta_init(opts));
  manta_options_free(opts);
  REQUIRE_OK(manta_register_function("one", fn_one, 0, NULL));
  REQUIRE_OK(manta_register_function("gate", fn_gate, 0, NULL));
  REQUIRE_OK(manta_register_class("Box", box_new, NULL, NULL));
  REQUIRE_OK(manta_register_method("Box", "one", box_one, 0, NULL));
  REQUIRE_OK(manta_register_class("SlowBox", slow_new, NULL, NULL));
  REQUIRE_OK(manta_register_method("SlowBox", "one", box_one, 0, NULL));
  REQUIRE_OK(manta_register_class("Counter", counter_new, counter_free, NULL));
  REQUIRE_OK(manta_register_method("Counter", "next", counter_next, 0, NULL));
  RUN_TEST(test_create_checks);
  RUN_TEST(test_reserve_and_run);
  RUN_TEST(test_infeasible_at_once);
  RUN_TEST(test_pending_until_freed);
  RUN_TEST(test_calls_wait_for_group);
  RUN_TEST(test_actor_waits_for_group);
  RUN_TEST(test_call_larger_than_bundle);
  RUN_TEST(test_remove_fails_calls);
  RUN_TEST(test_remove_kills_actor_being_built);
  /* A group left at shutdown is freed with the runtime, and so is a call
   * still waiting for a group that cannot be reserved while it stays. */
  manta_placement_group left = make(1, "CPU", 1, MANTA_PG_PACK);
  CHECK_OK(manta_placement_group_wait(left, 5000, NULL));
  manta_placement_group never = make(1, "CPU", 2, MANTA_PG_PACK);
  manta_call_options *o = in_group(never, 0);
  manta_ref stays, call;
  REQUIRE_OK(manta_submit("one", NULL, 0, o, &stays));
  manta_actor waiting; /* and so is an actor waiting for it, with a call */
  REQUIRE_OK(manta_actor_create("Counter", NULL, 0, o, &waiting));
  REQUIRE_OK(manta_actor_call(waiting, "next", NULL, 0, &call));
  manta_call_options_free(o);
  CHECK_OK(manta_shutdown());
  int64_t live = -1;
  CHECK_OK(manta_stat_get(MANTA_STAT_LIVE_VALUES, &live));
  CHECK_INT_EQ(live, 0);
  return mt_test_done();
}
