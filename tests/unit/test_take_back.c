/* Taking back a task not started (the receiving half of task handoff,
 * docs/scheduling.md, "Handing a task back") on the embedded runtime with
 * one CPU slot: a task queued behind the busy slot waits for a slot and
 * is taken back, its ref resolving to the error given, and it never runs;
 * the running task is not waiting and cannot be taken back; the queue
 * counts return to zero. */
#include "rt.h"
#include "test_util.h"

#include <stdatomic.h>
#include <string.h>

static _Atomic int gate_started, gate_open, queued_ran;

/* Holds the slot until the test opens the gate (30 s at most). */
static manta_value *gate(const manta_value *const *a, size_t n, void *u) {
  (void)a, (void)n, (void)u;
  atomic_store(&gate_started, 1);
  for (int i = 0; i < 30000 && !atomic_load(&gate_open); i++) {
    mt_test_sleep_ms(1);
  }
  return manta_int(1);
}

static manta_value *queued(const manta_value *const *a, size_t n, void *u) {
  (void)a, (void)n, (void)u;
  atomic_store(&queued_ran, 1);
  return manta_int(2);
}

static bool started(void *arg) {
  (void)arg;
  return atomic_load(&gate_started) != 0;
}

static void test_take_back_queued(void) {
  REQUIRE_OK(manta_register_function("gate", gate, 0, NULL));
  REQUIRE_OK(manta_register_function("queued", queued, 0, NULL));
  manta_ref running, waiting;
  REQUIRE_OK(manta_submit("gate", NULL, 0, NULL, &running));
  REQUIRE(mt_test_wait_until(started, NULL, 30000));
  REQUIRE_OK(manta_submit("queued", NULL, 0, NULL, &waiting));

  mt_garbage g;
  mt_garbage_init(&g);
  mt_lock();
  mt_object *ro = mt_obj_lookup_locked(running.id);
  mt_object *wo = mt_obj_lookup_locked(waiting.id);
  REQUIRE(ro && ro->task && wo && wo->task);
  CHECK(!mt_task_waits_for_slot_locked(ro->task)); /* it runs */
  CHECK(!mt_task_take_back_locked(
      ro->task, mt_error_new(MANTA_ERR_CANCELLED, "test", "not this one"), &g));
  CHECK(mt_task_waits_for_slot_locked(wo->task));
  CHECK(mt_task_take_back_locked(
      wo->task, mt_error_new(MANTA_ERR_CANCELLED, "test", "taken back"), &g));
  CHECK(wo->task == NULL);
  CHECK_INT_EQ(mt_rt.tasks_queued, 0);
  mt_unlock();
  mt_garbage_free(&g);

  manta_value *v = mt_test_take(waiting, 5000);
  mt_test_check_error(v, MANTA_ERR_CANCELLED, "taken back");
  manta_value_free(v);

  atomic_store(&gate_open, 1);
  CHECK_INT_EQ(mt_test_take_int(running), 1);
  CHECK(!atomic_load(&queued_ran)); /* taken back: it never ran here */
  mt_lock();
  CHECK_INT_EQ(mt_rt.tasks_queued + mt_rt.tasks_running, 0);
  mt_unlock();
}

int main(void) {
  manta_options *o;
  REQUIRE_OK(manta_options_new(&o));
  REQUIRE_OK(manta_options_set_num_cpus(o, 1));
  REQUIRE_OK(manta_init(o));
  manta_options_free(o);
  RUN_TEST(test_take_back_queued);
  manta_shutdown();
  return mt_test_done();
}
