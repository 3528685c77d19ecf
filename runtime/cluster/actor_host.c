/*
 * The host side of actors across nodes: the actor operations other nodes
 * send here (create, call, kill, release), run on local actors, and the
 * hold this node keeps on an actor for the node that created it, until
 * that node releases it or is gone. The caller side (placement, proxies)
 * is actor_proxy.c.
 */
#include "cluster.h"

#include <stdlib.h>
#include <string.h>

/* Under rt.mu: the holds on actors of this node by local actor id. */
static mt_u64map holds;

/* The node that created an actor here keeps it alive until it releases
 * it or is gone. */
typedef struct hold {
  uint64_t creator;
  int64_t since_ms;
} hold;

static void drop_hold_locked(uint64_t actor_id, mt_garbage *g) {
  hold *h = mt_u64map_remove(&holds, actor_id);
  mt_actor *a = h ? mt_actor_lookup_locked(actor_id) : NULL;
  free(h);
  if (a) {
    mt_actor_release_locked(a, g);
  }
}

void mt_actor_holds_check_locked(mt_garbage *g) {
  size_t n = holds.len, k = 0;
  uint64_t *gone = calloc(n + 1, sizeof *gone);
  uint64_t key;
  void *val;
  for (size_t pos = 0; gone && mt_u64map_next(&holds, &pos, &key, &val);) {
    const hold *h = val;
    if (mt_node_gone_locked(h->creator, h->since_ms)) {
      gone[k++] = key;
    }
  }
  for (size_t i = 0; i < k; i++) {
    mt_log(MT_LOG_INFO,
           "cluster: the node that created actor %016llx is "
           "gone; its hold is released",
           (unsigned long long)gone[i]);
    drop_hold_locked(gone[i], g);
  }
  free(gone);
}

static manta_value *serve_create(const Manta__V1__TaskSpec *spec,
                                 const manta_value *const *args, size_t nargs,
                                 manta_call_options *opts,
                                 uint8_t created[16]) {
  const Manta__V1__ActorCreate *c = spec->create;
  if (!c || !c->class_name || !c->class_name[0] || !opts) {
    return mt_error_new(MANTA_ERR_INVALID, "cluster",
                        "an actor creation must name its class");
  }
  if ((c->name && c->name[0] &&
       manta_call_options_set_name(opts, c->name) != MANTA_OK) ||
      (c->max_concurrency && manta_call_options_set_max_concurrency(
                                 opts, c->max_concurrency) != MANTA_OK)) {
    return mt_error_new(MANTA_ERR_NOMEM, "cluster", "out of memory");
  }
  manta_actor h;
  manta_err err = mt_actor_create(c->class_name, args, nargs, opts, false, &h);
  if (err != MANTA_OK) {
    return mt_error_new(err, "cluster", "cannot create actor %s here: %s%s%s",
                        c->class_name, manta_strerror(err),
                        err == MANTA_ERR_EXISTS ? ": " : "",
                        err == MANTA_ERR_EXISTS ? c->name : "");
  }
  hold *hd = calloc(1, sizeof *hd);
  mt_garbage g;
  mt_garbage_init(&g);
  mt_lock();
  bool held = hd && mt_u64map_put(&holds, h.id, hd);
  if (held) {
    /* The handle's count becomes the creator's hold. */
    hd->creator = spec->sender_node_id;
    hd->since_ms = mt_now_ms();
  } else {
    mt_actor *a = mt_actor_lookup_locked(h.id);
    if (a) {
      mt_actor_release_locked(a, &g);
    }
  }
  mt_unlock();
  mt_garbage_free(&g);
  if (!held) {
    free(hd);
    return mt_error_new(MANTA_ERR_NOMEM, "cluster", "out of memory");
  }
  mt_actor_to_wire(h.id, created);
  return NULL;
}

/* The local actor a spec names, or an error value. */
static manta_value *serve_target(const Manta__V1__TaskSpec *spec,
                                 uint64_t *local) {
  uint64_t node;
  if (!mt_wire_id_get(&spec->actor_id, &node, local)) {
    return mt_error_new(MANTA_ERR_INVALID, "cluster",
                        "an actor operation needs a 16-byte actor id");
  }
  if (node != mt_rt.node_id) {
    return mt_error_new(MANTA_ERR_ACTOR_DEAD, "cluster",
                        "actor %016llx-%016llx does not live on this node",
                        (unsigned long long)node, (unsigned long long)*local);
  }
  return NULL;
}

static void serve_release(const Manta__V1__TaskSpec *spec, uint64_t local) {
  mt_garbage g;
  mt_garbage_init(&g);
  mt_lock();
  const hold *h = mt_u64map_get(&holds, local);
  if (h && h->creator == spec->sender_node_id) {
    drop_hold_locked(local, &g);
  }
  mt_unlock();
  mt_garbage_free(&g);
}

static manta_value *not_here(uint64_t local) {
  return mt_error_new(MANTA_ERR_ACTOR_DEAD, "cluster",
                      "no actor %016llx on this node: it was killed or "
                      "released, or the node restarted",
                      (unsigned long long)local);
}

manta_value *mt_actor_serve(const Manta__V1__TaskSpec *spec,
                            const manta_value *const *args, size_t nargs,
                            manta_call_options *opts, manta_ref *ref,
                            uint8_t created[16]) {
  if (spec->actor_op == MANTA__V1__ACTOR_OP__ACTOR_OP_CREATE) {
    return serve_create(spec, args, nargs, opts, created);
  }
  uint64_t local = 0;
  manta_value *bad = serve_target(spec, &local);
  switch (spec->actor_op) {
  case MANTA__V1__ACTOR_OP__ACTOR_OP_CALL:
    if (!bad) {
      manta_err err =
          mt_actor_call((manta_actor){local}, spec->method ? spec->method : "",
                        args, nargs, opts, ref);
      if (err == MANTA_ERR_BAD_HANDLE) {
        bad = not_here(local);
      } else if (err != MANTA_OK) {
        bad = mt_error_new(err, "cluster", "cannot call %s: %s",
                           spec->method ? spec->method : "(no method)",
                           manta_strerror(err));
      }
    }
    return bad;
  case MANTA__V1__ACTOR_OP__ACTOR_OP_READY:
    if (!bad && mt_actor_ready_call((manta_actor){local}, ref) != MANTA_OK) {
      bad = not_here(local);
    }
    return bad;
  case MANTA__V1__ACTOR_OP__ACTOR_OP_KILL:
    if (!bad) {
      manta_actor_kill((manta_actor){local}); /* gone already: fine */
    }
    break;
  case MANTA__V1__ACTOR_OP__ACTOR_OP_RELEASE:
    if (!bad) {
      serve_release(spec, local);
    }
    break;
  default:
    manta_value_free(bad);
    return mt_error_new(MANTA_ERR_INVALID, "cluster",
                        "unknown actor operation %d", (int)spec->actor_op);
  }
  /* Kill and release are not answered: a problem is only logged. */
  if (bad) {
    mt_log(MT_LOG_INFO, "node: %s", manta_error_message(bad));
    manta_value_free(bad);
  }
  return NULL;
}

void mt_actor_holds_stop_locked(mt_garbage *g) {
  uint64_t key;
  void *val;
  for (size_t pos = 0; mt_u64map_next(&holds, &pos, &key, &val);) {
    mt_actor *a = mt_actor_lookup_locked(key);
    free(val);
    if (a) {
      mt_actor_release_locked(a, g);
    }
  }
  mt_u64map_free(&holds);
}
