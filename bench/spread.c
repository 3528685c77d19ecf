/*
 * Does a burst of tasks spread over every slot, whatever the task length?
 *
 *   spread [--json FILE] [--slots 2,8,32,128] [--durations 10us,1ms,100ms]
 *          [--reps R]
 *
 * For each number of slots N (an embedded runtime with N CPU) and each task
 * duration D, submits a burst of 4 x N tasks that each sleep D, waits for
 * all, and reports wall time / ideal time, the ideal being 4 x D (sleeping
 * tasks need no cores, so N slots run N at once on any machine). Each case
 * runs one untimed burst first (it starts the worker threads), then R timed
 * bursts; the median is reported. A ratio near 1 means no slot stayed idle
 * while a task waited.
 */
#include <manta.h>

#include <errno.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
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

/* Sleeps the nanoseconds it is given. */
static manta_value *nap(const manta_value *const *args, size_t n, void *u) {
  (void)n, (void)u;
  int64_t ns = 0;
  manta_get_int(args[0], &ns);
  struct timespec ts = {(time_t)(ns / 1000000000), (long)(ns % 1000000000)};
  while (nanosleep(&ts, &ts) != 0 && errno == EINTR) {
  }
  return NULL;
}

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
    fprintf(
        f,
        "    {\"slots\": %lld, \"task_seconds\": %.6f, \"tasks\": %lld, "
        "\"ideal_seconds\": %.6f, \"median_seconds\": %.6f, "
        "\"min_seconds\": %.6f, \"max_seconds\": %.6f, \"ratio\": %.3f}%s\n",
        (long long)r[i].slots, (double)r[i].ns / 1e9,
        (long long)(4 * r[i].slots), 4 * (double)r[i].ns / 1e9, r[i].median_s,
        r[i].min_s, r[i].max_s, r[i].ratio, i + 1 < n ? "," : "");
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
  printf("%6s %10s %7s %10s %10s %7s\n", "slots", "task", "tasks", "ideal",
         "median", "ratio");
  for (int s = 0; s < nslots; s++) {
    manta_options *o;
    OK(manta_options_new(&o));
    OK(manta_options_set_num_cpus(o, (double)slots[s]));
    OK(manta_init(o));
    manta_options_free(o);
    OK(manta_register_function("nap", nap, 1, NULL));
    size_t n = 4 * (size_t)slots[s];
    manta_ref *refs = calloc(n, sizeof *refs);
    double *t = calloc((size_t)reps, sizeof *t);
    if (!refs || !t) {
      die("calloc", MANTA_ERR_NOMEM);
    }
    for (int d = 0; d < ndurs; d++) {
      burst(n, durs[d], refs); /* untimed: starts the threads */
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
      x->ratio = x->median_s / (4 * (double)durs[d] / 1e9);
      printf("%6lld %8.3fms %7zu %8.3fms %8.3fms %7.2f\n", (long long)slots[s],
             (double)durs[d] / 1e6, n, 4 * (double)durs[d] / 1e6,
             x->median_s * 1e3, x->ratio);
      fflush(stdout);
    }
    free(t);
    free(refs);
    OK(manta_shutdown());
  }
  if (json) {
    write_json(json, res, nres, reps);
    printf("wrote %s\n", json);
  }
  return 0;
}
