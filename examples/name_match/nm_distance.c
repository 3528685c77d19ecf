#include "nm_distance.h"

#include <stdbool.h>
#include <stdlib.h>

/*
 * The pattern's code points become symbols 0..nsym-1; symbol nsym stands
 * for every code point the pattern lacks (its match words are all zero).
 * Code points below 256 find their symbol in a table, the others by binary
 * search in `high`, which is sorted.
 */
struct nm_pattern {
  size_t m, nblocks, nsym, nhigh;
  uint32_t latin[256];
  uint32_t *high;     /* sorted code points >= 256 */
  uint32_t *high_sym; /* their symbols */
  uint64_t *peq;      /* (nsym + 1) rows of nblocks match words */
  uint64_t *pv, *mv;  /* scratch: the vertical deltas of one column */
  uint32_t *dp_p;     /* the dynamic-programming form: the pattern */
  uint32_t *dp_row;   /* and one row of m + 1 cells */
};

static int cmp_u32(const void *a, const void *b) {
  uint32_t x = *(const uint32_t *)a, y = *(const uint32_t *)b;
  return x < y ? -1 : x > y;
}

nm_pattern *nm_pattern_new_dp(const uint32_t *p, size_t m) {
  nm_pattern *pat = calloc(1, sizeof *pat);
  if (!pat) {
    return NULL;
  }
  pat->m = m;
  pat->dp_p = malloc((m ? m : 1) * sizeof *pat->dp_p);
  pat->dp_row = malloc((m + 1) * sizeof *pat->dp_row);
  if (!pat->dp_p || !pat->dp_row) {
    nm_pattern_free(pat);
    return NULL;
  }
  for (size_t i = 0; i < m; i++) {
    pat->dp_p[i] = p[i];
  }
  return pat;
}

nm_pattern *nm_pattern_new(const uint32_t *p, size_t m) {
  nm_pattern *pat = calloc(1, sizeof *pat);
  if (!pat) {
    return NULL;
  }
  pat->m = m;
  pat->nblocks = (m + 63) / 64;
  uint32_t *high = malloc((m ? m : 1) * sizeof *high);
  pat->high = high;
  pat->high_sym = malloc((m ? m : 1) * sizeof *pat->high_sym);
  if (!high || !pat->high_sym) {
    nm_pattern_free(pat);
    return NULL;
  }
  for (size_t c = 0; c < 256; c++) {
    pat->latin[c] = UINT32_MAX;
  }
  size_t nsym = 0, nhigh = 0;
  for (size_t i = 0; i < m; i++) {
    if (p[i] < 256) {
      if (pat->latin[p[i]] == UINT32_MAX) {
        pat->latin[p[i]] = (uint32_t)nsym++;
      }
    } else {
      high[nhigh++] = p[i];
    }
  }
  qsort(high, nhigh, sizeof *high, cmp_u32);
  size_t unique = 0;
  for (size_t i = 0; i < nhigh; i++) {
    if (unique == 0 || high[unique - 1] != high[i]) {
      high[unique] = high[i];
      pat->high_sym[unique++] = (uint32_t)nsym++;
    }
  }
  pat->nhigh = unique;
  pat->nsym = nsym;
  for (size_t c = 0; c < 256; c++) {
    if (pat->latin[c] == UINT32_MAX) {
      pat->latin[c] = (uint32_t)nsym;
    }
  }
  size_t nb = pat->nblocks ? pat->nblocks : 1;
  if ((nsym + 1) * nb > NM_PATTERN_TABLE_MAX / sizeof *pat->peq) {
    nm_pattern_free(pat);
    return nm_pattern_new_dp(p, m);
  }
  pat->peq = calloc((nsym + 1) * nb, sizeof *pat->peq);
  pat->pv = malloc(nb * sizeof *pat->pv);
  pat->mv = malloc(nb * sizeof *pat->mv);
  if (!pat->peq || !pat->pv || !pat->mv) {
    nm_pattern_free(pat);
    return NULL;
  }
  for (size_t i = 0; i < m; i++) {
    uint32_t sym = p[i] < 256 ? pat->latin[p[i]] : UINT32_MAX;
    if (sym == UINT32_MAX) {
      uint32_t *hit = bsearch(&p[i], high, unique, sizeof *high, cmp_u32);
      sym = pat->high_sym[hit - high];
    }
    pat->peq[sym * nb + i / 64] |= (uint64_t)1 << (i % 64);
  }
  return pat;
}

void nm_pattern_free(nm_pattern *pat) {
  if (pat) {
    free(pat->high);
    free(pat->high_sym);
    free(pat->peq);
    free(pat->pv);
    free(pat->mv);
    free(pat->dp_p);
    free(pat->dp_row);
    free(pat);
  }
}

size_t nm_pattern_length(const nm_pattern *pat) {
  return pat->m;
}

static inline uint32_t symbol_of(const nm_pattern *pat, uint32_t c) {
  if (c < 256) {
    return pat->latin[c];
  }
  size_t lo = 0, hi = pat->nhigh;
  while (lo < hi) {
    size_t mid = lo + (hi - lo) / 2;
    if (pat->high[mid] < c) {
      lo = mid + 1;
    } else {
      hi = mid;
    }
  }
  return lo < pat->nhigh && pat->high[lo] == c ? pat->high_sym[lo]
                                               : (uint32_t)pat->nsym;
}

/* One column step of one 64-bit block. hin is the horizontal delta coming
 * in at the block's top row (-1, 0, +1); returns the one leaving at `top`,
 * the block's last pattern row. */
static inline int advance_block(uint64_t *pv_io, uint64_t *mv_io, uint64_t eq,
                                int hin, uint64_t top) {
  uint64_t pv = *pv_io, mv = *mv_io;
  uint64_t xv = eq | mv;
  if (hin < 0) {
    eq |= 1;
  }
  uint64_t xh = (((eq & pv) + pv) ^ pv) | eq;
  uint64_t ph = mv | ~(xh | pv);
  uint64_t mh = pv & xh;
  int hout = (ph & top) ? 1 : (mh & top) ? -1 : 0;
  ph <<= 1;
  mh <<= 1;
  if (hin < 0) {
    mh |= 1;
  } else if (hin > 0) {
    ph |= 1;
  }
  *pv_io = mh | ~(xv | ph);
  *mv_io = ph & xv;
  return hout;
}

/* Row by row over the text; the least cell of a column never falls in later
 * columns, so once it passes max the distance will too. */
static uint32_t dp_distance(nm_pattern *pat, const uint32_t *t, size_t n,
                            uint32_t max) {
  size_t m = pat->m;
  const uint32_t *p = pat->dp_p;
  uint32_t *row = pat->dp_row;
  for (size_t i = 0; i <= m; i++) {
    row[i] = (uint32_t)i;
  }
  for (size_t j = 1; j <= n; j++) {
    uint32_t diag = row[0];
    row[0] = (uint32_t)j;
    uint32_t least = row[0];
    for (size_t i = 1; i <= m; i++) {
      uint32_t up = row[i];
      uint32_t v = diag + (p[i - 1] != t[j - 1]);
      if (up + 1 < v) {
        v = up + 1;
      }
      if (row[i - 1] + 1 < v) {
        v = row[i - 1] + 1;
      }
      diag = up;
      row[i] = v;
      if (v < least) {
        least = v;
      }
    }
    if (least > max) {
      return max + 1;
    }
  }
  return row[m] > max ? max + 1 : row[m];
}

uint32_t nm_pattern_distance(nm_pattern *pat, const uint32_t *t, size_t n,
                             uint32_t max) {
  if (max > UINT32_MAX - 2) {
    max = UINT32_MAX - 2;
  }
  size_t m = pat->m;
  size_t diff = m > n ? m - n : n - m;
  if (diff > max) {
    return max + 1;
  }
  if (m == 0) {
    return (uint32_t)n;
  }
  if (pat->dp_row) {
    return dp_distance(pat, t, n, max);
  }
  /* With max at or past the longer length no early stop can happen. */
  bool bounded = max < (m > n ? m : n);
  size_t nb = pat->nblocks;
  uint64_t last_top = (uint64_t)1 << ((m - 1) % 64);
  /* The score is D[m][j]; the final distance is at least
   * D[m][j] - (n - j), which is what stops the scan early. */
  int64_t score = (int64_t)m;
  int64_t limit = (int64_t)max + (int64_t)n;
  if (nb == 1) {
    uint64_t pv = ~(uint64_t)0, mv = 0;
    const uint64_t *peq = pat->peq;
    for (size_t j = 0; j < n; j++) {
      uint64_t eq = peq[symbol_of(pat, t[j])];
      uint64_t xv = eq | mv;
      uint64_t xh = (((eq & pv) + pv) ^ pv) | eq;
      uint64_t ph = mv | ~(xh | pv);
      uint64_t mh = pv & xh;
      score += (ph & last_top) != 0;
      score -= (mh & last_top) != 0;
      ph = (ph << 1) | 1;
      mh <<= 1;
      pv = mh | ~(xv | ph);
      mv = ph & xv;
      if (bounded && score + (int64_t)j + 1 > limit) {
        return max + 1;
      }
    }
    return (uint32_t)score;
  }
  uint64_t *pv = pat->pv, *mv = pat->mv;
  for (size_t b = 0; b < nb; b++) {
    pv[b] = ~(uint64_t)0;
    mv[b] = 0;
  }
  const uint64_t top = (uint64_t)1 << 63;
  for (size_t j = 0; j < n; j++) {
    const uint64_t *eq = pat->peq + symbol_of(pat, t[j]) * nb;
    int h = 1; /* row 0 is D[0][j] = j: +1 per column */
    for (size_t b = 0; b + 1 < nb; b++) {
      h = advance_block(&pv[b], &mv[b], eq[b], h, top);
    }
    h = advance_block(&pv[nb - 1], &mv[nb - 1], eq[nb - 1], h, last_top);
    score += h;
    if (bounded && score + (int64_t)j + 1 > limit) {
      return max + 1;
    }
  }
  return (uint32_t)score;
}

uint32_t nm_levenshtein_max(const uint32_t *a, size_t m, const uint32_t *b,
                            size_t n, uint32_t max) {
  if (m > n) { /* the shorter one as pattern: fewer blocks */
    const uint32_t *s = a;
    size_t l = m;
    a = b, m = n, b = s, n = l;
  }
  if (max > UINT32_MAX - 2) {
    max = UINT32_MAX - 2;
  }
  if (m == 0) {
    return n > max ? max + 1 : (uint32_t)n;
  }
  nm_pattern *pat = nm_pattern_new(a, m);
  if (!pat) {
    return NM_DIST_ERROR;
  }
  uint32_t d = nm_pattern_distance(pat, b, n, max);
  nm_pattern_free(pat);
  return d;
}

uint32_t nm_levenshtein(const uint32_t *a, size_t m, const uint32_t *b,
                        size_t n) {
  return nm_levenshtein_max(a, m, b, n, UINT32_MAX - 2);
}
