/* The install test's consumer: built once through CMake's find_package and
 * once through pkg-config, then run against the installed libmanta. */
#include <manta.h>

#include <stdio.h>
#include <string.h>

#define EXPECT(cond)                                                           \
  do {                                                                         \
    if (!(cond)) {                                                             \
      fprintf(stderr, "consumer: %s:%d: %s\n", __FILE__, __LINE__, #cond);     \
      return 1;                                                                \
    }                                                                          \
  } while (0)

#define EXPECT_OK(expr)                                                        \
  do {                                                                         \
    manta_err err_ = (expr);                                                   \
    if (err_ != MANTA_OK) {                                                    \
      fprintf(stderr, "consumer: %s:%d: %s gave %s (%s)\n", __FILE__,          \
              __LINE__, #expr, manta_errname(err_), manta_strerror(err_));     \
      return 1;                                                                \
    }                                                                          \
  } while (0)

int main(void) {
  char version[32];
  manta_value *v;
  manta_value *got = NULL;
  manta_ref ref;
  int64_t i = 0;

  /* The loaded library is the one the header belongs to. */
  snprintf(version, sizeof version, "%d.%d.%d", MANTA_VERSION_MAJOR,
           MANTA_VERSION_MINOR, MANTA_VERSION_PATCH);
  EXPECT(manta_version() == MANTA_VERSION_NUMBER);
  EXPECT(strcmp(manta_version_string(), version) == 0);
  EXPECT(strcmp(manta_strerror(MANTA_OK), "ok") == 0);
  EXPECT(strcmp(manta_strerror(MANTA_ERR_TIMEOUT), "timed out") == 0);

  /* A round trip through the embedded runtime. */
  EXPECT_OK(manta_init(NULL));
  v = manta_int(42);
  EXPECT(v != NULL);
  EXPECT_OK(manta_put(v, &ref));
  manta_value_free(v);
  EXPECT_OK(manta_get(ref, 10000, &got));
  EXPECT_OK(manta_get_int(got, &i));
  EXPECT(i == 42);
  manta_value_free(got);
  EXPECT_OK(manta_ref_release(ref));
  EXPECT_OK(manta_shutdown());

  printf("consumer: manta %s works (put/get round trip: %lld)\n",
         manta_version_string(), (long long)i);
  return 0;
}
