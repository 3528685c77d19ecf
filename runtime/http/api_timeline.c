/* The timeline's documents and manta_timeline (api_timeline.h). */
#include "api_timeline.h"

#include "api_gather.h"
#include "rt.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define set mt_api_set
#define child mt_api_child

static const char *kind_name(int kind) {
  switch (kind) {
  case MT_TASK_FUNCTION:
    return "task";
  case MT_TASK_ACTOR_CREATE:
    return "actor_create";
  default:
    return "actor_call";
  }
}

json_t *mt_api_timeline_node_json(uint64_t node_id, const char *address,
                                  int64_t capacity, const mt_tl_event *ev,
                                  size_t n, uint64_t dropped) {
  char id[17];
  mt_api_node_id(node_id, id);
  json_t *o = json_object();
  bool ok = set(o, "node_id", json_string(id)) &&
            set(o, "address", json_string(address)) &&
            set(o, "capacity", json_integer(capacity)) &&
            set(o, "dropped", json_integer((json_int_t)dropped));
  json_t *events = ok ? child(o, "events", json_array()) : NULL;
  ok = ok && events;
  for (size_t i = 0; ok && i < n; i++) {
    char ref[17];
    mt_api_node_id(ev[i].id, ref);
    json_t *e = json_object();
    ok = json_array_append_new(events, e) == 0 &&
         set(e, "name", json_string(ev[i].name)) &&
         set(e, "kind", json_string(kind_name(ev[i].kind))) &&
         set(e, "id", json_string(ref)) &&
         set(e, "calls", json_integer(ev[i].calls)) &&
         set(e, "worker", json_integer(ev[i].worker)) &&
         set(e, "start_ns", json_integer(ev[i].start_ns)) &&
         set(e, "end_ns", json_integer(ev[i].end_ns));
  }
  if (!ok) {
    json_decref(o);
    return NULL;
  }
  return o;
}

/* A metadata event naming a process or a thread. */
static json_t *meta(const char *what, int pid, int tid, const char *name) {
  json_t *m = json_object(), *args = child(m, "args", json_object());
  if (!args || !set(m, "name", json_string(what)) ||
      !set(m, "ph", json_string("M")) || !set(m, "pid", json_integer(pid)) ||
      !set(m, "tid", json_integer(tid)) ||
      !set(args, "name", json_string(name))) {
    json_decref(m);
    return NULL;
  }
  return m;
}

static json_int_t ival(json_t *o, const char *key) {
  return json_integer_value(json_object_get(o, key));
}

/* One call as a complete ("X") event of process pid. */
static json_t *call_event(json_t *e, int pid, const char *node, int64_t t0) {
  json_t *x = json_object(), *args = child(x, "args", json_object());
  json_int_t start = ival(e, "start_ns"), end = ival(e, "end_ns");
  json_t *name = json_object_get(e, "name"), *kind = json_object_get(e, "kind");
  if (!args || !set(x, "name", json_copy(name)) ||
      !set(x, "cat", json_copy(kind)) || !set(x, "ph", json_string("X")) ||
      !set(x, "pid", json_integer(pid)) ||
      !set(x, "tid", json_integer(ival(e, "worker"))) ||
      !set(x, "ts", json_real((double)(start - t0) / 1000.0)) ||
      !set(x, "dur", json_real((double)(end - start) / 1000.0)) ||
      !set(args, "node", json_string(node)) ||
      !set(args, "worker", json_integer(ival(e, "worker"))) ||
      !set(args, "id", json_copy(json_object_get(e, "id"))) ||
      !set(args, "calls", json_integer(ival(e, "calls")))) {
    json_decref(x);
    return NULL;
  }
  return x;
}

json_t *mt_api_trace_json(const Manta__V1__ClusterStatusReply *st,
                          json_t *const *docs, const char *const *whys) {
  /* The earliest event is time 0: viewers show microseconds since then. */
  int64_t t0 = INT64_MAX;
  for (size_t i = 0; i < st->n_nodes; i++) {
    size_t k;
    json_t *e;
    json_array_foreach(docs[i] ? json_object_get(docs[i], "events") : NULL, k,
                       e) {
      if (ival(e, "start_ns") < t0) {
        t0 = ival(e, "start_ns");
      }
    }
  }
  json_t *o = json_object();
  json_t *events = child(o, "traceEvents", json_array());
  json_t *other = child(o, "otherData", json_object());
  json_t *unanswered = child(other, "unanswered", json_array());
  bool ok = events && unanswered &&
            set(o, "displayTimeUnit", json_string("ms")) &&
            set(other, "start_unix_ns", json_integer(t0 == INT64_MAX ? 0 : t0));
  for (size_t i = 0; ok && i < st->n_nodes; i++) {
    const Manta__V1__NodeInfo *info = st->nodes[i]->info;
    int pid = (int)i + 1;
    char id[17], label[200];
    mt_api_node_id(info ? info->node_id : 0, id);
    snprintf(label, sizeof label, "node %s %s%s", id, info ? info->address : "",
             st->nodes[i]->is_head ? " (head)" : "");
    ok =
        json_array_append_new(events, meta("process_name", pid, 0, label)) == 0;
    if (!docs[i]) {
      if (st->nodes[i]->state == MANTA__V1__NODE_STATE__NODE_STATE_ALIVE) {
        snprintf(label, sizeof label, "%s: %s", id,
                 whys && whys[i] ? whys[i] : "no answer");
        ok = ok && json_array_append_new(unanswered, json_string(label)) == 0;
      }
      continue;
    }
    int workers_named = 0;
    size_t k;
    json_t *e;
    json_array_foreach(json_object_get(docs[i], "events"), k, e) {
      int w = (int)ival(e, "worker");
      for (; ok && workers_named < w; workers_named++) {
        char name[32];
        snprintf(name, sizeof name, "worker %d", workers_named + 1);
        ok = json_array_append_new(events, meta("thread_name", pid,
                                                workers_named + 1, name)) == 0;
      }
      ok = ok && json_array_append_new(events, call_event(e, pid, id, t0)) == 0;
    }
  }
  if (!ok) {
    json_decref(o);
    return NULL;
  }
  return o;
}

/* /api/timeline of this node (api_routes.c calls it). */
json_t *mt_api_timeline_local(void) {
  mt_tl_event *ev;
  size_t n;
  uint64_t dropped;
  if (!mt_timeline_copy(&ev, &n, &dropped)) {
    return NULL;
  }
  char address[64] = "";
  manta_node_address(address, sizeof address);
  mt_lock();
  uint64_t id = mt_rt.node_id;
  mt_unlock();
  json_t *doc = mt_api_timeline_node_json(
      id, address, atomic_load(&mt_timeline_capacity), ev, n, dropped);
  free(ev);
  return doc;
}

manta_err manta_timeline_enable(int64_t events) {
  if (events != 0 && (events < 2 || events > MT_TIMELINE_MAX)) {
    return MANTA_ERR_INVALID;
  }
  mt_timeline_set_capacity(events);
  return MANTA_OK;
}

/* The trace of the nodes asked through link (NULL: this process's). */
static manta_err trace_of(const mt_api_link *link, char **json_out, char *why,
                          size_t size) {
  mt_api_answers a;
  if (!mt_api_ask_nodes(link, "/api/timeline", &a, why, size)) {
    return MANTA_ERR_NODE_DIED;
  }
  json_t *trace = mt_api_trace_json(a.st, a.docs, (const char *const *)a.whys);
  mt_api_answers_free(&a);
  size_t len;
  *json_out = mt_api_dump(trace, &len);
  return *json_out ? MANTA_OK : MANTA_ERR_NOMEM;
}

manta_err manta_timeline(const char *address, const manta_options *opts,
                         char **json_out) {
  if (!json_out) {
    return MANTA_ERR_INVALID;
  }
  *json_out = NULL;
  char why[700];
  if (!address) {
    if (!manta_is_initialized()) {
      return MANTA_ERR_NOT_INITIALIZED;
    }
    manta_err err = trace_of(NULL, json_out, why, sizeof why);
    if (err == MANTA_ERR_NODE_DIED) {
      mt_log(MT_LOG_WARN, "timeline: %s", why);
    }
    return err;
  }
  mt_api_remote remote;
  if (!mt_api_remote_open(&remote, address, opts, why, sizeof why)) {
    mt_log(MT_LOG_ERROR, "timeline: %s", why);
    return MANTA_ERR_INVALID;
  }
  manta_err err = trace_of(&remote.link, json_out, why, sizeof why);
  if (err == MANTA_ERR_NODE_DIED) {
    mt_log(MT_LOG_ERROR, "timeline: %s", why);
  }
  mt_api_remote_close(&remote);
  return err;
}
