/* The README's example: one task, one result. Prints 49. */
#include <manta.h>
#include <stdio.h>

static manta_value *square(const manta_value *const *args, size_t n, void *u) {
  (void)n, (void)u;
  int64_t x;
  if (manta_get_int(args[0], &x) != MANTA_OK)
    return manta_error(MANTA_ERR_TYPE, "square takes an int");
  return manta_int(x * x);
}

/* Registers what this example offers: main calls it, and so does the
 * examples module (examples_module.c) that lets a node offer it. */
manta_err square_register(void);
manta_err square_register(void) {
  return manta_register_function("square", square, 1, NULL);
}

int main(void) {
  manta_init(NULL); /* an embedded runtime: no daemon, no port */
  square_register();
  manta_value *result; /* 49, or an error value saying why */
  manta_err err = manta_call_get(&result, "square", 1, manta_int(7));
  char *text = manta_value_repr(result);
  printf("%s\n", text);
  manta_free(text);
  manta_value_free(result);
  manta_shutdown();
  return err == MANTA_OK ? 0 : 1;
}
