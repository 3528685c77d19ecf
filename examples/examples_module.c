/*
 * The examples' functions and actor class as one module, so that a node
 * can offer them: `manta start --module libmanta_examples.so` serves
 * square, retrieve, process, aggregate, the Counter class, and the Serve
 * examples' echo function and ServeCounter class. Each example
 * file is compiled into this module too (its main renamed away); its
 * *_register function is the one its own main calls.
 */
#include <manta.h>

manta_err square_register(void);
manta_err parallel_retrieve_register(void);
manta_err task_dependencies_register(void);
manta_err counter_actor_register(void);
manta_err serve_echo_register(void);
manta_err serve_counter_register(void);

MANTA_MODULE_EXPORT manta_err manta_module_init(void) {
  manta_err (*const all[])(void) = {square_register,
                                    parallel_retrieve_register,
                                    task_dependencies_register,
                                    counter_actor_register,
                                    serve_echo_register,
                                    serve_counter_register};
  for (size_t i = 0; i < sizeof all / sizeof all[0]; i++) {
    manta_err err = all[i]();
    if (err != MANTA_OK) {
      return err;
    }
  }
  return MANTA_OK;
}
