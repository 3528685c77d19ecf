/*
 * The floor for bench/serve: a plain libmicrohttpd server in the ingress's
 * model (one internal polling thread, epoll) answering GET /echo?data=X
 * with "Received data: X", the same bytes the echo route sends, with no
 * manta in between.
 *   serve_floor_server PORT
 */
#include <microhttpd.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static enum MHD_Result answer(void *cls, struct MHD_Connection *c,
                              const char *url, const char *method,
                              const char *version, const char *upload,
                              size_t *upload_size, void **con_cls) {
  (void)cls, (void)url, (void)method, (void)version, (void)upload;
  (void)upload_size, (void)con_cls;
  const char *data =
      MHD_lookup_connection_value(c, MHD_GET_ARGUMENT_KIND, "data");
  char body[512];
  int n = snprintf(body, sizeof body, "Received data: %s", data ? data : "");
  struct MHD_Response *r = MHD_create_response_from_buffer(
      (size_t)n < sizeof body ? (size_t)n : sizeof body - 1, body,
      MHD_RESPMEM_MUST_COPY);
  MHD_add_response_header(r, "Content-Type", "text/plain; charset=utf-8");
  enum MHD_Result ret = MHD_queue_response(c, 200, r);
  MHD_destroy_response(r);
  return ret;
}

int main(int argc, char **argv) {
  int port = argc > 1 ? atoi(argv[1]) : 18090;
  struct MHD_Daemon *d = MHD_start_daemon(
      MHD_USE_INTERNAL_POLLING_THREAD | MHD_USE_EPOLL, (uint16_t)port, NULL,
      NULL, answer, NULL, MHD_OPTION_CONNECTION_LIMIT, 8192u, MHD_OPTION_END);
  if (!d) {
    fprintf(stderr, "serve_floor_server: cannot listen on %d\n", port);
    return 1;
  }
  printf("serving http://127.0.0.1:%d\n", port);
  fflush(stdout);
  pause();
  return 0;
}
