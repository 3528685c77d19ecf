#include "nm_output.h"

int nm_output_write(FILE *f, const nm_column *refs, const nm_column *queries,
                    const nm_match *best, const uint32_t *counts, uint32_t k) {
  fputs("query_row,query,rank,match_row,match,distance,similarity\n", f);
  for (size_t q = 0; q < queries->count; q++) {
    const char *qs = queries->text + queries->start[q];
    if (counts[q] == 0) {
      fprintf(f, "%zu,", q + 1);
      nm_csv_write_field(f, qs, queries->len[q]);
      fputs(",,,,,\n", f);
    }
    for (uint32_t i = 0; i < counts[q]; i++) {
      const nm_match *m = &best[q * k + i];
      fprintf(f, "%zu,", q + 1);
      nm_csv_write_field(f, qs, queries->len[q]);
      fprintf(f, ",%u,%llu,", i + 1, (unsigned long long)m->row + 1);
      nm_csv_write_field(f, refs->text + refs->start[m->row],
                         refs->len[m->row]);
      fprintf(f, ",%u,%.4f\n", m->distance, m->similarity);
    }
  }
  return ferror(f) ? -1 : 0;
}
