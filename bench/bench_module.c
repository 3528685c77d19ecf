/* The module the cluster benchmark loads into its remote node: a no-op
 * function and an actor class with a no-op method. */
#include <manta.h>

static manta_value *noop(const manta_value *const *args, size_t n, void *u) {
  (void)args, (void)n, (void)u;
  return NULL;
}

static void *actor_new(const manta_value *const *args, size_t n, void *cd,
                       manta_value **error) {
  (void)args, (void)n, (void)cd, (void)error;
  return NULL;
}

static manta_value *method_noop(void *state, const manta_value *const *args,
                                size_t n, void *md) {
  (void)state, (void)args, (void)n, (void)md;
  return NULL;
}

MANTA_MODULE_EXPORT manta_err manta_module_init(void) {
  manta_err err = manta_register_function("bench_noop", noop, -1, NULL);
  if (!err)
    err = manta_register_class("BenchActor", actor_new, NULL, NULL);
  if (!err)
    err = manta_register_method("BenchActor", "noop", method_noop, -1, NULL);
  return err;
}
