/*
 * What raw_grpc_server and raw_grpc_bench agree on: the three method paths,
 * the Pull request layout and the message size limit both sides set.
 *
 * Payloads are raw bytes in gRPC's own framing (5-byte prefix per message,
 * HTTP/2 DATA frames): every per-message cost manta's transport pays is
 * paid here, minus protobuf encoding, which is measured elsewhere.
 */
#ifndef MANTA_BENCH_RAW_GRPC_WIRE_H
#define MANTA_BENCH_RAW_GRPC_WIRE_H

#include <grpc/grpc.h>

#include <stdint.h>
#include <string.h>

#define RAW_METHOD_UNARY "/manta.bench.Raw/Unary"
#define RAW_METHOD_STREAM "/manta.bench.Raw/Stream"
#define RAW_METHOD_PULL "/manta.bench.Raw/Pull"

/* gRPC refuses incoming messages over 4 MiB unless told otherwise; both
 * sides raise the limit so a chunk size up to RAW_MAX_CHUNK is accepted. */
enum {
  RAW_MAX_CHUNK = 16 << 20,
  RAW_MAX_MESSAGE = RAW_MAX_CHUNK + 1024,
  RAW_PULL_REQUEST_SIZE = 16,
  /* The server streams chunks out of one buffer of this size, larger than
   * any cache, so it reads from memory as when serving a large object. */
  RAW_PULL_SOURCE = 64 << 20,
};

/* Chunk k of a Pull starts at (k mod n) * chunk of the source, n whole
 * chunks fitting in it, so stream position p holds the source byte at
 * p mod raw_pull_period(chunk): the client can check what it received. */
static inline uint64_t raw_pull_period(uint64_t chunk) {
  return RAW_PULL_SOURCE / chunk * chunk;
}

static inline uint8_t raw_pull_byte(uint64_t source_offset) {
  return (uint8_t)(source_offset ^ (source_offset >> 8) ^
                   (source_offset >> 16));
}

/* Pull request: total bytes to stream, then the chunk size, each a
 * little-endian uint64. */
static inline void raw_pull_request_encode(uint8_t out[RAW_PULL_REQUEST_SIZE],
                                           uint64_t total, uint64_t chunk) {
  for (int i = 0; i < 8; i++) {
    out[i] = (uint8_t)(total >> (8 * i));
    out[8 + i] = (uint8_t)(chunk >> (8 * i));
  }
}

static inline void
raw_pull_request_decode(const uint8_t in[RAW_PULL_REQUEST_SIZE],
                        uint64_t *total, uint64_t *chunk) {
  *total = 0;
  *chunk = 0;
  for (int i = 0; i < 8; i++) {
    *total |= (uint64_t)in[i] << (8 * i);
    *chunk |= (uint64_t)in[8 + i] << (8 * i);
  }
}

/* A batch's ops and their count, for grpc_call_start_batch-like helpers:
 * start_batch(call, RAW_OPS({.op = ...}, {.op = ...}), tag). Designated
 * initializers zero every field they do not name; a stray `flags` or
 * `reserved` makes gRPC refuse the batch. */
#define RAW_OPS(...)                                                           \
  ((const grpc_op[]){__VA_ARGS__}),                                            \
      (sizeof((const grpc_op[]){__VA_ARGS__}) / sizeof(grpc_op))

/* The channel arguments both ends use: only the message size limits; every
 * other knob keeps gRPC's default, as manta's transport does. */
static inline grpc_channel_args raw_channel_args(grpc_arg args[2]) {
  memset(args, 0, 2 * sizeof args[0]);
  args[0].type = GRPC_ARG_INTEGER;
  args[0].key = (char *)GRPC_ARG_MAX_RECEIVE_MESSAGE_LENGTH;
  args[0].value.integer = RAW_MAX_MESSAGE;
  args[1].type = GRPC_ARG_INTEGER;
  args[1].key = (char *)GRPC_ARG_MAX_SEND_MESSAGE_LENGTH;
  args[1].value.integer = RAW_MAX_MESSAGE;
  grpc_channel_args ca = {2, args};
  return ca;
}

#endif
