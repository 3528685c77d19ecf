/* The driver of run-cancel-test.sh: cancelling, retries and the runtime
 * context across a head and two nodes loaded with cancel_module.c.
 *
 *   cluster_cancel cancel   recursive cancel of a chain whose grandchild
 *                           runs on another node than its parent, actor
 *                           calls cancelled on the actor's node, context
 *                           and retry_exceptions checked against the node
 *                           that ran them
 *   cluster_cancel lost     an actor call cancelled, then lost with its
 *                           node (SIGKILL): not sent to the restarted
 *                           actor (run on a third node, which it kills)
 *   cluster_cancel kill     max_retries against real node deaths: the
 *                           driver kills (SIGKILL) the node running a call
 *                           and the call runs again on the other one; with
 *                           max_retries 0 the error names the attempt and
 *                           the node
 * MANTA_ADDRESS names the head. */
#include "test_util.h"

#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

typedef struct node_info {
  char id[17];
  char address[128];
} node_info;

/* The two live nodes that offer "chain" (the module's nodes). */
static void worker_nodes(node_info out[2]) {
  manta_value *st = NULL;
  REQUIRE_OK(manta_cluster_status(getenv("MANTA_ADDRESS"), NULL, 5000, &st));
  const manta_value *nodes, *node, *v, *f;
  REQUIRE_OK(manta_map_find(st, "nodes", &nodes));
  size_t n = 0, len, k = 0;
  manta_len(nodes, &n);
  for (size_t i = 0; i < n && k < 2; i++) {
    const char *s;
    manta_list_at(nodes, i, &node);
    REQUIRE_OK(manta_map_find(node, "functions", &v));
    size_t nf = 0;
    int offers = 0;
    manta_len(v, &nf);
    for (size_t j = 0; j < nf; j++) {
      manta_list_at(v, j, &f);
      offers |=
          manta_get_string(f, &s, &len) == MANTA_OK && strcmp(s, "chain") == 0;
    }
    REQUIRE_OK(manta_map_find(node, "state", &v));
    manta_get_string(v, &s, &len);
    if (!offers || strcmp(s, "alive") != 0) {
      continue;
    }
    REQUIRE_OK(manta_map_find(node, "node_id", &v));
    manta_get_string(v, &s, &len);
    snprintf(out[k].id, sizeof out[k].id, "%s", s);
    REQUIRE_OK(manta_map_find(node, "address", &v));
    manta_get_string(v, &s, &len);
    snprintf(out[k].address, sizeof out[k].address, "%s", s);
    k++;
  }
  manta_value_free(st);
  REQUIRE(k == 2);
}

static manta_call_options *on_node(const char *id) {
  manta_call_options *o;
  REQUIRE(manta_call_options_new(&o) == MANTA_OK);
  REQUIRE(manta_call_options_set_node_affinity(o, id, 0) == MANTA_OK);
  return o;
}

/* Waits (60 s at most) for dir/name; its first line ("<node id> <address>
 * <pid>") into line. */
static bool wait_file(const char *dir, const char *name, char *line,
                      size_t size) {
  char path[4096];
  snprintf(path, sizeof path, "%s/%s", dir, name);
  for (int i = 0; i < 6000; i++) {
    FILE *f = fopen(path, "r");
    if (f) {
      bool ok = fgets(line, (int)size, f) != NULL;
      fclose(f);
      if (ok && strchr(line, '\n')) {
        return true;
      }
    }
    mt_test_sleep_ms(10);
  }
  fprintf(stderr, "no %s after 60 s\n", path);
  return false;
}

static bool file_exists(const char *dir, const char *name) {
  char path[4096];
  snprintf(path, sizeof path, "%s/%s", dir, name);
  return access(path, F_OK) == 0;
}

/* The file's node id is id. */
static void check_ran_on(const char *line, const char *id) {
  CHECK(strncmp(line, id, 16) == 0);
  if (strncmp(line, id, 16) != 0) {
    fprintf(stderr, "ran on %.16s, not on %s\n", line, id);
  }
}

static const char *list_str(const manta_value *l, size_t i) {
  const manta_value *item;
  const char *s = "";
  size_t len;
  if (manta_list_at(l, i, &item) == MANTA_OK) {
    manta_get_string(item, &s, &len);
  }
  return s;
}

static int64_t list_int(const manta_value *l, size_t i) {
  const manta_value *item;
  int64_t x = -1;
  if (manta_list_at(l, i, &item) == MANTA_OK) {
    manta_get_int(item, &x);
  }
  return x;
}

/* chain(2) here (this driver loaded the module), its child on node b, its
 * grandchild on node a: a recursive cancel of the first reaches all three
 * through two links. (A node that joined first reaching by hard affinity
 * one that joined a moment ago is run-reach-test.sh's: such a call waits
 * for the next view, docs/scheduling.md.) */
static void test_recursive_across_nodes(const node_info *w) {
  char *dir = mt_test_tmpdir("cancel-chain"), self[17];
  REQUIRE_OK(manta_node_id(self, sizeof self));
  manta_value *route = manta_list();
  manta_list_push(route, manta_cstring(w[0].id)); /* level 0 */
  manta_list_push(route, manta_cstring(w[1].id)); /* level 1 */
  manta_list_push(route, manta_cstring(self));    /* level 2 */
  manta_value *args[3] = {manta_int(2), manta_cstring(dir), route};
  manta_call_options *o = on_node(self);
  manta_ref r;
  REQUIRE_OK(manta_callv(&r, "chain", args, 3, o));
  manta_call_options_free(o);
  char line[256];
  const char *where[3] = {w[0].id, w[1].id, self};
  for (int level = 0; level < 3; level++) {
    char name[32];
    snprintf(name, sizeof name, "started-%d", level);
    REQUIRE(wait_file(dir, name, line, sizeof line));
    check_ran_on(line, where[level]);
  }
  CHECK_OK(manta_cancel_with(r, MANTA_CANCEL_RECURSIVE));
  manta_value *v = mt_test_take(r, 60000);
  mt_test_check_error(v, MANTA_ERR_CANCELLED, "cancelled while it ran");
  manta_value_free(v);
  for (int level = 0; level < 3; level++) {
    char name[32];
    snprintf(name, sizeof name, "cancelled-%d", level);
    CHECK(wait_file(dir, name, line, sizeof line));
    check_ran_on(line, where[level]);
  }
  mt_test_rmdir(dir);
  free(dir);
}

/* The calls of an actor on node a: one not started is cancelled and never
 * runs, the running one is asked to stop, the later ones run in order. */
static void test_actor_calls_across_nodes(const node_info *w) {
  char *dir = mt_test_tmpdir("cancel-actor");
  manta_call_options *o = on_node(w[0].id);
  manta_actor a;
  REQUIRE_OK(manta_actor_create("Acc", NULL, 0, o, &a));
  manta_call_options_free(o);
  manta_ref hold, c[3];
  REQUIRE_OK(manta_actor_invoke(&hold, a, "hold", 1, manta_cstring(dir)));
  const int64_t add[3] = {1, 10, 100};
  for (int i = 0; i < 3; i++) {
    REQUIRE_OK(manta_actor_invoke(&c[i], a, "add", 1, manta_int(add[i])));
  }
  char line[256];
  REQUIRE(wait_file(dir, "holding", line, sizeof line));
  check_ran_on(line, w[0].id);
  CHECK_OK(manta_cancel(c[1]));
  manta_value *v = mt_test_take(c[1], 60000);
  mt_test_check_error(v, MANTA_ERR_CANCELLED, "cancelled before it ran");
  manta_value_free(v);
  CHECK_OK(manta_cancel(hold));
  v = mt_test_take(hold, 60000);
  mt_test_check_error(v, MANTA_ERR_CANCELLED, "cancelled while it ran");
  manta_value_free(v);
  CHECK_INT_EQ(mt_test_take_int(c[0]), 1);
  CHECK_INT_EQ(mt_test_take_int(c[2]), 101); /* the 10 never added */
  /* Its id, from inside, names the node it lives on. */
  v = mt_test_actor_call_get(a, "whoami", NULL, 0, 60000);
  const char *s = "";
  size_t len;
  CHECK_OK(manta_get_string(v, &s, &len));
  CHECK(strncmp(s, "actor-", 6) == 0 && strncmp(s + 6, w[0].id, 16) == 0);
  manta_value_free(v);
  manta_actor_release(a);
  mt_test_rmdir(dir);
  free(dir);
}

/* context() on node b: its id is that of the driver's ref, its node b. */
static void test_context_across_nodes(const node_info *w) {
  manta_call_options *o = on_node(w[1].id);
  manta_ref r;
  REQUIRE_OK(manta_submit("context", NULL, 0, o, &r));
  manta_call_options_free(o);
  char want[64];
  REQUIRE_OK(manta_ref_string(r, want, sizeof want));
  manta_value *v = mt_test_take(r, 60000);
  REQUIRE(v && manta_value_kind(v) == MANTA_KIND_LIST);
  CHECK(strcmp(list_str(v, 0), want) == 0);
  CHECK_INT_EQ(list_int(v, 1), 1);
  CHECK(strcmp(list_str(v, 2), w[1].id) == 0);
  CHECK(strcmp(list_str(v, 3), w[1].address) == 0);
  manta_value_free(v);
}

/* An actor's method called on node b: it sees the id of the caller's ref,
 * not one its host gave the call. */
static void test_actor_context_across_nodes(const node_info *w) {
  manta_call_options *o = on_node(w[1].id);
  manta_actor a;
  REQUIRE_OK(manta_actor_create("Acc", NULL, 0, o, &a));
  manta_call_options_free(o);
  for (int i = 0; i < 3; i++) {
    manta_ref r;
    REQUIRE_OK(manta_actor_call(a, "task_id", NULL, 0, &r));
    char want[64];
    REQUIRE_OK(manta_ref_string(r, want, sizeof want));
    manta_value *v = mt_test_take(r, 60000);
    const char *s = "";
    size_t len;
    CHECK_OK(manta_get_string(v, &s, &len));
    CHECK(strcmp(s, want) == 0);
    if (strcmp(s, want) != 0) {
      fprintf(stderr, "the method saw %s, its ref is %s\n", s, want);
    }
    manta_value_free(v);
  }
  manta_actor_release(a);
}

static _Atomic int link_held, link_release;
static char *link_dir;

/* A completion callback that holds the cluster thread reading node b's
 * answers (60 s at most): the answers after it wait meanwhile. It lets
 * the large call go on (dir/go) first. */
static void hold_link(void *arg, manta_ref ref, manta_err err, manta_value *v) {
  (void)arg, (void)ref, (void)err, (void)v;
  char path[4096];
  snprintf(path, sizeof path, "%s/go", link_dir);
  FILE *f = fopen(path, "w");
  if (f) {
    fclose(f);
  }
  atomic_store(&link_held, 1);
  for (int i = 0; i < 6000 && !atomic_load(&link_release); i++) {
    mt_test_sleep_ms(10);
  }
}

static manta_ref wait_then_on(const node_info *n, const char *dir,
                              const char *name, int64_t size) {
  manta_call_options *o = on_node(n->id);
  manta_value *args[3] = {manta_cstring(dir), manta_cstring(name),
                          manta_int(size)};
  manta_ref r;
  REQUIRE_OK(manta_callv(&r, "wait_then", args, 3, o));
  manta_call_options_free(o);
  return r;
}

/* A call cancelled after its node made a large result (8 MB, which stays
 * there: only its id comes back) resolves to CANCELLED all the same. The
 * cancel reaches node b once the call returned there: the answer of an
 * earlier call holds the thread reading b's answers (hold_link) until the
 * cancel was made here. */
static void test_large_result_cancelled(const node_info *w) {
  link_dir = mt_test_tmpdir("cancel-large");
  atomic_store(&link_held, 0);
  atomic_store(&link_release, 0);
  manta_ref big = wait_then_on(&w[1], link_dir, "go", 8 << 20);
  manta_ref first = wait_then_on(&w[1], link_dir, "first-go", 0);
  REQUIRE_OK(manta_when_ready(first, hold_link, NULL));
  char line[256], path[4096];
  snprintf(path, sizeof path, "%s/first-go", link_dir);
  FILE *f = fopen(path, "w");
  REQUIRE(f);
  fclose(f);
  REQUIRE(wait_file(link_dir, "go-seen", line, sizeof line));
  CHECK(atomic_load(&link_held) == 1);
  mt_test_sleep_ms(500); /* its answer is on its way (not an assertion) */
  CHECK_OK(manta_cancel(big));
  atomic_store(&link_release, 1);
  manta_value *v = mt_test_take(big, 60000);
  mt_test_check_error(v, MANTA_ERR_CANCELLED, "cancelled");
  manta_value_free(v);
  v = mt_test_take(first, 60000);
  CHECK(v && manta_value_kind(v) == MANTA_KIND_BYTES);
  manta_value_free(v);
  mt_test_rmdir(link_dir);
  free(link_dir);
}

static manta_value *flaky_on(const node_info *n, int64_t k, const char *dir,
                             int max_retries) {
  manta_call_options *o = on_node(n->id);
  REQUIRE(manta_call_options_set_max_retries(o, max_retries) == MANTA_OK);
  REQUIRE(manta_call_options_set_retry_exceptions(o, 1) == MANTA_OK);
  manta_value *args[2] = {manta_int(k), manta_cstring(dir)};
  manta_value *v = mt_test_submit_get("flaky", args, 2, o, 60000);
  manta_call_options_free(o);
  return v;
}

/* retry_exceptions on node a: exactly as many runs as it took. */
static void test_retry_exceptions_across_nodes(const node_info *w) {
  char *dir = mt_test_tmpdir("cancel-flaky");
  manta_value *v = flaky_on(&w[0], 3, dir, 3);
  CHECK_INT_EQ(mt_test_int(v), 3);
  manta_value_free(v);
  char line[256];
  for (int i = 1; i <= 3; i++) {
    char name[16];
    snprintf(name, sizeof name, "run-%d", i);
    CHECK(wait_file(dir, name, line, sizeof line));
    check_ran_on(line, w[0].id);
  }
  CHECK(!file_exists(dir, "run-4"));
  mt_test_rmdir(dir);
  free(dir);
  dir = mt_test_tmpdir("cancel-flaky");
  v = flaky_on(&w[1], 100, dir, 1);
  char part[200];
  snprintf(part, sizeof part,
           "not yet at attempt 2 (attempt 2 of 2 on node %s)", w[1].address);
  mt_test_check_error(v, MANTA_ERR_TASK_FAILED, part);
  manta_value_free(v);
  CHECK(file_exists(dir, "run-2") && !file_exists(dir, "run-3"));
  mt_test_rmdir(dir);
  free(dir);
}

/* Kills (SIGKILL) the node process a file ("<id> <address> <pid>")
 * names; its address into addr (128 bytes). */
static void kill_node_of(const char *line, char *addr) {
  char id[17];
  int pid = 0;
  REQUIRE(sscanf(line, "%16s %127s %d", id, addr, &pid) == 3 && pid > 0);
  fprintf(stderr, "killing node %s (%s), pid %d\n", id, addr, pid);
  REQUIRE(kill(pid, SIGKILL) == 0);
}

/* hang(dir, hang_attempts) with max_retries, on node (NULL: anywhere). */
static manta_ref submit_hang(const char *dir, int64_t hang_attempts,
                             int max_retries, const char *node) {
  manta_call_options *o;
  REQUIRE(manta_call_options_new(&o) == MANTA_OK);
  if (node) {
    REQUIRE(manta_call_options_set_node_affinity(o, node, 0) == MANTA_OK);
  }
  REQUIRE(manta_call_options_set_max_retries(o, max_retries) == MANTA_OK);
  manta_value *args[2] = {manta_cstring(dir), manta_int(hang_attempts)};
  manta_ref r;
  REQUIRE(manta_callv(&r, "hang", args, 2, o) == MANTA_OK);
  manta_call_options_free(o);
  return r;
}

static void test_node_deaths(void) {
  /* max_retries 1: the node of the first attempt is killed; the second
   * runs on the other node and returns. */
  char *dir = mt_test_tmpdir("cancel-kill");
  manta_ref r = submit_hang(dir, 1, 1, NULL);
  char line[256], first[128], second[128], survivor[17];
  REQUIRE(wait_file(dir, "attempt-1", line, sizeof line));
  kill_node_of(line, first);
  manta_value *v = mt_test_take(r, 60000);
  REQUIRE(v && manta_value_kind(v) == MANTA_KIND_LIST);
  CHECK_INT_EQ(list_int(v, 0), 2);
  manta_value_free(v);
  REQUIRE(wait_file(dir, "attempt-2", line, sizeof line));
  REQUIRE(sscanf(line, "%16s %127s", survivor, second) == 2);
  CHECK(strcmp(first, second) != 0);
  mt_test_rmdir(dir);
  free(dir);
  /* max_retries 0, on the node left (this driver's view may still hold
   * the dead one for a moment): that node is killed under the call, which
   * fails naming the attempt and the node. */
  dir = mt_test_tmpdir("cancel-kill");
  r = submit_hang(dir, 1, 0, survivor);
  REQUIRE(wait_file(dir, "attempt-1", line, sizeof line));
  kill_node_of(line, second);
  v = mt_test_take(r, 60000);
  char part[200];
  snprintf(part, sizeof part, "(attempt 1 of 1 on node %s)", second);
  mt_test_check_error(v, MANTA_ERR_NODE_DIED, part);
  manta_value_free(v);
  mt_test_rmdir(dir);
  free(dir);
}

/* An actor call cancelled while it runs, deaf to the cancel, then lost
 * with its node (SIGKILL): its actor comes back on the other node
 * (max_restarts 1) but the call, under max_task_retries 1, is not sent
 * again; it resolves to CANCELLED. */
static void test_actor_call_cancelled_then_lost(const node_info *w) {
  char *dir = mt_test_tmpdir("cancel-lost");
  manta_call_options *o;
  REQUIRE_OK(manta_call_options_new(&o));
  REQUIRE_OK(manta_call_options_set_node_affinity(o, w[0].id, 1));
  REQUIRE_OK(manta_call_options_set_max_restarts(o, 1));
  REQUIRE_OK(manta_call_options_set_max_task_retries(o, 1));
  manta_actor a;
  REQUIRE_OK(manta_actor_create("Acc", NULL, 0, o, &a));
  manta_call_options_free(o);
  manta_value *d = manta_cstring(dir);
  manta_ref r = mt_test_actor_call_async(a, "hang", &d, 1);
  char line[256], addr[128];
  REQUIRE(wait_file(dir, "hung", line, sizeof line));
  check_ran_on(line, w[0].id);
  CHECK_OK(manta_cancel(r));
  kill_node_of(line, addr);
  manta_value *v = mt_test_take(r, 60000);
  mt_test_check_error(v, MANTA_ERR_CANCELLED, "cancelled");
  manta_value_free(v);
  /* The actor is back (a new state) and takes calls; the cancelled call,
   * had it been sent again, would have run before this one. */
  manta_value *k = manta_int(5);
  v = mt_test_actor_call_get(a, "add", &k, 1, 60000);
  CHECK_INT_EQ(mt_test_int(v), 5);
  manta_value_free(v);
  CHECK(!file_exists(dir, "ran-again"));
  manta_actor_release(a);
  mt_test_rmdir(dir);
  free(dir);
}

static node_info workers[2];

static void test_cancel_phase(void) {
  test_recursive_across_nodes(workers);
  test_actor_calls_across_nodes(workers);
  test_context_across_nodes(workers);
  test_actor_context_across_nodes(workers);
  test_large_result_cancelled(workers);
  test_retry_exceptions_across_nodes(workers);
}

static void test_lost_phase(void) {
  test_actor_call_cancelled_then_lost(workers);
}

int main(int argc, char **argv) {
  if (argc != 2 ||
      (strcmp(argv[1], "cancel") != 0 && strcmp(argv[1], "kill") != 0 &&
       strcmp(argv[1], "lost") != 0)) {
    fprintf(stderr, "usage: cluster_cancel cancel|lost|kill\n");
    return 2;
  }
  REQUIRE_OK(manta_init(NULL));
  worker_nodes(workers);
  if (strcmp(argv[1], "cancel") == 0) {
    /* The chain's first level runs here (not in the kill phase, whose
     * calls must go to the nodes). */
    REQUIRE(getenv("CANCEL_MODULE"));
    REQUIRE_OK(manta_module_load(getenv("CANCEL_MODULE")));
    RUN_TEST(test_cancel_phase);
  } else if (strcmp(argv[1], "lost") == 0) {
    RUN_TEST(test_lost_phase);
  } else {
    RUN_TEST(test_node_deaths);
  }
  CHECK_OK(manta_shutdown());
  return mt_test_done();
}
