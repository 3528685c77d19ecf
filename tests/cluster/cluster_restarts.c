/*
 * The actor-restart phase of the cluster driver (run-actor-restart-test.sh):
 *
 *   actor_restart  an actor with max_restarts 1 and max_task_retries 1 on
 *                  one of two nodes offering its class; kill -9 of its node
 *                  mid-call: the call is sent again and answers, the actor
 *                  lives again on the other node with its constructor's
 *                  state, found by its name; a second kill -9 finds no
 *                  restart left: calls fail with
 *                  ACTOR_DEAD saying how many restarts were made
 */
#include "cluster_driver.h"

#include <signal.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

/* Kills the node of pid with SIGKILL (the test's nodes only). */
static void kill_node(int64_t pid, const char *when) {
  printf("actor_restart: kill -9 of node pid %lld %s\n", (long long)pid, when);
  fflush(stdout);
  REQUIRE(pid > 1 && kill((pid_t)pid, SIGKILL) == 0);
}

static void test_restart_then_exhausted(void) {
  manta_call_options *o;
  REQUIRE_OK(manta_call_options_new(&o));
  CHECK_ERR(manta_call_options_set_max_restarts(o, -2), MANTA_ERR_INVALID);
  CHECK_ERR(manta_call_options_set_max_task_retries(o, -2), MANTA_ERR_INVALID);
  REQUIRE_OK(manta_call_options_set_max_restarts(o, 1));
  REQUIRE_OK(manta_call_options_set_max_task_retries(o, 1));
  REQUIRE_OK(manta_call_options_set_name(o, "phoenix"));
  manta_actor a = {0};
  manta_value *start = manta_int(100);
  REQUIRE_OK(manta_actor_create("Phoenix", (const manta_value *const *)&start,
                                1, o, &a));
  manta_value_free(start);
  manta_call_options_free(o);

  int64_t first = call_int(a, "pid", NULL, 0);
  CHECK_INT_EQ(call_int(a, "add", (manta_value *[]){manta_int(5)}, 1), 105);

  /* In flight when the node dies: sent again to the new instance. */
  manta_ref slow = mt_test_actor_call_async(
      a, "slow", (manta_value *[]){manta_int(1500)}, 1);
  mt_test_sleep_ms(300);
  kill_node(first, "mid-call (a restart left)");
  /* Made just after the kill: sent to the dead node and sent again, or
   * held until the actor is back; either way it runs on the new one. */
  manta_ref queued =
      mt_test_actor_call_async(a, "add", (manta_value *[]){manta_int(1)}, 1);
  manta_value *v = NULL;
  CHECK_OK(manta_get(slow, 30000, &v));
  CHECK_INT_EQ(mt_test_int(v), 1500);
  manta_value_free(v);
  v = NULL;
  /* The constructor ran again with its argument: the state restarted at
   * 100, not at the 105 the dead instance had. */
  CHECK_OK(manta_get(queued, 30000, &v));
  CHECK_INT_EQ(mt_test_int(v), 101);
  manta_value_free(v);
  manta_ref_release(slow);
  manta_ref_release(queued);
  int64_t second = call_int(a, "pid", NULL, 0);
  CHECK(second != first && second > 1);
  CHECK_INT_EQ(call_int(a, "get", NULL, 0), 101);
  printf("actor_restart: restarted from pid %lld on pid %lld\n",
         (long long)first, (long long)second);
  /* Its name names the new instance (the head may take a moment to hear). */
  manta_actor found = {0};
  manta_err look = MANTA_ERR_NOT_FOUND;
  for (int i = 0; i < 100; i++) {
    look = manta_actor_lookup("phoenix", &found);
    if (look == MANTA_OK) {
      if (call_int(found, "pid", NULL, 0) == second) {
        break;
      }
      manta_actor_release(found);
      look = MANTA_ERR_NOT_FOUND;
    }
    mt_test_sleep_ms(100);
  }
  CHECK_OK(look);
  if (look == MANTA_OK) {
    CHECK_INT_EQ(call_int(found, "get", NULL, 0), 101);
    manta_actor_release(found);
  }

  /* The second death: no restart is left, so the call in flight fails too
   * (a retry needs an actor to go to), and so does every later call. */
  slow = mt_test_actor_call_async(a, "slow", (manta_value *[]){manta_int(1500)},
                                  1);
  mt_test_sleep_ms(300);
  kill_node(second, "mid-call (no restart left)");
  v = NULL;
  manta_err err = manta_get(slow, 30000, &v);
  CHECK_ERR(err, MANTA_ERR_ACTOR_DEAD);
  manta_value_free(v);
  manta_ref_release(slow);
  int said = 0;
  for (int i = 0; i < 100 && !said; i++) {
    v = mt_test_actor_call_get(a, "get", NULL, 0, 30000);
    REQUIRE(manta_value_kind(v) == MANTA_KIND_ERROR);
    CHECK_ERR(manta_error_code(v), MANTA_ERR_ACTOR_DEAD);
    said = strstr(manta_error_message(v),
                  "restarted 1 time, no restart left") != NULL;
    if (!said && i == 99) {
      mt_test_print_value("last call", i, v);
    }
    manta_value_free(v);
    if (!said) {
      mt_test_sleep_ms(100);
    }
  }
  CHECK(said);
  manta_actor_release(a);
}

/* The node id of the node with this pid ("" if none), from the head. */
static void node_of_pid(int64_t pid, char *id, size_t size) {
  manta_value *st = NULL;
  const manta_value *nodes, *node, *v;
  const char *s;
  size_t len, n = 0;
  id[0] = '\0';
  REQUIRE_OK(manta_cluster_status(getenv("MANTA_ADDRESS"), NULL, 5000, &st));
  REQUIRE_OK(manta_map_find(st, "nodes", &nodes));
  manta_len(nodes, &n);
  for (size_t i = 0; i < n; i++) {
    int64_t p = 0;
    manta_list_at(nodes, i, &node);
    if (manta_map_find(node, "pid", &v) == MANTA_OK &&
        manta_get_int(v, &p) == MANTA_OK && p == pid &&
        manta_map_find(node, "node_id", &v) == MANTA_OK &&
        manta_get_string(v, &s, &len) == MANTA_OK) {
      snprintf(id, size, "%.*s", (int)len, s);
    }
  }
  manta_value_free(st);
}

static manta_actor create_on(const char *node, int restarts, int64_t start) {
  manta_call_options *o;
  REQUIRE_OK(manta_call_options_new(&o));
  REQUIRE_OK(manta_call_options_set_node_affinity(o, node, 0));
  if (restarts) {
    REQUIRE_OK(manta_call_options_set_max_restarts(o, restarts));
    REQUIRE_OK(manta_call_options_set_max_task_retries(o, -1));
  }
  manta_actor a = {0};
  manta_value *arg = manta_int(start);
  REQUIRE_OK(manta_actor_create("Phoenix", (const manta_value *const *)&arg, 1,
                                o, &a));
  manta_value_free(arg);
  manta_call_options_free(o);
  return a;
}

/* Log lines of the runtime that tell a restart began, and that it moved
 * on to another node. */
static _Atomic int restarted, moved_on;

static void watch_log(manta_log_level level, const char *message, void *arg) {
  (void)level, (void)arg;
  if (strstr(message, "where actor Phoenix lived, died; creating it again")) {
    restarted++;
  }
  if (strstr(message, "creating actor Phoenix again on node") &&
      strstr(message, "trying node")) {
    moved_on++;
  }
  fprintf(stderr, "log: %s\n", message);
}

/* The restart's first choice dies before answering the creation: the
 * restart tries the other node offering the class. While the creation
 * waits for b, calls queue up to the bound of 100000; the next one fails at
 * once. Nodes a, b, c: pids in MANTA_TEST_PIDS ("a,b,c"); the cluster's
 * dead-after time (MANTA_DEAD_AFTER_MS) is long enough for 100000 calls. */
static void test_restart_elsewhere(void) {
  const char *pids = getenv("MANTA_TEST_PIDS");
  const char *dead_after = getenv("MANTA_DEAD_AFTER_MS");
  long long pa = 0, pb = 0, pc = 0;
  REQUIRE(pids && sscanf(pids, "%lld,%lld,%lld", &pa, &pb, &pc) == 3);
  REQUIRE(dead_after && atol(dead_after) >= 2000);
  char a_id[40], c_id[40];
  node_of_pid(pa, a_id, sizeof a_id);
  node_of_pid(pc, c_id, sizeof c_id);
  REQUIRE(a_id[0] && c_id[0]);
  manta_log_set_handler(watch_log, NULL);

  /* c hosts one actor already, so b (none) is the restart's first choice. */
  manta_actor other = create_on(c_id, 0, 0);
  CHECK_INT_EQ(call_int(other, "pid", NULL, 0), pc);
  mt_test_sleep_ms(1500); /* the head's view, then ours, count it */

  manta_actor a = create_on(a_id, 1, 100);
  CHECK_INT_EQ(call_int(a, "pid", NULL, 0), pa);
  CHECK_INT_EQ(call_int(a, "add", (manta_value *[]){manta_int(5)}, 1), 105);
  kill_node(pa, "(a restart left)");
  /* b stops half a dead-after time later: still alive in the view when a
   * is declared dead, so the restart sends it the creation, which it never
   * answers; declared dead in turn (half a dead-after time after a), it
   * fails the creation. */
  mt_test_sleep_ms(atol(dead_after) / 2);
  printf("actor_restart: SIGSTOP of node b (pid %lld)\n", pb);
  fflush(stdout);
  REQUIRE(kill((pid_t)pb, SIGSTOP) == 0);
  /* This driver's view says a is dead: the restart began (the creation is
   * on its way to b), and calls queue in the mailbox until it is done. */
  int i = 0;
  for (; i < 300 && !restarted; i++) {
    mt_test_sleep_ms(100);
  }
  REQUIRE(i < 300);

  /* The creation is under way on b: calls queue, up to the bound. */
  enum { BOUND = 100000 };
  manta_ref *refs = calloc(BOUND, sizeof *refs);
  REQUIRE(refs != NULL);
  size_t queued = 0;
  manta_value *refused_call = NULL;
  for (size_t k = 0; k <= BOUND && !refused_call; k++) {
    manta_ref r = mt_test_actor_call_async(a, "get", NULL, 0);
    manta_value *v = NULL;
    manta_get(r, 0, &v);
    if (v && manta_error_code(v) == MANTA_ERR_CANCELLED) {
      refused_call = v;
      manta_ref_release(r);
      break;
    }
    if (v && manta_error_code(v) != MANTA_ERR_TIMEOUT) {
      mt_test_print_value("call during the restart", (int)k, v);
      REQUIRE(0);
    }
    manta_value_free(v);
    REQUIRE(queued < BOUND);
    refs[queued++] = r;
  }
  printf("actor_restart: %zu calls queued during the restart\n", queued);
  CHECK(queued == BOUND);
  CHECK(refused_call &&
        strstr(manta_error_message(refused_call), "being restarted") &&
        strstr(manta_error_message(refused_call), "100000 calls"));
  if (refused_call) {
    mt_test_print_value("call beyond the bound", 0, refused_call);
  }
  manta_value_free(refused_call);

  /* b is declared dead, the creation goes to c: the actor lives there
   * (its constructor's state) and every queued call answers. */
  for (i = 0; i < 600 && !moved_on; i++) {
    mt_test_sleep_ms(100);
  }
  CHECK(moved_on == 1);
  size_t right = 0;
  for (size_t k = 0; k < queued; k++) {
    manta_value *v = mt_test_take(refs[k], 120000);
    right += manta_value_kind(v) == MANTA_KIND_INT && mt_test_int(v) == 100;
    manta_value_free(v);
  }
  free(refs);
  CHECK(right == queued);
  CHECK_INT_EQ(call_int(a, "pid", NULL, 0), pc);
  manta_actor_release(a);
  manta_actor_release(other);
  manta_log_set_handler(NULL, NULL);
  kill((pid_t)pb, SIGCONT);
}

int cluster_restart_phase(const char *phase) {
  if (strcmp(phase, "actor_restart") == 0) {
    RUN_TEST(test_restart_then_exhausted);
    return 1;
  }
  if (strcmp(phase, "restart_elsewhere") == 0) {
    RUN_TEST(test_restart_elsewhere);
    return 1;
  }
  return 0;
}
