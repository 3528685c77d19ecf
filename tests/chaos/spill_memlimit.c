/*
 * A driver that puts more object data than its process may map: run under
 * an address-space limit (run-spill-memlimit.sh) with an object store
 * limit below it, it must finish with every object read back intact. The
 * store limit and spill folder come from MANTA_OBJECT_STORE_MEMORY and
 * MANTA_SPILL_DIR, so the environment path is what is tested.
 *
 * usage: spill_memlimit TOTAL_MIB OBJECT_MIB
 */
#include "manta.h"

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static uint64_t fill(unsigned char *buf, size_t len, unsigned seed) {
  uint64_t x = seed * 2654435761u + 1, h = 1469598103934665603ull;
  for (size_t i = 0; i + 8 <= len; i += 8) {
    x ^= x << 13, x ^= x >> 7, x ^= x << 17;
    memcpy(buf + i, &x, 8);
    h = (h ^ x) * 1099511628211ull;
  }
  return h;
}

static uint64_t sum(const unsigned char *buf, size_t len) {
  uint64_t x, h = 1469598103934665603ull;
  for (size_t i = 0; i + 8 <= len; i += 8) {
    memcpy(&x, buf + i, 8);
    h = (h ^ x) * 1099511628211ull;
  }
  return h;
}

int main(int argc, char **argv) {
  if (argc != 3) {
    fprintf(stderr, "usage: %s TOTAL_MIB OBJECT_MIB\n", argv[0]);
    return 2;
  }
  size_t total = strtoull(argv[1], NULL, 10) << 20;
  size_t each = strtoull(argv[2], NULL, 10) << 20;
  size_t n = total / each;
  manta_ref *refs = calloc(n, sizeof *refs);
  uint64_t *sums = calloc(n, sizeof *sums);
  unsigned char *buf = malloc(each);
  if (!refs || !sums || !buf || manta_init(NULL) != MANTA_OK) {
    fprintf(stderr, "cannot start\n");
    return 1;
  }
  for (size_t i = 0; i < n; i++) {
    sums[i] = fill(buf, each, (unsigned)i);
    manta_value *v = manta_bytes(buf, each);
    manta_err err = v ? manta_put(v, &refs[i]) : MANTA_ERR_NOMEM;
    manta_value_free(v);
    if (err != MANTA_OK) {
      fprintf(stderr, "put %zu of %zu (%zu MiB in): %s\n", i, n,
              (i * each) >> 20, manta_errname(err));
      return 1;
    }
  }
  int64_t live = 0;
  manta_stat_get(MANTA_STAT_LIVE_OBJECT_BYTES, &live);
  for (size_t i = 0; i < n; i++) {
    manta_value *v = NULL;
    const void *data;
    size_t len;
    manta_err err = manta_get(refs[i], 10000, &v);
    if (err != MANTA_OK || manta_get_bytes(v, &data, &len) != MANTA_OK ||
        len != each || sum(data, len) != sums[i]) {
      fprintf(stderr, "object %zu read back wrong: %s\n", i,
              manta_errname(err));
      return 1;
    }
    manta_value_free(v);
    manta_ref_release(refs[i]);
  }
  manta_shutdown();
  printf("ok: %zu MiB in %zu objects, %lld MiB in memory after the puts\n",
         total >> 20, n, (long long)(live >> 20));
  free(buf);
  free(refs);
  free(sums);
  return 0;
}
