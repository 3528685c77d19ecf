/*
 * The health probe of class routes (docs/serve.md, "Health checks"): each
 * replica's health method is called every period; a call that fails, or
 * does not answer within the timeout, replaces the replica (killed first:
 * it may still run). One thread per process, started by the first route
 * that asks for a probe.
 */
#ifndef MT_SERVE_HEALTH_H
#define MT_SERVE_HEALTH_H

#include "serve_routes.h"

#include <stdint.h>

void mt_serve_health_start(void);
void mt_serve_health_stop(void);
/* One round over one deployment at time now_ms (the thread calls it every
 * tick): collects the answers come, sends the probes due. */
void mt_serve_health_tick(mt_serve_dep *d, int64_t now_ms);

#endif
