/*
 * libFuzzer target for manta_value_decode, the decoder of bytes that arrive
 * from other nodes. Whatever decodes must re-encode, decode again to an equal
 * value and re-encode to the same bytes (the encoding is canonical); nothing
 * may crash, leak or read out of bounds. fuzz_replay.c runs this same
 * function in every CTest run.
 */
#include "manta.h"
#include "value.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  manta_value *v = NULL;
  manta_err err = manta_value_decode(data, size, &v);
  if (err != MANTA_OK) {
    if (v != NULL ||
        (err != MANTA_ERR_MALFORMED && err != MANTA_ERR_TOO_DEEP)) {
      abort();
    }
    return 0;
  }
  void *buf = NULL, *buf2 = NULL;
  size_t len = 0, len2 = 0;
  manta_value *w = NULL;
  if (manta_value_encode(v, &buf, &len) != MANTA_OK ||
      manta_value_decode(buf, len, &w) != MANTA_OK ||
      !manta_value_equal(v, w) ||
      manta_value_encode(w, &buf2, &len2) != MANTA_OK || len != len2 ||
      memcmp(buf, buf2, len) != 0) {
    abort();
  }
  /* The readers a receiver runs next must cope with anything decoded. */
  char *repr = manta_value_repr(v);
  if (!repr) {
    abort();
  }
  mt_value_freeze(w);
  if (mt_value_payload_bytes(v) != mt_value_payload_bytes(w)) {
    abort();
  }
  manta_free(repr);
  manta_free(buf);
  manta_free(buf2);
  manta_value_free(v);
  manta_value_free(w);
  return 0;
}
