/* A node's end of the Heartbeats stream (docs/protocol.md, "Heartbeats on
 * a stream"): the heartbeat thread sends each HeartbeatRequest on one
 * stream it keeps open to the head and waits for the reply, as it would
 * for a unary Heartbeat, at a fraction of the head's cost per heartbeat.
 * A stream that fails or does not answer in time is dropped (the next
 * heartbeat opens another); a head that does not serve it (an older one)
 * is sent unary Heartbeat calls instead. */
#include "cluster.h"

#include <stdlib.h>
#include <string.h>

/* One stream: shared by the heartbeat thread and the stream's callbacks,
 * freed once both let go (the stream after on_closed). */
typedef struct hb_conn {
  mt_tp_stream *s;
  int refs;
  mt_tp_buf out; /* the request fill sends next, or data NULL */
  mt_tp_buf in;  /* the reply received, or data NULL */
  bool closed;   /* on_closed ran */
  int status;    /* its status */
  char detail[256];
} hb_conn;

static struct {
  pthread_mutex_t mu;
  pthread_cond_t cv;
  hb_conn *c;           /* the open stream, or NULL */
  mt_tp_channel *ch;    /* the channel it was opened on */
  mt_tp_channel *unary; /* a head that answered UNIMPLEMENTED */
} hb = {.mu = PTHREAD_MUTEX_INITIALIZER};

static void conn_unref_locked(hb_conn *c) {
  if (--c->refs == 0) {
    free(c->out.data);
    free(c->in.data);
    free(c);
  }
}

static bool fill_request(void *arg, mt_tp_stream *s, mt_tp_buf *out) {
  (void)s;
  hb_conn *c = arg;
  pthread_mutex_lock(&hb.mu);
  *out = c->out;
  c->out = (mt_tp_buf){0};
  pthread_mutex_unlock(&hb.mu);
  return out->data != NULL;
}

static void on_reply(void *arg, mt_tp_stream *s, const uint8_t *body,
                     size_t len) {
  (void)s;
  hb_conn *c = arg;
  uint8_t *copy = malloc(len ? len : 1);
  pthread_mutex_lock(&hb.mu);
  if (copy) {
    memcpy(copy, body, len);
    free(c->in.data);
    c->in = (mt_tp_buf){copy, len};
    pthread_cond_broadcast(&hb.cv);
  }
  pthread_mutex_unlock(&hb.mu);
}

static void on_closed(void *arg, mt_tp_stream *s, int status,
                      const char *detail) {
  (void)s;
  hb_conn *c = arg;
  pthread_mutex_lock(&hb.mu);
  c->closed = true;
  /* A stream the head ended without an error still ended. */
  c->status = status == MT_TP_OK ? MT_TP_UNAVAILABLE : status;
  snprintf(c->detail, sizeof c->detail, "heartbeat stream: %s",
           detail && *detail ? detail : "closed by the head");
  pthread_cond_broadcast(&hb.cv);
  if (hb.c == c) {
    /* Not dropped by this node: the head went away or restarted. A node
     * at rest would otherwise tell a restarted head of itself only at its
     * next heartbeat, seconds later, and the other nodes take a node the
     * head's view lacks for dead after the dead-after time. */
    mt_heartbeat_soon_locked();
  }
  conn_unref_locked(c); /* the stream's */
  pthread_mutex_unlock(&hb.mu);
}

static const mt_tp_stream_handlers hb_handlers = {
    .on_message = on_reply, .fill = fill_request, .on_closed = on_closed};

/* Lets go of the link's stream (outside hb.mu: closing may call back). */
static void conn_drop(hb_conn *c) {
  if (!c) {
    return;
  }
  mt_tp_stream_close(c->s, MT_TP_CANCELLED, "heartbeat stream dropped");
  mt_tp_stream_release(c->s);
  pthread_mutex_lock(&hb.mu);
  conn_unref_locked(c); /* the link's */
  pthread_mutex_unlock(&hb.mu);
}

/* The link's stream on ch, opened if there is none (NULL on OOM). */
static hb_conn *conn_get(mt_tp_channel *ch) {
  pthread_mutex_lock(&hb.mu);
  hb_conn *c = hb.c, *old = NULL;
  if (c && (hb.ch != ch || c->closed)) {
    old = c;
    c = hb.c = NULL;
  }
  pthread_mutex_unlock(&hb.mu);
  conn_drop(old);
  if (c) {
    return c;
  }
  c = calloc(1, sizeof *c);
  if (!c) {
    return NULL;
  }
  c->refs = 2; /* the link's and the stream's */
  c->s = mt_tp_stream_open(ch, MT_HEAD_HEARTBEATS, &hb_handlers, c);
  if (!c->s) {
    free(c);
    return NULL;
  }
  pthread_mutex_lock(&hb.mu);
  hb.c = c;
  hb.ch = ch;
  pthread_mutex_unlock(&hb.mu);
  return c;
}

static pthread_once_t hb_once = PTHREAD_ONCE_INIT;

static void hb_cv_init(void) {
  mt_cond_init(&hb.cv);
}

/* The condition variable lives as long as the process: a stream dropped at
 * stop reports on_closed later, on a poller, and broadcasts on it. */
void mt_heartbeat_link_start(void) {
  pthread_once(&hb_once, hb_cv_init);
}

int mt_heartbeat_link_call(mt_tp_channel *ch, const uint8_t *body, size_t len,
                           int64_t timeout_ms, mt_tp_buf *reply, char *detail,
                           size_t size) {
  *reply = (mt_tp_buf){0};
  pthread_mutex_lock(&hb.mu);
  bool unary = hb.unary == ch;
  pthread_mutex_unlock(&hb.mu);
  hb_conn *c = unary ? NULL : conn_get(ch);
  if (!c) {
    return mt_tp_unary_sync(ch, MT_HEAD_HEARTBEAT, body, len, timeout_ms, reply,
                            detail, size);
  }
  uint8_t *copy = malloc(len ? len : 1);
  if (!copy) {
    snprintf(detail, size, "out of memory");
    return MT_TP_RESOURCE_EXHAUSTED;
  }
  memcpy(copy, body, len);
  pthread_mutex_lock(&hb.mu);
  free(c->in.data); /* a late answer to a heartbeat given up on */
  c->in = (mt_tp_buf){0};
  free(c->out.data);
  c->out = (mt_tp_buf){copy, len};
  pthread_mutex_unlock(&hb.mu);
  mt_tp_stream_kick(c->s);
  struct timespec deadline;
  mt_deadline(timeout_ms, &deadline);
  int st = MT_TP_OK;
  pthread_mutex_lock(&hb.mu);
  while (!c->in.data && !c->closed && st == MT_TP_OK) {
    if (pthread_cond_timedwait(&hb.cv, &hb.mu, &deadline) != 0 && !c->in.data &&
        !c->closed) {
      st = MT_TP_DEADLINE_EXCEEDED;
      snprintf(detail, size, "heartbeat stream: no reply in %lld ms",
               (long long)timeout_ms);
    }
  }
  if (c->in.data) {
    *reply = c->in;
    c->in = (mt_tp_buf){0};
    st = MT_TP_OK;
  } else if (c->closed) {
    st = c->status;
    snprintf(detail, size, "%s", c->detail);
  }
  bool drop = st != MT_TP_OK && hb.c == c;
  if (drop) {
    hb.c = NULL;
  }
  if (st == MT_TP_UNIMPLEMENTED) {
    hb.unary = ch; /* an older head: unary calls from now on */
  }
  pthread_mutex_unlock(&hb.mu);
  if (drop) {
    conn_drop(c);
  }
  if (st == MT_TP_UNIMPLEMENTED) {
    mt_log(MT_LOG_INFO, "cluster: the head does not serve heartbeats on a "
                        "stream; sending them as unary calls");
    return mt_tp_unary_sync(ch, MT_HEAD_HEARTBEAT, body, len, timeout_ms, reply,
                            detail, size);
  }
  return st;
}

void mt_heartbeat_link_stop(void) {
  pthread_mutex_lock(&hb.mu);
  hb_conn *c = hb.c;
  hb.c = NULL;
  hb.ch = hb.unary = NULL;
  pthread_mutex_unlock(&hb.mu);
  conn_drop(c); /* its on_closed may come later: it finds hb.c changed */
}
