/* The node's report for /api/node (node_report.h). */
#include "node_report.h"

#include "clock.h"
#include "rt.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

/* Resident memory from /proc/self/statm (pages); -1 where unknown. */
static int64_t rss_bytes(void) {
  FILE *f = fopen("/proc/self/statm", "r");
  long long size = 0, resident = -1;
  if (f) {
    if (fscanf(f, "%lld %lld", &size, &resident) != 2) {
      resident = -1;
    }
    fclose(f);
  }
  return resident < 0 ? -1 : resident * (int64_t)sysconf(_SC_PAGESIZE);
}

static bool collect_actors_locked(mt_node_report *r) {
  size_t cap = 0;
  for (size_t i = 0; i < mt_rt.actors.used; i++) {
    const mt_actor *a = mt_slots_at(&mt_rt.actors, i);
    cap += a->slot.live && !a->remote;
  }
  r->actors_total = cap;
  if (cap > MT_REPORT_MAX_ACTORS) {
    cap = MT_REPORT_MAX_ACTORS;
  }
  r->actors = calloc(cap ? cap : 1, sizeof *r->actors);
  if (!r->actors) {
    return false;
  }
  for (size_t i = 0; i < mt_rt.actors.used && r->nactors < cap; i++) {
    const mt_actor *a = mt_slots_at(&mt_rt.actors, i);
    if (!a->slot.live || a->remote) {
      continue; /* a proxy is listed by the node that hosts the actor */
    }
    mt_report_actor *out = &r->actors[r->nactors++];
    out->id = mt_actor_id(a);
    snprintf(out->cls, sizeof out->cls, "%s", mt_actor_class_name(a));
    snprintf(out->name, sizeof out->name, "%s", a->name ? a->name : "");
    out->state = a->state;
    out->calls = a->calls;
    out->running = a->running;
    out->queued = (unsigned)a->mbox.len;
  }
  return true;
}

bool mt_node_report_collect(mt_node_report *r) {
  memset(r, 0, sizeof *r);
  if (!mt_metrics_collect(&r->m)) {
    return false;
  }
  r->time_ms = mt_wall_ns() / 1000000;
  r->rss_bytes = rss_bytes();
  mt_lock();
  bool ok = mt_rt.initialized && collect_actors_locked(r);
  r->nerrors = mt_errlog_copy_locked(r->errors, MT_ERRLOG_SIZE);
  r->errors_total = mt_errlog_total_locked();
  mt_unlock();
  if (!ok) {
    mt_node_report_free(r);
  }
  return ok;
}

void mt_node_report_free(mt_node_report *r) {
  mt_metrics_free(&r->m);
  free(r->actors);
  memset(r, 0, sizeof *r);
}
