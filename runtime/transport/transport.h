/*
 * The transport: gRPC core's C API behind a small interface. This is the
 * only place that includes grpc/grpc.h; the cluster code sees bytes in and
 * bytes out, unary calls and message streams.
 *
 * Threads: one completion queue served by a few poller threads. Every
 * callback below runs on a poller thread and must not block for long (it
 * may take short locks). Callbacks of one stream never run concurrently with
 * each other for the same direction (one receive and one send are in flight
 * at a time), but a receive callback may run beside a send-side callback.
 *
 * Bodies handed to callbacks are borrowed for the callback's duration.
 */
#ifndef MT_TRANSPORT_H
#define MT_TRANSPORT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* gRPC status codes this code uses (the numbers are gRPC's). */
enum {
  MT_TP_OK = 0,
  MT_TP_CANCELLED = 1,
  MT_TP_UNKNOWN = 2,
  MT_TP_INVALID_ARGUMENT = 3,
  MT_TP_DEADLINE_EXCEEDED = 4,
  MT_TP_NOT_FOUND = 5,
  MT_TP_RESOURCE_EXHAUSTED = 8,
  MT_TP_FAILED_PRECONDITION = 9,
  MT_TP_UNIMPLEMENTED = 12,
  MT_TP_INTERNAL = 13,
  MT_TP_UNAVAILABLE = 14,
  MT_TP_UNAUTHENTICATED = 16
};

/* gRPC has this many status codes (0 OK to 16 UNAUTHENTICATED). */
#define MT_TP_CODES 17

/* The detail (status UNAVAILABLE) of calls a stopping server ends. */
#define MT_TP_STOPPING "the node is stopping"
/* The protocol version sent and checked in metadata on every call. */
#define MT_TP_PROTOCOL "1"
/* Largest message either side accepts; objects beyond it move in chunks. */
#define MT_TP_MAX_MESSAGE (64 * 1024 * 1024)

/*
 * TLS of a server or a channel, as PEM text (not paths; the caller keeps
 * it, gRPC copies it). A server with cert and key serves TLS, and with ca
 * demands client certificates signed by it (mutual TLS). A channel with ca
 * or a cert speaks TLS: it checks the server against ca (the system's
 * roots without one) under the name MT_TP_TLS_NAME, and shows cert and
 * key when the server asks. NULL, or all fields NULL: cleartext.
 */
typedef struct mt_tp_tls {
  const char *cert;
  const char *key;
  const char *ca;
} mt_tp_tls;

/* The name a node's certificate must carry (a DNS name in its SAN) and
 * channels check, whatever address they dial: nodes are reached by IP
 * addresses that change and a wildcard bind has none of its own, while
 * the cluster's CA is what says who is a member (docs/security.md). */
#define MT_TP_TLS_NAME "manta"

/* A message body owned by whoever holds it (free with free()). */
typedef struct mt_tp_buf {
  uint8_t *data;
  size_t len;
} mt_tp_buf;

/* Starts gRPC and the pollers; counted, so nested start/stop pairs work.
 * false if gRPC could not start. */
bool mt_tp_start(void);
/* Stops them once every server and channel is closed. */
void mt_tp_stop(void);
/*
 * For a callback on a poller about to run work of unknown length (a
 * received task): between mt_tp_away_begin and mt_tp_away_end another
 * poller takes over receiving if the work lasts (over about a millisecond);
 * mt_tp_step_aside hands receiving over at once, for work about to block.
 * No-ops on threads that are not pollers.
 */
void mt_tp_away_begin(void);
void mt_tp_away_end(void);
void mt_tp_step_aside(void);

/* ---- streams (both sides) ---------------------------------------------- */

typedef struct mt_tp_stream mt_tp_stream;

/* A received message still in the pieces gRPC received it in, for a
 * handler that reads it once, in order, straight to where it belongs
 * (on_pieces); valid for the callback's duration. */
typedef struct mt_tp_msg mt_tp_msg;
/* The message's length in bytes. */
size_t mt_tp_msg_length(const mt_tp_msg *m);
/* Copies the next n bytes (at most those left) to dst; returns how many. */
size_t mt_tp_msg_read(mt_tp_msg *m, void *dst, size_t n);
/* The next bytes as they lie in one piece, at most max of them: *p points
 * at them (valid for the callback) and they count as read. Returns how
 * many; 0 at the end. */
size_t mt_tp_msg_piece(mt_tp_msg *m, const uint8_t **p, size_t max);

typedef struct mt_tp_stream_handlers {
  /* A message arrived (unless on_pieces is set; then it may be NULL). */
  void (*on_message)(void *arg, mt_tp_stream *s, const uint8_t *body,
                     size_t len);
  /* The stream can send: return true with *out set (taken) to send one
   * message, false when there is nothing to send now. Called after
   * mt_tp_stream_kick and after each send completes, never twice at once. */
  bool (*fill)(void *arg, mt_tp_stream *s, mt_tp_buf *out);
  /* The stream ended (peer closed, failed or cancelled); the last callback
   * for this stream: no fill runs during or after it. status is a gRPC
   * code, detail a message. */
  void (*on_closed)(void *arg, mt_tp_stream *s, int status, const char *detail);
  /* Server only: a client's half-close does not end the call; the handler
   * ends it with mt_tp_stream_close (server-streaming replies, or replies
   * still due). on_half_close, if set, is told that no more messages will
   * come (the client half-closed, or the call failed). */
  bool outlive_half_close;
  void (*on_half_close)(void *arg, mt_tp_stream *s);
  /* If set, a message arrived, unflattened: called instead of on_message. */
  void (*on_pieces)(void *arg, mt_tp_stream *s, mt_tp_msg *m);
  /* Optional: called on the thread that ran on_message, once the next
   * message may arrive (so it may run beside later callbacks of the
   * stream): work that must not hold the stream's messages back. */
  void (*after_message)(void);
} mt_tp_stream_handlers;

/* Only inside fill, for the message fill then returns: it is sent as out's
 * bytes followed by data[0..len), which gRPC sends by reference, without a
 * copy. done(arg) runs once gRPC no longer needs the bytes, on any thread,
 * possibly after the stream ended (or at once if nothing is sent). */
void mt_tp_stream_fill_ref(mt_tp_stream *s, const void *data, size_t len,
                           void (*done)(void *arg), void *arg);

/* There may be something to send: calls fill if no send is in flight. */
void mt_tp_stream_kick(mt_tp_stream *s);
/* Ends the stream: a client cancels it, a server finishes it with status.
 * on_closed still follows. */
void mt_tp_stream_close(mt_tp_stream *s, int status, const char *detail);
/* Takes another reference for a new holder. */
void mt_tp_stream_retain(mt_tp_stream *s);
/* Drops the holder's reference (after on_closed, or instead of waiting for
 * it); the stream's memory goes once gRPC is done with it too. */
void mt_tp_stream_release(mt_tp_stream *s);
/* "ipv4:127.0.0.1:port" of the other end (static buffer per stream). */
const char *mt_tp_stream_peer(const mt_tp_stream *s);

/* ---- server ------------------------------------------------------------ */

typedef struct mt_tp_server mt_tp_server;
typedef struct mt_tp_incoming mt_tp_incoming;

typedef struct mt_tp_service {
  void *ctx;
  /* A unary request; answer it (now or later, from any thread) with
   * mt_tp_reply exactly once. */
  void (*unary)(void *ctx, mt_tp_incoming *in, const char *method,
                const uint8_t *body, size_t len);
  /* Whether method is a stream method this service serves; if so,
   * stream_open is called to set its handlers (returning the handler arg),
   * and the server holds one reference, dropped after on_closed. */
  bool (*is_stream)(void *ctx, const char *method);
  void *(*stream_open)(void *ctx, mt_tp_stream *s, const char *method,
                       const mt_tp_stream_handlers **handlers);
  /* Whether method is a unary method of the service (others are answered
   * with UNIMPLEMENTED without calling unary). */
  bool (*is_unary)(void *ctx, const char *method);
} mt_tp_service;

/*
 * Serves svc on bind ("127.0.0.1:0" picks a free port). token, if not NULL
 * or empty, is required in x-manta-token on every call; tls (or NULL) as
 * above. The service must outlive the server. *port_out gets the bound
 * port. NULL on failure (the log says why).
 */
mt_tp_server *mt_tp_server_start(const char *bind, const mt_tp_service *svc,
                                 const char *token, const mt_tp_tls *tls,
                                 int *port_out);
/* Stops serving: open calls are cancelled, their callbacks run, and this
 * returns once none is left. */
void mt_tp_server_stop(mt_tp_server *srv);
/* Answers a unary request: status MT_TP_OK with a body, or an error status
 * with detail. The body is copied. */
void mt_tp_reply(mt_tp_incoming *in, int status, const char *detail,
                 const uint8_t *body, size_t len);

/* ---- client ------------------------------------------------------------ */

typedef struct mt_tp_channel mt_tp_channel;

/* A channel to "host:port"; connects lazily. token as for the server, tls
 * (or NULL) as above. */
mt_tp_channel *mt_tp_channel_open(const char *address, const char *token,
                                  const mt_tp_tls *tls);
/* Cancels the channel's open calls and frees it once they have ended. */
void mt_tp_channel_close(mt_tp_channel *ch);

typedef void (*mt_tp_unary_done)(void *arg, int status, const char *detail,
                                 const uint8_t *body, size_t len);
/* Starts a unary call; done runs exactly once (also on failure). timeout_ms
 * <= 0 means no deadline. */
void mt_tp_unary(mt_tp_channel *ch, const char *method, const uint8_t *body,
                 size_t len, int64_t timeout_ms, mt_tp_unary_done done,
                 void *arg);
/* A unary call waited for; the reply body (on MT_TP_OK) goes to *reply, the
 * detail of a failure to detail[size]. Returns the status. Must not be
 * called from a poller thread. */
int mt_tp_unary_sync(mt_tp_channel *ch, const char *method, const uint8_t *body,
                     size_t len, int64_t timeout_ms, mt_tp_buf *reply,
                     char *detail, size_t size);
/* Opens a stream call; NULL only when out of memory. The caller holds one
 * reference (mt_tp_stream_release). Failures arrive through on_closed. */
mt_tp_stream *mt_tp_stream_open(mt_tp_channel *ch, const char *method,
                                const mt_tp_stream_handlers *h, void *arg);

/* ---- counts (transport_stats.c) ---------------------------------------- */

/* gRPC traffic of this process since it started, for /metrics: messages
 * sent and received on every call (unary and streams, both sides), and
 * calls ended, by side (0 client, 1 server) and gRPC status code. Counts
 * only grow; a process that starts the transport again keeps counting. */
typedef struct mt_tp_counts {
  uint64_t messages_sent, messages_received;
  uint64_t calls[2][MT_TP_CODES];
} mt_tp_counts;

void mt_tp_counts_copy(mt_tp_counts *out);
/* gRPC's name of a status code ("OK", "UNAVAILABLE", ...). */
const char *mt_tp_code_name(int code);
/* Counting, for the transport's own files. */
void mt_tp_count_sent(void);
void mt_tp_count_received(void);
void mt_tp_count_call(bool server, int status);

#endif
