/*
 * A module that offers name_match's functions and gets them wrong, for the
 * driver's tests: with k = 1 every match names a row far past the
 * reference set; with k = 2 every search fails.
 */
#include <manta.h>

static manta_value *build_chunk(const manta_value *const *args, size_t n,
                                void *u) {
  (void)args, (void)n, (void)u;
  return manta_bytes("not a chunk", 11);
}

static manta_value *top_k(const manta_value *const *args, size_t n, void *u) {
  (void)u;
  int64_t k = 0;
  size_t nq = 0;
  if (n < 3 || manta_get_int(args[2], &k) != MANTA_OK ||
      manta_len(args[0], &nq) != MANTA_OK || k == 2) {
    return manta_error(MANTA_ERR_INTERNAL, "deliberate failure");
  }
  manta_value *all = manta_list();
  for (size_t q = 0; q < nq; q++) {
    manta_value *match = manta_list(), *matches = manta_list();
    manta_list_push(match, manta_int(1000000000));
    manta_list_push(match, manta_int(0));
    manta_list_push(match, manta_double(1.0));
    manta_list_push(matches, match);
    manta_list_push(all, matches);
  }
  return all;
}

MANTA_MODULE_EXPORT manta_err manta_module_init(void) {
  manta_err err =
      manta_register_function("name_match.build_chunk", build_chunk, 3, NULL);
  return err ? err
             : manta_register_function("name_match.top_k", top_k, -1, NULL);
}
