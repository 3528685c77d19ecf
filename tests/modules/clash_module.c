/* A module for tests whose entry point fails: it offers a name that
 * sample_module already took. */
#include <manta.h>

static manta_value *other(const manta_value *const *args, size_t n, void *u) {
  (void)args, (void)n, (void)u;
  return manta_int(0);
}

MANTA_MODULE_EXPORT manta_err manta_module_init(void) {
  return manta_register_function("sample_twice", other, 1, NULL);
}
