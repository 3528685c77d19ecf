/*
 * Requests into values and values into responses. The shapes are the
 * contract with every target in every language (docs/serve.md), so they are
 * built from manta.h values only.
 */
#include "serve_message.h"

#include "serve_json.h"

#include <ctype.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

/* The media type without parameters is application/json, or ends +json. */
static bool is_json_type(const char *type) {
  if (!type) {
    return false;
  }
  size_t n = strcspn(type, ";");
  while (n && isspace((unsigned char)type[n - 1])) {
    n--;
  }
  return (n == 16 && strncasecmp(type, "application/json", 16) == 0) ||
         (n > 5 && strncasecmp(type + n - 5, "+json", 5) == 0);
}

manta_value *mt_serve_request_value(const char *method, const char *path,
                                    const char *route, manta_value *query,
                                    manta_value *headers, const void *body,
                                    size_t len, char *why, size_t why_size) {
  snprintf(why, why_size, "out of memory");
  manta_value *req = manta_map();
  const manta_value *type = NULL;
  const char *type_text = NULL;
  size_t type_len;
  if (headers && manta_map_find(headers, "content-type", &type) == MANTA_OK) {
    manta_get_string(type, &type_text, &type_len);
  }
  manta_value *json = NULL;
  if (req && is_json_type(type_text)) {
    json = mt_serve_json_decode(body ? body : "", len, why, why_size);
    if (!json) {
      manta_value_free(req);
      manta_value_free(query);
      manta_value_free(headers);
      return NULL;
    }
  }
  /* Every field is built, then each is put or freed: nothing leaks
   * whichever step fails. */
  const char *keys[] = {"method",  "path", "route", "query",
                        "headers", "body", "json"};
  manta_value *fields[] = {manta_cstring(method),
                           manta_cstring(path),
                           manta_cstring(route),
                           query,
                           headers,
                           manta_bytes(body, body ? len : 0),
                           json};
  bool ok = req != NULL;
  for (size_t i = 0; i < sizeof keys / sizeof *keys; i++) {
    if (!fields[i]) {
      ok &= strcmp(keys[i], "json") == 0; /* json is the one optional */
    } else if (ok) {
      ok = manta_map_put(req, keys[i], fields[i]) == MANTA_OK;
    } else {
      manta_value_free(fields[i]);
    }
  }
  if (!ok) {
    manta_value_free(req);
    return NULL;
  }
  return req;
}

manta_err mt_serve_headers_add(manta_value *headers, const char *name,
                               const char *value) {
  char lower[256];
  size_t n = strlen(name);
  if (n >= sizeof lower) {
    return MANTA_ERR_INVALID;
  }
  for (size_t i = 0; i <= n; i++) {
    lower[i] = (char)tolower((unsigned char)name[i]);
  }
  const manta_value *old = NULL;
  if (manta_map_find(headers, lower, &old) == MANTA_OK) {
    const char *s;
    size_t len;
    manta_get_string(old, &s, &len);
    size_t vlen = strlen(value);
    char *joined = malloc(len + 2 + vlen);
    if (!joined) {
      return MANTA_ERR_NOMEM;
    }
    memcpy(joined, s, len);
    memcpy(joined + len, ", ", 2);
    memcpy(joined + len + 2, value, vlen);
    manta_value *v = manta_string(joined, len + 2 + vlen);
    free(joined);
    return v ? manta_map_put(headers, lower, v) : MANTA_ERR_NOMEM;
  }
  manta_value *v = manta_cstring(value);
  return v ? manta_map_put(headers, lower, v) : MANTA_ERR_NOMEM;
}

int mt_serve_error_status(manta_err code) {
  switch (code) {
  case MANTA_ERR_INVALID:
  case MANTA_ERR_TYPE:
  case MANTA_ERR_ARITY:
  case MANTA_ERR_TOO_DEEP:
  case MANTA_ERR_MALFORMED:
  case MANTA_ERR_RANGE:
    return 400;
  case MANTA_ERR_NOT_FOUND:
    return 404;
  case MANTA_ERR_TIMEOUT:
    return 504;
  case MANTA_ERR_SHUTDOWN:
  case MANTA_ERR_ACTOR_DEAD:
  case MANTA_ERR_NODE_DIED:
  case MANTA_ERR_OBJECT_LOST:
  case MANTA_ERR_OBJECT_STORE_FULL:
  case MANTA_ERR_INFEASIBLE:
  case MANTA_ERR_CANCELLED:
    return 503;
  default:
    return 500;
  }
}

void mt_serve_response_clear(mt_serve_response *r) {
  free(r->content_type);
  free(r->body);
  for (size_t i = 0; i < r->nheaders; i++) {
    free(r->names[i]);
    free(r->values[i]);
  }
  free(r->names);
  free(r->values);
  memset(r, 0, sizeof *r);
}

bool mt_serve_response_add_header(mt_serve_response *r, const char *name,
                                  const char *value) {
  char **names = realloc(r->names, (r->nheaders + 1) * sizeof *names);
  if (!names) {
    return false;
  }
  r->names = names;
  char **values = realloc(r->values, (r->nheaders + 1) * sizeof *values);
  if (!values) {
    return false;
  }
  r->values = values;
  names[r->nheaders] = strdup(name);
  values[r->nheaders] = strdup(value);
  if (!names[r->nheaders] || !values[r->nheaders]) {
    free(names[r->nheaders]);
    free(values[r->nheaders]);
    return false;
  }
  r->nheaders++;
  return true;
}

static bool set_body(mt_serve_response *r, int status, const char *type,
                     const void *body, size_t len) {
  r->status = status;
  free(r->content_type);
  free(r->body);
  r->content_type = strdup(type);
  r->body = malloc(len + 1);
  if (!r->content_type || !r->body) {
    return false;
  }
  if (len) {
    memcpy(r->body, body, len);
  }
  r->body[len] = '\0';
  r->len = len;
  return true;
}

bool mt_serve_response_text(mt_serve_response *r, int status, const char *fmt,
                            ...) {
  char msg[1024];
  va_list ap;
  va_start(ap, fmt);
  int n = vsnprintf(msg, sizeof msg - 1, fmt, ap);
  va_end(ap);
  size_t len = n < 0                        ? 0
               : (size_t)n < sizeof msg - 1 ? (size_t)n
                                            : sizeof msg - 2;
  msg[len++] = '\n';
  return set_body(r, status, "text/plain; charset=utf-8", msg, len);
}

/* A field value or name fit for a header line: no CR, LF or NUL (header
 * injection), names a token. */
static bool header_ok(const char *s, size_t n, bool name) {
  if (n == 0 && name) {
    return false;
  }
  for (size_t i = 0; i < n; i++) {
    unsigned char c = (unsigned char)s[i];
    if (c == '\r' || c == '\n' || c == '\0' ||
        (name && (c <= ' ' || c == ':' || c >= 127))) {
      return false;
    }
  }
  return true;
}

/* The body of a {status, headers, body} map or a plain return: strings and
 * bytes as they are, anything else as JSON. */
static bool body_from_value(const manta_value *v, mt_serve_response *r,
                            int status) {
  const char *s;
  size_t n;
  const void *p;
  char why[256];
  switch (manta_value_kind(v)) {
  case MANTA_KIND_STRING:
    manta_get_string(v, &s, &n);
    return set_body(r, status, "text/plain; charset=utf-8", s, n);
  case MANTA_KIND_BYTES:
    manta_get_bytes(v, &p, &n);
    return set_body(r, status, "application/octet-stream", p, n);
  default: {
    char *json = mt_serve_json_encode(v, &n, why, sizeof why);
    if (!json) {
      return mt_serve_response_text(
          r, 500, "500 internal error: the result has no JSON form: %s", why);
    }
    bool ok = set_body(r, status, "application/json", json, n);
    free(json);
    return ok;
  }
  }
}

/* A map whose keys are all status/headers/body, with an integer status. */
static bool is_response_map(const manta_value *v) {
  const manta_value *status = NULL;
  size_t n = 0;
  if (manta_value_kind(v) != MANTA_KIND_MAP ||
      manta_map_find(v, "status", &status) != MANTA_OK ||
      manta_value_kind(status) != MANTA_KIND_INT) {
    return false;
  }
  manta_len(v, &n);
  for (size_t i = 0; i < n; i++) {
    const char *key;
    const manta_value *item;
    manta_map_at(v, i, &key, &item);
    if (strcmp(key, "status") != 0 && strcmp(key, "headers") != 0 &&
        strcmp(key, "body") != 0) {
      return false;
    }
  }
  return true;
}

static bool response_map(const manta_value *v, mt_serve_response *r) {
  const manta_value *sv = NULL, *headers = NULL, *body = NULL;
  int64_t status = 0;
  manta_map_find(v, "status", &sv);
  manta_get_int(sv, &status);
  if (status < 100 || status > 599) {
    return mt_serve_response_text(
        r, 500,
        "500 internal error: the result's status %lld is not an HTTP "
        "status (100 to 599)",
        (long long)status);
  }
  if (manta_map_find(v, "body", &body) == MANTA_OK) {
    if (!body_from_value(body, r, (int)status)) {
      return false;
    }
    if (r->status != status) {
      return true; /* the body had no JSON form: already a 500 */
    }
  } else if (!set_body(r, (int)status, "text/plain; charset=utf-8", "", 0)) {
    return false;
  }
  if (manta_map_find(v, "headers", &headers) != MANTA_OK) {
    return true;
  }
  size_t n = 0;
  if (manta_value_kind(headers) != MANTA_KIND_MAP) {
    return mt_serve_response_text(
        r, 500, "500 internal error: the result's headers are a %s, not a map",
        manta_kind_name(manta_value_kind(headers)));
  }
  manta_len(headers, &n);
  r->names = calloc(n ? n : 1, sizeof *r->names);
  r->values = calloc(n ? n : 1, sizeof *r->values);
  if (!r->names || !r->values) {
    return false;
  }
  for (size_t i = 0; i < n; i++) {
    const char *name, *s = NULL;
    size_t len = 0;
    const manta_value *hv;
    manta_map_at(headers, i, &name, &hv);
    if (manta_get_string(hv, &s, &len) != MANTA_OK ||
        !header_ok(name, strlen(name), true) || !header_ok(s, len, false)) {
      char shown[64];
      snprintf(shown, sizeof shown, "%s", name);
      for (char *c = shown; *c; c++) {
        *c = (*c == '\r' || *c == '\n') ? ' ' : *c;
      }
      return mt_serve_response_text(
          r, 500,
          "500 internal error: the result's header '%s' is not a "
          "string fit for HTTP (a token name, no CR/LF)",
          shown);
    }
    if (strcasecmp(name, "content-type") == 0) {
      free(r->content_type);
      r->content_type = strndup(s, len);
      if (!r->content_type) {
        return false;
      }
      continue;
    }
    r->names[r->nheaders] = strdup(name);
    r->values[r->nheaders] = strndup(s, len);
    if (!r->names[r->nheaders] || !r->values[r->nheaders]) {
      free(r->names[r->nheaders]);
      free(r->values[r->nheaders]);
      return false;
    }
    r->nheaders++;
  }
  return true;
}

bool mt_serve_response_from_value(const manta_value *v, mt_serve_response *r) {
  mt_serve_response_clear(r);
  switch (manta_value_kind(v)) {
  case MANTA_KIND_NULL:
    return set_body(r, 204, "text/plain; charset=utf-8", "", 0);
  case MANTA_KIND_ERROR: {
    manta_err code = manta_error_code(v);
    const char *msg = manta_error_message(v);
    int status = mt_serve_error_status(code);
    /* The kind's name goes in a header so clients can tell a deployment's
     * own 404 from a route that does not exist. */
    if (!mt_serve_response_add_header(r, "X-Manta-Error",
                                      manta_errname(code))) {
      return false;
    }
    return mt_serve_response_text(r, status, "%d %s: %s", status,
                                  manta_strerror(code), msg ? msg : "");
  }
  case MANTA_KIND_MAP:
    if (is_response_map(v)) {
      return response_map(v, r);
    }
    return body_from_value(v, r, 200);
  default:
    return body_from_value(v, r, 200);
  }
}
