/*
 * The k reference names of one chunk nearest to each query of a batch.
 * Order: distance, then row (the earlier reference name wins a tie), so
 * the answer is one and the same however the set is split into chunks and
 * batches, and merging per-chunk answers gives the answer over the set.
 */
#ifndef NM_TOPK_H
#define NM_TOPK_H

#include "nm_chunk.h"
#include "nm_lanes.h"

#include <stddef.h>
#include <stdint.h>

typedef struct nm_match {
  uint64_t row;      /* 0-based row of the reference name in the whole set */
  uint32_t distance; /* edits between the normalized names */
  double similarity; /* 1 - distance / (longer normalized length); 1 if
                        both are empty */
} nm_match;

/* Largest k a search takes. */
#define NM_K_MAX 1000

typedef struct nm_topk_options {
  uint32_t k;            /* 1..NM_K_MAX */
  uint32_t max_distance; /* only matches within this; UINT32_MAX: any */
  nm_kernel kernel;      /* NM_KERNEL_AUTO unless testing one */
} nm_topk_options;

/* a before b in the answer order. */
static inline int nm_match_before(const nm_match *a, const nm_match *b) {
  return a->distance < b->distance ||
         (a->distance == b->distance && a->row < b->row);
}

/*
 * Searches the chunk for nq queries (UTF-8, q[i] of qlen[i] bytes,
 * normalized as the chunk is). Query i's matches go to out[i * k ..], best
 * first, and their count to counts[i]. Returns NULL, or a message (bad
 * options, out of memory).
 */
const char *nm_top_k(const nm_chunk_view *chunk, const char *const *q,
                     const size_t *qlen, size_t nq, const nm_topk_options *opt,
                     nm_match *out, uint32_t *counts);

/*
 * Merges a best-first list b (nb entries) into a (*na entries, room for k),
 * keeping the k first in answer order.
 */
void nm_match_merge(nm_match *a, uint32_t *na, const nm_match *b, uint32_t nb,
                    uint32_t k);

#endif
