/* The module the cluster benchmark loads into its remote node: a no-op. */
#include <manta.h>

static manta_value *noop(const manta_value *const *args, size_t n, void *u) {
  (void)args, (void)n, (void)u;
  return NULL;
}

MANTA_MODULE_EXPORT manta_err manta_module_init(void) {
  return manta_register_function("bench_noop", noop, -1, NULL);
}
