/*
 * Work spreads over every slot: N tasks on N slots all run at once. Each
 * task waits at a rendezvous until all N have arrived, so the test passes
 * only if they ran side by side; a task kept waiting in some worker's batch
 * while a slot is idle never arrives, and the others give up after a
 * generous bound and fail the test (never a measured duration).
 */
#include "test_util.h"

#include <pthread.h>
#include <stdbool.h>
#include <time.h>

/* How long a task waits for the others before it gives up. */
#define MEET_TIMEOUT_S 30

static pthread_mutex_t meet_mu = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t meet_cv = PTHREAD_COND_INITIALIZER;
static int64_t meet_arrived, meet_expected;

static void meet_reset(int64_t expected) {
  pthread_mutex_lock(&meet_mu);
  meet_arrived = 0;
  meet_expected = expected;
  pthread_mutex_unlock(&meet_mu);
}

/* Arrives, then waits until `meet_expected` tasks have: the number that
 * had arrived when it went on, or an error if they never all did. */
static manta_value *meet(void) {
  struct timespec deadline;
  clock_gettime(CLOCK_REALTIME, &deadline);
  deadline.tv_sec += MEET_TIMEOUT_S;
  pthread_mutex_lock(&meet_mu);
  meet_arrived++;
  pthread_cond_broadcast(&meet_cv);
  int rc = 0;
  while (meet_arrived < meet_expected && rc == 0) {
    rc = pthread_cond_timedwait(&meet_cv, &meet_mu, &deadline);
  }
  int64_t seen = meet_arrived;
  pthread_mutex_unlock(&meet_mu);
  if (seen < meet_expected) {
    return manta_error(MANTA_ERR_TIMEOUT, "only %lld of %lld tasks ran at once",
                       (long long)seen, (long long)meet_expected);
  }
  return manta_int(seen);
}

/* meet(quick, after): with quick true returns at once (which teaches the
 * runtime that the function is short, so it takes its calls in batches);
 * `after` is any value, or a ref the call waits for as a dependency. */
static manta_value *fn_meet(const manta_value *const *args, size_t n, void *u) {
  (void)n, (void)u;
  int quick = 0;
  manta_get_bool(args[0], &quick);
  return quick ? manta_int(0) : meet();
}

/* gate(): returns null once the test opens it. */
static pthread_mutex_t gate_mu = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t gate_cv = PTHREAD_COND_INITIALIZER;
static int gate_open;

static manta_value *fn_gate(const manta_value *const *args, size_t n, void *u) {
  (void)args, (void)n, (void)u;
  pthread_mutex_lock(&gate_mu);
  while (!gate_open) {
    pthread_cond_wait(&gate_cv, &gate_mu);
  }
  pthread_mutex_unlock(&gate_mu);
  return NULL;
}

static void gate_set(int open) {
  pthread_mutex_lock(&gate_mu);
  gate_open = open;
  pthread_cond_broadcast(&gate_cv);
  pthread_mutex_unlock(&gate_mu);
}

static manta_value *method_meet(void *state, const manta_value *const *args,
                                size_t n, void *u) {
  (void)state, (void)args, (void)n, (void)u;
  return meet();
}

static void *ctor_none(const manta_value *const *args, size_t n, void *u,
                       manta_value **err) {
  (void)args, (void)n, (void)u, (void)err;
  return NULL;
}

static void start(unsigned slots) {
  manta_options *o;
  REQUIRE_OK(manta_options_new(&o));
  REQUIRE_OK(manta_options_set_num_cpus(o, slots));
  REQUIRE_OK(manta_init(o));
  manta_options_free(o);
  REQUIRE_OK(manta_register_function("meet", fn_meet, 2, NULL));
  REQUIRE_OK(manta_register_function("gate", fn_gate, 0, NULL));
  REQUIRE_OK(manta_register_class("Meeting", ctor_none, NULL, NULL));
  REQUIRE_OK(manta_register_method("Meeting", "meet", method_meet, 0, NULL));
}

/* Submits `quick` quick calls of meet, then n that wait for each other,
 * and checks every one succeeded. With gated, all wait for the gate task's
 * result (a dependency) and become ready at once as it opens: a queue long
 * enough to be taken in batches of several calls. */
static void submit_and_check(unsigned n, unsigned quick, bool gated,
                             const char *what) {
  size_t total = (size_t)quick + n;
  manta_ref *refs = calloc(total, sizeof *refs);
  REQUIRE(refs);
  manta_ref gate;
  manta_value *after = NULL;
  if (gated) {
    /* The gate asks for no CPU: the meets have every slot. */
    manta_call_options *co;
    REQUIRE_OK(manta_call_options_new(&co));
    REQUIRE_OK(manta_call_options_set_num_cpus(co, 0));
    gate_set(0);
    REQUIRE_OK(manta_submit("gate", NULL, 0, co, &gate));
    manta_call_options_free(co);
    after = manta_ref_value(gate);
  } else {
    after = manta_null();
  }
  REQUIRE(after);
  for (size_t i = 0; i < total; i++) {
    manta_value *args[2] = {manta_bool(i < quick), after};
    REQUIRE_OK(manta_submit("meet", (const manta_value *const *)args, 2, NULL,
                            &refs[i]));
    manta_value_free(args[0]);
  }
  manta_value_free(after);
  if (gated) {
    gate_set(1);
    manta_ref_release(gate);
  }
  int failed = 0;
  for (size_t i = 0; i < total; i++) {
    manta_value *v = NULL;
    manta_err err = manta_get(refs[i], (MEET_TIMEOUT_S + 30) * 1000, &v);
    if (err != MANTA_OK || manta_value_kind(v) != MANTA_KIND_INT) {
      if (failed++ == 0) {
        fprintf(stderr, "%s, %u slots: ", what, n);
        mt_test_print_value("task", (int)i, v);
      }
    }
    manta_value_free(v);
    manta_ref_release(refs[i]);
  }
  CHECK_INT_EQ(failed, 0);
  free(refs);
}

static const unsigned sizes[] = {2, 6, 16, 64};

/* A fresh runtime each time: the first burst, with workers still to be
 * started, is the one batching once held hostage. */
static void test_tasks_on_a_fresh_runtime_all_run_at_once(void) {
  for (size_t i = 0; i < sizeof sizes / sizeof *sizes; i++) {
    start(sizes[i]);
    meet_reset(sizes[i]);
    submit_and_check(sizes[i], 0, false, "fresh runtime");
    REQUIRE_OK(manta_shutdown());
  }
}

/* The function first runs many quick calls, so the runtime knows it as
 * short. Then 8N quick calls and N that wait for each other become ready
 * at once, a queue long enough to be taken in batches of several calls:
 * the N must still all run at once, idle workers taking batches over. */
static void test_batched_tasks_are_taken_over_by_idle_slots(void) {
  for (size_t i = 0; i < sizeof sizes / sizeof *sizes; i++) {
    start(sizes[i]);
    meet_reset(0);
    submit_and_check(0, 20000, false, "quick calls");
    meet_reset(sizes[i]);
    submit_and_check(sizes[i], 8 * sizes[i], true, "released at once");
    meet_reset(sizes[i]);
    submit_and_check(sizes[i], 0, false, "submitted one by one");
    REQUIRE_OK(manta_shutdown());
  }
}

/* An actor with max_concurrency N runs N calls at once. */
static void test_actor_calls_up_to_max_concurrency_run_at_once(void) {
  for (size_t i = 0; i < sizeof sizes / sizeof *sizes; i++) {
    unsigned n = sizes[i];
    start(2);
    manta_call_options *co;
    REQUIRE_OK(manta_call_options_new(&co));
    REQUIRE_OK(manta_call_options_set_max_concurrency(co, n));
    REQUIRE_OK(manta_call_options_set_num_cpus(co, 0));
    manta_actor a;
    REQUIRE_OK(manta_actor_create("Meeting", NULL, 0, co, &a));
    manta_call_options_free(co);
    meet_reset(n);
    manta_ref *refs = calloc(n, sizeof *refs);
    REQUIRE(refs);
    for (unsigned k = 0; k < n; k++) {
      REQUIRE_OK(manta_actor_call(a, "meet", NULL, 0, &refs[k]));
    }
    int failed = 0;
    for (unsigned k = 0; k < n; k++) {
      manta_value *v = NULL;
      manta_err err = manta_get(refs[k], (MEET_TIMEOUT_S + 30) * 1000, &v);
      if (err != MANTA_OK || manta_value_kind(v) != MANTA_KIND_INT) {
        if (failed++ == 0) {
          fprintf(stderr, "actor, max_concurrency %u: ", n);
          mt_test_print_value("call", (int)k, v);
        }
      }
      manta_value_free(v);
      manta_ref_release(refs[k]);
    }
    CHECK_INT_EQ(failed, 0);
    free(refs);
    manta_actor_release(a);
    REQUIRE_OK(manta_shutdown());
  }
}

/* N actors, one call each, made ready one after the other: each call gets
 * a worker of its own (a second ready actor once waited for the first
 * actor's whole call). The actors are built first, as long-lived ones
 * are when their calls come. */
static void test_separate_actors_run_their_calls_at_once(void) {
  for (size_t i = 0; i < sizeof sizes / sizeof *sizes; i++) {
    unsigned n = sizes[i];
    start(2);
    manta_actor *actors = calloc(n, sizeof *actors);
    manta_ref *refs = calloc(n, sizeof *refs);
    REQUIRE(actors && refs);
    meet_reset(1); /* built and called once, alone */
    for (unsigned k = 0; k < n; k++) {
      REQUIRE_OK(manta_actor_create("Meeting", NULL, 0, NULL, &actors[k]));
      manta_value *v = NULL;
      REQUIRE_OK(manta_actor_call(actors[k], "meet", NULL, 0, &refs[k]));
      CHECK_INT_EQ(manta_get(refs[k], MEET_TIMEOUT_S * 1000, &v), MANTA_OK);
      manta_value_free(v);
      manta_ref_release(refs[k]);
    }
    meet_reset(n);
    for (unsigned k = 0; k < n; k++) {
      REQUIRE_OK(manta_actor_call(actors[k], "meet", NULL, 0, &refs[k]));
    }
    int failed = 0;
    for (unsigned k = 0; k < n; k++) {
      manta_value *v = NULL;
      manta_err err = manta_get(refs[k], (MEET_TIMEOUT_S + 30) * 1000, &v);
      if ((err != MANTA_OK || manta_value_kind(v) != MANTA_KIND_INT) &&
          failed++ == 0) {
        fprintf(stderr, "%u separate actors: ", n);
        mt_test_print_value("call", (int)k, v);
      }
      manta_value_free(v);
      manta_ref_release(refs[k]);
      manta_actor_release(actors[k]);
    }
    CHECK_INT_EQ(failed, 0);
    free(refs);
    free(actors);
    REQUIRE_OK(manta_shutdown());
  }
}

int main(void) {
  RUN_TEST(test_tasks_on_a_fresh_runtime_all_run_at_once);
  RUN_TEST(test_batched_tasks_are_taken_over_by_idle_slots);
  RUN_TEST(test_actor_calls_up_to_max_concurrency_run_at_once);
  RUN_TEST(test_separate_actors_run_their_calls_at_once);
  return mt_test_done();
}
