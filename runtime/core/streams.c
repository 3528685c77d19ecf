/*
 * Streaming returns (docs/api.md, "Streams"): manta_submit_stream and
 * manta_actor_call_stream run a call that emits items while it runs
 * (manta_emit); the caller reads a ref per item, in order, with
 * manta_stream_next, then learns how the call ended.
 *
 * One mt_stream per call. When the call runs here it is both ends: emit
 * makes an object per item and queues it, next pops it. When it runs on
 * another node the cluster feeds this stream (mt_stream_push_remote_locked)
 * and sends what was read back as credits; there, the producer's task
 * emits into a sink stream whose items the cluster sends.
 *
 * Pacing: at most `window` items are unread. A producer that gets that far
 * ahead waits in manta_emit (lending its worker slot, as a get does) until
 * the consumer has read a quarter of the window; across nodes the credit
 * says how far it may go. The end of the call (its result object) is seen
 * after its items: here because emit runs before the function returns,
 * across nodes because items and results share one ordered link.
 */
#include "streams.h"

#include <stdlib.h>
#include <string.h>

struct mt_stream {
  int64_t refs; /* the handle, the task, the result listener, waiters */
  size_t window;
  bool is_sink;   /* a producer's end for a consumer on another node */
  bool released;  /* the program let go of its handle: the producer stops */
  bool done;      /* the call returned (error: how it failed) */
  bool cancelled; /* sink: the consumer let go or went away */
  /* consumer: unread items, each an object with one count */
  mt_object **ring;
  size_t head, len, cap;
  uint64_t received, read, credited;
  manta_value *error;
  mt_listener l;      /* on the call's result while it is pending */
  mt_object *result;  /* counted while pending */
  uint64_t result_id; /* to cancel the call if it has not started */
  uint64_t node, seq; /* the producer runs on node `node` (0: here) */
  /* sink */
  const mt_stream_sink_ops *ops;
  void *ctx;
  uint64_t sent, acked;
  pthread_cond_t items_cv, room_cv;
  unsigned consumers, producers; /* threads waiting on each */
  /* A wake-up is on its way: no second signal until the waiter ran (a
   * futex call per item would cost more than the item). */
  bool items_signalled, room_signalled;
  struct mt_stream *next, *prev; /* every stream, for shutdown */
};

/* The program's handles: checked ids (slots.h) naming a stream. */
typedef struct stream_handle {
  mt_slot slot;
  mt_stream *s;
} stream_handle;

static mt_slots handles; /* under rt.mu; made for each epoch */
static uint8_t handles_epoch;
static bool handles_made;
static mt_stream *all; /* under rt.mu */
static mt_stream_credit_fn credit_fn;

static _Thread_local mt_stream *running;    /* what manta_emit feeds */
static _Thread_local mt_stream *submitting; /* for the next mt_task_alloc */

/* ---- life ----------------------------------------------------------------
 */

static mt_stream *stream_new(size_t window) {
  mt_stream *s = calloc(1, sizeof *s);
  if (!s) {
    return NULL;
  }
  s->refs = 1;
  s->window = window;
  mt_cond_init(&s->items_cv);
  mt_cond_init(&s->room_cv);
  return s;
}

static void link_locked(mt_stream *s) {
  s->next = all;
  if (all) {
    all->prev = s;
  }
  all = s;
}

static void unlink_locked(mt_stream *s) {
  if (s->prev) {
    s->prev->next = s->next;
  } else if (all == s) {
    all = s->next;
  }
  if (s->next) {
    s->next->prev = s->prev;
  }
  s->next = s->prev = NULL;
}

static void drop_unread_locked(mt_stream *s, mt_garbage *g) {
  for (; s->len > 0; s->len--) {
    mt_obj_release_locked(s->ring[s->head], g);
    s->head = (s->head + 1) % s->cap;
  }
}

void mt_stream_release_locked(mt_stream *s, mt_garbage *g) {
  if (!s || --s->refs > 0) {
    return;
  }
  unlink_locked(s);
  drop_unread_locked(s, g);
  mt_garbage_add(g, s->error);
  if (s->ops) {
    s->ops->detach_locked(s->ctx, g);
  }
  pthread_cond_destroy(&s->items_cv);
  pthread_cond_destroy(&s->room_cv);
  free(s->ring);
  free(s);
}

void mt_stream_release(mt_stream *s) {
  if (!s) {
    return;
  }
  mt_garbage g;
  mt_garbage_init(&g);
  mt_lock();
  mt_stream_release_locked(s, &g);
  mt_unlock();
  mt_garbage_free(&g);
}

mt_stream *mt_stream_take_submitting(void) {
  mt_stream *s = submitting;
  submitting = NULL;
  return s;
}

void mt_stream_set_submitting(mt_stream *s) {
  submitting = s;
}

void mt_stream_clear_submitting(void) {
  mt_stream *s = mt_stream_take_submitting();
  mt_stream_release(s); /* no task took it: the call failed at once */
}

mt_stream *mt_stream_enter(mt_stream *s) {
  mt_stream *prev = running;
  running = s;
  return prev;
}

void mt_stream_leave(mt_stream *prev) {
  running = prev;
}

void mt_stream_set_credit_fn(mt_stream_credit_fn fn) {
  credit_fn = fn;
}

size_t mt_stream_window(const mt_stream *s) {
  return s->window;
}

/* ---- the consumer's side -------------------------------------------------
 */

/* Tells a remote producer how far the program read, once a quarter of the
 * window (or `force`: the program is about to wait). */
static void credit_locked(mt_stream *s, bool force, mt_garbage *g) {
  size_t step = s->window / 4 ? s->window / 4 : 1;
  if (s->node && credit_fn && !s->done && s->read > s->credited &&
      (force || s->read - s->credited >= step)) {
    credit_fn(s->node, s->seq, s->read, false, g);
    s->credited = s->read;
  }
}

/* Queues an item object (its count taken) for the program. */
static bool push_locked(mt_stream *s, mt_object *o) {
  if (s->len == s->cap) {
    size_t cap = s->cap ? s->cap * 2 : 16;
    mt_object **ring = malloc(cap * sizeof *ring);
    if (!ring) {
      return false;
    }
    for (size_t i = 0; i < s->len; i++) {
      ring[i] = s->ring[(s->head + i) % s->cap];
    }
    free(s->ring);
    s->ring = ring;
    s->cap = cap;
    s->head = 0;
  }
  s->ring[(s->head + s->len) % s->cap] = o;
  s->len++;
  s->received++;
  if (s->consumers && !s->items_signalled) {
    s->items_signalled = true;
    pthread_cond_signal(&s->items_cv);
  }
  return true;
}

/* An item (v taken) as an object queued for the program; false on OOM. */
static bool add_item_locked(mt_stream *s, manta_value *v, mt_garbage *g) {
  mt_object *o;
  if (!mt_obj_new_locked(&o)) {
    mt_garbage_add(g, v);
    return false;
  }
  mt_obj_complete_locked(o, v, g);
  if (!push_locked(s, o)) {
    mt_obj_release_locked(o, g);
    return false;
  }
  return true;
}

void mt_stream_push_remote_locked(mt_stream *s, uint64_t index, manta_value *v,
                                  mt_garbage *g) {
  if (index < s->received || s->released || s->done) {
    mt_garbage_add(g, v); /* seen already (it ran again), or not wanted */
    return;
  }
  s->received = index; /* push_locked counts this one */
  if (!add_item_locked(s, v, g)) {
    mt_log(MT_LOG_WARN, "stream: item %llu dropped: out of memory",
           (unsigned long long)index);
  }
}

void mt_stream_bind_remote_locked(mt_stream *s, uint64_t node, uint64_t seq,
                                  mt_garbage *g) {
  s->node = node;
  s->seq = seq;
  if (s->released && credit_fn) {
    credit_fn(node, seq, s->read, true, g);
  } else if (s->read > 0 && credit_fn) {
    /* Sent again after its node died: the new producer starts from 0 and
     * may go as far as what was read (items seen already are dropped). */
    credit_fn(node, seq, s->read, false, g);
    s->credited = s->read;
  }
}

/* The call's result: the stream ends, or fails with its error. */
static void on_result(void *ctx, mt_object *o, mt_garbage *g) {
  mt_stream *s = ctx;
  manta_value *v = mt_obj_value_locked(o, g);
  if (manta_value_kind(v) == MANTA_KIND_ERROR) {
    s->error = v;
  } else {
    mt_garbage_add(g, v);
  }
  s->done = true;
  s->result = NULL;
  mt_obj_release_locked(o, g);
  if (s->consumers) {
    pthread_cond_broadcast(&s->items_cv);
  }
  mt_stream_release_locked(s, g); /* the listener's count */
}

static stream_handle *handle_find_locked(uint64_t id) {
  return handles_made ? mt_slots_find(&handles, id) : NULL;
}

/* Gives s (the handle's count taken) a handle and listens for the end of
 * its call, whose result `hidden` (count taken) was just made. */
static manta_err start_locked(mt_stream *s, manta_ref hidden, manta_stream *out,
                              mt_garbage *g) {
  mt_object *o = mt_obj_lookup_locked(hidden.id);
  if (!o) {
    return MANTA_ERR_SHUTDOWN;
  }
  if (!handles_made || handles_epoch != mt_rt.epoch) {
    if (handles_made) {
      mt_slots_destroy(&handles);
    }
    mt_slots_init(&handles, sizeof(stream_handle), 6, mt_rt.epoch);
    handles_epoch = mt_rt.epoch;
    handles_made = true;
  }
  stream_handle *h = mt_slots_alloc(&handles);
  if (!h) {
    mt_obj_release_locked(o, g);
    return MANTA_ERR_NOMEM;
  }
  h->s = s;
  out->id = mt_slots_id(&handles, h);
  link_locked(s);
  s->result = o;
  s->result_id = hidden.id;
  s->refs++; /* the listener's */
  mt_obj_when_ready_locked(o, &s->l, on_result, s, g);
  return MANTA_OK;
}

static size_t window_of(const manta_call_options *opts) {
  return opts && opts->stream_window ? opts->stream_window
                                     : MT_STREAM_WINDOW_DEFAULT;
}

/* Submits a call as a stream: call() makes the task (which takes the
 * stream) and gives the ref of its result. */
static manta_err submit_as_stream(const manta_call_options *opts,
                                  manta_err (*call)(const void *c,
                                                    manta_ref *hidden),
                                  const void *c, manta_stream *out) {
  if (!out) {
    return MANTA_ERR_INVALID;
  }
  out->id = 0;
  mt_stream *s = stream_new(window_of(opts));
  if (!s) {
    return MANTA_ERR_NOMEM;
  }
  s->refs++; /* the task's */
  mt_stream_set_submitting(s);
  manta_ref hidden;
  manta_err err = call(c, &hidden);
  mt_stream_clear_submitting();
  mt_garbage g;
  mt_garbage_init(&g);
  mt_lock();
  if (err == MANTA_OK) {
    err = mt_rt.initialized ? start_locked(s, hidden, out, &g)
                            : MANTA_ERR_SHUTDOWN;
  }
  if (err != MANTA_OK) {
    mt_stream_release_locked(s, &g);
  }
  mt_unlock();
  mt_garbage_free(&g);
  return err;
}

typedef struct fn_call {
  const char *name;
  const manta_value *const *args;
  size_t nargs;
  const manta_call_options *opts;
} fn_call;

static manta_err call_function(const void *c_, manta_ref *hidden) {
  const fn_call *c = c_;
  return mt_submit(c->name, c->args, c->nargs, c->opts, true, hidden);
}

manta_err manta_submit_stream(const char *name, const manta_value *const *args,
                              size_t nargs, const manta_call_options *opts,
                              manta_stream *out) {
  if (!name || (opts && opts->num_returns > 1)) {
    return MANTA_ERR_INVALID;
  }
  fn_call c = {name, args, nargs, opts};
  return submit_as_stream(opts, call_function, &c, out);
}

typedef struct method_call {
  manta_actor actor;
  const char *method;
  const manta_value *const *args;
  size_t nargs;
} method_call;

static manta_err call_method(const void *c_, manta_ref *hidden) {
  const method_call *c = c_;
  return manta_actor_call(c->actor, c->method, c->args, c->nargs, hidden);
}

manta_err manta_actor_call_stream(manta_actor actor, const char *method,
                                  const manta_value *const *args, size_t nargs,
                                  const manta_call_options *opts,
                                  manta_stream *out) {
  if (!method) {
    return MANTA_ERR_INVALID;
  }
  method_call c = {actor, method, args, nargs};
  return submit_as_stream(opts, call_method, &c, out);
}

manta_err manta_call_options_set_stream_window(manta_call_options *opts,
                                               size_t items) {
  if (!opts || items == 0 || items > MT_STREAM_WINDOW_MAX) {
    return MANTA_ERR_INVALID;
  }
  opts->stream_window = items;
  return MANTA_OK;
}

/* Wakes a producer waiting for room once a quarter of the window is free
 * (fewer wake-ups than one per item read). */
static void room_made_locked(mt_stream *s) {
  size_t step = s->window / 4 ? s->window / 4 : 1;
  if (s->producers && !s->room_signalled && s->len + step <= s->window) {
    s->room_signalled = true;
    pthread_cond_signal(&s->room_cv);
  }
}

manta_err manta_stream_next(manta_stream stream, manta_ref *out,
                            int64_t timeout_ms) {
  if (!out) {
    return MANTA_ERR_INVALID;
  }
  out->id = 0;
  mt_garbage g;
  mt_garbage_init(&g);
  mt_lock();
  stream_handle *h = mt_rt.initialized ? handle_find_locked(stream.id) : NULL;
  if (!h) {
    manta_err err =
        mt_rt.initialized ? MANTA_ERR_BAD_HANDLE : MANTA_ERR_NOT_INITIALIZED;
    mt_unlock();
    return err;
  }
  mt_stream *s = h->s;
  s->refs++;
  struct timespec deadline;
  if (timeout_ms > 0) {
    mt_deadline(timeout_ms, &deadline);
  }
  bool lent = false;
  manta_err err;
  for (;;) {
    if (s->len > 0) {
      mt_object *o = s->ring[s->head];
      s->head = (s->head + 1) % s->cap;
      s->len--;
      s->read++;
      out->id = mt_slots_id(&mt_rt.objects, o); /* its count is the ref's */
      room_made_locked(s);
      credit_locked(s, false, &g);
      err = MANTA_OK;
      break;
    }
    if (s->error || s->done) {
      err = s->error ? MANTA_ERR_TASK_FAILED : MANTA_ERR_STREAM_END;
      break;
    }
    if (mt_rt.shutting_down) {
      err = MANTA_ERR_SHUTDOWN;
      break;
    }
    if (timeout_ms == 0) {
      err = MANTA_ERR_TIMEOUT;
      break;
    }
    credit_locked(s, true, &g);
    if (!lent && mt_self && !mt_self->blocked) {
      mt_worker_block_locked(); /* a task reading a stream lends its slot */
      lent = true;
    }
    s->consumers++;
    mt_rt.in_wait++;
    int rc = mt_cond_wait(&s->items_cv, timeout_ms < 0 ? NULL : &deadline);
    s->consumers--;
    s->items_signalled = false;
    if (--mt_rt.in_wait == 0 && mt_rt.shutting_down) {
      pthread_cond_broadcast(&mt_rt.exit_cv);
    }
    if (rc != 0 && s->len == 0 && !s->done) {
      err = MANTA_ERR_TIMEOUT;
      break;
    }
  }
  if (lent) {
    mt_worker_unblock_locked();
  }
  mt_stream_release_locked(s, &g);
  mt_unlock();
  mt_garbage_free(&g);
  return err;
}

manta_err manta_stream_error(manta_stream stream, manta_value **out) {
  if (!out) {
    return MANTA_ERR_INVALID;
  }
  *out = NULL;
  manta_err err = MANTA_OK;
  mt_lock();
  stream_handle *h = mt_rt.initialized ? handle_find_locked(stream.id) : NULL;
  if (!h) {
    err = mt_rt.initialized ? MANTA_ERR_BAD_HANDLE : MANTA_ERR_NOT_INITIALIZED;
  } else if (!h->s->error) {
    err = MANTA_ERR_NOT_FOUND; /* running, or ended without an error */
  } else {
    *out = manta_value_ref(h->s->error);
  }
  mt_unlock();
  return err;
}

manta_err manta_stream_release(manta_stream stream) {
  mt_garbage g;
  mt_garbage_init(&g);
  manta_err err = MANTA_OK;
  uint64_t cancel = 0;
  mt_lock();
  stream_handle *h = mt_rt.initialized ? handle_find_locked(stream.id) : NULL;
  if (!h) {
    err = mt_rt.initialized ? MANTA_ERR_BAD_HANDLE : MANTA_ERR_NOT_INITIALIZED;
  } else {
    mt_stream *s = h->s;
    mt_slots_free(&handles, h);
    s->released = true;
    drop_unread_locked(s, &g);
    if (!s->done) {
      /* The producer stops: here its next emit says so; elsewhere the
       * credit carries the news; not started yet, it is cancelled. */
      pthread_cond_broadcast(&s->room_cv);
      if (s->node && credit_fn) {
        credit_fn(s->node, s->seq, s->read, true, &g);
      }
      cancel = s->result_id;
    }
    mt_stream_release_locked(s, &g);
  }
  mt_unlock();
  mt_garbage_free(&g);
  if (cancel) {
    /* Refused (running, sent away, done meanwhile): it stops at its next
     * emit instead. */
    (void)manta_cancel((manta_ref){cancel});
  }
  return err;
}

/* ---- the producer's side -------------------------------------------------
 */

mt_stream *mt_stream_sink_new(const mt_stream_sink_ops *ops, void *ctx,
                              size_t window) {
  if (window == 0 || window > MT_STREAM_WINDOW_MAX) {
    window = MT_STREAM_WINDOW_DEFAULT;
  }
  mt_stream *s = stream_new(window);
  if (s) {
    s->is_sink = true;
    s->ops = ops;
    s->ctx = ctx;
    mt_lock();
    link_locked(s);
    mt_unlock();
  }
  return s;
}

void mt_stream_sink_credit_locked(mt_stream *s, uint64_t read, bool cancel) {
  if (read > s->acked) {
    s->acked = read;
  }
  s->cancelled |= cancel;
  if (s->producers) {
    pthread_cond_signal(&s->room_cv);
  }
}

void mt_stream_sink_gone_locked(mt_stream *s) {
  s->cancelled = true;
  if (s->producers) {
    pthread_cond_signal(&s->room_cv);
  }
}

/* Whether the producer of s may emit one more item now. */
static bool has_room_locked(const mt_stream *s) {
  /* acked may be ahead of sent: a call run again after its node died
   * starts from 0 while the reader read further. */
  return s->is_sink ? s->sent < s->acked + s->window : s->len < s->window;
}

manta_err manta_emit(manta_value *item) {
  mt_stream *s = running;
  if (!item || !s) {
    manta_value_free(item);
    return MANTA_ERR_INVALID; /* not inside a call submitted as a stream */
  }
  mt_value_freeze(item);
  size_t bytes = mt_value_payload_bytes(item);
  if (bytes > 4096 && mt_store_admit(bytes, NULL) != MANTA_OK) {
    manta_value_free(item);
    return MANTA_ERR_OBJECT_STORE_FULL;
  }
  mt_garbage g;
  mt_garbage_init(&g);
  manta_err err = MANTA_OK;
  bool lent = false;
  mt_lock();
  for (;;) {
    if (s->released || s->cancelled) {
      err = MANTA_ERR_CANCELLED;
      break;
    }
    if (mt_rt.shutting_down) {
      err = MANTA_ERR_SHUTDOWN;
      break;
    }
    if (has_room_locked(s)) {
      break;
    }
    if (!lent && mt_self && !mt_self->blocked) {
      mt_worker_block_locked(); /* waiting on the consumer, as a get */
      lent = true;
    }
    s->producers++;
    mt_cond_wait(&s->room_cv, NULL);
    s->producers--;
    s->room_signalled = false;
  }
  if (err != MANTA_OK) {
    mt_garbage_add(&g, item);
  } else if (s->is_sink) {
    if (!s->ops || !s->ops->send_locked(s->ctx, s->sent, item, &g)) {
      s->cancelled = true;
      err = MANTA_ERR_CANCELLED;
    }
    s->sent++;
    mt_garbage_add(&g, item);
  } else if (!add_item_locked(s, item, &g)) {
    err = MANTA_ERR_NOMEM;
  }
  if (lent) {
    mt_worker_unblock_locked();
  }
  mt_unlock();
  mt_garbage_free(&g);
  return err;
}

/* ---- shutdown ------------------------------------------------------------
 */

void mt_streams_wake_all_locked(void) {
  for (mt_stream *s = all; s; s = s->next) {
    pthread_cond_broadcast(&s->items_cv);
    pthread_cond_broadcast(&s->room_cv);
  }
}

void mt_streams_shutdown_locked(mt_garbage *g) {
  /* The handles the program still holds go with the runtime. */
  if (handles_made) {
    for (size_t i = 0; i < handles.used; i++) {
      stream_handle *h = mt_slots_at(&handles, i);
      if (h->slot.live) {
        h->s->released = true;
        h->s->refs--;
      }
    }
    mt_slots_destroy(&handles);
    handles_made = false;
  }
  mt_stream *next;
  for (mt_stream *s = all; s; s = next) {
    next = s->next;
    if (s->result) {
      mt_listener_remove_locked(&s->l);
      s->result = NULL;
      s->refs--; /* the listener's */
    }
    s->len = 0; /* the unread objects go with the table */
    if (s->refs <= 0) {
      s->refs = 1;
      mt_stream_release_locked(s, g);
    }
    /* else a task not yet freed holds it; it goes with the task */
  }
}
