/* The cluster's API document (api_cluster.h). */
#include "api_cluster.h"

#include <stdlib.h>
#include <string.h>

#define set mt_api_set
#define child mt_api_child

static json_int_t int_of(json_t *o, const char *key) {
  return json_integer_value(json_object_get(o, key));
}

/* What the head knows of a node: its registration, last load, state. */
static json_t *status_json(const Manta__V1__NodeStatus *s) {
  const Manta__V1__NodeInfo *info = s->info;
  char id[17];
  mt_api_node_id(info ? info->node_id : 0, id);
  json_t *o = json_object();
  bool alive = s->state == MANTA__V1__NODE_STATE__NODE_STATE_ALIVE;
  bool ok =
      o && set(o, "node_id", json_string(id)) &&
      set(o, "address", json_string(info ? info->address : "")) &&
      set(o, "hostname", json_string(info ? info->hostname : "")) &&
      set(o, "pid", json_integer(info ? info->pid : 0)) &&
      set(o, "is_head", json_boolean(s->is_head)) &&
      set(o, "is_driver", json_boolean(info && info->is_driver)) &&
      set(o, "state", json_string(alive ? "alive" : "dead")) &&
      set(o, "heartbeat_age_seconds",
          json_real((double)s->last_heartbeat_ms_ago / 1000.0)) &&
      set(o, "http_address", json_string(info ? info->metrics_address : ""));
  json_t *res = ok ? child(o, "resources", json_array()) : NULL;
  json_t *load = res ? child(o, "load", json_object()) : NULL;
  ok = ok && res && load;
  /* Free now as of the last heartbeat; the registration's totals before
   * one came. */
  Manta__V1__Resource **rs = s->load && s->load->n_resources
                                 ? s->load->resources
                                 : (info ? info->resources : NULL);
  size_t nrs = s->load && s->load->n_resources ? s->load->n_resources
                                               : (info ? info->n_resources : 0);
  for (size_t k = 0; ok && k < nrs; k++) {
    json_t *r = json_object();
    ok = json_array_append_new(res, r) == 0 &&
         set(r, "name", json_string(rs[k]->name)) &&
         set(r, "total", json_real(rs[k]->total)) &&
         set(r, "available",
             json_real(s->load ? rs[k]->available : rs[k]->total));
  }
  ok = ok &&
       set(load, "queued", json_integer(s->load ? s->load->tasks_queued : 0)) &&
       set(load, "running",
           json_integer(s->load ? s->load->tasks_running : 0)) &&
       set(load, "finished",
           json_integer(s->load ? s->load->tasks_finished : 0)) &&
       set(load, "actors", json_integer(s->load ? s->load->actors : 0));
  if (!ok) {
    json_decref(o);
    return NULL;
  }
  return o;
}

/* Appends b's elements to a (nothing when b is not an array). */
static bool extend(json_t *a, json_t *b) {
  return !json_is_array(b) || json_array_extend(a, b) == 0;
}

/* Adds a node's functions into the cluster's, summed by name. */
static bool merge_functions(json_t *sum, json_t *fns) {
  size_t i;
  json_t *f;
  json_array_foreach(fns, i, f) {
    const char *name = json_string_value(json_object_get(f, "name"));
    if (!name) {
      continue;
    }
    json_t *into = json_object_get(sum, name);
    if (!into) {
      into = json_deep_copy(f);
      if (!into || json_object_set_new(sum, name, into) != 0) {
        return false;
      }
      continue;
    }
    static const char *const counts[] = {"submitted", "finished", "failed",
                                         "runs"};
    for (size_t k = 0; k < sizeof counts / sizeof *counts; k++) {
      if (!set(into, counts[k],
               json_integer(int_of(into, counts[k]) + int_of(f, counts[k])))) {
        return false;
      }
    }
    double secs = json_number_value(json_object_get(into, "run_seconds_sum")) +
                  json_number_value(json_object_get(f, "run_seconds_sum"));
    json_t *a = json_object_get(into, "buckets"),
           *b = json_object_get(f, "buckets");
    if (!set(into, "run_seconds_sum", json_real(secs))) {
      return false;
    }
    for (size_t k = 0; k < json_array_size(a) && k < json_array_size(b); k++) {
      json_int_t v = json_integer_value(json_array_get(a, k)) +
                     json_integer_value(json_array_get(b, k));
      if (json_array_set_new(a, k, json_integer(v)) != 0) {
        return false;
      }
    }
  }
  return true;
}

/* The summed functions as an array sorted by name, quantiles from the
 * summed histograms. */
static json_t *function_list(json_t *sum) {
  json_t *out = json_array();
  const char *name;
  json_t *f;
  bool ok = out != NULL;
  json_object_foreach(sum, name, f) {
    uint64_t bucket[MT_RUN_BUCKETS + 1] = {0};
    json_t *b = json_object_get(f, "buckets");
    for (size_t k = 0; k <= MT_RUN_BUCKETS && k < json_array_size(b); k++) {
      bucket[k] = (uint64_t)json_integer_value(json_array_get(b, k));
    }
    double p50 = mt_api_quantile(bucket, 0.5),
           p99 = mt_api_quantile(bucket, 0.99);
    ok = ok && set(f, "p50_seconds", p50 < 0 ? json_null() : json_real(p50)) &&
         set(f, "p99_seconds", p99 < 0 ? json_null() : json_real(p99)) &&
         json_array_append(out, f) == 0;
  }
  if (!ok) {
    json_decref(out);
    return NULL;
  }
  return out;
}

static int newest_first(const void *a, const void *b) {
  json_int_t x = int_of(*(json_t *const *)a, "time_ms");
  json_int_t y = int_of(*(json_t *const *)b, "time_ms");
  return x < y ? 1 : x > y ? -1 : 0;
}

/* Every node's errors, newest first, at most MT_API_MAX_ERRORS. */
static json_t *error_list(json_t *all) {
  size_t n = json_array_size(all);
  json_t **v = calloc(n ? n : 1, sizeof *v);
  json_t *out = json_array();
  bool ok = v && out;
  for (size_t i = 0; ok && i < n; i++) {
    v[i] = json_array_get(all, i);
  }
  if (ok) {
    qsort(v, n, sizeof *v, newest_first);
  }
  for (size_t i = 0; ok && i < n && i < MT_API_MAX_ERRORS; i++) {
    ok = json_array_append(out, v[i]) == 0;
  }
  free(v);
  if (!ok) {
    json_decref(out);
    return NULL;
  }
  return out;
}

static int by_name(const void *a, const void *b) {
  const char *x =
      json_string_value(json_object_get(*(json_t *const *)a, "name"));
  const char *y =
      json_string_value(json_object_get(*(json_t *const *)b, "name"));
  return strcmp(x ? x : "", y ? y : "");
}

/* Sorts an array of objects by their "name". */
static bool sort_by_name(json_t *arr) {
  size_t n = json_array_size(arr);
  json_t **v = calloc(n ? n : 1, sizeof *v);
  if (!v) {
    return false;
  }
  for (size_t i = 0; i < n; i++) {
    v[i] = json_incref(json_array_get(arr, i));
  }
  qsort(v, n, sizeof *v, by_name);
  json_array_clear(arr);
  bool ok = true;
  for (size_t i = 0; i < n; i++) {
    ok = ok && json_array_append(arr, v[i]) == 0;
    json_decref(v[i]);
  }
  free(v);
  return ok;
}

json_t *mt_api_cluster_json(const Manta__V1__ClusterStatusReply *st,
                            json_t **docs, const char *const *whys,
                            int64_t time_ms) {
  char head[17];
  mt_api_node_id(st->head_node_id, head);
  json_t *o = json_object(), *sum = json_object(), *errors = json_array();
  json_t *nodes = child(o, "nodes", json_array()),
         *actors = child(o, "actors", json_array()),
         *totals = child(o, "totals", json_object());
  bool ok = sum && errors && nodes && actors && totals &&
            set(o, "head_node_id", json_string(head)) &&
            set(o, "time_ms", json_integer(time_ms));
  json_int_t alive = 0, dead = 0, running = 0, queued = 0, retried = 0,
             objects = 0, object_bytes = 0;
  for (size_t i = 0; i < st->n_nodes; i++) {
    json_t *doc = docs[i];
    docs[i] = NULL;
    json_t *n = ok ? status_json(st->nodes[i]) : NULL;
    ok = ok && json_array_append_new(nodes, n) == 0;
    if (!ok) {
      json_decref(doc);
      continue;
    }
    if (json_string_value(json_object_get(n, "state"))[0] == 'a') {
      alive++;
    } else {
      dead++;
    }
    if (doc) {
      json_t *t = json_object_get(doc, "tasks"),
             *ob = json_object_get(doc, "objects");
      running += int_of(t, "running");
      queued += int_of(t, "queued");
      retried += int_of(t, "retried");
      objects += int_of(ob, "count");
      object_bytes += int_of(ob, "bytes");
      ok = merge_functions(sum, json_object_get(doc, "functions")) &&
           extend(actors, json_object_get(doc, "actors")) &&
           extend(errors, json_object_get(doc, "errors"));
    }
    ok =
        ok && set(n, "report", doc ? doc : json_null()) &&
        set(n, "report_error",
            whys && whys[i] && whys[i][0] ? json_string(whys[i]) : json_null());
  }
  json_t *fns = ok ? function_list(sum) : NULL;
  ok = ok && set(o, "functions", fns);
  json_int_t finished = 0, failed = 0, submitted = 0;
  size_t i;
  json_t *f;
  json_array_foreach(ok ? fns : NULL, i, f) {
    finished += int_of(f, "finished");
    failed += int_of(f, "failed");
    submitted += int_of(f, "submitted");
  }
  json_int_t actors_alive = 0;
  json_array_foreach(ok ? actors : NULL, i, f) {
    const char *s = json_string_value(json_object_get(f, "state"));
    actors_alive += s && strcmp(s, "alive") == 0;
  }
  ok = ok && sort_by_name(fns) && set(o, "errors", error_list(errors)) &&
       set(totals, "nodes_alive", json_integer(alive)) &&
       set(totals, "nodes_dead", json_integer(dead)) &&
       set(totals, "tasks_submitted", json_integer(submitted)) &&
       set(totals, "tasks_finished", json_integer(finished)) &&
       set(totals, "tasks_failed", json_integer(failed)) &&
       set(totals, "tasks_running", json_integer(running)) &&
       set(totals, "tasks_queued", json_integer(queued)) &&
       set(totals, "tasks_retried", json_integer(retried)) &&
       set(totals, "actors_alive", json_integer(actors_alive)) &&
       set(totals, "objects", json_integer(objects)) &&
       set(totals, "object_bytes", json_integer(object_bytes));
  json_decref(sum);
  json_decref(errors);
  if (!ok) {
    json_decref(o);
    return NULL;
  }
  return o;
}
