/* The cluster driver's phases (cluster_driver.c: tasks; cluster_actors.c:
 * actors; cluster_strategies.c: scheduling strategies; cluster_pg.c: placement
 * groups). */
#ifndef CLUSTER_DRIVER_H
#define CLUSTER_DRIVER_H

#include "test_util.h"

/* Runs the actor phase of that name; 0 if there is none. */
int cluster_actor_phase(const char *phase);
/* Runs the strategy phase of that name; 0 if there is none. */
int cluster_strategy_phase(const char *phase);
/* Runs the placement-group phase of that name; 0 if there is none. */
int cluster_pg_phase(const char *phase);

#endif
