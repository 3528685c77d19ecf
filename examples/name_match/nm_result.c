#include "nm_result.h"

/* One match as [row, distance, similarity]; NULL when memory runs out. */
static manta_value *match_value(const nm_match *m) {
  manta_value *one = manta_list();
  if (!one) {
    return NULL;
  }
  /* list_push takes the item even when it fails. */
  if (manta_list_push(one, manta_int((int64_t)m->row)) != MANTA_OK ||
      manta_list_push(one, manta_int(m->distance)) != MANTA_OK ||
      manta_list_push(one, manta_double(m->similarity)) != MANTA_OK) {
    manta_value_free(one);
    return NULL;
  }
  return one;
}

manta_value *nm_result_value(const nm_match *best, const uint32_t *counts,
                             size_t nq, uint32_t k) {
  manta_value *all = manta_list();
  manta_err err = all ? MANTA_OK : MANTA_ERR_NOMEM;
  for (size_t q = 0; err == MANTA_OK && q < nq; q++) {
    manta_value *matches = manta_list();
    err = matches ? MANTA_OK : MANTA_ERR_NOMEM;
    for (uint32_t i = 0; err == MANTA_OK && i < counts[q]; i++) {
      manta_value *one = match_value(&best[q * k + i]);
      err = one ? manta_list_push(matches, one) : MANTA_ERR_NOMEM;
    }
    if (err == MANTA_OK) {
      err = manta_list_push(all, matches);
    } else {
      manta_value_free(matches);
    }
  }
  if (err != MANTA_OK) {
    manta_value_free(all);
    return NULL;
  }
  return all;
}

/* Reads [row, distance, similarity]; 0, or -1 if m is not one. */
static int read_match(const manta_value *m, uint64_t row_limit, nm_match *out) {
  const manta_value *row, *dist, *sim;
  int64_t r = -1, d = -1;
  double s = 0;
  if (manta_list_at(m, 0, &row) != MANTA_OK ||
      manta_list_at(m, 1, &dist) != MANTA_OK ||
      manta_list_at(m, 2, &sim) != MANTA_OK ||
      manta_get_int(row, &r) != MANTA_OK ||
      manta_get_int(dist, &d) != MANTA_OK ||
      manta_get_double(sim, &s) != MANTA_OK || r < 0 ||
      (uint64_t)r >= row_limit || d < 0 || d > UINT32_MAX - 2) {
    return -1;
  }
  *out = (nm_match){(uint64_t)r, (uint32_t)d, s};
  return 0;
}

manta_value *nm_result_read(const manta_value *v, size_t nq, uint32_t k,
                            uint64_t row_limit, nm_match *best,
                            uint32_t *counts) {
  size_t n;
  if (manta_value_kind(v) != MANTA_KIND_LIST || manta_len(v, &n) != MANTA_OK ||
      n != nq) {
    return manta_error(MANTA_ERR_TYPE,
                       "a top_k result for %zu queries is a list of %zu lists",
                       nq, nq);
  }
  for (size_t q = 0; q < nq; q++) {
    const manta_value *matches;
    size_t nm = 0;
    manta_list_at(v, q, &matches);
    if (manta_value_kind(matches) != MANTA_KIND_LIST ||
        manta_len(matches, &nm) != MANTA_OK) {
      return manta_error(MANTA_ERR_TYPE,
                         "answer %zu of a top_k result is "
                         "not a list",
                         q);
    }
    for (size_t i = 0; i < nm; i++) {
      const manta_value *m;
      nm_match one;
      manta_list_at(matches, i, &m);
      if (read_match(m, row_limit, &one) != 0) {
        char *text = manta_value_repr(m);
        manta_value *err = manta_error(
            MANTA_ERR_TYPE,
            "match %zu of query %zu, %s, is not [row, distance, similarity] "
            "with a row below %llu",
            i, q, text ? text : "?", (unsigned long long)row_limit);
        manta_free(text);
        return err;
      }
      nm_match_merge(best + q * k, &counts[q], &one, 1, k);
    }
  }
  return NULL;
}
