/*
 * libFuzzer target for Serve's decoders of bytes from HTTP clients and
 * deployment files (runtime/serve): JSON bodies and YAML files as values,
 * and those values as deployment specs. The first byte picks the decoder
 * (even: JSON, odd: YAML). Whatever decodes as JSON must encode and decode
 * again to an equal value; nothing may crash, leak or read out of bounds.
 * fuzz_replay.c runs this same function in every CTest run. (HTTP itself
 * is parsed by libmicrohttpd, fuzzed upstream in OSS-Fuzz.)
 */
#include "manta.h"
#include "serve_config.h"
#include "serve_json.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void as_spec(const manta_value *v) {
  char why[512];
  mt_serve_spec spec;
  if (mt_serve_spec_from_value(v, &spec, why, sizeof why) == MANTA_OK) {
    mt_serve_spec_clear(&spec);
  } else if (!why[0]) {
    abort(); /* a refusal always says why */
  }
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  if (size == 0) {
    return 0;
  }
  const char *text = (const char *)data + 1;
  size_t len = size - 1;
  char why[512] = "";
  if (data[0] % 2 == 0) {
    manta_value *v = mt_serve_json_decode(text, len, why, sizeof why);
    if (!v) {
      if (!why[0]) {
        abort();
      }
      return 0;
    }
    size_t n = 0;
    char *out = mt_serve_json_encode(v, &n, why, sizeof why);
    /* Decoded JSON always has a JSON form, and it reads back the same. */
    manta_value *w = out ? mt_serve_json_decode(out, n, why, sizeof why) : NULL;
    if (!out || !w || !manta_value_equal(v, w)) {
      abort();
    }
    as_spec(v);
    free(out);
    manta_value_free(w);
    manta_value_free(v);
    return 0;
  }
  manta_value *v = mt_serve_yaml_decode(text, len, why, sizeof why);
  if (!v) {
    if (!why[0]) {
      abort();
    }
    return 0;
  }
  as_spec(v);
  manta_value_free(v);
  return 0;
}
