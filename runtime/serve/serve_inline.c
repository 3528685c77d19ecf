/*
 * The inline policy (serve_inline.h). A call run inside libmicrohttpd's
 * access handler is answered at once, as a plain server answers, instead
 * of waiting for every call the same pass read and for the next pass; but
 * while it runs, the loop is held and the other poller cannot take the
 * turn over (the loop is one thread's at a time). So a route's calls run
 * inline only once INLINE_STREAK results in a row, run the usual way, came
 * within FAST_NS of their submission; an inline call that lasts SLOW_NS or
 * more, or blocks (get, wait), sends the route back to the usual way until
 * INLINE_BACKOFF times more fast results in a row, every time. A route
 * whose calls last, or never answered fast, never runs inline: its calls
 * hold nobody. One that turns slow holds the connections of that poller's
 * loop for its first slow call, then for fewer and fewer.
 */
#include "serve_inline.h"

#include "log.h"

#include <stdatomic.h>

enum {
  INLINE_STREAK = 16,
  INLINE_BACKOFF = 8,
  FAST_NS = 250 * 1000,
  SLOW_NS = 1000 * 1000,
};
/* More fast results than a route ever gets: the usual way for good. */
#define INLINE_NEVER ((int64_t)1 << 40)

static int64_t needed(mt_serve_dep *d) {
  int64_t n = atomic_load(&d->inline_after);
  return n ? n : INLINE_STREAK;
}

bool mt_serve_inline_ok(mt_serve_dep *d) {
  return atomic_load(&d->fast_streak) >= needed(d);
}

void mt_serve_inline_learn(mt_serve_dep *d, int64_t took_ns) {
  if (took_ns >= FAST_NS) {
    atomic_store(&d->fast_streak, 0);
  } else if (atomic_load(&d->fast_streak) < INLINE_NEVER) {
    atomic_fetch_add(&d->fast_streak, 1);
  }
}

void mt_serve_inline_ran(mt_serve_dep *d, int64_t took_ns, bool blocked) {
  if (took_ns < SLOW_NS && !blocked) {
    return;
  }
  int64_t n = needed(d);
  n = n >= INLINE_NEVER / INLINE_BACKOFF ? INLINE_NEVER : n * INLINE_BACKOFF;
  atomic_store(&d->inline_after, n);
  atomic_store(&d->fast_streak, 0);
  mt_log(MT_LOG_INFO,
         "serve: route %s: a call held the ingress's loop for %.1f ms%s; "
         "its calls run after the loop until %lld in a row answer within "
         "%d us",
         d->spec.route, (double)took_ns / 1e6, blocked ? " (it blocked)" : "",
         (long long)n, FAST_NS / 1000);
}
