/* The driver of run-transfer-test.sh: who moves a large object's bytes.
 *
 *   cluster_transfer pass_on BYTES
 * A large result made on node x (on_x.make_bytes) is passed as argument to
 * a task on x and to one on node y, both submitted while it is still being
 * made; each reports the length and checksum of what it received, which
 * must agree. The driver never reads the bytes, so it must not fetch them:
 * the script checks with x's transfer counters that x sent the object
 * once (to y), not twice (to y and to this driver).
 * MANTA_ADDRESS names the head. */
#include "test_util.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static manta_ref call1(const char *fn, manta_value *arg) {
  manta_ref r;
  REQUIRE_OK(manta_submit(fn, (const manta_value *const *)&arg, 1, NULL, &r));
  manta_value_free(arg);
  return r;
}

/* [length, checksum] from len_sum; the length -1 when it failed. */
static void len_sum(manta_ref r, int64_t out[2]) {
  manta_value *v = NULL;
  const manta_value *e;
  out[0] = out[1] = -1;
  manta_err err = manta_get(r, 120000, &v);
  if (err == MANTA_OK && manta_list_at(v, 0, &e) == MANTA_OK &&
      manta_get_int(e, &out[0]) == MANTA_OK &&
      manta_list_at(v, 1, &e) == MANTA_OK) {
    manta_get_int(e, &out[1]);
  } else {
    char *why = v ? manta_value_repr(v) : NULL;
    fprintf(stderr, "len_sum: %s (%s)\n", why ? why : "no value",
            manta_errname(err));
    manta_free(why);
  }
  manta_value_free(v);
  manta_ref_release(r);
}

static void pass_on(int64_t bytes) {
  manta_ref obj = call1("on_x.make_bytes", manta_int(bytes));
  manta_ref on_x = call1("on_x.len_sum", manta_ref_value(obj));
  manta_ref on_y = call1("on_y.len_sum", manta_ref_value(obj));
  int64_t x[2], y[2];
  len_sum(on_x, x);
  len_sum(on_y, y);
  CHECK_INT_EQ(x[0], bytes);
  CHECK_INT_EQ(y[0], bytes);
  CHECK_INT_EQ(y[1], x[1]);
  manta_ref_release(obj);
  printf("pass_on: %lld bytes read on x and y\n", (long long)bytes);
}

int main(int argc, char **argv) {
  REQUIRE(argc == 3 && strcmp(argv[1], "pass_on") == 0);
  REQUIRE(getenv("MANTA_ADDRESS"));
  int64_t bytes = strtoll(argv[2], NULL, 10);
  REQUIRE(bytes > 0);
  REQUIRE_OK(manta_init(NULL));
  pass_on(bytes);
  manta_shutdown();
  return mt_test_done();
}
