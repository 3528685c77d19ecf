/* Gathering the cluster's document (api_gather.h). */
#include "api_gather.h"

#include "api_cluster.h"
#include "api_routes.h"
#include "cluster.h"
#include "local_state.h"
#include "tls.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

static int64_t wall_ms(void) {
  struct timespec ts;
  clock_gettime(CLOCK_REALTIME, &ts);
  return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* This node's answer for path, parsed; NULL with why. */
static json_t *local_doc(const char *path, char **why) {
  mt_http_reply r = {.status = 200, .content_type = "application/json"};
  mt_api_local(path, &r);
  json_t *doc = NULL;
  if (r.body && r.status == 200) {
    doc = json_loadb(r.body, r.len, 0, NULL);
  }
  if (!doc) {
    char msg[200];
    snprintf(msg, sizeof msg, "this node answered %d", r.status);
    *why = strdup(msg);
  }
  free(r.body);
  return doc;
}

/* The answers of the nodes asked, filled by their completions. */
typedef struct asking {
  pthread_mutex_t mu;
  pthread_cond_t cv;
  size_t pending;
} asking;

typedef struct answer {
  asking *all;
  json_t *doc;
  char *why;
  const char *address;
} answer;

static void on_observed(void *arg, int status, const char *detail,
                        const uint8_t *body, size_t len) {
  answer *a = arg;
  char msg[600] = "";
  if (status != MT_TP_OK) {
    snprintf(msg, sizeof msg, "no answer from %s: %s", a->address,
             detail && detail[0] ? detail : "unreachable");
  } else {
    Manta__V1__ObserveReply *r =
        manta__v1__observe_reply__unpack(NULL, len, body);
    if (!r) {
      snprintf(msg, sizeof msg, "malformed ObserveReply from %s", a->address);
    } else if (r->status != 200) {
      snprintf(msg, sizeof msg, "%s answered %d", a->address, r->status);
    } else {
      json_error_t err;
      a->doc = json_loadb((const char *)r->body.data, r->body.len, 0, &err);
      if (!a->doc) {
        snprintf(msg, sizeof msg, "%s sent bad JSON: %s", a->address, err.text);
      }
    }
    if (r) {
      manta__v1__observe_reply__free_unpacked(r, NULL);
    }
  }
  if (msg[0]) {
    a->why = strdup(msg);
  }
  pthread_mutex_lock(&a->all->mu);
  if (--a->all->pending == 0) {
    pthread_cond_signal(&a->all->cv);
  }
  pthread_mutex_unlock(&a->all->mu);
}

/* The head's status over gRPC (the head asks itself too: one path for
 * every node, and the directory's lock stays the directory's). */
Manta__V1__ClusterStatusReply *mt_api_head_status(const mt_api_link *link,
                                                  char *why, size_t size) {
  mt_tp_channel *ch = mt_tp_channel_open(link->head, link->token, link->tls);
  if (!ch) {
    snprintf(why, size, "out of memory");
    return NULL;
  }
  Manta__V1__ClusterStatusRequest req = MANTA__V1__CLUSTER_STATUS_REQUEST__INIT;
  mt_tp_buf body = {0}, reply = {0};
  char detail[600] = "";
  int st = MT_TP_RESOURCE_EXHAUSTED;
  if (mt_wire_pack(&req.base, &body)) {
    st = mt_tp_unary_sync(ch, MT_HEAD_STATUS, body.data, body.len,
                          MT_API_STATUS_TIMEOUT_MS, &reply, detail,
                          sizeof detail);
  }
  free(body.data);
  mt_tp_channel_close(ch);
  Manta__V1__ClusterStatusReply *r =
      st == MT_TP_OK
          ? manta__v1__cluster_status_reply__unpack(NULL, reply.len, reply.data)
          : NULL;
  free(reply.data);
  if (!r) {
    snprintf(why, size, "the head at %s did not answer: %s", link->head,
             st == MT_TP_OK ? "malformed reply"
                            : (detail[0] ? detail : "unreachable"));
  }
  return r;
}

/* A status of this node alone, for a runtime outside any cluster. */
static Manta__V1__ClusterStatusReply *alone(void) {
  Manta__V1__ClusterStatusReply *r = calloc(1, sizeof *r);
  Manta__V1__NodeStatus **nodes = calloc(1, sizeof *nodes);
  Manta__V1__NodeStatus *n = calloc(1, sizeof *n);
  Manta__V1__NodeInfo *info = calloc(1, sizeof *info);
  char *empty[3] = {strdup(""), strdup(""), strdup("")};
  if (!r || !nodes || !n || !info || !empty[0] || !empty[1] || !empty[2]) {
    free(r), free(nodes), free(n), free(info);
    free(empty[0]), free(empty[1]), free(empty[2]);
    return NULL;
  }
  manta__v1__cluster_status_reply__init(r);
  manta__v1__node_status__init(n);
  manta__v1__node_info__init(info);
  mt_lock();
  info->node_id = mt_rt.node_id;
  mt_unlock();
  info->address = empty[0];
  info->hostname = empty[1];
  info->metrics_address = empty[2];
  info->pid = getpid();
  n->info = info;
  n->state = MANTA__V1__NODE_STATE__NODE_STATE_ALIVE;
  n->is_head = true;
  nodes[0] = n;
  r->nodes = nodes;
  r->n_nodes = 1;
  r->head_node_id = info->node_id;
  return r;
}

/* A status from alone(). */
static void free_alone(Manta__V1__ClusterStatusReply *st) {
  free(st->nodes[0]->info->address);
  free(st->nodes[0]->info->hostname);
  free(st->nodes[0]->info->metrics_address);
  free(st->nodes[0]->info);
  free(st->nodes[0]);
  free(st->nodes);
  free(st);
}

void mt_api_answers_free(mt_api_answers *a) {
  for (size_t i = 0; a->st && i < a->st->n_nodes; i++) {
    json_decref(a->docs ? a->docs[i] : NULL);
    free(a->whys ? a->whys[i] : NULL);
  }
  free(a->docs);
  free(a->whys);
  if (a->st && a->alone) {
    free_alone(a->st);
  } else if (a->st) {
    manta__v1__cluster_status_reply__free_unpacked(a->st, NULL);
  }
  memset(a, 0, sizeof *a);
}

bool mt_api_ask_nodes(const mt_api_link *link, const char *path,
                      mt_api_answers *out, char *why, size_t size) {
  memset(out, 0, sizeof *out);
  why[0] = '\0';
  /* From inside the cluster: its head, as this node reaches it; this
   * node answers for itself without a call. */
  mt_api_link own = {mt_head_address(), mt_cl.token, &mt_cl.tp_tls};
  bool inside = link == NULL;
  uint64_t self = 0;
  if (inside) {
    mt_lock();
    self = mt_rt.node_id;
    mt_unlock();
    link = &own;
  }
  out->alone = inside && !mt_cl.on;
  out->st = out->alone ? alone() : mt_api_head_status(link, why, size);
  if (!out->st) {
    if (!why[0]) {
      snprintf(why, size, "out of memory");
    }
    return false;
  }
  Manta__V1__ClusterStatusReply *st = out->st;
  size_t n = st->n_nodes;
  out->docs = calloc(n + 1, sizeof *out->docs);
  out->whys = calloc(n + 1, sizeof *out->whys);
  answer *answers = calloc(n + 1, sizeof *answers);
  mt_tp_channel **chans = calloc(n + 1, sizeof *chans);
  Manta__V1__ObserveRequest req = MANTA__V1__OBSERVE_REQUEST__INIT;
  req.path = (char *)path;
  mt_tp_buf body = {0};
  if (!out->docs || !out->whys || !answers || !chans ||
      !mt_wire_pack(&req.base, &body)) {
    free(answers);
    free(chans);
    free(body.data);
    mt_api_answers_free(out);
    snprintf(why, size, "out of memory");
    return false;
  }
  asking all = {PTHREAD_MUTEX_INITIALIZER, PTHREAD_COND_INITIALIZER, 0};
  for (size_t i = 0; i < n; i++) {
    const Manta__V1__NodeStatus *s = st->nodes[i];
    answers[i].all = &all;
    answers[i].address = s->info ? s->info->address : "?";
    if (!s->info || s->state != MANTA__V1__NODE_STATE__NODE_STATE_ALIVE) {
      continue; /* a dead node is listed as the head last saw it */
    }
    if (inside && s->info->node_id == self) {
      out->docs[i] = local_doc(path, &out->whys[i]);
      continue;
    }
    if (!(chans[i] =
              mt_tp_channel_open(s->info->address, link->token, link->tls))) {
      out->whys[i] = strdup("out of memory");
      continue;
    }
    pthread_mutex_lock(&all.mu);
    all.pending++;
    pthread_mutex_unlock(&all.mu);
    mt_tp_unary(chans[i], MT_NODE_OBSERVE, body.data, body.len,
                MT_API_NODE_TIMEOUT_MS, on_observed, &answers[i]);
  }
  /* Every call ends by its deadline, answered or not. */
  pthread_mutex_lock(&all.mu);
  while (all.pending > 0) {
    pthread_cond_wait(&all.cv, &all.mu);
  }
  pthread_mutex_unlock(&all.mu);
  for (size_t i = 0; i < n; i++) {
    if (chans[i]) {
      mt_tp_channel_close(chans[i]);
      out->docs[i] = answers[i].doc;
      out->whys[i] = answers[i].why;
    }
  }
  free(body.data);
  free(answers);
  free(chans);
  return true;
}

json_t *mt_api_cluster_gather(char *why, size_t size) {
  mt_api_answers a;
  if (!mt_api_ask_nodes(NULL, "/api/node", &a, why, size)) {
    return NULL;
  }
  json_t *o =
      mt_api_cluster_json(a.st, a.docs, (const char *const *)a.whys, wall_ms());
  if (!o) {
    snprintf(why, size, "out of memory");
  }
  mt_api_answers_free(&a);
  return o;
}

bool mt_api_remote_open(mt_api_remote *r, const char *address,
                        const manta_options *opts, char *why, size_t size) {
  memset(r, 0, sizeof *r);
  if (!address || !strchr(address, ':')) {
    snprintf(why, size, "the head's address must be HOST:PORT");
    return false;
  }
  /* Found as manta_cluster_status_with finds them. */
  char source[4400], twhy[4600];
  mt_token_origin origin;
  if (!mt_token_resolve(opts ? opts->token : NULL, false, &r->token, &origin,
                        source, sizeof source, twhy, sizeof twhy)) {
    snprintf(why, size, "no usable cluster token: %s", twhy);
    return false;
  }
  if (!mt_tls_resolve(opts ? &opts->tls : NULL, &r->tls, twhy, sizeof twhy)) {
    free(r->token);
    r->token = NULL;
    snprintf(why, size, "%s", twhy);
    return false;
  }
  if (!mt_tp_start()) {
    free(r->token);
    r->token = NULL;
    mt_tls_free(&r->tls);
    snprintf(why, size, "cannot start gRPC");
    return false;
  }
  r->tp = (mt_tp_tls){r->tls.cert, r->tls.key, r->tls.ca};
  r->link = (mt_api_link){address, r->token, &r->tp};
  r->open = true;
  if (strchr(address, ',')) {
    /* A list (head_list.c): the first head that answers. */
    char heads[MT_HEADS_MAX][MT_HEAD_ADDRESS_MAX];
    size_t n;
    if (!mt_head_list_parse(address, heads, MT_HEADS_MAX, &n, why, size)) {
      mt_api_remote_close(r);
      return false;
    }
    for (size_t i = 0; i < n; i++) {
      snprintf(r->head, sizeof r->head, "%s", heads[i]);
      r->link.head = r->head;
      Manta__V1__ClusterStatusReply *st =
          mt_api_head_status(&r->link, why, size);
      if (st) {
        manta__v1__cluster_status_reply__free_unpacked(st, NULL);
        why[0] = '\0';
        break;
      }
    }
  }
  return true;
}

void mt_api_remote_close(mt_api_remote *r) {
  if (!r->open) {
    return;
  }
  mt_tp_stop();
  free(r->token);
  mt_tls_free(&r->tls);
  memset(r, 0, sizeof *r);
}
