/*
 * manta's local microbenchmarks, under the names Ray's microbenchmark uses,
 * each against a no-op C function on the embedded runtime.
 *
 *   microbench [--json FILE] [--seconds S] [--filter SUBSTRING] [--cpus N]
 *
 * Each case runs rounds of a fixed size until S seconds (default 1) have
 * passed, after one warm-up round, and reports operations per second.
 * put_gigabytes also times a plain memcpy of the same buffer in the same run;
 * the tasks_async_forms cases run in turns (record_interleaved).
 */
#include <manta.h>

#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/utsname.h>
#include <time.h>
#include <unistd.h>

static double min_seconds = 1.0;

static double now_s(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static void die(const char *what, manta_err err) {
  fprintf(stderr, "microbench: %s: %s\n", what, manta_strerror(err));
  exit(1);
}

#define OK(expr)                                                               \
  do {                                                                         \
    manta_err e_ = (expr);                                                     \
    if (e_ != MANTA_OK) {                                                      \
      die(#expr, e_);                                                          \
    }                                                                          \
  } while (0)

/* ---- the no-op function and actor --------------------------------------- */

static manta_value *noop(const manta_value *const *args, size_t n, void *u) {
  (void)args, (void)n, (void)u;
  return NULL;
}

static void *actor_new(const manta_value *const *args, size_t n, void *cd,
                       manta_value **err) {
  (void)args, (void)n, (void)cd, (void)err;
  return NULL;
}

static manta_value *actor_noop(void *s, const manta_value *const *args,
                               size_t n, void *md) {
  (void)s, (void)args, (void)n, (void)md;
  return NULL;
}

/* ---- helpers ------------------------------------------------------------ */

static void get_release_all(manta_ref *refs, size_t n) {
  enum { CHUNK = 1024 };
  manta_value *vals[CHUNK];
  for (size_t i = 0; i < n; i += CHUNK) {
    size_t k = n - i < CHUNK ? n - i : CHUNK;
    OK(manta_get_many(refs + i, k, MANTA_FOREVER, vals));
    for (size_t j = 0; j < k; j++) {
      manta_value_free(vals[j]);
      manta_ref_release(refs[i + j]);
    }
  }
}

/* A ref to a small object, ready at once. */
static manta_ref put_small(void) {
  manta_value *v = manta_int(7);
  manta_ref r;
  OK(manta_put(v, &r));
  manta_value_free(v);
  return r;
}

static manta_actor new_actor(unsigned max_concurrency) {
  manta_call_options *o = NULL;
  if (max_concurrency > 1) {
    OK(manta_call_options_new(&o));
    OK(manta_call_options_set_max_concurrency(o, max_concurrency));
  }
  manta_actor a;
  OK(manta_actor_create("Noop", NULL, 0, o, &a));
  manta_call_options_free(o);
  return a;
}

/* One round: `ops` operations. Returns the operations it did. */
typedef size_t (*round_fn)(void *ctx);

typedef struct result {
  const char *name;
  double per_second;
  double seconds;
  size_t ops;
  const char *unit;
  double floor_per_second; /* a raw floor measured beside it, or 0 */
  const char *floor_name;
  /* Interleaved cases: the slowest and fastest of their slices, or 0. */
  double slice_min, slice_max;
  int slices;
} result;

static result results[32];
static int nresults;

static double measure(round_fn fn, void *ctx, size_t *ops_out,
                      double *secs_out) {
  fn(ctx); /* warm-up */
  size_t ops = 0;
  double t0 = now_s(), t;
  do {
    ops += fn(ctx);
    t = now_s();
  } while (t - t0 < min_seconds);
  *ops_out = ops;
  *secs_out = t - t0;
  return (double)ops / (t - t0);
}

static void record(const char *name, round_fn fn, void *ctx, const char *unit) {
  result *r = &results[nresults++];
  r->name = name;
  r->unit = unit;
  r->per_second = measure(fn, ctx, &r->ops, &r->seconds);
  printf("%-32s %14.0f %s\n", name, r->per_second, unit);
  fflush(stdout);
}

/* ---- the cases ---------------------------------------------------------- */

enum { ASYNC_ROUND = 100000, SYNC_ROUND = 10000 };
static manta_ref *ref_buf;

static size_t tasks_sync(void *ctx) {
  (void)ctx;
  for (int i = 0; i < SYNC_ROUND; i++) {
    manta_ref r;
    manta_value *v;
    OK(manta_submit("noop", NULL, 0, NULL, &r));
    OK(manta_get(r, MANTA_FOREVER, &v));
    manta_value_free(v);
    manta_ref_release(r);
  }
  return SYNC_ROUND;
}

/* ctx: the call options, or NULL (tasks_async_forms.submit_opts gives an
 * options object that sets nothing). */
static size_t tasks_async(void *ctx) {
  const manta_call_options *opts = ctx;
  for (int i = 0; i < ASYNC_ROUND; i++) {
    OK(manta_submit("noop", NULL, 0, opts, &ref_buf[i]));
  }
  get_release_all(ref_buf, ASYNC_ROUND);
  return ASYNC_ROUND;
}

enum { CLIENTS = 4 };

static void *client_main(void *arg) {
  size_t n = *(size_t *)arg;
  manta_ref *refs = malloc(n * sizeof *refs);
  for (size_t i = 0; i < n; i++) {
    OK(manta_submit("noop", NULL, 0, NULL, &refs[i]));
  }
  get_release_all(refs, n);
  free(refs);
  return NULL;
}

static size_t multi_tasks_async(void *ctx) {
  (void)ctx;
  pthread_t th[CLIENTS];
  size_t each = ASYNC_ROUND / CLIENTS;
  for (int i = 0; i < CLIENTS; i++) {
    pthread_create(&th[i], NULL, client_main, &each);
  }
  for (int i = 0; i < CLIENTS; i++) {
    pthread_join(th[i], NULL);
  }
  return each * CLIENTS;
}

static size_t actor_sync(void *ctx) {
  manta_actor a = *(manta_actor *)ctx;
  for (int i = 0; i < SYNC_ROUND; i++) {
    manta_ref r;
    manta_value *v;
    OK(manta_actor_call(a, "noop", NULL, 0, &r));
    OK(manta_get(r, MANTA_FOREVER, &v));
    manta_value_free(v);
    manta_ref_release(r);
  }
  return SYNC_ROUND;
}

static size_t actor_async(void *ctx) {
  manta_actor a = *(manta_actor *)ctx;
  for (int i = 0; i < ASYNC_ROUND; i++) {
    OK(manta_actor_call(a, "noop", NULL, 0, &ref_buf[i]));
  }
  get_release_all(ref_buf, ASYNC_ROUND);
  return ASYNC_ROUND;
}

enum { N_ACTORS = 4 };

static size_t one_to_n_async(void *ctx) {
  manta_actor *as = ctx;
  for (int i = 0; i < ASYNC_ROUND; i++) {
    OK(manta_actor_call(as[i % N_ACTORS], "noop", NULL, 0, &ref_buf[i]));
  }
  get_release_all(ref_buf, ASYNC_ROUND);
  return ASYNC_ROUND;
}

typedef struct nn_arg {
  manta_actor actor;
  size_t n;
} nn_arg;

static void *nn_client(void *p) {
  nn_arg *arg = p;
  manta_ref *refs = malloc(arg->n * sizeof *refs);
  for (size_t i = 0; i < arg->n; i++) {
    OK(manta_actor_call(arg->actor, "noop", NULL, 0, &refs[i]));
  }
  get_release_all(refs, arg->n);
  free(refs);
  return NULL;
}

static size_t n_to_n_async(void *ctx) {
  manta_actor *as = ctx;
  pthread_t th[N_ACTORS];
  nn_arg args[N_ACTORS];
  for (int i = 0; i < N_ACTORS; i++) {
    args[i] = (nn_arg){as[i], ASYNC_ROUND / N_ACTORS};
    pthread_create(&th[i], NULL, nn_client, &args[i]);
  }
  for (int i = 0; i < N_ACTORS; i++) {
    pthread_join(th[i], NULL);
  }
  return (ASYNC_ROUND / N_ACTORS) * N_ACTORS;
}

static size_t put_calls(void *ctx) {
  (void)ctx;
  manta_value *v = manta_int(7);
  for (int i = 0; i < ASYNC_ROUND; i++) {
    OK(manta_put(v, &ref_buf[i]));
  }
  for (int i = 0; i < ASYNC_ROUND; i++) {
    manta_ref_release(ref_buf[i]);
  }
  manta_value_free(v);
  return ASYNC_ROUND;
}

static size_t get_calls(void *ctx) {
  manta_ref r = *(manta_ref *)ctx;
  for (int i = 0; i < ASYNC_ROUND; i++) {
    manta_value *v;
    OK(manta_get(r, MANTA_FOREVER, &v));
    manta_value_free(v);
  }
  return ASYNC_ROUND;
}

/* Completion callbacks (manta_when_ready): each counts itself. */
static atomic_size_t callbacks_run;

static void count_callback(void *arg, manta_ref ref, manta_err err,
                           manta_value *v) {
  (void)arg, (void)ref, (void)err, (void)v;
  atomic_fetch_add_explicit(&callbacks_run, 1, memory_order_release);
}

/* Tasks whose results arrive through callbacks, no thread blocked per ref:
 * submit, register, release; then wait for the count. */
static size_t when_ready_tasks(void *ctx) {
  (void)ctx;
  atomic_store(&callbacks_run, 0);
  for (int i = 0; i < ASYNC_ROUND; i++) {
    manta_ref r;
    OK(manta_submit("noop", NULL, 0, NULL, &r));
    OK(manta_when_ready(r, count_callback, NULL));
    OK(manta_ref_release(r));
  }
  struct timespec pause = {0, 20000};
  while (atomic_load_explicit(&callbacks_run, memory_order_acquire) <
         ASYNC_ROUND) {
    nanosleep(&pause, NULL);
  }
  return ASYNC_ROUND;
}

/* The callback machinery alone: callbacks on a ref ready already (each
 * runs at once on this thread). */
static size_t when_ready_ready(void *ctx) {
  manta_ref r = *(manta_ref *)ctx;
  for (int i = 0; i < ASYNC_ROUND; i++) {
    OK(manta_when_ready(r, count_callback, NULL));
  }
  return ASYNC_ROUND;
}

enum { WAIT_REFS = 1000, WAIT_ROUND = 100 };

static size_t wait_1k(void *ctx) {
  manta_ref *refs = ctx;
  static manta_ref ready[WAIT_REFS], not_ready[WAIT_REFS];
  for (int i = 0; i < WAIT_ROUND; i++) {
    size_t nr, nn;
    OK(manta_wait(refs, WAIT_REFS, WAIT_REFS, MANTA_FOREVER, ready, &nr,
                  not_ready, &nn));
  }
  return WAIT_ROUND;
}

/* put_gigabytes: build a bytes value from a user buffer (one copy) and put
 * it; beside it, a plain memcpy of the same buffer. */
enum { GB_BUF = 256 << 20 };
static char *gb_src, *gb_dst;

static size_t put_gigabytes(void *ctx) {
  (void)ctx;
  manta_value *v = manta_bytes(gb_src, GB_BUF);
  manta_ref r;
  OK(manta_put(v, &r));
  manta_value_free(v);
  manta_ref_release(r);
  return 1;
}

static size_t memcpy_round(void *ctx) {
  (void)ctx;
  memcpy(gb_dst, gb_src, GB_BUF);
  /* Keep the copy from being optimised away. */
  __asm__ volatile("" : : "r"(gb_dst) : "memory");
  return 1;
}

/* ---- call forms, interleaved ------------------------------------------- */

/*
 * The ways to submit a task, measured in turns within one run: a slice of
 * each case, then the next, SLICES times over, so that load from other
 * work on the machine falls on all of them alike. Submit (with no options,
 * with an options object and nothing set) and num_returns 1 through
 * manta_submit_returns, with no argument; the borrowing
 * manta_submit and the short form manta_call, with one int argument each
 * (the short form's cost is the reference it drops per argument).
 */
enum { SLICES = 8 };

static manta_call_options *one_return, *no_option_set;

static size_t form_submit_returns_1(void *ctx) {
  (void)ctx;
  for (int i = 0; i < ASYNC_ROUND; i++) {
    OK(manta_submit_returns("noop", NULL, 0, one_return, &ref_buf[i], 1));
  }
  get_release_all(ref_buf, ASYNC_ROUND);
  return ASYNC_ROUND;
}

static size_t form_submit_1arg(void *ctx) {
  (void)ctx;
  for (int i = 0; i < ASYNC_ROUND; i++) {
    manta_value *arg = manta_int(i);
    const manta_value *args[1] = {arg};
    OK(manta_submit("noop_any", args, 1, NULL, &ref_buf[i]));
    manta_value_free(arg);
  }
  get_release_all(ref_buf, ASYNC_ROUND);
  return ASYNC_ROUND;
}

static size_t form_call_1arg(void *ctx) {
  (void)ctx;
  for (int i = 0; i < ASYNC_ROUND; i++) {
    OK(manta_call(&ref_buf[i], "noop_any", 1, manta_int(i)));
  }
  get_release_all(ref_buf, ASYNC_ROUND);
  return ASYNC_ROUND;
}

typedef struct form_case {
  const char *name;
  round_fn fn;
  void *ctx;
} form_case;

static void record_interleaved(const form_case *cases, int n) {
  result *rs = &results[nresults];
  for (int c = 0; c < n; c++) {
    rs[c] = (result){.name = cases[c].name, .unit = "tasks"};
    cases[c].fn(cases[c].ctx); /* warm-up */
  }
  double slice_s = min_seconds / SLICES;
  for (int k = 0; k < SLICES; k++) {
    for (int c = 0; c < n; c++) {
      size_t ops = 0;
      double t0 = now_s(), t;
      do {
        ops += cases[c].fn(cases[c].ctx);
        t = now_s();
      } while (t - t0 < slice_s);
      double rate = (double)ops / (t - t0);
      result *r = &rs[c];
      r->ops += ops;
      r->seconds += t - t0;
      r->slice_min =
          r->slices == 0 || rate < r->slice_min ? rate : r->slice_min;
      r->slice_max = rate > r->slice_max ? rate : r->slice_max;
      r->slices++;
    }
  }
  for (int c = 0; c < n; c++) {
    result *r = &rs[c];
    r->per_second = (double)r->ops / r->seconds;
    printf("%-32s %14.0f %s (slices %.0f to %.0f)\n", r->name, r->per_second,
           r->unit, r->slice_min, r->slice_max);
  }
  nresults += n;
  fflush(stdout);
}

/* ---- output ------------------------------------------------------------- */

static void write_json(const char *path, double cpus) {
  FILE *f = fopen(path, "w");
  if (!f) {
    perror(path);
    exit(1);
  }
  struct utsname u;
  uname(&u);
  char model[256] = "unknown";
  FILE *ci = fopen("/proc/cpuinfo", "r");
  if (ci) {
    char line[512];
    while (fgets(line, sizeof line, ci)) {
      if (strncmp(line, "model name", 10) == 0) {
        char *p = strchr(line, ':');
        if (p) {
          snprintf(model, sizeof model, "%s", p + 2);
          model[strcspn(model, "\n")] = '\0';
        }
        break;
      }
    }
    fclose(ci);
  }
  fprintf(f, "{\n  \"benchmark\": \"microbench\",\n");
  fprintf(f, "  \"manta_version\": \"%s\",\n", manta_version_string());
  fprintf(f,
          "  \"machine\": {\"cpus_online\": %ld, \"cpu_model\": \"%s\", "
          "\"kernel\": \"%s %s\"},\n",
          sysconf(_SC_NPROCESSORS_ONLN), model, u.sysname, u.release);
  fprintf(f, "  \"node_cpus\": %g,\n  \"min_seconds\": %g,\n", cpus,
          min_seconds);
  fprintf(f, "  \"results\": [\n");
  for (int i = 0; i < nresults; i++) {
    result *r = &results[i];
    fprintf(f,
            "    {\"name\": \"%s\", \"per_second\": %.1f, \"unit\": \"%s\", "
            "\"ops\": %zu, \"seconds\": %.3f",
            r->name, r->per_second, r->unit, r->ops, r->seconds);
    if (r->floor_name) {
      fprintf(f, ", \"%s_per_second\": %.1f, \"ratio\": %.3f", r->floor_name,
              r->floor_per_second, r->per_second / r->floor_per_second);
    }
    if (r->slices) {
      fprintf(f,
              ", \"interleaved_slices\": %d, \"slice_min_per_second\": "
              "%.1f, \"slice_max_per_second\": %.1f",
              r->slices, r->slice_min, r->slice_max);
    }
    fprintf(f, "}%s\n", i + 1 < nresults ? "," : "");
  }
  fprintf(f, "  ]\n}\n");
  fclose(f);
}

static int wanted(const char *filter, const char *name) {
  return !filter || strstr(name, filter) != NULL;
}

int main(int argc, char **argv) {
  const char *json = NULL, *filter = NULL;
  double cpus = -1;
  for (int i = 1; i < argc; i++) {
    if (strcmp(argv[i], "--json") == 0 && i + 1 < argc) {
      json = argv[++i];
    } else if (strcmp(argv[i], "--seconds") == 0 && i + 1 < argc) {
      min_seconds = atof(argv[++i]);
    } else if (strcmp(argv[i], "--filter") == 0 && i + 1 < argc) {
      filter = argv[++i];
    } else if (strcmp(argv[i], "--cpus") == 0 && i + 1 < argc) {
      cpus = atof(argv[++i]);
    } else {
      fprintf(stderr,
              "usage: %s [--json FILE] [--seconds S] [--filter SUBSTRING] "
              "[--cpus N]\n",
              argv[0]);
      return strcmp(argv[i], "--help") == 0 ? 0 : 2;
    }
  }
  manta_options *opts;
  OK(manta_options_new(&opts));
  if (cpus >= 0) {
    OK(manta_options_set_num_cpus(opts, cpus));
  }
  OK(manta_init(opts));
  manta_options_free(opts);
  double total_cpus = 0;
  OK(manta_resource_get("CPU", &total_cpus, NULL));
  OK(manta_register_function("noop", noop, 0, NULL));
  OK(manta_register_function("noop_any", noop, -1, NULL));
  OK(manta_register_class("Noop", actor_new, NULL, NULL));
  OK(manta_register_method("Noop", "noop", actor_noop, 0, NULL));
  ref_buf = malloc(ASYNC_ROUND * sizeof *ref_buf);
  printf("manta %s microbench, node with %g CPU, %ld cores online\n",
         manta_version_string(), total_cpus, sysconf(_SC_NPROCESSORS_ONLN));
  printf("%-32s %14s\n", "benchmark", "per second");

  if (wanted(filter, "single_client_tasks_sync")) {
    record("single_client_tasks_sync", tasks_sync, NULL, "tasks");
  }
  if (wanted(filter, "single_client_tasks_async")) {
    record("single_client_tasks_async", tasks_async, NULL, "tasks");
  }
  if (wanted(filter, "tasks_async_forms")) {
    OK(manta_call_options_new(&one_return));
    OK(manta_call_options_set_num_returns(one_return, 1));
    OK(manta_call_options_new(&no_option_set));
    const form_case forms[] = {
        {"tasks_async_forms.submit", tasks_async, NULL}, /* today's case */
        {"tasks_async_forms.submit_opts", tasks_async, no_option_set},
        {"tasks_async_forms.submit_returns_1", form_submit_returns_1, NULL},
        {"tasks_async_forms.submit_1arg", form_submit_1arg, NULL},
        {"tasks_async_forms.call_1arg", form_call_1arg, NULL},
    };
    record_interleaved(forms, (int)(sizeof forms / sizeof forms[0]));
    manta_call_options_free(one_return);
    manta_call_options_free(no_option_set);
  }
  if (wanted(filter, "multi_client_tasks_async")) {
    record("multi_client_tasks_async", multi_tasks_async, NULL, "tasks");
  }
  manta_actor one = new_actor(1);
  if (wanted(filter, "1_1_actor_calls_sync")) {
    record("1_1_actor_calls_sync", actor_sync, &one, "calls");
  }
  if (wanted(filter, "1_1_actor_calls_async")) {
    record("1_1_actor_calls_async", actor_async, &one, "calls");
  }
  manta_actor_release(one);
  if (wanted(filter, "1_1_actor_calls_concurrent")) {
    manta_actor wide = new_actor(4);
    record("1_1_actor_calls_concurrent", actor_async, &wide, "calls");
    manta_actor_release(wide);
  }
  manta_actor many[N_ACTORS];
  for (int i = 0; i < N_ACTORS; i++) {
    many[i] = new_actor(1);
  }
  if (wanted(filter, "1_n_actor_calls_async")) {
    record("1_n_actor_calls_async", one_to_n_async, many, "calls");
  }
  if (wanted(filter, "n_n_actor_calls_async")) {
    record("n_n_actor_calls_async", n_to_n_async, many, "calls");
  }
  for (int i = 0; i < N_ACTORS; i++) {
    manta_actor_release(many[i]);
  }
  if (wanted(filter, "single_client_put_calls")) {
    record("single_client_put_calls", put_calls, NULL, "puts");
  }
  if (wanted(filter, "single_client_get_calls")) {
    manta_ref r = put_small();
    record("single_client_get_calls", get_calls, &r, "gets");
    manta_ref_release(r);
  }
  if (wanted(filter, "single_client_when_ready_tasks")) {
    record("single_client_when_ready_tasks", when_ready_tasks, NULL, "tasks");
  }
  if (wanted(filter, "single_client_when_ready_callbacks")) {
    manta_ref r = put_small();
    record("single_client_when_ready_callbacks", when_ready_ready, &r,
           "callbacks");
    manta_ref_release(r);
  }
  if (wanted(filter, "single_client_put_gigabytes")) {
    gb_src = malloc(GB_BUF);
    gb_dst = malloc(GB_BUF);
    memset(gb_src, 1, GB_BUF);
    memset(gb_dst, 2, GB_BUF);
    result *r = &results[nresults];
    record("single_client_put_gigabytes", put_gigabytes, NULL, "puts");
    size_t ops;
    double secs;
    double copies = measure(memcpy_round, NULL, &ops, &secs);
    double gb = (double)GB_BUF / 1e9;
    r->per_second *= gb;
    r->unit = "GB";
    r->floor_per_second = copies * gb;
    r->floor_name = "memcpy_gigabytes";
    printf("%-32s %14.2f GB/s (memcpy of the same buffer: %.2f GB/s, "
           "ratio %.2f)\n",
           "  = put gigabytes", r->per_second, r->floor_per_second,
           r->per_second / r->floor_per_second);
    free(gb_src);
    free(gb_dst);
  }
  if (wanted(filter, "single_client_wait_1k_refs")) {
    manta_ref *refs = malloc(WAIT_REFS * sizeof *refs);
    for (int i = 0; i < WAIT_REFS; i++) {
      OK(manta_submit("noop", NULL, 0, NULL, &refs[i]));
    }
    size_t nr, nn;
    manta_ref *tmp = malloc(2 * WAIT_REFS * sizeof *tmp);
    OK(manta_wait(refs, WAIT_REFS, WAIT_REFS, MANTA_FOREVER, tmp, &nr,
                  tmp + WAIT_REFS, &nn));
    free(tmp);
    record("single_client_wait_1k_refs", wait_1k, refs, "waits");
    for (int i = 0; i < WAIT_REFS; i++) {
      manta_ref_release(refs[i]);
    }
    free(refs);
  }
  free(ref_buf);
  OK(manta_shutdown());
  if (json) {
    write_json(json, total_cpus);
    printf("wrote %s\n", json);
  }
  return 0;
}
