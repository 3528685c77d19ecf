/*
 * The value name_match.top_k returns, made and read in one place (the
 * module makes it and reads a prior one; the driver reads it): per query,
 * a list of [row, distance, similarity] lists, best first.
 */
#ifndef NM_RESULT_H
#define NM_RESULT_H

#include "nm_topk.h"

#include <manta.h>

/* The value of nq queries' answers (best[q * k ..], counts[q] of them);
 * NULL when memory runs out. */
manta_value *nm_result_value(const nm_match *best, const uint32_t *counts,
                             size_t nq, uint32_t k);

/*
 * Reads such a value for nq queries and merges each query's matches into
 * best[q * k ..] / counts[q]. Every row must be below row_limit. Returns
 * NULL, or an error value saying what is wrong with it (the caller's).
 */
manta_value *nm_result_read(const manta_value *v, size_t nq, uint32_t k,
                            uint64_t row_limit, nm_match *best,
                            uint32_t *counts);

#endif
