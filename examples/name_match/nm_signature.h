/*
 * A name's letter counts in 128 bits, for a cheap lower bound on its edit
 * distance to another name (the bag distance).
 *
 * Code points fall into 32 buckets (a-z with A-Z, space, digits, four for
 * everything else); each bucket's count, up to 4, is a thermometer of 4
 * bits (count c sets the bucket's c lowest bits). Then
 * popcount(a & ~b) = sum over buckets of max(0, min(a_k, 4) - min(b_k, 4)),
 * which is at most the number of code points of a that cannot be matched
 * to an equal one in b. Each of those costs an edit (a substitution or a
 * deletion) of its own, so the distance is at least that sum, both ways.
 */
#ifndef NM_SIGNATURE_H
#define NM_SIGNATURE_H

#include <stddef.h>
#include <stdint.h>

void nm_signature(const uint32_t *cps, size_t n, uint64_t sig[2]);

/* A lower bound on the edit distance of two names from their signatures. */
static inline uint32_t nm_signature_bound(const uint64_t a[2],
                                          const uint64_t b[2]) {
  uint32_t ab = (uint32_t)(__builtin_popcountll(a[0] & ~b[0]) +
                           __builtin_popcountll(a[1] & ~b[1]));
  uint32_t ba = (uint32_t)(__builtin_popcountll(b[0] & ~a[0]) +
                           __builtin_popcountll(b[1] & ~a[1]));
  return ab > ba ? ab : ba;
}

#endif
