/* The module the cluster tests load into their nodes. */
#include <manta.h>

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

static manta_value *where(const manta_value *const *a, size_t n, void *u) {
  (void)a, (void)n, (void)u;
  return manta_int((int64_t)getpid());
}

static manta_value *add(const manta_value *const *a, size_t n, void *u) {
  (void)n, (void)u;
  int64_t x, y;
  if (manta_get_int(a[0], &x) != MANTA_OK ||
      manta_get_int(a[1], &y) != MANTA_OK) {
    return manta_error(MANTA_ERR_TYPE, "add takes two ints");
  }
  return manta_int(x + y);
}

/* (ms, value): sleeps, then returns value and the pid that ran it. */
static manta_value *sleep_then(const manta_value *const *a, size_t n, void *u) {
  (void)n, (void)u;
  int64_t ms;
  if (manta_get_int(a[0], &ms) != MANTA_OK) {
    return manta_error(MANTA_ERR_TYPE, "sleep_then takes (ms, value)");
  }
  struct timespec ts = {ms / 1000, (long)(ms % 1000) * 1000000L};
  nanosleep(&ts, NULL);
  manta_value *l = manta_list();
  manta_list_push(l, manta_value_ref((manta_value *)a[1]));
  manta_list_push(l, manta_int((int64_t)getpid()));
  return l;
}

static manta_value *fail(const manta_value *const *a, size_t n, void *u) {
  (void)a, (void)n, (void)u;
  return manta_error(MANTA_ERR_TASK_FAILED, "failed on purpose");
}

/* Submits add(x, 1) from inside a task, wherever add runs, and waits. */
static manta_value *nested(const manta_value *const *a, size_t n, void *u) {
  (void)n, (void)u;
  manta_value *args[2] = {manta_value_ref((manta_value *)a[0]), manta_int(1)};
  manta_ref r;
  manta_value *out = NULL;
  manta_err err =
      manta_submit("add", (const manta_value *const *)args, 2, NULL, &r);
  if (err == MANTA_OK) {
    manta_get(r, 30000, &out);
    manta_ref_release(r);
  } else {
    out = manta_error(err, "nested submit failed");
  }
  manta_value_free(args[0]);
  manta_value_free(args[1]);
  return out;
}

static void release_bytes(void *data, void *arg) {
  (void)arg;
  free(data);
}

static manta_value *make_bytes(const manta_value *const *a, size_t n, void *u) {
  (void)n, (void)u;
  int64_t len;
  if (manta_get_int(a[0], &len) != MANTA_OK || len < 0) {
    return manta_error(MANTA_ERR_TYPE, "make_bytes takes a length");
  }
  unsigned char *p = malloc(len ? (size_t)len : 1);
  if (!p) {
    return manta_error(MANTA_ERR_NOMEM, "make_bytes: out of memory");
  }
  for (int64_t i = 0; i < len; i++) {
    p[i] = (unsigned char)(i * 31 + 7);
  }
  manta_value *v = manta_bytes_wrap(p, (size_t)len, release_bytes, NULL);
  if (!v) {
    free(p);
  }
  return v;
}

/* ---- pinned functions: "on_<MANTA_TEST_PIN>.<name>", one node each ---- */

/* (bytes) -> [length, checksum]: what arrived, compared by the driver. */
static manta_value *len_sum(const manta_value *const *a, size_t n, void *u) {
  (void)n, (void)u;
  const void *data;
  size_t len;
  if (manta_get_bytes(a[0], &data, &len) != MANTA_OK) {
    return manta_error(MANTA_ERR_TYPE, "len_sum takes bytes");
  }
  const unsigned char *p = data;
  uint64_t sum = 0;
  for (size_t i = 0; i < len; i++) {
    sum = sum * 31 + p[i];
  }
  manta_value *l = manta_list();
  manta_list_push(l, manta_int((int64_t)len));
  manta_list_push(l, manta_int((int64_t)(sum & 0x7fffffffffffffffULL)));
  return l;
}

/* ([ref]) -> the value the nested ref names, fetched from where it lives. */
static manta_value *get_nested(const manta_value *const *a, size_t n, void *u) {
  (void)n, (void)u;
  const manta_value *item;
  manta_ref r;
  if (manta_list_at(a[0], 0, &item) != MANTA_OK ||
      manta_get_ref(item, &r) != MANTA_OK) {
    return manta_error(MANTA_ERR_TYPE, "get_nested takes [ref]");
  }
  manta_value *out = NULL;
  manta_get(r, 30000, &out);
  return out;
}

/* (len) -> [ref] to bytes put on this node (make_bytes' pattern). */
static manta_value *put_nested(const manta_value *const *a, size_t n, void *u) {
  manta_value *b = make_bytes(a, n, u);
  if (manta_value_kind(b) == MANTA_KIND_ERROR) {
    return b;
  }
  manta_ref r;
  manta_err err = manta_put(b, &r);
  manta_value_free(b);
  if (err != MANTA_OK) {
    return manta_error(err, "put_nested: put failed");
  }
  manta_value *l = manta_list();
  manta_list_push(l, manta_ref_value(r));
  manta_ref_release(r);
  return l;
}

static manta_value *live_objects(const manta_value *const *a, size_t n,
                                 void *u) {
  (void)a, (void)n, (void)u;
  int64_t live = -1;
  manta_stat_get(MANTA_STAT_LIVE_OBJECTS, &live);
  return manta_int(live);
}

static manta_err register_pinned(void) {
  const char *pin = getenv("MANTA_TEST_PIN");
  if (!pin || !*pin) {
    return MANTA_OK;
  }
  static const struct {
    const char *name;
    manta_function fn;
    int nargs;
  } fns[] = {{"len_sum", len_sum, 1},           {"get_nested", get_nested, 1},
             {"put_nested", put_nested, 1},     {"make_bytes", make_bytes, 1},
             {"live_objects", live_objects, 0}, {"pid", where, 0}};
  manta_err err = MANTA_OK;
  for (size_t i = 0; !err && i < sizeof fns / sizeof fns[0]; i++) {
    char name[128];
    snprintf(name, sizeof name, "on_%s.%s", pin, fns[i].name);
    err = manta_register_function(name, fns[i].fn, fns[i].nargs, NULL);
  }
  return err;
}

MANTA_MODULE_EXPORT manta_err manta_module_init(void) {
  manta_err err = MANTA_OK;
  if (!err)
    err = manta_register_function("where", where, 0, NULL);
  if (!err)
    err = manta_register_function("add", add, 2, NULL);
  if (!err)
    err = manta_register_function("sleep_then", sleep_then, 2, NULL);
  if (!err)
    err = manta_register_function("fail", fail, 0, NULL);
  if (!err)
    err = manta_register_function("nested", nested, 1, NULL);
  if (!err)
    err = manta_register_function("make_bytes", make_bytes, 1, NULL);
  if (!err)
    err = register_pinned();
  return err;
}
