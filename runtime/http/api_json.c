/* One node's API document (api_json.h). */
#include "api_json.h"

#include "manta.h"
#include "rt.h"

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

double mt_api_quantile(const uint64_t *bucket, double q) {
  uint64_t count = 0;
  for (int b = 0; b <= MT_RUN_BUCKETS; b++) {
    count += bucket[b];
  }
  if (count == 0) {
    return -1;
  }
  double rank = q * (double)count, below = 0;
  for (int b = 0; b < MT_RUN_BUCKETS; b++) {
    if (below + (double)bucket[b] >= rank && bucket[b] > 0) {
      double lo = b ? (double)mt_run_bucket_ns[b - 1] : 0;
      double hi = (double)mt_run_bucket_ns[b];
      return (lo + (hi - lo) * (rank - below) / (double)bucket[b]) / 1e9;
    }
    below += (double)bucket[b];
  }
  return (double)mt_run_bucket_ns[MT_RUN_BUCKETS - 1] / 1e9;
}

void mt_api_node_id(uint64_t id, char out[17]) {
  snprintf(out, 17, "%016" PRIx64, id);
}

bool mt_api_set(json_t *o, const char *key, json_t *v) {
  if (!o || !v) {
    json_decref(v);
    return false;
  }
  return json_object_set_new(o, key, v) == 0;
}

json_t *mt_api_child(json_t *o, const char *key, json_t *v) {
  return mt_api_set(o, key, v) ? v : NULL;
}

#define set mt_api_set
#define child mt_api_child

static json_t *quantile_or_null(const uint64_t *bucket, double q) {
  double s = mt_api_quantile(bucket, q);
  return s < 0 ? json_null() : json_real(s);
}

static json_t *function_json(const mt_metrics_fn *f) {
  const mt_fn_stats *st = &f->st;
  json_t *o = json_object(), *buckets = json_array();
  bool ok = o && buckets;
  for (int b = 0; ok && b <= MT_RUN_BUCKETS; b++) {
    ok = json_array_append_new(buckets,
                               json_integer((json_int_t)st->bucket[b])) == 0;
  }
  ok = ok && set(o, "name", json_string(f->name)) &&
       set(o, "submitted", json_integer((json_int_t)st->submitted)) &&
       set(o, "finished", json_integer((json_int_t)st->finished)) &&
       set(o, "failed", json_integer((json_int_t)st->failed)) &&
       set(o, "runs", json_integer((json_int_t)st->runs)) &&
       set(o, "run_seconds_sum", json_real((double)st->run_ns / 1e9)) &&
       set(o, "p50_seconds", quantile_or_null(st->bucket, 0.5)) &&
       set(o, "p99_seconds", quantile_or_null(st->bucket, 0.99)) &&
       set(o, "buckets", buckets);
  if (!ok) {
    json_decref(o);
    return NULL;
  }
  return o;
}

static const char *actor_state(int state) {
  switch (state) {
  case MT_ACTOR_PENDING:
    return "pending";
  case MT_ACTOR_ALIVE:
    return "alive";
  default:
    return "dead";
  }
}

static json_t *actor_json(const mt_report_actor *a, const char *node) {
  char id[17];
  mt_api_node_id(a->id, id);
  json_t *o = json_object();
  if (!o || !set(o, "id", json_string(id)) ||
      !set(o, "class", json_string(a->cls)) ||
      !set(o, "name", a->name[0] ? json_string(a->name) : json_null()) ||
      !set(o, "state", json_string(actor_state(a->state))) ||
      !set(o, "node_id", json_string(node)) ||
      !set(o, "calls", json_integer((json_int_t)a->calls)) ||
      !set(o, "running", json_integer(a->running)) ||
      !set(o, "queued", json_integer(a->queued))) {
    json_decref(o);
    return NULL;
  }
  return o;
}

static json_t *error_json(const mt_errlog_entry *e, const char *node) {
  json_t *o = json_object();
  if (!o || !set(o, "time_ms", json_integer(e->time_ms)) ||
      !set(o, "node_id", json_string(node)) ||
      !set(o, "what", json_string(e->what)) ||
      !set(o, "code", json_string(manta_errname((manta_err)e->code))) ||
      !set(o, "message", json_string(e->message)) ||
      !set(o, "origin", json_string(e->origin))) {
    json_decref(o);
    return NULL;
  }
  return o;
}

static json_t *resource_json(const mt_metrics_resource *r) {
  json_t *o = json_object();
  if (!o || !set(o, "name", json_string(r->name)) ||
      !set(o, "total", json_real(r->total)) ||
      !set(o, "available", json_real(r->available))) {
    json_decref(o);
    return NULL;
  }
  return o;
}

/* Appends what each element i < n becomes; ok false on OOM. */
#define FILL(arr, n, expr)                                                     \
  do {                                                                         \
    for (size_t i = 0; ok && i < (n); i++) {                                   \
      ok = json_array_append_new((arr), (expr)) == 0;                          \
    }                                                                          \
  } while (0)

json_t *mt_api_node_json(const mt_node_report *r) {
  const mt_metrics *m = &r->m;
  char node[17];
  mt_api_node_id(m->node_id, node);
  json_t *o = json_object();
  bool ok = set(o, "node_id", json_string(node)) &&
            set(o, "address", json_string(r->address)) &&
            set(o, "time_ms", json_integer(r->time_ms));
  json_t *tasks = child(o, "tasks", json_object()),
         *objects = child(o, "objects", json_object()),
         *workers = child(o, "workers", json_object()),
         *res = child(o, "resources", json_array()),
         *fns = child(o, "functions", json_array()),
         *classes = child(o, "classes", json_array()),
         *actors = child(o, "actors", json_array()),
         *errors = child(o, "errors", json_array());
  ok = ok && tasks && objects && workers && res && fns && classes && actors &&
       errors;
  FILL(fns, m->nfns, function_json(&m->fns[i]));
  for (size_t i = 0; ok && i < m->nclasses; i++) {
    json_t *c = json_object();
    ok = json_array_append_new(classes, c) == 0 &&
         set(c, "name", json_string(m->classes[i].name)) &&
         set(c, "alive", json_integer(m->classes[i].alive)) &&
         set(c, "calls", json_integer((json_int_t)m->classes[i].calls));
  }
  FILL(actors, r->nactors, actor_json(&r->actors[i], node));
  FILL(errors, r->nerrors, error_json(&r->errors[i], node));
  FILL(res, (size_t)m->nres, resource_json(&m->res[i]));
  ok = ok && set(tasks, "queued", json_integer(m->tasks_queued)) &&
       set(tasks, "running", json_integer(m->tasks_running)) &&
       set(tasks, "submitted_other",
           json_integer((json_int_t)m->submitted_other)) &&
       set(tasks, "retried", json_integer((json_int_t)m->tasks_retried)) &&
       set(objects, "count", json_integer(m->objects)) &&
       set(objects, "bytes", json_integer(m->object_bytes)) &&
       set(objects, "spilled_bytes", json_integer(m->spilled_bytes)) &&
       set(objects, "store_limit_bytes", json_integer(m->store_limit)) &&
       set(workers, "total", json_integer(m->workers_total)) &&
       set(workers, "idle", json_integer(m->workers_idle)) &&
       set(workers, "busy", json_integer(m->workers_busy)) &&
       set(o, "rss_bytes", json_integer(r->rss_bytes)) &&
       set(o, "actors_total", json_integer((json_int_t)r->actors_total)) &&
       set(o, "errors_total", json_integer((json_int_t)r->errors_total));
  if (!ok) {
    json_decref(o);
    return NULL;
  }
  return o;
}

char *mt_api_dump(json_t *j, size_t *len) {
  char *s = j ? json_dumps(j, JSON_COMPACT) : NULL;
  json_decref(j);
  *len = s ? strlen(s) : 0;
  return s;
}
