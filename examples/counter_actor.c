/*
 * Counter actor: one stateful object; five calls of increment(i) for i in
 * 0..4 run in the order they were made and return the running total.
 * Prints [0, 1, 3, 6, 10].
 */
#include <manta.h>

#include <stdio.h>
#include <stdlib.h>

typedef struct counter {
  int64_t value;
} counter;

static void *counter_new(const manta_value *const *args, size_t nargs,
                         void *class_data, manta_value **error) {
  (void)args, (void)nargs, (void)class_data;
  counter *c = calloc(1, sizeof *c);
  if (!c) {
    *error = manta_error(MANTA_ERR_NOMEM, "no memory for a counter");
  }
  return c;
}

static void counter_free(void *state, void *class_data) {
  (void)class_data;
  free(state);
}

static manta_value *increment(void *state, const manta_value *const *args,
                              size_t nargs, void *method_data) {
  (void)nargs, (void)method_data;
  counter *c = state;
  int64_t by = 0;
  if (manta_get_int(args[0], &by) != MANTA_OK) {
    return manta_error(MANTA_ERR_TYPE, "increment takes an int");
  }
  c->value += by;
  return manta_int(c->value);
}

/* Registers what this example offers: main calls it, and so does the
 * examples module (examples_module.c) that lets a node offer it. */
manta_err counter_actor_register(void);
manta_err counter_actor_register(void) {
  manta_err err =
      manta_register_class("Counter", counter_new, counter_free, NULL);
  return err ? err
             : manta_register_method("Counter", "increment", increment, 1,
                                     NULL);
}

int main(void) {
  if (manta_init(NULL) != MANTA_OK) {
    return 1;
  }
  counter_actor_register();

  manta_actor counter;
  manta_actor_new(&counter, "Counter", 0);
  manta_ref refs[5];
  for (int i = 0; i < 5; i++) {
    manta_actor_invoke(&refs[i], counter, "increment", 1, manta_int(i));
  }
  manta_value *results = manta_list();
  int failed = 0;
  for (int i = 0; i < 5; i++) {
    manta_value *v = NULL;
    failed |= manta_get(refs[i], 10000, &v) != MANTA_OK;
    manta_list_push(results, v);
    manta_ref_release(refs[i]);
  }
  char *text = manta_value_repr(results);
  printf("%s\n", text);
  manta_free(text);
  manta_value_free(results);
  manta_actor_release(counter);
  manta_shutdown();
  return failed;
}
