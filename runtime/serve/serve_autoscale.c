/*
 * The autoscaler. Every tick (200 ms) it looks at each autoscaled
 * deployment's requests in flight: above target_ongoing per replica for
 * UP_TICKS ticks in a row adds a replica; at most half of target per
 * replica even with one replica fewer, for DOWN_TICKS ticks in a row,
 * retires one. Scaling up reacts in well under a second; scaling down waits
 * longer, so a load that dips for a moment does not make replicas come and
 * go (hysteresis). A retired replica takes no new request and is killed
 * once its last one is answered.
 */
#include "serve_autoscale.h"

#include "log.h"
#include "serve_ticker.h"

#include <stdlib.h>

#define TICK_MS 200
#define UP_TICKS 3
#define DOWN_TICKS 15

/* Kills replicas retired and drained (at or past the active ones). */
static void reap(mt_serve_dep *d, unsigned active) {
  for (unsigned i = active; i < d->nreps; i++) {
    mt_serve_replica *r = &d->reps[i];
    int64_t drained = MT_SERVE_RETIRED;
    if (atomic_load(&r->actor) &&
        atomic_compare_exchange_strong(&r->in_flight, &drained, 0)) {
      manta_actor a = {atomic_exchange(&r->actor, 0)};
      manta_actor_kill(a);
      manta_actor_release(a);
    }
  }
}

void mt_serve_autoscale_tick(mt_serve_dep *d) {
  const mt_serve_spec *s = &d->spec;
  unsigned active = atomic_load(&d->active);
  reap(d, active);
  int64_t total = 0;
  for (unsigned i = 0; i < active; i++) {
    total += atomic_load(&d->reps[i].in_flight) % MT_SERVE_RETIRED;
  }
  int64_t target = s->target_ongoing;
  if (total > (int64_t)active * target && active < s->max_replicas) {
    d->down_ticks = 0;
    if (++d->up_ticks < UP_TICKS) {
      return;
    }
    d->up_ticks = 0;
    mt_serve_replica *r = &d->reps[active];
    if (atomic_load(&r->in_flight) >= MT_SERVE_RETIRED) {
      /* Still draining from a scale-down: back in service as it is. */
      atomic_fetch_sub(&r->in_flight, MT_SERVE_RETIRED);
    } else {
      uint64_t id = 0;
      manta_err err = mt_serve_new_replica(s, &id);
      if (err != MANTA_OK) {
        mt_log(MT_LOG_WARN, "serve: route %s cannot add a replica: %s",
               s->route, manta_strerror(err));
        return;
      }
      atomic_store(&r->in_flight, 0);
      atomic_store(&r->actor, id);
    }
    atomic_store(&d->active, active + 1);
    mt_log(MT_LOG_INFO,
           "serve: route %s scaled up to %u replicas (%lld in "
           "flight)",
           s->route, active + 1, (long long)total);
  } else if (active > s->min_replicas &&
             2 * total <= (int64_t)(active - 1) * target) {
    d->up_ticks = 0;
    if (++d->down_ticks < DOWN_TICKS) {
      return;
    }
    d->down_ticks = 0;
    /* Out of the choice first, then closed to new slots. */
    atomic_store(&d->active, active - 1);
    atomic_fetch_add(&d->reps[active - 1].in_flight, MT_SERVE_RETIRED);
    mt_log(MT_LOG_INFO, "serve: route %s scaled down to %u replicas", s->route,
           active - 1);
  } else {
    d->up_ticks = d->down_ticks = 0;
  }
}

static void tick_all(void) {
  size_t n = 0;
  mt_serve_dep **deps = mt_serve_routes_autoscaled(&n);
  for (size_t i = 0; deps && i < n; i++) {
    mt_serve_autoscale_tick(deps[i]);
    mt_serve_dep_unref(deps[i]);
  }
  free(deps);
}

static mt_serve_ticker ticker = MT_SERVE_TICKER(tick_all, TICK_MS, false);

void mt_serve_autoscaler_start(void) {
  mt_serve_ticker_start(&ticker);
}

void mt_serve_autoscaler_stop(void) {
  mt_serve_ticker_stop(&ticker);
}
