/*
 * What the cluster benchmark's module (bench_module.c) offers the driver
 * (cluster_bench.c): function and actor class names, and the bytes bench_bytes
 * returns, so that the driver can check what it fetched.
 */
#ifndef MANTA_BENCH_MODULE_H
#define MANTA_BENCH_MODULE_H

#include <stdint.h>

/* No arguments, returns null. */
#define BENCH_NOOP "bench_noop"
/* One bytes argument; returns its length (an int). */
#define BENCH_LEN "bench_len"
/* One int argument n; returns n bytes, byte i being bench_byte(i). */
#define BENCH_BYTES "bench_bytes"
/* One bytes argument; returns how many of its bytes differ from
 * bench_byte(i) (0: what bench_bytes made, intact). */
#define BENCH_CHECK "bench_check"

/* One int argument n; emits 0..n-1 when submitted as a stream
 * (stream_bench.c), returns null. */
#define BENCH_GEN "bench_gen"

/* An actor class whose constructor takes no arguments, with one method
 * that takes none and returns null. */
#define BENCH_ACTOR "BenchActor"
#define BENCH_ACTOR_NOOP "noop"
#define BENCH_ACTOR_PID "pid"

/* The largest n bench_bytes accepts. */
#define BENCH_BYTES_MAX ((int64_t)8 << 30)

static inline uint8_t bench_byte(uint64_t i) {
  return (uint8_t)(i ^ (i >> 8) ^ (i >> 16));
}

#endif
