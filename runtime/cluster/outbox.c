/* Outboxes: messages encoded as they are produced and sent together, many
 * per gRPC message, when the stream is next free. This is what carries
 * thousands of tasks per second over a per-message cost of ~10 us. */
#include "cluster.h"

#include <stdlib.h>
#include <string.h>

/* One gRPC message carries at most this much; the rest waits a turn. */
#define MAX_SEND (4u << 20)

void mt_outbox_init(mt_outbox *o) {
  pthread_mutex_init(&o->mu, NULL);
  o->data = NULL;
  o->len = o->cap = 0;
}

void mt_outbox_destroy(mt_outbox *o) {
  pthread_mutex_destroy(&o->mu);
  free(o->data);
  o->data = NULL;
}

void mt_outbox_clear(mt_outbox *o) {
  pthread_mutex_lock(&o->mu);
  o->len = 0;
  pthread_mutex_unlock(&o->mu);
}

bool mt_outbox_add(mt_outbox *o, uint8_t field, const uint8_t *body, size_t len,
                   bool *was_empty) {
  pthread_mutex_lock(&o->mu);
  *was_empty = o->len == 0;
  size_t need = o->len + 1 + 10 + len;
  if (need > o->cap) {
    size_t cap = o->cap ? o->cap : 4096;
    while (cap < need) {
      cap *= 2;
    }
    uint8_t *grown = realloc(o->data, cap);
    if (!grown) {
      pthread_mutex_unlock(&o->mu);
      return false;
    }
    o->data = grown;
    o->cap = cap;
  }
  uint8_t *p = o->data + o->len;
  p[0] = MT_PB_TAG(field, MT_PB_LEN);
  size_t n = 1 + mt_pb_put_varint(p + 1, len);
  memcpy(p + n, body, len);
  o->len += n + len;
  pthread_mutex_unlock(&o->mu);
  return true;
}

/* Length of the framed field starting at p (tag, varint length, body),
 * within the n bytes left; mt_outbox_add wrote it, so it is whole. */
static size_t framed_len(const uint8_t *p, size_t n) {
  uint64_t len = 0;
  size_t k = mt_pb_get_varint(p + 1, n - 1, MT_PB_VARINT_MAX, &len);
  return 1 + k + (size_t)len;
}

bool mt_outbox_is_empty(mt_outbox *o) {
  pthread_mutex_lock(&o->mu);
  bool empty = o->len == 0;
  pthread_mutex_unlock(&o->mu);
  return empty;
}

bool mt_outbox_take(mt_outbox *o, mt_tp_buf *out) {
  pthread_mutex_lock(&o->mu);
  if (o->len == 0) {
    pthread_mutex_unlock(&o->mu);
    return false;
  }
  if (o->len <= MAX_SEND) {
    out->data = o->data;
    out->len = o->len;
    o->data = NULL;
    o->len = o->cap = 0;
  } else {
    /* Whole fields up to the limit (at least one); the rest stays. */
    size_t cut = 0;
    while (cut < o->len) {
      size_t f = framed_len(o->data + cut, o->len - cut);
      if (cut > 0 && cut + f > MAX_SEND) {
        break;
      }
      cut += f;
    }
    uint8_t *head = malloc(cut);
    if (!head) {
      pthread_mutex_unlock(&o->mu);
      return false;
    }
    memcpy(head, o->data, cut);
    memmove(o->data, o->data + cut, o->len - cut);
    o->len -= cut;
    out->data = head;
    out->len = cut;
  }
  pthread_mutex_unlock(&o->mu);
  return true;
}
