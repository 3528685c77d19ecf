/* The runtime's /metrics snapshot (runtime/core/metrics.c) on the embedded
 * runtime: actors counted by class and state as they go from pending
 * (constructor still running) to alive to dead (killed, a handle still
 * held) to gone; a function's running tasks and retries (retry_exceptions);
 * the object counts of a node with no cluster (nothing
 * borrowed, lent or in transfer). */
#include "metrics.h"
#include "test_util.h"

#include <stdatomic.h>
#include <string.h>

static atomic_bool gate;

/* Holds the constructor until the test opens the gate (10 s at most). */
static void *slow_new(const manta_value *const *args, size_t n, void *cd,
                      manta_value **error) {
  (void)args, (void)n, (void)cd, (void)error;
  for (int i = 0; i < 10000 && !atomic_load(&gate); i++) {
    mt_test_sleep_ms(1);
  }
  return NULL;
}

static manta_value *ping(void *state, const manta_value *const *args, size_t n,
                         void *md) {
  (void)state, (void)args, (void)n, (void)md;
  return manta_int(1);
}

/* The counts of class cls in a fresh snapshot. */
static void counts(const char *cls, int64_t *pending, int64_t *alive,
                   int64_t *dead) {
  mt_metrics m;
  REQUIRE(mt_metrics_collect(&m));
  *pending = *alive = *dead = -1;
  for (size_t i = 0; i < m.nclasses; i++) {
    if (strcmp(m.classes[i].name, cls) == 0) {
      *pending = m.classes[i].pending;
      *alive = m.classes[i].alive;
      *dead = m.classes[i].dead;
    }
  }
  CHECK(m.objects_borrowed == 0 && m.objects_lent == 0 &&
        m.objects_in_transfer == 0);
  mt_metrics_free(&m);
}

typedef struct want {
  int64_t pending, alive, dead;
} want;

static bool reached(void *arg) {
  const want *w = arg;
  int64_t p, a, d;
  counts("Slow", &p, &a, &d);
  return p == w->pending && a == w->alive && d == w->dead;
}

static void test_actor_states(void) {
  REQUIRE_OK(manta_init(NULL));
  REQUIRE_OK(manta_register_class("Slow", slow_new, NULL, NULL));
  REQUIRE_OK(manta_register_method("Slow", "ping", ping, 0, NULL));
  int64_t p, a, d;
  counts("Slow", &p, &a, &d);
  CHECK(p == 0 && a == 0 && d == 0);

  atomic_store(&gate, false);
  manta_actor actor;
  REQUIRE_OK(manta_actor_create("Slow", NULL, 0, NULL, &actor));
  /* The constructor holds: pending. */
  CHECK(mt_test_wait_until(reached, &(want){1, 0, 0}, 10000));
  atomic_store(&gate, true);
  manta_value *v = mt_test_actor_call_get(actor, "ping", NULL, 0, 10000);
  CHECK(mt_test_int(v) == 1);
  manta_value_free(v);
  CHECK(mt_test_wait_until(reached, &(want){0, 1, 0}, 10000));
  /* Killed while this handle still names it: dead. */
  CHECK_OK(manta_actor_kill(actor));
  CHECK(mt_test_wait_until(reached, &(want){0, 0, 1}, 10000));
  /* The last handle gone: not counted at all. */
  CHECK_OK(manta_actor_release(actor));
  CHECK(mt_test_wait_until(reached, &(want){0, 0, 0}, 10000));
  manta_shutdown();
}

static atomic_int failures_left;

/* Fails until failures_left runs out, then answers 7. */
static manta_value *flaky(const manta_value *const *args, size_t n, void *u) {
  (void)args, (void)n, (void)u;
  if (atomic_fetch_sub(&failures_left, 1) > 0) {
    return manta_error(MANTA_ERR_TASK_FAILED, "not yet");
  }
  return manta_int(7);
}

/* Holds its worker until the gate opens (10 s at most). */
static manta_value *hold(const manta_value *const *args, size_t n, void *u) {
  (void)args, (void)n, (void)u;
  for (int i = 0; i < 10000 && !atomic_load(&gate); i++) {
    mt_test_sleep_ms(1);
  }
  return manta_int(1);
}

/* The function's stats in a fresh snapshot. */
static mt_fn_stats fn_stats(const char *name) {
  mt_metrics m;
  mt_fn_stats st = {0};
  REQUIRE(mt_metrics_collect(&m));
  for (size_t i = 0; i < m.nfns; i++) {
    if (strcmp(m.fns[i].name, name) == 0) {
      st = m.fns[i].st;
    }
  }
  mt_metrics_free(&m);
  return st;
}

static bool hold_running(void *arg) {
  return fn_stats("hold").running == *(int64_t *)arg;
}

static void test_function_running_and_retried(void) {
  REQUIRE_OK(manta_init(NULL));
  REQUIRE_OK(manta_register_function("flaky", flaky, 0, NULL));
  REQUIRE_OK(manta_register_function("hold", hold, 0, NULL));
  /* Two failures, retried: the third run answers. */
  atomic_store(&failures_left, 2);
  manta_call_options *o = NULL;
  REQUIRE_OK(manta_call_options_new(&o));
  CHECK_OK(manta_call_options_set_retry_exceptions(o, 1));
  manta_ref r;
  REQUIRE_OK(manta_submit("flaky", NULL, 0, o, &r));
  CHECK(mt_test_take_int(r) == 7);
  manta_call_options_free(o);
  CHECK(fn_stats("flaky").retried == 2);
  CHECK(fn_stats("hold").retried == 0);
  /* A held task runs: counted until it finishes. */
  atomic_store(&gate, false);
  REQUIRE_OK(manta_submit("hold", NULL, 0, NULL, &r));
  int64_t one = 1, none = 0;
  CHECK(mt_test_wait_until(hold_running, &one, 10000));
  atomic_store(&gate, true);
  CHECK(mt_test_take_int(r) == 1);
  CHECK(mt_test_wait_until(hold_running, &none, 10000));
  manta_shutdown();
}

int main(void) {
  RUN_TEST(test_actor_states);
  RUN_TEST(test_function_running_and_retried);
  return mt_test_done();
}
