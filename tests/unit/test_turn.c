/* The round-robin turn (runtime/base/turn.c) behind SPREAD: every id gets
 * its share in id order, ids not eligible are skipped, an extra candidate
 * (this node) takes its place in the order, several turns share one order,
 * and a run of takes looks at one id each, whatever the size of the set. */
#include "test_util.h"
#include "turn.h"

#include <stdlib.h>

static bool all_ok(uint64_t id, void *arg) {
  (void)id, (void)arg;
  return true;
}

/* Eligible unless it is the id in *arg. */
static bool not_this(uint64_t id, void *arg) {
  return id != *(uint64_t *)arg;
}

static void build(mt_turn *t, const uint64_t *ids, size_t n) {
  mt_turn_clear(t);
  for (size_t i = 0; i < n; i++) {
    REQUIRE(mt_turn_add(t, ids[i]));
  }
  mt_turn_sort(t);
}

/* 100 takes over 4 ids: 25 each, in id order, whatever order they were
 * added in. */
static void shares_evenly(void) {
  mt_turn t = {0};
  const uint64_t ids[] = {0xd000, 0x0a00, 0xffff000000000000ull, 0x0b00};
  build(&t, ids, 4);
  uint64_t last = 0;
  int counts[4] = {0};
  uint64_t order[4];
  for (int i = 0; i < 100; i++) {
    uint64_t id = mt_turn_next(&t, last, 0, all_ok, NULL, NULL);
    if (i < 4) {
      order[i] = id;
    }
    for (int k = 0; k < 4; k++) {
      counts[k] += ids[k] == id;
    }
    last = id;
  }
  for (int k = 0; k < 4; k++) {
    CHECK_INT_EQ(counts[k], 25);
  }
  CHECK(order[0] == 0x0a00 && order[1] == 0x0b00 && order[2] == 0xd000 &&
        order[3] == 0xffff000000000000ull);
  mt_turn_free(&t);
}

/* An id that may not be taken now is skipped; the turn goes on after the
 * one taken. */
static void skips_ineligible(void) {
  mt_turn t = {0};
  const uint64_t ids[] = {10, 20, 30};
  build(&t, ids, 3);
  uint64_t down = 20;
  CHECK_INT_EQ(mt_turn_next(&t, 10, 0, not_this, &down, NULL), 30);
  CHECK_INT_EQ(mt_turn_next(&t, 30, 0, not_this, &down, NULL), 10);
  down = 0;
  CHECK_INT_EQ(mt_turn_next(&t, 10, 0, not_this, &down, NULL), 20);
  /* None eligible, no extra: 0. */
  const uint64_t one[] = {5};
  build(&t, one, 1);
  down = 5;
  CHECK_INT_EQ(mt_turn_next(&t, 0, 0, not_this, &down, NULL), 0);
  /* An empty set gives the extra, or nothing. */
  mt_turn_clear(&t);
  CHECK_INT_EQ(mt_turn_next(&t, 0, 7, all_ok, NULL, NULL), 7);
  CHECK_INT_EQ(mt_turn_next(&t, 7, 0, all_ok, NULL, NULL), 0);
  mt_turn_free(&t);
}

/* The extra candidate (this node) takes its turn in id order: 100 takes
 * over 3 ids and the extra give 25 each. */
static void extra_takes_its_turn(void) {
  mt_turn t = {0};
  const uint64_t ids[] = {100, 300, 400};
  build(&t, ids, 3);
  uint64_t last = 0;
  int extra = 0, others = 0;
  for (int i = 0; i < 100; i++) {
    uint64_t id = mt_turn_next(&t, last, 200, all_ok, NULL, NULL);
    CHECK(id == 100 || id == 200 || id == 300 || id == 400);
    if (i == 1) {
      CHECK_INT_EQ(id, 200); /* between 100 and 300 */
    }
    extra += id == 200;
    others += id != 200;
    last = id;
  }
  CHECK_INT_EQ(extra, 25);
  CHECK_INT_EQ(others, 75);
  /* Every id of the set not eligible: the extra. */
  uint64_t down = 100;
  const uint64_t one[] = {100};
  build(&t, one, 1);
  CHECK_INT_EQ(mt_turn_next(&t, 0, 200, not_this, &down, NULL), 200);
  mt_turn_free(&t);
}

/* Two turns (two functions) over the same ids share one order: taken
 * alternately, they still hand the ids out in turn. */
static void turns_share_an_order(void) {
  mt_turn f = {0}, g = {0};
  const uint64_t ids[] = {1, 2, 3, 4};
  build(&f, ids, 4);
  build(&g, ids, 4);
  uint64_t last = 0;
  for (int i = 0; i < 40; i++) {
    uint64_t id = mt_turn_next(i % 2 ? &g : &f, last, 0, all_ok, NULL, NULL);
    CHECK_INT_EQ(id, (uint64_t)(i % 4 + 1));
    last = id;
  }
  mt_turn_free(&f);
  mt_turn_free(&g);
}

/* 10,000 takes over 250 ids look at one id each (no scan of the set). */
static void one_probe_per_take(void) {
  mt_turn t = {0};
  for (uint64_t i = 1; i <= 250; i++) {
    REQUIRE(mt_turn_add(&t, i * 0x9e3779b97f4a7c15ull));
  }
  mt_turn_sort(&t);
  uint64_t last = 0;
  size_t probes = 0, total = 0;
  for (int i = 0; i < 10000; i++) {
    last = mt_turn_next(&t, last, 0, all_ok, NULL, &probes);
    total += probes;
  }
  CHECK_INT_EQ(total, 10000);
  mt_turn_free(&t);
}

int main(void) {
  RUN_TEST(shares_evenly);
  RUN_TEST(skips_ineligible);
  RUN_TEST(extra_takes_its_turn);
  RUN_TEST(turns_share_an_order);
  RUN_TEST(one_probe_per_take);
  return mt_test_done();
}
