/* The protobuf encoding of values: golden bytes, round trips, depth limits,
 * hostile input, forward compatibility, and agreement with protobuf-c's
 * generated code for value.proto in both directions. */
#include "manta/v1/value.pb-c.h"
#include "test_util.h"
#include "value.h"

#include <math.h>
#include <stdarg.h>
#include <string.h>

static void (*current_test)(void);

static void leak_checked(void) {
  int64_t before = mt_value_live_count();
  current_test();
  CHECK_INT_EQ(mt_value_live_count() - before, 0);
}

#define RUN(fn) (current_test = fn, mt_test_run(#fn, leak_checked))

/* --- byte helpers ------------------------------------------------------- */

/* Hex with optional spaces, into a malloc'd buffer. */
static uint8_t *unhex(const char *hex, size_t *len) {
  uint8_t *out = malloc(strlen(hex) / 2 + 1);
  size_t n = 0;
  int half = -1;
  for (const char *p = hex; *p; p++) {
    int d;
    if (*p >= '0' && *p <= '9') {
      d = *p - '0';
    } else if (*p >= 'a' && *p <= 'f') {
      d = *p - 'a' + 10;
    } else {
      continue;
    }
    if (half < 0) {
      half = d;
    } else {
      out[n++] = (uint8_t)(half << 4 | d);
      half = -1;
    }
  }
  *len = n;
  return out;
}

static char *tohex(const uint8_t *p, size_t n) {
  char *s = malloc(2 * n + 1);
  for (size_t i = 0; i < n; i++) {
    snprintf(s + 2 * i, 3, "%02x", p[i]);
  }
  s[2 * n] = '\0';
  return s;
}

static manta_err decode_hex(const char *hex, manta_value **out) {
  size_t n;
  uint8_t *b = unhex(hex, &n);
  manta_err err = manta_value_decode(b, n, out);
  free(b);
  return err;
}

/* A buffer filled from the back, for nesting messages inside out. */
typedef struct backbuf {
  uint8_t *base;
  uint8_t *p; /* start of what is written so far */
  uint8_t *end;
} backbuf;

static void bb_init(backbuf *b, size_t cap) {
  b->base = malloc(cap);
  b->p = b->end = b->base + cap;
}

static void bb_prepend(backbuf *b, const void *data, size_t n) {
  REQUIRE((size_t)(b->p - b->base) >= n);
  b->p -= n;
  memcpy(b->p, data, n);
}

static void bb_prepend_varint(backbuf *b, uint64_t x) {
  uint8_t tmp[10];
  size_t n = 0;
  do {
    tmp[n++] = (uint8_t)((x & 0x7f) | (x >= 0x80 ? 0x80 : 0));
    x >>= 7;
  } while (x);
  bb_prepend(b, tmp, n);
}

/* Wraps everything written so far in a length-delimited field. */
static void bb_wrap(backbuf *b, uint8_t tag) {
  bb_prepend_varint(b, (uint64_t)(b->end - b->p));
  bb_prepend(b, &tag, 1);
}

enum { NEST_LIST, NEST_MAP, NEST_ERROR, NEST_MIXED };

/* A Value nested `depth` containers deep around the int 1. */
static uint8_t *nested_bytes(int depth, int how, size_t *len) {
  backbuf b;
  bb_init(&b, (size_t)depth * 24 + 16);
  bb_prepend(&b, "\x18\x02", 2);
  for (int i = 0; i < depth; i++) {
    int kind = how == NEST_MIXED ? i % 3 : how;
    if (kind == NEST_LIST) {
      bb_wrap(&b, 0x0a); /* ListValue.items */
      bb_wrap(&b, 0x3a); /* Value.list_value */
    } else if (kind == NEST_MAP) {
      bb_wrap(&b, 0x12); /* MapEntry.value */
      bb_wrap(&b, 0x0a); /* MapValue.entries */
      bb_wrap(&b, 0x42); /* Value.map_value */
    } else {
      bb_wrap(&b, 0x22); /* Error.cause */
      bb_wrap(&b, 0x5a); /* Value.error_value */
    }
  }
  *len = (size_t)(b.end - b.p);
  memmove(b.base, b.p, *len);
  return b.base;
}

/* The same shape built through the API. */
static manta_value *nested_value(int depth, int how) {
  manta_value *v = manta_int(1);
  for (int i = 0; i < depth; i++) {
    int kind = how == NEST_MIXED ? i % 3 : how;
    manta_value *c;
    if (kind == NEST_LIST) {
      c = manta_list();
      manta_list_push(c, v);
    } else if (kind == NEST_MAP) {
      c = manta_map();
      manta_map_put(c, "", v);
    } else {
      c = manta_error(MANTA_OK, "%s", "");
      manta_error_set_cause(c, v);
    }
    v = c;
  }
  return v;
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

/* encode -> decode gives an equal value, and encoding that gives the same
 * bytes again (the encoding is canonical). Frees v. */
static void check_roundtrip(manta_value *v) {
  void *buf = NULL, *buf2 = NULL;
  size_t len = 0, len2 = 0;
  manta_value *back = NULL;
  REQUIRE_OK(manta_value_encode(v, &buf, &len));
  CHECK_OK(manta_value_decode(buf, len, &back));
  CHECK(manta_value_equal(v, back));
  CHECK_OK(manta_value_encode(back, &buf2, &len2));
  CHECK(len == len2 && memcmp(buf, buf2, len) == 0);
  if (!manta_value_equal(v, back)) {
    char *a = manta_value_repr(v), *b = manta_value_repr(back);
    fprintf(stderr, "  sent %s\n  got  %s\n", a, b);
    manta_free(a);
    manta_free(b);
  }
  manta_free(buf);
  manta_free(buf2);
  manta_value_free(back);
  manta_value_free(v);
}

/* Encodes to exactly `hex` and decodes back from it. Frees v. */
static void check_golden(manta_value *v, const char *hex) {
  void *buf = NULL;
  size_t len = 0;
  REQUIRE_OK(manta_value_encode(v, &buf, &len));
  char *got = tohex(buf, len);
  size_t wn;
  uint8_t *want = unhex(hex, &wn);
  char *want_hex = tohex(want, wn);
  if (strcmp(got, want_hex) != 0) {
    fprintf(stderr, "encode: got  %s\n        want %s\n", got, want_hex);
    mt_test_failures++;
  }
  mt_test_checks++;
  manta_value *back = NULL;
  CHECK_OK(manta_value_decode(want, wn, &back));
  CHECK(manta_value_equal(v, back));
  manta_value_free(back);
  free(got);
  free(want);
  free(want_hex);
  manta_free(buf);
  manta_value_free(v);
}

/* --- fixed bytes -------------------------------------------------------- */

static void test_golden(void) {
  check_golden(manta_null(), "08 00");
  check_golden(manta_bool(1), "10 01");
  check_golden(manta_bool(0), "10 00");
  check_golden(manta_int(0), "18 00");
  check_golden(manta_int(1), "18 02");
  check_golden(manta_int(-1), "18 01");
  check_golden(manta_int(150), "18 ac 02");
  check_golden(manta_int(INT64_MAX), "18 fe ff ff ff ff ff ff ff ff 01");
  check_golden(manta_int(INT64_MIN), "18 ff ff ff ff ff ff ff ff ff 01");
  check_golden(manta_double(1.5), "21 00 00 00 00 00 00 f8 3f");
  check_golden(manta_double(-0.0), "21 00 00 00 00 00 00 00 80");
  check_golden(manta_cstring("hi"), "2a 02 68 69");
  check_golden(manta_string("", 0), "2a 00");
  check_golden(manta_bytes("\x00\xff", 2), "32 02 00 ff");
  check_golden(manta_bytes(NULL, 0), "32 00");
  check_golden(manta_list(), "3a 00");
  check_golden(list_of(2, manta_int(1), manta_null()),
               "3a 08 0a 02 18 02 0a 02 08 00");
  manta_value *m = manta_map();
  manta_map_put(m, "a", manta_null());
  manta_map_put(m, "", manta_bool(1));
  check_golden(m, "42 0f 0a 07 0a 01 61 12 02 08 00 0a 04 12 02 10 01");
  check_golden(manta_map(), "42 00");
  check_golden(manta_ref_value((manta_ref){42}),
               "4a 12 0a 10 00000000 00000000 00000000 0000002a");
  check_golden(manta_actor_value((manta_actor){0x0102030405060708ULL}),
               "52 12 0a 10 00000000 00000000 01020304 05060708");
  check_golden(manta_error(MANTA_ERR_TASK_FAILED, "x"), "5a 05 08 0b 12 01 78");
  check_golden(manta_error(MANTA_OK, "%s", ""), "5a 00");
  check_golden(manta_error((manta_err)-2, "%s", ""),
               "5a 0b 08 fe ff ff ff ff ff ff ff ff 01");
  manta_value *e = manta_error(MANTA_ERR_TIMEOUT, "t");
  manta_error_set_origin(e, "o");
  manta_error_set_cause(e, manta_null());
  check_golden(e, "5a 0c 08 06 12 01 74 1a 01 6f 22 02 08 00");
}

static void test_roundtrip_kinds(void) {
  check_roundtrip(manta_null());
  check_roundtrip(manta_bool(1));
  int64_t ints[] = {0,  1,         -1,        63,        -64,
                    64, INT32_MAX, INT32_MIN, INT64_MAX, INT64_MIN};
  for (size_t i = 0; i < sizeof ints / sizeof ints[0]; i++) {
    check_roundtrip(manta_int(ints[i]));
  }
  double ds[] = {0.0, -0.0, 1.5, -1e308, 5e-324, INFINITY, -INFINITY, NAN};
  for (size_t i = 0; i < sizeof ds / sizeof ds[0]; i++) {
    check_roundtrip(manta_double(ds[i]));
  }
  uint64_t payload_nan = 0x7ff8dead0000beefULL;
  double pn;
  memcpy(&pn, &payload_nan, 8);
  check_roundtrip(manta_double(pn));
  check_roundtrip(manta_string("with\0nul", 8));
  check_roundtrip(manta_cstring("ütf-8 ✓"));
  unsigned char all[256];
  for (int i = 0; i < 256; i++) {
    all[i] = (unsigned char)i;
  }
  check_roundtrip(manta_bytes(all, sizeof all));
  check_roundtrip(manta_ref_value((manta_ref){UINT64_MAX}));
  check_roundtrip(manta_actor_value((manta_actor){0}));
  manta_value *e = manta_error(MANTA_ERR_NODE_DIED, "node %d", 3);
  manta_error_set_origin(e, "node 3f2a");
  manta_value *cause = manta_error(MANTA_ERR_TIMEOUT, "heartbeat");
  manta_error_set_cause(cause, list_of(1, manta_int(5)));
  manta_error_set_cause(e, cause);
  check_roundtrip(e);

  /* order of map entries survives */
  manta_value *m = manta_map();
  const char *keys[] = {"z", "a", "m", "", "b"};
  for (int i = 0; i < 5; i++) {
    manta_map_put(m, keys[i], manta_int(i));
  }
  void *buf;
  size_t len;
  REQUIRE_OK(manta_value_encode(m, &buf, &len));
  manta_value *back = NULL;
  REQUIRE_OK(manta_value_decode(buf, len, &back));
  for (size_t i = 0; i < 5; i++) {
    const char *k = NULL;
    const manta_value *v = NULL;
    CHECK_OK(manta_map_at(back, i, &k, &v));
    CHECK(strcmp(k, keys[i]) == 0);
    CHECK_INT_EQ(mt_test_int(v), i);
  }
  manta_free(buf);
  manta_value_free(back);
  check_roundtrip(m);

  /* a map big enough for the hash index, and shared subvalues */
  m = manta_map();
  manta_value *shared = manta_cstring("shared");
  char key[16];
  for (int i = 0; i < 1000; i++) {
    snprintf(key, sizeof key, "k%d", i);
    manta_map_put(m, key, i % 2 ? manta_value_ref(shared) : manta_int(i));
  }
  manta_value_free(shared);
  check_roundtrip(m);
}

static void test_bad_arguments(void) {
  void *buf = (void *)1;
  size_t len = 7;
  manta_value *v = manta_int(1);
  CHECK_ERR(manta_value_encode(NULL, &buf, &len), MANTA_ERR_INVALID);
  CHECK(buf == NULL && len == 0);
  CHECK_ERR(manta_value_encode(v, NULL, &len), MANTA_ERR_INVALID);
  CHECK_ERR(manta_value_encode(v, &buf, NULL), MANTA_ERR_INVALID);
  manta_value *out = v;
  CHECK_ERR(manta_value_decode(NULL, 3, &out), MANTA_ERR_INVALID);
  CHECK(out == NULL);
  CHECK_ERR(manta_value_decode("\x08\x00", 2, NULL), MANTA_ERR_INVALID);
  /* the empty message is a Value with no kind: null */
  CHECK_OK(manta_value_decode(NULL, 0, &out));
  CHECK(manta_value_kind(out) == MANTA_KIND_NULL);
  manta_value_free(out);
  manta_value_free(v);
}

/* 64 MiB of bytes: one copy into the encoding, one out of it. */
static void test_large_bytes(void) {
  size_t n = (size_t)64 << 20;
  uint8_t *data = malloc(n);
  REQUIRE(data != NULL);
  for (size_t i = 0; i < n; i++) {
    data[i] = (uint8_t)(i * 2654435761u >> 13);
  }
  manta_value *v =
      list_of(2, manta_bytes_wrap(data, n, NULL, NULL), manta_cstring("tail"));
  void *buf;
  size_t len;
  REQUIRE_OK(manta_value_encode(v, &buf, &len));
  CHECK_INT_EQ(len, n + 23);
  manta_value *back = NULL;
  REQUIRE_OK(manta_value_decode(buf, len, &back));
  manta_free(buf);
  const manta_value *item;
  const void *got;
  size_t got_len = 0;
  CHECK_OK(manta_list_at(back, 0, &item));
  CHECK_OK(manta_get_bytes(item, &got, &got_len));
  CHECK_INT_EQ(got_len, n);
  CHECK(memcmp(got, data, n) == 0);
  CHECK(manta_value_equal(v, back));
  CHECK_INT_EQ(mt_value_payload_bytes(back), n + 4);
  manta_value_free(back);
  manta_value_free(v);
  free(data);
}

/* --- depth -------------------------------------------------------------- */

static void test_depth_encode(void) {
  for (int how = NEST_LIST; how <= NEST_MIXED; how++) {
    manta_value *ok = nested_value(MANTA_MAX_DEPTH, how);
    void *buf = NULL;
    size_t len = 0;
    CHECK_OK(manta_value_encode(ok, &buf, &len));
    /* our bytes are the hand-made ones */
    size_t hn;
    uint8_t *hand = nested_bytes(MANTA_MAX_DEPTH, how, &hn);
    CHECK(hn == len && memcmp(hand, buf, len) == 0);
    free(hand);
    manta_free(buf);
    check_roundtrip(ok);

    manta_value *deep = nested_value(MANTA_MAX_DEPTH + 1, how);
    buf = (void *)1;
    CHECK_ERR(manta_value_encode(deep, &buf, &len), MANTA_ERR_TOO_DEEP);
    CHECK(buf == NULL);
    manta_value_free(deep);
  }
  /* very deep: refused without recursing all the way */
  manta_value *deeper = nested_value(100000, NEST_LIST);
  void *buf;
  size_t len;
  CHECK_ERR(manta_value_encode(deeper, &buf, &len), MANTA_ERR_TOO_DEEP);
  manta_value_free(deeper);
}

static void test_depth_decode(void) {
  for (int how = NEST_LIST; how <= NEST_MIXED; how++) {
    size_t n;
    uint8_t *b = nested_bytes(MANTA_MAX_DEPTH, how, &n);
    manta_value *v = NULL;
    CHECK_OK(manta_value_decode(b, n, &v));
    manta_value *want = nested_value(MANTA_MAX_DEPTH, how);
    CHECK(manta_value_equal(v, want));
    manta_value_free(want);
    manta_value_free(v);
    free(b);

    b = nested_bytes(MANTA_MAX_DEPTH + 1, how, &n);
    v = (manta_value *)1;
    CHECK_ERR(manta_value_decode(b, n, &v), MANTA_ERR_TOO_DEEP);
    CHECK(v == NULL);
    free(b);
  }
  /* hostile nesting far beyond the limit costs no stack */
  size_t n;
  uint8_t *b = nested_bytes(200000, NEST_MIXED, &n);
  manta_value *v = NULL;
  CHECK_ERR(manta_value_decode(b, n, &v), MANTA_ERR_TOO_DEEP);
  free(b);
}

/* --- hostile input ------------------------------------------------------ */

static manta_value *complex_value(void) {
  manta_value *m = manta_map();
  manta_map_put(m, "name", manta_cstring("levenshtein"));
  manta_map_put(m, "args",
                list_of(4, manta_int(-300), manta_double(0.25),
                        manta_bytes("\x00\x01\x02", 3),
                        list_of(1, manta_bool(1))));
  manta_map_put(m, "ref", manta_ref_value((manta_ref){77}));
  manta_map_put(m, "actor", manta_actor_value((manta_actor){78}));
  manta_value *e = manta_error(MANTA_ERR_TASK_FAILED, "boom");
  manta_error_set_origin(e, "fn");
  manta_error_set_cause(e, manta_error(MANTA_ERR_TIMEOUT, "slow"));
  manta_map_put(m, "err", e);
  manta_map_put(m, "", manta_null());
  return m;
}

/* Every proper prefix is truncated inside the one top-level field. */
static void test_truncation(void) {
  manta_value *v = complex_value();
  void *buf;
  size_t len;
  REQUIRE_OK(manta_value_encode(v, &buf, &len));
  manta_value *out = NULL;
  CHECK_OK(manta_value_decode(buf, 0, &out)); /* empty: null */
  CHECK(manta_value_kind(out) == MANTA_KIND_NULL);
  manta_value_free(out);
  int wrong = 0;
  for (size_t n = 1; n < len; n++) {
    /* a copy of exactly n bytes, so ASan sees any read past the end */
    uint8_t *prefix = malloc(n);
    memcpy(prefix, buf, n);
    out = (manta_value *)1;
    manta_err err = manta_value_decode(prefix, n, &out);
    if (err != MANTA_ERR_MALFORMED || out != NULL) {
      fprintf(stderr, "  prefix %zu: %s\n", n, manta_errname(err));
      wrong++;
    }
    free(prefix);
  }
  CHECK_INT_EQ(wrong, 0);
  manta_free(buf);
  manta_value_free(v);
}

/* Every single-byte corruption decodes or fails cleanly, and whatever
 * decodes re-encodes. */
static void test_corruption(void) {
  manta_value *v = complex_value();
  void *buf;
  size_t len;
  REQUIRE_OK(manta_value_encode(v, &buf, &len));
  uint8_t *copy = malloc(len);
  const uint8_t patterns[] = {0x00, 0x01, 0x7f, 0x80, 0xff};
  int decoded = 0, failed = 0;
  for (size_t i = 0; i < len; i++) {
    for (size_t j = 0; j <= sizeof patterns; j++) {
      memcpy(copy, buf, len);
      copy[i] = j < sizeof patterns ? patterns[j] : (uint8_t)~copy[i];
      manta_value *out = NULL;
      manta_err err = manta_value_decode(copy, len, &out);
      if (err == MANTA_OK) {
        decoded++;
        void *re;
        size_t relen;
        CHECK_OK(manta_value_encode(out, &re, &relen));
        manta_free(re);
        manta_value_free(out);
      } else {
        failed++;
        CHECK(out == NULL);
        CHECK(err == MANTA_ERR_MALFORMED || err == MANTA_ERR_TOO_DEEP);
      }
    }
  }
  fprintf(stderr, "   %d corruptions decoded, %d refused\n", decoded, failed);
  CHECK(failed > 0);
  free(copy);
  manta_free(buf);
  manta_value_free(v);
}

static void check_decode_err(const char *hex, manta_err want) {
  manta_value *v = (manta_value *)1;
  manta_err err = decode_hex(hex, &v);
  if (err != want) {
    fprintf(stderr, "  decode %s: %s, expected %s\n", hex, manta_errname(err),
            manta_errname(want));
  }
  CHECK_ERR(err, want);
  if (err == MANTA_OK) {
    manta_value_free(v);
  } else {
    CHECK(v == NULL);
  }
}

static void test_malformed(void) {
  check_decode_err("18", MANTA_ERR_MALFORMED);    /* no varint */
  check_decode_err("18 80", MANTA_ERR_MALFORMED); /* truncated varint */
  check_decode_err("18 ff ff ff ff ff ff ff ff ff 02",
                   MANTA_ERR_MALFORMED); /* > 64 bits */
  check_decode_err("18 80 80 80 80 80 80 80 80 80 80 00",
                   MANTA_ERR_MALFORMED);                /* 11 bytes */
  check_decode_err("21 00 00 00", MANTA_ERR_MALFORMED); /* short double */
  check_decode_err("2a 05 61 62", MANTA_ERR_MALFORMED); /* short string */
  check_decode_err("2a ff ff ff ff ff ff ff ff 7f 61",
                   MANTA_ERR_MALFORMED);          /* huge length */
  check_decode_err("00 00", MANTA_ERR_MALFORMED); /* field 0 */
  check_decode_err("80", MANTA_ERR_MALFORMED);    /* truncated tag */
  check_decode_err("f8 ff ff ff ff 01 00", MANTA_ERR_MALFORMED); /* 2^32 */
  check_decode_err("0b 0c", MANTA_ERR_MALFORMED); /* start group */
  check_decode_err("0c", MANTA_ERR_MALFORMED);    /* end group */
  check_decode_err("6b 6c", MANTA_ERR_MALFORMED); /* unknown group */
  check_decode_err("66", MANTA_ERR_MALFORMED);    /* wire type 6 */
  check_decode_err("67", MANTA_ERR_MALFORMED);    /* wire type 7 */
  /* known fields with the wrong wire type */
  check_decode_err("1a 00", MANTA_ERR_MALFORMED);       /* int as bytes */
  check_decode_err("20 00", MANTA_ERR_MALFORMED);       /* double as varint */
  check_decode_err("38 00", MANTA_ERR_MALFORMED);       /* list as varint */
  check_decode_err("3a 02 08 00", MANTA_ERR_MALFORMED); /* item as varint */
  check_decode_err("42 02 08 00", MANTA_ERR_MALFORMED); /* entry as varint */
  check_decode_err("42 04 0a 02 08 00", MANTA_ERR_MALFORMED); /* key */
  check_decode_err("5a 02 12 00 ", MANTA_OK);
  check_decode_err("5a 02 0a 00", MANTA_ERR_MALFORMED); /* code as bytes */
  /* lengths that run past their enclosing message */
  check_decode_err("3a 03 0a 02 18", MANTA_ERR_MALFORMED);
  check_decode_err("3a 02 0a 05 18 02", MANTA_ERR_MALFORMED);
  /* ids */
  check_decode_err("4a 00", MANTA_ERR_MALFORMED); /* no id */
  check_decode_err("4a 11 0a 0f 000000000000000000000000000000",
                   MANTA_ERR_MALFORMED); /* 15 bytes */
  check_decode_err("52 13 0a 11 0000000000000000000000000000000000",
                   MANTA_ERR_MALFORMED); /* 17 bytes */
  /* C-string parts with a NUL inside */
  check_decode_err("42 07 0a 05 0a 03 61 00 62", MANTA_ERR_MALFORMED);
  check_decode_err("5a 05 12 03 61 00 62", MANTA_ERR_MALFORMED);
  check_decode_err("5a 05 1a 03 61 00 62", MANTA_ERR_MALFORMED);
  /* Error.code is an int32 */
  check_decode_err("5a 06 08 80 80 80 80 08", MANTA_ERR_MALFORMED); /* 2^31 */
  check_decode_err("5a 0b 08 ff ff ff ff f7 ff ff ff ff 01",
                   MANTA_ERR_MALFORMED); /* -2^31 - 1 */
  check_decode_err("5a 0b 08 80 80 80 80 f8 ff ff ff ff 01",
                   MANTA_OK);                            /* -2^31 */
  check_decode_err("5a 06 08 ff ff ff ff 07", MANTA_OK); /* 2^31 - 1 */
}

/* Fields this version does not know, of every wire type and at every
 * message level, are read past. */
static void test_unknown_fields(void) {
  /* u: one unknown field of each wire type (fields 15, 16, 17, 18) */
#define U "78 96 01  81 01 0102030405060708  8a 01 02 aa bb  95 01 01020304"
  struct {
    const char *hex;
    manta_value *want;
  } cases[] = {
      {U, manta_null()},
      {U " 18 02 " U, manta_int(1)},
      {"3a 34 " U " 0a 02 18 02 " U, list_of(1, manta_int(1))},
      {"3a 1c 0a 1a " U " 10 01", list_of(1, manta_bool(1))},
      {"42 21 0a 1f " U " 0a 01 6b 12 02 08 00", NULL},
      {"42 35 " U " 0a 03 0a 01 6b " U, NULL},
      {"4a 2d " U " 0a 10 00000000000000000000000000000009 12 01 61",
       manta_ref_value((manta_ref){9})},
      {"52 2d 0a 10 00000000000000000000000000000009 " U " 12 01 61",
       manta_actor_value((manta_actor){9})},
      {"5a 21 08 0b " U " 12 01 6d 22 02 08 00", NULL},
  };
#undef U
  manta_value *m = manta_map();
  manta_map_put(m, "k", manta_null());
  cases[4].want = m;
  m = manta_map();
  manta_map_put(m, "k", manta_null());
  cases[5].want = m;
  manta_value *e = manta_error(MANTA_ERR_TASK_FAILED, "m");
  manta_error_set_cause(e, manta_null());
  cases[8].want = e;
  for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
    manta_value *v = NULL;
    manta_err err = decode_hex(cases[i].hex, &v);
    CHECK_OK(err);
    if (!manta_value_equal(v, cases[i].want)) {
      fprintf(stderr, "  case %zu: %s\n", i, cases[i].hex);
      mt_test_failures++;
    }
    manta_value_free(v);
    manta_value_free(cases[i].want);
  }
}

/* What protobuf says about repeated and missing fields. */
static void test_protobuf_semantics(void) {
  manta_value *v = NULL;
  /* the last member of the oneof wins, whatever came before */
  CHECK_OK(decode_hex("08 00 18 02", &v));
  CHECK_INT_EQ(mt_test_int(v), 1);
  manta_value_free(v);
  CHECK_OK(decode_hex("3a 02 0a 00 2a 01 61 10 01", &v));
  CHECK(manta_value_kind(v) == MANTA_KIND_BOOL);
  manta_value_free(v);
  /* an item with no kind is null; a bool is any non-zero varint */
  CHECK_OK(decode_hex("3a 06 0a 00 0a 02 10 05", &v));
  manta_value *want = list_of(2, manta_null(), manta_bool(1));
  CHECK(manta_value_equal(v, want));
  manta_value_free(want);
  manta_value_free(v);
  /* an unknown NullValue number is still null; overlong varints are fine */
  CHECK_OK(decode_hex("08 07", &v));
  CHECK(manta_value_kind(v) == MANTA_KIND_NULL);
  manta_value_free(v);
  CHECK_OK(decode_hex("18 82 80 80 00", &v));
  CHECK_INT_EQ(mt_test_int(v), 1);
  manta_value_free(v);
  /* duplicate map keys: the last value wins, at the first key's place */
  CHECK_OK(decode_hex("42 1b"
                      "0a 07 0a 01 61 12 02 18 02"
                      "0a 07 0a 01 62 12 02 18 04"
                      "0a 07 0a 01 61 12 02 18 06",
                      &v));
  size_t len = 0;
  CHECK_OK(manta_len(v, &len));
  CHECK_INT_EQ(len, 2);
  const char *k;
  const manta_value *item;
  CHECK_OK(manta_map_at(v, 0, &k, &item));
  CHECK(strcmp(k, "a") == 0);
  CHECK_INT_EQ(mt_test_int(item), 3);
  manta_value_free(v);
  /* a map entry without key or value: "" -> null; repeated parts: last */
  CHECK_OK(decode_hex("42 02 0a 00", &v));
  CHECK_OK(manta_map_find(v, "", &item));
  CHECK(manta_value_kind(item) == MANTA_KIND_NULL);
  manta_value_free(v);
  CHECK_OK(
      decode_hex("42 10 0a 0e 0a 01 61 12 02 18 02 0a 01 62 12 02 18 04", &v));
  CHECK_OK(manta_map_at(v, 0, &k, &item));
  CHECK(strcmp(k, "b") == 0);
  CHECK_INT_EQ(mt_test_int(item), 2);
  manta_value_free(v);
  /* an error's repeated parts: the last of each */
  CHECK_OK(decode_hex("5a 12 08 01 08 06 12 01 61 12 01 62 22 02 18 02"
                      "22 02 18 04",
                      &v));
  CHECK_INT_EQ(manta_error_code(v), MANTA_ERR_TIMEOUT);
  CHECK(strcmp(manta_error_message(v), "b") == 0);
  CHECK_INT_EQ(mt_test_int(manta_error_cause(v)), 2);
  manta_value_free(v);
  /* an id message with owner_address: the address is read past */
  CHECK_OK(decode_hex("4a 1d 0a 10 00000000000000000000000000000005"
                      " 12 09 6c 6f 63 61 6c 68 6f 73 74",
                      &v));
  manta_ref r;
  CHECK_OK(manta_get_ref(v, &r));
  CHECK_INT_EQ(r.id, 5);
  manta_value_free(v);
}

/* --- hooks -------------------------------------------------------------- */

static int counts[256];

static void c_retain(uint64_t id) {
  counts[id & 0xff]++;
}
static void c_release(uint64_t id) {
  counts[id & 0xff]--;
}
static void c_to_wire(uint64_t id, uint8_t wire[16]) {
  memset(wire, 0x11, 16);
  wire[15] = (uint8_t)id;
}
static manta_err c_from_wire(const uint8_t wire[16], uint64_t *id) {
  if (wire[0] != 0x11) {
    return MANTA_ERR_NOT_FOUND;
  }
  if (wire[15] == 0xee) {
    return MANTA_ERR_BAD_HANDLE;
  }
  *id = wire[15];
  counts[wire[15]]++; /* a counted id, as the runtime gives */
  return MANTA_OK;
}

static void test_hooks(void) {
  memset(counts, 0, sizeof counts);
  mt_value_hooks h = {c_retain,  c_release, c_retain,    c_release,
                      c_to_wire, c_to_wire, c_from_wire, c_from_wire};
  mt_value_set_hooks(&h);

  manta_value *v = list_of(3, manta_ref_value((manta_ref){1}),
                           manta_actor_value((manta_actor){2}),
                           manta_ref_value((manta_ref){1}));
  CHECK_INT_EQ(counts[1], 2);
  void *buf;
  size_t len;
  REQUIRE_OK(manta_value_encode(v, &buf, &len));
  manta_value *back = NULL;
  CHECK_OK(manta_value_decode(buf, len, &back));
  CHECK(manta_value_equal(v, back));
  CHECK_INT_EQ(counts[1], 4);
  CHECK_INT_EQ(counts[2], 2);
  manta_value_free(back);
  manta_free(buf);
  CHECK_INT_EQ(counts[1], 2);

  /* a failing id fails the decode with its code, and what was built before
   * it (including counted ids) is released */
  manta_value *bad = list_of(4, manta_ref_value((manta_ref){3}),
                             manta_actor_value((manta_actor){4}),
                             manta_ref_value((manta_ref){0xee}), manta_int(5));
  REQUIRE_OK(manta_value_encode(bad, &buf, &len));
  back = (manta_value *)1;
  CHECK_ERR(manta_value_decode(buf, len, &back), MANTA_ERR_BAD_HANDLE);
  CHECK(back == NULL);
  CHECK_INT_EQ(counts[3], 1);
  CHECK_INT_EQ(counts[4], 1);
  manta_free(buf);
  manta_value_free(bad);
  manta_value_free(v);
  CHECK_ERR(decode_hex("4a 12 0a 10 00000000000000000000000000000001", &back),
            MANTA_ERR_NOT_FOUND);
  for (int i = 0; i < 256; i++) {
    CHECK_INT_EQ(counts[i], 0);
  }
  mt_value_set_hooks(NULL);
}

/* --- protobuf-c conformance --------------------------------------------- */

/* The wire id the default hooks give a local id: 8 zero bytes, then the id
 * big-endian. */
static void default_wire(uint64_t id, uint8_t wire[16]) {
  memset(wire, 0, 8);
  for (int i = 0; i < 8; i++) {
    wire[15 - i] = (uint8_t)(id >> (8 * i));
  }
}

static char *dupmem(const char *s, size_t n) {
  char *d = malloc(n + 1);
  memcpy(d, s, n);
  d[n] = '\0';
  return d;
}

/* A protobuf-c tree of v, every part malloc'd so free_unpacked frees it. */
static Manta__V1__Value *to_pbc(const manta_value *v) {
  Manta__V1__Value *m = malloc(sizeof *m);
  manta__v1__value__init(m);
  const char *s;
  const void *data;
  size_t len = 0;
  uint8_t wire[16];
  manta_ref ref;
  manta_actor actor;
  switch (manta_value_kind(v)) {
  case MANTA_KIND_NULL:
    m->kind_case = MANTA__V1__VALUE__KIND_NULL_VALUE;
    m->null_value = MANTA__V1__NULL_VALUE__NULL_VALUE;
    break;
  case MANTA_KIND_BOOL: {
    int b;
    manta_get_bool(v, &b);
    m->kind_case = MANTA__V1__VALUE__KIND_BOOL_VALUE;
    m->bool_value = b;
    break;
  }
  case MANTA_KIND_INT:
    m->kind_case = MANTA__V1__VALUE__KIND_INT_VALUE;
    manta_get_int(v, &m->int_value);
    break;
  case MANTA_KIND_DOUBLE:
    m->kind_case = MANTA__V1__VALUE__KIND_DOUBLE_VALUE;
    manta_get_double(v, &m->double_value);
    break;
  case MANTA_KIND_STRING:
    /* a fresh "" (not protobuf_c_empty_string, which protobuf-c would take
     * for "unset" and drop from the oneof) */
    manta_get_string(v, &s, &len);
    m->kind_case = MANTA__V1__VALUE__KIND_STRING_VALUE;
    m->string_value = dupmem(s, len);
    break;
  case MANTA_KIND_BYTES:
    manta_get_bytes(v, &data, &len);
    m->kind_case = MANTA__V1__VALUE__KIND_BYTES_VALUE;
    m->bytes_value.len = len;
    m->bytes_value.data = len ? (uint8_t *)dupmem(data, len) : NULL;
    break;
  case MANTA_KIND_LIST: {
    Manta__V1__ListValue *l = malloc(sizeof *l);
    manta__v1__list_value__init(l);
    manta_len(v, &len);
    l->n_items = len;
    l->items = len ? malloc(len * sizeof *l->items) : NULL;
    for (size_t i = 0; i < len; i++) {
      const manta_value *item;
      manta_list_at(v, i, &item);
      l->items[i] = to_pbc(item);
    }
    m->kind_case = MANTA__V1__VALUE__KIND_LIST_VALUE;
    m->list_value = l;
    break;
  }
  case MANTA_KIND_MAP: {
    Manta__V1__MapValue *mv = malloc(sizeof *mv);
    manta__v1__map_value__init(mv);
    manta_len(v, &len);
    mv->n_entries = len;
    mv->entries = len ? malloc(len * sizeof *mv->entries) : NULL;
    for (size_t i = 0; i < len; i++) {
      const char *key;
      const manta_value *item;
      manta_map_at(v, i, &key, &item);
      Manta__V1__MapEntry *e = malloc(sizeof *e);
      manta__v1__map_entry__init(e);
      e->key = dupmem(key, strlen(key));
      e->value = to_pbc(item);
      mv->entries[i] = e;
    }
    m->kind_case = MANTA__V1__VALUE__KIND_MAP_VALUE;
    m->map_value = mv;
    break;
  }
  case MANTA_KIND_REF: {
    Manta__V1__ObjectRef *r = malloc(sizeof *r);
    manta__v1__object_ref__init(r);
    manta_get_ref(v, &ref);
    default_wire(ref.id, wire);
    r->id.len = 16;
    r->id.data = (uint8_t *)dupmem((const char *)wire, 16);
    m->kind_case = MANTA__V1__VALUE__KIND_REF_VALUE;
    m->ref_value = r;
    break;
  }
  case MANTA_KIND_ACTOR: {
    Manta__V1__ActorRef *a = malloc(sizeof *a);
    manta__v1__actor_ref__init(a);
    manta_get_actor(v, &actor);
    default_wire(actor.id, wire);
    a->id.len = 16;
    a->id.data = (uint8_t *)dupmem((const char *)wire, 16);
    m->kind_case = MANTA__V1__VALUE__KIND_ACTOR_VALUE;
    m->actor_value = a;
    break;
  }
  case MANTA_KIND_ERROR: {
    Manta__V1__Error *e = malloc(sizeof *e);
    manta__v1__error__init(e);
    e->code = (int32_t)manta_error_code(v);
    e->message = dupmem(manta_error_message(v), strlen(manta_error_message(v)));
    e->origin = dupmem(manta_error_origin(v), strlen(manta_error_origin(v)));
    e->cause = manta_error_cause(v) ? to_pbc(manta_error_cause(v)) : NULL;
    m->kind_case = MANTA__V1__VALUE__KIND_ERROR_VALUE;
    m->error_value = e;
    break;
  }
  }
  return m;
}

static int same_id(const ProtobufCBinaryData *id, uint64_t want) {
  uint8_t wire[16];
  default_wire(want, wire);
  return id->len == 16 && memcmp(id->data, wire, 16) == 0;
}

/* v and the protobuf-c message m say the same thing, field by field. A
 * missing message (NULL) and a Value with no kind both read as null. */
static int same(const manta_value *v, const Manta__V1__Value *m) {
  manta_kind k = manta_value_kind(v);
  if (!m || m->kind_case == MANTA__V1__VALUE__KIND__NOT_SET ||
      m->kind_case == MANTA__V1__VALUE__KIND_NULL_VALUE) {
    return k == MANTA_KIND_NULL;
  }
  int b;
  int64_t i;
  double d;
  const char *s;
  const void *data;
  size_t len;
  manta_ref ref;
  manta_actor actor;
  switch (m->kind_case) {
  case MANTA__V1__VALUE__KIND_BOOL_VALUE:
    return manta_get_bool(v, &b) == MANTA_OK && b == (m->bool_value != 0);
  case MANTA__V1__VALUE__KIND_INT_VALUE:
    return manta_get_int(v, &i) == MANTA_OK && i == m->int_value;
  case MANTA__V1__VALUE__KIND_DOUBLE_VALUE:
    return manta_get_double(v, &d) == MANTA_OK &&
           memcmp(&d, &m->double_value, 8) == 0;
  case MANTA__V1__VALUE__KIND_STRING_VALUE:
    return manta_get_string(v, &s, &len) == MANTA_OK &&
           len == strlen(m->string_value) &&
           memcmp(s, m->string_value, len) == 0;
  case MANTA__V1__VALUE__KIND_BYTES_VALUE:
    return manta_get_bytes(v, &data, &len) == MANTA_OK &&
           len == m->bytes_value.len &&
           (len == 0 || memcmp(data, m->bytes_value.data, len) == 0);
  case MANTA__V1__VALUE__KIND_LIST_VALUE:
    if (k != MANTA_KIND_LIST || manta_len(v, &len) != MANTA_OK ||
        len != m->list_value->n_items) {
      return 0;
    }
    for (size_t j = 0; j < len; j++) {
      const manta_value *item;
      manta_list_at(v, j, &item);
      if (!same(item, m->list_value->items[j])) {
        return 0;
      }
    }
    return 1;
  case MANTA__V1__VALUE__KIND_MAP_VALUE:
    if (k != MANTA_KIND_MAP || manta_len(v, &len) != MANTA_OK ||
        len != m->map_value->n_entries) {
      return 0;
    }
    for (size_t j = 0; j < len; j++) {
      const char *key;
      const manta_value *item;
      manta_map_at(v, j, &key, &item);
      const Manta__V1__MapEntry *e = m->map_value->entries[j];
      if (strcmp(key, e->key) != 0 || !same(item, e->value)) {
        return 0;
      }
    }
    return 1;
  case MANTA__V1__VALUE__KIND_REF_VALUE:
    return manta_get_ref(v, &ref) == MANTA_OK &&
           same_id(&m->ref_value->id, ref.id);
  case MANTA__V1__VALUE__KIND_ACTOR_VALUE:
    return manta_get_actor(v, &actor) == MANTA_OK &&
           same_id(&m->actor_value->id, actor.id);
  case MANTA__V1__VALUE__KIND_ERROR_VALUE: {
    const Manta__V1__Error *e = m->error_value;
    if (k != MANTA_KIND_ERROR || (int32_t)manta_error_code(v) != e->code ||
        strcmp(manta_error_message(v), e->message) != 0 ||
        strcmp(manta_error_origin(v), e->origin) != 0) {
      return 0;
    }
    const manta_value *cause = manta_error_cause(v);
    if (!cause || !e->cause) {
      return !cause && !e->cause;
    }
    return same(cause, e->cause);
  }
  default:
    return 0;
  }
}

/* ours -> bytes -> protobuf-c, and protobuf-c's packing of the same tree
 * equals our bytes. Frees nothing. */
static int conforms(const manta_value *v) {
  void *buf;
  size_t len;
  if (manta_value_encode(v, &buf, &len) != MANTA_OK) {
    return 0;
  }
  Manta__V1__Value *m = manta__v1__value__unpack(NULL, len, buf);
  int ok = m && same(v, m);
  manta__v1__value__free_unpacked(m, NULL);

  Manta__V1__Value *tree = to_pbc(v);
  size_t plen = manta__v1__value__get_packed_size(tree);
  uint8_t *packed = malloc(plen ? plen : 1);
  manta__v1__value__pack(tree, packed);
  if (plen != len || memcmp(packed, buf, len) != 0) {
    char *a = tohex(buf, len), *b = tohex(packed, plen);
    fprintf(stderr, "  ours:       %s\n  protobuf-c: %s\n", a, b);
    free(a);
    free(b);
    ok = 0;
  }
  /* and our decoder reads protobuf-c's bytes back to the same value */
  manta_value *back = NULL;
  if (manta_value_decode(packed, plen, &back) != MANTA_OK ||
      !manta_value_equal(v, back) || !same(back, tree)) {
    ok = 0;
  }
  manta_value_free(back);
  free(packed);
  manta__v1__value__free_unpacked(tree, NULL);
  manta_free(buf);
  return ok;
}

static void test_conformance_fixed(void) {
  manta_value *v = complex_value();
  CHECK(conforms(v));
  manta_value_free(v);
  for (int how = NEST_LIST; how <= NEST_MIXED; how++) {
    v = nested_value(MANTA_MAX_DEPTH, how);
    CHECK(conforms(v));
    manta_value_free(v);
  }
}

/* A tree as another protobuf implementation might send it: kinds unset,
 * entries without values, ids with an owner address. */
static void test_conformance_from_pbc(void) {
  Manta__V1__Value *root = malloc(sizeof *root);
  manta__v1__value__init(root);
  Manta__V1__ListValue *l = malloc(sizeof *l);
  manta__v1__list_value__init(l);
  root->kind_case = MANTA__V1__VALUE__KIND_LIST_VALUE;
  root->list_value = l;
  l->n_items = 4;
  l->items = malloc(4 * sizeof *l->items);

  l->items[0] = malloc(sizeof(Manta__V1__Value)); /* no kind */
  manta__v1__value__init(l->items[0]);

  Manta__V1__MapValue *mv = malloc(sizeof *mv);
  manta__v1__map_value__init(mv);
  mv->n_entries = 2;
  mv->entries = malloc(2 * sizeof *mv->entries);
  for (int i = 0; i < 2; i++) {
    mv->entries[i] = malloc(sizeof(Manta__V1__MapEntry));
    manta__v1__map_entry__init(mv->entries[i]);
  }
  mv->entries[0]->key = dupmem("no value", 8);
  mv->entries[1]->key = dupmem("n", 1);
  manta_value *tmp = manta_int(-42);
  mv->entries[1]->value = to_pbc(tmp);
  manta_value_free(tmp);
  l->items[1] = malloc(sizeof(Manta__V1__Value));
  manta__v1__value__init(l->items[1]);
  l->items[1]->kind_case = MANTA__V1__VALUE__KIND_MAP_VALUE;
  l->items[1]->map_value = mv;

  Manta__V1__ObjectRef *r = malloc(sizeof *r);
  manta__v1__object_ref__init(r);
  r->id.len = 16;
  r->id.data = calloc(1, 16);
  r->id.data[15] = 9;
  r->owner_address = dupmem("10.0.0.2:7000", 13);
  l->items[2] = malloc(sizeof(Manta__V1__Value));
  manta__v1__value__init(l->items[2]);
  l->items[2]->kind_case = MANTA__V1__VALUE__KIND_REF_VALUE;
  l->items[2]->ref_value = r;

  Manta__V1__Error *e = malloc(sizeof *e);
  manta__v1__error__init(e);
  e->code = MANTA_ERR_OBJECT_LOST;
  e->message = dupmem("gone", 4);
  l->items[3] = malloc(sizeof(Manta__V1__Value));
  manta__v1__value__init(l->items[3]);
  l->items[3]->kind_case = MANTA__V1__VALUE__KIND_ERROR_VALUE;
  l->items[3]->error_value = e;

  size_t len = manta__v1__value__get_packed_size(root);
  uint8_t *buf = malloc(len);
  manta__v1__value__pack(root, buf);
  manta_value *v = NULL;
  REQUIRE_OK(manta_value_decode(buf, len, &v));
  CHECK(same(v, root));
  const manta_value *item;
  CHECK_OK(manta_list_at(v, 1, &item));
  CHECK_OK(manta_map_find(item, "no value", &item));
  CHECK(manta_value_kind(item) == MANTA_KIND_NULL);
  CHECK_OK(manta_list_at(v, 3, &item));
  CHECK_INT_EQ(manta_error_code(item), MANTA_ERR_OBJECT_LOST);
  CHECK(manta_error_cause(item) == NULL);
  manta_value_free(v);
  free(buf);
  manta__v1__value__free_unpacked(root, NULL);
}

/* --- randomized --------------------------------------------------------- */

static uint64_t rng;

static uint64_t rnd(void) { /* splitmix64 */
  uint64_t z = (rng += 0x9e3779b97f4a7c15ULL);
  z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
  z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
  return z ^ (z >> 31);
}

static size_t rnd_below(size_t n) {
  return (size_t)(rnd() % n);
}

/* Text without NUL (protobuf-c strings are C strings), some of it UTF-8. */
static size_t rnd_text(char *out, size_t max) {
  static const char *const pieces[] = {"a",    "Z",   "0", " ", "\"",
                                       "\\",   "\n",  "é", "✓", "\x7f",
                                       "\x01", "key", "_"};
  size_t n = 0, want = rnd_below(max / 4 + 1);
  for (size_t i = 0; i < want; i++) {
    const char *p = pieces[rnd_below(sizeof pieces / sizeof pieces[0])];
    size_t pl = strlen(p);
    memcpy(out + n, p, pl);
    n += pl;
  }
  out[n] = '\0';
  return n;
}

static manta_value *random_value(int level) {
  char text[128];
  uint8_t raw[300];
  int kinds = level >= 6 ? 7 : 11;
  switch (rnd_below((size_t)kinds)) {
  case 0:
    return manta_null();
  case 1:
    return manta_bool((int)(rnd() & 1));
  case 2: {
    uint64_t u = rnd() >> rnd_below(64);
    return manta_int((int64_t)(rnd() & 1 ? 0 - u : u));
  }
  case 3: {
    if (rnd() & 1) {
      uint64_t bits = rnd();
      double d;
      memcpy(&d, &bits, 8);
      return manta_double(d);
    }
    return manta_double((double)(int64_t)rnd_below(2000) / 8 - 100);
  }
  case 4:
    return manta_string(text, rnd_text(text, sizeof text));
  case 5: {
    size_t n = rnd_below(8) == 0 ? 300 : rnd_below(40);
    for (size_t i = 0; i < n; i++) {
      raw[i] = (uint8_t)rnd();
    }
    return manta_bytes(raw, n);
  }
  case 6:
    return rnd() & 1 ? manta_ref_value((manta_ref){rnd()})
                     : manta_actor_value((manta_actor){rnd()});
  case 7:
  case 8: {
    manta_value *l = manta_list();
    size_t n = rnd_below(6);
    for (size_t i = 0; i < n; i++) {
      manta_list_push(l, random_value(level + 1));
    }
    return l;
  }
  case 9: {
    manta_value *m = manta_map();
    size_t n = rnd_below(6);
    for (size_t i = 0; i < n; i++) {
      rnd_text(text, 32);
      manta_map_put(m, text, random_value(level + 1));
    }
    return m;
  }
  default: {
    int32_t codes[] = {0, 1, 11, 23, -1, INT32_MIN, INT32_MAX, 1000};
    rnd_text(text, 64);
    manta_value *e =
        manta_error((manta_err)codes[rnd_below(sizeof codes / sizeof codes[0])],
                    "%s", text);
    if (rnd() & 1) {
      rnd_text(text, 32);
      manta_error_set_origin(e, text);
    }
    if (rnd() & 1) {
      manta_error_set_cause(e, random_value(level + 1));
    }
    return e;
  }
  }
}

static void test_random(void) {
  uint64_t seed = 0x6d616e7461ULL; /* "manta" */
  const char *env = getenv("MANTA_TEST_SEED");
  if (env) {
    seed = strtoull(env, NULL, 0);
  }
  fprintf(stderr, "   seed %llu (MANTA_TEST_SEED to repeat)\n",
          (unsigned long long)seed);
  rng = seed;
  int bad = 0;
  size_t bytes = 0;
  for (int i = 0; i < 2000; i++) {
    manta_value *v = random_value(0);
    if (!conforms(v)) {
      char *r = manta_value_repr(v);
      fprintf(stderr, "  value %d differs: %s\n", i, r);
      manta_free(r);
      bad++;
    }
    void *buf;
    size_t len;
    if (manta_value_encode(v, &buf, &len) == MANTA_OK) {
      bytes += len;
      manta_free(buf);
    }
    manta_value_free(v);
  }
  fprintf(stderr, "   2000 values, %zu bytes encoded\n", bytes);
  CHECK_INT_EQ(bad, 0);
}

int main(void) {
  RUN(test_golden);
  RUN(test_roundtrip_kinds);
  RUN(test_bad_arguments);
  RUN(test_large_bytes);
  RUN(test_depth_encode);
  RUN(test_depth_decode);
  RUN(test_truncation);
  RUN(test_corruption);
  RUN(test_malformed);
  RUN(test_unknown_fields);
  RUN(test_protobuf_semantics);
  RUN(test_hooks);
  RUN(test_conformance_fixed);
  RUN(test_conformance_from_pbc);
  RUN(test_random);
  return mt_test_done();
}
