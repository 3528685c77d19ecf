/*
 * The local runtime's shared state: the object table, tasks, scheduling
 * classes, worker pool, actors and registries.
 *
 * Locking: one mutex, rt.mu, guards everything here except values (which are
 * reference counted and immutable once frozen). Code that runs user
 * functions or frees values never holds rt.mu: freeing a value may release
 * refs inside it, which takes rt.mu again. Functions named *_locked expect
 * rt.mu held; values they drop go onto an mt_garbage list that the caller
 * frees after unlocking.
 */
#ifndef MT_RT_H
#define MT_RT_H

#include "clock.h"
#include "log.h"
#include "manta.h"
#include "metrics.h"
#include "slots.h"
#include "strmap.h"
#include "tls.h"
#include "value.h"

#include <pthread.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>

/* ---- resources ---------------------------------------------------------- */

/* Resource kinds one node knows: index 0 is always "CPU". Beyond the
 * node's own, each placement group bundle reserved here adds a few
 * (bundles.c), hence more kinds than one call may name. */
#define MT_MAX_RESOURCES 64
/* Names one request may hold: the custom ones, "CPU", and the marker of a
 * placement group bundle (bundles.c). */
#define MT_MAX_REQUEST 18

/* A requested quantity per named resource (names not yet resolved). */
typedef struct mt_resource_request {
  int n;
  char names[MT_MAX_REQUEST][64];
  double qty[MT_MAX_REQUEST];
} mt_resource_request;

/* Quantities indexed like rt.res_names. */
typedef struct mt_demand {
  double q[MT_MAX_RESOURCES];
} mt_demand;

struct manta_options {
  double num_cpus; /* < 0: default */
  unsigned max_workers;
  mt_resource_request resources;
  char *address;  /* head to join; NULL: embedded unless MANTA_ADDRESS */
  int role;       /* manta_role */
  char *bind;     /* NULL: 127.0.0.1:0 */
  char *token;    /* NULL: MANTA_TOKEN */
  mt_tls tls;     /* PEM text; empty: MANTA_TLS_* */
  int insecure;   /* cleartext beyond loopback: 1, 0, < 0 MANTA_INSECURE */
  char **modules; /* loaded by manta_init before joining */
  size_t nmodules;
  int metrics_port;      /* HTTP /metrics: -1 off (unless MANTA_METRICS_PORT) */
  int64_t store_memory;  /* bytes; < 0: MANTA_OBJECT_STORE_MEMORY or 30% */
  char *spill_dir;       /* NULL: MANTA_SPILL_DIR or the state folder */
  int64_t store_full_ms; /* < 0: MANTA_OBJECT_STORE_FULL_TIMEOUT_MS or 5 s */
  char *head_store;      /* NULL: MANTA_HEAD_STORE or none (head-store.md) */
  char *cluster_name;    /* NULL: MANTA_CLUSTER_NAME or "default" */
};

/* Where a call asks to run (manta_strategy; docs/scheduling.md). */
typedef struct mt_placement {
  uint8_t strategy; /* manta_strategy */
  bool soft;        /* node affinity: placed as by default if it fails */
  uint64_t node;    /* node affinity: the node */
} mt_placement;

struct manta_call_options {
  double num_cpus; /* < 0: default */
  mt_resource_request resources;
  char *name;
  unsigned max_concurrency;
  mt_placement placement;
  uint64_t pg;      /* a placement group handle (manta_placement_group) or 0 */
  int pg_bundle;    /* its bundle; -1: any */
  int max_restarts; /* actors: re-creations after node loss; -1: no end */
  int max_task_retries; /* actors: resends of a call lost with its node */
  size_t num_returns;   /* 0: one (multi_returns.c) */
  size_t stream_window; /* 0: the default (streams.c) */
  /* Retries (task_retry.c): re-runs after a node died, and after an
   * application error with retry_exceptions; -1: no end. attempt: the
   * first attempt's number (a call another node sent again), 0: 1. */
  int max_retries;
  bool retry_exceptions;
  int attempt;
  uint8_t task_id[16]; /* a call another node sent: its id there */
  bool pg_capture;     /* in a group that captures what the call submits */
};

/* ---- values dropped under the lock -------------------------------------- */

/* An actor destructor to run once the lock is released. */
typedef struct mt_dtor_job {
  struct mt_dtor_job *next;
  manta_actor_dtor fn;
  void *state;
  void *class_data;
} mt_dtor_job;

/* A function to call once the lock is released (the caller embeds the job
 * in its own struct and frees it from fn). */
typedef struct mt_call_job {
  struct mt_call_job *next;
  void (*fn)(struct mt_call_job *job);
} mt_call_job;

typedef struct mt_garbage {
  manta_value **items;
  size_t len, cap;
  manta_value *inline_items[8];
  mt_dtor_job *dtors;
  mt_call_job *calls, **calls_tail; /* in the order queued */
} mt_garbage;

void mt_garbage_init(mt_garbage *g);
/* Queues v for freeing (NULL ignored). If the list cannot grow, v is
 * leaked with a log line: freeing it here could take rt.mu again. */
void mt_garbage_add(mt_garbage *g, manta_value *v);
/* Queues an actor destructor call (fn may be NULL: nothing to do). */
void mt_garbage_add_dtor(mt_garbage *g, manta_actor_dtor fn, void *state,
                         void *class_data);
/* Queues a call, run by mt_garbage_free before the destructors. */
void mt_garbage_add_call(mt_garbage *g, mt_call_job *job);
/* Runs the calls and destructors and frees the values queued; call without
 * rt.mu. */
void mt_garbage_free(mt_garbage *g);

/* ---- objects ------------------------------------------------------------ */

/* Payload bytes up to which an object travels inside task messages; larger
 * ones stay where they are and move on demand, in chunks. */
#define MT_INLINE_MAX (128 * 1024)
/* The most return values a call may declare (num_returns). */
#define MT_MAX_RETURNS 65536

typedef enum mt_obj_state {
  MT_OBJ_FREE = 0,
  MT_OBJ_PENDING = 1,
  MT_OBJ_READY = 2
} mt_obj_state;

struct mt_task;
struct mt_listener;

/* An object that lives on another node (cluster mode): the local object
 * stands for it until fetched (runtime/cluster/remote_objects.c). */
typedef struct mt_proxy {
  uint64_t owner_node, owner_id; /* its id where it lives (the owner) */
  uint64_t local_id;             /* the local object standing for it */
  int64_t receptions; /* copies of the ref this node received: the borrows
                         the owner counts for this node */
  struct mt_proxy *next_same; /* proxies with the same owner_id */
  struct mt_fetch *fetch;     /* the transfer in flight, if any */
  /* The node that sent the ref here with a task, which can rebuild the
   * object if its node dies (cluster/rebuild_ask.c); 0: none. */
  uint64_t rebuilder;
  bool rebuild_asked; /* asked: waiting for its answer, not fetching */
} mt_proxy;

typedef struct mt_object {
  mt_slot slot;         /* first: the object table's header */
  int64_t refs;         /* every count: program, values, tasks, waiters */
  uint8_t state;        /* mt_obj_state */
  bool is_error;        /* ready with an error value */
  manta_value *value;   /* when ready */
  size_t bytes;         /* payload bytes of value */
  struct mt_task *task; /* producing task while pending */
  struct mt_listener *listeners;
  mt_proxy *proxy; /* set: it lives on another node */
  bool lent;       /* other nodes borrow it (counted in refs) */
  /* Spilling (spill.c): a ready object's value may live in a file instead
   * of memory (value NULL, spill set). */
  bool spillable; /* a value that may go to disk: no handles, no error */
  bool spilling;  /* being written now, by a thread without rt.mu */
  uint8_t spill;  /* mt_spill_kind of its file; MT_SPILL_NONE: no file */
  uint64_t used;  /* store clock when last read or made: LRU order */
} mt_object;

/* Who waits for an object: a thread in get/wait, or a task's dependency. */
typedef enum mt_listener_kind {
  MT_L_WAITER,
  MT_L_TASK,
  MT_L_CALLBACK /* a function called (under the lock) once it is ready */
} mt_listener_kind;

struct mt_garbage;
/* What an MT_L_CALLBACK listener calls; it owns nothing of the object but
 * may take a reference to its value. The listener is unlinked already. */
typedef void (*mt_ready_fn)(void *ctx, struct mt_object *o,
                            struct mt_garbage *g);

typedef struct mt_waiter {
  pthread_cond_t cv;
  size_t needed; /* wake when this many listened objects are ready */
  size_t ready;
} mt_waiter;

typedef struct mt_listener {
  struct mt_listener *next, *prev;
  mt_object *obj;
  mt_listener_kind kind;
  uint32_t arg_index; /* for task dependencies */
  void *owner;        /* mt_waiter, mt_task, or the callback's ctx */
  mt_ready_fn fn;     /* MT_L_CALLBACK */
} mt_listener;

/* The live object a ref id names (slots.h), or NULL. */
mt_object *mt_obj_lookup_locked(uint64_t id);
/* A new pending object with one count; 0 on OOM. */
uint64_t mt_obj_new_locked(mt_object **out);
void mt_obj_retain_locked(mt_object *o);
void mt_obj_release_locked(mt_object *o, mt_garbage *g);
/* Makes a pending object ready with v (reference taken), waking listeners. */
void mt_obj_complete_locked(mt_object *o, manta_value *v, mt_garbage *g);
void mt_obj_to_wire(uint64_t id, uint8_t wire[16]);
/* Someone waits for o: an object of another node starts moving here. */
void mt_obj_want_locked(mt_object *o);
/* o (pending) has just become a proxy of a value that is ready on another
 * node: the tasks waiting for it that run on other nodes stop waiting (the
 * node running each fetches the value itself), so that only what needs the
 * bytes here (a get, a task run here) makes them move to this node. */
void mt_obj_ready_afar_locked(mt_object *o, mt_garbage *g);
/* The 16-byte wire id <-> owner node and owner-local id. */
void mt_wire_id_join(uint64_t node, uint64_t local, uint8_t wire[16]);
void mt_wire_id_split(const uint8_t wire[16], uint64_t *node, uint64_t *local);

void mt_objects_destroy(mt_garbage *g);
/* A new reference to a ready object's value, read back from its spill file
 * if it was spilled; an OBJECT_LOST error value if that read fails. */
manta_value *mt_obj_value_locked(mt_object *o, mt_garbage *g);
/* The same in three steps, so that the file is read without rt.mu (get
 * does): prepare (under rt.mu; false: nothing to read, the value is in
 * memory), read (without it; NULL with r->why on failure), install (under
 * rt.mu again, the object still counted: a copy read meanwhile by another
 * thread wins). */
typedef struct mt_spill_read {
  uint64_t id;
  uint8_t kind;
  size_t bytes;
  char path[700];
  char why[800];
} mt_spill_read;
bool mt_spill_read_prepare_locked(mt_object *o, mt_spill_read *r);
manta_value *mt_spill_read_file(mt_spill_read *r);
manta_value *mt_spill_read_install_locked(mt_object *o, mt_spill_read *r,
                                          manta_value *v, mt_garbage *g);
void mt_listener_add_locked(mt_listener *l, mt_object *o);
void mt_listener_remove_locked(mt_listener *l);
/* Calls fn(ctx, o, g) once the object is ready: now if it is, else from
 * whoever completes it. l must live until then (or until removed). */
void mt_obj_when_ready_locked(mt_object *o, mt_listener *l, mt_ready_fn fn,
                              void *ctx, mt_garbage *g);
/* At shutdown, before the table goes: the program's callbacks still
 * waiting (manta_when_ready) are queued on g with MANTA_ERR_SHUTDOWN. */
void mt_ready_callbacks_shutdown_locked(mt_garbage *g);
/* At shutdown: the splits of several return values still waiting
 * (multi_returns.c) are dropped; their objects go with the table. */
void mt_multi_returns_shutdown_locked(void);

/* ---- tasks -------------------------------------------------------------- */

typedef enum mt_task_kind {
  MT_TASK_FUNCTION = 0,
  MT_TASK_ACTOR_CREATE = 1,
  MT_TASK_ACTOR_CALL = 2
} mt_task_kind;

/* Where a task is; decides how cancel and shutdown take it back. */
typedef enum mt_task_where {
  MT_WHERE_DEPS = 0,    /* waiting for dependencies (an actor call is also
                           in its actor's mailbox) */
  MT_WHERE_CLASS = 1,   /* ready, in a scheduling class queue */
  MT_WHERE_MAILBOX = 2, /* actor call, ready, in the mailbox */
  MT_WHERE_BATCH = 3,   /* popped by a worker; `claim` decides its fate */
  MT_WHERE_REMOTE = 4,  /* sent to another node (cluster mode) */
  MT_WHERE_GROUP = 5    /* waiting for its placement group to be reserved */
} mt_task_where;

/* A task to run on another node: what it asks for, where it went. */
typedef struct mt_remote {
  char *function;
  mt_resource_request demand; /* "CPU" included */
  mt_placement placement;     /* what the call asked for */
  uint64_t target;            /* the node chosen at submit (0: none) */
  struct mt_peer *peer;       /* where it was sent, while there */
  uint64_t seq;               /* its number on that link */
  int attempts;               /* dispatches so far */
  bool ready_probe; /* asks whether a restarted actor was constructed */
  uint8_t handoffs; /* times a node handed it back unstarted */
  uint64_t avoid;   /* the node that handed it back last (0: none) */
} mt_remote;

/* claim of a task in a worker batch: the worker and cancel race by CAS. */
enum { MT_CLAIM_FREE = 0, MT_CLAIM_STARTED = 1, MT_CLAIM_CANCELLED = 2 };

struct mt_function;
struct mt_method;
struct mt_actor;
struct mt_class;

typedef struct mt_task {
  struct mt_task *next, *prev; /* queue links */
  uint8_t kind;
  uint8_t where;
  bool cancelled; /* result already completed with an error */
  bool in_mbox;   /* actor call linked in its actor's mailbox */
  bool ctor_ran;  /* creation: the constructor succeeded */
  /* Cancelling running work (cancel.c) and retries (task_retry.c), in
   * what was padding: the task stays as small as it was but for `extra`. */
  _Atomic uint8_t cancel_req; /* MT_CANCEL_* bits, set while it runs */
  bool retry_exceptions;
  bool pg_capture; /* in a group that captures its children (pgroups.c) */
  _Atomic int claim;
  int16_t max_retries;         /* -1: no end */
  int16_t attempt;             /* of the run under way; 0: 1 */
  struct mt_task_extra *extra; /* rarely set (task_context.h); rt.mu */
  void *ctor_state;            /* creation: what the constructor returned */
  manta_value *ctor_error;     /* creation: why it failed */
  uint32_t deps_pending;
  mt_object *result;          /* holds one count until completion */
  struct mt_function *fn;     /* MT_TASK_FUNCTION */
  struct mt_method *method;   /* MT_TASK_ACTOR_CALL */
  struct mt_actor *actor;     /* holds one actor count */
  struct mt_sched_class *cls; /* where it queues (functions, creations) */
  mt_remote *remote;          /* set: runs on another node */
  uint64_t pg; /* runs in a bundle of this placement group here (bundles.c) */
  struct mt_pg_call *pg_call; /* MT_WHERE_GROUP: the call as submitted */
  struct mt_stream *stream;   /* a call submitted as a stream (streams.c) */
  manta_value *dep_error;     /* first failed dependency's error */
  size_t dep_error_arg;
  size_t nargs;
  size_t ndeps;
  mt_listener *deps; /* ndeps listeners, inline after args */
  manta_value *args[];
} mt_task;

/* A FIFO of tasks linked through their next/prev (class queues and actor
 * mailboxes). */
typedef struct mt_task_list {
  mt_task *head, *tail;
  size_t len;
} mt_task_list;

void mt_task_list_push(mt_task_list *l, mt_task *t);
void mt_task_list_push_front(mt_task_list *l, mt_task *t);
void mt_task_list_unlink(mt_task_list *l, mt_task *t);

/* ---- registry ----------------------------------------------------------- */

typedef struct mt_function {
  char *name;
  manta_function fn;
  int nargs;
  void *data;
  uint64_t run_ns;   /* measured time per call, smoothed (rt.mu); 0: unknown */
  mt_fn_stats stats; /* for /metrics (rt.mu) */
} mt_function;

typedef struct mt_method {
  char *name;
  manta_method fn;
  int nargs;
  void *data;
} mt_method;

typedef struct mt_class {
  char *name;
  manta_actor_ctor ctor;
  manta_actor_dtor dtor;
  void *data;
  mt_strmap methods; /* name -> mt_method */
  uint64_t calls;    /* method calls run here, for /metrics (rt.mu) */
} mt_class;

void mt_registry_destroy_locked(void);

/* ---- actors ------------------------------------------------------------- */

typedef enum mt_actor_state {
  MT_ACTOR_PENDING = 0, /* constructor not yet run */
  MT_ACTOR_ALIVE = 1,
  MT_ACTOR_DEAD = 2
} mt_actor_state;

/*
 * An actor that lives on another node (cluster mode), seen from here: its
 * mt_actor on this node is a proxy, whose mailbox holds the calls not yet
 * sent there (runtime/cluster/actor_proxy.c).
 */
typedef struct mt_actor_remote {
  uint64_t host;            /* the node it lives on */
  uint64_t id;              /* its id there; 0 until its creation answered */
  char *class_name;         /* "" when known by its handle only */
  char *name;               /* creation: the name it is registered under */
  unsigned max_concurrency; /* creation */
  bool holds;               /* created from here: the host keeps it for us */
  int64_t since_ms;         /* when this proxy was made */
  struct mt_actor *next;    /* chain of the cluster's proxy index */
  /* Restarts (docs/fault-tolerance.md, "Actor restarts"), kept by the
   * proxy that created the actor: what creating it again takes. */
  int restarts_left; /* -1: no end */
  int restarts_done;
  int max_task_retries; /* -1: no end */
  int64_t lost_ms;      /* when a call was last lost with the host */
  /* The nodes a restart under way was sent to and failed on, so that it
   * tries another one offering the class (actor_proxy.c). */
  uint64_t restart_tried[4];
  int nrestart_tried;
  mt_resource_request demand; /* what the creation asked for */
  mt_placement placement;     /* its node affinity (a group's bundle's) */
  bool in_group;              /* created in a placement group bundle */
  manta_value **args;         /* the constructor's arguments (counted) */
  size_t nargs;
  /* A proxy that did not create its actor (actor_locate.c): the node that
   * did, once it answered (0 before), and whether asking it is under way.
   * max_task_retries above is then what it answered. */
  uint64_t owner_node;
  bool locating;
  /* A restart's instance was accepted by its host, and whether its
   * constructor succeeded is not known yet; a probe asking is under way. */
  bool confirming;
  bool probing;
} mt_actor_remote;

typedef struct mt_actor {
  mt_slot slot; /* first: the actor table's header */
  int64_t refs; /* handles, values, queued calls, the name */
  uint8_t state;
  bool in_ready_queue;
  bool constructed;    /* the constructor returned a state */
  bool destroyed;      /* the destructor is queued (or nothing to destroy) */
  _Atomic bool killed; /* read by workers without the lock */
  bool holds_demand;   /* resources held for its lifetime */
  bool pg_capture;     /* in a group that captures what its methods submit */
  unsigned running;
  unsigned max_concurrency;
  mt_class *cls;
  void *state_ptr;
  char *name;
  manta_value *death; /* why it died, when dead */
  mt_demand demand;
  mt_task_list mbox; /* calls in submission order */
  struct mt_actor *ready_next;
  mt_actor_remote *remote;  /* set: a proxy of an actor on another node */
  uint64_t calls;           /* method calls run here, for /api (rt.mu) */
  struct mt_task *creating; /* its first creation, until that task is freed
                               (manta_actor_cancel, cancel.c) */
} mt_actor;

mt_actor *mt_actor_lookup_locked(uint64_t id);
uint64_t mt_actor_id(const mt_actor *a);
void mt_actor_retain_locked(mt_actor *a);
void mt_actor_release_locked(mt_actor *a, mt_garbage *g);
void mt_actor_to_wire(uint64_t id, uint8_t wire[16]);
/* A proxy of the actor `id` (0: not yet known) of node `host`, with one
 * count; NULL on OOM. */
mt_actor *mt_actor_proxy_new_locked(uint64_t host, uint64_t id,
                                    const char *class_name);
/* Frees r; its constructor arguments go to g (values are freed unlocked). */
void mt_actor_remote_free(mt_actor_remote *r, mt_garbage *g);
/* The class name for messages ("actor" if unknown). */
const char *mt_actor_class_name(const mt_actor *a);
/* Marks the actor dead for `why` (taken) and fails every call not
 * started. */
void mt_actor_die_locked(mt_actor *a, manta_value *why, mt_garbage *g);
/* A call that answers null once the actor's constructor returned, or the
 * error the actor died with (the probe of a restart, actor_host.c). */
manta_err mt_actor_ready_call(manta_actor actor, manta_ref *out);
/* Creates an actor; route=false keeps it on this node (a creation another
 * node sent here: its name was reserved in the cluster by the sender). */
manta_err mt_actor_create(const char *class_name,
                          const manta_value *const *args, size_t nargs,
                          const manta_call_options *opts, bool route,
                          manta_actor *out);
/* A dependency of a queued call became ready or a call was added. */
void mt_actor_maybe_schedule_locked(mt_actor *a);
/* A call left the mailbox without running: those behind it may go. */
void mt_actor_calls_changed_locked(mt_actor *a, mt_garbage *g);
/* The creation task will not run (a failed dependency, shutdown): the
 * actor is dead from the start, for why (borrowed). */
void mt_actor_not_created_locked(mt_actor *a, const manta_value *why,
                                 mt_garbage *g);
/* The creation task ran on a worker with the actor's demand acquired. */
void mt_actor_construct(mt_task *t);
void mt_actors_destroy(mt_garbage *g);
/* Shutdown: every live actor dies, failing the calls it had not started. */
void mt_actors_shutdown_locked(mt_garbage *g);
void mt_actor_unlink_call_locked(mt_actor *a, struct mt_task *t);
/* After the constructor ran; true if the actor now holds the demand the
 * worker acquired for it. */
bool mt_actor_constructed_locked(struct mt_task *t, mt_garbage *g);
struct mt_worker;
/* Pops `a` off the ready queue and runs one turn; unlocks while calls run. */
void mt_actor_turn_locked(struct mt_worker *w, mt_actor *a, mt_garbage *g);

/* ---- scheduling --------------------------------------------------------- */

/* Ready tasks of one resource shape (Ray's "scheduling class"). */
typedef struct mt_sched_class {
  struct mt_sched_class *next;
  mt_demand demand;
  mt_task_list queue;
} mt_sched_class;

typedef struct mt_worker {
  pthread_t thread;
  struct mt_worker *next;
  bool holding; /* holds `held` resources */
  mt_demand held;
  bool pool;              /* a thread of the pool (not one lending itself) */
  bool blocked;           /* lent its slot while in get/wait */
  void (*on_block)(void); /* called (rt.mu held) as it blocks, if set */
  /* Sleeping: signalled alone through cv once `woken` is set, so a kick
   * wakes exactly the workers it wants. */
  pthread_cond_t cv;
  bool woken;
  struct mt_worker *idle_next;
  /* The batch it popped. Its tasks are taken in order through batch_next,
   * by this worker and by idle workers that take part of it over: a
   * fetch_add gives each index to exactly one of them, so a task waits in
   * a batch only while no slot is free. batch, batch_len and batch_cls
   * change only under rt.mu. */
  mt_task **batch;
  _Atomic size_t batch_next;
  size_t batch_len;
  mt_sched_class *batch_cls;
  bool shared; /* linked in rt.shared_batches: others may take from it */
  struct mt_worker *shared_next, *shared_prev;
  /* What idle workers last saw of batch_next, and when (rt.mu): a batch
   * whose cursor stood still long enough is taken over. */
  size_t seen_next;
  uint64_t seen_ns;
} mt_worker;

/* The worker running on this thread, if any. */
extern _Thread_local mt_worker *mt_self;

mt_sched_class *mt_class_for_locked(const mt_demand *d);
void mt_class_push_locked(mt_sched_class *c, mt_task *t);
void mt_class_unlink_locked(mt_task *t);
/* Dependencies done: queue the task, or fail it with its dependency error. */
void mt_task_ready_locked(mt_task *t, mt_garbage *g);
/* Completes the task's result with v (taken) and frees the task. */
void mt_task_finish_locked(mt_task *t, manta_value *v, mt_garbage *g);
/* The function or method a task calls, by name; NULL if unknown. */
const char *mt_task_callee(const mt_task *t);
void mt_task_free_locked(mt_task *t, mt_garbage *g);
/* Allocates a task holding a reference to each argument (frozen); no
 * lock needed. NULL on OOM. */
mt_task *mt_task_alloc(mt_task_kind kind, const manta_value *const *args,
                       size_t nargs);
/* Frees a task that was never linked anywhere (unlocked). */
void mt_task_discard(mt_task *t);
/* Creates the task's result object; out names it. */
manta_err mt_task_attach_result_locked(mt_task *t, manta_ref *out);
/* What a function or method returned (taken), as the task's result: NULL
 * is the null value, and an error it made names the task as its origin. */
manta_value *mt_task_result(const mt_task *t, manta_value *r);
/* Arguments given to a call: an array of non-NULL values. */
bool mt_args_valid(const manta_value *const *args, size_t nargs);
/* Submits a function call; route=false keeps it on this node (a call that
 * another node sent here). */
manta_err mt_submit(const char *name, const manta_value *const *args,
                    size_t nargs, const manta_call_options *opts, bool route,
                    manta_ref *out);
/* Calls an actor's method as manta_actor_call does; opts (NULL: none)
 * carries what another node sent with the call: its attempt and its id
 * there, which manta_current_task_id gives inside the method. */
manta_err mt_actor_call(manta_actor actor, const char *method,
                        const manta_value *const *args, size_t nargs,
                        const manta_call_options *opts, manta_ref *out);
/* The demand of a call as names and quantities, "CPU" included: what a
 * remote node resolves against its own resources. */
void mt_demand_request(const manta_call_options *opts, double cpus,
                       mt_resource_request *out);
/* Makes t a task of another node, named `name` there; false on OOM. */
bool mt_task_make_remote(mt_task *t, const char *name,
                         const manta_call_options *opts, double cpus);
/* A remote task's arguments given by value and larger than MT_INLINE_MAX
 * become objects here that its node fetches (done as it becomes ready). */
void mt_task_wrap_large_args_locked(mt_task *t, mt_garbage *g);
/* Checks a call's arguments and resolves the CPUs it asks for
 * (default_cpus when the options do not say); named resources are left to
 * mt_call_resolve_locked, whose `missing` names one the node lacks. */
manta_err mt_call_prepare(const manta_value *const *args, size_t nargs,
                          const manta_call_options *opts, double default_cpus,
                          mt_demand *demand, char *missing, size_t size);
/* The part of mt_call_prepare done under rt.mu: resolving the names of
 * the resources a call asks for against this node's. */
void mt_call_resolve_locked(const manta_call_options *opts, double default_cpus,
                            mt_demand *demand, char *missing, size_t size);
/* Resolves the task's result to err (taken) now and takes the task back
 * from wherever it is. */
void mt_task_cancel_locked(mt_task *t, manta_value *err, mt_garbage *g);
/* Cluster mode: errors made for tasks run here name this node in their
 * origin from now on; address NULL (each init) stops it. */
void mt_task_set_node(uint64_t node_id, const char *address);
/* This node's address while in a cluster, else NULL. */
const char *mt_task_node_address(void);
/* An error value whose origin names the task's function or method (and
 * the node, in cluster mode). */
manta_value *mt_task_error(const mt_task *t, manta_err code, const char *fmt,
                           ...)
#if defined(__GNUC__)
    __attribute__((format(printf, 3, 4)))
#endif
    ;
/* After creating a task: registers dependency listeners; if none is pending
 * the task is ready now. */
void mt_task_start_deps_locked(mt_task *t, mt_garbage *g);
/*
 * Briefly spins, without the lock, until *counter reaches target: a wake-up
 * through the kernel costs more than a short task, so a waiter that is
 * about to be answered should not sleep. Called and returns with rt.mu held.
 */
void mt_spin_until_locked(size_t *counter, size_t target, int64_t timeout_ms);
/* Wakes or starts a worker if there is work that fits. */
void mt_sched_kick_locked(void);
bool mt_demand_fits_total(const mt_demand *d);
void mt_demand_acquire_locked(const mt_demand *d);
void mt_demand_release_locked(const mt_demand *d);
manta_err mt_demand_resolve(const mt_resource_request *r, double num_cpus,
                            mt_demand *out, char *missing, size_t size);
/* Task handoff (docs/scheduling.md, "Handing a task back"): whether the
 * task is a function call waiting in its class queue, not started, behind
 * slots of its shape that are all busy. */
bool mt_task_waits_for_slot_locked(const mt_task *t);
/* Whether the task's class queue holds more tasks than slots of its shape
 * are free: some of them will wait. */
bool mt_task_queue_overflows_locked(const mt_task *t);
/* Takes such a task back before it starts: it never runs here, and its
 * result resolves to `why` (taken; a MANTA_ERR_CANCELLED error the caller
 * of the hand-back recognises by its listener). False, and why freed, if
 * the task is not waiting for a slot (started, cancelled, in a batch). */
bool mt_task_take_back_locked(mt_task *t, manta_value *why, mt_garbage *g);
/* Worker blocking in get/wait: lend the slot, return the batch. */
void mt_worker_block_locked(void);
void mt_worker_unblock_locked(void);
void mt_sched_shutdown(void);
/* Forgets which modules were loaded (they stay mapped). */
void mt_modules_forget_locked(void);

/* ---- placement (placement.c) ------------------------------------------- */

/* What the core does with a call's placement before any cluster is asked. */
typedef enum mt_place_step {
  MT_PLACE_ROUTE = 0, /* as `via` says: the cluster decides (embedded: here) */
  MT_PLACE_HERE = 1,  /* on this node whatever its load: affinity to it */
  MT_PLACE_FAIL = 2   /* nowhere: a hard affinity that cannot be kept */
} mt_place_step;

/*
 * The step for placement p (NULL: default) of a call that this node could
 * run unless local_fail (borrowed) says why not. MT_PLACE_ROUTE sets *via to
 * the placement to route with (a soft affinity that cannot be kept becomes
 * the default); MT_PLACE_FAIL sets *fail, an error naming the node and
 * why. Handles affinity to this node, and every placement when embedded.
 */
mt_place_step mt_placement_step_locked(const mt_placement *p,
                                       const manta_value *local_fail,
                                       mt_placement *via, manta_value **fail);

/* ---- placement groups (pgroups.c, bundles.c, pg_plan.c) ---------------- */

/* Where the planner may put bundles: one node's resources by name. */
typedef struct mt_plan_node {
  uint64_t id;
  int nres;
  const char (*names)[64];
  const double *total;
  const double *avail;
} mt_plan_node;

typedef enum mt_plan_result {
  MT_PLAN_OK = 0,        /* out[i] is the node index of bundle i */
  MT_PLAN_WAIT = 1,      /* fits in total, not now */
  MT_PLAN_INFEASIBLE = 2 /* never fits: why says which bundle and why */
} mt_plan_result;

/* Where the bundles of a group of strategy s (manta_pg_strategy) go, from
 * the nodes' totals and free resources. Pure: used embedded (one node) and
 * by the head (every live node). */
mt_plan_result mt_pg_plan(int strategy, const mt_resource_request *bundles,
                          size_t nb, const mt_plan_node *nodes, size_t nn,
                          size_t *out, char *why, size_t size);
const char *mt_pg_strategy_name(int strategy);

/* The bundles reserved on this node (bundles.c; under rt.mu). Each adds
 * resource kinds named as Ray names them, "<resource>_group_<i>_<group
 * id>" and the marker "bundle_group_<i>_<group id>", which the calls in
 * the bundle ask for instead of the node's own. */
/* Reserves bundles idx[0..n) of group gid (their resources in b) from the
 * free resources, all or none; committed: usable at once (else after
 * mt_bundles_commit_locked). MANTA_ERR_INFEASIBLE with why when they do not
 * fit now. */
manta_err mt_bundles_prepare_locked(uint64_t gid, const int32_t *idx,
                                    const mt_resource_request *b, size_t n,
                                    bool committed, char *why, size_t size);
bool mt_bundles_commit_locked(uint64_t gid);
/* Frees group gid's bundles here: queued calls in them fail, their actors
 * are killed, running tasks' refs resolve to errors now and their
 * resources come back as they end. */
void mt_bundles_return_locked(uint64_t gid, mt_garbage *g);
/* The same for bundles idx[0..n) of the group only (n == 0: all). */
void mt_bundles_return_some_locked(uint64_t gid, const int32_t *idx, size_t n,
                                   mt_garbage *g);
/* Whether the demand runs in a bundle here: 0 if not, else its group's id;
 * *fail says why it cannot (the bundle is not reserved, or not yet). */
uint64_t mt_bundles_of_locked(const mt_demand *d, manta_value **fail);
/* Whether group gid has a committed bundle here. */
bool mt_bundles_live_locked(uint64_t gid);
/* The name a call in bundle i of group gid asks for instead of `name`. */
bool mt_bundle_resource_name(const char *name, int i, uint64_t gid, char *out,
                             size_t size);
/* If name is a bundle's resource: its bundle index and group (else false). */
bool mt_bundle_resource_parse(const char *name, int *index, uint64_t *gid);
/* Why a call asking for `missing`, a resource this node lacks, cannot run
 * here: MANTA_ERR_INFEASIBLE, or MANTA_ERR_CANCELLED for the resource of a
 * bundle not (or no longer) reserved here. */
manta_err mt_missing_why(const char *missing, char *why, size_t size);
/* Called by mt_demand_acquire/release_locked when resources move while
 * bundles were freed with work still running in them, or groups wait. */
void mt_bundles_moved_locked(const mt_demand *d, int sign);
void mt_bundles_shutdown_locked(mt_garbage *g);

/* The call options a call in a placement group runs with (*eff): its
 * demand renamed into the chosen bundle's resources, placed on the
 * bundle's node. NULL, or an error value when it cannot run there (a
 * stale or unready group, more than the bundle holds). Takes rt.mu. */
manta_value *mt_pg_call_options(const manta_call_options *opts, bool actor,
                                manta_call_options *eff);
manta_value *mt_pg_call_options_locked(const manta_call_options *opts,
                                       bool actor, manta_call_options *eff);

/* ---- calls waiting for their placement group (pgroups.c) --------------- */

/* A task submitted into a group still PENDING waits for it (Ray queues
 * such calls too), as submitted: its options are renamed into the bundle
 * once the group is reserved. */
typedef struct mt_pg_call {
  char *name;
  manta_call_options opts; /* as given (opts.pg: the group's handle) */
  bool route;
} mt_pg_call;
/* A call made with opts (may be NULL) by a task running in a group that
 * captures its child tasks, with no group or strategy of its own: *out is
 * opts moved into that group (any bundle) and true; else false. */
bool mt_pg_capture(const manta_call_options *opts, manta_call_options *out);
/* This node's bundles of group gid were all freed: a shadow of the group
 * (pgroups.c) is forgotten, the calls waiting in it fail. */
void mt_pgs_bundles_gone_locked(uint64_t gid, mt_garbage *g);
/* Whether opts name a group still PENDING (calls into it wait). */
bool mt_pg_pending(const manta_call_options *opts);
/* Queues t (its result attached; or an actor's creation, t->actor set)
 * until its group is reserved, then submits it as mt_submit would have
 * (mt_submit_resume_locked; a creation: mt_actor_create_resume_locked); at
 * once if the group was reserved meanwhile; fails it if the group is
 * gone. */
void mt_pg_queue_locked(mt_task *t, const char *name,
                        const manta_call_options *opts, bool route,
                        mt_garbage *g);
/* Cancel and shutdown: t leaves its group's queue (MT_WHERE_GROUP). */
void mt_pg_unqueue_locked(mt_task *t);
/* Submits a task that waited for its group, now reserved (tasks.c). */
void mt_submit_resume_locked(mt_task *t, const mt_pg_call *c, mt_garbage *g);
/* Goes on with the creation of an actor that waited for its group, now
 * reserved: the actor is built here, or its handle becomes a proxy of it
 * on the bundle's node, its waiting calls following (actors.c). */
void mt_actor_create_resume_locked(mt_task *t, const mt_pg_call *c,
                                   mt_garbage *g);
/* Groups whose state changed where no garbage list was at hand (resources
 * freed): their waiting calls are let go or failed now. */
void mt_pgs_release_due_locked(mt_garbage *g);
/* Cluster: asks the head about groups that calls wait for, and about
 * groups reserved with a bundle on a node that alive_locked (under rt.mu)
 * says is gone: the head places those bundles again (the heartbeat
 * thread, without rt.mu). */
void mt_pgs_poll_queued(bool (*alive_locked)(uint64_t node));
/* Embedded groups waiting for resources: try them again. */
void mt_pgs_retry_locked(void);
/* Shutdown: threads waiting for a group wake up (before in_wait drains);
 * then every group and bundle is forgotten. */
void mt_pgs_wake_all_locked(void);
void mt_pgs_shutdown_locked(mt_garbage *g);

/* ---- object memory and spilling (spill.c) ------------------------------- */

typedef enum mt_spill_kind {
  MT_SPILL_NONE = 0,
  MT_SPILL_RAW = 1,  /* a bytes value: its bytes as they are */
  MT_SPILL_CODED = 2 /* any other value: value_codec's encoding */
} mt_spill_kind;

typedef struct mt_store {
  int64_t limit;    /* bytes of object data kept in memory; 0: no limit */
  int64_t full_ms;  /* how long a put or result waits for room */
  char parent[512]; /* where this node's spill folder is made */
  char dir[600];    /* this node's spill folder; "" until first used */
  int64_t spilled_bytes, spilled_objects; /* held in files only */
  uint64_t clock;                         /* LRU ticks */
  pthread_cond_t room_cv;                 /* object memory was freed */
  unsigned room_waiters;
  char failure[300]; /* why the last spill failed, for the error */
} mt_store;

/* Reads the options (and environment) at manta_init; rt.mu held. */
void mt_store_init_locked(const manta_options *opts);
/* Removes what is left of the spill folder (objects destroyed); rt.mu. */
void mt_store_destroy_locked(void);
/*
 * Makes room for `bytes` of new object data before it enters the table:
 * spills objects no one reads, else waits up to the store-full timeout for
 * memory to be freed. Called WITHOUT rt.mu. MANTA_OK, or
 * MANTA_ERR_OBJECT_STORE_FULL with *why (if why) an error value saying the
 * limit, the bytes held and why nothing more could be spilled.
 */
manta_err mt_store_admit(size_t bytes, manta_value **why);
/* Whether a value of `bytes` payload bytes may ever be spilled. */
bool mt_store_spillable(const manta_value *v, size_t bytes);
/* Accounting as an object's value leaves memory (freed); o->spill's file is
 * removed. */
void mt_store_forget_locked(mt_object *o);

/* ---- the runtime -------------------------------------------------------- */

typedef struct mt_runtime {
  pthread_mutex_t mu;
  bool initialized;
  bool shutting_down;
  uint8_t epoch;
  uint64_t node_id;

  /* resources */
  int nres;
  char res_names[MT_MAX_RESOURCES][64];
  double res_total[MT_MAX_RESOURCES];
  double res_avail[MT_MAX_RESOURCES];

  mt_slots objects; /* of mt_object */
  int64_t live_objects;
  int64_t live_bytes; /* object data in memory (spilled objects' not) */
  mt_store store;

  /* actor table */
  mt_slots actors; /* of mt_actor */
  int64_t live_actors;
  mt_actor *ready_head, *ready_tail; /* actors with runnable calls */
  mt_strmap actor_names;

  /* registries */
  mt_strmap functions;
  mt_strmap classes;
  void **modules; /* dlopen handles whose entry point ran since init */
  size_t nmodules, modules_cap;

  /* scheduling */
  mt_sched_class *classes_list;
  int64_t tasks_queued, tasks_running, tasks_finished;
  uint64_t submitted_other;  /* calls of names not registered here */
  uint64_t tasks_retried;    /* run again: node died, retry_exceptions,
                                lineage (mt_note_retry_locked) */
  uint64_t retried_other;    /* of those, of names not registered here */
  _Atomic uint64_t work_seq; /* bumped whenever work is queued */
  bool spinner_active;       /* one idle worker spins before sleeping */
  bool running_here;         /* a non-worker thread is in mt_sched_run_here */
  unsigned max_workers;
  unsigned workers_total, workers_idle;
  unsigned workers_busy; /* pool workers running a batch or an actor turn */
  mt_worker *workers;
  mt_worker *idle_workers;   /* sleeping, most recent first */
  mt_worker *shared_batches; /* workers with tasks others may take over */
  mt_worker *watcher;        /* idle, looking again at shared batches soon */
  uint64_t watch_ns;         /* how soon the next watcher looks */
  pthread_cond_t exit_cv;
  unsigned workers_exited;
  unsigned in_wait; /* threads blocked in get/wait */

  /* NULL: embedded; the ops of cluster_seam.h while in a cluster */
  const struct mt_cluster_ops *cluster;
  bool bundles_watch; /* mt_bundles_moved_locked wants to see moves */
  bool
      pg_release_due; /* a group's waiting calls are to be let go (pgroups.c) */
  uint64_t registry_version; /* bumped when a name is registered */
} mt_runtime;

extern mt_runtime mt_rt;

/* manta_init and manta_shutdown in steps, for the facade (runtime/api),
 * which starts the node's services around them. Start: the local runtime,
 * its modules, then the cluster through the registered seam; on failure
 * everything started is stopped again. Stop: begin marks the runtime as
 * shutting down (MANTA_OK, or why it cannot stop now); finish leaves the
 * cluster, then stops and frees everything. All without rt.mu. */
manta_err mt_runtime_start(const manta_options *opts);
manta_err mt_runtime_stop_begin(void);
manta_err mt_runtime_stop_finish(void);

extern const mt_value_hooks mt_runtime_value_hooks;

void mt_lock(void);
void mt_unlock(void);
/* Whether this thread holds rt.mu (for hooks reached both ways). */
bool mt_lock_held(void);
/* Waits on cv (monotonic) until the deadline; ETIMEDOUT when passed.
 * Every wait on rt.mu goes through here: it first makes this thread's
 * deferred wake-ups. */
int mt_cond_wait(pthread_cond_t *cv, const struct timespec *deadline);
/* Signals cv once this thread releases rt.mu (mt_unlock, or a wait): for
 * condition variables that live until shutdown (the workers'). */
void mt_wake_after_unlock_locked(pthread_cond_t *cv);
/* Returns once no deferred wake-up is still being made (shutdown, before
 * the workers' condition variables are destroyed). */
void mt_wakes_settle(void);

/* Counts one more run of a call of function (run or sent again after its
 * node died, an error with retry_exceptions, a lost object rebuilt): the
 * node's count and the function's (metrics.c). */
void mt_note_retry_locked(const char *function);

#endif
