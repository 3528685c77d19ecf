/* UTF-8 to code points and back, for names read from files. */
#ifndef NM_UTF8_H
#define NM_UTF8_H

#include <stddef.h>
#include <stdint.h>

/*
 * An invalid byte decodes to NM_UTF8_BAD_BYTE + the byte (U+DC80..U+DCFF,
 * lone surrogates that valid UTF-8 never yields): a name with a stray
 * Latin-1 byte is still matched, and two different bad bytes stay different.
 */
#define NM_UTF8_BAD_BYTE 0xDC00u

/* Decodes len bytes into out (room for len code points); returns the count.
 * Overlong forms, surrogates, values past U+10FFFF and truncated sequences
 * are invalid: their first byte decodes as a bad byte, and decoding goes on
 * at the next byte. */
size_t nm_utf8_decode(const char *s, size_t len, uint32_t *out);

/* Encodes one code point (at most 4 bytes into out); returns the bytes
 * written. A bad-byte code point encodes back to its byte. */
size_t nm_utf8_encode(uint32_t cp, char *out);

#endif
