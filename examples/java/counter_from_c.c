/*
 * The seed's counter actor, written in Java (examples/java/Counter.java),
 * created and called by a C program: five calls of increment(i) for i in
 * 0..4 print [0, 1, 3, 6, 10].
 *
 * This C process hosts the JVM: loading libmanta_jni as a module starts
 * one and loads the Java modules named in the environment:
 *
 *   MANTA_JAVA_CLASSPATH=manta-examples.jar \
 *   MANTA_JAVA_MODULES=examples.CounterModule \
 *   counter_from_c path/to/libmanta_jni.so
 */
#include <manta.h>

#include <stdio.h>

int main(int argc, char **argv) {
  if (argc != 2) {
    fprintf(stderr, "usage: %s path/to/libmanta_jni.so\n", argv[0]);
    return 2;
  }
  if (manta_init(NULL) != MANTA_OK) {
    return 1;
  }
  manta_err err = manta_module_load(argv[1]);
  if (err != MANTA_OK) {
    fprintf(stderr, "cannot load the Java binding: %s\n", manta_strerror(err));
    manta_shutdown();
    return 1;
  }
  /* From here on nothing says Java: the class is found by name. */
  manta_actor counter;
  manta_actor_new(&counter, "Counter", 0);
  manta_ref refs[5];
  for (int i = 0; i < 5; i++) {
    manta_actor_invoke(&refs[i], counter, "increment", 1, manta_int(i));
  }
  manta_value *totals[5];
  int failed = manta_get_many(refs, 5, 10000, totals) != MANTA_OK;
  manta_value *results = manta_list();
  for (int i = 0; i < 5; i++) {
    manta_list_push(results, totals[i]);
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
