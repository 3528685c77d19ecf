/*
 * A /metrics snapshot as Prometheus text (exposition format 0.0.4): names
 * prefixed manta_, counters ending _total, seconds and bytes as units,
 * labels only from bounded sets (function and class names registered on
 * this node, resource names, node ids of the cluster).
 */
#include "metrics.h"
#include "transfer_stats.h"
#include "transport.h"

#include <inttypes.h>
#include <math.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

typedef struct text {
  char *p;
  size_t len, cap;
  bool oom;
} text;

static void put(text *t, const char *fmt, ...) {
  for (;;) {
    if (t->oom) {
      return;
    }
    va_list ap;
    va_start(ap, fmt);
    int n = vsnprintf(t->p ? t->p + t->len : NULL, t->cap - t->len, fmt, ap);
    va_end(ap);
    if (n < 0) {
      t->oom = true;
      return;
    }
    if ((size_t)n < t->cap - t->len) {
      t->len += (size_t)n;
      return;
    }
    size_t cap = t->cap ? t->cap * 2 : 8192;
    while (cap - t->len <= (size_t)n) {
      cap *= 2;
    }
    char *p = realloc(t->p, cap);
    if (!p) {
      t->oom = true;
      return;
    }
    t->p = p;
    t->cap = cap;
  }
}

/* A label value: backslash, double quote and newline escaped, as the
 * format asks (a name is the user's string: it may hold any of them). */
static void put_label(text *t, const char *v) {
  for (; *v; v++) {
    switch (*v) {
    case '\\':
      put(t, "\\\\");
      break;
    case '"':
      put(t, "\\\"");
      break;
    case '\n':
      put(t, "\\n");
      break;
    default:
      put(t, "%c", *v);
    }
  }
}

static void head(text *t, const char *name, const char *type,
                 const char *help) {
  put(t, "# HELP %s %s\n# TYPE %s %s\n", name, help, name, type);
}

/* name{label="value"} (no label when label is NULL), before the value. */
static void series(text *t, const char *name, const char *label,
                   const char *value) {
  put(t, "%s", name);
  if (label) {
    put(t, "{%s=\"", label);
    put_label(t, value);
    put(t, "\"}");
  }
  put(t, " ");
}

static void put_double(text *t, double v) {
  if (isinf(v)) {
    put(t, v > 0 ? "+Inf\n" : "-Inf\n");
  } else if (isnan(v)) {
    put(t, "NaN\n");
  } else {
    put(t, "%.17g\n", v);
  }
}

static void fn_counter(text *t, const mt_metrics *m, const char *name,
                       const char *help, size_t off) {
  head(t, name, "counter", help);
  for (size_t i = 0; i < m->nfns; i++) {
    uint64_t v;
    memcpy(&v, (const char *)&m->fns[i].st + off, sizeof v);
    series(t, name, "function", m->fns[i].name);
    put(t, "%" PRIu64 "\n", v);
  }
}

static void histogram(text *t, const mt_metrics *m) {
  static const char name[] = "manta_task_run_seconds";
  head(t, name, "histogram",
       "Run time of the tasks of a function run on this node (each task of "
       "a worker's batch counts the batch's mean), in seconds.");
  for (size_t i = 0; i < m->nfns; i++) {
    const mt_fn_stats *s = &m->fns[i].st;
    uint64_t cum = 0;
    for (unsigned b = 0; b <= MT_RUN_BUCKETS; b++) {
      cum += s->bucket[b];
      put(t, "%s_bucket{function=\"", name);
      put_label(t, m->fns[i].name);
      if (b < MT_RUN_BUCKETS) {
        put(t, "\",le=\"%g\"} %" PRIu64 "\n", (double)mt_run_bucket_ns[b] / 1e9,
            cum);
      } else {
        put(t, "\",le=\"+Inf\"} %" PRIu64 "\n", cum);
      }
    }
    series(t, "manta_task_run_seconds_sum", "function", m->fns[i].name);
    put_double(t, (double)s->run_ns / 1e9);
    series(t, "manta_task_run_seconds_count", "function", m->fns[i].name);
    put(t, "%" PRIu64 "\n", s->runs);
  }
}

static void gauge(text *t, const char *name, const char *help, double v) {
  head(t, name, "gauge", help);
  series(t, name, NULL, NULL);
  put_double(t, v);
}

static void tasks(text *t, const mt_metrics *m) {
  fn_counter(t, m, "manta_tasks_submitted_total",
             "Task calls submitted to this node (by its program or by a "
             "peer), by function; \"_other\": names not registered here.",
             offsetof(mt_fn_stats, submitted));
  series(t, "manta_tasks_submitted_total", "function", "_other");
  put(t, "%" PRIu64 "\n", m->submitted_other);
  fn_counter(t, m, "manta_tasks_retried_total",
             "Calls this node ran or sent again, by function: sent to a node "
             "that died, an error retried (retry_exceptions), a lost result "
             "rebuilt; \"_other\": names not registered here.",
             offsetof(mt_fn_stats, retried));
  series(t, "manta_tasks_retried_total", "function", "_other");
  put(t, "%" PRIu64 "\n", m->retried_other);
  fn_counter(t, m, "manta_tasks_finished_total",
             "Tasks that ran on this node and returned, failed ones "
             "included, by function.",
             offsetof(mt_fn_stats, finished));
  fn_counter(t, m, "manta_tasks_failed_total",
             "Tasks that ran on this node and returned an error, by "
             "function.",
             offsetof(mt_fn_stats, failed));
  gauge(t, "manta_tasks_running",
        "Tasks and actor calls running on this node now.",
        (double)m->tasks_running);
  head(t, "manta_function_tasks_running", "gauge",
       "Tasks of a function taken by a worker of this node and not finished "
       "(a batch's tasks from when it is taken), by function.");
  for (size_t i = 0; i < m->nfns; i++) {
    series(t, "manta_function_tasks_running", "function", m->fns[i].name);
    put(t, "%" PRId64 "\n", m->fns[i].st.running);
  }
  gauge(t, "manta_tasks_queued",
        "Tasks and actor calls ready on this node and waiting for a worker.",
        (double)m->tasks_queued);
  histogram(t, m);
}

static void actors(text *t, const mt_metrics *m) {
  head(t, "manta_actors_alive", "gauge",
       "Actors alive on this node, by class.");
  for (size_t i = 0; i < m->nclasses; i++) {
    series(t, "manta_actors_alive", "class", m->classes[i].name);
    put(t, "%" PRId64 "\n", m->classes[i].alive);
  }
  head(t, "manta_actors", "gauge",
       "Actors on this node by class and state: pending (constructor not "
       "run yet), alive, dead (killed or failed, still held by a handle).");
  static const char *const states[3] = {"pending", "alive", "dead"};
  for (size_t i = 0; i < m->nclasses; i++) {
    const int64_t counts[3] = {m->classes[i].pending, m->classes[i].alive,
                               m->classes[i].dead};
    for (int s = 0; s < 3; s++) {
      put(t, "manta_actors{class=\"");
      put_label(t, m->classes[i].name);
      put(t, "\",state=\"%s\"} %" PRId64 "\n", states[s], counts[s]);
    }
  }
  head(t, "manta_actor_calls_total", "counter",
       "Actor method calls that ran on this node, by class.");
  for (size_t i = 0; i < m->nclasses; i++) {
    series(t, "manta_actor_calls_total", "class", m->classes[i].name);
    put(t, "%" PRIu64 "\n", m->classes[i].calls);
  }
}

static void resources(text *t, const mt_metrics *m) {
  static const char *names[2] = {"manta_resource_capacity",
                                 "manta_resource_available"};
  static const char *helps[2] = {
      "Quantity of a resource this node has, by resource name.",
      "Quantity of a resource free on this node now, by resource name."};
  for (int which = 0; which < 2; which++) {
    head(t, names[which], "gauge", helps[which]);
    for (int k = 0; k < m->nres; k++) {
      series(t, names[which], "resource", m->res[k].name);
      put_double(t, which ? m->res[k].available : m->res[k].total);
    }
  }
}

static void peers(text *t, const mt_metrics *m) {
  if (!m->cluster) {
    return;
  }
  head(t, "manta_peer_up", "gauge",
       "Whether the head counts a node of the cluster alive (1) or dead "
       "(0), by node id, as this node's view says.");
  char id[17];
  for (size_t i = 0; i < m->npeers; i++) {
    snprintf(id, sizeof id, "%016" PRIx64, m->peers[i].node_id);
    series(t, "manta_peer_up", "node", id);
    put(t, "%d\n", m->peers[i].alive ? 1 : 0);
  }
  head(t, "manta_peer_heartbeat_age_seconds", "gauge",
       "Time since the head last heard a node's heartbeat, by node id, as "
       "of this node's view.");
  for (size_t i = 0; i < m->npeers; i++) {
    snprintf(id, sizeof id, "%016" PRIx64, m->peers[i].node_id);
    series(t, "manta_peer_heartbeat_age_seconds", "node", id);
    put_double(t, m->peers[i].heartbeat_age_s);
  }
  static const char *const names[2] = {"manta_transfer_received_bytes_total",
                                       "manta_transfer_sent_bytes_total"};
  static const char *const helps[2] = {
      "Object bytes this node fetched from each node, by node id "
      "(0000000000000000: nodes beyond the first 256).",
      "Object bytes this node sent to each node that fetched them, by node "
      "id (0000000000000000: nodes beyond the first 256)."};
  for (int which = 0; which < 2; which++) {
    head(t, names[which], "counter", helps[which]);
    for (size_t i = 0; i < m->ntransfers; i++) {
      snprintf(id, sizeof id, "%016" PRIx64, m->transfers[i].node_id);
      series(t, names[which], "node", id);
      put(t, "%" PRIu64 "\n",
          which ? m->transfers[i].sent : m->transfers[i].received);
    }
  }
}

/* gRPC traffic: messages both ways, and calls ended by side and status code
 * (an error is a code other than OK). Only codes seen are listed, OK
 * always, so the series exist from the first scrape. */
static void grpc(text *t, const mt_metrics *m) {
  if (!m->cluster) {
    return;
  }
  head(t, "manta_grpc_messages_sent_total", "counter",
       "gRPC messages this node sent: requests, replies and stream "
       "messages (batches of tasks, results, object chunks).");
  put(t, "manta_grpc_messages_sent_total %" PRIu64 "\n", m->grpc_sent);
  head(t, "manta_grpc_messages_received_total", "counter",
       "gRPC messages this node received.");
  put(t, "manta_grpc_messages_received_total %" PRIu64 "\n", m->grpc_received);
  head(t, "manta_grpc_calls_total", "counter",
       "gRPC calls ended, by side (client: calls this node made; server: "
       "calls it answered or refused) and status code; codes other than OK "
       "are errors.");
  static const char *const sides[2] = {"client", "server"};
  for (int side = 0; side < 2; side++) {
    for (int code = 0; code < MT_METRICS_GRPC_CODES; code++) {
      uint64_t n = m->grpc_calls[side][code];
      if (n || code == 0) {
        put(t, "manta_grpc_calls_total{side=\"%s\",code=\"%s\"} %" PRIu64 "\n",
            sides[side], mt_tp_code_name(code), n);
      }
    }
  }
}

char *mt_metrics_render(const mt_metrics *m, size_t *len) {
  text t = {0};
  char id[17];
  snprintf(id, sizeof id, "%016" PRIx64, m->node_id);
  head(&t, "manta_node_info", "gauge",
       "Always 1; names this node (its id) for joins.");
  series(&t, "manta_node_info", "node", id);
  put(&t, "1\n");
  tasks(&t, m);
  actors(&t, m);
  gauge(&t, "manta_objects", "Objects held on this node (live refs).",
        (double)m->objects);
  gauge(&t, "manta_object_bytes",
        "Bytes of string and bytes data of the objects held on this node, "
        "in memory.",
        (double)m->object_bytes);
  gauge(&t, "manta_objects_borrowed",
        "Of those, objects that live on another node (their owner or where "
        "their task ran): this node holds refs to them.",
        (double)m->objects_borrowed);
  gauge(&t, "manta_objects_lent",
        "Of those, objects of this node that other nodes hold refs to.",
        (double)m->objects_lent);
  gauge(&t, "manta_objects_in_transfer",
        "Of the borrowed objects, those being fetched to this node now.",
        (double)m->objects_in_transfer);
  gauge(&t, "manta_object_spilled_bytes",
        "Bytes of the objects of this node held only in spill files.",
        (double)m->spilled_bytes);
  gauge(&t, "manta_object_store_limit_bytes",
        "Object bytes this node keeps in memory before spilling (0: none).",
        (double)m->store_limit);
  resources(&t, m);
  gauge(&t, "manta_worker_threads", "Worker threads alive in the pool.",
        m->workers_total);
  gauge(&t, "manta_worker_threads_idle",
        "Worker threads of the pool sleeping for want of work.",
        m->workers_idle);
  gauge(&t, "manta_worker_threads_busy",
        "Worker threads of the pool running a batch or an actor turn.",
        m->workers_busy);
  peers(&t, m);
  grpc(&t, m);
  if (t.oom) {
    free(t.p);
    return NULL;
  }
  *len = t.len;
  return t.p;
}
