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
  char address[64];
  bool requested;
  mt_chunk_sink sink;
};

static void fetch_on_chunk(void *arg, mt_tp_stream *s, mt_tp_msg *m) {
  mt_fetch *f = arg;
  if (f->sink.error[0]) {
    return;
  }
  size_t len = mt_tp_msg_length(m);
  mt_transfer_note(f->owner_node, len, 0); /* /metrics, per peer */
  uint8_t head[MT_CHUNK_HEAD_MAX];
  size_t n = mt_tp_msg_read(m, head, len < sizeof head ? len : sizeof head);
  uint8_t *dst = mt_chunk_sink_head(&f->sink, head, n, len);
  if (dst) {
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
      mt_chunk_sink_flat(&f->sink, flat, len);
      free(flat);
    } else {
      snprintf(f->sink.error, sizeof f->sink.error, "out of memory");
    }
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

static void fetch_on_closed(void *arg, mt_tp_stream *s, int status,
                            const char *detail) {
  mt_fetch *f = arg;
  manta_value *v = NULL;
  if (status == MT_TP_OK) {
    v = mt_chunk_sink_value(&f->sink);
  } else if (!f->sink.error[0]) {
    snprintf(f->sink.error, sizeof f->sink.error, "%s (status %d)",
             detail[0] ? detail : "the link failed", status);
  }
  if (v) {
    mt_log(MT_LOG_DEBUG, "cluster: fetched %llu bytes from %s",
           (unsigned long long)f->sink.total, f->address);
  }
  char hex[17], why[400] = "";
  if (!v) {
    mt_wire_node_id_hex(f->owner_node, hex);
    snprintf(why, sizeof why,
             "the object lives on node %s (%s) and could not be fetched: %s",
             hex, f->address, f->sink.error);
  }
  mt_chunk_sink_free(&f->sink);
  mt_garbage g;
  mt_garbage_init(&g);
  mt_lock();
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

void mt_fetch_locked(mt_object *o) {
  mt_proxy *p = o->proxy;
  if (p->rebuild_asked) {
    return; /* its answer says where to fetch it from */
  }
  char address[64] = "";
  mt_tp_channel *ch =
      mt_cl.stopping
          ? NULL
          : mt_peer_channel_locked(p->owner_node, address, sizeof address);
  mt_fetch *f = ch ? calloc(1, sizeof *f) : NULL;
  if (!f) {
    fetch_later_locked(o, mt_now_ms());
    mt_heartbeat_soon_locked();
    return;
  }
  f->local_id = p->local_id;
  f->owner_node = p->owner_node;
  f->owner_id = p->owner_id;
  snprintf(f->address, sizeof f->address, "%s", address);
  mt_tp_stream *s = mt_tp_stream_open(ch, MT_NODE_FETCH, &fetch_handlers, f);
  if (!s) {
    free(f);
    fetch_later_locked(o, mt_now_ms());
    mt_heartbeat_soon_locked();
    return;
  }
  mt_obj_retain_locked(o);
  p->fetch = f;
  if (mt_log_enabled(MT_LOG_DEBUG)) {
    mt_log(MT_LOG_DEBUG, "cluster: fetching object %016llx%016llx from %s",
           (unsigned long long)p->owner_node, (unsigned long long)p->owner_id,
           f->address);
  }
  mt_tp_stream_kick(s); /* sends the request; the reference is on_closed's */
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
} fetch_serve;

static void fs_unref(fetch_serve *fs) {
  if (atomic_fetch_sub(&fs->refs, 1) != 1) {
    return;
  }
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
  manta__v1__fetch_request__free_unpacked(r, NULL);
  mt_garbage g;
  mt_garbage_init(&g);
  mt_lock();
  mt_object *o = node == mt_rt.node_id ? mt_obj_lookup_locked(id) : NULL;
  if (o && !o->proxy) {
    mt_obj_retain_locked(o);
    fs->obj_id = id;
    mt_obj_when_ready_locked(o, &fs->l, fs_on_ready, fs, &g);
  }
  mt_unlock();
  mt_garbage_free(&g);
  if (!fs->obj_id) {
    mt_tp_stream_close(s, MT_TP_NOT_FOUND,
                       "no such object on this node (freed, or never here)");
  }
}

static void release_body(void *body) {
  manta_value_free(body);
}

static bool fs_fill(void *arg, mt_tp_stream *s, mt_tp_buf *out) {
  fetch_serve *fs = arg;
  if (!atomic_load(&fs->ready) || fs->finished) {
    return false;
  }
  if (fs->off == fs->total && fs->sent_any) {
    fs->finished = true; /* the last chunk has gone: end the call */
    mt_tp_stream_close(s, MT_TP_OK, NULL);
    return false;
  }
  size_t n = fs->total - fs->off < CHUNK ? fs->total - fs->off : CHUNK;
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
  if (end > at) {
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
