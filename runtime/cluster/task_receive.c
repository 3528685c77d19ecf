/* The Node service: runs what other nodes (and foreign clients) send here.
 * Tasks arrive in batches on a Tasks stream; each runs on this node (never
 * sent on: the sender chose this node) and its result goes back on the same
 * stream, batched with others that finished meanwhile. Actor operations
 * come the same way (actor_host.c runs them); calls arriving on one
 * stream enter their actor's mailbox in arrival order. */
#include "cluster.h"
#include "streams.h"
#include "task_context.h"

#include <stdatomic.h>

#include <stdlib.h>
#include <string.h>

/* ---- running one call here ------------------------------------------------
 */

/* Call options from a demand message (CPU and custom resources). */
static manta_call_options *options_from_demand(Manta__V1__Resource **r,
                                               size_t n) {
  manta_call_options *o = NULL;
  if (manta_call_options_new(&o) != MANTA_OK) {
    return NULL;
  }
  for (size_t i = 0; i < n; i++) {
    if (!r[i]->name) {
      continue;
    }
    if (strcmp(r[i]->name, "CPU") == 0) {
      manta_call_options_set_num_cpus(o, r[i]->total);
    } else {
      manta_call_options_set_resource(o, r[i]->name, r[i]->total);
    }
  }
  return o;
}

/* The run number, retry options and caller's id a task spec carries
 * (docs/protocol.md, "Cancel and retries"); a spec without them runs once
 * as attempt 1 under an id of this node. */
static void retry_options_from_spec(manta_call_options *o,
                                    const Manta__V1__TaskSpec *spec) {
  o->attempt =
      spec->attempt > 0 && spec->attempt < INT16_MAX ? (int)spec->attempt : 1;
  o->max_retries = spec->max_retries >= -1 && spec->max_retries < INT16_MAX
                       ? spec->max_retries
                       : 0;
  o->retry_exceptions = spec->retry_exceptions;
  o->pg_capture = spec->capture_child_tasks;
  if (spec->task_id.len == sizeof o->task_id) {
    memcpy(o->task_id, spec->task_id.data, sizeof o->task_id);
  }
}

/*
 * Submits a call that came over the wire; *ref names its result. route
 * lets it go on to another node. actor (NULL for a function) is a spec of
 * an actor operation, which may leave no ref (mt_actor_serve). On a failure
 * that leaves no task (bad arguments), returns an error value instead
 * (taken by the caller).
 */
static manta_value *submit_call(const char *function, ProtobufCBinaryData *args,
                                size_t nargs, Manta__V1__Resource **demand,
                                size_t ndemand, bool route,
                                const Manta__V1__TaskSpec *spec,
                                const Manta__V1__TaskSpec *actor,
                                manta_ref *ref, uint8_t created[16]) {
  manta_value *stack[16];
  manta_value **vals = nargs <= 16 ? stack : calloc(nargs, sizeof *vals);
  if (!vals) {
    return mt_error_new(MANTA_ERR_NOMEM, "cluster", "out of memory");
  }
  manta_value *fail = NULL;
  size_t decoded = 0;
  for (; decoded < nargs; decoded++) {
    char what[40];
    snprintf(what, sizeof what, "argument %zu", decoded);
    vals[decoded] = mt_wire_decode_value(&args[decoded], what);
    if (manta_value_kind(vals[decoded]) == MANTA_KIND_ERROR &&
        strcmp(manta_error_origin(vals[decoded]), "cluster") == 0) {
      fail = vals[decoded];
      break;
    }
  }
  if (!fail) {
    manta_call_options *opts = options_from_demand(demand, ndemand);
    if (opts && spec) {
      retry_options_from_spec(opts, spec);
    }
    manta_err err = MANTA_OK;
    if (actor) {
      fail = mt_actor_serve(actor, (const manta_value *const *)vals, nargs,
                            opts, ref, created);
    } else {
      err =
          mt_submit(function ? function : "", (const manta_value *const *)vals,
                    nargs, opts, route, ref);
    }
    manta_call_options_free(opts);
    if (err != MANTA_OK) {
      fail =
          mt_error_new(err, "cluster", "cannot run %s here: %s",
                       function ? function : "(no name)", manta_strerror(err));
    }
  }
  for (size_t i = 0; i < decoded; i++) {
    manta_value_free(vals[i]);
  }
  if (vals != stack) {
    free(vals);
  }
  return fail;
}

/* ---- the Tasks stream ------------------------------------------------------
 */

typedef struct serve_stream {
  mt_tp_stream *s; /* one reference held */
  mt_outbox out;
  int refs;    /* under rt.mu: the stream until closed, each pending task,
                  each queued kick */
  bool closed; /* under rt.mu */
  int pending; /* under rt.mu: tasks received and not yet answered */
  _Atomic bool input_ended; /* the client half-closed */
  uint64_t client_node;     /* the sending node (TaskBatch.sender_node) */
  mt_u64map held;           /* seq -> result value kept until acknowledged */
  mt_u64map running;        /* seq -> pending_task not answered (rt.mu):
                               what TaskBatch.cancels name */
} serve_stream;

/* Drops the results kept for acknowledgement (under rt.mu). */
static void ss_drop_held_locked(serve_stream *ss, mt_garbage *g) {
  uint64_t key;
  void *val;
  for (size_t pos = 0; mt_u64map_next(&ss->held, &pos, &key, &val);) {
    mt_garbage_add(g, val);
  }
  mt_u64map_free(&ss->held);
}

typedef struct pending_task {
  mt_listener l;
  serve_stream *ss;
  uint64_t seq;
  mt_handoff_entry ho; /* watched while it may be handed back (handoff.c) */
} pending_task;

static void ss_free_job(void *ss_, void *unused) {
  (void)unused;
  serve_stream *ss = ss_;
  mt_u64map_free(&ss->running); /* empty: each pending task held a count */
  mt_outbox_destroy(&ss->out);
  mt_tp_stream_release(ss->s);
  free(ss);
}

static void ss_unref_locked(serve_stream *ss, mt_garbage *g) {
  if (--ss->refs == 0) {
    mt_garbage_add_dtor(g, ss_free_job, ss, NULL);
  }
}

static void ss_kick_job(void *ss_, void *unused) {
  (void)unused;
  serve_stream *ss = ss_;
  mt_tp_stream_kick(ss->s);
  mt_garbage g;
  mt_garbage_init(&g);
  mt_lock();
  ss_unref_locked(ss, &g);
  mt_unlock();
  mt_garbage_free(&g);
}

void mt_serve_retain_locked(serve_stream *ss) {
  ss->refs++;
}

void mt_serve_release_locked(serve_stream *ss, mt_garbage *g) {
  ss_unref_locked(ss, g);
}

uint64_t mt_serve_client_locked(const serve_stream *ss) {
  return ss->client_node;
}

bool mt_serve_send_locked(serve_stream *ss, uint8_t field, const uint8_t *body,
                          size_t len, mt_garbage *g) {
  bool empty = false;
  if (ss->closed || !mt_outbox_add(&ss->out, field, body, len, &empty)) {
    return false;
  }
  if (empty) {
    ss->refs++;
    mt_garbage_add_dtor(g, ss_kick_job, ss, NULL);
  }
  return true;
}

/* Queues a result for the stream (under rt.mu). o, when given, is the
 * object holding v: a large one stays here and only its id goes; actor_id
 * (or NULL) is that of an actor created for the sender. */
static void ss_send_result_locked(serve_stream *ss, uint64_t seq,
                                  const manta_value *v, mt_object *o,
                                  const uint8_t *actor_id, mt_garbage *g) {
  if (ss->closed) {
    return; /* the sender is gone; it retries elsewhere or gave up */
  }
  Manta__V1__TaskResult r = MANTA__V1__TASK_RESULT__INIT;
  r.seq = seq;
  if (actor_id) {
    r.actor_id.data = (uint8_t *)actor_id;
    r.actor_id.len = 16;
  }
  uint8_t stays[16];
  mt_id_list refs;
  mt_refs_begin(&refs);
  manta_err err = MANTA_OK;
  if (o && o->bytes > MT_INLINE_MAX && ss->client_node && !o->is_error) {
    mt_obj_to_wire(mt_slots_id(&mt_rt.objects, o), stays);
    r.stays_id.data = stays;
    r.stays_id.len = sizeof stays;
  } else {
    err = mt_wire_encode_value(v, &r.value);
  }
  mt_refs_end(&refs);
  if (err == MANTA_OK && refs.len && ss->client_node) {
    r.ack = mt_borrow_out_locked(&refs, ss->client_node, g);
  }
  mt_refs_free(&refs);
  if (r.ack) {
    /* Its refs to the client's objects must outlive the client's
     * decoding: keep them until it says so. */
    manta_value *kept = manta_value_ref((manta_value *)v);
    if (!mt_u64map_put(&ss->held, seq, kept)) {
      mt_garbage_add(g, kept);
      r.ack = false;
    }
  }
  if (err != MANTA_OK) {
    manta_value *ev = mt_error_new(MANTA_ERR_INTERNAL, "cluster",
                                   "the result cannot be encoded");
    if (!ev || mt_wire_encode_value(ev, &r.value) != MANTA_OK) {
      mt_garbage_add(g, ev);
      return;
    }
    mt_garbage_add(g, ev);
  }
  mt_tp_buf b;
  bool empty = false;
  if (mt_wire_pack(&r.base, &b)) {
    if (mt_outbox_add(&ss->out, 2, b.data, b.len, &empty) && empty) {
      ss->refs++;
      mt_garbage_add_dtor(g, ss_kick_job, ss, NULL);
    }
    free(b.data);
  }
  manta_free(r.value.data);
}

/* The task of seq never started here and goes back to its sender
 * (TaskResult.handed_back, handoff.c). */
static void ss_send_handed_back_locked(serve_stream *ss, uint64_t seq,
                                       mt_garbage *g) {
  Manta__V1__TaskResult r = MANTA__V1__TASK_RESULT__INIT;
  r.seq = seq;
  r.handed_back = true;
  mt_tp_buf b;
  bool empty = false;
  if (ss->closed || !mt_wire_pack(&r.base, &b)) {
    return; /* a closed stream: the sender fails it over */
  }
  if (mt_outbox_add(&ss->out, 2, b.data, b.len, &empty) && empty) {
    ss->refs++;
    mt_garbage_add_dtor(g, ss_kick_job, ss, NULL);
  }
  free(b.data);
}

static void on_task_done(void *ctx, mt_object *o, mt_garbage *g) {
  pending_task *p = ctx;
  p->ss->pending--;
  mt_u64map_remove(&p->ss->running, p->seq);
  mt_handoff_unwatch_locked(&p->ho);
  if (p->ho.handed_back) {
    ss_send_handed_back_locked(p->ss, p->seq, g);
    mt_obj_release_locked(o, g);
    ss_unref_locked(p->ss, g);
    free(p);
    return;
  }
  manta_value *v = mt_obj_value_locked(o, g); /* read back if spilled */
  ss_send_result_locked(p->ss, p->seq, v, o, NULL, g);
  mt_garbage_add(g, v);
  mt_obj_release_locked(o, g);
  ss_unref_locked(p->ss, g);
  free(p);
}

/* TaskBatch.cancels: the tasks named (sent earlier on this stream and not
 * answered yet) are cancelled here as manta_cancel_with would; their
 * answer goes back as any result. */
static void cancel_tasks(serve_stream *ss, const Manta__V1__TaskBatch *batch,
                         mt_garbage *g) {
  mt_lock();
  for (size_t i = 0; i < batch->n_cancels; i++) {
    const Manta__V1__TaskCancel *c = batch->cancels[i];
    pending_task *p = mt_u64map_get(&ss->running, c->seq);
    if (p && p->l.obj) {
      (void)mt_cancel_object_locked(
          p->l.obj, c->recursive ? MANTA_CANCEL_RECURSIVE : 0, g);
    }
  }
  mt_unlock();
}

static void ss_on_message(void *arg, mt_tp_stream *s, const uint8_t *body,
                          size_t len) {
  serve_stream *ss = arg;
  Manta__V1__TaskBatch *batch = mt_wire_batch(s, body, len);
  if (!batch) {
    return;
  }
  mt_garbage g;
  mt_garbage_init(&g);
  if (batch->sender_node || batch->n_borrows || batch->n_acks) {
    mt_lock();
    if (batch->sender_node) {
      ss->client_node = batch->sender_node;
    }
    for (size_t i = 0; i < batch->n_acks; i++) {
      mt_garbage_add(&g, mt_u64map_remove(&ss->held, batch->acks[i]));
    }
    for (size_t i = 0; i < batch->n_borrows; i++) {
      Manta__V1__BorrowUpdate *u = batch->borrows[i];
      mt_borrow_apply_locked(u->id.data, u->id.len, u->node_id, u->delta, &g);
    }
    mt_unlock();
  }
  if (batch->n_rebuild_requests || batch->n_rebuild_replies) {
    mt_lock();
    mt_rebuild_in_locked(batch, &g); /* lost arguments (rebuild_ask.c) */
    mt_unlock();
  }
  if (batch->n_tasks) {
    mt_sched_defer_kicks();
  }
  for (size_t i = 0; i < batch->n_tasks; i++) {
    Manta__V1__TaskSpec *t = batch->tasks[i];
    manta_ref ref = {0};
    uint8_t created[16];
    bool actor = t->actor_op != MANTA__V1__ACTOR_OP__ACTOR_OP_NONE;
    /* A stream call emits into a sink sending its items back here. */
    manta_value *fail =
        t->stream_window && !mt_stream_serve_begin(ss, t->seq, t->stream_window)
            ? mt_error_new(MANTA_ERR_NOMEM, "cluster", "out of memory")
            : NULL;
    /* Never sent on: the sender chose this node. */
    if (!fail) {
      /* Refs among the arguments can be rebuilt by their sender. */
      mt_ref_sender = ss->client_node;
      fail =
          submit_call(t->function, t->args, t->n_args, t->demand, t->n_demand,
                      false, t, actor ? t : NULL, &ref, created);
      mt_ref_sender = 0;
    }
    mt_stream_clear_submitting();
    if (actor && !fail && !ref.id) {
      /* A creation is answered at once; a kill or release is not. */
      if (t->actor_op == MANTA__V1__ACTOR_OP__ACTOR_OP_CREATE) {
        manta_value *null = manta_null();
        mt_lock();
        ss_send_result_locked(ss, t->seq, null, NULL, created, &g);
        mt_unlock();
        manta_value_free(null);
      }
      continue;
    }
    mt_lock();
    mt_object *o = fail ? NULL : mt_obj_lookup_locked(ref.id);
    pending_task *p = o ? calloc(1, sizeof *p) : NULL;
    if (p) {
      p->ss = ss;
      p->seq = t->seq;
      ss->refs++;
      ss->pending++;
      if (!mt_u64map_put(&ss->running, t->seq, p)) {
        mt_log(MT_LOG_WARN,
               "node: out of memory: task %llu cannot be "
               "cancelled",
               (unsigned long long)t->seq);
      }
      if (t->may_hand_back && !actor && !t->stream_window && o->task &&
          o->task->kind == MT_TASK_FUNCTION) {
        mt_handoff_watch_locked(&p->ho, o); /* placed by a stale view? */
      }
      mt_obj_when_ready_locked(o, &p->l, on_task_done, p, &g);
    } else {
      if (!fail) {
        fail = mt_error_new(MANTA_ERR_NOMEM, "cluster", "out of memory");
        if (o) {
          mt_obj_release_locked(o, &g);
        }
      }
      if (fail) {
        ss_send_result_locked(ss, t->seq, fail, NULL, NULL, &g);
      }
      mt_garbage_add(&g, fail);
    }
    mt_unlock();
  }
  if (batch->n_stream_credits) {
    /* After the tasks: a credit may be for a stream call of this batch. */
    mt_lock();
    mt_stream_credits_in_locked(ss, batch); /* streams (stream_link.c) */
    mt_unlock();
  }
  if (batch->n_cancels) {
    cancel_tasks(ss, batch, &g);
  }
  mt_garbage_free(&g);
  manta__v1__task_batch__free_unpacked(batch, NULL);
}

/*
 * A client that half-closed still gets every result of what it sent (as a
 * gRPC client that writes all its requests, then reads, expects); once the
 * last is sent the stream ends OK. Manta's own nodes never half-close.
 */
static void ss_finish_if_answered(serve_stream *ss, mt_tp_stream *s) {
  if (!atomic_load(&ss->input_ended)) {
    return; /* the common case, without taking rt.mu */
  }
  /* Nothing is added once the client half-closed and no task is pending.
   * A second close of the stream does nothing. */
  mt_lock();
  bool finish = ss->pending == 0 && !ss->closed && mt_outbox_is_empty(&ss->out);
  mt_unlock();
  if (finish) {
    mt_tp_stream_close(s, MT_TP_OK, NULL);
  }
}

static bool ss_fill(void *arg, mt_tp_stream *s, mt_tp_buf *out) {
  serve_stream *ss = arg;
  if (mt_outbox_take(&ss->out, out)) {
    return true;
  }
  ss_finish_if_answered(ss, s);
  return false;
}

static void ss_on_half_close(void *arg, mt_tp_stream *s) {
  serve_stream *ss = arg;
  atomic_store(&ss->input_ended, true);
  /* The stream's next fill sees whether anything is still due. */
  mt_tp_stream_kick(s);
}

static void ss_on_closed(void *arg, mt_tp_stream *s, int status,
                         const char *detail) {
  serve_stream *ss = arg;
  if (status != MT_TP_OK && status != MT_TP_CANCELLED) {
    mt_log(MT_LOG_INFO, "node: task stream from %s ended: %s",
           mt_tp_stream_peer(s), detail);
  }
  mt_garbage g;
  mt_garbage_init(&g);
  mt_lock();
  ss->closed = true;
  mt_stream_links_closed_locked(ss); /* its stream calls stop */
  ss_drop_held_locked(ss, &g);
  ss_unref_locked(ss, &g);
  mt_unlock();
  mt_garbage_free(&g);
}

/* The tasks of a batch are queued by ss_on_message; the first of them runs
 * on the receiving thread once the stream may receive again, so that a
 * long task holds back neither the messages behind it nor their tasks (the
 * transport has another thread receive if the task lasts or blocks). */
static const mt_here_hooks run_here_hooks = {mt_tp_away_begin, mt_tp_step_aside,
                                             mt_tp_away_end};

static void ss_after_message(void) {
  mt_sched_run_here(&run_here_hooks);
}

static const mt_tp_stream_handlers tasks_handlers = {
    .on_message = ss_on_message,
    .fill = ss_fill,
    .on_closed = ss_on_closed,
    .outlive_half_close = true,
    .on_half_close = ss_on_half_close,
    .after_message = ss_after_message,
};

/* ---- the single Call ------------------------------------------------------
 */

typedef struct pending_call {
  mt_listener l;
  mt_tp_incoming *in;
  mt_tp_buf reply;
} pending_call;

static void call_reply_job(void *p_, void *unused) {
  (void)unused;
  pending_call *p = p_;
  if (p->reply.data) {
    mt_tp_reply(p->in, MT_TP_OK, NULL, p->reply.data, p->reply.len);
  } else {
    mt_tp_reply(p->in, MT_TP_RESOURCE_EXHAUSTED, "out of memory", NULL, 0);
  }
  free(p->reply.data);
  free(p);
}

static void pack_call_reply(pending_call *p, const manta_value *v) {
  Manta__V1__CallReply r = MANTA__V1__CALL_REPLY__INIT;
  p->reply.data = NULL;
  if (mt_wire_encode_value(v, &r.value) == MANTA_OK &&
      !mt_wire_pack(&r.base, &p->reply)) {
    p->reply.data = NULL;
  }
  manta_free(r.value.data);
}

static void on_call_done(void *ctx, mt_object *o, mt_garbage *g) {
  pending_call *p = ctx;
  manta_value *v = mt_obj_value_locked(o, g); /* read back if spilled */
  pack_call_reply(p, v);
  mt_garbage_add(g, v);
  mt_obj_release_locked(o, g);
  mt_garbage_add_dtor(g, call_reply_job, p, NULL);
}

static void handle_call(mt_tp_incoming *in, const uint8_t *body, size_t len) {
  Manta__V1__CallRequest *req =
      manta__v1__call_request__unpack(NULL, len, body);
  if (!req) {
    mt_log(MT_LOG_WARN, "node: malformed CallRequest");
    mt_tp_reply(in, MT_TP_INVALID_ARGUMENT, "malformed CallRequest", NULL, 0);
    return;
  }
  pending_call *p = calloc(1, sizeof *p);
  if (!p) {
    manta__v1__call_request__free_unpacked(req, NULL);
    mt_tp_reply(in, MT_TP_RESOURCE_EXHAUSTED, "out of memory", NULL, 0);
    return;
  }
  p->in = in;
  manta_ref ref;
  /* A foreign client does not know where a function lives: route it. */
  manta_value *fail =
      submit_call(req->function, req->args, req->n_args, req->demand,
                  req->n_demand, true, NULL, NULL, &ref, NULL);
  manta__v1__call_request__free_unpacked(req, NULL);
  if (fail) {
    pack_call_reply(p, fail);
    manta_value_free(fail);
    call_reply_job(p, NULL);
    return;
  }
  mt_garbage g;
  mt_garbage_init(&g);
  mt_lock();
  mt_object *o = mt_obj_lookup_locked(ref.id);
  mt_obj_when_ready_locked(o, &p->l, on_call_done, p, &g);
  mt_unlock();
  mt_garbage_free(&g);
}

/* ---- the service ------------------------------------------------------------
 */

static bool node_is_unary(void *ctx, const char *method) {
  (void)ctx;
  return strcmp(method, MT_NODE_CALL) == 0 ||
         strcmp(method, MT_NODE_BUNDLES) == 0 ||
         strcmp(method, MT_NODE_OBSERVE) == 0 ||
         strcmp(method, MT_NODE_LOCATE) == 0 ||
         (mt_cl.dir && mt_directory_is_method(method));
}

static bool node_is_stream(void *ctx, const char *method) {
  (void)ctx;
  return strcmp(method, MT_NODE_TASKS) == 0 ||
         strcmp(method, MT_NODE_FETCH) == 0 ||
         (mt_cl.dir && mt_directory_is_stream(method));
}

static void node_unary(void *ctx, mt_tp_incoming *in, const char *method,
                       const uint8_t *body, size_t len) {
  (void)ctx;
  if (strcmp(method, MT_NODE_CALL) == 0) {
    handle_call(in, body, len);
  } else if (strcmp(method, MT_NODE_BUNDLES) == 0) {
    mt_bundles_serve(in, body, len); /* placement groups (pg_node.c) */
  } else if (strcmp(method, MT_NODE_OBSERVE) == 0) {
    mt_observe_serve(in, body, len); /* the dashboard's API (observe.c) */
  } else if (strcmp(method, MT_NODE_LOCATE) == 0) {
    mt_actor_locate_serve(in, body, len); /* actor_locate.c */
  } else {
    mt_directory_handle(mt_cl.dir, in, method, body, len);
  }
}

static void *node_stream_open(void *ctx, mt_tp_stream *s, const char *method,
                              const mt_tp_stream_handlers **h) {
  (void)ctx;
  if (strcmp(method, MT_NODE_FETCH) == 0) {
    return mt_fetch_serve_open(s, h);
  }
  if (strcmp(method, MT_NODE_TASKS) != 0) {
    return mt_directory_stream_open(mt_cl.dir, s, h); /* the head's */
  }
  serve_stream *ss = calloc(1, sizeof *ss);
  if (!ss) {
    *h = NULL;
    return NULL;
  }
  mt_outbox_init(&ss->out);
  mt_tp_stream_retain(s);
  ss->s = s;
  ss->refs = 1;
  *h = &tasks_handlers;
  return ss;
}

const mt_tp_service mt_node_service = {NULL, node_unary, node_is_stream,
                                       node_stream_open, node_is_unary};
