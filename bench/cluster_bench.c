/*
 * Remote tasks, actor calls and object transfers between two nodes on this
 * machine: this process (a driver, itself a node) and a head node it starts,
 * which alone offers the functions and the actor class of bench_module.c. Every
 * task crosses gRPC.
 *
 *   cluster_bench --manta PATH --module PATH [--seconds S] [--nodes N]
 *                 [--transfer-sizes LIST] [--reps N] [--json FILE]
 *
 * --nodes N starts N more nodes of 1 CPU, each offering bench_module.c
 * too: the task cases then spread over the head and them by each node's
 * load as the driver sees it (and, when one is busier than another, by
 * task handoff), and the actor stays on the node where it was created.
 *
 * remote_tasks_async: rounds of 10,000 submissions, then a get of each
 * (tasks/s). remote_task_sync: submit then get, one at a time (p50 and
 * p99 of the round trip, in microseconds, and calls/s).
 * remote_actor_calls_async and remote_actor_call_sync: the same with calls
 * of the no-op method of one actor that lives on the head (the class
 * BENCH_ACTOR of bench_module.c, which this process does not offer).
 *
 * transfer_<size>: the driver puts a bytes object of that size and gets
 * the result of bench_len on it; the head fetches the object from the
 * driver (its owner) before running the task. transfer_result_<size>: the
 * head's bench_bytes returns that many bytes, which stay on the head until
 * the driver's get fetches them. Each repetition is timed from the put (or
 * the submission) to the result in hand; the rate is the object's size
 * over the median time, in MB/s (10^6 bytes). One transfer of each size
 * and direction goes first, untimed (first_seconds in the JSON): it fills
 * fresh memory where later ones reuse it.
 *
 * Beside every case: the CPU time each process spent on it (the head's
 * from /proc), which other programs on a shared machine disturb less than
 * the rates.
 */
#include "bench_module.h"
#include "bench_util.h"

#include <manta.h>

#include <signal.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

enum {
  ASYNC_ROUND = 10000,
  MAX_SIZES = 4,
  MAX_REPS = 9,
  MAX_ROWS = 16,
  /* Sizes from this up run at most BIG_REPS times: a run stays short. */
  BIG_SIZE = 512 << 20,
  BIG_REPS = 3,
  /* No single get waits longer than this: a stuck transfer fails the run. */
  GET_TIMEOUT_MS = 600000,
};

enum { MAX_NODES = 8 };
static pid_t head_pid, node_pids[MAX_NODES];
static int nnodes;

static void stop_pid(pid_t *pid) {
  if (*pid > 0) {
    kill(*pid, SIGTERM);
    waitpid(*pid, NULL, 0);
    *pid = 0;
  }
}

static void stop_head(void) {
  for (int i = 0; i < nnodes; i++) {
    stop_pid(&node_pids[i]);
  }
  stop_pid(&head_pid);
}

/* Starts `manta start --foreground` (the head when join is NULL, else a
 * node joining it) and reads its address. */
static pid_t start_node(const char *manta, const char *module, const char *join,
                        char address[128]) {
  int fds[2];
  if (pipe(fds) != 0) {
    bench_die("pipe failed");
  }
  pid_t pid = fork();
  if (pid == 0) {
    dup2(fds[1], 1);
    close(fds[0]);
    if (join) {
      execl(manta, manta, "start", "--foreground", "--address", join, "--port",
            "0", "--num-cpus", "1", "--module", module, (char *)NULL);
    } else {
      execl(manta, manta, "start", "--head", "--foreground", "--port", "0",
            "--http-port", "off", "--num-cpus", "1", "--module", module,
            (char *)NULL);
    }
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
  return pid;
}

/* Until this driver's view lists every node offering the no-op (the head
 * and the nodes), 10 s at most: until then its calls go to the head. */
static void wait_offered(const char *head, int want) {
  for (int i = 0; i < 200; i++) {
    manta_value *st = NULL;
    const manta_value *nodes, *node, *fns, *item;
    size_t n = 0, nf = 0, len;
    int offering = 0;
    if (manta_cluster_status(head, NULL, 5000, &st) == MANTA_OK &&
        manta_map_find(st, "nodes", &nodes) == MANTA_OK) {
      manta_len(nodes, &n);
      for (size_t k = 0; k < n; k++) {
        const char *name;
        manta_list_at(nodes, k, &node);
        if (manta_map_find(node, "functions", &fns) != MANTA_OK) {
          continue;
        }
        manta_len(fns, &nf);
        for (size_t j = 0; j < nf; j++) {
          if (manta_list_at(fns, j, &item) == MANTA_OK &&
              manta_get_string(item, &name, &len) == MANTA_OK &&
              strcmp(name, BENCH_NOOP) == 0) {
            offering++;
          }
        }
      }
    }
    manta_value_free(st);
    if (offering >= want) {
      usleep(700000); /* two heartbeats: this process's view has them */
      return;
    }
    usleep(50000);
  }
  bench_die("the nodes do not offer %s after 10 s", BENCH_NOOP);
}

/* ---- results ------------------------------------------------------------ */

typedef struct row {
  char name[48];
  double per_second; /* tasks or calls; for transfers MB/s */
  double p50_us, p99_us;
  uint64_t bytes; /* transfers: the object's size; 0 for other cases */
  int reps;
  double rep_seconds[MAX_REPS];
  double first_seconds; /* transfers: the untimed first one of the size */
  double driver_cpu_s, head_cpu_s;
} row;

static row rows[MAX_ROWS];
static int nrows;
static double driver_cpu_mark, head_cpu_mark;

/* Where a case's measured part begins. */
static void cpu_mark(void) {
  driver_cpu_mark = bench_self_cpu_s();
  head_cpu_mark = bench_pid_cpu_s(head_pid);
}

static row *add_row(const char *name) {
  if (nrows == MAX_ROWS) {
    bench_die("more than %d cases", MAX_ROWS);
  }
  row *r = &rows[nrows++];
  memset(r, 0, sizeof *r);
  snprintf(r->name, sizeof r->name, "%s", name);
  r->p50_us = r->p99_us = -1;
  r->driver_cpu_s = bench_self_cpu_s() - driver_cpu_mark;
  r->head_cpu_s = bench_pid_cpu_s(head_pid) - head_cpu_mark;
  return r;
}

/* ---- remote tasks and actor calls -------------------------------------- */

/* One operation whose result is a ref: a task or an actor call. */
typedef void (*start_fn)(manta_ref *out);

static void start_task(manta_ref *out) {
  BENCH_OK(manta_submit(BENCH_NOOP, NULL, 0, NULL, out));
}

static manta_actor bench_actor;

static void start_actor_call(manta_ref *out) {
  BENCH_OK(manta_actor_call(bench_actor, BENCH_ACTOR_NOOP, NULL, 0, out));
}

/* Rounds of ASYNC_ROUND started, then a get of each, after one warm-up
 * round: operations per second. */
static void async_rate(const char *name, start_fn start_one, double seconds) {
  manta_ref *refs = malloc(ASYNC_ROUND * sizeof *refs);
  if (!refs) {
    bench_die("out of memory");
  }
  long done = 0;
  double start = bench_now_s(), end = start;
  int warm = 1;
  do {
    for (int i = 0; i < ASYNC_ROUND; i++) {
      start_one(&refs[i]);
    }
    for (int i = 0; i < ASYNC_ROUND; i++) {
      manta_value *v = NULL;
      BENCH_OK(manta_get(refs[i], GET_TIMEOUT_MS, &v));
      manta_value_free(v);
      manta_ref_release(refs[i]);
    }
    if (warm) {
      warm = 0;
      cpu_mark();
      start = bench_now_s();
      continue;
    }
    done += ASYNC_ROUND;
    end = bench_now_s();
  } while (warm || end - start < seconds);
  free(refs);
  add_row(name)->per_second = (double)done / (end - start);
}

/* Start, then get, one at a time: rate and round-trip percentiles. */
static void sync_rate(const char *name, start_fn start_one, double seconds) {
  size_t cap = 1 << 20, n = 0;
  double *lat = malloc(cap * sizeof *lat);
  if (!lat) {
    bench_die("out of memory");
  }
  cpu_mark();
  double start = bench_now_s(), end;
  do {
    double t0 = bench_now_s();
    manta_ref r;
    manta_value *v = NULL;
    start_one(&r);
    BENCH_OK(manta_get(r, GET_TIMEOUT_MS, &v));
    manta_value_free(v);
    manta_ref_release(r);
    end = bench_now_s();
    if (n < cap) {
      lat[n++] = (end - t0) * 1e6;
    }
  } while (end - start < seconds);
  row *row = add_row(name);
  row->per_second = (double)n / (end - start);
  qsort(lat, n, sizeof *lat, bench_cmp_double);
  row->p50_us = lat[n / 2];
  row->p99_us = lat[(size_t)((double)n * 0.99)];
  free(lat);
}

/* ---- object transfers --------------------------------------------------- */

static void release_free(void *data, void *arg) {
  (void)arg;
  free(data);
}

/* A bytes value of `size` bytes holding bench_byte(i) at i. */
static manta_value *pattern_bytes(uint64_t size) {
  uint8_t *data = malloc(size);
  if (!data) {
    bench_die("no memory for %llu bytes", (unsigned long long)size);
  }
  for (uint64_t i = 0; i < size; i++) {
    data[i] = bench_byte(i);
  }
  manta_value *v = manta_bytes_wrap(data, size, release_free, NULL);
  if (!v) {
    bench_die("no memory for a value of %llu bytes", (unsigned long long)size);
  }
  return v;
}

/* Puts `big` and gets the head's bench_len of it; the result, and in *t
 * the seconds from the put to the result in hand. */
static manta_value *send_try(const manta_value *big, double *t) {
  double t0 = bench_now_s();
  manta_ref obj, res;
  BENCH_OK(manta_put(big, &obj));
  manta_value *arg = manta_ref_value(obj);
  if (!arg) {
    bench_die("out of memory");
  }
  BENCH_OK(
      manta_submit(BENCH_LEN, (const manta_value *const *)&arg, 1, NULL, &res));
  manta_value *v = NULL;
  manta_get(res, GET_TIMEOUT_MS, &v);
  *t = bench_now_s() - t0;
  manta_value_free(arg);
  manta_ref_release(res);
  manta_ref_release(obj);
  return v;
}

static void check_len(manta_value *v, uint64_t size) {
  int64_t got = -1;
  if (manta_get_int(v, &got) != MANTA_OK || (uint64_t)got != size) {
    char *repr = manta_value_repr(v);
    bench_die("%s of %llu bytes gave %s", BENCH_LEN, (unsigned long long)size,
              repr ? repr : "(nothing)");
  }
  manta_value_free(v);
}

/* Put `big`, have the head take its length; the seconds it took. */
static double send_once(const manta_value *big, uint64_t size) {
  double t;
  check_len(send_try(big, &t), size);
  return t;
}

/* Get `size` bytes made on the head; the seconds it took. Checks a sample
 * of the bytes after the clock stops. */
static double fetch_once(uint64_t size) {
  double t0 = bench_now_s();
  manta_value *n = manta_int((int64_t)size);
  manta_ref res;
  BENCH_OK(
      manta_submit(BENCH_BYTES, (const manta_value *const *)&n, 1, NULL, &res));
  manta_value *v = NULL;
  manta_err err = manta_get(res, GET_TIMEOUT_MS, &v);
  double t = bench_now_s() - t0;
  const uint8_t *data;
  size_t len = 0;
  if (err != MANTA_OK ||
      manta_get_bytes(v, (const void **)&data, &len) != MANTA_OK ||
      len != size) {
    char *repr = len ? NULL : manta_value_repr(v);
    bench_die("%s(%llu) gave %s", BENCH_BYTES, (unsigned long long)size,
              repr ? repr : "bytes of another length");
  }
  for (uint64_t i = 0; i < size; i += 4093) {
    if (data[i] != bench_byte(i)) {
      bench_die("byte %llu of a fetched result differs from the head's",
                (unsigned long long)i);
    }
  }
  if (data[size - 1] != bench_byte(size - 1)) {
    bench_die("the last byte of a fetched result differs from the head's");
  }
  manta_value_free(v);
  manta_value_free(n);
  manta_ref_release(res);
  return t;
}

static void transfer_row(const char *prefix, uint64_t size, double first,
                         const double *t, int reps) {
  char name[48], sz[24];
  bench_format_size(sz, sizeof sz, size);
  snprintf(name, sizeof name, "%s%s", prefix, sz);
  row *r = add_row(name);
  r->bytes = size;
  r->first_seconds = first;
  r->reps = reps;
  memcpy(r->rep_seconds, t, (size_t)reps * sizeof *t);
  double sorted[MAX_REPS];
  memcpy(sorted, t, (size_t)reps * sizeof *t);
  qsort(sorted, (size_t)reps, sizeof *sorted, bench_cmp_double);
  /* The median; of an even count, the mean of the middle two. */
  double median = reps % 2 ? sorted[reps / 2]
                           : (sorted[reps / 2 - 1] + sorted[reps / 2]) / 2;
  r->per_second = (double)size / median / 1e6;
}

static void transfers(const uint64_t *sizes, int nsizes, int reps) {
  if (nsizes == 0) {
    return;
  }
  /* Both directions once, small, untimed: the links between the nodes are
   * open before the first timed transfer. */
  manta_value *small = pattern_bytes(1 << 20);
  send_once(small, 1 << 20);
  manta_value_free(small);
  fetch_once(1 << 20);
  for (int s = 0; s < nsizes; s++) {
    int k = sizes[s] >= BIG_SIZE && reps > BIG_REPS ? BIG_REPS : reps;
    double t[MAX_REPS];
    manta_value *big = pattern_bytes(sizes[s]);
    /* Untimed, its time reported apart: the first object of a size fills
     * fresh memory on the fetching side (page faults); later ones reuse
     * it, as a program moving objects of a size again and again does. */
    double first = send_once(big, sizes[s]);
    cpu_mark();
    for (int i = 0; i < k; i++) {
      t[i] = send_once(big, sizes[s]);
    }
    transfer_row("transfer_", sizes[s], first, t, k);
    manta_value_free(big);
    /* Untimed likewise; the head also makes the bytes of this size. */
    first = fetch_once(sizes[s]);
    cpu_mark();
    for (int i = 0; i < k; i++) {
      t[i] = fetch_once(sizes[s]);
    }
    transfer_row("transfer_result_", sizes[s], first, t, k);
  }
}

/* ---- output ------------------------------------------------------------- */

static void print_table(void) {
  for (int i = 0; i < nrows; i++) {
    const row *r = &rows[i];
    if (r->bytes) {
      double gb = (double)r->bytes * r->reps / 1e9;
      printf("%-24s %10.1f MB/s     cpu s/GB driver %5.2f head %5.2f\n",
             r->name, r->per_second, r->driver_cpu_s / gb, r->head_cpu_s / gb);
    } else if (r->p50_us >= 0) {
      printf("%-24s %10.0f calls/s  p50 %.0f us  p99 %.0f us\n", r->name,
             r->per_second, r->p50_us, r->p99_us);
    } else {
      printf("%-24s %10.0f tasks/s\n", r->name, r->per_second);
    }
  }
}

static int write_json(const char *path) {
  FILE *f = fopen(path, "w");
  if (!f) {
    perror(path);
    return -1;
  }
  fprintf(f, "{");
  for (int i = 0; i < nrows; i++) {
    const row *r = &rows[i];
    fprintf(f, "%s\n \"%s\": {\"per_second\": %.1f", i ? "," : "", r->name,
            r->per_second);
    if (r->p50_us >= 0) {
      fprintf(f, ", \"p50_us\": %.1f, \"p99_us\": %.1f", r->p50_us, r->p99_us);
    }
    if (r->bytes) {
      fprintf(f,
              ", \"unit\": \"MB/s\", \"bytes\": %llu, "
              "\"first_seconds\": %.6f, \"rep_seconds\": [",
              (unsigned long long)r->bytes, r->first_seconds);
      for (int k = 0; k < r->reps; k++) {
        fprintf(f, "%s%.6f", k ? ", " : "", r->rep_seconds[k]);
      }
      fprintf(f, "]");
    }
    fprintf(f, ", \"driver_cpu_seconds\": %.3f, \"head_cpu_seconds\": %.3f}",
            r->driver_cpu_s, r->head_cpu_s);
  }
  fprintf(f, "\n}\n");
  return fclose(f) == 0 ? 0 : -1;
}

static void usage(FILE *out) {
  fprintf(out,
          "usage: cluster_bench --manta PATH --module PATH [--seconds S]\n"
          "                     [--transfer-sizes LIST] [--reps N] "
          "[--filter TEXT] [--json FILE]\n"
          "  --manta PATH           the manta program (starts the head)\n"
          "  --module PATH          bench_module, loaded by the head only\n"
          "  --seconds S            time per task case (default 2)\n"
          "  --nodes N              N more nodes offering the module (0 to "
          "8, default 0)\n"
          "  --transfer-sizes LIST  object sizes, comma-separated, with\n"
          "                         KiB/MiB/GiB (default 64MiB,1GiB; none: "
          "\"\")\n"
          "  --reps N               timed transfers per size and direction,\n"
          "                         1 to %d (default 5; at most %d from "
          "512MiB)\n"
          "  --filter TEXT          only cases whose name contains TEXT\n"
          "  --json FILE            also write the figures as JSON\n",
          MAX_REPS, BIG_REPS);
}

static const char *filter;

/* Whether the case (or family of cases) named runs: --filter TEXT keeps
 * those whose name contains TEXT. */
static bool wanted(const char *name) {
  return !filter || strstr(name, filter) || strstr(filter, name);
}

static int parse_sizes(char *list, uint64_t *sizes, int *n) {
  *n = 0;
  for (char *save, *tok = strtok_r(list, ",", &save); tok;
       tok = strtok_r(NULL, ",", &save)) {
    if (*n == MAX_SIZES || bench_parse_size(tok, &sizes[*n]) != 0 ||
        sizes[*n] > (uint64_t)BENCH_BYTES_MAX) {
      return -1;
    }
    (*n)++;
  }
  return 0;
}

int main(int argc, char **argv) {
  bench_name = "cluster_bench";
  bench_cleanup = stop_head;
  const char *manta = NULL, *module = NULL, *json = NULL;
  double seconds = 2;
  uint64_t sizes[MAX_SIZES] = {64 << 20, 1 << 30};
  int nsizes = 2, reps = 5;
  for (int i = 1; i < argc; i++) {
    const char *a = argv[i];
    int has_value = i + 1 < argc;
    char *end;
    if (strcmp(a, "--manta") == 0 && has_value) {
      manta = argv[++i];
    } else if (strcmp(a, "--module") == 0 && has_value) {
      module = argv[++i];
    } else if (strcmp(a, "--seconds") == 0 && has_value) {
      if (bench_parse_seconds(argv[++i], &seconds) != 0) {
        fprintf(stderr,
                "cluster_bench: --seconds takes a number above 0 and up to "
                "3600, not '%s'\n",
                argv[i]);
        return 2;
      }
    } else if (strcmp(a, "--transfer-sizes") == 0 && has_value) {
      if (parse_sizes(argv[++i], sizes, &nsizes) != 0) {
        fprintf(stderr,
                "cluster_bench: --transfer-sizes takes up to %d sizes such "
                "as 64MiB,1GiB (each at most 4GiB)\n",
                MAX_SIZES);
        return 2;
      }
    } else if (strcmp(a, "--reps") == 0 && has_value) {
      long n = strtol(argv[++i], &end, 10);
      if (*end || n < 1 || n > MAX_REPS) {
        fprintf(stderr,
                "cluster_bench: --reps takes a number from 1 to %d, not "
                "'%s'\n",
                MAX_REPS, argv[i]);
        return 2;
      }
      reps = (int)n;
    } else if (strcmp(a, "--filter") == 0 && has_value) {
      filter = argv[++i];
    } else if (strcmp(a, "--nodes") == 0 && i + 1 < argc) {
      char *end;
      long n = strtol(argv[++i], &end, 10);
      if (*end || n < 0 || n > MAX_NODES) {
        fprintf(stderr, "cluster_bench: --nodes takes 0 to %d, not '%s'\n",
                MAX_NODES, argv[i]);
        return 2;
      }
      nnodes = (int)n;
    } else if (strcmp(a, "--json") == 0 && has_value) {
      json = argv[++i];
    } else if (strcmp(a, "--help") == 0 || strcmp(a, "-h") == 0) {
      usage(stdout);
      return 0;
    } else {
      fprintf(stderr, "cluster_bench: unknown or incomplete argument '%s'\n",
              a);
      usage(stderr);
      return 2;
    }
  }
  if (!manta || !module) {
    fprintf(stderr, "cluster_bench: --manta and --module are required\n");
    return 2;
  }
  char address[128], node_address[128];
  head_pid = start_node(manta, module, NULL, address);
  for (int i = 0; i < nnodes; i++) {
    node_pids[i] = start_node(manta, module, address, node_address);
  }
  manta_options *o;
  BENCH_OK(manta_options_new(&o));
  BENCH_OK(manta_options_set_address(o, address));
  BENCH_OK(manta_options_set_num_cpus(o, 1));
  BENCH_OK(manta_init(o));
  manta_options_free(o);
  if (nnodes > 0) {
    wait_offered(address, 1 + nnodes);
  }

  if (wanted("remote_tasks_async")) {
    async_rate("remote_tasks_async", start_task, seconds);
  }
  if (wanted("remote_task_sync")) {
    sync_rate("remote_task_sync", start_task, seconds);
  }
  if (wanted("remote_actor_calls_async") || wanted("remote_actor_call_sync")) {
    BENCH_OK(manta_actor_create(BENCH_ACTOR, NULL, 0, NULL, &bench_actor));
    if (wanted("remote_actor_calls_async")) {
      async_rate("remote_actor_calls_async", start_actor_call, seconds);
    }
    if (wanted("remote_actor_call_sync")) {
      sync_rate("remote_actor_call_sync", start_actor_call, seconds);
    }
    BENCH_OK(manta_actor_release(bench_actor));
  }
  if (wanted("transfer_")) {
    transfers(sizes, nsizes, reps);
  }

  manta_shutdown();
  stop_head();
  print_table();
  if (json && write_json(json) != 0) {
    fprintf(stderr, "cluster_bench: cannot write %s\n", json);
    return 1;
  }
  return 0;
}
