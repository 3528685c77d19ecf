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

/* The actor a (total 105, living on the node of pid first, restarted
 * from 100 by its constructor) loses its node with SIGKILL mid-call: the
 * call in flight is sent again to the new instance, and a call made just
 * after the kill (sent to the dead node and sent again, or held until the
 * actor is back) runs on it and sees 101, not 106. Returns the new
 * instance's pid. */
static int64_t kill_mid_call(manta_actor a, int64_t first, const char *when) {
  manta_ref slow = mt_test_actor_call_async(
      a, "slow", (manta_value *[]){manta_int(1500)}, 1);
  mt_test_sleep_ms(300);
  kill_node(first, when);
  manta_ref queued =
      mt_test_actor_call_async(a, "add", (manta_value *[]){manta_int(1)}, 1);
  manta_value *v = NULL;
  CHECK_OK(manta_get(slow, 60000, &v));
  CHECK_INT_EQ(mt_test_int(v), 1500);
  manta_value_free(v);
  v = NULL;
  CHECK_OK(manta_get(queued, 60000, &v));
  CHECK_INT_EQ(mt_test_int(v), 101);
  manta_value_free(v);
  manta_ref_release(slow);
  manta_ref_release(queued);
  int64_t second = call_int(a, "pid", NULL, 0);
  CHECK(second != first && second > 1);
  printf("actor_restart: restarted from pid %lld on pid %lld\n",
         (long long)first, (long long)second);
  return second;
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
  int64_t second = kill_mid_call(a, first, "mid-call (a restart left)");
  CHECK_INT_EQ(call_int(a, "get", NULL, 0), 101);
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
  manta_ref slow = mt_test_actor_call_async(
      a, "slow", (manta_value *[]){manta_int(1500)}, 1);
  mt_test_sleep_ms(300);
  kill_node(second, "mid-call (no restart left)");
  manta_value *v = NULL;
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

void node_of_pid(int64_t pid, char *id, size_t size) {
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

static manta_actor create_class_on(const char *cls, const char *node, int soft,
                                   int restarts, int64_t start) {
  manta_call_options *o;
  REQUIRE_OK(manta_call_options_new(&o));
  REQUIRE_OK(manta_call_options_set_node_affinity(o, node, soft));
  if (restarts) {
    REQUIRE_OK(manta_call_options_set_max_restarts(o, restarts));
    REQUIRE_OK(manta_call_options_set_max_task_retries(o, -1));
  }
  manta_actor a = {0};
  manta_value *arg = manta_int(start);
  REQUIRE_OK(
      manta_actor_create(cls, (const manta_value *const *)&arg, 1, o, &a));
  manta_value_free(arg);
  manta_call_options_free(o);
  return a;
}

static manta_actor create_on(const char *node, int restarts, int64_t start) {
  return create_class_on("Phoenix", node, 0, restarts, start);
}

/* Log lines of the runtime that tell a restart began, and that it moved
 * on to another node. */
static _Atomic int restarted, moved_on;

static _Atomic int ctor_failed;

static void watch_log(manta_log_level level, const char *message, void *arg) {
  (void)level, (void)arg;
  if (strstr(message, "the constructor of actor Wisp failed on node") &&
      strstr(message, "creating it again")) {
    ctor_failed++;
  }
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

  /* A soft node affinity: its restart may go elsewhere. */
  manta_actor a = create_class_on("Phoenix", a_id, 1, 1, 100);
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

/* ---- handles held by another process (run-actor-restart-test.sh) */

/* Files shared by the two drivers, in MANTA_TEST_DIR. */
static void shared_path(char *buf, size_t size, const char *name) {
  const char *dir = getenv("MANTA_TEST_DIR");
  REQUIRE(dir != NULL);
  snprintf(buf, size, "%s/%s", dir, name);
}

/* Waits (60 s at most) for a file the other driver writes. */
static void wait_file(const char *name) {
  char path[512];
  shared_path(path, sizeof path, name);
  int i = 0;
  for (; i < 600 && access(path, F_OK) != 0; i++) {
    mt_test_sleep_ms(100);
  }
  REQUIRE(i < 600);
}

static void touch_file(const char *name) {
  char path[512];
  shared_path(path, sizeof path, name);
  FILE *f = fopen(path, "w");
  REQUIRE(f != NULL);
  fclose(f);
}

/* The owner: creates an Ember (max_restarts 1, max_task_retries -1,
 * named phoenix_shared), adds 5, and hands the handle to the holder
 * process as the bytes of a value (as an argument would carry it); then
 * stays, its handle the one the restart belongs to, until the holder is
 * done, and checks that its own handle followed the restart too. */
static void test_handle_owner(void) {
  manta_call_options *o;
  REQUIRE_OK(manta_call_options_new(&o));
  REQUIRE_OK(manta_call_options_set_max_restarts(o, 1));
  REQUIRE_OK(manta_call_options_set_max_task_retries(o, -1));
  REQUIRE_OK(manta_call_options_set_name(o, "phoenix_shared"));
  manta_actor a = {0};
  manta_value *start = manta_int(100);
  REQUIRE_OK(manta_actor_create("Ember", (const manta_value *const *)&start, 1,
                                o, &a));
  manta_value_free(start);
  manta_call_options_free(o);
  CHECK_INT_EQ(call_int(a, "add", (manta_value *[]){manta_int(5)}, 1), 105);

  manta_value *hv = manta_actor_value(a);
  void *buf = NULL;
  size_t len = 0;
  REQUIRE_OK(manta_value_encode(hv, &buf, &len));
  manta_value_free(hv);
  char path[512], tmp[512];
  shared_path(path, sizeof path, "handle");
  shared_path(tmp, sizeof tmp, "handle.tmp");
  FILE *f = fopen(tmp, "wb");
  REQUIRE(f != NULL && fwrite(buf, 1, len, f) == len);
  fclose(f);
  manta_free(buf);
  REQUIRE(rename(tmp, path) == 0);
  printf("handle_owner: handle written (%zu bytes)\n", len);
  fflush(stdout);

  wait_file("holder-done");
  /* The restart was this process's: its handle sees the new instance. */
  CHECK_INT_EQ(call_int(a, "get", NULL, 0), 102);
  manta_actor_release(a);
}

/* The holder: a second driver given the handle as bytes (not by name), and
 * one found by name before the restart. Its node is killed with SIGKILL
 * mid-call; the call in flight is sent again to the restarted instance,
 * and every later call through either handle reaches it. */
static void test_handle_holder(void) {
  wait_file("handle");
  char path[512];
  shared_path(path, sizeof path, "handle");
  FILE *f = fopen(path, "rb");
  REQUIRE(f != NULL);
  uint8_t buf[256];
  size_t len = fread(buf, 1, sizeof buf, f);
  fclose(f);
  manta_value *hv = NULL;
  REQUIRE_OK(manta_value_decode(buf, len, &hv));
  manta_actor a = {0};
  REQUIRE_OK(manta_get_actor(hv, &a));
  manta_actor named = {0};
  REQUIRE_OK(manta_actor_lookup("phoenix_shared", &named));

  CHECK_INT_EQ(call_int(a, "get", NULL, 0), 105);
  int64_t first = call_int(a, "pid", NULL, 0);
  CHECK_INT_EQ(call_int(named, "pid", NULL, 0), first);

  int64_t second =
      kill_mid_call(a, first, "mid-call of a handle passed to this process");
  /* The handle found by name before the restart follows it too. */
  CHECK_INT_EQ(call_int(named, "add", (manta_value *[]){manta_int(1)}, 1), 102);
  CHECK_INT_EQ(call_int(named, "pid", NULL, 0), second);
  manta_actor_release(named);
  manta_value_free(hv); /* holds the decoded handle (a is borrowed) */
  touch_file("holder-done");
}

/* The three nodes of MANTA_TEST_PIDS ("a,b,c"): their pids and ids. */
static void three_nodes(long long pid[3], char id[3][40]) {
  const char *pids = getenv("MANTA_TEST_PIDS");
  REQUIRE(pids &&
          sscanf(pids, "%lld,%lld,%lld", &pid[0], &pid[1], &pid[2]) == 3);
  for (int i = 0; i < 3; i++) {
    node_of_pid(pid[i], id[i], sizeof id[i]);
    REQUIRE(id[i][0]);
  }
}

/* A restart whose constructor fails after its host accepted the creation:
 * nodes e, f, g offer Wisp, and every constructor on f fails (pids in
 * MANTA_TEST_PIDS "e,f,g"). The actor (max_restarts 3) lives on e; g hosts
 * another, so f is the restart's first choice when e dies: the failure
 * there counts as one restart and the next goes to g. When g dies too,
 * only f is left: its failure uses the last restart, and calls fail with
 * ACTOR_DEAD naming the constructor's error. */
static void test_restart_ctor_fails(void) {
  long long pid[3];
  char id[3][40];
  three_nodes(pid, id);
  long long pe = pid[0], pg = pid[2];
  const char *e_id = id[0], *g_id = id[2];
  manta_log_set_handler(watch_log, NULL);

  manta_actor other = create_class_on("Wisp", g_id, 0, 0, 0);
  CHECK_INT_EQ(call_int(other, "pid", NULL, 0), pg);
  mt_test_sleep_ms(1500); /* the head's view, then ours, count it */

  manta_actor a = create_class_on("Wisp", e_id, 1, 3, 100);
  CHECK_INT_EQ(call_int(a, "pid", NULL, 0), pe);
  CHECK_INT_EQ(call_int(a, "add", (manta_value *[]){manta_int(5)}, 1), 105);
  kill_node(pe, "(the restart's first node fails the constructor)");
  /* Made at once: waits for an instance whose constructor succeeded. */
  CHECK_INT_EQ(call_int(a, "add", (manta_value *[]){manta_int(1)}, 1), 101);
  CHECK_INT_EQ(call_int(a, "pid", NULL, 0), pg);
  CHECK(ctor_failed == 1);

  kill_node(pg, "(only the node failing the constructor is left)");
  int said = 0;
  for (int i = 0; i < 300 && !said; i++) {
    manta_value *v = mt_test_actor_call_get(a, "get", NULL, 0, 30000);
    REQUIRE(manta_value_kind(v) == MANTA_KIND_ERROR);
    CHECK_ERR(manta_error_code(v), MANTA_ERR_ACTOR_DEAD);
    const char *m = manta_error_message(v);
    said = strstr(m, "constructor failed on node") &&
           strstr(m, "MANTA_TEST_CTOR_FAILS") &&
           strstr(m, "restarted 3 times, no restart left");
    if (!said && i == 299) {
      mt_test_print_value("last call", i, v);
    }
    manta_value_free(v);
    if (!said) {
      mt_test_sleep_ms(100);
    }
  }
  CHECK(said);
  CHECK(ctor_failed == 1); /* the last failure ends it: no restart left */
  manta_actor_release(a);
  manta_actor_release(other);
  manta_log_set_handler(NULL, NULL);
}

/* Calls of a until one fails with ACTOR_DEAD saying what (at most 30 s). */
static void wait_dead_saying(manta_actor a, const char *what) {
  int said = 0;
  for (int i = 0; i < 300 && !said; i++) {
    manta_value *v = mt_test_actor_call_get(a, "get", NULL, 0, 30000);
    if (manta_value_kind(v) == MANTA_KIND_ERROR) {
      CHECK_ERR(manta_error_code(v), MANTA_ERR_ACTOR_DEAD);
      said = strstr(manta_error_message(v), what) != NULL;
    }
    if (said || i == 299) {
      mt_test_print_value(what, i, v);
    }
    manta_value_free(v);
    if (!said) {
      mt_test_sleep_ms(100);
    }
  }
  CHECK(said);
}

/* The node id of the node holding bundle 0 of pg. */
static void bundle_node(manta_placement_group pg, char *id, size_t size) {
  manta_value *info = NULL;
  const manta_value *bundles, *b, *n;
  const char *s;
  size_t len;
  REQUIRE_OK(manta_placement_group_info(pg, &info));
  REQUIRE_OK(manta_map_find(info, "bundles", &bundles));
  REQUIRE_OK(manta_list_at(bundles, 0, &b));
  REQUIRE_OK(manta_map_find(b, "node_id", &n));
  REQUIRE_OK(manta_get_string(n, &s, &len));
  snprintf(id, size, "%.*s", (int)len, s);
  manta_value_free(info);
}

/* Restarts honour the placement asked at creation. Nodes h, i, j offer
 * Shade and a resource "shade" (pids in MANTA_TEST_PIDS "h,i,j"). An actor with
 * a hard node affinity to h, one with a soft affinity to i and one in a
 * placement group bundle, each with max_restarts 1: kill -9 of h leaves the
 * first dead, saying why; kill -9 of i restarts the second elsewhere; kill -9
 * of the bundle's node leaves the third dead, naming the bundle. */
static void test_restart_placement(void) {
  long long pid[3];
  char id[3][40];
  three_nodes(pid, id);
  long long ph = pid[0], pi = pid[1], pj = pid[2];
  const char *h_id = id[0], *i_id = id[1];

  manta_actor hard = create_class_on("Shade", h_id, 0, 1, 100);
  manta_actor soft = create_class_on("Shade", i_id, 1, 1, 100);
  CHECK_INT_EQ(call_int(hard, "pid", NULL, 0), ph);
  CHECK_INT_EQ(call_int(soft, "pid", NULL, 0), pi);
  CHECK_INT_EQ(call_int(soft, "add", (manta_value *[]){manta_int(5)}, 1), 105);

  manta_value *bundles = manta_list();
  manta_value *b = manta_map();
  REQUIRE_OK(manta_map_put(b, "shade", manta_double(0.5)));
  REQUIRE_OK(manta_list_push(bundles, b));
  manta_placement_group pg;
  REQUIRE_OK(manta_placement_group_create(bundles, MANTA_PG_STRICT_PACK, &pg));
  manta_value_free(bundles);
  REQUIRE_OK(manta_placement_group_wait(pg, 30000, NULL));
  char pg_node[40];
  bundle_node(pg, pg_node, sizeof pg_node);
  manta_call_options *o;
  REQUIRE_OK(manta_call_options_new(&o));
  REQUIRE_OK(manta_call_options_set_placement_group(o, pg, 0));
  REQUIRE_OK(manta_call_options_set_max_restarts(o, 1));
  manta_actor grouped = {0};
  REQUIRE_OK(manta_actor_create("Shade", NULL, 0, o, &grouped));
  manta_call_options_free(o);
  int64_t pp = call_int(grouped, "pid", NULL, 0);
  CHECK(pp == ph || pp == pi || pp == pj);

  kill_node(ph, "(hard node affinity to it)");
  wait_dead_saying(hard, "created with a hard node affinity to node");

  if (pp != pi) {
    kill_node(pi, "(soft node affinity to it)");
  }
  /* The soft one lives again on another node, from its constructor. */
  int64_t moved = 0;
  for (int i = 0; i < 300 && (moved == 0 || moved == pi); i++) {
    manta_value *v = mt_test_actor_call_get(soft, "pid", NULL, 0, 30000);
    moved = manta_value_kind(v) == MANTA_KIND_INT ? mt_test_int(v) : 0;
    manta_value_free(v);
    if (moved == 0 || moved == pi) {
      mt_test_sleep_ms(100);
    }
  }
  CHECK(moved > 1 && moved != pi && moved != ph);
  CHECK_INT_EQ(call_int(soft, "get", NULL, 0), 100);

  if (pp == pi) {
    kill_node(pi, "(soft node affinity, and the group's bundle)");
  } else if (pp == pj) {
    kill_node(pj, "(the group's bundle)");
  }
  printf("actor_restart: bundle on node %s (pid %lld)\n", pg_node,
         (long long)pp);
  wait_dead_saying(grouped, "its placement group bundle is on node");
  manta_actor_release(hard);
  manta_actor_release(soft);
  manta_actor_release(grouped);
}

int cluster_restart_phase(const char *phase) {
  if (strcmp(phase, "actor_restart") == 0) {
    RUN_TEST(test_restart_then_exhausted);
    return 1;
  }
  if (strcmp(phase, "restart_ctor") == 0) {
    RUN_TEST(test_restart_ctor_fails);
    return 1;
  }
  if (strcmp(phase, "restart_placement") == 0) {
    RUN_TEST(test_restart_placement);
    return 1;
  }
  if (strcmp(phase, "handle_owner") == 0) {
    RUN_TEST(test_handle_owner);
    return 1;
  }
  if (strcmp(phase, "handle_holder") == 0) {
    RUN_TEST(test_handle_holder);
    return 1;
  }
  if (strcmp(phase, "restart_elsewhere") == 0) {
    RUN_TEST(test_restart_elsewhere);
    return 1;
  }
  return 0;
}
