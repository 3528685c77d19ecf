/*
 * Moving an object between two nodes: Node.FetchObject, served by the
 * owner and called by a node whose proxy someone waits for. The chunks
 * concatenated are the object's Value encoding.
 *
 * Each byte is copied once per side beyond what gRPC and the kernel do:
 * the owner sends each chunk as a small header of its own followed by the
 * value's bytes by reference (a count on the value held until gRPC lets
 * go of them); the fetching side reads the chunk header by hand (chunk.c)
 * and copies gRPC's received pieces straight into the buffer that becomes
 * the new value, taken from the reusable huge-page blocks of bigalloc.h so
 * that filling it costs few page faults (none in a block used before).
 *
 * Memory in flight stays bounded whatever the size: the owner has one chunk
 * at a time in gRPC's hands (one message pending per call), and the
 * fetching side at most three, one being copied, one waiting and one being
 * received (transport_calls.c); the rest of the object stays in the owner's
 * value until its turn.
 */
#include "cluster.h"
#include "transfer_stats.h"

#include <stdlib.h>
#include <string.h>

#define CHUNK (1024 * 1024)

/* ---- the fetching side -------------------------------------------------- */

struct mt_fetch {
  uint64_t local_id; /* the proxy object (one count held); 0: detached */
  uint64_t owner_node, owner_id;
  uint64_t from_node; /* asked: the owner, or a relay it pointed to */
  char address[64];
  bool requested;
  bool relay_ok;         /* the request lets the owner point elsewhere */
  uint64_t relay_failed; /* told to the owner: a relay that failed us */
  uint64_t relay_to;     /* the owner's answer: ask this node instead */
  mt_chunk_sink sink;
  mt_relay_copy *copy; /* served onward from here while it fills; NULL:
                          no memory (changed under rt.mu only) */
  bool copy_refused;   /* not a bytes value: the copy failed at once */
};

/* The sink was just sized by the first chunk: a bytes value's block is
 * shared with the copy, so that other nodes can fetch from this one. */
static void share_block(mt_fetch *f) {
  mt_chunk_sink *k = &f->sink;
  if (!f->copy || k->release || !k->buf) {
    return;
  }
  if (!k->skip) {
    if (!f->copy_refused) {
      f->copy_refused = true;
      mt_relay_copy_end(f->copy, false); /* not bytes: not relayed */
    }
    return;
  }
  mt_relay_copy_sized(f->copy, k->buf, k->cap, k->total - k->skip);
  mt_relay_copy_retain(f->copy); /* the block's holder: sink, then value */
  k->release = mt_relay_block_release;
  k->release_arg = f->copy;
}

static void fetch_on_chunk(void *arg, mt_tp_stream *s, mt_tp_msg *m) {
  mt_fetch *f = arg;
  if (f->sink.error[0]) {
    return;
  }
  size_t len = mt_tp_msg_length(m);
  mt_transfer_note(f->from_node, len, 0); /* /metrics, per peer */
  uint8_t head[MT_CHUNK_HEAD_MAX];
  size_t n = mt_tp_msg_read(m, head, len < sizeof head ? len : sizeof head);
  uint8_t *dst = mt_chunk_sink_head(&f->sink, head, n, len);
  if (dst) {
    share_block(f);
    /* The rest straight from gRPC's pieces into the object. */
    const uint8_t *p;
    for (size_t k; (k = mt_tp_msg_piece(m, &p, SIZE_MAX)) > 0; dst += k) {
      mt_chunk_sink_copy(&f->sink, dst, p, k);
    }
  } else if (!f->sink.error[0]) {
    /* Another layout: flattened for protobuf-c. */
    uint8_t *flat = malloc(len ? len : 1);
    if (flat) {
      memcpy(flat, head, n);
      mt_tp_msg_read(m, flat + n, len - n);
      uint64_t relay = mt_chunk_sink_flat(&f->sink, flat, len);
      free(flat);
      if (relay && f->relay_ok && !f->sink.buf && !f->relay_to) {
        f->relay_to = relay; /* the owner ends the call next */
      } else if (relay) {
        snprintf(f->sink.error, sizeof f->sink.error,
                 "pointed to another node unasked");
      }
      share_block(f);
    } else {
      snprintf(f->sink.error, sizeof f->sink.error, "out of memory");
    }
  }
  if (f->copy && f->sink.release && f->sink.got > f->sink.skip) {
    mt_relay_copy_progress(f->copy, f->sink.got - f->sink.skip);
  }
  if (f->sink.error[0]) {
    mt_log(MT_LOG_WARN, "cluster: fetch from %s: %s", f->address,
           f->sink.error);
    mt_tp_stream_close(s, MT_TP_CANCELLED, f->sink.error);
  }
}

static bool fetch_fill(void *arg, mt_tp_stream *s, mt_tp_buf *out) {
  (void)s;
  mt_fetch *f = arg;
  if (f->requested) {
    return false;
  }
  f->requested = true;
  uint8_t wire[16];
  mt_wire_id_join(f->owner_node, f->owner_id, wire);
  Manta__V1__FetchRequest r = MANTA__V1__FETCH_REQUEST__INIT;
  r.id.data = wire;
  r.id.len = sizeof wire;
  r.node_id = mt_rt.node_id;
  r.relay_ok = f->relay_ok;
  r.relay_failed = f->relay_failed;
  return mt_wire_pack(&r.base, out);
}

/* OBJECT_LOST for an object this process cannot rebuild. */
static manta_value *lost_error(const char *why) {
  return mt_error_new(MANTA_ERR_OBJECT_LOST, "cluster",
                      "%s; it cannot be rebuilt here: only the result of a "
                      "task this process submitted can be, not an object "
                      "made by put, an actor call's result or an object "
                      "borrowed from the process that owns it",
                      why);
}

static int owner_state_locked(uint64_t node);
static void fetch_later_locked(mt_object *o, int64_t since_ms);
static bool fetch_open_locked(mt_object *o, uint64_t from, bool relay_ok,
                              uint64_t relay_failed, mt_relay_copy *copy);

/* A fetch of the pending proxy o failed. With lineage, o is rebuilt once
 * its node is dead in the view, or once it has stayed unreachable for
 * twice the dead-after time (a node killed is alive in the view for up to
 * that long); meanwhile the heartbeat thread tries the fetch again after
 * each view update. False: no lineage, the caller fails o. */
static bool lost_locked(mt_object *o, const char *why, mt_garbage *g) {
  int64_t since = mt_lineage_lost_since_locked(mt_slots_id(&mt_rt.objects, o));
  if (since < 0 && mt_rebuild_ask_locked(o, why, g)) {
    fetch_later_locked(o, mt_now_ms()); /* its asked node's life watched */
    return true;
  }
  if (since < 0 || !o->proxy) {
    return false;
  }
  int state = mt_cl.stopping ? 0 : owner_state_locked(o->proxy->owner_node);
  if (state != 0 && mt_now_ms() - since < 2 * mt_cl.dead_after_ms) {
    fetch_later_locked(o, since);
    return true;
  }
  return mt_lineage_rebuild_locked(o, why, g);
}

/* The owner pointed f to another node (pointed), or f fetched from such a
 * node and that failed: the transfer goes on from the node pointed to, or
 * from the owner. False if it cannot (f's own outcome stands). The
 * object's count passes to the new transfer, and so does the relayed copy
 * when nothing was received yet (nodes pointed to this one wait on it). */
static bool fetch_hop_locked(mt_fetch *f, bool pointed) {
  mt_object *o = f->local_id ? mt_obj_lookup_locked(f->local_id) : NULL;
  if (!o || !o->proxy || o->proxy->fetch != f || o->state != MT_OBJ_PENDING ||
      mt_cl.stopping || (!pointed && f->from_node == f->owner_node)) {
    return false;
  }
  char hex[17];
  mt_wire_node_id_hex(pointed ? f->relay_to : f->from_node, hex);
  mt_relay_copy *copy = pointed ? f->copy : NULL;
  o->proxy->fetch = NULL;
  if (pointed && fetch_open_locked(o, f->relay_to, false, 0, copy)) {
    f->copy = NULL;
    return true;
  }
  mt_log(MT_LOG_INFO,
         "cluster: fetch from node %s, which relays the object, %s; fetching "
         "from its owner",
         hex, pointed ? "cannot start" : f->sink.error);
  if (fetch_open_locked(o, f->owner_node, false,
                        pointed ? f->relay_to : f->from_node, copy)) {
    if (pointed) {
      f->copy = NULL;
    }
    return true;
  }
  o->proxy->fetch = f;
  if (pointed) {
    snprintf(f->sink.error, sizeof f->sink.error,
             "pointed to node %s, which cannot be reached, and so is the "
             "owner",
             hex);
  }
  return false;
}

static void fetch_on_closed(void *arg, mt_tp_stream *s, int status,
                            const char *detail) {
  mt_fetch *f = arg;
  manta_value *v = NULL;
  bool pointed = status == MT_TP_OK && f->relay_to && !f->sink.buf;
  if (status == MT_TP_OK && !pointed) {
    v = mt_chunk_sink_value(&f->sink);
  } else if (!pointed && !f->sink.error[0]) {
    snprintf(f->sink.error, sizeof f->sink.error, "%s (status %d)",
             detail[0] ? detail : "the link failed", status);
  }
  bool complete = v != NULL; /* every byte in the copy */
  if (v) {
    mt_log(MT_LOG_DEBUG, "cluster: fetched %llu bytes from %s",
           (unsigned long long)f->sink.total, f->address);
  }
  mt_chunk_sink_free(&f->sink);
  mt_garbage g;
  mt_garbage_init(&g);
  mt_lock();
  /* f->copy changes under rt.mu only: nodes asking for it read it there. */
  mt_relay_copy *ended = NULL;
  if (f->copy && !pointed) {
    ended = f->copy;
    f->copy = NULL;
  }
  if (!v && fetch_hop_locked(f, pointed)) {
    mt_unlock();
    if (ended) {
      mt_relay_copy_end(ended, false);
      mt_relay_copy_unref(ended);
    }
    mt_tp_stream_release(s);
    free(f);
    return;
  }
  if (f->copy) {
    ended = f->copy; /* pointed, and no hop: nothing will fill it */
    f->copy = NULL;
  }
  char hex[17], why[400] = "";
  if (!v) {
    mt_wire_node_id_hex(f->owner_node, hex);
    snprintf(why, sizeof why,
             "the object lives on node %s (%s) and could not be fetched: %s",
             hex, f->address, f->sink.error);
  }
  mt_object *o = f->local_id ? mt_obj_lookup_locked(f->local_id) : NULL;
  if (o) {
    if (o->proxy) {
      o->proxy->fetch = NULL;
    }
    if (v) {
      mt_lineage_forget_locked(f->local_id, &g); /* the copy is here now */
    }
    if (o->state == MT_OBJ_PENDING && (v || !lost_locked(o, why, &g))) {
      mt_obj_complete_locked(o, v ? v : lost_error(why), &g);
      v = NULL;
    }
    mt_obj_release_locked(o, &g);
  }
  mt_garbage_add(&g, v);
  mt_unlock();
  if (ended) {
    mt_relay_copy_end(ended, complete); /* the streams serving it learn */
    mt_relay_copy_unref(ended);
  }
  mt_garbage_free(&g);
  mt_tp_stream_release(s);
  free(f);
}

static const mt_tp_stream_handlers fetch_handlers = {
    .fill = fetch_fill,
    .on_closed = fetch_on_closed,
    .on_pieces = fetch_on_chunk};

void mt_fetch_detach_locked(mt_fetch *f) {
  f->local_id = 0;
}

/* The owner is not alive in this node's view: a node that just joined may
 * not be in it yet, so the housekeeping (heartbeat) thread tries again after
 * each view update, and fails the object once the owner is dead or has
 * stayed unknown for as long as the head takes to declare a node dead.
 * Never the caller, which may be mid-update. */
static void fetch_later_locked(mt_object *o, int64_t since_ms) {
  mt_fetch_wait *grown =
      realloc(mt_cl.fetch_waits, (mt_cl.nfetch_waits + 1) * sizeof *grown);
  if (!grown) {
    mt_log(MT_LOG_ERROR, "cluster: out of memory waiting to fetch an object");
    return;
  }
  mt_obj_retain_locked(o);
  mt_cl.fetch_waits = grown;
  mt_cl.fetch_waits[mt_cl.nfetch_waits++] =
      (mt_fetch_wait){mt_slots_id(&mt_rt.objects, o), since_ms};
}

/* Whether node is in the view: 1 alive, 0 dead, -1 unknown. */
static int owner_state_locked(uint64_t node) {
  for (size_t i = 0; i < mt_cl.nview; i++) {
    if (mt_cl.view[i].node_id == node) {
      return mt_cl.view[i].alive ? 1 : 0;
    }
  }
  return -1;
}

/* Starts fetching the pending proxy o from node `from` (its owner, or a
 * node relaying it), the relayed copy taken (NULL: a new one); false if
 * that node cannot be reached now (nothing taken). Only the first call
 * (relay_ok) takes a count of o; later hops inherit it. */
static bool fetch_open_locked(mt_object *o, uint64_t from, bool relay_ok,
                              uint64_t relay_failed, mt_relay_copy *copy) {
  mt_proxy *p = o->proxy;
  char address[64] = "";
  mt_tp_channel *ch =
      mt_cl.stopping ? NULL
                     : mt_peer_channel_locked(from, address, sizeof address);
  mt_fetch *f = ch ? calloc(1, sizeof *f) : NULL;
  if (!f) {
    return false;
  }
  f->local_id = p->local_id;
  f->owner_node = p->owner_node;
  f->owner_id = p->owner_id;
  f->from_node = from;
  f->relay_ok = relay_ok;
  f->relay_failed = relay_failed;
  f->copy = copy ? copy : mt_relay_copy_new();
  snprintf(f->address, sizeof f->address, "%s", address);
  mt_tp_stream *s = mt_tp_stream_open(ch, MT_NODE_FETCH, &fetch_handlers, f);
  if (!s) {
    if (!copy) {
      mt_relay_copy_unref(f->copy);
    }
    free(f);
    return false;
  }
  if (relay_ok) {
    mt_obj_retain_locked(o); /* the first call; a hop keeps its count */
  }
  p->fetch = f;
  if (mt_log_enabled(MT_LOG_DEBUG)) {
    mt_log(MT_LOG_DEBUG, "cluster: fetching object %016llx%016llx from %s",
           (unsigned long long)p->owner_node, (unsigned long long)p->owner_id,
           f->address);
  }
  mt_tp_stream_kick(s); /* sends the request; the reference is on_closed's */
  return true;
}

mt_relay_copy *mt_fetch_copy_locked(mt_fetch *f) {
  if (f && f->copy) {
    mt_relay_copy_retain(f->copy);
    return f->copy;
  }
  return NULL;
}

void mt_fetch_locked(mt_object *o) {
  if (o->proxy->rebuild_asked) {
    return; /* its answer says where to fetch it from */
  }
  /* The owner may point this node to one that fetched it before. */
  if (!fetch_open_locked(o, o->proxy->owner_node, true, 0, NULL)) {
    fetch_later_locked(o, mt_now_ms());
    mt_heartbeat_soon_locked();
  }
}

void mt_fetch_retry_waiting(void) {
  mt_garbage g;
  mt_garbage_init(&g);
  mt_lock();
  mt_fetch_wait *waits = mt_cl.fetch_waits;
  size_t n = mt_cl.nfetch_waits;
  mt_cl.fetch_waits = NULL;
  mt_cl.nfetch_waits = 0;
  int64_t now = mt_now_ms();
  for (size_t i = 0; i < n; i++) {
    mt_object *o = mt_obj_lookup_locked(waits[i].id);
    if (!o) {
      continue;
    }
    if (o->state == MT_OBJ_PENDING && o->proxy && o->proxy->rebuild_asked) {
      if (mt_rebuild_check_locked(o, &g) && o->state == MT_OBJ_PENDING) {
        fetch_later_locked(o, waits[i].since_ms); /* the answer is due */
      }
    } else if (o->state == MT_OBJ_PENDING && o->proxy && !o->proxy->fetch) {
      int state = mt_cl.stopping ? 0 : owner_state_locked(o->proxy->owner_node);
      if (state == 1) {
        mt_fetch_locked(o); /* may wait again, with a new start */
      } else if (state == -1 && now - waits[i].since_ms < mt_cl.dead_after_ms) {
        fetch_later_locked(o, waits[i].since_ms);
      } else {
        char hex[17], why[300];
        mt_wire_node_id_hex(o->proxy->owner_node, hex);
        snprintf(why, sizeof why, "the object lives on node %s, which %s", hex,
                 mt_cl.stopping ? "cannot be reached: this node is "
                                  "leaving the cluster"
                 : state == 0   ? "is dead"
                                : "is not in the cluster");
        if (!mt_cl.stopping && mt_rebuild_ask_locked(o, why, &g)) {
          fetch_later_locked(o, now); /* its asked node's life watched */
        } else if (mt_cl.stopping || !mt_lineage_rebuild_locked(o, why, &g)) {
          mt_obj_complete_locked(
              o,
              mt_cl.stopping
                  ? mt_error_new(MANTA_ERR_OBJECT_LOST, "cluster", "%s", why)
                  : lost_error(why),
              &g);
        }
      }
    }
    mt_obj_release_locked(o, &g);
  }
  mt_unlock();
  mt_garbage_free(&g);
  free(waits);
}

/* ---- the owner's side ---------------------------------------------------- */

typedef struct fetch_serve {
  mt_tp_stream *s;  /* one reference held */
  _Atomic int refs; /* the stream's callbacks, the pending preparation */
  mt_listener l;
  uint64_t obj_id; /* one count held while set (under rt.mu) */
  uint64_t requester;
  bool asked;
  manta_value *value; /* the object's value, once ready */
  _Atomic bool ready; /* the parts below are set */
  /* The encoding is hdr, then payload, which lies in body: the value
   * itself when it is bytes, else a bytes value holding its encoding. */
  manta_value *body;
  uint8_t hdr[MT_BYTES_HEAD_MAX];
  size_t hdr_len;
  const uint8_t *payload;
  size_t total, off;
  bool sent_any, finished;
  /* Relaying: the copy this node is receiving, served as it fills (the
   * parts above set from it once sized). */
  mt_relay_copy *copy;
  /* Pointing the requester to this node instead (the owner's answer). */
  uint64_t relay_to;
} fetch_serve;

static void fs_unref(fetch_serve *fs) {
  if (atomic_fetch_sub(&fs->refs, 1) != 1) {
    return;
  }
  mt_relay_copy_unref(fs->copy);
  manta_value_free(fs->value);
  manta_value_free(fs->body);
  mt_tp_stream_release(fs->s);
  free(fs);
}

static void release_encoding(void *data, void *arg) {
  (void)arg;
  manta_free(data);
}

/* Off the lock: the value's encoding, its refs counted as lent to the
 * requester, then the first chunk. */
static void fs_prepare_job(void *fs_, void *unused) {
  (void)unused;
  fetch_serve *fs = fs_;
  const void *data;
  size_t len;
  if (manta_get_bytes(fs->value, &data, &len) == MANTA_OK) {
    fs->hdr_len = mt_bytes_head_put(fs->hdr, len);
    fs->body = manta_value_ref(fs->value);
  } else {
    mt_id_list refs;
    mt_refs_begin(&refs);
    void *buf = NULL;
    manta_err err = manta_value_encode(fs->value, &buf, &len);
    mt_refs_end(&refs);
    if (err == MANTA_OK && refs.len) {
      mt_garbage g;
      mt_garbage_init(&g);
      mt_lock();
      mt_borrow_out_locked(&refs, fs->requester, &g);
      mt_unlock();
      mt_garbage_free(&g);
    }
    mt_refs_free(&refs);
    if (err == MANTA_OK &&
        !(fs->body = manta_bytes_wrap(buf, len, release_encoding, NULL))) {
      manta_free(buf);
      err = MANTA_ERR_NOMEM;
    }
    if (err != MANTA_OK) {
      mt_tp_stream_close(fs->s, MT_TP_INTERNAL, "the object cannot be encoded");
      fs_unref(fs);
      return;
    }
    data = buf;
  }
  fs->payload = data;
  fs->total = fs->hdr_len + len;
  atomic_store(&fs->ready, true);
  mt_tp_stream_kick(fs->s);
  fs_unref(fs);
}

static void fs_on_ready(void *ctx, mt_object *o, mt_garbage *g) {
  fetch_serve *fs = ctx;
  fs->value = mt_obj_value_locked(o, g); /* read back if spilled */
  atomic_fetch_add(&fs->refs, 1);
  mt_garbage_add_dtor(g, fs_prepare_job, fs, NULL);
}

/* Objects smaller than this are always sent by their owner: a pointer to
 * another node costs a round trip more than it saves. */
#define RELAY_MIN (4 * CHUNK)

/* On the owner, per object served to other nodes: the nodes that asked for
 * it, and the last of them (the chain's tail). */
typedef struct relay_chain {
  uint64_t tail;
  size_t n, cap;
  uint64_t *asked;
} relay_chain;

static bool chain_asked(relay_chain *c, uint64_t node) {
  for (size_t i = 0; i < c->n; i++) {
    if (c->asked[i] == node) {
      return true;
    }
  }
  if (c->n == c->cap) {
    size_t cap = c->cap ? 2 * c->cap : 8;
    uint64_t *grown = realloc(c->asked, cap * sizeof *grown);
    if (!grown) {
      return true; /* counted as asked before: served here */
    }
    c->asked = grown;
    c->cap = cap;
  }
  c->asked[c->n++] = node;
  return false;
}

/* On the owner: the node the requester of o (local id id) should fetch it
 * from instead of here, or 0 (serve it here). The owner points a node
 * asking for the first time to the node that asked before it, which
 * serves the chunks as they arrive (relay.c): a broadcast becomes a chain
 * and the owner uploads the object once. A node asking again (its copy
 * was dropped) or falling back is served here: so every copy being
 * relayed comes from a node that asked earlier, and no two nodes can wait
 * on each other's copies. Only a ready bytes value, whose copy is the
 * value as it is, and only to a node alive in the view. */
static uint64_t relay_next_locked(mt_object *o, uint64_t id, uint64_t requester,
                                  bool relay_ok, uint64_t relay_failed) {
  if (!requester || (!relay_ok && !relay_failed) || o->state != MT_OBJ_READY ||
      !o->value || manta_value_kind(o->value) != MANTA_KIND_BYTES ||
      o->bytes < RELAY_MIN) {
    return 0;
  }
  relay_chain *c = mt_u64map_get(&mt_cl.relay_tails, id);
  if (!c) {
    c = calloc(1, sizeof *c);
    if (!c || !mt_u64map_put(&mt_cl.relay_tails, id, c)) {
      free(c);
      return 0;
    }
  }
  uint64_t tail = c->tail == relay_failed ? 0 : c->tail;
  bool again = chain_asked(c, requester);
  c->tail = requester; /* next in the chain, served here or by the tail */
  if (again || !relay_ok || !tail || tail == requester) {
    return 0;
  }
  const mt_view_node *n = mt_view_find_locked(tail);
  return n && n->alive ? tail : 0;
}

static void chain_free(relay_chain *c) {
  if (c) {
    free(c->asked);
    free(c);
  }
}

void mt_relay_forget_locked(uint64_t id) {
  chain_free(mt_u64map_remove(&mt_cl.relay_tails, id));
}

void mt_relay_forget_all_locked(void) {
  uint64_t key;
  void *val;
  for (size_t pos = 0; mt_u64map_next(&mt_cl.relay_tails, &pos, &key, &val);) {
    chain_free(val);
  }
  mt_u64map_free(&mt_cl.relay_tails);
}

static void fs_on_message(void *arg, mt_tp_stream *s, const uint8_t *body,
                          size_t len) {
  fetch_serve *fs = arg;
  if (fs->asked) {
    return; /* one request per call */
  }
  fs->asked = true;
  Manta__V1__FetchRequest *r =
      manta__v1__fetch_request__unpack(NULL, len, body);
  uint64_t node, id;
  if (!r || !mt_wire_id_get(&r->id, &node, &id)) {
    mt_log(MT_LOG_WARN, "node: malformed FetchRequest from %s",
           mt_tp_stream_peer(s));
    mt_tp_stream_close(s, MT_TP_INVALID_ARGUMENT, "malformed FetchRequest");
    if (r) {
      manta__v1__fetch_request__free_unpacked(r, NULL);
    }
    return;
  }
  fs->requester = r->node_id;
  bool relay_ok = r->relay_ok;
  uint64_t relay_failed = r->relay_failed;
  manta__v1__fetch_request__free_unpacked(r, NULL);
  mt_garbage g;
  mt_garbage_init(&g);
  mt_lock();
  mt_object *o = NULL;
  if (node == mt_rt.node_id) {
    o = mt_obj_lookup_locked(id);
    o = o && !o->proxy ? o : NULL;
    if (o) {
      fs->relay_to =
          relay_next_locked(o, id, fs->requester, relay_ok, relay_failed);
    }
  } else {
    /* Another node's object: the copy held here, or being received. */
    o = mt_proxy_object_locked(node, id);
    if (o && o->state != MT_OBJ_READY) {
      fs->copy = mt_fetch_copy_locked(o->proxy ? o->proxy->fetch : NULL);
      o = NULL;
    } else if (o && o->is_error) {
      o = NULL;
    }
  }
  if (o && !fs->relay_to) {
    mt_obj_retain_locked(o);
    fs->obj_id = mt_slots_id(&mt_rt.objects, o);
    mt_obj_when_ready_locked(o, &fs->l, fs_on_ready, fs, &g);
  }
  mt_unlock();
  mt_garbage_free(&g);
  if (fs->relay_to) {
    atomic_store(&fs->ready, true);
    mt_tp_stream_kick(s);
  } else if (fs->copy) {
    if (!mt_relay_copy_watch(fs->copy, s)) {
      mt_tp_stream_close(s, MT_TP_RESOURCE_EXHAUSTED, "out of memory");
      return;
    }
    mt_tp_stream_kick(s);
  } else if (!fs->obj_id) {
    mt_tp_stream_close(s, MT_TP_NOT_FOUND,
                       "no such object on this node (freed, or never here)");
  }
}

static void release_body(void *body) {
  manta_value_free(body);
}

static void release_copy(void *copy) {
  mt_relay_copy_unref(copy);
}

/* The one message pointing the requester to fs->relay_to. */
static bool fill_pointer(fetch_serve *fs, mt_tp_stream *s, mt_tp_buf *out) {
  if (fs->sent_any) {
    fs->finished = true;
    mt_tp_stream_close(s, MT_TP_OK, NULL);
    return false;
  }
  Manta__V1__ObjectChunk c = MANTA__V1__OBJECT_CHUNK__INIT;
  c.relay_node = fs->relay_to;
  fs->sent_any = true;
  if (!mt_wire_pack(&c.base, out)) {
    mt_tp_stream_close(s, MT_TP_RESOURCE_EXHAUSTED, "out of memory");
    return false;
  }
  return true;
}

/* How much of the encoding can be sent now: all of it, or, relaying, what
 * has arrived; SIZE_MAX when the relayed copy failed. */
static size_t fs_available(fetch_serve *fs) {
  if (!fs->copy) {
    return fs->total;
  }
  const uint8_t *buf;
  uint64_t len, have;
  int state = mt_relay_copy_read(fs->copy, &buf, &len, &have);
  if (state == MT_RELAY_FAILED) {
    return SIZE_MAX;
  }
  if (!buf) {
    return 0; /* not sized yet: nothing to say */
  }
  if (!fs->total) {
    fs->hdr_len = mt_bytes_head_put(fs->hdr, len);
    fs->payload = buf;
    fs->total = fs->hdr_len + (size_t)len;
  }
  return fs->hdr_len + (size_t)have;
}

static bool fs_fill(void *arg, mt_tp_stream *s, mt_tp_buf *out) {
  fetch_serve *fs = arg;
  if (fs->finished || (!fs->copy && !atomic_load(&fs->ready))) {
    return false;
  }
  if (fs->relay_to) {
    return fill_pointer(fs, s, out);
  }
  size_t avail = fs_available(fs);
  if (avail == SIZE_MAX) {
    fs->finished = true;
    mt_tp_stream_close(s, MT_TP_UNAVAILABLE,
                       "the copy this node was receiving failed");
    return false;
  }
  if (fs->off == fs->total && fs->sent_any) {
    fs->finished = true; /* the last chunk has gone: end the call */
    mt_tp_stream_close(s, MT_TP_OK, NULL);
    return false;
  }
  if (fs->copy && (fs->total == 0 || avail <= fs->off ||
                   (avail - fs->off < CHUNK && avail < fs->total))) {
    return false; /* a whole chunk is not there yet: kicked when it is */
  }
  size_t n = avail - fs->off < CHUNK ? avail - fs->off : CHUNK;
  uint8_t *b = malloc(MT_CHUNK_HEAD_MAX + MT_BYTES_HEAD_MAX);
  if (!b) {
    mt_tp_stream_close(s, MT_TP_RESOURCE_EXHAUSTED, "out of memory");
    return false;
  }
  size_t k = mt_chunk_head_put(b, fs->total, n);
  size_t at = fs->off, end = fs->off + n;
  if (at < fs->hdr_len) {
    size_t h = fs->hdr_len - at < n ? fs->hdr_len - at : n;
    memcpy(b + k, fs->hdr + at, h);
    k += h;
    at += h;
  }
  if (end > at && fs->copy) {
    /* The copy's block, by reference, counted until gRPC lets go. */
    mt_relay_copy_retain(fs->copy);
    mt_tp_stream_fill_ref(s, fs->payload + (at - fs->hdr_len), end - at,
                          release_copy, fs->copy);
  } else if (end > at) {
    /* The value's own bytes, by reference: no copy of the chunk. */
    mt_tp_stream_fill_ref(s, fs->payload + (at - fs->hdr_len), end - at,
                          release_body, manta_value_ref(fs->body));
  }
  fs->off = end;
  fs->sent_any = true;
  mt_transfer_note(fs->requester, 0, n); /* /metrics, per peer */
  out->data = b;
  out->len = k;
  return true;
}

static void fs_on_closed(void *arg, mt_tp_stream *s, int status,
                         const char *detail) {
  fetch_serve *fs = arg;
  if (status != MT_TP_OK && status != MT_TP_CANCELLED) {
    mt_log(MT_LOG_INFO, "node: object transfer to %s ended: %s",
           mt_tp_stream_peer(s), detail);
  }
  if (fs->copy) {
    mt_relay_copy_unwatch(fs->copy, s);
  }
  mt_garbage g;
  mt_garbage_init(&g);
  mt_lock();
  mt_listener_remove_locked(&fs->l);
  mt_object *o = fs->obj_id ? mt_obj_lookup_locked(fs->obj_id) : NULL;
  if (o) {
    mt_obj_release_locked(o, &g);
  }
  fs->obj_id = 0;
  mt_unlock();
  mt_garbage_free(&g);
  fs_unref(fs);
}

static const mt_tp_stream_handlers serve_handlers = {
    .on_message = fs_on_message,
    .fill = fs_fill,
    .on_closed = fs_on_closed,
    .outlive_half_close = true};

void *mt_fetch_serve_open(mt_tp_stream *s, const mt_tp_stream_handlers **h) {
  fetch_serve *fs = calloc(1, sizeof *fs);
  if (!fs) {
    *h = NULL;
    return NULL;
  }
  mt_tp_stream_retain(s);
  fs->s = s;
  atomic_init(&fs->refs, 1);
  *h = &serve_handlers;
  return fs;
}
