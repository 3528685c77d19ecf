/*
 * Streaming returns (docs/benchmarks.md, "Streams"): how many small items
 * a generator streams to its reader per second, embedded (generator and
 * reader in one process) and across two nodes (the generator on a head
 * started here with bench_module, the reader in this driver), beside the
 * floor of the embedded case: the same items handed between two threads
 * through a bounded queue (a mutex, two condition variables, no runtime).
 *
 * The reader does what a program does with each item: manta_stream_next,
 * manta_get, manta_ref_release.
 *
 *   stream_bench --manta PATH --module PATH [--items N] [--reps R]
 *                [--window W] [--json FILE]
 */
#include "bench_module.h"
#include "bench_util.h"

#include <manta.h>

#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#define MAX_REPS 20

static pid_t head_pid;

static void stop_head(void) {
  if (head_pid > 0) {
    kill(head_pid, SIGTERM);
    waitpid(head_pid, NULL, 0);
    head_pid = 0;
  }
}

/* Starts `manta start --head --foreground` with the module; its address. */
static void start_head(const char *manta, const char *module,
                       char address[128]) {
  int fds[2];
  if (pipe(fds) != 0) {
    bench_die("pipe failed");
  }
  head_pid = fork();
  if (head_pid == 0) {
    dup2(fds[1], 1);
    close(fds[0]);
    execl(manta, manta, "start", "--head", "--foreground", "--port", "0",
          "--num-cpus", "1", "--http-port", "0", "--module", module,
          (char *)NULL);
    _exit(127);
  }
  close(fds[1]);
  FILE *f = fdopen(fds[0], "r");
  char line[300] = "";
  if (!f || !fgets(line, sizeof line, f)) {
    bench_die("the head (%s) did not start", manta);
  }
  fclose(f);
  const char *at = strstr(line, " ready at ");
  if (!at || sscanf(at + 10, "%127s", address) != 1) {
    bench_die("no address in the head's first line: %s", line);
  }
}

typedef struct row {
  const char *name;
  int reps;
  double per_second[MAX_REPS];
  double median;
} row;

static int cmp(const void *a, const void *b) {
  return bench_cmp_double(a, b);
}

static void finish_row(row *r) {
  double sorted[MAX_REPS];
  memcpy(sorted, r->per_second, sizeof sorted);
  qsort(sorted, (size_t)r->reps, sizeof sorted[0], cmp);
  r->median = sorted[r->reps / 2];
  printf("%-28s %12.0f items/s (median of %d)\n", r->name, r->median, r->reps);
}

/* ---- manta: one stream of n items, read to the end ----------------------- */

static double stream_once(int64_t n, size_t window) {
  manta_value *count = manta_int(n);
  const manta_value *args[1] = {count};
  manta_call_options *o;
  BENCH_OK(manta_call_options_new(&o));
  BENCH_OK(manta_call_options_set_stream_window(o, window));
  double t0 = bench_now_s();
  manta_stream s;
  BENCH_OK(manta_submit_stream(BENCH_GEN, args, 1, o, &s));
  manta_call_options_free(o);
  manta_value_free(count);
  int64_t got = 0, sum = 0;
  manta_ref r;
  manta_err err;
  while ((err = manta_stream_next(s, &r, 60000)) == MANTA_OK) {
    manta_value *v = NULL;
    int64_t x = 0;
    BENCH_OK(manta_get(r, 60000, &v));
    manta_get_int(v, &x);
    manta_value_free(v);
    manta_ref_release(r);
    sum += x;
    got++;
  }
  double t = bench_now_s() - t0;
  manta_stream_release(s);
  if (err != MANTA_ERR_STREAM_END || got != n || sum != n * (n - 1) / 2) {
    bench_die("stream ended with %s after %lld of %lld items",
              manta_errname(err), (long long)got, (long long)n);
  }
  return (double)n / t;
}

static manta_value *gen_here(const manta_value *const *args, size_t n,
                             void *u) {
  (void)n, (void)u;
  int64_t count = 0;
  manta_get_int(args[0], &count);
  for (int64_t i = 0; i < count && manta_emit(manta_int(i)) == MANTA_OK; i++) {
  }
  return NULL;
}

/* ---- the floor: a bounded queue between two threads ---------------------- */

typedef struct queue {
  pthread_mutex_t mu;
  pthread_cond_t items, room;
  int64_t *ring;
  size_t cap, head, len;
  int64_t n;
  int waiting_items, waiting_room;
} queue;

static void *floor_producer(void *arg) {
  queue *q = arg;
  for (int64_t i = 0; i < q->n; i++) {
    pthread_mutex_lock(&q->mu);
    while (q->len == q->cap) {
      q->waiting_room++;
      pthread_cond_wait(&q->room, &q->mu);
      q->waiting_room--;
    }
    q->ring[(q->head + q->len) % q->cap] = i;
    q->len++;
    if (q->waiting_items) {
      pthread_cond_signal(&q->items);
    }
    pthread_mutex_unlock(&q->mu);
  }
  return NULL;
}

static double floor_once(int64_t n, size_t window) {
  queue q = {.cap = window, .n = n};
  pthread_mutex_init(&q.mu, NULL);
  pthread_cond_init(&q.items, NULL);
  pthread_cond_init(&q.room, NULL);
  q.ring = malloc(window * sizeof *q.ring);
  double t0 = bench_now_s();
  pthread_t th;
  pthread_create(&th, NULL, floor_producer, &q);
  int64_t sum = 0;
  for (int64_t i = 0; i < n; i++) {
    pthread_mutex_lock(&q.mu);
    while (q.len == 0) {
      q.waiting_items++;
      pthread_cond_wait(&q.items, &q.mu);
      q.waiting_items--;
    }
    sum += q.ring[q.head];
    q.head = (q.head + 1) % q.cap;
    q.len--;
    /* Wake the producer once a quarter of the window is free, as the
     * runtime does. */
    if (q.waiting_room && q.len + (q.cap / 4 ? q.cap / 4 : 1) <= q.cap) {
      pthread_cond_signal(&q.room);
    }
    pthread_mutex_unlock(&q.mu);
  }
  double t = bench_now_s() - t0;
  pthread_join(th, NULL);
  free(q.ring);
  if (sum != n * (n - 1) / 2) {
    bench_die("the floor lost items");
  }
  return (double)n / t;
}

static void usage(FILE *out) {
  fprintf(out, "usage: stream_bench --manta PATH --module PATH [--items N] "
               "[--reps R] [--window W] [--json FILE]\n");
}

int main(int argc, char **argv) {
  bench_name = "stream_bench";
  bench_cleanup = stop_head;
  const char *manta = NULL, *module = NULL, *json = NULL;
  int64_t items = 2000000;
  int reps = 5;
  long window = 1024;
  for (int i = 1; i < argc; i++) {
    const char *a = argv[i];
    int has_value = i + 1 < argc;
    char *end = NULL;
    if (strcmp(a, "--manta") == 0 && has_value) {
      manta = argv[++i];
    } else if (strcmp(a, "--module") == 0 && has_value) {
      module = argv[++i];
    } else if (strcmp(a, "--json") == 0 && has_value) {
      json = argv[++i];
    } else if (strcmp(a, "--items") == 0 && has_value) {
      items = strtoll(argv[++i], &end, 10);
      if (*end || items < 1 || items > 1000000000) {
        fprintf(stderr, "stream_bench: --items takes 1 to 1e9, not '%s'\n",
                argv[i]);
        return 2;
      }
    } else if (strcmp(a, "--reps") == 0 && has_value) {
      reps = (int)strtol(argv[++i], &end, 10);
      if (*end || reps < 1 || reps > MAX_REPS) {
        fprintf(stderr, "stream_bench: --reps takes 1 to %d, not '%s'\n",
                MAX_REPS, argv[i]);
        return 2;
      }
    } else if (strcmp(a, "--window") == 0 && has_value) {
      window = strtol(argv[++i], &end, 10);
      if (*end || window < 1 || window > (1 << 20)) {
        fprintf(stderr, "stream_bench: --window takes 1 to 1048576, not '%s'\n",
                argv[i]);
        return 2;
      }
    } else if (strcmp(a, "--help") == 0 || strcmp(a, "-h") == 0) {
      usage(stdout);
      return 0;
    } else {
      fprintf(stderr, "stream_bench: unknown or incomplete argument '%s'\n", a);
      usage(stderr);
      return 2;
    }
  }
  if (!manta || !module) {
    fprintf(stderr, "stream_bench: --manta and --module are required\n");
    return 2;
  }
  row rows[3] = {{.name = "floor_thread_queue"},
                 {.name = "stream_items_embedded"},
                 {.name = "stream_items_two_nodes"}};

  for (int r = 0; r < reps; r++) {
    rows[0].per_second[rows[0].reps++] = floor_once(items, (size_t)window);
  }
  finish_row(&rows[0]);

  /* Embedded: the generator and the reader in this process, 2 CPUs. */
  manta_options *o;
  BENCH_OK(manta_options_new(&o));
  BENCH_OK(manta_options_set_num_cpus(o, 2));
  BENCH_OK(manta_init(o));
  manta_options_free(o);
  BENCH_OK(manta_register_function(BENCH_GEN, gen_here, 1, NULL));
  stream_once(1000, (size_t)window); /* warm up */
  for (int r = 0; r < reps; r++) {
    rows[1].per_second[rows[1].reps++] = stream_once(items, (size_t)window);
  }
  finish_row(&rows[1]);
  BENCH_OK(manta_shutdown());

  /* Two nodes: the generator runs on the head (this driver does not
   * offer it), items cross the link. */
  char address[128];
  start_head(manta, module, address);
  BENCH_OK(manta_options_new(&o));
  BENCH_OK(manta_options_set_address(o, address));
  BENCH_OK(manta_options_set_num_cpus(o, 1));
  BENCH_OK(manta_init(o));
  manta_options_free(o);
  stream_once(1000, (size_t)window); /* warm up the link */
  for (int r = 0; r < reps; r++) {
    rows[2].per_second[rows[2].reps++] = stream_once(items, (size_t)window);
  }
  finish_row(&rows[2]);
  BENCH_OK(manta_shutdown());
  stop_head();

  if (json) {
    FILE *f = fopen(json, "w");
    if (!f) {
      fprintf(stderr, "stream_bench: cannot write %s\n", json);
      return 1;
    }
    fprintf(f, "{\n  \"items\": %lld,\n  \"window\": %ld,\n  \"results\": [\n",
            (long long)items, window);
    for (int i = 0; i < 3; i++) {
      fprintf(f,
              "    {\"name\": \"%s\", \"items_per_second\": %.0f, \"reps\": [",
              rows[i].name, rows[i].median);
      for (int k = 0; k < rows[i].reps; k++) {
        fprintf(f, "%s%.0f", k ? ", " : "", rows[i].per_second[k]);
      }
      fprintf(f, "]}%s\n", i < 2 ? "," : "");
    }
    fprintf(f, "  ]\n}\n");
    fclose(f);
    printf("wrote %s\n", json);
  }
  return 0;
}
