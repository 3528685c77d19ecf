/* The module the cluster tests load into their nodes. */
#include <manta.h>

#include <stdlib.h>
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
  return err;
}
