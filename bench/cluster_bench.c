/*
 * Remote tasks between two nodes on this machine: this process (a driver,
 * itself a node) and a head node it starts, which alone offers the no-op
 * function `bench_noop` (bench_module.c). Every task crosses gRPC.
 *
 *   cluster_bench --manta PATH --module PATH [--seconds S] [--json FILE]
 *
 * remote_tasks_async: rounds of 10,000 submissions, then a get of each
 * (tasks/s). remote_task_sync: submit then get, one at a time (p50 and
 * p99 of the round trip, in microseconds, and calls/s).
 * remote_actor_calls_async and remote_actor_call_sync: the same with calls
 * of the no-op method of one actor that lives on the head (the class
 * `BenchActor` of bench_module.c, which this process does not offer).
 */
#include <manta.h>

#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

static double now_s(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static pid_t head_pid;

static void stop_head(void) {
  if (head_pid > 0) {
    kill(head_pid, SIGTERM);
    waitpid(head_pid, NULL, 0);
    head_pid = 0;
  }
}

static void die(const char *what, manta_err err) {
  fprintf(stderr, "cluster_bench: %s: %s\n", what, manta_strerror(err));
  stop_head();
  exit(1);
}

#define OK(expr)                                                               \
  do {                                                                         \
    manta_err e_ = (expr);                                                     \
    if (e_ != MANTA_OK) {                                                      \
      die(#expr, e_);                                                          \
    }                                                                          \
  } while (0)

/* Starts `manta start --head --foreground` and reads its address. */
static void start_head(const char *manta, const char *module, char *address,
                       size_t size) {
  int fds[2];
  if (pipe(fds) != 0) {
    die("pipe", MANTA_ERR_INTERNAL);
  }
  head_pid = fork();
  if (head_pid == 0) {
    dup2(fds[1], 1);
    close(fds[0]);
    execl(manta, manta, "start", "--head", "--foreground", "--port", "0",
          "--num-cpus", "1", "--module", module, (char *)NULL);
    _exit(127);
  }
  close(fds[1]);
  FILE *f = fdopen(fds[0], "r");
  char line[300] = "";
  if (!f || !fgets(line, sizeof line, f)) {
    die("the head did not start", MANTA_ERR_INTERNAL);
  }
  fclose(f);
  const char *at = strstr(line, " ready at ");
  if (!at || sscanf(at + 10, "%127s", address) != 1) {
    die("no address from the head", MANTA_ERR_INTERNAL);
  }
  (void)size;
}

static int cmp_double(const void *a, const void *b) {
  double x = *(const double *)a, y = *(const double *)b;
  return x < y ? -1 : x > y;
}

/* One operation whose result is a ref: a task or an actor call. */
typedef void (*start_fn)(manta_ref *out);

static void start_task(manta_ref *out) {
  OK(manta_submit("bench_noop", NULL, 0, NULL, out));
}

static manta_actor bench_actor;

static void start_actor_call(manta_ref *out) {
  OK(manta_actor_call(bench_actor, "noop", NULL, 0, out));
}

/* Rounds of 10,000 started, then a get of each, after one warm-up round:
 * operations per second. */
static double async_rate(start_fn start, double seconds) {
  enum { ROUND = 10000 };
  manta_ref *refs = malloc(ROUND * sizeof *refs);
  long done = 0;
  double t0 = now_s(), end = t0;
  int warm = 1;
  do {
    for (int i = 0; i < ROUND; i++) {
      start(&refs[i]);
    }
    for (int i = 0; i < ROUND; i++) {
      manta_value *v = NULL;
      OK(manta_get(refs[i], 60000, &v));
      manta_value_free(v);
      manta_ref_release(refs[i]);
    }
    if (warm) {
      warm = 0;
      t0 = now_s();
      continue;
    }
    done += ROUND;
    end = now_s();
  } while (warm || end - t0 < seconds);
  free(refs);
  return (double)done / (end - t0);
}

typedef struct sync_figures {
  double rate, p50, p99;
} sync_figures;

/* Start, then get, one at a time: rate and round-trip percentiles. */
static sync_figures sync_rate(start_fn start, double seconds) {
  size_t cap = 1 << 20, n = 0;
  double *lat = malloc(cap * sizeof *lat);
  double t0 = now_s(), end;
  do {
    double s0 = now_s();
    manta_ref r;
    manta_value *v = NULL;
    start(&r);
    OK(manta_get(r, 60000, &v));
    manta_value_free(v);
    manta_ref_release(r);
    end = now_s();
    if (n < cap) {
      lat[n++] = (end - s0) * 1e6;
    }
  } while (end - t0 < seconds);
  sync_figures f = {(double)n / (end - t0), 0, 0};
  qsort(lat, n, sizeof *lat, cmp_double);
  f.p50 = lat[n / 2];
  f.p99 = lat[(size_t)((double)n * 0.99)];
  free(lat);
  return f;
}

int main(int argc, char **argv) {
  const char *manta = NULL, *module = NULL, *json = NULL;
  double seconds = 2;
  for (int i = 1; i < argc; i++) {
    if (strcmp(argv[i], "--manta") == 0 && i + 1 < argc) {
      manta = argv[++i];
    } else if (strcmp(argv[i], "--module") == 0 && i + 1 < argc) {
      module = argv[++i];
    } else if (strcmp(argv[i], "--seconds") == 0 && i + 1 < argc) {
      seconds = atof(argv[++i]);
    } else if (strcmp(argv[i], "--json") == 0 && i + 1 < argc) {
      json = argv[++i];
    } else {
      fprintf(stderr,
              "usage: %s --manta PATH --module PATH [--seconds S] "
              "[--json FILE]\n",
              argv[0]);
      return 2;
    }
  }
  if (!manta || !module) {
    fprintf(stderr, "cluster_bench: --manta and --module are required\n");
    return 2;
  }
  char address[128];
  start_head(manta, module, address, sizeof address);
  manta_options *o;
  OK(manta_options_new(&o));
  OK(manta_options_set_address(o, address));
  OK(manta_options_set_num_cpus(o, 1));
  OK(manta_init(o));
  manta_options_free(o);

  double task_async = async_rate(start_task, seconds);
  sync_figures task_sync = sync_rate(start_task, seconds);
  OK(manta_actor_create("BenchActor", NULL, 0, NULL, &bench_actor));
  double actor_async = async_rate(start_actor_call, seconds);
  sync_figures actor_sync = sync_rate(start_actor_call, seconds);
  OK(manta_actor_release(bench_actor));

  manta_shutdown();
  stop_head();
  printf("remote_tasks_async        %12.0f tasks/s\n", task_async);
  printf("remote_task_sync          %12.0f calls/s  p50 %.0f us  p99 %.0f us\n",
         task_sync.rate, task_sync.p50, task_sync.p99);
  printf("remote_actor_calls_async  %12.0f calls/s\n", actor_async);
  printf("remote_actor_call_sync    %12.0f calls/s  p50 %.0f us  p99 %.0f us\n",
         actor_sync.rate, actor_sync.p50, actor_sync.p99);
  if (json) {
    FILE *f = fopen(json, "w");
    if (!f) {
      perror(json);
      return 1;
    }
    fprintf(f,
            "{\"remote_tasks_async\": {\"per_second\": %.1f},\n"
            " \"remote_task_sync\": {\"per_second\": %.1f, \"p50_us\": %.1f, "
            "\"p99_us\": %.1f},\n"
            " \"remote_actor_calls_async\": {\"per_second\": %.1f},\n"
            " \"remote_actor_call_sync\": {\"per_second\": %.1f, "
            "\"p50_us\": %.1f, \"p99_us\": %.1f}}\n",
            task_async, task_sync.rate, task_sync.p50, task_sync.p99,
            actor_async, actor_sync.rate, actor_sync.p50, actor_sync.p99);
    fclose(f);
  }
  return 0;
}
