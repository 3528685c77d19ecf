/* The driver of run-transfer-test.sh: who moves a large object's bytes.
 *
 *   cluster_transfer pass_on BYTES
 * A large result made on node x (on_x.make_bytes) is passed as argument to
 * a task on x and to one on node y, both submitted while it is still being
 * made; each reports the length and checksum of what it received, which
 * must agree. The driver never reads the bytes, so it must not fetch them:
 * the script checks with x's transfer counters that x sent the object
 * once (to y), not twice (to y and to this driver).
 *
 *   cluster_transfer relay BYTES SYNC_DIR
 * Relays (docs/architecture.md, "Relays"), in steps the script checks
 * between, through files in SYNC_DIR: a result made on x is held by a
 * task on y (hold: y keeps its copy), then read by a task on z, which x
 * points to y; then held by a task on z and read by one on w, which x
 * points to z, and the script kills z in the middle of that transfer: w
 * must fall back to x. Every reader must report the bytes x made.
 * MANTA_ADDRESS names the head. */
#include "test_util.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

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

static manta_ref call2(const char *fn, manta_value *a, manta_value *b) {
  manta_value *args[2] = {a, b};
  manta_ref r;
  REQUIRE_OK(manta_submit(fn, (const manta_value *const *)args, 2, NULL, &r));
  manta_value_free(a);
  manta_value_free(b);
  return r;
}

/* A task on node pin holding obj until dir/release exists; returns once
 * it holds it (dir/held). */
static manta_ref hold_on(const char *pin, manta_ref obj, const char *dir) {
  char fn[64];
  snprintf(fn, sizeof fn, "on_%s.hold", pin);
  mkdir(dir, 0700);
  manta_value *l = manta_list();
  manta_list_push(l, manta_ref_value(obj));
  manta_ref r = call2(fn, l, manta_cstring(dir));
  REQUIRE(mt_test_wait_file(dir, "held", 120000));
  return r;
}

static void relay(int64_t bytes, const char *sync) {
  char dir_y[4096], dir_z[4096];
  snprintf(dir_y, sizeof dir_y, "%s/hold_y", sync);
  snprintf(dir_z, sizeof dir_z, "%s/hold_z", sync);
  manta_ref obj = call1("on_x.make_bytes", manta_int(bytes));
  int64_t made[2], got[2];
  len_sum(call1("on_x.len_sum", manta_ref_value(obj)), made);
  CHECK_INT_EQ(made[0], bytes);

  /* y holds a copy; z is pointed to it. */
  manta_ref held_y = hold_on("y", obj, dir_y);
  len_sum(call1("on_z.len_sum", manta_ref_value(obj)), got);
  CHECK_INT_EQ(got[0], bytes);
  CHECK_INT_EQ(got[1], made[1]);
  mt_test_touch(sync, "relayed");
  printf("relay: z read the object (pointed to y)\n");
  fflush(stdout);
  /* the script reads the counters meanwhile */
  REQUIRE(mt_test_wait_file(sync, "go", 120000));

  /* z holds a copy; w is pointed to it, and z dies mid-way. */
  manta_ref held_z = hold_on("z", obj, dir_z);
  mt_test_touch(sync, "held_z");
  manta_ref on_w = call1("on_w.len_sum", manta_ref_value(obj));
  len_sum(on_w, got);
  CHECK_INT_EQ(got[0], bytes);
  CHECK_INT_EQ(got[1], made[1]);
  printf("relay: w read the object (its relay killed)\n");

  mt_test_touch(dir_y, "release");
  len_sum(held_y, got);
  CHECK_INT_EQ(got[0], bytes);
  mt_test_touch(dir_z, "release");
  manta_ref_release(held_z); /* its node is dead */
  manta_ref_release(obj);
  mt_test_touch(sync, "done");
}

int main(int argc, char **argv) {
  REQUIRE(argc >= 3);
  REQUIRE(getenv("MANTA_ADDRESS"));
  int64_t bytes = strtoll(argv[2], NULL, 10);
  REQUIRE(bytes > 0);
  REQUIRE_OK(manta_init(NULL));
  if (strcmp(argv[1], "pass_on") == 0) {
    pass_on(bytes);
  } else {
    REQUIRE(strcmp(argv[1], "relay") == 0 && argc == 4);
    relay(bytes, argv[3]);
  }
  manta_shutdown();
  return mt_test_done();
}
