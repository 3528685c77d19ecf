/*
 * raw_grpc_server: the server half of manta's raw gRPC floor, the figure
 * manta's cluster benchmarks are compared against. raw_grpc_bench starts it.
 *
 *   raw_grpc_server [--pollers N] [--ignore-stdin]
 *
 * Listens on 127.0.0.1 (a free port, printed first on stdout as
 * "port NNNN", then "pollers N") and serves, with raw byte payloads:
 *   /manta.bench.Raw/Unary   echoes the one request message;
 *   /manta.bench.Raw/Stream  bidi: echoes every message, in order;
 *   /manta.bench.Raw/Pull    server streaming: the request names a total
 *                            and a chunk size (raw_grpc_wire.h); streams
 *                            that many bytes in chunks of that size.
 * Stops cleanly on SIGTERM or SIGINT, and when stdin reaches end of file
 * (unless --ignore-stdin), so a parent that dies never leaves it running.
 * A clean stop can take up to 10 s (see exit_on_second_signal); a second
 * signal meanwhile ends it at once, with exit status 1.
 *
 * Why the figures are fair to gRPC: it is gRPC core's C API with gRPC's
 * default settings except the message size limit. Methods are registered
 * (no string matching per call), the unary reply goes out in one batch,
 * and a stream echo never waits for the next read. One completion queue is
 * drained by --pollers threads (default: one per core, at most 4), as a
 * node serving its peers would. Pull sends slices of a 64 MiB buffer by
 * reference, no copy beyond what the wire demands, as an object store
 * serving a large object would.
 */
#include "raw_grpc_wire.h"
#include "raw_tls.h"

#include <grpc/byte_buffer.h>
#include <grpc/byte_buffer_reader.h>
#include <grpc/grpc_security.h>
#include <grpc/slice.h>
#include <grpc/support/time.h>

#include <errno.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/signalfd.h>
#include <unistd.h>

enum {
  MAX_POLLERS = 64,
  /* Calls requested ahead per method: an arriving call finds a request
   * waiting instead of queueing inside the server. */
  REQUESTS_AHEAD = 16,
  /* Echoes waiting for the one SEND_MESSAGE a call may have in flight; when
   * full, the server stops reading and HTTP/2 flow control holds the
   * client back. */
  ECHO_QUEUE_MAX = 64,
};

typedef enum { M_UNARY, M_STREAM, M_PULL, M_UNKNOWN, M_COUNT } method;

typedef enum { EV_ACCEPT, EV_SEND, EV_RECV, EV_CLOSE, EV_STATUS } event_kind;

typedef struct call_ctx call_ctx;

/* The tag of every batch: which call, which of its batches. */
typedef struct tag {
  call_ctx *ctx;
  event_kind kind;
} tag;

struct call_ctx {
  method m;
  grpc_call *call;
  gpr_timespec deadline;
  grpc_metadata_array request_md;
  grpc_call_details details; /* M_UNKNOWN only */
  grpc_byte_buffer *request; /* Unary and Pull: read with the call */
  tag t_accept, t_send, t_recv, t_close, t_status;

  /* Completions of one call may run on several pollers at once, and
   * grpc_call_start_batch is not thread-safe per call: both go under mu. */
  pthread_mutex_t mu;
  int pending; /* batches started, not yet completed */
  int cancelled;
  bool failed;

  grpc_byte_buffer *recv_buf; /* RECV_MESSAGE target */
  grpc_byte_buffer *sending;  /* owned until its SEND_MESSAGE completes */
  grpc_byte_buffer *queue[ECHO_QUEUE_MAX];
  size_t qhead, qlen;
  bool recv_paused, half_closed, status_started;

  uint64_t total, chunk, sent; /* Pull */
};

static grpc_server *server;
static grpc_completion_queue *cq;
static void *registered[M_UNKNOWN];
static grpc_slice pull_source;

/* Requests for new calls and the start of shutdown take this lock, so no
 * call is requested after grpc_server_shutdown_and_notify. */
static pthread_mutex_t accept_mu = PTHREAD_MUTEX_INITIALIZER;
static bool shutting_down;
static int shutdown_tag;

static void fatal(const char *what) {
  fprintf(stderr, "raw_grpc_server: %s\n", what);
  exit(1);
}

static void start_batch(call_ctx *c, const grpc_op *ops, size_t n, tag *t) {
  grpc_call_error e = grpc_call_start_batch(c->call, ops, n, t, NULL);
  if (e != GRPC_CALL_OK) {
    fprintf(stderr, "raw_grpc_server: grpc_call_start_batch: %s\n",
            grpc_call_error_to_string(e));
    exit(1);
  }
  c->pending++;
}

static void request_call(method m) {
  call_ctx *c = calloc(1, sizeof *c);
  if (!c) {
    fatal("out of memory");
  }
  c->m = m;
  pthread_mutex_init(&c->mu, NULL);
  grpc_metadata_array_init(&c->request_md);
  tag *tags[] = {&c->t_accept, &c->t_send, &c->t_recv, &c->t_close,
                 &c->t_status};
  event_kind kinds[] = {EV_ACCEPT, EV_SEND, EV_RECV, EV_CLOSE, EV_STATUS};
  for (size_t i = 0; i < sizeof tags / sizeof tags[0]; i++) {
    tags[i]->ctx = c;
    tags[i]->kind = kinds[i];
  }
  grpc_call_error e;
  if (m == M_UNKNOWN) {
    grpc_call_details_init(&c->details);
    e = grpc_server_request_call(server, &c->call, &c->details, &c->request_md,
                                 cq, cq, &c->t_accept);
  } else {
    /* The payload pointer must be NULL exactly when the method was
     * registered without GRPC_SRM_PAYLOAD_READ_INITIAL_BYTE_BUFFER. */
    e = grpc_server_request_registered_call(
        server, registered[m], &c->call, &c->deadline, &c->request_md,
        m == M_STREAM ? NULL : &c->request, cq, cq, &c->t_accept);
  }
  if (e != GRPC_CALL_OK) {
    fprintf(stderr, "raw_grpc_server: requesting a call: %s\n",
            grpc_call_error_to_string(e));
    exit(1);
  }
}

static void request_call_unless_shutting_down(method m) {
  pthread_mutex_lock(&accept_mu);
  if (!shutting_down) {
    request_call(m);
  }
  pthread_mutex_unlock(&accept_mu);
}

static void free_call(call_ctx *c) {
  grpc_byte_buffer *bufs[] = {c->request, c->recv_buf, c->sending};
  for (size_t i = 0; i < sizeof bufs / sizeof bufs[0]; i++) {
    if (bufs[i]) {
      grpc_byte_buffer_destroy(bufs[i]);
    }
  }
  for (size_t i = 0; i < c->qlen; i++) {
    grpc_byte_buffer_destroy(c->queue[(c->qhead + i) % ECHO_QUEUE_MAX]);
  }
  grpc_metadata_array_destroy(&c->request_md);
  if (c->m == M_UNKNOWN) {
    grpc_call_details_destroy(&c->details);
  }
  /* Last: the call owns the request metadata's keys and values. */
  if (c->call) {
    grpc_call_unref(c->call);
  }
  pthread_mutex_destroy(&c->mu);
  free(c);
}

/* ---- batches ------------------------------------------------------------ */

/* Ends a call that will not be served, with a status and a reason. The
 * initial metadata must go too: with gRPC 1.51, a status sent alone never
 * reached the client, which waited until its deadline. */
static void send_error(call_ctx *c, grpc_status_code code, const char *why) {
  grpc_slice details = grpc_slice_from_static_string(why);
  start_batch(
      c,
      RAW_OPS({.op = GRPC_OP_SEND_INITIAL_METADATA},
              {.op = GRPC_OP_SEND_STATUS_FROM_SERVER,
               .data.send_status_from_server = {.status = code,
                                                .status_details = &details}},
              {.op = GRPC_OP_RECV_CLOSE_ON_SERVER,
               .data.recv_close_on_server.cancelled = &c->cancelled}),
      &c->t_status);
}

static void send_ok_status(call_ctx *c) {
  c->status_started = true;
  start_batch(c,
              RAW_OPS({.op = GRPC_OP_SEND_STATUS_FROM_SERVER,
                       .data.send_status_from_server.status = GRPC_STATUS_OK}),
              &c->t_status);
}

/* Initial metadata rides with the first message of a Pull. */
static void start_send(call_ctx *c, grpc_byte_buffer *b, bool first) {
  c->sending = b;
  grpc_op message = {.op = GRPC_OP_SEND_MESSAGE,
                     .data.send_message.send_message = b};
  if (first) {
    start_batch(c, RAW_OPS({.op = GRPC_OP_SEND_INITIAL_METADATA}, message),
                &c->t_send);
  } else {
    start_batch(c, RAW_OPS(message), &c->t_send);
  }
}

static void start_recv(call_ctx *c) {
  start_batch(c,
              RAW_OPS({.op = GRPC_OP_RECV_MESSAGE,
                       .data.recv_message.recv_message = &c->recv_buf}),
              &c->t_recv);
}

/* RECV_CLOSE_ON_SERVER completes when the call ends for any reason; posted
 * first, it also keeps the call's pending count above zero until then. */
static void start_close_watch(call_ctx *c) {
  start_batch(c,
              RAW_OPS({.op = GRPC_OP_RECV_CLOSE_ON_SERVER,
                       .data.recv_close_on_server.cancelled = &c->cancelled}),
              &c->t_close);
}

/* ---- Unary -------------------------------------------------------------- */

static void unary_start(call_ctx *c) {
  if (!c->request) {
    send_error(c, GRPC_STATUS_INVALID_ARGUMENT,
               "Unary takes exactly one request message");
    return;
  }
  /* The whole reply in one batch: one trip through the call's machinery. */
  start_batch(c,
              RAW_OPS({.op = GRPC_OP_SEND_INITIAL_METADATA},
                      {.op = GRPC_OP_SEND_MESSAGE,
                       .data.send_message.send_message = c->request},
                      {.op = GRPC_OP_SEND_STATUS_FROM_SERVER,
                       .data.send_status_from_server.status = GRPC_STATUS_OK},
                      {.op = GRPC_OP_RECV_CLOSE_ON_SERVER,
                       .data.recv_close_on_server.cancelled = &c->cancelled}),
              &c->t_status);
}

/* ---- Stream: echo every message ----------------------------------------- */

static void stream_start(call_ctx *c) {
  start_close_watch(c);
  start_batch(c,
              RAW_OPS({.op = GRPC_OP_SEND_INITIAL_METADATA},
                      {.op = GRPC_OP_RECV_MESSAGE,
                       .data.recv_message.recv_message = &c->recv_buf}),
              &c->t_recv);
}

static void stream_maybe_finish(call_ctx *c) {
  if (c->half_closed && !c->sending && c->qlen == 0 && !c->status_started &&
      !c->failed) {
    send_ok_status(c);
  }
}

static void stream_on_recv(call_ctx *c, bool ok) {
  if (!ok) {
    c->failed = true;
    return;
  }
  grpc_byte_buffer *b = c->recv_buf;
  c->recv_buf = NULL;
  if (!b) { /* the client half-closed */
    c->half_closed = true;
    stream_maybe_finish(c);
    return;
  }
  if (!c->sending) {
    start_send(c, b, false);
  } else {
    c->queue[(c->qhead + c->qlen++) % ECHO_QUEUE_MAX] = b;
  }
  if (c->qlen < ECHO_QUEUE_MAX) {
    start_recv(c);
  } else {
    c->recv_paused = true;
  }
}

static void stream_on_send(call_ctx *c, bool ok) {
  grpc_byte_buffer_destroy(c->sending);
  c->sending = NULL;
  if (!ok) {
    c->failed = true;
    return;
  }
  if (c->qlen > 0) {
    grpc_byte_buffer *b = c->queue[c->qhead];
    c->qhead = (c->qhead + 1) % ECHO_QUEUE_MAX;
    c->qlen--;
    start_send(c, b, false);
    if (c->recv_paused) {
      c->recv_paused = false;
      start_recv(c);
    }
    return;
  }
  stream_maybe_finish(c);
}

/* ---- Pull: stream chunks ------------------------------------------------ */

static void pull_send_next(call_ctx *c) {
  uint64_t len = c->total - c->sent < c->chunk ? c->total - c->sent : c->chunk;
  uint64_t off = c->sent % raw_pull_period(c->chunk);
  grpc_slice s = grpc_slice_sub(pull_source, off, off + len);
  grpc_byte_buffer *b = grpc_raw_byte_buffer_create(&s, 1);
  grpc_slice_unref(s);
  start_send(c, b, c->sent == 0);
  c->sent += len;
}

static void pull_start(call_ctx *c) {
  uint8_t req[RAW_PULL_REQUEST_SIZE];
  bool sized = c->request && grpc_byte_buffer_length(c->request) == sizeof req;
  if (sized) {
    grpc_byte_buffer_reader r;
    if (!grpc_byte_buffer_reader_init(&r, c->request)) {
      fatal("grpc_byte_buffer_reader_init failed");
    }
    grpc_slice all = grpc_byte_buffer_reader_readall(&r);
    memcpy(req, GRPC_SLICE_START_PTR(all), sizeof req);
    grpc_slice_unref(all);
    grpc_byte_buffer_reader_destroy(&r);
    raw_pull_request_decode(req, &c->total, &c->chunk);
  }
  if (!sized) {
    send_error(c, GRPC_STATUS_INVALID_ARGUMENT,
               "Pull takes one 16-byte request: total and chunk size, "
               "little-endian uint64 each");
    return;
  }
  if (c->total == 0 || c->chunk == 0 || c->chunk > RAW_MAX_CHUNK) {
    send_error(c, GRPC_STATUS_INVALID_ARGUMENT,
               "Pull needs a total above 0 and a chunk size of 1 byte to "
               "16 MiB");
    return;
  }
  start_close_watch(c);
  pull_send_next(c);
}

static void pull_on_send(call_ctx *c, bool ok) {
  grpc_byte_buffer_destroy(c->sending);
  c->sending = NULL;
  if (!ok) {
    c->failed = true;
  } else if (c->sent < c->total) {
    pull_send_next(c);
  } else {
    send_ok_status(c);
  }
}

/* ---- dispatch ----------------------------------------------------------- */

static void on_accept(call_ctx *c, bool ok) {
  if (!ok) { /* the server is shutting down: no call came */
    free_call(c);
    return;
  }
  request_call_unless_shutting_down(c->m);
  pthread_mutex_lock(&c->mu);
  switch (c->m) {
  case M_UNARY:
    unary_start(c);
    break;
  case M_STREAM:
    stream_start(c);
    break;
  case M_PULL:
    pull_start(c);
    break;
  default:
    send_error(c, GRPC_STATUS_UNIMPLEMENTED,
               "unknown method: this server serves /manta.bench.Raw/Unary, "
               "/manta.bench.Raw/Stream and /manta.bench.Raw/Pull");
    break;
  }
  bool done = c->pending == 0;
  pthread_mutex_unlock(&c->mu);
  if (done) {
    free_call(c);
  }
}

static void on_event(tag *t, bool ok) {
  call_ctx *c = t->ctx;
  if (t->kind == EV_ACCEPT) {
    on_accept(c, ok);
    return;
  }
  pthread_mutex_lock(&c->mu);
  c->pending--;
  if (t->kind == EV_RECV && c->m == M_STREAM) {
    stream_on_recv(c, ok);
  } else if (t->kind == EV_SEND && c->m == M_STREAM) {
    stream_on_send(c, ok);
  } else if (t->kind == EV_SEND && c->m == M_PULL) {
    pull_on_send(c, ok);
  }
  /* EV_CLOSE and EV_STATUS need nothing: the call just ends when its last
   * batch has completed. */
  bool done = c->pending == 0;
  pthread_mutex_unlock(&c->mu);
  if (done) {
    free_call(c);
  }
}

static void *poller_main(void *arg) {
  (void)arg;
  for (;;) {
    grpc_event ev = grpc_completion_queue_next(
        cq, gpr_inf_future(GPR_CLOCK_MONOTONIC), NULL);
    if (ev.type == GRPC_QUEUE_SHUTDOWN) {
      return NULL;
    }
    if (ev.type != GRPC_OP_COMPLETE) {
      continue;
    }
    if (ev.tag == &shutdown_tag) {
      /* The server is down and every call is over: no batch can be
       * started any more, so the queue may close. Pollers keep draining
       * until it reports GRPC_QUEUE_SHUTDOWN. */
      grpc_completion_queue_shutdown(cq);
      continue;
    }
    on_event(ev.tag, ev.success != 0);
  }
}

/* ---- lifetime ----------------------------------------------------------- */

/* Blocks until SIGTERM, SIGINT or (watching stdin) end of file on stdin:
 * true. False if it cannot watch any more (poll failed). */
static bool wait_for_stop(int sigfd, bool watch_stdin) {
  struct pollfd fds[2] = {{sigfd, POLLIN, 0}, {STDIN_FILENO, POLLIN, 0}};
  for (;;) {
    int n = poll(fds, watch_stdin ? 2 : 1, -1);
    if (n < 0 && errno == EINTR) {
      continue;
    }
    if (n < 0 || (fds[0].revents & (POLLERR | POLLNVAL))) {
      return false;
    }
    if (fds[0].revents & POLLIN) {
      struct signalfd_siginfo info; /* consumed, so a later wait waits */
      if (read(sigfd, &info, sizeof info) < 0 && errno == EINTR) {
        continue;
      }
      return true;
    }
    if (watch_stdin && fds[1].revents) {
      char buf[256];
      ssize_t r = read(STDIN_FILENO, buf, sizeof buf);
      if (r < 0 && errno == EINTR) {
        continue;
      }
      if (r <= 0) {
        return true;
      }
    }
  }
}

/* grpc_shutdown can take up to 10 s: after a socket write found the kernel
 * buffer full, gRPC 1.51 keeps a "backup poller" on its executor thread in
 * one 10-second poll that nothing wakes, and grpc_shutdown joins that
 * thread. A second stop signal during that wait ends the process at once. */
static void *exit_on_second_signal(void *sigfd) {
  if (!wait_for_stop(*(int *)sigfd, false)) {
    return NULL;
  }
  fprintf(stderr, "raw_grpc_server: stop signal during shutdown; exiting "
                  "at once\n");
  _exit(1);
}

static void fill_pull_source(void) {
  pull_source = grpc_slice_malloc_large(RAW_PULL_SOURCE);
  uint8_t *p = GRPC_SLICE_START_PTR(pull_source);
  for (uint64_t i = 0; i < RAW_PULL_SOURCE; i++) {
    p[i] = raw_pull_byte(i);
  }
}

static int default_pollers(void) {
  long n = sysconf(_SC_NPROCESSORS_ONLN);
  return n < 1 ? 1 : n > 4 ? 4 : (int)n;
}

static void usage(FILE *out) {
  fprintf(out,
          "usage: raw_grpc_server [--pollers N] [--ignore-stdin]\n"
          "  Serves /manta.bench.Raw/{Unary,Stream,Pull} on 127.0.0.1 at a\n"
          "  free port. Prints \"port NNNN\", then \"pollers N\", on stdout.\n"
          "  --pollers N     threads draining the completion queue (1-%d,\n"
          "                  default: one per core, at most 4)\n"
          "  --ignore-stdin  do not stop when stdin reaches end of file\n"
          "  Stops on SIGTERM, SIGINT, or end of file on stdin (which can\n"
          "  take gRPC up to 10 s); a second signal ends it at once.\n",
          MAX_POLLERS);
}

int main(int argc, char **argv) {
  int pollers = default_pollers();
  bool watch_stdin = true;
  const char *tls_dir = NULL;
  for (int i = 1; i < argc; i++) {
    if (strcmp(argv[i], "--pollers") == 0 && i + 1 < argc) {
      char *end;
      long n = strtol(argv[++i], &end, 10);
      if (*end || n < 1 || n > MAX_POLLERS) {
        fprintf(stderr,
                "raw_grpc_server: --pollers takes a number from 1 to %d, "
                "not '%s'\n",
                MAX_POLLERS, argv[i]);
        return 2;
      }
      pollers = (int)n;
    } else if (strcmp(argv[i], "--tls") == 0 && i + 1 < argc) {
      tls_dir = argv[++i];
    } else if (strcmp(argv[i], "--ignore-stdin") == 0) {
      watch_stdin = false;
    } else if (strcmp(argv[i], "--help") == 0 || strcmp(argv[i], "-h") == 0) {
      usage(stdout);
      return 0;
    } else {
      fprintf(stderr, "raw_grpc_server: unknown argument '%s'\n", argv[i]);
      usage(stderr);
      return 2;
    }
  }

  /* Blocked before grpc_init, so gRPC's own threads inherit the mask and
   * the signals reach only the signalfd. */
  sigset_t stop_signals;
  sigemptyset(&stop_signals);
  sigaddset(&stop_signals, SIGTERM);
  sigaddset(&stop_signals, SIGINT);
  pthread_sigmask(SIG_BLOCK, &stop_signals, NULL);
  int sigfd = signalfd(-1, &stop_signals, SFD_CLOEXEC);
  if (sigfd < 0) {
    perror("raw_grpc_server: signalfd");
    return 1;
  }
  signal(SIGPIPE, SIG_IGN);

  grpc_init();
  fill_pull_source();
  grpc_arg arg_storage[2];
  grpc_channel_args args = raw_channel_args(arg_storage);
  server = grpc_server_create(&args, NULL);
  const char *paths[M_UNKNOWN] = {RAW_METHOD_UNARY, RAW_METHOD_STREAM,
                                  RAW_METHOD_PULL};
  for (int m = 0; m < M_UNKNOWN; m++) {
    registered[m] = grpc_server_register_method(
        server, paths[m], NULL,
        m == M_STREAM ? GRPC_SRM_PAYLOAD_NONE
                      : GRPC_SRM_PAYLOAD_READ_INITIAL_BYTE_BUFFER,
        0);
    if (!registered[m]) {
      fatal("grpc_server_register_method failed");
    }
  }
  cq = grpc_completion_queue_create_for_next(NULL);
  grpc_server_register_completion_queue(server, cq, NULL);
  grpc_server_credentials *creds =
      tls_dir ? raw_tls_server(tls_dir)
              : grpc_insecure_server_credentials_create();
  if (!creds) {
    fatal("--tls: cannot read ca.pem, node.pem and node.key in that folder");
  }
  int port = grpc_server_add_http2_port(server, "127.0.0.1:0", creds);
  grpc_server_credentials_release(creds);
  if (port == 0) {
    fatal("cannot listen on 127.0.0.1");
  }
  grpc_server_start(server);
  for (int m = 0; m < M_COUNT; m++) {
    for (int k = 0; k < (m == M_UNKNOWN ? 1 : REQUESTS_AHEAD); k++) {
      request_call_unless_shutting_down((method)m);
    }
  }

  pthread_t threads[MAX_POLLERS];
  for (int i = 0; i < pollers; i++) {
    if (pthread_create(&threads[i], NULL, poller_main, NULL) != 0) {
      fatal("cannot start a polling thread");
    }
  }
  printf("port %d\npollers %d\n", port, pollers);
  fflush(stdout);

  if (!wait_for_stop(sigfd, watch_stdin)) {
    perror("raw_grpc_server: watching for a stop");
  }
  pthread_t impatient;
  if (pthread_create(&impatient, NULL, exit_on_second_signal, &sigfd) == 0) {
    pthread_detach(impatient);
  }

  /* Shutdown order: no new calls, cancel the live ones, wait (in the
   * pollers) for the shutdown tag, then close the queue and drain it. */
  pthread_mutex_lock(&accept_mu);
  shutting_down = true;
  grpc_server_shutdown_and_notify(server, cq, &shutdown_tag);
  pthread_mutex_unlock(&accept_mu);
  grpc_server_cancel_all_calls(server);
  for (int i = 0; i < pollers; i++) {
    pthread_join(threads[i], NULL);
  }
  grpc_server_destroy(server);
  grpc_completion_queue_destroy(cq);
  grpc_slice_unref(pull_source);
  grpc_shutdown();
  /* sigfd stays open: exit_on_second_signal polls it until the end. */
  return 0;
}
