/*
 * gRPC core behind transport.h: one completion queue, pollers that take
 * turns at it, and reference-counted call objects whose in-flight batches
 * each hold a count, so a call is unreferenced exactly once, after its last
 * batch completed.
 */
#include "transport.h"

#include "credentials.h"
#include "grpc_log.h"
#include "local_state.h"
#include "log.h"
#include "refusals.h"

#include <grpc/byte_buffer.h>
#include <grpc/byte_buffer_reader.h>
#include <grpc/grpc.h>
#include <grpc/grpc_security.h>
#include <grpc/support/alloc.h>
#include <grpc/support/time.h>
#include <malloc.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#define POLLERS 2
#define PENDING_REQUESTS 8

/* A completion-queue tag: what to do when its batch completes. */
typedef struct tp_op {
  void (*done)(struct tp_op *op, bool ok);
  /* Bumped (release) before the tag goes to gRPC, read (acquire) when it
   * comes back: the hand-over through gRPC's own, uninstrumented
   * synchronization made visible to ThreadSanitizer. */
  _Atomic unsigned armed;
} tp_op;

/* The object holding the tag `op` as its member `member`. */
#define OWNER_OF(op, type, member)                                             \
  ((type *)(void *)((char *)(op)-offsetof(type, member)))

static void *arm(tp_op *op) {
  atomic_fetch_add_explicit(&op->armed, 1, memory_order_release);
  return op;
}

static grpc_call_error tp_batch(grpc_call *call, const grpc_op *ops, size_t n,
                                tp_op *tag) {
  return grpc_call_start_batch(call, ops, n, arm(tag), NULL);
}

static struct {
  pthread_mutex_t mu;
  int starts;
  grpc_completion_queue *cq;
  pthread_t pollers[POLLERS];
  /* The turn at the queue (below). */
  pthread_mutex_t turn_mu;
  pthread_cond_t turn_cv;      /* on CLOCK_MONOTONIC */
  _Atomic int holder;          /* the poller with the turn, -1: none; set under
                                * turn_mu, read by the holder without */
  bool queue_shut;             /* under turn_mu */
  int64_t away_since;          /* under turn_mu: the holder runs work of unknown
                                * length since (ns), 0: it does not */
  _Atomic int64_t last_event;  /* ns */
  _Atomic bool standby_sleeps; /* a poller stands by without a timeout */
} tp = {.mu = PTHREAD_MUTEX_INITIALIZER,
        .turn_mu = PTHREAD_MUTEX_INITIALIZER,
        .holder = -1};

/*
 * One poller at a time has the turn: it waits in the queue and runs what it
 * takes, then waits again. Pollers that all waited in the queue at once
 * handed the work to each other through gRPC's kicks, a thread wake-up per
 * message or two: 5-25% of an object transfer's rate on a 2-core machine,
 * and 10-20 us of a round trip when a poller woke another to receive while
 * it ran a task.
 *
 * So the holder runs received tasks itself without waking anyone
 * (mt_tp_away_begin/end mark it away meanwhile) and the others stand by:
 * while the queue is busy a standby looks every STANDBY_CHECK_MS and takes
 * the turn over from a holder away for AWAY_TAKEOVER_MS or more; a holder
 * whose task blocks hands the turn over at once (mt_tp_step_aside). The
 * node thus never stops receiving for more than about two milliseconds,
 * whatever a task does, and an idle node has no thread waking up. A
 * callback that holds the turn must never wait for another completion of
 * the queue.
 */
enum {
  STANDBY_CHECK_MS = 1,
  AWAY_TAKEOVER_MS = 1,
  /* Since the last event: the queue counts as busy. */
  BUSY_MS = 10,
};

static _Thread_local int poller_me = -1; /* this thread's poller index */

static int64_t now_ns(void) {
  struct timespec t;
  clock_gettime(CLOCK_MONOTONIC, &t);
  return (int64_t)t.tv_sec * 1000000000 + t.tv_nsec;
}

static void init_turn_cv(void) {
  pthread_condattr_t a;
  pthread_condattr_init(&a);
  pthread_condattr_setclock(&a, CLOCK_MONOTONIC);
  pthread_cond_init(&tp.turn_cv, &a);
  pthread_condattr_destroy(&a);
}

/* Waits for the turn; false once the queue is shut down. */
static bool take_turn(int me) {
  pthread_mutex_lock(&tp.turn_mu);
  for (;;) {
    if (tp.queue_shut) {
      pthread_mutex_unlock(&tp.turn_mu);
      return false;
    }
    int h = atomic_load(&tp.holder);
    if (h < 0) {
      break;
    }
    int64_t t = now_ns();
    if (tp.away_since &&
        t - tp.away_since >= (int64_t)AWAY_TAKEOVER_MS * 1000000) {
      mt_log(MT_LOG_DEBUG,
             "transport: poller %d away on a task for %.1f ms, poller %d "
             "receives meanwhile",
             h, (double)(t - tp.away_since) / 1e6, me);
      break;
    }
    if (tp.away_since ||
        t - atomic_load(&tp.last_event) < (int64_t)BUSY_MS * 1000000) {
      int64_t until = t + (int64_t)STANDBY_CHECK_MS * 1000000;
      struct timespec ts = {(time_t)(until / 1000000000),
                            (long)(until % 1000000000)};
      pthread_cond_timedwait(&tp.turn_cv, &tp.turn_mu, &ts);
    } else {
      atomic_store(&tp.standby_sleeps, true);
      pthread_cond_wait(&tp.turn_cv, &tp.turn_mu);
      atomic_store(&tp.standby_sleeps, false);
    }
  }
  atomic_store(&tp.holder, me);
  tp.away_since = 0;
  pthread_mutex_unlock(&tp.turn_mu);
  return true;
}

/* A standby poller sleeping without a timeout looks again. */
static void wake_standby(void) {
  if (atomic_load(&tp.standby_sleeps)) {
    pthread_mutex_lock(&tp.turn_mu);
    pthread_cond_broadcast(&tp.turn_cv);
    pthread_mutex_unlock(&tp.turn_mu);
  }
}

/* Marks this poller, if it holds the turn, away since `since` (0: back). */
static void mark_away(int64_t since) {
  pthread_mutex_lock(&tp.turn_mu);
  if (atomic_load(&tp.holder) == poller_me) {
    tp.away_since = since;
  }
  pthread_mutex_unlock(&tp.turn_mu);
}

void mt_tp_away_begin(void) {
  if (poller_me >= 0) {
    mark_away(now_ns());
    wake_standby(); /* it waits with a timeout from now on */
  }
}

void mt_tp_away_end(void) {
  if (poller_me >= 0) {
    mark_away(0);
  }
}

void mt_tp_step_aside(void) {
  if (poller_me < 0) {
    return;
  }
  pthread_mutex_lock(&tp.turn_mu);
  if (atomic_load(&tp.holder) == poller_me) {
    atomic_store(&tp.holder, -1);
    tp.away_since = 0;
    pthread_cond_signal(&tp.turn_cv);
  }
  pthread_mutex_unlock(&tp.turn_mu);
}

static void *poll_loop(void *arg) {
  int me = (int)(intptr_t)arg;
  poller_me = me;
  while (take_turn(me)) {
    while (atomic_load_explicit(&tp.holder, memory_order_relaxed) == me) {
      grpc_event ev = grpc_completion_queue_next(
          tp.cq, gpr_inf_future(GPR_CLOCK_MONOTONIC), NULL);
      if (ev.type == GRPC_QUEUE_SHUTDOWN) {
        /* Drained: the pollers standing by end too. */
        pthread_mutex_lock(&tp.turn_mu);
        tp.queue_shut = true;
        atomic_store(&tp.holder, -1);
        pthread_cond_broadcast(&tp.turn_cv);
        pthread_mutex_unlock(&tp.turn_mu);
        return NULL;
      }
      atomic_store_explicit(&tp.last_event, now_ns(), memory_order_relaxed);
      wake_standby();
      if (ev.type == GRPC_OP_COMPLETE) {
        tp_op *op = ev.tag;
        (void)atomic_load_explicit(&op->armed, memory_order_acquire);
        op->done(op, ev.success != 0);
      }
    }
  }
  return NULL;
}

/*
 * gRPC receives into 64 KiB pieces it mallocs on the poller threads and
 * frees once a message is read. With glibc's default trim threshold each
 * such free at the top of a thread's heap hands the memory back to the
 * kernel (madvise), so every received chunk faulted its pages in again:
 * half of a fetching node's CPU per GB. Heap tops of up to 64 MiB are kept
 * instead (blocks from 4 MiB are still mapped apart), unless the user
 * tuned malloc already.
 */
static void keep_heap_tops(void) {
#if defined(M_TRIM_THRESHOLD) && defined(M_MMAP_THRESHOLD)
  const char *tunables = getenv("GLIBC_TUNABLES");
  if (getenv("MALLOC_TRIM_THRESHOLD_") || getenv("MALLOC_MMAP_THRESHOLD_") ||
      (tunables && strstr(tunables, "glibc.malloc."))) {
    return;
  }
  mallopt(M_MMAP_THRESHOLD, 4 << 20);
  mallopt(M_TRIM_THRESHOLD, 64 << 20);
#endif
}

bool mt_tp_start(void) {
  pthread_mutex_lock(&tp.mu);
  if (tp.starts++ > 0) {
    pthread_mutex_unlock(&tp.mu);
    return true;
  }
  keep_heap_tops();
  static pthread_once_t turn_cv_once = PTHREAD_ONCE_INIT;
  pthread_once(&turn_cv_once, init_turn_cv);
  tp.queue_shut = false;
  atomic_store(&tp.holder, -1);
  tp.away_since = 0;
  mt_tp_grpc_log_start();
  grpc_init();
  tp.cq = grpc_completion_queue_create_for_next(NULL);
  int started = 0;
  for (; started < POLLERS; started++) {
    if (pthread_create(&tp.pollers[started], NULL, poll_loop,
                       (void *)(intptr_t)started) != 0) {
      break;
    }
  }
  if (started < POLLERS) {
    grpc_completion_queue_shutdown(tp.cq);
    for (int i = 0; i < started; i++) {
      pthread_join(tp.pollers[i], NULL);
    }
    grpc_completion_queue_destroy(tp.cq);
    grpc_shutdown_blocking();
    mt_tp_grpc_log_stop();
    tp.starts = 0;
    pthread_mutex_unlock(&tp.mu);
    mt_log(MT_LOG_ERROR, "transport: cannot start poller threads");
    return false;
  }
  pthread_mutex_unlock(&tp.mu);
  return true;
}

void mt_tp_stop(void) {
  pthread_mutex_lock(&tp.mu);
  if (tp.starts == 0 || --tp.starts > 0) {
    pthread_mutex_unlock(&tp.mu);
    return;
  }
  /* Every call has ended (servers and channels wait for theirs), so the
   * queue drains to the shutdown event. */
  grpc_completion_queue_shutdown(tp.cq);
  for (int i = 0; i < POLLERS; i++) {
    pthread_join(tp.pollers[i], NULL);
  }
  grpc_completion_queue_destroy(tp.cq);
  tp.cq = NULL;
  grpc_shutdown_blocking();
  mt_tp_grpc_log_stop(); /* gRPC's threads are gone: no line comes now */
  pthread_mutex_unlock(&tp.mu);
}

/* ---- helpers ------------------------------------------------------------ */

static gpr_timespec deadline_after(int64_t ms) {
  if (ms <= 0) {
    return gpr_inf_future(GPR_CLOCK_REALTIME);
  }
  return gpr_time_add(gpr_now(GPR_CLOCK_REALTIME),
                      gpr_time_from_millis(ms, GPR_TIMESPAN));
}

/* Borrowed bytes that follow a message's own (mt_tp_stream_fill_ref). */
typedef struct tp_ref {
  const void *data;
  size_t len;
  void (*done)(void *arg);
  void *arg;
} tp_ref;

/* The whole message as one malloc'd buffer (never NULL data on success). */
static bool read_buffer(grpc_byte_buffer *bb, mt_tp_buf *out) {
  grpc_byte_buffer_reader r;
  if (!grpc_byte_buffer_reader_init(&r, bb)) {
    return false;
  }
  size_t len = grpc_byte_buffer_length(bb);
  uint8_t *data = malloc(len ? len : 1);
  if (!data) {
    grpc_byte_buffer_reader_destroy(&r);
    return false;
  }
  size_t at = 0;
  grpc_slice s;
  while (grpc_byte_buffer_reader_next(&r, &s)) {
    size_t n = GRPC_SLICE_LENGTH(s);
    memcpy(data + at, GRPC_SLICE_START_PTR(s), n);
    at += n;
    grpc_slice_unref(s);
  }
  grpc_byte_buffer_reader_destroy(&r);
  out->data = data;
  out->len = at;
  return true;
}

/* The message a RECV_MESSAGE batch left in *slot (which it empties), as one
 * buffer; false if the batch failed or the other side sent no message. */
static bool take_received(grpc_byte_buffer **slot, bool ok, mt_tp_buf *out) {
  grpc_byte_buffer *bb = *slot;
  *slot = NULL;
  bool got = ok && bb && read_buffer(bb, out);
  if (bb) {
    grpc_byte_buffer_destroy(bb);
  }
  return got;
}

/* A message of b's bytes, taken over (freed by gRPC when sent), then, if
 * ref->done is set, the borrowed bytes of ref (done runs when gRPC drops
 * them; at once if there are none). */
static grpc_byte_buffer *take_buffer(mt_tp_buf *b, tp_ref *ref) {
  grpc_slice parts[2];
  size_t n = 1;
  parts[0] =
      b->len ? grpc_slice_new(b->data, b->len, free) : grpc_empty_slice();
  if (!b->len) {
    free(b->data);
  }
  b->data = NULL;
  b->len = 0;
  if (ref->done && ref->len) {
    parts[n++] = grpc_slice_new_with_user_data((void *)ref->data, ref->len,
                                               ref->done, ref->arg);
  } else if (ref->done) {
    ref->done(ref->arg);
  }
  memset(ref, 0, sizeof *ref);
  grpc_byte_buffer *bb = grpc_raw_byte_buffer_create(parts, n);
  for (size_t i = 0; i < n; i++) {
    grpc_slice_unref(parts[i]);
  }
  return bb;
}

static grpc_byte_buffer *copy_buffer(const uint8_t *data, size_t len) {
  grpc_slice s = grpc_slice_from_copied_buffer((const char *)data, len);
  grpc_byte_buffer *bb = grpc_raw_byte_buffer_create(&s, 1);
  grpc_slice_unref(s);
  return bb;
}

static char *slice_string(grpc_slice s) {
  size_t n = GRPC_SLICE_LENGTH(s);
  char *c = malloc(n + 1);
  if (c) {
    memcpy(c, GRPC_SLICE_START_PTR(s), n);
    c[n] = '\0';
  }
  return c;
}

static bool slice_is(grpc_slice s, const char *text) {
  size_t n = strlen(text);
  return GRPC_SLICE_LENGTH(s) == n &&
         memcmp(GRPC_SLICE_START_PTR(s), text, n) == 0;
}

/* Constant-time, so a wrong token's timing tells nothing. */
static bool token_matches(grpc_slice got, const char *want) {
  return mt_token_equal(GRPC_SLICE_START_PTR(got), GRPC_SLICE_LENGTH(got),
                        want);
}

/* Metadata every outgoing call carries: protocol and, if set, token. */
static size_t outgoing_metadata(grpc_metadata md[2], const char *token) {
  memset(md, 0, 2 * sizeof md[0]);
  md[0].key = grpc_slice_from_static_string("x-manta-protocol");
  md[0].value = grpc_slice_from_static_string(MT_TP_PROTOCOL);
  if (token && *token) {
    md[1].key = grpc_slice_from_static_string("x-manta-token");
    md[1].value = grpc_slice_from_static_string(token);
    return 2;
  }
  return 1;
}

static grpc_channel_args *message_size_args(void) {
  static grpc_arg args[4];
  static grpc_channel_args ca;
  args[0].type = GRPC_ARG_INTEGER;
  args[0].key = GRPC_ARG_MAX_RECEIVE_MESSAGE_LENGTH;
  args[0].value.integer = MT_TP_MAX_MESSAGE;
  args[1].type = GRPC_ARG_INTEGER;
  args[1].key = GRPC_ARG_MAX_SEND_MESSAGE_LENGTH;
  args[1].value.integer = MT_TP_MAX_MESSAGE;
  /* Reconnect fast: a restarted peer should be reachable again in well
   * under a second, not after gRPC's default back-off of up to minutes. */
  args[2].type = GRPC_ARG_INTEGER;
  args[2].key = GRPC_ARG_MAX_RECONNECT_BACKOFF_MS;
  args[2].value.integer = 1000;
  /* A port has one server: with SO_REUSEPORT (gRPC's default) a second
   * head started on a taken port would share it silently. */
  args[3].type = GRPC_ARG_INTEGER;
  args[3].key = GRPC_ARG_ALLOW_REUSEPORT;
  args[3].value.integer = 0;
  ca.num_args = 4;
  ca.args = args;
  return &ca;
}

/* ---- call bookkeeping shared by servers and channels ------------------- */

/* Who waits for calls to end: a server or a channel. */
typedef struct tp_owner {
  pthread_mutex_t mu;
  pthread_cond_t cv;
  int live; /* calls not yet unreferenced */
  bool closing;
  struct tp_call *calls; /* live calls, for cancelling at close */
} tp_owner;

/* What every call object starts with. */
typedef struct tp_call {
  struct tp_call *next, *prev;
  tp_owner *owner;
  grpc_call *call;
} tp_call;

static void owner_init(tp_owner *o) {
  pthread_mutex_init(&o->mu, NULL);
  pthread_cond_init(&o->cv, NULL);
  o->live = 0;
  o->closing = false;
  o->calls = NULL;
}

static void owner_add(tp_owner *o, tp_call *c) {
  c->owner = o;
  pthread_mutex_lock(&o->mu);
  o->live++;
  c->prev = NULL;
  c->next = o->calls;
  if (o->calls) {
    o->calls->prev = c;
  }
  o->calls = c;
  pthread_mutex_unlock(&o->mu);
}

/* The call's last batch completed: unref it and tell the owner. */
static void owner_remove(tp_call *c) {
  tp_owner *o = c->owner;
  /* Off the list first: owner_close cancels what is on it. */
  pthread_mutex_lock(&o->mu);
  if (c->prev) {
    c->prev->next = c->next;
  } else {
    o->calls = c->next;
  }
  if (c->next) {
    c->next->prev = c->prev;
  }
  pthread_mutex_unlock(&o->mu);
  grpc_call_unref(c->call);
  pthread_mutex_lock(&o->mu);
  if (--o->live == 0) {
    pthread_cond_broadcast(&o->cv);
  }
  pthread_mutex_unlock(&o->mu);
}

/* Cancels every live call and waits until each has ended. */
static void owner_close(tp_owner *o) {
  pthread_mutex_lock(&o->mu);
  o->closing = true;
  for (tp_call *c = o->calls; c; c = c->next) {
    grpc_call_cancel(c->call, NULL);
  }
  while (o->live > 0) {
    pthread_cond_wait(&o->cv, &o->mu);
  }
  pthread_mutex_unlock(&o->mu);
}

static void owner_destroy(tp_owner *o) {
  pthread_mutex_destroy(&o->mu);
  pthread_cond_destroy(&o->cv);
}

/* ---- streams --------------------------------------------------------------
 */

struct mt_tp_stream {
  tp_call base;
  pthread_mutex_t mu;
  int refs; /* holders + batches in flight */
  bool is_server;
  const mt_tp_stream_handlers *h;
  void *arg;
  tp_op start_op, recv_op, send_op, end_op, finish_op;
  grpc_byte_buffer *recv_buf;
  bool sending;    /* a SEND_MESSAGE (or fill) is under way */
  bool kick_again; /* a kick came while sending */
  bool recv_ended; /* no more messages will arrive */
  bool delivering; /* a thread hands received messages to the handler */
  bool queued_set; /* a receive completed while delivering: */
  grpc_byte_buffer *queued; /* its message, or NULL for the end */
  bool end_seen;            /* status (client) or close (server) arrived */
  bool closed;              /* on_closed reported, or about to be */
  bool finishing;           /* server: status sent or to be sent */
  bool finish_wanted;       /* server: send status once the send completes */
  bool in_fill;             /* fill is running: on_closed waits for it */
  pthread_cond_t fill_cv;
  int finish_status;
  char *finish_detail;
  grpc_metadata md_out[2];
  grpc_metadata_array md_in, trailing;
  grpc_status_code status;
  grpc_slice status_details;
  int cancelled;
  tp_ref fill_ref; /* set by fill (mt_tp_stream_fill_ref), taken by the pump */
  char peer[96];
};

struct mt_tp_msg {
  grpc_byte_buffer_reader r;
  grpc_slice *piece; /* the piece being read (gRPC's, not counted), or NULL */
  size_t at;         /* bytes of it read */
  size_t len;
};

size_t mt_tp_msg_length(const mt_tp_msg *m) {
  return m->len;
}

size_t mt_tp_msg_piece(mt_tp_msg *m, const uint8_t **p, size_t max) {
  while (!m->piece || m->at == GRPC_SLICE_LENGTH(*m->piece)) {
    if (!grpc_byte_buffer_reader_peek(&m->r, &m->piece)) {
      m->piece = NULL;
      return 0;
    }
    m->at = 0;
  }
  size_t k = GRPC_SLICE_LENGTH(*m->piece) - m->at;
  k = k < max ? k : max;
  *p = GRPC_SLICE_START_PTR(*m->piece) + m->at;
  m->at += k;
  return k;
}

size_t mt_tp_msg_read(mt_tp_msg *m, void *dst, size_t n) {
  uint8_t *d = dst;
  size_t done = 0;
  const uint8_t *p;
  size_t k;
  while (done < n && (k = mt_tp_msg_piece(m, &p, n - done)) > 0) {
    memcpy(d + done, p, k);
    done += k;
  }
  return done;
}

static void stream_unref(mt_tp_stream *s) {
  pthread_mutex_lock(&s->mu);
  int left = --s->refs;
  pthread_mutex_unlock(&s->mu);
  if (left > 0) {
    return;
  }
  grpc_metadata_array_destroy(&s->md_in);
  grpc_metadata_array_destroy(&s->trailing);
  grpc_slice_unref(s->status_details);
  free(s->finish_detail);
  pthread_mutex_destroy(&s->mu);
  pthread_cond_destroy(&s->fill_cv);
  owner_remove(&s->base);
  free(s);
}

/* Reports on_closed once both directions are over. */
static void stream_maybe_closed(mt_tp_stream *s) {
  pthread_mutex_lock(&s->mu);
  bool report = s->recv_ended && s->end_seen && !s->closed && !s->delivering;
  if (report) {
    s->closed = true;
    /* on_closed may free what fill uses: let a running fill finish. */
    while (s->in_fill) {
      pthread_cond_wait(&s->fill_cv, &s->mu);
    }
  }
  pthread_mutex_unlock(&s->mu);
  if (!report) {
    return;
  }
  int status = MT_TP_OK;
  char detail[256] = "";
  if (s->is_server) {
    if (s->cancelled) {
      status = MT_TP_CANCELLED;
      snprintf(detail, sizeof detail, "the client went away");
    }
  } else {
    status = (int)s->status;
    size_t n = GRPC_SLICE_LENGTH(s->status_details);
    if (n >= sizeof detail) {
      n = sizeof detail - 1;
    }
    memcpy(detail, GRPC_SLICE_START_PTR(s->status_details), n);
    detail[n] = '\0';
  }
  s->h->on_closed(s->arg, s, status, detail);
  if (s->is_server) {
    stream_unref(s); /* the server's own reference */
  }
}

static bool start_locked(mt_tp_stream *s, const grpc_op *ops, size_t n,
                         tp_op *tag) {
  s->refs++;
  grpc_call_error e = tp_batch(s->base.call, ops, n, tag);
  if (e != GRPC_CALL_OK) {
    s->refs--;
    mt_log(MT_LOG_ERROR, "transport: start_batch failed (%d)", (int)e);
    return false;
  }
  return true;
}

static void post_recv_locked(mt_tp_stream *s) {
  grpc_op op;
  memset(&op, 0, sizeof op);
  op.op = GRPC_OP_RECV_MESSAGE;
  op.data.recv_message.recv_message = &s->recv_buf;
  if (!start_locked(s, &op, 1, &s->recv_op)) {
    s->recv_ended = true;
  }
}

static void send_finish_locked(mt_tp_stream *s) {
  grpc_op op;
  memset(&op, 0, sizeof op);
  op.op = GRPC_OP_SEND_STATUS_FROM_SERVER;
  op.data.send_status_from_server.status = (grpc_status_code)s->finish_status;
  grpc_slice detail =
      grpc_slice_from_copied_string(s->finish_detail ? s->finish_detail : "");
  op.data.send_status_from_server.status_details = &detail;
  start_locked(s, &op, 1, &s->finish_op);
  grpc_slice_unref(detail);
}

/* Hands a received message to the stream's handler, in pieces or as one
 * buffer; false if it could not be read. */
static bool deliver(mt_tp_stream *s, grpc_byte_buffer *bb) {
  if (s->h->on_pieces) {
    mt_tp_msg m = {.len = grpc_byte_buffer_length(bb)};
    if (!grpc_byte_buffer_reader_init(&m.r, bb)) {
      return false;
    }
    s->h->on_pieces(s->arg, s, &m);
    grpc_byte_buffer_reader_destroy(&m.r);
    return true;
  }
  mt_tp_buf body;
  if (!read_buffer(bb, &body)) {
    return false;
  }
  s->h->on_message(s->arg, s, body.data, body.len);
  free(body.data);
  return true;
}

/* No more messages will arrive: a server whose client half-closed (or
 * vanished) ends the call, unless its handler ends it itself. */
static void recv_end_locked(mt_tp_stream *s) {
  s->recv_ended = true;
  if (s->is_server && !s->finishing && !s->h->outlive_half_close) {
    s->finishing = true;
    s->finish_status = MT_TP_OK;
    if (s->sending) {
      s->finish_wanted = true;
    } else {
      send_finish_locked(s);
    }
  }
}

/*
 * A receive completed: bb is the next message, or NULL at the end. The next
 * receive is posted before the handler runs, so gRPC reads the following
 * message (and opens the flow-control window for it) while the handler
 * works; a message that completes meanwhile waits in `queued` for the
 * thread delivering, which keeps the handler's calls in order and one at a
 * time. So a stream holds at most three messages at once: one with the
 * handler, one queued, one being received.
 */
static void on_recv(tp_op *op, bool ok) {
  mt_tp_stream *s = OWNER_OF(op, mt_tp_stream, recv_op);
  grpc_byte_buffer *bb = s->recv_buf;
  s->recv_buf = NULL;
  if (!ok && bb) {
    grpc_byte_buffer_destroy(bb);
    bb = NULL;
  }
  pthread_mutex_lock(&s->mu);
  if (s->delivering) {
    s->queued = bb;
    s->queued_set = true;
    pthread_mutex_unlock(&s->mu);
    stream_unref(s);
    return;
  }
  s->delivering = true;
  bool delivered = false, input_ended = false;
  for (;;) {
    if (!bb) {
      recv_end_locked(s);
      input_ended = true;
      break;
    }
    if (!s->closed) {
      post_recv_locked(s);
    } else {
      s->recv_ended = true;
    }
    pthread_mutex_unlock(&s->mu);
    bool got = deliver(s, bb);
    grpc_byte_buffer_destroy(bb);
    delivered = true;
    if (!got) {
      mt_log(MT_LOG_ERROR, "transport: out of memory reading a message");
      grpc_call_cancel_with_status(s->base.call, GRPC_STATUS_RESOURCE_EXHAUSTED,
                                   "out of memory reading a message", NULL);
    }
    pthread_mutex_lock(&s->mu);
    if (!s->queued_set) {
      break;
    }
    bb = s->queued;
    s->queued = NULL;
    s->queued_set = false;
  }
  s->delivering = false;
  pthread_mutex_unlock(&s->mu);
  /* Delivering is over: the next message may arrive on another thread
   * while after_message works. */
  if (delivered && s->h->after_message) {
    s->h->after_message();
  }
  if (input_ended && s->is_server && s->h->on_half_close) {
    s->h->on_half_close(s->arg, s);
  }
  stream_maybe_closed(s);
  stream_unref(s);
}

/* Sends what fill gives, until it gives nothing; one send at a time. */
static void stream_pump(mt_tp_stream *s) {
  for (;;) {
    mt_tp_buf out = {0};
    pthread_mutex_lock(&s->mu);
    bool open = !s->closed && !s->finishing;
    s->in_fill = open;
    pthread_mutex_unlock(&s->mu);
    bool have = open && s->h->fill(s->arg, s, &out);
    /* Built before the lock: a borrowed part fill gave and nothing sends
     * is let go of by destroying the buffer, which runs its done. */
    tp_ref ref = s->fill_ref;
    memset(&s->fill_ref, 0, sizeof s->fill_ref);
    grpc_byte_buffer *msg = NULL;
    if (have) {
      msg = take_buffer(&out, &ref);
    } else if (ref.done) {
      ref.done(ref.arg);
    }
    pthread_mutex_lock(&s->mu);
    if (open) {
      s->in_fill = false;
      pthread_cond_broadcast(&s->fill_cv);
    }
    if (!have || s->closed || s->finishing) {
      bool again = s->kick_again && !s->closed && !s->finishing;
      s->kick_again = false;
      if (!again) {
        s->sending = false;
        if (s->finish_wanted) {
          s->finish_wanted = false;
          send_finish_locked(s);
        }
      }
      pthread_mutex_unlock(&s->mu);
      free(out.data);
      if (msg) {
        grpc_byte_buffer_destroy(msg);
      }
      if (again) {
        continue;
      }
      return;
    }
    grpc_op op;
    memset(&op, 0, sizeof op);
    op.op = GRPC_OP_SEND_MESSAGE;
    op.data.send_message.send_message = msg;
    bool started = start_locked(s, &op, 1, &s->send_op);
    if (!started) {
      s->sending = false;
    }
    pthread_mutex_unlock(&s->mu);
    grpc_byte_buffer_destroy(msg); /* the batch holds its own reference */
    return;
  }
}

static void on_send(tp_op *op, bool ok) {
  mt_tp_stream *s = OWNER_OF(op, mt_tp_stream, send_op);
  if (ok) {
    stream_pump(s);
  } else {
    pthread_mutex_lock(&s->mu);
    s->sending = false;
    if (s->finish_wanted) {
      s->finish_wanted = false;
      send_finish_locked(s);
    }
    pthread_mutex_unlock(&s->mu);
  }
  stream_unref(s);
}

void mt_tp_stream_kick(mt_tp_stream *s) {
  pthread_mutex_lock(&s->mu);
  if (s->closed || s->finishing) {
    pthread_mutex_unlock(&s->mu);
    return;
  }
  if (s->sending) {
    s->kick_again = true;
    pthread_mutex_unlock(&s->mu);
    return;
  }
  s->sending = true;
  s->refs++; /* held while pumping */
  pthread_mutex_unlock(&s->mu);
  stream_pump(s);
  stream_unref(s);
}

static void on_end(tp_op *op, bool ok) {
  (void)ok;
  mt_tp_stream *s = OWNER_OF(op, mt_tp_stream, end_op);
  pthread_mutex_lock(&s->mu);
  s->end_seen = true;
  pthread_mutex_unlock(&s->mu);
  stream_maybe_closed(s);
  stream_unref(s);
}

static void on_batch_done(tp_op *op, bool ok) {
  (void)ok;
  mt_tp_stream *s = OWNER_OF(op, mt_tp_stream, start_op);
  stream_unref(s);
}

static void on_finish_done(tp_op *op, bool ok) {
  (void)ok;
  mt_tp_stream *s = OWNER_OF(op, mt_tp_stream, finish_op);
  stream_unref(s);
}

void mt_tp_stream_close(mt_tp_stream *s, int status, const char *detail) {
  pthread_mutex_lock(&s->mu);
  if (s->is_server) {
    if (!s->finishing) {
      s->finishing = true;
      s->finish_status = status;
      s->finish_detail = detail ? strdup(detail) : NULL;
      if (s->sending) {
        s->finish_wanted = true;
      } else {
        send_finish_locked(s);
      }
    }
  } else if (!s->end_seen) {
    grpc_call_cancel_with_status(s->base.call, (grpc_status_code)status,
                                 detail ? detail : "closed", NULL);
  }
  pthread_mutex_unlock(&s->mu);
}

void mt_tp_stream_fill_ref(mt_tp_stream *s, const void *data, size_t len,
                           void (*done)(void *arg), void *arg) {
  s->fill_ref = (tp_ref){data, len, done, arg};
}

void mt_tp_stream_retain(mt_tp_stream *s) {
  pthread_mutex_lock(&s->mu);
  s->refs++;
  pthread_mutex_unlock(&s->mu);
}

void mt_tp_stream_release(mt_tp_stream *s) {
  stream_unref(s);
}

const char *mt_tp_stream_peer(const mt_tp_stream *s) {
  return s->peer;
}

static mt_tp_stream *stream_new(grpc_call *call, bool is_server) {
  mt_tp_stream *s = calloc(1, sizeof *s);
  if (!s) {
    return NULL;
  }
  pthread_mutex_init(&s->mu, NULL);
  pthread_cond_init(&s->fill_cv, NULL);
  s->base.call = call;
  s->is_server = is_server;
  s->start_op.done = on_batch_done;
  s->recv_op.done = on_recv;
  s->send_op.done = on_send;
  s->end_op.done = on_end;
  s->finish_op.done = on_finish_done;
  grpc_metadata_array_init(&s->md_in);
  grpc_metadata_array_init(&s->trailing);
  s->status_details = grpc_empty_slice();
  char *peer = grpc_call_get_peer(call);
  if (peer) {
    snprintf(s->peer, sizeof s->peer, "%s", peer);
    gpr_free(peer);
  }
  return s;
}

/* ---- server ----------------------------------------------------------------
 */

struct mt_tp_server {
  tp_owner owner;
  grpc_server *server;
  const mt_tp_service *svc;
  char *token;
  mt_refusals *refusals; /* lines for refused calls, rate-limited */
  tp_op shutdown_op;
  bool shutdown_done;
  int requests; /* request_call tags outstanding */
};

typedef struct tp_request {
  tp_op op;
  mt_tp_server *srv;
  grpc_call *call;
  grpc_call_details details;
  grpc_metadata_array md;
} tp_request;

struct mt_tp_incoming {
  tp_call base;
  pthread_mutex_t mu;
  int refs;
  tp_op recv_op, close_op, reply_op;
  grpc_byte_buffer *recv_buf;
  int cancelled;
  mt_tp_server *srv;
  char *method;
};

/* A call refused before any handler saw it. */
typedef struct tp_reject {
  tp_call base;
  tp_op op;
  int cancelled;
} tp_reject;

static void post_request(mt_tp_server *srv);

static void incoming_unref(mt_tp_incoming *in) {
  pthread_mutex_lock(&in->mu);
  int left = --in->refs;
  pthread_mutex_unlock(&in->mu);
  if (left > 0) {
    return;
  }
  pthread_mutex_destroy(&in->mu);
  free(in->method);
  owner_remove(&in->base);
  free(in);
}

static void on_incoming_recv(tp_op *op, bool ok) {
  mt_tp_incoming *in = OWNER_OF(op, mt_tp_incoming, recv_op);
  mt_tp_buf body = {0};
  bool got = take_received(&in->recv_buf, ok, &body);
  if (got) {
    in->srv->svc->unary(in->srv->svc->ctx, in, in->method, body.data, body.len);
    free(body.data);
  } else {
    mt_tp_reply(in, MT_TP_INVALID_ARGUMENT, "no request message", NULL, 0);
  }
  incoming_unref(in);
}

static void on_incoming_close(tp_op *op, bool ok) {
  (void)ok;
  mt_tp_incoming *in = OWNER_OF(op, mt_tp_incoming, close_op);
  incoming_unref(in);
}

static void on_incoming_reply(tp_op *op, bool ok) {
  (void)ok;
  mt_tp_incoming *in = OWNER_OF(op, mt_tp_incoming, reply_op);
  incoming_unref(in);
}

void mt_tp_reply(mt_tp_incoming *in, int status, const char *detail,
                 const uint8_t *body, size_t len) {
  grpc_op ops[3];
  memset(ops, 0, sizeof ops);
  size_t n = 0;
  ops[n++].op = GRPC_OP_SEND_INITIAL_METADATA;
  grpc_byte_buffer *bb = NULL;
  if (status == MT_TP_OK) {
    bb = copy_buffer(body, len);
    ops[n].op = GRPC_OP_SEND_MESSAGE;
    ops[n++].data.send_message.send_message = bb;
  }
  grpc_slice d = grpc_slice_from_copied_string(detail ? detail : "");
  ops[n].op = GRPC_OP_SEND_STATUS_FROM_SERVER;
  ops[n].data.send_status_from_server.status = (grpc_status_code)status;
  ops[n++].data.send_status_from_server.status_details = &d;
  pthread_mutex_lock(&in->mu);
  in->refs++;
  grpc_call_error e = tp_batch(in->base.call, ops, n, &in->reply_op);
  if (e != GRPC_CALL_OK) {
    in->refs--;
  }
  pthread_mutex_unlock(&in->mu);
  grpc_slice_unref(d);
  if (bb) {
    grpc_byte_buffer_destroy(bb);
  }
}

static void on_reject_done(tp_op *op, bool ok) {
  (void)ok;
  tp_reject *r = OWNER_OF(op, tp_reject, op);
  owner_remove(&r->base);
  free(r);
}

static void reject_call(mt_tp_server *srv, grpc_call *call, int status,
                        const char *detail) {
  tp_reject *r = calloc(1, sizeof *r);
  if (!r) {
    grpc_call_cancel(call, NULL);
    grpc_call_unref(call);
    return;
  }
  r->base.call = call;
  r->op.done = on_reject_done;
  owner_add(&srv->owner, &r->base);
  grpc_op ops[3];
  memset(ops, 0, sizeof ops);
  ops[0].op = GRPC_OP_SEND_INITIAL_METADATA;
  grpc_slice d = grpc_slice_from_copied_string(detail);
  ops[1].op = GRPC_OP_SEND_STATUS_FROM_SERVER;
  ops[1].data.send_status_from_server.status = (grpc_status_code)status;
  ops[1].data.send_status_from_server.status_details = &d;
  ops[2].op = GRPC_OP_RECV_CLOSE_ON_SERVER;
  ops[2].data.recv_close_on_server.cancelled = &r->cancelled;
  if (tp_batch(call, ops, 3, &r->op) != GRPC_CALL_OK) {
    owner_remove(&r->base);
    free(r);
  }
  grpc_slice_unref(d);
}

/* Checks protocol and token metadata; a status other than OK refuses. */
static int check_metadata(const mt_tp_server *srv,
                          const grpc_metadata_array *md, char *why,
                          size_t size) {
  bool token_ok = !srv->token;
  for (size_t i = 0; i < md->count; i++) {
    const grpc_metadata *m = &md->metadata[i];
    if (slice_is(m->key, "x-manta-protocol") &&
        !slice_is(m->value, MT_TP_PROTOCOL)) {
      snprintf(why, size,
               "protocol version %.*s is not served here (this node speaks "
               "%s)",
               (int)GRPC_SLICE_LENGTH(m->value) > 16
                   ? 16
                   : (int)GRPC_SLICE_LENGTH(m->value),
               (const char *)GRPC_SLICE_START_PTR(m->value), MT_TP_PROTOCOL);
      return MT_TP_FAILED_PRECONDITION;
    }
    if (srv->token && slice_is(m->key, "x-manta-token") &&
        token_matches(m->value, srv->token)) {
      token_ok = true;
    }
  }
  if (!token_ok) {
    snprintf(why, size, "missing or wrong cluster token (x-manta-token)");
    return MT_TP_UNAUTHENTICATED;
  }
  return MT_TP_OK;
}

static void start_unary(mt_tp_server *srv, grpc_call *call, char *method) {
  mt_tp_incoming *in = calloc(1, sizeof *in);
  if (!in) {
    free(method);
    reject_call(srv, call, MT_TP_RESOURCE_EXHAUSTED, "out of memory");
    return;
  }
  pthread_mutex_init(&in->mu, NULL);
  in->base.call = call;
  in->srv = srv;
  in->method = method;
  in->recv_op.done = on_incoming_recv;
  in->close_op.done = on_incoming_close;
  in->reply_op.done = on_incoming_reply;
  in->refs = 1; /* released once both batches below are posted */
  owner_add(&srv->owner, &in->base);
  grpc_op op;
  pthread_mutex_lock(&in->mu);
  memset(&op, 0, sizeof op);
  op.op = GRPC_OP_RECV_CLOSE_ON_SERVER;
  op.data.recv_close_on_server.cancelled = &in->cancelled;
  in->refs++;
  if (tp_batch(call, &op, 1, &in->close_op) != GRPC_CALL_OK) {
    in->refs--;
  }
  memset(&op, 0, sizeof op);
  op.op = GRPC_OP_RECV_MESSAGE;
  op.data.recv_message.recv_message = &in->recv_buf;
  in->refs++;
  if (tp_batch(call, &op, 1, &in->recv_op) != GRPC_CALL_OK) {
    in->refs--;
  }
  pthread_mutex_unlock(&in->mu);
  incoming_unref(in);
}

/* For a stream its service refused: ignore what comes, send nothing. */
static void declined_message(void *arg, mt_tp_stream *s, const uint8_t *body,
                             size_t len) {
  (void)arg, (void)s, (void)body, (void)len;
}
static bool declined_fill(void *arg, mt_tp_stream *s, mt_tp_buf *out) {
  (void)arg, (void)s, (void)out;
  return false;
}
static void declined_closed(void *arg, mt_tp_stream *s, int status,
                            const char *detail) {
  (void)arg, (void)s, (void)status, (void)detail;
}
static const mt_tp_stream_handlers declined_handlers = {
    .on_message = declined_message,
    .fill = declined_fill,
    .on_closed = declined_closed};

static void start_server_stream(mt_tp_server *srv, grpc_call *call,
                                const char *method) {
  mt_tp_stream *s = stream_new(call, true);
  if (!s) {
    reject_call(srv, call, MT_TP_RESOURCE_EXHAUSTED, "out of memory");
    return;
  }
  owner_add(&srv->owner, &s->base);
  s->refs = 1; /* the server's reference, dropped after on_closed */
  s->arg = srv->svc->stream_open(srv->svc->ctx, s, method, &s->h);
  bool declined = !s->h;
  if (declined) {
    s->h = &declined_handlers;
  }
  grpc_op ops[1];
  pthread_mutex_lock(&s->mu);
  memset(ops, 0, sizeof ops);
  ops[0].op = GRPC_OP_SEND_INITIAL_METADATA;
  start_locked(s, ops, 1, &s->start_op);
  memset(ops, 0, sizeof ops);
  ops[0].op = GRPC_OP_RECV_CLOSE_ON_SERVER;
  ops[0].data.recv_close_on_server.cancelled = &s->cancelled;
  if (!start_locked(s, ops, 1, &s->end_op)) {
    s->end_seen = true;
  }
  post_recv_locked(s);
  pthread_mutex_unlock(&s->mu);
  if (declined) {
    mt_log(MT_LOG_WARN, "transport: stream %s refused by its service", method);
    mt_tp_stream_close(s, MT_TP_UNAVAILABLE, "the service refused the stream");
  }
}

static void on_request(tp_op *op, bool ok) {
  tp_request *r = (tp_request *)op;
  mt_tp_server *srv = r->srv;
  if (!ok) {
    /* The server is shutting down: this request slot is done. */
    grpc_call_details_destroy(&r->details);
    grpc_metadata_array_destroy(&r->md);
    free(r);
    pthread_mutex_lock(&srv->owner.mu);
    srv->requests--;
    pthread_cond_broadcast(&srv->owner.cv);
    pthread_mutex_unlock(&srv->owner.mu);
    return;
  }
  grpc_call *call = r->call;
  char *method = slice_string(r->details.method);
  char why[200];
  int status = check_metadata(srv, &r->md, why, sizeof why);
  grpc_call_details_destroy(&r->details);
  grpc_metadata_array_destroy(&r->md);
  free(r);
  pthread_mutex_lock(&srv->owner.mu);
  srv->requests--;
  pthread_mutex_unlock(&srv->owner.mu);
  post_request(srv); /* keep accepting while this call is handled */

  const mt_tp_service *svc = srv->svc;
  if (!method) {
    reject_call(srv, call, MT_TP_RESOURCE_EXHAUSTED, "out of memory");
  } else if (status != MT_TP_OK) {
    /* Anyone who can connect gets here: counted, not a line each. */
    char *peer = grpc_call_get_peer(call);
    mt_refusals_note(srv->refusals, peer ? peer : "unknown peer", method, why,
                     now_ns() / 1000000);
    gpr_free(peer);
    reject_call(srv, call, status, why);
    free(method);
  } else if (svc->is_stream && svc->is_stream(svc->ctx, method)) {
    start_server_stream(srv, call, method);
    free(method);
  } else if (svc->is_unary(svc->ctx, method)) {
    start_unary(srv, call, method);
  } else {
    mt_log(MT_LOG_WARN, "transport: unknown method %s", method);
    char detail[300];
    snprintf(detail, sizeof detail, "unknown method %s", method);
    reject_call(srv, call, MT_TP_UNIMPLEMENTED, detail);
    free(method);
  }
}

static void post_request(mt_tp_server *srv) {
  pthread_mutex_lock(&srv->owner.mu);
  bool closing = srv->owner.closing;
  if (!closing) {
    srv->requests++;
  }
  pthread_mutex_unlock(&srv->owner.mu);
  if (closing) {
    return;
  }
  tp_request *r = calloc(1, sizeof *r);
  if (r) {
    r->op.done = on_request;
    r->srv = srv;
    grpc_call_details_init(&r->details);
    grpc_metadata_array_init(&r->md);
    if (grpc_server_request_call(srv->server, &r->call, &r->details, &r->md,
                                 tp.cq, tp.cq, arm(&r->op)) == GRPC_CALL_OK) {
      return;
    }
    grpc_call_details_destroy(&r->details);
    grpc_metadata_array_destroy(&r->md);
    free(r);
  }
  pthread_mutex_lock(&srv->owner.mu);
  srv->requests--;
  pthread_cond_broadcast(&srv->owner.cv);
  pthread_mutex_unlock(&srv->owner.mu);
}

static void on_server_shutdown(tp_op *op, bool ok) {
  (void)ok;
  mt_tp_server *srv = OWNER_OF(op, mt_tp_server, shutdown_op);
  pthread_mutex_lock(&srv->owner.mu);
  srv->shutdown_done = true;
  pthread_cond_broadcast(&srv->owner.cv);
  pthread_mutex_unlock(&srv->owner.mu);
}

mt_tp_server *mt_tp_server_start(const char *bind, const mt_tp_service *svc,
                                 const char *token, const mt_tp_tls *tls,
                                 int *port_out) {
  mt_tp_server *srv = calloc(1, sizeof *srv);
  if (!srv) {
    return NULL;
  }
  owner_init(&srv->owner);
  srv->svc = svc;
  srv->token = token && *token ? strdup(token) : NULL;
  srv->refusals = mt_refusals_new(MT_REFUSALS_INTERVAL_MS, NULL, NULL);
  srv->shutdown_op.done = on_server_shutdown;
  srv->server = grpc_server_create(message_size_args(), NULL);
  grpc_server_register_completion_queue(srv->server, tp.cq, NULL);
  grpc_server_credentials *creds = mt_tp_server_credentials(tls);
  int port = creds ? grpc_server_add_http2_port(srv->server, bind, creds) : 0;
  if (creds) {
    grpc_server_credentials_release(creds);
  }
  if (port == 0) {
    mt_log(MT_LOG_ERROR, "transport: cannot listen on %s%s", bind,
           mt_tp_tls_server_on(tls)
               ? " with TLS (or the certificate and key do not match)"
               : "");
    grpc_server_destroy(srv->server);
    free(srv->token);
    mt_refusals_free(srv->refusals);
    owner_destroy(&srv->owner);
    free(srv);
    return NULL;
  }
  grpc_server_start(srv->server);
  for (int i = 0; i < PENDING_REQUESTS; i++) {
    post_request(srv);
  }
  if (port_out) {
    *port_out = port;
  }
  return srv;
}

void mt_tp_server_stop(mt_tp_server *srv) {
  if (!srv) {
    return;
  }
  grpc_server_shutdown_and_notify(srv->server, tp.cq, arm(&srv->shutdown_op));
  /* Clients hear why, not gRPC's "Cancelling all calls" (as a rule: the
   * status may still lose the race with the connection's closing). */
  pthread_mutex_lock(&srv->owner.mu);
  for (tp_call *c = srv->owner.calls; c; c = c->next) {
    grpc_call_cancel_with_status(c->call, GRPC_STATUS_UNAVAILABLE,
                                 MT_TP_STOPPING, NULL);
  }
  pthread_mutex_unlock(&srv->owner.mu);
  grpc_server_cancel_all_calls(srv->server);
  owner_close(&srv->owner);
  pthread_mutex_lock(&srv->owner.mu);
  while (!srv->shutdown_done || srv->requests > 0 || srv->owner.live > 0) {
    pthread_cond_wait(&srv->owner.cv, &srv->owner.mu);
  }
  pthread_mutex_unlock(&srv->owner.mu);
  grpc_server_destroy(srv->server);
  free(srv->token);
  mt_refusals_free(srv->refusals); /* says what it counted but did not say */
  owner_destroy(&srv->owner);
  free(srv);
}

/* ---- client ----------------------------------------------------------------
 */

struct mt_tp_channel {
  tp_owner owner;
  grpc_channel *channel;
  char *address;
  char *token;
};

mt_tp_channel *mt_tp_channel_open(const char *address, const char *token,
                                  const mt_tp_tls *tls) {
  mt_tp_channel *ch = calloc(1, sizeof *ch);
  char target[300];
  /* "ipv4:" skips the resolver for numeric IPv4 addresses. */
  bool numeric = address[0] >= '0' && address[0] <= '9';
  snprintf(target, sizeof target, "%s%s", numeric ? "ipv4:" : "", address);
  if (!ch || !(ch->address = strdup(address))) {
    free(ch);
    return NULL;
  }
  owner_init(&ch->owner);
  ch->token = token && *token ? strdup(token) : NULL;
  /* Over TLS the server's certificate is checked for the cluster's name,
   * not for the address dialled (MT_TP_TLS_NAME says why). grpc copies
   * the arguments. */
  const grpc_channel_args *base = message_size_args();
  grpc_arg args[8];
  memcpy(args, base->args, base->num_args * sizeof args[0]);
  grpc_channel_args ca = {base->num_args, args};
  if (mt_tp_tls_client_on(tls)) {
    args[ca.num_args].type = GRPC_ARG_STRING;
    args[ca.num_args].key = GRPC_SSL_TARGET_NAME_OVERRIDE_ARG;
    args[ca.num_args].value.string = MT_TP_TLS_NAME;
    ca.num_args++;
  }
  grpc_channel_credentials *creds = mt_tp_channel_credentials(tls);
  ch->channel = grpc_channel_create(target, creds, &ca);
  grpc_channel_credentials_release(creds);
  return ch;
}

void mt_tp_channel_close(mt_tp_channel *ch) {
  if (!ch) {
    return;
  }
  owner_close(&ch->owner);
  grpc_channel_destroy(ch->channel);
  owner_destroy(&ch->owner);
  free(ch->address);
  free(ch->token);
  free(ch);
}

static grpc_call *channel_call(mt_tp_channel *ch, const char *method,
                               int64_t timeout_ms) {
  grpc_slice m = grpc_slice_from_copied_string(method);
  grpc_call *call = grpc_channel_create_call(
      ch->channel, NULL, GRPC_PROPAGATE_DEFAULTS, tp.cq, m, NULL,
      deadline_after(timeout_ms), NULL);
  grpc_slice_unref(m);
  return call;
}

typedef struct tp_unary {
  tp_call base;
  tp_op op;
  mt_tp_unary_done done;
  void *arg;
  grpc_metadata md_out[2];
  grpc_metadata_array md_in, trailing;
  grpc_byte_buffer *recv_buf;
  grpc_status_code status;
  grpc_slice details;
} tp_unary;

static void on_unary_done(tp_op *op, bool ok) {
  tp_unary *u = OWNER_OF(op, tp_unary, op);
  int status = ok ? (int)u->status : MT_TP_UNAVAILABLE;
  char detail[300];
  size_t n = GRPC_SLICE_LENGTH(u->details);
  if (n >= sizeof detail) {
    n = sizeof detail - 1;
  }
  memcpy(detail, GRPC_SLICE_START_PTR(u->details), n);
  detail[n] = '\0';
  mt_tp_buf body = {0};
  if (status == MT_TP_OK && !(u->recv_buf && read_buffer(u->recv_buf, &body))) {
    status = MT_TP_INTERNAL;
    snprintf(detail, sizeof detail, "the reply carried no message");
  }
  u->done(u->arg, status, detail, body.data, body.len);
  free(body.data);
  if (u->recv_buf) {
    grpc_byte_buffer_destroy(u->recv_buf);
  }
  grpc_metadata_array_destroy(&u->md_in);
  grpc_metadata_array_destroy(&u->trailing);
  grpc_slice_unref(u->details);
  owner_remove(&u->base);
  free(u);
}

void mt_tp_unary(mt_tp_channel *ch, const char *method, const uint8_t *body,
                 size_t len, int64_t timeout_ms, mt_tp_unary_done done,
                 void *arg) {
  tp_unary *u = calloc(1, sizeof *u);
  if (!u) {
    done(arg, MT_TP_RESOURCE_EXHAUSTED, "out of memory", NULL, 0);
    return;
  }
  pthread_mutex_lock(&ch->owner.mu);
  bool closing = ch->owner.closing;
  pthread_mutex_unlock(&ch->owner.mu);
  if (closing) {
    free(u);
    done(arg, MT_TP_CANCELLED, "the channel is closing", NULL, 0);
    return;
  }
  u->base.call = channel_call(ch, method, timeout_ms);
  u->op.done = on_unary_done;
  u->done = done;
  u->arg = arg;
  grpc_metadata_array_init(&u->md_in);
  grpc_metadata_array_init(&u->trailing);
  u->details = grpc_empty_slice();
  owner_add(&ch->owner, &u->base);
  grpc_op ops[6];
  memset(ops, 0, sizeof ops);
  ops[0].op = GRPC_OP_SEND_INITIAL_METADATA;
  ops[0].data.send_initial_metadata.count =
      outgoing_metadata(u->md_out, ch->token);
  ops[0].data.send_initial_metadata.metadata = u->md_out;
  grpc_byte_buffer *bb = copy_buffer(body, len);
  ops[1].op = GRPC_OP_SEND_MESSAGE;
  ops[1].data.send_message.send_message = bb;
  ops[2].op = GRPC_OP_SEND_CLOSE_FROM_CLIENT;
  ops[3].op = GRPC_OP_RECV_INITIAL_METADATA;
  ops[3].data.recv_initial_metadata.recv_initial_metadata = &u->md_in;
  ops[4].op = GRPC_OP_RECV_MESSAGE;
  ops[4].data.recv_message.recv_message = &u->recv_buf;
  ops[5].op = GRPC_OP_RECV_STATUS_ON_CLIENT;
  ops[5].data.recv_status_on_client.trailing_metadata = &u->trailing;
  ops[5].data.recv_status_on_client.status = &u->status;
  ops[5].data.recv_status_on_client.status_details = &u->details;
  grpc_call_error e = tp_batch(u->base.call, ops, 6, &u->op);
  grpc_byte_buffer_destroy(bb);
  if (e != GRPC_CALL_OK) {
    mt_log(MT_LOG_ERROR, "transport: unary start_batch failed (%d)", (int)e);
    grpc_metadata_array_destroy(&u->md_in);
    grpc_metadata_array_destroy(&u->trailing);
    owner_remove(&u->base);
    free(u);
    done(arg, MT_TP_INTERNAL, "cannot start the call", NULL, 0);
  }
}

typedef struct tp_sync {
  pthread_mutex_t mu;
  pthread_cond_t cv;
  bool done;
  int status;
  mt_tp_buf *reply;
  char *detail;
  size_t size;
} tp_sync;

static void on_sync_done(void *arg, int status, const char *detail,
                         const uint8_t *body, size_t len) {
  tp_sync *w = arg;
  pthread_mutex_lock(&w->mu);
  w->status = status;
  if (w->detail && w->size) {
    snprintf(w->detail, w->size, "%s", detail ? detail : "");
  }
  if (status == MT_TP_OK && w->reply) {
    w->reply->data = malloc(len ? len : 1);
    if (w->reply->data) {
      memcpy(w->reply->data, body, len);
      w->reply->len = len;
    } else {
      w->status = MT_TP_RESOURCE_EXHAUSTED;
    }
  }
  w->done = true;
  pthread_cond_signal(&w->cv);
  pthread_mutex_unlock(&w->mu);
}

int mt_tp_unary_sync(mt_tp_channel *ch, const char *method, const uint8_t *body,
                     size_t len, int64_t timeout_ms, mt_tp_buf *reply,
                     char *detail, size_t size) {
  /* On a poller, the answer comes through another. */
  mt_tp_step_aside();
  tp_sync w = {.reply = reply, .detail = detail, .size = size};
  if (reply) {
    reply->data = NULL;
    reply->len = 0;
  }
  pthread_mutex_init(&w.mu, NULL);
  pthread_cond_init(&w.cv, NULL);
  mt_tp_unary(ch, method, body, len, timeout_ms, on_sync_done, &w);
  pthread_mutex_lock(&w.mu);
  while (!w.done) {
    pthread_cond_wait(&w.cv, &w.mu);
  }
  pthread_mutex_unlock(&w.mu);
  pthread_mutex_destroy(&w.mu);
  pthread_cond_destroy(&w.cv);
  return w.status;
}

mt_tp_stream *mt_tp_stream_open(mt_tp_channel *ch, const char *method,
                                const mt_tp_stream_handlers *h, void *arg) {
  grpc_call *call = channel_call(ch, method, 0);
  mt_tp_stream *s = call ? stream_new(call, false) : NULL;
  if (!s) {
    if (call) {
      grpc_call_unref(call);
    }
    return NULL;
  }
  s->h = h;
  s->arg = arg;
  s->refs = 1; /* the caller's */
  owner_add(&ch->owner, &s->base);
  pthread_mutex_lock(&ch->owner.mu);
  bool closing = ch->owner.closing;
  pthread_mutex_unlock(&ch->owner.mu);
  if (closing) {
    grpc_call_cancel(call, NULL);
  }
  grpc_op ops[2];
  pthread_mutex_lock(&s->mu);
  memset(ops, 0, sizeof ops);
  ops[0].op = GRPC_OP_SEND_INITIAL_METADATA;
  ops[0].data.send_initial_metadata.count =
      outgoing_metadata(s->md_out, ch->token);
  ops[0].data.send_initial_metadata.metadata = s->md_out;
  ops[1].op = GRPC_OP_RECV_INITIAL_METADATA;
  ops[1].data.recv_initial_metadata.recv_initial_metadata = &s->md_in;
  start_locked(s, ops, 2, &s->start_op);
  memset(ops, 0, sizeof ops);
  ops[0].op = GRPC_OP_RECV_STATUS_ON_CLIENT;
  ops[0].data.recv_status_on_client.trailing_metadata = &s->trailing;
  ops[0].data.recv_status_on_client.status = &s->status;
  ops[0].data.recv_status_on_client.status_details = &s->status_details;
  if (!start_locked(s, ops, 1, &s->end_op)) {
    s->end_seen = true;
  }
  post_recv_locked(s);
  pthread_mutex_unlock(&s->mu);
  return s;
}
