/* The module the cluster tests load into their nodes. Every node offers
 * the class Counter; a node started with MANTA_TEST_CLASSES=A,B also
 * offers the classes A and B (the same counter), which no other node has. */
#include <manta.h>

#include <dirent.h>
#include <stdatomic.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

static manta_value *where(const manta_value *const *a, size_t n, void *u) {
  (void)a, (void)n, (void)u;
  return manta_int((int64_t)getpid());
}

static manta_value *add(const manta_value *const *a, size_t n, void *u) {
  (void)n, (void)u;
  int64_t x, y;
  if (manta_get_int(a[0], &x) != MANTA_OK ||
      manta_get_int(a[1], &y) != MANTA_OK) {
    return manta_error(MANTA_ERR_TYPE, "add takes two ints");
  }
  return manta_int(x + y);
}

/* (ms, value): sleeps, then returns value and the pid that ran it. */
static manta_value *sleep_then(const manta_value *const *a, size_t n, void *u) {
  (void)n, (void)u;
  int64_t ms;
  if (manta_get_int(a[0], &ms) != MANTA_OK) {
    return manta_error(MANTA_ERR_TYPE, "sleep_then takes (ms, value)");
  }
  struct timespec ts = {ms / 1000, (long)(ms % 1000) * 1000000L};
  nanosleep(&ts, NULL);
  manta_value *l = manta_list();
  manta_list_push(l, manta_value_ref((manta_value *)a[1]));
  manta_list_push(l, manta_int((int64_t)getpid()));
  return l;
}

/* (dir, n): a rendezvous across processes. Leaves a file in dir, then
 * waits (30 s at most) until n files are there, so that n calls succeed
 * only if all n ran at once; returns the pid that ran it. */
static manta_value *meet(const manta_value *const *a, size_t n, void *u) {
  (void)n, (void)u;
  static _Atomic int64_t calls;
  const char *dir;
  size_t len;
  int64_t want;
  if (manta_get_string(a[0], &dir, &len) != MANTA_OK ||
      manta_get_int(a[1], &want) != MANTA_OK) {
    return manta_error(MANTA_ERR_TYPE, "meet takes (dir, n)");
  }
  char path[4096];
  snprintf(path, sizeof path, "%.*s/%d-%lld", (int)len, dir, (int)getpid(),
           (long long)++calls);
  FILE *f = fopen(path, "w");
  if (!f) {
    return manta_error(MANTA_ERR_INVALID, "meet: cannot create %s", path);
  }
  fclose(f);
  snprintf(path, sizeof path, "%.*s", (int)len, dir);
  int64_t seen = 0;
  for (int i = 0; i < 15000 && seen < want; i++) {
    DIR *d = opendir(path);
    if (!d) {
      return manta_error(MANTA_ERR_INVALID, "meet: cannot read %s", path);
    }
    seen = 0;
    for (struct dirent *e; (e = readdir(d));) {
      seen += e->d_name[0] != '.';
    }
    closedir(d);
    struct timespec ms2 = {0, 2000000};
    nanosleep(&ms2, NULL);
  }
  if (seen < want) {
    return manta_error(MANTA_ERR_TIMEOUT, "only %lld of %lld calls ran at once",
                       (long long)seen, (long long)want);
  }
  return manta_int((int64_t)getpid());
}

static manta_value *fail(const manta_value *const *a, size_t n, void *u) {
  (void)a, (void)n, (void)u;
  return manta_error(MANTA_ERR_TASK_FAILED, "failed on purpose");
}

/* Submits add(x, 1) from inside a task, wherever add runs, and waits. */
static manta_value *nested(const manta_value *const *a, size_t n, void *u) {
  (void)n, (void)u;
  manta_value *args[2] = {manta_value_ref((manta_value *)a[0]), manta_int(1)};
  manta_ref r;
  manta_value *out = NULL;
  manta_err err =
      manta_submit("add", (const manta_value *const *)args, 2, NULL, &r);
  if (err == MANTA_OK) {
    manta_get(r, 30000, &out);
    manta_ref_release(r);
  } else {
    out = manta_error(err, "nested submit failed");
  }
  manta_value_free(args[0]);
  manta_value_free(args[1]);
  return out;
}

/* Options asking {pg: 1} and no CPU: a call that can run only where a pg
 * is free, or in a bundle holding one (cluster_pg.c, capture). */
static manta_call_options *one_pg(void) {
  manta_call_options *o = NULL;
  if (manta_call_options_new(&o) != MANTA_OK ||
      manta_call_options_set_resource(o, "pg", 1) != MANTA_OK ||
      manta_call_options_set_num_cpus(o, 0) != MANTA_OK) {
    manta_call_options_free(o);
    return NULL;
  }
  return o;
}

/* pg_capture_probe(depth): a child asking {pg: 1} (pg_capture_probe(depth - 1),
 * or where() at depth 0), waited for 20 s at most: the pid the innermost
 * one ran in, or why not. */
static manta_value *capture_probe(const manta_value *const *a, size_t n,
                                  void *u) {
  (void)n, (void)u;
  int64_t depth = 0;
  manta_get_int(a[0], &depth);
  manta_value *arg = manta_int(depth - 1);
  manta_call_options *o = one_pg();
  manta_ref r;
  manta_value *out = NULL;
  manta_err err = !o || !arg ? MANTA_ERR_NOMEM
                  : depth > 0
                      ? manta_submit("pg_capture_probe",
                                     (const manta_value *const *)&arg, 1, o, &r)
                      : manta_submit("where", NULL, 0, o, &r);
  if (err == MANTA_OK) {
    manta_get(r, 20000, &out);
    manta_ref_release(r);
  } else {
    out = manta_error(err, "pg_capture_probe: submit failed");
  }
  manta_value_free(arg);
  manta_call_options_free(o);
  return out;
}

/* pg_capture_actor(): a Counter asking {pg: 1} for its lifetime, asked for
 * its pid (20 s at most). */
static manta_value *capture_actor(const manta_value *const *a, size_t n,
                                  void *u) {
  (void)a, (void)n, (void)u;
  manta_call_options *o = one_pg();
  manta_actor c;
  manta_ref r;
  manta_value *out = NULL;
  manta_err err =
      o ? manta_actor_create("Counter", NULL, 0, o, &c) : MANTA_ERR_NOMEM;
  manta_call_options_free(o);
  if (err == MANTA_OK) {
    err = manta_actor_call(c, "pid", NULL, 0, &r);
    if (err == MANTA_OK) {
      manta_get(r, 20000, &out);
      manta_ref_release(r);
    }
    manta_actor_release(c);
  }
  return out ? out : manta_error(err, "pg_capture_actor: not created");
}

static void release_bytes(void *data, void *arg) {
  (void)arg;
  free(data);
}

static manta_value *make_bytes(const manta_value *const *a, size_t n, void *u) {
  (void)n, (void)u;
  int64_t len;
  if (manta_get_int(a[0], &len) != MANTA_OK || len < 0) {
    return manta_error(MANTA_ERR_TYPE, "make_bytes takes a length");
  }
  unsigned char *p = malloc(len ? (size_t)len : 1);
  if (!p) {
    return manta_error(MANTA_ERR_NOMEM, "make_bytes: out of memory");
  }
  for (int64_t i = 0; i < len; i++) {
    p[i] = (unsigned char)(i * 31 + 7);
  }
  manta_value *v = manta_bytes_wrap(p, (size_t)len, release_bytes, NULL);
  if (!v) {
    free(p);
  }
  return v;
}

/* (bytes, reps) -> the bytes repeated reps times, each byte b as b*3+1:
 * a step of a chain whose every result differs (lineage tests). */
static manta_value *step_bytes(const manta_value *const *a, size_t n, void *u) {
  (void)n, (void)u;
  const void *data;
  size_t len;
  int64_t reps;
  if (manta_get_bytes(a[0], &data, &len) != MANTA_OK ||
      manta_get_int(a[1], &reps) != MANTA_OK || reps < 1 || reps > 64) {
    return manta_error(MANTA_ERR_TYPE, "step_bytes takes (bytes, 1..64)");
  }
  size_t total = len * (size_t)reps;
  unsigned char *p = malloc(total ? total : 1);
  if (!p) {
    return manta_error(MANTA_ERR_NOMEM, "step_bytes: out of memory");
  }
  const unsigned char *in = data;
  for (size_t i = 0; i < total; i++) {
    p[i] = (unsigned char)(in[i % len] * 3 + 1);
  }
  manta_value *v = manta_bytes_wrap(p, total, release_bytes, NULL);
  if (!v) {
    free(p);
  }
  return v;
}

/* ---- pinned functions: "on_<MANTA_TEST_PIN>.<name>", one node each ---- */

/* (bytes) -> [length, checksum]: what arrived, compared by the driver. */
static manta_value *len_sum(const manta_value *const *a, size_t n, void *u) {
  (void)n, (void)u;
  const void *data;
  size_t len;
  if (manta_get_bytes(a[0], &data, &len) != MANTA_OK) {
    return manta_error(MANTA_ERR_TYPE, "len_sum takes bytes");
  }
  const unsigned char *p = data;
  uint64_t sum = 0;
  for (size_t i = 0; i < len; i++) {
    sum = sum * 31 + p[i];
  }
  manta_value *l = manta_list();
  manta_list_push(l, manta_int((int64_t)len));
  manta_list_push(l, manta_int((int64_t)(sum & 0x7fffffffffffffffULL)));
  return l;
}

/* ([ref], dir) -> [length, checksum] of the bytes the ref names, as
 * len_sum, once dir/release exists (60 s at most); leaves dir/held once
 * it has them. Holding the ref keeps this node's copy (its proxy) for that
 * long, where a bytes argument would keep only the value
 * (cluster_transfer.c). */
static manta_value *hold(const manta_value *const *a, size_t n, void *u) {
  (void)n;
  const manta_value *item;
  const char *dir;
  size_t len;
  manta_ref r;
  if (manta_list_at(a[0], 0, &item) != MANTA_OK ||
      manta_get_ref(item, &r) != MANTA_OK ||
      manta_get_string(a[1], &dir, &len) != MANTA_OK || len > 3000) {
    return manta_error(MANTA_ERR_TYPE, "hold takes ([ref], dir)");
  }
  manta_value *v = NULL;
  if (manta_get(r, 60000, &v) != MANTA_OK) {
    return v ? v : manta_error(MANTA_ERR_TIMEOUT, "hold: no value");
  }
  char path[4096];
  snprintf(path, sizeof path, "%.*s/held", (int)len, dir);
  FILE *f = fopen(path, "w");
  if (f) {
    fclose(f);
  }
  snprintf(path, sizeof path, "%.*s/release", (int)len, dir);
  for (int i = 0; i < 6000 && access(path, F_OK) != 0; i++) {
    nanosleep(&(struct timespec){0, 10000000L}, NULL);
  }
  const manta_value *args[1] = {v};
  manta_value *out = len_sum(args, 1, u);
  manta_value_free(v);
  return out;
}

/* ([ref]) -> the value the nested ref names, fetched from where it lives. */
static manta_value *get_nested(const manta_value *const *a, size_t n, void *u) {
  (void)n, (void)u;
  const manta_value *item;
  manta_ref r;
  if (manta_list_at(a[0], 0, &item) != MANTA_OK ||
      manta_get_ref(item, &r) != MANTA_OK) {
    return manta_error(MANTA_ERR_TYPE, "get_nested takes [ref]");
  }
  manta_value *out = NULL;
  manta_get(r, 30000, &out);
  return out;
}

/* (len) -> [ref] to bytes put on this node (make_bytes' pattern). */
static manta_value *put_nested(const manta_value *const *a, size_t n, void *u) {
  manta_value *b = make_bytes(a, n, u);
  if (manta_value_kind(b) == MANTA_KIND_ERROR) {
    return b;
  }
  manta_ref r;
  manta_err err = manta_put(b, &r);
  manta_value_free(b);
  if (err != MANTA_OK) {
    return manta_error(err, "put_nested: put failed");
  }
  manta_value *l = manta_list();
  manta_list_push(l, manta_ref_value(r));
  manta_ref_release(r);
  return l;
}

static manta_value *live_objects(const manta_value *const *a, size_t n,
                                 void *u) {
  (void)a, (void)n, (void)u;
  int64_t live = -1;
  manta_stat_get(MANTA_STAT_LIVE_OBJECTS, &live);
  return manta_int(live);
}

/* ---- streams (docs/api.md, "Streams"): generators for cluster_streams.c */

static _Atomic int64_t stream_emitted; /* items gen emitted, all calls */
static _Atomic int gate_open;
static _Atomic int forever_state; /* 1 running, 2 stopped */
static _Atomic int forever_code;

/* (start, n): emits start..start+n-1, returns "done". */
static manta_value *stream_gen(const manta_value *const *a, size_t n, void *u) {
  (void)n, (void)u;
  int64_t start = 0, count = 0;
  manta_get_int(a[0], &start);
  manta_get_int(a[1], &count);
  for (int64_t i = 0; i < count; i++) {
    manta_err err = manta_emit(manta_int(start + i));
    if (err != MANTA_OK) {
      return manta_error(err, "emit %lld refused", (long long)i);
    }
    stream_emitted++;
  }
  return manta_string("done", 4);
}

static manta_value *stream_emitted_now(const manta_value *const *a, size_t n,
                                       void *u) {
  (void)a, (void)n, (void)u;
  return manta_int(stream_emitted);
}

/* (k): emits k items, then fails. */
static manta_value *stream_fail(const manta_value *const *a, size_t n,
                                void *u) {
  (void)n, (void)u;
  int64_t k = 0;
  manta_get_int(a[0], &k);
  for (int64_t i = 0; i < k; i++) {
    manta_emit(manta_int(i));
  }
  return manta_error(MANTA_ERR_TASK_FAILED, "bad row %lld", (long long)k);
}

/* Emits 1, waits (at most 30 s) for open_gate, emits 2. */
static manta_value *stream_gated(const manta_value *const *a, size_t n,
                                 void *u) {
  (void)a, (void)n, (void)u;
  gate_open = 0;
  manta_emit(manta_int(1));
  struct timespec ms = {0, 1000000L};
  for (int i = 0; i < 30000 && !gate_open; i++) {
    nanosleep(&ms, NULL);
  }
  manta_emit(manta_int(2));
  return NULL;
}

static manta_value *open_gate(const manta_value *const *a, size_t n, void *u) {
  (void)a, (void)n, (void)u;
  gate_open = 1;
  return NULL;
}

/* Emits until emit refuses; forever_state says how it ended. */
static manta_value *stream_forever(const manta_value *const *a, size_t n,
                                   void *u) {
  (void)a, (void)n, (void)u;
  forever_state = 1;
  int64_t i = 0;
  manta_err err;
  while ((err = manta_emit(manta_int(i++))) == MANTA_OK) {
  }
  forever_code = err;
  forever_state = 2;
  return NULL;
}

/* (n): emits [pid, i] for i in 0..n-1: which process made each item. */
static manta_value *stream_pids(const manta_value *const *a, size_t n,
                                void *u) {
  (void)n, (void)u;
  int64_t count = 0;
  manta_get_int(a[0], &count);
  for (int64_t i = 0; i < count; i++) {
    manta_value *item = manta_list();
    manta_list_push(item, manta_int((int64_t)getpid()));
    manta_list_push(item, manta_int(i));
    if (manta_emit(item) != MANTA_OK) {
      break;
    }
  }
  return NULL;
}

/* [state, code]: state 1 running, 2 stopped (code: what emit said). */
static manta_value *forever_status(const manta_value *const *a, size_t n,
                                   void *u) {
  (void)a, (void)n, (void)u;
  manta_value *l = manta_list();
  manta_list_push(l, manta_int(forever_state));
  manta_list_push(l, manta_int(forever_code));
  return l;
}

static manta_err register_pinned(void) {
  const char *pin = getenv("MANTA_TEST_PIN");
  if (!pin || !*pin) {
    return MANTA_OK;
  }
  static const struct {
    const char *name;
    manta_function fn;
    int nargs;
  } fns[] = {{"len_sum", len_sum, 1},
             {"hold", hold, 2},
             {"get_nested", get_nested, 1},
             {"put_nested", put_nested, 1},
             {"make_bytes", make_bytes, 1},
             {"live_objects", live_objects, 0},
             {"pid", where, 0},
             /* streams (cluster_streams.c), named to sort after the rest */
             {"stream_gen", stream_gen, 2},
             {"stream_fail", stream_fail, 1},
             {"stream_gated", stream_gated, 0},
             {"stream_open_gate", open_gate, 0},
             {"stream_forever", stream_forever, 0},
             {"stream_forever_status", forever_status, 0},
             {"stream_emitted", stream_emitted_now, 0}};
  manta_err err = MANTA_OK;
  for (size_t i = 0; !err && i < sizeof fns / sizeof fns[0]; i++) {
    char name[128];
    snprintf(name, sizeof name, "on_%s.%s", pin, fns[i].name);
    err = manta_register_function(name, fns[i].fn, fns[i].nargs, NULL);
  }
  return err;
}

/* (ms, v): returns v after ms. */
static manta_value *late(const manta_value *const *a, size_t n, void *u) {
  (void)n, (void)u;
  int64_t ms;
  if (manta_get_int(a[0], &ms) != MANTA_OK) {
    return manta_error(MANTA_ERR_TYPE, "late takes (ms, value)");
  }
  struct timespec ts = {ms / 1000, (long)(ms % 1000) * 1000000L};
  nanosleep(&ts, NULL);
  return manta_value_ref((manta_value *)a[1]);
}

/* (actor, x): calls add(x) on the actor from wherever this task runs and
 * returns [its result, the pid that called]. */
static manta_value *call_actor(const manta_value *const *a, size_t n, void *u) {
  (void)n, (void)u;
  manta_actor actor;
  if (manta_get_actor(a[0], &actor) != MANTA_OK) {
    return manta_error(MANTA_ERR_TYPE, "call_actor takes (actor, int)");
  }
  manta_ref r;
  manta_value *out = NULL;
  manta_err err = manta_actor_call(actor, "add", &a[1], 1, &r);
  if (err != MANTA_OK) {
    return manta_error(err, "call_actor: call failed");
  }
  manta_get(r, 30000, &out);
  manta_ref_release(r);
  if (manta_value_kind(out) == MANTA_KIND_ERROR) {
    return out;
  }
  manta_value *l = manta_list();
  manta_list_push(l, out);
  manta_list_push(l, manta_int((int64_t)getpid()));
  return l;
}

/* ---- the counter actor --------------------------------------------------- */

enum { KEYS = 8 };

typedef struct counter {
  int64_t total;
  int64_t expected[KEYS]; /* next sequence number per caller key */
} counter;

/* (start) or (): a counter; ("fail") fails the constructor, and so does
 * every construction on a node started with MANTA_TEST_CTOR_FAILS=1. */
static void *counter_new(const manta_value *const *a, size_t n, void *cd,
                         manta_value **error) {
  (void)cd;
  const char *s;
  size_t len;
  const char *fails = getenv("MANTA_TEST_CTOR_FAILS");
  if (fails && strcmp(fails, "1") == 0) {
    *error =
        manta_error(MANTA_ERR_TASK_FAILED, "constructor refused on this node "
                                           "(MANTA_TEST_CTOR_FAILS)");
    return NULL;
  }
  if (n == 1 && manta_get_string(a[0], &s, &len) == MANTA_OK) {
    *error = manta_error(MANTA_ERR_TASK_FAILED, "constructor refused '%s'", s);
    return NULL;
  }
  counter *c = calloc(1, sizeof *c);
  if (c && n == 1) {
    manta_get_int(a[0], &c->total);
  }
  return c;
}

static void counter_free(void *state, void *cd) {
  (void)cd;
  free(state);
}

static manta_value *counter_add(void *state, const manta_value *const *a,
                                size_t n, void *md) {
  (void)n, (void)md;
  counter *c = state;
  int64_t x;
  if (manta_get_int(a[0], &x) != MANTA_OK) {
    return manta_error(MANTA_ERR_TYPE, "add takes an int");
  }
  c->total += x;
  return manta_int(c->total);
}

static manta_value *counter_get(void *state, const manta_value *const *a,
                                size_t n, void *md) {
  (void)a, (void)n, (void)md;
  return manta_int(((counter *)state)->total);
}

static manta_value *counter_pid(void *state, const manta_value *const *a,
                                size_t n, void *md) {
  (void)state, (void)a, (void)n, (void)md;
  return manta_int((int64_t)getpid());
}

/* (key, i): i when i is the next number for key (calls of one caller
 * arrived in order), else an error saying what came instead. */
static manta_value *counter_next(void *state, const manta_value *const *a,
                                 size_t n, void *md) {
  (void)n, (void)md;
  counter *c = state;
  int64_t key, i;
  if (manta_get_int(a[0], &key) != MANTA_OK ||
      manta_get_int(a[1], &i) != MANTA_OK || key < 0 || key >= KEYS) {
    return manta_error(MANTA_ERR_TYPE, "next takes (key 0..7, int)");
  }
  if (c->expected[key] != i) {
    return manta_error(
        MANTA_ERR_TASK_FAILED, "out of order: key %lld expected %lld, got %lld",
        (long long)key, (long long)c->expected[key], (long long)i);
  }
  c->expected[key]++;
  return manta_int(i);
}

/* (ms): sleeps, then returns ms. */
static manta_value *counter_slow(void *state, const manta_value *const *a,
                                 size_t n, void *md) {
  (void)state, (void)n, (void)md;
  int64_t ms;
  if (manta_get_int(a[0], &ms) != MANTA_OK) {
    return manta_error(MANTA_ERR_TYPE, "slow takes ms");
  }
  struct timespec ts = {ms / 1000, (long)(ms % 1000) * 1000000L};
  nanosleep(&ts, NULL);
  return manta_int(ms);
}

/* The same behind a Serve route: the request map's query says how long
 * (?ms=N), so a route's replicas can be kept busy (serve_autoscale). */
static manta_value *counter_serve_slow(void *state, const manta_value *const *a,
                                       size_t n, void *md) {
  const manta_value *query = NULL, *ms = NULL;
  const char *text = NULL;
  size_t len = 0;
  if (manta_map_find(a[0], "query", &query) != MANTA_OK ||
      manta_map_find(query, "ms", &ms) != MANTA_OK ||
      manta_get_string(ms, &text, &len) != MANTA_OK) {
    return manta_error(MANTA_ERR_INVALID, "serve_slow takes ?ms=N");
  }
  manta_value *v = manta_int(strtoll(text, NULL, 10));
  const manta_value *args[] = {v};
  manta_value *out = counter_slow(state, args, 1, md);
  manta_value_free(v);
  (void)n;
  return out;
}

/* (k): emits the count k times, adding one each time (a stream method). */
static manta_value *counter_ticks(void *state, const manta_value *const *a,
                                  size_t n, void *md) {
  (void)n, (void)md;
  counter *c = state;
  int64_t k = 0;
  manta_get_int(a[0], &k);
  for (int64_t i = 0; i < k; i++) {
    manta_emit(manta_int(++c->total));
  }
  return NULL;
}

static manta_err register_counter(const char *name) {
  manta_err err = manta_register_class(name, counter_new, counter_free, NULL);
  if (!err)
    err = manta_register_method(name, "add", counter_add, 1, NULL);
  if (!err)
    err = manta_register_method(name, "get", counter_get, 0, NULL);
  if (!err)
    err = manta_register_method(name, "pid", counter_pid, 0, NULL);
  if (!err)
    err = manta_register_method(name, "next", counter_next, 2, NULL);
  if (!err)
    err = manta_register_method(name, "slow", counter_slow, 1, NULL);
  if (!err)
    err =
        manta_register_method(name, "serve_slow", counter_serve_slow, 1, NULL);
  if (!err)
    err = manta_register_method(name, "ticks", counter_ticks, 1, NULL);
  return err;
}

/* The classes named in MANTA_TEST_CLASSES (comma-separated). */
static manta_err register_extra_classes(void) {
  const char *list = getenv("MANTA_TEST_CLASSES");
  char name[64];
  while (list && *list) {
    size_t len = strcspn(list, ",");
    snprintf(name, sizeof name, "%.*s", (int)len, list);
    if (name[0]) {
      manta_err err = register_counter(name);
      if (err) {
        return err;
      }
    }
    list += len + (list[len] == ',');
  }
  return MANTA_OK;
}

MANTA_MODULE_EXPORT manta_err manta_module_init(void) {
  manta_err err = MANTA_OK;
  if (!err)
    err = manta_register_function("where", where, 0, NULL);
  if (!err)
    err = manta_register_function("add", add, 2, NULL);
  if (!err)
    err = manta_register_function("sleep_then", sleep_then, 2, NULL);
  if (!err)
    err = manta_register_function("fail", fail, 0, NULL);
  if (!err)
    err = manta_register_function("meet", meet, 2, NULL);
  if (!err)
    err = manta_register_function("nested", nested, 1, NULL);
  if (!err)
    err = manta_register_function("pg_capture_probe", capture_probe, 1, NULL);
  if (!err)
    err = manta_register_function("pg_capture_actor", capture_actor, 0, NULL);
  if (!err)
    err = manta_register_function("make_bytes", make_bytes, 1, NULL);
  if (!err)
    err = manta_register_function("step_bytes", step_bytes, 2, NULL);
  if (!err)
    err = manta_register_function("sum_bytes", len_sum, 1, NULL);
  if (!err)
    err = register_pinned();
  if (!err) /* a generator any node offers (the Java cluster test) */
    err = manta_register_function("yield_items", stream_gen, 2, NULL);
  if (!err) /* one whose items name their process (cluster_streams.c) */
    err = manta_register_function("yield_pids", stream_pids, 1, NULL);
  if (!err)
    err = manta_register_function("late", late, 2, NULL);
  if (!err)
    err = manta_register_function("call_actor", call_actor, 2, NULL);
  if (!err)
    err = register_counter("Counter");
  if (!err)
    err = register_extra_classes();
  return err;
}
