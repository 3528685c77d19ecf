/*
 * gRPC core behind transport.h: reference-counted call objects whose
 * in-flight batches each hold a count, so a call is unreferenced exactly
 * once, after its last batch completed; the helpers and bookkeeping shared
 * by servers and channels; and streams. The pollers are in
 * transport_poller.c, the server in transport_server.c, the client in
 * transport_client.c.
 */
#include "transport_internal.h"

#include "local_state.h"
#include "log.h"

#include <grpc/support/alloc.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* ---- helpers ------------------------------------------------------------ */

gpr_timespec tp_deadline_after(int64_t ms) {
  if (ms <= 0) {
    return gpr_inf_future(GPR_CLOCK_REALTIME);
  }
  return gpr_time_add(gpr_now(GPR_CLOCK_REALTIME),
                      gpr_time_from_millis(ms, GPR_TIMESPAN));
}

/* The whole message as one malloc'd buffer (never NULL data on success). */
bool tp_read_buffer(grpc_byte_buffer *bb, mt_tp_buf *out) {
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
bool tp_take_received(grpc_byte_buffer **slot, bool ok, mt_tp_buf *out) {
  grpc_byte_buffer *bb = *slot;
  *slot = NULL;
  bool got = ok && bb && tp_read_buffer(bb, out);
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

grpc_byte_buffer *tp_copy_buffer(const uint8_t *data, size_t len) {
  grpc_slice s = grpc_slice_from_copied_buffer((const char *)data, len);
  grpc_byte_buffer *bb = grpc_raw_byte_buffer_create(&s, 1);
  grpc_slice_unref(s);
  return bb;
}

char *tp_slice_string(grpc_slice s) {
  size_t n = GRPC_SLICE_LENGTH(s);
  char *c = malloc(n + 1);
  if (c) {
    memcpy(c, GRPC_SLICE_START_PTR(s), n);
    c[n] = '\0';
  }
  return c;
}

bool tp_slice_is(grpc_slice s, const char *text) {
  size_t n = strlen(text);
  return GRPC_SLICE_LENGTH(s) == n &&
         memcmp(GRPC_SLICE_START_PTR(s), text, n) == 0;
}

/* Constant-time, so a wrong token's timing tells nothing. */
bool tp_token_matches(grpc_slice got, const char *want) {
  return mt_token_equal(GRPC_SLICE_START_PTR(got), GRPC_SLICE_LENGTH(got),
                        want);
}

/* Metadata every outgoing call carries: protocol and, if set, token. */
size_t tp_outgoing_metadata(grpc_metadata md[2], const char *token) {
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

grpc_channel_args *tp_message_size_args(void) {
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

void tp_owner_init(tp_owner *o) {
  pthread_mutex_init(&o->mu, NULL);
  pthread_cond_init(&o->cv, NULL);
  o->live = 0;
  o->closing = false;
  o->calls = NULL;
}

void tp_owner_add(tp_owner *o, tp_call *c) {
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
void tp_owner_remove(tp_call *c) {
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
void tp_owner_close(tp_owner *o) {
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

void tp_owner_destroy(tp_owner *o) {
  pthread_mutex_destroy(&o->mu);
  pthread_cond_destroy(&o->cv);
}

/* ---- streams --------------------------------------------------------------
 */

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
  tp_owner_remove(&s->base);
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
  mt_tp_count_call(s->is_server,
                   s->is_server && !s->cancelled ? s->finish_status : status);
  s->h->on_closed(s->arg, s, status, detail);
  if (s->is_server) {
    stream_unref(s); /* the server's own reference */
  }
}

bool tp_start_locked(mt_tp_stream *s, const grpc_op *ops, size_t n,
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

void tp_post_recv_locked(mt_tp_stream *s) {
  grpc_op op;
  memset(&op, 0, sizeof op);
  op.op = GRPC_OP_RECV_MESSAGE;
  op.data.recv_message.recv_message = &s->recv_buf;
  if (!tp_start_locked(s, &op, 1, &s->recv_op)) {
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
  tp_start_locked(s, &op, 1, &s->finish_op);
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
  if (!tp_read_buffer(bb, &body)) {
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
  if (bb) {
    mt_tp_count_received();
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
      tp_post_recv_locked(s);
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
    bool started = tp_start_locked(s, &op, 1, &s->send_op);
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
    mt_tp_count_sent();
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

mt_tp_stream *tp_stream_new(grpc_call *call, bool is_server) {
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
