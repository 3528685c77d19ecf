// manta.h must compile as C++11 (-pedantic -Werror) and give C linkage: if
// the extern "C" block were missing, this program would not link against
// libmanta.so.
#include "manta.h"

#include <cstdint>
#include <cstdio>
#include <cstring>
#include <type_traits>

static_assert(sizeof(manta_ref) == sizeof(std::uint64_t),
              "manta_ref is one 64-bit id");
static_assert(sizeof(manta_actor) == sizeof(std::uint64_t),
              "manta_actor is one 64-bit id");
static_assert(std::is_standard_layout<manta_ref>::value &&
                  std::is_trivially_copyable<manta_ref>::value,
              "manta_ref is a plain C struct");
static_assert(MANTA_OK == 0, "MANTA_OK is 0");

namespace {
// A C++ function with C-compatible signature can be registered as a task.
manta_value *identity(const manta_value *const *args, std::size_t nargs,
                      void *) {
  return nargs == 1 ? manta_value_ref(const_cast<manta_value *>(args[0]))
                    : nullptr;
}
} // namespace

int main() {
  manta_function fn = identity;
  (void)fn;
  if (manta_version() != MANTA_VERSION_NUMBER) {
    std::fprintf(stderr, "header says %d, library says %u\n",
                 MANTA_VERSION_NUMBER, manta_version());
    return 1;
  }
  const char *msg = manta_strerror(MANTA_ERR_BAD_HANDLE);
  if (msg == nullptr || std::strcmp(msg, "stale or unknown handle") != 0) {
    std::fprintf(stderr, "manta_strerror(MANTA_ERR_BAD_HANDLE) = %s\n",
                 msg ? msg : "(null)");
    return 1;
  }
  // The short call form's variadic functions, called from C++.
  if (manta_init(nullptr) != MANTA_OK ||
      manta_register_function("identity", identity, 1, nullptr) != MANTA_OK) {
    std::fprintf(stderr, "cannot start an embedded runtime\n");
    return 1;
  }
  manta_value *v = nullptr;
  manta_err err =
      manta_call_get_timeout(&v, 10000, "identity", 1, manta_str("from C++"));
  const char *s = "";
  std::size_t len = 0;
  bool same = err == MANTA_OK && manta_get_string(v, &s, &len) == MANTA_OK &&
              std::strcmp(s, "from C++") == 0;
  manta_value_free(v);
  manta_shutdown();
  if (!same) {
    std::fprintf(stderr, "manta_call_get from C++: %s\n", manta_errname(err));
    return 1;
  }
  std::printf("C++11: manta %s\n", manta_version_string());
  return 0;
}
