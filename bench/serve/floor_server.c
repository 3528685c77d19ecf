/*
 * The floor for bench/serve: a plain libmicrohttpd server (one internal
 * polling thread, epoll) answering GET /echo?data=X with "Received data:
 * X" in its callback, the same bytes the echo route sends, with no manta
 * in between.
 *   serve_floor_server [PORT]
 * PORT 0 (the default): any free port, printed on the "serving" line, so
 * the port is never picked before it is bound (another process may take
 * a port chosen in advance).
 */
#include <arpa/inet.h>
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
  (void)upload_size;
  /* Answered on the second call, once the request is in, as the ingress
   * does: a response queued on the first call makes libmicrohttpd close
   * the connection after it (no keep-alive). */
  static int seen;
  if (!*con_cls) {
    *con_cls = &seen;
    return MHD_YES;
  }
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
  int port = argc > 1 ? atoi(argv[1]) : 0;
  /* Loopback only, like the ingress it is the floor of. */
  struct sockaddr_in addr = {.sin_family = AF_INET,
                             .sin_port = htons((uint16_t)port),
                             .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
  struct MHD_Daemon *d = MHD_start_daemon(
      MHD_USE_INTERNAL_POLLING_THREAD | MHD_USE_EPOLL, (uint16_t)port, NULL,
      NULL, answer, NULL, MHD_OPTION_SOCK_ADDR, (struct sockaddr *)&addr,
      MHD_OPTION_CONNECTION_LIMIT, 8192u, MHD_OPTION_END);
  const union MHD_DaemonInfo *info =
      d ? MHD_get_daemon_info(d, MHD_DAEMON_INFO_BIND_PORT) : NULL;
  if (!info || info->port == 0) {
    fprintf(stderr, "serve_floor_server: cannot listen on 127.0.0.1:%d\n",
            port);
    return 1;
  }
  port = info->port;
  printf("serving http://127.0.0.1:%d\n", port);
  fflush(stdout);
  pause();
  return 0;
}
