/* A shared library for tests that is not a module: no entry point. */
int manta_test_not_a_module(void);
int manta_test_not_a_module(void) {
  return 42;
}
