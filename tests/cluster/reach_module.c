/* The module of the hard-affinity reach test (run-reach-test.sh,
 * cluster_reach.c): where() names the node it ran on; reach(node, n)
 * calls where() n times with hard affinity to that node, from the node it
 * runs on, and fails with the first call that did not run there. */
#include <manta.h>

#include <stdio.h>
#include <string.h>

/* where(): this node's id (hex). */
static manta_value *where(const manta_value *const *a, size_t n, void *u) {
  (void)a, (void)n, (void)u;
  char id[17] = "";
  manta_err err = manta_node_id(id, sizeof id);
  return err == MANTA_OK ? manta_cstring(id) : manta_error(err, "no node id");
}

/* reach(node, n): n calls of where() with hard affinity to node, one after
 * another; n, or the first failure (an error naming the call and why). */
static manta_value *reach(const manta_value *const *a, size_t n, void *u) {
  (void)n, (void)u;
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
    return manta_error(err, "reach: bad options for node %s", node);
  }
  manta_value *out = NULL;
  for (int64_t i = 0; i < count && !out; i++) {
    manta_ref r;
    manta_value *v = NULL;
    err = manta_submit("where", NULL, 0, o, &r);
    if (err != MANTA_OK) {
      out = manta_error(err, "reach: call %lld not submitted", (long long)i);
      break;
    }
    err = manta_get(r, 20000, &v);
    manta_ref_release(r);
    const char *got = "";
    if (err == MANTA_OK && manta_get_string(v, &got, &len) == MANTA_OK &&
        strcmp(got, node) == 0) {
      manta_value_free(v);
      continue;
    }
    char *why = v ? manta_value_repr(v) : NULL;
    out = manta_error(err == MANTA_OK ? MANTA_ERR_INTERNAL : err,
                      "reach: call %lld to node %s: %s", (long long)i, node,
                      why ? why : (err == MANTA_OK ? got : "no value"));
    manta_free(why);
    manta_value_free(v);
  }
  manta_call_options_free(o);
  return out ? out : manta_int(count);
}

MANTA_MODULE_EXPORT manta_err manta_module_init(void) {
  manta_err err;
  if ((err = manta_register_function("where", where, 0, NULL)) ||
      (err = manta_register_function("reach", reach, 2, NULL))) {
    return err;
  }
  return MANTA_OK;
}
