/*
 * How manta's cost grows with the number of actors, queued tasks,
 * arguments and objects, on one embedded node (docs/benchmarks.md,
 * "Scale"). The cases carry the names of Ray's scalability envelope:
 *
 *   scale [--json FILE] [--cpus N] [--actors 1000,10000,100000]
 *         [--queued 10000,100000,1000000] [--queued-cpu (the same)]
 *         [--args 1000,3000,10000]
 *         [--gets 1000,3000,10000] [--returns 1000,3000,10000]
 *
 *   many_actors        create N actors, call each once, release them:
 *                      creations/s, calls/s, memory per actor.
 *   many_tasks_queued  N no-op tasks submitted behind a blocker (each takes
 *                      as argument the ref of a "gate" task that waits until
 *                      every task is queued), then released: time to queue,
 *                      time to drain, memory per queued task.
 *   many_tasks_queued_cpu  the same, the blocker being every CPU slot held
 *                      by a gate task (the tasks wait for a slot, not for a
 *                      dependency).
 *   many_args          one task given N refs (put objects) as arguments.
 *   many_gets          one manta_get_many of N put objects.
 *   many_returns       one task with num_returns N (manta_submit_returns)
 *                      returning N ints, then one manta_get_many of its N
 *                      refs.
 *
 *   scale --spread ADDRESS FUNCTION N
 *
 * is many_nodes' task part, run by bench/scale_nodes.py once it has started
 * the nodes (docs/benchmarks.md), and
 *
 *   scale --broadcast ADDRESS BYTES SOURCE RECEIVER... [--check]
 *
 * the part of broadcast and big_object (bench/scale_transfer.py): node
 * SOURCE makes an object of BYTES bytes, then every RECEIVER (node ids) runs
 * a task taking it as argument, all at once.
 *
 * Each size runs in a forked child on a fresh runtime, so the memory before
 * a case is a fresh process's; memory per item is given as RSS grown and as
 * malloc'd bytes grown. Each phase is given as wall time and as the CPU time
 * the process used. A case's "per item" figures let the sizes be compared:
 * a per-item time rising with N is a cost that grows faster than N.
 */
#include <manta.h>

#include <malloc.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/utsname.h>
#include <sys/wait.h>
#include <unistd.h>

#include "bench_module.h"
#include "bench_util.h"

#define MAX_SIZES 8

static void die(const char *what, manta_err err) {
  fprintf(stderr, "scale: %s: %s\n", what, manta_strerror(err));
  exit(1);
}

#define OK(expr)                                                               \
  do {                                                                         \
    manta_err e_ = (expr);                                                     \
    if (e_ != MANTA_OK) {                                                      \
      die(#expr, e_);                                                          \
    }                                                                          \
  } while (0)

static void *xcalloc(size_t n, size_t size) {
  void *p = calloc(n, size);
  if (!p) {
    die("calloc", MANTA_ERR_NOMEM);
  }
  return p;
}

/* This process's resident set in bytes, from /proc/self/statm. */
static double rss_bytes(void) {
  FILE *f = fopen("/proc/self/statm", "r");
  long size = 0, resident = 0;
  if (!f) {
    return 0;
  }
  if (fscanf(f, "%ld %ld", &size, &resident) != 2) {
    resident = 0;
  }
  fclose(f);
  return (double)resident * (double)sysconf(_SC_PAGESIZE);
}

/* Bytes malloc has handed out and not had back, every arena: what the items
 * themselves hold, whatever the heap kept from before. */
static double heap_bytes(void) {
  struct mallinfo2 m = mallinfo2();
  return (double)m.uordblks + (double)m.hblkhd;
}

/* ---- task functions and the actor class ---------------------------------- */

/* How many no-op tasks have run: none may run before a blocker opens. */
static _Atomic size_t noops_run;

static manta_value *noop(const manta_value *const *args, size_t n, void *u) {
  (void)args, (void)n, (void)u;
  atomic_fetch_add(&noops_run, 1);
  return NULL;
}

/* Exits if a task ran while it should have been queued (the blocker did not
 * block, and the case measured something else). */
static void check_none_ran(const char *name) {
  size_t ran = atomic_load(&noops_run);
  if (ran != 0) {
    fprintf(stderr, "scale: %s: %zu tasks ran before the blocker opened\n",
            name, ran);
    exit(1);
  }
}

/* Counts its arguments (many_args: proves every ref arrived as a value). */
static manta_value *count_args(const manta_value *const *args, size_t n,
                               void *u) {
  (void)u;
  int64_t ints = 0;
  for (size_t i = 0; i < n; i++) {
    int64_t x;
    if (manta_get_int(args[i], &x) == MANTA_OK) {
      ints++;
    }
  }
  return manta_int(ints);
}

/* Returns a list of its one argument's count of ints (many_returns: item
 * i is i, so each of the N refs is checked). */
static manta_value *make_returns(const manta_value *const *args, size_t n,
                                 void *u) {
  (void)u;
  int64_t count = 0;
  if (n != 1 || manta_get_int(args[0], &count) != MANTA_OK || count < 0) {
    return manta_error(MANTA_ERR_TYPE, "make_returns wants one count");
  }
  manta_value *list = manta_list();
  for (int64_t i = 0; list && i < count; i++) {
    /* list_push takes the item, even on error */
    if (manta_list_push(list, manta_int(i)) != MANTA_OK) {
      manta_value_free(list);
      return manta_error(MANTA_ERR_NOMEM, "make_returns: out of memory");
    }
  }
  return list;
}

/* The blocker of many_tasks_queued: returns once the main thread opens it,
 * so every task that depends on its ref stays queued until then. */
static pthread_mutex_t gate_mu = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t gate_cv = PTHREAD_COND_INITIALIZER;
static bool gate_open;

static manta_value *gate(const manta_value *const *args, size_t n, void *u) {
  (void)args, (void)n, (void)u;
  pthread_mutex_lock(&gate_mu);
  while (!gate_open) {
    pthread_cond_wait(&gate_cv, &gate_mu);
  }
  pthread_mutex_unlock(&gate_mu);
  return manta_int(0);
}

static void gate_set(bool open) {
  pthread_mutex_lock(&gate_mu);
  gate_open = open;
  pthread_cond_broadcast(&gate_cv);
  pthread_mutex_unlock(&gate_mu);
}

/* A C actor with one int of state. */
static void *counter_new(const manta_value *const *args, size_t n, void *cd,
                         manta_value **error) {
  (void)args, (void)n, (void)cd, (void)error;
  return calloc(1, sizeof(int64_t));
}

static void counter_free(void *state, void *cd) {
  (void)cd;
  free(state);
}

static manta_value *counter_incr(void *state, const manta_value *const *args,
                                 size_t n, void *md) {
  (void)args, (void)n, (void)md;
  int64_t *c = state;
  return manta_int(++*c);
}

static void start_runtime(double cpus) {
  manta_options *o;
  OK(manta_options_new(&o));
  OK(manta_options_set_num_cpus(o, cpus));
  OK(manta_init(o));
  manta_options_free(o);
  OK(manta_register_function("noop", noop, -1, NULL));
  OK(manta_register_function("count_args", count_args, -1, NULL));
  OK(manta_register_function("gate", gate, 0, NULL));
  OK(manta_register_function("make_returns", make_returns, 1, NULL));
  OK(manta_register_class("Counter", counter_new, counter_free, NULL));
  OK(manta_register_method("Counter", "incr", counter_incr, 0, NULL));
}

/* Gets the value of ref (which must not be an error) and releases both. */
static void get_ok(manta_ref ref, const char *what) {
  manta_value *v;
  manta_err err = manta_get(ref, 600000, &v);
  if (err != MANTA_OK) {
    fprintf(stderr, "scale: %s: %s\n", what,
            v ? manta_error_message(v) : manta_strerror(err));
    exit(1);
  }
  manta_value_free(v);
  manta_ref_release(ref);
}

/* ---- the cases ----------------------------------------------------------- */

typedef struct result {
  size_t n;
  double a_s, b_s;         /* the case's two phases, seconds */
  double a_cpu_s, b_cpu_s; /* CPU the process used in them, every thread:
                            * on a shared machine, wall time far above it
                            * is time the process waited for a core */
  double rss_per_item;     /* RSS grown per item while they are held */
  double heap_per_item;    /* malloc'd bytes grown per item, the same moment */
  double rss_before;       /* the fresh runtime's RSS */
  double heap_before;
} result;

static result many_actors(size_t n, double cpus) {
  result r = {.n = n};
  start_runtime(cpus);
  manta_actor *actors = xcalloc(n, sizeof *actors);
  manta_ref *refs = xcalloc(n, sizeof *refs);
  r.rss_before = rss_bytes();
  r.heap_before = heap_bytes();
  double t0 = bench_now_s(), c0 = bench_self_cpu_s();
  for (size_t i = 0; i < n; i++) {
    OK(manta_actor_create("Counter", NULL, 0, NULL, &actors[i]));
  }
  double t1 = bench_now_s(), c1 = bench_self_cpu_s();
  for (size_t i = 0; i < n; i++) {
    OK(manta_actor_call(actors[i], "incr", NULL, 0, &refs[i]));
  }
  for (size_t i = 0; i < n; i++) {
    get_ok(refs[i], "an actor call");
  }
  double t2 = bench_now_s(), c2 = bench_self_cpu_s();
  /* Every actor has been created and called once and is idle: what each
   * costs at rest. */
  r.rss_per_item = (rss_bytes() - r.rss_before) / (double)n;
  r.heap_per_item = (heap_bytes() - r.heap_before) / (double)n;
  r.a_s = t1 - t0;
  r.b_s = t2 - t1;
  r.a_cpu_s = c1 - c0;
  r.b_cpu_s = c2 - c1;
  for (size_t i = 0; i < n; i++) {
    manta_actor_release(actors[i]);
  }
  free(actors);
  free(refs);
  OK(manta_shutdown());
  return r;
}

/* n no-op tasks submitted behind a blocker, then released. The blocker is
 * a gate task: with by_slot false, one gate whose ref every task takes as
 * argument (the tasks wait for a dependency); with by_slot true, one gate
 * per CPU slot and tasks without arguments (they wait in the scheduler's
 * queue for a slot, as Ray's test queues its tasks). */
static result tasks_queued(size_t n, double cpus, bool by_slot) {
  result r = {.n = n};
  start_runtime(cpus);
  manta_ref *refs = xcalloc(n, sizeof *refs);
  size_t ngates = by_slot ? (size_t)cpus : 1;
  manta_ref *gates = xcalloc(ngates, sizeof *gates);
  gate_set(false);
  for (size_t i = 0; i < ngates; i++) {
    OK(manta_submit("gate", NULL, 0, NULL, &gates[i]));
  }
  manta_value *dep = manta_ref_value(gates[0]);
  r.rss_before = rss_bytes();
  r.heap_before = heap_bytes();
  double t0 = bench_now_s(), c0 = bench_self_cpu_s();
  for (size_t i = 0; i < n; i++) {
    OK(manta_submit("noop", (const manta_value *const *)&dep, by_slot ? 0 : 1,
                    NULL, &refs[i]));
  }
  double t1 = bench_now_s(), c1 = bench_self_cpu_s();
  r.rss_per_item = (rss_bytes() - r.rss_before) / (double)n;
  r.heap_per_item = (heap_bytes() - r.heap_before) / (double)n;
  check_none_ran(by_slot ? "many_tasks_queued_cpu" : "many_tasks_queued");
  gate_set(true);
  for (size_t i = 0; i < n; i++) {
    get_ok(refs[i], "a queued task");
  }
  double t2 = bench_now_s(), c2 = bench_self_cpu_s();
  r.a_s = t1 - t0;
  r.b_s = t2 - t1;
  r.a_cpu_s = c1 - c0;
  r.b_cpu_s = c2 - c1;
  manta_value_free(dep);
  for (size_t i = 0; i < ngates; i++) {
    get_ok(gates[i], "a blocker");
  }
  free(gates);
  free(refs);
  OK(manta_shutdown());
  return r;
}

static result many_tasks_queued(size_t n, double cpus) {
  return tasks_queued(n, cpus, false);
}

static result many_tasks_queued_cpu(size_t n, double cpus) {
  return tasks_queued(n, cpus, true);
}

/* n put objects (small ints) and their refs as values. */
static void put_objects(size_t n, manta_ref *refs, manta_value **vals) {
  for (size_t i = 0; i < n; i++) {
    manta_value *v = manta_int((int64_t)i);
    OK(manta_put(v, &refs[i]));
    manta_value_free(v);
    if (vals) {
      vals[i] = manta_ref_value(refs[i]);
    }
  }
}

static result many_args(size_t n, double cpus) {
  result r = {.n = n};
  start_runtime(cpus);
  manta_ref *refs = xcalloc(n, sizeof *refs);
  manta_value **vals = xcalloc(n, sizeof *vals);
  r.rss_before = rss_bytes();
  r.heap_before = heap_bytes();
  double t0 = bench_now_s(), c0 = bench_self_cpu_s();
  put_objects(n, refs, vals);
  double t1 = bench_now_s(), c1 = bench_self_cpu_s();
  manta_ref out;
  OK(manta_submit("count_args", (const manta_value *const *)vals, n, NULL,
                  &out));
  manta_value *v;
  OK(manta_get(out, 600000, &v));
  double t2 = bench_now_s(), c2 = bench_self_cpu_s();
  int64_t got = -1;
  manta_get_int(v, &got);
  if (got != (int64_t)n) {
    fprintf(stderr, "scale: many_args: the task saw %lld of %zu values\n",
            (long long)got, n);
    exit(1);
  }
  r.rss_per_item = (rss_bytes() - r.rss_before) / (double)n;
  r.heap_per_item = (heap_bytes() - r.heap_before) / (double)n;
  manta_value_free(v);
  manta_ref_release(out);
  r.a_s = t1 - t0;
  r.b_s = t2 - t1;
  r.a_cpu_s = c1 - c0;
  r.b_cpu_s = c2 - c1;
  for (size_t i = 0; i < n; i++) {
    manta_value_free(vals[i]);
    manta_ref_release(refs[i]);
  }
  free(vals);
  free(refs);
  OK(manta_shutdown());
  return r;
}

/* many_gets and many_returns: the n values got (item i must read i), the
 * memory they hold and the two phases' times into r; then everything is
 * freed and the runtime shut down. */
static void finish_int_reads(const char *name, result *r, manta_ref *refs,
                             manta_value **out, const double t[3],
                             const double c[3]) {
  size_t n = r->n;
  for (size_t i = 0; i < n; i++) {
    int64_t x = -1;
    manta_get_int(out[i], &x);
    if (x != (int64_t)i) {
      fprintf(stderr, "scale: %s: item %zu read %lld\n", name, i, (long long)x);
      exit(1);
    }
  }
  r->rss_per_item = (rss_bytes() - r->rss_before) / (double)n;
  r->heap_per_item = (heap_bytes() - r->heap_before) / (double)n;
  r->a_s = t[1] - t[0];
  r->b_s = t[2] - t[1];
  r->a_cpu_s = c[1] - c[0];
  r->b_cpu_s = c[2] - c[1];
  for (size_t i = 0; i < n; i++) {
    manta_value_free(out[i]);
    manta_ref_release(refs[i]);
  }
  free(out);
  free(refs);
  OK(manta_shutdown());
}

static result many_gets(size_t n, double cpus) {
  result r = {.n = n};
  start_runtime(cpus);
  manta_ref *refs = xcalloc(n, sizeof *refs);
  manta_value **out = xcalloc(n, sizeof *out);
  r.rss_before = rss_bytes();
  r.heap_before = heap_bytes();
  double t[3], c[3];
  t[0] = bench_now_s(), c[0] = bench_self_cpu_s();
  put_objects(n, refs, NULL);
  t[1] = bench_now_s(), c[1] = bench_self_cpu_s();
  OK(manta_get_many(refs, n, 600000, out));
  t[2] = bench_now_s(), c[2] = bench_self_cpu_s();
  finish_int_reads("many_gets", &r, refs, out, t, c);
  return r;
}

static result many_returns(size_t n, double cpus) {
  result r = {.n = n};
  start_runtime(cpus);
  manta_ref *refs = xcalloc(n, sizeof *refs);
  manta_value **out = xcalloc(n, sizeof *out);
  manta_call_options *opts;
  OK(manta_call_options_new(&opts));
  OK(manta_call_options_set_num_returns(opts, n));
  manta_value *count = manta_int((int64_t)n);
  r.rss_before = rss_bytes();
  r.heap_before = heap_bytes();
  double t[3], c[3];
  t[0] = bench_now_s(), c[0] = bench_self_cpu_s();
  OK(manta_submit_returns("make_returns", (const manta_value *const *)&count, 1,
                          opts, refs, n));
  t[1] = bench_now_s(), c[1] = bench_self_cpu_s();
  OK(manta_get_many(refs, n, 600000, out));
  t[2] = bench_now_s(), c[2] = bench_self_cpu_s();
  manta_value_free(count);
  manta_call_options_free(opts);
  finish_int_reads("many_returns", &r, refs, out, t, c);
  return r;
}

/* Runs one case at one size in a child process, so that its RSS starts from
 * a fresh process's and no heap is left over from a bigger case before it.
 * The parent never starts a runtime (it has one thread when it forks). */
static result run_isolated(result (*run)(size_t, double), size_t n,
                           double cpus) {
  int fds[2];
  if (pipe(fds) != 0) {
    die("pipe", MANTA_ERR_INTERNAL);
  }
  pid_t pid = fork();
  if (pid < 0) {
    die("fork", MANTA_ERR_INTERNAL);
  }
  if (pid == 0) {
    close(fds[0]);
    result r = run(n, cpus);
    ssize_t w = write(fds[1], &r, sizeof r);
    _exit(w == (ssize_t)sizeof r ? 0 : 1);
  }
  close(fds[1]);
  result r;
  ssize_t got = read(fds[0], &r, sizeof r);
  close(fds[0]);
  int status = 0;
  waitpid(pid, &status, 0);
  if (got != (ssize_t)sizeof r || !WIFEXITED(status) ||
      WEXITSTATUS(status) != 0) {
    fprintf(stderr, "scale: the case at n=%zu failed (status %d)\n", n, status);
    exit(1);
  }
  return r;
}

/* many_nodes' task part (bench/scale_nodes.py starts the nodes): joins the
 * cluster at address as a driver with no CPU slots of its own, submits n
 * calls of the no-op function `fn` (which the nodes offer) spread
 * round-robin over the nodes, gets them all, and prints one JSON line. */
static int spread_over_cluster(const char *address, const char *fn, size_t n) {
  manta_options *o;
  OK(manta_options_new(&o));
  OK(manta_options_set_address(o, address));
  OK(manta_options_set_num_cpus(o, 0));
  OK(manta_init(o));
  manta_options_free(o);
  manta_call_options *co;
  OK(manta_call_options_new(&co));
  OK(manta_call_options_set_strategy(co, MANTA_STRATEGY_SPREAD));
  manta_ref *refs = xcalloc(n, sizeof *refs);
  double t0 = bench_now_s();
  for (size_t i = 0; i < n; i++) {
    OK(manta_submit(fn, NULL, 0, co, &refs[i]));
  }
  double t1 = bench_now_s();
  for (size_t i = 0; i < n; i++) {
    get_ok(refs[i], "a spread task");
  }
  double t2 = bench_now_s();
  manta_call_options_free(co);
  free(refs);
  OK(manta_shutdown());
  printf("{\"tasks\": %zu, \"submit_s\": %.6f, \"total_s\": %.6f, "
         "\"tasks_per_s\": %.1f}\n",
         n, t1 - t0, t2 - t0, (double)n / (t2 - t0));
  return 0;
}

/* One call of fn(arg) pinned to node; its ref. */
static manta_ref call_on(const char *node, const char *fn,
                         const manta_value *arg) {
  manta_call_options *co;
  OK(manta_call_options_new(&co));
  OK(manta_call_options_set_node_affinity(co, node, 0));
  manta_ref r;
  OK(manta_submit(fn, &arg, 1, co, &r));
  manta_call_options_free(co);
  return r;
}

/* The int a task returned; exits naming what on an error. */
static int64_t get_int(manta_ref r, const char *what) {
  manta_value *v;
  OK(manta_get(r, -1, &v));
  int64_t x;
  if (manta_get_int(v, &x) != MANTA_OK) {
    char *repr = manta_value_repr(v);
    fprintf(stderr, "scale: %s gave %s\n", what, repr ? repr : "?");
    exit(1);
  }
  manta_value_free(v);
  manta_ref_release(r);
  return x;
}

/* broadcast and big_object's task part (bench/scale_transfer.py starts the
 * nodes): node `source` makes `bytes` bytes (bench_bytes, then bench_len
 * there, so the object is ready and no byte has moved); then each of the
 * receivers runs bench_len (bench_check with `check`: the bytes that differ
 * from what was made, which must be 0) on it, all submitted at once.
 * Prints one JSON line: the time from the first submission to the last
 * result. The driver never holds the bytes. */
static int broadcast(const char *address, int64_t bytes, const char *source,
                     char **receivers, size_t n, bool check) {
  manta_options *o;
  OK(manta_options_new(&o));
  OK(manta_options_set_address(o, address));
  OK(manta_options_set_num_cpus(o, 0));
  OK(manta_init(o));
  manta_options_free(o);
  manta_value *size = manta_int(bytes);
  double t0 = bench_now_s();
  manta_ref obj = call_on(source, BENCH_BYTES, size);
  manta_value_free(size);
  manta_value *arg = manta_ref_value(obj);
  if (get_int(call_on(source, BENCH_LEN, arg), "bench_len at the source") !=
      bytes) {
    fprintf(stderr, "scale: the source made the wrong size\n");
    return 1;
  }
  double t1 = bench_now_s();
  manta_ref *refs = xcalloc(n, sizeof *refs);
  for (size_t i = 0; i < n; i++) {
    refs[i] = call_on(receivers[i], check ? BENCH_CHECK : BENCH_LEN, arg);
  }
  int64_t wrong = 0;
  for (size_t i = 0; i < n; i++) {
    int64_t got = get_int(refs[i], "a receiver's task");
    wrong += check ? got : got != bytes;
  }
  double t2 = bench_now_s();
  manta_value_free(arg);
  manta_ref_release(obj);
  free(refs);
  OK(manta_shutdown());
  printf("{\"bytes\": %lld, \"receivers\": %zu, \"make_s\": %.6f, "
         "\"total_s\": %.6f, \"received_gib_per_s\": %.3f, "
         "\"checked\": %s, \"receivers_wrong\": %lld}\n",
         (long long)bytes, n, t1 - t0, t2 - t1,
         (double)n * (double)bytes / (t2 - t1) / (1 << 30),
         check ? "true" : "false", (long long)wrong);
  return wrong ? 1 : 0;
}

/* ---- command line and output --------------------------------------------- */

/* "1000,10000" into sizes; the count, or -1 for anything but 1..MAX_SIZES
 * positive integers. */
static int parse_sizes(const char *text, size_t *sizes) {
  int count = 0;
  const char *p = text;
  while (*p) {
    char *end;
    unsigned long long v = strtoull(p, &end, 10);
    if (end == p || v == 0 || v > 100000000ULL || count == MAX_SIZES ||
        (*end != ',' && *end != '\0')) {
      return -1;
    }
    sizes[count++] = (size_t)v;
    p = *end == ',' ? end + 1 : end;
  }
  return count > 0 ? count : -1;
}

typedef struct scase {
  const char *name, *a_name, *b_name;
  result (*run)(size_t n, double cpus);
  size_t sizes[MAX_SIZES];
  int nsizes;
  result res[MAX_SIZES];
} scase;

static void usage(void) {
  fprintf(stderr, "usage: scale [--json FILE] [--cpus N] [--actors LIST] "
                  "[--queued LIST] [--queued-cpu LIST] [--args LIST] "
                  "[--gets LIST] [--returns LIST]\n"
                  "  LIST: sizes such as 1000,10000 (0 cases: 'none')\n");
  exit(2);
}

int main(int argc, char **argv) {
  scase cases[] = {
      {.name = "many_actors",
       .a_name = "create",
       .b_name = "call_once",
       .run = many_actors,
       .sizes = {1000, 10000, 100000},
       .nsizes = 3},
      {.name = "many_tasks_queued",
       .a_name = "queue",
       .b_name = "drain",
       .run = many_tasks_queued,
       .sizes = {10000, 100000, 1000000},
       .nsizes = 3},
      {.name = "many_tasks_queued_cpu",
       .a_name = "queue",
       .b_name = "drain",
       .run = many_tasks_queued_cpu,
       .sizes = {10000, 100000, 1000000},
       .nsizes = 3},
      {.name = "many_args",
       .a_name = "put",
       .b_name = "task",
       .run = many_args,
       .sizes = {1000, 3000, 10000},
       .nsizes = 3},
      {.name = "many_gets",
       .a_name = "put",
       .b_name = "get_many",
       .run = many_gets,
       .sizes = {1000, 3000, 10000},
       .nsizes = 3},
      {.name = "many_returns",
       .a_name = "submit",
       .b_name = "get_many",
       .run = many_returns,
       .sizes = {1000, 3000, 10000},
       .nsizes = 3},
  };
  const char *flags[] = {"--actors", "--queued", "--queued-cpu",
                         "--args",   "--gets",   "--returns"};
  size_t ncases = sizeof cases / sizeof cases[0];
  const char *json = NULL;
  double cpus = 2;
  if (argc == 5 && strcmp(argv[1], "--spread") == 0) {
    /* scale --spread ADDRESS FUNCTION N (bench/scale_nodes.py) */
    size_t n;
    if (parse_sizes(argv[4], &n) != 1) {
      fprintf(stderr, "scale: --spread wants a task count, not '%s'\n",
              argv[4]);
      return 2;
    }
    return spread_over_cluster(argv[2], argv[3], n);
  }
  if (argc >= 6 && strcmp(argv[1], "--broadcast") == 0) {
    /* scale --broadcast ADDRESS BYTES SOURCE RECEIVER... [--check] */
    bool check = strcmp(argv[argc - 1], "--check") == 0;
    long long bytes = atoll(argv[3]);
    if (bytes < 1 || bytes > BENCH_BYTES_MAX || argc - check < 6) {
      fprintf(stderr,
              "scale: --broadcast wants 1 to %lld bytes and a "
              "receiver, not '%s'\n",
              (long long)BENCH_BYTES_MAX, argv[3]);
      return 2;
    }
    return broadcast(argv[2], bytes, argv[4], argv + 5,
                     (size_t)(argc - 5 - check), check);
  }
  for (int i = 1; i < argc; i++) {
    if (i + 1 >= argc) {
      usage();
    }
    const char *val = argv[++i];
    if (strcmp(argv[i - 1], "--json") == 0) {
      json = val;
      continue;
    }
    if (strcmp(argv[i - 1], "--cpus") == 0) {
      cpus = atof(val);
      if (cpus < 1 || cpus > 1024) {
        fprintf(stderr, "scale: --cpus wants 1 to 1024, not '%s'\n", val);
        return 2;
      }
      continue;
    }
    size_t c = 0;
    while (c < ncases && strcmp(argv[i - 1], flags[c]) != 0) {
      c++;
    }
    if (c == ncases) {
      fprintf(stderr, "scale: unknown option '%s'\n", argv[i - 1]);
      usage();
    }
    if (strcmp(val, "none") == 0) {
      cases[c].nsizes = 0;
    } else if ((cases[c].nsizes = parse_sizes(val, cases[c].sizes)) < 0) {
      fprintf(stderr, "scale: %s wants sizes such as 1000,10000, not '%s'\n",
              flags[c], val);
      return 2;
    }
  }

  for (size_t c = 0; c < ncases; c++) {
    for (int s = 0; s < cases[c].nsizes; s++) {
      result r = run_isolated(cases[c].run, cases[c].sizes[s], cpus);
      cases[c].res[s] = r;
      fprintf(stderr,
              "%-18s n=%-8zu %s %.3f s (%.2f us/item, cpu %.3f s)  %s %.3f s "
              "(%.2f us/item, cpu %.3f s)  rss %.0f B/item  heap %.0f B/item\n",
              cases[c].name, r.n, cases[c].a_name, r.a_s,
              r.a_s * 1e6 / (double)r.n, r.a_cpu_s, cases[c].b_name, r.b_s,
              r.b_s * 1e6 / (double)r.n, r.b_cpu_s, r.rss_per_item,
              r.heap_per_item);
    }
  }

  FILE *f = json ? fopen(json, "w") : stdout;
  if (!f) {
    fprintf(stderr, "scale: cannot write %s\n", json);
    return 1;
  }
  struct utsname u;
  uname(&u);
  fprintf(f,
          "{\n  \"machine\": {\"cpus_online\": %ld, \"kernel\": \"%s %s\"},\n",
          sysconf(_SC_NPROCESSORS_ONLN), u.sysname, u.release);
  fprintf(f, "  \"runtime_cpus\": %g,\n", cpus);
  for (size_t c = 0; c < ncases; c++) {
    fprintf(f, "  \"%s\": [", cases[c].name);
    for (int s = 0; s < cases[c].nsizes; s++) {
      result *r = &cases[c].res[s];
      fprintf(
          f,
          "%s\n    {\"n\": %zu, \"%s_s\": %.6f, \"%s_s\": %.6f, "
          "\"%s_per_s\": %.1f, \"%s_us_per_item\": %.3f, "
          "\"%s_us_per_item\": %.3f, \"%s_cpu_s\": %.6f, \"%s_cpu_s\": %.6f, "
          "\"rss_before_bytes\": %.0f, "
          "\"rss_bytes_per_item\": %.1f, \"heap_bytes_per_item\": %.1f}",
          s ? "," : "", r->n, cases[c].a_name, r->a_s, cases[c].b_name, r->b_s,
          cases[c].a_name, (double)r->n / r->a_s, cases[c].a_name,
          r->a_s * 1e6 / (double)r->n, cases[c].b_name,
          r->b_s * 1e6 / (double)r->n, cases[c].a_name, r->a_cpu_s,
          cases[c].b_name, r->b_cpu_s, r->rss_before, r->rss_per_item,
          r->heap_per_item);
    }
    fprintf(f, "%s]%s\n", cases[c].nsizes ? "\n  " : "",
            c + 1 < ncases ? "," : "");
  }
  fprintf(f, "}\n");
  if (json) {
    fclose(f);
  }
  return 0;
}
