/* The string map (runtime/base/strmap.c): keys copied, duplicates refused,
 * growth, removal, iteration, and reuse after many removals. */
#include "strmap.h"
#include "test_util.h"

#include <string.h>

static void *val_of(int i) {
  return (void *)(uintptr_t)(i * 2 + 1);
}

static void key_of(char *buf, size_t n, int i) {
  snprintf(buf, n, "fn.%d", i);
}

/* The map keeps its own copy of a key: the caller's buffer may change. */
static void copies_keys(void) {
  mt_strmap m;
  mt_strmap_init(&m);
  char buf[32] = "square";
  bool oom = true;
  CHECK(mt_strmap_insert(&m, buf, val_of(1), &oom));
  CHECK(!oom);
  strcpy(buf, "cube");
  CHECK(mt_strmap_get(&m, "square") == val_of(1));
  CHECK(mt_strmap_get(&m, "cube") == NULL);
  CHECK(mt_strmap_get(&m, "") == NULL);
  mt_strmap_destroy(&m);
}

/* A second insert of a key is refused (not an out-of-memory) and leaves
 * the first value: registries must not be overwritten silently. */
static void refuses_duplicates(void) {
  mt_strmap m;
  mt_strmap_init(&m);
  bool oom = true;
  CHECK(mt_strmap_insert(&m, "a", val_of(1), NULL));
  CHECK(!mt_strmap_insert(&m, "a", val_of(2), &oom));
  CHECK(!oom);
  CHECK(mt_strmap_get(&m, "a") == val_of(1));
  CHECK_INT_EQ(m.len, 1);
  mt_strmap_destroy(&m);
}

/* 20k keys through many doublings; then every other one removed, the
 * rest still found, the removed ones gone and insertable again. */
static void grows_and_removes(void) {
  mt_strmap m;
  mt_strmap_init(&m);
  char k[32];
  const int n = 20000;
  for (int i = 0; i < n; i++) {
    key_of(k, sizeof k, i);
    REQUIRE(mt_strmap_insert(&m, k, val_of(i), NULL));
  }
  CHECK_INT_EQ(m.len, n);
  for (int i = 0; i < n; i += 2) {
    key_of(k, sizeof k, i);
    CHECK(mt_strmap_remove(&m, k) == val_of(i));
    CHECK(mt_strmap_remove(&m, k) == NULL);
  }
  for (int i = 0; i < n; i++) {
    key_of(k, sizeof k, i);
    CHECK(mt_strmap_get(&m, k) == (i % 2 ? val_of(i) : NULL));
  }
  key_of(k, sizeof k, 4);
  CHECK(mt_strmap_insert(&m, k, val_of(44), NULL));
  CHECK(mt_strmap_get(&m, k) == val_of(44));
  CHECK_INT_EQ(m.len, n / 2 + 1);
  mt_strmap_destroy(&m);
  CHECK(m.cap == 0 && m.len == 0);
}

/* Named actors come and go: the table is rebuilt at the same size when
 * tombstones fill it, so it stays small and every probe ends. */
static void churn_stays_small(void) {
  mt_strmap m;
  mt_strmap_init(&m);
  char k[32];
  for (int i = 0; i < 50000; i++) {
    key_of(k, sizeof k, i);
    REQUIRE(mt_strmap_insert(&m, k, val_of(i), NULL));
    if (i >= 4) {
      key_of(k, sizeof k, i - 4);
      CHECK(mt_strmap_remove(&m, k) == val_of(i - 4));
    }
  }
  CHECK_INT_EQ(m.len, 4);
  CHECK(m.cap <= 32);
  CHECK(mt_strmap_get(&m, "fn.49999") == val_of(49999));
  CHECK(mt_strmap_get(&m, "fn.0") == NULL);
  mt_strmap_destroy(&m);
}

/* Iteration gives each key once, with its value. */
static void iterates(void) {
  mt_strmap m;
  mt_strmap_init(&m);
  char k[32];
  const int n = 500;
  for (int i = 0; i < n; i++) {
    key_of(k, sizeof k, i);
    REQUIRE(mt_strmap_insert(&m, k, val_of(i), NULL));
  }
  static unsigned char seen[500];
  size_t pos = 0;
  const char *key;
  void *v;
  int count = 0;
  while (mt_strmap_next(&m, &pos, &key, &v)) {
    int i = -1;
    REQUIRE(sscanf(key, "fn.%d", &i) == 1 && i >= 0 && i < n);
    CHECK(v == val_of(i));
    seen[i]++;
    count++;
  }
  CHECK_INT_EQ(count, n);
  for (int i = 0; i < n; i++) {
    CHECK_INT_EQ(seen[i], 1);
  }
  mt_strmap_destroy(&m);
}

int main(void) {
  RUN_TEST(copies_keys);
  RUN_TEST(refuses_duplicates);
  RUN_TEST(grows_and_removes);
  RUN_TEST(churn_stays_small);
  RUN_TEST(iterates);
  return mt_test_done();
}
