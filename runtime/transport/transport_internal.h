/*
 * What the parts of the transport share (transport_poller.c,
 * transport_calls.c, transport_server.c, transport_client.c): completion
 * tags, the queue, call bookkeeping, the stream object and small helpers
 * over gRPC's buffers and metadata. Never included outside transport/.
 */
#ifndef MT_TRANSPORT_INTERNAL_H
#define MT_TRANSPORT_INTERNAL_H

#include "transport.h"

#include <grpc/byte_buffer.h>
#include <grpc/byte_buffer_reader.h>
#include <grpc/grpc.h>
#include <grpc/support/time.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stddef.h>

/* A completion-queue tag: what to do when its batch completes. */
typedef struct tp_op {
  void (*done)(struct tp_op *op, bool ok);
  /* Bumped (release) before the tag goes to gRPC, read (acquire) when it
   * comes back: the hand-over through gRPC's own, uninstrumented
   * synchronization made visible to ThreadSanitizer. */
  _Atomic unsigned armed;
} tp_op;

/* The object holding the tag `op` as its member `member`. */
#define OWNER_OF(op, type, member)                                             \
  ((type *)(void *)((char *)(op)-offsetof(type, member)))

static inline void *tp_arm(tp_op *op) {
  atomic_fetch_add_explicit(&op->armed, 1, memory_order_release);
  return op;
}

static inline grpc_call_error tp_batch(grpc_call *call, const grpc_op *ops,
                                       size_t n, tp_op *tag) {
  return grpc_call_start_batch(call, ops, n, tp_arm(tag), NULL);
}

/* The completion queue the pollers run (transport_poller.c). */
grpc_completion_queue *tp_queue(void);

/* Borrowed bytes that follow a message's own (mt_tp_stream_fill_ref). */
typedef struct tp_ref {
  const void *data;
  size_t len;
  void (*done)(void *arg);
  void *arg;
} tp_ref;

/* Who waits for calls to end: a server or a channel. */
typedef struct tp_owner {
  pthread_mutex_t mu;
  pthread_cond_t cv;
  int live; /* calls not yet unreferenced */
  bool closing;
  struct tp_call *calls; /* live calls, for cancelling at close */
} tp_owner;

/* What every call object starts with. */
typedef struct tp_call {
  struct tp_call *next, *prev;
  tp_owner *owner;
  grpc_call *call;
} tp_call;

struct mt_tp_stream {
  tp_call base;
  pthread_mutex_t mu;
  int refs; /* holders + batches in flight */
  bool is_server;
  const mt_tp_stream_handlers *h;
  void *arg;
  tp_op start_op, recv_op, send_op, end_op, finish_op;
  grpc_byte_buffer *recv_buf;
  bool sending;    /* a SEND_MESSAGE (or fill) is under way */
  bool kick_again; /* a kick came while sending */
  bool recv_ended; /* no more messages will arrive */
  bool delivering; /* a thread hands received messages to the handler */
  bool queued_set; /* a receive completed while delivering: */
  grpc_byte_buffer *queued; /* its message, or NULL for the end */
  bool end_seen;            /* status (client) or close (server) arrived */
  bool closed;              /* on_closed reported, or about to be */
  bool finishing;           /* server: status sent or to be sent */
  bool finish_wanted;       /* server: send status once the send completes */
  bool in_fill;             /* fill is running: on_closed waits for it */
  pthread_cond_t fill_cv;
  int finish_status;
  char *finish_detail;
  grpc_metadata md_out[2];
  grpc_metadata_array md_in, trailing;
  grpc_status_code status;
  grpc_slice status_details;
  int cancelled;
  tp_ref fill_ref; /* set by fill (mt_tp_stream_fill_ref), taken by the pump */
  char peer[96];
};

/* Helpers over gRPC's buffers, slices and metadata (transport_calls.c). */
gpr_timespec tp_deadline_after(int64_t ms);
bool tp_read_buffer(grpc_byte_buffer *bb, mt_tp_buf *out);
bool tp_take_received(grpc_byte_buffer **slot, bool ok, mt_tp_buf *out);
grpc_byte_buffer *tp_copy_buffer(const uint8_t *data, size_t len);
char *tp_slice_string(grpc_slice s);
bool tp_slice_is(grpc_slice s, const char *text);
bool tp_token_matches(grpc_slice got, const char *want);
size_t tp_outgoing_metadata(grpc_metadata md[2], const char *token);
grpc_channel_args *tp_message_size_args(void);
/* Call bookkeeping: a server or channel waits for its calls to end. */
void tp_owner_init(tp_owner *o);
void tp_owner_add(tp_owner *o, tp_call *c);
void tp_owner_remove(tp_call *c);
void tp_owner_close(tp_owner *o);
void tp_owner_destroy(tp_owner *o);
/* Streams: starting a batch on one, posting its next receive, making one
 * for a call (server or client side). */
bool tp_start_locked(mt_tp_stream *s, const grpc_op *ops, size_t n, tp_op *tag);
void tp_post_recv_locked(mt_tp_stream *s);
mt_tp_stream *tp_stream_new(grpc_call *call, bool is_server);

#endif
