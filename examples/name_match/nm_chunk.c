#include "nm_chunk.h"

#include "nm_signature.h"
#include "nm_utf8.h"

#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

static const char magic[8] = {'N', 'M', 'C', 'H', 'U', 'N', 'K', '3'};
enum { VERSION = 3 };

typedef struct header {
  char magic[8];
  uint32_t version;
  uint32_t norm;
  uint32_t count;
  uint32_t max_len;
  uint64_t first_row;
  uint64_t total;
} header;

/* Size of a blob, or 0 if it would not fit a size_t. */
static size_t blob_size(uint64_t count, uint64_t max_len, uint64_t total) {
  uint64_t words = 4 * count + count + 2 * (max_len + 2) + total;
  if (words > (SIZE_MAX - sizeof(header)) / sizeof(uint32_t)) {
    return 0;
  }
  return sizeof(header) + (size_t)words * sizeof(uint32_t);
}

const char *nm_chunk_build(const char *const *names, const size_t *lens,
                           size_t count, uint64_t first_row, nm_norm norm,
                           void **blob, size_t *blob_len) {
  *blob = NULL;
  *blob_len = 0;
  if (count >= UINT32_MAX || !nm_norm_name(norm)) {
    return "too many names for one chunk";
  }
  /* Decoding never yields more code points than bytes. */
  uint64_t bytes = 0;
  for (size_t i = 0; i < count; i++) {
    bytes += lens[i];
  }
  if (bytes >= UINT32_MAX) {
    return "too many code points for one chunk (4 Gi at most)";
  }
  uint32_t *cps = malloc((bytes ? bytes : 1) * sizeof *cps);
  uint32_t *offsets = malloc((count + 1) * sizeof *offsets);
  if (!cps || !offsets) {
    free(cps), free(offsets);
    return "out of memory building a chunk";
  }
  uint32_t total = 0, max_len = 0;
  for (size_t i = 0; i < count; i++) {
    offsets[i] = total;
    size_t n = nm_utf8_decode(names[i], lens[i], cps + total);
    n = nm_normalize(cps + total, n, norm);
    total += (uint32_t)n;
    max_len = n > max_len ? (uint32_t)n : max_len;
  }
  offsets[count] = total;
  size_t size = blob_size(count, max_len, total);
  /* 64-byte alignment: whole cache lines, and u64 header fields aligned. */
  size_t rounded = (size + 63) & ~(size_t)63;
  unsigned char *out = size ? aligned_alloc(64, rounded) : NULL;
  if (!out) {
    free(cps), free(offsets);
    return "out of memory building a chunk";
  }
  header h = {.version = VERSION,
              .norm = (uint32_t)norm,
              .count = (uint32_t)count,
              .max_len = max_len,
              .first_row = first_row,
              .total = total};
  memcpy(h.magic, magic, sizeof magic);
  memcpy(out, &h, sizeof h);
  memset(out + size, 0, rounded - size);
  uint64_t *sigs = (uint64_t *)(out + sizeof h);
  uint32_t *rows = (uint32_t *)(sigs + 2 * count);
  uint32_t *len_start = rows + count;
  uint32_t *cps_start = len_start + max_len + 2;
  uint32_t *sorted = cps_start + max_len + 2;
  /* Counting sort by length: stable, so rows stay in order per length. */
  memset(len_start, 0, ((size_t)max_len + 2) * sizeof *len_start);
  for (size_t i = 0; i < count; i++) {
    len_start[offsets[i + 1] - offsets[i] + 1]++;
  }
  cps_start[0] = 0;
  for (size_t l = 1; l < (size_t)max_len + 2; l++) {
    cps_start[l] = cps_start[l - 1] + (uint32_t)(l - 1) * len_start[l];
    len_start[l] += len_start[l - 1];
  }
  /* len_start serves as the fill cursor, and is rebuilt after. */
  for (size_t i = 0; i < count; i++) {
    uint32_t len = offsets[i + 1] - offsets[i];
    uint32_t p = len_start[len]++;
    rows[p] = (uint32_t)i;
  }
  for (size_t l = (size_t)max_len + 1; l > 0; l--) {
    len_start[l] = len_start[l - 1];
  }
  len_start[0] = 0;
  for (uint32_t len = 0; len <= max_len; len++) {
    uint32_t *dst = sorted + cps_start[len];
    for (uint32_t p = len_start[len]; p < len_start[len + 1]; p++) {
      memcpy(dst, cps + offsets[rows[p]], len * sizeof *dst);
      nm_signature(dst, len, &sigs[2 * (size_t)p]);
      dst += len;
    }
  }
  free(cps), free(offsets);
  *blob = out;
  *blob_len = size;
  return NULL;
}

const char *nm_chunk_view_init(nm_chunk_view *view, const void *blob,
                               size_t len) {
  header h;
  if (!blob || len < sizeof h) {
    return "chunk blob too short";
  }
  if ((uintptr_t)blob % 8 != 0) {
    return "chunk blob not 8-byte aligned";
  }
  memcpy(&h, blob, sizeof h);
  if (memcmp(h.magic, magic, sizeof magic) != 0) {
    return "not a chunk blob (bad magic)";
  }
  if (h.version != VERSION) {
    return "chunk blob of an unknown version";
  }
  if (!nm_norm_name((nm_norm)h.norm)) {
    return "chunk blob with an unknown normalization";
  }
  if (h.count == UINT32_MAX || h.max_len >= UINT32_MAX - 2 ||
      h.total >= UINT32_MAX || blob_size(h.count, h.max_len, h.total) != len) {
    return "chunk blob size does not match its header";
  }
  const uint64_t *sigs = (const uint64_t *)((const char *)blob + sizeof h);
  const uint32_t *rows = (const uint32_t *)(sigs + 2 * (size_t)h.count);
  const uint32_t *len_start = rows + h.count;
  const uint32_t *cps_start = len_start + h.max_len + 2;
  const uint32_t *cps = cps_start + h.max_len + 2;
  if (len_start[0] != 0 || len_start[h.max_len + 1] != h.count ||
      cps_start[0] != 0 || cps_start[h.max_len + 1] != h.total) {
    return "chunk blob length index does not cover its names";
  }
  for (uint32_t l = 0; l <= h.max_len; l++) {
    uint64_t names = (uint64_t)len_start[l + 1] - len_start[l];
    uint64_t points = (uint64_t)cps_start[l + 1] - cps_start[l];
    if (len_start[l + 1] < len_start[l] || cps_start[l + 1] < cps_start[l] ||
        points != names * l) {
      return "chunk blob length index out of order";
    }
  }
  /* Rows are only ever reported, never used to index: in range is enough. */
  for (uint32_t p = 0; p < h.count; p++) {
    if (rows[p] >= h.count) {
      return "chunk blob rows out of range";
    }
  }
  view->count = h.count;
  view->max_len = h.max_len;
  view->first_row = h.first_row;
  view->norm = (nm_norm)h.norm;
  view->sigs = sigs;
  view->rows = rows;
  view->len_start = len_start;
  view->cps_start = cps_start;
  view->cps = cps;
  return NULL;
}
