/* The driver's stream phase (docs/api.md, "Streams"): generators running
 * on other nodes (the module's on_<pin>.stream_*, pinned to node a or b) and a
 * stream method of an actor living on node b, read by this driver: order
 * and end, the failure after its items, timeouts, pacing by credits (the
 * producer never more than the window ahead of what was read), a reader
 * letting go stopping the remote producer, items passed on as arguments. */
#include "cluster_driver.h"

#include <signal.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

static void sleep_ms(int ms) {
  struct timespec ts = {ms / 1000, (long)(ms % 1000) * 1000000L};
  nanosleep(&ts, NULL);
}

static manta_stream open_stream(const char *name, manta_value **args, size_t n,
                                size_t window) {
  manta_call_options *o = NULL;
  REQUIRE_OK(manta_call_options_new(&o));
  if (window) {
    REQUIRE_OK(manta_call_options_set_stream_window(o, window));
  }
  manta_stream s;
  REQUIRE_OK(
      manta_submit_stream(name, (const manta_value *const *)args, n, o, &s));
  manta_call_options_free(o);
  for (size_t i = 0; i < n; i++) {
    manta_value_free(args[i]);
  }
  return s;
}

static int64_t next_int(manta_stream s) {
  manta_ref r;
  manta_err err = manta_stream_next(s, &r, 30000);
  if (err != MANTA_OK) {
    fprintf(stderr, "stream_next: %s\n", manta_errname(err));
    return -1;
  }
  return mt_test_take_int(r);
}

static int64_t call0(const char *name) {
  manta_value *v = mt_test_submit_get(name, NULL, 0, NULL, 30000);
  int64_t x = mt_test_int(v);
  manta_value_free(v);
  return x;
}

/* 20000 items from node a, window 64: in order, then the end; while the
 * reader waits, the producer stops at the window. */
static void test_stream_remote_order(void) {
  int64_t before = call0("on_a.stream_emitted");
  manta_stream s =
      open_stream("on_a.stream_gen",
                  (manta_value *[]){manta_int(7), manta_int(20000)}, 2, 64);
  CHECK_INT_EQ(next_int(s), 7);
  sleep_ms(300); /* the producer runs into the window meanwhile */
  int64_t ahead = call0("on_a.stream_emitted") - before;
  printf("streams: producer %lld items ahead after 1 read (window 64)\n",
         (long long)ahead);
  CHECK(ahead >= 1 && ahead <= 1 + 64);
  for (int64_t i = 1; i < 20000; i++) {
    int64_t x = next_int(s);
    if (x != 7 + i) {
      CHECK_INT_EQ(x, 7 + i);
      break;
    }
  }
  manta_ref r;
  CHECK_ERR(manta_stream_next(s, &r, 30000), MANTA_ERR_STREAM_END);
  CHECK_OK(manta_stream_release(s));
}

static void test_stream_remote_failure(void) {
  manta_stream s =
      open_stream("on_b.stream_fail", (manta_value *[]){manta_int(5)}, 1, 0);
  for (int64_t i = 0; i < 5; i++) {
    CHECK_INT_EQ(next_int(s), i);
  }
  manta_ref r;
  CHECK_ERR(manta_stream_next(s, &r, 30000), MANTA_ERR_TASK_FAILED);
  manta_value *e = NULL;
  CHECK_OK(manta_stream_error(s, &e));
  mt_test_check_error(e, MANTA_ERR_TASK_FAILED, "bad row 5");
  CHECK(strstr(manta_error_origin(e), "on node") != NULL);
  manta_value_free(e);
  manta_stream_release(s);
}

static void test_stream_remote_timeout(void) {
  manta_stream s = open_stream("on_a.stream_gated", NULL, 0, 0);
  CHECK_INT_EQ(next_int(s), 1);
  manta_ref r;
  CHECK_ERR(manta_stream_next(s, &r, 0), MANTA_ERR_TIMEOUT);
  CHECK_ERR(manta_stream_next(s, &r, 50), MANTA_ERR_TIMEOUT);
  manta_value_free(
      mt_test_submit_get("on_a.stream_open_gate", NULL, 0, NULL, 30000));
  CHECK_INT_EQ(next_int(s), 2);
  CHECK_ERR(manta_stream_next(s, &r, 30000), MANTA_ERR_STREAM_END);
  manta_stream_release(s);
}

static void test_stream_remote_release(void) {
  manta_stream s = open_stream("on_b.stream_forever", NULL, 0, 8);
  CHECK(next_int(s) == 0);
  CHECK_OK(manta_stream_release(s));
  int64_t state = 0, code = 0;
  for (int i = 0; i < 300 && state != 2; i++) {
    manta_value *v =
        mt_test_submit_get("on_b.stream_forever_status", NULL, 0, NULL, 30000);
    const manta_value *x;
    if (manta_list_at(v, 0, &x) == MANTA_OK) {
      manta_get_int(x, &state);
    }
    if (manta_list_at(v, 1, &x) == MANTA_OK) {
      manta_get_int(x, &code);
    }
    manta_value_free(v);
    if (state != 2) {
      sleep_ms(20);
    }
  }
  CHECK_INT_EQ(state, 2);
  CHECK_ERR((manta_err)code, MANTA_ERR_CANCELLED);
}

/* Items are refs like any other: passed on to a call on another node. */
static void test_stream_items_passed_on(void) {
  manta_stream s = open_stream(
      "on_b.stream_gen", (manta_value *[]){manta_int(40), manta_int(3)}, 2, 0);
  for (int i = 0; i < 3; i++) {
    manta_ref r;
    REQUIRE_OK(manta_stream_next(s, &r, 30000));
    manta_value *args[2] = {manta_ref_value(r), manta_int(1000)};
    manta_value *sum = mt_test_submit_get("add", args, 2, NULL, 30000);
    CHECK_INT_EQ(mt_test_int(sum), 1040 + i);
    manta_value_free(sum);
    manta_ref_release(r);
  }
  manta_stream_release(s);
}

/* A stream method of an actor on node b (class OnlyB lives there only). */
static void test_stream_remote_actor(void) {
  manta_actor a;
  REQUIRE_OK(manta_actor_create("OnlyB", NULL, 0, NULL, &a));
  for (int round = 0; round < 2; round++) {
    manta_value *k = manta_int(100);
    manta_stream s;
    REQUIRE_OK(manta_actor_call_stream(a, "ticks", (const manta_value *[]){k},
                                       1, NULL, &s));
    manta_value_free(k);
    for (int64_t i = 1; i <= 100; i++) {
      int64_t x = next_int(s);
      if (x != round * 100 + i) {
        CHECK_INT_EQ(x, round * 100 + i);
        break;
      }
    }
    manta_ref r;
    CHECK_ERR(manta_stream_next(s, &r, 30000), MANTA_ERR_STREAM_END);
    manta_stream_release(s);
  }
  manta_actor_kill(a);
  manta_actor_release(a);
}

/* [pid, i] of an item of yield_pids. */
static void pid_item(manta_ref r, int64_t *pid, int64_t *i) {
  manta_value *v = mt_test_take(r, 30000);
  const manta_value *x;
  *pid = *i = -1;
  if (manta_list_at(v, 0, &x) == MANTA_OK) {
    manta_get_int(x, pid);
  }
  if (manta_list_at(v, 1, &x) == MANTA_OK) {
    manta_get_int(x, i);
  }
  manta_value_free(v);
}

/* The node running a generator is killed (SIGKILL) while the reader is
 * part way: the call runs again on the other node, from its start, and
 * the reader gets every index once, in order, the later ones from the
 * other process. Last of the phase: it leaves one node. */
static void test_stream_node_killed(void) {
  enum { N = 2000 };
  manta_stream s =
      open_stream("yield_pids", (manta_value *[]){manta_int(N)}, 1, 8);
  int64_t first_pid = -1, last_pid = -1, expect = 0;
  for (; expect < N; expect++) {
    manta_ref r;
    manta_err err = manta_stream_next(s, &r, 60000);
    if (err != MANTA_OK) {
      CHECK_ERR(err, MANTA_OK);
      break;
    }
    int64_t pid, i;
    pid_item(r, &pid, &i);
    if (i != expect) {
      CHECK_INT_EQ(i, expect);
      break;
    }
    if (expect == 0) {
      first_pid = pid;
      CHECK(pid > 0 && pid != (int64_t)getpid());
    }
    if (expect == 100) {
      printf("streams: killing the generator's node, pid %lld\n",
             (long long)pid);
      fflush(stdout);
      REQUIRE(kill((pid_t)pid, SIGKILL) == 0);
    }
    if (pid != last_pid && last_pid > 0) {
      printf("streams: item %lld from pid %lld\n", (long long)expect,
             (long long)pid);
    }
    last_pid = pid;
  }
  printf("streams: %lld items, first from pid %lld, last from pid %lld\n",
         (long long)expect, (long long)first_pid, (long long)last_pid);
  CHECK_INT_EQ(expect, N);
  CHECK(last_pid > 0 && last_pid != first_pid);
  manta_ref r;
  CHECK_ERR(manta_stream_next(s, &r, 60000), MANTA_ERR_STREAM_END);
  manta_stream_release(s);
}

int cluster_stream_phase(const char *phase) {
  if (strcmp(phase, "streams") != 0) {
    return 0;
  }
  RUN_TEST(test_stream_remote_order);
  RUN_TEST(test_stream_remote_failure);
  RUN_TEST(test_stream_remote_timeout);
  RUN_TEST(test_stream_remote_release);
  RUN_TEST(test_stream_items_passed_on);
  RUN_TEST(test_stream_remote_actor);
  RUN_TEST(test_stream_node_killed);
  return 1;
}
