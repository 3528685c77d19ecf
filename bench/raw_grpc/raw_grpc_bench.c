/*
 * raw_grpc_bench: the raw gRPC floor that manta's cluster benchmarks are
 * compared against. Starts raw_grpc_server as a child process, measures
 * plain gRPC between the two over loopback, stops the server, and prints a
 * table (or JSON with --json).
 *
 *   raw_grpc_bench [--json] [--seconds S] [--filter TEXT] [--server PATH]
 *                  [--pollers N] [--pull-totals LIST]
 *
 * Why the figures are fair to gRPC: both ends use gRPC core's C API as the
 * transport between manta nodes is designed to (a long-lived bidi stream
 * per peer, unary control calls, object chunks streamed by the server),
 * with gRPC's defaults except the message size limit: one channel, calls
 * created from registered methods, every op of a call's step in one batch,
 * one completion queue. The client checks every reply (status, length,
 * bytes), as a real caller reads it; the server does nothing else
 * (raw_grpc_server.c). The client drives its queue from one thread, as
 * fling, gRPC's own core benchmark, does. Beside each rate it reports the
 * CPU time both processes spent per operation, which other programs on a
 * shared machine disturb less than the rate.
 *
 * Each case warms up, then runs for S seconds (default 2) or a maximum
 * count, whichever comes first.
 */
#include "bench_util.h"
#include "raw_grpc_wire.h"
#include "raw_tls.h"
#include "server_process.h"

#include <grpc/byte_buffer.h>
#include <grpc/byte_buffer_reader.h>
#include <grpc/grpc_security.h>
#include <grpc/slice.h>
#include <grpc/support/alloc.h>
#include <grpc/support/time.h>

#include <limits.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/utsname.h>
#include <unistd.h>

enum {
  MSG_BYTES = 64,
  PIPELINE_DEPTH = 64,
  STREAM_WINDOW = 64,
  MAX_LATENCY_SAMPLES = 1000000,
  MAX_PULL_TOTALS = 8,
  PULL_CHUNK = 1 << 20,
  /* No completion for this long means the server is gone or stuck. */
  STALL_SECONDS = 30,
};

static const uint64_t MAX_CALLS = 100000000; /* pipelined and stream cases */
static const uint64_t MAX_PULLS = 10000;

static double seconds = 2.0;
static server_process child = {0, -1, -1, 0, 0};
static grpc_channel *channel;
static grpc_completion_queue *cq;
static void *method_unary, *method_stream, *method_pull;
static grpc_slice payload; /* the 64 bytes every small message carries */
static FILE *table;        /* where the table goes: stdout, or stderr */

/* Any failure: say why, stop and reap the server, exit. gRPC is not shut
 * down on this path (calls may be in flight); the process just ends. */
static void fail(const char *fmt, ...) {
  va_list ap;
  va_start(ap, fmt);
  fprintf(stderr, "raw_grpc_bench: ");
  vfprintf(stderr, fmt, ap);
  fprintf(stderr, "\n");
  va_end(ap);
  char err[256];
  if (server_process_stop(&child, err, sizeof err) != 0) {
    fprintf(stderr, "raw_grpc_bench: also: %s\n", err);
  }
  fflush(stdout);
  _exit(1);
}

/* ---- results ------------------------------------------------------------ */

typedef struct result {
  char name[64];
  const char *unit;
  double per_second;
  double seconds;
  uint64_t ops;
  double p50_us, p99_us; /* < 0: not measured */
  uint64_t pull_total;   /* bytes per pull, 0 for other cases */
  bool pull_copy;
  /* CPU time both processes spent, gRPC's own threads included: a cost per
   * message that other programs on the machine disturb less than rates. */
  double client_cpu_s, server_cpu_s;
} result;

static result results[32];
static int nresults;

static double client_cpu_at_mark, server_cpu_at_mark;

/* Where a case's measured part begins, after its warm-up. */
static void cpu_mark(void) {
  client_cpu_at_mark = bench_self_cpu_s();
  server_cpu_at_mark = bench_pid_cpu_s(child.pid);
}

/* Adds a case's figures: ops operations in elapsed seconds, and the CPU
 * time used since cpu_mark(). */
static result *record(const char *name, const char *unit, uint64_t ops,
                      double elapsed) {
  result *r = &results[nresults++];
  memset(r, 0, sizeof *r);
  snprintf(r->name, sizeof r->name, "%s", name);
  r->unit = unit;
  r->ops = ops;
  r->seconds = elapsed;
  r->per_second = (double)ops / elapsed;
  r->p50_us = r->p99_us = -1;
  r->client_cpu_s = bench_self_cpu_s() - client_cpu_at_mark;
  r->server_cpu_s = bench_pid_cpu_s(child.pid) - server_cpu_at_mark;
  return r;
}

static void print_row(const result *r) {
  if (r->pull_total) {
    double gb = (double)(r->pull_total * r->ops) / 1e9;
    fprintf(table, "%-30s %10.2f %-9s cpu s/GB client %5.2f server %5.2f\n",
            r->name, r->per_second, "GB/s", r->client_cpu_s / gb,
            r->server_cpu_s / gb);
  } else {
    fprintf(table, "%-30s %10.0f %-9s cpu us/op client %5.1f server %5.1f",
            r->name, r->per_second, r->unit, r->client_cpu_s * 1e6 / r->ops,
            r->server_cpu_s * 1e6 / r->ops);
    if (r->p50_us >= 0) {
      fprintf(table, "  p50 %6.1f us p99 %6.1f us", r->p50_us, r->p99_us);
    }
    fprintf(table, "\n");
  }
  fflush(table);
}

/* Nearest-rank percentile of n sorted samples. */
static double percentile(const double *sorted, size_t n, double pct) {
  size_t rank = (size_t)(pct / 100.0 * (double)n + 0.999999);
  if (rank < 1) {
    rank = 1;
  }
  return sorted[(rank > n ? n : rank) - 1];
}

/* Adds a case of n round trips, each timed in samples, and prints it. */
static void record_round_trips(const char *name, const char *unit,
                               double *samples, size_t n, double elapsed) {
  result *r = record(name, unit, n, elapsed);
  qsort(samples, n, sizeof *samples, bench_cmp_double);
  r->p50_us = percentile(samples, n, 50) * 1e6;
  r->p99_us = percentile(samples, n, 99) * 1e6;
  print_row(r);
}

/* ---- gRPC helpers ------------------------------------------------------- */

static grpc_event next_event(void) {
  grpc_event ev = grpc_completion_queue_next(
      cq,
      gpr_time_add(gpr_now(GPR_CLOCK_MONOTONIC),
                   gpr_time_from_seconds(STALL_SECONDS, GPR_TIMESPAN)),
      NULL);
  if (ev.type == GRPC_QUEUE_TIMEOUT) {
    fail("no completion for %d s: is the server alive?", STALL_SECONDS);
  }
  if (ev.type != GRPC_OP_COMPLETE) {
    fail("the completion queue shut down unexpectedly");
  }
  return ev;
}

/* A deadline on every call: nothing waits forever on a dead server. */
static grpc_call *new_call(void *method) {
  gpr_timespec deadline =
      gpr_time_add(gpr_now(GPR_CLOCK_MONOTONIC),
                   gpr_time_from_seconds((int64_t)seconds + 120, GPR_TIMESPAN));
  grpc_call *c = grpc_channel_create_registered_call(
      channel, NULL, GRPC_PROPAGATE_DEFAULTS, cq, method, deadline, NULL);
  if (!c) {
    fail("grpc_channel_create_registered_call failed");
  }
  return c;
}

static void start_batch(grpc_call *call, const grpc_op *ops, size_t n,
                        void *tag) {
  grpc_call_error e = grpc_call_start_batch(call, ops, n, tag, NULL);
  if (e != GRPC_CALL_OK) {
    fail("grpc_call_start_batch: %s", grpc_call_error_to_string(e));
  }
}

/* A byte buffer is consumed by sending it: each message gets its own, over
 * the one shared slice of payload bytes. */
static grpc_byte_buffer *new_message(void) {
  return grpc_raw_byte_buffer_create(&payload, 1);
}

/* Reads a received message and checks it is the payload, byte for byte. */
static void check_echo(grpc_byte_buffer *b, const char *what) {
  if (!b) {
    fail("%s: the server sent no message", what);
  }
  size_t len = grpc_byte_buffer_length(b);
  if (len != MSG_BYTES) {
    fail("%s: echo of %zu bytes, sent %d", what, len, MSG_BYTES);
  }
  uint8_t got[MSG_BYTES];
  size_t off = 0;
  grpc_byte_buffer_reader r;
  grpc_slice s;
  if (!grpc_byte_buffer_reader_init(&r, b)) {
    fail("%s: cannot read a received message", what);
  }
  while (grpc_byte_buffer_reader_next(&r, &s)) {
    memcpy(got + off, GRPC_SLICE_START_PTR(s), GRPC_SLICE_LENGTH(s));
    off += GRPC_SLICE_LENGTH(s);
    grpc_slice_unref(s);
  }
  grpc_byte_buffer_reader_destroy(&r);
  if (memcmp(got, GRPC_SLICE_START_PTR(payload), MSG_BYTES) != 0) {
    fail("%s: the echo differs from what was sent", what);
  }
}

/* What a client call receives besides messages. */
typedef struct call_meta {
  grpc_metadata_array initial_md, trailing_md;
  grpc_status_code status;
  grpc_slice details;
} call_meta;

static void call_meta_init(call_meta *m) {
  grpc_metadata_array_init(&m->initial_md);
  grpc_metadata_array_init(&m->trailing_md);
}

static grpc_op recv_initial_op(call_meta *m) {
  return (grpc_op){.op = GRPC_OP_RECV_INITIAL_METADATA,
                   .data.recv_initial_metadata.recv_initial_metadata =
                       &m->initial_md};
}

static grpc_op recv_status_op(call_meta *m) {
  return (grpc_op){
      .op = GRPC_OP_RECV_STATUS_ON_CLIENT,
      .data.recv_status_on_client = {.trailing_metadata = &m->trailing_md,
                                     .status = &m->status,
                                     .status_details = &m->details}};
}

/* After RECV_STATUS_ON_CLIENT completed: fails unless the status is OK;
 * frees what the call received. */
static void call_meta_finish(call_meta *m, const char *what) {
  if (m->status != GRPC_STATUS_OK) {
    char *text = grpc_slice_to_c_string(m->details);
    fprintf(stderr, "raw_grpc_bench: %s: status %d: %s\n", what, (int)m->status,
            text);
    gpr_free(text);
    fail("%s failed", what);
  }
  grpc_slice_unref(m->details);
  grpc_metadata_array_destroy(&m->initial_md);
  grpc_metadata_array_destroy(&m->trailing_md);
}

/* ---- sequential round trips ------------------------------------------- */

typedef void (*round_trip_fn)(void *ctx);

/* Runs round trips one after another for run_seconds (or max of them),
 * timing each in samples unless NULL. */
static size_t time_round_trips(round_trip_fn fn, void *ctx, double run_seconds,
                               double *samples, size_t max, double *elapsed) {
  size_t n = 0;
  double t0 = bench_now_s(), t = t0;
  while (n < max && t - t0 < run_seconds) {
    double start = t;
    fn(ctx);
    t = bench_now_s();
    if (samples) {
      samples[n] = t - start;
    }
    n++;
  }
  *elapsed = t - t0;
  return n;
}

/* Warms up, then measures round trips: rate, p50, p99, CPU. */
static void case_round_trips(const char *name, const char *unit,
                             round_trip_fn fn, void *ctx) {
  double elapsed;
  time_round_trips(fn, ctx, seconds / 10, NULL, MAX_LATENCY_SAMPLES, &elapsed);
  double *samples = malloc(MAX_LATENCY_SAMPLES * sizeof *samples);
  if (!samples) {
    fail("out of memory");
  }
  cpu_mark();
  size_t n = time_round_trips(fn, ctx, seconds, samples, MAX_LATENCY_SAMPLES,
                              &elapsed);
  record_round_trips(name, unit, samples, n, elapsed);
  free(samples);
}

/* ---- unary calls -------------------------------------------------------- */

typedef struct unary_call {
  grpc_call *call;
  grpc_byte_buffer *request, *reply;
  call_meta meta;
} unary_call;

/* The whole call in one batch: send all, half-close, receive all. */
static void unary_start(unary_call *u) {
  u->call = new_call(method_unary);
  u->request = new_message();
  u->reply = NULL;
  call_meta_init(&u->meta);
  start_batch(u->call,
              RAW_OPS({.op = GRPC_OP_SEND_INITIAL_METADATA},
                      {.op = GRPC_OP_SEND_MESSAGE,
                       .data.send_message.send_message = u->request},
                      {.op = GRPC_OP_SEND_CLOSE_FROM_CLIENT},
                      recv_initial_op(&u->meta),
                      {.op = GRPC_OP_RECV_MESSAGE,
                       .data.recv_message.recv_message = &u->reply},
                      recv_status_op(&u->meta)),
              u);
}

static void unary_finish(unary_call *u, bool ok) {
  if (!ok) {
    fail("a unary call failed");
  }
  call_meta_finish(&u->meta, "a unary call");
  check_echo(u->reply, "a unary call");
  grpc_byte_buffer_destroy(u->reply);
  grpc_byte_buffer_destroy(u->request);
  grpc_call_unref(u->call);
}

/* One unary call, waited for. */
static void unary_round_trip(void *unused) {
  (void)unused;
  unary_call u;
  unary_start(&u);
  grpc_event ev = next_event();
  if (ev.tag != &u) {
    fail("unexpected completion during a unary call");
  }
  unary_finish(&u, ev.success);
}

/* Keeps `depth` calls in flight until the time is up, then drains. */
static uint64_t unary_pipelined(double run_seconds, unary_call *calls,
                                int depth, double *elapsed) {
  uint64_t started = 0, done = 0;
  double t0 = bench_now_s(), t = t0;
  for (int i = 0; i < depth; i++) {
    unary_start(&calls[i]);
    started++;
  }
  while (done < started) {
    grpc_event ev = next_event();
    unary_call *u = ev.tag;
    if (u < calls || u >= calls + depth) {
      fail("unexpected completion during pipelined unary calls");
    }
    unary_finish(u, ev.success);
    done++;
    t = bench_now_s();
    if (t - t0 < run_seconds && started < MAX_CALLS) {
      unary_start(u);
      started++;
    }
  }
  *elapsed = t - t0;
  return done;
}

static void case_unary_pipelined(const char *name) {
  unary_call calls[PIPELINE_DEPTH];
  double elapsed;
  unary_pipelined(seconds / 10, calls, PIPELINE_DEPTH, &elapsed);
  cpu_mark();
  uint64_t n = unary_pipelined(seconds, calls, PIPELINE_DEPTH, &elapsed);
  print_row(record(name, "calls", n, elapsed));
}

/* ---- one bidi stream ---------------------------------------------------- */

typedef struct stream {
  grpc_call *call;
  call_meta meta;
  grpc_byte_buffer *sending, *received;
  bool recv_pending;
  /* tags: distinct addresses, one per kind of batch */
  char t_open, t_send, t_recv, t_close, t_status;
} stream;

static void stream_open(stream *s) {
  memset(s, 0, sizeof *s);
  s->call = new_call(method_stream);
  call_meta_init(&s->meta);
  start_batch(
      s->call,
      RAW_OPS({.op = GRPC_OP_SEND_INITIAL_METADATA}, recv_initial_op(&s->meta)),
      &s->t_open);
  start_batch(s->call, RAW_OPS(recv_status_op(&s->meta)), &s->t_status);
  grpc_event ev = next_event();
  if (ev.tag != &s->t_open || !ev.success) {
    fail("opening a stream failed");
  }
}

static void stream_send(stream *s) {
  s->sending = new_message();
  start_batch(s->call,
              RAW_OPS({.op = GRPC_OP_SEND_MESSAGE,
                       .data.send_message.send_message = s->sending}),
              &s->t_send);
}

static void stream_recv(stream *s) {
  start_batch(s->call,
              RAW_OPS({.op = GRPC_OP_RECV_MESSAGE,
                       .data.recv_message.recv_message = &s->received}),
              &s->t_recv);
  s->recv_pending = true;
}

/* Half-closes; the server answers with its status. Call with no send in
 * flight and every echo received; a receive still posted must then end
 * with no message. */
static void stream_close(stream *s) {
  start_batch(s->call, RAW_OPS({.op = GRPC_OP_SEND_CLOSE_FROM_CLIENT}),
              &s->t_close);
  bool closed = false, ended = false;
  while (!closed || !ended || s->recv_pending) {
    grpc_event ev = next_event();
    if (!ev.success) {
      fail("closing a stream failed");
    }
    if (ev.tag == &s->t_close) {
      closed = true;
    } else if (ev.tag == &s->t_status) {
      ended = true;
    } else if (ev.tag == &s->t_recv && !s->received) {
      s->recv_pending = false;
    } else {
      fail("unexpected completion while closing a stream");
    }
  }
  call_meta_finish(&s->meta, "a stream");
  grpc_call_unref(s->call);
}

/* Messages echoed on one stream with up to STREAM_WINDOW unanswered, one
 * SEND_MESSAGE and one RECV_MESSAGE in flight at a time (gRPC's rule). */
static uint64_t stream_windowed(double run_seconds, double *elapsed) {
  stream s;
  stream_open(&s);
  uint64_t sent = 0, received = 0;
  bool sending = true, stopping = false;
  double t0 = bench_now_s(), t = t0;
  stream_recv(&s);
  stream_send(&s);
  sent++;
  for (;;) {
    grpc_event ev = next_event();
    if (!ev.success) {
      fail("a stream message failed");
    }
    if (ev.tag == &s.t_send) {
      grpc_byte_buffer_destroy(s.sending);
      sending = false;
    } else if (ev.tag == &s.t_recv) {
      s.recv_pending = false;
      check_echo(s.received, "a stream message");
      grpc_byte_buffer_destroy(s.received);
      s.received = NULL;
      received++;
      if (received < sent || !stopping) {
        stream_recv(&s);
      }
    } else {
      fail("unexpected completion on a stream");
    }
    t = bench_now_s();
    stopping = stopping || t - t0 >= run_seconds || sent >= MAX_CALLS;
    if (!sending && !stopping && sent - received < STREAM_WINDOW) {
      stream_send(&s);
      sent++;
      sending = true;
    }
    if (stopping && !sending && received == sent) {
      break;
    }
  }
  *elapsed = t - t0;
  stream_close(&s);
  return received;
}

static void case_stream_msgs(const char *name) {
  double elapsed;
  stream_windowed(seconds / 10, &elapsed);
  cpu_mark();
  uint64_t n = stream_windowed(seconds, &elapsed);
  print_row(record(name, "messages", n, elapsed));
}

/* One message out and its echo back on an open stream, in one batch. */
static void stream_round_trip(void *stream_ptr) {
  stream *s = stream_ptr;
  s->sending = new_message();
  start_batch(s->call,
              RAW_OPS({.op = GRPC_OP_SEND_MESSAGE,
                       .data.send_message.send_message = s->sending},
                      {.op = GRPC_OP_RECV_MESSAGE,
                       .data.recv_message.recv_message = &s->received}),
              &s->t_send);
  grpc_event ev = next_event();
  if (ev.tag != &s->t_send || !ev.success) {
    fail("a stream ping failed");
  }
  check_echo(s->received, "a stream ping");
  grpc_byte_buffer_destroy(s->received);
  grpc_byte_buffer_destroy(s->sending);
  s->received = NULL;
}

static void case_stream_rtt(const char *name) {
  stream s;
  stream_open(&s);
  case_round_trips(name, "messages", stream_round_trip, &s);
  stream_close(&s);
}

/* ---- server streaming: Pull --------------------------------------------- */

/* Copies a received chunk to dest; the slices are gRPC's HTTP/2 frames. */
static void copy_out(grpc_byte_buffer *b, uint8_t *dest) {
  grpc_byte_buffer_reader r;
  grpc_slice s;
  if (!grpc_byte_buffer_reader_init(&r, b)) {
    fail("cannot read a received chunk");
  }
  while (grpc_byte_buffer_reader_next(&r, &s)) {
    memcpy(dest, GRPC_SLICE_START_PTR(s), GRPC_SLICE_LENGTH(s));
    dest += GRPC_SLICE_LENGTH(s);
    grpc_slice_unref(s);
  }
  grpc_byte_buffer_reader_destroy(&r);
}

/* Pulls `total` bytes in PULL_CHUNK chunks; copies them into dest (of total
 * bytes) unless dest is NULL. */
static void pull_once(uint64_t total, uint8_t *dest) {
  grpc_call *call = new_call(method_pull);
  uint8_t req[RAW_PULL_REQUEST_SIZE];
  raw_pull_request_encode(req, total, PULL_CHUNK);
  grpc_slice req_slice =
      grpc_slice_from_copied_buffer((const char *)req, sizeof req);
  grpc_byte_buffer *request = grpc_raw_byte_buffer_create(&req_slice, 1);
  grpc_slice_unref(req_slice);
  call_meta meta;
  call_meta_init(&meta);
  grpc_byte_buffer *chunk = NULL;
  char t_start, t_recv, t_status;

  start_batch(call,
              RAW_OPS({.op = GRPC_OP_SEND_INITIAL_METADATA},
                      {.op = GRPC_OP_SEND_MESSAGE,
                       .data.send_message.send_message = request},
                      {.op = GRPC_OP_SEND_CLOSE_FROM_CLIENT},
                      recv_initial_op(&meta)),
              &t_start);
  start_batch(call, RAW_OPS(recv_status_op(&meta)), &t_status);
  const grpc_op recv = {.op = GRPC_OP_RECV_MESSAGE,
                        .data.recv_message.recv_message = &chunk};
  start_batch(call, &recv, 1, &t_recv);

  uint64_t got = 0;
  bool started = false, ended = false, finished = false;
  while (!started || !ended || !finished) {
    grpc_event ev = next_event();
    if (ev.tag == &t_start) {
      started = true;
      if (!ev.success) {
        fail("sending a Pull request failed");
      }
    } else if (ev.tag == &t_status) {
      finished = true;
    } else if (ev.tag == &t_recv) {
      if (!ev.success || !chunk) {
        ended = true;
        continue;
      }
      uint64_t len = grpc_byte_buffer_length(chunk);
      uint64_t want = total - got < PULL_CHUNK ? total - got : PULL_CHUNK;
      if (len != want) {
        fail("a Pull chunk of %llu bytes, expected %llu",
             (unsigned long long)len, (unsigned long long)want);
      }
      if (dest) {
        copy_out(chunk, dest + got);
      }
      got += len;
      grpc_byte_buffer_destroy(chunk);
      chunk = NULL;
      start_batch(call, &recv, 1, &t_recv);
    } else {
      fail("unexpected completion during a Pull");
    }
  }
  call_meta_finish(&meta, "a Pull");
  if (got != total) {
    fail("a Pull brought %llu bytes of %llu", (unsigned long long)got,
         (unsigned long long)total);
  }
  grpc_byte_buffer_destroy(request);
  grpc_call_unref(call);
}

/* Outside the timed loop: the copied bytes are the server's, in order. */
static void check_pulled(const uint8_t *dest, uint64_t total) {
  uint64_t period = raw_pull_period(PULL_CHUNK);
  for (uint64_t p = 0; p < total; p += 4093) {
    if (dest[p] != raw_pull_byte(p % period)) {
      fail("Pull byte %llu differs from the server's", (unsigned long long)p);
    }
  }
  if (dest[total - 1] != raw_pull_byte((total - 1) % period)) {
    fail("the last Pull byte differs from the server's");
  }
}

static void pull_case(const char *name, uint64_t total, bool copy) {
  uint8_t *dest = NULL;
  if (copy) {
    dest = malloc(total);
    if (!dest) {
      fail("cannot allocate %llu bytes to copy a Pull into",
           (unsigned long long)total);
    }
    /* Pages mapped before timing, as in a store that reuses its memory. */
    memset(dest, 0, total);
  }
  uint64_t pulls = 0;
  cpu_mark();
  double t0 = bench_now_s(), t = t0;
  do {
    pull_once(total, dest);
    pulls++;
    t = bench_now_s();
  } while (t - t0 < seconds && pulls < MAX_PULLS);
  if (dest) {
    check_pulled(dest, total);
    free(dest);
  }
  result *r = record(name, "GB", pulls, t - t0);
  r->per_second = (double)(total * pulls) / (t - t0) / 1e9;
  r->pull_total = total;
  r->pull_copy = copy;
  print_row(r);
}

/* ---- the run ------------------------------------------------------------ */

static bool wanted(const char *filter, const char *name) {
  return !filter || strstr(name, filter) != NULL;
}

static void run_cases(const char *filter, const uint64_t *totals, int ntotals) {
  if (wanted(filter, "unary_rtt_64B")) {
    case_round_trips("unary_rtt_64B", "calls", unary_round_trip, NULL);
  }
  if (wanted(filter, "unary_pipelined_64")) {
    case_unary_pipelined("unary_pipelined_64");
  }
  if (wanted(filter, "stream_msgs_64B")) {
    case_stream_msgs("stream_msgs_64B");
  }
  if (wanted(filter, "stream_rtt_64B")) {
    case_stream_rtt("stream_rtt_64B");
  }
  bool warmed = false;
  for (int i = 0; i < ntotals; i++) {
    for (int copy = 0; copy <= 1; copy++) {
      char size[32], name[64];
      bench_format_size(size, sizeof size, totals[i]);
      snprintf(name, sizeof name, "pull_1MiB_chunks_%s%s", size,
               copy ? "_copy" : "");
      if (!wanted(filter, name)) {
        continue;
      }
      if (!warmed) {
        pull_once(8 * PULL_CHUNK, NULL);
        warmed = true;
      }
      pull_case(name, totals[i], copy);
    }
  }
}

static void cpu_model(char *out, size_t len) {
  snprintf(out, len, "unknown");
  FILE *f = fopen("/proc/cpuinfo", "r");
  if (!f) {
    return;
  }
  char line[512];
  while (fgets(line, sizeof line, f)) {
    char *colon = strchr(line, ':');
    if (colon && strncmp(line, "model name", 10) == 0) {
      snprintf(out, len, "%s", colon + 2);
      out[strcspn(out, "\n\"\\")] = '\0';
      break;
    }
  }
  fclose(f);
}

/* Other programs' load while measuring, as /proc/loadavg's 1-minute mean. */
static double load_average(void) {
  double load = -1;
  FILE *f = fopen("/proc/loadavg", "r");
  if (f) {
    if (fscanf(f, "%lf", &load) != 1) {
      load = -1;
    }
    fclose(f);
  }
  return load;
}

static void print_json(int pollers, double load_at_start, bool tls) {
  struct utsname u;
  uname(&u);
  char model[256];
  cpu_model(model, sizeof model);
  printf("{\n  \"benchmark\": \"raw_grpc\",\n");
  printf("  \"grpc_core_version\": \"%s\",\n", grpc_version_string());
  printf("  \"machine\": {\"cpus_online\": %ld, \"cpu_model\": \"%s\", "
         "\"kernel\": \"%s %s\", \"load_average_at_start\": %.2f},\n",
         sysconf(_SC_NPROCESSORS_ONLN), model, u.sysname, u.release,
         load_at_start);
  printf("  \"server_pollers\": %d,\n  \"client_threads\": 1,\n", pollers);
  printf("  \"seconds\": %g,\n  \"tls\": %s,\n", seconds,
         tls ? "true" : "false");
  printf("  \"message_bytes\": %d,\n  \"results\": [\n", MSG_BYTES);
  for (int i = 0; i < nresults; i++) {
    const result *r = &results[i];
    printf("    {\"name\": \"%s\", \"per_second\": %.*f, \"unit\": \"%s\", "
           "\"ops\": %llu, \"seconds\": %.3f",
           r->name, r->pull_total ? 3 : 1, r->per_second, r->unit,
           (unsigned long long)r->ops, r->seconds);
    if (r->p50_us >= 0) {
      printf(", \"p50_us\": %.1f, \"p99_us\": %.1f", r->p50_us, r->p99_us);
    }
    printf(", \"client_cpu_seconds\": %.3f, \"server_cpu_seconds\": %.3f",
           r->client_cpu_s, r->server_cpu_s);
    if (!r->pull_total) {
      printf(", \"client_cpu_us_per_op\": %.2f, \"server_cpu_us_per_op\": %.2f",
             r->client_cpu_s * 1e6 / (double)r->ops,
             r->server_cpu_s * 1e6 / (double)r->ops);
    }
    if (r->pull_total) {
      printf(", \"total_bytes\": %llu, \"chunk_bytes\": %d, \"copy\": %s",
             (unsigned long long)r->pull_total, PULL_CHUNK,
             r->pull_copy ? "true" : "false");
    }
    printf("}%s\n", i + 1 < nresults ? "," : "");
  }
  printf("  ]\n}\n");
}

static int parse_totals(char *list, uint64_t *totals, int *n) {
  *n = 0;
  for (char *save, *tok = strtok_r(list, ",", &save); tok;
       tok = strtok_r(NULL, ",", &save)) {
    if (*n == MAX_PULL_TOTALS || bench_parse_size(tok, &totals[*n]) != 0) {
      return -1;
    }
    (*n)++;
  }
  return *n > 0 ? 0 : -1;
}

static void usage(FILE *out) {
  fprintf(
      out,
      "usage: raw_grpc_bench [--json] [--seconds S] [--filter TEXT]\n"
      "                      [--server PATH] [--pollers N]\n"
      "                      [--pull-totals LIST] [--tls DIR]\n"
      "  Starts raw_grpc_server, measures plain gRPC over loopback, stops\n"
      "  the server. Cases: unary_rtt_64B, unary_pipelined_64,\n"
      "  stream_msgs_64B, stream_rtt_64B, pull_1MiB_chunks_<total>[_copy].\n"
      "  --json               JSON on stdout (the table goes to stderr)\n"
      "  --seconds S          time per case after a warm-up (default 2)\n"
      "  --filter TEXT        only cases whose name contains TEXT\n"
      "  --server PATH        the server program (default: "
      "raw_grpc_server\n"
      "                       next to this program)\n"
      "  --pollers N          the server's polling threads (default: its\n"
      "                       own, one per core, at most 4)\n"
      "  --pull-totals LIST   bytes per Pull, comma-separated, with\n"
      "                       KiB/MiB/GiB (default 64MiB,1GiB)\n"
      "  --tls DIR            mutual TLS, as manta with TLS: DIR holds\n"
      "                       ca.pem, node.pem, node.key (and client.pem,\n"
      "                       client.key) from scripts/tls-generate.sh\n");
}

static void default_server_path(char *out, size_t len) {
  static const char name[] = "raw_grpc_server";
  ssize_t n = readlink("/proc/self/exe", out, len - 1);
  char *slash = n > 0 ? memrchr(out, '/', (size_t)n) : NULL;
  if (!slash || (size_t)(slash + 1 - out) + sizeof name > len) {
    snprintf(out, len, "%s", name);
    return;
  }
  memcpy(slash + 1, name, sizeof name);
}

int main(int argc, char **argv) {
  bool json = false;
  const char *filter = NULL;
  char server_path[PATH_MAX];
  default_server_path(server_path, sizeof server_path);
  int pollers = 0;
  const char *tls_dir = NULL;
  char default_totals[] = "64MiB,1GiB";
  uint64_t totals[MAX_PULL_TOTALS];
  int ntotals;
  parse_totals(default_totals, totals, &ntotals);
  for (int i = 1; i < argc; i++) {
    const char *a = argv[i];
    bool has_value = i + 1 < argc;
    if (strcmp(a, "--json") == 0) {
      json = true;
    } else if (strcmp(a, "--seconds") == 0 && has_value) {
      if (bench_parse_seconds(argv[++i], &seconds) != 0) {
        fprintf(stderr,
                "raw_grpc_bench: --seconds takes a number above 0 and up to "
                "3600, not '%s'\n",
                argv[i]);
        return 2;
      }
    } else if (strcmp(a, "--tls") == 0 && has_value) {
      tls_dir = argv[++i];
    } else if (strcmp(a, "--filter") == 0 && has_value) {
      filter = argv[++i];
    } else if (strcmp(a, "--server") == 0 && has_value) {
      snprintf(server_path, sizeof server_path, "%s", argv[++i]);
    } else if (strcmp(a, "--pollers") == 0 && has_value) {
      char *end;
      long n = strtol(argv[++i], &end, 10);
      if (*end || n < 1 || n > 64) {
        fprintf(stderr,
                "raw_grpc_bench: --pollers takes a number from 1 to 64, not "
                "'%s'\n",
                argv[i]);
        return 2;
      }
      pollers = (int)n;
    } else if (strcmp(a, "--pull-totals") == 0 && has_value) {
      if (parse_totals(argv[++i], totals, &ntotals) != 0) {
        fprintf(stderr,
                "raw_grpc_bench: --pull-totals takes 1 to %d sizes above 0 "
                "such as 64MiB,1GiB\n",
                MAX_PULL_TOTALS);
        return 2;
      }
    } else if (strcmp(a, "--help") == 0 || strcmp(a, "-h") == 0) {
      usage(stdout);
      return 0;
    } else {
      fprintf(stderr, "raw_grpc_bench: unknown or incomplete argument '%s'\n",
              a);
      usage(stderr);
      return 2;
    }
  }
  table = json ? stderr : stdout;

  double load_at_start = load_average();
  char err[256];
  /* Before grpc_init: fork is only safe before gRPC starts its threads. */
  if (server_process_start(&child, server_path, pollers, tls_dir, err,
                           sizeof err) != 0) {
    fprintf(stderr, "raw_grpc_bench: %s\n", err);
    return 1;
  }
  grpc_init();
  char target[64];
  snprintf(target, sizeof target, "ipv4:127.0.0.1:%d", child.port);
  grpc_arg arg_storage[3];
  grpc_channel_args args = raw_channel_args(arg_storage);
  grpc_channel_credentials *creds = grpc_insecure_credentials_create();
  if (tls_dir) {
    /* Checked under the name manta's channels check (raw_tls.h). */
    grpc_channel_credentials_release(creds);
    if (!(creds = raw_tls_channel(tls_dir))) {
      fprintf(stderr,
              "raw_grpc_bench: --tls: cannot read ca.pem and a "
              "certificate with its key in %s\n",
              tls_dir);
      return 1;
    }
    arg_storage[2].type = GRPC_ARG_STRING;
    arg_storage[2].key = (char *)GRPC_SSL_TARGET_NAME_OVERRIDE_ARG;
    arg_storage[2].value.string = (char *)"manta";
    args.num_args = 3;
  }
  channel = grpc_channel_create(target, creds, &args);
  grpc_channel_credentials_release(creds);
  method_unary =
      grpc_channel_register_call(channel, RAW_METHOD_UNARY, NULL, NULL);
  method_stream =
      grpc_channel_register_call(channel, RAW_METHOD_STREAM, NULL, NULL);
  method_pull =
      grpc_channel_register_call(channel, RAW_METHOD_PULL, NULL, NULL);
  cq = grpc_completion_queue_create_for_next(NULL);
  uint8_t bytes[MSG_BYTES];
  for (int i = 0; i < MSG_BYTES; i++) {
    bytes[i] = (uint8_t)(i * 7 + 1);
  }
  payload = grpc_slice_from_copied_buffer((const char *)bytes, MSG_BYTES);

  fprintf(table,
          "raw gRPC floor: gRPC core %s, loopback, %g s per case, server "
          "pollers %d, load average %.2f\n",
          grpc_version_string(), seconds, child.pollers, load_at_start);
  run_cases(filter, totals, ntotals);
  if (nresults == 0) {
    fail("no case matches the filter '%s'", filter);
  }

  grpc_slice_unref(payload);
  grpc_channel_destroy(channel);
  grpc_completion_queue_shutdown(cq);
  while (
      grpc_completion_queue_next(cq, gpr_inf_future(GPR_CLOCK_MONOTONIC), NULL)
          .type != GRPC_QUEUE_SHUTDOWN) {
  }
  grpc_completion_queue_destroy(cq);
  grpc_shutdown();
  if (server_process_stop(&child, err, sizeof err) != 0) {
    fprintf(stderr, "raw_grpc_bench: %s\n", err);
    return 1;
  }
  if (json) {
    print_json(child.pollers, load_at_start, tls_dir != NULL);
  }
  return 0;
}
