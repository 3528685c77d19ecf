/*
 * Levenshtein distance over code points: inserting, deleting or replacing
 * one code point costs 1, so "é" against "e" is one edit whatever its UTF-8
 * length. Computed bit-parallel (Myers 1999, in Hyyrö's formulation): one
 * 64-bit word per 64 code points of the pattern, a step per code point of
 * the text.
 */
#ifndef NM_DISTANCE_H
#define NM_DISTANCE_H

#include <stddef.h>
#include <stdint.h>

/* Returned when memory runs out. */
#define NM_DIST_ERROR UINT32_MAX

/* A pattern prepared once and matched against many texts. */
typedef struct nm_pattern nm_pattern;

/* NULL when memory runs out. m may be 0. A pattern whose bit tables would
 * pass NM_PATTERN_TABLE_MAX bytes (many distinct code points in a very long
 * name) is matched by plain dynamic programming instead. */
nm_pattern *nm_pattern_new(const uint32_t *p, size_t m);
#define NM_PATTERN_TABLE_MAX ((size_t)32 << 20)
/* The dynamic-programming form, whatever the size (for tests). */
nm_pattern *nm_pattern_new_dp(const uint32_t *p, size_t m);
void nm_pattern_free(nm_pattern *pat);
size_t nm_pattern_length(const nm_pattern *pat);

/*
 * The distance from the pattern to t, or max + 1 as soon as it is known to
 * exceed max (from the length difference, or when the text left cannot
 * bring it back under). max is at most UINT32_MAX - 2. Not thread-safe per
 * pattern: it uses the pattern's scratch words.
 */
uint32_t nm_pattern_distance(nm_pattern *pat, const uint32_t *t, size_t n,
                             uint32_t max);

/* One-off distance: min(distance, max + 1), or NM_DIST_ERROR. */
uint32_t nm_levenshtein_max(const uint32_t *a, size_t m, const uint32_t *b,
                            size_t n, uint32_t max);
/* One-off distance, or NM_DIST_ERROR. */
uint32_t nm_levenshtein(const uint32_t *a, size_t m, const uint32_t *b,
                        size_t n);

#endif
