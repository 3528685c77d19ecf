/*
 * FetchObject's chunks, read and written by hand instead of through
 * protobuf-c, so that an object's bytes are never packed or unpacked as a
 * whole: the ObjectChunk header (total, then the length of data, which
 * runs to the message's end) and the header of a Value that is only bytes.
 * Each reader accepts exactly the layout the writer makes (fields in order,
 * each once, varints as protobuf allows them); anything else is left to the
 * general decoders, so a foreign but valid encoding still decodes.
 *
 * And the sink that assembles the chunks' data into the fetched value: a
 * buffer sized by the first chunk, every later chunk checked against it.
 */
#include "cluster.h"

#include "bigalloc.h"
#include "pbwire.h"

#include <stdlib.h>
#include <string.h>

/* Tags of ObjectChunk.total (1, varint), ObjectChunk.data (2), and
 * Value.bytes_value. */
#define TAG_TOTAL MT_PB_TAG(1, MT_PB_VARINT)
#define TAG_DATA MT_PB_TAG(2, MT_PB_LEN)
#define TAG_BYTES MT_PB_TAG(MT_VALUE_F_BYTES, MT_PB_LEN)

size_t mt_chunk_head_put(uint8_t out[MT_CHUNK_HEAD_MAX], uint64_t total,
                         uint64_t data_len) {
  size_t n = 0;
  out[n++] = TAG_TOTAL;
  n += mt_pb_put_varint(out + n, total);
  out[n++] = TAG_DATA;
  n += mt_pb_put_varint(out + n, data_len);
  return n;
}

bool mt_chunk_head_get(const uint8_t *b, size_t n, size_t msg_len,
                       uint64_t *total, size_t *data_at) {
  if (n > msg_len || n < 4 || b[0] != TAG_TOTAL) {
    return false;
  }
  size_t k = mt_pb_get_varint(b + 1, n - 1, MT_PB_VARINT_MAX, total);
  if (!k || 1 + k >= n || b[1 + k] != TAG_DATA) {
    return false;
  }
  size_t at = 2 + k;
  uint64_t len;
  /* protobuf-c reads a length prefix of at most 5 bytes. */
  size_t m = mt_pb_get_varint(b + at, n - at, 5, &len);
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
  return 1 + mt_pb_put_varint(out + 1, len);
}

bool mt_bytes_head_get(const uint8_t *b, size_t n, uint64_t total, size_t *at) {
  if (n > total || n < 2 || b[0] != TAG_BYTES) {
    return false;
  }
  uint64_t len;
  size_t k = mt_pb_get_varint(b + 1, n - 1, MT_PB_VARINT_MAX, &len);
  if (!k || len != total - 1 - k) {
    return false;
  }
  *at = 1 + k;
  return true;
}

/* ---- the sink ------------------------------------------------------------ */

void mt_chunk_sink_free(mt_chunk_sink *k) {
  if (k->release) {
    if (k->buf) {
      k->release(k->buf, k->release_arg);
    }
  } else if (k->cap) {
    mt_big_free(k->buf, k->cap);
  } else {
    free(k->buf);
  }
  k->buf = NULL;
}

/* Sizes the buffer at the first chunk, whose data begins with pre[0..n). */
static bool sink_size(mt_chunk_sink *k, uint64_t total, const uint8_t *pre,
                      size_t n) {
  if (total > MT_CHUNK_TOTAL_MAX || (uint64_t)(size_t)total != total) {
    snprintf(k->error, sizeof k->error, "object of %llu bytes refused",
             (unsigned long long)total);
    return false;
  }
  size_t at;
  k->skip = mt_bytes_head_get(pre, n, total, &at) ? at : 0;
  size_t len = (size_t)(total - k->skip);
  k->buf =
      len >= MT_BIG_MIN ? mt_big_alloc(len, &k->cap) : malloc(len ? len : 1);
  if (!k->buf) {
    snprintf(k->error, sizeof k->error, "out of memory for %llu bytes",
             (unsigned long long)total);
    return false;
  }
  k->total = total;
  return true;
}

uint8_t *mt_chunk_sink_take(mt_chunk_sink *k, uint64_t total, uint64_t data_len,
                            const uint8_t *pre, size_t n) {
  if (k->error[0] || (!k->buf && !sink_size(k, total, pre, n))) {
    return NULL;
  }
  if (total != k->total || data_len > k->total - k->got || n > data_len) {
    snprintf(k->error, sizeof k->error, "chunks disagree on the size");
    return NULL;
  }
  /* Bytes before skip are the header sink_size read: sizing saw it whole
   * in pre, so past pre every byte has a place in buf. */
  size_t drop = k->got < k->skip ? k->skip - (size_t)k->got : 0;
  drop = drop < n ? drop : n;
  uint8_t *dst = k->buf + (k->got + drop - k->skip);
  if (n > drop) {
    memcpy(dst, pre + drop, n - drop);
  }
  k->got += data_len;
  return dst + (n - drop);
}

uint8_t *mt_chunk_sink_head(mt_chunk_sink *k, const uint8_t *head, size_t n,
                            size_t len) {
  uint64_t total;
  size_t at;
  if (k->error[0] || !mt_chunk_head_get(head, n, len, &total, &at)) {
    return NULL;
  }
  return mt_chunk_sink_take(k, total, len - at, head + at, n - at);
}

uint64_t mt_chunk_sink_flat(mt_chunk_sink *k, const uint8_t *msg, size_t len) {
  Manta__V1__ObjectChunk *c = manta__v1__object_chunk__unpack(NULL, len, msg);
  if (!c) {
    snprintf(k->error, sizeof k->error, "malformed ObjectChunk");
    return 0;
  }
  uint64_t relay = c->relay_node;
  if (!relay) {
    mt_chunk_sink_take(k, c->total, c->data.len, c->data.data, c->data.len);
  }
  manta__v1__object_chunk__free_unpacked(c, NULL);
  return relay;
}

void mt_chunk_sink_copy(const mt_chunk_sink *k, uint8_t *dst,
                        const uint8_t *src, size_t n) {
  if (k->cap) {
    mt_big_copy(dst, src, n);
  } else {
    memcpy(dst, src, n);
  }
}

static void release_block(void *data, void *cap) {
  mt_chunk_sink k = {.buf = data, .cap = (size_t)(uintptr_t)cap};
  mt_chunk_sink_free(&k);
}

manta_value *mt_chunk_sink_value(mt_chunk_sink *k) {
  if (k->error[0]) {
    return NULL;
  }
  if (!k->buf) {
    snprintf(k->error, sizeof k->error, "the owner sent no chunk");
    return NULL;
  }
  if (k->got != k->total) {
    snprintf(k->error, sizeof k->error,
             "the transfer ended after %llu of %llu bytes",
             (unsigned long long)k->got, (unsigned long long)k->total);
    return NULL;
  }
  manta_value *v = NULL;
  if (k->skip) {
    /* A bytes value: the buffer is its payload, kept as it is. */
    v = k->release ? manta_bytes_wrap(k->buf, (size_t)(k->total - k->skip),
                                      k->release, k->release_arg)
                   : manta_bytes_wrap(k->buf, (size_t)(k->total - k->skip),
                                      release_block, (void *)(uintptr_t)k->cap);
    if (v) {
      k->buf = NULL;
    } else {
      snprintf(k->error, sizeof k->error, "out of memory");
    }
    return v;
  }
  manta_err err = manta_value_decode(k->buf, (size_t)k->total, &v);
  mt_chunk_sink_free(k);
  if (err != MANTA_OK) {
    snprintf(k->error, sizeof k->error, "cannot decode it: %s",
             manta_strerror(err));
    return NULL;
  }
  return v;
}
