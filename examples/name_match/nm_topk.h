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
 * first, and their count to counts[i]. limits may be NULL; else query i
 * only takes matches within limits[i] (nm_match_limit: what the answer
 * found in other chunks leaves open; negative: nothing), on top of
 * opt->max_distance. Returns NULL, or a message (bad options, out of
 * memory).
 */
const char *nm_top_k(const nm_chunk_view *chunk, const char *const *q,
                     const size_t *qlen, size_t nq, const nm_topk_options *opt,
                     const int64_t *limits, nm_match *out, uint32_t *counts);

/*
 * The largest distance a name of a chunk whose rows start at first_row can
 * have and still enter a query's answer so far (best, n of k): any while it
 * has fewer than k (INT64_MAX); else its k-th best distance, or one less if
 * that match's row comes before the chunk's (a tie goes to the earlier
 * row), which is -1 when nothing can enter.
 */
static inline int64_t nm_match_limit(const nm_match *best, uint32_t n,
                                     uint32_t k, uint64_t first_row) {
  if (n < k) {
    return INT64_MAX;
  }
  return (int64_t)best[k - 1].distance - (best[k - 1].row < first_row);
}

/*
 * Merges a best-first list b (nb entries) into a (*na entries, room for k),
 * keeping the k first in answer order.
 */
void nm_match_merge(nm_match *a, uint32_t *na, const nm_match *b, uint32_t nb,
                    uint32_t k);

#endif
