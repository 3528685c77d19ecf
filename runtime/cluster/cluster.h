/*
 * Cluster mode: this node's server, its membership (registration and
 * heartbeats to the head), its view of the other nodes, the links to them,
 * and, on the head, the directory.
 *
 * Files: node.c (lifecycle, heartbeats, the view); head/ (on the head
 * only: directory.c the Head service, actor_names.c the cluster-wide
 * names, pg_head.c placement groups); task_receive.c (the Node service:
 * running what others send); task_send.c (sending tasks to other nodes
 * over the links to them, results, retries); actor_proxy.c (actors of
 * other nodes: placement, proxies); actor_host.c (what a host does for
 * others); actor_locate.c (handles following restarts);
 * actor_names_node.c (named actors from a node's side);
 * placement.c (SPREAD and node affinity); wire.c (messages <-> values);
 * status.c (manta_cluster_status, manta_node_address).
 *
 * Locking: the view and the peers are guarded by rt.mu, like the rest of
 * the runtime; the directory and each outbox have their own mutex, taken
 * after rt.mu when both are needed. Channels and servers are closed
 * without rt.mu held: their callbacks take it.
 */
#ifndef MT_CLUSTER_H
#define MT_CLUSTER_H

#include "cluster_seam.h"
#include "manta/v1/cluster_wire.pb-c.h"
#include "pbwire.h"
#include "rt.h"
#include "transport.h"
#include "u64map.h"

/* gRPC method paths (package manta.v1). */
#define MT_HEAD_REGISTER "/manta.v1.Head/RegisterNode"
#define MT_HEAD_HEARTBEAT "/manta.v1.Head/Heartbeat"
#define MT_HEAD_HEARTBEATS "/manta.v1.Head/Heartbeats" /* the stream */
#define MT_HEAD_UNREGISTER "/manta.v1.Head/UnregisterNode"
#define MT_HEAD_STATUS "/manta.v1.Head/ClusterStatus"
#define MT_HEAD_REGISTER_ACTOR_NAME "/manta.v1.Head/RegisterActorName"
#define MT_HEAD_DROP_ACTOR_NAME "/manta.v1.Head/DropActorName"
#define MT_HEAD_LOOKUP_ACTOR "/manta.v1.Head/LookupActor"
#define MT_NODE_TASKS "/manta.v1.Node/Tasks"
#define MT_NODE_CALL "/manta.v1.Node/Call"
#define MT_NODE_FETCH "/manta.v1.Node/FetchObject"
#define MT_NODE_BUNDLES "/manta.v1.Node/ReserveBundles"
#define MT_NODE_OBSERVE "/manta.v1.Node/Observe"
#define MT_NODE_LOCATE "/manta.v1.Node/LocateActor"
#define MT_HEAD_PG_CREATE "/manta.v1.Head/CreatePlacementGroup"
#define MT_HEAD_PG_GET "/manta.v1.Head/GetPlacementGroup"
#define MT_HEAD_PG_REMOVE "/manta.v1.Head/RemovePlacementGroup"
#define MT_HEAD_SERVE_PUT "/manta.v1.Head/PutServeRoute"
#define MT_HEAD_SERVE_DROP "/manta.v1.Head/DropServeRoute"
#define MT_HEAD_SERVE_LIST "/manta.v1.Head/ListServeRoutes"

#define MT_PROTOCOL_VERSION 1
/* Defaults, overridable by MANTA_HEARTBEAT_MS / MANTA_DEAD_AFTER_MS. */
#define MT_HEARTBEAT_MS 300
#define MT_DEAD_AFTER_MS 3000
/* A node at rest (its load, what it offers and its view unchanged for
 * MT_QUIET_BEATS heartbeats, nothing waiting for a view) heartbeats this
 * often instead (MANTA_HEARTBEAT_REST_MS) and tells the head, which waits
 * that much longer before it declares the node dead while the node's
 * heartbeat stream is open (docs/protocol.md, "Heartbeats on a stream");
 * to a head that does not, at most every third of the dead-after time. */
#define MT_HEARTBEAT_REST_MS 5000
#define MT_QUIET_BEATS 3
/* Dispatches in all of work the cluster runs again with no call options of
 * its own to say how often; a task's own count is its max_retries + 1
 * (core/task_retry.c, default 4 as this). */
#define MT_MAX_ATTEMPTS 4

/* ---- the view: what this node knows of the others (under rt.mu) -------- */

typedef struct mt_view_node {
  uint64_t node_id;
  char address[64];
  bool alive;
  int nres;
  char res_names[MT_MAX_RESOURCES][64];
  double res_total[MT_MAX_RESOURCES];
  double res_avail[MT_MAX_RESOURCES];
  char **functions; /* sorted */
  size_t nfunctions;
  char **classes; /* sorted */
  size_t nclasses;
  int64_t queued, running, actors;
  /* Set: the head's last view did not list it (the head restarted, say);
   * it is kept, alive, until it has been missing for dead_after_ms. */
  int64_t missing_since_ms;
  int64_t heartbeat_ms_ago; /* as the head said, when the view came */
  int64_t view_at_ms;       /* when the view came (mt_now_ms) */
} mt_view_node;

/* ---- links to other nodes (under rt.mu, outbox under its own mutex) ----- */

/* Encoded messages waiting for a stream's next send. */
typedef struct mt_outbox {
  pthread_mutex_t mu;
  uint8_t *data; /* concatenated, each already framed as a field */
  size_t len, cap;
} mt_outbox;

void mt_outbox_init(mt_outbox *o);
void mt_outbox_destroy(mt_outbox *o);
/* Appends `field` (length-delimited) holding the message body; false on
 * OOM. *was_empty tells whether a send must be started for it (otherwise
 * one is already due to take it). */
bool mt_outbox_add(mt_outbox *o, uint8_t field, const uint8_t *body, size_t len,
                   bool *was_empty);
/* Drops everything queued. */
void mt_outbox_clear(mt_outbox *o);
/* Takes everything queued as one message body; false if empty. */
bool mt_outbox_take(mt_outbox *o, mt_tp_buf *out);
bool mt_outbox_is_empty(mt_outbox *o);

typedef struct mt_peer {
  struct mt_peer *next;
  uint64_t node_id;
  char address[64];
  mt_tp_channel *ch;
  mt_tp_stream *stream; /* NULL until the first task, or after a failure */
  mt_outbox out;
  mt_u64map pending; /* seq -> mt_task sent and not answered */
  uint64_t next_seq;
  /* Tasks sent there and answered since the view last changed: its load
   * in the view is a snapshot of up to a heartbeat ago, which these bring
   * up to date for what this node did meanwhile. */
  int64_t sent_since_view, answered_since_view;
  int64_t down_until_ms; /* not chosen before then (a failed stream) */
  bool dead;             /* the head declared it dead */
} mt_peer;

/* ---- the node's cluster state ------------------------------------------- */

typedef struct mt_directory mt_directory;

/* view_table.c: the head's node table as this node last heard it, to which
 * heartbeat deltas apply (the heartbeat thread's only). */
typedef struct mt_view_table {
  uint64_t epoch, view; /* sent back as known_epoch, known_view */
  Manta__V1__NodeStatus **nodes;
  size_t n, cap;
} mt_view_table;
/* Applies a heartbeat reply (whole table or delta); true if the table
 * changed. */
bool mt_view_table_apply(mt_view_table *t, const Manta__V1__HeartbeatReply *r);
void mt_view_table_free(mt_view_table *t);

typedef struct mt_fetch_wait {
  uint64_t id;      /* the proxy object (one count held) */
  int64_t since_ms; /* when it first waited */
} mt_fetch_wait;

/* head_list.c: "h1:p1,h2:p2" split into out[]; false with why (an empty
 * element, a bad port, too many). */
#define MT_HEADS_MAX 8
#define MT_HEAD_ADDRESS_MAX 64
bool mt_head_list_parse(const char *list, char out[][MT_HEAD_ADDRESS_MAX],
                        size_t max, size_t *n, char *why, size_t size);

typedef struct mt_cluster {
  bool on;
  int role;         /* manta_role */
  char address[64]; /* where this node serves */
  /* The head's address (ours when we are it): one of heads[] or address,
   * switched whole by the heartbeat thread, so readers never see half. */
  const char *head_address;
  /* The head address list (head_list.c) and a channel to each, all open
   * until stop: calls under way on the one left keep a live channel. */
  char heads[MT_HEADS_MAX][MT_HEAD_ADDRESS_MAX];
  mt_tp_channel *head_channels[MT_HEADS_MAX];
  size_t nheads, cur_head;
  bool head_moved; /* moved to cur_head, not registered there yet */
  char *token;
  mt_tls tls;       /* this node's TLS files (PEM); empty: cleartext */
  mt_tp_tls tp_tls; /* the same, as every server and channel takes it */
  int64_t heartbeat_ms, dead_after_ms;
  int64_t rest_ms;       /* the interval at rest (MT_HEARTBEAT_REST_MS) */
  int quiet_beats;       /* heartbeats in a row that changed nothing */
  bool rest_ok;          /* the head's last reply: it honours next_within_ms */
  mt_tp_buf last_load;   /* the load the last heartbeat reported, packed */
  int64_t beat_finished; /* tasks finished, as the last heartbeat said */
  /* Calls to the head entered (mt_head_enter), and as many as the last
   * heartbeat saw (under rt.mu). */
  uint64_t head_calls_made, head_calls_seen;
  mt_tp_server *server;
  mt_tp_channel *head; /* NULL on the head itself */
  mt_directory *dir;   /* the head only */

  pthread_t heartbeat_thread;
  pthread_mutex_t hb_mu;
  pthread_cond_t hb_cv;
  bool hb_stop;
  bool hb_soon; /* a heartbeat was asked for (mt_heartbeat_soon_locked) */
  mt_view_table table;          /* the head's, as last heard */
  uint64_t advertised_registry; /* registry_version last sent */
  bool reported_busy;           /* the last heartbeat reported work (rt.mu) */

  /* Calls to the head under way from other threads (under rt.mu): stop
   * waits for them before it closes the channel (none start once
   * `stopping`). */
  unsigned head_calls;
  pthread_cond_t head_cv;

  /* under rt.mu */
  mt_view_node *view;
  size_t nview;
  mt_u64map view_index; /* node id -> index in view, plus one */
  uint64_t view_gen;    /* counts view changes (SPREAD's candidates) */
  mt_peer *peers;
  mt_u64map peer_index;  /* node id -> its mt_peer */
  bool stopping;         /* leaving: no new links, no borrow messages */
  mt_u64map proxies;     /* owner's object id -> mt_proxy chain */
  mt_u64map borrows;     /* local id of a lent object -> its borrowers */
  mt_u64map relay_tails; /* local id of an object served here -> who
                            asked for it, and last (fetch.c) */
  struct mt_fetch_wait *fetch_waits; /* proxies whose owner is not in the
                                        view (yet), retried by the
                                        heartbeat thread */
  size_t nfetch_waits;
  struct mt_view_wait *view_waits; /* calls whose hard-affinity node is not
                                      in the view yet, retried by the
                                      heartbeat thread (task_send.c) */
  size_t nview_waits, cap_view_waits;
} mt_cluster;

extern mt_cluster mt_cl;

/* The head's channel and address as other threads read them: the
 * heartbeat thread moves them to another head of the list (node.c). */
static inline mt_tp_channel *mt_head_channel(void) {
  return __atomic_load_n(&mt_cl.head, __ATOMIC_ACQUIRE);
}
static inline const char *mt_head_address(void) {
  return __atomic_load_n(&mt_cl.head_address, __ATOMIC_ACQUIRE);
}

/* node.c */
manta_err mt_cluster_start(const manta_options *opts, const char *address);
void mt_cluster_stop(void);
/* The cluster's side of the seam (cluster_seam.h): start and stop above,
 * registered by the facade (runtime/api). */
extern const mt_cluster_seam mt_cluster_node_seam;
/* This node's description and load, for registration and heartbeats
 * (free with mt_wire_node_info_free / mt_wire_node_load_free). */
Manta__V1__NodeInfo *mt_node_info_build(void);
Manta__V1__NodeLoad *mt_node_load_build(void);
/* Wakes the heartbeat thread now (what this node offers changed). */
void mt_heartbeat_soon_locked(void);
/* The node has no task queued or running any more. */
void mt_node_idle_locked(void);
/* The head did not know this node (it restarted): tells it again of the
 * named actors living here, so that they are found again. */
void mt_actor_names_reannounce(void);
/* Replaces the view with the nodes of a heartbeat reply. */
void mt_view_update(Manta__V1__NodeStatus **nodes, size_t n);
/* The node in the view, or NULL. */
const mt_view_node *mt_view_find_locked(uint64_t node_id);
/* Enters a call to the head (false: the cluster is stopping); each true
 * is paired with mt_head_exit. Without rt.mu. */
bool mt_head_enter(void);
void mt_head_exit(void);

/* heartbeat_link.c: a node's heartbeats on one stream to the head. call
 * sends one HeartbeatRequest's bytes and waits for the reply as
 * mt_tp_unary_sync would (same statuses; unary calls to a head that does
 * not serve the stream). start before the first call, stop before the
 * head's channels close. */
void mt_heartbeat_link_start(void);
int mt_heartbeat_link_call(mt_tp_channel *ch, const uint8_t *body, size_t len,
                           int64_t timeout_ms, mt_tp_buf *reply, char *detail,
                           size_t size);
void mt_heartbeat_link_stop(void);

/* head/directory.c (the head) */
mt_directory *mt_directory_new(uint64_t head_node_id, int64_t heartbeat_ms,
                               int64_t dead_after_ms);
void mt_directory_free(mt_directory *d);
/* The Head service's unary methods; false if method is not one. */
bool mt_directory_is_method(const char *method);
void mt_directory_handle(mt_directory *d, mt_tp_incoming *in,
                         const char *method, const uint8_t *body, size_t len);
/* A Head method run here, on the head, without a network hop: its gRPC
 * status, the reply body in *reply (free it). */
int mt_directory_call(mt_directory *d, const char *method, const uint8_t *body,
                      size_t len, mt_tp_buf *reply, char *detail, size_t size);
/* The head's own registration and heartbeat, without a network hop. */
void mt_directory_register_self(mt_directory *d, Manta__V1__NodeInfo *info);
Manta__V1__HeartbeatReply *
mt_directory_heartbeat(mt_directory *d, const Manta__V1__HeartbeatRequest *req);
/* A Heartbeat request's bytes answered: the reply's bytes in *reply (free
 * it) and MT_TP_OK, or the call's status with detail[size] (fenced,
 * malformed, out of memory). stream names the Heartbeats stream it came
 * on (0: a unary call); *node_id (if not NULL) gets the sender's id. */
int mt_directory_heartbeat_bytes(mt_directory *d, const uint8_t *body,
                                 size_t len, uint64_t stream, uint64_t *node_id,
                                 mt_tp_buf *reply, char *detail, size_t size);
/* The Heartbeats stream named stream, that carried node_id's heartbeats,
 * ended: the node's timeout is the plain dead-after time again. */
void mt_directory_stream_closed(mt_directory *d, uint64_t node_id,
                                uint64_t stream);
/* Whether this head lost the store's lease to another (why says to whom). */
bool mt_directory_fenced(mt_directory *d, char *why, size_t size);
/* head/heartbeat_stream.c: the Heartbeats stream, served by the head. */
bool mt_directory_is_stream(const char *method);
void *mt_directory_stream_open(mt_directory *d, mt_tp_stream *s,
                               const mt_tp_stream_handlers **handlers);
/* Adds (or refreshes) a node as RegisterNode does; false if the id is the
 * head's or on OOM. Forgets a node as UnregisterNode does. */
bool mt_directory_register(mt_directory *d, const Manta__V1__NodeInfo *info);
void mt_directory_unregister(mt_directory *d, uint64_t node_id);

/* head/view_log.c: what heartbeat deltas need beside the node table (under
 * the directory's mutex). */
#define MT_VIEW_GONE_KEPT 64
typedef struct mt_view_log {
  uint64_t epoch; /* random per head run, never 0 */
  uint64_t floor; /* views older than this get the whole table */
  struct {
    uint64_t node_id, view; /* left at that view version */
  } gone[MT_VIEW_GONE_KEPT];
  size_t ngone;
} mt_view_log;
void mt_view_log_init(mt_view_log *log);
/* node_id left the table, which made the view version `view`. */
void mt_view_log_gone(mt_view_log *log, uint64_t node_id, uint64_t view);
/* Whether a node holding (known_epoch, known_view) can be sent a delta
 * against the current view version `view`. */
bool mt_view_log_can_delta(const mt_view_log *log, uint64_t known_epoch,
                           uint64_t known_view, uint64_t view);
/* The nodes that left after known_view, into out (MT_VIEW_GONE_KEPT
 * entries); their count. */
size_t mt_view_log_gone_since(const mt_view_log *log, uint64_t known_view,
                              uint64_t *out);

/* task_receive.c: the Node service */
extern const mt_tp_service mt_node_service;
/* observe.c: Node.Observe, a node's API document for another node. The
 * documents come from the node's HTTP services (a layer above the cluster),
 * which register where they are made before the node starts: the source
 * fills status, content type (static), body (malloc'd, NULL on OOM) and
 * length for a path. */
typedef void (*mt_observe_source)(const char *path, int *status,
                                  const char **content_type, char **body,
                                  size_t *len);
void mt_observe_set_source(mt_observe_source source);
void mt_observe_serve(mt_tp_incoming *in, const uint8_t *body, size_t len);

/* handoff.c: a received task that waits behind busy slots goes back to
 * its caller while another node offers its function with free ones
 * (docs/scheduling.md, "Handing a task back"). */
/* A call is handed back at most this many times; then it stays where it
 * is sent and waits there. */
#define MT_HANDOFF_MAX 3
typedef struct mt_handoff_entry {
  struct mt_handoff_entry *prev, *next;
  mt_object *obj;   /* the task's result here: obj->task while pending */
  int64_t since_ms; /* when it arrived */
  bool linked;      /* in the watched list */
  bool handed_back; /* taken back: its answer is TaskResult.handed_back */
} mt_handoff_entry;
/* Watches the task making o (received with TaskSpec.may_hand_back). */
void mt_handoff_watch_locked(mt_handoff_entry *e, mt_object *o);
/* The task was answered (or handed back): no longer watched. */
void mt_handoff_unwatch_locked(mt_handoff_entry *e);
/* A new view: look again at what waits (called from the view update). */
void mt_handoff_view_changed_locked(void);
/* Cluster stop (rt.mu not held): the watcher thread ends. */
void mt_handoff_stop(void);

/* task_send.c */
extern const mt_cluster_ops mt_cluster_routing;
/* The view changed: fail over tasks on nodes that died; returns channels to
 * close once rt.mu is released (a NULL-terminated array, or NULL). */
mt_tp_channel **mt_peers_check_locked(mt_garbage *g);
/* Cluster stop: every link closed, every task sent away fails. */
void mt_peers_close_all(void);
/* Whether a sorted list of names holds name. */
bool mt_view_offers(char *const *names, size_t n, const char *name);
/* Whether the node has the demand in total (now: free at its last
 * heartbeat). */
bool mt_view_fits(const mt_view_node *v, const mt_resource_request *d,
                  bool now);
/* How busy a node looks from here: work per CPU, counting what this node
 * sent it and has not heard back about. */
double mt_view_load_locked(const mt_view_node *v);
/* Its CPUs less the calls it holds, counted the same way (may be < 0). */
double mt_view_free_cpus_locked(const mt_view_node *v);
/* The view was replaced: the peers' counts since the last one restart. */
void mt_peers_view_changed_locked(void);
/* Sends t (a proxy's creation or call) to the node: it waits on the link
 * for its result. false with *error (for t) if it could not be sent. */
bool mt_peers_send_locked(uint64_t node_id, mt_task *t, manta_value **error,
                          mt_garbage *g);
/* Whether the link to the node failed a moment ago (or the node died):
 * nothing is sent there until the view or a retry says more. */
bool mt_peers_down_locked(uint64_t node_id);
/* Queues a spec that is not answered (seq 0) for the node; false if the
 * node is not alive in the view, or on OOM. */
bool mt_peers_post_locked(uint64_t node_id, const Manta__V1__TaskSpec *spec,
                          mt_garbage *g);

/* placement.c: the strategies across nodes (tasks and actors) */
/* SPREAD: the node to take next, round-robin in node id order over the
 * live nodes that offer name (an actor class if is_class), have the
 * demand in total and whose link did not just fail, this node among them
 * when local_ok. false when there is none. */
bool mt_spread_next_locked(const char *name, bool is_class,
                           const mt_resource_request *d, bool local_ok,
                           uint64_t *node);
/* Forgets SPREAD's candidates per function (the cluster stops). */
void mt_spread_forget_locked(void);
/* A node affinity to another node: its view entry if it can take the call
 * now, else NULL with *code and why[size] saying why not ("hard node
 * affinity: node <id> ..."). */
const mt_view_node *mt_affinity_node_locked(uint64_t node, const char *name,
                                            bool is_class,
                                            const mt_resource_request *d,
                                            manta_err *code, char *why,
                                            size_t size);
/* The node a call's SPREAD or node affinity picks: true with *node (this
 * node's id when SPREAD takes its turn here); false with *fail (origin
 * `origin`) when a hard affinity cannot be kept; false without, for the
 * default placement (also SPREAD with no node to take: the default says
 * why). */
bool mt_strategy_pick_locked(const mt_placement *p, const char *name,
                             bool is_class, const mt_resource_request *d,
                             bool local_ok, const char *origin, uint64_t *node,
                             manta_value **fail);

/* actor_proxy.c: actors of other nodes seen from here (placement, proxies) */
/* What a TaskSpec of an actor task points into. */
typedef struct mt_actor_spec_store {
  uint8_t id[16];
  Manta__V1__ActorCreate create;
} mt_actor_spec_store;
/* The actor fields of a proxy's creation or call (pointing into st). */
void mt_actor_spec_fill(const mt_task *t, Manta__V1__TaskSpec *spec,
                        mt_actor_spec_store *st);
/* The answer to a proxy's creation: the actor's id (16 bytes), or none and
 * v, an error (taken). Finishes t. */
void mt_actor_remote_created_locked(mt_task *t, const ProtobufCBinaryData *id,
                                    manta_value *v, mt_garbage *g);
/* A proxy's creation or call sent away will not be answered (the link
 * failed, the node died): it fails with code. */
void mt_actor_remote_lost_locked(mt_task *t, manta_err code, const char *why,
                                 mt_garbage *g);
/* The view changed: proxies of dead nodes die, waiting calls leave, holds
 * of dead creators go. */
void mt_actors_remote_check_locked(mt_garbage *g);
/* An actor operation received on a Tasks stream, its arguments decoded and
 * its demand in opts. CALL: *ref names the result to send back. CREATE:
 * created gets the new actor's 16-byte id, to send back at once. KILL,
 * RELEASE: nothing to send. Returns an error value to send back instead
 * (NULL: none). Called without rt.mu. */
manta_value *mt_actor_serve(const Manta__V1__TaskSpec *spec,
                            const manta_value *const *args, size_t nargs,
                            manta_call_options *opts, manta_ref *ref,
                            uint8_t created[16]);
void mt_actors_remote_start(void);
/* Cluster stop: proxies are forgotten (they live on, disconnected, until
 * the runtime stops), holds released, queued name updates dropped. */
void mt_actors_remote_stop_locked(mt_garbage *g);
/* Whether `node`, missing from the view or dead in it, is gone for good
 * (missing for longer than the dead-node timeout since since_ms). */
bool mt_node_gone_locked(uint64_t node, int64_t since_ms);

/* actor_host.c: the actors this node hosts for others. */
/* Holds of creators that are gone are released. */
void mt_actor_holds_check_locked(mt_garbage *g);
/* Cluster stop: every hold is released. */
void mt_actor_holds_stop_locked(mt_garbage *g);
/* The mt_cluster_ops of actors (rt.h says what each does). */
bool mt_actor_place_locked(const char *cls, bool local_ok,
                           const mt_resource_request *demand,
                           const mt_placement *p, uint64_t *host,
                           manta_value **fail);
void mt_actor_dispatch_locked(mt_task *t, mt_garbage *g);
/* Sends an actor's creation to its host; one whose host is not in this
 * node's view yet (a hard affinity to a node that just joined) waits for
 * the next views as a task does, and fails as the affinity would once the
 * wait is over (task_send.c). waited_since: when it was first parked. */
void mt_actor_create_send_locked(mt_task *t, int64_t waited_since,
                                 mt_garbage *g);
void mt_actor_flush_locked(mt_actor *a, mt_garbage *g);
void mt_actor_kill_remote_locked(mt_actor *a, mt_garbage *g);
void mt_proxy_free_locked(mt_actor *a, mt_garbage *g);
mt_actor *mt_proxy_get_locked(uint64_t host, uint64_t id);
/* The proxy through which this node created the instance (host, id), or
 * NULL. */
mt_actor *mt_proxy_owned_locked(uint64_t host, uint64_t id);
/* Points proxy a at the instance (host, id) from now on and sends the calls
 * waiting in its mailbox there. */
void mt_proxy_move_locked(mt_actor *a, uint64_t host, uint64_t id,
                          mt_garbage *g);
/* "3f2a... (127.0.0.1:4242)" for messages. */
void mt_node_label_locked(uint64_t node, char *buf, size_t size);

/* The answer to a restart's probe (mt_remote.ready_probe): null when its
 * constructor succeeded, else the error the instance died with. */
void mt_actor_remote_ready_locked(mt_task *t, manta_value *v, mt_garbage *g);

/* actor_locate.c: handles that follow an actor's restarts. A proxy that
 * did not create its actor asks the node that did (its owner) where the
 * actor lives now, when the node it lived on died or a call to it was lost.
 * Starts asking (once at a time); false if no node can be asked. */
bool mt_actor_locate_locked(mt_actor *a, mt_garbage *g);
/* Whether a call of a proxy that did not create its actor, lost with the
 * host, goes back in the mailbox, to be sent again wherever the owner says
 * the actor lives: as the owner's max_task_retries allows, and until the
 * owner answered. */
bool mt_actor_locate_may_resend(const mt_task *t);
/* The owner's side: an instance (host, id) of proxy a was replaced by a
 * restart, so askers who know the old one are answered; forget drops them
 * all when a goes. */
void mt_actor_locate_former_locked(mt_actor *a, uint64_t host, uint64_t id);
void mt_actor_locate_forget_locked(mt_actor *a);
/* Node.LocateActor. */
void mt_actor_locate_serve(mt_tp_incoming *in, const uint8_t *body, size_t len);
void mt_actor_locate_stop_locked(void);

/* actor_names_node.c: calls to the head that wait for its answer (not on a
 * poller thread): the gRPC status and the reply body (free it)... */
int mt_head_call(const char *method, const ProtobufCMessage *req,
                 mt_tp_buf *reply, char *detail, size_t size);
/* ... or the reply unpacked as `reply` (*out; free with
 * protobuf_c_message_free_unpacked), else why not (logged, saying what). */
manta_err mt_head_ask(const char *method, const ProtobufCMessage *req,
                      const ProtobufCMessageDescriptor *reply, const char *what,
                      ProtobufCMessage **out);

/* actor_names_node.c: named actors from a node's side (the mt_cluster_ops
 * of names, rt.h says what each does) */
void mt_actor_name_locked(const char *name, const char *cls, uint64_t host,
                          uint64_t id, bool named, mt_garbage *g);
manta_err mt_actor_reserve_name(const char *name, const char *cls,
                                uint64_t host);
manta_err mt_actor_lookup_cluster(const char *name, manta_actor *out);
/* Cluster stop: name updates not yet sent are dropped. */
void mt_actor_names_updates_drop(void);

/* head/actor_names.c: the head's named actors (under the directory's mutex) */
typedef struct mt_actor_names mt_actor_names;
mt_actor_names *mt_actor_names_new(void);
void mt_actor_names_free(mt_actor_names *n);
/* Whether method is one of the Head's named-actor methods. */
bool mt_actor_names_is_method(const char *method);
/* Runs one of them: a gRPC status, the packed reply in *reply. */
int mt_actor_names_handle(mt_actor_names *n, const char *method,
                          const uint8_t *body, size_t len, mt_tp_buf *reply,
                          char *detail, size_t size);
/* A node left or died: the names of its actors go, and the reservations
 * it made. */
void mt_actor_names_node_gone(mt_actor_names *n, uint64_t node_id);
/* The named actors (complete entries) as messages that point into the
 * table; free with mt_actor_names_list_free. */
Manta__V1__NamedActor **mt_actor_names_list(mt_actor_names *n, size_t *count);
void mt_actor_names_list_free(Manta__V1__NamedActor **list, size_t count);

/* head/serve_routes.c: the head's Serve routes (under the directory's
 * mutex): route -> spec JSON, stamp, deploying node. */
typedef struct mt_serve_table mt_serve_table;
mt_serve_table *mt_serve_table_new(void);
void mt_serve_table_free(mt_serve_table *t);
bool mt_serve_table_is_method(const char *method);
/* Adds or replaces a route; false when memory ran out. *refused: the
 * stamp is of a deploy this table saw deleted or replaced (nothing
 * changed). */
bool mt_serve_table_put(mt_serve_table *t, const char *route,
                        const char *spec_json, uint64_t stamp, uint64_t node_id,
                        bool *refused);
/* Removes a route; false if there was none. */
bool mt_serve_table_drop(mt_serve_table *t, const char *route);
/* From now on every put and drop is written to store too (the head's
 * durable store; NULL: memory only). */
struct mt_head_store;
void mt_serve_table_set_store(mt_serve_table *t, struct mt_head_store *store);
/* Runs one of the Head's Serve methods: a gRPC status, the reply. */
int mt_serve_table_handle(mt_serve_table *t, const char *method,
                          const uint8_t *body, size_t len, mt_tp_buf *reply,
                          char *detail, size_t size);

/* serve_routes_node.c: a node's side of the shared routes, for Serve's
 * ingress (runtime/serve/serve_sync.c). */
typedef struct mt_serve_shared {
  char *route, *spec_json;
  uint64_t stamp, node_id;
} mt_serve_shared;
/* Announces a route (or announces it again, as deployed by node_id);
 * MANTA_ERR_CANCELLED if the head saw that deploy deleted or replaced. */
manta_err mt_serve_shared_put(const char *route, const char *spec_json,
                              uint64_t stamp, uint64_t node_id);
/* Removes a route from the head; MANTA_ERR_NOT_FOUND if it held none. */
manta_err mt_serve_shared_drop(const char *route);
/* The head's routes (*out: free with mt_serve_shared_free) and its
 * incarnation. */
manta_err mt_serve_shared_list(mt_serve_shared **out, size_t *n,
                               uint64_t *incarnation);
void mt_serve_shared_free(mt_serve_shared *list, size_t n);

/* head/pg_head.c: the head's placement groups (under the directory's mutex) */
typedef struct mt_pg_table mt_pg_table;
mt_pg_table *mt_pg_table_new(void);
void mt_pg_table_free(mt_pg_table *t);
bool mt_pg_table_is_method(const char *method);
/* The nodes a group may be placed on, as the directory sees them now. */
typedef struct mt_pg_node {
  uint64_t id;
  char address[64];
  int64_t load_ms; /* when its free resources were reported */
  int nres;
  char names[MT_MAX_RESOURCES][64];
  double total[MT_MAX_RESOURCES];
  double avail[MT_MAX_RESOURCES];
} mt_pg_node;
/* Runs one of the methods: a gRPC status, the packed reply in *reply. */
int mt_pg_table_handle(mt_pg_table *t, const mt_pg_node *nodes, size_t nn,
                       const char *method, const uint8_t *body, size_t len,
                       mt_tp_buf *reply, char *detail, size_t size);
/* Every group not removed, as messages pointing into the table (free with
 * mt_pg_table_list_free). */
Manta__V1__PlacementGroup **mt_pg_table_list(mt_pg_table *t, size_t *count);
void mt_pg_table_list_free(Manta__V1__PlacementGroup **list, size_t count);
/* One step of the head's placement work: a group to reserve (planned on
 * nodes) or to free; NULL when there is none. Run it WITHOUT the
 * directory's mutex (mt_pg_job_run), then hand it back (mt_pg_job_done). */
typedef struct mt_pg_job mt_pg_job;
mt_pg_job *mt_pg_table_next_job(mt_pg_table *t, const mt_pg_node *nodes,
                                size_t nn);
void mt_pg_job_run(mt_pg_job *j);
void mt_pg_job_done(mt_pg_table *t, mt_pg_job *j);
/* head/directory.c: runs the head's placement work (heartbeat thread). */
void mt_directory_pg_tick(mt_directory *d);

/* The head's durable store (head/head_store.h, docs/head-store.md). */
struct mt_head_store;
/* head/directory.c: opens the store at url, takes its lease for the head
 * at address (waiting as a standby while another head holds it), takes
 * the state it holds (nodes, named actors, placement groups) and records
 * every change from then on; false with why. Before the head serves. */
bool mt_directory_open_store(mt_directory *d, const char *url,
                             const char *cluster_name, const char *address,
                             char *why, size_t size);
/* The head's address as it serves (written with the store's lease). */
void mt_directory_store_address(mt_directory *d, const char *address);
/* head/actor_names.c: names are recorded in s from now on; a stored name
 * taken back (false: unusable). */
void mt_actor_names_set_store(mt_actor_names *n, struct mt_head_store *s);
bool mt_actor_names_restore(mt_actor_names *n, const Manta__V1__NamedActor *a);
/* The names node_id hosts (from the store) go after by_ms unless it
 * announces them again; mt_actor_names_expire drops those due by now. */
void mt_actor_names_unconfirm(mt_actor_names *n, uint64_t node_id,
                              int64_t by_ms);
void mt_actor_names_expire(mt_actor_names *n, int64_t now_ms);
/* head/pg_head.c: a stored group taken back (false: unusable). */
bool mt_pg_table_restore(mt_pg_table *t, const Manta__V1__PlacementGroup *g);

/* pg_node.c: a node's side of placement groups */
/* Prepares, commits or returns (BundleOp) bundles of group gid here;
 * false with why when a prepare does not fit. Takes rt.mu. */
bool mt_bundles_apply(int op, uint64_t gid, const Manta__V1__Bundle *const *b,
                      size_t n, char *why, size_t size);
void mt_bundles_serve(mt_tp_incoming *in, const uint8_t *body, size_t len);
manta_err mt_pg_create_cluster(uint64_t gid, int strategy,
                               const mt_resource_request *bundles, size_t n,
                               manta_value **fail);
manta_err mt_pg_poll_cluster(uint64_t gid, uint64_t *nodes, size_t n,
                             manta_value **fail);
manta_err mt_pg_remove_cluster(uint64_t gid);
manta_err mt_pg_fetch_cluster(uint64_t gid, int *strategy,
                              mt_resource_request **bundles, uint64_t **nodes,
                              size_t *nb);
/* Resources of a bundle message <-> a request. */
void mt_pg_bundle_request(const Manta__V1__Bundle *b, mt_resource_request *r);

/* task_send.c: the channel to a live node of the view (opened if needed), its
 * address copied to address[size]; NULL if the node is not alive. */
mt_tp_channel *mt_peer_channel_locked(uint64_t node, char *address,
                                      size_t size);
/* Queues a framed TaskBatch field for a node's link (opening it); false if
 * the node is not alive or on OOM. */
bool mt_peer_send_locked(uint64_t node, uint8_t field, const uint8_t *body,
                         size_t len, mt_garbage *g);

/* remote_objects.c: ownership across nodes */
/* Records (mt_ref_capture) the local ids of refs the encodings made by
 * this thread name, between begin and end. */
void mt_refs_begin(mt_id_list *c);
void mt_refs_end(mt_id_list *c);
void mt_refs_free(mt_id_list *c);
/* Counts the captured refs as going to node dest; true when some are
 * owned by dest (a result carrying them must be acknowledged). */
bool mt_borrow_out_locked(const mt_id_list *c, uint64_t dest, mt_garbage *g);
/* A BorrowUpdate received by the owner. */
void mt_borrow_apply_locked(const uint8_t *wire, size_t len, uint64_t node,
                            int64_t delta, mt_garbage *g);
/* Drops the borrows of nodes the view says are dead. */
void mt_borrows_check_locked(mt_garbage *g);
manta_err mt_proxy_from_wire_locked(uint64_t node, uint64_t id,
                                    uint64_t *local);
/* A pending local object (a remote task's result) becomes the proxy of an
 * object of node `node` that counted one borrow for this node. */
bool mt_proxy_adopt_locked(mt_object *o, uint64_t node, uint64_t id,
                           mt_garbage *g);
void mt_object_freed_locked(mt_object *o, mt_garbage *g);
/* This node's proxy object of node's object id, or NULL. */
mt_object *mt_proxy_object_locked(uint64_t node, uint64_t id);
void mt_remote_objects_stop_locked(void);
/* A proxy stands for nothing any more (its node died): o is this node's
 * own object again, ready with the copy fetched here or pending. A fetch
 * in flight is detached (its count given back). */
void mt_proxy_detach_locked(mt_object *o, mt_garbage *g);
/* The proxy standing for (node, id) on its owner, if any. */
mt_proxy *mt_proxy_find_locked(uint64_t node, uint64_t id);
/* The pending proxy o stands for the object (node, id) from now on (made
 * again there after its node died; one borrow was counted for this node),
 * or, when node is this one, is completed with that object's value. */
void mt_proxy_repoint_locked(mt_object *o, uint64_t node, uint64_t id,
                             mt_garbage *g);
/* Gives back the borrow counted for this node of (node, id): an answer
 * that came too late to be used. */
void mt_borrow_give_back_locked(uint64_t node, uint64_t id, mt_garbage *g);

/* rebuild_ask.c: a lost argument rebuilt by the node that sent the task
 * holding it (docs/fault-tolerance.md, "Lost arguments") */
/* The node whose task's arguments are being decoded by this thread (0:
 * none): proxies made meanwhile may ask it to rebuild their object. */
extern _Thread_local uint64_t mt_ref_sender;
/* Fetching the pending proxy o failed since its node is gone (why): asks
 * the node that sent the ref here to rebuild it. True if asked (o stays
 * pending, its answer re-points or resolves it); false: nobody to ask. */
bool mt_rebuild_ask_locked(mt_object *o, const char *why, mt_garbage *g);
/* o waits for an answer: keeps waiting (true) while the node asked is
 * alive, else resolves o with why (false: o was not waiting). */
bool mt_rebuild_check_locked(mt_object *o, mt_garbage *g);
/* TaskBatch.rebuild_requests and rebuild_replies received. */
void mt_rebuild_in_locked(const Manta__V1__TaskBatch *b, mt_garbage *g);
/* The proxy of (node, id) was detached from local object obj to rebuild
 * it: a request naming (node, id) finds it there. */
void mt_rebuild_moved_locked(uint64_t node, uint64_t id, uint64_t obj);
void mt_rebuild_stop_locked(mt_garbage *g);

/* lineage.c: rebuilding lost objects this process owns by running the
 * task that made them again (docs/fault-tolerance.md) */
typedef struct mt_lineage mt_lineage;
/* Reads MANTA_LINEAGE_MEMORY (as the cluster starts). */
void mt_lineage_start(void);
/* What running a remote task again takes (its arguments counted); NULL if
 * it cannot be kept. */
mt_lineage *mt_lineage_take_locked(const mt_task *t);
/* Keeps l (may be NULL) for the proxy o, evicting the oldest beyond the
 * limit; drops l itself. */
void mt_lineage_keep_locked(mt_object *o, mt_lineage *l, mt_garbage *g);
void mt_lineage_drop_locked(mt_lineage *l, mt_garbage *g);
/* The object is freed, or its copy arrived here. */
void mt_lineage_forget_locked(uint64_t obj, mt_garbage *g);
/* When fetching obj first failed (now, if this is the first time); -1 if
 * it has no lineage. */
int64_t mt_lineage_lost_since_locked(uint64_t obj);
/* The pending proxy o cannot be fetched: its node died. True if handled
 * here: rebuilding (o pending again, without proxy), or resolved with why
 * it cannot be; false if o has no lineage (the caller resolves it). */
bool mt_lineage_rebuild_locked(mt_object *o, const char *why, mt_garbage *g);
void mt_lineage_stop_locked(mt_garbage *g);

/* chunk.c: the headers FetchObject writes and reads by hand */
/* Longest ObjectChunk header: a tag and a 10-byte varint, twice. */
#define MT_CHUNK_HEAD_MAX 22
/* Longest header of a Value that is only bytes: a tag and a varint. */
#define MT_BYTES_HEAD_MAX 11
/* Writes the ObjectChunk header for data_len bytes of data that follow it
 * to the end of the message; returns the header's length. */
size_t mt_chunk_head_put(uint8_t out[MT_CHUNK_HEAD_MAX], uint64_t total,
                         uint64_t data_len);
/* Reads that header from b[0..n), the start of a message of msg_len bytes:
 * true, with *data_at where data starts, when the message is total then
 * data running to its end; false for any other layout (to be unpacked by
 * protobuf-c, which also rejects what is malformed). */
bool mt_chunk_head_get(const uint8_t *b, size_t n, size_t msg_len,
                       uint64_t *total, size_t *data_at);
/* The header of a bytes Value of len bytes; returns its length. */
size_t mt_bytes_head_put(uint8_t out[MT_BYTES_HEAD_MAX], uint64_t len);
/* Whether b[0..n), the start of a Value encoding of total bytes, begins a
 * Value holding only bytes, which then start at *at (<= n) and run to the
 * end; false for anything else (left to manta_value_decode). */
bool mt_bytes_head_get(const uint8_t *b, size_t n, uint64_t total, size_t *at);

/* The largest object a node accepts (a garbage total is refused). */
#define MT_CHUNK_TOTAL_MAX ((uint64_t)1 << 40)
/* Assembles a fetched object from its chunks' data, in order (zeroed to
 * start). The buffer is sized by the first chunk's total: for a value that
 * is only bytes it holds the payload alone, the header read and dropped,
 * so that it becomes the value as it is. */
typedef struct mt_chunk_sink {
  uint8_t *buf; /* NULL until the first chunk sized it */
  size_t cap;   /* buf's bigalloc block size; 0: buf is malloc'd */
  size_t skip;
  uint64_t total, got;
  /* Set: the buffer belongs to this release function (relay.c), which the
   * value made of it or a sink freed without value calls. */
  void (*release)(void *buf, void *arg);
  void *release_arg;
  char error[160]; /* why the object cannot be had, once it cannot */
} mt_chunk_sink;
/* Takes the next chunk: data_len bytes of an object of total bytes, of
 * which the first n, pre, are copied here. Returns where the other
 * data_len - n bytes go (copy them with mt_chunk_sink_copy), or NULL with
 * error set: a total refused or disagreeing with the first, data beyond
 * it, no memory. */
uint8_t *mt_chunk_sink_take(mt_chunk_sink *k, uint64_t total, uint64_t data_len,
                            const uint8_t *pre, size_t n);
/* Takes a received ObjectChunk of len bytes from its first n (at most
 * MT_CHUNK_HEAD_MAX), head: returns where its other len - n bytes go, or
 * NULL, with error set if they cannot be taken, without if the chunk is in
 * another layout than manta's: then give all of it to mt_chunk_sink_flat. */
uint8_t *mt_chunk_sink_head(mt_chunk_sink *k, const uint8_t *head, size_t n,
                            size_t len);
/* Takes a whole ObjectChunk message, unpacked by protobuf-c; returns its
 * relay_node instead when it has one (a pointer to another node, no data:
 * nothing taken). */
uint64_t mt_chunk_sink_flat(mt_chunk_sink *k, const uint8_t *msg, size_t len);
/* Copies into the sink's buffer (streaming stores into a large block). */
void mt_chunk_sink_copy(const mt_chunk_sink *k, uint8_t *dst,
                        const uint8_t *src, size_t n);
/* The value once every byte arrived; NULL with error set if they did not,
 * or they do not decode. The buffer goes to the value (or is freed). */
manta_value *mt_chunk_sink_value(mt_chunk_sink *k);
/* Frees the buffer of a sink that gave no value. */
void mt_chunk_sink_free(mt_chunk_sink *k);

/* relay.c: a copy being fetched, served onward as it arrives */
typedef struct mt_relay_copy mt_relay_copy;
enum { MT_RELAY_RECEIVING = 0, MT_RELAY_COMPLETE = 1, MT_RELAY_FAILED = -1 };
/* One count, the caller's; NULL on OOM. */
mt_relay_copy *mt_relay_copy_new(void);
void mt_relay_copy_retain(mt_relay_copy *c);
/* The last count frees the block and c. */
void mt_relay_copy_unref(mt_relay_copy *c);
/* A release function of a value whose bytes are c's block (arg: c). */
void mt_relay_block_release(void *data, void *c);
/* The block now holds a bytes value's len payload bytes, to be filled in
 * order; c owns it. */
void mt_relay_copy_sized(mt_relay_copy *c, uint8_t *buf, size_t cap,
                         uint64_t len);
/* The first have payload bytes are in the block: kicks the streams. */
void mt_relay_copy_progress(mt_relay_copy *c, uint64_t have);
/* No more bytes will come (ok: every one came): kicks the streams. */
void mt_relay_copy_end(mt_relay_copy *c, bool ok);
/* Its state (MT_RELAY_*), the block (NULL while not sized), the payload
 * length and how much of it can be read. */
int mt_relay_copy_read(mt_relay_copy *c, const uint8_t **buf, uint64_t *len,
                       uint64_t *have);
/* s is kicked at each progress until unwatched (a reference held). */
bool mt_relay_copy_watch(mt_relay_copy *c, mt_tp_stream *s);
void mt_relay_copy_unwatch(mt_relay_copy *c, mt_tp_stream *s);

/* fetch.c: moving objects */
typedef struct mt_fetch mt_fetch;
void mt_fetch_locked(mt_object *o);
void mt_fetch_detach_locked(mt_fetch *f);
/* The copy f is receiving (a count for the caller), NULL if none. */
mt_relay_copy *mt_fetch_copy_locked(mt_fetch *f);
/* The owner forgets who asked for the object of local id id (freed). */
void mt_relay_forget_locked(uint64_t id);
void mt_relay_forget_all_locked(void);
/* Fetches whose owner was not alive in the view: started now that it is,
 * failed if it is dead or stayed unknown too long (heartbeat thread). */
void mt_fetch_retry_waiting(void);
/* task_send.c: the calls waiting for their hard-affinity node to enter the
 * view are placed again (or fail, their wait over); after each heartbeat. */
void mt_view_waits_retry(void);
/* The FetchObject stream's handlers, for the Node service. */
void *mt_fetch_serve_open(mt_tp_stream *s, const mt_tp_stream_handlers **h);

/* task_receive.c: a Tasks stream this node serves (for stream_link.c) */
typedef struct serve_stream mt_serve_stream;
void mt_serve_retain_locked(mt_serve_stream *ss);
void mt_serve_release_locked(mt_serve_stream *ss, mt_garbage *g);
/* Queues a framed TaskBatch field for the client; false once closed. */
bool mt_serve_send_locked(mt_serve_stream *ss, uint8_t field,
                          const uint8_t *body, size_t len, mt_garbage *g);
/* The client's node id (TaskBatch.sender_node), 0 for a foreign client. */
uint64_t mt_serve_client_locked(const mt_serve_stream *ss);

/* stream_link.c: streams across nodes (docs/protocol.md, "Streams") */
/* Caller's side: marks the spec of a stream call (stream_window)... */
void mt_stream_spec_locked(mt_task *t, Manta__V1__TaskSpec *spec);
/* ...and, once queued as number seq on the link to node, sends its
 * credits there. */
void mt_stream_sent_locked(mt_task *t, uint64_t node, uint64_t seq,
                           mt_garbage *g);
/* The items of a batch from p, to the streams of its calls (unlocked). */
void mt_stream_items_in(mt_peer *p, const Manta__V1__TaskBatch *batch);
/* Producer's side: the call about to be submitted from spec `seq` of ss
 * emits into a sink sending to ss (mt_stream_clear_submitting after the
 * submit); false on OOM. Unlocked. */
bool mt_stream_serve_begin(mt_serve_stream *ss, uint64_t seq, uint32_t window);
void mt_stream_credits_in_locked(mt_serve_stream *ss,
                                 const Manta__V1__TaskBatch *batch);
/* ss closed: its producers stop at their next emit. */
void mt_stream_links_closed_locked(mt_serve_stream *ss);

/* wire.c */
manta_err mt_wire_encode_value(const manta_value *v, ProtobufCBinaryData *out);
manta_value *mt_wire_decode_value(const ProtobufCBinaryData *in,
                                  const char *what);
/* Packs msg with protobuf-c into a malloc'd buffer. */
bool mt_wire_pack(const ProtobufCMessage *msg, mt_tp_buf *out);
void mt_wire_free_binaries(ProtobufCBinaryData *items, size_t n);
/* Resources of a demand or a node, as messages (free with
 * mt_wire_resources_free). */
Manta__V1__Resource **mt_wire_resources(const char names[][64],
                                        const double *total,
                                        const double *avail, int n);
void mt_wire_resources_free(Manta__V1__Resource **r, size_t n);
void mt_wire_node_info_free(Manta__V1__NodeInfo *info);
void mt_wire_node_load_free(Manta__V1__NodeLoad *load);
/* A TaskBatch from a stream; NULL (the stream closed, the log says
 * why) when the bytes are not one. */
Manta__V1__TaskBatch *mt_wire_batch(mt_tp_stream *s, const uint8_t *body,
                                    size_t len);
/* A status reply as the manta value manta_cluster_status describes. */
manta_value *mt_wire_status_value(const Manta__V1__ClusterStatusReply *r);
/* A 16-byte object or actor id (ObjectRef.id, ActorRef.id) as
 * mt_wire_id_split reads it; false (and zeros) unless it has 16 bytes. */
bool mt_wire_id_get(const ProtobufCBinaryData *wire, uint64_t *node,
                    uint64_t *id);
/* A hex node id, 16 digits. */
void mt_wire_node_id_hex(uint64_t id, char buf[17]);

#endif
