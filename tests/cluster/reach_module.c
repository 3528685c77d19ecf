/* The module of the hard-affinity reach test (run-reach-test.sh,
 * cluster_reach.c): where() names the node it ran on; reach(node, n)
 * calls where() n times with hard affinity to that node, from the node it
 * runs on, and fails with the first call that did not run there;
 * reach_actor(node, n) does the same with n actors of class Here created
 * by hard affinity to that node (Here.where names the node it lives on).
 * A node started with MANTA_REACH_ONLY=NAME also offers where() as NAME,
 * which no other node offers; call_named(name) calls it (no options) from
 * the node it runs on and returns its value. */
#include <manta.h>

#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* where(): this node's id (hex). */
static manta_value *where(const manta_value *const *a, size_t n, void *u) {
  (void)a, (void)n, (void)u;
  char id[17] = "";
  manta_err err = manta_node_id(id, sizeof id);
  return err == MANTA_OK ? manta_cstring(id) : manta_error(err, "no node id");
}

static void *here_new(const manta_value *const *a, size_t n, void *cd,
                      manta_value **error) {
  (void)a, (void)n, (void)cd, (void)error;
  static int state;
  return &state;
}

static void here_free(void *state, void *cd) {
  (void)state, (void)cd;
}

static manta_value *here_where(void *state, const manta_value *const *a,
                               size_t n, void *md) {
  (void)state;
  return where(a, n, md);
}

/* One where() with options o: a task, or a new actor's method (the actor
 * released after); its value in *v. */
static manta_err where_once(const manta_call_options *o, bool actor,
                            manta_value **v) {
  manta_ref r;
  manta_actor h;
  manta_err err = actor ? manta_actor_create("Here", NULL, 0, o, &h)
                        : manta_submit("where", NULL, 0, o, &r);
  bool made = actor && err == MANTA_OK;
  if (made) {
    err = manta_actor_call(h, "where", NULL, 0, &r);
  }
  if (err == MANTA_OK) {
    err = manta_get(r, 20000, v);
    manta_ref_release(r);
  }
  if (made) {
    manta_actor_release(h);
  }
  return err;
}

/* (node, n): n where() one after another with hard affinity to node, as
 * tasks or in new actors; n, or the first failure (an error naming the
 * call and why). */
static manta_value *reach_with(const manta_value *const *a, bool actor) {
  const char *what = actor ? "reach_actor" : "reach";
  const char *node = "";
  size_t len;
  int64_t count = 0;
  manta_get_string(a[0], &node, &len);
  manta_get_int(a[1], &count);
  manta_call_options *o = NULL;
  manta_err err = manta_call_options_new(&o);
  if (err == MANTA_OK) {
    err = manta_call_options_set_node_affinity(o, node, 0);
  }
  if (err != MANTA_OK) {
    manta_call_options_free(o);
    return manta_error(err, "%s: bad options for node %s", what, node);
  }
  manta_value *out = NULL;
  for (int64_t i = 0; i < count && !out; i++) {
    manta_value *v = NULL;
    err = where_once(o, actor, &v);
    const char *got = "";
    if (err == MANTA_OK && manta_get_string(v, &got, &len) == MANTA_OK &&
        strcmp(got, node) == 0) {
      manta_value_free(v);
      continue;
    }
    char *why = v ? manta_value_repr(v) : NULL;
    out = manta_error(err == MANTA_OK ? MANTA_ERR_INTERNAL : err,
                      "%s: call %lld to node %s: %s", what, (long long)i, node,
                      why ? why : (err == MANTA_OK ? got : "no value"));
    manta_free(why);
    manta_value_free(v);
  }
  manta_call_options_free(o);
  return out ? out : manta_int(count);
}

static manta_value *reach(const manta_value *const *a, size_t n, void *u) {
  (void)n, (void)u;
  return reach_with(a, false);
}

static manta_value *reach_actor(const manta_value *const *a, size_t n,
                                void *u) {
  (void)n, (void)u;
  return reach_with(a, true);
}

/* (name): the value of name() called with no options from here. */
static manta_value *call_named(const manta_value *const *a, size_t n, void *u) {
  (void)n, (void)u;
  const char *name = "";
  size_t len;
  manta_get_string(a[0], &name, &len);
  manta_ref r;
  manta_value *v = NULL;
  manta_err err = manta_submit(name, NULL, 0, NULL, &r);
  if (err == MANTA_OK) {
    err = manta_get(r, 20000, &v);
    manta_ref_release(r);
  }
  return err == MANTA_OK || v ? v : manta_error(err, "call of %s", name);
}

MANTA_MODULE_EXPORT manta_err manta_module_init(void) {
  manta_err err;
  const char *only = getenv("MANTA_REACH_ONLY");
  if (only && *only && (err = manta_register_function(only, where, 0, NULL))) {
    return err;
  }
  if ((err = manta_register_function("call_named", call_named, 1, NULL))) {
    return err;
  }
  if ((err = manta_register_function("where", where, 0, NULL)) ||
      (err = manta_register_function("reach", reach, 2, NULL)) ||
      (err = manta_register_function("reach_actor", reach_actor, 2, NULL)) ||
      (err = manta_register_class("Here", here_new, here_free, NULL)) ||
      (err = manta_register_method("Here", "where", here_where, 0, NULL))) {
    return err;
  }
  return MANTA_OK;
}
