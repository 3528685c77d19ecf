/*
 * Does a burst of tasks spread over every slot, whatever the task length?
 *
 *   spread [--json FILE] [--slots 2,8,32,128] [--durations 10us,1ms,100ms]
 *          [--reps R]
 *
 * For each number of slots N (an embedded runtime with N CPU) and each task
 * duration D, submits a burst of 4 x N tasks that each sleep D, waits for
 * all, and reports wall time / ideal time, the ideal being 4 x D (sleeping
 * tasks need no cores, so N slots run N at once on any machine). The first
 * burst on a fresh runtime (its worker threads still to be started) is
 * reported apart as "cold"; then R bursts, whose median is the ratio. A
 * ratio near 1 means no slot stayed idle while a task waited.
 *
 * Beside each case, the floor: N plain threads, started beforehand, taking
 * the same 4 x N sleeps from an atomic counter (what the sleeps themselves
 * cost, timer slack included, with no scheduler at all).
 */
#include <manta.h>

#include <errno.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/utsname.h>
#include <time.h>
#include <unistd.h>

#include "bench_util.h"

#define MAX_CASES 16

static void die(const char *what, manta_err err) {
  fprintf(stderr, "spread: %s: %s\n", what, manta_strerror(err));
  exit(1);
}

#define OK(expr)                                                               \
  do {                                                                         \
    manta_err e_ = (expr);                                                     \
    if (e_ != MANTA_OK) {                                                      \
      die(#expr, e_);                                                          \
    }                                                                          \
  } while (0)

static void sleep_ns(int64_t ns);

/* Sleeps the nanoseconds it is given. */
static manta_value *nap(const manta_value *const *args, size_t n, void *u) {
  (void)n, (void)u;
  int64_t ns = 0;
  manta_get_int(args[0], &ns);
  sleep_ns(ns);
  return NULL;
}

/* ---- the floor: plain threads ------------------------------------------ */

typedef struct floor_run {
  pthread_barrier_t start, done;
  _Atomic size_t next;
  size_t n;
  int64_t ns;
  bool quit;
} floor_run;

/* Sleeps ns. The kernel lets a sleeping thread's timer fire up to 50 us
 * late by default (timer slack, to batch wake-ups), which at 1 ms tasks is
 * 5% per task of nothing the scheduler does: both manta's tasks and the
 * floor's threads ask for 1 us. */
static void sleep_ns(int64_t ns) {
  static _Thread_local bool slack_set;
  if (!slack_set) {
    prctl(PR_SET_TIMERSLACK, 1000UL, 0, 0, 0);
    slack_set = true;
  }
  struct timespec ts = {(time_t)(ns / 1000000000), (long)(ns % 1000000000)};
  while (nanosleep(&ts, &ts) != 0 && errno == EINTR) {
  }
}

static void *floor_thread(void *arg) {
  floor_run *f = arg;
  for (;;) {
    pthread_barrier_wait(&f->start);
    if (f->quit) {
      return NULL;
    }
    while (atomic_fetch_add(&f->next, 1) < f->n) {
      sleep_ns(f->ns);
    }
    pthread_barrier_wait(&f->done);
  }
}

/* The median of reps bursts of n sleeps of ns on threads plain threads. */
static double floor_median(size_t threads, size_t n, int64_t ns, int reps) {
  floor_run f = {.n = n, .ns = ns};
  pthread_t *t = calloc(threads, sizeof *t);
  double *times = calloc((size_t)reps, sizeof *times);
  if (!t || !times) {
    die("calloc", MANTA_ERR_NOMEM);
  }
  pthread_barrier_init(&f.start, NULL, (unsigned)threads + 1);
  pthread_barrier_init(&f.done, NULL, (unsigned)threads + 1);
  for (size_t i = 0; i < threads; i++) {
    if (pthread_create(&t[i], NULL, floor_thread, &f) != 0) {
      die("pthread_create", MANTA_ERR_NOMEM);
    }
  }
  for (int r = 0; r < reps; r++) {
    atomic_store(&f.next, 0);
    double t0 = bench_now_s();
    pthread_barrier_wait(&f.start);
    pthread_barrier_wait(&f.done);
    times[r] = bench_now_s() - t0;
  }
  f.quit = true;
  pthread_barrier_wait(&f.start);
  for (size_t i = 0; i < threads; i++) {
    pthread_join(t[i], NULL);
  }
  pthread_barrier_destroy(&f.start);
  pthread_barrier_destroy(&f.done);
  qsort(times, (size_t)reps, sizeof *times, bench_cmp_double);
  double m = times[reps / 2];
  free(times);
  free(t);
  return m;
}

/* ---- manta -------------------------------------------------------------- */

/* One burst of n tasks of ns each: its wall time in seconds. */
static double burst(size_t n, int64_t ns, manta_ref *refs) {
  manta_value *arg = manta_int(ns);
  double t0 = bench_now_s();
  for (size_t i = 0; i < n; i++) {
    OK(manta_submit("nap", (const manta_value *const *)&arg, 1, NULL,
                    &refs[i]));
  }
  for (size_t i = 0; i < n; i++) {
    manta_value *v;
    OK(manta_get(refs[i], 600000, &v));
    if (manta_value_kind(v) == MANTA_KIND_ERROR) {
      fprintf(stderr, "spread: a task failed: %s\n", manta_error_message(v));
      exit(1);
    }
    manta_value_free(v);
  }
  double t = bench_now_s() - t0;
  for (size_t i = 0; i < n; i++) {
    manta_ref_release(refs[i]);
  }
  manta_value_free(arg);
  return t;
}

/* "10us", "1ms", "100ms", "2s": nanoseconds, or -1. */
static int64_t parse_duration(const char *s) {
  char *end;
  double v = strtod(s, &end);
  if (end == s || !(v > 0)) {
    return -1;
  }
  double scale = strcmp(end, "us") == 0   ? 1e3
                 : strcmp(end, "ms") == 0 ? 1e6
                 : strcmp(end, "s") == 0  ? 1e9
                 : strcmp(end, "ns") == 0 ? 1
                                          : -1;
  return scale < 0 || v * scale > 60e9 ? -1 : (int64_t)(v * scale);
}

/* A comma-separated list into out (at most MAX_CASES); count or -1. */
static int parse_list(const char *text, int64_t *out, bool durations) {
  char buf[256];
  snprintf(buf, sizeof buf, "%s", text);
  int n = 0;
  for (char *save, *tok = strtok_r(buf, ",", &save); tok;
       tok = strtok_r(NULL, ",", &save)) {
    if (n == MAX_CASES) {
      return -1;
    }
    int64_t v = durations ? parse_duration(tok) : strtoll(tok, NULL, 10);
    if (v <= 0 || (!durations && v > 4096)) {
      return -1;
    }
    out[n++] = v;
  }
  return n > 0 ? n : -1;
}

typedef struct result {
  int64_t slots, ns;
  double median_s, min_s, max_s, ratio;
  double cold_s, cold_ratio;   /* the first burst of a fresh runtime */
  double floor_s, floor_ratio; /* plain threads */
} result;

static void write_json(const char *path, const result *r, int n, int reps) {
  FILE *f = fopen(path, "w");
  if (!f) {
    perror(path);
    exit(1);
  }
  struct utsname u;
  uname(&u);
  fprintf(f, "{\n  \"benchmark\": \"spread\",\n");
  fprintf(f, "  \"manta_version\": \"%s\",\n", manta_version_string());
  fprintf(f, "  \"machine\": {\"cpus_online\": %ld, \"kernel\": \"%s %s\"},\n",
          sysconf(_SC_NPROCESSORS_ONLN), u.sysname, u.release);
  fprintf(f, "  \"tasks_per_slot\": 4,\n  \"reps\": %d,\n", reps);
  fprintf(f, "  \"results\": [\n");
  for (int i = 0; i < n; i++) {
    fprintf(f,
            "    {\"slots\": %lld, \"task_seconds\": %.6f, \"tasks\": %lld, "
            "\"ideal_seconds\": %.6f, \"median_seconds\": %.6f, "
            "\"min_seconds\": %.6f, \"max_seconds\": %.6f, \"ratio\": %.3f, "
            "\"cold_ratio\": %.3f, \"floor_ratio\": %.3f}%s\n",
            (long long)r[i].slots, (double)r[i].ns / 1e9,
            (long long)(4 * r[i].slots), 4 * (double)r[i].ns / 1e9,
            r[i].median_s, r[i].min_s, r[i].max_s, r[i].ratio, r[i].cold_ratio,
            r[i].floor_ratio, i + 1 < n ? "," : "");
  }
  fprintf(f, "  ]\n}\n");
  fclose(f);
}

int main(int argc, char **argv) {
  const char *json = NULL;
  int64_t slots[MAX_CASES] = {2, 8, 32, 128};
  int64_t durs[MAX_CASES] = {10000, 1000000, 100000000};
  int nslots = 4, ndurs = 3, reps = 5;
  for (int i = 1; i < argc; i++) {
    const char *a = argv[i], *v = i + 1 < argc ? argv[i + 1] : NULL;
    if (strcmp(a, "--json") == 0 && v) {
      json = argv[++i];
    } else if (strcmp(a, "--slots") == 0 && v) {
      nslots = parse_list(argv[++i], slots, false);
    } else if (strcmp(a, "--durations") == 0 && v) {
      ndurs = parse_list(argv[++i], durs, true);
    } else if (strcmp(a, "--reps") == 0 && v) {
      reps = atoi(argv[++i]);
    } else {
      nslots = -1;
    }
    if (nslots < 0 || ndurs < 0 || reps < 1 || reps > 99) {
      fprintf(stderr,
              "usage: %s [--json FILE] [--slots N,N,...] "
              "[--durations 10us,1ms,...] [--reps R]\n",
              argv[0]);
      return 2;
    }
  }
  result res[MAX_CASES * MAX_CASES];
  int nres = 0;
  printf("%6s %10s %7s %10s %10s %7s %7s %7s\n", "slots", "task", "tasks",
         "ideal", "median", "ratio", "cold", "floor");
  for (int s = 0; s < nslots; s++) {
    size_t n = 4 * (size_t)slots[s];
    manta_ref *refs = calloc(n, sizeof *refs);
    double *t = calloc((size_t)reps, sizeof *t);
    if (!refs || !t) {
      die("calloc", MANTA_ERR_NOMEM);
    }
    for (int d = 0; d < ndurs; d++) {
      /* A fresh runtime per case: its first burst starts the threads. */
      manta_options *o;
      OK(manta_options_new(&o));
      OK(manta_options_set_num_cpus(o, (double)slots[s]));
      OK(manta_init(o));
      manta_options_free(o);
      OK(manta_register_function("nap", nap, 1, NULL));
      double cold = burst(n, durs[d], refs);
      for (int r = 0; r < reps; r++) {
        t[r] = burst(n, durs[d], refs);
      }
      qsort(t, (size_t)reps, sizeof *t, bench_cmp_double);
      result *x = &res[nres++];
      x->slots = slots[s];
      x->ns = durs[d];
      x->median_s = t[reps / 2];
      x->min_s = t[0];
      x->max_s = t[reps - 1];
      double ideal = 4 * (double)durs[d] / 1e9;
      x->ratio = x->median_s / ideal;
      x->cold_s = cold;
      x->cold_ratio = cold / ideal;
      OK(manta_shutdown());
      x->floor_s = floor_median((size_t)slots[s], n, durs[d], reps);
      x->floor_ratio = x->floor_s / ideal;
      printf("%6lld %8.3fms %7zu %8.3fms %8.3fms %7.2f %7.2f %7.2f\n",
             (long long)slots[s], (double)durs[d] / 1e6, n, ideal * 1e3,
             x->median_s * 1e3, x->ratio, x->cold_ratio, x->floor_ratio);
      fflush(stdout);
    }
    free(t);
    free(refs);
  }
  if (json) {
    write_json(json, res, nres, reps);
    printf("wrote %s\n", json);
  }
  return 0;
}
