/* The block cache for large payloads (runtime/base/bigalloc.c): a freed
 * block comes back for the next payload of its size, the block freed last
 * is kept when the cache must make room, and mt_big_copy copies exactly,
 * whatever the alignment and length. */
#include "bigalloc.h"
#include "test_util.h"

#include <string.h>

#define MIB ((size_t)1 << 20)

static void test_reuse(void) {
  mt_big_trim();
  size_t cap = 0, cap2 = 0;
  void *a = mt_big_alloc(7 * MIB, &cap);
  REQUIRE(a);
  CHECK(cap >= 7 * MIB);
  memset(a, 7, 7 * MIB);
  mt_big_free(a, cap);
  void *b = mt_big_alloc(7 * MIB + 1, &cap2);
  CHECK(b == a);
  CHECK_INT_EQ(cap2, cap);
  /* A request of under half the block does not take it. */
  mt_big_free(b, cap2);
  void *c = mt_big_alloc(1, &cap2);
  REQUIRE(c);
  CHECK(c != a);
  mt_big_free(c, cap2);
  mt_big_trim();
}

/* The cache holds at most 1 GiB: freeing a block that does not fit with
 * the others gives back the ones freed before it, and keeps it. */
static void test_newest_kept(void) {
  mt_big_trim();
  size_t small_cap, big_cap, cap;
  void *small = mt_big_alloc(64 * MIB, &small_cap);
  void *big = mt_big_alloc(1024 * MIB, &big_cap);
  REQUIRE(small && big);
  mt_big_free(small, small_cap);
  mt_big_free(big, big_cap);
  void *again = mt_big_alloc(1024 * MIB, &cap);
  CHECK(again == big);
  mt_big_free(again, cap);
  /* A block larger than the whole cache is never kept. */
  void *huge = mt_big_alloc(1024 * MIB + 1, &cap);
  REQUIRE(huge);
  mt_big_free(huge, cap);
  void *same = mt_big_alloc(1024 * MIB, &cap);
  CHECK(same == big);
  mt_big_free(same, cap);
  mt_big_trim();
}

static void test_copy(void) {
  size_t cap;
  uint8_t *dst = mt_big_alloc(2 * MIB, &cap);
  uint8_t *src = malloc(MIB + 64);
  REQUIRE(dst && src);
  for (size_t i = 0; i < MIB + 64; i++) {
    src[i] = (uint8_t)(i * 131 + (i >> 9));
  }
  static const size_t lens[] = {0,    1,    15,         63, 4095,
                                4096, 4097, 65536 + 17, MIB};
  for (size_t d = 0; d < 17; d += 5) {
    for (size_t s = 0; s < 17; s += 3) {
      for (size_t k = 0; k < sizeof lens / sizeof lens[0]; k++) {
        memset(dst, 0xee, lens[k] + 64);
        mt_big_copy(dst + d, src + s, lens[k]);
        CHECK(memcmp(dst + d, src + s, lens[k]) == 0);
        /* Not a byte beyond it. */
        CHECK(dst[d + lens[k]] == 0xee);
        CHECK(d == 0 || dst[d - 1] == 0xee);
      }
    }
  }
  free(src);
  mt_big_free(dst, cap);
}

int main(void) {
  RUN_TEST(test_reuse);
  RUN_TEST(test_newest_kept);
  RUN_TEST(test_copy);
  return mt_test_done();
}
