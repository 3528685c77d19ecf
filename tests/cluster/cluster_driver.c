/*
 * A driver for the multi-process cluster test (run-cluster-test.sh starts
 * the head and the nodes). It joins through MANTA_ADDRESS, as any program
 * would, and checks one phase given on the command line:
 *
 *   basic      remote tasks, spreading, errors, dependencies, nesting
 *   failover   kill -9 of a node mid-job: every task still resolves
 *   token      joining with a wrong token is refused
 *
 * and the actor phases of cluster_actors.c.
 */
#include "cluster_driver.h"

#include <signal.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

static manta_value *call(const char *fn, manta_value **args, size_t n) {
  manta_ref r;
  manta_value *out = NULL;
  REQUIRE_OK(manta_submit(fn, (const manta_value *const *)args, n, NULL, &r));
  manta_get(r, 30000, &out);
  manta_ref_release(r);
  for (size_t i = 0; i < n; i++) {
    manta_value_free(args[i]);
  }
  return out;
}

static manta_value *driver_only(const manta_value *const *a, size_t n,
                                void *u) {
  (void)a, (void)n, (void)u;
  return manta_int((int64_t)getpid());
}

/* ---- basic --------------------------------------------------------------- */

static void test_remote_call(void) {
  manta_value *v =
      call("add", (manta_value *[]){manta_int(2), manta_int(3)}, 2);
  CHECK_INT_EQ(mt_test_int(v), 5);
  manta_value_free(v);
  v = call("where", NULL, 0);
  int64_t pid = mt_test_int(v);
  CHECK(pid > 0 && pid != (int64_t)getpid());
  manta_value_free(v);
}

static void test_spread(void) {
  enum { N = 400 };
  manta_ref refs[N];
  for (int i = 0; i < N; i++) {
    manta_value *args[2] = {manta_int(20), manta_int(i)};
    REQUIRE_OK(manta_submit("sleep_then", (const manta_value *const *)args, 2,
                            NULL, &refs[i]));
    manta_value_free(args[0]);
    manta_value_free(args[1]);
  }
  int64_t pids[8] = {0};
  int npids = 0, right = 0;
  for (int i = 0; i < N; i++) {
    manta_value *v = NULL;
    CHECK_OK(manta_get(refs[i], 60000, &v));
    const manta_value *a, *b;
    if (manta_list_at(v, 0, &a) == MANTA_OK &&
        manta_list_at(v, 1, &b) == MANTA_OK) {
      right += mt_test_int(a) == i;
      int64_t pid = mt_test_int(b);
      int k = 0;
      while (k < npids && pids[k] != pid) {
        k++;
      }
      if (k == npids && npids < 8) {
        pids[npids++] = pid;
      }
    }
    manta_value_free(v);
    manta_ref_release(refs[i]);
  }
  CHECK_INT_EQ(right, N);
  /* Both nodes offering the function got work. */
  CHECK_INT_EQ(npids, 2);
  printf("spread: %d tasks over %d nodes\n", N, npids);
}

static void test_errors(void) {
  manta_value *v = call("fail", NULL, 0);
  CHECK_INT_EQ(manta_error_code(v), MANTA_ERR_TASK_FAILED);
  CHECK(strcmp(manta_error_message(v), "failed on purpose") == 0);
  CHECK(strstr(manta_error_origin(v), "fail") != NULL);
  manta_value_free(v);
  v = call("no_such_function", NULL, 0);
  CHECK_INT_EQ(manta_error_code(v), MANTA_ERR_NOT_FOUND);
  CHECK(strstr(manta_error_message(v), "no_such_function") != NULL);
  manta_value_free(v);
  v = call("add", (manta_value *[]){manta_int(1)}, 1);
  CHECK_INT_EQ(manta_error_code(v), MANTA_ERR_ARITY);
  manta_value_free(v);
  v = call("add", (manta_value *[]){manta_int(1), manta_cstring("x")}, 2);
  CHECK_INT_EQ(manta_error_code(v), MANTA_ERR_TYPE);
  manta_value_free(v);
}

static void test_dependencies(void) {
  manta_value *args[2] = {manta_int(1), manta_int(2)};
  manta_ref r1, r2, p;
  REQUIRE_OK(
      manta_submit("add", (const manta_value *const *)args, 2, NULL, &r1));
  manta_value_free(args[0]);
  manta_value_free(args[1]);
  args[0] = manta_ref_value(r1);
  args[1] = manta_int(10);
  REQUIRE_OK(
      manta_submit("add", (const manta_value *const *)args, 2, NULL, &r2));
  manta_value_free(args[0]);
  manta_value_free(args[1]);
  manta_value *v = NULL;
  CHECK_OK(manta_get(r2, 30000, &v));
  CHECK_INT_EQ(mt_test_int(v), 13);
  manta_value_free(v);
  /* A put object as an argument of a remote task. */
  manta_value *forty = manta_int(40);
  REQUIRE_OK(manta_put(forty, &p));
  manta_value_free(forty);
  v = call("add", (manta_value *[]){manta_ref_value(p), manta_int(2)}, 2);
  CHECK_INT_EQ(mt_test_int(v), 42);
  manta_value_free(v);
  /* A failed dependency fails the remote task before it is sent. */
  manta_ref rf;
  REQUIRE_OK(manta_submit("fail", NULL, 0, NULL, &rf));
  v = call("add", (manta_value *[]){manta_ref_value(rf), manta_int(2)}, 2);
  CHECK_INT_EQ(manta_error_code(v), MANTA_ERR_DEPENDENCY);
  manta_value_free(v);
  manta_ref_release(r1);
  manta_ref_release(r2);
  manta_ref_release(p);
  manta_ref_release(rf);
}

static void test_nested_and_bytes(void) {
  manta_value *v = call("nested", (manta_value *[]){manta_int(5)}, 1);
  CHECK_INT_EQ(mt_test_int(v), 6);
  manta_value_free(v);
  int64_t len = 3 << 20;
  v = call("make_bytes", (manta_value *[]){manta_int(len)}, 1);
  const void *data = NULL;
  size_t got = 0;
  CHECK_OK(manta_get_bytes(v, &data, &got));
  CHECK_INT_EQ(got, len);
  int bad = 0;
  for (size_t i = 0; data && i < got; i++) {
    bad += ((const unsigned char *)data)[i] != (unsigned char)(i * 31 + 7);
  }
  CHECK_INT_EQ(bad, 0);
  manta_value_free(v);
  /* A function only this driver has runs here. */
  REQUIRE_OK(manta_register_function("driver_only", driver_only, 0, NULL));
  v = call("driver_only", NULL, 0);
  CHECK_INT_EQ(mt_test_int(v), getpid());
  manta_value_free(v);
}

/* ---- failover ------------------------------------------------------------ */

/* Pid of a live non-head node other than this process, from the head. */
static int64_t victim_pid(const char *address) {
  manta_value *st = NULL;
  REQUIRE_OK(manta_cluster_status(address, NULL, 5000, &st));
  const manta_value *nodes, *node, *v;
  REQUIRE_OK(manta_map_find(st, "nodes", &nodes));
  size_t n = 0;
  manta_len(nodes, &n);
  int64_t pid = 0;
  for (size_t i = 0; i < n && !pid; i++) {
    manta_list_at(nodes, i, &node);
    int is_head = 1, is_driver = 1;
    manta_map_find(node, "is_head", &v);
    manta_get_bool(v, &is_head);
    manta_map_find(node, "is_driver", &v);
    manta_get_bool(v, &is_driver);
    if (!is_head && !is_driver) {
      manta_map_find(node, "pid", &v);
      manta_get_int(v, &pid);
    }
  }
  manta_value_free(st);
  return pid;
}

static int count_state(const char *address, const char *state) {
  manta_value *st = NULL;
  if (manta_cluster_status(address, NULL, 5000, &st) != MANTA_OK) {
    manta_value_free(st);
    return -1;
  }
  const manta_value *nodes, *node, *v;
  manta_map_find(st, "nodes", &nodes);
  size_t n = 0;
  manta_len(nodes, &n);
  int count = 0;
  for (size_t i = 0; i < n; i++) {
    manta_list_at(nodes, i, &node);
    const char *s = "";
    size_t len;
    if (manta_map_find(node, "state", &v) == MANTA_OK &&
        manta_get_string(v, &s, &len) == MANTA_OK) {
      count += strcmp(s, state) == 0;
    }
  }
  manta_value_free(st);
  return count;
}

static void test_failover(void) {
  const char *address = getenv("MANTA_ADDRESS");
  int64_t pid = victim_pid(address);
  REQUIRE(pid > 0);
  enum { N = 60 };
  manta_ref refs[N];
  for (int i = 0; i < N; i++) {
    manta_value *args[2] = {manta_int(100), manta_int(i)};
    REQUIRE_OK(manta_submit("sleep_then", (const manta_value *const *)args, 2,
                            NULL, &refs[i]));
    manta_value_free(args[0]);
    manta_value_free(args[1]);
  }
  struct timespec ts = {0, 250 * 1000000L};
  nanosleep(&ts, NULL);
  printf("failover: killing node pid %lld mid-job\n", (long long)pid);
  fflush(stdout);
  REQUIRE(kill((pid_t)pid, SIGKILL) == 0);
  int right = 0, on_victim_after = 0;
  for (int i = 0; i < N; i++) {
    manta_value *v = NULL;
    manta_err err = manta_get(refs[i], 60000, &v);
    const manta_value *a, *b;
    if (err == MANTA_OK && manta_list_at(v, 0, &a) == MANTA_OK &&
        manta_list_at(v, 1, &b) == MANTA_OK) {
      right += mt_test_int(a) == i;
      (void)on_victim_after;
    } else {
      mt_test_print_value("task", i, v);
    }
    manta_value_free(v);
    manta_ref_release(refs[i]);
  }
  CHECK_INT_EQ(right, N);
  /* The head declares the node dead within a few seconds. */
  int dead = 0;
  for (int i = 0; i < 100 && dead < 1; i++) {
    dead = count_state(address, "dead");
    nanosleep(&(struct timespec){0, 100 * 1000000L}, NULL);
  }
  CHECK_INT_EQ(dead, 1);
}

int main(int argc, char **argv) {
  REQUIRE(argc == 2);
  const char *phase = argv[1];
  if (strcmp(phase, "token") == 0) {
    /* MANTA_TOKEN is wrong here: joining must fail, clearly. */
    CHECK_ERR(manta_init(NULL), MANTA_ERR_INVALID);
    CHECK(!manta_is_initialized());
    return mt_test_done();
  }
  manta_options *o;
  REQUIRE_OK(manta_options_new(&o));
  REQUIRE_OK(manta_options_set_num_cpus(o, 1));
  REQUIRE_OK(manta_init(o));
  manta_options_free(o);
  if (strcmp(phase, "basic") == 0) {
    RUN_TEST(test_remote_call);
    RUN_TEST(test_spread);
    RUN_TEST(test_errors);
    RUN_TEST(test_dependencies);
    RUN_TEST(test_nested_and_bytes);
  } else if (strcmp(phase, "failover") == 0) {
    RUN_TEST(test_failover);
  } else if (!cluster_actor_phase(phase)) {
    fprintf(stderr, "unknown phase %s\n", phase);
    return 2;
  }
  REQUIRE_OK(manta_shutdown());
  return mt_test_done();
}
