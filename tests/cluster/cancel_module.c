/* The module of the cancel, retry and context test across nodes
 * (run-cancel-test.sh, cluster_cancel.c): functions and an actor class that
 * leave files in a folder the driver names, so that the driver sees what
 * ran where and what was cancelled. */
#include <manta.h>

#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

static void sleep_ms(long ms) {
  struct timespec ts = {ms / 1000, (ms % 1000) * 1000000L};
  nanosleep(&ts, NULL);
}

static const char *str(const manta_value *v) {
  const char *s = "";
  size_t len;
  manta_get_string(v, &s, &len);
  return s;
}

/* Writes dir/name holding "<node id> <node address> <pid>". */
static void leave_file(const char *dir, const char *name) {
  char path[4096], id[17] = "", address[128] = "";
  manta_node_id(id, sizeof id);
  manta_node_address(address, sizeof address);
  snprintf(path, sizeof path, "%s/%s", dir, name);
  FILE *f = fopen(path, "w");
  if (f) {
    fprintf(f, "%s %s %d\n", id, address, (int)getpid());
    fclose(f);
  }
}

/* Loops until cancelled (60 s at most): whether it was. */
static int spin_until_cancelled(void) {
  for (int i = 0; i < 60000; i++) {
    if (manta_cancelled()) {
      return 1;
    }
    sleep_ms(1);
  }
  return 0;
}

/* Submits chain(level, dir, route) on the node route[level]. This node
 * may not see that node offer "chain" yet (views follow heartbeats): a
 * call that ends at once (refused) is made again 100 ms later, for 10 s at
 * most (a refused call ends at once: without the pause the 100 tries took
 * a millisecond); one that runs waits to be cancelled. */
static manta_ref submit_level(int64_t level, const manta_value *dir,
                              const manta_value *route) {
  const manta_value *node;
  manta_call_options *o = NULL;
  manta_ref kid = {0};
  manta_value *args[3] = {manta_int(level), manta_value_ref((manta_value *)dir),
                          manta_value_ref((manta_value *)route)};
  if (manta_list_at(route, (size_t)level, &node) == MANTA_OK &&
      manta_call_options_new(&o) == MANTA_OK &&
      manta_call_options_set_node_affinity(o, str(node), 0) == MANTA_OK) {
    for (int i = 0; i < 100; i++) {
      if (manta_submit("chain", (const manta_value *const *)args, 3, o, &kid) !=
          MANTA_OK) {
        kid.id = 0;
        break;
      }
      manta_value *v = NULL;
      manta_err err = manta_get(kid, 100, &v);
      if (err != MANTA_ERR_TIMEOUT && v) {
        char *why = manta_value_repr(v);
        fprintf(stderr, "chain: level %d refused, again: %s\n", (int)level,
                why ? why : "?");
        manta_free(why);
      }
      manta_value_free(v);
      if (err == MANTA_ERR_TIMEOUT) {
        break; /* running: it waits to be cancelled */
      }
      manta_ref_release(kid);
      kid.id = 0;
      sleep_ms(100);
    }
  }
  manta_call_options_free(o);
  for (int i = 0; i < 3; i++) {
    manta_value_free(args[i]);
  }
  return kid;
}

/* chain(depth, dir, route): level `depth` of a chain of calls, each
 * submitting the next level (depth - 1) on the node route[depth - 1] before
 * it waits to be cancelled. Leaves started-<depth> and, once cancelled,
 * cancelled-<depth>. Returns 7. */
static manta_value *chain(const manta_value *const *a, size_t n, void *u) {
  (void)n, (void)u;
  int64_t depth = 0;
  manta_get_int(a[0], &depth);
  const char *dir = str(a[1]);
  manta_ref kid = {0};
  if (depth > 0) {
    kid = submit_level(depth - 1, a[1], a[2]);
    if (!kid.id) {
      return manta_error(MANTA_ERR_INTERNAL, "chain: cannot submit a level");
    }
  }
  char name[32];
  snprintf(name, sizeof name, "started-%d", (int)depth);
  leave_file(dir, name);
  if (spin_until_cancelled()) {
    snprintf(name, sizeof name, "cancelled-%d", (int)depth);
    leave_file(dir, name);
  }
  if (kid.id) {
    manta_ref_release(kid);
  }
  return manta_int(7);
}

/* [task id, attempt, node id, node address] as the task sees them. */
static manta_value *context(const manta_value *const *a, size_t n, void *u) {
  (void)a, (void)n, (void)u;
  char id[64] = "", node[17] = "", address[128] = "";
  manta_current_task_id(id, sizeof id);
  manta_node_id(node, sizeof node);
  manta_node_address(address, sizeof address);
  manta_value *l = manta_list();
  manta_list_push(l, manta_cstring(id));
  manta_list_push(l, manta_int(manta_current_attempt()));
  manta_list_push(l, manta_cstring(node));
  manta_list_push(l, manta_cstring(address));
  return l;
}

/* flaky(k, dir): leaves run-<attempt>, fails until its attempt k, then
 * returns the attempt. */
static manta_value *flaky(const manta_value *const *a, size_t n, void *u) {
  (void)n, (void)u;
  int64_t k = 0;
  manta_get_int(a[0], &k);
  int attempt = manta_current_attempt();
  char name[32];
  snprintf(name, sizeof name, "run-%d", attempt);
  leave_file(str(a[1]), name);
  if (attempt < k) {
    return manta_error(MANTA_ERR_TASK_FAILED, "not yet at attempt %d", attempt);
  }
  return manta_int(attempt);
}

/* hang(dir, hang_attempts): leaves attempt-<attempt>; its first
 * hang_attempts attempts wait (60 s at most) for their node to be killed,
 * a later one returns [attempt, pid]. */
static manta_value *hang(const manta_value *const *a, size_t n, void *u) {
  (void)n, (void)u;
  int64_t hang_attempts = 1;
  manta_get_int(a[1], &hang_attempts);
  int attempt = manta_current_attempt();
  char name[32];
  snprintf(name, sizeof name, "attempt-%d", attempt);
  leave_file(str(a[0]), name);
  if (attempt <= hang_attempts) {
    sleep_ms(60000);
  }
  manta_value *l = manta_list();
  manta_list_push(l, manta_int(attempt));
  manta_list_push(l, manta_int((int64_t)getpid()));
  return l;
}

/* Whether dir/name exists. */
static int has_file(const char *dir, const char *name) {
  char path[4096];
  snprintf(path, sizeof path, "%s/%s", dir, name);
  return access(path, F_OK) == 0;
}

/* wait_then(dir, name, size): waits (60 s at most, deaf to cancels) for
 * dir/name, leaves <name>-seen, and returns `size` bytes: a large result
 * stays on this node and only its id goes to the caller. */
static manta_value *wait_then(const manta_value *const *a, size_t n, void *u) {
  (void)n, (void)u;
  const char *dir = str(a[0]), *name = str(a[1]);
  int64_t size = 0;
  manta_get_int(a[2], &size);
  for (int i = 0; i < 6000 && !has_file(dir, name); i++) {
    sleep_ms(10);
  }
  char *bytes = calloc(1, size > 0 ? (size_t)size : 1);
  manta_value *v = bytes ? manta_bytes(bytes, (size_t)size) : NULL;
  free(bytes);
  char seen[64];
  snprintf(seen, sizeof seen, "%s-seen", name);
  leave_file(dir, seen);
  return v;
}

static void *acc_new(const manta_value *const *args, size_t n, void *cd,
                     manta_value **err) {
  (void)args, (void)n, (void)cd, (void)err;
  return calloc(1, sizeof(int64_t));
}

static void acc_free(void *state, void *cd) {
  (void)cd;
  free(state);
}

static manta_value *acc_add(void *state, const manta_value *const *args,
                            size_t n, void *md) {
  (void)n, (void)md;
  int64_t k = 0;
  manta_get_int(args[0], &k);
  *(int64_t *)state += k;
  return manta_int(*(int64_t *)state);
}

/* hold(dir): leaves holding, then waits to be cancelled. */
static manta_value *acc_hold(void *state, const manta_value *const *args,
                             size_t n, void *md) {
  (void)state, (void)n, (void)md;
  leave_file(str(args[0]), "holding");
  return manta_bool(spin_until_cancelled());
}

/* hang(dir): the first run leaves hung and waits 60 s for its node to be
 * killed, deaf to cancels; a run after it leaves ran-again. */
static manta_value *acc_hang(void *state, const manta_value *const *args,
                             size_t n, void *md) {
  (void)state, (void)n, (void)md;
  if (has_file(str(args[0]), "hung")) {
    leave_file(str(args[0]), "ran-again");
    return manta_cstring("ran again");
  }
  leave_file(str(args[0]), "hung");
  sleep_ms(60000);
  return manta_cstring("not killed");
}

/* The call's own id, as the method sees it. */
static manta_value *acc_task_id(void *state, const manta_value *const *args,
                                size_t n, void *md) {
  (void)state, (void)args, (void)n, (void)md;
  char id[64];
  manta_err err = manta_current_task_id(id, sizeof id);
  return err == MANTA_OK ? manta_cstring(id) : manta_error(err, "no task id");
}

static manta_value *acc_whoami(void *state, const manta_value *const *args,
                               size_t n, void *md) {
  (void)state, (void)args, (void)n, (void)md;
  char id[64];
  manta_err err = manta_current_actor_id(id, sizeof id);
  return err == MANTA_OK ? manta_cstring(id) : manta_error(err, "no actor id");
}

MANTA_MODULE_EXPORT manta_err manta_module_init(void) {
  manta_err err;
  if ((err = manta_register_function("chain", chain, 3, NULL)) ||
      (err = manta_register_function("context", context, 0, NULL)) ||
      (err = manta_register_function("flaky", flaky, 2, NULL)) ||
      (err = manta_register_function("hang", hang, 2, NULL)) ||
      (err = manta_register_function("wait_then", wait_then, 3, NULL)) ||
      (err = manta_register_class("Acc", acc_new, acc_free, NULL)) ||
      (err = manta_register_method("Acc", "add", acc_add, 1, NULL)) ||
      (err = manta_register_method("Acc", "hold", acc_hold, 1, NULL)) ||
      (err = manta_register_method("Acc", "whoami", acc_whoami, 0, NULL)) ||
      (err = manta_register_method("Acc", "hang", acc_hang, 1, NULL)) ||
      (err = manta_register_method("Acc", "task_id", acc_task_id, 0, NULL))) {
    return err;
  }
  return MANTA_OK;
}
