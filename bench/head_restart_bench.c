/*
 * How long a head restart keeps a cluster from its named actors and its
 * nodes, with and without the head's store (docs/head-store.md): a head and
 * two nodes on this machine (processes this program starts; the nodes offer
 * BenchActor and bench_noop of bench_module.c, the head and this driver do
 * not), a named actor created by this driver on a node. Each round kills
 * the head with SIGKILL, starts it again on the same port, and times until
 * (1) manta_actor_lookup finds the named actor again and a call of it
 * answers, and (2) a task only the nodes offer answers.
 *
 * Without the store, the name comes back when its node's next heartbeat
 * hears that the head does not know it and announces its named actors;
 * with it, the new head has the name before any node speaks. Both include
 * starting the head process and gRPC's reconnection to it. With the store,
 * a redis-server started here (on a random loopback port, no persistence)
 * holds it; without redis-server that half is not measured.
 *
 *   head_restart_bench --manta PATH --module PATH [--rounds N]
 *                      [--json FILE]
 */
#include "bench_module.h"
#include "bench_util.h"

#include <manta.h>

#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <signal.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

enum { MAX_ROUNDS = 10, MAX_PIDS = 8, WAIT_MS = 60000 };

static pid_t pids[MAX_PIDS];
static int npids;
static char work[] = "/tmp/manta-head-restart-bench-XXXXXX";

static void stop_all(void) {
  for (int i = 0; i < npids; i++) {
    if (pids[i] > 0) {
      kill(pids[i], SIGKILL);
      waitpid(pids[i], NULL, 0);
    }
  }
  npids = 0;
}

static void cleanup(void) {
  stop_all();
  char cmd[200];
  snprintf(cmd, sizeof cmd, "rm -rf %s", work);
  if (system(cmd) != 0) {
    fprintf(stderr, "head_restart_bench: could not remove %s\n", work);
  }
}

/* `manta start --foreground ARGS...` (NULL-terminated), tracked for
 * stop_all; returns its pid. */
static pid_t start(const char *manta, char address[128], ...) {
  const char *args[21];
  int n = 0;
  va_list ap;
  va_start(ap, address);
  for (const char *a; n < 20 && (a = va_arg(ap, const char *));) {
    args[n++] = a;
  }
  va_end(ap);
  args[n] = NULL;
  pid_t pid = bench_manta_start(manta, args, address);
  pids[npids++] = pid;
  return pid;
}

static bool port_answers(int port) {
  int fd = socket(AF_INET, SOCK_STREAM, 0);
  struct sockaddr_in a = {0};
  a.sin_family = AF_INET;
  a.sin_port = htons((uint16_t)port);
  a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  bool ok = fd >= 0 && connect(fd, (struct sockaddr *)&a, sizeof a) == 0;
  if (fd >= 0) {
    close(fd);
  }
  return ok;
}

/* redis-server on a random free loopback port (0: not found). */
static int start_redis(void) {
  if (system("command -v redis-server >/dev/null 2>&1") != 0) {
    return 0;
  }
  for (int tries = 0; tries < 10; tries++) {
    int port =
        20000 +
        (int)((unsigned)getpid() * 7919u + (unsigned)tries * 104729u) % 30000;
    if (port_answers(port)) {
      continue; /* taken */
    }
    char p[16];
    snprintf(p, sizeof p, "%d", port);
    pid_t pid = fork();
    if (pid == 0) {
      int null = open("/dev/null", 1);
      dup2(null, 1);
      execlp("redis-server", "redis-server", "--port", p, "--bind", "127.0.0.1",
             "--save", "", "--appendonly", "no", "--dir", work, (char *)NULL);
      _exit(127);
    }
    pids[npids++] = pid;
    for (int i = 0; i < 200; i++) {
      if (port_answers(port)) {
        return port;
      }
      usleep(25000);
    }
    kill(pid, SIGKILL);
    waitpid(pid, NULL, 0);
    pids[--npids] = 0;
  }
  bench_die("redis-server did not start");
  return 0;
}

static void call_ok(manta_ref r, const char *what) {
  manta_value *v = NULL;
  manta_err err = manta_get(r, WAIT_MS, &v);
  if (err != MANTA_OK) {
    bench_die("%s: %s: %s", what, manta_strerror(err),
              v ? manta_error_message(v) : "");
  }
  manta_value_free(v);
  manta_ref_release(r);
}

typedef struct result {
  bool measured;
  double actor_s[MAX_ROUNDS], task_s[MAX_ROUNDS];
  double actor_median, task_median;
} result;

/* One cluster, rounds restarts of its head; store_url NULL: none. */
static void measure(const char *manta, const char *module,
                    const char *store_url, int rounds, result *out) {
  char head[128], node[128];
  /* Last, so that without a store the list ends there. */
  const char *store_flag = store_url ? "--store" : NULL;
  pid_t head_pid = start(manta, head, "--head", "--port", "0", "--num-cpus",
                         "1", "--http-port", "off", "--metrics-port", "off",
                         store_flag, store_url, NULL);
  const char *port = strrchr(head, ':') + 1;
  for (int i = 0; i < 2; i++) {
    start(manta, node, "--address", head, "--num-cpus", "1", "--metrics-port",
          "off", "--module", module, NULL);
  }
  manta_options *o;
  BENCH_OK(manta_options_new(&o));
  BENCH_OK(manta_options_set_address(o, head));
  BENCH_OK(manta_options_set_num_cpus(o, 1));
  BENCH_OK(manta_options_set_metrics_port(o, -1));
  BENCH_OK(manta_init(o));
  manta_options_free(o);
  manta_call_options *co;
  BENCH_OK(manta_call_options_new(&co));
  BENCH_OK(manta_call_options_set_name(co, "bench_named"));
  manta_actor a;
  manta_err err = MANTA_ERR_NOT_FOUND;
  for (int i = 0; i < 200 && err != MANTA_OK; i++) {
    err = manta_actor_create(BENCH_ACTOR, NULL, 0, co, &a);
    if (err != MANTA_OK) {
      usleep(50000); /* the nodes are not in this driver's view yet */
    }
  }
  BENCH_OK(err);
  manta_call_options_free(co);
  manta_ref r;
  BENCH_OK(manta_actor_call(a, BENCH_ACTOR_NOOP, NULL, 0, &r));
  call_ok(r, "the first call");
  for (int i = 0; i < rounds; i++) {
    double t0 = bench_now_s();
    kill(head_pid, SIGKILL);
    waitpid(head_pid, NULL, 0);
    for (int k = 0; k < npids; k++) {
      pids[k] = pids[k] == head_pid ? 0 : pids[k];
    }
    head_pid = start(manta, head, "--head", "--port", port, "--num-cpus", "1",
                     "--http-port", "off", "--metrics-port", "off", store_flag,
                     store_url, NULL);
    manta_actor found;
    for (err = MANTA_ERR_NOT_FOUND; err != MANTA_OK;) {
      err = manta_actor_lookup("bench_named", &found);
      if (err != MANTA_OK) {
        if (bench_now_s() - t0 > WAIT_MS / 1000.0) {
          bench_die("round %d: the named actor was not found again: %s", i,
                    manta_strerror(err));
        }
        usleep(2000);
      }
    }
    BENCH_OK(manta_actor_call(found, BENCH_ACTOR_NOOP, NULL, 0, &r));
    call_ok(r, "a call of the named actor");
    out->actor_s[i] = bench_now_s() - t0;
    manta_actor_release(found);
    BENCH_OK(manta_submit(BENCH_NOOP, NULL, 0, NULL, &r));
    call_ok(r, "a task on the nodes");
    out->task_s[i] = bench_now_s() - t0;
    printf("%s round %d: named actor found and answering after %.3f s, a "
           "task across nodes after %.3f s\n",
           store_url ? "store" : "no store", i, out->actor_s[i],
           out->task_s[i]);
    usleep(500000); /* settled: every node registered again */
  }
  manta_actor_release(a);
  manta_shutdown();
  out->measured = true;
  double sorted[MAX_ROUNDS];
  memcpy(sorted, out->actor_s, sizeof sorted);
  qsort(sorted, (size_t)rounds, sizeof *sorted, bench_cmp_double);
  out->actor_median = sorted[rounds / 2];
  memcpy(sorted, out->task_s, sizeof sorted);
  qsort(sorted, (size_t)rounds, sizeof *sorted, bench_cmp_double);
  out->task_median = sorted[rounds / 2];
}

static void json_result(FILE *f, const char *name, const result *r,
                        int rounds) {
  fprintf(f, "  \"%s\": ", name);
  if (!r->measured) {
    fprintf(f, "{\"measured\": false, \"why\": \"redis-server not found\"}");
    return;
  }
  fprintf(f,
          "{\"measured\": true, \"actor_median_s\": %.4f, "
          "\"task_median_s\": %.4f, \"actor_s\": [",
          r->actor_median, r->task_median);
  for (int i = 0; i < rounds; i++) {
    fprintf(f, "%s%.4f", i ? ", " : "", r->actor_s[i]);
  }
  fprintf(f, "], \"task_s\": [");
  for (int i = 0; i < rounds; i++) {
    fprintf(f, "%s%.4f", i ? ", " : "", r->task_s[i]);
  }
  fprintf(f, "]}");
}

int main(int argc, char **argv) {
  bench_name = "head_restart_bench";
  bench_cleanup = cleanup;
  bench_cluster_args args = {.rounds = 5};
  bench_parse_cluster_args(argc, argv, MAX_ROUNDS, &args);
  const char *manta = args.manta, *module = args.module, *json = args.json;
  int rounds = args.rounds;
  if (!mkdtemp(work)) {
    bench_die("cannot make a folder in /tmp");
  }
  /* A state folder of its own: its own token, no other head's. */
  char state[128];
  snprintf(state, sizeof state, "%s/state", work);
  setenv("MANTA_STATE_DIR", state, 1);
  unsetenv("MANTA_ADDRESS");
  result none = {0}, with = {0};
  measure(manta, module, NULL, rounds, &none);
  stop_all();
  int port = start_redis();
  char url[64];
  snprintf(url, sizeof url, "redis://127.0.0.1:%d", port);
  if (port) {
    measure(manta, module, url, rounds, &with);
  } else {
    printf("store: not measured (redis-server not found)\n");
  }
  cleanup();
  const char *hb = getenv("MANTA_HEARTBEAT_MS");
  printf("head restart: without a store, named actor back after %.3f s "
         "(median of %d), a task after %.3f s",
         none.actor_median, rounds, none.task_median);
  if (with.measured) {
    printf("; with the store %.3f s and %.3f s", with.actor_median,
           with.task_median);
  }
  printf(" (heartbeat %s ms)\n", hb ? hb : "300");
  if (json) {
    FILE *f = fopen(json, "w");
    if (!f) {
      fprintf(stderr, "head_restart_bench: cannot write %s\n", json);
      return 1;
    }
    fprintf(f, "{\n  \"rounds\": %d,\n  \"heartbeat_ms\": %s,\n", rounds,
            hb ? hb : "300");
    json_result(f, "without_store", &none, rounds);
    fprintf(f, ",\n");
    json_result(f, "with_store", &with, rounds);
    fprintf(f, "\n}\n");
    fclose(f);
  }
  return 0;
}
