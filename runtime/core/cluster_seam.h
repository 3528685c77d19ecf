/*
 * The one seam between the core and the cluster (docs/architecture.md,
 * "The seam"): everything the core asks of cluster mode is declared here,
 * and the core reaches the cluster through nothing else. The cluster
 * (runtime/cluster) implements it; the manta.h facade registers that
 * implementation before manta_init starts the runtime, and the unit tests
 * register a fake one (tests/unit/fake_cluster.c). The core never names a
 * symbol of the cluster: it calls what was registered.
 */
#ifndef MT_CLUSTER_SEAM_H
#define MT_CLUSTER_SEAM_H

#include "rt.h"

/* ---- joining and leaving ------------------------------------------------ */

/* How this process joins (or, as head, starts) a cluster after the local
 * runtime started, and leaves it before the local runtime stops. Both are
 * called without rt.mu; start installs the ops below in mt_rt.cluster,
 * stop removes them. */
typedef struct mt_cluster_seam {
  manta_err (*start)(const manta_options *opts, const char *address);
  void (*stop)(void);
} mt_cluster_seam;

/* Registers the implementation manta_init uses from now on (NULL: none, so
 * a cluster cannot be joined). Call while the runtime is not running. */
void mt_cluster_seam_register(const mt_cluster_seam *seam);
/* Registers seam unless one is registered already (the facade's default,
 * which a test's fake registered earlier keeps out). */
void mt_cluster_seam_default(const mt_cluster_seam *seam);

/* ---- what the core asks while in a cluster ------------------------------ */

/* What the core asks of the cluster layer (runtime/cluster), which installs
 * it in mt_rt.cluster when the node joins a cluster. Called under rt.mu. */
typedef struct mt_cluster_ops {
  /* Whether a call of `name` should leave this node, as placement p says
   * (never an affinity to this node: the core keeps those). local_ok says
   * this node could run it. True: *target is the node chosen now, or 0 to
   * choose when its arguments are ready. False with *fail set: no node can
   * (or a hard affinity cannot be kept); with *fail NULL: it stays here. */
  bool (*route_locked)(const char *name, bool local_ok,
                       const mt_resource_request *demand, const mt_placement *p,
                       uint64_t *target, manta_value **fail);
  /* A remote task whose arguments are ready: send it somewhere (or fail
   * it). */
  void (*dispatch_locked)(mt_task *t, mt_garbage *g);
  /* The task resolved here before its result came (cancel, shutdown):
   * forget it. */
  void (*forget_locked)(mt_task *t);
  /* A function or class was registered: advertise it soon. */
  void (*registry_changed_locked)(void);
  /* The node has no task queued or running any more: tell the others
   * soon if they think it busy. */
  void (*idle_locked)(void);
  /* A counted local object standing for an object of node `node`. */
  manta_err (*proxy_from_wire_locked)(uint64_t node, uint64_t id,
                                      uint64_t *local);
  /* o (a proxy) is waited for: fetch it, never completing it before
   * returning. */
  void (*fetch_locked)(mt_object *o);
  /* o is being freed: a proxy tells its owner, a lent object forgets its
   * borrowers. */
  void (*object_freed_locked)(mt_object *o, mt_garbage *g);
  /* Adds what the cluster knows to a /metrics snapshot (the peers). */
  void (*metrics_locked)(mt_metrics *m);

  /* Actors across nodes (runtime/cluster/actor_proxy.c). */
  /* Where an actor of class cls should live, as placement p says (never
   * an affinity to this node); local_ok says this node could host it:
   * true with *host set (0: here), or false with *fail saying why no node
   * can (or why a hard affinity cannot be kept). */
  bool (*actor_place_locked)(const char *cls, bool local_ok,
                             const mt_resource_request *demand,
                             const mt_placement *p, uint64_t *host,
                             manta_value **fail);
  /* A proxy's creation or call whose arguments are ready: send it. */
  void (*actor_dispatch_locked)(mt_task *t, mt_garbage *g);
  /* A proxy's mailbox changed: send the ready calls at its head. */
  void (*actor_flush_locked)(mt_actor *a, mt_garbage *g);
  /* manta_actor_kill of a proxy: tell the host. */
  void (*actor_kill_locked)(mt_actor *a, mt_garbage *g);
  /* The last count of a proxy went: forget it, release the host's hold. */
  void (*proxy_free_locked)(mt_actor *a, mt_garbage *g);
  /* The proxy of the actor `id` of node `host`, found or made, with a new
   * count; NULL on OOM. */
  mt_actor *(*proxy_get_locked)(uint64_t host, uint64_t id);
  /* Tells the head, once rt.mu is released, that the named actor `id` of
   * node host exists (named), or that its name is free again (!named; id 0:
   * a reservation whose actor was never made). */
  void (*actor_name_locked)(const char *name, const char *cls, uint64_t host,
                            uint64_t id, bool named, mt_garbage *g);
  /* Called WITHOUT rt.mu (they wait for the head). Reserves a name for an
   * actor to be created on `host`: MANTA_OK, or MANTA_ERR_EXISTS. */
  manta_err (*actor_reserve_name)(const char *name, const char *cls,
                                  uint64_t host);
  /* A handle to the named actor wherever it lives, or MANTA_ERR_NOT_FOUND. */
  manta_err (*actor_lookup)(const char *name, manta_actor *out);

  /* Placement groups, decided by the head (runtime/cluster/pg_node.c).
   * Called WITHOUT rt.mu. Asks the head for group gid: MANTA_OK (it will
   * place it), or an error with *fail (infeasible at once). */
  manta_err (*pg_create)(uint64_t gid, int strategy,
                         const mt_resource_request *bundles, size_t n,
                         manta_value **fail);
  /* The group's state at the head: MANTA_OK with nodes[0..n) once
   * reserved, MANTA_ERR_TIMEOUT while pending, or an error with *fail. */
  manta_err (*pg_poll)(uint64_t gid, uint64_t *nodes, size_t n,
                       manta_value **fail);
  manta_err (*pg_remove)(uint64_t gid);
  /* Group gid as the head has it, for a node that did not create it (a
   * captured child's): its strategy, bundles and, once reserved, their
   * nodes (both malloc'd, *nb each). MANTA_OK when reserved,
   * MANTA_ERR_TIMEOUT while pending or placed again (bundles set),
   * another error if the head does not know it (nothing set). NULL: not
   * in a cluster. */
  manta_err (*pg_fetch)(uint64_t gid, int *strategy,
                        mt_resource_request **bundles, uint64_t **nodes,
                        size_t *nb);

  /* Cancelling (core/cancel.c): t, sent to another node (a task or an
   * actor call), was cancelled here: ask that node to cancel it (and,
   * recursive, what it submitted). NULL: calls sent away cannot be. */
  void (*cancel_remote_locked)(mt_task *t, bool recursive, mt_garbage *g);
} mt_cluster_ops;

/* ---- values that leave the node ----------------------------------------- */

/* Local ids of the refs encoded by this thread while set (the cluster
 * counts what leaves the node). */
typedef struct mt_id_list {
  uint64_t *ids;
  size_t len, cap;
  bool oom;
} mt_id_list;
extern _Thread_local mt_id_list *mt_ref_capture;
/* Proxies alive: lets mt_obj_to_wire skip the lookup when there are none. */
extern _Atomic int64_t mt_proxies_live;

/* Set while a cluster runs: writes the wire id of the proxy `id` and
 * returns true, false for an actor of this node. Read without rt.mu, since
 * values are encoded with and without it. */
typedef bool (*mt_proxy_wire_fn)(uint64_t id, uint8_t wire[16]);
extern _Atomic(mt_proxy_wire_fn) mt_proxy_wire;

/* ---- running received work on the receiving thread ---------------------- */

/*
 * For a thread that is not a worker and is about to queue work it could run
 * itself (the thread that received the tasks from the network): a wake-up
 * of a sleeping worker costs more than a short task, so its kicks are held
 * back until mt_sched_run_here, which runs the first batch (or actor turn)
 * on this thread and wakes workers for the rest. Unlocked, both.
 */
void mt_sched_defer_kicks(void);
/* What the receiving thread is told while it runs work here (each may be
 * NULL; called with rt.mu held, so they must not take it): as the work
 * begins, as a task of it blocks in get/wait, as it ends. */
typedef struct mt_here_hooks {
  void (*begin)(void);
  void (*block)(void);
  void (*end)(void);
} mt_here_hooks;
void mt_sched_run_here(const mt_here_hooks *hooks);

#endif
