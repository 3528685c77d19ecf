/*
 * Following the head's route table. Each shared route this node knows is
 * kept with the stamp of the deploy it serves and the spec it came from;
 * every tick the head's table is read and:
 *   - a route with a stamp this node has not applied is deployed (or
 *     redeployed) here from its spec: each ingress runs its own replicas;
 *   - a route this node holds that the head lacks is announced to the head
 *     again when the head is a new one (another incarnation: it restarted
 *     and lost its table) or the announce never got through, and is
 *     deleted here otherwise (it was deleted through another ingress), or
 *     when the head refuses the announce as superseded (that deploy was
 *     deleted or replaced after the restart, before this node saw it).
 * Deploys and deletes made here bump a generation under `mu`; a tick that
 * read the head before one of them does not act on that stale reading.
 */
#include "serve_sync.h"

#include "cluster.h"
#include "log.h"
#include "serve_config.h"
#include "serve_json.h"
#include "serve_ticker.h"
#include "strmap.h"

#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <time.h>

#define TICK_MS 300

typedef struct known {
  char *spec_json;
  uint64_t stamp, node_id;
  bool announced; /* the head (this incarnation) holds it */
  bool applied;   /* deployed here (a failed deploy is tried each tick) */
} known;

static pthread_mutex_t mu = PTHREAD_MUTEX_INITIALIZER;
static bool running;     /* following the head (the ticker runs) */
static mt_strmap routes; /* route -> known, under mu */
static bool routes_init;
static uint64_t generation, incarnation;
static bool head_away; /* the last poll failed (logged once) */

static void known_free(known *k) {
  if (k) {
    free(k->spec_json);
    free(k);
  }
}

/* Sets route's entry (spec copied); NULL on OOM. Under mu. */
static known *remember_locked(const char *route, const char *spec_json,
                              uint64_t stamp, uint64_t node_id) {
  known *k = mt_strmap_get(&routes, route);
  char *copy = strdup(spec_json);
  if (!copy) {
    return NULL;
  }
  if (!k) {
    bool oom = false;
    if (!(k = calloc(1, sizeof *k)) ||
        !mt_strmap_insert(&routes, route, k, &oom)) {
      free(k), free(copy);
      return NULL;
    }
  }
  free(k->spec_json);
  k->spec_json = copy;
  k->stamp = stamp;
  k->node_id = node_id;
  k->announced = k->applied = false;
  return k;
}

static void forget_locked(const char *route) {
  known_free(mt_strmap_remove(&routes, route));
}

/* Deploys a shared route here from its JSON spec. */
static bool apply(const char *route, const char *spec_json, bool quiet) {
  char why[512];
  manta_value *v =
      mt_serve_json_decode(spec_json, strlen(spec_json), why, sizeof why);
  mt_serve_spec spec;
  manta_err err = v ? mt_serve_spec_from_value(v, &spec, why, sizeof why)
                    : MANTA_ERR_MALFORMED;
  manta_value_free(v);
  if (err == MANTA_OK) {
    err = mt_serve_routes_put(&spec, why, sizeof why);
  }
  if (err != MANTA_OK) {
    mt_log(quiet ? MT_LOG_DEBUG : MT_LOG_WARN,
           "serve: cannot serve the cluster's route %s here: %s (tried "
           "again while it stays)",
           route, why);
    return false;
  }
  mt_log(MT_LOG_INFO, "serve: serving the cluster's route %s", route);
  return true;
}

static void tick(void) {
  pthread_mutex_lock(&mu);
  uint64_t gen = generation;
  pthread_mutex_unlock(&mu);
  mt_serve_shared *list = NULL;
  size_t n = 0;
  uint64_t inc = 0;
  manta_err err = mt_serve_shared_list(&list, &n, &inc);
  pthread_mutex_lock(&mu);
  if (err != MANTA_OK) {
    if (!head_away && err != MANTA_ERR_SHUTDOWN) {
      mt_log(MT_LOG_INFO,
             "serve: cannot read the cluster's routes from the "
             "head (%s); serving the ones known meanwhile",
             manta_strerror(err));
    }
    head_away = true;
    pthread_mutex_unlock(&mu);
    return;
  }
  head_away = false;
  if (gen != generation) {
    /* A deploy or delete here came after this reading: read again. */
    pthread_mutex_unlock(&mu);
    mt_serve_shared_free(list, n);
    return;
  }
  if (inc != incarnation) {
    /* A new head (or the first reading): it holds only what was
     * announced to it; what this node knows is announced again. */
    size_t pos = 0;
    const char *key;
    void *val;
    while (mt_strmap_next(&routes, &pos, &key, &val)) {
      ((known *)val)->announced = false;
    }
    if (incarnation) {
      mt_log(MT_LOG_INFO, "serve: the head restarted; announcing this "
                          "node's routes again");
    }
    incarnation = inc;
  }
  for (size_t i = 0; i < n; i++) {
    known *k = mt_strmap_get(&routes, list[i].route);
    if (!k || k->stamp != list[i].stamp) {
      k = remember_locked(list[i].route, list[i].spec_json, list[i].stamp,
                          list[i].node_id);
      if (!k) {
        continue;
      }
    }
    k->announced = true;
    if (!k->applied) {
      k->applied = apply(list[i].route, k->spec_json, false);
    }
  }
  /* What the head lacks. Collected first: forgetting while iterating
   * would skip entries. */
  char **gone = calloc(routes.len + 1, sizeof *gone);
  size_t ngone = 0, pos = 0;
  const char *key;
  void *val;
  while (gone && mt_strmap_next(&routes, &pos, &key, &val)) {
    known *k = val;
    bool listed = false;
    for (size_t i = 0; i < n && !listed; i++) {
      listed = strcmp(list[i].route, key) == 0;
    }
    if (listed) {
      continue;
    }
    bool deleted = k->announced;
    if (!k->announced) {
      manta_err put =
          mt_serve_shared_put(key, k->spec_json, k->stamp, k->node_id);
      k->announced = put == MANTA_OK;
      /* Refused as superseded: deleted or redeployed through another
       * ingress while this one had not yet seen the new head. */
      deleted = put == MANTA_ERR_CANCELLED;
    }
    if (deleted && (gone[ngone] = strdup(key))) {
      ngone++;
    }
  }
  for (size_t i = 0; i < ngone; i++) {
    if (mt_serve_routes_delete(gone[i]) == MANTA_OK) {
      mt_log(MT_LOG_INFO,
             "serve: route %s was deleted in the cluster; deleted here",
             gone[i]);
    }
    forget_locked(gone[i]);
    free(gone[i]);
  }
  free(gone);
  pthread_mutex_unlock(&mu);
  mt_serve_shared_free(list, n);
}

static mt_serve_ticker ticker = MT_SERVE_TICKER(tick, TICK_MS, true);

void mt_serve_sync_start(void) {
  if (!mt_cl.on) {
    return; /* embedded: no head to share with */
  }
  pthread_mutex_lock(&mu);
  if (!routes_init) {
    mt_strmap_init(&routes);
    routes_init = true;
  }
  bool start = !running;
  if (start) {
    incarnation = 0;
    running = true;
  }
  pthread_mutex_unlock(&mu);
  if (start) {
    mt_serve_ticker_start(&ticker);
  }
}

void mt_serve_sync_stop(void) {
  pthread_mutex_lock(&mu);
  running = false;
  pthread_mutex_unlock(&mu);
  mt_serve_ticker_stop(&ticker);
  pthread_mutex_lock(&mu);
  if (routes_init) {
    size_t pos = 0;
    const char *key;
    void *val;
    while (mt_strmap_next(&routes, &pos, &key, &val)) {
      known_free(val);
    }
    mt_strmap_destroy(&routes);
    routes_init = false;
  }
  pthread_mutex_unlock(&mu);
}

manta_err mt_serve_sync_put(mt_serve_spec *spec, char *why, size_t why_size) {
  char route[1024];
  snprintf(route, sizeof route, "%s", spec->route);
  /* Under mu with the generation bumped first: a tick cannot put an older
   * reading of the head over this deploy. */
  pthread_mutex_lock(&mu);
  char *json = running ? mt_serve_spec_to_json(spec) : NULL;
  generation++;
  manta_err err = mt_serve_routes_put(spec, why, why_size);
  if (err == MANTA_OK && json) {
    uint64_t stamp = 0;
    if (getrandom(&stamp, sizeof stamp, 0) != (ssize_t)sizeof stamp) {
      stamp = (uint64_t)time(NULL) ^ generation;
    }
    known *k = remember_locked(route, json, stamp, mt_rt.node_id);
    if (k) {
      k->applied = true;
      /* At once, so the other ingresses may serve it by their next tick;
       * a head away is tried again by the ticks. */
      k->announced =
          mt_serve_shared_put(route, json, stamp, mt_rt.node_id) == MANTA_OK;
    }
  }
  pthread_mutex_unlock(&mu);
  free(json);
  return err;
}

manta_err mt_serve_sync_delete(const char *route) {
  pthread_mutex_lock(&mu);
  generation++;
  manta_err err = mt_serve_routes_delete(route);
  if (running) {
    forget_locked(route);
    if (mt_serve_shared_drop(route) == MANTA_OK) {
      err = MANTA_OK; /* served elsewhere, not yet here */
    }
  }
  pthread_mutex_unlock(&mu);
  return err;
}
