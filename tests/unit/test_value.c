/* The value model: constructors, readers, mutation, ownership, freezing,
 * equality, repr and the ref/actor hooks. Every test runs under a leak check
 * on mt_value_live_count. */
#include "test_util.h"
#include "value.h"

#include <math.h>
#include <stdarg.h>
#include <string.h>

/* --- leak-checked test runner ------------------------------------------ */

static void (*current_test)(void);

static void leak_checked(void) {
  int64_t before = mt_value_live_count();
  current_test();
  CHECK_INT_EQ(mt_value_live_count() - before, 0);
}

#define RUN(fn) (current_test = fn, mt_test_run(#fn, leak_checked))

/* Frees r and compares it with what was expected. */
static void check_repr(manta_value *v, const char *expected) {
  char *r = manta_value_repr(v);
  CHECK(r != NULL);
  if (r && strcmp(r, expected) != 0) {
    fprintf(stderr, "repr: got   %s\n      want  %s\n", r, expected);
    mt_test_failures++;
  }
  mt_test_checks++;
  manta_free(r);
  manta_value_free(v);
}

/* --- errors.c ----------------------------------------------------------- */

static void test_error_table(void) {
#define CHECK_NAME_(name, value, msg)                                          \
  CHECK(strcmp(manta_errname(name), #name) == 0);                              \
  CHECK(strcmp(manta_strerror(name), msg) == 0);                               \
  CHECK_INT_EQ(name, value);
  MANTA_ERROR_MAP(CHECK_NAME_)
#undef CHECK_NAME_
  CHECK(strcmp(manta_errname((manta_err)9999), "MANTA_ERR_UNKNOWN") == 0);
  CHECK(strcmp(manta_strerror((manta_err)9999), "unknown error") == 0);
  CHECK(strcmp(manta_errname((manta_err)-1), "MANTA_ERR_UNKNOWN") == 0);
}

static void test_version(void) {
  CHECK_INT_EQ(manta_version(), MANTA_VERSION_NUMBER);
  char want[32];
  snprintf(want, sizeof want, "%d.%d.%d", MANTA_VERSION_MAJOR,
           MANTA_VERSION_MINOR, MANTA_VERSION_PATCH);
  CHECK(strcmp(manta_version_string(), want) == 0);
  manta_free(NULL);
  manta_free(malloc(16));
}

/* --- scalars ------------------------------------------------------------ */

static void test_scalars(void) {
  manta_value *n = manta_null();
  CHECK(manta_value_kind(n) == MANTA_KIND_NULL);
  manta_value_free(n);

  int b = -1;
  manta_value *t = manta_bool(42);
  CHECK_OK(manta_get_bool(t, &b));
  CHECK_INT_EQ(b, 1); /* normalized: equal to manta_bool(1) */
  manta_value *t1 = manta_bool(1);
  CHECK(manta_value_equal(t, t1));
  manta_value_free(t1);
  manta_value_free(t);
  manta_value *f = manta_bool(0);
  CHECK_OK(manta_get_bool(f, &b));
  CHECK_INT_EQ(b, 0);
  manta_value_free(f);

  int64_t extremes[] = {0, 1, -1, INT64_MAX, INT64_MIN, 1LL << 40};
  for (size_t i = 0; i < sizeof extremes / sizeof extremes[0]; i++) {
    manta_value *v = manta_int(extremes[i]);
    CHECK(manta_value_kind(v) == MANTA_KIND_INT);
    CHECK(mt_test_int(v) == extremes[i]);
    manta_value_free(v);
  }

  double d = 0;
  manta_value *dv = manta_double(-0.0);
  CHECK_OK(manta_get_double(dv, &d));
  CHECK(d == 0 && signbit(d));
  manta_value_free(dv);
  dv = manta_double(NAN);
  CHECK_OK(manta_get_double(dv, &d));
  CHECK(isnan(d));
  manta_value_free(dv);
}

static void test_strings(void) {
  char src[] = "ab\0cd";
  manta_value *s = manta_string(src, 5);
  src[0] = 'X'; /* copied: the value does not see this */
  const char *p = NULL;
  size_t len = 0;
  CHECK_OK(manta_get_string(s, &p, &len));
  CHECK_INT_EQ(len, 5);
  CHECK(memcmp(p, "ab\0cd", 5) == 0);
  CHECK(p[5] == '\0');
  CHECK_OK(manta_get_string(s, &p, NULL)); /* len is optional */
  CHECK_INT_EQ(mt_value_payload_bytes(s), 5);
  manta_value_free(s);

  s = manta_cstring("héllo");
  CHECK_OK(manta_get_string(s, &p, &len));
  CHECK_INT_EQ(len, strlen("héllo"));
  CHECK(strcmp(p, "héllo") == 0);
  manta_value_free(s);

  s = manta_string(NULL, 0);
  CHECK(s != NULL);
  CHECK_OK(manta_get_string(s, &p, &len));
  CHECK_INT_EQ(len, 0);
  CHECK(p != NULL && p[0] == '\0');
  manta_value_free(s);

  CHECK(manta_string(NULL, 3) == NULL);
  CHECK(manta_cstring(NULL) == NULL);
}

typedef struct release_log {
  int calls;
  void *data;
  void *arg;
} release_log;

static void log_release(void *data, void *arg) {
  release_log *log = arg;
  log->calls++;
  log->data = data;
  log->arg = arg;
}

static void test_bytes(void) {
  unsigned char raw[300];
  for (size_t i = 0; i < sizeof raw; i++) {
    raw[i] = (unsigned char)i;
  }
  manta_value *b = manta_bytes(raw, sizeof raw);
  raw[0] = 0xff;
  const void *data = NULL;
  size_t len = 0;
  CHECK_OK(manta_get_bytes(b, &data, &len));
  CHECK_INT_EQ(len, 300);
  CHECK(((const unsigned char *)data)[0] == 0);
  CHECK(((const unsigned char *)data)[299] == (unsigned char)299);
  CHECK(data != raw);
  manta_value_free(b);

  b = manta_bytes(NULL, 0);
  CHECK(b != NULL);
  CHECK_OK(manta_get_bytes(b, &data, &len));
  CHECK_INT_EQ(len, 0);
  manta_value_free(b);
  CHECK(manta_bytes(NULL, 1) == NULL);

  /* wrap: no copy, release exactly once with the last reference */
  release_log log = {0, NULL, NULL};
  char *buf = malloc(64);
  memset(buf, 'z', 64);
  b = manta_bytes_wrap(buf, 64, log_release, &log);
  CHECK_OK(manta_get_bytes(b, &data, &len));
  CHECK(data == buf);
  CHECK_INT_EQ(len, 64);
  manta_value *list = manta_list();
  CHECK_OK(manta_list_push(list, manta_value_ref(b)));
  manta_value_free(b);
  CHECK_INT_EQ(log.calls, 0);
  manta_value_free(list);
  CHECK_INT_EQ(log.calls, 1);
  CHECK(log.data == buf);
  CHECK(log.arg == &log);
  free(buf);

  /* static data needs no release */
  static const char text[] = "static";
  b = manta_bytes_wrap((void *)text, sizeof text - 1, NULL, NULL);
  CHECK_OK(manta_get_bytes(b, &data, &len));
  CHECK(data == text);
  manta_value_free(b);

  /* failure leaves the buffer with the caller: release is not called */
  log.calls = 0;
  CHECK(manta_bytes_wrap(NULL, 5, log_release, &log) == NULL);
  CHECK_INT_EQ(log.calls, 0);
}

/* --- lists and maps ----------------------------------------------------- */

static void test_list(void) {
  manta_value *l = manta_list();
  size_t len = 99;
  CHECK_OK(manta_len(l, &len));
  CHECK_INT_EQ(len, 0);
  for (int i = 0; i < 1000; i++) {
    CHECK_OK(manta_list_push(l, manta_int(i)));
  }
  CHECK_OK(manta_len(l, &len));
  CHECK_INT_EQ(len, 1000);
  const manta_value *item = NULL;
  CHECK_OK(manta_list_at(l, 0, &item));
  CHECK_INT_EQ(mt_test_int(item), 0);
  CHECK_OK(manta_list_at(l, 999, &item));
  CHECK_INT_EQ(mt_test_int(item), 999);
  CHECK_ERR(manta_list_at(l, 1000, &item), MANTA_ERR_RANGE);
  CHECK_ERR(manta_list_at(l, SIZE_MAX, &item), MANTA_ERR_RANGE);
  CHECK_ERR(manta_list_at(l, 0, NULL), MANTA_ERR_INVALID);
  CHECK_ERR(manta_list_push(l, NULL), MANTA_ERR_INVALID);
  manta_value_free(l);

  /* Ownership: a failed push still takes the item (the leak check proves
   * these are freed). */
  CHECK_ERR(manta_list_push(NULL, manta_int(1)), MANTA_ERR_INVALID);
  manta_value *m = manta_map();
  CHECK_ERR(manta_list_push(m, manta_int(1)), MANTA_ERR_TYPE);
  manta_value_free(m);
}

static void test_map(void) {
  manta_value *m = manta_map();
  char key[16] = "zeta";
  CHECK_OK(manta_map_put(m, key, manta_int(1)));
  strcpy(key, "XXXX"); /* the key was copied */
  CHECK_OK(manta_map_put(m, "alpha", manta_int(2)));
  CHECK_OK(manta_map_put(m, "", manta_int(3)));
  CHECK_OK(manta_map_put(m, "mid", manta_cstring("x")));

  /* replace keeps the position of the first insertion */
  CHECK_OK(manta_map_put(m, "alpha", manta_int(20)));
  size_t len = 0;
  CHECK_OK(manta_len(m, &len));
  CHECK_INT_EQ(len, 4);
  const char *want[] = {"zeta", "alpha", "", "mid"};
  for (size_t i = 0; i < 4; i++) {
    const char *k = NULL;
    const manta_value *v = NULL;
    CHECK_OK(manta_map_at(m, i, &k, &v));
    CHECK(k && strcmp(k, want[i]) == 0);
    CHECK(v != NULL);
  }
  const char *k = NULL;
  const manta_value *v = NULL;
  CHECK_OK(manta_map_at(m, 1, NULL, &v)); /* either output is optional */
  CHECK_INT_EQ(mt_test_int(v), 20);
  CHECK_OK(manta_map_at(m, 2, &k, NULL));
  CHECK(strcmp(k, "") == 0);
  CHECK_ERR(manta_map_at(m, 4, &k, &v), MANTA_ERR_RANGE);

  CHECK_OK(manta_map_find(m, "zeta", &v));
  CHECK_INT_EQ(mt_test_int(v), 1);
  CHECK_OK(manta_map_find(m, "", &v));
  CHECK_INT_EQ(mt_test_int(v), 3);
  CHECK_ERR(manta_map_find(m, "XXXX", &v), MANTA_ERR_NOT_FOUND);
  CHECK_ERR(manta_map_find(m, "zet", &v), MANTA_ERR_NOT_FOUND);
  CHECK_ERR(manta_map_find(m, NULL, &v), MANTA_ERR_INVALID);
  CHECK_ERR(manta_map_find(m, "zeta", NULL), MANTA_ERR_INVALID);

  /* a put with a bad argument still takes the item */
  CHECK_ERR(manta_map_put(m, NULL, manta_int(1)), MANTA_ERR_INVALID);
  CHECK_ERR(manta_map_put(m, "k", NULL), MANTA_ERR_INVALID);
  CHECK_ERR(manta_map_put(NULL, "k", manta_int(1)), MANTA_ERR_INVALID);
  manta_value *l = manta_list();
  CHECK_ERR(manta_map_put(l, "k", manta_int(1)), MANTA_ERR_TYPE);
  manta_value_free(l);

  /* replacing a value with another reference to itself */
  CHECK_OK(manta_map_find(m, "mid", &v));
  CHECK_OK(manta_map_put(m, "mid", manta_value_ref((manta_value *)v)));
  CHECK_OK(manta_map_find(m, "mid", &v));
  CHECK(manta_value_kind(v) == MANTA_KIND_STRING);
  manta_value_free(m);
}

/* Past the indexing threshold every operation must stay fast; the bound is
 * loose enough for valgrind and catches quadratic behaviour (minutes). */
static void test_map_large(void) {
  enum { N = 100000 };
  double t0 = mt_test_now_ms();
  manta_value *m = manta_map();
  char key[32];
  for (int i = 0; i < N; i++) {
    snprintf(key, sizeof key, "key-%d", i);
    REQUIRE_OK(manta_map_put(m, key, manta_int(i)));
  }
  /* every key again: replaces, the order and size stay */
  for (int i = 0; i < N; i += 2) {
    snprintf(key, sizeof key, "key-%d", i);
    REQUIRE_OK(manta_map_put(m, key, manta_int(-i)));
  }
  size_t len = 0;
  CHECK_OK(manta_len(m, &len));
  CHECK_INT_EQ(len, N);
  int bad = 0;
  for (int i = 0; i < N; i++) {
    const manta_value *v = NULL;
    const char *k = NULL;
    snprintf(key, sizeof key, "key-%d", i);
    int64_t want = i % 2 ? i : -i;
    if (manta_map_find(m, key, &v) != MANTA_OK || mt_test_int(v) != want) {
      bad++;
    }
    if (manta_map_at(m, (size_t)i, &k, &v) != MANTA_OK || strcmp(k, key) != 0) {
      bad++;
    }
  }
  CHECK_INT_EQ(bad, 0);
  const manta_value *v;
  CHECK_ERR(manta_map_find(m, "key-100000", &v), MANTA_ERR_NOT_FOUND);
  CHECK_ERR(manta_map_find(m, "", &v), MANTA_ERR_NOT_FOUND);

  /* equality with the same entries in reverse order */
  manta_value *r = manta_map();
  for (int i = N - 1; i >= 0; i--) {
    snprintf(key, sizeof key, "key-%d", i);
    REQUIRE_OK(manta_map_put(r, key, manta_int(i % 2 ? i : -i)));
  }
  CHECK(manta_value_equal(m, r));
  REQUIRE_OK(manta_map_put(r, "key-7", manta_int(0)));
  CHECK(!manta_value_equal(m, r));
  manta_value_free(r);
  manta_value_free(m);
  double ms = mt_test_now_ms() - t0;
  fprintf(stderr, "   100k-entry map: %.0f ms\n", ms);
  CHECK(ms < 30000);
}

/* --- freezing ----------------------------------------------------------- */

static void test_frozen(void) {
  manta_value *inner = manta_map();
  CHECK_OK(manta_map_put(inner, "a", manta_int(1)));
  manta_value *err = manta_error(MANTA_ERR_TASK_FAILED, "boom");
  manta_value *list = manta_list();
  CHECK_OK(manta_list_push(list, manta_value_ref(inner)));
  CHECK_OK(manta_list_push(list, manta_value_ref(err)));
  CHECK(!mt_value_frozen(list));
  CHECK(!mt_value_frozen(inner));

  mt_value_freeze(list);
  CHECK(mt_value_frozen(list));
  CHECK(mt_value_frozen(inner));
  CHECK(mt_value_frozen(err));
  mt_value_freeze(list); /* idempotent */
  CHECK(mt_value_frozen(list));

  /* every mutator refuses, and still takes the item */
  CHECK_ERR(manta_list_push(list, manta_int(2)), MANTA_ERR_FROZEN);
  CHECK_ERR(manta_map_put(inner, "b", manta_int(2)), MANTA_ERR_FROZEN);
  CHECK_ERR(manta_map_put(inner, "a", manta_int(2)), MANTA_ERR_FROZEN);
  CHECK_ERR(manta_error_set_cause(err, manta_null()), MANTA_ERR_FROZEN);
  CHECK_ERR(manta_error_set_origin(err, "here"), MANTA_ERR_FROZEN);
  CHECK(strcmp(manta_error_origin(err), "") == 0);

  /* reading works as before */
  size_t len = 0;
  CHECK_OK(manta_len(list, &len));
  CHECK_INT_EQ(len, 2);
  const manta_value *v = NULL;
  CHECK_OK(manta_map_find(inner, "a", &v));
  CHECK_INT_EQ(mt_test_int(v), 1);
  CHECK(mt_value_frozen(v));

  /* A frozen value can go into a mutable container; freezing that container
   * later leaves it frozen (the walk stops there). */
  manta_value *outer = manta_list();
  CHECK_OK(manta_list_push(outer, manta_value_ref(list)));
  CHECK_OK(manta_list_push(outer, manta_int(3)));
  CHECK(!mt_value_frozen(outer));
  mt_value_freeze(outer);
  CHECK(mt_value_frozen(outer));
  CHECK_OK(manta_list_at(outer, 1, &v));
  CHECK(mt_value_frozen(v));

  mt_value_freeze(NULL);
  CHECK(!mt_value_frozen(NULL));
  manta_value_free(outer);
  manta_value_free(list);
  manta_value_free(inner);
  manta_value_free(err);
}

/* --- kinds and NULLs ---------------------------------------------------- */

static void test_wrong_kind(void) {
  manta_value *vals[] = {manta_null(),
                         manta_bool(1),
                         manta_int(1),
                         manta_double(1),
                         manta_cstring("s"),
                         manta_bytes("b", 1),
                         manta_list(),
                         manta_map(),
                         manta_ref_value((manta_ref){7}),
                         manta_actor_value((manta_actor){8}),
                         manta_error(MANTA_ERR_TIMEOUT, "t")};
  size_t n = sizeof vals / sizeof vals[0];
  for (size_t i = 0; i < n; i++) {
    const manta_value *v = vals[i];
    manta_kind k = manta_value_kind(v);
    CHECK_INT_EQ(k, i);
    int b;
    int64_t in;
    double d;
    const char *s;
    const void *data;
    size_t len;
    const manta_value *item;
    manta_ref ref;
    manta_actor actor;
#define EXPECT_(call, kind)                                                    \
  CHECK_ERR(call, k == (kind) ? MANTA_OK : MANTA_ERR_TYPE)
    EXPECT_(manta_get_bool(v, &b), MANTA_KIND_BOOL);
    EXPECT_(manta_get_int(v, &in), MANTA_KIND_INT);
    EXPECT_(manta_get_double(v, &d), MANTA_KIND_DOUBLE);
    EXPECT_(manta_get_string(v, &s, &len), MANTA_KIND_STRING);
    EXPECT_(manta_get_bytes(v, &data, &len), MANTA_KIND_BYTES);
    EXPECT_(manta_get_ref(v, &ref), MANTA_KIND_REF);
    EXPECT_(manta_get_actor(v, &actor), MANTA_KIND_ACTOR);
#undef EXPECT_
    CHECK_ERR(manta_len(v, &len), k == MANTA_KIND_LIST || k == MANTA_KIND_MAP
                                      ? MANTA_OK
                                      : MANTA_ERR_TYPE);
    if (k != MANTA_KIND_LIST) {
      CHECK_ERR(manta_list_at(v, 0, &item), MANTA_ERR_TYPE);
      CHECK_ERR(manta_list_push(vals[i], manta_null()), MANTA_ERR_TYPE);
    }
    if (k != MANTA_KIND_MAP) {
      CHECK_ERR(manta_map_at(v, 0, &s, &item), MANTA_ERR_TYPE);
      CHECK_ERR(manta_map_find(v, "k", &item), MANTA_ERR_TYPE);
      CHECK_ERR(manta_map_put(vals[i], "k", manta_null()), MANTA_ERR_TYPE);
    }
    if (k != MANTA_KIND_ERROR) {
      CHECK_ERR(manta_error_code(v), MANTA_ERR_TYPE);
      CHECK(strcmp(manta_error_message(v), "") == 0);
      CHECK(strcmp(manta_error_origin(v), "") == 0);
      CHECK(manta_error_cause(v) == NULL);
      CHECK_ERR(manta_error_set_cause(vals[i], manta_null()), MANTA_ERR_TYPE);
      CHECK_ERR(manta_error_set_origin(vals[i], "o"), MANTA_ERR_TYPE);
    }
    CHECK(strcmp(manta_kind_name(k), "unknown") != 0);
  }
  CHECK(strcmp(manta_kind_name(MANTA_KIND_NULL), "null") == 0);
  CHECK(strcmp(manta_kind_name(MANTA_KIND_ERROR), "error") == 0);
  CHECK(strcmp(manta_kind_name((manta_kind)11), "unknown") == 0);
  CHECK(strcmp(manta_kind_name((manta_kind)-1), "unknown") == 0);
  for (size_t i = 0; i < n; i++) {
    manta_value_free(vals[i]);
  }
}

/* No function may crash on NULL. */
static void test_null_arguments(void) {
  int b;
  int64_t in;
  double d;
  const char *s;
  const void *data;
  size_t len;
  const manta_value *item;
  manta_ref ref;
  manta_actor actor;
  CHECK(manta_value_kind(NULL) == MANTA_KIND_NULL);
  CHECK_ERR(manta_get_bool(NULL, &b), MANTA_ERR_INVALID);
  CHECK_ERR(manta_get_int(NULL, &in), MANTA_ERR_INVALID);
  CHECK_ERR(manta_get_double(NULL, &d), MANTA_ERR_INVALID);
  CHECK_ERR(manta_get_string(NULL, &s, &len), MANTA_ERR_INVALID);
  CHECK_ERR(manta_get_bytes(NULL, &data, &len), MANTA_ERR_INVALID);
  CHECK_ERR(manta_len(NULL, &len), MANTA_ERR_INVALID);
  CHECK_ERR(manta_list_at(NULL, 0, &item), MANTA_ERR_INVALID);
  CHECK_ERR(manta_map_at(NULL, 0, &s, &item), MANTA_ERR_INVALID);
  CHECK_ERR(manta_map_find(NULL, "k", &item), MANTA_ERR_INVALID);
  CHECK_ERR(manta_get_ref(NULL, &ref), MANTA_ERR_INVALID);
  CHECK_ERR(manta_get_actor(NULL, &actor), MANTA_ERR_INVALID);
  CHECK_ERR(manta_error_code(NULL), MANTA_ERR_INVALID);
  CHECK(strcmp(manta_error_message(NULL), "") == 0);
  CHECK(strcmp(manta_error_origin(NULL), "") == 0);
  CHECK(manta_error_cause(NULL) == NULL);
  CHECK_ERR(manta_error_set_cause(NULL, manta_null()), MANTA_ERR_INVALID);
  CHECK_ERR(manta_error_set_origin(NULL, "o"), MANTA_ERR_INVALID);
  CHECK(manta_value_ref(NULL) == NULL);
  manta_value_free(NULL);
  CHECK(manta_value_repr(NULL) == NULL);
  CHECK(manta_value_equal(NULL, NULL));
  CHECK_INT_EQ(mt_value_payload_bytes(NULL), 0);
  CHECK_INT_EQ(mt_value_ref_id(NULL), 0);

  /* NULL outputs on values of the right kind */
  manta_value *vals[] = {manta_bool(1),
                         manta_int(1),
                         manta_double(1),
                         manta_cstring("s"),
                         manta_bytes("b", 1),
                         manta_ref_value((manta_ref){1}),
                         manta_actor_value((manta_actor){1}),
                         manta_list()};
  CHECK_ERR(manta_get_bool(vals[0], NULL), MANTA_ERR_INVALID);
  CHECK_ERR(manta_get_int(vals[1], NULL), MANTA_ERR_INVALID);
  CHECK_ERR(manta_get_double(vals[2], NULL), MANTA_ERR_INVALID);
  CHECK_ERR(manta_get_string(vals[3], NULL, &len), MANTA_ERR_INVALID);
  CHECK_ERR(manta_get_bytes(vals[4], NULL, &len), MANTA_ERR_INVALID);
  CHECK_ERR(manta_get_ref(vals[5], NULL), MANTA_ERR_INVALID);
  CHECK_ERR(manta_get_actor(vals[6], NULL), MANTA_ERR_INVALID);
  CHECK_ERR(manta_len(vals[7], NULL), MANTA_ERR_INVALID);
  CHECK(!manta_value_equal(vals[0], NULL));
  CHECK(!manta_value_equal(NULL, vals[0]));
  for (size_t i = 0; i < sizeof vals / sizeof vals[0]; i++) {
    manta_value_free(vals[i]);
  }
}

static void test_refcount(void) {
  int64_t live = mt_value_live_count();
  manta_value *v = manta_int(5);
  CHECK_INT_EQ(mt_value_live_count() - live, 1);
  CHECK(manta_value_ref(v) == v);
  manta_value *a = manta_list(), *b = manta_map();
  CHECK_OK(manta_list_push(a, manta_value_ref(v)));
  CHECK_OK(manta_map_put(b, "v", manta_value_ref(v)));
  manta_value_free(v);
  manta_value_free(a);
  CHECK_INT_EQ(mt_value_live_count() - live, 2); /* b and v */
  CHECK_INT_EQ(mt_test_int(v), 5);
  manta_value_free(v);
  const manta_value *in = NULL;
  CHECK_OK(manta_map_find(b, "v", &in));
  CHECK_INT_EQ(mt_test_int(in), 5);
  manta_value_free(b);
  CHECK_INT_EQ(mt_value_live_count(), live);
}

/* --- errors ------------------------------------------------------------- */

static void test_error_values(void) {
  manta_value *e = manta_error(MANTA_ERR_TASK_FAILED, "%s failed %d times",
                               "levenshtein", 3);
  CHECK_INT_EQ(manta_error_code(e), MANTA_ERR_TASK_FAILED);
  CHECK(strcmp(manta_error_message(e), "levenshtein failed 3 times") == 0);
  CHECK(strcmp(manta_error_origin(e), "") == 0);
  CHECK(manta_error_cause(e) == NULL);
  CHECK_OK(manta_error_set_origin(e, "function levenshtein on node 3f2a"));
  CHECK(strcmp(manta_error_origin(e), "function levenshtein on node 3f2a") ==
        0);
  CHECK_OK(manta_error_set_origin(e, ""));
  CHECK(strcmp(manta_error_origin(e), "") == 0);
  CHECK_ERR(manta_error_set_origin(e, NULL), MANTA_ERR_INVALID);
  CHECK_ERR(manta_error_set_cause(e, NULL), MANTA_ERR_INVALID);

  /* a chain of causes, and replacing a cause frees the old one */
  manta_value *c1 = manta_error(MANTA_ERR_DEPENDENCY, "dep");
  manta_value *c2 = manta_error(MANTA_ERR_TIMEOUT, "slow");
  CHECK_OK(manta_error_set_cause(c1, c2));
  CHECK_OK(manta_error_set_cause(e, manta_cstring("placeholder")));
  CHECK_OK(manta_error_set_cause(e, c1));
  const manta_value *c = manta_error_cause(e);
  CHECK_INT_EQ(manta_error_code(c), MANTA_ERR_DEPENDENCY);
  c = manta_error_cause(c);
  CHECK_INT_EQ(manta_error_code(c), MANTA_ERR_TIMEOUT);
  CHECK(strcmp(manta_error_message(c), "slow") == 0);
  CHECK(manta_error_cause(c) == NULL);
  manta_value_free(e);

  /* any length */
  char big[10001];
  memset(big, 'm', sizeof big - 1);
  big[sizeof big - 1] = '\0';
  e = manta_error(MANTA_ERR_INTERNAL, "<%s>", big);
  CHECK_INT_EQ(strlen(manta_error_message(e)), 10002);
  CHECK(manta_error_message(e)[10001] == '>');
  manta_value_free(e);

  e = mt_error_new(MANTA_ERR_ACTOR_DEAD, "actor Counter", "killed after %d", 2);
  CHECK_INT_EQ(manta_error_code(e), MANTA_ERR_ACTOR_DEAD);
  CHECK(strcmp(manta_error_origin(e), "actor Counter") == 0);
  CHECK(strcmp(manta_error_message(e), "killed after 2") == 0);
  manta_value_free(e);
  e = mt_error_new(MANTA_ERR_ACTOR_DEAD, NULL, "x");
  CHECK(strcmp(manta_error_origin(e), "") == 0);
  manta_value_free(e);

  /* the code of an error value may be MANTA_OK or outside the table */
  e = manta_error((manta_err)777, "future");
  CHECK_INT_EQ(manta_error_code(e), 777);
  manta_value_free(e);
  e = manta_error(MANTA_OK, "%s", "");
  CHECK_INT_EQ(manta_error_code(e), MANTA_OK);
  CHECK(strcmp(manta_error_message(e), "") == 0);
  manta_value_free(e);
}

/* A container may not end up inside itself: the cycle would never be freed. */
static void test_cycles(void) {
  manta_value *l = manta_list();
  CHECK_ERR(manta_list_push(l, manta_value_ref(l)), MANTA_ERR_INVALID);
  manta_value *child = manta_list();
  manta_value *grandchild = manta_map();
  CHECK_OK(manta_list_push(l, manta_value_ref(child)));
  CHECK_OK(manta_list_push(child, manta_value_ref(grandchild)));
  CHECK_ERR(manta_map_put(grandchild, "up", manta_value_ref(l)),
            MANTA_ERR_INVALID);
  CHECK_ERR(manta_list_push(child, manta_value_ref(l)), MANTA_ERR_INVALID);

  manta_value *e = manta_error(MANTA_ERR_TASK_FAILED, "e");
  CHECK_ERR(manta_error_set_cause(e, manta_value_ref(e)), MANTA_ERR_INVALID);
  CHECK_OK(manta_map_put(grandchild, "err", manta_value_ref(e)));
  CHECK_ERR(manta_error_set_cause(e, manta_value_ref(l)), MANTA_ERR_INVALID);

  /* the same value twice is a DAG, not a cycle */
  CHECK_OK(manta_list_push(l, manta_value_ref(child)));
  size_t len = 0;
  CHECK_OK(manta_len(l, &len));
  CHECK_INT_EQ(len, 2);
  manta_value_free(e);
  manta_value_free(grandchild);
  manta_value_free(child);
  manta_value_free(l);
}

/* --- equality ----------------------------------------------------------- */

static void check_equal(manta_value *a, manta_value *b, int want) {
  CHECK_INT_EQ(manta_value_equal(a, b), want);
  CHECK_INT_EQ(manta_value_equal(b, a), want);
  manta_value_free(a);
  manta_value_free(b);
}

static manta_value *list_of(int n, ...) {
  manta_value *l = manta_list();
  va_list ap;
  va_start(ap, n);
  for (int i = 0; i < n; i++) {
    manta_list_push(l, va_arg(ap, manta_value *));
  }
  va_end(ap);
  return l;
}

static void test_equal(void) {
  check_equal(manta_null(), manta_null(), 1);
  check_equal(manta_null(), manta_bool(0), 0);
  check_equal(manta_bool(1), manta_bool(1), 1);
  check_equal(manta_bool(1), manta_bool(0), 0);
  check_equal(manta_int(3), manta_int(3), 1);
  check_equal(manta_int(3), manta_double(3), 0);
  check_equal(manta_double(NAN), manta_double(NAN), 1);
  check_equal(manta_double(0.0), manta_double(-0.0), 0);
  check_equal(manta_double(0.5), manta_double(0.5), 1);
  check_equal(manta_string("a\0b", 3), manta_string("a\0b", 3), 1);
  check_equal(manta_string("a\0b", 3), manta_string("a\0c", 3), 0);
  check_equal(manta_string("a", 1), manta_bytes("a", 1), 0);
  check_equal(manta_bytes("ab", 2),
              manta_bytes_wrap((void *)"ab", 2, NULL, NULL), 1);
  check_equal(manta_bytes("", 0), manta_bytes_wrap(NULL, 0, NULL, NULL), 1);
  check_equal(manta_bytes("ab", 2), manta_bytes("a", 1), 0);
  check_equal(manta_ref_value((manta_ref){5}), manta_ref_value((manta_ref){5}),
              1);
  check_equal(manta_ref_value((manta_ref){5}), manta_ref_value((manta_ref){6}),
              0);
  check_equal(manta_ref_value((manta_ref){5}),
              manta_actor_value((manta_actor){5}), 0);
  check_equal(manta_actor_value((manta_actor){5}),
              manta_actor_value((manta_actor){5}), 1);

  /* lists: order matters */
  check_equal(list_of(2, manta_int(1), manta_int(2)),
              list_of(2, manta_int(1), manta_int(2)), 1);
  check_equal(list_of(2, manta_int(1), manta_int(2)),
              list_of(2, manta_int(2), manta_int(1)), 0);
  check_equal(list_of(1, manta_int(1)), list_of(2, manta_int(1), manta_int(1)),
              0);
  check_equal(list_of(1, list_of(1, list_of(0))),
              list_of(1, list_of(1, list_of(0))), 1);
  check_equal(list_of(1, list_of(1, list_of(0))),
              list_of(1, list_of(1, manta_map())), 0);

  /* maps: compared as maps, whatever the insertion order */
  manta_value *a = manta_map(), *b = manta_map();
  manta_map_put(a, "x", manta_int(1));
  manta_map_put(a, "y", list_of(1, manta_cstring("deep")));
  manta_map_put(b, "y", list_of(1, manta_cstring("deep")));
  manta_map_put(b, "x", manta_int(1));
  CHECK(manta_value_equal(a, b));
  manta_map_put(b, "x", manta_int(2));
  CHECK(!manta_value_equal(a, b));
  manta_map_put(b, "x", manta_int(1));
  manta_map_put(b, "z", manta_int(1));
  CHECK(!manta_value_equal(a, b));
  manta_map_put(a, "w", manta_int(1));
  CHECK(!manta_value_equal(a, b)); /* same size, different keys */
  manta_value_free(a);
  manta_value_free(b);

  /* errors: code, message, origin and cause */
  manta_value *e1 = manta_error(MANTA_ERR_TIMEOUT, "m");
  manta_value *e2 = manta_error(MANTA_ERR_TIMEOUT, "m");
  CHECK(manta_value_equal(e1, e2));
  manta_error_set_origin(e1, "o");
  CHECK(!manta_value_equal(e1, e2));
  manta_error_set_origin(e2, "o");
  CHECK(manta_value_equal(e1, e2));
  manta_error_set_cause(e1, manta_int(1));
  CHECK(!manta_value_equal(e1, e2));
  manta_error_set_cause(e2, manta_int(2));
  CHECK(!manta_value_equal(e1, e2));
  manta_error_set_cause(e2, manta_int(1));
  CHECK(manta_value_equal(e1, e2));
  check_equal(e1, e2, 1);
  check_equal(manta_error(MANTA_ERR_TIMEOUT, "m"),
              manta_error(MANTA_ERR_CANCELLED, "m"), 0);
  check_equal(manta_error(MANTA_ERR_TIMEOUT, "m"),
              manta_error(MANTA_ERR_TIMEOUT, "n"), 0);

  /* shared subvalues */
  manta_value *s = manta_cstring("shared");
  check_equal(list_of(2, manta_value_ref(s), manta_value_ref(s)),
              list_of(2, manta_value_ref(s), manta_cstring("shared")), 1);
  manta_value_free(s);
}

/* --- repr --------------------------------------------------------------- */

static void test_repr(void) {
  check_repr(manta_null(), "null");
  check_repr(manta_bool(1), "true");
  check_repr(manta_bool(0), "false");
  check_repr(manta_int(42), "42");
  check_repr(manta_int(INT64_MIN), "-9223372036854775808");
  check_repr(manta_double(1.5), "1.5");
  check_repr(manta_double(2), "2.0");
  check_repr(manta_double(-0.0), "-0.0");
  check_repr(manta_double(0.1), "0.1");
  check_repr(manta_double(1.0 / 3), "0.3333333333333333");
  check_repr(manta_double(1e100), "1e+100");
  check_repr(manta_double(NAN), "nan");
  check_repr(manta_double(-INFINITY), "-inf");
  check_repr(manta_string("a\"b\\c\n\t\r\x01\x7f\0z", 12),
             "\"a\\\"b\\\\c\\n\\t\\r\\u0001\\u007f\\u0000z\"");
  check_repr(manta_cstring("héllo"), "\"héllo\"");
  check_repr(manta_bytes("\x00\x01hi\"\\\xff", 7),
             "b\"\\x00\\x01hi\\\"\\\\\\xff\"");
  unsigned char forty[40];
  memset(forty, 'a', sizeof forty);
  check_repr(manta_bytes(forty, sizeof forty),
             "b\"aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa\"...(40 bytes)");
  check_repr(manta_bytes(forty, 32), "b\"aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa\"");
  check_repr(manta_list(), "[]");
  check_repr(manta_map(), "{}");
  check_repr(list_of(3, manta_int(0), manta_int(1), manta_int(3)), "[0, 1, 3]");
  manta_value *m = manta_map();
  manta_map_put(m, "a", manta_int(1));
  manta_map_put(m, "b\"", list_of(2, manta_bool(1), manta_null()));
  check_repr(m, "{\"a\": 1, \"b\\\"\": [true, null]}");
  check_repr(manta_ref_value((manta_ref){0x2a}),
             "ref(obj-0000000000000000000000000000002a)");
  check_repr(manta_actor_value((manta_actor){0x0102030405060708ULL}),
             "actor(00000000000000000102030405060708)");

  manta_value *e = manta_error(MANTA_ERR_TASK_FAILED, "boom");
  check_repr(manta_value_ref(e), "error(MANTA_ERR_TASK_FAILED: boom)");
  manta_error_set_origin(e, "f");
  manta_error_set_cause(e, manta_error(MANTA_ERR_TIMEOUT, "slow"));
  check_repr(e, "error(MANTA_ERR_TASK_FAILED: boom @ f; cause: "
                "error(MANTA_ERR_TIMEOUT: slow))");
  check_repr(manta_error((manta_err)1234, "x"),
             "error(MANTA_ERR_UNKNOWN(1234): x)");
}

static manta_value *nested_lists(int depth, manta_value *leaf) {
  manta_value *v = leaf;
  for (int i = 0; i < depth; i++) {
    manta_value *l = manta_list();
    manta_list_push(l, v);
    v = l;
  }
  return v;
}

static void test_repr_depth(void) {
  /* MANTA_MAX_DEPTH lists print in full, one more prints "..." inside */
  manta_value *v = nested_lists(MANTA_MAX_DEPTH, manta_int(7));
  char *r = manta_value_repr(v);
  REQUIRE(r != NULL);
  CHECK(strstr(r, "[7]") != NULL);
  CHECK(strstr(r, "...") == NULL);
  CHECK_INT_EQ(strlen(r), 2 * MANTA_MAX_DEPTH + 1);
  manta_free(r);
  manta_value_free(v);

  v = nested_lists(MANTA_MAX_DEPTH + 1, manta_int(7));
  r = manta_value_repr(v);
  REQUIRE(r != NULL);
  CHECK(strstr(r, "[...]") != NULL);
  CHECK(strstr(r, "7") == NULL);
  manta_free(r);
  manta_value_free(v);
}

/* Values nested far deeper than any stack allows: free, freeze, equality,
 * payload and repr must not recurse per level. */
static void test_very_deep(void) {
  enum { DEPTH = 200000 };
  manta_value *a = nested_lists(DEPTH, manta_cstring("leaf"));
  manta_value *b = nested_lists(DEPTH, manta_cstring("leaf"));
  CHECK(manta_value_equal(a, b));
  CHECK_INT_EQ(mt_value_payload_bytes(a), 4);
  mt_value_freeze(a);
  CHECK(mt_value_frozen(a));
  char *r = manta_value_repr(a);
  CHECK(r != NULL);
  manta_free(r);
  manta_value *c = nested_lists(DEPTH, manta_cstring("leaF"));
  CHECK(!manta_value_equal(a, c));
  manta_value *deep_err = manta_error(MANTA_ERR_TASK_FAILED, "top");
  CHECK_OK(manta_error_set_cause(deep_err, c));
  manta_value_free(deep_err);
  manta_value_free(a);
  manta_value_free(b);
}

static void test_payload_bytes(void) {
  manta_value *m = manta_map();
  manta_map_put(m, "long-key-not-counted", manta_cstring("12345"));
  manta_map_put(m, "b", manta_bytes("123", 3));
  manta_value *e = manta_error(MANTA_ERR_TASK_FAILED, "message not counted");
  manta_error_set_cause(e, list_of(2, manta_cstring("ab"), manta_int(1)));
  manta_map_put(m, "e", e);
  CHECK_INT_EQ(mt_value_payload_bytes(m), 10);
  char big[5000] = {0};
  manta_value *w = manta_bytes_wrap(big, sizeof big, NULL, NULL);
  CHECK_INT_EQ(mt_value_payload_bytes(w), 5000);
  manta_value_free(w);
  manta_value_free(m);
}

/* --- hooks -------------------------------------------------------------- */

#define MAX_IDS 8
static int ref_counts[MAX_IDS];
static int actor_counts[MAX_IDS];
static int hook_calls;

static void t_ref_retain(uint64_t id) {
  ref_counts[id % MAX_IDS]++;
  hook_calls++;
}
static void t_ref_release(uint64_t id) {
  ref_counts[id % MAX_IDS]--;
  hook_calls++;
}
static void t_actor_retain(uint64_t id) {
  actor_counts[id % MAX_IDS]++;
  hook_calls++;
}
static void t_actor_release(uint64_t id) {
  actor_counts[id % MAX_IDS]--;
  hook_calls++;
}
static void t_ref_to_wire(uint64_t id, uint8_t wire[16]) {
  memset(wire, 0xab, 16);
  wire[15] = (uint8_t)id;
}

static void test_hooks(void) {
  memset(ref_counts, 0, sizeof ref_counts);
  memset(actor_counts, 0, sizeof actor_counts);
  hook_calls = 0;
  /* unset members keep their defaults */
  mt_value_hooks h = {
      t_ref_retain,  t_ref_release, t_actor_retain, t_actor_release,
      t_ref_to_wire, NULL,          NULL,           NULL};
  mt_value_set_hooks(&h);

  manta_value *r1 = manta_ref_value((manta_ref){1});
  manta_value *r2 = manta_ref_value((manta_ref){2});
  manta_value *a3 = manta_actor_value((manta_actor){3});
  CHECK_INT_EQ(ref_counts[1], 1);
  CHECK_INT_EQ(ref_counts[2], 1);
  CHECK_INT_EQ(actor_counts[3], 1);
  manta_ref ref;
  manta_actor actor;
  CHECK_OK(manta_get_ref(r1, &ref));
  CHECK_INT_EQ(ref.id, 1);
  CHECK_INT_EQ(mt_value_ref_id(r2), 2);
  CHECK_INT_EQ(mt_value_ref_id(a3), 0);
  CHECK_OK(manta_get_actor(a3, &actor));
  CHECK_INT_EQ(actor.id, 3);
  CHECK_INT_EQ(ref_counts[1], 1); /* readers borrow: no count taken */

  /* values holding refs are counted once per value, not per container */
  manta_value *l = manta_list();
  manta_list_push(l, manta_value_ref(r1));
  manta_list_push(l, r2);
  manta_value *m = manta_map();
  manta_map_put(m, "l", l);
  manta_map_put(m, "a", a3);
  manta_map_put(m, "r", manta_ref_value((manta_ref){1}));
  CHECK_INT_EQ(ref_counts[1], 2);
  manta_value_free(r1);
  CHECK_INT_EQ(ref_counts[1], 2);
  char *r = manta_value_repr(m);
  CHECK(r && strstr(r, "ref(obj-ababababababababababababababab01)"));
  CHECK(r && strstr(r, "actor(00000000000000000000000000000003)"));
  manta_free(r);
  manta_map_put(m, "r", manta_null()); /* replacing releases */
  CHECK_INT_EQ(ref_counts[1], 1);
  manta_value_free(m);
  for (int i = 0; i < MAX_IDS; i++) {
    CHECK_INT_EQ(ref_counts[i], 0);
    CHECK_INT_EQ(actor_counts[i], 0);
  }
  CHECK_INT_EQ(hook_calls, 8);

  /* defaults again: nothing is counted */
  mt_value_set_hooks(NULL);
  hook_calls = 0;
  manta_value_free(manta_ref_value((manta_ref){4}));
  CHECK_INT_EQ(hook_calls, 0);
}

int main(void) {
  RUN(test_error_table);
  RUN(test_version);
  RUN(test_scalars);
  RUN(test_strings);
  RUN(test_bytes);
  RUN(test_list);
  RUN(test_map);
  RUN(test_map_large);
  RUN(test_frozen);
  RUN(test_wrong_kind);
  RUN(test_null_arguments);
  RUN(test_refcount);
  RUN(test_error_values);
  RUN(test_cycles);
  RUN(test_equal);
  RUN(test_repr);
  RUN(test_repr_depth);
  RUN(test_very_deep);
  RUN(test_payload_bytes);
  RUN(test_hooks);
  return mt_test_done();
}
