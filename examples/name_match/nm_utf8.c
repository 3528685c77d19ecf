#include "nm_utf8.h"

size_t nm_utf8_decode(const char *s, size_t len, uint32_t *out) {
  const unsigned char *p = (const unsigned char *)s;
  size_t i = 0, n = 0;
  while (i < len) {
    uint32_t c = p[i];
    if (c < 0x80) {
      out[n++] = c;
      i++;
      continue;
    }
    size_t more;
    uint32_t cp, min;
    if (c >= 0xC2 && c <= 0xDF) {
      more = 1, cp = c & 0x1F, min = 0x80;
    } else if (c >= 0xE0 && c <= 0xEF) {
      more = 2, cp = c & 0x0F, min = 0x800;
    } else if (c >= 0xF0 && c <= 0xF4) {
      more = 3, cp = c & 0x07, min = 0x10000;
    } else {
      more = 0, cp = 0, min = 1; /* never valid as a lead byte */
    }
    int ok = more > 0 && more < len - i;
    for (size_t k = 1; ok && k <= more; k++) {
      uint32_t cont = p[i + k];
      ok = (cont & 0xC0) == 0x80;
      cp = (cp << 6) | (cont & 0x3F);
    }
    ok = ok && cp >= min && cp <= 0x10FFFF && !(cp >= 0xD800 && cp <= 0xDFFF);
    if (ok) {
      out[n++] = cp;
      i += more + 1;
    } else {
      out[n++] = NM_UTF8_BAD_BYTE + c;
      i++;
    }
  }
  return n;
}

size_t nm_utf8_encode(uint32_t cp, char *out) {
  unsigned char *o = (unsigned char *)out;
  if (cp >= NM_UTF8_BAD_BYTE + 0x80 && cp <= NM_UTF8_BAD_BYTE + 0xFF) {
    o[0] = (unsigned char)(cp - NM_UTF8_BAD_BYTE);
    return 1;
  }
  if (cp < 0x80) {
    o[0] = (unsigned char)cp;
    return 1;
  }
  if (cp < 0x800) {
    o[0] = (unsigned char)(0xC0 | (cp >> 6));
    o[1] = (unsigned char)(0x80 | (cp & 0x3F));
    return 2;
  }
  if (cp < 0x10000) {
    o[0] = (unsigned char)(0xE0 | (cp >> 12));
    o[1] = (unsigned char)(0x80 | ((cp >> 6) & 0x3F));
    o[2] = (unsigned char)(0x80 | (cp & 0x3F));
    return 3;
  }
  o[0] = (unsigned char)(0xF0 | (cp >> 18));
  o[1] = (unsigned char)(0x80 | ((cp >> 12) & 0x3F));
  o[2] = (unsigned char)(0x80 | ((cp >> 6) & 0x3F));
  o[3] = (unsigned char)(0x80 | (cp & 0x3F));
  return 4;
}
