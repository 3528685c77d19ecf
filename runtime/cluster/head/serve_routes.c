/* The head's Serve routes: route -> the deployment as JSON, who deployed
 * it and the stamp of that deploy, so every node's ingress serves what was
 * deployed through any of them (docs/serve.md, "Routes across the
 * cluster"). A restarted head has a new incarnation, and the deploying
 * nodes announce their routes again; with a store (docs/head-store.md)
 * every change is also written there, and a head started on it serves the
 * routes at once, those of nodes gone meanwhile too. Guarded by the
 * directory's mutex (directory.c calls in with it held). */
#include "cluster.h"
#include "head_store.h"

#include "clock.h"
#include "log.h"

#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

typedef struct route_entry {
  char *spec_json;
  uint64_t stamp;
  uint64_t node_id;
} route_entry;

/* Stamps of a route's deploys this head saw deleted or replaced, newest
 * last: an announce of one of them is late (a node re-announcing what it
 * held before a restart) and must not bring it back. */
#define SUPERSEDED_KEPT 8
typedef struct superseded {
  uint64_t stamps[SUPERSEDED_KEPT];
  int n;
} superseded;

struct mt_serve_table {
  mt_strmap by_route;   /* route -> route_entry */
  mt_strmap superseded; /* route -> superseded */
  uint64_t incarnation;
  mt_head_store *store; /* NULL: memory only */
};

void mt_serve_table_set_store(mt_serve_table *t, mt_head_store *store) {
  t->store = store;
}

/* The route's record in the store (a put equal to the stored one writes
 * nothing). */
static void store_put(mt_serve_table *t, const char *route,
                      const route_entry *e) {
  if (!t->store) {
    return;
  }
  Manta__V1__ServeRoute r = MANTA__V1__SERVE_ROUTE__INIT;
  r.route = (char *)route;
  r.spec_json = e->spec_json;
  r.stamp = e->stamp;
  r.node_id = e->node_id;
  mt_head_store_put_msg(t->store, MT_STORE_ROUTES, route, &r.base);
}

mt_serve_table *mt_serve_table_new(void) {
  mt_serve_table *t = calloc(1, sizeof *t);
  if (!t) {
    return NULL;
  }
  mt_strmap_init(&t->by_route);
  mt_strmap_init(&t->superseded);
  /* Random enough to tell two runs of a head apart (a node compares it
   * with the one it saw last); never 0, which means "none seen". */
  struct timespec ts;
  clock_gettime(CLOCK_REALTIME, &ts);
  t->incarnation = ((uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec) ^
                   ((uint64_t)getpid() << 32);
  t->incarnation |= 1;
  return t;
}

static void entry_free(route_entry *e) {
  if (e) {
    free(e->spec_json);
    free(e);
  }
}

void mt_serve_table_free(mt_serve_table *t) {
  if (!t) {
    return;
  }
  size_t pos = 0;
  const char *key;
  void *val;
  while (mt_strmap_next(&t->by_route, &pos, &key, &val)) {
    entry_free(val);
  }
  mt_strmap_destroy(&t->by_route);
  pos = 0;
  while (mt_strmap_next(&t->superseded, &pos, &key, &val)) {
    free(val);
  }
  mt_strmap_destroy(&t->superseded);
  free(t);
}

bool mt_serve_table_is_method(const char *method) {
  return strcmp(method, MT_HEAD_SERVE_PUT) == 0 ||
         strcmp(method, MT_HEAD_SERVE_DROP) == 0 ||
         strcmp(method, MT_HEAD_SERVE_LIST) == 0;
}

/* Remembers that the deploy `stamp` of route is gone (best effort: out of
 * memory, a late announce could bring it back, as without this). */
static void supersede(mt_serve_table *t, const char *route, uint64_t stamp) {
  superseded *s = mt_strmap_get(&t->superseded, route);
  if (!s) {
    bool oom = false;
    if (!(s = calloc(1, sizeof *s)) ||
        !mt_strmap_insert(&t->superseded, route, s, &oom)) {
      free(s);
      return;
    }
  }
  if (s->n == SUPERSEDED_KEPT) {
    memmove(s->stamps, s->stamps + 1, sizeof s->stamps - sizeof *s->stamps);
    s->n--;
  }
  s->stamps[s->n++] = stamp;
}

static bool is_superseded(mt_serve_table *t, const char *route,
                          uint64_t stamp) {
  const superseded *s = mt_strmap_get(&t->superseded, route);
  for (int i = 0; s && i < s->n; i++) {
    if (s->stamps[i] == stamp) {
      return true;
    }
  }
  return false;
}

bool mt_serve_table_put(mt_serve_table *t, const char *route,
                        const char *spec_json, uint64_t stamp, uint64_t node_id,
                        bool *refused) {
  *refused = is_superseded(t, route, stamp);
  if (*refused) {
    mt_log(MT_LOG_INFO,
           "head: serve route %s from node %016llx refused: that deploy "
           "was deleted or replaced since",
           route, (unsigned long long)node_id);
    return true;
  }
  route_entry *e = calloc(1, sizeof *e);
  if (!e || !(e->spec_json = strdup(spec_json))) {
    entry_free(e);
    return false;
  }
  e->stamp = stamp;
  e->node_id = node_id;
  route_entry *old = mt_strmap_get(&t->by_route, route);
  if (old) {
    /* Replaced in place: nothing to allocate, nothing to fail. */
    route_entry keep = *old;
    *old = *e;
    *e = keep;
    bool same = keep.stamp == stamp;
    if (!same) {
      supersede(t, route, keep.stamp);
    }
    entry_free(e);
    store_put(t, route, old);
    if (!same) {
      mt_log(MT_LOG_INFO, "head: serve route %s redeployed from node %016llx",
             route, (unsigned long long)node_id);
    }
    return true;
  }
  bool oom = false;
  if (!mt_strmap_insert(&t->by_route, route, e, &oom)) {
    entry_free(e);
    return false;
  }
  mt_log(MT_LOG_INFO, "head: serve route %s from node %016llx", route,
         (unsigned long long)node_id);
  store_put(t, route, e);
  return true;
}

bool mt_serve_table_drop(mt_serve_table *t, const char *route) {
  route_entry *e = mt_strmap_remove(&t->by_route, route);
  if (e) {
    mt_log(MT_LOG_INFO, "head: serve route %s deleted", route);
    supersede(t, route, e->stamp);
    if (t->store) {
      mt_head_store_del(t->store, MT_STORE_ROUTES, route);
    }
  }
  entry_free(e);
  return e != NULL;
}

/* ---- the methods ------------------------------------------------------- */

static int packed(const ProtobufCMessage *m, mt_tp_buf *reply, char *detail,
                  size_t size) {
  if (!mt_wire_pack(m, reply)) {
    snprintf(detail, size, "out of memory");
    return MT_TP_RESOURCE_EXHAUSTED;
  }
  return MT_TP_OK;
}

static int bad(const char *what, char *detail, size_t size) {
  mt_log(MT_LOG_WARN, "head: bad request: %s", what);
  snprintf(detail, size, "%s", what);
  return MT_TP_INVALID_ARGUMENT;
}

static int handle_put(mt_serve_table *t, const uint8_t *body, size_t len,
                      mt_tp_buf *reply, char *detail, size_t size) {
  Manta__V1__PutServeRouteRequest *req =
      manta__v1__put_serve_route_request__unpack(NULL, len, body);
  const Manta__V1__ServeRoute *r = req ? req->route : NULL;
  if (!r || !r->route || r->route[0] != '/' || !r->spec_json ||
      !r->spec_json[0]) {
    if (req) {
      manta__v1__put_serve_route_request__free_unpacked(req, NULL);
    }
    return bad("PutServeRoute needs a route starting with '/' and its spec",
               detail, size);
  }
  bool refused = false;
  bool ok = mt_serve_table_put(t, r->route, r->spec_json, r->stamp, r->node_id,
                               &refused);
  manta__v1__put_serve_route_request__free_unpacked(req, NULL);
  if (!ok) {
    snprintf(detail, size, "out of memory");
    return MT_TP_RESOURCE_EXHAUSTED;
  }
  Manta__V1__PutServeRouteReply out = MANTA__V1__PUT_SERVE_ROUTE_REPLY__INIT;
  out.incarnation = t->incarnation;
  out.superseded = refused;
  return packed(&out.base, reply, detail, size);
}

static int handle_drop(mt_serve_table *t, const uint8_t *body, size_t len,
                       mt_tp_buf *reply, char *detail, size_t size) {
  Manta__V1__DropServeRouteRequest *req =
      manta__v1__drop_serve_route_request__unpack(NULL, len, body);
  if (!req || !req->route) {
    if (req) {
      manta__v1__drop_serve_route_request__free_unpacked(req, NULL);
    }
    return bad("DropServeRoute needs a route", detail, size);
  }
  Manta__V1__DropServeRouteReply out = MANTA__V1__DROP_SERVE_ROUTE_REPLY__INIT;
  out.dropped = mt_serve_table_drop(t, req->route);
  manta__v1__drop_serve_route_request__free_unpacked(req, NULL);
  return packed(&out.base, reply, detail, size);
}

static int handle_list(mt_serve_table *t, mt_tp_buf *reply, char *detail,
                       size_t size) {
  size_t cap = t->by_route.len;
  Manta__V1__ServeRoute *msgs = calloc(cap + 1, sizeof *msgs);
  Manta__V1__ServeRoute **list = calloc(cap + 1, sizeof *list);
  if (!msgs || !list) {
    free(msgs), free(list);
    snprintf(detail, size, "out of memory");
    return MT_TP_RESOURCE_EXHAUSTED;
  }
  size_t pos = 0, k = 0;
  const char *key;
  void *val;
  while (k < cap && mt_strmap_next(&t->by_route, &pos, &key, &val)) {
    route_entry *e = val;
    manta__v1__serve_route__init(&msgs[k]);
    msgs[k].route = (char *)key;
    msgs[k].spec_json = e->spec_json;
    msgs[k].stamp = e->stamp;
    msgs[k].node_id = e->node_id;
    list[k] = &msgs[k];
    k++;
  }
  Manta__V1__ListServeRoutesReply out =
      MANTA__V1__LIST_SERVE_ROUTES_REPLY__INIT;
  out.routes = list;
  out.n_routes = k;
  out.incarnation = t->incarnation;
  int st = packed(&out.base, reply, detail, size);
  free(list);
  free(msgs);
  return st;
}

int mt_serve_table_handle(mt_serve_table *t, const char *method,
                          const uint8_t *body, size_t len, mt_tp_buf *reply,
                          char *detail, size_t size) {
  *reply = (mt_tp_buf){0};
  if (strcmp(method, MT_HEAD_SERVE_PUT) == 0) {
    return handle_put(t, body, len, reply, detail, size);
  }
  if (strcmp(method, MT_HEAD_SERVE_DROP) == 0) {
    return handle_drop(t, body, len, reply, detail, size);
  }
  return handle_list(t, reply, detail, size);
}
