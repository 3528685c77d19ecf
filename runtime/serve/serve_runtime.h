/*
 * What Serve needs from the runtime that manta.h does not offer; the only
 * file of runtime/serve that includes rt.h.
 *
 * A callback when a ref's object is ready, for the ingress: requests wait
 * for their results without a thread each. manta.h offers only blocking
 * waits (get, wait), so this reaches the runtime's own listener mechanism
 * (mt_obj_when_ready_locked, the one the node service uses for results it
 * sends back). Calls run on the ingress's own thread (the scheduler's
 * run-here, as the node service uses it for received tasks). And the
 * node an actor lives on, for the status.
 */
#ifndef MT_SERVE_RUNTIME_H
#define MT_SERVE_RUNTIME_H

#include "manta.h"

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* Called once with the result (a new reference the callee owns, an error
 * value on failure), under the runtime's lock: it must only record the
 * value and wake someone, never call manta_* functions or free values. */
typedef void (*mt_serve_ready_fn)(void *ctx, manta_value *result);

typedef struct mt_serve_wait {
  void *listener; /* the runtime's, while armed */
  void *obj;
  bool armed;
} mt_serve_wait;

/* Takes over the ref's count and calls fn once its object is ready (now if
 * it is). false if the ref is stale: then fn is never called and the ref
 * is released. */
bool mt_serve_wait_start(mt_serve_wait *w, manta_ref ref, mt_serve_ready_fn fn,
                         void *ctx);
/* Stops waiting: true if fn will never be called (the ref is released),
 * false if fn ran already. */
bool mt_serve_wait_cancel(mt_serve_wait *w);

/* The calls this thread submits from now on wake no worker: the next
 * mt_serve_run_here runs them here (or, if another thread already runs
 * work that way, kicks workers for them). For the ingress's pollers
 * (serve_pollers.c): a worker woken per request and the poller woken for
 * its answer were two thread wake-ups on every request. */
void mt_serve_defer_kicks(void);
/* Runs one turn of the scheduler on this thread (an actor's turn or a
 * batch of calls of one kind) if calls were deferred; away() before,
 * back() after, step_aside() if a call blocks (in get or wait). */
void mt_serve_run_here(void (*away)(void), void (*step_aside)(void),
                       void (*back)(void));

/* The next mt_serve_run_here on this thread would run w's call and
 * nothing else queued (its actor's turn, or it alone in the queues), as
 * far as one can tell now: for the ingress's inline calls, which must not
 * run another route's call inside libmicrohttpd's loop. */
bool mt_serve_here_runs_only(const mt_serve_wait *w);

/* The node the actor lives on (16 hex digits, as manta_node_id writes
 * them); "" when the handle is unknown. */
void mt_serve_actor_node(uint64_t actor, char *buf, size_t size);

#endif
