/*
 * The name-matching module: a shared library any manta node can load
 * (manta_module_load) to offer these functions by name.
 *
 *   levenshtein(a, b) -> int
 *       Edit distance between two strings, in code points, as written.
 *   name_match.build_chunk(names, first_row, normalize) -> bytes
 *       A chunk of reference names normalized ("none", "case", "names")
 *       and indexed for search: the blob of nm_chunk.h. names is a list of
 *       strings, or one bytes value holding them packed, each followed by
 *       a NUL byte (one value instead of thousands: cheaper to make and to
 *       send); the first is row first_row of the whole set. Make it once,
 *       pass its ref to every search: tasks read it in place.
 *   name_match.top_k(queries, chunk, k[, options[, prior]]) -> list
 *       For each query (list of strings, normalized as the chunk), its k
 *       nearest names of the chunk: a list of [row, distance, similarity]
 *       lists, best first (distance, then row). options is a map (or null)
 *       with "max_distance" (int: only matches within it) and "kernel"
 *       ("auto", "scalar", "generic", "avx2", "avx512"). prior (or null) is
 *       the result of top_k for the same queries on other chunks: the search
 *       skips what cannot beat its k-th best, and the result is both merged,
 *       the answer over all those chunks. Chaining the chunks of a batch
 *       this way prunes as well as one search over the whole set would.
 */
#include "nm_chunk.h"
#include "nm_distance.h"
#include "nm_result.h"
#include "nm_topk.h"
#include "nm_utf8.h"

#include <manta.h>

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

/* A string's bytes; also takes bytes values, as names need not be UTF-8. */
static int text_of(const manta_value *v, const char **s, size_t *len) {
  if (manta_get_string(v, s, len) == MANTA_OK) {
    return 0;
  }
  const void *d;
  if (manta_get_bytes(v, &d, len) == MANTA_OK) {
    *s = d;
    return 0;
  }
  return -1;
}

/* Views of a list of strings: pointers into the values, no copies. */
static manta_value *texts_of(const manta_value *list, const char *what,
                             const char ***s, size_t **len, size_t *n) {
  if (manta_len(list, n) != MANTA_OK ||
      manta_value_kind(list) != MANTA_KIND_LIST) {
    return manta_error(MANTA_ERR_TYPE, "%s must be a list of strings", what);
  }
  *s = malloc((*n ? *n : 1) * sizeof **s);
  *len = malloc((*n ? *n : 1) * sizeof **len);
  if (!*s || !*len) {
    free(*s), free(*len);
    return manta_error(MANTA_ERR_NOMEM, "no memory for %zu %s", *n, what);
  }
  for (size_t i = 0; i < *n; i++) {
    const manta_value *item;
    manta_list_at(list, i, &item);
    if (text_of(item, &(*s)[i], &(*len)[i]) != 0) {
      free(*s), free(*len);
      return manta_error(MANTA_ERR_TYPE, "%s[%zu]: expected a string, got %s",
                         what, i, manta_kind_name(manta_value_kind(item)));
    }
  }
  return NULL;
}

/* Views of names packed in one bytes value, each followed by a NUL. */
static manta_value *packed_texts_of(const manta_value *v, const char ***s,
                                    size_t **len, size_t *n) {
  const void *data;
  size_t size;
  manta_get_bytes(v, &data, &size);
  const char *p = data, *end = p + size;
  if (size > 0 && end[-1] != '\0') {
    return manta_error(MANTA_ERR_INVALID,
                       "packed names must each end with a NUL byte");
  }
  *n = 0;
  for (const char *q = p; q < end; q++) {
    *n += *q == '\0';
  }
  *s = malloc((*n ? *n : 1) * sizeof **s);
  *len = malloc((*n ? *n : 1) * sizeof **len);
  if (!*s || !*len) {
    free(*s), free(*len);
    return manta_error(MANTA_ERR_NOMEM, "no memory for %zu names", *n);
  }
  for (size_t i = 0; i < *n; i++) {
    (*s)[i] = p;
    (*len)[i] = strlen(p);
    p += (*len)[i] + 1;
  }
  return NULL;
}

static manta_value *levenshtein(const manta_value *const *args, size_t nargs,
                                void *user_data) {
  (void)nargs, (void)user_data;
  const char *a, *b;
  size_t alen, blen;
  if (text_of(args[0], &a, &alen) != 0 || text_of(args[1], &b, &blen) != 0) {
    return manta_error(MANTA_ERR_TYPE, "levenshtein takes two strings");
  }
  uint32_t *x = malloc((alen + blen + 1) * sizeof *x);
  if (!x) {
    return manta_error(MANTA_ERR_NOMEM, "levenshtein: no memory");
  }
  size_t m = nm_utf8_decode(a, alen, x);
  size_t n = nm_utf8_decode(b, blen, x + m);
  uint32_t d = nm_levenshtein(x, m, x + m, n);
  free(x);
  if (d == NM_DIST_ERROR) {
    return manta_error(MANTA_ERR_NOMEM, "levenshtein: no memory");
  }
  return manta_int(d);
}

static void free_blob(void *data, void *arg) {
  (void)arg;
  free(data);
}

static manta_value *build_chunk(const manta_value *const *args, size_t nargs,
                                void *user_data) {
  (void)nargs, (void)user_data;
  int64_t first_row;
  const char *norm_name;
  size_t norm_len;
  nm_norm norm;
  if (manta_get_int(args[1], &first_row) != MANTA_OK || first_row < 0) {
    return manta_error(MANTA_ERR_TYPE, "first_row must be an int of 0 or more");
  }
  if (manta_get_string(args[2], &norm_name, &norm_len) != MANTA_OK ||
      nm_norm_parse(norm_name, &norm) != 0) {
    return manta_error(MANTA_ERR_INVALID,
                       "normalize must be \"none\", \"case\" or \"names\"");
  }
  const char **names;
  size_t *lens, n;
  manta_value *err = manta_value_kind(args[0]) == MANTA_KIND_BYTES
                         ? packed_texts_of(args[0], &names, &lens, &n)
                         : texts_of(args[0], "names", &names, &lens, &n);
  if (err) {
    return err;
  }
  void *blob;
  size_t blob_len;
  const char *problem = nm_chunk_build(names, lens, n, (uint64_t)first_row,
                                       norm, &blob, &blob_len);
  free(names), free(lens);
  if (problem) {
    return manta_error(MANTA_ERR_INVALID, "build_chunk: %s", problem);
  }
  manta_value *v = manta_bytes_wrap(blob, blob_len, free_blob, NULL);
  if (!v) {
    free(blob);
    return manta_error(MANTA_ERR_NOMEM, "build_chunk: no memory");
  }
  return v;
}

static manta_value *read_options(const manta_value *map, nm_topk_options *o) {
  if (manta_value_kind(map) == MANTA_KIND_NULL) {
    return NULL;
  }
  if (manta_value_kind(map) != MANTA_KIND_MAP) {
    return manta_error(MANTA_ERR_TYPE, "options must be a map or null");
  }
  const manta_value *v;
  if (manta_map_find(map, "max_distance", &v) == MANTA_OK) {
    int64_t d;
    if (manta_get_int(v, &d) != MANTA_OK || d < 0 || d > UINT32_MAX - 2) {
      return manta_error(MANTA_ERR_INVALID,
                         "max_distance must be an int of 0 or more");
    }
    o->max_distance = (uint32_t)d;
  }
  if (manta_map_find(map, "kernel", &v) == MANTA_OK) {
    const char *name;
    size_t len;
    if (manta_get_string(v, &name, &len) != MANTA_OK ||
        nm_kernel_parse(name, &o->kernel) != 0) {
      return manta_error(MANTA_ERR_INVALID,
                         "kernel must be one of auto, scalar, generic, avx2, "
                         "avx512");
    }
  }
  return NULL;
}

static manta_value *search(const manta_value *const *args, size_t nargs,
                           const nm_topk_options *opt, const char *const *q,
                           const size_t *qlen, size_t nq) {
  const void *blob;
  size_t blob_len;
  if (manta_get_bytes(args[1], &blob, &blob_len) != MANTA_OK) {
    return manta_error(MANTA_ERR_TYPE,
                       "chunk must be the bytes of name_match.build_chunk");
  }
  /* Read in place; only a blob that arrived misaligned is copied. */
  void *aligned = NULL;
  if ((uintptr_t)blob % 8 != 0) {
    aligned = aligned_alloc(64, (blob_len + 63) & ~(size_t)63);
    if (!aligned) {
      return manta_error(MANTA_ERR_NOMEM, "top_k: no memory");
    }
    blob = memcpy(aligned, blob, blob_len);
  }
  nm_chunk_view view;
  const char *problem = nm_chunk_view_init(&view, blob, blob_len);
  size_t slots = (nq ? nq : 1) * opt->k;
  nm_match *best = malloc(slots * sizeof *best);
  nm_match *found = malloc(slots * sizeof *found);
  uint32_t *counts = calloc(nq ? nq : 1, sizeof *counts);
  uint32_t *found_counts = malloc((nq ? nq : 1) * sizeof *found_counts);
  int64_t *limits = malloc((nq ? nq : 1) * sizeof *limits);
  manta_value *result = NULL;
  if (!problem && (!best || !found || !counts || !found_counts || !limits)) {
    problem = "no memory";
  }
  if (!problem && nargs == 5 && manta_value_kind(args[4]) != MANTA_KIND_NULL) {
    result = nm_result_read(args[4], nq, opt->k, UINT64_MAX, best, counts);
  }
  if (!problem && !result) {
    for (size_t i = 0; i < nq; i++) {
      limits[i] =
          nm_match_limit(best + i * opt->k, counts[i], opt->k, view.first_row);
    }
    problem = nm_top_k(&view, q, qlen, nq, opt, limits, found, found_counts);
  }
  if (!problem && !result) {
    for (size_t i = 0; i < nq; i++) {
      nm_match_merge(best + i * opt->k, &counts[i], found + i * opt->k,
                     found_counts[i], opt->k);
    }
    result = nm_result_value(best, counts, nq, opt->k);
    if (!result) {
      problem = "no memory";
    }
  }
  if (problem) {
    result = manta_error(MANTA_ERR_INVALID, "top_k: %s", problem);
  }
  free(best), free(found), free(counts), free(found_counts), free(limits);
  free(aligned);
  return result;
}

static manta_value *top_k(const manta_value *const *args, size_t nargs,
                          void *user_data) {
  (void)user_data;
  if (nargs < 3 || nargs > 5) {
    return manta_error(MANTA_ERR_ARITY, "name_match.top_k takes (queries, "
                                        "chunk, k[, options[, prior]])");
  }
  int64_t k;
  if (manta_get_int(args[2], &k) != MANTA_OK || k < 1 || k > NM_K_MAX) {
    return manta_error(MANTA_ERR_INVALID, "k must be an int from 1 to %d",
                       NM_K_MAX);
  }
  nm_topk_options opt = {(uint32_t)k, UINT32_MAX, NM_KERNEL_AUTO};
  manta_value *err = nargs >= 4 ? read_options(args[3], &opt) : NULL;
  if (err) {
    return err;
  }
  const char **q;
  size_t *qlen, nq;
  err = texts_of(args[0], "queries", &q, &qlen, &nq);
  if (err) {
    return err;
  }
  manta_value *result = search(args, nargs, &opt, q, qlen, nq);
  free(q), free(qlen);
  return result;
}

MANTA_MODULE_EXPORT manta_err manta_module_init(void) {
  manta_err err = manta_register_function("levenshtein", levenshtein, 2, NULL);
  if (err == MANTA_OK) {
    err =
        manta_register_function("name_match.build_chunk", build_chunk, 3, NULL);
  }
  if (err == MANTA_OK) {
    err = manta_register_function("name_match.top_k", top_k, -1, NULL);
  }
  return err;
}
