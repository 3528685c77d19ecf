/*
 * The module the cluster benchmark loads into its remote node: a no-op for
 * task round trips, an actor class with a no-op method for actor calls,
 * and two functions whose argument or result is a large
 * object, for transfers between the nodes.
 */
#include "bench_module.h"

#include <manta.h>

#include <pthread.h>
#include <stdlib.h>
#include <unistd.h>

static manta_value *noop(const manta_value *const *args, size_t n, void *u) {
  (void)args, (void)n, (void)u;
  return NULL;
}

static manta_value *len(const manta_value *const *args, size_t n, void *u) {
  (void)n, (void)u;
  const void *data;
  size_t size;
  if (manta_get_bytes(args[0], &data, &size) != MANTA_OK) {
    return manta_error(MANTA_ERR_TYPE, "bench_len takes bytes, not %s",
                       manta_kind_name(manta_value_kind(args[0])));
  }
  return manta_int((int64_t)size);
}

static manta_value *check(const manta_value *const *args, size_t n, void *u) {
  (void)n, (void)u;
  const void *data;
  size_t size;
  if (manta_get_bytes(args[0], &data, &size) != MANTA_OK) {
    return manta_error(MANTA_ERR_TYPE, "bench_check takes bytes, not %s",
                       manta_kind_name(manta_value_kind(args[0])));
  }
  const uint8_t *b = data;
  int64_t wrong = 0;
  for (size_t i = 0; i < size; i++) {
    wrong += b[i] != bench_byte(i);
  }
  return manta_int(wrong);
}

/*
 * bench_bytes returns a view of a buffer made once per size and kept until
 * the process exits, so that a transfer's time is the transfer's, not the
 * time spent making the bytes. A few sizes are enough for the benchmark.
 */
enum { MAX_SIZES = 8 };
static pthread_mutex_t made_mu = PTHREAD_MUTEX_INITIALIZER;
static struct {
  size_t len;
  uint8_t *data;
} made[MAX_SIZES];

static uint8_t *bytes_of_size(size_t size) {
  pthread_mutex_lock(&made_mu);
  uint8_t *data = NULL;
  int i = 0;
  while (i < MAX_SIZES && made[i].data && made[i].len != size) {
    i++;
  }
  if (i < MAX_SIZES && made[i].data) {
    data = made[i].data;
  } else if (i < MAX_SIZES && (data = malloc(size))) {
    for (size_t k = 0; k < size; k++) {
      data[k] = bench_byte(k);
    }
    made[i].len = size;
    made[i].data = data;
  }
  pthread_mutex_unlock(&made_mu);
  return data;
}

__attribute__((destructor)) static void free_made(void) {
  for (int i = 0; i < MAX_SIZES; i++) {
    free(made[i].data);
  }
}

static manta_value *bytes(const manta_value *const *args, size_t n, void *u) {
  (void)n, (void)u;
  int64_t size;
  if (manta_get_int(args[0], &size) != MANTA_OK || size < 1 ||
      size > BENCH_BYTES_MAX) {
    return manta_error(MANTA_ERR_INVALID,
                       "bench_bytes takes a size from 1 to %lld bytes",
                       (long long)BENCH_BYTES_MAX);
  }
  uint8_t *data = bytes_of_size((size_t)size);
  if (!data) {
    return manta_error(MANTA_ERR_NOMEM,
                       "bench_bytes: no memory for %lld bytes, or more than "
                       "%d sizes asked for",
                       (long long)size, MAX_SIZES);
  }
  return manta_bytes_wrap(data, (size_t)size, NULL, NULL);
}

static void *actor_new(const manta_value *const *args, size_t n, void *cd,
                       manta_value **error) {
  (void)args, (void)n, (void)cd, (void)error;
  return NULL;
}

static manta_value *method_noop(void *state, const manta_value *const *args,
                                size_t n, void *md) {
  (void)state, (void)args, (void)n, (void)md;
  return NULL;
}

/* The pid of the process the actor lives in (actor_restart_bench kills it). */
static manta_value *method_pid(void *state, const manta_value *const *args,
                               size_t n, void *md) {
  (void)state, (void)args, (void)n, (void)md;
  return manta_int((int64_t)getpid());
}

/* A generator: emits 0..n-1 (stream_bench.c). */
static manta_value *gen(const manta_value *const *args, size_t n, void *u) {
  (void)n, (void)u;
  int64_t count = 0;
  manta_get_int(args[0], &count);
  for (int64_t i = 0; i < count; i++) {
    if (manta_emit(manta_int(i)) != MANTA_OK) {
      break; /* the reader let go */
    }
  }
  return NULL;
}

MANTA_MODULE_EXPORT manta_err manta_module_init(void) {
  manta_err err = manta_register_function(BENCH_NOOP, noop, -1, NULL);
  if (err == MANTA_OK) {
    err = manta_register_function(BENCH_LEN, len, 1, NULL);
  }
  if (err == MANTA_OK) {
    err = manta_register_function(BENCH_BYTES, bytes, 1, NULL);
  }
  if (err == MANTA_OK) {
    err = manta_register_function(BENCH_CHECK, check, 1, NULL);
  }
  if (err == MANTA_OK) {
    err = manta_register_function(BENCH_GEN, gen, 1, NULL);
  }
  if (err == MANTA_OK) {
    err = manta_register_class(BENCH_ACTOR, actor_new, NULL, NULL);
  }
  if (err == MANTA_OK) {
    err = manta_register_method(BENCH_ACTOR, BENCH_ACTOR_NOOP, method_noop, 0,
                                NULL);
  }
  if (err == MANTA_OK) {
    err = manta_register_method(BENCH_ACTOR, BENCH_ACTOR_PID, method_pid, 0,
                                NULL);
  }
  return err;
}
