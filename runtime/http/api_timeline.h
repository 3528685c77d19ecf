/*
 * The timeline's documents: a node's events (/api/timeline, asked by
 * Node.Observe) and the cluster's Chrome trace built from them
 * (manta_timeline, `manta timeline`).
 */
#ifndef MT_API_TIMELINE_H
#define MT_API_TIMELINE_H

#include "api_json.h"
#include "manta/v1/cluster_wire.pb-c.h"
#include "timeline.h"

/* A node's timeline document: node_id, address, capacity (0: off),
 * dropped, events [{name, kind, id, calls, worker, start_ns, end_ns}]: a run of
 * calls of one function by one worker, id the first call's ref. */
json_t *mt_api_timeline_node_json(uint64_t node_id, const char *address,
                                  int64_t capacity, const mt_tl_event *ev,
                                  size_t n, uint64_t dropped);

/* Chrome trace-event JSON (the object form: traceEvents, displayTimeUnit,
 * otherData) of the nodes of st, docs[i] being node i's timeline document
 * (NULL: none, whys[i] says why). Node i is process i + 1, worker w
 * thread w; times in microseconds from the earliest event. */
json_t *mt_api_trace_json(const Manta__V1__ClusterStatusReply *st,
                          json_t *const *docs, const char *const *whys);

/* This node's timeline document; NULL on OOM. */
json_t *mt_api_timeline_local(void);

#endif
