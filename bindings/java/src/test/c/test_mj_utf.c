/* The glue's UTF-8 <-> UTF-16 conversion: round trips, supplementary
 * characters, NUL, and replacement of what cannot be encoded. */
#include "mj_utf.h"
#include "test_util.h"

#include <string.h>

static size_t to16(const char *s, size_t len, uint16_t *out) {
  return mj_utf8_to_utf16(s, len, out);
}

static void test_round_trip(void) {
  static const char s[] = "a\xc3\xa9\xe2\x82\xac\xf0\x9f\x98\x80\0z";
  uint16_t u[32];
  size_t n = to16(s, sizeof s - 1, u);
  CHECK_INT_EQ(n, 7); /* a, e-acute, euro, surrogate pair, NUL, z */
  CHECK_INT_EQ(u[0], 'a');
  CHECK_INT_EQ(u[1], 0xE9);
  CHECK_INT_EQ(u[2], 0x20AC);
  CHECK_INT_EQ(u[3], 0xD83D);
  CHECK_INT_EQ(u[4], 0xDE00);
  CHECK_INT_EQ(u[5], 0);
  char back[64];
  size_t len = mj_utf16_to_utf8(u, n, back);
  CHECK_INT_EQ(len, sizeof s - 1);
  CHECK(memcmp(back, s, len) == 0);
}

static void test_unpaired_surrogates(void) {
  uint16_t u[] = {0xD800, 'x', 0xDC00, 0xD83D};
  char out[16];
  size_t len = mj_utf16_to_utf8(u, 4, out);
  CHECK_INT_EQ(len, 10);
  CHECK(memcmp(out, "\xef\xbf\xbdx\xef\xbf\xbd\xef\xbf\xbd", 10) == 0);
}

static void test_invalid_utf8(void) {
  uint16_t u[32];
  /* A stray continuation byte, an overlong NUL, a truncated 3-byte
   * sequence before 'b', an encoded surrogate, a code point past
   * U+10FFFF, and a truncated sequence at the end. */
  static const char s[] = "\x80"
                          "a"
                          "\xc0\x80"
                          "\xe2\x82"
                          "b"
                          "\xed\xa0\x80"
                          "\xf4\x90\x80\x80"
                          "\xf0\x9f";
  size_t n = to16(s, sizeof s - 1, u);
  uint16_t want[] = {0xFFFD, 'a',    0xFFFD, 0xFFFD, 0xFFFD, 'b',    0xFFFD,
                     0xFFFD, 0xFFFD, 0xFFFD, 0xFFFD, 0xFFFD, 0xFFFD, 0xFFFD};
  CHECK_INT_EQ(n, sizeof want / sizeof want[0]);
  for (size_t i = 0; i < n && i < sizeof want / sizeof want[0]; i++) {
    if (u[i] != want[i]) {
      fprintf(stderr, "unit %zu: %04x, expected %04x\n", i, u[i], want[i]);
      CHECK(u[i] == want[i]);
    }
  }
}

static void test_every_code_point(void) {
  /* Every scalar value encodes and decodes back to itself. */
  for (uint32_t c = 0; c <= 0x10FFFF; c++) {
    if (c >= 0xD800 && c <= 0xDFFF) {
      continue;
    }
    uint16_t u[2], back[4];
    size_t n = 1;
    if (c >= 0x10000) {
      u[0] = (uint16_t)(0xD800 + ((c - 0x10000) >> 10));
      u[1] = (uint16_t)(0xDC00 + ((c - 0x10000) & 0x3FF));
      n = 2;
    } else {
      u[0] = (uint16_t)c;
    }
    char s[8];
    size_t len = mj_utf16_to_utf8(u, n, s);
    size_t m = to16(s, len, back);
    if (m != n || back[0] != u[0] || (n == 2 && back[1] != u[1])) {
      fprintf(stderr, "U+%04X does not round-trip\n", (unsigned)c);
      CHECK(0);
      return;
    }
  }
  CHECK(1);
}

static void test_plain_ascii(void) {
  CHECK(mj_utf8_is_plain_ascii("hello", 5));
  CHECK(mj_utf8_is_plain_ascii("", 0));
  CHECK(!mj_utf8_is_plain_ascii("a\0b", 3));
  CHECK(!mj_utf8_is_plain_ascii("\xc3\xa9", 2));
}

int main(void) {
  RUN_TEST(test_round_trip);
  RUN_TEST(test_unpaired_surrogates);
  RUN_TEST(test_invalid_utf8);
  RUN_TEST(test_every_code_point);
  RUN_TEST(test_plain_ascii);
  return mt_test_done();
}
