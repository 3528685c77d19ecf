/* Throwaway benchmark server: libmicrohttpd, one internal polling thread
 * (the model the node uses), answering every GET with bench_body. */
#include "body.h"

#include <microhttpd.h>
#include <stdlib.h>
#include <unistd.h>

static size_t body_len;

static enum MHD_Result answer(void *cls, struct MHD_Connection *c,
                              const char *url, const char *method,
                              const char *version, const char *upload,
                              size_t *upload_size, void **con_cls) {
  (void)cls, (void)url, (void)method, (void)version, (void)upload;
  (void)upload_size, (void)con_cls;
  struct MHD_Response *r = MHD_create_response_from_buffer(
      body_len, bench_body, MHD_RESPMEM_PERSISTENT);
  MHD_add_response_header(r, "Content-Type", "text/plain; version=0.0.4");
  enum MHD_Result ret = MHD_queue_response(c, 200, r);
  MHD_destroy_response(r);
  return ret;
}

int main(int argc, char **argv) {
  int port = argc > 1 ? atoi(argv[1]) : 18080;
  body_len = bench_body_fill();
  struct MHD_Daemon *d = MHD_start_daemon(
      MHD_USE_INTERNAL_POLLING_THREAD | MHD_USE_EPOLL, (uint16_t)port, NULL,
      NULL, answer, NULL, MHD_OPTION_CONNECTION_LIMIT, 256u, MHD_OPTION_END);
  if (!d) {
    return 1;
  }
  pause();
  return 0;
}
