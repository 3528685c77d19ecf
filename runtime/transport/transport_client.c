/*
 * The client side of the transport: channels, unary calls (async and
 * sync) and client-side streams.
 */
#include "transport_internal.h"

#include "credentials.h"
#include "log.h"

#include <grpc/grpc_security.h>
#include <grpc/support/alloc.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

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
  tp_owner_init(&ch->owner);
  ch->token = token && *token ? strdup(token) : NULL;
  /* Over TLS the server's certificate is checked for the cluster's name,
   * not for the address dialled (MT_TP_TLS_NAME says why). grpc copies
   * the arguments. */
  const grpc_channel_args *base = tp_message_size_args();
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
  tp_owner_close(&ch->owner);
  grpc_channel_destroy(ch->channel);
  tp_owner_destroy(&ch->owner);
  free(ch->address);
  free(ch->token);
  free(ch);
}

static grpc_call *channel_call(mt_tp_channel *ch, const char *method,
                               int64_t timeout_ms) {
  grpc_slice m = grpc_slice_from_copied_string(method);
  grpc_call *call = grpc_channel_create_call(
      ch->channel, NULL, GRPC_PROPAGATE_DEFAULTS, tp_queue(), m, NULL,
      tp_deadline_after(timeout_ms), NULL);
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
  if (status == MT_TP_OK &&
      !(u->recv_buf && tp_read_buffer(u->recv_buf, &body))) {
    status = MT_TP_INTERNAL;
    snprintf(detail, sizeof detail, "the reply carried no message");
  }
  if (body.data) {
    mt_tp_count_received();
  }
  mt_tp_count_call(false, status);
  u->done(u->arg, status, detail, body.data, body.len);
  free(body.data);
  if (u->recv_buf) {
    grpc_byte_buffer_destroy(u->recv_buf);
  }
  grpc_metadata_array_destroy(&u->md_in);
  grpc_metadata_array_destroy(&u->trailing);
  grpc_slice_unref(u->details);
  tp_owner_remove(&u->base);
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
  tp_owner_add(&ch->owner, &u->base);
  grpc_op ops[6];
  memset(ops, 0, sizeof ops);
  ops[0].op = GRPC_OP_SEND_INITIAL_METADATA;
  ops[0].data.send_initial_metadata.count =
      tp_outgoing_metadata(u->md_out, ch->token);
  ops[0].data.send_initial_metadata.metadata = u->md_out;
  grpc_byte_buffer *bb = tp_copy_buffer(body, len);
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
    tp_owner_remove(&u->base);
    free(u);
    done(arg, MT_TP_INTERNAL, "cannot start the call", NULL, 0);
    return;
  }
  mt_tp_count_sent();
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
  mt_tp_stream *s = call ? tp_stream_new(call, false) : NULL;
  if (!s) {
    if (call) {
      grpc_call_unref(call);
    }
    return NULL;
  }
  s->h = h;
  s->arg = arg;
  s->refs = 1; /* the caller's */
  tp_owner_add(&ch->owner, &s->base);
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
      tp_outgoing_metadata(s->md_out, ch->token);
  ops[0].data.send_initial_metadata.metadata = s->md_out;
  ops[1].op = GRPC_OP_RECV_INITIAL_METADATA;
  ops[1].data.recv_initial_metadata.recv_initial_metadata = &s->md_in;
  tp_start_locked(s, ops, 2, &s->start_op);
  memset(ops, 0, sizeof ops);
  ops[0].op = GRPC_OP_RECV_STATUS_ON_CLIENT;
  ops[0].data.recv_status_on_client.trailing_metadata = &s->trailing;
  ops[0].data.recv_status_on_client.status = &s->status;
  ops[0].data.recv_status_on_client.status_details = &s->status_details;
  if (!tp_start_locked(s, ops, 1, &s->end_op)) {
    s->end_seen = true;
  }
  tp_post_recv_locked(s);
  pthread_mutex_unlock(&s->mu);
  return s;
}
