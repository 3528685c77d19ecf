/* Ready callbacks on refs, running calls here and where actors live, from the
 * runtime's internals (serve_runtime.h says why). */
#include "serve_runtime.h"

#include "cluster_seam.h"
#include "rt.h"

#include <stdio.h>
#include <stdlib.h>

typedef struct waiting {
  mt_listener l;
  mt_serve_wait *w;
  mt_serve_ready_fn fn;
  void *ctx;
} waiting;

/* Under the lock, from whoever completed the object. */
static void on_ready(void *arg, mt_object *o, mt_garbage *g) {
  waiting *x = arg;
  manta_value *v = mt_obj_value_locked(o, g); /* read back if spilled */
  x->w->armed = false;
  x->w->listener = NULL;
  mt_obj_release_locked(o, g);
  mt_serve_ready_fn fn = x->fn;
  void *ctx = x->ctx;
  free(x);
  fn(ctx, v);
}

bool mt_serve_wait_start(mt_serve_wait *w, manta_ref ref, mt_serve_ready_fn fn,
                         void *ctx) {
  waiting *x = calloc(1, sizeof *x);
  mt_garbage g;
  mt_garbage_init(&g);
  mt_lock();
  mt_object *o = mt_obj_lookup_locked(ref.id);
  if (!o || !x) {
    if (o) {
      mt_obj_release_locked(o, &g);
    }
    mt_unlock();
    mt_garbage_free(&g);
    free(x);
    return false;
  }
  x->w = w, x->fn = fn, x->ctx = ctx;
  w->listener = x;
  w->obj = o;
  w->armed = true;
  mt_obj_when_ready_locked(o, &x->l, on_ready, x, &g);
  mt_unlock();
  mt_garbage_free(&g);
  return true;
}

bool mt_serve_wait_cancel(mt_serve_wait *w) {
  mt_garbage g;
  mt_garbage_init(&g);
  mt_lock();
  bool cancelled = w->armed;
  if (cancelled) {
    waiting *x = w->listener;
    mt_listener_remove_locked(&x->l);
    mt_obj_release_locked(w->obj, &g);
    w->armed = false;
    w->listener = NULL;
    free(x);
  }
  mt_unlock();
  mt_garbage_free(&g);
  return cancelled;
}

void mt_serve_defer_kicks(void) {
  mt_sched_defer_kicks();
}

bool mt_serve_here_runs_only(const mt_serve_wait *w) {
  mt_lock();
  mt_object *o = w->armed ? w->obj : NULL;
  mt_task *t = o ? o->task : NULL;
  mt_actor *a = mt_rt.ready_head;
  bool only = false;
  if (t && !mt_rt.running_here && !mt_rt.pg_release_due) {
    /* What run_here takes first: a ready actor's turn, else a batch of
     * queued calls (workers.c). */
    only = t->where == MT_WHERE_MAILBOX
               ? a && a == t->actor && !a->ready_next
               : t->where == MT_WHERE_CLASS && !a && mt_rt.tasks_queued == 1;
  }
  mt_unlock();
  return only;
}

void mt_serve_run_here(void (*away)(void), void (*step_aside)(void),
                       void (*back)(void)) {
  const mt_here_hooks hooks = {away, step_aside, back};
  mt_sched_run_here(&hooks);
}

void mt_serve_actor_node(uint64_t actor, char *buf, size_t size) {
  buf[0] = '\0';
  mt_lock();
  mt_actor *a = mt_rt.initialized ? mt_actor_lookup_locked(actor) : NULL;
  if (a) {
    snprintf(buf, size, "%016llx",
             (unsigned long long)(a->remote ? a->remote->host : mt_rt.node_id));
  }
  mt_unlock();
}
