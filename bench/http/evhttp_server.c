/* Throwaway benchmark server: libevent's evhttp on one event loop thread,
 * answering every request with bench_body. */
#include "body.h"

#include <event2/buffer.h>
#include <event2/event.h>
#include <event2/http.h>
#include <stdlib.h>

static size_t body_len;

static void answer(struct evhttp_request *req, void *arg) {
  (void)arg;
  struct evbuffer *b = evbuffer_new();
  evbuffer_add_reference(b, bench_body, body_len, NULL, NULL);
  evhttp_add_header(evhttp_request_get_output_headers(req), "Content-Type",
                    "text/plain; version=0.0.4");
  evhttp_send_reply(req, 200, "OK", b);
  evbuffer_free(b);
}

int main(int argc, char **argv) {
  int port = argc > 1 ? atoi(argv[1]) : 18081;
  body_len = bench_body_fill();
  struct event_base *base = event_base_new();
  struct evhttp *h = evhttp_new(base);
  evhttp_set_gencb(h, answer, NULL);
  if (evhttp_bind_socket(h, "127.0.0.1", (uint16_t)port) != 0) {
    return 1;
  }
  event_base_dispatch(base);
  return 0;
}
