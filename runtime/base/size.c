/* Size parsing and printing shared by the runtime and the manta command. */
#include "size.h"

#include <ctype.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

int mt_parse_size(const char *text, uint64_t *out) {
  if (!text || !isdigit((unsigned char)text[0])) {
    return -1;
  }
  char *end;
  errno = 0;
  unsigned long long n = strtoull(text, &end, 10);
  if (errno) {
    return -1;
  }
  while (*end == ' ') {
    end++;
  }
  static const struct {
    const char *suffix;
    uint64_t mul;
  } units[] = {
      {"", 1},
      {"B", 1},
      {"K", 1000},
      {"KB", 1000},
      {"KiB", 1ull << 10},
      {"M", 1000000},
      {"MB", 1000000},
      {"MiB", 1ull << 20},
      {"G", 1000000000},
      {"GB", 1000000000},
      {"GiB", 1ull << 30},
      {"T", 1000000000000ull},
      {"TB", 1000000000000ull},
      {"TiB", 1ull << 40},
  };
  for (size_t i = 0; i < sizeof units / sizeof units[0]; i++) {
    if (strcmp(end, units[i].suffix) == 0) {
      if (n > (1ull << 62) / units[i].mul) {
        return -1;
      }
      *out = (uint64_t)n * units[i].mul;
      return 0;
    }
  }
  return -1;
}

void mt_format_size(char *out, size_t len, uint64_t bytes) {
  static const char *const names[] = {"B", "KiB", "MiB", "GiB", "TiB"};
  int u = 0;
  double v = (double)bytes;
  while (v >= 1024 && u < 4) {
    v /= 1024;
    u++;
  }
  if (u == 0) {
    snprintf(out, len, "%llu B", (unsigned long long)bytes);
  } else if (v == (double)(uint64_t)v) {
    snprintf(out, len, "%.0f %s", v, names[u]);
  } else {
    snprintf(out, len, "%.1f %s", v, names[u]);
  }
}
