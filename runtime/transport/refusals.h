/*
 * Log lines for calls refused before any method ran (no or a wrong token, a
 * protocol version not served). One line per refused call would let any
 * client that can connect flood the log (issue 15 saw 1,670 lines in one
 * test): each peer host gets one line when it is first refused, then at
 * most one line per interval with the count of calls refused since. The
 * counts of all lines add up to the calls refused.
 */
#ifndef MT_REFUSALS_H
#define MT_REFUSALS_H

#include <stdint.h>

/* How often one peer's refusals are logged, at most (10 s). */
#define MT_REFUSALS_INTERVAL_MS 10000
/* Peers counted one by one; more at once share one line. */
#define MT_REFUSALS_PEERS 64

typedef struct mt_refusals mt_refusals;

/* Where lines go: the log (NULL emit) or a test's collector. */
typedef void (*mt_refusals_emit)(void *arg, const char *line);

mt_refusals *mt_refusals_new(int64_t interval_ms, mt_refusals_emit emit,
                             void *arg);
/* Logs what was counted but not yet said, then frees. */
void mt_refusals_free(mt_refusals *r);

/*
 * Counts one refused call of method from peer (gRPC's "ipv4:HOST:PORT":
 * the port is not part of the key, each connection has its own), at
 * now_ms on a monotonic clock. Thread-safe.
 */
void mt_refusals_note(mt_refusals *r, const char *peer, const char *method,
                      const char *why, int64_t now_ms);

#endif
