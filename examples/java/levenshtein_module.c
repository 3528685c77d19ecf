/* A C module offering "levenshtein"(a, b): the edit distance of two
 * strings (bytes). examples/java/Levenshtein.java calls it from Java. */
#include <manta.h>

#include <stdlib.h>

static manta_value *levenshtein(const manta_value *const *args, size_t n,
                                void *u) {
  (void)n, (void)u;
  const char *a, *b;
  size_t la, lb;
  if (manta_get_string(args[0], &a, &la) != MANTA_OK ||
      manta_get_string(args[1], &b, &lb) != MANTA_OK) {
    return manta_error(MANTA_ERR_TYPE, "levenshtein takes two strings");
  }
  size_t *row = malloc((lb + 1) * sizeof *row);
  if (!row) {
    return manta_error(MANTA_ERR_NOMEM, "levenshtein: no memory");
  }
  for (size_t j = 0; j <= lb; j++) {
    row[j] = j;
  }
  for (size_t i = 1; i <= la; i++) {
    size_t diag = row[0];
    row[0] = i;
    for (size_t j = 1; j <= lb; j++) {
      size_t up = row[j];
      size_t best = diag + (a[i - 1] != b[j - 1]);
      if (up + 1 < best) {
        best = up + 1;
      }
      if (row[j - 1] + 1 < best) {
        best = row[j - 1] + 1;
      }
      row[j] = best;
      diag = up;
    }
  }
  manta_value *out = manta_int((int64_t)row[lb]);
  free(row);
  return out;
}

MANTA_MODULE_EXPORT manta_err manta_module_init(void) {
  return manta_register_function("levenshtein", levenshtein, 2, NULL);
}
