/* manta_module_load: loading, calling what a module registered, the
 * errors for missing files and entry points, a failing entry point, and
 * loading again after a restart. Module paths come from the command line. */
#include "test_util.h"

static const char *sample, *clash, *noentry;

static int64_t call_twice(int64_t x) {
  manta_value *arg = manta_int(x);
  manta_value *out = mt_test_submit_get("sample_twice", &arg, 1, NULL, 10000);
  int64_t r = mt_test_int(out);
  manta_value_free(out);
  return r;
}

static void test_bad_loads(void) {
  CHECK_ERR(manta_module_load(sample), MANTA_ERR_NOT_INITIALIZED);
  REQUIRE_OK(manta_init(NULL));
  CHECK_ERR(manta_module_load(NULL), MANTA_ERR_INVALID);
  CHECK_ERR(manta_module_load(""), MANTA_ERR_INVALID);
  CHECK_ERR(manta_module_load("/nonexistent/libnothing.so"),
            MANTA_ERR_NOT_FOUND);
  CHECK_ERR(manta_module_load(noentry), MANTA_ERR_NOT_FOUND);
  REQUIRE_OK(manta_shutdown());
}

static void test_load_and_call(void) {
  REQUIRE_OK(manta_init(NULL));
  CHECK_OK(manta_module_load(sample));
  CHECK_INT_EQ(call_twice(21), 42);
  /* A second load is a no-op, not a clash with its own names. */
  CHECK_OK(manta_module_load(sample));
  /* An entry point's own failure is returned; what was there stays. */
  CHECK_ERR(manta_module_load(clash), MANTA_ERR_EXISTS);
  CHECK_INT_EQ(call_twice(5), 10);
  REQUIRE_OK(manta_shutdown());
}

static void test_reload_after_restart(void) {
  /* A new runtime starts with empty registries: the entry point runs
   * again. */
  REQUIRE_OK(manta_init(NULL));
  CHECK_OK(manta_module_load(sample));
  CHECK_INT_EQ(call_twice(-4), -8);
  REQUIRE_OK(manta_shutdown());
}

static void test_init_option(void) {
  manta_options *o;
  REQUIRE_OK(manta_options_new(&o));
  CHECK_ERR(manta_options_add_module(o, NULL), MANTA_ERR_INVALID);
  REQUIRE_OK(manta_options_add_module(o, sample));
  REQUIRE_OK(manta_init(o));
  CHECK_INT_EQ(call_twice(8), 16);
  REQUIRE_OK(manta_shutdown());
  /* A module that cannot load fails init, which leaves nothing running. */
  REQUIRE_OK(manta_options_add_module(o, "/nonexistent/libnothing.so"));
  CHECK_ERR(manta_init(o), MANTA_ERR_NOT_FOUND);
  CHECK(!manta_is_initialized());
  manta_options_free(o);
}

int main(int argc, char **argv) {
  REQUIRE(argc == 4);
  sample = argv[1], clash = argv[2], noentry = argv[3];
  RUN_TEST(test_bad_loads);
  RUN_TEST(test_load_and_call);
  RUN_TEST(test_reload_after_restart);
  RUN_TEST(test_init_option);
  return mt_test_done();
}
