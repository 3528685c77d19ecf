/* Error names and messages, the library version, and manta_free. */
#include "manta.h"

#include <stdlib.h>

const char *manta_strerror(manta_err err) {
  switch (err) {
#define MT_ERR_MSG_(name, value, msg)                                          \
  case name:                                                                   \
    return msg;
    MANTA_ERROR_MAP(MT_ERR_MSG_)
#undef MT_ERR_MSG_
  }
  /* A code from a newer peer or a cast integer: not in our table. */
  return "unknown error";
}

const char *manta_errname(manta_err err) {
  switch (err) {
#define MT_ERR_NAME_(name, value, msg)                                         \
  case name:                                                                   \
    return #name;
    MANTA_ERROR_MAP(MT_ERR_NAME_)
#undef MT_ERR_NAME_
  }
  return "MANTA_ERR_UNKNOWN";
}

unsigned manta_version(void) {
  return MANTA_VERSION_NUMBER;
}

#define MT_STR_(x) #x
#define MT_XSTR_(x) MT_STR_(x)

const char *manta_version_string(void) {
  return MT_XSTR_(MANTA_VERSION_MAJOR) "." MT_XSTR_(
      MANTA_VERSION_MINOR) "." MT_XSTR_(MANTA_VERSION_PATCH);
}

/* The library's allocator is the C library's; this exists so callers never
 * depend on that (a binding may link a different malloc). */
void manta_free(void *ptr) {
  free(ptr);
}
