/* FetchObject's hand-made framing (runtime/cluster/chunk.c): the headers
 * written and read back, layouts left to protobuf-c, and the sink that
 * assembles chunks into the fetched value, with every way a sender can get
 * the chunks wrong ending in a clear error and no leak. */
#include "cluster.h"
#include "test_util.h"

#include <string.h>

static void test_chunk_head(void) {
  static const uint64_t totals[] = {
      0, 1, 127, 128, 1u << 20, (uint64_t)1 << 35, UINT64_MAX};
  for (size_t i = 0; i < sizeof totals / sizeof totals[0]; i++) {
    uint8_t b[MT_CHUNK_HEAD_MAX + 300];
    size_t n = mt_chunk_head_put(b, totals[i], 300);
    CHECK(n <= MT_CHUNK_HEAD_MAX);
    uint64_t total = 0;
    size_t at = 0;
    CHECK(mt_chunk_head_get(b, n, n + 300, &total, &at));
    CHECK(total == totals[i]);
    CHECK_INT_EQ(at, n);
    /* data that does not run to the end of the message: not this layout */
    CHECK(!mt_chunk_head_get(b, n, n + 301, &total, &at));
    CHECK(!mt_chunk_head_get(b, n, n + 299, &total, &at));
    /* cut short */
    CHECK(!mt_chunk_head_get(b, n - 1, n + 300, &total, &at));
  }
  /* Fields the other way round, or a tag of another field. */
  uint8_t rev[] = {0x12, 0x01, 0xaa, 0x08, 0x03};
  uint64_t total;
  size_t at;
  CHECK(!mt_chunk_head_get(rev, sizeof rev, sizeof rev, &total, &at));
  uint8_t other[] = {0x10, 0x03, 0x12, 0x01, 0xaa};
  CHECK(!mt_chunk_head_get(other, sizeof other, sizeof other, &total, &at));
  /* A total of eleven varint bytes, and one whose tenth byte overflows. */
  uint8_t eleven[] = {0x08, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80,
                      0x80, 0x80, 0x80, 0x80, 0x01, 0x12, 0x00};
  CHECK(!mt_chunk_head_get(eleven, sizeof eleven, sizeof eleven, &total, &at));
  uint8_t over[] = {0x08, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff,
                    0xff, 0xff, 0xff, 0x02, 0x12, 0x00};
  CHECK(!mt_chunk_head_get(over, sizeof over, sizeof over, &total, &at));
}

static void test_bytes_head(void) {
  uint8_t b[MT_BYTES_HEAD_MAX];
  size_t n = mt_bytes_head_put(b, 1000);
  size_t at = 0;
  CHECK(mt_bytes_head_get(b, n, n + 1000, &at));
  CHECK_INT_EQ(at, n);
  CHECK(!mt_bytes_head_get(b, n, n + 999, &at));
  CHECK(!mt_bytes_head_get(b, n - 1, n + 1000, &at));
  b[0] = 0x2a; /* a string, not bytes */
  CHECK(!mt_bytes_head_get(b, n, n + 1000, &at));
}

/* The encoding of v cut into chunks of the given sizes (the last one takes
 * the rest), fed to a sink; the value it gives, or NULL (error in *k). */
static manta_value *through_sink(const manta_value *v, const size_t *cuts,
                                 size_t ncuts, mt_chunk_sink *k) {
  void *enc = NULL;
  size_t len = 0;
  REQUIRE_OK(manta_value_encode(v, &enc, &len));
  const uint8_t *e = enc;
  size_t at = 0;
  for (size_t i = 0; at < len || i == 0; i++) {
    size_t n = i < ncuts && cuts[i] < len - at ? cuts[i] : len - at;
    /* The first bytes arrive with the header, the rest by pieces. */
    size_t pre = n < 18 ? n : 18;
    uint8_t *dst = mt_chunk_sink_take(k, len, n, e + at, pre);
    REQUIRE(dst);
    for (size_t p = pre; p < n;) {
      size_t piece = n - p < 4099 ? n - p : 4099;
      mt_chunk_sink_copy(k, dst, e + at + p, piece);
      dst += piece;
      p += piece;
    }
    at += n;
  }
  manta_free(enc);
  return mt_chunk_sink_value(k);
}

static manta_value *big_bytes(size_t len, uint8_t seed) {
  uint8_t *b = malloc(len);
  REQUIRE(b);
  for (size_t i = 0; i < len; i++) {
    b[i] = (uint8_t)(i * 7 + seed + (i >> 12));
  }
  manta_value *v = manta_bytes(b, len);
  free(b);
  REQUIRE(v);
  return v;
}

static void test_sink_bytes(void) {
  /* 3 MiB in chunks of 1 MiB: the buffer becomes the value. */
  manta_value *v = big_bytes(3u << 20, 1);
  mt_chunk_sink k = {0};
  manta_value *got =
      through_sink(v, (size_t[]){1u << 20, 1u << 20, 1u << 20}, 3, &k);
  REQUIRE(got);
  CHECK(manta_value_equal(got, v));
  CHECK(k.skip > 0);
  manta_value_free(got);
  /* The header split over the first two chunks: decoded after all. */
  mt_chunk_sink k2 = {0};
  got = through_sink(v, (size_t[]){1, 1000, 70000}, 3, &k2);
  REQUIRE(got);
  CHECK(manta_value_equal(got, v));
  CHECK_INT_EQ(k2.skip, 0);
  manta_value_free(got);
  manta_value_free(v);
}

static void test_sink_other_values(void) {
  manta_value *list = manta_list();
  REQUIRE(list);
  REQUIRE_OK(manta_list_push(list, manta_cstring("a string")));
  REQUIRE_OK(manta_list_push(list, big_bytes(200000, 2)));
  REQUIRE_OK(manta_list_push(list, manta_int(-5)));
  mt_chunk_sink k = {0};
  manta_value *got = through_sink(list, (size_t[]){7, 65536}, 2, &k);
  REQUIRE(got);
  CHECK(manta_value_equal(got, list));
  manta_value_free(got);
  manta_value_free(list);
  /* Small bytes, one chunk. */
  manta_value *small = manta_bytes("xyz", 3);
  mt_chunk_sink k2 = {0};
  got = through_sink(small, NULL, 0, &k2);
  REQUIRE(got);
  CHECK(manta_value_equal(got, small));
  manta_value_free(got);
  manta_value_free(small);
}

/* The sink gives no value, and says why. */
static void check_error(mt_chunk_sink *k, const char *want) {
  CHECK(mt_chunk_sink_value(k) == NULL);
  CHECK(strstr(k->error, want) != NULL);
  if (!strstr(k->error, want)) {
    fprintf(stderr, "error: %s, expected %s\n", k->error, want);
  }
  mt_chunk_sink_free(k);
}

static void test_sink_errors(void) {
  uint8_t data[64] = {0x32, 60};
  /* A total beyond what a node accepts. */
  mt_chunk_sink k = {0};
  CHECK(!mt_chunk_sink_take(&k, MT_CHUNK_TOTAL_MAX + 1, 10, data, 10));
  check_error(&k, "refused");
  /* A later chunk naming another total. */
  mt_chunk_sink k2 = {0};
  CHECK(mt_chunk_sink_take(&k2, 62, 10, data, 10));
  CHECK(!mt_chunk_sink_take(&k2, 63, 10, data, 10));
  check_error(&k2, "disagree");
  /* More data than the total. */
  mt_chunk_sink k3 = {0};
  CHECK(mt_chunk_sink_take(&k3, 62, 40, data, 40));
  CHECK(!mt_chunk_sink_take(&k3, 62, 23, data, 23));
  check_error(&k3, "disagree");
  /* The stream ending early, or before any chunk. */
  mt_chunk_sink k4 = {0};
  CHECK(mt_chunk_sink_take(&k4, 62, 40, data, 40));
  check_error(&k4, "ended after 40 of 62 bytes");
  mt_chunk_sink k5 = {0};
  check_error(&k5, "no chunk");
  /* Bytes that are no Value. */
  mt_chunk_sink k6 = {0};
  uint8_t junk[4] = {0xff, 0xff, 0xff, 0xff};
  CHECK(mt_chunk_sink_take(&k6, 4, 4, junk, 4));
  check_error(&k6, "cannot decode");
  /* After an error nothing more is taken. */
  mt_chunk_sink k7 = {0};
  CHECK(!mt_chunk_sink_take(&k7, MT_CHUNK_TOTAL_MAX + 1, 1, data, 1));
  CHECK(!mt_chunk_sink_take(&k7, 4, 4, junk, 4));
  check_error(&k7, "refused");
}

int main(void) {
  RUN_TEST(test_chunk_head);
  RUN_TEST(test_bytes_head);
  RUN_TEST(test_sink_bytes);
  RUN_TEST(test_sink_other_values);
  RUN_TEST(test_sink_errors);
  return mt_test_done();
}
