/*
 * Values <-> JSON on Jansson (the project's JSON library). Jansson builds a
 * tree, which costs one copy of the text; request and response bodies are
 * bounded by the ingress, so the simplicity is worth it.
 */
#include "serve_json.h"

#include <jansson.h>
#include <math.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static manta_value *from_json(json_t *j, int depth, char *why,
                              size_t why_size) {
  if (depth > MANTA_MAX_DEPTH) {
    snprintf(why, why_size, "JSON nests deeper than %d levels",
             MANTA_MAX_DEPTH);
    return NULL;
  }
  switch (json_typeof(j)) {
  case JSON_NULL:
    return manta_null();
  case JSON_TRUE:
    return manta_bool(1);
  case JSON_FALSE:
    return manta_bool(0);
  case JSON_INTEGER:
    return manta_int((int64_t)json_integer_value(j));
  case JSON_REAL:
    return manta_double(json_real_value(j));
  case JSON_STRING:
    return manta_string(json_string_value(j), json_string_length(j));
  case JSON_ARRAY: {
    manta_value *list = manta_list();
    size_t i;
    json_t *item;
    json_array_foreach(j, i, item) {
      manta_value *v = list ? from_json(item, depth + 1, why, why_size) : NULL;
      if (!v || manta_list_push(list, v) != MANTA_OK) {
        manta_value_free(list);
        return NULL;
      }
    }
    return list;
  }
  case JSON_OBJECT: {
    manta_value *map = manta_map();
    const char *key;
    json_t *item;
    json_object_foreach(j, key, item) {
      manta_value *v = map ? from_json(item, depth + 1, why, why_size) : NULL;
      if (!v || manta_map_put(map, key, v) != MANTA_OK) {
        manta_value_free(map);
        return NULL;
      }
    }
    return map;
  }
  }
  snprintf(why, why_size, "unknown JSON type");
  return NULL;
}

manta_value *mt_serve_json_decode(const char *text, size_t len, char *why,
                                  size_t why_size) {
  snprintf(why, why_size, "out of memory");
  json_error_t err;
  /* JSON_ALLOW_NUL: manta strings carry their length, "\u0000" is fine. */
  json_t *j = json_loadb(
      text, len, JSON_DECODE_ANY | JSON_REJECT_DUPLICATES | JSON_ALLOW_NUL,
      &err);
  if (!j) {
    snprintf(why, why_size, "bad JSON at line %d, column %d: %s", err.line,
             err.column, err.text);
    return NULL;
  }
  manta_value *v = from_json(j, 0, why, why_size);
  json_decref(j);
  return v;
}

static const char b64[] =
    "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";

/* Standard base64 with padding (RFC 4648, section 4). */
static char *base64(const unsigned char *p, size_t n, size_t *out_len) {
  size_t len = (n + 2) / 3 * 4;
  char *out = malloc(len + 1), *o = out;
  if (!out) {
    return NULL;
  }
  size_t i = 0;
  for (; i + 2 < n; i += 3) {
    uint32_t w = (uint32_t)p[i] << 16 | (uint32_t)p[i + 1] << 8 | p[i + 2];
    *o++ = b64[w >> 18], *o++ = b64[(w >> 12) & 63];
    *o++ = b64[(w >> 6) & 63], *o++ = b64[w & 63];
  }
  if (i < n) {
    uint32_t w =
        (uint32_t)p[i] << 16 | (i + 1 < n ? (uint32_t)p[i + 1] << 8 : 0);
    *o++ = b64[w >> 18], *o++ = b64[(w >> 12) & 63];
    *o++ = i + 1 < n ? b64[(w >> 6) & 63] : '=';
    *o++ = '=';
  }
  *o = '\0';
  *out_len = len;
  return out;
}

/* {"tag": inner}, taking inner. */
static json_t *tagged(const char *tag, json_t *inner) {
  json_t *o = inner ? json_object() : NULL;
  if (!o || json_object_set_new(o, tag, inner) != 0) {
    json_decref(o);
    json_decref(inner);
    return NULL;
  }
  return o;
}

static json_t *to_json(const manta_value *v, int depth, char *why,
                       size_t why_size) {
  if (depth > MANTA_MAX_DEPTH) {
    snprintf(why, why_size, "value nests deeper than %d levels",
             MANTA_MAX_DEPTH);
    return NULL;
  }
  switch (manta_value_kind(v)) {
  case MANTA_KIND_NULL:
    return json_null();
  case MANTA_KIND_BOOL: {
    int b = 0;
    manta_get_bool(v, &b);
    return json_boolean(b);
  }
  case MANTA_KIND_INT: {
    int64_t i = 0;
    manta_get_int(v, &i);
    return json_integer((json_int_t)i);
  }
  case MANTA_KIND_DOUBLE: {
    double d = 0;
    manta_get_double(v, &d);
    if (!isfinite(d)) {
      snprintf(why, why_size, "%g has no JSON form", d);
      return NULL;
    }
    return json_real(d);
  }
  case MANTA_KIND_STRING: {
    const char *s;
    size_t n;
    manta_get_string(v, &s, &n);
    json_t *j = json_stringn(s, n);
    if (!j) {
      snprintf(why, why_size,
               "a string is not valid UTF-8 (return bytes for binary data)");
    }
    return j;
  }
  case MANTA_KIND_BYTES: {
    const void *p;
    size_t n, len;
    manta_get_bytes(v, &p, &n);
    char *text = base64(p, n, &len);
    json_t *j = text ? json_stringn_nocheck(text, len) : NULL;
    free(text);
    return tagged("$bytes", j);
  }
  case MANTA_KIND_LIST: {
    size_t n = 0;
    manta_len(v, &n);
    json_t *a = json_array();
    for (size_t i = 0; a && i < n; i++) {
      const manta_value *item = NULL;
      manta_list_at(v, i, &item);
      json_t *j = to_json(item, depth + 1, why, why_size);
      if (!j || json_array_append_new(a, j) != 0) {
        json_decref(a);
        return NULL;
      }
    }
    return a;
  }
  case MANTA_KIND_MAP: {
    size_t n = 0;
    manta_len(v, &n);
    json_t *o = json_object();
    for (size_t i = 0; o && i < n; i++) {
      const char *key = NULL;
      const manta_value *item = NULL;
      manta_map_at(v, i, &key, &item);
      json_t *j = to_json(item, depth + 1, why, why_size);
      if (!j || json_object_set_new(o, key, j) != 0) {
        if (j && !json_object_get(o, key)) {
          snprintf(why, why_size, "a map key is not valid UTF-8");
        }
        json_decref(o);
        return NULL;
      }
    }
    return o;
  }
  case MANTA_KIND_ERROR: {
    json_t *e = json_object();
    const char *msg = manta_error_message(v);
    const char *origin = manta_error_origin(v);
    if (e) {
      json_object_set_new(e, "kind",
                          json_string(manta_errname(manta_error_code(v))));
      json_object_set_new(e, "message", json_string(msg ? msg : ""));
      if (origin && *origin) {
        json_object_set_new(e, "origin", json_string(origin));
      }
    }
    return tagged("$error", e);
  }
  case MANTA_KIND_REF:
    snprintf(why, why_size, "a ref has no JSON form (get its value first)");
    return NULL;
  case MANTA_KIND_ACTOR:
    snprintf(why, why_size, "an actor handle has no JSON form");
    return NULL;
  }
  snprintf(why, why_size, "unknown value kind");
  return NULL;
}

char *mt_serve_json_encode(const manta_value *v, size_t *len, char *why,
                           size_t why_size) {
  snprintf(why, why_size, "out of memory");
  json_t *j = to_json(v, 0, why, why_size);
  if (!j) {
    return NULL;
  }
  char *text = json_dumps(j, JSON_COMPACT | JSON_ENCODE_ANY);
  json_decref(j);
  if (text) {
    *len = strlen(text);
  }
  return text;
}
