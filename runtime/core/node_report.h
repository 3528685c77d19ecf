/*
 * What this node tells the dashboard about itself (/api/node): the
 * /metrics snapshot plus what a page shows and Prometheus must not (one
 * row per actor, the recent errors, the process's memory). Copied out
 * under rt.mu, rendered as JSON without it (runtime/http/api_json.c).
 */
#ifndef MT_NODE_REPORT_H
#define MT_NODE_REPORT_H

#include "errlog.h"
#include "metrics.h"

/* At most this many actors are listed per node (the count says how many
 * there are): a page of rows, not an unbounded document. */
#define MT_REPORT_MAX_ACTORS 1000

typedef struct mt_report_actor {
  uint64_t id;
  char cls[128];
  char name[128]; /* "" when unnamed */
  int state;      /* MT_ACTOR_* */
  uint64_t calls;
  unsigned running;
  unsigned queued; /* calls in its mailbox */
} mt_report_actor;

typedef struct mt_node_report {
  mt_metrics m;
  char address[64]; /* where the node serves gRPC ("" embedded): filled
                     * by the caller, since the core knows no network */
  int64_t time_ms;  /* wall clock of the snapshot */
  int64_t rss_bytes;
  mt_report_actor *actors;
  size_t nactors, actors_total;
  mt_errlog_entry errors[MT_ERRLOG_SIZE]; /* newest first */
  size_t nerrors;
  uint64_t errors_total;
} mt_node_report;

/* Fills r (takes rt.mu); false when the runtime is not running or memory
 * ran out (r is then empty). */
bool mt_node_report_collect(mt_node_report *r);
void mt_node_report_free(mt_node_report *r);

#endif
