/*
 * Values <-> JSON for Serve (docs/serve.md, "Values and JSON"), on Jansson.
 * Decoding reads plain JSON only; encoding writes the two value kinds JSON
 * lacks as tagged objects ({"$bytes": base64}, {"$error": {...}}) and
 * refuses what cannot leave the cluster (refs, actor handles) or has no
 * JSON form (NaN, infinities, strings that are not UTF-8).
 */
#ifndef MT_SERVE_JSON_H
#define MT_SERVE_JSON_H

#include "manta.h"

#include <stddef.h>

/* JSON text (any value at the top, not only objects and arrays) as a new
 * value; NULL with why (the line and column, the cause) when it is not
 * JSON, nests deeper than MANTA_MAX_DEPTH, repeats a key, or holds an
 * integer beyond int64. */
manta_value *mt_serve_json_decode(const char *text, size_t len, char *why,
                                  size_t why_size);

/* The value as compact JSON text (malloc'd, NUL-terminated, *len without
 * the NUL); NULL with why naming the first part that has no JSON form. */
char *mt_serve_json_encode(const manta_value *v, size_t *len, char *why,
                           size_t why_size);

#endif
