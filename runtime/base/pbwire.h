/* Protobuf wire format by hand, for the codecs that skip protobuf-c (the
 * Value codec, FetchObject's chunk headers, the outboxes): varints, field
 * tags, and the field numbers of manta.v1.Value (proto/manta/v1/value.proto),
 * written here once. Readers take the bytes left and never read past them. */
#ifndef MT_PBWIRE_H
#define MT_PBWIRE_H

#include <stddef.h>
#include <stdint.h>

/* Wire types. Groups (3, 4) are never used by manta's protocol. */
enum {
  MT_PB_VARINT = 0,
  MT_PB_FIXED64 = 1,
  MT_PB_LEN = 2,
  MT_PB_FIXED32 = 5,
};

/* A tag of a field numbered below 16: one byte. */
#define MT_PB_TAG(field, wt) ((uint8_t)(((field) << 3) | (wt)))

/* The longest varint: 64 bits in 7-bit groups. */
#define MT_PB_VARINT_MAX 10

/* manta.v1.Value's oneof `kind`. */
enum {
  MT_VALUE_F_NULL = 1,
  MT_VALUE_F_BOOL = 2,
  MT_VALUE_F_INT = 3,
  MT_VALUE_F_DOUBLE = 4,
  MT_VALUE_F_STRING = 5,
  MT_VALUE_F_BYTES = 6,
  MT_VALUE_F_LIST = 7,
  MT_VALUE_F_MAP = 8,
  MT_VALUE_F_REF = 9,
  MT_VALUE_F_ACTOR = 10,
  MT_VALUE_F_ERROR = 11,
};

/* Bytes x takes as a varint (1..10). */
static inline size_t mt_pb_varint_size(uint64_t x) {
  size_t n = 1;
  while (x >= 0x80) {
    x >>= 7;
    n++;
  }
  return n;
}

/* Writes x as a varint at p (room for MT_PB_VARINT_MAX bytes); its length. */
static inline size_t mt_pb_put_varint(uint8_t *p, uint64_t x) {
  size_t n = 0;
  while (x >= 0x80) {
    p[n++] = (uint8_t)(x | 0x80);
    x >>= 7;
  }
  p[n++] = (uint8_t)x;
  return n;
}

/* Reads a varint of at most max bytes (max <= MT_PB_VARINT_MAX; protobuf
 * readers take 5 for a length) from b[0..n): its length, or 0 if there is
 * none (cut short, longer than max, or beyond 64 bits). */
static inline size_t mt_pb_get_varint(const uint8_t *b, size_t n, size_t max,
                                      uint64_t *out) {
  uint64_t x = 0;
  for (size_t i = 0; i < n && i < max; i++) {
    /* The tenth byte holds bit 63 only. */
    if (i == 9 && b[i] > 1) {
      return 0;
    }
    x |= (uint64_t)(b[i] & 0x7f) << (7 * i);
    if (!(b[i] & 0x80)) {
      *out = x;
      return i + 1;
    }
  }
  return 0;
}

/* sint64's zigzag mapping, both ways. */
static inline uint64_t mt_pb_zigzag(int64_t i) {
  return ((uint64_t)i << 1) ^ (uint64_t)(i >> 63);
}

static inline int64_t mt_pb_unzigzag(uint64_t x) {
  return (int64_t)(x >> 1) ^ -(int64_t)(x & 1);
}

#endif
