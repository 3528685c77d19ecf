#include "nm_lanes.h"

#include "nm_enum.h"
#include "nm_signature.h"

#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#if defined(__x86_64__) && (defined(__GNUC__) || defined(__clang__))
#include <immintrin.h>
#endif

#if defined(__x86_64__) && (defined(__GNUC__) || defined(__clang__))
#define NM_X86 1
#else
#define NM_X86 0
#endif

/* Code points >= 256 of the loaded queries, in an open-addressing table
 * big enough for NM_LANES x 64 distinct ones at half load. */
#define OTHER_BITS 10
#define OTHER_SLOTS (1u << OTHER_BITS)

/* Match bits: row c holds `width` words, bit i of word l set where query
 * l has code point c at position i. */
struct nm_lanes {
  uint64_t latin[256 * NM_LANES];              /* rows of code points < 256 */
  uint64_t other[OTHER_SLOTS * NM_LANES];      /* rows of the others, by slot */
  uint64_t zero[NM_LANES];                     /* the row of absent ones */
  uint64_t top[NM_LANES];                      /* bit m - 1 of each lane */
  int64_t m[NM_LANES];                         /* each lane's query length */
  uint64_t sig_lo[NM_LANES], sig_hi[NM_LANES]; /* their signatures */
  uint32_t other_cp[OTHER_SLOTS];              /* 0: free slot */
  uint32_t used[OTHER_SLOTS];                  /* slots in use, to clear */
  unsigned nused, nl, width;
  int (*scan)(const nm_lanes *, const uint32_t *, const uint64_t *, size_t,
              uint32_t, const int64_t *, size_t *, uint32_t *);
};

static const char *const kernel_names[] = {"auto", "scalar", "generic", "avx2",
                                           "avx512"};
NM_ENUM_FUNCTIONS(nm_kernel, nm_kernel, kernel_names)

int nm_kernel_supported(nm_kernel k) {
  switch (k) {
  case NM_KERNEL_AUTO:
  case NM_KERNEL_SCALAR:
  case NM_KERNEL_GENERIC:
    return 1;
#if NM_X86
  /* libgcc fills in the CPU model before main; reading it is all these
   * do, from any thread. */
  case NM_KERNEL_AVX2:
    return __builtin_cpu_supports("avx2") && __builtin_cpu_supports("popcnt");
  case NM_KERNEL_AVX512:
    return __builtin_cpu_supports("avx512f") &&
           __builtin_cpu_supports("avx512bw") &&
           __builtin_cpu_supports("avx512vl") &&
           __builtin_cpu_supports("avx512dq") &&
           __builtin_cpu_supports("avx512vpopcntdq");
#endif
  default:
    return 0;
  }
}

nm_kernel nm_kernel_best(void) {
  if (nm_kernel_supported(NM_KERNEL_AVX512)) {
    return NM_KERNEL_AVX512;
  }
  if (nm_kernel_supported(NM_KERNEL_AVX2)) {
    return NM_KERNEL_AVX2;
  }
  /* Two lanes without a popcount instruction lost to one query at a time
   * (measured on x86-64: docs/benchmarks.md). */
  return NM_KERNEL_SCALAR;
}

static inline unsigned other_slot(uint32_t c) {
  return (c * 0x9E3779B1u) >> (32 - OTHER_BITS);
}

static inline const uint64_t *other_bits(const nm_lanes *g, uint32_t c) {
  for (unsigned s = other_slot(c);; s = (s + 1) % OTHER_SLOTS) {
    if (g->other_cp[s] == c) {
      return &g->other[s * g->width];
    }
    if (g->other_cp[s] == 0) {
      return g->zero;
    }
  }
}

static uint64_t *other_bits_insert(nm_lanes *g, uint32_t c) {
  unsigned s = other_slot(c);
  while (g->other_cp[s] != 0 && g->other_cp[s] != c) {
    s = (s + 1) % OTHER_SLOTS;
  }
  if (g->other_cp[s] == 0) {
    g->other_cp[s] = c;
    g->used[g->nused++] = s;
  }
  return &g->other[s * g->width];
}

/* Per-lane popcount where the instruction set has no vector one. */
#define POPCOUNT_LANES(dst, src)                                               \
  for (unsigned l_ = 0; l_ < SCAN_WIDTH; l_++) {                               \
    (dst)[l_] = __builtin_popcountll((src)[l_]);                               \
  }

#define SCAN_NAME scan_generic
#define SCAN_WIDTH 2
#define SCAN_TARGET
#define SCAN_POPCOUNT POPCOUNT_LANES
#include "nm_lanes_scan.h"
#undef SCAN_NAME
#undef SCAN_WIDTH
#undef SCAN_TARGET
#undef SCAN_POPCOUNT

#if NM_X86
#define SCAN_NAME scan_avx2
#define SCAN_WIDTH 4
#define SCAN_TARGET __attribute__((target("avx2,popcnt")))
#define SCAN_POPCOUNT POPCOUNT_LANES
#include "nm_lanes_scan.h"
#undef SCAN_NAME
#undef SCAN_WIDTH
#undef SCAN_TARGET
#undef SCAN_POPCOUNT

#define SCAN_NAME scan_avx512
#define SCAN_WIDTH 8
#define SCAN_TARGET                                                            \
  __attribute__((target("avx512f,avx512vl,avx512bw,avx512dq,"                  \
                        "avx512vpopcntdq")))
#define SCAN_POPCOUNT(dst, src) (dst) = (iv)_mm512_popcnt_epi64((__m512i)(src))
#include "nm_lanes_scan.h"
#undef SCAN_NAME
#undef SCAN_WIDTH
#undef SCAN_TARGET
#undef SCAN_POPCOUNT
#endif

nm_lanes *nm_lanes_new(nm_kernel kernel) {
  if (kernel == NM_KERNEL_AUTO) {
    kernel = nm_kernel_best();
  }
  if (kernel == NM_KERNEL_SCALAR || !nm_kernel_supported(kernel)) {
    return NULL;
  }
  size_t size = (sizeof(nm_lanes) + 63) & ~(size_t)63;
  nm_lanes *g = aligned_alloc(64, size);
  if (!g) {
    return NULL;
  }
  memset(g, 0, sizeof *g);
  g->scan = scan_generic;
  g->width = 2;
#if NM_X86
  if (kernel == NM_KERNEL_AVX2) {
    g->scan = scan_avx2;
    g->width = 4;
  } else if (kernel == NM_KERNEL_AVX512) {
    g->scan = scan_avx512;
    g->width = 8;
  }
#endif
  return g;
}

void nm_lanes_free(nm_lanes *g) {
  free(g);
}

unsigned nm_lanes_width(const nm_lanes *g) {
  return g->width;
}

void nm_lanes_load(nm_lanes *g, const uint32_t *const *q, const uint32_t *m,
                   unsigned nl) {
  unsigned w = g->width;
  memset(g->latin, 0, 256 * w * sizeof *g->latin);
  for (unsigned i = 0; i < g->nused; i++) {
    g->other_cp[g->used[i]] = 0;
    memset(&g->other[g->used[i] * w], 0, w * sizeof *g->other);
  }
  g->nused = 0;
  g->nl = nl;
  for (unsigned l = 0; l < w; l++) {
    uint64_t sig[2] = {0, 0};
    if (l < nl) {
      nm_signature(q[l], m[l], sig);
    }
    g->sig_lo[l] = sig[0];
    g->sig_hi[l] = sig[1];
    g->m[l] = l < nl ? m[l] : 0;
    g->top[l] = l < nl ? (uint64_t)1 << (m[l] - 1) : 0;
    for (uint32_t i = 0; l < nl && i < m[l]; i++) {
      uint32_t c = q[l][i];
      uint64_t *row = c < 256 ? &g->latin[c * w] : other_bits_insert(g, c);
      row[l] |= (uint64_t)1 << i;
    }
  }
}

int nm_lanes_scan(const nm_lanes *g, const uint32_t *names,
                  const uint64_t *sigs, size_t count, uint32_t n,
                  const int64_t *limit, size_t *pos, uint32_t *dist) {
  return g->scan(g, names, sigs, count, n, limit, pos, dist);
}
