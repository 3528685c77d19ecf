/*
 * Several queries against one reference name at once: each query of 1..64
 * code points is a 64-bit lane of one SIMD vector, and every lane's
 * bit-parallel column advances in the same instructions, one step per code
 * point of the reference name. The kernel is compiled for AVX-512 (8
 * lanes), AVX2 (4) and plain C (2, the compiler's generic vectors: SSE2 on
 * x86-64) and picked at run time.
 */
#ifndef NM_LANES_H
#define NM_LANES_H

#include <stddef.h>
#include <stdint.h>

/* The most lanes any kernel has. */
#define NM_LANES 8

typedef enum nm_kernel {
  NM_KERNEL_AUTO = 0,    /* AVX-512, else AVX2, else scalar */
  NM_KERNEL_SCALAR = 1,  /* no lanes: one query at a time */
  NM_KERNEL_GENERIC = 2, /* lanes in portable vector code */
  NM_KERNEL_AVX2 = 3,
  NM_KERNEL_AVX512 = 4
} nm_kernel;

/* "auto", "scalar", "generic", "avx2", "avx512"; NULL if out of range. */
const char *nm_kernel_name(nm_kernel k);
int nm_kernel_parse(const char *name, nm_kernel *out);
/* Whether this CPU (and this build) runs k. */
int nm_kernel_supported(nm_kernel k);
/* What AUTO resolves to here. */
nm_kernel nm_kernel_best(void);

typedef struct nm_lanes nm_lanes;

/* NULL when memory runs out. */
nm_lanes *nm_lanes_new(nm_kernel kernel);
void nm_lanes_free(nm_lanes *g);

/* How many queries the kernel takes at once. */
unsigned nm_lanes_width(const nm_lanes *g);

/* Loads nl (1..nm_lanes_width) queries; query l is q[l] of m[l] (1..64) code
 * points. */
void nm_lanes_load(nm_lanes *g, const uint32_t *const *q, const uint32_t *m,
                   unsigned nl);

/*
 * Scans count reference names of one length n, stored one after the other
 * from `names` (name p at names + p * n, its signature at sigs + 2 * p),
 * from name *pos on. A name whose signature bound (nm_signature.h) exceeds
 * every lane's limit is passed over unread. limit[l] is
 * lane l's largest distance of interest, or -1 to leave the lane out.
 * Stops at the first name with a lane within its limit: sets *pos to it,
 * dist[l] to each lane's distance (or to a value above limit[l]) and
 * returns 1. Returns 0 at the end.
 */
int nm_lanes_scan(const nm_lanes *g, const uint32_t *names,
                  const uint64_t *sigs, size_t count, uint32_t n,
                  const int64_t *limit, size_t *pos, uint32_t *dist);

#endif
