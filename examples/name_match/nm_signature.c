#include "nm_signature.h"

static unsigned bucket(uint32_t c) {
  if (c >= 'a' && c <= 'z') {
    return c - 'a';
  }
  if (c >= 'A' && c <= 'Z') {
    return c - 'A';
  }
  if (c == ' ') {
    return 26;
  }
  if (c >= '0' && c <= '9') {
    return 27;
  }
  return 28 + ((c * 0x9E3779B1u) >> 30);
}

void nm_signature(const uint32_t *cps, size_t n, uint64_t sig[2]) {
  unsigned char count[32] = {0};
  for (size_t i = 0; i < n; i++) {
    unsigned b = bucket(cps[i]);
    count[b] += count[b] < 4;
  }
  sig[0] = sig[1] = 0;
  for (unsigned b = 0; b < 32; b++) {
    sig[b / 16] |= (((uint64_t)1 << count[b]) - 1) << (b % 16 * 4);
  }
}
