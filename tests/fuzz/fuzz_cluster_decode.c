/*
 * libFuzzer target for the decoders of cluster messages, the bytes other
 * nodes and foreign clients send: the first byte picks the message
 * (TaskBatch, CallRequest, RegisterRequest, HeartbeatRequest,
 * HeartbeatReply, ClusterStatusReply, FetchRequest, ObjectChunk), the rest is
 * unpacked by protobuf-c and every value inside is decoded by manta's codec, as
 * the node does. Nothing may crash, leak or read out of bounds; a message that
 * unpacks must pack again. ObjectChunk bytes also go to the headers
 * FetchObject reads by hand (chunk.c), which must agree with protobuf-c and
 * manta's codec on whatever they accept, and, read as the messages of one
 * transfer (each after 2 bytes of length), to the sink that assembles them:
 * a value it gives must be what the chunks' data decodes to. A first byte
 * of 8 or 9 (mod 10) gives the rest to the head's named-actor methods
 * (RegisterActorName, then LookupActor and DropActorName on the same bytes,
 * against one table), as the head runs them. fuzz_replay.c runs this in every
 * CTest run.
 */
#include "cluster.h"

#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void decode_all(ProtobufCBinaryData *vals, size_t n) {
  for (size_t i = 0; i < n; i++) {
    manta_value_free(mt_wire_decode_value(&vals[i], "fuzz"));
  }
}

/* The head's named-actor methods on one request body. */
static void names_methods(const uint8_t *data, size_t size) {
  static const char *methods[] = {MT_HEAD_REGISTER_ACTOR_NAME,
                                  MT_HEAD_LOOKUP_ACTOR,
                                  MT_HEAD_DROP_ACTOR_NAME};
  mt_actor_names *n = mt_actor_names_new();
  if (!n) {
    return;
  }
  for (int i = 0; i < 3; i++) {
    mt_tp_buf reply;
    char detail[200];
    mt_actor_names_handle(n, methods[i], data, size, &reply, detail,
                          sizeof detail);
    free(reply.data);
  }
  size_t count;
  mt_actor_names_list_free(mt_actor_names_list(n, &count), count);
  mt_actor_names_node_gone(n, 1);
  mt_actor_names_free(n);
}

/* enc[0..len) read as a Value by the bytes header of chunk.c, from the
 * first n bytes as the fetching side may have them: if it says bytes, the
 * codec must decode the same bytes. */
static void bytes_head(const uint8_t *enc, size_t len, size_t n) {
  size_t at;
  if (!mt_bytes_head_get(enc, n < len ? n : len, len, &at)) {
    return;
  }
  manta_value *v = NULL;
  const void *p;
  size_t plen;
  if (at > n || manta_value_decode(enc, len, &v) != MANTA_OK ||
      manta_get_bytes(v, &p, &plen) != MANTA_OK || plen != len - at ||
      (plen && memcmp(p, enc + at, plen) != 0)) {
    abort();
  }
  manta_value_free(v);
}

/* data[0..size) as a received ObjectChunk, read by chunk.c from its first
 * MT_CHUNK_HEAD_MAX bytes, as fetch.c does: what it accepts, protobuf-c
 * must unpack to the same total and data. */
static void chunk_heads(const uint8_t *data, size_t size) {
  Manta__V1__ObjectChunk *c = manta__v1__object_chunk__unpack(NULL, size, data);
  uint64_t total;
  size_t at;
  size_t n = size < MT_CHUNK_HEAD_MAX ? size : MT_CHUNK_HEAD_MAX;
  if (mt_chunk_head_get(data, n, size, &total, &at) &&
      (!c || at > n || c->total != total || c->data.len != size - at ||
       (c->data.len && memcmp(c->data.data, data + at, c->data.len) != 0))) {
    abort();
  }
  /* The data of a chunk that holds a whole object is its encoding. */
  if (c && c->data.len == c->total) {
    bytes_head(c->data.data, c->data.len, MT_CHUNK_HEAD_MAX - 4);
    bytes_head(c->data.data, c->data.len, c->data.len);
  }
  if (c) {
    manta__v1__object_chunk__free_unpacked(c, NULL);
  }
  bytes_head(data, size, size);
}

/* data[0..size) as the ObjectChunks of one transfer, each after 2 bytes
 * of length, taken as fetch.c takes them. The reference is protobuf-c's
 * reading of the same chunks, kept while small. */
static void chunk_stream(const uint8_t *data, size_t size) {
  mt_chunk_sink k = {0};
  uint8_t ref[4096];
  size_t ref_len = 0;
  bool ref_ok = true;
  while (size >= 2 && !k.error[0]) {
    size_t len = (size_t)data[0] | (size_t)data[1] << 8;
    data += 2;
    size -= 2;
    len = len < size ? len : size;
    const uint8_t *msg = data;
    data += len;
    size -= len;
    size_t n = len < MT_CHUNK_HEAD_MAX ? len : MT_CHUNK_HEAD_MAX;
    uint8_t *dst = mt_chunk_sink_head(&k, msg, n, len);
    if (dst) {
      mt_chunk_sink_copy(&k, dst, msg + n, len - n);
    } else if (!k.error[0]) {
      mt_chunk_sink_flat(&k, msg, len);
    }
    Manta__V1__ObjectChunk *c = manta__v1__object_chunk__unpack(NULL, len, msg);
    if (c && c->data.len <= sizeof ref - ref_len) {
      if (c->data.len) {
        memcpy(ref + ref_len, c->data.data, c->data.len);
      }
      ref_len += c->data.len;
    } else {
      ref_ok = false;
    }
    if (c) {
      manta__v1__object_chunk__free_unpacked(c, NULL);
    }
  }
  manta_value *v = mt_chunk_sink_value(&k);
  if (v && ref_ok) {
    manta_value *w = NULL;
    if (manta_value_decode(ref, ref_len, &w) != MANTA_OK ||
        !manta_value_equal(v, w)) {
      abort();
    }
    manta_value_free(w);
  }
  manta_value_free(v);
  mt_chunk_sink_free(&k);
}

static const ProtobufCMessageDescriptor *pick(uint8_t which) {
  switch (which % 10) {
  case 0:
    return &manta__v1__task_batch__descriptor;
  case 1:
    return &manta__v1__call_request__descriptor;
  case 2:
    return &manta__v1__register_request__descriptor;
  case 3:
    return &manta__v1__heartbeat_request__descriptor;
  case 4:
    return &manta__v1__heartbeat_reply__descriptor;
  case 6:
    return &manta__v1__fetch_request__descriptor;
  case 7:
    return &manta__v1__object_chunk__descriptor;
  default:
    return &manta__v1__cluster_status_reply__descriptor;
  }
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  if (size == 0) {
    return 0;
  }
  if (data[0] % 10 >= 8) {
    names_methods(data + 1, size - 1);
    return 0;
  }
  if (data[0] % 10 == 7) {
    chunk_heads(data + 1, size - 1);
    chunk_stream(data + 1, size - 1);
  }
  const ProtobufCMessageDescriptor *d = pick(data[0]);
  ProtobufCMessage *m = protobuf_c_message_unpack(d, NULL, size - 1, data + 1);
  if (!m) {
    return 0;
  }
  if (d == &manta__v1__task_batch__descriptor) {
    Manta__V1__TaskBatch *b = (Manta__V1__TaskBatch *)m;
    for (size_t i = 0; i < b->n_tasks; i++) {
      decode_all(b->tasks[i]->args, b->tasks[i]->n_args);
    }
    for (size_t i = 0; i < b->n_results; i++) {
      decode_all(&b->results[i]->value, 1);
    }
  } else if (d == &manta__v1__call_request__descriptor) {
    Manta__V1__CallRequest *c = (Manta__V1__CallRequest *)m;
    decode_all(c->args, c->n_args);
  } else if (d == &manta__v1__cluster_status_reply__descriptor) {
    manta_value_free(mt_wire_status_value((Manta__V1__ClusterStatusReply *)m));
  }
  mt_tp_buf again;
  if (!mt_wire_pack(m, &again)) {
    abort();
  }
  free(again.data);
  protobuf_c_message_free_unpacked(m, NULL);
  return 0;
}
