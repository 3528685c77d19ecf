/*
 * Lost arguments rebuilt by the node that sent them (docs/fault-tolerance.md,
 * "Lost arguments"; docs/protocol.md, "Lost arguments").
 *
 * A task sent to node Y may name, among its arguments, an object that lives
 * on a third node X (a large result made there, which stayed). Y fetches it
 * from X. If X died, only the process that submitted the task that made the
 * object can make it again (lineage.c), and Y does not know which process
 * that is: it asks the node that sent it the ref with a task (the proxy's
 * `rebuilder`), which is that process whenever the ref came straight from
 * it. The asked node gets the object back as its own get would (fetch,
 * rebuild once X is dead, recursively, within the task's dispatch budget)
 * and answers with where the object lives now (counted as a borrow of Y,
 * as a ref sent to Y would be) or with the error that says why it cannot
 * be had (a put, an evicted lineage, dispatches used up). Y's proxy then
 * stands for the new copy and is fetched again; the task waiting for it
 * runs. While Y waits, the heartbeat thread checks the asked node is alive
 * (fetch.c); if it dies, the object is lost and says so.
 *
 * Everything here runs under rt.mu.
 */
#include "cluster.h"

#include <stdlib.h>
#include <string.h>

_Thread_local uint64_t mt_ref_sender;

/* A request being answered: the asked object's listener, on the node that
 * rebuilds it. */
typedef struct rebuild_wait {
  mt_listener l;
  uint64_t obj;       /* the local object (one count held) */
  uint64_t asker;     /* the node to answer */
  uint64_t lost_node; /* where the asker looked for it */
  uint8_t asked[16];  /* RebuildRequest.id, echoed */
  struct rebuild_wait *prev, *next;
} rebuild_wait;

static rebuild_wait *waits; /* answers not sent yet */

/* old id (node's object id) -> the local object its proxy stood for, kept
 * when a proxy is detached to rebuild its object; node checked on lookup. */
typedef struct moved {
  uint64_t node, obj;
  struct moved *next_same;
} moved;
static mt_u64map moves;

static bool alive_locked(uint64_t node) {
  const mt_view_node *v = mt_view_find_locked(node);
  return v && v->alive;
}

/* ---- the node that cannot fetch ------------------------------------------ */

bool mt_rebuild_ask_locked(mt_object *o, const char *why, mt_garbage *g) {
  mt_proxy *p = o->proxy;
  if (!p || !p->rebuilder || p->rebuild_asked || mt_cl.stopping ||
      o->state != MT_OBJ_PENDING || p->rebuilder == p->owner_node ||
      !alive_locked(p->rebuilder)) {
    return false;
  }
  uint8_t wire[16];
  mt_wire_id_join(p->owner_node, p->owner_id, wire);
  Manta__V1__RebuildRequest r = MANTA__V1__REBUILD_REQUEST__INIT;
  r.id.data = wire;
  r.id.len = sizeof wire;
  r.node_id = mt_rt.node_id;
  mt_tp_buf b;
  if (!mt_wire_pack(&r.base, &b)) {
    return false;
  }
  bool sent = mt_peer_send_locked(p->rebuilder, 11, b.data, b.len, g);
  free(b.data);
  if (!sent) {
    return false;
  }
  p->rebuild_asked = true;
  char hex[17];
  mt_wire_node_id_hex(p->rebuilder, hex);
  mt_log(MT_LOG_INFO,
         "cluster: %s; asking node %s, which sent its ref here, to rebuild "
         "it",
         why, hex);
  return true;
}

bool mt_rebuild_check_locked(mt_object *o, mt_garbage *g) {
  mt_proxy *p = o->proxy;
  if (!p || !p->rebuild_asked) {
    return false;
  }
  if (mt_cl.stopping || !alive_locked(p->rebuilder)) {
    char hex[17], lost[17];
    mt_wire_node_id_hex(p->rebuilder, hex);
    mt_wire_node_id_hex(p->owner_node, lost);
    manta_value *e = mt_error_new(
        MANTA_ERR_OBJECT_LOST, "cluster",
        "the object lived on node %s, which died; node %s, asked to rebuild "
        "it, %s",
        lost, hex,
        mt_cl.stopping ? "cannot answer: this node is leaving the cluster"
                       : "is gone too");
    mt_proxy_detach_locked(o, g);
    mt_obj_complete_locked(o, e, g);
  }
  return true;
}

/* A RebuildReply: the proxy asked follows the object's new copy, or is
 * resolved with the error. */
static void reply_in_locked(const Manta__V1__RebuildReply *r, mt_garbage *g) {
  uint64_t node, id, new_node = 0, new_id = 0;
  if (!mt_wire_id_get(&r->id, &node, &id)) {
    mt_log(MT_LOG_WARN, "cluster: a RebuildReply without a valid id");
    return;
  }
  bool has_new = mt_wire_id_get(&r->new_id, &new_node, &new_id);
  mt_proxy *p = mt_proxy_find_locked(node, id);
  mt_object *o =
      p && p->rebuild_asked ? mt_obj_lookup_locked(p->local_id) : NULL;
  if (!o || o->state != MT_OBJ_PENDING) {
    if (has_new) {
      mt_borrow_give_back_locked(new_node, new_id, g); /* nobody waits */
    }
    return;
  }
  if (has_new) {
    mt_log(MT_LOG_INFO,
           "cluster: an argument lost with node %016llx was made again; "
           "fetching it from node %016llx",
           (unsigned long long)node, (unsigned long long)new_node);
    mt_proxy_repoint_locked(o, new_node, new_id, g);
    return;
  }
  manta_value *e = r->error.len
                       ? mt_wire_decode_value(&r->error, "a rebuild's error")
                       : NULL;
  if (!e || manta_value_kind(e) != MANTA_KIND_ERROR) {
    mt_garbage_add(g, e);
    e = mt_error_new(MANTA_ERR_OBJECT_LOST, "cluster",
                     "the object lived on node %016llx, which died, and the "
                     "node asked to rebuild it answered neither where it "
                     "lives now nor why not",
                     (unsigned long long)node);
  }
  mt_proxy_detach_locked(o, g);
  mt_obj_complete_locked(o, e, g);
}

/* ---- the node asked ------------------------------------------------------ */

static void send_reply_locked(uint64_t asker, const uint8_t asked[16],
                              const uint8_t *new_id, const manta_value *error,
                              mt_garbage *g) {
  Manta__V1__RebuildReply r = MANTA__V1__REBUILD_REPLY__INIT;
  r.id.data = (uint8_t *)asked;
  r.id.len = 16;
  if (new_id) {
    r.new_id.data = (uint8_t *)new_id;
    r.new_id.len = 16;
  } else if (mt_wire_encode_value(error, &r.error) != MANTA_OK) {
    r.error.len = 0;
  }
  mt_tp_buf b;
  bool packed = mt_wire_pack(&r.base, &b);
  if (!new_id) {
    manta_free(r.error.data);
  }
  if (!packed || !mt_peer_send_locked(asker, 12, b.data, b.len, g)) {
    mt_log(MT_LOG_WARN,
           "cluster: the answer to node %016llx's rebuild request was "
           "dropped (%s)",
           (unsigned long long)asker, packed ? "no link" : "out of memory");
  }
  if (packed) {
    free(b.data);
  }
}

/* o (ready) is what the asker wants: tells it where to fetch it from. */
static void answer_locked(rebuild_wait *w, mt_object *o, mt_garbage *g) {
  if (o->is_error) {
    send_reply_locked(w->asker, w->asked, NULL, o->value, g);
    return;
  }
  if (o->proxy && o->proxy->owner_node == w->lost_node) {
    /* Fetched here before its node died: this copy is the one left. */
    mt_proxy_detach_locked(o, g);
    mt_lineage_forget_locked(w->obj, g);
  }
  uint64_t id = w->obj;
  mt_id_list c = {.ids = &id, .len = 1};
  mt_borrow_out_locked(&c, w->asker, g); /* as a ref sent to it */
  uint8_t wire[16];
  mt_obj_to_wire(w->obj, wire);
  send_reply_locked(w->asker, w->asked, wire, NULL, g);
}

static void release_job(void *id, void *unused) {
  (void)unused;
  mt_garbage g;
  mt_garbage_init(&g);
  mt_lock();
  mt_object *o = mt_obj_lookup_locked((uint64_t)(uintptr_t)id);
  if (o) {
    mt_obj_release_locked(o, &g);
  }
  mt_unlock();
  mt_garbage_free(&g);
}

static void unlink_wait(rebuild_wait *w) {
  if (w->prev) {
    w->prev->next = w->next;
  } else {
    waits = w->next;
  }
  if (w->next) {
    w->next->prev = w->prev;
  }
}

static void on_ready(void *ctx, mt_object *o, mt_garbage *g) {
  rebuild_wait *w = ctx;
  unlink_wait(w);
  answer_locked(w, o, g);
  /* Released later: o may be mid-completion, its listeners being called. */
  mt_garbage_add_dtor(g, release_job, (void *)(uintptr_t)w->obj, NULL);
  free(w);
}

/* The local object (node, id) names here: its proxy, or the object its
 * proxy stood for before it was detached to be rebuilt. */
static mt_object *asked_object_locked(uint64_t node, uint64_t id) {
  mt_proxy *p = mt_proxy_find_locked(node, id);
  if (p) {
    return mt_obj_lookup_locked(p->local_id);
  }
  for (moved *m = moves.len ? mt_u64map_get(&moves, id) : NULL; m;
       m = m->next_same) {
    if (m->node == node) {
      return mt_obj_lookup_locked(m->obj); /* NULL once freed */
    }
  }
  return NULL;
}

static void request_in_locked(const Manta__V1__RebuildRequest *r,
                              mt_garbage *g) {
  uint64_t node, id;
  if (!mt_wire_id_get(&r->id, &node, &id) || !r->node_id) {
    mt_log(MT_LOG_WARN, "cluster: a RebuildRequest without a valid id or "
                        "asking node");
    return;
  }
  mt_object *o = asked_object_locked(node, id);
  rebuild_wait *w = o ? calloc(1, sizeof *w) : NULL;
  if (!w) {
    manta_value *e = mt_error_new(
        MANTA_ERR_OBJECT_LOST, "cluster",
        "the object lived on node %016llx, which died; node %016llx, which "
        "sent its ref, %s",
        (unsigned long long)node, (unsigned long long)mt_rt.node_id,
        o ? "ran out of memory rebuilding it"
          : "holds no ref to it any more and cannot rebuild it");
    send_reply_locked(r->node_id, r->id.data, NULL, e, g);
    manta_value_free(e);
    return;
  }
  w->obj = mt_slots_id(&mt_rt.objects, o);
  w->asker = r->node_id;
  w->lost_node = node;
  memcpy(w->asked, r->id.data, 16);
  w->next = waits;
  if (waits) {
    waits->prev = w;
  }
  waits = w;
  mt_log(MT_LOG_INFO,
         "cluster: node %016llx cannot fetch object %016llx%016llx (its node "
         "is gone): getting it back for it",
         (unsigned long long)w->asker, (unsigned long long)node,
         (unsigned long long)id);
  mt_obj_retain_locked(o);
  /* As a get: fetched, or rebuilt once its node is declared dead. */
  mt_obj_when_ready_locked(o, &w->l, on_ready, w, g);
}

void mt_rebuild_in_locked(const Manta__V1__TaskBatch *b, mt_garbage *g) {
  for (size_t i = 0; i < b->n_rebuild_requests; i++) {
    request_in_locked(b->rebuild_requests[i], g);
  }
  for (size_t i = 0; i < b->n_rebuild_replies; i++) {
    reply_in_locked(b->rebuild_replies[i], g);
  }
}

void mt_rebuild_moved_locked(uint64_t node, uint64_t id, uint64_t obj) {
  for (moved *m = moves.len ? mt_u64map_get(&moves, id) : NULL; m;
       m = m->next_same) {
    if (m->node == node) {
      m->obj = obj;
      return;
    }
  }
  moved *m = calloc(1, sizeof *m);
  if (!m) {
    return; /* a later request is answered "no ref to it" */
  }
  m->node = node;
  m->obj = obj;
  m->next_same = mt_u64map_remove(&moves, id);
  if (!mt_u64map_put(&moves, id, m)) {
    if (m->next_same) {
      mt_u64map_put(&moves, id, m->next_same);
    }
    free(m);
  }
}

void mt_rebuild_stop_locked(mt_garbage *g) {
  while (waits) {
    rebuild_wait *w = waits;
    unlink_wait(w);
    mt_listener_remove_locked(&w->l);
    mt_object *o = mt_obj_lookup_locked(w->obj);
    if (o) {
      mt_obj_release_locked(o, g);
    }
    free(w);
  }
  uint64_t key;
  void *val;
  for (size_t pos = 0; mt_u64map_next(&moves, &pos, &key, &val);) {
    for (moved *m = val; m;) {
      moved *next = m->next_same;
      free(m);
      m = next;
    }
  }
  mt_u64map_free(&moves);
}
