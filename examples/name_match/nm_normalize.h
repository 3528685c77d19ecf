/* What "the same name" means before distances are counted. */
#ifndef NM_NORMALIZE_H
#define NM_NORMALIZE_H

#include <stddef.h>
#include <stdint.h>

typedef enum nm_norm {
  /* The code points as written. */
  NM_NORM_NONE = 0,
  /* Letter case folded (nm_fold_case). */
  NM_NORM_CASE = 1,
  /* Case folded; apostrophes and full stops dropped ("O'Brien Co." ->
   * "obrien co"); other punctuation read as a space; runs of spaces made
   * one, none at either end. The default: what matching company names
   * wants. */
  NM_NORM_NAMES = 2
} nm_norm;

#define NM_NORM_DEFAULT NM_NORM_NAMES

/* "none", "case", "names"; NULL for a value outside the enum. */
const char *nm_norm_name(nm_norm norm);
/* Parses a name of nm_norm_name; returns 0 on success, -1 if unknown. */
int nm_norm_parse(const char *name, nm_norm *out);

/* The lower-case letter of an upper-case one in Latin (Basic, Latin-1,
 * Extended-A), Greek and Cyrillic; any other code point is returned as
 * is. A one-to-one mapping: "ß" stays "ß", "İ" becomes "i". */
uint32_t nm_fold_case(uint32_t cp);

/* Normalizes n code points in place; returns the new count (<= n). */
size_t nm_normalize(uint32_t *cps, size_t n, nm_norm norm);

#endif
