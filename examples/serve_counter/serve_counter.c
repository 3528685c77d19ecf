/*
 * A counter actor behind HTTP with two replicas: POST /counter/increment
 * adds one to the counter of the replica that takes the request and
 * answers {"replica": R, "count": N}. Requests go to the replica with
 * fewer in flight (power of two choices); each replica keeps its own count.
 *
 *   serve_counter [PORT]     (default 8000; 0: any free port)
 *   curl -X POST http://127.0.0.1:8000/counter/increment
 */
#include <manta.h>

#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

typedef struct counter {
  int64_t count;
} counter;

static void *counter_new(const manta_value *const *args, size_t nargs,
                         void *class_data, manta_value **error) {
  (void)args, (void)nargs, (void)class_data;
  counter *c = calloc(1, sizeof *c);
  if (!c) {
    *error = manta_error(MANTA_ERR_NOMEM, "no memory for a counter");
  }
  return c;
}

static void counter_free(void *state, void *class_data) {
  (void)class_data;
  free(state);
}

/* The request map carries "replica", the index of the replica called. */
static manta_value *increment(void *state, const manta_value *const *args,
                              size_t nargs, void *method_data) {
  (void)nargs, (void)method_data;
  counter *c = state;
  const manta_value *replica = NULL;
  manta_map_find(args[0], "replica", &replica);
  manta_value *answer = manta_map();
  manta_map_put(answer, "replica",
                replica ? manta_value_ref((manta_value *)replica)
                        : manta_null());
  manta_map_put(answer, "count", manta_int(++c->count));
  return answer;
}

/* A health check method (docs/serve.md, "Health checks"): a counter that
 * can answer is healthy. */
static manta_value *healthy(void *state, const manta_value *const *args,
                            size_t nargs, void *method_data) {
  (void)state, (void)args, (void)nargs, (void)method_data;
  return manta_null();
}

manta_err serve_counter_register(void);
manta_err serve_counter_register(void) {
  manta_err err =
      manta_register_class("ServeCounter", counter_new, counter_free, NULL);
  err = err ? err
            : manta_register_method("ServeCounter", "increment", increment, 1,
                                    NULL);
  return err ? err
             : manta_register_method("ServeCounter", "healthy", healthy, 0,
                                     NULL);
}

static volatile sig_atomic_t stop;
static void on_signal(int sig) {
  (void)sig;
  stop = 1;
}

int main(int argc, char **argv) {
  int port = argc > 1 ? atoi(argv[1]) : 8000;
  manta_serve_options *opts = NULL;
  manta_deployment *d = NULL;
  manta_err err;
  if ((err = manta_init(NULL)) != MANTA_OK ||
      (err = serve_counter_register()) != MANTA_OK ||
      (err = manta_deployment_new("/counter", &d)) != MANTA_OK ||
      (err = manta_deployment_set_class(d, "ServeCounter", NULL)) != MANTA_OK ||
      (err = manta_deployment_set_replicas(d, 2)) != MANTA_OK ||
      (err = manta_serve_deploy(d)) != MANTA_OK ||
      (err = manta_serve_options_new(&opts)) != MANTA_OK ||
      (err = manta_serve_options_set_port(opts, port)) != MANTA_OK ||
      (err = manta_serve_start(opts)) != MANTA_OK) {
    fprintf(stderr, "serve_counter: %s\n", manta_strerror(err));
    return 1;
  }
  manta_deployment_free(d);
  manta_serve_options_free(opts);
  manta_serve_port(&port);
  printf("serving http://127.0.0.1:%d/counter\n", port);
  fflush(stdout);
  signal(SIGINT, on_signal);
  signal(SIGTERM, on_signal);
  while (!stop) {
    pause();
  }
  manta_shutdown();
  return 0;
}
