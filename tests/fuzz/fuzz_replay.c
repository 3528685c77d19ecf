/*
 * Runs the fuzz target without libFuzzer, so its code path is exercised in
 * every build and under every sanitizer: first the seed files named on the
 * command line, then 20000 inputs made from them by a fixed-seed mutator
 * (and some plain random ones). A crash found by a real fuzzing run is
 * added to corpus/value/ and stays covered here.
 */
#include "manta.h"
#include "value.h"

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define MAX_INPUT 4096
#define MAX_SEEDS 256
#define ROUNDS 20000

typedef struct input {
  uint8_t *data;
  size_t len;
} input;

static uint64_t rng = 0x66757a7aULL; /* "fuzz" */

static uint64_t rnd(void) { /* splitmix64 */
  uint64_t z = (rng += 0x9e3779b97f4a7c15ULL);
  z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
  z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
  return z ^ (z >> 31);
}

static size_t below(size_t n) {
  return n ? (size_t)(rnd() % n) : 0;
}

static int read_file(const char *path, input *in) {
  FILE *f = fopen(path, "rb");
  if (!f) {
    return -1;
  }
  in->data = malloc(MAX_INPUT);
  in->len = fread(in->data, 1, MAX_INPUT, f);
  fclose(f);
  return 0;
}

/* Byte-level mutations of the kind libFuzzer makes, plus ones aimed at the
 * protobuf structure: length bytes and tags. */
static size_t mutate(uint8_t *buf, size_t len, const input *seeds,
                     size_t nseeds) {
  int rounds = 1 + (int)below(4);
  for (int r = 0; r < rounds; r++) {
    size_t at = below(len + 1);
    switch (below(8)) {
    case 0: /* flip a bit */
      if (len) {
        buf[below(len)] ^= (uint8_t)(1u << below(8));
      }
      break;
    case 1: /* an interesting byte */
      if (len) {
        static const uint8_t bytes[] = {0x00, 0x01, 0x7f, 0x80, 0xff,
                                        0x0a, 0x3a, 0x42, 0x5a, 0x0b};
        buf[below(len)] = bytes[below(sizeof bytes)];
      }
      break;
    case 2: /* insert a byte */
      if (len < MAX_INPUT) {
        memmove(buf + at + 1, buf + at, len - at);
        buf[at] = (uint8_t)rnd();
        len++;
      }
      break;
    case 3: /* delete a run */
      if (at < len) {
        size_t n = 1 + below(len - at);
        memmove(buf + at, buf + at + n, len - at - n);
        len -= n;
      }
      break;
    case 4: /* truncate */
      len = at;
      break;
    case 5: { /* splice in part of another seed */
      const input *s = &seeds[below(nseeds)];
      size_t from = below(s->len), n = below(s->len - from + 1);
      if (len + n <= MAX_INPUT) {
        memmove(buf + at + n, buf + at, len - at);
        memcpy(buf + at, s->data + from, n);
        len += n;
      }
      break;
    }
    case 6: /* duplicate a run in place */
      if (at < len) {
        size_t n = 1 + below(len - at);
        if (len + n <= MAX_INPUT) {
          memmove(buf + at + n, buf + at, len - at);
          len += n;
        }
      }
      break;
    default: /* nudge a byte: lengths off by one */
      if (len) {
        buf[below(len)] += rnd() & 1 ? 1 : 0xff;
      }
      break;
    }
  }
  return len;
}

int main(int argc, char **argv) {
  static input seeds[MAX_SEEDS];
  size_t nseeds = 0;
  for (int i = 1; i < argc && nseeds < MAX_SEEDS; i++) {
    if (read_file(argv[i], &seeds[nseeds]) != 0) {
      fprintf(stderr, "cannot read %s\n", argv[i]);
      return 1;
    }
    nseeds++;
  }
  /* built-in seeds, so the driver is useful even with no files */
  static const uint8_t builtin[] = {0x3a, 0x06, 0x0a, 0x00,
                                    0x0a, 0x02, 0x10, 0x01};
  seeds[nseeds].data = malloc(MAX_INPUT);
  memcpy(seeds[nseeds].data, builtin, sizeof builtin);
  seeds[nseeds].len = sizeof builtin;
  nseeds++;

  int64_t live = mt_value_live_count();
  for (size_t i = 0; i < nseeds; i++) {
    LLVMFuzzerTestOneInput(seeds[i].data, seeds[i].len);
  }
  uint8_t *buf = malloc(MAX_INPUT);
  for (int i = 0; i < ROUNDS; i++) {
    size_t len;
    if (i % 10 == 0) {
      len = below(64);
      for (size_t j = 0; j < len; j++) {
        buf[j] = (uint8_t)rnd();
      }
    } else {
      const input *s = &seeds[below(nseeds)];
      memcpy(buf, s->data, s->len);
      len = mutate(buf, s->len, seeds, nseeds);
    }
    /* an exact-size copy, so a sanitizer sees any read past the end */
    uint8_t *exact = malloc(len ? len : 1);
    memcpy(exact, buf, len);
    LLVMFuzzerTestOneInput(exact, len);
    free(exact);
  }
  free(buf);
  for (size_t i = 0; i < nseeds; i++) {
    free(seeds[i].data);
  }
  if (mt_value_live_count() != live) {
    fprintf(stderr, "values leaked: %lld\n",
            (long long)(mt_value_live_count() - live));
    return 1;
  }
  printf("fuzz_replay: %zu seeds, %d generated inputs, ok\n", nseeds, ROUNDS);
  return 0;
}
