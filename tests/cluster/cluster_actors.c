/*
 * The actor phases of the cluster driver (run-cluster-test.sh starts the
 * nodes; this process joins through MANTA_ADDRESS and offers no class, so
 * every actor it creates lives on another node):
 *
 *   actors         placement, 1000 ordered calls, ref arguments, errors, a
 *                  handle passed to a task on a third node, kill, release,
 *                  a named actor left for the next phase
 *   actors_lookup  another process finds that named actor, clashes with
 *                  its name, kills it
 *   actor_death    kill -9 of the node hosting an actor mid-calls
 */
#include "cluster_driver.h"

#include <pthread.h>
#include <signal.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

/* The one live node offering class cls: its pid and address. */
static int64_t node_offering(const char *cls, char *address, size_t size) {
  manta_value *st = NULL;
  REQUIRE_OK(manta_cluster_status(getenv("MANTA_ADDRESS"), NULL, 5000, &st));
  const manta_value *nodes, *node, *v, *classes, *c;
  REQUIRE_OK(manta_map_find(st, "nodes", &nodes));
  size_t n = 0, nc = 0, len;
  manta_len(nodes, &n);
  int64_t pid = 0;
  int found = 0;
  for (size_t i = 0; i < n; i++) {
    manta_list_at(nodes, i, &node);
    const char *s = "";
    manta_map_find(node, "state", &v);
    manta_get_string(v, &s, &len);
    if (strcmp(s, "alive") != 0) {
      continue;
    }
    manta_map_find(node, "classes", &classes);
    manta_len(classes, &nc);
    for (size_t k = 0; k < nc; k++) {
      manta_list_at(classes, k, &c);
      manta_get_string(c, &s, &len);
      if (strcmp(s, cls) == 0) {
        found++;
        manta_map_find(node, "pid", &v);
        manta_get_int(v, &pid);
        manta_map_find(node, "address", &v);
        manta_get_string(v, &s, &len);
        if (address) {
          snprintf(address, size, "%s", s);
        }
      }
    }
  }
  manta_value_free(st);
  REQUIRE(found == 1);
  return pid;
}

/* Actors hosted by the cluster's nodes, from their last heartbeats. */
static int64_t cluster_actors(void) {
  manta_value *st = NULL;
  REQUIRE_OK(manta_cluster_status(getenv("MANTA_ADDRESS"), NULL, 5000, &st));
  const manta_value *nodes, *node, *v;
  manta_map_find(st, "nodes", &nodes);
  size_t n = 0;
  manta_len(nodes, &n);
  int64_t total = 0, k = 0;
  for (size_t i = 0; i < n; i++) {
    manta_list_at(nodes, i, &node);
    if (manta_map_find(node, "actors", &v) == MANTA_OK &&
        manta_get_int(v, &k) == MANTA_OK) {
      total += k;
    }
  }
  manta_value_free(st);
  return total;
}

/* Polls (at most 10 s) until the hosted actors number `want`. */
static int64_t wait_cluster_actors(int64_t want) {
  int64_t got = cluster_actors();
  for (int i = 0; i < 200 && got != want; i++) {
    mt_test_sleep_ms(50);
    got = cluster_actors();
  }
  return got;
}

static manta_actor create(const char *cls, manta_value *arg,
                          const manta_call_options *o) {
  manta_actor a = {0};
  REQUIRE_OK(manta_actor_create(cls, (const manta_value *const *)&arg,
                                arg ? 1 : 0, o, &a));
  manta_value_free(arg);
  return a;
}

static manta_actor create_named(const char *cls, manta_value *arg,
                                const char *name, manta_err expect) {
  manta_call_options *o;
  REQUIRE_OK(manta_call_options_new(&o));
  REQUIRE_OK(manta_call_options_set_name(o, name));
  manta_actor a = {0};
  CHECK_ERR(manta_actor_create(cls, (const manta_value *const *)&arg,
                               arg ? 1 : 0, o, &a),
            expect);
  manta_value_free(arg);
  manta_call_options_free(o);
  return a;
}

int64_t call_int(manta_actor a, const char *m, manta_value **args, size_t n) {
  manta_value *v = mt_test_actor_call_get(a, m, args, n, 30000);
  int64_t x = mt_test_int(v);
  manta_value_free(v);
  return x;
}

static manta_err call_err(manta_actor a, const char *m, manta_value **args,
                          size_t n, manta_value **err) {
  manta_value *v = mt_test_actor_call_get(a, m, args, n, 30000);
  manta_err code =
      manta_value_kind(v) == MANTA_KIND_ERROR ? manta_error_code(v) : MANTA_OK;
  if (err) {
    *err = v;
  } else {
    manta_value_free(v);
  }
  return code;
}

/* ---- actors ---------------------------------------------------------------
 */

static void test_placed_where_offered(void) {
  /* Only node_b offers OnlyB; this driver offers no class at all. */
  int64_t pid_b = node_offering("OnlyB", NULL, 0);
  manta_actor a = create("OnlyB", NULL, NULL);
  CHECK_INT_EQ(call_int(a, "pid", NULL, 0), pid_b);
  CHECK(pid_b != (int64_t)getpid());
  CHECK_INT_EQ(call_int(a, "add", (manta_value *[]){manta_int(5)}, 1), 5);
  CHECK_INT_EQ(call_int(a, "add", (manta_value *[]){manta_int(2)}, 1), 7);
  CHECK_INT_EQ(call_int(a, "get", NULL, 0), 7);
  /* A proxy is no actor of this node. */
  int64_t here = -1;
  CHECK_OK(manta_stat_get(MANTA_STAT_LIVE_ACTORS, &here));
  CHECK_INT_EQ(here, 0);
  CHECK_OK(manta_actor_release(a));
}

typedef struct caller {
  manta_actor actor;
  int key, n, in_order;
} caller;

/* Calls next(key, i) for i in 0..n-1, then checks each answer is i. */
static void *ordered_caller(void *arg) {
  caller *c = arg;
  manta_ref *refs = calloc((size_t)c->n, sizeof *refs);
  for (int i = 0; i < c->n; i++) {
    manta_value *args[2] = {manta_int(c->key), manta_int(i)};
    refs[i] = mt_test_actor_call_async(c->actor, "next", args, 2);
  }
  c->in_order = 0;
  for (int i = 0; i < c->n; i++) {
    manta_value *v = NULL;
    manta_get(refs[i], 60000, &v);
    if (manta_value_kind(v) == MANTA_KIND_INT) {
      c->in_order += mt_test_int(v) == i;
    } else if (c->in_order == i) {
      mt_test_print_value(c->key == 1 ? "key 1 call" : "key 2 call", i, v);
    }
    manta_value_free(v);
    manta_ref_release(refs[i]);
  }
  free(refs);
  return NULL;
}

static void test_ordered_calls(void) {
  manta_actor a = create("Counter", NULL, NULL);
  /* 1000 calls, every 50th waiting on a ref that a remote task resolves
   * 20 ms later: the calls behind it must not overtake it. */
  enum { N = 1000 };
  static manta_ref refs[N];
  manta_ref lates[N / 50];
  for (int i = 0; i < N; i++) {
    manta_value *seq = manta_int(i);
    if (i % 50 == 0) {
      manta_value *largs[2] = {manta_int(20), seq};
      REQUIRE_OK(manta_submit("late", (const manta_value *const *)largs, 2,
                              NULL, &lates[i / 50]));
      manta_value_free(largs[0]);
      manta_value_free(seq);
      seq = manta_ref_value(lates[i / 50]);
    }
    refs[i] = mt_test_actor_call_async(a, "next",
                                       (manta_value *[]){manta_int(0), seq}, 2);
  }
  int in_order = 0;
  for (int i = 0; i < N; i++) {
    manta_value *v = NULL;
    manta_get(refs[i], 60000, &v);
    if (manta_value_kind(v) == MANTA_KIND_INT && mt_test_int(v) == i) {
      in_order++;
    } else if (in_order == i) {
      mt_test_print_value("call", i, v);
    }
    manta_value_free(v);
    manta_ref_release(refs[i]);
  }
  CHECK_INT_EQ(in_order, N);
  for (int i = 0; i < N / 50; i++) {
    manta_ref_release(lates[i]);
  }
  /* Two threads of this node call at once: each one's order holds. */
  caller c[2] = {{a, 1, 500, 0}, {a, 2, 500, 0}};
  pthread_t th[2];
  for (int i = 0; i < 2; i++) {
    REQUIRE(pthread_create(&th[i], NULL, ordered_caller, &c[i]) == 0);
  }
  for (int i = 0; i < 2; i++) {
    pthread_join(th[i], NULL);
    CHECK_INT_EQ(c[i].in_order, c[i].n);
  }
  printf("ordered: %d + 2 x 500 calls in order\n", N);
  CHECK_OK(manta_actor_release(a));
}

/* Some error in err's chain of causes has that code and text. */
static void check_cause(const manta_value *err, manta_err code,
                        const char *text) {
  const manta_value *c = err ? manta_error_cause(err) : NULL;
  while (c && !(manta_error_code(c) == code &&
                strstr(manta_error_message(c), text) != NULL)) {
    c = manta_error_cause(c);
  }
  CHECK(c != NULL);
  if (!c) {
    fprintf(stderr, "no cause %s '%s' in:\n", manta_errname(code), text);
    mt_test_print_value("error", 0, err);
  }
}

static void test_errors(void) {
  manta_actor a = create("Counter", manta_int(3), NULL);
  manta_value *err = NULL;
  /* An unknown method: an error value; the actor lives on. */
  CHECK_ERR(call_err(a, "withdraw", NULL, 0, &err), MANTA_ERR_NOT_FOUND);
  CHECK(strstr(manta_error_message(err), "withdraw") != NULL);
  manta_value_free(err);
  CHECK_ERR(call_err(a, "add", NULL, 0, NULL), MANTA_ERR_ARITY);
  CHECK_INT_EQ(call_int(a, "add", (manta_value *[]){manta_int(1)}, 1), 4);
  manta_actor_release(a);

  /* A failing constructor: every call says ACTOR_DEAD, with the cause. */
  a = create("Counter", manta_cstring("fail"), NULL);
  CHECK_ERR(call_err(a, "get", NULL, 0, &err), MANTA_ERR_ACTOR_DEAD);
  check_cause(err, MANTA_ERR_TASK_FAILED, "constructor refused 'fail'");
  manta_value_free(err);
  manta_actor_release(a);

  /* A class no node offers; resources no node has. */
  a = create("NoSuchClass", NULL, NULL);
  CHECK_ERR(call_err(a, "get", NULL, 0, &err), MANTA_ERR_ACTOR_DEAD);
  check_cause(err, MANTA_ERR_NOT_FOUND, "NoSuchClass");
  manta_value_free(err);
  manta_actor_release(a);
  manta_call_options *o;
  REQUIRE_OK(manta_call_options_new(&o));
  REQUIRE_OK(manta_call_options_set_resource(o, "GPU", 1));
  a = create("Counter", NULL, o);
  manta_call_options_free(o);
  CHECK_ERR(call_err(a, "get", NULL, 0, &err), MANTA_ERR_ACTOR_DEAD);
  check_cause(err, MANTA_ERR_INFEASIBLE, "Counter");
  manta_value_free(err);
  manta_actor_release(a);
}

/* call_actor(a, x) on node_a (the only node with resource side_a), while
 * the actor lives on node_b: [result, pid of the caller]. */
static manta_value *call_from_node_a(manta_actor a, int64_t x) {
  manta_call_options *o;
  REQUIRE_OK(manta_call_options_new(&o));
  REQUIRE_OK(manta_call_options_set_resource(o, "side_a", 1));
  manta_value *args[2] = {manta_actor_value(a), manta_int(x)};
  manta_ref r;
  REQUIRE_OK(
      manta_submit("call_actor", (const manta_value *const *)args, 2, o, &r));
  manta_call_options_free(o);
  manta_value_free(args[0]);
  manta_value_free(args[1]);
  manta_value *v = NULL;
  manta_get(r, 30000, &v);
  manta_ref_release(r);
  return v;
}

static void test_handle_passed_to_a_task(void) {
  int64_t pid_b = node_offering("OnlyB", NULL, 0);
  manta_actor a = create("OnlyB", NULL, NULL);
  CHECK_INT_EQ(call_int(a, "add", (manta_value *[]){manta_int(1)}, 1), 1);
  manta_value *v = call_from_node_a(a, 10);
  const manta_value *x, *pid;
  if (manta_list_at(v, 0, &x) == MANTA_OK &&
      manta_list_at(v, 1, &pid) == MANTA_OK) {
    CHECK_INT_EQ(mt_test_int(x), 11);
    CHECK(mt_test_int(pid) != pid_b && mt_test_int(pid) != getpid());
  } else {
    mt_test_print_value("call_actor", 0, v);
    CHECK(0);
  }
  manta_value_free(v);
  CHECK_INT_EQ(call_int(a, "get", NULL, 0), 11);
  manta_actor_release(a);

  /* Passed on before its creation was answered: the task's calls go
   * through this node's proxy, behind the creation. */
  a = create("OnlyB", manta_int(100), NULL);
  v = call_from_node_a(a, 7);
  CHECK(manta_list_at(v, 0, &x) == MANTA_OK && mt_test_int(x) == 107);
  manta_value_free(v);
  CHECK_INT_EQ(call_int(a, "get", NULL, 0), 107);
  manta_actor_release(a);
}

static void test_kill(void) {
  manta_actor a = create("Counter", NULL, NULL);
  CHECK_INT_EQ(call_int(a, "add", (manta_value *[]){manta_int(1)}, 1), 1);
  /* Calls queued behind a slow one when the kill comes: each resolves.
   * The slow call lasts 2 s, far beyond the 100 ms before the kill, so the
   * kill finds it running even on a loaded machine (with 300 ms, a kill
   * delayed past it let the queued calls run, under load). */
  manta_ref slow = mt_test_actor_call_async(
      a, "slow", (manta_value *[]){manta_int(2000)}, 1);
  manta_ref queued[3];
  for (int i = 0; i < 3; i++) {
    queued[i] =
        mt_test_actor_call_async(a, "add", (manta_value *[]){manta_int(1)}, 1);
  }
  mt_test_sleep_ms(100);
  CHECK_OK(manta_actor_kill(a));
  manta_value *v = NULL;
  manta_get(slow, 30000, &v);
  CHECK(manta_value_kind(v) == MANTA_KIND_INT ||
        manta_error_code(v) == MANTA_ERR_ACTOR_DEAD);
  manta_value_free(v);
  manta_ref_release(slow);
  for (int i = 0; i < 3; i++) {
    CHECK_ERR(manta_get(queued[i], 30000, &v), MANTA_ERR_ACTOR_DEAD);
    manta_value_free(v);
    manta_ref_release(queued[i]);
  }
  manta_value *err = NULL;
  CHECK_ERR(call_err(a, "get", NULL, 0, &err), MANTA_ERR_ACTOR_DEAD);
  CHECK(strstr(manta_error_message(err), "kill") != NULL);
  manta_value_free(err);
  manta_actor_release(a);
}

static void test_release_frees_the_host(void) {
  int64_t base = wait_cluster_actors(0);
  CHECK_INT_EQ(base, 0); /* every actor of the earlier tests is gone */
  manta_actor a = create("Counter", NULL, NULL);
  manta_actor b;
  CHECK_OK(manta_actor_clone(a, &b));
  CHECK_INT_EQ(call_int(a, "get", NULL, 0), 0);
  CHECK_INT_EQ(wait_cluster_actors(1), 1);
  CHECK_OK(manta_actor_release(a));
  CHECK_INT_EQ(call_int(b, "add", (manta_value *[]){manta_int(1)}, 1), 1);
  CHECK_OK(manta_actor_release(b));
  CHECK_INT_EQ(wait_cluster_actors(0), 0);
}

static void test_named(void) {
  manta_actor a = create_named("Counter", manta_int(40), "shared", MANTA_OK);
  CHECK_INT_EQ(call_int(a, "add", (manta_value *[]){manta_int(2)}, 1), 42);
  /* The name is taken, cluster-wide, and that is known at once. */
  create_named("OnlyB", NULL, "shared", MANTA_ERR_EXISTS);
  manta_actor found;
  CHECK_OK(manta_actor_lookup("shared", &found));
  CHECK_INT_EQ(found.id, a.id); /* one proxy per remote actor */
  CHECK_INT_EQ(call_int(found, "get", NULL, 0), 42);
  CHECK_ERR(manta_actor_lookup("nobody", &found), MANTA_ERR_NOT_FOUND);
  /* Named: it outlives every handle, and this process (actors_lookup). */
  manta_actor_release(found);
  manta_actor_release(a);
}

/* ---- actors_lookup ------------------------------------------------------ */

static void test_lookup_from_another_process(void) {
  manta_actor a;
  REQUIRE_OK(manta_actor_lookup("shared", &a));
  CHECK_INT_EQ(call_int(a, "get", NULL, 0), 42);
  create_named("Counter", NULL, "shared", MANTA_ERR_EXISTS);
  CHECK_OK(manta_actor_kill(a));
  CHECK_ERR(call_err(a, "get", NULL, 0, NULL), MANTA_ERR_ACTOR_DEAD);
  manta_actor_release(a);
  /* The host drops the name once the actor is dead. */
  manta_err err = MANTA_OK;
  for (int i = 0; i < 200 && err == MANTA_OK; i++) {
    err = manta_actor_lookup("shared", &a);
    if (err == MANTA_OK) {
      manta_actor_release(a);
      mt_test_sleep_ms(25);
    }
  }
  CHECK_ERR(err, MANTA_ERR_NOT_FOUND);
  /* Free again. */
  a = create_named("Counter", manta_int(1), "shared", MANTA_OK);
  CHECK_INT_EQ(call_int(a, "get", NULL, 0), 1);
  CHECK_OK(manta_actor_kill(a));
  manta_actor_release(a);
}

/* ---- actor_death -------------------------------------------------------- */

static void test_host_killed_mid_calls(void) {
  char address[128];
  int64_t pid = node_offering("Fragile", address, sizeof address);
  manta_actor a = create("Fragile", NULL, NULL);
  CHECK_INT_EQ(call_int(a, "pid", NULL, 0), pid);
  enum { SENT = 10 };
  manta_ref sent[SENT], waiting;
  for (int i = 0; i < SENT; i++) {
    sent[i] = mt_test_actor_call_async(a, "slow",
                                       (manta_value *[]){manta_int(200)}, 1);
  }
  /* One call still waits here for its argument when the node dies. */
  manta_ref late;
  manta_value *largs[2] = {manta_int(2000), manta_int(0)};
  REQUIRE_OK(
      manta_submit("late", (const manta_value *const *)largs, 2, NULL, &late));
  manta_value_free(largs[0]);
  manta_value_free(largs[1]);
  waiting = mt_test_actor_call_async(
      a, "next", (manta_value *[]){manta_int(0), manta_ref_value(late)}, 2);
  mt_test_sleep_ms(300);
  printf("actor_death: killing node pid %lld (%s) mid-calls\n", (long long)pid,
         address);
  fflush(stdout);
  double t0 = mt_test_now_ms();
  REQUIRE(kill((pid_t)pid, SIGKILL) == 0);
  int dead = 0, ran = 0, named = 0;
  manta_ref all[SENT + 1];
  memcpy(all, sent, sizeof sent);
  all[SENT] = waiting;
  for (int i = 0; i < SENT + 1; i++) {
    manta_value *v = NULL;
    manta_err err = manta_get(all[i], 20000, &v);
    if (err == MANTA_OK) {
      ran++; /* finished before the kill */
    } else if (err == MANTA_ERR_ACTOR_DEAD) {
      dead++;
      named += strstr(manta_error_message(v), address) != NULL;
    } else {
      mt_test_print_value("call", i, v);
    }
    manta_value_free(v);
    manta_ref_release(all[i]);
  }
  CHECK_INT_EQ(dead + ran, SENT + 1);
  CHECK(dead >= 1);
  CHECK_INT_EQ(named, dead);
  printf("actor_death: %d calls ran, %d failed ACTOR_DEAD within %lld ms\n",
         ran, dead, (long long)(mt_test_now_ms() - t0));
  /* Later calls fail too, never hang; once the head has declared the node
   * dead, at once and saying so. */
  manta_value *err = NULL;
  int said_died = 0;
  for (int i = 0; i < 100 && !said_died; i++) {
    CHECK_ERR(call_err(a, "get", NULL, 0, &err), MANTA_ERR_ACTOR_DEAD);
    said_died = strstr(manta_error_message(err), "died") != NULL;
    manta_value_free(err);
    if (!said_died) {
      mt_test_sleep_ms(100);
    }
  }
  CHECK(said_died);
  manta_ref_release(late);
  manta_actor_release(a);
}

int cluster_actor_phase(const char *phase) {
  if (strcmp(phase, "actors") == 0) {
    RUN_TEST(test_placed_where_offered);
    RUN_TEST(test_ordered_calls);
    RUN_TEST(test_errors);
    RUN_TEST(test_handle_passed_to_a_task);
    RUN_TEST(test_kill);
    RUN_TEST(test_release_frees_the_host);
    RUN_TEST(test_named);
  } else if (strcmp(phase, "actors_lookup") == 0) {
    RUN_TEST(test_lookup_from_another_process);
  } else if (strcmp(phase, "actor_death") == 0) {
    RUN_TEST(test_host_killed_mid_calls);
  } else {
    return 0;
  }
  return 1;
}
