/* The protobuf wire helper (runtime/base/pbwire.h): varints at their
 * boundaries, readers that refuse what is cut short or too long, zigzag,
 * and the Value field numbers checked against protoc's own. */
#include "manta/v1/value.pb-c.h"
#include "pbwire.h"
#include "test_util.h"

#include <string.h>

static const uint64_t samples[] = {0,
                                   1,
                                   127,
                                   128,
                                   300,
                                   16383,
                                   16384,
                                   (1ULL << 28) - 1,
                                   1ULL << 28,
                                   (1ULL << 35),
                                   (1ULL << 56) - 1,
                                   1ULL << 63,
                                   UINT64_MAX};

static void varints_round_trip(void) {
  for (size_t i = 0; i < sizeof samples / sizeof samples[0]; i++) {
    uint8_t buf[MT_PB_VARINT_MAX + 4];
    memset(buf, 0xee, sizeof buf);
    size_t n = mt_pb_put_varint(buf, samples[i]);
    CHECK_INT_EQ(n, mt_pb_varint_size(samples[i]));
    CHECK(n >= 1 && n <= MT_PB_VARINT_MAX);
    CHECK(buf[n] == 0xee); /* wrote nothing past its length */
    uint64_t back = 0;
    CHECK_INT_EQ(mt_pb_get_varint(buf, n, MT_PB_VARINT_MAX, &back), n);
    CHECK(back == samples[i]);
    /* One byte short is no varint. */
    CHECK_INT_EQ(mt_pb_get_varint(buf, n - 1, MT_PB_VARINT_MAX, &back), 0);
  }
  CHECK_INT_EQ(mt_pb_varint_size(127), 1);
  CHECK_INT_EQ(mt_pb_varint_size(128), 2);
  CHECK_INT_EQ(mt_pb_varint_size(UINT64_MAX), 10);
  uint8_t b[2];
  CHECK_INT_EQ(mt_pb_put_varint(b, 300), 2);
  CHECK(b[0] == 0xac && b[1] == 0x02); /* the protobuf docs' example */
}

/* What a reader must refuse: eleven bytes, a tenth byte above bit 63,
 * more bytes than the caller allows (a 5-byte length prefix), none. */
static void refuses_bad_varints(void) {
  uint64_t x = 42;
  uint8_t eleven[11];
  memset(eleven, 0x80, sizeof eleven);
  eleven[10] = 0x01;
  CHECK_INT_EQ(mt_pb_get_varint(eleven, sizeof eleven, 11, &x), 0);
  uint8_t big10[10];
  memset(big10, 0xff, 9);
  big10[9] = 0x02;
  CHECK_INT_EQ(mt_pb_get_varint(big10, 10, MT_PB_VARINT_MAX, &x), 0);
  big10[9] = 0x01;
  CHECK_INT_EQ(mt_pb_get_varint(big10, 10, MT_PB_VARINT_MAX, &x), 10);
  CHECK(x == UINT64_MAX);
  uint8_t six[6];
  CHECK_INT_EQ(mt_pb_put_varint(six, 1ULL << 35), 6);
  CHECK_INT_EQ(mt_pb_get_varint(six, 6, 5, &x), 0);
  CHECK_INT_EQ(mt_pb_get_varint(six, 0, MT_PB_VARINT_MAX, &x), 0);
  x = 42;
  uint8_t cut[3] = {0x80, 0x80, 0x80};
  CHECK_INT_EQ(mt_pb_get_varint(cut, 3, MT_PB_VARINT_MAX, &x), 0);
  CHECK(x == 42); /* untouched on failure */
}

static void zigzag(void) {
  static const int64_t v[] = {0, -1, 1, -2, 63, -64, INT64_MAX, INT64_MIN};
  static const uint64_t z[] = {0,         1, 2, 3, 126, 127, UINT64_MAX - 1,
                               UINT64_MAX};
  for (size_t i = 0; i < sizeof v / sizeof v[0]; i++) {
    CHECK(mt_pb_zigzag(v[i]) == z[i]);
    CHECK(mt_pb_unzigzag(z[i]) == v[i]);
  }
}

/* The numbers written once here are value.proto's, as protoc saw them. */
static void value_fields_match_the_proto(void) {
  CHECK_INT_EQ(MT_VALUE_F_NULL, MANTA__V1__VALUE__KIND_NULL_VALUE);
  CHECK_INT_EQ(MT_VALUE_F_BOOL, MANTA__V1__VALUE__KIND_BOOL_VALUE);
  CHECK_INT_EQ(MT_VALUE_F_INT, MANTA__V1__VALUE__KIND_INT_VALUE);
  CHECK_INT_EQ(MT_VALUE_F_DOUBLE, MANTA__V1__VALUE__KIND_DOUBLE_VALUE);
  CHECK_INT_EQ(MT_VALUE_F_STRING, MANTA__V1__VALUE__KIND_STRING_VALUE);
  CHECK_INT_EQ(MT_VALUE_F_BYTES, MANTA__V1__VALUE__KIND_BYTES_VALUE);
  CHECK_INT_EQ(MT_VALUE_F_LIST, MANTA__V1__VALUE__KIND_LIST_VALUE);
  CHECK_INT_EQ(MT_VALUE_F_MAP, MANTA__V1__VALUE__KIND_MAP_VALUE);
  CHECK_INT_EQ(MT_VALUE_F_REF, MANTA__V1__VALUE__KIND_REF_VALUE);
  CHECK_INT_EQ(MT_VALUE_F_ACTOR, MANTA__V1__VALUE__KIND_ACTOR_VALUE);
  CHECK_INT_EQ(MT_VALUE_F_ERROR, MANTA__V1__VALUE__KIND_ERROR_VALUE);
  /* And the wire types protobuf-c gives those fields. */
  const ProtobufCFieldDescriptor *f = protobuf_c_message_descriptor_get_field(
      &manta__v1__value__descriptor, MT_VALUE_F_BYTES);
  REQUIRE(f != NULL);
  CHECK(f->type == PROTOBUF_C_TYPE_BYTES);
  f = protobuf_c_message_descriptor_get_field(&manta__v1__value__descriptor,
                                              MT_VALUE_F_INT);
  REQUIRE(f != NULL);
  CHECK(f->type == PROTOBUF_C_TYPE_SINT64);
  CHECK(MT_PB_TAG(MT_VALUE_F_BYTES, MT_PB_LEN) == 0x32);
  CHECK(MT_PB_TAG(1, MT_PB_VARINT) == 0x08);
}

int main(void) {
  RUN_TEST(varints_round_trip);
  RUN_TEST(refuses_bad_varints);
  RUN_TEST(zigzag);
  RUN_TEST(value_fields_match_the_proto);
  return mt_test_done();
}
