/*
 * Streaming returns (streams.c): a call submitted as a stream emits items
 * while it runs (manta_emit); its caller reads them in order, paced by a
 * window of unread items. The same mt_stream is both ends when the call
 * runs here; when it runs on another node, the caller's stream is fed by
 * the cluster (items arriving on the link) and the producer's node has a
 * sink stream that sends them (runtime/cluster/stream_link.c). The core
 * knows no network: the cluster gives its sending and crediting functions.
 */
#ifndef MT_STREAMS_H
#define MT_STREAMS_H

#include "rt.h"

/* Unread items a stream holds when its options do not say. */
#define MT_STREAM_WINDOW_DEFAULT 1024
/* The most a window may be. */
#define MT_STREAM_WINDOW_MAX (1u << 20)

typedef struct mt_stream mt_stream;

/* How a producer's items leave this node (a sink stream), under rt.mu. */
typedef struct mt_stream_sink_ops {
  /* Sends item `index` (v borrowed, frozen); false when the consumer is
   * gone, which manta_emit answers with MANTA_ERR_CANCELLED. */
  bool (*send_locked)(void *ctx, uint64_t index, const manta_value *v,
                      mt_garbage *g);
  /* The sink is being freed (its task ended): forget ctx. */
  void (*detach_locked)(void *ctx, mt_garbage *g);
} mt_stream_sink_ops;

/* How a consumer here tells the remote producer what it read (read: items
 * read so far) or that it let go (cancel), under rt.mu. */
typedef void (*mt_stream_credit_fn)(uint64_t node, uint64_t seq, uint64_t read,
                                    bool cancel, mt_garbage *g);

/* ---- what the task machinery calls ------------------------------------- */

/* The stream the next task allocated on this thread produces for, with its
 * count (NULL: none); mt_task_alloc takes it. */
mt_stream *mt_stream_take_submitting(void);
/* Makes s the stream that manta_emit feeds on this thread while a task
 * runs; returns the previous one (to give back to mt_stream_leave). */
mt_stream *mt_stream_enter(mt_stream *s);
void mt_stream_leave(mt_stream *prev);
/* Drops a count (the task's); with or without rt.mu as named. */
void mt_stream_release_locked(mt_stream *s, mt_garbage *g);
void mt_stream_release(mt_stream *s);
/* Shutdown: producers and consumers blocked in streams return (before the
 * workers are joined); then every stream is forgotten. */
void mt_streams_wake_all_locked(void);
void mt_streams_shutdown_locked(mt_garbage *g);

/* ---- what the cluster calls --------------------------------------------- */

/* Sets the function that sends credits to remote producers. */
void mt_stream_set_credit_fn(mt_stream_credit_fn fn);
/* The window of a stream (what the producer may send unread). */
size_t mt_stream_window(const mt_stream *s);
/* A stream task was sent to node `node` as number `seq` of that link: its
 * credits go there from now on (again, if it is sent once more). */
void mt_stream_bind_remote_locked(mt_stream *s, uint64_t node, uint64_t seq,
                                  mt_garbage *g);
/* Item `index` of a stream whose producer runs elsewhere (v taken); an
 * item seen already (the call ran again) is dropped. */
void mt_stream_push_remote_locked(mt_stream *s, uint64_t index, manta_value *v,
                                  mt_garbage *g);
/* A producer's end on this node for a consumer on another: counted once
 * (for mt_stream_set_submitting). NULL on OOM. */
mt_stream *mt_stream_sink_new(const mt_stream_sink_ops *ops, void *ctx,
                              size_t window);
/* The consumer read `read` items, or let go (cancel). */
void mt_stream_sink_credit_locked(mt_stream *s, uint64_t read, bool cancel);
/* The consumer is gone (its link closed): the producer stops. */
void mt_stream_sink_gone_locked(mt_stream *s);
/* Makes s (its count taken) the stream of the next task allocated on this
 * thread; mt_stream_clear_submitting drops it if no task took it. */
void mt_stream_set_submitting(mt_stream *s);
void mt_stream_clear_submitting(void);

#endif
