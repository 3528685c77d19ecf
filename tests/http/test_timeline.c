/*
 * The timeline (runtime/core/timeline.c, runtime/http/api_timeline.c):
 * off by default, nothing is noted; on, every task and actor call run is
 * noted with its name, kind, worker and times (a flood of one function
 * as runs of many calls, every call counted); each worker's ring keeps
 * only its last N events (dropped counts the rest); a node's document and
 * the Chrome trace built from hand-made documents (processes named, times
 * from the earliest event, a silent node listed as unanswered).
 */
#include "api_timeline.h"
#include "rt.h"
#include "test_util.h"

#include <stdlib.h>
#include <string.h>

static manta_value *noop(const manta_value *const *a, size_t n, void *u) {
  (void)a, (void)n, (void)u;
  return manta_int(0);
}

static void *ctor(const manta_value *const *a, size_t n, void *d,
                  manta_value **e) {
  (void)a, (void)n, (void)d, (void)e;
  return NULL;
}

static manta_value *ping(void *s, const manta_value *const *a, size_t n,
                         void *d) {
  (void)s, (void)a, (void)n, (void)d;
  return manta_int(1);
}

static void run_tasks(int n) {
  for (int i = 0; i < n; i++) {
    manta_ref r;
    manta_value *v = NULL;
    REQUIRE(manta_submit("noop", NULL, 0, NULL, &r) == MANTA_OK);
    CHECK(manta_get(r, 30000, &v) == MANTA_OK);
    manta_value_free(v);
    manta_ref_release(r);
  }
}

/* Calls of name noted (an event is a run of calls). */
static size_t count(const mt_tl_event *ev, size_t n, const char *name) {
  size_t k = 0;
  for (size_t i = 0; i < n; i++) {
    k += strcmp(ev[i].name, name) == 0 ? ev[i].calls : 0;
  }
  return k;
}

static void test_rings(void) {
  unsetenv("MANTA_TIMELINE");
  REQUIRE(manta_init(NULL) == MANTA_OK);
  REQUIRE(manta_register_function("noop", noop, 0, NULL) == MANTA_OK);
  REQUIRE(manta_register_class("Pinger", ctor, NULL, NULL) == MANTA_OK);
  REQUIRE(manta_register_method("Pinger", "ping", ping, 0, NULL) == MANTA_OK);
  run_tasks(5);
  mt_tl_event *ev;
  size_t n;
  uint64_t dropped;
  REQUIRE(mt_timeline_copy(&ev, &n, &dropped));
  CHECK(n == 0); /* off by default */
  free(ev);
  CHECK_ERR(manta_timeline_enable(1), MANTA_ERR_INVALID);
  CHECK_ERR(manta_timeline_enable(-5), MANTA_ERR_INVALID);
  CHECK_ERR(manta_timeline_enable(8), MANTA_OK);
  int64_t before = mt_timeline_now();
  run_tasks(3);
  manta_actor a;
  REQUIRE(manta_actor_create("Pinger", NULL, 0, NULL, &a) == MANTA_OK);
  manta_ref r;
  manta_value *v = NULL;
  REQUIRE(manta_actor_call(a, "ping", NULL, 0, &r) == MANTA_OK);
  CHECK(manta_get(r, 30000, &v) == MANTA_OK);
  manta_value_free(v);
  manta_ref_release(r);
  REQUIRE(mt_timeline_copy(&ev, &n, &dropped));
  CHECK(count(ev, n, "noop") == 3);
  CHECK(count(ev, n, "Pinger.ping") == 1);
  for (size_t i = 0; i < n; i++) {
    CHECK(ev[i].start_ns >= before && ev[i].end_ns >= ev[i].start_ns);
    CHECK(ev[i].worker >= 1 && ev[i].calls >= 1);
    int kind = strcmp(ev[i].name, "noop") == 0 ? MT_TASK_FUNCTION
               : strcmp(ev[i].name, "Pinger.ping") == 0
                   ? MT_TASK_ACTOR_CALL
                   : MT_TASK_ACTOR_CREATE; /* "Pinger.__init__" */
    CHECK(ev[i].kind == kind);
    CHECK(kind == MT_TASK_ACTOR_CREATE || ev[i].id != 0);
  }
  free(ev);
  /* Each worker keeps its last 8 runs: 40 more (one at a time, each a
   * run of its own) leave at most 8 per ring. */
  run_tasks(40);
  REQUIRE(mt_timeline_copy(&ev, &n, &dropped));
  CHECK(n >= 8 && n <= 8 * (size_t)mt_rt.workers_total + 8);
  CHECK(dropped >= 44 - n);
  free(ev);
  /* A flood of one function: runs of many calls, every call counted. */
  CHECK_ERR(manta_timeline_enable(100000), MANTA_OK);
  manta_ref refs[2000];
  for (int i = 0; i < 2000; i++) {
    REQUIRE(manta_submit("noop", NULL, 0, NULL, &refs[i]) == MANTA_OK);
  }
  for (int i = 0; i < 2000; i++) {
    manta_value *got = NULL;
    CHECK(manta_get(refs[i], 30000, &got) == MANTA_OK);
    manta_value_free(got);
    manta_ref_release(refs[i]);
  }
  REQUIRE(mt_timeline_copy(&ev, &n, &dropped));
  CHECK(count(ev, n, "noop") == 2000);
  CHECK(dropped == 0);
  free(ev);
  /* Off again: nothing more is noted. */
  CHECK_ERR(manta_timeline_enable(0), MANTA_OK);
  REQUIRE(mt_timeline_copy(&ev, &n, &dropped));
  size_t had = n;
  free(ev);
  run_tasks(5);
  REQUIRE(mt_timeline_copy(&ev, &n, &dropped));
  CHECK(n == had);
  free(ev);
  /* The whole cluster (this node alone) as a trace, in process. */
  char *json = NULL;
  CHECK_ERR(manta_timeline(NULL, NULL, &json), MANTA_OK);
  REQUIRE(json != NULL);
  json_t *trace = json_loads(json, 0, NULL);
  REQUIRE(trace != NULL);
  CHECK(json_array_size(json_object_get(trace, "traceEvents")) > had);
  json_decref(trace);
  manta_free(json);
  manta_actor_release(a);
  manta_shutdown();
  CHECK_ERR(manta_timeline(NULL, NULL, &json), MANTA_ERR_NOT_INITIALIZED);
  CHECK_ERR(manta_timeline("no-port", NULL, &json), MANTA_ERR_INVALID);
}

static void test_trace(void) {
  mt_tl_event ev[2] = {{.start_ns = 5000000,
                        .end_ns = 9000000,
                        .id = 1,
                        .calls = 40,
                        .worker = 1,
                        .kind = MT_TASK_FUNCTION,
                        .name = "square"},
                       {.start_ns = 6000000,
                        .end_ns = 7000000,
                        .id = 2,
                        .calls = 1,
                        .worker = 2,
                        .kind = MT_TASK_ACTOR_CALL,
                        .name = "C.m"}};
  json_t *docs[3] = {
      mt_api_timeline_node_json(0x10, "127.0.0.1:1", 100, ev, 2, 3), NULL,
      NULL};
  REQUIRE(docs[0] != NULL);
  CHECK(json_integer_value(json_object_get(docs[0], "dropped")) == 3);
  Manta__V1__NodeInfo info[3];
  Manta__V1__NodeStatus st[3], *ptrs[3];
  const char *addr[3] = {"127.0.0.1:1", "127.0.0.1:2", "127.0.0.1:3"};
  for (int i = 0; i < 3; i++) {
    manta__v1__node_info__init(&info[i]);
    manta__v1__node_status__init(&st[i]);
    info[i].node_id = (uint64_t)(0x10 + i);
    info[i].address = (char *)addr[i];
    st[i].info = &info[i];
    st[i].state = i == 2 ? MANTA__V1__NODE_STATE__NODE_STATE_DEAD
                         : MANTA__V1__NODE_STATE__NODE_STATE_ALIVE;
    ptrs[i] = &st[i];
  }
  st[0].is_head = true;
  Manta__V1__ClusterStatusReply reply = MANTA__V1__CLUSTER_STATUS_REPLY__INIT;
  reply.nodes = ptrs;
  reply.n_nodes = 3;
  const char *whys[3] = {NULL, "no answer from 127.0.0.1:2: timed out", NULL};
  json_t *t = mt_api_trace_json(&reply, docs, whys);
  REQUIRE(t != NULL);
  json_decref(docs[0]);
  json_t *events = json_object_get(t, "traceEvents");
  size_t procs = 0, threads = 0, calls = 0, i;
  json_t *e;
  json_array_foreach(events, i, e) {
    const char *ph = json_string_value(json_object_get(e, "ph"));
    const char *name = json_string_value(json_object_get(e, "name"));
    if (strcmp(ph, "M") == 0) {
      procs += strcmp(name, "process_name") == 0;
      threads += strcmp(name, "thread_name") == 0;
      continue;
    }
    calls++;
    CHECK(strcmp(ph, "X") == 0);
    CHECK(json_integer_value(json_object_get(e, "pid")) == 1);
    double ts = json_real_value(json_object_get(e, "ts"));
    double dur = json_real_value(json_object_get(e, "dur"));
    if (strcmp(name, "square") == 0) {
      CHECK(ts == 0 && dur == 4000); /* us from the earliest event */
      CHECK(json_integer_value(
                json_object_get(json_object_get(e, "args"), "calls")) == 40);
      CHECK(strcmp(json_string_value(json_object_get(e, "cat")), "task") == 0);
    } else {
      CHECK(ts == 1000 && dur == 1000);
      CHECK(strcmp(json_string_value(json_object_get(e, "cat")),
                   "actor_call") == 0);
    }
  }
  CHECK(procs == 3 && threads == 2 && calls == 2);
  json_t *un = json_object_get(json_object_get(t, "otherData"), "unanswered");
  CHECK(json_array_size(un) == 1); /* the dead node is not "unanswered" */
  CHECK(strstr(json_string_value(json_array_get(un, 0)), "timed out"));
  json_decref(t);
}

int main(void) {
  RUN_TEST(test_rings);
  RUN_TEST(test_trace);
  return mt_test_done();
}
