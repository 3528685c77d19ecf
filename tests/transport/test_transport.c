/* The transport on loopback, in one process: unary calls, unknown methods,
 * tokens and protocol versions (1000 refused calls make a few log lines),
 * a bidirectional stream with many messages,
 * messages sent with borrowed bytes and read in pieces, callbacks that
 * block (having stepped aside, or only marked away) while the process
 * keeps receiving, and shutdown with calls in flight. */
#include "test_util.h"
#include "transport.h"

#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

/* ---- the service under test ------------------------------------------- */

typedef struct echo_stream {
  pthread_mutex_t mu;
  mt_tp_buf pending[64];
  int npending;
  int received;
} echo_stream;

static bool svc_is_unary(void *ctx, const char *m) {
  (void)ctx;
  return strcmp(m, "/t.Echo/Unary") == 0;
}
static bool svc_is_stream(void *ctx, const char *m) {
  (void)ctx;
  return strcmp(m, "/t.Echo/Stream") == 0 || strcmp(m, "/t.Echo/Pieces") == 0 ||
         strcmp(m, "/t.Echo/Hold") == 0 || strcmp(m, "/t.Echo/Away") == 0;
}

/* Hold and Away: the server's after_message waits (at most HOLD_MS) for
 * a unary "release" that only a poller other than its own can receive.
 * Hold steps aside first, as a task about to block does; Away only marks
 * itself away, as a task that computes long does, and is taken over. */
enum { HOLD_MS = 20000 };
static pthread_mutex_t hold_mu = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t hold_cv = PTHREAD_COND_INITIALIZER;
static bool holding, released, hold_timed_out;

static void wait_release(void) {
  struct timespec until;
  clock_gettime(CLOCK_REALTIME, &until);
  until.tv_sec += HOLD_MS / 1000;
  pthread_mutex_lock(&hold_mu);
  holding = true;
  pthread_cond_broadcast(&hold_cv);
  while (!released && !hold_timed_out) {
    hold_timed_out =
        pthread_cond_timedwait(&hold_cv, &hold_mu, &until) == ETIMEDOUT;
  }
  holding = false;
  pthread_cond_broadcast(&hold_cv);
  pthread_mutex_unlock(&hold_mu);
}
static void hold_after_message(void) {
  mt_tp_step_aside();
  wait_release();
}
static void away_after_message(void) {
  mt_tp_away_begin();
  wait_release();
  mt_tp_away_end();
}

static void svc_unary(void *ctx, mt_tp_incoming *in, const char *method,
                      const uint8_t *body, size_t len) {
  (void)ctx, (void)method;
  if (len == 7 && memcmp(body, "release", 7) == 0) {
    pthread_mutex_lock(&hold_mu);
    released = true;
    pthread_cond_broadcast(&hold_cv);
    pthread_mutex_unlock(&hold_mu);
  }
  if (len == 4 && memcmp(body, "fail", 4) == 0) {
    mt_tp_reply(in, MT_TP_INVALID_ARGUMENT, "asked to fail", NULL, 0);
  } else {
    mt_tp_reply(in, MT_TP_OK, NULL, body, len);
  }
}

/* Server side of the stream: echoes each message back. */
static void srv_msg(void *arg, mt_tp_stream *s, const uint8_t *body,
                    size_t len) {
  echo_stream *e = arg;
  pthread_mutex_lock(&e->mu);
  REQUIRE(e->npending < 64);
  uint8_t *copy = malloc(len ? len : 1);
  REQUIRE(copy);
  memcpy(copy, body, len);
  e->pending[e->npending++] = (mt_tp_buf){copy, len};
  e->received++;
  pthread_mutex_unlock(&e->mu);
  mt_tp_stream_kick(s);
}
static bool srv_fill(void *arg, mt_tp_stream *s, mt_tp_buf *out) {
  (void)s;
  echo_stream *e = arg;
  pthread_mutex_lock(&e->mu);
  bool have = e->npending > 0;
  if (have) {
    *out = e->pending[0];
    memmove(e->pending, e->pending + 1, --e->npending * sizeof e->pending[0]);
  }
  pthread_mutex_unlock(&e->mu);
  return have;
}
static void srv_closed(void *arg, mt_tp_stream *s, int status,
                       const char *detail) {
  (void)s, (void)status, (void)detail;
  echo_stream *e = arg;
  for (int i = 0; i < e->npending; i++) {
    free(e->pending[i].data);
  }
  pthread_mutex_destroy(&e->mu);
  free(e);
}
static const mt_tp_stream_handlers srv_handlers = {
    .on_message = srv_msg, .fill = srv_fill, .on_closed = srv_closed};
/* Pieces: asked once, the server sends PIECES_N messages, each its index
 * (4 bytes of its own) followed by PIECES_TAIL bytes of `tail` lent to
 * gRPC, then ends the call. */
enum { PIECES_N = 8, PIECES_TAIL = 300 * 1024 };
static uint8_t tail[PIECES_TAIL];
static pthread_mutex_t tail_mu = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t tail_cv = PTHREAD_COND_INITIALIZER;
static int tail_done; /* messages whose borrowed bytes gRPC let go of */

static void tail_release(void *arg) {
  CHECK(arg == tail);
  pthread_mutex_lock(&tail_mu);
  tail_done++;
  pthread_cond_broadcast(&tail_cv);
  pthread_mutex_unlock(&tail_mu);
}

typedef struct pieces_server {
  bool asked, ended;
  int sent;
} pieces_server;

static void ps_msg(void *arg, mt_tp_stream *s, const uint8_t *body,
                   size_t len) {
  (void)body, (void)len;
  pieces_server *p = arg;
  p->asked = true;
  mt_tp_stream_kick(s);
}
static bool ps_fill(void *arg, mt_tp_stream *s, mt_tp_buf *out) {
  pieces_server *p = arg;
  if (!p->asked || p->ended) {
    return false;
  }
  if (p->sent == PIECES_N) {
    p->ended = true;
    mt_tp_stream_close(s, MT_TP_OK, NULL);
    return false;
  }
  out->data = malloc(4);
  REQUIRE(out->data);
  memcpy(out->data, &p->sent, 4);
  out->len = 4;
  mt_tp_stream_fill_ref(s, tail, sizeof tail, tail_release, tail);
  p->sent++;
  return true;
}
static void ps_closed(void *arg, mt_tp_stream *s, int status,
                      const char *detail) {
  (void)s, (void)status, (void)detail;
  free(arg);
}
static const mt_tp_stream_handlers pieces_server_handlers = {
    .on_message = ps_msg,
    .fill = ps_fill,
    .on_closed = ps_closed,
    .outlive_half_close = true};

static const mt_tp_stream_handlers hold_handlers = {.on_message = srv_msg,
                                                    .fill = srv_fill,
                                                    .on_closed = srv_closed,
                                                    .after_message =
                                                        hold_after_message};
static const mt_tp_stream_handlers away_handlers = {.on_message = srv_msg,
                                                    .fill = srv_fill,
                                                    .on_closed = srv_closed,
                                                    .after_message =
                                                        away_after_message};

static void *svc_stream_open(void *ctx, mt_tp_stream *s, const char *m,
                             const mt_tp_stream_handlers **h) {
  (void)ctx, (void)s;
  if (strcmp(m, "/t.Echo/Pieces") == 0) {
    *h = &pieces_server_handlers;
    pieces_server *p = calloc(1, sizeof *p);
    REQUIRE(p);
    return p;
  }
  echo_stream *e = calloc(1, sizeof *e);
  REQUIRE(e);
  pthread_mutex_init(&e->mu, NULL);
  *h = strcmp(m, "/t.Echo/Hold") == 0   ? &hold_handlers
       : strcmp(m, "/t.Echo/Away") == 0 ? &away_handlers
                                        : &srv_handlers;
  return e;
}

static const mt_tp_service service = {NULL, svc_unary, svc_is_stream,
                                      svc_stream_open, svc_is_unary};

/* ---- client side of the stream ----------------------------------------- */

typedef struct client_stream {
  pthread_mutex_t mu;
  pthread_cond_t cv;
  int to_send, sent, echoed;
  int64_t sum_echoed;
  bool closed;
  int status;
} client_stream;

static void cli_msg(void *arg, mt_tp_stream *s, const uint8_t *body,
                    size_t len) {
  (void)s;
  client_stream *c = arg;
  int v = -1;
  if (len == sizeof v) {
    memcpy(&v, body, sizeof v);
  }
  pthread_mutex_lock(&c->mu);
  c->echoed++;
  c->sum_echoed += v;
  pthread_cond_broadcast(&c->cv);
  pthread_mutex_unlock(&c->mu);
}
static bool cli_fill(void *arg, mt_tp_stream *s, mt_tp_buf *out) {
  (void)s;
  client_stream *c = arg;
  pthread_mutex_lock(&c->mu);
  bool have = c->sent < c->to_send;
  int v = c->sent;
  if (have) {
    c->sent++;
  }
  pthread_mutex_unlock(&c->mu);
  if (have) {
    out->data = malloc(sizeof v);
    REQUIRE(out->data);
    memcpy(out->data, &v, sizeof v);
    out->len = sizeof v;
  }
  return have;
}
static void cli_closed(void *arg, mt_tp_stream *s, int status,
                       const char *detail) {
  (void)s, (void)detail;
  client_stream *c = arg;
  pthread_mutex_lock(&c->mu);
  c->closed = true;
  c->status = status;
  pthread_cond_broadcast(&c->cv);
  pthread_mutex_unlock(&c->mu);
}
static const mt_tp_stream_handlers cli_handlers = {
    .on_message = cli_msg, .fill = cli_fill, .on_closed = cli_closed};

/* The client of Pieces reads each message in pieces of odd sizes. */
typedef struct pieces_client {
  pthread_mutex_t mu;
  pthread_cond_t cv;
  bool asked, closed;
  int status, got, bad;
} pieces_client;

static void pc_unused(void *arg, mt_tp_stream *s, const uint8_t *body,
                      size_t len) {
  (void)arg, (void)s, (void)body, (void)len;
  CHECK(!"on_message runs where on_pieces is set");
}
static void pc_pieces(void *arg, mt_tp_stream *s, mt_tp_msg *m) {
  (void)s;
  pieces_client *c = arg;
  static uint8_t buf[4 + PIECES_TAIL + 16];
  size_t len = mt_tp_msg_length(m);
  size_t at = mt_tp_msg_read(m, buf, 3);
  at += mt_tp_msg_read(m, buf + at, 1000);
  at += mt_tp_msg_read(m, buf + at, sizeof buf - at);
  int index;
  memcpy(&index, buf, 4);
  pthread_mutex_lock(&c->mu);
  if (len != 4 + PIECES_TAIL || at != len || index != c->got ||
      memcmp(buf + 4, tail, PIECES_TAIL) != 0 ||
      mt_tp_msg_read(m, buf, 1) != 0) {
    c->bad++;
  }
  c->got++;
  pthread_mutex_unlock(&c->mu);
}
static bool pc_fill(void *arg, mt_tp_stream *s, mt_tp_buf *out) {
  (void)s;
  pieces_client *c = arg;
  if (c->asked) {
    return false;
  }
  c->asked = true;
  out->data = malloc(1);
  REQUIRE(out->data);
  out->data[0] = '?';
  out->len = 1;
  return true;
}
static void pc_closed(void *arg, mt_tp_stream *s, int status,
                      const char *detail) {
  (void)s, (void)detail;
  pieces_client *c = arg;
  pthread_mutex_lock(&c->mu);
  c->closed = true;
  c->status = status;
  pthread_cond_broadcast(&c->cv);
  pthread_mutex_unlock(&c->mu);
}
static const mt_tp_stream_handlers pieces_client_handlers = {
    .on_message = pc_unused,
    .fill = pc_fill,
    .on_closed = pc_closed,
    .on_pieces = pc_pieces};

/* ---- tests ----------------------------------------------------------------
 */

static int port;
static mt_tp_server *server;
static char address[64];

static int call(mt_tp_channel *ch, const char *method, const char *body,
                char *reply, size_t size) {
  mt_tp_buf r = {0};
  char detail[200];
  int st = mt_tp_unary_sync(ch, method, (const uint8_t *)body, strlen(body),
                            5000, &r, detail, sizeof detail);
  if (st == MT_TP_OK) {
    snprintf(reply, size, "%.*s", (int)r.len, (const char *)r.data);
  } else {
    snprintf(reply, size, "%s", detail);
  }
  free(r.data);
  return st;
}

static void test_unary(void) {
  mt_tp_channel *ch = mt_tp_channel_open(address, NULL, NULL);
  REQUIRE(ch);
  char reply[200];
  CHECK_INT_EQ(call(ch, "/t.Echo/Unary", "hello", reply, sizeof reply),
               MT_TP_OK);
  CHECK(strcmp(reply, "hello") == 0);
  CHECK_INT_EQ(call(ch, "/t.Echo/Unary", "", reply, sizeof reply), MT_TP_OK);
  CHECK(strcmp(reply, "") == 0);
  CHECK_INT_EQ(call(ch, "/t.Echo/Unary", "fail", reply, sizeof reply),
               MT_TP_INVALID_ARGUMENT);
  CHECK(strcmp(reply, "asked to fail") == 0);
  CHECK_INT_EQ(call(ch, "/t.Echo/Nope", "x", reply, sizeof reply),
               MT_TP_UNIMPLEMENTED);
  CHECK(strstr(reply, "unknown method /t.Echo/Nope") != NULL);
  mt_tp_channel_close(ch);
}

static void test_dead_peer(void) {
  /* Nothing listens on port 1: the call fails, bounded by its deadline. */
  mt_tp_channel *ch = mt_tp_channel_open("127.0.0.1:1", NULL, NULL);
  REQUIRE(ch);
  char reply[200];
  int st = call(ch, "/t.Echo/Unary", "x", reply, sizeof reply);
  CHECK(st == MT_TP_UNAVAILABLE || st == MT_TP_DEADLINE_EXCEEDED);
  mt_tp_channel_close(ch);
}

static void test_token(void) {
  int tport = 0;
  mt_tp_server *t =
      mt_tp_server_start("127.0.0.1:0", &service, "s3cret", NULL, &tport);
  REQUIRE(t);
  char addr[64], reply[200];
  snprintf(addr, sizeof addr, "127.0.0.1:%d", tport);
  mt_tp_channel *none = mt_tp_channel_open(addr, NULL, NULL);
  mt_tp_channel *wrong = mt_tp_channel_open(addr, "s3cre", NULL);
  mt_tp_channel *right = mt_tp_channel_open(addr, "s3cret", NULL);
  CHECK_INT_EQ(call(none, "/t.Echo/Unary", "x", reply, sizeof reply),
               MT_TP_UNAUTHENTICATED);
  CHECK_INT_EQ(call(wrong, "/t.Echo/Unary", "x", reply, sizeof reply),
               MT_TP_UNAUTHENTICATED);
  CHECK_INT_EQ(call(right, "/t.Echo/Unary", "ok", reply, sizeof reply),
               MT_TP_OK);
  CHECK(strcmp(reply, "ok") == 0);
  mt_tp_channel_close(none);
  mt_tp_channel_close(wrong);
  mt_tp_channel_close(right);
  mt_tp_server_stop(t);
}

/*
 * 1000 calls refused for their token, from 1000 connections of one host,
 * while the log (stderr) goes to a file: one line when the first is
 * refused, then at most one per 10 s, and the server's stop says the rest;
 * the counts in the lines add up to 1000.
 */
static void test_refusals_logged_once(void) {
  int tport = 0;
  mt_tp_server *t = mt_tp_server_start("127.0.0.1:0", &service,
                                       "s3cret-s3cret-s3cret", NULL, &tport);
  REQUIRE(t);
  char addr[64], reply[200], log_path[] = "/tmp/manta-refusals-XXXXXX";
  snprintf(addr, sizeof addr, "127.0.0.1:%d", tport);
  int log_fd = mkstemp(log_path);
  REQUIRE(log_fd >= 0);
  fflush(stderr);
  int saved = dup(2);
  REQUIRE(saved >= 0 && dup2(log_fd, 2) == 2);
  double start = mt_test_now_ms();
  int refused = 0;
  for (int i = 0; i < 1000; i++) {
    mt_tp_channel *ch = mt_tp_channel_open(addr, i % 2 ? "wrong" : NULL, NULL);
    refused += call(ch, "/t.Echo/Unary", "x", reply, sizeof reply) ==
               MT_TP_UNAUTHENTICATED;
    mt_tp_channel_close(ch);
  }
  long long took_s = (long long)((mt_test_now_ms() - start) / 1000);
  mt_tp_server_stop(t);
  fflush(stderr);
  REQUIRE(dup2(saved, 2) == 2);
  close(saved);
  CHECK_INT_EQ(refused, 1000);
  FILE *f = fdopen(log_fd, "r");
  REQUIRE(f);
  rewind(f);
  char line[1000];
  int lines = 0;
  unsigned long long counted = 0, more;
  while (fgets(line, sizeof line, f)) {
    const char *at = strstr(line, "transport: refused ");
    if (!at) {
      fputs(line, stderr); /* not ours: shown, not counted */
      continue;
    }
    lines++;
    if (sscanf(at, "transport: refused %llu more call(s)", &more) == 1) {
      counted += more;
    } else {
      counted++;
    }
  }
  fclose(f);
  unlink(log_path);
  printf("1000 refused calls in %lld s: %d log line(s)\n", took_s, lines);
  CHECK_INT_EQ(counted, 1000);
  /* The first, one per 10 s begun, the rest at stop. */
  CHECK(lines >= 1 && lines <= 2 + took_s / 10 + 1);
}

static void test_stream(void) {
  mt_tp_channel *ch = mt_tp_channel_open(address, NULL, NULL);
  REQUIRE(ch);
  client_stream c = {.to_send = 0};
  pthread_mutex_init(&c.mu, NULL);
  pthread_cond_init(&c.cv, NULL);
  mt_tp_stream *s = mt_tp_stream_open(ch, "/t.Echo/Stream", &cli_handlers, &c);
  REQUIRE(s);
  /* 2000 messages in rounds of 50, each round echoed before the next. */
  int64_t want = 0;
  for (int round = 0; round < 40; round++) {
    pthread_mutex_lock(&c.mu);
    for (int i = 0; i < 50; i++) {
      want += c.to_send + i;
    }
    c.to_send += 50;
    pthread_mutex_unlock(&c.mu);
    mt_tp_stream_kick(s);
    pthread_mutex_lock(&c.mu);
    while (c.echoed < c.to_send && !c.closed) {
      pthread_cond_wait(&c.cv, &c.mu);
    }
    pthread_mutex_unlock(&c.mu);
  }
  CHECK_INT_EQ(c.echoed, 2000);
  CHECK_INT_EQ(c.sum_echoed, want);
  mt_tp_stream_close(s, MT_TP_CANCELLED, "test done");
  pthread_mutex_lock(&c.mu);
  while (!c.closed) {
    pthread_cond_wait(&c.cv, &c.mu);
  }
  pthread_mutex_unlock(&c.mu);
  CHECK_INT_EQ(c.status, MT_TP_CANCELLED);
  mt_tp_stream_release(s);
  mt_tp_channel_close(ch);
  pthread_mutex_destroy(&c.mu);
  pthread_cond_destroy(&c.cv);
}

static void test_pieces(void) {
  for (size_t i = 0; i < sizeof tail; i++) {
    tail[i] = (uint8_t)(i * 31 + (i >> 11));
  }
  mt_tp_channel *ch = mt_tp_channel_open(address, NULL, NULL);
  REQUIRE(ch);
  pieces_client c = {.got = 0};
  pthread_mutex_init(&c.mu, NULL);
  pthread_cond_init(&c.cv, NULL);
  mt_tp_stream *s =
      mt_tp_stream_open(ch, "/t.Echo/Pieces", &pieces_client_handlers, &c);
  REQUIRE(s);
  mt_tp_stream_kick(s);
  pthread_mutex_lock(&c.mu);
  while (!c.closed) {
    pthread_cond_wait(&c.cv, &c.mu);
  }
  pthread_mutex_unlock(&c.mu);
  CHECK_INT_EQ(c.status, MT_TP_OK);
  CHECK_INT_EQ(c.got, PIECES_N);
  CHECK_INT_EQ(c.bad, 0);
  mt_tp_stream_release(s);
  mt_tp_channel_close(ch);
  /* Every lent tail is given back once gRPC has sent it. */
  pthread_mutex_lock(&tail_mu);
  while (tail_done < PIECES_N) {
    pthread_cond_wait(&tail_cv, &tail_mu);
  }
  pthread_mutex_unlock(&tail_mu);
  CHECK_INT_EQ(tail_done, PIECES_N);
  pthread_mutex_destroy(&c.mu);
  pthread_cond_destroy(&c.cv);
}

/* The polling thread with the turn blocks inside a callback: another takes
 * the turn, so the release still arrives, and the stream's echo after. */
static void hold_until_released(const char *method) {
  pthread_mutex_lock(&hold_mu);
  released = hold_timed_out = false;
  pthread_mutex_unlock(&hold_mu);
  mt_tp_channel *ch = mt_tp_channel_open(address, NULL, NULL);
  REQUIRE(ch);
  client_stream c = {.to_send = 1};
  pthread_mutex_init(&c.mu, NULL);
  pthread_cond_init(&c.cv, NULL);
  mt_tp_stream *s = mt_tp_stream_open(ch, method, &cli_handlers, &c);
  REQUIRE(s);
  mt_tp_stream_kick(s);
  pthread_mutex_lock(&hold_mu);
  while (!holding && !hold_timed_out) {
    pthread_cond_wait(&hold_cv, &hold_mu);
  }
  pthread_mutex_unlock(&hold_mu);
  char reply[200];
  CHECK_INT_EQ(call(ch, "/t.Echo/Unary", "release", reply, sizeof reply),
               MT_TP_OK);
  pthread_mutex_lock(&hold_mu);
  while (holding) {
    pthread_cond_wait(&hold_cv, &hold_mu);
  }
  CHECK(released);
  CHECK(!hold_timed_out);
  pthread_mutex_unlock(&hold_mu);
  pthread_mutex_lock(&c.mu);
  while (c.echoed < 1 && !c.closed) {
    pthread_cond_wait(&c.cv, &c.mu);
  }
  pthread_mutex_unlock(&c.mu);
  CHECK_INT_EQ(c.echoed, 1);
  mt_tp_stream_close(s, MT_TP_CANCELLED, "test done");
  pthread_mutex_lock(&c.mu);
  while (!c.closed) {
    pthread_cond_wait(&c.cv, &c.mu);
  }
  pthread_mutex_unlock(&c.mu);
  mt_tp_stream_release(s);
  mt_tp_channel_close(ch);
  pthread_mutex_destroy(&c.mu);
  pthread_cond_destroy(&c.cv);
}

static void test_step_aside(void) {
  hold_until_released("/t.Echo/Hold");
}

static void test_taken_over_when_away(void) {
  hold_until_released("/t.Echo/Away");
}

static void test_stop_with_open_stream(void) {
  /* A server stopped under an open stream: the client hears of it. */
  int sport = 0;
  mt_tp_server *t =
      mt_tp_server_start("127.0.0.1:0", &service, NULL, NULL, &sport);
  REQUIRE(t);
  char addr[64];
  snprintf(addr, sizeof addr, "127.0.0.1:%d", sport);
  mt_tp_channel *ch = mt_tp_channel_open(addr, NULL, NULL);
  client_stream c = {.to_send = 5};
  pthread_mutex_init(&c.mu, NULL);
  pthread_cond_init(&c.cv, NULL);
  mt_tp_stream *s = mt_tp_stream_open(ch, "/t.Echo/Stream", &cli_handlers, &c);
  REQUIRE(s);
  mt_tp_stream_kick(s);
  pthread_mutex_lock(&c.mu);
  while (c.echoed < 5 && !c.closed) {
    pthread_cond_wait(&c.cv, &c.mu);
  }
  pthread_mutex_unlock(&c.mu);
  CHECK_INT_EQ(c.echoed, 5);
  mt_tp_server_stop(t);
  pthread_mutex_lock(&c.mu);
  while (!c.closed) {
    pthread_cond_wait(&c.cv, &c.mu);
  }
  pthread_mutex_unlock(&c.mu);
  /* Told why (MT_TP_STOPPING) as a rule; but the status may race with
   * gRPC closing the connection under it, so only the code is checked. */
  CHECK_INT_EQ(c.status, MT_TP_UNAVAILABLE);
  mt_tp_stream_release(s);
  mt_tp_channel_close(ch);
  pthread_mutex_destroy(&c.mu);
  pthread_cond_destroy(&c.cv);
}

int main(void) {
  REQUIRE(mt_tp_start());
  server = mt_tp_server_start("127.0.0.1:0", &service, NULL, NULL, &port);
  REQUIRE(server);
  REQUIRE(port > 0);
  snprintf(address, sizeof address, "127.0.0.1:%d", port);
  RUN_TEST(test_unary);
  RUN_TEST(test_dead_peer);
  RUN_TEST(test_token);
  RUN_TEST(test_refusals_logged_once);
  RUN_TEST(test_stream);
  RUN_TEST(test_pieces);
  RUN_TEST(test_step_aside);
  RUN_TEST(test_taken_over_when_away);
  RUN_TEST(test_stop_with_open_stream);
  mt_tp_server_stop(server);
  mt_tp_stop();
  return mt_test_done();
}
