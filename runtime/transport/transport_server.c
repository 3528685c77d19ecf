/*
 * The server side of the transport: accepting calls, checking their token,
 * unary replies and server-side streams.
 */
#include "transport_internal.h"

#include "clock.h"

#include "credentials.h"
#include "local_state.h"
#include "log.h"
#include "refusals.h"

#include <grpc/grpc_security.h>
#include <grpc/support/alloc.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define PENDING_REQUESTS 8

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
  tp_owner_remove(&in->base);
  free(in);
}

static void on_incoming_recv(tp_op *op, bool ok) {
  mt_tp_incoming *in = OWNER_OF(op, mt_tp_incoming, recv_op);
  mt_tp_buf body = {0};
  bool got = tp_take_received(&in->recv_buf, ok, &body);
  if (got) {
    mt_tp_count_received();
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
    bb = tp_copy_buffer(body, len);
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
  } else if (bb) {
    mt_tp_count_sent();
  }
  mt_tp_count_call(true, status);
  pthread_mutex_unlock(&in->mu);
  grpc_slice_unref(d);
  if (bb) {
    grpc_byte_buffer_destroy(bb);
  }
}

static void on_reject_done(tp_op *op, bool ok) {
  (void)ok;
  tp_reject *r = OWNER_OF(op, tp_reject, op);
  tp_owner_remove(&r->base);
  free(r);
}

static void reject_call(mt_tp_server *srv, grpc_call *call, int status,
                        const char *detail) {
  mt_tp_count_call(true, status);
  tp_reject *r = calloc(1, sizeof *r);
  if (!r) {
    grpc_call_cancel(call, NULL);
    grpc_call_unref(call);
    return;
  }
  r->base.call = call;
  r->op.done = on_reject_done;
  tp_owner_add(&srv->owner, &r->base);
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
    tp_owner_remove(&r->base);
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
    if (tp_slice_is(m->key, "x-manta-protocol") &&
        !tp_slice_is(m->value, MT_TP_PROTOCOL)) {
      snprintf(why, size,
               "protocol version %.*s is not served here (this node speaks "
               "%s)",
               (int)GRPC_SLICE_LENGTH(m->value) > 16
                   ? 16
                   : (int)GRPC_SLICE_LENGTH(m->value),
               (const char *)GRPC_SLICE_START_PTR(m->value), MT_TP_PROTOCOL);
      return MT_TP_FAILED_PRECONDITION;
    }
    if (srv->token && tp_slice_is(m->key, "x-manta-token") &&
        tp_token_matches(m->value, srv->token)) {
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
  tp_owner_add(&srv->owner, &in->base);
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
  mt_tp_stream *s = tp_stream_new(call, true);
  if (!s) {
    reject_call(srv, call, MT_TP_RESOURCE_EXHAUSTED, "out of memory");
    return;
  }
  tp_owner_add(&srv->owner, &s->base);
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
  tp_start_locked(s, ops, 1, &s->start_op);
  memset(ops, 0, sizeof ops);
  ops[0].op = GRPC_OP_RECV_CLOSE_ON_SERVER;
  ops[0].data.recv_close_on_server.cancelled = &s->cancelled;
  if (!tp_start_locked(s, ops, 1, &s->end_op)) {
    s->end_seen = true;
  }
  tp_post_recv_locked(s);
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
  char *method = tp_slice_string(r->details.method);
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
                     mt_now_ns() / 1000000);
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
                                 tp_queue(), tp_queue(),
                                 tp_arm(&r->op)) == GRPC_CALL_OK) {
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
  tp_owner_init(&srv->owner);
  srv->svc = svc;
  srv->token = token && *token ? strdup(token) : NULL;
  srv->refusals = mt_refusals_new(MT_REFUSALS_INTERVAL_MS, NULL, NULL);
  srv->shutdown_op.done = on_server_shutdown;
  srv->server = grpc_server_create(tp_message_size_args(), NULL);
  grpc_server_register_completion_queue(srv->server, tp_queue(), NULL);
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
    tp_owner_destroy(&srv->owner);
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
  grpc_server_shutdown_and_notify(srv->server, tp_queue(),
                                  tp_arm(&srv->shutdown_op));
  /* Clients hear why, not gRPC's "Cancelling all calls" (as a rule: the
   * status may still lose the race with the connection's closing). */
  pthread_mutex_lock(&srv->owner.mu);
  for (tp_call *c = srv->owner.calls; c; c = c->next) {
    grpc_call_cancel_with_status(c->call, GRPC_STATUS_UNAVAILABLE,
                                 MT_TP_STOPPING, NULL);
  }
  pthread_mutex_unlock(&srv->owner.mu);
  grpc_server_cancel_all_calls(srv->server);
  tp_owner_close(&srv->owner);
  pthread_mutex_lock(&srv->owner.mu);
  while (!srv->shutdown_done || srv->requests > 0 || srv->owner.live > 0) {
    pthread_cond_wait(&srv->owner.cv, &srv->owner.mu);
  }
  pthread_mutex_unlock(&srv->owner.mu);
  grpc_server_destroy(srv->server);
  free(srv->token);
  mt_refusals_free(srv->refusals); /* says what it counted but did not say */
  tp_owner_destroy(&srv->owner);
  free(srv);
}
