/*
 * Objects across nodes (ownership): the node that made an object owns it
 * and counts, per node, the copies of its ref that other nodes hold
 * (borrows, folded into the object's count); a node holding a ref to an
 * object of another node has one local proxy object for it, which tells the
 * owner how many copies it received once it is dropped.
 *
 * Counting rules, all under rt.mu:
 *  - a ref leaving its owner for node X: one more borrow for X, at once;
 *  - a ref leaving another node B for X: B sends +1 for X to the owner
 *    before its own -n can follow on the same link, so the count cannot
 *    reach zero between the two; a -1 from X overtaking that +1 makes X's
 *    entry negative for a moment, and only positive entries count;
 *  - a ref going back to its owner in a result: the sender keeps the result
 *    until the owner acknowledges it (task_receive.c), since that result and
 * the sender's own -n travel on different streams;
 *  - a node declared dead loses every borrow it had.
 */
#include "cluster.h"

#include <stdlib.h>
#include <string.h>

/* Borrows of one lent object, per node. */
typedef struct borrow_rec {
  size_t n, cap;
  uint64_t *nodes;
  int64_t *counts;
} borrow_rec;

static void rec_free(borrow_rec *r) {
  if (r) {
    free(r->nodes);
    free(r->counts);
    free(r);
  }
}

/* ---- capturing the refs an encoding names ------------------------------- */

void mt_refs_begin(mt_id_list *c) {
  memset(c, 0, sizeof *c);
  mt_ref_capture = c;
}

void mt_refs_end(mt_id_list *c) {
  (void)c;
  mt_ref_capture = NULL;
}

void mt_refs_free(mt_id_list *c) {
  free(c->ids);
  memset(c, 0, sizeof *c);
}

/* ---- borrowers, on the owner -------------------------------------------- */

/* Drops k counts of o; a count driven below one frees it. */
static void unref_n_locked(mt_object *o, int64_t k, mt_garbage *g) {
  if (k <= 0) {
    return;
  }
  if (o->refs > k) {
    o->refs -= k;
  } else {
    o->refs = 1;
    mt_obj_release_locked(o, g);
  }
}

static bool node_known_dead_locked(uint64_t node) {
  for (size_t i = 0; i < mt_cl.nview; i++) {
    if (mt_cl.view[i].node_id == node) {
      return !mt_cl.view[i].alive;
    }
  }
  return false; /* maybe too new for our view */
}

/* Adds delta borrows of o for node; false on OOM (nothing changed). */
static bool lend_locked(mt_object *o, uint64_t id, uint64_t node, int64_t delta,
                        mt_garbage *g) {
  borrow_rec *r = mt_u64map_get(&mt_cl.borrows, id);
  if (!r) {
    if (delta < 0 && !o->lent) {
      return true; /* nothing lent: a stale update */
    }
    r = calloc(1, sizeof *r);
    if (!r || !mt_u64map_put(&mt_cl.borrows, id, r)) {
      free(r);
      return false;
    }
    o->lent = true;
  }
  size_t i = 0;
  while (i < r->n && r->nodes[i] != node) {
    i++;
  }
  if (i == r->n) {
    if (r->n == r->cap) {
      size_t cap = r->cap ? 2 * r->cap : 2;
      uint64_t *nodes = realloc(r->nodes, cap * sizeof *nodes);
      if (nodes) {
        r->nodes = nodes;
      }
      int64_t *counts = nodes ? realloc(r->counts, cap * sizeof *counts) : NULL;
      if (!counts) {
        return false;
      }
      r->counts = counts;
      r->cap = cap;
    }
    r->nodes[r->n] = node;
    r->counts[r->n] = 0;
    r->n++;
  }
  /* A node's entry counts in the object only while positive: a release
   * that overtook the +1 announcing the copies makes it negative for a
   * moment, which must not take away what the forwarder still holds. */
  int64_t before = r->counts[i] > 0 ? r->counts[i] : 0;
  r->counts[i] += delta;
  int64_t after = r->counts[i] > 0 ? r->counts[i] : 0;
  if (r->counts[i] == 0) {
    r->nodes[i] = r->nodes[r->n - 1];
    r->counts[i] = r->counts[r->n - 1];
    r->n--;
  }
  if (after > before) {
    o->refs += after - before;
  } else {
    unref_n_locked(o, before - after, g); /* may free o and r */
  }
  return true;
}

void mt_borrow_apply_locked(const uint8_t *wire, size_t len, uint64_t node,
                            int64_t delta, mt_garbage *g) {
  uint64_t owner, id;
  if (len != 16 || node == 0 || delta == 0) {
    return;
  }
  mt_wire_id_split(wire, &owner, &id);
  mt_object *o = mt_obj_lookup_locked(id);
  if (owner != mt_rt.node_id || !o || o->proxy ||
      (delta > 0 && node_known_dead_locked(node))) {
    return; /* freed already, or for a node gone: nothing to count */
  }
  if (!lend_locked(o, id, node, delta, g)) {
    mt_log(MT_LOG_ERROR, "cluster: out of memory counting borrowers");
  }
}

void mt_borrows_check_locked(mt_garbage *g) {
  /* Collect first: releasing may free objects, which edits the map. */
  size_t n = 0;
  uint64_t *ids = calloc(mt_cl.borrows.len + 1, sizeof *ids);
  uint64_t *nodes = calloc(mt_cl.borrows.len + 1, sizeof *nodes);
  int64_t *counts = calloc(mt_cl.borrows.len + 1, sizeof *counts);
  uint64_t key;
  void *val;
  for (size_t pos = 0; ids && nodes && counts &&
                       mt_u64map_next(&mt_cl.borrows, &pos, &key, &val);) {
    borrow_rec *r = val;
    for (size_t j = 0; r && j < r->n && n < mt_cl.borrows.len; j++) {
      if (node_known_dead_locked(r->nodes[j])) {
        ids[n] = key;
        nodes[n] = r->nodes[j];
        counts[n++] = r->counts[j];
        break; /* one per object and pass; the next view change does more */
      }
    }
  }
  for (size_t i = 0; i < n; i++) {
    mt_object *o = mt_obj_lookup_locked(ids[i]);
    if (o) {
      lend_locked(o, ids[i], nodes[i], -counts[i], g);
    }
  }
  if (n) {
    mt_log(MT_LOG_INFO,
           "cluster: %zu objects lost borrowers on nodes that died", n);
  }
  free(ids);
  free(nodes);
  free(counts);
}

/* ---- refs leaving this node ---------------------------------------------- */

/* Queues a BorrowUpdate for the owner of an object. */
static void send_borrow_locked(uint64_t owner, uint64_t owner_id, uint64_t node,
                               int64_t delta, mt_garbage *g) {
  uint8_t wire[16];
  mt_wire_id_join(owner, owner_id, wire);
  Manta__V1__BorrowUpdate u = MANTA__V1__BORROW_UPDATE__INIT;
  u.id.data = wire;
  u.id.len = sizeof wire;
  u.node_id = node;
  u.delta = delta;
  mt_tp_buf b;
  if (!mt_wire_pack(&u.base, &b)) {
    return;
  }
  if (!mt_peer_send_locked(owner, 3, b.data, b.len, g)) {
    mt_log(MT_LOG_DEBUG,
           "cluster: borrow update for node %016llx dropped "
           "(no link)",
           (unsigned long long)owner);
  }
  free(b.data);
}

bool mt_borrow_out_locked(const mt_id_list *c, uint64_t dest, mt_garbage *g) {
  bool ack = false;
  if (c->oom) {
    mt_log(MT_LOG_ERROR, "cluster: out of memory counting refs sent away");
  }
  for (size_t i = 0; i < c->len; i++) {
    mt_object *o = mt_obj_lookup_locked(c->ids[i]);
    if (!o) {
      continue;
    }
    if (!o->proxy) {
      if (!lend_locked(o, c->ids[i], dest, 1, g)) {
        mt_log(MT_LOG_ERROR, "cluster: out of memory counting borrowers");
      }
    } else if (o->proxy->owner_node == dest) {
      ack = true;
    } else {
      send_borrow_locked(o->proxy->owner_node, o->proxy->owner_id, dest, 1, g);
    }
  }
  return ack;
}

/* ---- proxies ------------------------------------------------------------- */

mt_proxy *mt_proxy_find_locked(uint64_t node, uint64_t id) {
  mt_proxy *p = mt_u64map_get(&mt_cl.proxies, id);
  while (p && p->owner_node != node) {
    p = p->next_same;
  }
  return p;
}

mt_object *mt_proxy_object_locked(uint64_t node, uint64_t id) {
  mt_proxy *p = mt_proxy_find_locked(node, id);
  return p ? mt_obj_lookup_locked(p->local_id) : NULL;
}

/* Makes o stand for (node, id); false on OOM. */
static bool proxy_attach_locked(mt_object *o, uint64_t node, uint64_t id,
                                int64_t receptions) {
  mt_proxy *p = calloc(1, sizeof *p);
  if (!p) {
    return false;
  }
  p->owner_node = node;
  p->owner_id = id;
  p->local_id = mt_slots_id(&mt_rt.objects, o);
  p->receptions = receptions;
  p->next_same = mt_u64map_get(&mt_cl.proxies, id);
  if (p->next_same) {
    mt_u64map_remove(&mt_cl.proxies, id);
  }
  if (!mt_u64map_put(&mt_cl.proxies, id, p)) {
    if (p->next_same) {
      mt_u64map_put(&mt_cl.proxies, id, p->next_same);
    }
    free(p);
    return false;
  }
  o->proxy = p;
  atomic_fetch_add_explicit(&mt_proxies_live, 1, memory_order_release);
  return true;
}

manta_err mt_proxy_from_wire_locked(uint64_t node, uint64_t id,
                                    uint64_t *local) {
  mt_proxy *p = mt_proxy_find_locked(node, id);
  if (p) {
    mt_object *o = mt_obj_lookup_locked(p->local_id);
    mt_obj_retain_locked(o);
    p->receptions++;
    if (!p->rebuilder && mt_ref_sender != node) {
      p->rebuilder = mt_ref_sender;
    }
    *local = p->local_id;
    return MANTA_OK;
  }
  mt_object *o;
  uint64_t lid = mt_obj_new_locked(&o);
  if (!lid) {
    return MANTA_ERR_NOMEM;
  }
  if (!proxy_attach_locked(o, node, id, 1)) {
    mt_garbage g; /* a fresh object holds no value: nothing to free */
    mt_garbage_init(&g);
    mt_obj_release_locked(o, &g);
    return MANTA_ERR_NOMEM;
  }
  o->proxy->rebuilder = mt_ref_sender != node ? mt_ref_sender : 0;
  *local = lid;
  return MANTA_OK;
}

bool mt_proxy_adopt_locked(mt_object *o, uint64_t node, uint64_t id,
                           mt_garbage *g) {
  if (o->proxy || o->state != MT_OBJ_PENDING) {
    return false;
  }
  if (!proxy_attach_locked(o, node, id, 1)) {
    return false;
  }
  /* Tasks sent elsewhere take the ref, not the bytes: the object moves
   * here only for what runs or waits here (a driver passing a large
   * result on would otherwise fetch a copy it never reads). */
  mt_obj_ready_afar_locked(o, g);
  if (o->listeners) {
    mt_obj_want_locked(o);
  }
  return true;
}

static void proxy_unlink_locked(mt_proxy *p) {
  mt_proxy *head = mt_u64map_get(&mt_cl.proxies, p->owner_id);
  if (head == p) {
    mt_u64map_remove(&mt_cl.proxies, p->owner_id);
    if (p->next_same) {
      mt_u64map_put(&mt_cl.proxies, p->owner_id, p->next_same);
    }
  } else {
    while (head && head->next_same != p) {
      head = head->next_same;
    }
    if (head) {
      head->next_same = p->next_same;
    }
  }
  atomic_fetch_sub_explicit(&mt_proxies_live, 1, memory_order_release);
}

void mt_proxy_detach_locked(mt_object *o, mt_garbage *g) {
  mt_proxy *p = o->proxy;
  if (!p) {
    return;
  }
  proxy_unlink_locked(p);
  o->proxy = NULL;
  if (p->fetch) {
    mt_fetch_detach_locked(p->fetch);
    mt_obj_release_locked(o, g); /* the count the fetch held */
  }
  /* No borrow message: the node that counted it is gone. */
  free(p);
}

void mt_proxy_repoint_locked(mt_object *o, uint64_t node, uint64_t id,
                             mt_garbage *g) {
  /* The same node can make it again if the new copy is lost too. */
  uint64_t rebuilder = o->proxy ? o->proxy->rebuilder : 0;
  mt_proxy_detach_locked(o, g); /* its node died: nothing to tell it */
  if (node == mt_rt.node_id) {
    /* Made again here: no borrow was counted (a ref back at its owner). */
    mt_object *mine = mt_obj_lookup_locked(id);
    mt_obj_complete_locked(
        o,
        mine && mine->state == MT_OBJ_READY
            ? mt_obj_value_locked(mine, g)
            : mt_error_new(MANTA_ERR_OBJECT_LOST, "cluster",
                           "the object was made again on this node, and "
                           "freed before it could be read"),
        g);
    return;
  }
  if (!proxy_attach_locked(o, node, id, 1)) {
    send_borrow_locked(node, id, mt_rt.node_id, -1, g);
    mt_obj_complete_locked(o,
                           mt_error_new(MANTA_ERR_NOMEM, "cluster",
                                        "out of memory following an object "
                                        "that was made again"),
                           g);
    return;
  }
  o->proxy->rebuilder = rebuilder != node ? rebuilder : 0;
  if (o->listeners) {
    mt_obj_want_locked(o);
  }
}

void mt_borrow_give_back_locked(uint64_t node, uint64_t id, mt_garbage *g) {
  if (node != mt_rt.node_id) {
    send_borrow_locked(node, id, mt_rt.node_id, -1, g);
  }
}

void mt_object_freed_locked(mt_object *o, mt_garbage *g) {
  if (o->proxy) {
    mt_proxy *p = o->proxy;
    mt_lineage_forget_locked(p->local_id, g);
    proxy_unlink_locked(p);
    if (p->fetch) {
      mt_fetch_detach_locked(p->fetch); /* it held a count: cannot be */
    }
    if (p->receptions > 0 && !mt_cl.stopping) {
      send_borrow_locked(p->owner_node, p->owner_id, mt_rt.node_id,
                         -p->receptions, g);
    }
    free(p);
    o->proxy = NULL;
  }
  if (o->lent) {
    uint64_t id = mt_slots_id(&mt_rt.objects, o);
    rec_free(mt_u64map_remove(&mt_cl.borrows, id));
    mt_relay_forget_locked(id); /* other nodes fetched it: lent to them */
    o->lent = false;
  }
}

void mt_remote_objects_stop_locked(void) {
  uint64_t key;
  void *val;
  for (size_t pos = 0; mt_u64map_next(&mt_cl.proxies, &pos, &key, &val);) {
    mt_proxy *p = val;
    while (p) {
      mt_proxy *next = p->next_same;
      mt_object *o = mt_obj_lookup_locked(p->local_id);
      if (o) {
        o->proxy = NULL;
      }
      atomic_fetch_sub_explicit(&mt_proxies_live, 1, memory_order_release);
      free(p);
      p = next;
    }
  }
  mt_u64map_free(&mt_cl.proxies);
  for (size_t pos = 0; mt_u64map_next(&mt_cl.borrows, &pos, &key, &val);) {
    mt_object *o = mt_obj_lookup_locked(key);
    if (o) {
      o->lent = false;
    }
    rec_free(val);
  }
  mt_u64map_free(&mt_cl.borrows);
  mt_relay_forget_all_locked();
}
