/*
 * How long an actor is away when its node dies: a head and ROUNDS+1 nodes
 * on this machine (processes this program starts; every node offers the
 * class BenchActor of bench_module.c, the head and this driver do not), one
 * actor created with max_restarts -1; each round kills the actor's node with
 * SIGKILL and times until a call of it (max_task_retries -1) answers
 * again, from the new node.
 * That time is mostly the head's dead-after time (MANTA_DEAD_AFTER_MS,
 * 3000 ms by default, passed on to the nodes) plus a heartbeat: the restart
 * waits for the head to declare the node dead.
 *
 *   actor_restart_bench --manta PATH --module PATH [--rounds N]
 *                       [--json FILE]
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

enum { MAX_ROUNDS = 8, GET_TIMEOUT_MS = 60000 };

static pid_t pids[MAX_ROUNDS + 2];
static int npids;

static void stop_all(void) {
  for (int i = 0; i < npids; i++) {
    kill(pids[i], SIGKILL);
    waitpid(pids[i], NULL, 0);
  }
  npids = 0;
}

/* `manta start --foreground ARGS...` (NULL-terminated), tracked for
 * stop_all. */
static void start(const char *manta, char address[128], ...) {
  const char *args[14];
  int n = 0;
  va_list ap;
  va_start(ap, address);
  for (const char *a; n < 13 && (a = va_arg(ap, const char *));) {
    args[n++] = a;
  }
  va_end(ap);
  args[n] = NULL;
  pids[npids++] = bench_manta_start(manta, args, address);
}

/* A call of the actor, waited for: its int result. */
static int64_t call(manta_actor a, const char *method) {
  manta_ref r;
  BENCH_OK(manta_actor_call(a, method, NULL, 0, &r));
  manta_value *v = NULL;
  manta_err err = manta_get(r, GET_TIMEOUT_MS, &v);
  int64_t x = 0;
  if (err != MANTA_OK) {
    bench_die("call of %s: %s: %s", method, manta_strerror(err),
              v ? manta_error_message(v) : "");
  }
  manta_get_int(v, &x); /* noop answers nil: 0 */
  manta_value_free(v);
  manta_ref_release(r);
  return x;
}

int main(int argc, char **argv) {
  bench_name = "actor_restart_bench";
  bench_cleanup = stop_all;
  bench_cluster_args args = {.rounds = 3};
  bench_parse_cluster_args(argc, argv, MAX_ROUNDS, &args);
  const char *manta = args.manta, *module = args.module, *json = args.json;
  int rounds = args.rounds;
  char head[128], node[128];
  start(manta, head, "--head", "--port", "0", "--num-cpus", "1", NULL);
  for (int i = 0; i <= rounds; i++) {
    start(manta, node, "--address", head, "--num-cpus", "1", "--module", module,
          NULL);
  }
  manta_options *o;
  BENCH_OK(manta_options_new(&o));
  BENCH_OK(manta_options_set_address(o, head));
  BENCH_OK(manta_options_set_num_cpus(o, 1));
  BENCH_OK(manta_init(o));
  manta_options_free(o);
  manta_call_options *co;
  BENCH_OK(manta_call_options_new(&co));
  BENCH_OK(manta_call_options_set_max_restarts(co, -1));
  /* The call right after the kill may be sent to the dead node before its
   * link fails: it is sent again. */
  BENCH_OK(manta_call_options_set_max_task_retries(co, -1));
  manta_actor a;
  manta_err err = MANTA_ERR_NOT_FOUND;
  /* The nodes may not all be in this driver's view yet. */
  for (int i = 0; i < 200 && err != MANTA_OK; i++) {
    err = manta_actor_create(BENCH_ACTOR, NULL, 0, co, &a);
    if (err == MANTA_OK && call(a, BENCH_ACTOR_PID) <= 0) {
      bench_die("no pid");
    }
    if (err != MANTA_OK) {
      usleep(50000);
    }
  }
  BENCH_OK(err);
  manta_call_options_free(co);
  double seconds[MAX_ROUNDS];
  for (int i = 0; i < rounds; i++) {
    int64_t pid = call(a, BENCH_ACTOR_PID);
    double t0 = bench_now_s();
    kill((pid_t)pid, SIGKILL);
    call(a, BENCH_ACTOR_NOOP);
    seconds[i] = bench_now_s() - t0;
    if (call(a, BENCH_ACTOR_PID) == pid) {
      bench_die("round %d: the actor still answers from the killed pid", i);
    }
    printf("round %d: kill -9 of pid %lld, answered again after %.3f s\n", i,
           (long long)pid, seconds[i]);
  }
  manta_actor_release(a);
  manta_shutdown();
  stop_all();
  double sorted[MAX_ROUNDS];
  memcpy(sorted, seconds, sizeof sorted);
  qsort(sorted, (size_t)rounds, sizeof *sorted, bench_cmp_double);
  const char *dead_after = getenv("MANTA_DEAD_AFTER_MS");
  printf("actor restart: median %.3f s over %d rounds (dead-after %s ms)\n",
         sorted[rounds / 2], rounds, dead_after ? dead_after : "3000");
  if (json) {
    FILE *f = fopen(json, "w");
    if (!f) {
      fprintf(stderr, "actor_restart_bench: cannot write %s\n", json);
      return 1;
    }
    fprintf(f,
            "{\"rounds\": %d, \"dead_after_ms\": %s, \"median_s\": %.4f, "
            "\"seconds\": [",
            rounds, dead_after ? dead_after : "3000", sorted[rounds / 2]);
    for (int i = 0; i < rounds; i++) {
      fprintf(f, "%s%.4f", i ? ", " : "", seconds[i]);
    }
    fprintf(f, "]}\n");
    fclose(f);
  }
  return 0;
}
