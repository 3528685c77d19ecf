/*
 * A chunk: a slice of the reference names, normalized and decoded to code
 * points once, in one flat blob that tasks read in place. Names are grouped
 * by length, each group one run of code points, so a search visits only the
 * lengths that can still beat its current k-th best, and reads each
 * length's names as one stream.
 *
 * Blob layout (native byte order; the magic catches a foreign one):
 *   header    magic "NMCHUNK3", version, normalization, count, max_len,
 *             first_row (u64), total code points (u64)
 *   sigs      u64[2 * count]   the signature (nm_signature.h) of the name at
 *                              sorted position p is sigs[2p], sigs[2p + 1]
 *   rows      u32[count]       name at sorted position p is row rows[p]
 *                              of the chunk (sorted: by length, then row)
 *   len_start u32[max_len + 2] names of length L are positions
 *                              len_start[L] .. len_start[L + 1] - 1
 *   cps_start u32[max_len + 2] and their code points start at
 *                              cps[cps_start[L]], L per name
 *   cps       u32[total]       the code points
 */
#ifndef NM_CHUNK_H
#define NM_CHUNK_H

#include "nm_normalize.h"

#include <stddef.h>
#include <stdint.h>

typedef struct nm_chunk_view {
  uint32_t count;     /* names in the chunk */
  uint32_t max_len;   /* longest name, in code points */
  uint64_t first_row; /* row (0-based, in the whole set) of the chunk's first */
  nm_norm norm;       /* how names (and queries against them) normalize */
  const uint64_t *sigs;
  const uint32_t *rows, *len_start, *cps_start, *cps;
} nm_chunk_view;

/*
 * Builds the blob of count names (UTF-8, names[i] of lens[i] bytes) whose
 * first is row first_row of the whole set. *blob is aligned for reading in
 * place; free it with free(). Returns NULL, or a message saying what was
 * wrong (too many code points for one chunk, out of memory).
 */
const char *nm_chunk_build(const char *const *names, const size_t *lens,
                           size_t count, uint64_t first_row, nm_norm norm,
                           void **blob, size_t *blob_len);

/*
 * Checks a blob (it may come from another process) and points the view
 * into it; the blob must be 8-byte aligned and outlive the view. Returns
 * NULL, or a message saying what is wrong with it. Its structure is checked
 * (no index leads outside the blob), not its contents: a blob whose
 * signatures do not match its names gives wrong matches, never a crash.
 */
const char *nm_chunk_view_init(nm_chunk_view *view, const void *blob,
                               size_t len);

/* The names of one length: count of them, from sorted position first, their
 * code points one name after the other, and their signatures. */
typedef struct nm_bucket {
  uint32_t first, count;
  const uint32_t *names;
  const uint64_t *sigs;
} nm_bucket;

static inline nm_bucket nm_chunk_bucket(const nm_chunk_view *v, uint32_t len) {
  nm_bucket b = {v->len_start[len], v->len_start[len + 1] - v->len_start[len],
                 v->cps + v->cps_start[len], v->sigs + 2 * v->len_start[len]};
  return b;
}

#endif
