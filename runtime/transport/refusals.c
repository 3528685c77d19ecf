/* Rate-limited lines for refused calls (refusals.h). */
#include "refusals.h"

#include "log.h"

#include <pthread.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

typedef struct peer_count {
  char host[80];    /* "" : a free slot */
  int64_t said_ms;  /* when its last line was written */
  uint64_t pending; /* refused since then, not yet said */
  char last[200];   /* the last refused method and why */
} peer_count;

struct mt_refusals {
  pthread_mutex_t mu;
  int64_t interval_ms;
  mt_refusals_emit emit;
  void *arg;
  peer_count peers[MT_REFUSALS_PEERS];
  peer_count others; /* every peer beyond MT_REFUSALS_PEERS active at once */
};

static void emit_line(mt_refusals *r, const char *line) {
  if (r->emit) {
    r->emit(r->arg, line);
  } else {
    mt_log(MT_LOG_WARN, "%s", line);
  }
}

/* Says how many calls of p were refused since its last line (now_ms < 0:
 * the server is stopping). */
static void say_pending(mt_refusals *r, peer_count *p, int64_t now_ms) {
  char line[400], since[64];
  if (now_ms < 0) {
    snprintf(since, sizeof since, "before the server stopped");
  } else {
    snprintf(since, sizeof since, "in the last %lld s",
             (long long)((now_ms - p->said_ms + 999) / 1000));
  }
  snprintf(line, sizeof line,
           "transport: refused %llu more call(s) from %s %s (last: %s)",
           (unsigned long long)p->pending, p->host, since, p->last);
  emit_line(r, line);
  p->pending = 0;
  p->said_ms = now_ms;
}

mt_refusals *mt_refusals_new(int64_t interval_ms, mt_refusals_emit emit,
                             void *arg) {
  mt_refusals *r = calloc(1, sizeof *r);
  if (r) {
    pthread_mutex_init(&r->mu, NULL);
    r->interval_ms = interval_ms;
    r->emit = emit;
    r->arg = arg;
    snprintf(r->others.host, sizeof r->others.host, "other peers");
  }
  return r;
}

void mt_refusals_free(mt_refusals *r) {
  if (!r) {
    return;
  }
  for (int i = 0; i < MT_REFUSALS_PEERS; i++) {
    if (r->peers[i].pending) {
      say_pending(r, &r->peers[i], -1);
    }
  }
  if (r->others.pending) {
    say_pending(r, &r->others, -1);
  }
  pthread_mutex_destroy(&r->mu);
  free(r);
}

/* The slot of host: its own, a free one, or one whose interval is over
 * (said first if it has anything pending); NULL when all are busy. */
static peer_count *slot_of(mt_refusals *r, const char *host, int64_t now_ms) {
  peer_count *reuse = NULL;
  for (int i = 0; i < MT_REFUSALS_PEERS; i++) {
    peer_count *p = &r->peers[i];
    if (strcmp(p->host, host) == 0) {
      return p;
    }
    if (!reuse && (!p->host[0] || now_ms - p->said_ms >= r->interval_ms)) {
      reuse = p;
    }
  }
  if (reuse) {
    if (reuse->pending) {
      say_pending(r, reuse, now_ms);
    }
    memset(reuse, 0, sizeof *reuse);
    snprintf(reuse->host, sizeof reuse->host, "%s", host);
  }
  return reuse;
}

void mt_refusals_note(mt_refusals *r, const char *peer, const char *method,
                      const char *why, int64_t now_ms) {
  if (!r) { /* out of memory when the server started: plain lines */
    mt_log(MT_LOG_WARN, "transport: refused %s from %s: %s", method, peer, why);
    return;
  }
  /* "ipv4:127.0.0.1:54321" -> "ipv4:127.0.0.1". */
  char host[80];
  const char *colon = strrchr(peer, ':');
  size_t len = colon && colon > peer ? (size_t)(colon - peer) : strlen(peer);
  snprintf(host, sizeof host, "%.*s", (int)len, peer);
  pthread_mutex_lock(&r->mu);
  peer_count *p = slot_of(r, host, now_ms);
  bool first = p && p->said_ms == 0 && p->pending == 0;
  if (!p) {
    p = &r->others;
    first = p->said_ms == 0 && p->pending == 0;
  }
  snprintf(p->last, sizeof p->last, "%s: %s", method, why);
  if (first) {
    char line[500];
    snprintf(line, sizeof line,
             "transport: refused %s from %s: %s (more refusals from it are "
             "counted, one line every %lld s at most)",
             method, p->host, why, (long long)(r->interval_ms / 1000));
    emit_line(r, line);
    /* 0 means "never said": a clock that starts at 0 must not reset it. */
    p->said_ms = now_ms ? now_ms : 1;
  } else {
    p->pending++;
    if (now_ms - p->said_ms >= r->interval_ms) {
      say_pending(r, p, now_ms);
    }
  }
  pthread_mutex_unlock(&r->mu);
}
