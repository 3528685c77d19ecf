#include "nm_normalize.h"

#include "nm_enum.h"

#include <stdbool.h>
#include <string.h>

static const char *const norm_names[] = {"none", "case", "names"};
NM_ENUM_FUNCTIONS(nm_norm, nm_norm, norm_names)

uint32_t nm_fold_case(uint32_t c) {
  if (c < 0x80) {
    return c >= 'A' && c <= 'Z' ? c + 32 : c;
  }
  if (c < 0x100) { /* Latin-1: À..Þ except the multiplication sign */
    return c >= 0xC0 && c <= 0xDE && c != 0xD7 ? c + 32 : c;
  }
  if (c < 0x180) { /* Latin Extended-A: pairs, with a few exceptions */
    if (c == 0x130) {
      return 'i';
    }
    if (c == 0x178) {
      return 0xFF;
    }
    bool even_upper = (c >= 0x100 && c <= 0x12F) ||
                      (c >= 0x132 && c <= 0x137) || (c >= 0x14A && c <= 0x177);
    bool odd_upper = (c >= 0x139 && c <= 0x148) || (c >= 0x179 && c <= 0x17E);
    if ((even_upper && c % 2 == 0) || (odd_upper && c % 2 == 1)) {
      return c + 1;
    }
    return c;
  }
  if (c >= 0x370 && c < 0x400) { /* Greek */
    if (c >= 0x391 && c <= 0x3AB && c != 0x3A2) {
      return c + 32;
    }
    switch (c) {
    case 0x386:
      return 0x3AC;
    case 0x388:
    case 0x389:
    case 0x38A:
      return c + 37;
    case 0x38C:
      return 0x3CC;
    case 0x38E:
    case 0x38F:
      return c + 63;
    default:
      return c;
    }
  }
  if (c >= 0x400 && c < 0x500) { /* Cyrillic */
    if (c <= 0x40F) {
      return c + 80;
    }
    if (c <= 0x42F) {
      return c + 32;
    }
    /* 0x460..0x4FF: upper/lower pairs, upper even (the few odd-paired
     * letters of 0x4C1..0x4CE stay as written). */
    if ((c >= 0x460 && c <= 0x481) || (c >= 0x48A && c <= 0x4BF) ||
        (c >= 0x4D0 && c <= 0x4FF)) {
      return c % 2 == 0 ? c + 1 : c;
    }
    return c;
  }
  if (c == 0x1E9E) { /* capital sharp s */
    return 0xDF;
  }
  return c;
}

static bool is_space(uint32_t c) {
  return c == ' ' || (c >= 0x09 && c <= 0x0D) || c == 0x85 || c == 0xA0 ||
         c == 0x1680 || (c >= 0x2000 && c <= 0x200A) || c == 0x2028 ||
         c == 0x2029 || c == 0x202F || c == 0x205F || c == 0x3000;
}

/* Marks inside words: "O'Brien", "Co.", "S.A." read without them. */
static bool is_dropped(uint32_t c) {
  return c == '\'' || c == '.' || c == '`' || c == 0xB4 || c == 0x2018 ||
         c == 0x2019;
}

/* Punctuation read as a word break: ASCII, Latin-1 and General
 * Punctuation marks. */
static bool is_separator(uint32_t c) {
  if (c < 0x80) {
    return c > ' ' && c < 0x7F && !(c >= '0' && c <= '9') &&
           !(c >= 'a' && c <= 'z') && !(c >= 'A' && c <= 'Z');
  }
  if (c >= 0xA1 && c <= 0xBF) {
    /* ª ² ³ µ ¹ º ¼ ½ ¾ are letters or digits */
    return c != 0xAA && c != 0xB2 && c != 0xB3 && c != 0xB5 && c != 0xB9 &&
           c != 0xBA && !(c >= 0xBC && c <= 0xBE);
  }
  return c == 0xD7 || c == 0xF7 || (c >= 0x2010 && c <= 0x2027) ||
         (c >= 0x2030 && c <= 0x205E);
}

size_t nm_normalize(uint32_t *cps, size_t n, nm_norm norm) {
  if (norm == NM_NORM_NONE) {
    return n;
  }
  if (norm == NM_NORM_CASE) {
    for (size_t i = 0; i < n; i++) {
      cps[i] = nm_fold_case(cps[i]);
    }
    return n;
  }
  size_t out = 0;
  bool pending_space = false;
  for (size_t i = 0; i < n; i++) {
    uint32_t c = cps[i];
    if (is_dropped(c)) {
      continue;
    }
    if (is_space(c) || is_separator(c)) {
      pending_space = out > 0;
      continue;
    }
    if (pending_space) {
      cps[out++] = ' ';
      pending_space = false;
    }
    cps[out++] = nm_fold_case(c);
  }
  return out;
}
