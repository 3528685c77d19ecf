/*
 * PGresult -> manta values. The result is read in text format (libpq's
 * default) and each column converted by its type's OID, so a query needs
 * no casts to come out typed.
 */
#include "dbagg_values.h"

#include <jansson.h>

#include <errno.h>
#include <stdlib.h>
#include <string.h>

/* Type OIDs from PostgreSQL's catalog (pg_type.dat); stable across
 * versions, and not in libpq's public headers. */
enum {
  OID_BOOL = 16,
  OID_BYTEA = 17,
  OID_INT8 = 20,
  OID_INT2 = 21,
  OID_INT4 = 23,
  OID_OID = 26,
  OID_JSON = 114,
  OID_FLOAT4 = 700,
  OID_FLOAT8 = 701,
  OID_NUMERIC = 1700,
  OID_JSONB = 3802
};

static manta_value *from_json(const json_t *j) {
  switch (json_typeof(j)) {
  case JSON_OBJECT: {
    manta_value *map = manta_map();
    const char *key;
    json_t *item;
    json_object_foreach((json_t *)j, key, item) {
      manta_value *v = from_json(item);
      /* put takes v even when it fails */
      if (!v || manta_map_put(map, key, v) != MANTA_OK) {
        manta_value_free(map);
        return NULL;
      }
    }
    return map;
  }
  case JSON_ARRAY: {
    manta_value *list = manta_list();
    size_t i;
    json_t *item;
    json_array_foreach(j, i, item) {
      manta_value *v = from_json(item);
      if (!v || manta_list_push(list, v) != MANTA_OK) {
        manta_value_free(list);
        return NULL;
      }
    }
    return list;
  }
  case JSON_STRING:
    return manta_string(json_string_value(j), json_string_length(j));
  case JSON_INTEGER:
    return manta_int(json_integer_value(j));
  case JSON_REAL:
    return manta_double(json_real_value(j));
  case JSON_TRUE:
    return manta_bool(1);
  case JSON_FALSE:
    return manta_bool(0);
  case JSON_NULL:
  default:
    return manta_null();
  }
}

manta_value *dbagg_json(const char *text) {
  json_error_t jerr;
  /* DECODE_ANY: a json column may hold a bare scalar ("3", "null"). */
  json_t *doc = json_loads(text, JSON_DECODE_ANY | JSON_ALLOW_NUL, &jerr);
  if (!doc) {
    return manta_error(MANTA_ERR_MALFORMED, "json at line %d column %d: %s",
                       jerr.line, jerr.column, jerr.text);
  }
  manta_value *v = from_json(doc);
  json_decref(doc);
  return v ? v : manta_error(MANTA_ERR_NOMEM, "no memory for a json value");
}

static manta_value *cell(const PGresult *res, int row, int col) {
  if (PQgetisnull(res, row, col)) {
    return manta_null();
  }
  const char *text = PQgetvalue(res, row, col);
  switch (PQftype(res, col)) {
  case OID_INT2:
  case OID_INT4:
  case OID_INT8:
  case OID_OID:
    return manta_int(strtoll(text, NULL, 10));
  case OID_FLOAT4:
  case OID_FLOAT8:
  case OID_NUMERIC:
    /* numeric (avg, sum of ints) loses digits beyond a double's 17: the
     * price of a plain number; cast to text in the query to keep them. */
    return manta_double(strtod(text, NULL));
  case OID_BOOL:
    return manta_bool(text[0] == 't');
  case OID_BYTEA: {
    size_t len = 0;
    unsigned char *raw = PQunescapeBytea((const unsigned char *)text, &len);
    if (!raw) {
      return manta_error(MANTA_ERR_NOMEM, "no memory for a bytea value");
    }
    manta_value *v = manta_bytes(raw, len);
    PQfreemem(raw);
    return v;
  }
  case OID_JSON:
  case OID_JSONB:
    return dbagg_json(text);
  default:
    return manta_string(text, (size_t)PQgetlength(res, row, col));
  }
}

manta_value *dbagg_rows(const PGresult *res) {
  int rows = PQntuples(res), cols = PQnfields(res);
  manta_value *list = manta_list();
  for (int r = 0; r < rows; r++) {
    manta_value *map = manta_map();
    for (int c = 0; c < cols; c++) {
      manta_value *v = cell(res, r, c);
      if (v && manta_value_kind(v) == MANTA_KIND_ERROR) {
        manta_value *err =
            manta_error(manta_error_code(v), "row %d, column %s: %s", r + 1,
                        PQfname(res, c), manta_error_message(v));
        manta_value_free(v);
        manta_value_free(map);
        manta_value_free(list);
        return err;
      }
      manta_map_put(map, PQfname(res, c), v);
    }
    manta_list_push(list, map);
  }
  return list;
}
