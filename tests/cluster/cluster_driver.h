/* The cluster driver's phases (cluster_driver.c: tasks; cluster_actors.c:
 * actors; cluster_strategies.c: scheduling strategies; cluster_pg.c: placement
 * groups). */
#ifndef CLUSTER_DRIVER_H
#define CLUSTER_DRIVER_H

#include "test_util.h"

/* Calls method m of actor a and waits (30 s at most): its int result
 * (cluster_actors.c). */
int64_t call_int(manta_actor a, const char *m, manta_value **args, size_t n);
/* The node id of the node with this pid ("" if none), from the head
 * (cluster_restarts.c). */
void node_of_pid(int64_t pid, char *id, size_t size);
/* Runs the actor phase of that name; 0 if there is none. */
int cluster_actor_phase(const char *phase);
/* Runs the strategy phase of that name; 0 if there is none. */
int cluster_strategy_phase(const char *phase);
/* Runs the placement-group phase of that name; 0 if there is none. */
int cluster_pg_phase(const char *phase);
/* Runs the actor-restart phase of that name (cluster_restarts.c); 0 if
 * there is none. */
int cluster_restart_phase(const char *phase);
/* Runs the lineage phase of that name (cluster_lineage.c); 0 if there is
 * none. */
int cluster_lineage_phase(const char *phase);
/* Runs the network-partition phase of that name (cluster_partition.c); 0
 * if there is none. */
int cluster_partition_phase(const char *phase);
/* Runs the stream phase (cluster_streams.c); 0 if it is not that. */
int cluster_stream_phase(const char *phase);
/* Runs the task-handoff phase of that name (cluster_handoff.c); 0 if
 * there is none. */
int cluster_handoff_phase(const char *phase);

#endif
