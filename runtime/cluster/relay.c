/*
 * A copy other nodes may fetch from while it arrives (a relay): the block a
 * fetch of a bytes object fills, shared with the FetchObject streams this
 * node serves from it. The owner of an object points the next fetcher to
 * the node that asked before it (fetch.c), so a broadcast becomes a chain:
 * each node serves the next one the chunks it has, as they arrive, and the
 * owner uploads the object about once whatever the number of receivers.
 *
 * Counts keep the block alive: the fetch filling it holds one until it
 * ends, the value it becomes one (its release function), each stream
 * serving from it one, and each chunk gRPC still sends by reference one.
 * Bytes are written in order and published with `have` (release) after
 * they are in the block, so a reader never sends a byte not yet written.
 */
#include "cluster.h"

#include "bigalloc.h"

#include <stdlib.h>
#include <string.h>

struct mt_relay_copy {
  _Atomic int refs;
  pthread_mutex_t mu;     /* streams */
  uint8_t *buf;           /* the block, once sized (owned here) */
  size_t cap;             /* bigalloc size; 0: malloc'd */
  _Atomic uint64_t len;   /* payload bytes; set with buf */
  _Atomic uint64_t have;  /* payload bytes in the block, from the start */
  _Atomic int state;      /* MT_RELAY_* */
  mt_tp_stream **streams; /* serving from it, one reference each */
  size_t nstreams, cap_streams;
};

mt_relay_copy *mt_relay_copy_new(void) {
  mt_relay_copy *c = calloc(1, sizeof *c);
  if (c) {
    atomic_init(&c->refs, 1);
    pthread_mutex_init(&c->mu, NULL);
  }
  return c;
}

void mt_relay_copy_retain(mt_relay_copy *c) {
  atomic_fetch_add(&c->refs, 1);
}

void mt_relay_copy_unref(mt_relay_copy *c) {
  if (!c || atomic_fetch_sub(&c->refs, 1) != 1) {
    return;
  }
  if (c->buf) {
    if (c->cap) {
      mt_big_free(c->buf, c->cap);
    } else {
      free(c->buf);
    }
  }
  for (size_t i = 0; i < c->nstreams; i++) {
    mt_tp_stream_release(c->streams[i]);
  }
  free(c->streams);
  pthread_mutex_destroy(&c->mu);
  free(c);
}

void mt_relay_block_release(void *data, void *c) {
  (void)data; /* c->buf */
  mt_relay_copy_unref(c);
}

void mt_relay_copy_sized(mt_relay_copy *c, uint8_t *buf, size_t cap,
                         uint64_t len) {
  c->buf = buf;
  c->cap = cap;
  atomic_store_explicit(&c->len, len, memory_order_release);
}

/* Kicks every stream serving from c (outside c->mu: a kick may fill). */
static void kick_all(mt_relay_copy *c) {
  mt_tp_stream *few[8];
  mt_tp_stream **ss = few;
  pthread_mutex_lock(&c->mu);
  size_t n = c->nstreams;
  if (n > 8) {
    ss = malloc(n * sizeof *ss);
    if (!ss) {
      ss = few;
      n = 8; /* the others are kicked after their own sends */
    }
  }
  for (size_t i = 0; i < n; i++) {
    ss[i] = c->streams[i];
    mt_tp_stream_retain(ss[i]);
  }
  pthread_mutex_unlock(&c->mu);
  for (size_t i = 0; i < n; i++) {
    mt_tp_stream_kick(ss[i]);
    mt_tp_stream_release(ss[i]);
  }
  if (ss != few) {
    free(ss);
  }
}

void mt_relay_copy_progress(mt_relay_copy *c, uint64_t have) {
  atomic_store_explicit(&c->have, have, memory_order_release);
  kick_all(c);
}

void mt_relay_copy_end(mt_relay_copy *c, bool ok) {
  atomic_store(&c->state, ok ? MT_RELAY_COMPLETE : MT_RELAY_FAILED);
  kick_all(c);
}

int mt_relay_copy_read(mt_relay_copy *c, const uint8_t **buf, uint64_t *len,
                       uint64_t *have) {
  int state = atomic_load(&c->state);
  *len = atomic_load_explicit(&c->len, memory_order_acquire);
  *buf = *len ? c->buf : NULL;
  *have = atomic_load_explicit(&c->have, memory_order_acquire);
  return state;
}

bool mt_relay_copy_watch(mt_relay_copy *c, mt_tp_stream *s) {
  pthread_mutex_lock(&c->mu);
  if (c->nstreams == c->cap_streams) {
    size_t cap = c->cap_streams ? 2 * c->cap_streams : 4;
    mt_tp_stream **grown = realloc(c->streams, cap * sizeof *grown);
    if (!grown) {
      pthread_mutex_unlock(&c->mu);
      return false;
    }
    c->streams = grown;
    c->cap_streams = cap;
  }
  mt_tp_stream_retain(s);
  c->streams[c->nstreams++] = s;
  pthread_mutex_unlock(&c->mu);
  return true;
}

void mt_relay_copy_unwatch(mt_relay_copy *c, mt_tp_stream *s) {
  bool found = false;
  pthread_mutex_lock(&c->mu);
  for (size_t i = 0; i < c->nstreams; i++) {
    if (c->streams[i] == s) {
      c->streams[i] = c->streams[--c->nstreams];
      found = true;
      break;
    }
  }
  pthread_mutex_unlock(&c->mu);
  if (found) {
    mt_tp_stream_release(s);
  }
}
