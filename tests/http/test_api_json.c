/*
 * The dashboard's JSON API builders (runtime/http/api_*.c): quantiles from
 * a run-time histogram; a node's document from a report made by hand; the
 * cluster's document from a hand-made head status (functions summed over
 * nodes, a dead node listed without a report, errors newest first); and
 * the real runtime's /api/node after failing tasks and actor calls (the
 * error ring bounded, calls counted per actor).
 */
#include "api_cluster.h"
#include "api_gather.h"
#include "api_json.h"
#include "api_routes.h"
#include "rt.h"
#include "test_util.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

static bool near(double a, double b) {
  return fabs(a - b) <= 1e-9 + 1e-6 * fabs(b);
}

static void test_quantiles(void) {
  uint64_t b[MT_RUN_BUCKETS + 1] = {0};
  CHECK(mt_api_quantile(b, 0.5) < 0); /* empty: none */
  b[0] = 10;                          /* ten runs under 10 us */
  CHECK(near(mt_api_quantile(b, 0.5), 5e-6));
  memset(b, 0, sizeof b);
  b[2] = 50; /* 100 us .. 1 ms */
  b[4] = 50; /* 5 ms .. 10 ms */
  CHECK(near(mt_api_quantile(b, 0.5), 1e-3));
  CHECK(near(mt_api_quantile(b, 0.99), 9.9e-3));
  memset(b, 0, sizeof b);
  b[MT_RUN_BUCKETS] = 3; /* beyond the last bound: that bound */
  CHECK(near(mt_api_quantile(b, 0.5), 60.0));
}

static json_t *reparse(json_t *j) {
  size_t len;
  char *text = mt_api_dump(j, &len);
  REQUIRE(text && strlen(text) == len);
  json_error_t err;
  json_t *back = json_loads(text, 0, &err);
  REQUIRE(back != NULL);
  free(text);
  return back;
}

static json_int_t ival(json_t *o, const char *path) {
  /* path: "a.b" */
  char key[64];
  const char *dot;
  while ((dot = strchr(path, '.'))) {
    snprintf(key, sizeof key, "%.*s", (int)(dot - path), path);
    o = json_object_get(o, key);
    path = dot + 1;
  }
  return json_integer_value(json_object_get(o, path));
}

/* A report of node `id` with one function and what it ran. */
static void fake_report(mt_node_report *r, uint64_t id, const char *fn,
                        uint64_t finished, uint64_t failed, int bucket,
                        int64_t error_ms) {
  memset(r, 0, sizeof *r);
  r->m.node_id = id;
  r->m.tasks_running = 2;
  r->m.objects = 3;
  r->m.object_bytes = 300;
  r->m.nres = 1;
  strcpy(r->m.res[0].name, "CPU");
  r->m.res[0].total = 4;
  r->m.res[0].available = 1;
  r->m.fns = calloc(1, sizeof *r->m.fns);
  REQUIRE(r->m.fns);
  r->m.fns[0].name = strdup(fn);
  r->m.fns[0].st.submitted = finished;
  r->m.fns[0].st.finished = finished;
  r->m.fns[0].st.failed = failed;
  r->m.fns[0].st.runs = finished;
  r->m.fns[0].st.bucket[bucket] = finished;
  r->m.nfns = 1;
  r->actors = calloc(1, sizeof *r->actors);
  REQUIRE(r->actors);
  r->actors[0] = (mt_report_actor){
      .id = 7, .state = MT_ACTOR_ALIVE, .calls = 11, .running = 1};
  strcpy(r->actors[0].cls, "Counter");
  strcpy(r->actors[0].name, "counter-1");
  r->nactors = r->actors_total = 1;
  r->nerrors = 1;
  r->errors_total = 1;
  r->errors[0].time_ms = error_ms;
  r->errors[0].code = MANTA_ERR_TASK_FAILED;
  snprintf(r->errors[0].what, sizeof r->errors[0].what, "function %s", fn);
  strcpy(r->errors[0].message, "failed \"on purpose\"\n");
  strcpy(r->errors[0].origin, "function fail on node x");
  strcpy(r->address, "127.0.0.1:1");
}

static void test_node_document(void) {
  mt_node_report r;
  fake_report(&r, 0xabcdefull, "square", 100, 4, 2, 1000);
  json_t *j = reparse(mt_api_node_json(&r));
  CHECK(strcmp(json_string_value(json_object_get(j, "node_id")),
               "0000000000abcdef") == 0);
  CHECK(ival(j, "tasks.running") == 2);
  CHECK(ival(j, "objects.count") == 3);
  CHECK(ival(j, "objects.bytes") == 300);
  json_t *f = json_array_get(json_object_get(j, "functions"), 0);
  CHECK(strcmp(json_string_value(json_object_get(f, "name")), "square") == 0);
  CHECK(ival(f, "finished") == 100);
  CHECK(ival(f, "failed") == 4);
  CHECK(near(json_real_value(json_object_get(f, "p50_seconds")), 5.5e-4));
  CHECK(json_array_size(json_object_get(f, "buckets")) == MT_RUN_BUCKETS + 1);
  json_t *a = json_array_get(json_object_get(j, "actors"), 0);
  CHECK(strcmp(json_string_value(json_object_get(a, "class")), "Counter") == 0);
  CHECK(strcmp(json_string_value(json_object_get(a, "name")), "counter-1") ==
        0);
  CHECK(strcmp(json_string_value(json_object_get(a, "state")), "alive") == 0);
  CHECK(ival(a, "calls") == 11);
  json_t *e = json_array_get(json_object_get(j, "errors"), 0);
  /* Quotes and newlines survive the round trip (Jansson escapes them). */
  CHECK(strcmp(json_string_value(json_object_get(e, "message")),
               "failed \"on purpose\"\n") == 0);
  CHECK(strcmp(json_string_value(json_object_get(e, "code")),
               "MANTA_ERR_TASK_FAILED") == 0);
  json_t *res = json_array_get(json_object_get(j, "resources"), 0);
  CHECK(json_real_value(json_object_get(res, "available")) == 1.0);
  json_decref(j);
  mt_node_report_free(&r);
}

static void test_cluster_document(void) {
  Manta__V1__NodeInfo info[3];
  Manta__V1__NodeStatus st[3], *ptrs[3];
  const char *addr[3] = {"127.0.0.1:1", "127.0.0.1:2", "127.0.0.1:3"};
  for (int i = 0; i < 3; i++) {
    manta__v1__node_info__init(&info[i]);
    manta__v1__node_status__init(&st[i]);
    info[i].node_id = (uint64_t)(i + 1);
    info[i].address = (char *)addr[i];
    st[i].info = &info[i];
    st[i].state = i == 2 ? MANTA__V1__NODE_STATE__NODE_STATE_DEAD
                         : MANTA__V1__NODE_STATE__NODE_STATE_ALIVE;
    st[i].last_heartbeat_ms_ago = i == 2 ? 5000 : 100;
    ptrs[i] = &st[i];
  }
  st[0].is_head = true;
  Manta__V1__ClusterStatusReply reply = MANTA__V1__CLUSTER_STATUS_REPLY__INIT;
  reply.head_node_id = 1;
  reply.nodes = ptrs;
  reply.n_nodes = 3;
  mt_node_report r1, r2;
  fake_report(&r1, 1, "square", 100, 4, 2, 1000);
  fake_report(&r2, 2, "square", 50, 0, 4, 3000);
  json_t *docs[3] = {mt_api_node_json(&r1), mt_api_node_json(&r2), NULL};
  const char *whys[3] = {NULL, NULL, NULL};
  mt_node_report_free(&r1);
  mt_node_report_free(&r2);
  json_t *j = reparse(mt_api_cluster_json(&reply, docs, whys, 42));
  CHECK(docs[0] == NULL && docs[1] == NULL); /* taken */
  json_t *nodes = json_object_get(j, "nodes");
  REQUIRE(json_array_size(nodes) == 3);
  json_t *dead = json_array_get(nodes, 2);
  CHECK(strcmp(json_string_value(json_object_get(dead, "state")), "dead") == 0);
  CHECK(json_is_null(json_object_get(dead, "report")));
  CHECK(json_is_true(json_object_get(json_array_get(nodes, 0), "is_head")));
  CHECK(json_is_object(json_object_get(json_array_get(nodes, 1), "report")));
  json_t *fns = json_object_get(j, "functions");
  REQUIRE(json_array_size(fns) == 1); /* square of both nodes, summed */
  json_t *f = json_array_get(fns, 0);
  CHECK(ival(f, "finished") == 150);
  CHECK(ival(f, "failed") == 4);
  json_t *b = json_object_get(f, "buckets");
  CHECK(json_integer_value(json_array_get(b, 2)) == 100);
  CHECK(json_integer_value(json_array_get(b, 4)) == 50);
  /* 100 runs in 100us..1ms, 50 in 5..10 ms: the median in the first. */
  CHECK(near(json_real_value(json_object_get(f, "p50_seconds")),
             1e-4 + 9e-4 * 0.75));
  CHECK(ival(j, "totals.nodes_alive") == 2);
  CHECK(ival(j, "totals.nodes_dead") == 1);
  CHECK(ival(j, "totals.tasks_finished") == 150);
  CHECK(ival(j, "totals.tasks_running") == 4);
  CHECK(ival(j, "totals.actors_alive") == 2);
  CHECK(ival(j, "time_ms") == 42);
  json_t *errs = json_object_get(j, "errors");
  REQUIRE(json_array_size(errs) == 2);
  CHECK(ival(json_array_get(errs, 0), "time_ms") == 3000); /* newest first */
  CHECK(strcmp(json_string_value(
                   json_object_get(json_array_get(errs, 0), "node_id")),
               "0000000000000002") == 0);
  json_decref(j);
  /* A node that did not answer says why. */
  json_t *none[3] = {NULL, NULL, NULL};
  const char *why[3] = {NULL, "no answer from 127.0.0.1:2: timed out", NULL};
  j = reparse(mt_api_cluster_json(&reply, none, why, 1));
  CHECK(strcmp(json_string_value(json_object_get(
                   json_array_get(json_object_get(j, "nodes"), 1),
                   "report_error")),
               why[1]) == 0);
  CHECK(json_array_size(json_object_get(j, "functions")) == 0);
  json_decref(j);
}

/* ---- the real runtime ---------------------------------------------------- */

static manta_value *fail(const manta_value *const *a, size_t n, void *u) {
  (void)a, (void)n, (void)u;
  return manta_error(MANTA_ERR_TASK_FAILED, "failed on purpose");
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

static json_t *local(const char *path, int *status) {
  mt_http_reply r = {.status = 200};
  mt_api_local(path, &r);
  REQUIRE(r.body != NULL);
  *status = r.status;
  json_t *j = json_loadb(r.body, r.len, 0, NULL);
  REQUIRE(j != NULL);
  free(r.body);
  return j;
}

static void test_runtime(void) {
  int status;
  json_t *j = local("/api/node", &status);
  CHECK(status == 503); /* not initialized */
  json_decref(j);
  REQUIRE(manta_init(NULL) == MANTA_OK);
  REQUIRE(manta_register_function("fail", fail, 0, NULL) == MANTA_OK);
  REQUIRE(manta_register_class("Pinger", ctor, NULL, NULL) == MANTA_OK);
  REQUIRE(manta_register_method("Pinger", "ping", ping, 0, NULL) == MANTA_OK);
  const int fails = MT_ERRLOG_SIZE + 6;
  for (int i = 0; i < fails; i++) {
    manta_ref r;
    manta_value *v = NULL;
    REQUIRE(manta_submit("fail", NULL, 0, NULL, &r) == MANTA_OK);
    CHECK(manta_get(r, 30000, &v) == MANTA_ERR_TASK_FAILED);
    manta_value_free(v);
    manta_ref_release(r);
  }
  manta_call_options *opts;
  REQUIRE(manta_call_options_new(&opts) == MANTA_OK);
  REQUIRE(manta_call_options_set_name(opts, "pinger") == MANTA_OK);
  manta_actor a;
  REQUIRE(manta_actor_create("Pinger", NULL, 0, opts, &a) == MANTA_OK);
  manta_call_options_free(opts);
  for (int i = 0; i < 3; i++) {
    manta_ref r;
    manta_value *v = NULL;
    REQUIRE(manta_actor_call(a, "ping", NULL, 0, &r) == MANTA_OK);
    CHECK(manta_get(r, 30000, &v) == MANTA_OK);
    manta_value_free(v);
    manta_ref_release(r);
  }
  j = local("/api/node", &status);
  CHECK(status == 200);
  json_t *errs = json_object_get(j, "errors");
  CHECK(json_array_size(errs) == MT_ERRLOG_SIZE); /* the ring is bounded */
  CHECK(ival(j, "errors_total") == fails);
  json_t *e = json_array_get(errs, 0);
  CHECK(strcmp(json_string_value(json_object_get(e, "what")),
               "function fail") == 0);
  CHECK(strcmp(json_string_value(json_object_get(e, "message")),
               "failed on purpose") == 0);
  CHECK(strstr(json_string_value(json_object_get(e, "origin")),
               "function fail") != NULL);
  json_t *act = json_array_get(json_object_get(j, "actors"), 0);
  REQUIRE(act != NULL);
  CHECK(strcmp(json_string_value(json_object_get(act, "class")), "Pinger") ==
        0);
  CHECK(strcmp(json_string_value(json_object_get(act, "name")), "pinger") == 0);
  CHECK(ival(act, "calls") == 3);
  json_decref(j);
  j = local("/api/nope", &status);
  CHECK(status == 404);
  CHECK(json_is_string(json_object_get(j, "error")));
  json_decref(j);
  /* Outside a cluster the cluster is this node alone. */
  char why[200];
  j = mt_api_cluster_gather(why, sizeof why);
  REQUIRE(j != NULL);
  CHECK(json_array_size(json_object_get(j, "nodes")) == 1);
  CHECK(ival(j, "totals.tasks_failed") == fails);
  CHECK(ival(j, "totals.actors_alive") == 1);
  json_decref(j);
  manta_actor_kill(a);
  manta_actor_release(a);
  manta_shutdown();
}

int main(void) {
  RUN_TEST(test_quantiles);
  RUN_TEST(test_node_document);
  RUN_TEST(test_cluster_document);
  RUN_TEST(test_runtime);
  return mt_test_done();
}
