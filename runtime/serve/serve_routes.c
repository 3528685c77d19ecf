/*
 * Routes, replicas and the choice between them. Lookups take a mutex for a
 * few compares (routes are few); the counts a request touches are atomics
 * in its deployment, so requests to different replicas share no lock.
 */
#include "serve_routes.h"

#include "log.h"
#include "serve_autoscale.h"
#include "serve_health.h"
#include "serve_inline.h"
#include "serve_runtime.h"

#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

typedef struct table {
  pthread_mutex_t mu;
  mt_serve_dep **deps; /* live routes */
  size_t n, cap;
  mt_serve_dep **retired; /* replaced or deleted, still draining */
  size_t nretired, capretired;
} table;

static table routes = {.mu = PTHREAD_MUTEX_INITIALIZER};

static char *dup_or_null(const char *s) {
  return s ? strdup(s) : NULL;
}

void mt_serve_spec_clear(mt_serve_spec *s) {
  free(s->route);
  free(s->function);
  free(s->cls);
  free(s->method);
  free(s->health_method);
  for (unsigned i = 0; i < s->nres; i++) {
    free(s->res_names[i]);
  }
  manta_value_free(s->init_args);
  memset(s, 0, sizeof *s);
}

manta_err mt_serve_spec_set_resource(mt_serve_spec *s, const char *name,
                                     double qty) {
  if (!name || !*name || !(qty >= 0) || qty > 1e12) {
    return MANTA_ERR_INVALID;
  }
  for (unsigned i = 0; i < s->nres; i++) {
    if (strcmp(s->res_names[i], name) == 0) {
      s->res_qty[i] = qty;
      return MANTA_OK;
    }
  }
  if (s->nres == MT_SERVE_MAX_RESOURCES) {
    return MANTA_ERR_INVALID;
  }
  if (!(s->res_names[s->nres] = strdup(name))) {
    return MANTA_ERR_NOMEM;
  }
  s->res_qty[s->nres++] = qty;
  return MANTA_OK;
}

manta_err mt_serve_spec_check(const mt_serve_spec *in, mt_serve_spec *out,
                              char *why, size_t why_size) {
  memset(out, 0, sizeof *out);
  const char *r = in->route;
  if (!r || r[0] != '/' || strlen(r) > 255 || strpbrk(r, "?#% \t\r\n")) {
    snprintf(why, why_size,
             "route '%s' is not a path prefix (it starts with '/', has at "
             "most 255 characters and no '?', '#', '%%' or spaces)",
             r ? r : "(none)");
    return MANTA_ERR_INVALID;
  }
  if (!in->function == !in->cls) {
    snprintf(why, why_size,
             "route %s needs one target: a function or an actor class", r);
    return MANTA_ERR_INVALID;
  }
  if (in->cls && in->replicas == 0) {
    snprintf(why, why_size, "route %s: replicas must be at least 1", r);
    return MANTA_ERR_INVALID;
  }
  if (in->max_replicas &&
      (!in->cls || in->min_replicas < 1 ||
       in->min_replicas > in->max_replicas || in->max_replicas > 1000)) {
    snprintf(why, why_size,
             "route %s: autoscaling is for class routes, with 1 <= "
             "min_replicas <= max_replicas <= 1000",
             r);
    return MANTA_ERR_INVALID;
  }
  if ((in->nres || in->init_args) && !in->cls) {
    snprintf(why, why_size,
             "route %s: resources and args are for class routes (each "
             "replica holds them; a function route's requests are tasks)",
             r);
    return MANTA_ERR_INVALID;
  }
  if (in->init_args && manta_value_kind(in->init_args) != MANTA_KIND_LIST) {
    snprintf(why, why_size,
             "route %s: args are a list (the constructor's arguments)", r);
    return MANTA_ERR_INVALID;
  }
  if (in->health_method && !in->cls) {
    snprintf(why, why_size,
             "route %s: a health check is for class routes (it calls a "
             "method of each replica)",
             r);
    return MANTA_ERR_INVALID;
  }
  /* "/echo/" and "/echo" are one route. */
  size_t len = strlen(r);
  while (len > 1 && r[len - 1] == '/') {
    len--;
  }
  out->route = strndup(r, len);
  out->function = dup_or_null(in->function);
  out->cls = dup_or_null(in->cls);
  out->method = dup_or_null(in->method);
  out->health_method = dup_or_null(in->health_method);
  bool res_ok = true;
  for (unsigned i = 0; i < in->nres; i++) {
    res_ok &= mt_serve_spec_set_resource(out, in->res_names[i],
                                         in->res_qty[i]) == MANTA_OK;
  }
  if (in->init_args) {
    /* Shared by every replica: frozen once sent, so kept as it is. */
    out->init_args = manta_value_ref(in->init_args);
  }
  out->health_period_ms = in->health_period_ms > 0
                              ? in->health_period_ms
                              : MT_SERVE_DEFAULT_HEALTH_PERIOD_MS;
  out->health_timeout_ms = in->health_timeout_ms > 0
                               ? in->health_timeout_ms
                               : MT_SERVE_DEFAULT_HEALTH_TIMEOUT_MS;
  out->idempotent = in->idempotent;
  out->replicas = in->cls ? in->replicas : 1;
  out->min_replicas = in->min_replicas;
  out->max_replicas = in->max_replicas;
  out->target_ongoing = in->target_ongoing ? in->target_ongoing : 2;
  if (out->max_replicas) {
    /* Start within the bounds: replicas if it is, else the nearer bound. */
    out->replicas = out->replicas < out->min_replicas   ? out->min_replicas
                    : out->replicas > out->max_replicas ? out->max_replicas
                                                        : out->replicas;
  }
  out->max_ongoing =
      in->max_ongoing ? in->max_ongoing : MT_SERVE_DEFAULT_MAX_ONGOING;
  out->timeout_ms =
      in->timeout_ms ? in->timeout_ms : MT_SERVE_DEFAULT_TIMEOUT_MS;
  if (!out->route || (in->function && !out->function) ||
      (in->cls && !out->cls) || (in->method && !out->method) ||
      (in->health_method && !out->health_method) || !res_ok) {
    mt_serve_spec_clear(out);
    snprintf(why, why_size, "out of memory");
    return MANTA_ERR_NOMEM;
  }
  return MANTA_OK;
}

manta_err mt_serve_new_replica(const mt_serve_spec *s, uint64_t *actor) {
  manta_call_options *opts = NULL;
  manta_err err = manta_call_options_new(&opts);
  if (err == MANTA_OK) {
    err = manta_call_options_set_strategy(opts, MANTA_STRATEGY_SPREAD);
  }
  for (unsigned i = 0; err == MANTA_OK && i < s->nres; i++) {
    err = strcmp(s->res_names[i], "CPU") == 0
              ? manta_call_options_set_num_cpus(opts, s->res_qty[i])
              : manta_call_options_set_resource(opts, s->res_names[i],
                                                s->res_qty[i]);
  }
  size_t nargs = 0;
  if (s->init_args) {
    manta_len(s->init_args, &nargs);
  }
  const manta_value **args = calloc(nargs + 1, sizeof *args);
  if (!args && err == MANTA_OK) {
    err = MANTA_ERR_NOMEM;
  }
  for (size_t i = 0; err == MANTA_OK && i < nargs; i++) {
    manta_list_at(s->init_args, i, &args[i]);
  }
  manta_actor a = {0};
  if (err == MANTA_OK) {
    err = manta_actor_create(s->cls, args, nargs, opts, &a);
  }
  free(args);
  manta_call_options_free(opts);
  *actor = a.id;
  return err;
}

static void dep_free(mt_serve_dep *d) {
  for (unsigned i = 0; i < d->nreps; i++) {
    if (d->reps[i].probe_ref) {
      manta_ref_release((manta_ref){d->reps[i].probe_ref});
    }
    manta_actor a = {atomic_load(&d->reps[i].actor)};
    if (a.id) {
      manta_actor_kill(a);
      manta_actor_release(a);
    }
  }
  free(d->reps);
  mt_serve_spec_clear(&d->spec);
  free(d);
}

void mt_serve_dep_unref(mt_serve_dep *d) {
  if (!d || atomic_fetch_sub(&d->refs, 1) != 1) {
    return;
  }
  pthread_mutex_lock(&routes.mu);
  for (size_t i = 0; i < routes.nretired; i++) {
    if (routes.retired[i] == d) {
      routes.retired[i] = routes.retired[--routes.nretired];
      break;
    }
  }
  pthread_mutex_unlock(&routes.mu);
  dep_free(d);
}

/* Marks d retired and lists it as draining (under the lock). The list
 * holds no reference and serves the status only: out of memory, d drains
 * all the same, unlisted. */
static void retire_locked(mt_serve_dep *d) {
  atomic_store(&d->retired, true);
  if (routes.nretired == routes.capretired) {
    size_t cap = routes.capretired ? 2 * routes.capretired : 8;
    mt_serve_dep **n = realloc(routes.retired, cap * sizeof *n);
    if (!n) {
      return;
    }
    routes.retired = n, routes.capretired = cap;
  }
  routes.retired[routes.nretired++] = d;
}

manta_err mt_serve_routes_put(mt_serve_spec *spec, char *why, size_t why_size) {
  mt_serve_dep *d = calloc(1, sizeof *d);
  unsigned slots = spec->max_replicas ? spec->max_replicas : spec->replicas;
  if (!d || !(d->reps = calloc(slots, sizeof *d->reps))) {
    free(d);
    mt_serve_spec_clear(spec);
    snprintf(why, why_size, "out of memory");
    return MANTA_ERR_NOMEM;
  }
  d->spec = *spec;
  memset(spec, 0, sizeof *spec);
  d->nreps = slots;
  atomic_init(&d->active, d->spec.replicas);
  atomic_init(&d->refs, 1);
  for (unsigned i = 0; d->spec.cls && i < d->spec.replicas; i++) {
    uint64_t id = 0;
    manta_err err = mt_serve_new_replica(&d->spec, &id);
    atomic_store(&d->reps[i].actor, id);
    if (err != MANTA_OK) {
      snprintf(why, why_size, "route %s: cannot create replica %u of %s: %s",
               d->spec.route, i, d->spec.cls, manta_strerror(err));
      dep_free(d);
      return err;
    }
  }
  mt_serve_dep *old = NULL;
  pthread_mutex_lock(&routes.mu);
  size_t i = 0;
  while (i < routes.n && strcmp(routes.deps[i]->spec.route, d->spec.route)) {
    i++;
  }
  if (i == routes.n && routes.n == routes.cap) {
    size_t cap = routes.cap ? 2 * routes.cap : 8;
    mt_serve_dep **n = realloc(routes.deps, cap * sizeof *n);
    if (!n) {
      pthread_mutex_unlock(&routes.mu);
      dep_free(d);
      snprintf(why, why_size, "out of memory");
      return MANTA_ERR_NOMEM;
    }
    routes.deps = n, routes.cap = cap;
  }
  if (i < routes.n) {
    old = routes.deps[i];
    d->version = old->version + 1;
    /* Draining: the table's reference is dropped below, the requests in
     * flight hold theirs and the last one frees it. */
    retire_locked(old);
  } else {
    d->version = 1;
    routes.n++;
  }
  routes.deps[i] = d;
  pthread_mutex_unlock(&routes.mu);
  mt_serve_dep_unref(old);
  mt_log(MT_LOG_INFO, "serve: route %s -> %s %s (version %u, %u replica%s)",
         d->spec.route, d->spec.cls ? "class" : "function",
         d->spec.cls ? d->spec.cls : d->spec.function, d->version,
         d->spec.replicas, d->spec.replicas == 1 ? "" : "s");
  if (d->spec.max_replicas) {
    mt_serve_autoscaler_start();
  }
  if (d->spec.health_method) {
    mt_serve_health_start();
  }
  return MANTA_OK;
}

manta_err mt_serve_routes_delete(const char *route) {
  mt_serve_dep *d = NULL;
  size_t len = route ? strlen(route) : 0;
  while (len > 1 && route[len - 1] == '/') {
    len--;
  }
  pthread_mutex_lock(&routes.mu);
  for (size_t i = 0; i < routes.n; i++) {
    const char *r = routes.deps[i]->spec.route;
    if (strlen(r) == len && strncmp(r, route, len) == 0) {
      d = routes.deps[i];
      routes.deps[i] = routes.deps[--routes.n];
      retire_locked(d);
      break;
    }
  }
  pthread_mutex_unlock(&routes.mu);
  if (!d) {
    return MANTA_ERR_NOT_FOUND;
  }
  mt_serve_dep_unref(d);
  return MANTA_OK;
}

/* The deployments `keep` selects, each with a reference taken. */
static mt_serve_dep **routes_where(bool (*keep)(const mt_serve_dep *),
                                   size_t *n) {
  pthread_mutex_lock(&routes.mu);
  mt_serve_dep **out = calloc(routes.n ? routes.n : 1, sizeof *out);
  *n = 0;
  for (size_t i = 0; out && i < routes.n; i++) {
    if (keep(routes.deps[i])) {
      atomic_fetch_add(&routes.deps[i]->refs, 1);
      out[(*n)++] = routes.deps[i];
    }
  }
  pthread_mutex_unlock(&routes.mu);
  return out;
}

static bool autoscaled(const mt_serve_dep *d) {
  return d->spec.max_replicas > 0;
}

static bool probed(const mt_serve_dep *d) {
  return d->spec.health_method != NULL;
}

mt_serve_dep **mt_serve_routes_autoscaled(size_t *n) {
  return routes_where(autoscaled, n);
}

mt_serve_dep **mt_serve_routes_probed(size_t *n) {
  return routes_where(probed, n);
}

void mt_serve_routes_clear(void) {
  mt_serve_autoscaler_stop();
  mt_serve_health_stop();
  pthread_mutex_lock(&routes.mu);
  mt_serve_dep **deps = routes.deps;
  size_t n = routes.n;
  routes.deps = NULL, routes.n = routes.cap = 0;
  for (size_t i = 0; i < n; i++) {
    retire_locked(deps[i]);
  }
  pthread_mutex_unlock(&routes.mu);
  for (size_t i = 0; i < n; i++) {
    mt_serve_dep_unref(deps[i]);
  }
  free(deps);
  pthread_mutex_lock(&routes.mu);
  if (routes.nretired == 0) {
    free(routes.retired);
    routes.retired = NULL, routes.capretired = 0;
  }
  pthread_mutex_unlock(&routes.mu);
}

/* route covers path: equal, or a prefix ending at a '/' of path. */
static size_t covers(const char *route, const char *path) {
  size_t n = strlen(route);
  if (n == 1) {
    return 1; /* "/" covers everything, as the shortest match */
  }
  if (strncmp(route, path, n) != 0 || (path[n] != '\0' && path[n] != '/')) {
    return 0;
  }
  return n;
}

mt_serve_dep *mt_serve_routes_match(const char *path) {
  mt_serve_dep *best = NULL;
  size_t best_len = 0;
  pthread_mutex_lock(&routes.mu);
  for (size_t i = 0; i < routes.n; i++) {
    size_t n = covers(routes.deps[i]->spec.route, path);
    if (n > best_len) {
      best = routes.deps[i], best_len = n;
    }
  }
  if (best) {
    atomic_fetch_add(&best->refs, 1);
  }
  pthread_mutex_unlock(&routes.mu);
  return best;
}

static uint64_t next_random(void) {
  static _Thread_local uint64_t x;
  if (!x) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    x = (uint64_t)ts.tv_nsec * 0x9E3779B97F4A7C15ull ^ (uint64_t)&x;
    x |= 1;
  }
  x ^= x << 13, x ^= x >> 7, x ^= x << 17;
  return x;
}

/* One more in flight on the counter if it stays within max. */
static bool take(_Atomic int64_t *in_flight, int64_t max) {
  int64_t n = atomic_load(in_flight);
  while (n < max) {
    if (atomic_compare_exchange_weak(in_flight, &n, n + 1)) {
      return true;
    }
  }
  return false;
}

int mt_serve_dep_acquire(mt_serve_dep *d) {
  int64_t max = d->spec.max_ongoing;
  if (!d->spec.cls) {
    if (!take(&d->in_flight, max)) {
      atomic_fetch_add(&d->rejected, 1);
      return -1;
    }
    return 0;
  }
  /* Power of two choices: the less busy of two replicas drawn at random,
   * the other if it is full; both full, any with room (n is small). */
  unsigned n = atomic_load(&d->active);
  uint64_t r = next_random();
  unsigned a = (unsigned)(r % n), b = (unsigned)((r >> 32) % n);
  if (n > 1 && a == b) {
    b = (a + 1) % n;
  }
  if (atomic_load(&d->reps[b].in_flight) < atomic_load(&d->reps[a].in_flight)) {
    unsigned t = a;
    a = b, b = t;
  }
  int chosen = -1;
  if (take(&d->reps[a].in_flight, max)) {
    chosen = (int)a;
  } else if (take(&d->reps[b].in_flight, max)) {
    chosen = (int)b;
  } else {
    for (unsigned i = 0; i < n && chosen < 0; i++) {
      if (take(&d->reps[i].in_flight, max)) {
        chosen = (int)i;
      }
    }
  }
  if (chosen < 0) {
    atomic_fetch_add(&d->rejected, 1);
    return -1;
  }
  atomic_fetch_add(&d->in_flight, 1);
  return chosen;
}

void mt_serve_dep_release(mt_serve_dep *d, int replica, uint64_t actor,
                          manta_err code) {
  atomic_fetch_sub(&d->in_flight, 1);
  atomic_fetch_add(&d->handled, 1);
  if (code != MANTA_OK) {
    atomic_fetch_add(&d->errors, 1);
  }
  if (!d->spec.cls || replica < 0) {
    return;
  }
  mt_serve_replica *rep = &d->reps[replica];
  atomic_fetch_sub(&rep->in_flight, 1);
  atomic_fetch_add(&rep->handled, 1);
  if (code != MANTA_OK) {
    atomic_fetch_add(&rep->errors, 1);
  }
  if (code == MANTA_ERR_ACTOR_DEAD || code == MANTA_ERR_NODE_DIED) {
    /* The replica is gone (its node died, it was killed): the first
     * request that saw it replaces it, on any node offering the class. */
    mt_serve_dep_replace(d, replica, actor, false, manta_errname(code));
  }
}

void mt_serve_dep_replace(mt_serve_dep *d, int replica, uint64_t lost,
                          bool kill, const char *why) {
  mt_serve_replica *rep = &d->reps[replica];
  if (atomic_load(&d->retired) ||
      atomic_load(&rep->in_flight) >= MT_SERVE_RETIRED) {
    return; /* draining anyway */
  }
  bool expected = false;
  if (!atomic_compare_exchange_strong(&rep->replacing, &expected, true)) {
    return;
  }
  if (lost && atomic_load(&rep->actor) != lost) {
    atomic_store(&rep->replacing, false); /* replaced already */
    return;
  }
  uint64_t fresh = 0;
  manta_err err = mt_serve_new_replica(&d->spec, &fresh);
  if (err == MANTA_OK) {
    manta_actor old = {atomic_exchange(&rep->actor, fresh)};
    if (kill) {
      manta_actor_kill(old);
    }
    /* Calls already made on the old handle hold their own count. */
    manta_actor_release(old);
    atomic_fetch_add(&d->replaced, 1);
    mt_log(MT_LOG_WARN, "serve: route %s replica %d was lost (%s): replaced",
           d->spec.route, replica, why);
  } else {
    mt_log(MT_LOG_WARN,
           "serve: route %s replica %d was lost (%s) and "
           "cannot be replaced: %s",
           d->spec.route, replica, why, manta_strerror(err));
  }
  atomic_store(&rep->replacing, false);
}

static bool put_int(manta_value *m, const char *key, int64_t v) {
  return manta_map_put(m, key, manta_int(v)) == MANTA_OK;
}

static manta_value *dep_status(mt_serve_dep *d, size_t draining) {
  manta_value *m = manta_map(), *reps = manta_list();
  if (!m || !reps) {
    manta_value_free(m), manta_value_free(reps);
    return NULL;
  }
  const mt_serve_spec *s = &d->spec;
  manta_map_put(m, "route", manta_cstring(s->route));
  manta_map_put(m, s->cls ? "class" : "function",
                manta_cstring(s->cls ? s->cls : s->function));
  if (s->method) {
    manta_map_put(m, "method", manta_cstring(s->method));
  }
  put_int(m, "version", d->version);
  put_int(m, "max_ongoing_requests", s->max_ongoing);
  put_int(m, "timeout_ms", s->timeout_ms);
  put_int(m, "in_flight", atomic_load(&d->in_flight));
  put_int(m, "handled", atomic_load(&d->handled));
  put_int(m, "errors", atomic_load(&d->errors));
  put_int(m, "rejected", atomic_load(&d->rejected));
  put_int(m, "retried", atomic_load(&d->retried));
  put_int(m, "replaced", atomic_load(&d->replaced));
  if (s->nres) {
    manta_value *res = manta_map();
    for (unsigned i = 0; res && i < s->nres; i++) {
      manta_map_put(res, s->res_names[i], manta_double(s->res_qty[i]));
    }
    manta_map_put(m, "resources", res);
  }
  if (s->init_args) {
    manta_map_put(m, "args", manta_value_ref(s->init_args));
  }
  if (s->health_method) {
    manta_map_put(m, "health_check_method", manta_cstring(s->health_method));
    put_int(m, "health_check_period_ms", s->health_period_ms);
    put_int(m, "health_check_timeout_ms", s->health_timeout_ms);
  }
  manta_map_put(m, "idempotent", manta_bool(s->idempotent));
  manta_map_put(m, "inline_calls", manta_bool(mt_serve_inline_ok(d)));
  put_int(m, "draining", (int64_t)draining);
  if (s->max_replicas) {
    put_int(m, "min_replicas", s->min_replicas);
    put_int(m, "max_replicas", s->max_replicas);
    put_int(m, "target_ongoing_requests", s->target_ongoing);
  }
  unsigned active = atomic_load(&d->active);
  for (unsigned i = 0; s->cls && i < active; i++) {
    mt_serve_replica *r = &d->reps[i];
    manta_value *rm = manta_map();
    if (!rm) {
      continue;
    }
    put_int(rm, "replica", i);
    char node[32];
    mt_serve_actor_node(atomic_load(&r->actor), node, sizeof node);
    if (node[0]) {
      manta_map_put(rm, "node", manta_cstring(node));
    }
    put_int(rm, "in_flight", atomic_load(&r->in_flight) % MT_SERVE_RETIRED);
    put_int(rm, "handled", atomic_load(&r->handled));
    put_int(rm, "errors", atomic_load(&r->errors));
    manta_list_push(reps, rm);
  }
  manta_map_put(m, "replicas", reps);
  return m;
}

manta_value *mt_serve_routes_status(void) {
  manta_value *list = manta_list();
  pthread_mutex_lock(&routes.mu);
  for (size_t i = 0; list && i < routes.n; i++) {
    mt_serve_dep *d = routes.deps[i];
    size_t draining = 0;
    for (size_t j = 0; j < routes.nretired; j++) {
      draining += strcmp(routes.retired[j]->spec.route, d->spec.route) == 0;
    }
    manta_value *m = dep_status(d, draining);
    if (m) {
      manta_list_push(list, m);
    }
  }
  pthread_mutex_unlock(&routes.mu);
  return list;
}
