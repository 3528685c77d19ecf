/*
 * A C module for the Java tests: C functions and a C actor class to call
 * from Java, and C functions that call any function or actor by name and
 * report what a C caller sees (value, or error kind, message and origin).
 */
#include <manta.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

static manta_value *c_echo(const manta_value *const *args, size_t n, void *u) {
  (void)n, (void)u;
  return manta_value_ref((manta_value *)args[0]);
}

static manta_value *c_repr(const manta_value *const *args, size_t n, void *u) {
  (void)n, (void)u;
  char *text = manta_value_repr(args[0]);
  manta_value *v = text ? manta_cstring(text) : NULL;
  manta_free(text);
  return v ? v : manta_error(MANTA_ERR_NOMEM, "repr");
}

static manta_value *c_kind(const manta_value *const *args, size_t n, void *u) {
  (void)n, (void)u;
  return manta_cstring(manta_kind_name(manta_value_kind(args[0])));
}

static manta_value *c_add(const manta_value *const *args, size_t n, void *u) {
  (void)n, (void)u;
  int64_t a, b;
  if (manta_get_int(args[0], &a) != MANTA_OK ||
      manta_get_int(args[1], &b) != MANTA_OK) {
    return manta_error(MANTA_ERR_TYPE, "c_add takes two ints");
  }
  return manta_int(a + b);
}

static manta_value *c_noop(const manta_value *const *args, size_t n, void *u) {
  (void)args, (void)n, (void)u;
  return NULL;
}

static manta_value *c_fail(const manta_value *const *args, size_t n, void *u) {
  (void)n, (void)u;
  const char *s = "";
  size_t len = 0;
  manta_get_string(args[0], &s, &len);
  return manta_error(MANTA_ERR_INVALID, "c_fail: %s", s);
}

static manta_value *c_sleep_ms(const manta_value *const *args, size_t n,
                               void *u) {
  (void)n, (void)u;
  int64_t ms = 0;
  manta_get_int(args[0], &ms);
  struct timespec ts = {(time_t)(ms / 1000), (long)(ms % 1000) * 1000000L};
  nanosleep(&ts, NULL);
  return manta_int(ms);
}

/* One value of every kind, refs and actors included: what C hands Java. */
static manta_value *c_every_kind(const manta_value *const *args, size_t n,
                                 void *u) {
  (void)args, (void)n, (void)u;
  manta_value *m = manta_map();
  manta_map_put(m, "null", manta_null());
  manta_map_put(m, "true", manta_bool(1));
  manta_map_put(m, "int_min", manta_int(INT64_MIN));
  manta_map_put(m, "double", manta_double(-0.0));
  static const char text[] = "h\xc3\xa9llo \xf0\x9f\x98\x80 \0 nul";
  manta_map_put(m, "string", manta_string(text, sizeof text - 1));
  manta_map_put(m, "bad_utf8",
                manta_string("a\xff\xc3"
                             "b",
                             4));
  manta_map_put(m, "bytes", manta_bytes("\x00\xff\x7f", 3));
  manta_value *inner = manta_list();
  manta_list_push(inner, manta_int(2));
  manta_value *list = manta_list();
  manta_list_push(list, manta_int(1));
  manta_list_push(list, inner);
  manta_map_put(m, "list", list);
  manta_value *forty_two = manta_int(42);
  manta_ref ref;
  if (manta_put(forty_two, &ref) == MANTA_OK) {
    manta_map_put(m, "ref", manta_ref_value(ref));
    manta_ref_release(ref);
  }
  manta_value_free(forty_two);
  manta_actor actor;
  if (manta_actor_create("CCounter", NULL, 0, NULL, &actor) == MANTA_OK) {
    manta_map_put(m, "actor", manta_actor_value(actor));
    manta_actor_release(actor);
  }
  manta_value *err = manta_error(MANTA_ERR_TIMEOUT, "inner");
  manta_error_set_origin(err, "somewhere");
  manta_value *outer = manta_error(MANTA_ERR_DEPENDENCY, "outer");
  manta_error_set_cause(outer, err);
  manta_map_put(m, "error", outer);
  return m;
}

/* What a C caller saw: {"ok": true, "value": v} or {"ok": false, "code":
 * "MANTA_ERR_...", "message": ..., "origin": ..., "cause": repr or null}. */
static manta_value *outcome(manta_ref ref) {
  manta_value *v = NULL, *out = manta_map();
  manta_err err = manta_get(ref, 60000, &v);
  manta_ref_release(ref);
  manta_map_put(out, "ok", manta_bool(err == MANTA_OK));
  if (err == MANTA_OK) {
    manta_map_put(out, "value", v);
    return out;
  }
  manta_map_put(out, "code", manta_cstring(manta_errname(err)));
  manta_map_put(out, "message", manta_cstring(manta_error_message(v)));
  manta_map_put(out, "origin", manta_cstring(manta_error_origin(v)));
  const manta_value *cause = manta_error_cause(v);
  char *text = cause ? manta_value_repr(cause) : NULL;
  manta_map_put(out, "cause", text ? manta_cstring(text) : manta_null());
  manta_free(text);
  manta_value_free(v);
  return out;
}

/* The items of a list argument as an argument array (borrowed views). */
static const manta_value **items(const manta_value *list, size_t *n) {
  *n = 0;
  manta_len(list, n);
  const manta_value **a = calloc(*n + 1, sizeof *a);
  for (size_t i = 0; a && i < *n; i++) {
    manta_list_at(list, i, &a[i]);
  }
  return a;
}

static manta_value *c_call_function(const manta_value *const *args, size_t n,
                                    void *u) {
  (void)n, (void)u;
  const char *name;
  size_t len, nargs;
  if (manta_get_string(args[0], &name, &len) != MANTA_OK) {
    return manta_error(MANTA_ERR_TYPE, "c_call_function(name, args)");
  }
  const manta_value **a = items(args[1], &nargs);
  manta_ref ref;
  manta_err err = manta_submit(name, a, nargs, NULL, &ref);
  free(a);
  if (err != MANTA_OK) {
    return manta_error(err, "submit");
  }
  return outcome(ref);
}

static manta_value *c_call_actor(const manta_value *const *args, size_t n,
                                 void *u) {
  (void)n, (void)u;
  manta_actor actor;
  const char *method;
  size_t len, nargs;
  if (manta_get_actor(args[0], &actor) != MANTA_OK ||
      manta_get_string(args[1], &method, &len) != MANTA_OK) {
    return manta_error(MANTA_ERR_TYPE, "c_call_actor(actor, method, args)");
  }
  const manta_value **a = items(args[2], &nargs);
  manta_ref ref;
  manta_err err = manta_actor_call(actor, method, a, nargs, &ref);
  free(a);
  if (err != MANTA_OK) {
    return manta_error(err, "actor call");
  }
  return outcome(ref);
}

/* c_create_actor(class, args): an actor created by C code, by name. */
static manta_value *c_create_actor(const manta_value *const *args, size_t n,
                                   void *u) {
  (void)n, (void)u;
  const char *cls;
  size_t len, nargs;
  if (manta_get_string(args[0], &cls, &len) != MANTA_OK) {
    return manta_error(MANTA_ERR_TYPE, "c_create_actor(class, args)");
  }
  const manta_value **a = items(args[1], &nargs);
  manta_actor actor;
  manta_err err = manta_actor_create(cls, a, nargs, NULL, &actor);
  free(a);
  if (err != MANTA_OK) {
    return manta_error(err, "actor create");
  }
  manta_value *v = manta_actor_value(actor);
  manta_actor_release(actor);
  return v;
}

/* CCounter(start = 0): add(n) -> total, total() -> total. */
static void *counter_new(const manta_value *const *args, size_t nargs, void *cd,
                         manta_value **error) {
  (void)cd;
  int64_t *total = calloc(1, sizeof *total);
  if (!total) {
    *error = manta_error(MANTA_ERR_NOMEM, "counter");
    return NULL;
  }
  if (nargs > 0 && manta_get_int(args[0], total) != MANTA_OK) {
    free(total);
    *error = manta_error(MANTA_ERR_TYPE, "CCounter takes an int start");
    return NULL;
  }
  return total;
}

static void counter_free(void *state, void *cd) {
  (void)cd;
  free(state);
}

static manta_value *counter_add(void *state, const manta_value *const *args,
                                size_t n, void *md) {
  (void)n, (void)md;
  int64_t by;
  if (manta_get_int(args[0], &by) != MANTA_OK) {
    return manta_error(MANTA_ERR_TYPE, "add takes an int");
  }
  return manta_int(*(int64_t *)state += by);
}

static manta_value *counter_total(void *state, const manta_value *const *args,
                                  size_t n, void *md) {
  (void)args, (void)n, (void)md;
  return manta_int(*(int64_t *)state);
}

static manta_value *counter_noop(void *state, const manta_value *const *args,
                                 size_t n, void *md) {
  (void)state, (void)args, (void)n, (void)md;
  return NULL;
}

/* ---- streams (StreamsTest) ---------------------------------------------- */

/* (start, n): a C generator emitting start..start+n-1, read by Java. */
static manta_value *c_gen(const manta_value *const *args, size_t n, void *u) {
  (void)n, (void)u;
  int64_t start = 0, count = 0;
  manta_get_int(args[0], &start);
  manta_get_int(args[1], &count);
  for (int64_t i = 0; i < count; i++) {
    manta_err err = manta_emit(manta_int(start + i));
    if (err != MANTA_OK) {
      return manta_error(err, "emit refused");
    }
  }
  return NULL;
}

/* (name, n): C reading the stream of the (Java) generator `name`(n):
 * [sum of the items, how many, the end code's name, the error message]. */
static manta_value *c_read_stream(const manta_value *const *args, size_t n,
                                  void *u) {
  (void)n, (void)u;
  const char *name;
  size_t len;
  if (manta_get_string(args[0], &name, &len) != MANTA_OK) {
    return manta_error(MANTA_ERR_TYPE, "c_read_stream takes (name, n)");
  }
  char fn[128];
  snprintf(fn, sizeof fn, "%.*s", (int)len, name);
  manta_stream s;
  manta_err err = manta_submit_stream(fn, &args[1], 1, NULL, &s);
  if (err != MANTA_OK) {
    return manta_error(err, "submit_stream failed");
  }
  int64_t sum = 0, count = 0;
  manta_ref r;
  while ((err = manta_stream_next(s, &r, 60000)) == MANTA_OK) {
    manta_value *v = NULL;
    int64_t x = 0;
    if (manta_get(r, 60000, &v) == MANTA_OK) {
      manta_get_int(v, &x);
    }
    manta_value_free(v);
    manta_ref_release(r);
    sum += x;
    count++;
  }
  manta_value *why = NULL;
  manta_stream_error(s, &why);
  manta_stream_release(s);
  manta_value *out = manta_list();
  manta_list_push(out, manta_int(sum));
  manta_list_push(out, manta_int(count));
  manta_list_push(out,
                  manta_string(manta_errname(err), strlen(manta_errname(err))));
  const char *msg = why ? manta_error_message(why) : "";
  manta_list_push(out, manta_string(msg, strlen(msg)));
  manta_value_free(why);
  return out;
}

MANTA_MODULE_EXPORT manta_err manta_module_init(void) {
  struct {
    const char *name;
    manta_function fn;
    int nargs;
  } fns[] = {
      {"c_echo", c_echo, 1},
      {"c_repr", c_repr, 1},
      {"c_kind", c_kind, 1},
      {"c_add", c_add, 2},
      {"c_noop", c_noop, 0},
      {"c_fail", c_fail, 1},
      {"c_sleep_ms", c_sleep_ms, 1},
      {"c_every_kind", c_every_kind, 0},
      {"c_call_function", c_call_function, 2},
      {"c_call_actor", c_call_actor, 3},
      {"c_create_actor", c_create_actor, 2},
      {"c_gen", c_gen, 2},
      {"c_read_stream", c_read_stream, 2},
  };
  for (size_t i = 0; i < sizeof fns / sizeof fns[0]; i++) {
    manta_err err =
        manta_register_function(fns[i].name, fns[i].fn, fns[i].nargs, NULL);
    if (err != MANTA_OK) {
      return err;
    }
  }
  manta_err err =
      manta_register_class("CCounter", counter_new, counter_free, NULL);
  if (err == MANTA_OK) {
    err = manta_register_method("CCounter", "add", counter_add, 1, NULL);
  }
  if (err == MANTA_OK) {
    err = manta_register_method("CCounter", "total", counter_total, 0, NULL);
  }
  if (err == MANTA_OK) {
    err = manta_register_method("CCounter", "noop", counter_noop, 0, NULL);
  }
  return err;
}
