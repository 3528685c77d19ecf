/* The matches as CSV, the one format the driver and its tests write. */
#ifndef NM_OUTPUT_H
#define NM_OUTPUT_H

#include "nm_csv.h"
#include "nm_topk.h"

#include <stdint.h>
#include <stdio.h>

/*
 * Header query_row,query,rank,match_row,match,distance,similarity, then
 * for each query its matches best first (rank 1..k); a query without any
 * match (possible with a distance limit) gets one row with the match
 * fields empty. Rows are 1-based positions of the records in their files,
 * header not counted; similarity has 4 decimals. best[q * k ..] holds
 * counts[q] matches of query q, rows 0-based. Returns 0, or -1 if writing
 * failed.
 */
int nm_output_write(FILE *f, const nm_column *refs, const nm_column *queries,
                    const nm_match *best, const uint32_t *counts, uint32_t k);

#endif
