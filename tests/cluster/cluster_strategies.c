/*
 * The scheduling-strategy phase of the cluster driver (docs/scheduling.md).
 * run-cluster-test.sh starts it with a head that offers nothing and three
 * nodes that load cluster_module.c (a, b, and s, started with
 * MANTA_TEST_PIN=s for this phase); this driver joins with 1 CPU:
 *
 *   strategies  SPREAD of tasks over the nodes, then over the nodes and
 *               this driver; hard affinity to each node; hard affinity
 *               errors (a node not offering the function, one that cannot
 *               fit, an unknown one) and soft fall-backs; actors created
 *               with affinity and SPREAD; then node s killed (kill -9):
 *               tasks pinned to it fail (also one in flight), soft ones run
 *               elsewhere, and so do actors.
 */
#include "cluster_driver.h"

#include <signal.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

/* A node as the head lists it. */
typedef struct node_info {
  char id[17];
  char address[64];
  int64_t pid;
  int alive, is_head;
  int offers_where; /* the function "where" */
  int offers_pin_s; /* the function "on_s.pid": node s */
} node_info;

enum { MAX_NODES = 16 };

static int has_string(const manta_value *list, const char *s) {
  size_t n = 0, len;
  const manta_value *item;
  const char *got;
  manta_len(list, &n);
  for (size_t i = 0; i < n; i++) {
    if (manta_list_at(list, i, &item) == MANTA_OK &&
        manta_get_string(item, &got, &len) == MANTA_OK && strcmp(got, s) == 0) {
      return 1;
    }
  }
  return 0;
}

static void copy_string(const manta_value *node, const char *key, char *buf,
                        size_t size) {
  const manta_value *v;
  const char *s = "";
  size_t len;
  if (manta_map_find(node, key, &v) == MANTA_OK) {
    manta_get_string(v, &s, &len);
  }
  snprintf(buf, size, "%s", s);
}

/* Every node the head lists (alive or dead): how many. */
static int list_nodes(node_info *out) {
  manta_value *st = NULL;
  REQUIRE_OK(manta_cluster_status(getenv("MANTA_ADDRESS"), NULL, 5000, &st));
  const manta_value *nodes, *node, *v;
  REQUIRE_OK(manta_map_find(st, "nodes", &nodes));
  size_t n = 0;
  manta_len(nodes, &n);
  int k = 0;
  for (size_t i = 0; i < n && k < MAX_NODES; i++, k++) {
    node_info *ni = &out[k];
    char state[16];
    manta_list_at(nodes, i, &node);
    copy_string(node, "node_id", ni->id, sizeof ni->id);
    copy_string(node, "address", ni->address, sizeof ni->address);
    copy_string(node, "state", state, sizeof state);
    ni->alive = strcmp(state, "alive") == 0;
    ni->pid = 0;
    manta_map_find(node, "pid", &v);
    manta_get_int(v, &ni->pid);
    manta_map_find(node, "is_head", &v);
    manta_get_bool(v, &ni->is_head);
    manta_map_find(node, "functions", &v);
    ni->offers_where = has_string(v, "where");
    ni->offers_pin_s = has_string(v, "on_s.pid");
  }
  manta_value_free(st);
  return k;
}

static manta_call_options *strategy(manta_strategy s) {
  manta_call_options *o;
  REQUIRE_OK(manta_call_options_new(&o));
  REQUIRE_OK(manta_call_options_set_strategy(o, s));
  return o;
}

static manta_call_options *affinity(const char *node, int soft) {
  manta_call_options *o;
  REQUIRE_OK(manta_call_options_new(&o));
  REQUIRE_OK(manta_call_options_set_node_affinity(o, node, soft));
  return o;
}

/* where() with opts, waited for: the pid that ran it, or the error. */
static manta_value *where(const manta_call_options *opts) {
  return mt_test_call("where", opts, 30000);
}

/* Checks an error value's kind and that its message holds each part. */
static void check_error(const manta_value *v, manta_err kind, const char *part1,
                        const char *part2) {
  int ok = v && manta_value_kind(v) == MANTA_KIND_ERROR &&
           manta_error_code(v) == kind &&
           strstr(manta_error_message(v), part1) &&
           strstr(manta_error_message(v), part2);
  CHECK(ok);
  if (!ok) {
    fprintf(stderr, "expected %s with '%s' and '%s'\n", manta_errname(kind),
            part1, part2);
    mt_test_print_value("got", 0, v);
  }
}

/* "hard node affinity: node <id>" */
static const char *pinned(const char *id) {
  static char buf[64];
  snprintf(buf, sizeof buf, "hard node affinity: node %s", id);
  return buf;
}

/* where() with a hard affinity to node (and cpus CPUs, if > 0) fails with
 * kind, and its message says why after "hard node affinity: node <id>". */
static void check_pinned_task(const char *node, double cpus, manta_err kind,
                              const char *why) {
  manta_call_options *o = affinity(node, 0);
  if (cpus > 0) {
    REQUIRE_OK(manta_call_options_set_num_cpus(o, cpus));
  }
  manta_value *v = where(o);
  check_error(v, kind, pinned(node), why);
  manta_value_free(v);
  manta_call_options_free(o);
}

/* The same with a Counter: dead from the start, the cause saying why. */
static void check_pinned_actor(const char *node, manta_err kind,
                               const char *why) {
  manta_call_options *o = affinity(node, 0);
  manta_value *v = mt_test_new_actor_ask("Counter", o, "pid");
  CHECK(manta_value_kind(v) == MANTA_KIND_ERROR &&
        manta_error_code(v) == MANTA_ERR_ACTOR_DEAD);
  check_error(manta_error_cause(v), kind, pinned(node), why);
  manta_value_free(v);
  manta_call_options_free(o);
}

/* With a soft affinity to node, where() and a Counter run elsewhere: on a
 * process other than not_pid (0: any). */
static void check_soft_elsewhere(const char *node, int64_t not_pid) {
  manta_call_options *o = affinity(node, 1);
  manta_value *v[2] = {where(o), mt_test_new_actor_ask("Counter", o, "pid")};
  for (int i = 0; i < 2; i++) {
    CHECK(manta_value_kind(v[i]) == MANTA_KIND_INT && mt_test_int(v[i]) > 0 &&
          mt_test_int(v[i]) != not_pid);
    manta_value_free(v[i]);
  }
  manta_call_options_free(o);
}

/* Submits n where() tasks with SPREAD; checks that each pid of pids[k]
 * ran n/k tasks, give or take one (round-robin), and nothing else ran
 * any. */
static void check_spread(int n, const int64_t *pids, int k) {
  manta_call_options *o = strategy(MANTA_STRATEGY_SPREAD);
  manta_ref *refs = calloc((size_t)n, sizeof *refs);
  REQUIRE(refs != NULL);
  for (int i = 0; i < n; i++) {
    REQUIRE_OK(manta_submit("where", NULL, 0, o, &refs[i]));
  }
  int counts[MAX_NODES + 1] = {0};
  for (int i = 0; i < n; i++) {
    int64_t pid = mt_test_take_int(refs[i]);
    int j = 0;
    while (j < k && pids[j] != pid) {
      j++;
    }
    counts[j]++; /* counts[k]: elsewhere */
  }
  printf("spread: %d tasks over %d nodes:", n, k);
  for (int j = 0; j < k; j++) {
    printf(" %d", counts[j]);
    CHECK(counts[j] >= n / k && counts[j] <= (n + k - 1) / k);
  }
  printf("\n");
  CHECK_INT_EQ(counts[k], 0);
  free(refs);
  manta_call_options_free(o);
}

static manta_value *driver_where(const manta_value *const *a, size_t n,
                                 void *u) {
  (void)a, (void)n, (void)u;
  return manta_int((int64_t)getpid());
}

/* The live nodes offering where(): their pids in pids, how many. */
static int where_nodes(const node_info *nodes, int n, int64_t *pids) {
  int k = 0;
  for (int i = 0; i < n; i++) {
    if (nodes[i].alive && nodes[i].offers_where) {
      pids[k++] = nodes[i].pid;
    }
  }
  return k;
}

static void test_spread(void) {
  node_info nodes[MAX_NODES];
  int64_t pids[MAX_NODES + 1];
  int k = where_nodes(nodes, list_nodes(nodes), pids);
  REQUIRE(k == 3); /* a, b, s; the head and this driver offer nothing */
  check_spread(100, pids, k);
  /* Once this driver offers where() too, it takes its turn. */
  REQUIRE_OK(manta_register_function("where", driver_where, 0, NULL));
  pids[k++] = getpid();
  check_spread(100, pids, k);
}

static void test_hard_affinity(void) {
  node_info nodes[MAX_NODES];
  int n = list_nodes(nodes);
  char self[17];
  REQUIRE_OK(manta_node_id(self, sizeof self));
  int checked = 0;
  for (int i = 0; i < n; i++) {
    if (!nodes[i].alive || !nodes[i].offers_where || nodes[i].pid == getpid()) {
      continue;
    }
    /* Each task on the named node, whatever the others' load. */
    manta_call_options *o = affinity(nodes[i].id, 0);
    enum { N = 20 };
    manta_ref refs[N];
    for (int t = 0; t < N; t++) {
      REQUIRE_OK(manta_submit("where", NULL, 0, o, &refs[t]));
    }
    int on = 0;
    for (int t = 0; t < N; t++) {
      on += mt_test_take_int(refs[t]) == nodes[i].pid;
    }
    CHECK_INT_EQ(on, N);
    manta_call_options_free(o);
    checked++;
  }
  CHECK_INT_EQ(checked, 3); /* a, b, s */
  /* This driver itself, named by its own id. */
  manta_call_options *o = affinity(self, 0);
  manta_value *v = where(o);
  CHECK_INT_EQ(mt_test_int(v), getpid());
  manta_value_free(v);
  manta_call_options_free(o);
}

/* A task whose argument is pending goes where its affinity says once the
 * argument is ready (chosen at submit, kept at dispatch). */
static void test_affinity_with_dependency(const node_info *b) {
  manta_value *args[2] = {manta_int(200), manta_int(1)};
  manta_ref dep, r;
  REQUIRE_OK(manta_submit("sleep_then", (const manta_value *const *)args, 2,
                          NULL, &dep));
  manta_value_free(args[0]);
  manta_value_free(args[1]);
  manta_call_options *o = affinity(b->id, 0);
  args[0] = manta_int(0);
  args[1] = manta_ref_value(dep);
  REQUIRE_OK(
      manta_submit("sleep_then", (const manta_value *const *)args, 2, o, &r));
  manta_value_free(args[0]);
  manta_value_free(args[1]);
  manta_value *v = NULL;
  CHECK_OK(manta_get(r, 30000, &v));
  const manta_value *pid;
  CHECK(manta_list_at(v, 1, &pid) == MANTA_OK && mt_test_int(pid) == b->pid);
  manta_value_free(v);
  manta_ref_release(r);
  manta_ref_release(dep);
  manta_call_options_free(o);
}

static void test_affinity_errors(void) {
  node_info nodes[MAX_NODES];
  int n = list_nodes(nodes);
  const node_info *head = NULL, *node = NULL;
  for (int i = 0; i < n; i++) {
    if (nodes[i].is_head) {
      head = &nodes[i];
    } else if (nodes[i].alive && nodes[i].offers_where && !node &&
               nodes[i].pid != getpid()) {
      node = &nodes[i];
    }
  }
  REQUIRE(head && node);
  /* The head offers no function: hard fails, soft runs elsewhere. */
  check_pinned_task(head->id, 0, MANTA_ERR_NOT_FOUND,
                    "does not offer a function named 'where'");
  check_pinned_actor(head->id, MANTA_ERR_NOT_FOUND,
                     "does not offer an actor class named 'Counter'");
  check_soft_elsewhere(head->id, 0);
  /* More CPUs than the node has (2). */
  check_pinned_task(node->id, 8, MANTA_ERR_INFEASIBLE,
                    "can never fit the demand (CPU 8 asked, 2 there)");
  /* No such node. */
  check_pinned_task("0123456789abcdef", 0, MANTA_ERR_NOT_FOUND,
                    "is not in the cluster");
  check_pinned_actor("0123456789abcdef", MANTA_ERR_NOT_FOUND,
                     "is not in the cluster");
  check_soft_elsewhere("0123456789abcdef", 0);
  test_affinity_with_dependency(node);
}

static void test_actors(void) {
  node_info nodes[MAX_NODES];
  int n = list_nodes(nodes);
  int k = 0;
  for (int i = 0; i < n; i++) {
    if (!nodes[i].is_head && nodes[i].alive && nodes[i].pid != getpid()) {
      /* Created with affinity to each node, it lives there. */
      manta_call_options *o = affinity(nodes[i].id, 0);
      manta_value *v = mt_test_new_actor_ask("Counter", o, "pid");
      CHECK_INT_EQ(mt_test_int(v), nodes[i].pid);
      manta_value_free(v);
      manta_call_options_free(o);
      k++;
    }
  }
  REQUIRE(k == 3);
  /* SPREAD: three actors kept alive together, on three nodes. */
  manta_call_options *o = strategy(MANTA_STRATEGY_SPREAD);
  manta_actor actors[3];
  int64_t seen[3];
  for (int i = 0; i < 3; i++) {
    REQUIRE_OK(manta_actor_create("Counter", NULL, 0, o, &actors[i]));
  }
  for (int i = 0; i < 3; i++) {
    manta_ref r;
    REQUIRE_OK(manta_actor_call(actors[i], "pid", NULL, 0, &r));
    seen[i] = mt_test_take_int(r);
    manta_actor_release(actors[i]);
  }
  int distinct = 0;
  for (int i = 0; i < 3; i++) {
    int dup = 0;
    for (int j = 0; j < i; j++) {
      dup |= seen[j] == seen[i];
    }
    distinct += !dup;
  }
  CHECK_INT_EQ(distinct, 3);
  manta_call_options_free(o);
}

/* sleep_then(ms, 0) pinned to node, not waited for. */
static manta_ref sleep_on(const char *node, int soft, int64_t ms) {
  manta_call_options *o = affinity(node, soft);
  manta_value *args[2] = {manta_int(ms), manta_int(0)};
  manta_ref r;
  REQUIRE_OK(
      manta_submit("sleep_then", (const manta_value *const *)args, 2, o, &r));
  manta_value_free(args[0]);
  manta_value_free(args[1]);
  manta_call_options_free(o);
  return r;
}

/* Node s killed: hard affinity fails (in flight too), soft runs elsewhere.
 */
static void test_dead_node(void) {
  node_info nodes[MAX_NODES];
  int n = list_nodes(nodes);
  const node_info *s = NULL;
  for (int i = 0; i < n; i++) {
    if (nodes[i].alive && nodes[i].offers_pin_s) {
      s = &nodes[i];
    }
  }
  REQUIRE(s != NULL);
  manta_ref hard = sleep_on(s->id, 0, 3000), soft = sleep_on(s->id, 1, 3000);
  mt_test_sleep_ms(300); /* both sent and running there */
  printf("strategies: killing node s (pid %lld)\n", (long long)s->pid);
  fflush(stdout);
  REQUIRE(kill((pid_t)s->pid, SIGKILL) == 0);
  manta_value *v = NULL;
  CHECK_ERR(manta_get(hard, 30000, &v), MANTA_ERR_NODE_DIED);
  check_error(v, MANTA_ERR_NODE_DIED, pinned(s->id), s->address);
  manta_value_free(v);
  v = NULL;
  CHECK_OK(manta_get(soft, 30000, &v)); /* run again elsewhere */
  const manta_value *pid;
  CHECK(manta_list_at(v, 1, &pid) == MANTA_OK && mt_test_int(pid) != s->pid);
  manta_value_free(v);
  manta_ref_release(hard);
  manta_ref_release(soft);
  /* Once this driver's view says it is dead (the head declares it after
   * 3 s of silence; at most 10 s here). */
  v = NULL;
  manta_call_options *o = affinity(s->id, 0);
  for (int i = 0; i < 100; i++) {
    manta_value_free(v);
    v = where(o);
    if (strstr(manta_error_message(v), "is dead")) {
      break;
    }
    mt_test_sleep_ms(100);
  }
  check_error(v, MANTA_ERR_NODE_DIED, pinned(s->id), "is dead");
  manta_value_free(v);
  manta_call_options_free(o);
  check_pinned_actor(s->id, MANTA_ERR_NODE_DIED, "is dead");
  /* Soft: placed as by default. */
  check_soft_elsewhere(s->id, s->pid);
}

int cluster_strategy_phase(const char *phase) {
  if (strcmp(phase, "strategies") != 0) {
    return 0;
  }
  RUN_TEST(test_spread);
  RUN_TEST(test_hard_affinity);
  RUN_TEST(test_affinity_errors);
  RUN_TEST(test_actors);
  RUN_TEST(test_dead_node);
  return 1;
}
