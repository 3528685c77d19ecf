/*
 * Sizes people type ("2GiB", "512MB", "1048576") and sizes in messages.
 * Pure functions with no runtime state: the manta command compiles this
 * file in too, since it links only manta.h's exports.
 */
#ifndef MT_SIZE_H
#define MT_SIZE_H

#include <stddef.h>
#include <stdint.h>

/* Bytes, or a whole number with a suffix: K/KB (1000), KiB (1024), and so
 * on for M, G, T; "B" alone is bytes. 0 on success, -1 if malformed or
 * above 2^62. */
int mt_parse_size(const char *text, uint64_t *out);

/* The size in the largest binary unit that keeps one decimal: "1.5 GiB",
 * "512 KiB", "100 B". */
void mt_format_size(char *out, size_t len, uint64_t bytes);

#endif
