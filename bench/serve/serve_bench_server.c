/*
 * The echo behind Serve for bench/serve: /echo (a function route) and
 * /actor (the same echo as an actor method over N replicas).
 *   serve_bench_server PORT REPLICAS
 */
#include <manta.h>

#include <signal.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static manta_value *echo(const manta_value *const *args, size_t nargs,
                         void *user_data) {
  (void)nargs, (void)user_data;
  const manta_value *query = NULL, *data = NULL;
  const char *s = "";
  size_t n = 0;
  if (manta_map_find(args[0], "query", &query) == MANTA_OK &&
      manta_map_find(query, "data", &data) == MANTA_OK) {
    manta_get_string(data, &s, &n);
  }
  char text[512];
  int len = snprintf(text, sizeof text, "Received data: %.*s", (int)n, s);
  return manta_string(text,
                      len < (int)sizeof text ? (size_t)len : sizeof text - 1);
}

static void *echo_new(const manta_value *const *args, size_t nargs,
                      void *class_data, manta_value **error) {
  (void)args, (void)nargs, (void)class_data, (void)error;
  return NULL;
}

static manta_value *echo_method(void *state, const manta_value *const *args,
                                size_t nargs, void *method_data) {
  (void)state;
  return echo(args, nargs, method_data);
}

static manta_err deploy(const char *route, bool actor, unsigned replicas) {
  manta_deployment *d = NULL;
  manta_err err = manta_deployment_new(route, &d);
  if (!err) {
    err = actor ? manta_deployment_set_class(d, "Echo", "echo")
                : manta_deployment_set_function(d, "echo");
  }
  if (!err && actor) {
    err = manta_deployment_set_replicas(d, replicas);
  }
  if (!err) {
    err = manta_deployment_set_max_ongoing_requests(d, 1000);
  }
  if (!err) {
    err = manta_serve_deploy(d);
  }
  manta_deployment_free(d);
  return err;
}

int main(int argc, char **argv) {
  int port = argc > 1 ? atoi(argv[1]) : 0; /* 0: any free one */
  unsigned replicas = argc > 2 ? (unsigned)atoi(argv[2]) : 1;
  manta_serve_options *o = NULL;
  manta_err err;
  if ((err = manta_init(NULL)) ||
      (err = manta_register_function("echo", echo, 1, NULL)) ||
      (err = manta_register_class("Echo", echo_new, NULL, NULL)) ||
      (err = manta_register_method("Echo", "echo", echo_method, 1, NULL)) ||
      (err = deploy("/echo", false, 0)) ||
      (err = deploy("/actor", true, replicas)) ||
      (err = manta_serve_options_new(&o)) ||
      (err = manta_serve_options_set_port(o, port)) ||
      (err = manta_serve_start(o))) {
    fprintf(stderr, "serve_bench_server: %s\n", manta_strerror(err));
    return 1;
  }
  manta_serve_options_free(o);
  manta_serve_port(&port);
  printf("serving http://127.0.0.1:%d\n", port);
  fflush(stdout);
  sigset_t set;
  sigemptyset(&set);
  sigaddset(&set, SIGTERM);
  sigaddset(&set, SIGINT);
  sigprocmask(SIG_BLOCK, &set, NULL);
  int sig;
  sigwait(&set, &sig);
  manta_shutdown();
  return 0;
}
