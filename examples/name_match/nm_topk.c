#include "nm_topk.h"

#include "nm_distance.h"
#include "nm_signature.h"
#include "nm_utf8.h"

#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

/* One query's answer so far: best first, at most k. */
typedef struct best {
  nm_match *m;
  uint32_t n;
} best;

typedef struct search {
  const nm_chunk_view *chunk;
  const nm_topk_options *opt;
  /* Per lane (a scalar search uses lane 0): the query length, where its
   * answer goes, and its cutoff, the largest distance that could still
   * enter the answer. */
  uint32_t m[NM_LANES];
  best best[NM_LANES];
  int64_t cap[NM_LANES];    /* the most any match may be */
  int64_t cutoff[NM_LANES]; /* and what still enters the answer */
  unsigned nl;
} search;

static int64_t cutoff_of(const search *s, unsigned l) {
  const best *b = &s->best[l];
  if (b->n < s->opt->k) {
    return s->cap[l];
  }
  int64_t worst = b->m[b->n - 1].distance;
  return worst < s->cap[l] ? worst : s->cap[l];
}

/* Offers the name at sorted position p, of length len, to lane l. */
static void offer(search *s, unsigned l, uint32_t d, uint32_t p, uint32_t len) {
  best *b = &s->best[l];
  uint32_t longer = len > s->m[l] ? len : s->m[l];
  nm_match cand = {s->chunk->first_row + s->chunk->rows[p], d,
                   longer ? 1.0 - (double)d / (double)longer : 1.0};
  uint32_t k = s->opt->k;
  if (b->n == k && !nm_match_before(&cand, &b->m[k - 1])) {
    return;
  }
  uint32_t i = b->n < k ? b->n++ : k - 1;
  while (i > 0 && nm_match_before(&cand, &b->m[i - 1])) {
    b->m[i] = b->m[i - 1];
    i--;
  }
  b->m[i] = cand;
  s->cutoff[l] = cutoff_of(s, l);
}

static int64_t gap(int64_t len, uint32_t m) {
  return len > m ? len - m : m - len;
}

/* Lanes to which names of length len can still matter. */
static unsigned active_lanes(const search *s, int64_t len) {
  unsigned mask = 0;
  for (unsigned l = 0; l < s->nl; l++) {
    if (gap(len, s->m[l]) <= s->cutoff[l]) {
      mask |= 1u << l;
    }
  }
  return mask;
}

typedef void (*scan_fn)(search *s, void *ctx, uint32_t len, unsigned mask);

/*
 * Visits the name lengths nearest the queries' first, so that answers fill
 * with close names early and the cutoffs shrink fast: the lengths the lanes
 * span, then outwards one step up and one down, until no lane can take a
 * name that long (or that short). A length is only scanned for the lanes
 * it can still serve; cutoffs only shrink, so a direction once closed stays
 * closed.
 */
static void walk_lengths(search *s, void *ctx, scan_fn scan) {
  int64_t max_len = s->chunk->max_len;
  int64_t lo = s->m[0], hi = s->m[0];
  for (unsigned l = 1; l < s->nl; l++) {
    lo = s->m[l] < lo ? s->m[l] : lo;
    hi = s->m[l] > hi ? s->m[l] : hi;
  }
  for (int64_t len = lo; len <= hi && len <= max_len; len++) {
    unsigned mask = active_lanes(s, len);
    if (mask) {
      scan(s, ctx, (uint32_t)len, mask);
    }
  }
  int64_t up = hi + 1, down = lo - 1 < max_len ? lo - 1 : max_len;
  for (;;) {
    unsigned up_mask = up <= max_len ? active_lanes(s, up) : 0;
    if (up_mask) {
      scan(s, ctx, (uint32_t)up++, up_mask);
    }
    unsigned down_mask = down >= 0 ? active_lanes(s, down) : 0;
    if (down_mask) {
      scan(s, ctx, (uint32_t)down--, down_mask);
    }
    if (!up_mask && !down_mask) {
      return;
    }
  }
}

/* One query at a time: a prepared pattern and its signature. */
typedef struct scalar_query {
  nm_pattern *pat;
  uint64_t sig[2];
} scalar_query;

static void scan_scalar(search *s, void *ctx, uint32_t len, unsigned mask) {
  (void)mask;
  scalar_query *sq = ctx;
  nm_bucket b = nm_chunk_bucket(s->chunk, len);
  for (uint32_t i = 0; i < b.count; i++) {
    if (gap(len, s->m[0]) > s->cutoff[0]) {
      return;
    }
    if (nm_signature_bound(sq->sig, &b.sigs[2 * (size_t)i]) > s->cutoff[0]) {
      continue;
    }
    uint32_t max =
        s->cutoff[0] < UINT32_MAX - 2 ? (uint32_t)s->cutoff[0] : UINT32_MAX - 2;
    uint32_t d =
        nm_pattern_distance(sq->pat, b.names + (size_t)i * len, len, max);
    if (d <= s->cutoff[0]) {
      offer(s, 0, d, b.first + i, len);
    }
  }
}

static void scan_lanes(search *s, void *ctx, uint32_t len, unsigned mask) {
  const nm_lanes *g = ctx;
  nm_bucket b = nm_chunk_bucket(s->chunk, len);
  int64_t limit[NM_LANES];
  uint32_t dist[NM_LANES];
  size_t pos = 0;
  for (;;) {
    for (unsigned l = 0; l < NM_LANES; l++) {
      limit[l] = (mask >> l) & 1 ? s->cutoff[l] : -1;
    }
    if (!nm_lanes_scan(g, b.names, b.sigs, b.count, len, limit, &pos, dist)) {
      return;
    }
    for (unsigned l = 0; l < s->nl; l++) {
      if ((mask >> l) & 1 && dist[l] <= limit[l]) {
        offer(s, l, dist[l], b.first + (uint32_t)pos, len);
      }
    }
    mask &= active_lanes(s, len);
    if (!mask) {
      return;
    }
    pos++;
  }
}

static void start(search *s, unsigned nl, const uint32_t *m, const uint32_t *qi,
                  const int64_t *limits, nm_match *out) {
  uint32_t k = s->opt->k;
  /* Far above any distance, and far from overflowing with a length. */
  int64_t max = s->opt->max_distance == UINT32_MAX
                    ? INT64_MAX / 4
                    : (int64_t)s->opt->max_distance;
  s->nl = nl;
  for (unsigned l = 0; l < nl; l++) {
    int64_t limit = limits ? limits[qi[l]] : max;
    s->m[l] = m[l];
    s->best[l].m = out + (size_t)qi[l] * k;
    s->best[l].n = 0;
    s->cap[l] = limit < max ? limit : max;
    s->cutoff[l] = cutoff_of(s, l);
  }
}

static void finish(search *s, const uint32_t *qi, uint32_t *counts) {
  for (unsigned l = 0; l < s->nl; l++) {
    counts[qi[l]] = s->best[l].n;
  }
}

typedef struct query {
  const uint32_t *cps;
  uint32_t len;
  uint32_t index;
} query;

static int by_length(const void *a, const void *b) {
  const query *x = a, *y = b;
  if (x->len != y->len) {
    return x->len < y->len ? -1 : 1;
  }
  return x->index < y->index ? -1 : x->index > y->index;
}

const char *nm_top_k(const nm_chunk_view *chunk, const char *const *q,
                     const size_t *qlen, size_t nq, const nm_topk_options *opt,
                     const int64_t *limits, nm_match *out, uint32_t *counts) {
  if (opt->k < 1 || opt->k > NM_K_MAX) {
    return "k out of range";
  }
  if (nq >= UINT32_MAX) {
    return "too many queries in one batch";
  }
  if (!nm_kernel_name(opt->kernel)) {
    return "unknown kernel";
  }
  if (!nm_kernel_supported(opt->kernel)) {
    return "kernel not supported on this CPU";
  }
  size_t bytes = 0;
  for (size_t i = 0; i < nq; i++) {
    if (qlen[i] >= UINT32_MAX) {
      return "query too long";
    }
    bytes += qlen[i];
  }
  uint32_t *cps = malloc((bytes ? bytes : 1) * sizeof *cps);
  query *qs = malloc((nq ? nq : 1) * sizeof *qs);
  nm_kernel kernel =
      opt->kernel == NM_KERNEL_AUTO ? nm_kernel_best() : opt->kernel;
  nm_lanes *lanes = kernel == NM_KERNEL_SCALAR ? NULL : nm_lanes_new(kernel);
  const char *err = NULL;
  if (!cps || !qs || (kernel != NM_KERNEL_SCALAR && !lanes)) {
    err = "out of memory searching a chunk";
    goto done;
  }
  size_t used = 0;
  for (size_t i = 0; i < nq; i++) {
    size_t n = nm_utf8_decode(q[i], qlen[i], cps + used);
    n = nm_normalize(cps + used, n, chunk->norm);
    qs[i] = (query){cps + used, (uint32_t)n, (uint32_t)i};
    used += n;
  }
  /* Queries of similar length share a vector: their gaps to a name's
   * length, and so what can be skipped, are alike. */
  qsort(qs, nq, sizeof *qs, by_length);
  search s = {.chunk = chunk, .opt = opt};
  size_t i = 0;
  while (i < nq) {
    const uint32_t *lane_q[NM_LANES];
    uint32_t m[NM_LANES], qi[NM_LANES];
    unsigned nl = 0, width = lanes ? nm_lanes_width(lanes) : 0;
    while (i + nl < nq && nl < width && qs[i + nl].len >= 1 &&
           qs[i + nl].len <= 64) {
      lane_q[nl] = qs[i + nl].cps;
      m[nl] = qs[i + nl].len;
      qi[nl] = qs[i + nl].index;
      nl++;
    }
    if (nl > 0) {
      start(&s, nl, m, qi, limits, out);
      nm_lanes_load(lanes, lane_q, m, nl);
      walk_lengths(&s, lanes, scan_lanes);
      finish(&s, qi, counts);
      i += nl;
      continue;
    }
    /* Empty, longer than 64 code points, or no lanes: one at a time. */
    scalar_query sq = {nm_pattern_new(qs[i].cps, qs[i].len), {0, 0}};
    if (!sq.pat) {
      err = "out of memory searching a chunk";
      goto done;
    }
    nm_signature(qs[i].cps, qs[i].len, sq.sig);
    start(&s, 1, &qs[i].len, &qs[i].index, limits, out);
    walk_lengths(&s, &sq, scan_scalar);
    finish(&s, &qs[i].index, counts);
    nm_pattern_free(sq.pat);
    i++;
  }
done:
  free(cps);
  free(qs);
  nm_lanes_free(lanes);
  return err;
}

void nm_match_merge(nm_match *a, uint32_t *na, const nm_match *b, uint32_t nb,
                    uint32_t k) {
  nm_match merged[NM_K_MAX];
  uint32_t i = 0, j = 0, n = 0;
  while (n < k && (i < *na || j < nb)) {
    if (j >= nb || (i < *na && nm_match_before(&a[i], &b[j]))) {
      merged[n++] = a[i++];
    } else {
      merged[n++] = b[j++];
    }
  }
  memcpy(a, merged, n * sizeof *a);
  *na = n;
}
