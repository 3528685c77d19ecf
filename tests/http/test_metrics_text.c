/*
 * The /metrics text from a snapshot made by hand (runtime/http/
 * metrics_text.c): metric names and types, label values escaped as the
 * exposition format asks, histogram buckets cumulative up to +Inf = count,
 * gRPC calls by side and code (only codes seen, OK always); and the Bearer
 * check of the HTTP server (runtime/http/server.c).
 */
#include "http.h"
#include "metrics.h"
#include "test_util.h"

#include <stdlib.h>
#include <string.h>

static char *render(mt_metrics *m) {
  size_t len = 0;
  char *text = mt_metrics_render(m, &len);
  REQUIRE(text != NULL);
  REQUIRE(strlen(text) == len);
  return text;
}

static bool has_line(const char *text, const char *line) {
  size_t n = strlen(line);
  for (const char *p = text; (p = strstr(p, line)); p++) {
    if ((p == text || p[-1] == '\n') && p[n] == '\n') {
      return true;
    }
  }
  return false;
}

static void test_names_and_types(void) {
  mt_metrics m = {.node_id = 0xabcdefull,
                  .tasks_queued = 4,
                  .tasks_running = 2,
                  .objects = 9,
                  .object_bytes = 1024,
                  .spilled_bytes = 4096,
                  .store_limit = 8192,
                  .nres = 1,
                  .workers_total = 3,
                  .submitted_other = 5,
                  .tasks_retried = 3,
                  .retried_other = 1};
  strcpy(m.res[0].name, "CPU");
  m.res[0].total = 2;
  m.res[0].available = 0.5;
  mt_metrics_fn fn = {.name = "square",
                      .st = {.submitted = 10,
                             .finished = 8,
                             .failed = 1,
                             .retried = 2,
                             .running = 4}};
  m.fns = &fn;
  m.nfns = 1;
  char *t = render(&m);
  CHECK(has_line(t, "# TYPE manta_tasks_finished_total counter"));
  CHECK(has_line(t, "manta_tasks_finished_total{function=\"square\"} 8"));
  CHECK(has_line(t, "manta_tasks_failed_total{function=\"square\"} 1"));
  CHECK(has_line(t, "manta_tasks_submitted_total{function=\"square\"} 10"));
  CHECK(has_line(t, "manta_tasks_submitted_total{function=\"_other\"} 5"));
  CHECK(has_line(t, "# TYPE manta_tasks_retried_total counter"));
  CHECK(has_line(t, "manta_tasks_retried_total{function=\"square\"} 2"));
  CHECK(has_line(t, "manta_tasks_retried_total{function=\"_other\"} 1"));
  CHECK(has_line(t, "manta_function_tasks_running{function=\"square\"} 4"));
  CHECK(has_line(t, "# TYPE manta_tasks_queued gauge"));
  CHECK(has_line(t, "manta_tasks_queued 4"));
  CHECK(has_line(t, "manta_tasks_running 2"));
  CHECK(has_line(t, "manta_object_bytes 1024"));
  CHECK(has_line(t, "manta_object_spilled_bytes 4096"));
  CHECK(has_line(t, "manta_object_store_limit_bytes 8192"));
  CHECK(has_line(t, "manta_resource_capacity{resource=\"CPU\"} 2"));
  CHECK(has_line(t, "manta_resource_available{resource=\"CPU\"} 0.5"));
  CHECK(has_line(t, "manta_worker_threads 3"));
  CHECK(has_line(t, "manta_node_info{node=\"0000000000abcdef\"} 1"));
  CHECK(has_line(t, "# TYPE manta_task_run_seconds histogram"));
  /* Embedded: no peers section. */
  CHECK(strstr(t, "manta_peer_up") == NULL);
  /* Every sample's metric has a TYPE line before it, and every name
   * starts with manta_. */
  for (char *line = t; *line;) {
    char *end = strchr(line, '\n');
    REQUIRE(end != NULL);
    if (line[0] != '#') {
      CHECK(strncmp(line, "manta_", 6) == 0);
    }
    line = end + 1;
  }
  free(t);
}

static void test_actor_states_and_objects(void) {
  mt_metrics m = {.objects = 9,
                  .objects_borrowed = 4,
                  .objects_lent = 2,
                  .objects_in_transfer = 1};
  mt_metrics_class c = {
      .name = "Counter", .pending = 1, .alive = 3, .dead = 2, .calls = 5};
  m.classes = &c;
  m.nclasses = 1;
  char *t = render(&m);
  CHECK(has_line(t, "# TYPE manta_actors gauge"));
  CHECK(has_line(t, "manta_actors{class=\"Counter\",state=\"pending\"} 1"));
  CHECK(has_line(t, "manta_actors{class=\"Counter\",state=\"alive\"} 3"));
  CHECK(has_line(t, "manta_actors{class=\"Counter\",state=\"dead\"} 2"));
  CHECK(has_line(t, "manta_actors_alive{class=\"Counter\"} 3"));
  CHECK(has_line(t, "manta_objects_borrowed 4"));
  CHECK(has_line(t, "manta_objects_lent 2"));
  CHECK(has_line(t, "manta_objects_in_transfer 1"));
  free(t);
}

static void test_label_escaping(void) {
  mt_metrics m = {0};
  mt_metrics_class c = {.name = "we\"ird\\cl\nass", .alive = 2, .calls = 3};
  m.classes = &c;
  m.nclasses = 1;
  char *t = render(&m);
  CHECK(has_line(t, "manta_actors_alive{class=\"we\\\"ird\\\\cl\\nass\"} 2"));
  CHECK(has_line(t,
                 "manta_actor_calls_total{class=\"we\\\"ird\\\\cl\\nass\"} 3"));
  free(t);
}

static void test_histogram(void) {
  mt_metrics m = {0};
  mt_metrics_fn fn = {.name = "f"};
  uint64_t runs[] = {1,        5000,      20000,      3000000,
                     70000000, 900000000, 7000000000, 100000000000ull};
  for (size_t i = 0; i < sizeof runs / sizeof runs[0]; i++) {
    mt_fn_stats_run(&fn.st, runs[i]);
  }
  m.fns = &fn;
  m.nfns = 1;
  char *t = render(&m);
  /* Buckets in order of le, each at least the one before. */
  const char *p = t;
  int buckets = 0;
  double last = -1;
  while (
      (p = strstr(p, "manta_task_run_seconds_bucket{function=\"f\",le=\""))) {
    const char *v = strchr(p, '}');
    REQUIRE(v != NULL);
    double count = atof(v + 2);
    CHECK(count >= last);
    last = count;
    buckets++;
    p = v;
  }
  CHECK_INT_EQ(buckets, MT_RUN_BUCKETS + 1);
  CHECK(has_line(t,
                 "manta_task_run_seconds_bucket{function=\"f\",le=\"1e-05\"} "
                 "2"));
  CHECK(
      has_line(t, "manta_task_run_seconds_bucket{function=\"f\",le=\"60\"} 7"));
  CHECK(has_line(t, "manta_task_run_seconds_bucket{function=\"f\",le=\"+Inf\"} "
                    "8"));
  CHECK(has_line(t, "manta_task_run_seconds_count{function=\"f\"} 8"));
  free(t);
}

static void test_grpc(void) {
  mt_metrics m = {.cluster = true, .grpc_sent = 12, .grpc_received = 34};
  m.grpc_calls[1][0] = 7;
  m.grpc_calls[1][16] = 2;
  m.grpc_calls[0][14] = 1;
  char *t = render(&m);
  CHECK(has_line(t, "# TYPE manta_grpc_messages_sent_total counter"));
  CHECK(has_line(t, "manta_grpc_messages_sent_total 12"));
  CHECK(has_line(t, "manta_grpc_messages_received_total 34"));
  CHECK(has_line(t, "# TYPE manta_grpc_calls_total counter"));
  CHECK(has_line(t, "manta_grpc_calls_total{side=\"client\",code=\"OK\"} 0"));
  CHECK(has_line(
      t, "manta_grpc_calls_total{side=\"client\",code=\"UNAVAILABLE\"} 1"));
  CHECK(has_line(t, "manta_grpc_calls_total{side=\"server\",code=\"OK\"} 7"));
  CHECK(has_line(
      t, "manta_grpc_calls_total{side=\"server\",code=\"UNAUTHENTICATED\"} 2"));
  /* Codes not seen are not listed. */
  CHECK(strstr(t, "code=\"NOT_FOUND\"") == NULL);
  free(t);
  /* Embedded: no gRPC. */
  m.cluster = false;
  t = render(&m);
  CHECK(strstr(t, "manta_grpc_") == NULL);
  free(t);
}

static void test_bearer(void) {
  const char *tok = "0123456789abcdef0123";
  CHECK(mt_http_bearer_ok("Bearer 0123456789abcdef0123", tok));
  CHECK(mt_http_bearer_ok("bearer 0123456789abcdef0123", tok));
  CHECK(!mt_http_bearer_ok(NULL, tok));
  CHECK(!mt_http_bearer_ok("0123456789abcdef0123", tok));
  CHECK(!mt_http_bearer_ok("Bearer 0123456789abcdef012", tok));
  CHECK(!mt_http_bearer_ok("Bearer 0123456789abcdef01234", tok));
  CHECK(!mt_http_bearer_ok("Basic 0123456789abcdef0123", tok));
  CHECK(!mt_http_bearer_ok("Bearer ", tok));
}

int main(void) {
  RUN_TEST(test_names_and_types);
  RUN_TEST(test_actor_states_and_objects);
  RUN_TEST(test_label_escaping);
  RUN_TEST(test_histogram);
  RUN_TEST(test_grpc);
  RUN_TEST(test_bearer);
  return mt_test_done();
}
