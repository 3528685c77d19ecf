/*
 * What a node counts for its /metrics page (docs/observability.md), and a
 * snapshot of it that the HTTP layer renders as Prometheus text. Counters
 * live in the structs they count (a function, an actor class) and change
 * under rt.mu where the runtime already holds it: no lock and no clock read
 * of their own on the hot path.
 */
#ifndef MT_METRICS_H
#define MT_METRICS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* Upper bounds of the run-time histogram's buckets, in ns (the last
 * bucket, +Inf, is implicit). Fixed: a histogram's buckets must not change
 * while Prometheus scrapes it. */
#define MT_RUN_BUCKETS 12
extern const uint64_t mt_run_bucket_ns[MT_RUN_BUCKETS];

/* One function's counts on this node (rt.mu). */
typedef struct mt_fn_stats {
  uint64_t submitted; /* calls submitted here (by this process or a peer) */
  uint64_t finished;  /* ran here and returned, failed ones included */
  uint64_t failed;    /* of those, the ones that returned an error */
  uint64_t retried;   /* run or sent again (node died, retry_exceptions,
                         lineage) */
  int64_t running;    /* taken by a worker here and not finished */
  uint64_t runs;      /* observations in the histogram */
  uint64_t run_ns;    /* their sum */
  uint64_t bucket[MT_RUN_BUCKETS + 1]; /* per bucket, not cumulative */
} mt_fn_stats;

/* Counts one run of ns nanoseconds into the histogram. */
static inline void mt_fn_stats_run(mt_fn_stats *s, uint64_t ns) {
  unsigned b = 0;
  while (b < MT_RUN_BUCKETS && ns > mt_run_bucket_ns[b]) {
    b++;
  }
  s->bucket[b]++;
  s->runs++;
  s->run_ns += ns;
}

typedef struct mt_metrics_fn {
  char *name;
  mt_fn_stats st;
} mt_metrics_fn;

typedef struct mt_metrics_class {
  char *name;
  int64_t alive;   /* actors of this class alive on this node */
  int64_t pending; /* created, constructor not run yet */
  int64_t dead;    /* dead (killed, failed) but still held by a handle */
  uint64_t calls;  /* method calls that ran here */
} mt_metrics_class;

typedef struct mt_metrics_resource {
  char name[64];
  double total, available;
} mt_metrics_resource;

typedef struct mt_metrics_peer {
  uint64_t node_id;
  bool alive;
  double heartbeat_age_s; /* since the head last heard from it */
} mt_metrics_peer;

/* gRPC's status codes, 0 (OK) to 16 (UNAUTHENTICATED). */
#define MT_METRICS_GRPC_CODES 17

/* Everything /metrics shows, copied out under rt.mu in one go. */
typedef struct mt_metrics {
  uint64_t node_id;
  mt_metrics_fn *fns;
  size_t nfns;
  uint64_t submitted_other; /* calls of names this node does not offer */
  uint64_t tasks_retried;   /* run again (mt_note_retry_locked) */
  uint64_t retried_other;   /* of those, of names not registered here */
  int64_t tasks_queued, tasks_running;
  mt_metrics_class *classes;
  size_t nclasses;
  int64_t objects, object_bytes; /* bytes in memory */
  /* Of the objects: living on another node (this node holds a ref to
   * them), lent (another node holds a ref to them), being fetched now. */
  int64_t objects_borrowed, objects_lent, objects_in_transfer;
  int64_t spilled_bytes, store_limit; /* in spill files; 0: no limit */
  mt_metrics_resource res[16];        /* MT_MAX_RESOURCES */
  int nres;
  unsigned workers_total, workers_idle, workers_busy;
  /* Object bytes moved per peer (cluster mode); set by the cluster's
   * metrics hook. */
  struct mt_transfer_peer *transfers;
  size_t ntransfers;
  /* gRPC traffic (cluster mode; set by the cluster's metrics hook from the
   * transport's counts): messages, and calls ended by side (0 client, 1
   * server) and gRPC status code (MT_METRICS_GRPC_CODES of them). */
  uint64_t grpc_sent, grpc_received;
  uint64_t grpc_calls[2][MT_METRICS_GRPC_CODES];
  bool cluster; /* the peers below mean something */
  mt_metrics_peer *peers;
  size_t npeers;
} mt_metrics;

/* Fills m from the runtime (takes rt.mu); false when it is not running or
 * memory ran out (m is then empty). */
bool mt_metrics_collect(mt_metrics *m);
void mt_metrics_free(mt_metrics *m);

/* The snapshot as Prometheus text (exposition format 0.0.4), malloc'd;
 * NULL when memory runs out. */
char *mt_metrics_render(const mt_metrics *m, size_t *len);

#endif
