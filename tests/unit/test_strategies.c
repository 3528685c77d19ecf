/* Scheduling strategies on the embedded runtime (docs/scheduling.md): the
 * option setters, this node's id, SPREAD as the default, node affinity to
 * this node and to another one, hard and soft, for tasks and actors. */
#include "test_util.h"

#include <string.h>
#include <unistd.h>

/* Not this node's id (ids are random and new at each init). */
static const char *other_id(const char *self) {
  return strcmp(self, "0123456789abcdef") ? "0123456789abcdef"
                                          : "fedcba9876543210";
}

static manta_value *fn_pid(const manta_value *const *args, size_t n, void *u) {
  (void)args, (void)n, (void)u;
  return manta_int((int64_t)getpid());
}

static void *box_new(const manta_value *const *args, size_t n, void *cd,
                     manta_value **error) {
  (void)args, (void)n, (void)cd, (void)error;
  return NULL;
}

static manta_value *box_pid(void *state, const manta_value *const *args,
                            size_t n, void *md) {
  (void)state, (void)args, (void)n, (void)md;
  return manta_int((int64_t)getpid());
}

static manta_call_options *affinity(const char *node, int soft) {
  manta_call_options *o;
  REQUIRE_OK(manta_call_options_new(&o));
  REQUIRE_OK(manta_call_options_set_node_affinity(o, node, soft));
  return o;
}

/* Submits fn with opts and waits; the result or error value. */
static manta_value *run(const char *fn, const manta_call_options *opts) {
  return mt_test_call(fn, opts, 10000);
}

/* The error value of a failed call: its kind, and a message that starts
 * with `prefix` and holds `part`. */
static void check_error(const manta_value *v, manta_err kind,
                        const char *prefix, const char *part) {
  CHECK(manta_value_kind(v) == MANTA_KIND_ERROR);
  CHECK_ERR(manta_error_code(v), kind);
  const char *msg = manta_error_message(v);
  CHECK(strncmp(msg, prefix, strlen(prefix)) == 0);
  CHECK(strstr(msg, part) != NULL);
  if (strncmp(msg, prefix, strlen(prefix)) != 0 || !strstr(msg, part)) {
    mt_test_print_value("error", 0, v);
  }
}

static void test_setters(void) {
  manta_call_options *o;
  REQUIRE_OK(manta_call_options_new(&o));
  CHECK_OK(manta_call_options_set_strategy(o, MANTA_STRATEGY_SPREAD));
  CHECK_OK(manta_call_options_set_strategy(o, MANTA_STRATEGY_DEFAULT));
  /* An affinity needs its node; unknown values are refused. */
  CHECK_ERR(manta_call_options_set_strategy(o, MANTA_STRATEGY_NODE_AFFINITY),
            MANTA_ERR_INVALID);
  CHECK_ERR(manta_call_options_set_strategy(o, (manta_strategy)3),
            MANTA_ERR_INVALID);
  CHECK_ERR(manta_call_options_set_strategy(o, (manta_strategy)-1),
            MANTA_ERR_INVALID);
  CHECK_ERR(manta_call_options_set_strategy(NULL, MANTA_STRATEGY_SPREAD),
            MANTA_ERR_INVALID);
  CHECK_OK(manta_call_options_set_node_affinity(o, "0123456789abcdef", 0));
  CHECK_OK(manta_call_options_set_node_affinity(o, "0123456789ABCDEF", 1));
  CHECK_OK(manta_call_options_set_node_affinity(o, "1", 0));
  const char *bad[] = {"",    "0",  "0000000000000000",  "0x12", " 12",
                       "12 ", "-1", "0123456789abcdef0", "node", "12g"};
  for (size_t i = 0; i < sizeof bad / sizeof *bad; i++) {
    CHECK_ERR(manta_call_options_set_node_affinity(o, bad[i], 0),
              MANTA_ERR_INVALID);
  }
  CHECK_ERR(manta_call_options_set_node_affinity(o, NULL, 0),
            MANTA_ERR_INVALID);
  CHECK_ERR(manta_call_options_set_node_affinity(NULL, "1", 0),
            MANTA_ERR_INVALID);
  manta_call_options_free(o);
}

static void test_node_id(void) {
  char id[17], small[16];
  REQUIRE_OK(manta_node_id(id, sizeof id));
  CHECK_INT_EQ(strlen(id), 16);
  CHECK(strspn(id, "0123456789abcdef") == 16);
  CHECK_ERR(manta_node_id(small, sizeof small), MANTA_ERR_RANGE);
  CHECK_ERR(manta_node_id(NULL, 17), MANTA_ERR_INVALID);
  /* Embedded, there is no address, but there is an id. */
  char address[64];
  CHECK_ERR(manta_node_address(address, sizeof address), MANTA_ERR_NOT_FOUND);
}

/* One node: SPREAD runs everything here, as the default does. */
static void test_spread_is_default(void) {
  manta_call_options *o;
  REQUIRE_OK(manta_call_options_new(&o));
  REQUIRE_OK(manta_call_options_set_strategy(o, MANTA_STRATEGY_SPREAD));
  enum { N = 20 };
  manta_ref refs[N];
  for (int i = 0; i < N; i++) {
    REQUIRE_OK(manta_submit("pid", NULL, 0, o, &refs[i]));
  }
  for (int i = 0; i < N; i++) {
    CHECK_INT_EQ(mt_test_take_int(refs[i]), getpid());
  }
  manta_call_options_free(o);
}

static void test_affinity_tasks(void) {
  char self[17], prefix[80];
  REQUIRE_OK(manta_node_id(self, sizeof self));
  /* To this node, hard or soft: it runs here. */
  for (int soft = 0; soft <= 1; soft++) {
    manta_call_options *o = affinity(self, soft);
    manta_value *v = run("pid", o);
    CHECK_INT_EQ(mt_test_int(v), getpid());
    manta_value_free(v);
    manta_call_options_free(o);
  }
  /* Hard, to this node, which cannot run the call: why, naming it. */
  snprintf(prefix, sizeof prefix, "hard node affinity: node %s (this node)",
           self);
  manta_call_options *o = affinity(self, 0);
  manta_value *v = run("no_such_function", o);
  check_error(v, MANTA_ERR_NOT_FOUND, prefix, "no_such_function");
  manta_value_free(v);
  REQUIRE_OK(manta_call_options_set_num_cpus(o, 64));
  v = run("pid", o);
  check_error(v, MANTA_ERR_INFEASIBLE, prefix, "more resources");
  manta_value_free(v);
  manta_call_options_free(o);
  /* Hard, to another node: there is none. */
  const char *other = other_id(self);
  snprintf(prefix, sizeof prefix,
           "hard node affinity: node %s is not in the cluster", other);
  o = affinity(other, 0);
  v = run("pid", o);
  check_error(v, MANTA_ERR_NOT_FOUND, prefix, "embedded");
  manta_value_free(v);
  manta_call_options_free(o);
  /* Soft, to another node: here instead. */
  o = affinity(other, 1);
  v = run("pid", o);
  CHECK_INT_EQ(mt_test_int(v), getpid());
  manta_value_free(v);
  /* The strategy set last wins. */
  REQUIRE_OK(manta_call_options_set_node_affinity(o, other, 0));
  REQUIRE_OK(manta_call_options_set_strategy(o, MANTA_STRATEGY_DEFAULT));
  v = run("pid", o);
  CHECK_INT_EQ(mt_test_int(v), getpid());
  manta_value_free(v);
  manta_call_options_free(o);
}

static void test_affinity_actors(void) {
  char self[17], prefix[80];
  REQUIRE_OK(manta_node_id(self, sizeof self));
  const char *other = other_id(self);
  const char *alive[][2] = {{self, "hard"}, {self, "soft"}, {other, "soft"}};
  for (size_t i = 0; i < 3; i++) {
    manta_call_options *o =
        affinity(alive[i][0], strcmp(alive[i][1], "soft") == 0);
    manta_value *v = mt_test_new_actor_ask("Box", o, "pid");
    CHECK_INT_EQ(mt_test_int(v), getpid());
    manta_value_free(v);
    manta_call_options_free(o);
  }
  manta_call_options *o;
  REQUIRE_OK(manta_call_options_new(&o));
  REQUIRE_OK(manta_call_options_set_strategy(o, MANTA_STRATEGY_SPREAD));
  manta_value *v = mt_test_new_actor_ask("Box", o, "pid");
  CHECK_INT_EQ(mt_test_int(v), getpid());
  manta_value_free(v);
  manta_call_options_free(o);
  /* Hard, to another node: dead from the start, the reason as cause. */
  o = affinity(other, 0);
  v = mt_test_new_actor_ask("Box", o, "pid");
  CHECK_ERR(manta_error_code(v), MANTA_ERR_ACTOR_DEAD);
  const manta_value *cause = manta_error_cause(v);
  REQUIRE(cause != NULL);
  snprintf(prefix, sizeof prefix,
           "hard node affinity: node %s is not in the cluster", other);
  check_error(cause, MANTA_ERR_NOT_FOUND, prefix, "embedded");
  manta_value_free(v);
  manta_call_options_free(o);
  /* Hard, to this node, which lacks the class. */
  o = affinity(self, 0);
  v = mt_test_new_actor_ask("NoSuchClass", o, "pid");
  cause = manta_error_cause(v);
  REQUIRE(cause != NULL);
  snprintf(prefix, sizeof prefix, "hard node affinity: node %s (this node)",
           self);
  check_error(cause, MANTA_ERR_NOT_FOUND, prefix, "NoSuchClass");
  manta_value_free(v);
  manta_call_options_free(o);
  int64_t live = -1;
  CHECK_OK(manta_stat_get(MANTA_STAT_LIVE_ACTORS, &live));
  CHECK_INT_EQ(live, 0);
}

int main(void) {
  RUN_TEST(test_setters);
  char id[17];
  CHECK_ERR(manta_node_id(id, sizeof id), MANTA_ERR_NOT_INITIALIZED);
  manta_options *opts;
  REQUIRE_OK(manta_options_new(&opts));
  REQUIRE_OK(manta_options_set_num_cpus(opts, 2));
  REQUIRE_OK(manta_init(opts));
  manta_options_free(opts);
  REQUIRE_OK(manta_register_function("pid", fn_pid, 0, NULL));
  REQUIRE_OK(manta_register_class("Box", box_new, NULL, NULL));
  REQUIRE_OK(manta_register_method("Box", "pid", box_pid, 0, NULL));
  RUN_TEST(test_node_id);
  RUN_TEST(test_spread_is_default);
  RUN_TEST(test_affinity_tasks);
  RUN_TEST(test_affinity_actors);
  CHECK_OK(manta_shutdown());
  int64_t live = -1;
  CHECK_OK(manta_stat_get(MANTA_STAT_LIVE_VALUES, &live));
  CHECK_INT_EQ(live, 0);
  return mt_test_done();
}
