/*
 * Task handoff: the receiving side (docs/scheduling.md, "Handing a task
 * back"). A caller places a DEFAULT task by its view of the nodes' load, a
 * snapshot up to a heartbeat old, so a task may arrive here while every
 * slot of its shape is busy and another node offering its function is
 * idle. Such a task (sent with TaskSpec.may_hand_back) is watched: once it
 * has waited HANDOFF_WAIT_MS in its class queue, not started, behind busy
 * slots, and this node's view shows another node offering the function
 * with a slot free, it is taken back (it never runs here) and answered
 * TaskResult.handed_back; its caller places it again.
 *
 * The watched tasks are one FIFO by arrival, looked at by one thread: when
 * the oldest not yet looked at has waited long enough, at each new view,
 * and when a task arrives behind more queued tasks than free slots while
 * the thread sleeps with nothing due.
 */
#include "cluster.h"

#include <stdlib.h>

/* A task that starts within this is not worth a round trip to its caller
 * (a flood of short tasks keeps every slot busy for microseconds at a
 * time); one that waits longer may wait behind long tasks. */
#define HANDOFF_WAIT_MS 2
/* Watched tasks looked at per pass beyond those already started: a deep
 * queue that no other node can take costs no more than this per pass. */
#define HANDOFF_SCAN 256

static struct {
  mt_handoff_entry *head, *tail; /* by arrival (rt.mu) */
  pthread_t thread;
  pthread_cond_t cv;
  bool started, stop;
  bool sleeping; /* with nothing due: an arrival wakes it */
  bool woken;
  /* The last pass handed nothing back (no other node had a CPU free for
   * what waits): nothing can go until the next view, and arrivals do not
   * wake the thread for nothing. */
  bool until_view;
  /* Tasks handed back since the view, per node that had a slot free:
   * node id -> count (as a pointer), so one free slot there is not
   * offered for every task waiting here. */
  mt_u64map given;
} ho;

static void *watch_loop(void *arg);

static void wake_locked(void) {
  ho.woken = true;
  pthread_cond_signal(&ho.cv);
}

void mt_handoff_watch_locked(mt_handoff_entry *e, mt_object *o) {
  if (mt_cl.stopping) {
    return; /* no thread is started once the cluster stops */
  }
  if (!ho.started) {
    mt_cond_init(&ho.cv);
    ho.stop = false;
    if (pthread_create(&ho.thread, NULL, watch_loop, NULL) != 0) {
      pthread_cond_destroy(&ho.cv);
      return; /* runs here, as without handoff */
    }
    ho.started = true;
  }
  e->obj = o;
  e->since_ms = mt_now_ms();
  e->handed_back = false;
  e->next = NULL;
  e->prev = ho.tail;
  if (ho.tail) {
    ho.tail->next = e;
  } else {
    ho.head = e;
  }
  ho.tail = e;
  e->linked = true;
  /* Woken only for a task that will wait: a call that a free slot takes
   * at once (one call at a time, say) costs no thread wake-up; the next
   * view looks at it anyway. */
  if (ho.sleeping && !ho.until_view && o->task &&
      mt_task_queue_overflows_locked(o->task)) {
    ho.sleeping = false;
    wake_locked();
  }
}

void mt_handoff_unwatch_locked(mt_handoff_entry *e) {
  if (!e->linked) {
    return;
  }
  if (e->prev) {
    e->prev->next = e->next;
  } else {
    ho.head = e->next;
  }
  if (e->next) {
    e->next->prev = e->prev;
  } else {
    ho.tail = e->prev;
  }
  e->prev = e->next = NULL;
  e->linked = false;
}

void mt_handoff_view_changed_locked(void) {
  mt_u64map_free(&ho.given); /* the new view counts what they took */
  ho.until_view = false;
  if (ho.started && ho.head) {
    ho.sleeping = false;
    wake_locked();
  }
}

/* The demand of a class, by resource names, as the view compares it. */
static void demand_request(const mt_demand *d, mt_resource_request *r) {
  r->n = 0;
  for (int k = 0; k < mt_rt.nres && r->n < MT_MAX_REQUEST; k++) {
    if (d->q[k] > 0) {
      snprintf(r->names[r->n], sizeof r->names[r->n], "%s", mt_rt.res_names[k]);
      r->qty[r->n++] = d->q[k];
    }
  }
}

/* Whether v has a CPU free by this node's view, not counting those
 * offered to tasks handed back since that view. */
static bool slot_free_locked(const mt_view_node *v) {
  double given = (double)(uintptr_t)mt_u64map_get(&ho.given, v->node_id);
  return mt_view_free_cpus_locked(v) - given >= 1.0;
}

/* Another node that offers the task's function, has its demand free at
 * its last heartbeat and, as this node sees its load, a slot free not
 * yet offered to another task handed back since the view; NULL if none. */
static const mt_view_node *free_node_locked(const mt_task *t) {
  mt_resource_request want;
  demand_request(&t->cls->demand, &want);
  for (size_t i = 0; i < mt_cl.nview; i++) {
    const mt_view_node *v = &mt_cl.view[i];
    if (!v->alive || v->node_id == mt_rt.node_id ||
        !mt_view_offers(v->functions, v->nfunctions, t->fn->name) ||
        !mt_view_fits(v, &want, true) || mt_peers_down_locked(v->node_id)) {
      continue;
    }
    if (slot_free_locked(v)) {
      return v;
    }
  }
  return NULL;
}

/* Whether some other live node has a CPU free by this node's view (not
 * counting those offered since it): if none, no task can go anywhere. */
static bool any_free_node_locked(void) {
  for (size_t i = 0; i < mt_cl.nview; i++) {
    const mt_view_node *v = &mt_cl.view[i];
    if (v->alive && v->node_id != mt_rt.node_id && slot_free_locked(v)) {
      return true;
    }
  }
  return false;
}

/* Hands back what waited long enough and has somewhere better to go; the
 * time the next one is due (0: none). A deep queue costs a pass at most
 * HANDOFF_SCAN looks, and one search of the view per run of tasks of one
 * function and shape that cannot go. A pass that hands nothing back waits
 * for the next view: a flood of calls that no other node can take costs
 * a pass per view, not one every HANDOFF_WAIT_MS. */
static int64_t pass_locked(mt_garbage *g) {
  int64_t now = mt_now_ms();
  size_t looked = 0, handed = 0;
  if (!any_free_node_locked()) {
    ho.until_view = true; /* a new view wakes the thread */
    return 0;
  }
  /* A function and shape no free node offers and fits (this pass). */
  const mt_function *stuck = NULL;
  const mt_sched_class *stuck_cls = NULL;
  mt_handoff_entry *e = ho.head;
  while (e && looked < HANDOFF_SCAN) {
    mt_handoff_entry *next = e->next;
    mt_task *t = e->obj->task;
    if (!t || t->where != MT_WHERE_CLASS) {
      mt_handoff_unwatch_locked(e); /* started (or done): it stays here */
      e = next;
      continue;
    }
    if (now - e->since_ms < HANDOFF_WAIT_MS) {
      if (looked > 0 && handed == 0) {
        break; /* nothing could go: the next view looks again */
      }
      return e->since_ms + HANDOFF_WAIT_MS; /* the rest came later */
    }
    looked++;
    const mt_view_node *v = NULL;
    if ((t->fn != stuck || t->cls != stuck_cls) &&
        mt_task_waits_for_slot_locked(t) && !(v = free_node_locked(t))) {
      stuck = t->fn;
      stuck_cls = t->cls;
    }
    if (v) {
      uint64_t to = v->node_id; /* v may not outlive the take-back */
      e->handed_back = true;
      mt_handoff_unwatch_locked(e);
      manta_value *why =
          mt_error_new(MANTA_ERR_CANCELLED, "cluster",
                       "handed back to its caller: it waited behind busy "
                       "slots while another node had one free");
      if (mt_task_take_back_locked(t, why, g)) {
        handed++;
        uintptr_t n = (uintptr_t)mt_u64map_get(&ho.given, to);
        (void)mt_u64map_put(&ho.given, to, (void *)(n + 1));
      } else {
        e->handed_back = false; /* not waiting after all: it stays here */
      }
    }
    e = next;
  }
  if (looked > 0 && handed == 0) {
    ho.until_view = true; /* a new view wakes the thread */
    return 0;
  }
  return e ? now + HANDOFF_WAIT_MS : 0; /* more than one pass looks at */
}

static void *watch_loop(void *arg) {
  (void)arg;
  mt_garbage g;
  mt_garbage_init(&g);
  mt_lock();
  while (!ho.stop) {
    int64_t due = mt_rt.cluster ? pass_locked(&g) : 0;
    if (g.len || g.dtors || g.calls) {
      /* The answers go out from the listeners these complete. */
      mt_unlock();
      mt_garbage_free(&g);
      mt_lock();
      continue;
    }
    ho.woken = false;
    if (due) {
      struct timespec deadline;
      int64_t wait = due - mt_now_ms();
      mt_deadline(wait > 0 ? wait : 1, &deadline);
      while (!ho.woken && !ho.stop && mt_cond_wait(&ho.cv, &deadline) == 0) {
      }
    } else {
      ho.sleeping = true;
      while (!ho.woken && !ho.stop) {
        mt_cond_wait(&ho.cv, NULL);
      }
      ho.sleeping = false;
    }
  }
  mt_unlock();
  mt_garbage_free(&g);
  return NULL;
}

void mt_handoff_stop(void) {
  mt_lock();
  bool started = ho.started;
  ho.stop = true;
  if (started) {
    wake_locked();
  }
  mt_unlock();
  if (!started) {
    return;
  }
  pthread_join(ho.thread, NULL);
  mt_lock();
  pthread_cond_destroy(&ho.cv);
  ho.started = false;
  ho.sleeping = false;
  mt_u64map_free(&ho.given);
  /* Tasks still watched are answered as they end; they unlink then. */
  mt_unlock();
}
