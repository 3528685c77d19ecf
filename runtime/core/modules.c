/* Modules: shared libraries that register functions and actor classes when
 * loaded (manta_module_load). */
#include "rt.h"

#include <dlfcn.h>
#include <stdlib.h>
#include <string.h>

/*
 * Modules are never unloaded: a value made by a module (bytes wrapped with
 * the module's own free function, say) may outlive the runtime, and its code
 * must stay mapped. The list only says which libraries ran their entry point
 * since manta_init, so a second load of the same library is a no-op.
 */
static bool already_loaded_locked(void *handle) {
  for (size_t i = 0; i < mt_rt.nmodules; i++) {
    if (mt_rt.modules[i] == handle) {
      return true;
    }
  }
  return false;
}

static manta_err remember_locked(void *handle) {
  if (mt_rt.nmodules == mt_rt.modules_cap) {
    size_t cap = mt_rt.modules_cap ? 2 * mt_rt.modules_cap : 4;
    void **grown = realloc(mt_rt.modules, cap * sizeof *grown);
    if (!grown) {
      return MANTA_ERR_NOMEM;
    }
    mt_rt.modules = grown;
    mt_rt.modules_cap = cap;
  }
  mt_rt.modules[mt_rt.nmodules++] = handle;
  return MANTA_OK;
}

manta_err manta_module_load(const char *path) {
  if (!path || !*path) {
    return MANTA_ERR_INVALID;
  }
  if (!manta_is_initialized()) {
    return MANTA_ERR_NOT_INITIALIZED;
  }
  void *handle = dlopen(path, RTLD_NOW | RTLD_LOCAL);
  if (!handle) {
    mt_log(MT_LOG_ERROR, "module %s: cannot load: %s", path, dlerror());
    return MANTA_ERR_NOT_FOUND;
  }
  mt_lock();
  bool seen = already_loaded_locked(handle);
  manta_err err = seen ? MANTA_OK : remember_locked(handle);
  mt_unlock();
  if (seen || err != MANTA_OK) {
    dlclose(handle); /* drops the count this dlopen took */
    return err;
  }
  manta_module_init_fn entry;
  /* dlsym gives a data pointer; POSIX guarantees it converts to a function
   * pointer, ISO C does not, hence the copy. */
  void *sym = dlsym(handle, MANTA_MODULE_ENTRY);
  if (!sym) {
    mt_log(MT_LOG_ERROR,
           "module %s: no entry point %s (export it with "
           "MANTA_MODULE_EXPORT)",
           path, MANTA_MODULE_ENTRY);
    return MANTA_ERR_NOT_FOUND;
  }
  memcpy(&entry, &sym, sizeof entry);
  err = entry();
  if (err != MANTA_OK) {
    mt_log(MT_LOG_ERROR, "module %s: %s failed: %s", path, MANTA_MODULE_ENTRY,
           manta_strerror(err));
  } else {
    mt_log(MT_LOG_INFO, "module %s loaded", path);
  }
  return err;
}

void mt_modules_forget_locked(void) {
  free(mt_rt.modules);
  mt_rt.modules = NULL;
  mt_rt.nmodules = mt_rt.modules_cap = 0;
}
