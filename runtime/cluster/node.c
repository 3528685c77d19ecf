/* A node's life in a cluster: its server, its registration with the head,
 * the heartbeat thread that keeps it alive there and brings back the view
 * of the other nodes. */
#include "cluster.h"
#include "local_state.h"
#include "loopback.h"
#include "tls_hint.h"
#include "transfer_stats.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

mt_cluster mt_cl;

static int64_t env_ms(const char *name, int64_t dflt) {
  const char *s = getenv(name);
  long long v = s && *s ? atoll(s) : 0;
  return v > 0 ? (int64_t)v : dflt;
}

/* ---- what this node says of itself -------------------------------------- */

static int cmp_str(const void *a, const void *b) {
  return strcmp(*(char *const *)a, *(char *const *)b);
}

/* The registered names, sorted (status output reads best that way). */
static char **names_of(const mt_strmap *m, size_t *n) {
  char **out = calloc(m->len + 1, sizeof *out);
  size_t k = 0, pos = 0;
  const char *key;
  void *val;
  while (out && mt_strmap_next(m, &pos, &key, &val)) {
    out[k] = strdup(key);
    k += out[k] != NULL;
  }
  if (out) {
    qsort(out, k, sizeof *out, cmp_str);
  }
  *n = k;
  return out;
}

Manta__V1__NodeInfo *mt_node_info_build(void) {
  Manta__V1__NodeInfo *info = calloc(1, sizeof *info);
  if (!info) {
    return NULL;
  }
  manta__v1__node_info__init(info);
  char host[256] = "";
  gethostname(host, sizeof host - 1);
  info->hostname = strdup(host);
  info->address = strdup(mt_cl.address);
  info->is_driver = mt_cl.role == MANTA_ROLE_DRIVER;
  info->pid = (int64_t)getpid();
  int port;
  if (manta_metrics_port(&port) == MANTA_OK) {
    /* The HTTP server listens on the host of this node's bind, with TLS
     * when the node has it. */
    const char *colon = strrchr(mt_cl.address, ':');
    char buf[160];
    snprintf(buf, sizeof buf, "%s://%.*s:%d/metrics",
             mt_cl.tp_tls.cert ? "https" : "http",
             (int)(colon ? colon - mt_cl.address : 0), mt_cl.address, port);
    info->metrics_address = strdup(buf);
  }
  mt_lock();
  info->node_id = mt_rt.node_id;
  info->functions = names_of(&mt_rt.functions, &info->n_functions);
  info->classes = names_of(&mt_rt.classes, &info->n_classes);
  info->resources =
      mt_wire_resources((const char(*)[64])mt_rt.res_names, mt_rt.res_total,
                        mt_rt.res_avail, mt_rt.nres);
  info->n_resources = info->resources ? (size_t)mt_rt.nres : 0;
  mt_cl.advertised_registry = mt_rt.registry_version;
  mt_unlock();
  return info;
}

Manta__V1__NodeLoad *mt_node_load_build(void) {
  Manta__V1__NodeLoad *load = calloc(1, sizeof *load);
  if (!load) {
    return NULL;
  }
  manta__v1__node_load__init(load);
  mt_lock();
  load->resources =
      mt_wire_resources((const char(*)[64])mt_rt.res_names, mt_rt.res_total,
                        mt_rt.res_avail, mt_rt.nres);
  load->n_resources = load->resources ? (size_t)mt_rt.nres : 0;
  load->tasks_queued = mt_rt.tasks_queued;
  load->tasks_running = mt_rt.tasks_running;
  mt_cl.reported_busy = mt_rt.tasks_queued + mt_rt.tasks_running > 0;
  load->tasks_finished = mt_rt.tasks_finished;
  load->actors = mt_rt.live_actors;
  mt_unlock();
  return load;
}

/* ---- the view ------------------------------------------------------------ */

static char **copy_sorted(char **items, size_t n) {
  char **out = calloc(n + 1, sizeof *out);
  for (size_t i = 0; out && i < n; i++) {
    out[i] = strdup(items[i] ? items[i] : "");
  }
  if (out) {
    qsort(out, n, sizeof *out, cmp_str);
  }
  return out;
}

static void free_strings(char **items, size_t n) {
  for (size_t i = 0; items && i < n; i++) {
    free(items[i]);
  }
  free(items);
}

static void view_free(mt_view_node *v, size_t n) {
  for (size_t i = 0; i < n; i++) {
    free_strings(v[i].functions, v[i].nfunctions);
    free_strings(v[i].classes, v[i].nclasses);
  }
  free(v);
}

const mt_view_node *mt_view_find_locked(uint64_t node_id) {
  uintptr_t i = (uintptr_t)mt_u64map_get(&mt_cl.view_index, node_id);
  return i ? &mt_cl.view[i - 1] : NULL;
}

/* Whether the node is alive in this node's view (placement groups ask). */
static bool node_alive_locked(uint64_t node_id) {
  const mt_view_node *v = mt_view_find_locked(node_id);
  return v && v->alive;
}

/* A new view (or none): its index by node id, and a new generation. */
static void view_indexed_locked(void) {
  mt_u64map_free(&mt_cl.view_index);
  for (size_t i = 0; i < mt_cl.nview; i++) {
    uint64_t id = mt_cl.view[i].node_id;
    if (id && id != UINT64_MAX &&
        !mt_u64map_put(&mt_cl.view_index, id, (void *)(uintptr_t)(i + 1))) {
      mt_log(MT_LOG_ERROR, "cluster: out of memory indexing the view");
      break;
    }
  }
  mt_cl.view_gen++;
}

/*
 * A node the new view lacks is suspected, not dead: a head that restarted
 * lists only the nodes that registered with it again so far. It stays in
 * the view, alive, until it has been missing for the time after which the
 * head would declare a silent node dead; then it is dropped, which makes it
 * dead here. A node the head lists as dead is dead at once. Moves the kept
 * entries' arrays out of old; returns the new count.
 */
static size_t carry_missing_locked(mt_view_node **v, size_t k,
                                   mt_view_node *old, size_t nold) {
  int64_t now = mt_now_ms();
  for (size_t i = 0; i < nold; i++) {
    mt_view_node *o = &old[i];
    bool listed = false;
    for (size_t j = 0; j < k && !listed; j++) {
      listed = (*v)[j].node_id == o->node_id;
    }
    if (listed || !o->alive || o->node_id == mt_rt.node_id) {
      continue;
    }
    int64_t since = o->missing_since_ms ? o->missing_since_ms : now;
    if (now - since > mt_cl.dead_after_ms) {
      continue;
    }
    mt_view_node *grown = realloc(*v, (k + 2) * sizeof **v);
    if (!grown) {
      break; /* it goes missing for good a little early */
    }
    *v = grown;
    (*v)[k] = *o;
    (*v)[k].missing_since_ms = since;
    memset(&(*v)[k + 1], 0, sizeof **v);
    o->functions = o->classes = NULL; /* moved */
    o->nfunctions = o->nclasses = 0;
    if (!o->missing_since_ms) {
      mt_log(MT_LOG_WARN,
             "cluster: node %016llx (%s) is missing from the head's view; "
             "kept for up to %lld ms",
             (unsigned long long)o->node_id, o->address,
             (long long)mt_cl.dead_after_ms);
    }
    k++;
  }
  return k;
}

void mt_view_update(Manta__V1__NodeStatus **nodes, size_t n) {
  mt_view_node *v = calloc(n + 1, sizeof *v);
  if (!v) {
    return; /* keep the old view */
  }
  size_t k = 0;
  for (size_t i = 0; i < n; i++) {
    const Manta__V1__NodeInfo *info = nodes[i]->info;
    if (!info || !info->address) {
      continue;
    }
    mt_view_node *vn = &v[k++];
    vn->node_id = info->node_id;
    snprintf(vn->address, sizeof vn->address, "%s", info->address);
    vn->alive = nodes[i]->state == MANTA__V1__NODE_STATE__NODE_STATE_ALIVE;
    const Manta__V1__NodeLoad *load = nodes[i]->load;
    Manta__V1__Resource **r =
        load && load->n_resources ? load->resources : info->resources;
    size_t nr =
        load && load->n_resources ? load->n_resources : info->n_resources;
    for (size_t j = 0; j < nr && vn->nres < MT_MAX_RESOURCES; j++) {
      snprintf(vn->res_names[vn->nres], 64, "%s", r[j]->name);
      vn->res_total[vn->nres] = r[j]->total;
      vn->res_avail[vn->nres++] = r[j]->available;
    }
    vn->functions = copy_sorted(info->functions, info->n_functions);
    vn->nfunctions = vn->functions ? info->n_functions : 0;
    vn->classes = copy_sorted(info->classes, info->n_classes);
    vn->nclasses = vn->classes ? info->n_classes : 0;
    vn->queued = load ? load->tasks_queued : 0;
    vn->running = load ? load->tasks_running : 0;
    vn->actors = load ? load->actors : 0;
    vn->heartbeat_ms_ago = nodes[i]->last_heartbeat_ms_ago;
    vn->view_at_ms = mt_now_ms();
  }
  mt_lock();
  mt_view_node *old = mt_cl.view;
  size_t nold = mt_cl.nview;
  k = carry_missing_locked(&v, k, old, nold);
  mt_cl.view = v;
  mt_cl.nview = k;
  view_indexed_locked();
  mt_peers_view_changed_locked();
  mt_unlock();
  view_free(old, nold);
}

/* ---- registration and heartbeats ---------------------------------------- */

static manta_err register_with_head(void) {
  Manta__V1__NodeInfo *info = mt_node_info_build();
  if (!info) {
    return MANTA_ERR_NOMEM;
  }
  if (mt_cl.dir) {
    mt_directory_register_self(mt_cl.dir, info);
    mt_wire_node_info_free(info);
    return MANTA_OK;
  }
  Manta__V1__RegisterRequest req = MANTA__V1__REGISTER_REQUEST__INIT;
  req.protocol = MT_PROTOCOL_VERSION;
  req.node = info;
  mt_tp_buf body, reply = {0};
  bool packed = mt_wire_pack(&req.base, &body);
  mt_wire_node_info_free(info);
  if (!packed) {
    return MANTA_ERR_NOMEM;
  }
  char detail[300], hint[600] = "";
  int st = mt_tp_unary_sync(mt_cl.head, MT_HEAD_REGISTER, body.data, body.len,
                            5000, &reply, detail, sizeof detail);
  free(body.data);
  if (st != MT_TP_OK) {
    /* "unreachable" hides the usual cause of a head that listens but will
     * not talk: one side uses TLS and the other not, or another CA. */
    if (st == MT_TP_UNAVAILABLE) {
      mt_tls_hint(mt_cl.head_address, &mt_cl.tp_tls, hint, sizeof hint);
    }
    mt_log(MT_LOG_ERROR, "cluster: cannot register with the head at %s: %s%s%s",
           mt_cl.head_address, detail[0] ? detail : "unreachable",
           hint[0] ? ": " : "", hint);
    return st == MT_TP_UNAUTHENTICATED ? MANTA_ERR_INVALID
                                       : MANTA_ERR_NODE_DIED;
  }
  Manta__V1__RegisterReply *r =
      manta__v1__register_reply__unpack(NULL, reply.len, reply.data);
  free(reply.data);
  if (!r) {
    mt_log(MT_LOG_ERROR, "cluster: malformed reply from the head at %s",
           mt_cl.head_address);
    return MANTA_ERR_MALFORMED;
  }
  manta__v1__register_reply__free_unpacked(r, NULL);
  return MANTA_OK;
}

/* Whether the view keeps a node the head's table lacks (carry_missing). */
static bool view_has_missing(void) {
  bool missing = false;
  mt_lock();
  for (size_t i = 0; i < mt_cl.nview && !missing; i++) {
    missing = mt_cl.view[i].missing_since_ms != 0;
  }
  mt_unlock();
  return missing;
}

/* A reply that changed nothing still says the head holds every live node
 * of the view alive: their heartbeat ages count from now (a dead node's
 * keeps growing). */
static void view_confirm(void) {
  int64_t now = mt_now_ms();
  mt_lock();
  for (size_t i = 0; i < mt_cl.nview; i++) {
    if (mt_cl.view[i].alive) {
      mt_cl.view[i].view_at_ms = now;
    }
  }
  mt_unlock();
}

/* After a move to another head of the list: registers there (again on
 * each heartbeat until it answers) and announces this node's named
 * actors, even if the head already has the node from the store. */
static void head_moved_register(void) {
  if (register_with_head() == MANTA_OK) {
    /* A warning, as the failure before it: the move is worth seeing. */
    mt_log(MT_LOG_WARN, "cluster: registered with the head at %s",
           mt_cl.head_address);
    mt_cl.head_moved = false;
    mt_actor_names_reannounce();
  }
}

/* Makes heads[i] the head: calls started after this go there. */
static void use_head(size_t i) {
  mt_cl.cur_head = i;
  __atomic_store_n(&mt_cl.head_address, mt_cl.heads[i], __ATOMIC_RELEASE);
  __atomic_store_n(&mt_cl.head, mt_cl.head_channels[i], __ATOMIC_RELEASE);
}

/* The head stopped answering: with a list, the next one in turn is asked
 * to take this node (a standby head on the same store). One step per
 * heartbeat, so heads that come back later are found on a later round. */
static void head_failover(void) {
  if (mt_cl.nheads < 2) {
    return;
  }
  size_t next = (mt_cl.cur_head + 1) % mt_cl.nheads;
  mt_log(MT_LOG_WARN, "cluster: the head at %s does not answer; trying %s",
         mt_cl.head_address, mt_cl.heads[next]);
  use_head(next);
  mt_cl.head_moved = true;
  head_moved_register();
}

/* Whether load is the one the last heartbeat reported (kept for the
 * next comparison). */
static bool load_same(const Manta__V1__NodeLoad *load) {
  mt_tp_buf b;
  if (!load || !mt_wire_pack(&load->base, &b)) {
    return false;
  }
  bool same = mt_cl.last_load.data && b.len == mt_cl.last_load.len &&
              memcmp(b.data, mt_cl.last_load.data, b.len) == 0;
  free(mt_cl.last_load.data);
  mt_cl.last_load = b;
  return same;
}

/* Calls this node sent to others and has not heard back about: a node
 * waiting for work it sent away is not at rest (its view of the others'
 * loads must stay fresh while it places more). */
static bool calls_out_locked(void) {
  for (mt_peer *p = mt_cl.peers; p; p = p->next) {
    if (p->pending.len > 0) {
      return true;
    }
  }
  return false;
}

/* Whether a node at rest has something the head and the other nodes
 * should hear before its next heartbeat at rest: work here or sent away,
 * a task finished, a call to the head, something new to advertise, a
 * wait for a view. Cheap: looked at every heartbeat interval at rest. */
static bool stirred(void) {
  mt_lock();
  bool busy = mt_rt.tasks_queued + mt_rt.tasks_running > 0 ||
              mt_rt.tasks_finished != mt_cl.beat_finished ||
              mt_cl.head_calls_made != mt_cl.head_calls_seen ||
              mt_rt.registry_version != mt_cl.advertised_registry ||
              mt_cl.nview_waits > 0 || mt_cl.nfetch_waits > 0 ||
              calls_out_locked();
  mt_unlock();
  return busy;
}

static int quiet_beats_next(int n) {
  return n < MT_QUIET_BEATS ? n + 1 : n;
}

/* One heartbeat: reports load, brings back the view. Counts the
 * heartbeats in a row that changed nothing (mt_cl.quiet_beats). */
static void heartbeat_once(void) {
  mt_lock();
  bool changed = mt_rt.registry_version != mt_cl.advertised_registry;
  /* Calls to the head since the last heartbeat (names, placement groups
   * polled, Serve routes): the node is not at rest. */
  bool called = mt_cl.head_calls_made != mt_cl.head_calls_seen;
  mt_cl.head_calls_seen = mt_cl.head_calls_made;
  bool calls_out = calls_out_locked();
  mt_unlock();
  if (changed) {
    register_with_head(); /* re-advertises what this node offers */
  }
  Manta__V1__HeartbeatRequest req = MANTA__V1__HEARTBEAT_REQUEST__INIT;
  req.node_id = mt_rt.node_id;
  req.load = mt_node_load_build();
  bool same = load_same(req.load); /* also keeps it for the next */
  bool quiet = same && !changed && !called && !calls_out &&
               req.load->tasks_queued + req.load->tasks_running == 0;
  if (req.load) {
    mt_lock();
    mt_cl.beat_finished = req.load->tasks_finished;
    mt_unlock();
  }
  int quiet_before = mt_cl.quiet_beats;
  mt_cl.quiet_beats = 0; /* unless the reply changes nothing either */
  /* The head waits this much longer before it declares this node dead:
   * the interval at rest, if this heartbeat may be the one after which
   * the node rests (heartbeat_wait_ms never waits longer than said). */
  req.next_within_ms = quiet && quiet_before + 1 >= MT_QUIET_BEATS
                           ? mt_cl.rest_ms
                           : mt_cl.heartbeat_ms;
  req.known_view = mt_cl.table.view; /* the head answers what changed */
  req.known_epoch = mt_cl.table.epoch;
  Manta__V1__HeartbeatReply *r = NULL;
  if (mt_cl.dir) {
    r = mt_directory_heartbeat(mt_cl.dir, &req);
  } else {
    mt_tp_buf body, reply = {0};
    char detail[300];
    if (mt_wire_pack(&req.base, &body)) {
      int st = mt_heartbeat_link_call(mt_cl.head, body.data, body.len,
                                      mt_cl.dead_after_ms / 2, &reply, detail,
                                      sizeof detail);
      free(body.data);
      if (st == MT_TP_OK) {
        r = manta__v1__heartbeat_reply__unpack(NULL, reply.len, reply.data);
      } else {
        mt_log(MT_LOG_WARN, "cluster: heartbeat to the head at %s failed: %s",
               mt_cl.head_address, detail);
      }
      if (st == MT_TP_UNAVAILABLE || st == MT_TP_DEADLINE_EXCEEDED) {
        free(reply.data);
        mt_wire_node_load_free(req.load);
        head_failover();
        return;
      }
      free(reply.data);
    }
  }
  mt_wire_node_load_free(req.load);
  if (!r) {
    return;
  }
  if (mt_cl.head_moved) {
    head_moved_register(); /* the new head answers now */
  }
  if (!r->known) {
    mt_log(MT_LOG_WARN, "cluster: the head no longer knows this node; "
                        "registering again");
    if (register_with_head() == MANTA_OK) {
      mt_actor_names_reannounce();
    }
  } else {
    /* Unchanged, the view is only confirmed: a node at rest does no O(N)
     * work per heartbeat. Nodes kept while missing are looked at again
     * until they are back or dropped. */
    bool changed = mt_view_table_apply(&mt_cl.table, r) || view_has_missing();
    mt_cl.quiet_beats = quiet && !changed ? quiet_beats_next(quiet_before) : 0;
    mt_cl.rest_ok = r->rest_ok;
    if (changed) {
      mt_view_update(mt_cl.table.nodes, mt_cl.table.n);
    } else {
      view_confirm();
    }
    mt_garbage g;
    mt_garbage_init(&g);
    mt_lock();
    mt_tp_channel **closing = mt_peers_check_locked(&g);
    if (changed) {
      mt_borrows_check_locked(&g); /* the view changed */
    }
    mt_actors_remote_check_locked(&g);
    mt_unlock();
    mt_garbage_free(&g);
    for (size_t i = 0; closing && closing[i]; i++) {
      mt_tp_channel_close(closing[i]);
    }
    free(closing);
  }
  protobuf_c_message_free_unpacked(&r->base, NULL);
  /* Calls waiting for a group not reserved yet; groups with a bundle on a
   * node gone. */
  mt_pgs_poll_queued(node_alive_locked);
}

/* How long until the next heartbeat: the interval, or the longer one at
 * rest. The head heartbeats itself in-process at no cost, and its
 * placement groups are worked on at each of its heartbeats: it keeps
 * the interval. */
static int64_t heartbeat_wait_ms(void) {
  if (mt_cl.dir || mt_cl.quiet_beats < MT_QUIET_BEATS) {
    return mt_cl.heartbeat_ms;
  }
  /* (A call waiting for a view or a fetch stirs the node: the loop
   * heartbeats after one interval, stirred().) A head that does not wait longer
   * for a node at rest (heartbeats sent as unary calls, or an older head) still
   * gets three heartbeats per dead-after time. */
  int64_t rest = mt_cl.rest_ms;
  if (!mt_cl.rest_ok && rest > mt_cl.dead_after_ms / 3) {
    rest = mt_cl.dead_after_ms / 3;
  }
  return rest < mt_cl.heartbeat_ms ? mt_cl.heartbeat_ms : rest;
}

void mt_heartbeat_soon_locked(void) {
  pthread_mutex_lock(&mt_cl.hb_mu);
  mt_cl.hb_soon = true; /* also if the loop is not waiting yet */
  pthread_cond_signal(&mt_cl.hb_cv);
  pthread_mutex_unlock(&mt_cl.hb_mu);
}

/* The node went idle. If its last heartbeat said it was busy, the head (and
 * through it every node choosing where to send work) would take it for busy
 * until the next one: send that now. At most once per heartbeat that saw it
 * busy, so a node going idle after every task does not beat per task. */
void mt_node_idle_locked(void) {
  if (mt_cl.reported_busy) {
    mt_cl.reported_busy = false;
    mt_heartbeat_soon_locked();
  }
}

static void *heartbeat_loop(void *arg) {
  (void)arg;
  pthread_mutex_lock(&mt_cl.hb_mu);
  while (!mt_cl.hb_stop) {
    struct timespec ts;
    pthread_mutex_unlock(&mt_cl.hb_mu);
    int64_t wait_ms = heartbeat_wait_ms();
    pthread_mutex_lock(&mt_cl.hb_mu);
    /* At rest the wait is cut into heartbeat intervals, and a node that
     * stirred (stirred()) heartbeats at the end of the interval it did, as
     * it would have when busy: only the messages are fewer at rest. */
    for (int64_t left = wait_ms; !mt_cl.hb_soon && !mt_cl.hb_stop;) {
      int64_t slice = left < mt_cl.heartbeat_ms ? left : mt_cl.heartbeat_ms;
      mt_deadline(slice, &ts);
      int rc = pthread_cond_timedwait(&mt_cl.hb_cv, &mt_cl.hb_mu, &ts);
      left -= slice;
      if (rc != ETIMEDOUT || left <= 0) {
        break;
      }
      pthread_mutex_unlock(&mt_cl.hb_mu);
      bool stir = stirred();
      pthread_mutex_lock(&mt_cl.hb_mu);
      if (stir) {
        break;
      }
    }
    if (mt_cl.hb_stop) {
      break;
    }
    pthread_mutex_unlock(&mt_cl.hb_mu);
    heartbeat_once();
    mt_view_waits_retry(); /* also when the head did not answer: bounded */
    mt_fetch_retry_waiting();
    if (mt_cl.dir) {
      mt_directory_pg_tick(mt_cl.dir); /* placement groups (head/pg_head.c) */
    }
    pthread_mutex_lock(&mt_cl.hb_mu);
    /* Asked for while this heartbeat ran: it answered that (a fetch that
     * failed again asks at each one; that must not beat in a loop). Asked
     * for from here on (while heartbeat_wait_ms looks): not lost. */
    mt_cl.hb_soon = false;
  }
  pthread_mutex_unlock(&mt_cl.hb_mu);
  return NULL;
}

/* ---- calls to the head from other threads --------------------------------
 */

bool mt_head_enter(void) {
  mt_lock();
  bool ok = mt_rt.cluster && !mt_cl.stopping;
  mt_cl.head_calls += ok;
  mt_cl.head_calls_made += ok;
  mt_unlock();
  return ok;
}

void mt_head_exit(void) {
  mt_lock();
  if (--mt_cl.head_calls == 0) {
    pthread_cond_broadcast(&mt_cl.head_cv);
  }
  mt_unlock();
}

/* ---- start and stop --------------------------------------------------------
 */

/* The address others reach this node at, from the bind address and the
 * port gRPC picked. */
static void advertised_address(const char *bind, int port, char *out,
                               size_t size) {
  const char *ip = getenv("MANTA_NODE_IP");
  char host[128];
  const char *colon = strrchr(bind, ':');
  size_t hlen = (size_t)(colon - bind);
  snprintf(host, sizeof host, "%.*s", (int)hlen, bind);
  if (ip && *ip) {
    snprintf(host, sizeof host, "%s", ip);
  } else if (strcmp(host, "0.0.0.0") == 0 || strcmp(host, "[::]") == 0 ||
             host[0] == '\0') {
    gethostname(host, sizeof host - 1);
  }
  /* An address field holds 64 bytes: the host gets at most 50. */
  snprintf(out, size, "%.50s:%d", host, port);
}

static void cluster_cleanup(void) {
  /* Calls to the head under way end first (each has a deadline). */
  mt_lock();
  mt_cl.stopping = true;
  while (mt_cl.head_calls > 0) {
    mt_cond_wait(&mt_cl.head_cv, NULL);
  }
  mt_unlock();
  mt_peers_close_all();
  mt_tp_server_stop(mt_cl.server);
  mt_heartbeat_link_stop(); /* its stream goes before its channel */
  for (size_t i = 0; i < mt_cl.nheads; i++) {
    mt_tp_channel_close(mt_cl.head_channels[i]);
  }
  mt_cl.head = NULL;
  mt_directory_free(mt_cl.dir);
  mt_fetch_retry_waiting(); /* fails them all: stopping */
  mt_garbage g;
  mt_garbage_init(&g);
  mt_lock();
  mt_rebuild_stop_locked(&g);
  mt_remote_objects_stop_locked();
  mt_lineage_stop_locked(&g);
  mt_rt.cluster = NULL;
  mt_actors_remote_stop_locked(&g);
  view_free(mt_cl.view, mt_cl.nview);
  mt_view_table_free(&mt_cl.table);
  mt_cl.view = NULL;
  mt_cl.nview = 0;
  view_indexed_locked();
  mt_u64map_free(&mt_cl.view_index);
  mt_spread_forget_locked();
  mt_unlock();
  mt_garbage_free(&g);
  free(mt_cl.token);
  free(mt_cl.last_load.data);
  mt_tls_free(&mt_cl.tls);
  pthread_mutex_destroy(&mt_cl.hb_mu);
  pthread_cond_destroy(&mt_cl.hb_cv);
  pthread_cond_destroy(&mt_cl.head_cv);
  mt_tp_stop();
  memset(&mt_cl, 0, sizeof mt_cl);
}

/*
 * The bind rule (docs/security.md): every node serves, so with TLS on it
 * needs its own certificate; beyond loopback (decided by address:
 * "127.evil.example" is a name like any other) it needs a token given on
 * purpose and TLS, unless cleartext was asked for with --insecure.
 */
static bool bind_allowed(const char *bind, mt_token_origin origin,
                         int insecure_opt) {
  bool tls = mt_cl.tls.cert != NULL;
  if (mt_tls_on(&mt_cl.tls) && !tls) {
    mt_log(MT_LOG_ERROR,
           "cluster: TLS needs this node's certificate and key too "
           "(--tls-cert and --tls-key, MANTA_TLS_CERT and MANTA_TLS_KEY): "
           "every node serves the others; a CA alone is for clients such as "
           "manta status");
    return false;
  }
  if (mt_bind_is_loopback(bind, NULL)) {
    return true;
  }
  /* Reachable from other hosts: the operator chooses the token and hands
   * it out; the state folder's is for this machine's own use. */
  if (origin != MT_TOKEN_GIVEN) {
    mt_log(MT_LOG_ERROR,
           "cluster: binding %s (not loopback) needs a cluster token given "
           "on purpose (--token-file, MANTA_TOKEN_FILE or MANTA_TOKEN)%s",
           bind,
           tls ? ""
               : " and TLS (--tls-cert/--tls-key/--tls-ca or MANTA_TLS_*)");
    return false;
  }
  if (tls) {
    return true;
  }
  if (!mt_tls_insecure(insecure_opt)) {
    mt_log(MT_LOG_ERROR,
           "cluster: binding %s (not loopback) needs TLS, or calls and the "
           "token would cross the network in clear text: give "
           "--tls-cert, --tls-key and --tls-ca (MANTA_TLS_CERT, "
           "MANTA_TLS_KEY, MANTA_TLS_CA; scripts/tls-generate.sh makes "
           "them), or accept clear text on purpose with --insecure "
           "(MANTA_INSECURE=1)",
           bind);
    return false;
  }
  mt_log(MT_LOG_WARN,
         "cluster: serving on %s (not loopback) without TLS, as --insecure "
         "(MANTA_INSECURE=1) allows: calls and the token cross the network "
         "in clear text",
         bind);
  return true;
}

/* The head's durable store, if one is named (option, else
 * MANTA_HEAD_STORE): its state is taken back before the head serves
 * (docs/head-store.md). False, logged, when it cannot be used. */
static bool open_head_store(const manta_options *opts, const char *bind) {
  const char *url =
      opts && opts->head_store ? opts->head_store : getenv("MANTA_HEAD_STORE");
  const char *name = opts && opts->cluster_name ? opts->cluster_name
                                                : getenv("MANTA_CLUSTER_NAME");
  if (!url || !*url) {
    return true; /* none: the state lives in the head's memory only */
  }
  char why[700];
  if (!mt_directory_open_store(mt_cl.dir, url, name, bind, why, sizeof why)) {
    mt_log(MT_LOG_ERROR, "cluster: the head's store: %s", why);
    return false;
  }
  return true;
}

manta_err mt_cluster_start(const manta_options *opts, const char *address) {
  memset(&mt_cl, 0, sizeof mt_cl);
  mt_transfer_reset(); /* /metrics counts from this start */
  mt_cl.role = opts ? opts->role : MANTA_ROLE_DRIVER;
  const char *bind = opts && opts->bind ? opts->bind : "127.0.0.1:0";
  if (mt_cl.role != MANTA_ROLE_HEAD && !(address && *address)) {
    mt_log(MT_LOG_ERROR, "cluster: a node needs the head's address");
    return MANTA_ERR_INVALID;
  }
  if (mt_cl.role != MANTA_ROLE_HEAD) {
    char bad[300];
    if (!mt_head_list_parse(address, mt_cl.heads, MT_HEADS_MAX, &mt_cl.nheads,
                            bad, sizeof bad)) {
      mt_log(MT_LOG_ERROR, "cluster: the head's address '%s': %s", address,
             bad);
      mt_cl.nheads = 0;
      return MANTA_ERR_INVALID;
    }
  }
  /* Every cluster has a token, loopback too: other local users reach
   * loopback ports as well. */
  char source[4400], why[1400];
  mt_token_origin origin;
  bool head = mt_cl.role == MANTA_ROLE_HEAD;
  if (!mt_token_resolve(opts ? opts->token : NULL, head, &mt_cl.token, &origin,
                        source, sizeof source, why, sizeof why)) {
    mt_log(MT_LOG_ERROR, "cluster: no usable cluster token: %s", why);
    return MANTA_ERR_INVALID;
  }
  if (!mt_tls_resolve(opts ? &opts->tls : NULL, &mt_cl.tls, why, sizeof why)) {
    mt_log(MT_LOG_ERROR, "cluster: %s", why);
    free(mt_cl.token);
    mt_cl.token = NULL;
    return MANTA_ERR_INVALID;
  }
  if (!bind_allowed(bind, origin, opts ? opts->insecure : -1)) {
    free(mt_cl.token);
    mt_cl.token = NULL;
    mt_tls_free(&mt_cl.tls);
    return MANTA_ERR_INVALID;
  }
  mt_cl.tp_tls = (mt_tp_tls){mt_cl.tls.cert, mt_cl.tls.key, mt_cl.tls.ca};
  if (!mt_cl.token) {
    /* It can only be refused: saying where none was found tells the user
     * what to do. */
    mt_log(MT_LOG_WARN,
           "cluster: no cluster token (none given, MANTA_TOKEN and "
           "MANTA_TOKEN_FILE unset, no %s): the head will refuse this "
           "process unless this user started it",
           source);
  }
  mt_cl.heartbeat_ms = env_ms("MANTA_HEARTBEAT_MS", MT_HEARTBEAT_MS);
  mt_cl.dead_after_ms = env_ms("MANTA_DEAD_AFTER_MS", MT_DEAD_AFTER_MS);
  mt_cl.rest_ms = env_ms("MANTA_HEARTBEAT_REST_MS", MT_HEARTBEAT_REST_MS);
  if (mt_cl.rest_ms < mt_cl.heartbeat_ms) {
    mt_cl.rest_ms = mt_cl.heartbeat_ms;
  }
  mt_lineage_start();
  pthread_mutex_init(&mt_cl.hb_mu, NULL);
  mt_cond_init(&mt_cl.hb_cv);
  mt_heartbeat_link_start();
  pthread_cond_init(&mt_cl.head_cv, NULL);
  if (!mt_tp_start()) {
    free(mt_cl.token);
    mt_tls_free(&mt_cl.tls);
    pthread_cond_destroy(&mt_cl.head_cv);
    return MANTA_ERR_INTERNAL;
  }
  mt_cl.on = true;
  if (mt_cl.role == MANTA_ROLE_HEAD) {
    mt_cl.dir = mt_directory_new(mt_rt.node_id, mt_cl.heartbeat_ms,
                                 mt_cl.dead_after_ms);
    if (!mt_cl.dir) {
      cluster_cleanup();
      return MANTA_ERR_NOMEM;
    }
    if (!open_head_store(opts, bind)) {
      cluster_cleanup();
      return MANTA_ERR_INVALID;
    }
  }
  int port = 0;
  mt_cl.server = mt_tp_server_start(bind, &mt_node_service, mt_cl.token,
                                    &mt_cl.tp_tls, &port);
  if (!mt_cl.server) {
    mt_log(MT_LOG_ERROR, "cluster: cannot serve on %s (port taken?)", bind);
    cluster_cleanup();
    return MANTA_ERR_INVALID;
  }
  advertised_address(bind, port, mt_cl.address, sizeof mt_cl.address);
  mt_task_set_node(mt_rt.node_id, mt_cl.address);
  if (mt_cl.dir) {
    mt_cl.head_address = mt_cl.address;
    mt_directory_store_address(mt_cl.dir, mt_cl.address); /* its port now */
  } else {
    for (size_t i = 0; i < mt_cl.nheads; i++) {
      mt_cl.head_channels[i] =
          mt_tp_channel_open(mt_cl.heads[i], mt_cl.token, &mt_cl.tp_tls);
    }
    use_head(0);
  }
  mt_actors_remote_start();
  mt_lock();
  mt_rt.cluster = &mt_cluster_routing;
  mt_unlock();
  /* With a list, the first head that answers takes this node. A refused
   * token is final: the others share it. */
  manta_err err = register_with_head();
  for (size_t i = 1; i < mt_cl.nheads && err == MANTA_ERR_NODE_DIED; i++) {
    use_head(i);
    err = register_with_head();
  }
  if (err != MANTA_OK) {
    cluster_cleanup();
    return err;
  }
  heartbeat_once(); /* a view before the first task is routed */
  if (pthread_create(&mt_cl.heartbeat_thread, NULL, heartbeat_loop, NULL) !=
      0) {
    cluster_cleanup();
    return MANTA_ERR_NOMEM;
  }
  static const char *roles[] = {"driver", "node", "head"};
  mt_log(MT_LOG_INFO, "cluster: %s %016llx serving on %s, head %s",
         roles[mt_cl.role], (unsigned long long)mt_rt.node_id, mt_cl.address,
         mt_cl.head_address);
  return MANTA_OK;
}

void mt_cluster_stop(void) {
  if (!mt_cl.on) {
    return;
  }
  pthread_mutex_lock(&mt_cl.hb_mu);
  mt_cl.hb_stop = true;
  pthread_cond_signal(&mt_cl.hb_cv);
  pthread_mutex_unlock(&mt_cl.hb_mu);
  pthread_join(mt_cl.heartbeat_thread, NULL);
  if (mt_cl.head) {
    /* Leaving on purpose: the head tells the others now, not after the
     * heartbeat timeout. Best effort. */
    Manta__V1__UnregisterRequest req = MANTA__V1__UNREGISTER_REQUEST__INIT;
    req.node_id = mt_rt.node_id;
    mt_tp_buf body;
    if (mt_wire_pack(&req.base, &body)) {
      mt_tp_unary_sync(mt_cl.head, MT_HEAD_UNREGISTER, body.data, body.len,
                       1000, NULL, NULL, 0);
      free(body.data);
    }
  }
  cluster_cleanup();
}

const mt_cluster_seam mt_cluster_node_seam = {mt_cluster_start,
                                              mt_cluster_stop};
