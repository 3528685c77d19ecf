/* Deployment specs from maps, and YAML deployment files as values. */
#include "serve_config.h"
#include "serve_json.h"

#include <errno.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <yaml.h>

static const char *const keys[] = {"route",
                                   "function",
                                   "class",
                                   "method",
                                   "replicas",
                                   "max_ongoing_requests",
                                   "timeout_ms",
                                   "min_replicas",
                                   "max_replicas",
                                   "target_ongoing_requests",
                                   "idempotent",
                                   "health_check_method",
                                   "health_check_period_ms",
                                   "health_check_timeout_ms",
                                   "resources",
                                   "args"};

static bool get_text(const manta_value *v, const char *key, char **out,
                     char *why, size_t why_size) {
  const manta_value *item = NULL;
  if (manta_map_find(v, key, &item) != MANTA_OK) {
    return true;
  }
  const char *s;
  size_t n;
  if (manta_get_string(item, &s, &n) != MANTA_OK || n == 0 ||
      memchr(s, '\0', n)) {
    snprintf(why, why_size, "'%s' must be a non-empty string, not a %s", key,
             manta_kind_name(manta_value_kind(item)));
    return false;
  }
  *out = (char *)s; /* borrowed: the spec check copies */
  return true;
}

static bool get_count(const manta_value *v, const char *key, int64_t max,
                      int64_t *out, char *why, size_t why_size) {
  const manta_value *item = NULL;
  if (manta_map_find(v, key, &item) != MANTA_OK) {
    return true;
  }
  if (manta_get_int(item, out) != MANTA_OK || *out < 1 || *out > max) {
    snprintf(why, why_size, "'%s' must be an integer from 1 to %lld", key,
             (long long)max);
    return false;
  }
  return true;
}

/* resources: a map of names to quantities (numbers >= 0). */
static manta_err get_resources(const manta_value *v, mt_serve_spec *in,
                               char *why, size_t why_size) {
  const manta_value *res = NULL;
  if (manta_map_find(v, "resources", &res) != MANTA_OK) {
    return MANTA_OK;
  }
  size_t n = 0;
  if (manta_value_kind(res) != MANTA_KIND_MAP || manta_len(res, &n) ||
      n > MT_SERVE_MAX_RESOURCES) {
    snprintf(why, why_size,
             "'resources' must be a map of at most %d names to quantities "
             "(CPU: 1, db_conn: 2)",
             MT_SERVE_MAX_RESOURCES);
    return MANTA_ERR_INVALID;
  }
  for (size_t i = 0; i < n; i++) {
    const char *name;
    const manta_value *q;
    manta_map_at(res, i, &name, &q);
    int64_t iv = 0;
    double dv = -1;
    if (manta_get_int(q, &iv) == MANTA_OK) {
      dv = (double)iv;
    } else if (manta_get_double(q, &dv) != MANTA_OK) {
      dv = -1;
    }
    manta_err err = mt_serve_spec_set_resource(in, name, dv);
    if (err != MANTA_OK) {
      snprintf(why, why_size,
               "resource '%.64s' must be a number from 0 to 1e12, not a %s",
               name, manta_kind_name(manta_value_kind(q)));
      return err;
    }
  }
  return MANTA_OK;
}

manta_err mt_serve_spec_from_value(const manta_value *v, mt_serve_spec *out,
                                   char *why, size_t why_size) {
  memset(out, 0, sizeof *out);
  if (manta_value_kind(v) != MANTA_KIND_MAP) {
    snprintf(why, why_size,
             "a deployment is a map (route, function or "
             "class, ...), not a %s",
             manta_kind_name(manta_value_kind(v)));
    return MANTA_ERR_INVALID;
  }
  size_t n = 0;
  manta_len(v, &n);
  for (size_t i = 0; i < n; i++) {
    const char *key;
    const manta_value *item;
    manta_map_at(v, i, &key, &item);
    bool known = false;
    for (size_t k = 0; k < sizeof keys / sizeof *keys; k++) {
      known |= strcmp(key, keys[k]) == 0;
    }
    if (!known) {
      snprintf(why, why_size,
               "unknown key '%.64s' (known: route, function, class, method, "
               "replicas, max_ongoing_requests, timeout_ms, min_replicas, "
               "max_replicas, target_ongoing_requests, idempotent, "
               "health_check_method, health_check_period_ms, "
               "health_check_timeout_ms, resources, args)",
               key);
      return MANTA_ERR_INVALID;
    }
  }
  mt_serve_spec in = {0};
  int64_t replicas = 0, max_ongoing = 0, timeout = 0, min_r = 0, max_r = 0,
          target = 0, hperiod = 0, htimeout = 0;
  if (!get_text(v, "route", &in.route, why, why_size) ||
      !get_text(v, "function", &in.function, why, why_size) ||
      !get_text(v, "class", &in.cls, why, why_size) ||
      !get_text(v, "method", &in.method, why, why_size) ||
      !get_count(v, "replicas", 1000, &replicas, why, why_size) ||
      !get_count(v, "max_ongoing_requests", 1000000, &max_ongoing, why,
                 why_size) ||
      !get_count(v, "timeout_ms", 86400000, &timeout, why, why_size) ||
      !get_count(v, "min_replicas", 1000, &min_r, why, why_size) ||
      !get_count(v, "max_replicas", 1000, &max_r, why, why_size) ||
      !get_count(v, "target_ongoing_requests", 1000000, &target, why,
                 why_size) ||
      !get_text(v, "health_check_method", &in.health_method, why, why_size) ||
      !get_count(v, "health_check_period_ms", 86400000, &hperiod, why,
                 why_size) ||
      !get_count(v, "health_check_timeout_ms", 86400000, &htimeout, why,
                 why_size)) {
    return MANTA_ERR_INVALID;
  }
  if (in.function && (replicas || in.method)) {
    snprintf(why, why_size,
             "'replicas' and 'method' are for class "
             "deployments, not functions");
    return MANTA_ERR_INVALID;
  }
  if (!max_r != !min_r) {
    snprintf(why, why_size,
             "autoscaling needs both min_replicas and max_replicas");
    return MANTA_ERR_INVALID;
  }
  in.replicas = replicas ? (unsigned)replicas : min_r ? (unsigned)min_r : 1;
  in.min_replicas = (unsigned)min_r;
  in.max_replicas = (unsigned)max_r;
  in.target_ongoing = (unsigned)target;
  const manta_value *idem = NULL;
  if (manta_map_find(v, "idempotent", &idem) == MANTA_OK) {
    int b = 0;
    if (manta_get_bool(idem, &b) != MANTA_OK) {
      snprintf(why, why_size, "'idempotent' must be true or false");
      return MANTA_ERR_INVALID;
    }
    in.idempotent = b != 0;
  }
  in.max_ongoing = (unsigned)max_ongoing;
  in.timeout_ms = timeout;
  in.health_period_ms = hperiod;
  in.health_timeout_ms = htimeout;
  const manta_value *args = NULL;
  if (manta_map_find(v, "args", &args) == MANTA_OK) {
    if (manta_value_kind(args) != MANTA_KIND_LIST) {
      snprintf(why, why_size,
               "'args' must be a list (the constructor's arguments), not a "
               "%s",
               manta_kind_name(manta_value_kind(args)));
      return MANTA_ERR_INVALID;
    }
    in.init_args = (manta_value *)args; /* borrowed: the check takes a ref */
  }
  manta_err err = get_resources(v, &in, why, why_size);
  if (err == MANTA_OK) {
    err = mt_serve_spec_check(&in, out, why, why_size);
  }
  for (unsigned i = 0; i < in.nres; i++) {
    free(in.res_names[i]); /* the names were copied for the check */
  }
  return err;
}

/* Puts key -> v into m (v taken); false on OOM. */
static bool put(manta_value *m, const char *key, manta_value *v) {
  return v && manta_map_put(m, key, v) == MANTA_OK;
}

static bool put_resources(manta_value *m, const mt_serve_spec *s) {
  if (!s->nres) {
    return true;
  }
  manta_value *res = manta_map();
  for (unsigned i = 0; res && i < s->nres; i++) {
    if (!put(res, s->res_names[i], manta_double(s->res_qty[i]))) {
      manta_value_free(res);
      return false;
    }
  }
  return put(m, "resources", res);
}

char *mt_serve_spec_to_json(const mt_serve_spec *s) {
  manta_value *m = manta_map();
  bool ok =
      m && put(m, "route", manta_cstring(s->route)) &&
      (!s->function || put(m, "function", manta_cstring(s->function))) &&
      (!s->cls || put(m, "class", manta_cstring(s->cls))) &&
      (!s->method || put(m, "method", manta_cstring(s->method))) &&
      (!s->cls || put(m, "replicas", manta_int(s->replicas))) &&
      put(m, "max_ongoing_requests", manta_int(s->max_ongoing)) &&
      (s->timeout_ms <= 0 || put(m, "timeout_ms", manta_int(s->timeout_ms))) &&
      (!s->max_replicas ||
       (put(m, "min_replicas", manta_int(s->min_replicas)) &&
        put(m, "max_replicas", manta_int(s->max_replicas)) &&
        put(m, "target_ongoing_requests", manta_int(s->target_ongoing)))) &&
      put(m, "idempotent", manta_bool(s->idempotent)) && put_resources(m, s) &&
      (!s->init_args || put(m, "args", manta_value_ref(s->init_args))) &&
      (!s->health_method ||
       (put(m, "health_check_method", manta_cstring(s->health_method)) &&
        put(m, "health_check_period_ms", manta_int(s->health_period_ms)) &&
        put(m, "health_check_timeout_ms", manta_int(s->health_timeout_ms))));
  char why[128];
  size_t len;
  char *text = ok ? mt_serve_json_encode(m, &len, why, sizeof why) : NULL;
  manta_value_free(m);
  return text;
}

/* ---- YAML ---------------------------------------------------------------- */

static manta_value *scalar(const yaml_event_t *e) {
  const char *s = (const char *)e->data.scalar.value;
  size_t n = e->data.scalar.length;
  if (e->data.scalar.style != YAML_PLAIN_SCALAR_STYLE) {
    return manta_string(s, n);
  }
  if (n == 0 || strcmp(s, "~") == 0 || strcmp(s, "null") == 0) {
    return manta_null();
  }
  if (strcmp(s, "true") == 0 || strcmp(s, "false") == 0) {
    return manta_bool(s[0] == 't');
  }
  char *end;
  errno = 0;
  long long i = strtoll(s, &end, 10);
  if (*end == '\0' && errno == 0 && end != s) {
    return manta_int(i);
  }
  double d = strtod(s, &end);
  if (*end == '\0' && end != s && strspn(s, "+-.0123456789eE") == n) {
    return manta_double(d);
  }
  return manta_string(s, n);
}

typedef struct yreader {
  yaml_parser_t p;
  char *why;
  size_t why_size;
} yreader;

static bool next(yreader *r, yaml_event_t *e) {
  if (!yaml_parser_parse(&r->p, e)) {
    snprintf(r->why, r->why_size, "bad YAML at line %zu, column %zu: %s",
             r->p.problem_mark.line + 1, r->p.problem_mark.column + 1,
             r->p.problem ? r->p.problem : "parse error");
    return false;
  }
  return true;
}

static manta_value *node(yreader *r, yaml_event_t *e, int depth);

/* The items of a sequence or mapping opened by the event before. */
static manta_value *items(yreader *r, bool mapping, int depth) {
  manta_value *v = mapping ? manta_map() : manta_list();
  if (!v) {
    snprintf(r->why, r->why_size, "out of memory");
    return NULL;
  }
  for (;;) {
    yaml_event_t e;
    if (!next(r, &e)) {
      manta_value_free(v);
      return NULL;
    }
    if (e.type == YAML_SEQUENCE_END_EVENT || e.type == YAML_MAPPING_END_EVENT) {
      yaml_event_delete(&e);
      return v;
    }
    char *key = NULL;
    if (mapping) {
      if (e.type != YAML_SCALAR_EVENT) {
        snprintf(r->why, r->why_size,
                 "line %zu: a mapping key must be a plain string",
                 e.start_mark.line + 1);
        yaml_event_delete(&e);
        manta_value_free(v);
        return NULL;
      }
      key = strndup((const char *)e.data.scalar.value, e.data.scalar.length);
      yaml_event_delete(&e);
      if (!key || !next(r, &e)) {
        free(key);
        manta_value_free(v);
        return NULL;
      }
    }
    manta_value *item = node(r, &e, depth + 1);
    yaml_event_delete(&e);
    manta_err err = item ? (mapping ? manta_map_put(v, key, item)
                                    : manta_list_push(v, item))
                         : MANTA_ERR_INVALID;
    free(key);
    if (err != MANTA_OK) {
      manta_value_free(v);
      return NULL;
    }
  }
}

static manta_value *node(yreader *r, yaml_event_t *e, int depth) {
  if (depth > MANTA_MAX_DEPTH) {
    snprintf(r->why, r->why_size, "YAML nests deeper than %d levels",
             MANTA_MAX_DEPTH);
    return NULL;
  }
  switch (e->type) {
  case YAML_SCALAR_EVENT:
    if (e->data.scalar.anchor ||
        (e->data.scalar.tag && e->data.scalar.plain_implicit == 0 &&
         e->data.scalar.quoted_implicit == 0)) {
      break;
    }
    return scalar(e);
  case YAML_SEQUENCE_START_EVENT:
    if (e->data.sequence_start.anchor) {
      break;
    }
    return items(r, false, depth);
  case YAML_MAPPING_START_EVENT:
    if (e->data.mapping_start.anchor) {
      break;
    }
    return items(r, true, depth);
  default:
    break;
  }
  snprintf(r->why, r->why_size,
           "line %zu: anchors, aliases and tags are not used in deployment "
           "files",
           e->start_mark.line + 1);
  return NULL;
}

manta_value *mt_serve_yaml_decode(const char *text, size_t len, char *why,
                                  size_t why_size) {
  yreader r = {.why = why, .why_size = why_size};
  if (!yaml_parser_initialize(&r.p)) {
    snprintf(why, why_size, "out of memory");
    return NULL;
  }
  yaml_parser_set_input_string(&r.p, (const unsigned char *)text, len);
  manta_value *v = NULL;
  yaml_event_t e;
  /* STREAM-START, DOCUMENT-START, the node, DOCUMENT-END. */
  bool ok = next(&r, &e);
  if (ok) {
    yaml_event_delete(&e);
    ok = next(&r, &e);
  }
  if (ok && e.type == YAML_STREAM_END_EVENT) {
    snprintf(why, why_size, "the file is empty");
    yaml_event_delete(&e);
    ok = false;
  } else if (ok) {
    yaml_event_delete(&e);
    ok = next(&r, &e);
    if (ok) {
      v = node(&r, &e, 0);
      yaml_event_delete(&e);
      ok = v && next(&r, &e);
      if (ok) {
        yaml_event_delete(&e);
        ok = next(&r, &e);
        if (ok && e.type != YAML_STREAM_END_EVENT) {
          snprintf(why, why_size, "line %zu: one document per file",
                   e.start_mark.line + 1);
          ok = false;
        }
        if (ok || e.type != YAML_NO_EVENT) {
          yaml_event_delete(&e);
        }
      }
    }
  }
  yaml_parser_delete(&r.p);
  if (!ok) {
    manta_value_free(v);
    return NULL;
  }
  return v;
}
