/*
 * The scan loop of nm_lanes.c, included once per kernel with
 *   SCAN_NAME      the function's name
 *   SCAN_WIDTH     lanes (64-bit each) in one vector
 *   SCAN_TARGET    the instruction set attribute, or nothing
 *   SCAN_POPCOUNT  (dst, src): dst = the popcount of each lane of src
 * so that each kernel has vectors of its own register width: a wider
 * vector type than the instruction set has would be emulated, slowly.
 *
 * A name is first checked against the letter-count bound of every lane
 * (nm_signature.h): most names are passed over there. Then, per lane, score
 * is D[m][j] after j code points of the name; the final distance is at
 * least D[m][j] - (n - j), so the name is given up once that passes the
 * limit in every lane (checked every 4 steps).
 */
SCAN_TARGET static int SCAN_NAME(const nm_lanes *g, const uint32_t *names,
                                 const uint64_t *sigs, size_t count, uint32_t n,
                                 const int64_t *limit, size_t *pos,
                                 uint32_t *dist) {
  typedef uint64_t uv __attribute__((vector_size(8 * SCAN_WIDTH)));
  typedef int64_t iv __attribute__((vector_size(8 * SCAN_WIDTH)));
  const uv *latin = (const uv *)g->latin;
  iv lim_hit, lim_exit, m;
  uv top, q_lo, q_hi;
  for (unsigned l = 0; l < SCAN_WIDTH; l++) {
    bool on = l < g->nl && limit[l] >= 0;
    lim_hit[l] = on ? limit[l] : -1;
    lim_exit[l] = on ? limit[l] + (int64_t)n : INT64_MIN;
    m[l] = g->m[l];
    top[l] = g->top[l];
    q_lo[l] = g->sig_lo[l];
    q_hi[l] = g->sig_hi[l];
  }
  const uv zero = {0}, ones = ~zero;
  for (size_t p = *pos; p < count; p++) {
    uv r_lo = zero + sigs[2 * p], r_hi = zero + sigs[2 * p + 1];
    iv a, b, c, d;
    SCAN_POPCOUNT(a, q_lo & ~r_lo);
    SCAN_POPCOUNT(b, q_hi & ~r_hi);
    SCAN_POPCOUNT(c, r_lo & ~q_lo);
    SCAN_POPCOUNT(d, r_hi & ~q_hi);
    iv may_hit = (a + b <= lim_hit) & (c + d <= lim_hit);
    int64_t any_may = 0;
    for (unsigned l = 0; l < SCAN_WIDTH; l++) {
      any_may |= may_hit[l];
    }
    if (!any_may) {
      continue;
    }
    const uint32_t *t = names + p * n;
    uv pv = ones, mv = zero;
    iv score = m;
    bool gave_up = false;
    for (uint32_t j = 0; j < n; j++) {
      uint32_t c = t[j];
      uv eq = c < 256 ? latin[c] : *(const uv *)other_bits(g, c);
      uv xv = eq | mv;
      uv xh = (((eq & pv) + pv) ^ pv) | eq;
      uv ph = mv | ~(xh | pv);
      uv mh = pv & xh;
      score -= (ph & top) != zero; /* a comparison is -1 where true */
      score += (mh & top) != zero;
      ph = (ph << 1) | 1;
      mh <<= 1;
      pv = mh | ~(xv | ph);
      mv = ph & xv;
      if ((j & 3) == 3) {
        iv alive = score + (int64_t)(j + 1) <= lim_exit;
        int64_t any = 0;
        for (unsigned l = 0; l < SCAN_WIDTH; l++) {
          any |= alive[l];
        }
        if (!any) {
          gave_up = true;
          break;
        }
      }
    }
    if (gave_up) {
      continue;
    }
    iv hit = score <= lim_hit;
    int64_t any = 0;
    for (unsigned l = 0; l < SCAN_WIDTH; l++) {
      any |= hit[l];
    }
    if (any) {
      for (unsigned l = 0; l < g->nl; l++) {
        dist[l] = hit[l] ? (uint32_t)score[l] : UINT32_MAX;
      }
      *pos = p;
      return 1;
    }
  }
  *pos = count;
  return 0;
}
