/*
 * The two headers FetchObject writes and reads by hand instead of through
 * protobuf-c, so that an object's bytes are never packed or unpacked as a
 * whole: the ObjectChunk header (total, then the length of data, which
 * runs to the message's end) and the header of a Value that is only bytes.
 * Each reader accepts exactly the layout the writer makes (fields in order,
 * each once, varints as protobuf allows them); anything else is left to the
 * general decoders, so a foreign but valid encoding still decodes.
 */
#include "cluster.h"

/* Protobuf tags: ObjectChunk.total (1, varint), ObjectChunk.data (2,
 * length-delimited), Value.bytes_value (6, length-delimited). */
#define TAG_TOTAL 0x08
#define TAG_DATA 0x12
#define TAG_BYTES 0x32

static size_t put_varint(uint8_t *p, uint64_t x) {
  size_t n = 0;
  while (x > 0x7f) {
    p[n++] = (uint8_t)(x | 0x80);
    x >>= 7;
  }
  p[n++] = (uint8_t)x;
  return n;
}

/* A varint of at most max bytes at b[0..n); its length, or 0 if there is
 * none (cut short, too long, or beyond 64 bits). */
static size_t get_varint(const uint8_t *b, size_t n, size_t max,
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

size_t mt_chunk_head_put(uint8_t out[MT_CHUNK_HEAD_MAX], uint64_t total,
                         uint64_t data_len) {
  size_t n = 0;
  out[n++] = TAG_TOTAL;
  n += put_varint(out + n, total);
  out[n++] = TAG_DATA;
  n += put_varint(out + n, data_len);
  return n;
}

bool mt_chunk_head_get(const uint8_t *b, size_t n, size_t msg_len,
                       uint64_t *total, size_t *data_at) {
  if (n > msg_len || n < 4 || b[0] != TAG_TOTAL) {
    return false;
  }
  size_t k = get_varint(b + 1, n - 1, 10, total);
  if (!k || 1 + k >= n || b[1 + k] != TAG_DATA) {
    return false;
  }
  size_t at = 2 + k;
  uint64_t len;
  /* protobuf-c reads a length prefix of at most 5 bytes. */
  size_t m = get_varint(b + at, n - at, 5, &len);
  if (!m) {
    return false;
  }
  at += m;
  if (len != msg_len - at) {
    return false; /* data does not end the message: not our layout */
  }
  *data_at = at;
  return true;
}

size_t mt_bytes_head_put(uint8_t out[MT_BYTES_HEAD_MAX], uint64_t len) {
  out[0] = TAG_BYTES;
  return 1 + put_varint(out + 1, len);
}

bool mt_bytes_head_get(const uint8_t *b, size_t n, uint64_t total, size_t *at) {
  if (n > total || n < 2 || b[0] != TAG_BYTES) {
    return false;
  }
  uint64_t len;
  size_t k = get_varint(b + 1, n - 1, 10, &len);
  if (!k || len != total - 1 - k) {
    return false;
  }
  *at = 1 + k;
  return true;
}
