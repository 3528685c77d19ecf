/*
 * Autoscaling of class routes between min_replicas and max_replicas on the
 * requests in flight, with hysteresis (docs/serve.md, "Autoscaling"). One
 * thread per process, started by the first autoscaled deploy.
 */
#ifndef MT_SERVE_AUTOSCALE_H
#define MT_SERVE_AUTOSCALE_H

#include "serve_routes.h"

void mt_serve_autoscaler_start(void);
void mt_serve_autoscaler_stop(void);
/* One decision for one deployment (the thread calls it every tick). */
void mt_serve_autoscale_tick(mt_serve_dep *d);

#endif
