/*
 * The health probe. A probe is an ordinary actor call of the route's
 * health method (no argument), sent without waiting; each tick (100 ms)
 * looks whether its answer came (manta_wait with no timeout). A replica
 * is unhealthy when the call cannot be made, answers an error (its own,
 * or ACTOR_DEAD / NODE_DIED for a replica that is gone), or gives no
 * answer within health_timeout_ms: it is replaced as a lost replica is,
 * and a live one is killed so it cannot linger. Requests meanwhile go on
 * to the other replicas and to this one until it is replaced.
 */
#include "serve_health.h"

#include "log.h"
#include "serve_ticker.h"

#include <stdio.h>
#include <stdlib.h>
#include <time.h>

#define TICK_MS 100

static int64_t now_ms(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static void probe_drop(mt_serve_replica *r) {
  if (r->probe_ref) {
    manta_ref_release((manta_ref){r->probe_ref});
  }
  r->probe_ref = r->probe_actor = 0;
}

/* The answer of a probe under way, if it came: true when it is in, with
 * *failed and why set for a failed one. */
static bool answer(mt_serve_replica *r, bool *failed, char *why, size_t size) {
  manta_ref ref = {r->probe_ref}, ready, not_ready;
  size_t nready = 0, nnot = 0;
  if (manta_wait(&ref, 1, 1, 0, &ready, &nready, &not_ready, &nnot) !=
          MANTA_OK ||
      nready == 0) {
    return false;
  }
  manta_value *v = NULL;
  manta_err err = manta_get(ref, 0, &v);
  *failed = err != MANTA_OK;
  if (*failed) {
    snprintf(why, size, "health check failed: %s: %s", manta_errname(err),
             v && manta_value_kind(v) == MANTA_KIND_ERROR
                 ? manta_error_message(v)
                 : "");
  }
  manta_value_free(v);
  return true;
}

void mt_serve_health_tick(mt_serve_dep *d, int64_t now) {
  const mt_serve_spec *s = &d->spec;
  unsigned active = atomic_load(&d->active);
  bool retired = atomic_load(&d->retired);
  for (unsigned i = 0; i < d->nreps; i++) {
    mt_serve_replica *r = &d->reps[i];
    uint64_t actor = atomic_load(&r->actor);
    if (retired || i >= active || !actor ||
        atomic_load(&r->in_flight) >= MT_SERVE_RETIRED) {
      probe_drop(r); /* not in service: nothing to probe */
      continue;
    }
    char why[400] = "";
    bool failed = false;
    if (r->probe_ref && r->probe_actor != actor) {
      probe_drop(r); /* replaced meanwhile: probe the new one */
      r->probe_next_ms = now;
    } else if (r->probe_ref && answer(r, &failed, why, sizeof why)) {
      probe_drop(r);
      r->probe_next_ms = now + s->health_period_ms;
    } else if (r->probe_ref && now - r->probe_sent_ms >= s->health_timeout_ms) {
      probe_drop(r);
      failed = true;
      snprintf(why, sizeof why, "no health check answer within %lld ms",
               (long long)s->health_timeout_ms);
    } else if (!r->probe_ref && now >= r->probe_next_ms) {
      manta_ref ref = {0};
      manta_err err = manta_actor_call((manta_actor){actor}, s->health_method,
                                       NULL, 0, &ref);
      if (err == MANTA_OK) {
        r->probe_ref = ref.id;
        r->probe_actor = actor;
        r->probe_sent_ms = now;
      } else {
        failed = true;
        snprintf(why, sizeof why, "health check cannot be sent: %s",
                 manta_errname(err));
      }
    }
    if (failed) {
      mt_serve_dep_replace(d, (int)i, actor, true, why);
      r->probe_next_ms = now + s->health_period_ms;
    }
  }
}

static void tick_all(void) {
  size_t n = 0;
  mt_serve_dep **deps = mt_serve_routes_probed(&n);
  int64_t now = now_ms();
  for (size_t i = 0; deps && i < n; i++) {
    mt_serve_health_tick(deps[i], now);
    mt_serve_dep_unref(deps[i]);
  }
  free(deps);
}

static mt_serve_ticker ticker = MT_SERVE_TICKER(tick_all, TICK_MS, false);

void mt_serve_health_start(void) {
  mt_serve_ticker_start(&ticker);
}

void mt_serve_health_stop(void) {
  mt_serve_ticker_stop(&ticker);
}
