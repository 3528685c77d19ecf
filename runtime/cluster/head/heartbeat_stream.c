/* The head's end of the Heartbeats stream (docs/protocol.md, "Heartbeats
 * on a stream"): each node keeps one stream open to the head and sends
 * its HeartbeatRequests on it, one at a time; each is answered with the
 * HeartbeatReply the unary Heartbeat would give. A message on an open
 * stream costs the head a fraction of a unary call (no new HTTP/2 stream,
 * no metadata, no status), which is what a node at rest costs it. */
#include "cluster.h"

#include <stdlib.h>
#include <string.h>

typedef struct hb_serve {
  mt_directory *d;
  uint64_t id;      /* names this stream to the directory, never 0 */
  uint64_t node_id; /* whose heartbeats it carried last (0: none yet) */
  pthread_mutex_t mu;
  mt_tp_buf reply; /* the answer to send, or data NULL */
} hb_serve;

static uint64_t next_id; /* atomic */

static void on_request(void *arg, mt_tp_stream *s, const uint8_t *body,
                       size_t len) {
  hb_serve *h = arg;
  mt_tp_buf reply;
  char detail[500] = "";
  uint64_t node_id = 0;
  int st = mt_directory_heartbeat_bytes(h->d, body, len, h->id, &node_id,
                                        &reply, detail, sizeof detail);
  if (node_id && node_id != h->node_id) {
    /* Only one sender per stream is expected; one that changes leaves the
     * one before it to the plain dead-after time. */
    if (h->node_id) {
      mt_directory_stream_closed(h->d, h->node_id, h->id);
    }
    h->node_id = node_id;
  }
  if (st != MT_TP_OK) {
    /* Fenced (the node moves to another head), malformed or OOM: the
     * stream ends with the status the unary call would have had. */
    mt_tp_stream_close(s, st, detail);
    return;
  }
  pthread_mutex_lock(&h->mu);
  free(h->reply.data); /* a node waits for each answer: none is pending */
  h->reply = reply;
  pthread_mutex_unlock(&h->mu);
  mt_tp_stream_kick(s);
}

static bool fill_reply(void *arg, mt_tp_stream *s, mt_tp_buf *out) {
  (void)s;
  hb_serve *h = arg;
  pthread_mutex_lock(&h->mu);
  *out = h->reply;
  h->reply = (mt_tp_buf){0};
  pthread_mutex_unlock(&h->mu);
  return out->data != NULL;
}

static void on_closed(void *arg, mt_tp_stream *s, int status,
                      const char *detail) {
  (void)s;
  (void)status;
  (void)detail;
  hb_serve *h = arg;
  if (h->node_id) {
    /* A node killed closes it at once (its socket closes): from now on it
     * has the plain dead-after time from its last heartbeat. */
    mt_directory_stream_closed(h->d, h->node_id, h->id);
  }
  free(h->reply.data);
  pthread_mutex_destroy(&h->mu);
  free(h);
}

static const mt_tp_stream_handlers hb_handlers = {
    .on_message = on_request, .fill = fill_reply, .on_closed = on_closed};

bool mt_directory_is_stream(const char *method) {
  return strcmp(method, MT_HEAD_HEARTBEATS) == 0;
}

void *mt_directory_stream_open(mt_directory *d, mt_tp_stream *s,
                               const mt_tp_stream_handlers **handlers) {
  (void)s;
  hb_serve *h = calloc(1, sizeof *h);
  if (!h) {
    *handlers = NULL;
    return NULL;
  }
  h->d = d;
  h->id = __atomic_add_fetch(&next_id, 1, __ATOMIC_RELAXED);
  pthread_mutex_init(&h->mu, NULL);
  *handlers = &hb_handlers;
  return h;
}
