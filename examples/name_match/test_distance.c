/*
 * The matching kernel against plain references: UTF-8 decoding and
 * normalization on known inputs; the bit-parallel distance (one word, many
 * words, the DP form) against a textbook dynamic program on random pairs of
 * 0..200 code points, ASCII and not; the chunk search with every kernel
 * this CPU runs against a brute-force ranking; chunk blob checks.
 */
#include "nm_chunk.h"
#include "nm_distance.h"
#include "nm_normalize.h"
#include "nm_signature.h"
#include "nm_topk.h"
#include "nm_utf8.h"
#include "test_util.h"

#include <stdlib.h>
#include <string.h>

/* ---- references --------------------------------------------------------- */

static uint32_t dp_distance(const uint32_t *a, size_t m, const uint32_t *b,
                            size_t n) {
  uint32_t *d = malloc((m + 1) * (n + 1) * sizeof *d);
  REQUIRE(d);
  for (size_t i = 0; i <= m; i++) {
    d[i * (n + 1)] = (uint32_t)i;
  }
  for (size_t j = 0; j <= n; j++) {
    d[j] = (uint32_t)j;
  }
  for (size_t i = 1; i <= m; i++) {
    for (size_t j = 1; j <= n; j++) {
      uint32_t sub = d[(i - 1) * (n + 1) + j - 1] + (a[i - 1] != b[j - 1]);
      uint32_t del = d[(i - 1) * (n + 1) + j] + 1;
      uint32_t ins = d[i * (n + 1) + j - 1] + 1;
      uint32_t v = sub < del ? sub : del;
      d[i * (n + 1) + j] = v < ins ? v : ins;
    }
  }
  uint32_t r = d[m * (n + 1) + n];
  free(d);
  return r;
}

static uint64_t rng_state = 0x2545F4914F6CDD1DULL;

static uint64_t rnd(void) {
  rng_state ^= rng_state << 13;
  rng_state ^= rng_state >> 7;
  rng_state ^= rng_state << 17;
  return rng_state;
}

static uint32_t rnd_below(uint32_t n) {
  return (uint32_t)(rnd() % n);
}

/* Alphabets: few letters (many equal characters, many ties), ASCII, and a
 * mix with 2-, 3- and 4-byte UTF-8. */
static const uint32_t alpha_few[] = {'a', 'b', 'c'};
static const uint32_t alpha_ascii[] = {'a', 'b', 'c', 'd', 'e', 'f', 'g',
                                       'h', 'i', 'j', 'k', 'l', 'm', 'n',
                                       'o', 'p', 'q', 'r', 's', 't', ' '};
static const uint32_t alpha_utf8[] = {
    'a', 'e', 0xE9, 0xFC, 0x142, 0x3A9, 0x4E2D, 0x1F600, 0x20AC, 0xDC80u, 'z'};

typedef struct alphabet {
  const uint32_t *cps;
  uint32_t n;
} alphabet;

static const alphabet alphabets[] = {
    {alpha_few, 3}, {alpha_ascii, 21}, {alpha_utf8, 11}};

static size_t random_cps(uint32_t *out, size_t max_len, const alphabet *al) {
  size_t n = rnd_below((uint32_t)max_len + 1);
  for (size_t i = 0; i < n; i++) {
    out[i] = al->cps[rnd_below(al->n)];
  }
  return n;
}

/* b as a. with a few random edits. */
static size_t mutate(const uint32_t *a, size_t m, uint32_t *b, size_t cap,
                     const alphabet *al) {
  size_t n = 0;
  for (size_t i = 0; i < m && n < cap; i++) {
    uint32_t r = rnd_below(20);
    if (r == 0) {
      continue; /* delete */
    }
    if (r == 1 && n + 1 < cap) {
      b[n++] = al->cps[rnd_below(al->n)]; /* insert */
    }
    b[n++] = r == 2 ? al->cps[rnd_below(al->n)] : a[i];
  }
  return n;
}

/* ---- UTF-8 and normalization ------------------------------------------ */

static void check_decode(const char *s, const uint32_t *want, size_t nwant) {
  uint32_t got[64];
  size_t n = nm_utf8_decode(s, strlen(s), got);
  CHECK_INT_EQ(n, nwant);
  for (size_t i = 0; i < n && i < nwant; i++) {
    CHECK_INT_EQ(got[i], want[i]);
  }
}

static void test_utf8(void) {
  check_decode("abc", (const uint32_t[]){'a', 'b', 'c'}, 3);
  check_decode("\xC3\xA9t\xC3\xA9", (const uint32_t[]){0xE9, 't', 0xE9}, 3);
  check_decode("\xE2\x82\xAC\xF0\x9F\x98\x80",
               (const uint32_t[]){0x20AC, 0x1F600}, 2);
  /* overlong '/', a surrogate, a truncated euro sign, a byte never valid */
  check_decode("\xC0\xAF", (const uint32_t[]){0xDCC0, 0xDCAF}, 2);
  check_decode("\xED\xA0\x80", (const uint32_t[]){0xDCED, 0xDCA0, 0xDC80}, 3);
  check_decode("x\xE2\x82", (const uint32_t[]){'x', 0xDCE2, 0xDC82}, 3);
  check_decode("\xF5!", (const uint32_t[]){0xDCF5, '!'}, 2);
  check_decode("\xF4\x90\x80\x80",
               (const uint32_t[]){0xDCF4, 0xDC90, 0xDC80, 0xDC80}, 4);
  /* Encoding what was decoded gives the same bytes back, bad ones too. */
  for (int round = 0; round < 2000; round++) {
    char bytes[32];
    size_t len = rnd_below(sizeof bytes);
    for (size_t i = 0; i < len; i++) {
      bytes[i] = (char)rnd_below(256);
    }
    uint32_t cps[32];
    size_t n = nm_utf8_decode(bytes, len, cps);
    char back[128];
    size_t blen = 0;
    for (size_t i = 0; i < n; i++) {
      blen += nm_utf8_encode(cps[i], back + blen);
    }
    CHECK(blen == len && memcmp(back, bytes, len) == 0);
  }
}

static void check_norm(const char *in, nm_norm norm, const char *want) {
  uint32_t cps[128], w[128];
  size_t n = nm_utf8_decode(in, strlen(in), cps);
  n = nm_normalize(cps, n, norm);
  size_t nw = nm_utf8_decode(want, strlen(want), w);
  int same = n == nw && memcmp(cps, w, n * sizeof *w) == 0;
  if (!same) {
    fprintf(stderr, "normalize(%s, %s) != '%s'\n", in, nm_norm_name(norm),
            want);
  }
  CHECK(same);
}

static void test_normalize(void) {
  check_norm("  O'Brien & Sons, Co. ", NM_NORM_NAMES, "obrien sons co");
  check_norm("ACME-Holding\tS.A.", NM_NORM_NAMES, "acme holding sa");
  check_norm("M\xC3\x9CLLER \xC3\x89"
             "COLE",
             NM_NORM_NAMES,
             "m\xC3\xBCller \xC3\xA9"
             "cole");
  check_norm("\xC5\x81\xC3\x93"
             "D\xC5\xB9",
             NM_NORM_CASE,
             "\xC5\x82\xC3\xB3"
             "d\xC5\xBA"); /* ŁÓDŹ */
  check_norm("\xCE\x91\xCE\x98\xCE\x97\xCE\x9D\xCE\x91", NM_NORM_CASE,
             "\xCE\xB1\xCE\xB8\xCE\xB7\xCE\xBD\xCE\xB1"); /* ΑΘΗΝΑ */
  check_norm("\xD0\x9C\xD0\x9E\xD0\xA1\xD0\x9A\xD0\x92\xD0\x90", NM_NORM_CASE,
             "\xD0\xBC\xD0\xBE\xD1\x81\xD0\xBA\xD0\xB2\xD0\xB0"); /* МОСКВА */
  check_norm("O'Brien  Co.", NM_NORM_CASE, "o'brien  co.");
  check_norm("O'Brien  Co.", NM_NORM_NONE, "O'Brien  Co.");
  check_norm("\xE2\x80\x9C"
             "A\xE2\x80\x9D \xE2\x80\x94 B\xE2\x80\x99s",
             NM_NORM_NAMES, "a bs"); /* “A” — B’s */
  check_norm("...", NM_NORM_NAMES, "");
  CHECK_INT_EQ(nm_fold_case(0x178), 0xFF);
  CHECK_INT_EQ(nm_fold_case(0x130), 'i');
  CHECK_INT_EQ(nm_fold_case(0x1E9E), 0xDF);
  CHECK_INT_EQ(nm_fold_case(0xD7), 0xD7);
  for (uint32_t c = 0; c < 0x2000; c++) { /* folding is idempotent */
    CHECK(nm_fold_case(nm_fold_case(c)) == nm_fold_case(c));
  }
  nm_norm norm;
  CHECK(nm_norm_parse("names", &norm) == 0 && norm == NM_NORM_NAMES);
  CHECK(nm_norm_parse("bogus", &norm) == -1);
}

/* ---- distance ------------------------------------------------------------ */

static uint32_t dist_utf8(const char *a, const char *b) {
  uint32_t x[64], y[64];
  size_t m = nm_utf8_decode(a, strlen(a), x);
  size_t n = nm_utf8_decode(b, strlen(b), y);
  return nm_levenshtein(x, m, y, n);
}

static void test_known_distances(void) {
  CHECK_INT_EQ(dist_utf8("kitten", "sitting"), 3);
  CHECK_INT_EQ(dist_utf8("", "abc"), 3);
  CHECK_INT_EQ(dist_utf8("abc", ""), 3);
  CHECK_INT_EQ(dist_utf8("", ""), 0);
  CHECK_INT_EQ(dist_utf8("flaw", "lawn"), 2);
  CHECK_INT_EQ(dist_utf8("caf\xC3\xA9", "cafe"), 1);   /* é is one edit */
  CHECK_INT_EQ(dist_utf8("\xF0\x9F\x98\x80", "x"), 1); /* so is 😀 */
  CHECK_INT_EQ(dist_utf8("M\xC3\xBCller", "Mueller"), 2);
  CHECK_INT_EQ(dist_utf8("Schmidt GmbH", "Schmitt GmbH"), 1);
  /* The letter-count bound on known pairs: it counts, and caps at 4. */
  static const struct {
    const char *a, *b;
    uint32_t bound;
  } bounds[] = {{"aaaa", "bbbb", 4}, {"abc", "abd", 1},  {"abc", "cab", 0},
                {"aaaaaa", "", 4},   {"ab 12", "ab", 3}, {"", "", 0}};
  for (size_t i = 0; i < sizeof bounds / sizeof *bounds; i++) {
    uint32_t x[16], y[16];
    uint64_t sx[2], sy[2];
    nm_signature(x, nm_utf8_decode(bounds[i].a, strlen(bounds[i].a), x), sx);
    nm_signature(y, nm_utf8_decode(bounds[i].b, strlen(bounds[i].b), y), sy);
    CHECK_INT_EQ(nm_signature_bound(sx, sy), bounds[i].bound);
  }
}

static void check_pair(const uint32_t *a, size_t m, const uint32_t *b,
                       size_t n) {
  uint32_t want = dp_distance(a, m, b, n);
  uint32_t got = nm_levenshtein(a, m, b, n);
  uint32_t back = nm_levenshtein(b, n, a, m);
  uint32_t max = rnd_below(want + 3);
  uint32_t bounded = nm_levenshtein_max(a, m, b, n, max);
  uint32_t want_bounded = want <= max ? want : max + 1;
  nm_pattern *dp = nm_pattern_new_dp(a, m);
  REQUIRE(dp);
  uint32_t by_dp = nm_pattern_distance(dp, b, n, max);
  nm_pattern_free(dp);
  uint64_t sa[2], sb[2];
  nm_signature(a, m, sa);
  nm_signature(b, n, sb);
  uint32_t lower = nm_signature_bound(sa, sb);
  if (lower > want) {
    fprintf(stderr, "m=%zu n=%zu: signature bound %u above distance %u\n", m, n,
            lower, want);
    mt_test_failures++;
  }
  if (got != want || back != want || bounded != want_bounded ||
      by_dp != want_bounded) {
    fprintf(stderr,
            "m=%zu n=%zu: dp %u, got %u, reversed %u, max %u: %u (dp form "
            "%u)\n",
            m, n, want, got, back, max, bounded, by_dp);
    mt_test_failures++;
  }
  mt_test_checks++;
}

static void test_random_pairs(void) {
  uint32_t a[200], b[240];
  for (int round = 0; round < 3000; round++) {
    const alphabet *al = &alphabets[round % 3];
    /* Lengths 0..200, most under 80 (the single-word and two-word paths
     * matter most), and related pairs as well as unrelated ones. */
    size_t cap = round % 4 == 0 ? 200 : 80;
    size_t m = random_cps(a, cap, al), n;
    if (round % 2) {
      n = mutate(a, m, b, sizeof b / sizeof *b, al);
    } else {
      n = random_cps(b, cap, al);
    }
    check_pair(a, m, b, n);
  }
  /* Block edges: 63, 64, 65, 127, 128, 129 code points. */
  static const size_t edges[] = {1, 63, 64, 65, 127, 128, 129, 192};
  for (size_t e = 0; e < sizeof edges / sizeof *edges; e++) {
    for (int round = 0; round < 20; round++) {
      const alphabet *al = &alphabets[round % 3];
      for (size_t i = 0; i < edges[e]; i++) {
        a[i] = al->cps[rnd_below(al->n)];
      }
      size_t n = mutate(a, edges[e], b, sizeof b / sizeof *b, al);
      check_pair(a, edges[e], b, n);
    }
  }
}

/* ---- chunk search ---------------------------------------------------- */

typedef struct name_set {
  char **names;
  size_t *lens;
  size_t count;
} name_set;

static void random_names(name_set *s, size_t count, const alphabet *al,
                         size_t max_len, const name_set *derive_from) {
  s->names = calloc(count, sizeof *s->names);
  s->lens = calloc(count, sizeof *s->lens);
  s->count = count;
  REQUIRE(s->names && s->lens);
  for (size_t i = 0; i < count; i++) {
    uint32_t cps[160], base[160];
    size_t n;
    if (derive_from && rnd_below(3) != 0) {
      size_t j = rnd_below((uint32_t)derive_from->count);
      size_t m =
          nm_utf8_decode(derive_from->names[j], derive_from->lens[j], base);
      n = mutate(base, m, cps, 150, al);
    } else {
      n = random_cps(cps, max_len, al);
    }
    s->names[i] = malloc(4 * n + 1);
    REQUIRE(s->names[i]);
    size_t len = 0;
    for (size_t c = 0; c < n; c++) {
      len += nm_utf8_encode(cps[c], s->names[i] + len);
    }
    s->lens[i] = len;
  }
}

static void free_names(name_set *s) {
  for (size_t i = 0; i < s->count; i++) {
    free(s->names[i]);
  }
  free(s->names);
  free(s->lens);
}

/* Distance, then row: written out here, not taken from the code tested. */
static int match_cmp(const void *x, const void *y) {
  const nm_match *a = x, *b = y;
  if (a->distance != b->distance) {
    return a->distance < b->distance ? -1 : 1;
  }
  return a->row < b->row ? -1 : a->row > b->row;
}

/* The answer by brute force: every distance by the dynamic program. */
static uint32_t brute_top_k(const name_set *refs, const char *q, size_t qlen,
                            nm_norm norm, uint32_t k, uint32_t max_distance,
                            nm_match *out) {
  uint32_t qc[160], rc[160];
  size_t m = nm_normalize(qc, nm_utf8_decode(q, qlen, qc), norm);
  nm_match *all = malloc(refs->count * sizeof *all);
  REQUIRE(all);
  size_t n = 0;
  for (size_t r = 0; r < refs->count; r++) {
    size_t len = nm_normalize(
        rc, nm_utf8_decode(refs->names[r], refs->lens[r], rc), norm);
    uint32_t d = dp_distance(qc, m, rc, len);
    if (d <= max_distance) {
      size_t longer = len > m ? len : m;
      all[n++] = (nm_match){r, d, longer ? 1.0 - (double)d / longer : 1.0};
    }
  }
  qsort(all, n, sizeof *all, match_cmp);
  uint32_t count = n < k ? (uint32_t)n : k;
  memcpy(out, all, count * sizeof *out);
  free(all);
  return count;
}

static void *build(const name_set *refs, size_t from, size_t to, nm_norm norm,
                   nm_chunk_view *view) {
  void *blob;
  size_t len;
  const char *err =
      nm_chunk_build((const char *const *)refs->names + from, refs->lens + from,
                     to - from, from, norm, &blob, &len);
  REQUIRE(!err);
  REQUIRE(!nm_chunk_view_init(view, blob, len));
  return blob;
}

/* The search with one kernel, over three chunks merged, against want.
 * chain 0: each chunk on its own; 1: each within the limits the chunks
 * before it set, as the driver does; 2: the same, last chunk first (so
 * ties at the k-th distance go to rows found later). */
static void check_kernel(const name_set *refs, const name_set *queries,
                         nm_norm norm, const nm_topk_options *opt, int chain,
                         const nm_match *want, const uint32_t *want_counts) {
  size_t nq = queries->count, k = opt->k;
  nm_match *got = calloc(nq * k, sizeof *got);
  nm_match *part = calloc(nq * k, sizeof *part);
  uint32_t *counts = calloc(nq, sizeof *counts);
  uint32_t *part_counts = calloc(nq, sizeof *part_counts);
  int64_t *limits = calloc(nq, sizeof *limits);
  REQUIRE(got && part && counts && part_counts && limits);
  size_t cuts[] = {0, refs->count / 3, refs->count / 2, refs->count};
  for (int step = 0; step < 3; step++) {
    int c = chain == 2 ? 2 - step : step;
    nm_chunk_view view;
    void *blob = build(refs, cuts[c], cuts[c + 1], norm, &view);
    for (size_t q = 0; q < nq; q++) {
      limits[q] =
          nm_match_limit(got + q * k, counts[q], opt->k, view.first_row);
    }
    REQUIRE(!nm_top_k(&view, (const char *const *)queries->names, queries->lens,
                      nq, opt, chain ? limits : NULL, part, part_counts));
    for (size_t q = 0; q < nq; q++) {
      nm_match_merge(got + q * k, &counts[q], part + q * k, part_counts[q],
                     opt->k);
    }
    free(blob);
  }
  int bad = 0;
  for (size_t q = 0; q < nq; q++) {
    const nm_match *g = got + q * k, *w = want + q * k;
    int same = counts[q] == want_counts[q];
    for (uint32_t i = 0; same && i < counts[q]; i++) {
      same = g[i].row == w[i].row && g[i].distance == w[i].distance &&
             g[i].similarity == w[i].similarity;
    }
    if (!same && bad++ < 3) {
      fprintf(stderr,
              "kernel %s k=%u max=%u norm=%s query %zu: %u matches, want %u"
              " (first: row %llu d %u, want row %llu d %u)\n",
              nm_kernel_name(opt->kernel), opt->k, opt->max_distance,
              nm_norm_name(norm), q, counts[q], want_counts[q],
              (unsigned long long)(counts[q] ? g[0].row : 0),
              counts[q] ? g[0].distance : 0,
              (unsigned long long)(want_counts[q] ? w[0].row : 0),
              want_counts[q] ? w[0].distance : 0);
    }
  }
  CHECK(bad == 0);
  free(got), free(part), free(counts), free(part_counts), free(limits);
}

/* Every kernel this CPU runs, against one brute-force answer. */
static void check_search(const name_set *refs, const name_set *queries,
                         nm_norm norm, uint32_t k, uint32_t max_distance) {
  size_t nq = queries->count;
  nm_match *want = calloc(nq * k, sizeof *want);
  uint32_t *want_counts = calloc(nq, sizeof *want_counts);
  REQUIRE(want && want_counts);
  for (size_t q = 0; q < nq; q++) {
    want_counts[q] = brute_top_k(refs, queries->names[q], queries->lens[q],
                                 norm, k, max_distance, want + q * k);
  }
  for (nm_kernel kern = NM_KERNEL_SCALAR; kern <= NM_KERNEL_AVX512; kern++) {
    if (!nm_kernel_supported(kern)) {
      fprintf(stderr, "kernel %s not supported here: skipped\n",
              nm_kernel_name(kern));
      continue;
    }
    nm_topk_options opt = {k, max_distance, kern};
    for (int chain = 0; chain < 3; chain++) {
      check_kernel(refs, queries, norm, &opt, chain, want, want_counts);
    }
  }
  free(want), free(want_counts);
}

static void test_search(void) {
  for (int a = 0; a < 3; a++) {
    name_set refs, queries;
    random_names(&refs, 900, &alphabets[a], a == 0 ? 12 : 40, NULL);
    /* Queries: derived from names of the set, random ones, an empty one,
     * and some over 64 code points (the scalar path). */
    random_names(&queries, 60, &alphabets[a], 90, &refs);
    queries.lens[0] = 0;
    check_search(&refs, &queries, NM_NORM_NONE, 1, UINT32_MAX);
    check_search(&refs, &queries, NM_NORM_NONE, 5, UINT32_MAX);
    check_search(&refs, &queries, NM_NORM_NAMES, 7, 4);
    check_search(&refs, &queries, NM_NORM_CASE, 64, UINT32_MAX);
    free_names(&refs);
    free_names(&queries);
  }
}

static void test_search_options(void) {
  name_set refs;
  random_names(&refs, 10, &alphabets[1], 10, NULL);
  nm_chunk_view view;
  void *blob = build(&refs, 0, refs.count, NM_NORM_NAMES, &view);
  const char *q = "abc";
  size_t qlen = 3;
  nm_match out[NM_K_MAX];
  uint32_t count;
  nm_topk_options bad_k = {0, UINT32_MAX, NM_KERNEL_AUTO};
  CHECK(nm_top_k(&view, &q, &qlen, 1, &bad_k, NULL, out, &count) != NULL);
  bad_k.k = NM_K_MAX + 1;
  CHECK(nm_top_k(&view, &q, &qlen, 1, &bad_k, NULL, out, &count) != NULL);
  /* k beyond the set: every name, in order. */
  nm_topk_options all = {NM_K_MAX, UINT32_MAX, NM_KERNEL_AUTO};
  CHECK(nm_top_k(&view, &q, &qlen, 1, &all, NULL, out, &count) == NULL);
  CHECK_INT_EQ(count, refs.count);
  for (uint32_t i = 1; i < count; i++) {
    CHECK(match_cmp(&out[i - 1], &out[i]) < 0);
  }
  free(blob);
  free_names(&refs);
}

static void test_chunk_checks(void) {
  name_set refs;
  random_names(&refs, 50, &alphabets[2], 20, NULL);
  void *blob;
  size_t len;
  REQUIRE(!nm_chunk_build((const char *const *)refs.names, refs.lens,
                          refs.count, 7, NM_NORM_CASE, &blob, &len));
  nm_chunk_view view;
  CHECK(nm_chunk_view_init(&view, blob, len) == NULL);
  CHECK_INT_EQ(view.count, 50);
  CHECK_INT_EQ(view.first_row, 7);
  CHECK(view.norm == NM_NORM_CASE);
  CHECK(nm_chunk_view_init(&view, blob, len - 4) != NULL);
  CHECK(nm_chunk_view_init(&view, blob, 10) != NULL);
  CHECK(nm_chunk_view_init(&view, NULL, 0) != NULL);
  unsigned char *copy = malloc(len + 8);
  REQUIRE(copy);
  memcpy(copy + 4, blob, len);
  CHECK(nm_chunk_view_init(&view, copy + 4, len) != NULL); /* misaligned */
  /* Each corruption is caught: magic, version, a row, the length index
   * (after the 40-byte header and 50 signatures of 16 bytes). */
  size_t spots[] = {0, 8, 40 + 16 * 50, 40 + 16 * 50 + 4 * 50};
  for (size_t s = 0; s < sizeof spots / sizeof *spots; s++) {
    memcpy(copy, blob, len);
    copy[spots[s] + 3] ^= 0x80; /* the top bit of a 32-bit field */
    CHECK(nm_chunk_view_init(&view, copy, len) != NULL);
  }
  free(copy);
  free(blob);
  free_names(&refs);
}

int main(void) {
  RUN_TEST(test_utf8);
  RUN_TEST(test_normalize);
  RUN_TEST(test_known_distances);
  RUN_TEST(test_random_pairs);
  RUN_TEST(test_search);
  RUN_TEST(test_search_options);
  RUN_TEST(test_chunk_checks);
  return mt_test_done();
}
