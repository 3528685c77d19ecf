/*
 * The name_match module as any manta program sees it: loaded with
 * manta_module_load, its functions called by name as tasks, a chunk passed
 * by ref to searches, and each wrong call answered with an error value.
 */
#include "test_util.h"

#include <string.h>

static manta_value *call(const char *fn, manta_value **args, size_t n,
                         manta_err want) {
  manta_ref ref;
  REQUIRE_OK(manta_callv(&ref, fn, args, n, NULL)); /* takes the values */
  manta_value *out = NULL;
  CHECK_ERR(manta_get(ref, 10000, &out), want);
  manta_ref_release(ref);
  return out;
}

static void expect_error(const char *fn, manta_value **args, size_t n,
                         manta_err want, const char *text) {
  manta_value *out = call(fn, args, n, want);
  const char *msg = manta_error_message(out);
  if (!strstr(msg, text)) {
    fprintf(stderr, "%s: error '%s' lacks '%s'\n", fn, msg, text);
    mt_test_failures++;
  }
  manta_value_free(out);
}

static int64_t levenshtein(const char *a, const char *b) {
  manta_value *args[2] = {manta_cstring(a), manta_cstring(b)};
  manta_value *out = call("levenshtein", args, 2, MANTA_OK);
  int64_t d = mt_test_int(out);
  manta_value_free(out);
  return d;
}

static void test_levenshtein(void) {
  CHECK_INT_EQ(levenshtein("kitten", "sitting"), 3);
  CHECK_INT_EQ(levenshtein("caf\xC3\xA9", "cafe"), 1);
  CHECK_INT_EQ(levenshtein("", ""), 0);
  CHECK_INT_EQ(levenshtein("Acme", "ACME"), 3); /* as written */
  expect_error("levenshtein",
               (manta_value *[]){manta_int(1), manta_cstring("")}, 2,
               MANTA_ERR_TYPE, "two strings");
  manta_value *one[1] = {manta_cstring("a")};
  manta_value_free(call("levenshtein", one, 1, MANTA_ERR_ARITY));
}

static const char *const names[] = {"Acme Ltd", "Globex Inc", "ACME Limited",
                                    "Initech", "Acme Ltd."};
enum { NNAMES = 5, FIRST_ROW = 10 };

static manta_value *name_list(void) {
  manta_value *list = manta_list();
  for (int i = 0; i < NNAMES; i++) {
    REQUIRE_OK(manta_list_push(list, manta_cstring(names[i])));
  }
  return list;
}

static manta_value *packed_names(void) {
  char buf[128];
  size_t n = 0;
  for (int i = 0; i < NNAMES; i++) {
    size_t len = strlen(names[i]) + 1;
    memcpy(buf + n, names[i], len);
    n += len;
  }
  return manta_bytes(buf, n);
}

static void test_build_chunk(void) {
  manta_value *a[3] = {name_list(), manta_int(FIRST_ROW),
                       manta_cstring("names")};
  manta_value *from_list = call("name_match.build_chunk", a, 3, MANTA_OK);
  manta_value *b[3] = {packed_names(), manta_int(FIRST_ROW),
                       manta_cstring("names")};
  manta_value *from_packed = call("name_match.build_chunk", b, 3, MANTA_OK);
  CHECK(manta_value_kind(from_list) == MANTA_KIND_BYTES);
  CHECK(manta_value_equal(from_list, from_packed));
  manta_value_free(from_list);
  manta_value_free(from_packed);

  expect_error(
      "name_match.build_chunk",
      (manta_value *[]){name_list(), manta_int(0), manta_cstring("upper")}, 3,
      MANTA_ERR_INVALID, "normalize must be");
  expect_error(
      "name_match.build_chunk",
      (manta_value *[]){name_list(), manta_int(-1), manta_cstring("none")}, 3,
      MANTA_ERR_TYPE, "first_row");
  manta_value *mixed = name_list();
  manta_list_push(mixed, manta_int(7));
  expect_error("name_match.build_chunk",
               (manta_value *[]){mixed, manta_int(0), manta_cstring("none")}, 3,
               MANTA_ERR_TYPE, "names[5]: expected a string, got int");
  expect_error("name_match.build_chunk",
               (manta_value *[]){manta_bytes("Acme", 4), manta_int(0),
                                 manta_cstring("none")},
               3, MANTA_ERR_INVALID, "end with a NUL");
}

/* Row and distance of match i of query q in a top_k result. */
static void match_at(const manta_value *res, size_t q, size_t i, int64_t *row,
                     int64_t *dist) {
  const manta_value *matches, *m, *x;
  *row = *dist = -1;
  if (manta_list_at(res, q, &matches) == MANTA_OK &&
      manta_list_at(matches, i, &m) == MANTA_OK) {
    manta_list_at(m, 0, &x);
    manta_get_int(x, row);
    manta_list_at(m, 1, &x);
    manta_get_int(x, dist);
  }
}

static void test_top_k(void) {
  /* The chunk is a task's result; searches take its ref, as the driver's
   * do, and run once it is ready. */
  manta_value *a[3] = {name_list(), manta_int(FIRST_ROW),
                       manta_cstring("names")};
  manta_ref chunk;
  REQUIRE_OK(manta_callv(&chunk, "name_match.build_chunk", a, 3, NULL));
  manta_value *queries = manta_list();
  manta_list_push(queries, manta_cstring("acme ltd"));
  manta_list_push(queries, manta_cstring("GLOBEX"));
  manta_value *res =
      call("name_match.top_k",
           (manta_value *[]){manta_value_ref(queries), manta_ref_value(chunk),
                             manta_int(2)},
           3, MANTA_OK);
  size_t n = 0;
  CHECK_OK(manta_len(res, &n));
  CHECK_INT_EQ(n, 2);
  int64_t row, dist;
  /* "acme ltd": rows 10 and 14 are both "acme ltd" once normalized; the
   * earlier row first. */
  match_at(res, 0, 0, &row, &dist);
  CHECK_INT_EQ(row, 10);
  CHECK_INT_EQ(dist, 0);
  match_at(res, 0, 1, &row, &dist);
  CHECK_INT_EQ(row, 14);
  CHECK_INT_EQ(dist, 0);
  match_at(res, 1, 0, &row, &dist); /* "globex" vs "globex inc" */
  CHECK_INT_EQ(row, 11);
  CHECK_INT_EQ(dist, 4);
  manta_value_free(res);

  manta_value *opts = manta_map();
  manta_map_put(opts, "max_distance", manta_int(1));
  manta_map_put(opts, "kernel", manta_cstring("scalar"));
  res = call("name_match.top_k",
             (manta_value *[]){manta_value_ref(queries), manta_ref_value(chunk),
                               manta_int(5), opts},
             4, MANTA_OK);
  const manta_value *matches;
  CHECK(manta_list_at(res, 0, &matches) == MANTA_OK &&
        manta_len(matches, &n) == MANTA_OK && n == 2);
  CHECK(manta_list_at(res, 1, &matches) == MANTA_OK &&
        manta_len(matches, &n) == MANTA_OK && n == 0);
  manta_value_free(res);

  expect_error("name_match.top_k",
               (manta_value *[]){manta_value_ref(queries),
                                 manta_ref_value(chunk), manta_int(0)},
               3, MANTA_ERR_INVALID, "k must be an int from 1 to 1000");
  manta_value *bad_kernel = manta_map();
  manta_map_put(bad_kernel, "kernel", manta_cstring("sse9"));
  expect_error("name_match.top_k",
               (manta_value *[]){manta_value_ref(queries),
                                 manta_ref_value(chunk), manta_int(1),
                                 bad_kernel},
               4, MANTA_ERR_INVALID, "kernel must be");
  expect_error("name_match.top_k",
               (manta_value *[]){manta_value_ref(queries),
                                 manta_cstring("not a chunk"), manta_int(1)},
               3, MANTA_ERR_TYPE, "chunk must be the bytes");
  expect_error(
      "name_match.top_k",
      (manta_value *[]){manta_value_ref(queries),
                        manta_bytes("NMCHUNK?0123456789abcdef0123456789"
                                    "abcdef",
                                    40),
                        manta_int(1)},
      3, MANTA_ERR_INVALID, "bad magic");
  manta_value *two[2] = {manta_value_ref(queries), manta_ref_value(chunk)};
  expect_error("name_match.top_k", two, 2, MANTA_ERR_ARITY,
               "takes (queries, chunk, k[, options[, prior]])");

  /* A second chunk searched with the first one's answer as prior: the
   * result is the answer over both. "globex" is 4 edits from row 11 of the
   * first chunk and from row 101 of the second: the earlier row first. */
  manta_value *more = manta_list();
  manta_list_push(more, manta_cstring("Acme Ltda"));
  manta_list_push(more, manta_cstring("Globex Inc"));
  manta_value *chunk2 =
      call("name_match.build_chunk",
           (manta_value *[]){more, manta_int(100), manta_cstring("names")}, 3,
           MANTA_OK);
  manta_value *first =
      call("name_match.top_k",
           (manta_value *[]){manta_value_ref(queries), manta_ref_value(chunk),
                             manta_int(2)},
           3, MANTA_OK);
  res = call("name_match.top_k",
             (manta_value *[]){manta_value_ref(queries),
                               manta_value_ref(chunk2), manta_int(2),
                               manta_null(), manta_value_ref(first)},
             5, MANTA_OK);
  match_at(res, 0, 0, &row, &dist);
  CHECK(row == 10 && dist == 0);
  match_at(res, 0, 1, &row, &dist);
  CHECK(row == 14 && dist == 0);
  match_at(res, 1, 0, &row, &dist);
  CHECK(row == 11 && dist == 4);
  match_at(res, 1, 1, &row, &dist);
  CHECK(row == 101 && dist == 4);
  manta_value_free(res);
  manta_value *bad_prior = manta_list();
  manta_list_push(bad_prior, manta_list());
  expect_error(
      "name_match.top_k",
      (manta_value *[]){manta_value_ref(queries), manta_value_ref(chunk2),
                        manta_int(2), manta_null(), bad_prior},
      5, MANTA_ERR_TYPE, "a top_k result for 2 queries is a list of 2");
  manta_value_free(first);
  manta_value_free(chunk2);
  manta_value_free(queries);
  manta_ref_release(chunk);
}

int main(int argc, char **argv) {
  REQUIRE(argc == 2);
  REQUIRE_OK(manta_init(NULL));
  REQUIRE_OK(manta_module_load(argv[1]));
  RUN_TEST(test_levenshtein);
  RUN_TEST(test_build_chunk);
  RUN_TEST(test_top_k);
  REQUIRE_OK(manta_shutdown());
  return mt_test_done();
}
