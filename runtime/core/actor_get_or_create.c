/*
 * manta_actor_get_or_create: the named actor that exists, or one created
 * now. No lock is held across the two steps; the name table decides
 * instead. A creation that finds the name taken (MANTA_ERR_EXISTS: another
 * thread, or in a cluster another process, created or reserved it
 * meanwhile) looks the name up again, and a lookup of a name still being
 * created waits for it (actor_names_node.c). Locally the table is
 * rt.actor_names; in a cluster it is the head's, whose reservation of a
 * name admits one creator only (head/actor_names.c), so every caller ends
 * with the same actor and its constructor runs once.
 */
#include "rt.h"

#include <string.h>

/* Lookups and creations tried before giving up: each failed creation means
 * another caller took the name, and each lookup after it waits for that
 * caller's actor, so more than a few rounds only happen while actors of the
 * name are killed as fast as they are made. */
#define GET_OR_CREATE_ROUNDS 20

/* Whether the actor behind handle is of class_name, as far as this node
 * knows (a proxy of an actor elsewhere may not know its class: then yes). */
static bool class_matches(manta_actor handle, const char *class_name) {
  bool match = true;
  mt_lock();
  mt_actor *a = mt_rt.initialized ? mt_actor_lookup_locked(handle.id) : NULL;
  if (a && (a->cls ||
            (a->remote && a->remote->class_name && a->remote->class_name[0]))) {
    match = strcmp(mt_actor_class_name(a), class_name) == 0;
  }
  mt_unlock();
  return match;
}

/* Looks up, else creates, until one of them settles it. */
static manta_err attempt(const char *name, const char *class_name,
                         const manta_value *const *args, size_t nargs,
                         const manta_call_options *named, manta_actor *out,
                         int *created) {
  manta_err err = MANTA_ERR_NOT_FOUND;
  for (int round = 0; round < GET_OR_CREATE_ROUNDS; round++) {
    err = manta_actor_lookup(name, out);
    if (err == MANTA_OK) {
      if (class_matches(*out, class_name)) {
        return MANTA_OK;
      }
      manta_actor_release(*out);
      return MANTA_ERR_EXISTS;
    }
    if (err != MANTA_ERR_NOT_FOUND) {
      return err;
    }
    err = mt_actor_create(class_name, args, nargs, named, true, out);
    if (err == MANTA_OK) {
      *created = 1;
      return MANTA_OK;
    }
    if (err != MANTA_ERR_EXISTS) {
      return err;
    }
  }
  mt_log(MT_LOG_WARN,
         "actor get_or_create: the name '%s' was taken and gone again %d "
         "times in a row; giving up",
         name, GET_OR_CREATE_ROUNDS);
  return err;
}

static manta_err get_or_create(const char *name, const char *class_name,
                               const manta_value *const *args, size_t nargs,
                               const manta_call_options *opts, manta_actor *out,
                               int *created) {
  /* The caller's options with this name: a copy read only (no field is
   * freed through it), or the defaults manta_call_options_new sets. */
  manta_call_options *defaults = NULL;
  if (!opts) {
    manta_err err = manta_call_options_new(&defaults);
    if (err != MANTA_OK) {
      return err;
    }
    opts = defaults;
  }
  manta_call_options named = *opts;
  named.name = (char *)name;
  manta_err err = attempt(name, class_name, args, nargs, &named, out, created);
  manta_call_options_free(defaults);
  return err;
}

manta_err manta_actor_get_or_create(const char *name, const char *class_name,
                                    manta_value **args, size_t nargs,
                                    const manta_call_options *opts,
                                    manta_actor *out, int *created) {
  int made = 0;
  manta_err err = MANTA_OK;
  if (!name || !name[0] || !class_name || !out || (nargs > 0 && !args)) {
    err = MANTA_ERR_INVALID;
  }
  for (size_t i = 0; err == MANTA_OK && i < nargs; i++) {
    if (!args[i]) {
      err = MANTA_ERR_NOMEM; /* a constructor that failed */
    }
  }
  if (err == MANTA_OK) {
    /* The runtime freezes and keeps what it is given; the caller's
     * references are dropped below, used or not. */
    err = get_or_create(name, class_name, (const manta_value *const *)args,
                        nargs, opts, out, &made);
  }
  for (size_t i = 0; args && i < nargs; i++) {
    manta_value_free(args[i]);
  }
  if (created) {
    *created = err == MANTA_OK && made;
  }
  return err;
}
