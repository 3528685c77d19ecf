/* Streams across nodes (docs/protocol.md, "Streams"): a call submitted as
 * a stream and sent to another node keeps its TaskSpec.seq as the stream's
 * name on that link. The node running it sends each item back as a
 * StreamItem on the Tasks stream the call came on, in order and before its
 * TaskResult; the caller's node answers with StreamCredit (how many items
 * the program read, or that it let go), which bounds how far the producer
 * may run ahead. The core's streams.c does the rest on each side. */
#include "cluster.h"
#include "streams.h"

#include <stdlib.h>

/* ---- the caller's side ---------------------------------------------------
 */

static void send_credit_locked(uint64_t node, uint64_t seq, uint64_t read,
                               bool cancel, mt_garbage *g) {
  Manta__V1__StreamCredit c = MANTA__V1__STREAM_CREDIT__INIT;
  c.seq = seq;
  c.read = read;
  c.cancel = cancel;
  mt_tp_buf b;
  if (mt_wire_pack(&c.base, &b)) {
    mt_peer_send_locked(node, 15, b.data, b.len, g); /* stream_credits */
    free(b.data);
  }
}

void mt_stream_spec_locked(mt_task *t, Manta__V1__TaskSpec *spec) {
  if (t->stream) {
    spec->stream_window = (uint32_t)mt_stream_window(t->stream);
  }
}

void mt_stream_sent_locked(mt_task *t, uint64_t node, uint64_t seq,
                           mt_garbage *g) {
  if (t->stream) {
    mt_stream_set_credit_fn(send_credit_locked);
    mt_stream_bind_remote_locked(t->stream, node, seq, g);
  }
}

void mt_stream_items_in(mt_peer *p, const Manta__V1__TaskBatch *batch) {
  size_t n = batch->n_stream_items;
  if (n == 0) {
    return;
  }
  /* Decoded before taking the lock: refs inside take it. */
  manta_value *stack[64];
  manta_value **vals = n <= 64 ? stack : calloc(n, sizeof *vals);
  if (!vals) {
    mt_log(MT_LOG_WARN, "stream: %zu items dropped: out of memory", n);
    return;
  }
  for (size_t i = 0; i < n; i++) {
    vals[i] =
        mt_wire_decode_value(&batch->stream_items[i]->value, "a stream item");
  }
  mt_garbage g;
  mt_garbage_init(&g);
  mt_lock();
  for (size_t i = 0; i < n; i++) {
    const Manta__V1__StreamItem *it = batch->stream_items[i];
    mt_task *t = mt_u64map_get(&p->pending, it->seq);
    if (t && t->stream) {
      mt_stream_push_remote_locked(t->stream, it->index, vals[i], &g);
    } else {
      mt_garbage_add(&g, vals[i]); /* its call ended or was let go */
    }
  }
  mt_unlock();
  mt_garbage_free(&g);
  if (vals != stack) {
    free(vals);
  }
}

/* ---- the producer's side -------------------------------------------------
 */

/* One stream call running here for a caller on another node. */
typedef struct sink {
  mt_serve_stream *ss; /* counted until detached */
  uint64_t seq;
  mt_stream *stream;  /* not counted: its task holds it */
  manta_value **held; /* items with refs the caller owns: kept while here */
  size_t nheld;
  struct sink *next_same; /* sinks with the same seq (other links) */
} sink;

static mt_u64map sinks; /* seq -> chain of sink; under rt.mu */

static sink *find_locked(mt_serve_stream *ss, uint64_t seq) {
  for (sink *k = mt_u64map_get(&sinks, seq); k; k = k->next_same) {
    if (k->ss == ss) {
      return k;
    }
  }
  return NULL;
}

static bool sink_send_locked(void *ctx, uint64_t index, const manta_value *v,
                             mt_garbage *g) {
  sink *k = ctx;
  Manta__V1__StreamItem it = MANTA__V1__STREAM_ITEM__INIT;
  it.seq = k->seq;
  it.index = index;
  mt_id_list refs;
  mt_refs_begin(&refs);
  manta_err err = mt_wire_encode_value(v, &it.value);
  mt_refs_end(&refs);
  uint64_t client = mt_serve_client_locked(k->ss);
  if (err == MANTA_OK && refs.len && client &&
      mt_borrow_out_locked(&refs, client, g)) {
    /* Refs to the caller's own objects: keep them alive until the call
     * ends, past the caller's decoding. */
    manta_value **grown = realloc(k->held, (k->nheld + 1) * sizeof *grown);
    if (grown) {
      k->held = grown;
      k->held[k->nheld++] = manta_value_ref((manta_value *)v);
    }
  }
  mt_refs_free(&refs);
  if (err != MANTA_OK) {
    manta_value *ev =
        mt_error_new(err, "stream",
                     "item %llu cannot be sent to another node: "
                     "%s",
                     (unsigned long long)index, manta_strerror(err));
    err = ev ? mt_wire_encode_value(ev, &it.value) : MANTA_ERR_NOMEM;
    mt_garbage_add(g, ev);
    if (err != MANTA_OK) {
      return false;
    }
  }
  mt_tp_buf b;
  bool ok = mt_wire_pack(&it.base, &b);
  manta_free(it.value.data);
  if (!ok) {
    return false;
  }
  ok = mt_serve_send_locked(k->ss, 14, b.data, b.len, g); /* stream_items */
  free(b.data);
  return ok;
}

static void sink_detach_locked(void *ctx, mt_garbage *g) {
  sink *k = ctx;
  sink **at = NULL;
  sink *head = mt_u64map_get(&sinks, k->seq);
  if (head == k) {
    if (k->next_same) {
      mt_u64map_put(&sinks, k->seq, k->next_same);
    } else {
      mt_u64map_remove(&sinks, k->seq);
    }
  } else {
    for (at = &head->next_same; *at && *at != k; at = &(*at)->next_same) {
    }
    if (*at) {
      *at = k->next_same;
    }
  }
  for (size_t i = 0; i < k->nheld; i++) {
    mt_garbage_add(g, k->held[i]);
  }
  free(k->held);
  mt_serve_release_locked(k->ss, g);
  free(k);
  if (sinks.len == 0) {
    mt_u64map_free(&sinks); /* nothing left behind at shutdown */
  }
}

static const mt_stream_sink_ops sink_ops = {sink_send_locked,
                                            sink_detach_locked};

bool mt_stream_serve_begin(mt_serve_stream *ss, uint64_t seq, uint32_t window) {
  sink *k = calloc(1, sizeof *k);
  mt_stream *s = k ? mt_stream_sink_new(&sink_ops, k, window) : NULL;
  if (!s) {
    free(k);
    return false;
  }
  k->seq = seq;
  k->stream = s;
  k->ss = ss;
  mt_lock();
  mt_serve_retain_locked(ss);
  k->next_same = mt_u64map_get(&sinks, seq);
  if (!mt_u64map_put(&sinks, seq, k)) {
    k->next_same = NULL; /* credits will not find it; it still sends */
  }
  mt_unlock();
  mt_stream_set_submitting(s); /* for the task the call makes next */
  return true;
}

void mt_stream_credits_in_locked(mt_serve_stream *ss,
                                 const Manta__V1__TaskBatch *batch) {
  for (size_t i = 0; i < batch->n_stream_credits; i++) {
    const Manta__V1__StreamCredit *c = batch->stream_credits[i];
    sink *k = find_locked(ss, c->seq);
    if (k) {
      mt_stream_sink_credit_locked(k->stream, c->read, c->cancel);
    }
  }
}

void mt_stream_links_closed_locked(mt_serve_stream *ss) {
  uint64_t key;
  void *val;
  for (size_t pos = 0; mt_u64map_next(&sinks, &pos, &key, &val);) {
    for (sink *k = val; k; k = k->next_same) {
      if (k->ss == ss) {
        mt_stream_sink_gone_locked(k->stream); /* its producer stops */
      }
    }
  }
}
