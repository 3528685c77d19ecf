/*
 * A Serve ingress with one route per behaviour the HTTP tests check
 * (test_serve_http.py): JSON in and out, a failing target, a slow one
 * behind a short timeout, a full route, a response map, an unknown
 * function, two actor replicas taking one request each, a route that
 * autoscales from 1 to 3 replicas. Prints "serving
 * http://127.0.0.1:PORT" and runs until SIGTERM.
 */
#include <manta.h>

#include <signal.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

static manta_value *json_back(const manta_value *const *args, size_t nargs,
                              void *user_data) {
  (void)nargs, (void)user_data;
  const manta_value *json = NULL;
  if (manta_map_find(args[0], "json", &json) != MANTA_OK) {
    return manta_error(MANTA_ERR_INVALID, "send a JSON body");
  }
  manta_value *m = manta_map();
  manta_map_put(m, "got", manta_value_ref((manta_value *)json));
  return m;
}

static manta_value *fail(const manta_value *const *args, size_t nargs,
                         void *user_data) {
  (void)args, (void)nargs, (void)user_data;
  return manta_error(MANTA_ERR_TASK_FAILED, "boom in the target");
}

/* Sleeps ?ms= milliseconds (default 2000). */
static manta_value *slow(const manta_value *const *args, size_t nargs,
                         void *user_data) {
  (void)nargs, (void)user_data;
  const manta_value *query = NULL, *ms = NULL;
  const char *s = "2000";
  size_t n;
  if (manta_map_find(args[0], "query", &query) == MANTA_OK &&
      manta_map_find(query, "ms", &ms) == MANTA_OK) {
    manta_get_string(ms, &s, &n);
  }
  long t = atol(s);
  struct timespec ts = {t / 1000, (t % 1000) * 1000000L};
  nanosleep(&ts, NULL);
  return manta_cstring("slept");
}

static manta_value *respond(const manta_value *const *args, size_t nargs,
                            void *user_data) {
  (void)args, (void)nargs, (void)user_data;
  manta_value *m = manta_map(), *h = manta_map();
  manta_map_put(h, "X-Made-By", manta_cstring("respond"));
  manta_map_put(m, "status", manta_int(201));
  manta_map_put(m, "headers", h);
  manta_map_put(m, "body", manta_cstring("made"));
  return m;
}

/* An actor whose method sleeps like slow(): replicas that stay busy. */
static void *sleeper_new(const manta_value *const *args, size_t nargs,
                         void *class_data, manta_value **error) {
  (void)args, (void)nargs, (void)class_data, (void)error;
  return NULL;
}

static manta_value *sleeper_sleep(void *state, const manta_value *const *args,
                                  size_t nargs, void *method_data) {
  (void)state;
  return slow(args, nargs, method_data);
}

/* An actor whose health can be made to fail: GET /patient/id answers its
 * instance number (one per constructed actor), POST /patient/sicken makes
 * its health method fail from then on. */
typedef struct patient {
  int64_t instance;
  bool sick;
} patient;

static void *patient_new(const manta_value *const *args, size_t nargs,
                         void *class_data, manta_value **error) {
  (void)args, (void)nargs, (void)class_data, (void)error;
  static _Atomic int64_t made;
  patient *p = calloc(1, sizeof *p);
  if (p) {
    p->instance = atomic_fetch_add(&made, 1) + 1;
  }
  return p;
}

static void patient_free(void *state, void *class_data) {
  (void)class_data;
  free(state);
}

static manta_value *patient_id(void *state, const manta_value *const *args,
                               size_t nargs, void *method_data) {
  (void)args, (void)nargs, (void)method_data;
  return manta_int(((patient *)state)->instance);
}

static manta_value *patient_sicken(void *state, const manta_value *const *args,
                                   size_t nargs, void *method_data) {
  (void)args, (void)nargs, (void)method_data;
  ((patient *)state)->sick = true;
  return manta_cstring("sick");
}

static manta_value *patient_health(void *state, const manta_value *const *args,
                                   size_t nargs, void *method_data) {
  (void)args, (void)nargs, (void)method_data;
  if (((patient *)state)->sick) {
    return manta_error(MANTA_ERR_TASK_FAILED, "replica %lld is sick",
                       (long long)((patient *)state)->instance);
  }
  return manta_null();
}

/* An actor made with constructor arguments (a string and an int): GET
 * /sized/greet answers "STRING INT". */
static void *sized_new(const manta_value *const *args, size_t nargs,
                       void *class_data, manta_value **error) {
  (void)class_data;
  const char *text = NULL;
  size_t len = 0;
  int64_t n = 0;
  char *greeting = malloc(128);
  if (nargs != 2 || !greeting ||
      manta_get_string(args[0], &text, &len) != MANTA_OK ||
      manta_get_int(args[1], &n) != MANTA_OK) {
    free(greeting);
    *error = manta_error(MANTA_ERR_ARITY, "Sized takes a string and an int");
    return NULL;
  }
  snprintf(greeting, 128, "%.*s %lld", (int)len, text, (long long)n);
  return greeting;
}

static manta_value *sized_greet(void *state, const manta_value *const *args,
                                size_t nargs, void *method_data) {
  (void)args, (void)nargs, (void)method_data;
  return manta_cstring(state);
}

/* The slots left of this node's resource "slots" (replicas hold them). */
static manta_value *slots_free(const manta_value *const *args, size_t nargs,
                               void *data) {
  (void)args, (void)nargs, (void)data;
  double total = 0, available = 0;
  manta_resource_get("slots", &total, &available);
  return manta_double(available);
}

static manta_err route(const char *path, const char *fn, unsigned max,
                       int64_t timeout_ms) {
  manta_deployment *d = NULL;
  manta_err err = manta_deployment_new(path, &d);
  if (!err) {
    err = manta_deployment_set_function(d, fn);
  }
  if (!err && max) {
    err = manta_deployment_set_max_ongoing_requests(d, max);
  }
  if (!err && timeout_ms) {
    err = manta_deployment_set_timeout(d, timeout_ms);
  }
  if (!err) {
    err = manta_serve_deploy(d);
  }
  manta_deployment_free(d);
  return err;
}

static volatile sig_atomic_t stop;
static void on_signal(int sig) {
  (void)sig;
  stop = 1;
}

int main(void) {
  manta_options *o = NULL;
  manta_serve_options *so = NULL;
  manta_deployment *d = NULL, *d2 = NULL, *d3 = NULL, *d4 = NULL;
  manta_value *greeting = manta_cstring("hi"), *number = manta_int(7);
  const manta_value *sized_args[] = {greeting, number};
  manta_err err;
  if ((err = manta_options_new(&o)) ||
      (err = manta_options_set_num_cpus(o, 8)) ||
      (err = manta_options_set_resource(o, "slots", 4)) ||
      (err = manta_init(o)) ||
      (err = manta_register_function("json_back", json_back, 1, NULL)) ||
      (err = manta_register_function("fail", fail, 1, NULL)) ||
      (err = manta_register_function("slow", slow, 1, NULL)) ||
      (err = manta_register_function("respond", respond, 1, NULL)) ||
      (err = route("/json", "json_back", 0, 0)) ||
      (err = route("/fail", "fail", 0, 0)) ||
      (err = route("/slow", "slow", 0, 300)) ||
      (err = route("/busy", "slow", 1, 10000)) ||
      (err = route("/turns", "slow", 0, 10000)) ||
      (err = route("/respond", "respond", 0, 0)) ||
      (err = route("/missing", "no_such_function", 0, 0)) ||
      (err = manta_register_class("Sleeper", sleeper_new, NULL, NULL)) ||
      (err =
           manta_register_method("Sleeper", "sleep", sleeper_sleep, 1, NULL)) ||
      (err = manta_deployment_new("/sleepers", &d)) ||
      (err = manta_deployment_set_class(d, "Sleeper", "sleep")) ||
      (err = manta_deployment_set_replicas(d, 2)) ||
      (err = manta_deployment_set_max_ongoing_requests(d, 1)) ||
      (err = manta_serve_deploy(d)) ||
      (err = manta_deployment_new("/auto", &d2)) ||
      (err = manta_deployment_set_class(d2, "Sleeper", "sleep")) ||
      (err = manta_deployment_set_autoscaling(d2, 1, 3, 1)) ||
      (err = manta_serve_deploy(d2)) ||
      (err =
           manta_register_class("Patient", patient_new, patient_free, NULL)) ||
      (err = manta_register_method("Patient", "id", patient_id, 1, NULL)) ||
      (err = manta_register_method("Patient", "sicken", patient_sicken, 1,
                                   NULL)) ||
      (err = manta_register_method("Patient", "health", patient_health, 0,
                                   NULL)) ||
      (err = manta_deployment_new("/patient", &d3)) ||
      (err = manta_deployment_set_class(d3, "Patient", NULL)) ||
      (err = manta_deployment_set_health_check(d3, "health", 100, 5000)) ||
      (err = manta_serve_deploy(d3)) ||
      (err = manta_register_class("Sized", sized_new, patient_free, NULL)) ||
      (err = manta_register_method("Sized", "greet", sized_greet, 1, NULL)) ||
      (err = manta_register_function("slots_free", slots_free, 1, NULL)) ||
      (err = route("/slots", "slots_free", 0, 0)) ||
      (err = manta_deployment_new("/sized_c", &d4)) ||
      (err = manta_deployment_set_class(d4, "Sized", NULL)) ||
      (err = manta_deployment_set_resource(d4, "slots", 1)) ||
      (err = manta_deployment_set_args(d4, sized_args, 2)) ||
      (err = manta_serve_deploy(d4)) || (err = manta_serve_options_new(&so)) ||
      (err = manta_serve_options_set_port(so, 0)) ||
      (err = manta_serve_options_set_max_body(so, 64 * 1024)) ||
      (err = manta_serve_start(so))) {
    fprintf(stderr, "serve_test_server: %s\n", manta_strerror(err));
    return 1;
  }
  manta_options_free(o);
  manta_serve_options_free(so);
  manta_deployment_free(d);
  manta_deployment_free(d2);
  manta_deployment_free(d3);
  manta_deployment_free(d4);
  manta_value_free(greeting);
  manta_value_free(number);
  int port = 0;
  manta_serve_port(&port);
  printf("serving http://127.0.0.1:%d\n", port);
  fflush(stdout);
  signal(SIGINT, on_signal);
  signal(SIGTERM, on_signal);
  while (!stop) {
    pause();
  }
  manta_shutdown();
  printf("stopped\n");
  return 0;
}
