/* UTF-8 <-> UTF-16 for strings crossing between manta and Java. */
#include "mj_utf.h"

#define REPLACEMENT 0xFFFDu

size_t mj_utf16_to_utf8(const uint16_t *in, size_t n, char *out) {
  unsigned char *o = (unsigned char *)out;
  for (size_t i = 0; i < n; i++) {
    uint32_t c = in[i];
    if (c >= 0xD800 && c <= 0xDFFF) {
      if (c <= 0xDBFF && i + 1 < n && in[i + 1] >= 0xDC00 &&
          in[i + 1] <= 0xDFFF) {
        c = 0x10000 + ((c - 0xD800) << 10) + (in[i + 1] - 0xDC00u);
        i++;
      } else {
        c = REPLACEMENT;
      }
    }
    if (c < 0x80) {
      *o++ = (unsigned char)c;
    } else if (c < 0x800) {
      *o++ = (unsigned char)(0xC0 | (c >> 6));
      *o++ = (unsigned char)(0x80 | (c & 0x3F));
    } else if (c < 0x10000) {
      *o++ = (unsigned char)(0xE0 | (c >> 12));
      *o++ = (unsigned char)(0x80 | ((c >> 6) & 0x3F));
      *o++ = (unsigned char)(0x80 | (c & 0x3F));
    } else {
      *o++ = (unsigned char)(0xF0 | (c >> 18));
      *o++ = (unsigned char)(0x80 | ((c >> 12) & 0x3F));
      *o++ = (unsigned char)(0x80 | ((c >> 6) & 0x3F));
      *o++ = (unsigned char)(0x80 | (c & 0x3F));
    }
  }
  return (size_t)(o - (unsigned char *)out);
}

/* The range the second byte of a sequence led by b must fall in (the
 * first continuation byte is where overlongs, surrogates and values above
 * U+10FFFF show); 0 continuation bytes means b cannot lead. */
static int sequence_shape(unsigned char b, unsigned char *lo,
                          unsigned char *hi) {
  *lo = 0x80, *hi = 0xBF;
  if (b >= 0xC2 && b <= 0xDF) {
    return 1;
  }
  if (b >= 0xE0 && b <= 0xEF) {
    if (b == 0xE0) {
      *lo = 0xA0;
    } else if (b == 0xED) {
      *hi = 0x9F;
    }
    return 2;
  }
  if (b >= 0xF0 && b <= 0xF4) {
    if (b == 0xF0) {
      *lo = 0x90;
    } else if (b == 0xF4) {
      *hi = 0x8F;
    }
    return 3;
  }
  return 0;
}

size_t mj_utf8_to_utf16(const char *in, size_t len, uint16_t *out) {
  const unsigned char *s = (const unsigned char *)in;
  size_t i = 0, k = 0;
  while (i < len) {
    unsigned char b = s[i];
    if (b < 0x80) {
      out[k++] = b;
      i++;
      continue;
    }
    unsigned char lo, hi;
    int more = sequence_shape(b, &lo, &hi);
    uint32_t c = more == 1 ? b & 0x1Fu : more == 2 ? b & 0x0Fu : b & 0x07u;
    size_t j = i + 1;
    int got = 0;
    for (; got < more && j < len; got++, j++) {
      unsigned char cb = s[j];
      if (got == 0 ? cb < lo || cb > hi : cb < 0x80 || cb > 0xBF) {
        break;
      }
      c = (c << 6) | (cb & 0x3Fu);
    }
    if (more == 0 || got < more) {
      /* The maximal subpart: the lead and the valid continuation bytes
       * before the break (at least one byte) become one U+FFFD. */
      out[k++] = REPLACEMENT;
      i = more == 0 ? i + 1 : j;
      continue;
    }
    if (c >= 0x10000) {
      c -= 0x10000;
      out[k++] = (uint16_t)(0xD800 + (c >> 10));
      out[k++] = (uint16_t)(0xDC00 + (c & 0x3FF));
    } else {
      out[k++] = (uint16_t)c;
    }
    i = j;
  }
  return k;
}

bool mj_utf8_is_plain_ascii(const char *s, size_t len) {
  const unsigned char *p = (const unsigned char *)s;
  for (size_t i = 0; i < len; i++) {
    if (p[i] == 0 || p[i] >= 0x80) {
      return false;
    }
  }
  return true;
}
