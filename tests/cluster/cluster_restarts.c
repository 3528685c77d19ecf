/*
 * The actor-restart phase of the cluster driver (run-actor-restart-test.sh):
 *
 *   actor_restart  an actor with max_restarts 1 and max_task_retries 1 on
 *                  one of two nodes offering its class; kill -9 of its node
 *                  mid-call: the call is sent again and answers, the actor
 *                  lives again on the other node with its constructor's
 *                  state, found by its name; a second kill -9 finds no
 *                  restart left: calls fail with
 *                  ACTOR_DEAD saying how many restarts were made
 */
#include "cluster_driver.h"

#include <signal.h>
#include <string.h>

/* Kills the node of pid with SIGKILL (the test's nodes only). */
static void kill_node(int64_t pid, const char *when) {
  printf("actor_restart: kill -9 of node pid %lld %s\n", (long long)pid, when);
  fflush(stdout);
  REQUIRE(pid > 1 && kill((pid_t)pid, SIGKILL) == 0);
}

static void test_restart_then_exhausted(void) {
  manta_call_options *o;
  REQUIRE_OK(manta_call_options_new(&o));
  CHECK_ERR(manta_call_options_set_max_restarts(o, -2), MANTA_ERR_INVALID);
  CHECK_ERR(manta_call_options_set_max_task_retries(o, -2), MANTA_ERR_INVALID);
  REQUIRE_OK(manta_call_options_set_max_restarts(o, 1));
  REQUIRE_OK(manta_call_options_set_max_task_retries(o, 1));
  REQUIRE_OK(manta_call_options_set_name(o, "phoenix"));
  manta_actor a = {0};
  manta_value *start = manta_int(100);
  REQUIRE_OK(manta_actor_create("Phoenix", (const manta_value *const *)&start,
                                1, o, &a));
  manta_value_free(start);
  manta_call_options_free(o);

  int64_t first = call_int(a, "pid", NULL, 0);
  CHECK_INT_EQ(call_int(a, "add", (manta_value *[]){manta_int(5)}, 1), 105);

  /* In flight when the node dies: sent again to the new instance. */
  manta_ref slow = mt_test_actor_call_async(
      a, "slow", (manta_value *[]){manta_int(1500)}, 1);
  mt_test_sleep_ms(300);
  kill_node(first, "mid-call (a restart left)");
  /* Made just after the kill: sent to the dead node and sent again, or
   * held until the actor is back; either way it runs on the new one. */
  manta_ref queued =
      mt_test_actor_call_async(a, "add", (manta_value *[]){manta_int(1)}, 1);
  manta_value *v = NULL;
  CHECK_OK(manta_get(slow, 30000, &v));
  CHECK_INT_EQ(mt_test_int(v), 1500);
  manta_value_free(v);
  v = NULL;
  /* The constructor ran again with its argument: the state restarted at
   * 100, not at the 105 the dead instance had. */
  CHECK_OK(manta_get(queued, 30000, &v));
  CHECK_INT_EQ(mt_test_int(v), 101);
  manta_value_free(v);
  manta_ref_release(slow);
  manta_ref_release(queued);
  int64_t second = call_int(a, "pid", NULL, 0);
  CHECK(second != first && second > 1);
  CHECK_INT_EQ(call_int(a, "get", NULL, 0), 101);
  printf("actor_restart: restarted from pid %lld on pid %lld\n",
         (long long)first, (long long)second);
  /* Its name names the new instance (the head may take a moment to hear). */
  manta_actor found = {0};
  manta_err look = MANTA_ERR_NOT_FOUND;
  for (int i = 0; i < 100; i++) {
    look = manta_actor_lookup("phoenix", &found);
    if (look == MANTA_OK) {
      if (call_int(found, "pid", NULL, 0) == second) {
        break;
      }
      manta_actor_release(found);
      look = MANTA_ERR_NOT_FOUND;
    }
    mt_test_sleep_ms(100);
  }
  CHECK_OK(look);
  if (look == MANTA_OK) {
    CHECK_INT_EQ(call_int(found, "get", NULL, 0), 101);
    manta_actor_release(found);
  }

  /* The second death: no restart is left, so the call in flight fails too
   * (a retry needs an actor to go to), and so does every later call. */
  slow = mt_test_actor_call_async(a, "slow", (manta_value *[]){manta_int(1500)},
                                  1);
  mt_test_sleep_ms(300);
  kill_node(second, "mid-call (no restart left)");
  v = NULL;
  manta_err err = manta_get(slow, 30000, &v);
  CHECK_ERR(err, MANTA_ERR_ACTOR_DEAD);
  manta_value_free(v);
  manta_ref_release(slow);
  int said = 0;
  for (int i = 0; i < 100 && !said; i++) {
    v = mt_test_actor_call_get(a, "get", NULL, 0, 30000);
    REQUIRE(manta_value_kind(v) == MANTA_KIND_ERROR);
    CHECK_ERR(manta_error_code(v), MANTA_ERR_ACTOR_DEAD);
    said = strstr(manta_error_message(v),
                  "restarted 1 time, no restart left") != NULL;
    if (!said && i == 99) {
      mt_test_print_value("last call", i, v);
    }
    manta_value_free(v);
    if (!said) {
      mt_test_sleep_ms(100);
    }
  }
  CHECK(said);
  manta_actor_release(a);
}

int cluster_restart_phase(const char *phase) {
  if (strcmp(phase, "actor_restart") == 0) {
    RUN_TEST(test_restart_then_exhausted);
    return 1;
  }
  return 0;
}
