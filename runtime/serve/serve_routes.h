/*
 * The route table: deployments by route prefix, their actor replicas, and
 * the choice of a replica for each request (power of two choices on the
 * count of requests in flight, bounded by max_ongoing_requests).
 *
 * A deployment is reference counted: the table holds one reference and
 * every request in flight one more, so a redeploy swaps the table's entry
 * at once while the old replicas finish (drain) what they were given; the
 * last reference kills them.
 */
#ifndef MT_SERVE_ROUTES_H
#define MT_SERVE_ROUTES_H

#include "manta.h"

#include <stdatomic.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define MT_SERVE_DEFAULT_MAX_ONGOING 100
#define MT_SERVE_DEFAULT_TIMEOUT_MS 60000
#define MT_SERVE_MAX_RESOURCES 16

/* What a deployment asks for (manta_deployment, a deployment file). */
typedef struct mt_serve_spec {
  char *route;       /* "/echo": a prefix of whole path segments */
  char *function;    /* a function target, or */
  char *cls;         /* an actor class target, */
  char *method;      /* its method (NULL: the path segment after the route) */
  unsigned replicas; /* actor replicas (class targets) */
  unsigned max_ongoing; /* per replica; a function route: in all */
  int64_t timeout_ms;   /* per request; <= 0: none */
  /* Autoscaling (max_replicas > 0): between min and max replicas, aiming
   * at target_ongoing in flight per replica (docs/serve.md). */
  unsigned min_replicas, max_replicas, target_ongoing;
  /* A request whose replica was lost is sent once more, to another. */
  bool idempotent;
  /* Health probe (class routes): this method is called on every replica
   * each period; an error, or no answer within the timeout, replaces the
   * replica (serve_health.c). NULL: no probe. */
  char *health_method;
  int64_t health_period_ms, health_timeout_ms;
  /* Class routes: what each replica holds while it lives (named
   * quantities, "CPU" among them) and its constructor's arguments (a
   * list value, or NULL for none). */
  unsigned nres;
  char *res_names[MT_SERVE_MAX_RESOURCES];
  double res_qty[MT_SERVE_MAX_RESOURCES];
  manta_value *init_args;
} mt_serve_spec;

#define MT_SERVE_DEFAULT_HEALTH_PERIOD_MS 10000
#define MT_SERVE_DEFAULT_HEALTH_TIMEOUT_MS 30000

/* Added to a replica's in-flight count when autoscaling retires it: no
 * slot can be taken any more (the count is over every max), and it is
 * killed once the count is exactly this (drained). */
#define MT_SERVE_RETIRED ((int64_t)1 << 40)

typedef struct mt_serve_replica {
  _Atomic uint64_t actor; /* manta_actor id; replaced when it dies */
  _Atomic int64_t in_flight, handled, errors;
  _Atomic bool replacing;
  /* The health probe under way (the probing thread's alone; released by
   * the deployment's end): its ref, the actor asked, when. */
  uint64_t probe_ref, probe_actor;
  int64_t probe_sent_ms, probe_next_ms;
} mt_serve_replica;

typedef struct mt_serve_dep {
  _Atomic int refs;
  mt_serve_spec spec;
  unsigned version; /* 1 for the first deploy of a route, +1 each redeploy */
  mt_serve_replica *reps;        /* max_replicas (or replicas) of them */
  unsigned nreps;                /* the size of reps */
  _Atomic unsigned active;       /* reps[0, active) take requests */
  unsigned up_ticks, down_ticks; /* the autoscaler's hysteresis */
  _Atomic int64_t in_flight, handled, errors, rejected, retried;
  _Atomic int64_t replaced; /* replicas replaced (lost or unhealthy) */
  _Atomic bool retired;     /* replaced or deleted: draining */
  /* The ingress's inline answers (serve_ingress.c, "Inline calls"): fast
   * results in a row, and how many it takes (0: the default). */
  _Atomic int64_t fast_streak, inline_after;
} mt_serve_dep;

/* Copies a spec with defaults filled in; MANTA_ERR_INVALID with why for a
 * spec that cannot serve (route not starting with '/', no target or both,
 * zero replicas). */
manta_err mt_serve_spec_check(const mt_serve_spec *in, mt_serve_spec *out,
                              char *why, size_t why_size);
void mt_serve_spec_clear(mt_serve_spec *s);
/* Sets (or replaces) one resource of a spec; MANTA_ERR_INVALID past
 * MT_SERVE_MAX_RESOURCES names or for a quantity below 0. */
manta_err mt_serve_spec_set_resource(mt_serve_spec *s, const char *name,
                                     double qty);

/* Deploys (or redeploys: the old version drains) a checked spec, taken. */
manta_err mt_serve_routes_put(mt_serve_spec *spec, char *why, size_t why_size);
/* Removes a route (its replicas drain); MANTA_ERR_NOT_FOUND if none. */
manta_err mt_serve_routes_delete(const char *route);
/* Every route and replica as a value (docs/serve.md, "Status"). */
manta_value *mt_serve_routes_status(void);
/* The autoscaled deployments, each with a reference taken (free the
 * array); NULL on OOM. */
mt_serve_dep **mt_serve_routes_autoscaled(size_t *n);
/* The same for the deployments with a health probe. */
mt_serve_dep **mt_serve_routes_probed(size_t *n);
/* Creates one replica actor of a class spec, spread over the nodes
 * offering the class. */
manta_err mt_serve_new_replica(const mt_serve_spec *s, uint64_t *actor);
/* Drops every route (shutdown). */
void mt_serve_routes_clear(void);

/* The deployment whose route is the longest prefix of path (segment-wise),
 * with a reference taken; NULL if none. */
mt_serve_dep *mt_serve_routes_match(const char *path);
void mt_serve_dep_unref(mt_serve_dep *d);

/* Takes a slot for one request: the replica index (>= 0, or 0 for a
 * function route), -1 when every replica is full (the caller answers 503). */
int mt_serve_dep_acquire(mt_serve_dep *d);
/* Gives the slot back with the request's outcome. An actor that is gone
 * (code ACTOR_DEAD, NODE_DIED) is replaced by a new replica, unless it
 * was replaced already (actor: the one the request was sent to; 0:
 * unknown). */
void mt_serve_dep_release(mt_serve_dep *d, int replica, uint64_t actor,
                          manta_err code);
/* Replaces replica's actor `lost` (unless another did it first) by a new
 * one, killing it first when kill (an unhealthy actor may still run). why
 * goes to the log. */
void mt_serve_dep_replace(mt_serve_dep *d, int replica, uint64_t lost,
                          bool kill, const char *why);

#endif
