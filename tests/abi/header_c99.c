/* manta.h must compile as strict C99 (-std=c99 -pedantic -Werror): a C
 * program of any age can include it. Linked against the shared library, so
 * this is also the smallest consumer of the installed ABI. */
#include "manta.h"

#include <stdio.h>
#include <string.h>

/* C99 has no _Static_assert: an array of negative size fails instead. */
typedef char manta_ref_is_one_u64[(sizeof(manta_ref) == 8) ? 1 : -1];
typedef char manta_actor_is_one_u64[(sizeof(manta_actor) == 8) ? 1 : -1];
typedef char manta_ok_is_zero[(MANTA_OK == 0) ? 1 : -1];

/* The callback types must be usable from C99 as declared. */
static manta_value *identity(const manta_value *const *args, size_t nargs,
                             void *user_data) {
  (void)user_data;
  return nargs == 1 ? manta_value_ref((manta_value *)args[0]) : NULL;
}

int main(void) {
  manta_function fn = identity;
  manta_ref ref;
  const char *msg;

  ref.id = 0;
  (void)fn;
  (void)ref;
  if (manta_version() != MANTA_VERSION_NUMBER) {
    fprintf(stderr, "header says %d, library says %u\n", MANTA_VERSION_NUMBER,
            manta_version());
    return 1;
  }
  msg = manta_strerror(MANTA_ERR_TIMEOUT);
  if (msg == NULL || strcmp(msg, "timed out") != 0) {
    fprintf(stderr, "manta_strerror(MANTA_ERR_TIMEOUT) = %s\n",
            msg ? msg : "(null)");
    return 1;
  }
  printf("C99: manta %s\n", manta_version_string());
  return 0;
}
