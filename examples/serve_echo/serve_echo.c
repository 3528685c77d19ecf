/*
 * The echo service behind HTTP: GET /echo?data=Hello answers
 * "Received data: Hello". One function, deployed under a route, served by
 * this program on its own port until Ctrl-C (or SIGTERM).
 *
 *   serve_echo [PORT]     (default 8000; 0: any free port)
 *   curl 'http://127.0.0.1:8000/echo?data=Hello'
 */
#include <manta.h>

#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

/* The request is a map (docs/serve.md); the query is a map of strings. */
static manta_value *echo(const manta_value *const *args, size_t nargs,
                         void *user_data) {
  (void)nargs, (void)user_data;
  const manta_value *query = NULL, *data = NULL;
  const char *s;
  size_t n;
  if (manta_map_find(args[0], "query", &query) != MANTA_OK ||
      manta_map_find(query, "data", &data) != MANTA_OK ||
      manta_get_string(data, &s, &n) != MANTA_OK) {
    return manta_error(MANTA_ERR_INVALID, "give the text as ?data=...");
  }
  static const char prefix[] = "Received data: ";
  char *text = malloc(sizeof prefix - 1 + n);
  if (!text) {
    return manta_error(MANTA_ERR_NOMEM, "out of memory");
  }
  memcpy(text, prefix, sizeof prefix - 1);
  memcpy(text + sizeof prefix - 1, s, n);
  manta_value *v = manta_string(text, sizeof prefix - 1 + n);
  free(text);
  return v;
}

manta_err serve_echo_register(void);
manta_err serve_echo_register(void) {
  return manta_register_function("echo", echo, 1, NULL);
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
      (err = serve_echo_register()) != MANTA_OK ||
      (err = manta_deployment_new("/echo", &d)) != MANTA_OK ||
      (err = manta_deployment_set_function(d, "echo")) != MANTA_OK ||
      (err = manta_serve_deploy(d)) != MANTA_OK ||
      (err = manta_serve_options_new(&opts)) != MANTA_OK ||
      (err = manta_serve_options_set_port(opts, port)) != MANTA_OK ||
      (err = manta_serve_start(opts)) != MANTA_OK) {
    fprintf(stderr, "serve_echo: %s\n", manta_strerror(err));
    return 1;
  }
  manta_deployment_free(d);
  manta_serve_options_free(opts);
  manta_serve_port(&port);
  printf("serving http://127.0.0.1:%d/echo\n", port);
  fflush(stdout);
  signal(SIGINT, on_signal);
  signal(SIGTERM, on_signal);
  while (!stop) {
    pause();
  }
  manta_shutdown();
  return 0;
}
