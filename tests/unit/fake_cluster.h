/*
 * A fake cluster behind the core's seam (runtime/core/cluster_seam.h): no
 * process, no network. It stands where runtime/cluster would, records what
 * the core asks of it and answers as a test tells it to, so routing,
 * placement, borrowing and named-actor lookups of the core can be tested
 * in one process (tests/unit/test_seam.c).
 */
#ifndef FAKE_CLUSTER_H
#define FAKE_CLUSTER_H

#include "cluster_seam.h"

#define FAKE_MAX_SENT 64

typedef struct fake_cluster {
  /* What the fake answers (set by the test before the calls). */
  uint64_t route_to;    /* node for calls this node cannot run; 0: none */
  uint64_t place_on;    /* node for actors this node cannot host; 0: none */
  uint64_t lookup_host; /* actor_lookup: the node holding `lookup_name` */
  uint64_t lookup_id;   /* and its id there */
  char lookup_name[64];
  /* What the core asked (under rt.mu, read by the test with it). */
  int routes, dispatches, forgets, places, actor_dispatches, flushes, kills,
      proxy_frees, reserves, names_added, names_dropped, lookups, from_wire,
      fetches, freed;
  bool last_local_ok;          /* route or place: could this node do it */
  char last_name[64];          /* route or place: the function or class */
  uint64_t last_node, last_id; /* proxy_from_wire: the wire id's parts */
  bool lookup_unlocked;        /* actor_lookup ran without rt.mu */
  /* Tasks handed over and not answered yet, in order. */
  mt_task *sent[FAKE_MAX_SENT];
  size_t nsent;
} fake_cluster;

extern fake_cluster fake;

/* Registers the fake seam (before manta_init) and clears the record. */
void fake_cluster_install(void);
/* manta_init joining the fake cluster (an address is given). */
manta_err fake_cluster_init(void);
/* manta_shutdown, then the real seam is free to be registered again. */
void fake_cluster_shutdown(void);
/* The node running sent[i] answers v (taken): its result. */
void fake_answer(size_t i, manta_value *v);
/* The node running sent[i] died: the task resolves as the cluster resolves
 * it, to MANTA_ERR_NODE_DIED. */
void fake_node_died(size_t i);
/* The host of the actor created by sent[i] answers: it lives there as
 * `id`. */
void fake_created(size_t i, uint64_t id);
/* The proxy object `local` (made by proxy_from_wire) arrives with v. */
void fake_fetched(uint64_t local, manta_value *v);

#endif
