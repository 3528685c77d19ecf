/* The names a node can run: functions and actor classes with their
 * methods. Entries live until shutdown, so tasks may point at them. */
#include "cluster_seam.h"
#include "rt.h"

#include <stdlib.h>
#include <string.h>

static manta_err check_name(const char *name) {
  return name && name[0] ? MANTA_OK : MANTA_ERR_INVALID;
}

manta_err manta_register_function(const char *name, manta_function fn,
                                  int nargs_expected, void *user_data) {
  if (check_name(name) != MANTA_OK || !fn) {
    return MANTA_ERR_INVALID;
  }
  mt_function *f = calloc(1, sizeof *f);
  char *copy = strdup(name);
  if (!f || !copy) {
    free(f);
    free(copy);
    return MANTA_ERR_NOMEM;
  }
  *f = (mt_function){
      .name = copy, .fn = fn, .nargs = nargs_expected, .data = user_data};
  manta_err err = MANTA_OK;
  bool oom = false;
  mt_lock();
  if (!mt_rt.initialized) {
    err = MANTA_ERR_NOT_INITIALIZED;
  } else if (!mt_strmap_insert(&mt_rt.functions, name, f, &oom)) {
    err = oom ? MANTA_ERR_NOMEM : MANTA_ERR_EXISTS;
  } else {
    mt_rt.registry_version++; /* the cluster advertises the new name */
    if (mt_rt.cluster) {
      mt_rt.cluster->registry_changed_locked();
    }
  }
  mt_unlock();
  if (err != MANTA_OK) {
    free(f->name);
    free(f);
  }
  return err;
}

manta_err manta_register_class(const char *class_name, manta_actor_ctor ctor,
                               manta_actor_dtor dtor, void *class_data) {
  if (check_name(class_name) != MANTA_OK) {
    return MANTA_ERR_INVALID;
  }
  mt_class *c = calloc(1, sizeof *c);
  char *copy = strdup(class_name);
  if (!c || !copy) {
    free(c);
    free(copy);
    return MANTA_ERR_NOMEM;
  }
  c->name = copy;
  c->ctor = ctor;
  c->dtor = dtor;
  c->data = class_data;
  mt_strmap_init(&c->methods);
  manta_err err = MANTA_OK;
  bool oom = false;
  mt_lock();
  if (!mt_rt.initialized) {
    err = MANTA_ERR_NOT_INITIALIZED;
  } else if (!mt_strmap_insert(&mt_rt.classes, class_name, c, &oom)) {
    err = oom ? MANTA_ERR_NOMEM : MANTA_ERR_EXISTS;
  } else {
    mt_rt.registry_version++;
    if (mt_rt.cluster) {
      mt_rt.cluster->registry_changed_locked();
    }
  }
  mt_unlock();
  if (err != MANTA_OK) {
    free(c->name);
    free(c);
  }
  return err;
}

manta_err manta_register_method(const char *class_name, const char *method_name,
                                manta_method fn, int nargs_expected,
                                void *method_data) {
  if (check_name(class_name) != MANTA_OK ||
      check_name(method_name) != MANTA_OK || !fn) {
    return MANTA_ERR_INVALID;
  }
  mt_method *m = calloc(1, sizeof *m);
  char *copy = strdup(method_name);
  if (!m || !copy) {
    free(m);
    free(copy);
    return MANTA_ERR_NOMEM;
  }
  *m = (mt_method){copy, fn, nargs_expected, method_data};
  manta_err err = MANTA_OK;
  bool oom = false;
  mt_lock();
  mt_class *c = NULL;
  if (!mt_rt.initialized) {
    err = MANTA_ERR_NOT_INITIALIZED;
  } else if (!(c = mt_strmap_get(&mt_rt.classes, class_name))) {
    err = MANTA_ERR_NOT_FOUND;
  } else if (!mt_strmap_insert(&c->methods, method_name, m, &oom)) {
    err = oom ? MANTA_ERR_NOMEM : MANTA_ERR_EXISTS;
  }
  mt_unlock();
  if (err != MANTA_OK) {
    free(m->name);
    free(m);
  }
  return err;
}

void mt_registry_destroy_locked(void) {
  size_t pos = 0;
  const char *key;
  void *value;
  while (mt_strmap_next(&mt_rt.functions, &pos, &key, &value)) {
    mt_function *f = value;
    free(f->name);
    free(f);
  }
  mt_strmap_destroy(&mt_rt.functions);
  pos = 0;
  while (mt_strmap_next(&mt_rt.classes, &pos, &key, &value)) {
    mt_class *c = value;
    size_t mpos = 0;
    void *mv;
    while (mt_strmap_next(&c->methods, &mpos, &key, &mv)) {
      mt_method *m = mv;
      free(m->name);
      free(m);
    }
    mt_strmap_destroy(&c->methods);
    free(c->name);
    free(c);
  }
  mt_strmap_destroy(&mt_rt.classes);
}
