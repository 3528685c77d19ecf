/*
 * The partition phase of the cluster driver (tests/chaos/
 * run-partition-test.sh): node a and node p (pid MANTA_TEST_CUT_PID, in a
 * network namespace of its own) offer the functions.
 *
 *   partition  eight 1.5 s tasks spread over a and p; the script cuts p's
 *              link as soon as they are sent ("submitted"): every task
 *              answers with its own value, those on p run again on a
 *              (tasks retried); then ("round1") the script heals the link
 *              and says so ("healed") once the head lists p alive: p runs
 *              tasks again.
 *
 * The handshake goes through files in MANTA_TEST_SYNC_DIR, each wait
 * bounded.
 */
#include "cluster_driver.h"

#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#define ROUND 8

static void sync_write(const char *dir, const char *name) {
  char path[4096];
  snprintf(path, sizeof path, "%s/%s", dir, name);
  FILE *f = fopen(path, "w");
  REQUIRE(f != NULL);
  fclose(f);
}

static void sync_wait(const char *dir, const char *name) {
  char path[4096];
  struct stat st;
  snprintf(path, sizeof path, "%s/%s", dir, name);
  int i = 0;
  for (; i < 1800 && stat(path, &st) != 0; i++) {
    mt_test_sleep_ms(50);
  }
  REQUIRE(i < 1800); /* 90 s */
}

static manta_call_options *spread(void) {
  manta_call_options *o;
  REQUIRE_OK(manta_call_options_new(&o));
  REQUIRE_OK(manta_call_options_set_strategy(o, MANTA_STRATEGY_SPREAD));
  return o;
}

static void test_partition(void) {
  const char *dir = getenv("MANTA_TEST_SYNC_DIR");
  const char *cut = getenv("MANTA_TEST_CUT_PID");
  REQUIRE(dir && cut);
  int64_t p_pid = atoll(cut);
  manta_call_options *o = spread();
  int64_t retried_before = 0;
  REQUIRE_OK(manta_stat_get(MANTA_STAT_TASKS_RETRIED, &retried_before));

  /* Round 1: half of it on p when p is cut off. */
  manta_ref refs[ROUND];
  for (int i = 0; i < ROUND; i++) {
    manta_value *args[2] = {manta_int(1500), manta_int(1000 + i)};
    REQUIRE_OK(manta_submit("sleep_then", (const manta_value *const *)args, 2,
                            o, &refs[i]));
    manta_value_free(args[0]);
    manta_value_free(args[1]);
  }
  sync_write(dir, "submitted");
  int on_p = 0;
  for (int i = 0; i < ROUND; i++) {
    manta_value *v = mt_test_take(refs[i], 60000);
    const manta_value *value, *pid;
    if (manta_list_at(v, 0, &value) != MANTA_OK ||
        manta_list_at(v, 1, &pid) != MANTA_OK) {
      mt_test_print_value("round 1", i, v);
      CHECK(0);
    } else {
      CHECK_INT_EQ(mt_test_int(value), 1000 + i);
      on_p += mt_test_int(pid) == p_pid;
    }
    manta_value_free(v);
  }
  int64_t retried = 0;
  REQUIRE_OK(manta_stat_get(MANTA_STAT_TASKS_RETRIED, &retried));
  printf("partition: round 1 right; %lld tasks ran again after p was cut "
         "off, %d answered from p\n",
         (long long)(retried - retried_before), on_p);
  /* SPREAD sent half to p; its answers cannot cross the cut. */
  CHECK(retried - retried_before >= 1);
  sync_write(dir, "round1");

  /* Round 2: p is back (the head lists it alive); this driver's view
   * follows within a heartbeat or so, then SPREAD reaches p again. */
  sync_wait(dir, "healed");
  bool p_ran = false;
  for (int round = 0; round < 100 && !p_ran; round++) {
    manta_ref r[ROUND];
    for (int i = 0; i < ROUND; i++) {
      REQUIRE_OK(manta_submit("where", NULL, 0, o, &r[i]));
    }
    for (int i = 0; i < ROUND; i++) {
      p_ran |= mt_test_take_int(r[i]) == p_pid;
    }
    if (!p_ran) {
      mt_test_sleep_ms(200);
    }
  }
  printf("partition: p %s tasks after the link came back\n",
         p_ran ? "runs" : "does not run");
  CHECK(p_ran);
  manta_call_options_free(o);
}

int cluster_partition_phase(const char *phase) {
  if (strcmp(phase, "partition") != 0) {
    return 0;
  }
  RUN_TEST(test_partition);
  return 1;
}
