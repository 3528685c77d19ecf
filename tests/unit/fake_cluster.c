/* The fake cluster of fake_cluster.h: every entry of the seam's ops table,
 * each recording that it was asked and doing the least the real cluster
 * does for the core to go on. */
#include "fake_cluster.h"

#include <stdlib.h>
#include <string.h>

fake_cluster fake;

static void sent_add(mt_task *t) {
  if (fake.nsent < FAKE_MAX_SENT) {
    fake.sent[fake.nsent++] = t;
  }
}

static void sent_remove(mt_task *t) {
  for (size_t i = 0; i < fake.nsent; i++) {
    if (fake.sent[i] == t) {
      memmove(&fake.sent[i], &fake.sent[i + 1],
              (fake.nsent - i - 1) * sizeof fake.sent[0]);
      fake.nsent--;
      return;
    }
  }
}

/* A task sent away resolves to an error made here, as the cluster resolves
 * what a dead node had: a creation makes its proxy dead. */
static void lost_locked(mt_task *t, manta_err code, const char *why,
                        mt_garbage *g) {
  if (t->kind == MT_TASK_ACTOR_CREATE) {
    mt_actor_die_locked(t->actor, mt_error_new(code, "cluster", "%s", why), g);
    mt_task_finish_locked(t, NULL, g);
  } else {
    mt_task_finish_locked(t, mt_task_error(t, code, "%s", why), g);
  }
}

static bool route_locked(const char *name, bool local_ok,
                         const mt_resource_request *demand,
                         const mt_placement *p, uint64_t *target,
                         manta_value **fail) {
  (void)demand, (void)p;
  fake.routes++;
  fake.last_local_ok = local_ok;
  snprintf(fake.last_name, sizeof fake.last_name, "%s", name);
  if (local_ok) {
    return false; /* stays here */
  }
  if (!fake.route_to) {
    *fail = mt_error_new(MANTA_ERR_NOT_FOUND, "cluster",
                         "no node in the cluster offers a function named '%s'",
                         name);
    return false;
  }
  *target = fake.route_to;
  return true;
}

static void dispatch_locked(mt_task *t, mt_garbage *g) {
  (void)g;
  fake.dispatches++;
  t->remote->peer = NULL;
  sent_add(t);
}

static void forget_locked(mt_task *t) {
  fake.forgets++;
  sent_remove(t);
}

static void registry_changed_locked(void) {}

static void idle_locked(void) {}

/* A proxy object stands for the object `id` of node `node`, as
 * remote_objects.c makes one. */
static manta_err proxy_from_wire_locked(uint64_t node, uint64_t id,
                                        uint64_t *local) {
  fake.from_wire++;
  fake.last_node = node;
  fake.last_id = id;
  mt_object *o;
  mt_proxy *px = calloc(1, sizeof *px);
  uint64_t lid = px ? mt_obj_new_locked(&o) : 0;
  if (!lid) {
    free(px);
    return MANTA_ERR_NOMEM;
  }
  px->owner_node = node;
  px->owner_id = id;
  px->local_id = lid;
  o->proxy = px;
  atomic_fetch_add(&mt_proxies_live, 1);
  *local = lid;
  return MANTA_OK;
}

static void fetch_locked(mt_object *o) {
  (void)o;
  fake.fetches++;
}

static void object_freed_locked(mt_object *o, mt_garbage *g) {
  (void)g;
  fake.freed++;
  if (o->proxy) {
    free(o->proxy);
    o->proxy = NULL;
    atomic_fetch_sub(&mt_proxies_live, 1);
  }
  o->lent = false;
}

static void actor_flush_locked(mt_actor *a, mt_garbage *g);

static bool actor_place_locked(const char *cls, bool local_ok,
                               const mt_resource_request *demand,
                               const mt_placement *p, uint64_t *host,
                               manta_value **fail) {
  (void)demand, (void)p;
  fake.places++;
  fake.last_local_ok = local_ok;
  snprintf(fake.last_name, sizeof fake.last_name, "%s", cls);
  if (local_ok) {
    *host = 0;
    return true;
  }
  if (!fake.place_on) {
    *fail = mt_error_new(MANTA_ERR_INFEASIBLE, "cluster",
                         "no node offering class '%s' has the resources it "
                         "asks for",
                         cls);
    return false;
  }
  *host = fake.place_on;
  return true;
}

/* Sends the ready calls at the head of a created proxy's mailbox, in
 * order, as actor_proxy.c does. */
static void actor_flush_locked(mt_actor *a, mt_garbage *g) {
  (void)g;
  fake.flushes++;
  while (a->state == MT_ACTOR_ALIVE && a->remote->id && a->mbox.head &&
         a->mbox.head->where == MT_WHERE_MAILBOX) {
    mt_task *t = a->mbox.head;
    mt_actor_unlink_call_locked(a, t);
    mt_rt.tasks_queued--;
    t->where = MT_WHERE_REMOTE;
    sent_add(t);
  }
}

/* A creation is sent at once; a ready call waits its turn in the proxy's
 * mailbox. */
static void actor_dispatch_locked(mt_task *t, mt_garbage *g) {
  fake.actor_dispatches++;
  if (t->kind == MT_TASK_ACTOR_CREATE) {
    sent_add(t);
    return;
  }
  t->where = MT_WHERE_MAILBOX;
  mt_rt.tasks_queued++;
  actor_flush_locked(t->actor, g);
}

static void actor_kill_locked(mt_actor *a, mt_garbage *g) {
  (void)a, (void)g;
  fake.kills++;
}

static void proxy_free_locked(mt_actor *a, mt_garbage *g) {
  (void)a, (void)g;
  fake.proxy_frees++;
}

static mt_actor *proxy_get_locked(uint64_t host, uint64_t id) {
  return mt_actor_proxy_new_locked(host, id, "");
}

static void actor_name_locked(const char *name, const char *cls, uint64_t host,
                              uint64_t id, bool named, mt_garbage *g) {
  (void)name, (void)cls, (void)host, (void)id, (void)g;
  if (named) {
    fake.names_added++;
  } else {
    fake.names_dropped++;
  }
}

static manta_err actor_reserve_name(const char *name, const char *cls,
                                    uint64_t host) {
  (void)name, (void)cls, (void)host;
  mt_lock();
  fake.reserves++;
  mt_unlock();
  return MANTA_OK;
}

static manta_err actor_lookup(const char *name, manta_actor *out) {
  bool unlocked = !mt_lock_held();
  mt_lock();
  fake.lookups++;
  fake.lookup_unlocked = unlocked;
  manta_err err = MANTA_ERR_NOT_FOUND;
  if (fake.lookup_host && strcmp(name, fake.lookup_name) == 0) {
    mt_actor *a =
        mt_actor_proxy_new_locked(fake.lookup_host, fake.lookup_id, "Far");
    err = a ? MANTA_OK : MANTA_ERR_NOMEM;
    if (a) {
      out->id = mt_actor_id(a);
    }
  }
  mt_unlock();
  return err;
}

static manta_err pg_create(uint64_t gid, int strategy,
                           const mt_resource_request *bundles, size_t n,
                           manta_value **fail) {
  (void)gid, (void)strategy, (void)bundles, (void)n;
  *fail = mt_error_new(MANTA_ERR_INFEASIBLE, "cluster",
                       "no placement groups "
                       "in the fake cluster");
  return MANTA_ERR_INFEASIBLE;
}

static manta_err pg_poll(uint64_t gid, uint64_t *nodes, size_t n,
                         manta_value **fail) {
  (void)gid, (void)nodes, (void)n, (void)fail;
  return MANTA_ERR_NOT_FOUND;
}

static manta_err pg_remove(uint64_t gid) {
  (void)gid;
  return MANTA_ERR_NOT_FOUND;
}

static const mt_cluster_ops fake_ops = {
    .route_locked = route_locked,
    .dispatch_locked = dispatch_locked,
    .forget_locked = forget_locked,
    .registry_changed_locked = registry_changed_locked,
    .idle_locked = idle_locked,
    .proxy_from_wire_locked = proxy_from_wire_locked,
    .fetch_locked = fetch_locked,
    .object_freed_locked = object_freed_locked,
    .metrics_locked = NULL,
    .actor_place_locked = actor_place_locked,
    .actor_dispatch_locked = actor_dispatch_locked,
    .actor_flush_locked = actor_flush_locked,
    .actor_kill_locked = actor_kill_locked,
    .proxy_free_locked = proxy_free_locked,
    .proxy_get_locked = proxy_get_locked,
    .actor_name_locked = actor_name_locked,
    .actor_reserve_name = actor_reserve_name,
    .actor_lookup = actor_lookup,
    .pg_create = pg_create,
    .pg_poll = pg_poll,
    .pg_remove = pg_remove};

static manta_err fake_start(const manta_options *opts, const char *address) {
  (void)opts, (void)address;
  mt_lock();
  mt_rt.cluster = &fake_ops;
  mt_unlock();
  return MANTA_OK;
}

/* Leaving: what was sent and not answered fails, as the real cluster fails
 * it when its links close; proxies of objects are forgotten. */
static void fake_stop(void) {
  mt_garbage g;
  mt_garbage_init(&g);
  mt_lock();
  while (fake.nsent > 0) {
    lost_locked(fake.sent[--fake.nsent], MANTA_ERR_SHUTDOWN,
                "the runtime shut down", &g);
  }
  for (size_t i = 0; i < mt_rt.objects.used; i++) {
    mt_object *o = mt_slots_at(&mt_rt.objects, i);
    if (o->state != MT_OBJ_FREE && o->proxy) {
      object_freed_locked(o, &g);
    }
  }
  mt_rt.cluster = NULL;
  mt_unlock();
  mt_garbage_free(&g);
}

static const mt_cluster_seam fake_seam = {fake_start, fake_stop};

void fake_cluster_install(void) {
  memset(&fake, 0, sizeof fake);
  mt_cluster_seam_register(&fake_seam);
}

manta_err fake_cluster_init(void) {
  manta_options *o;
  manta_err err = manta_options_new(&o);
  if (err != MANTA_OK) {
    return err;
  }
  err = manta_options_set_address(o, "fake-head:1");
  if (err == MANTA_OK) {
    err = manta_init(o);
  }
  manta_options_free(o);
  return err;
}

void fake_cluster_shutdown(void) {
  manta_shutdown();
  mt_cluster_seam_register(NULL);
}

void fake_answer(size_t i, manta_value *v) {
  mt_garbage g;
  mt_garbage_init(&g);
  mt_lock();
  if (i < fake.nsent) {
    mt_task *t = fake.sent[i];
    sent_remove(t);
    mt_task_finish_locked(t, v, &g);
  } else {
    mt_garbage_add(&g, v);
  }
  mt_unlock();
  mt_garbage_free(&g);
}

void fake_node_died(size_t i) {
  mt_garbage g;
  mt_garbage_init(&g);
  mt_lock();
  if (i < fake.nsent) {
    mt_task *t = fake.sent[i];
    sent_remove(t);
    lost_locked(t, MANTA_ERR_NODE_DIED, "the node it was sent to died", &g);
  }
  mt_unlock();
  mt_garbage_free(&g);
}

void fake_created(size_t i, uint64_t id) {
  mt_garbage g;
  mt_garbage_init(&g);
  mt_lock();
  if (i < fake.nsent && fake.sent[i]->kind == MT_TASK_ACTOR_CREATE) {
    mt_task *t = fake.sent[i];
    sent_remove(t);
    t->actor->remote->id = id;
    t->actor->state = MT_ACTOR_ALIVE;
    actor_flush_locked(t->actor, &g);
    mt_task_finish_locked(t, NULL, &g);
  }
  mt_unlock();
  mt_garbage_free(&g);
}

void fake_fetched(uint64_t local, manta_value *v) {
  mt_garbage g;
  mt_garbage_init(&g);
  mt_lock();
  mt_object *o = mt_obj_lookup_locked(local);
  if (o && o->state == MT_OBJ_PENDING) {
    mt_obj_complete_locked(o, v, &g);
  } else {
    mt_garbage_add(&g, v);
  }
  mt_unlock();
  mt_garbage_free(&g);
}
