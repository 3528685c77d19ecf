/* The id map (runtime/base/u64map.c): growth, replacement, removal with
 * tombstones, iteration, and reuse after many removals. */
#include "test_util.h"
#include "u64map.h"

static void *val_of(uint64_t k) {
  return (void *)(uintptr_t)(k * 2 + 1);
}

/* A zeroed map is empty; lookups and removals on it are safe. */
static void empty(void) {
  mt_u64map m = {0};
  CHECK(mt_u64map_get(&m, 7) == NULL);
  CHECK(mt_u64map_remove(&m, 7) == NULL);
  size_t pos = 0;
  uint64_t k;
  void *v;
  CHECK(!mt_u64map_next(&m, &pos, &k, &v));
  mt_u64map_free(&m);
}

/* 100k ids through many doublings, each found with its value; ids that
 * differ only in high bits (like node-prefixed ids) too. */
static void grows(void) {
  mt_u64map m = {0};
  const uint64_t n = 100000;
  for (uint64_t i = 1; i <= n; i++) {
    REQUIRE(mt_u64map_put(&m, i << 32, val_of(i)));
  }
  CHECK_INT_EQ(m.len, n);
  CHECK(m.len * 4 <= m.cap * 3);
  for (uint64_t i = 1; i <= n; i++) {
    CHECK(mt_u64map_get(&m, i << 32) == val_of(i));
  }
  CHECK(mt_u64map_get(&m, (n + 1) << 32) == NULL);
  CHECK(mt_u64map_get(&m, 1) == NULL);
  mt_u64map_free(&m);
  CHECK(m.cap == 0 && m.len == 0 && m.keys == NULL);
}

/* Putting a key again replaces its value and does not count it twice. */
static void replaces(void) {
  mt_u64map m = {0};
  REQUIRE(mt_u64map_put(&m, 5, val_of(1)));
  REQUIRE(mt_u64map_put(&m, 5, val_of(2)));
  CHECK_INT_EQ(m.len, 1);
  CHECK(mt_u64map_get(&m, 5) == val_of(2));
  mt_u64map_free(&m);
}

/* Removing returns the value once; keys behind a removed one in a probe
 * run are still found (the tombstone keeps the run). */
static void removes(void) {
  mt_u64map m = {0};
  for (uint64_t i = 1; i <= 1000; i++) {
    REQUIRE(mt_u64map_put(&m, i, val_of(i)));
  }
  for (uint64_t i = 1; i <= 1000; i += 2) {
    CHECK(mt_u64map_remove(&m, i) == val_of(i));
    CHECK(mt_u64map_remove(&m, i) == NULL);
  }
  CHECK_INT_EQ(m.len, 500);
  for (uint64_t i = 1; i <= 1000; i++) {
    CHECK(mt_u64map_get(&m, i) == (i % 2 ? NULL : val_of(i)));
  }
  /* A removed key can come back. */
  REQUIRE(mt_u64map_put(&m, 3, val_of(33)));
  CHECK(mt_u64map_get(&m, 3) == val_of(33));
  CHECK_INT_EQ(m.len, 501);
  mt_u64map_free(&m);
}

/* Tasks in flight: ids come and go forever while few are present. The
 * table must not grow without end (tombstones are cleared by rehashing
 * at the same size), and every probe must still end. */
static void churn_stays_small(void) {
  mt_u64map m = {0};
  for (uint64_t i = 1; i <= 200000; i++) {
    REQUIRE(mt_u64map_put(&m, i, val_of(i)));
    if (i > 8) {
      CHECK(mt_u64map_remove(&m, i - 8) == val_of(i - 8));
    }
  }
  CHECK_INT_EQ(m.len, 8);
  CHECK(m.cap <= 64);
  CHECK(mt_u64map_get(&m, 200000) == val_of(200000));
  CHECK(mt_u64map_get(&m, 12345) == NULL);
  mt_u64map_free(&m);
}

/* Iteration visits each present key once with its value, and removing
 * the key just visited is allowed (how fail-over drains a peer). */
static void iterates(void) {
  mt_u64map m = {0};
  const uint64_t n = 3000;
  for (uint64_t i = 1; i <= n; i++) {
    REQUIRE(mt_u64map_put(&m, i * 7919, val_of(i)));
  }
  for (uint64_t i = 1; i <= n; i += 3) {
    mt_u64map_remove(&m, i * 7919);
  }
  static unsigned char seen[3001];
  size_t pos = 0, count = 0;
  uint64_t k;
  void *v;
  while (mt_u64map_next(&m, &pos, &k, &v)) {
    uint64_t i = k / 7919;
    REQUIRE(k % 7919 == 0 && i >= 1 && i <= n);
    CHECK(v == val_of(i));
    CHECK(i % 3 != 1);
    seen[i]++;
    count++;
    CHECK(mt_u64map_remove(&m, k) == v);
  }
  CHECK_INT_EQ(count, n - 1000);
  for (uint64_t i = 1; i <= n; i++) {
    CHECK_INT_EQ(seen[i], i % 3 == 1 ? 0 : 1);
  }
  CHECK_INT_EQ(m.len, 0);
  mt_u64map_free(&m);
}

int main(void) {
  RUN_TEST(empty);
  RUN_TEST(grows);
  RUN_TEST(replaces);
  RUN_TEST(removes);
  RUN_TEST(churn_stays_small);
  RUN_TEST(iterates);
  return mt_test_done();
}
