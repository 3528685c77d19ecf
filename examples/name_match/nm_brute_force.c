/*
 * nm_brute_force: the answer name_match must give, the slow and obvious
 * way, for its tests: every query against every reference name with a
 * textbook dynamic program, sorted by distance then row. It shares only the
 * CSV reader, the normalization and the output format with name_match.
 *
 *   nm_brute_force [-k N] [--max-distance N] [--normalize MODE]
 *                  REFERENCE.csv QUERIES.csv > matches.csv
 *
 * --kernel NAME is taken and ignored, so that a test can give both programs
 * the same options.
 */
#include "nm_csv.h"
#include "nm_normalize.h"
#include "nm_output.h"
#include "nm_utf8.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

typedef struct text {
  uint32_t *cps;
  size_t n;
} text;

static uint32_t distance(const text *a, const text *b, uint32_t *row) {
  for (size_t j = 0; j <= b->n; j++) {
    row[j] = (uint32_t)j;
  }
  for (size_t i = 1; i <= a->n; i++) {
    uint32_t diag = row[0];
    row[0] = (uint32_t)i;
    for (size_t j = 1; j <= b->n; j++) {
      uint32_t up = row[j];
      uint32_t best = diag + (a->cps[i - 1] != b->cps[j - 1]);
      best = up + 1 < best ? up + 1 : best;
      best = row[j - 1] + 1 < best ? row[j - 1] + 1 : best;
      row[j] = best;
      diag = up;
    }
  }
  return row[b->n];
}

static int by_distance_then_row(const void *x, const void *y) {
  const nm_match *a = x, *b = y;
  if (a->distance != b->distance) {
    return a->distance < b->distance ? -1 : 1;
  }
  return a->row < b->row ? -1 : a->row > b->row;
}

static void load(const char *path, nm_norm norm, nm_column *col, text **out,
                 size_t *longest) {
  nm_csv_spec spec = {NULL, 1, ','};
  char err[512];
  if (nm_csv_read_column(path, &spec, col, err, sizeof err) != 0) {
    fprintf(stderr, "nm_brute_force: %s\n", err);
    exit(2);
  }
  *out = calloc(col->count ? col->count : 1, sizeof **out);
  for (size_t i = 0; *out && i < col->count; i++) {
    text *t = &(*out)[i];
    t->cps = malloc((col->len[i] + 1) * sizeof *t->cps);
    if (!t->cps) {
      break;
    }
    t->n = nm_utf8_decode(col->text + col->start[i], col->len[i], t->cps);
    t->n = nm_normalize(t->cps, t->n, norm);
    *longest = t->n > *longest ? t->n : *longest;
  }
}

int main(int argc, char **argv) {
  uint32_t k = 3, max_distance = UINT32_MAX;
  nm_norm norm = NM_NORM_DEFAULT;
  const char *files[2];
  int nfiles = 0;
  for (int i = 1; i < argc; i++) {
    if (!strcmp(argv[i], "-k") && i + 1 < argc) {
      k = (uint32_t)atoi(argv[++i]);
    } else if (!strcmp(argv[i], "--max-distance") && i + 1 < argc) {
      max_distance = (uint32_t)atoi(argv[++i]);
    } else if (!strcmp(argv[i], "--normalize") && i + 1 < argc) {
      if (nm_norm_parse(argv[++i], &norm) != 0) {
        fprintf(stderr, "nm_brute_force: bad --normalize\n");
        return 2;
      }
    } else if (!strcmp(argv[i], "--kernel") && i + 1 < argc) {
      i++;
    } else if (argv[i][0] != '-' && nfiles < 2) {
      files[nfiles++] = argv[i];
    } else {
      fprintf(stderr, "nm_brute_force: bad argument '%s'\n", argv[i]);
      return 2;
    }
  }
  if (nfiles != 2 || k < 1) {
    fprintf(stderr, "usage: nm_brute_force [-k N] [--max-distance N] "
                    "[--normalize MODE] REFERENCE.csv QUERIES.csv\n");
    return 2;
  }
  nm_column rcol, qcol;
  text *refs, *queries;
  size_t longest = 0;
  load(files[0], norm, &rcol, &refs, &longest);
  load(files[1], norm, &qcol, &queries, &longest);
  nm_match *all = malloc(rcol.count * sizeof *all);
  nm_match *best = malloc(qcol.count * k * sizeof *best);
  uint32_t *counts = calloc(qcol.count, sizeof *counts);
  uint32_t *row = malloc((longest + 1) * sizeof *row);
  if (!refs || !queries || !all || !best || !counts || !row) {
    fprintf(stderr, "nm_brute_force: out of memory\n");
    return 1;
  }
  for (size_t q = 0; q < qcol.count; q++) {
    size_t n = 0;
    for (size_t r = 0; r < rcol.count; r++) {
      uint32_t d = distance(&queries[q], &refs[r], row);
      if (d <= max_distance) {
        size_t longer = refs[r].n > queries[q].n ? refs[r].n : queries[q].n;
        all[n++] = (nm_match){r, d, longer ? 1.0 - (double)d / longer : 1.0};
      }
    }
    qsort(all, n, sizeof *all, by_distance_then_row);
    counts[q] = n < k ? (uint32_t)n : k;
    memcpy(best + q * k, all, counts[q] * sizeof *best);
  }
  int rc = nm_output_write(stdout, &rcol, &qcol, best, counts, k);
  for (size_t i = 0; i < rcol.count; i++) {
    free(refs[i].cps);
  }
  for (size_t i = 0; i < qcol.count; i++) {
    free(queries[i].cps);
  }
  free(refs), free(queries), free(all), free(best), free(counts), free(row);
  nm_column_free(&rcol);
  nm_column_free(&qcol);
  return rc == 0 ? 0 : 1;
}
