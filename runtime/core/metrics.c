/* The /metrics snapshot: copied out of the runtime under rt.mu in one go,
 * so the page is consistent and rendering happens without the lock. */
#include "metrics.h"
#include "cluster_seam.h"
#include "rt.h"

#include <stdlib.h>
#include <string.h>

/* 10 us to 60 s: task bodies from a no-op to a long simulation step. */
const uint64_t mt_run_bucket_ns[MT_RUN_BUCKETS] = {
    10000ull,      100000ull,     1000000ull,     5000000ull,
    10000000ull,   50000000ull,   100000000ull,   500000000ull,
    1000000000ull, 5000000000ull, 10000000000ull, 60000000000ull};

static bool collect_functions_locked(mt_metrics *m) {
  size_t pos = 0, n = mt_rt.functions.len;
  const char *key;
  void *val;
  m->fns = calloc(n ? n : 1, sizeof *m->fns);
  if (!m->fns) {
    return false;
  }
  while (mt_strmap_next(&mt_rt.functions, &pos, &key, &val) && m->nfns < n) {
    const mt_function *fn = val;
    mt_metrics_fn *out = &m->fns[m->nfns];
    if (!(out->name = strdup(fn->name))) {
      return false;
    }
    out->st = fn->stats;
    m->nfns++;
  }
  return true;
}

static mt_metrics_class *class_of(mt_metrics *m, const char *name) {
  for (size_t i = 0; i < m->nclasses; i++) {
    if (strcmp(m->classes[i].name, name) == 0) {
      return &m->classes[i];
    }
  }
  return NULL;
}

static bool collect_classes_locked(mt_metrics *m) {
  size_t pos = 0, n = mt_rt.classes.len;
  const char *key;
  void *val;
  m->classes = calloc(n ? n : 1, sizeof *m->classes);
  if (!m->classes) {
    return false;
  }
  while (mt_strmap_next(&mt_rt.classes, &pos, &key, &val) && m->nclasses < n) {
    const mt_class *c = val;
    mt_metrics_class *out = &m->classes[m->nclasses];
    if (!(out->name = strdup(c->name))) {
      return false;
    }
    out->calls = c->calls;
    m->nclasses++;
  }
  /* By class and state: one walk of the actor table per scrape, rather
   * than a count kept on every state change. Proxies are no actors of this
   * node. */
  for (size_t i = 0; i < mt_rt.actors.used; i++) {
    const mt_actor *a = mt_slots_at(&mt_rt.actors, i);
    mt_metrics_class *c =
        a->slot.live && !a->remote && a->cls ? class_of(m, a->cls->name) : NULL;
    if (c) {
      c->alive += a->state == MT_ACTOR_ALIVE;
      c->pending += a->state == MT_ACTOR_PENDING;
      c->dead += a->state == MT_ACTOR_DEAD;
    }
  }
  return true;
}

/* Borrowed, lent and in-transfer objects: one walk of the object table
 * per scrape too (a few ns per object under the lock: 1 ms per 100,000
 * objects), since a count kept on every change would touch every path
 * that makes, lends, fetches or frees an object. */
static void collect_object_kinds_locked(mt_metrics *m) {
  for (size_t i = 0; i < mt_rt.objects.used; i++) {
    const mt_object *o = mt_slots_at(&mt_rt.objects, i);
    if (!o->slot.live) {
      continue;
    }
    if (o->proxy) {
      m->objects_borrowed++;
      m->objects_in_transfer += o->proxy->fetch != NULL;
    }
    m->objects_lent += o->lent;
  }
}

void mt_note_retry_locked(const char *function) {
  mt_rt.tasks_retried++;
  mt_function *fn = function ? mt_strmap_get(&mt_rt.functions, function) : NULL;
  if (fn) {
    fn->stats.retried++;
  } else {
    mt_rt.retried_other++; /* a label per unknown name would be unbounded */
  }
}

bool mt_metrics_collect(mt_metrics *m) {
  memset(m, 0, sizeof *m);
  mt_lock();
  if (!mt_rt.initialized) {
    mt_unlock();
    return false;
  }
  m->node_id = mt_rt.node_id;
  m->submitted_other = mt_rt.submitted_other;
  m->tasks_retried = mt_rt.tasks_retried;
  m->retried_other = mt_rt.retried_other;
  m->tasks_queued = mt_rt.tasks_queued;
  m->tasks_running = mt_rt.tasks_running;
  m->objects = mt_rt.live_objects;
  m->object_bytes = mt_rt.live_bytes;
  m->spilled_bytes = mt_rt.store.spilled_bytes;
  m->store_limit = mt_rt.store.limit;
  m->nres = mt_rt.nres;
  for (int k = 0; k < mt_rt.nres; k++) {
    memcpy(m->res[k].name, mt_rt.res_names[k], sizeof m->res[k].name);
    m->res[k].total = mt_rt.res_total[k];
    m->res[k].available = mt_rt.res_avail[k];
  }
  m->workers_total = mt_rt.workers_total;
  m->workers_idle = mt_rt.workers_idle;
  m->workers_busy = mt_rt.workers_busy;
  collect_object_kinds_locked(m);
  bool ok = collect_functions_locked(m) && collect_classes_locked(m);
  if (ok && mt_rt.cluster && mt_rt.cluster->metrics_locked) {
    m->cluster = true;
    mt_rt.cluster->metrics_locked(m);
  }
  mt_unlock();
  if (!ok) {
    mt_metrics_free(m);
  }
  return ok;
}

void mt_metrics_free(mt_metrics *m) {
  for (size_t i = 0; i < m->nfns; i++) {
    free(m->fns[i].name);
  }
  for (size_t i = 0; i < m->nclasses; i++) {
    free(m->classes[i].name);
  }
  free(m->fns);
  free(m->classes);
  free(m->peers);
  free(m->transfers);
  memset(m, 0, sizeof *m);
}
