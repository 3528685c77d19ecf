/* A module for tests: offers "sample_twice" (x -> 2x). */
#include <manta.h>

static manta_value *twice(const manta_value *const *args, size_t n, void *u) {
  (void)n, (void)u;
  int64_t x;
  if (manta_get_int(args[0], &x) != MANTA_OK) {
    return manta_error(MANTA_ERR_TYPE, "sample_twice takes an int");
  }
  return manta_int(2 * x);
}

MANTA_MODULE_EXPORT manta_err manta_module_init(void) {
  return manta_register_function("sample_twice", twice, 1, NULL);
}
