/*
 * Counts of gRPC traffic (transport.h, "counts"), for /metrics: relaxed
 * atomics, since each is one add beside a gRPC batch that costs a thousand
 * times more, and a scrape needs no snapshot across counters.
 */
#include "transport.h"

#include <stdatomic.h>

static struct {
  atomic_uint_fast64_t sent, received;
  atomic_uint_fast64_t calls[2][MT_TP_CODES];
} counts;

void mt_tp_count_sent(void) {
  atomic_fetch_add_explicit(&counts.sent, 1, memory_order_relaxed);
}

void mt_tp_count_received(void) {
  atomic_fetch_add_explicit(&counts.received, 1, memory_order_relaxed);
}

void mt_tp_count_call(bool server, int status) {
  if (status < 0 || status >= MT_TP_CODES) {
    status = MT_TP_UNKNOWN; /* gRPC has no other codes; kept bounded */
  }
  atomic_fetch_add_explicit(&counts.calls[server][status], 1,
                            memory_order_relaxed);
}

void mt_tp_counts_copy(mt_tp_counts *out) {
  out->messages_sent = atomic_load_explicit(&counts.sent, memory_order_relaxed);
  out->messages_received =
      atomic_load_explicit(&counts.received, memory_order_relaxed);
  for (int side = 0; side < 2; side++) {
    for (int code = 0; code < MT_TP_CODES; code++) {
      out->calls[side][code] =
          atomic_load_explicit(&counts.calls[side][code], memory_order_relaxed);
    }
  }
}

const char *mt_tp_code_name(int code) {
  static const char *const names[MT_TP_CODES] = {"OK",
                                                 "CANCELLED",
                                                 "UNKNOWN",
                                                 "INVALID_ARGUMENT",
                                                 "DEADLINE_EXCEEDED",
                                                 "NOT_FOUND",
                                                 "ALREADY_EXISTS",
                                                 "PERMISSION_DENIED",
                                                 "RESOURCE_EXHAUSTED",
                                                 "FAILED_PRECONDITION",
                                                 "ABORTED",
                                                 "OUT_OF_RANGE",
                                                 "UNIMPLEMENTED",
                                                 "INTERNAL",
                                                 "UNAVAILABLE",
                                                 "DATA_LOSS",
                                                 "UNAUTHENTICATED"};
  return code >= 0 && code < MT_TP_CODES ? names[code] : "UNKNOWN";
}
