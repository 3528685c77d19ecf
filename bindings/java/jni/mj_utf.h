/*
 * UTF-8 (manta strings) <-> UTF-16 (Java strings), done here rather than by
 * JNI's *StringUTF* calls, which speak "modified UTF-8": NUL as two bytes
 * and characters above U+FFFF as two 3-byte surrogates.
 */
#ifndef MJ_UTF_H
#define MJ_UTF_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* Encodes n UTF-16 units as UTF-8 into out (room for 3 * n bytes); an
 * unpaired surrogate becomes U+FFFD. Returns the bytes written. */
size_t mj_utf16_to_utf8(const uint16_t *in, size_t n, char *out);

/* Decodes len bytes of UTF-8 into out (room for len units); each invalid
 * sequence (its maximal subpart, as Java's decoder counts) becomes U+FFFD.
 * Returns the units written. */
size_t mj_utf8_to_utf16(const char *in, size_t len, uint16_t *out);

/* ASCII without NUL: the one case where modified UTF-8 is plain UTF-8 and
 * NewStringUTF may take the bytes as they are. */
bool mj_utf8_is_plain_ascii(const char *s, size_t len);

#endif
