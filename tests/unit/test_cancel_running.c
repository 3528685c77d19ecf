/* Cancelling running work, retries as options and the runtime context on
 * the embedded runtime: a task looping until cancelled ends CANCELLED, a
 * recursive cancel reaches a child and a grandchild (a plain one does
 * not), cancel handlers run, actor calls not started never run while
 * those after them do, retry_exceptions runs a failing function exactly
 * as often as allowed, a task blocked in manta_get or manta_wait returns
 * once it is cancelled, actor creations not started are cancelled, and a
 * task sees its own id, attempt and actor. */
#include "test_util.h"

#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>

/* ---- tasks that wait to be cancelled ------------------------------------ */

#define LEVELS 3
static _Atomic int started[LEVELS], saw_cancel[LEVELS];
static _Atomic uint64_t kid_ref[LEVELS]; /* a clone of each level's child */

static void reset(void) {
  for (int i = 0; i < LEVELS; i++) {
    atomic_store(&started[i], 0);
    atomic_store(&saw_cancel[i], 0);
    atomic_store(&kid_ref[i], 0);
  }
}

/* Loops until cancelled (30 s at most): whether it was. */
static bool spin_until_cancelled(void) {
  for (int i = 0; i < 30000; i++) {
    if (manta_cancelled()) {
      return true;
    }
    mt_test_sleep_ms(1);
  }
  return false;
}

/* chain(depth): submits chain(depth - 1) first (keeping a clone of its
 * ref in kid_ref[depth - 1]), then waits to be cancelled; returns 7. */
static manta_value *fn_chain(const manta_value *const *args, size_t n,
                             void *u) {
  (void)n, (void)u;
  int64_t depth = 0;
  manta_get_int(args[0], &depth);
  manta_ref kid = {0};
  if (depth > 0) {
    manta_ref clone;
    if (manta_call(&kid, "chain", 1, manta_int(depth - 1)) == MANTA_OK &&
        manta_ref_clone(kid, &clone) == MANTA_OK) {
      atomic_store(&kid_ref[depth - 1], clone.id);
    }
  }
  atomic_store(&started[depth], 1);
  if (spin_until_cancelled()) {
    atomic_store(&saw_cancel[depth], 1);
  }
  if (kid.id) {
    manta_ref_release(kid);
  }
  return manta_int(7);
}

static bool all_started(void *arg) {
  int upto = *(int *)arg;
  for (int i = 0; i < upto; i++) {
    if (!atomic_load(&started[i])) {
      return false;
    }
  }
  return true;
}

static bool saw(void *arg) {
  return atomic_load(&saw_cancel[*(int *)arg]) != 0;
}

static manta_ref submit_chain(int64_t depth) {
  manta_ref r = {0};
  CHECK_OK(manta_call(&r, "chain", 1, manta_int(depth)));
  return r;
}

static manta_ref kid_of(int level) {
  return (manta_ref){atomic_load(&kid_ref[level])};
}

/* The task resolves to CANCELLED, not to the 7 it returned. */
static void check_cancelled(manta_ref r) {
  manta_value *v = mt_test_take(r, 30000);
  mt_test_check_error(v, MANTA_ERR_CANCELLED, "cancelled while it ran");
  manta_value_free(v);
}

static void test_loop_until_cancelled(void) {
  reset();
  manta_ref r = submit_chain(0);
  int one = 1, level = 0;
  REQUIRE(mt_test_wait_until(all_started, &one, 30000));
  CHECK_OK(manta_cancel(r));
  CHECK_OK(manta_cancel(r)); /* asked again while it still runs: no harm */
  check_cancelled(r);
  CHECK(saw(&level));
}

static void test_recursive_reaches_grandchild(void) {
  reset();
  manta_ref r = submit_chain(2);
  int three = LEVELS;
  REQUIRE(mt_test_wait_until(all_started, &three, 30000));
  CHECK_OK(manta_cancel_with(r, MANTA_CANCEL_RECURSIVE));
  check_cancelled(r);
  for (int level = 0; level < 2; level++) {
    CHECK(mt_test_wait_until(saw, &level, 30000));
    check_cancelled(kid_of(level));
  }
}

static void test_plain_cancel_leaves_children(void) {
  reset();
  manta_ref r = submit_chain(1);
  int two = 2, child = 0;
  REQUIRE(mt_test_wait_until(all_started, &two, 30000));
  CHECK_OK(manta_cancel(r));
  check_cancelled(r);
  /* The parent is done; its child still runs until cancelled itself. */
  CHECK(!saw(&child));
  manta_value *v = NULL;
  CHECK_ERR(manta_get(kid_of(0), 0, &v), MANTA_ERR_TIMEOUT);
  manta_value_free(v);
  CHECK_OK(manta_cancel(kid_of(0)));
  check_cancelled(kid_of(0));
  CHECK(saw(&child));
}

/* ---- cancel handlers ------------------------------------------------------
 */

static void set_flag(void *arg) {
  atomic_store((_Atomic int *)arg, 1);
}

static _Atomic int handler_ran, handler_started;

/* Waits for its handler (not manta_cancelled) to say it was cancelled. */
static manta_value *fn_handled(const manta_value *const *args, size_t n,
                               void *u) {
  (void)args, (void)n, (void)u;
  if (manta_on_cancel(set_flag, (void *)&handler_ran) != MANTA_OK) {
    return manta_error(MANTA_ERR_INTERNAL, "manta_on_cancel failed");
  }
  atomic_store(&handler_started, 1);
  for (int i = 0; i < 30000 && !atomic_load(&handler_ran); i++) {
    mt_test_sleep_ms(1);
  }
  return manta_int(atomic_load(&handler_ran));
}

static bool handled_started(void *arg) {
  (void)arg;
  return atomic_load(&handler_started) != 0;
}

static void test_cancel_handler(void) {
  manta_ref r;
  REQUIRE_OK(manta_submit("handled", NULL, 0, NULL, &r));
  REQUIRE(mt_test_wait_until(handled_started, NULL, 30000));
  CHECK_OK(manta_cancel(r));
  check_cancelled(r);
  CHECK(atomic_load(&handler_ran) == 1);
  /* Outside a task there is nothing to hear of. */
  CHECK_ERR(manta_on_cancel(set_flag, NULL), MANTA_ERR_INVALID);
  CHECK(manta_cancelled() == 0);
}

/* ---- get and wait inside a cancelled task --------------------------------
 */

static _Atomic int blocked_started, blocked_code;

/* blocked(how): submits chain(0), which waits to be cancelled, and waits
 * for it with no time limit: manta_get (how 0) or manta_wait (how 1).
 * Returns, and keeps in blocked_code, what the wait returned. */
static manta_value *fn_blocked(const manta_value *const *args, size_t n,
                               void *u) {
  (void)n, (void)u;
  int64_t how = 0;
  manta_get_int(args[0], &how);
  manta_ref kid = submit_chain(0), clone;
  if (manta_ref_clone(kid, &clone) == MANTA_OK) {
    atomic_store(&kid_ref[0], clone.id);
  }
  atomic_store(&blocked_started, 1);
  manta_err err;
  if (how == 0) {
    manta_value *v = NULL;
    err = manta_get(kid, MANTA_FOREVER, &v);
    if (err == MANTA_ERR_CANCELLED) {
      mt_test_check_error(v, MANTA_ERR_CANCELLED,
                          "the calling task was cancelled");
    }
    manta_value_free(v);
  } else {
    manta_ref ready, not_ready;
    size_t nready = 9, nnot = 9;
    err = manta_wait(&kid, 1, 1, MANTA_FOREVER, &ready, &nready, &not_ready,
                     &nnot);
    CHECK(err != MANTA_ERR_CANCELLED || (nready == 0 && nnot == 1));
  }
  /* Once cancelled, a wait returns at once. */
  CHECK_ERR(manta_get(kid, MANTA_FOREVER, NULL), MANTA_ERR_CANCELLED);
  atomic_store(&blocked_code, (int)err);
  manta_ref_release(kid);
  return manta_int(err);
}

static bool blocked_waits(void *arg) {
  int one = 1;
  (void)arg;
  return atomic_load(&blocked_started) && all_started(&one);
}

/* A task blocked in manta_get or manta_wait returns CANCELLED from it as
 * soon as it is cancelled; the call it waited for (a plain cancel) runs
 * on. */
static void test_get_in_cancelled_task(void) {
  for (int64_t how = 0; how < 2; how++) {
    reset();
    atomic_store(&blocked_started, 0);
    atomic_store(&blocked_code, -1);
    manta_ref r;
    REQUIRE_OK(manta_call(&r, "blocked", 1, manta_int(how)));
    REQUIRE(mt_test_wait_until(blocked_waits, NULL, 30000));
    CHECK_OK(manta_cancel(r));
    check_cancelled(r);
    CHECK_INT_EQ(atomic_load(&blocked_code), MANTA_ERR_CANCELLED);
    int level = 0;
    CHECK(!saw(&level)); /* the child was not cancelled */
    manta_ref kid = kid_of(0);
    CHECK_OK(manta_cancel(kid));
    check_cancelled(kid);
  }
}

/* ---- actor calls ----------------------------------------------------------
 */

static _Atomic int holding, acc_made;

static void *acc_new(const manta_value *const *args, size_t n, void *cd,
                     manta_value **err) {
  (void)args, (void)n, (void)cd, (void)err;
  atomic_fetch_add(&acc_made, 1);
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

static manta_value *acc_hold(void *state, const manta_value *const *args,
                             size_t n, void *md) {
  (void)state, (void)args, (void)n, (void)md;
  atomic_store(&holding, 1);
  return manta_bool(spin_until_cancelled());
}

static manta_value *acc_whoami(void *state, const manta_value *const *args,
                               size_t n, void *md) {
  (void)state, (void)args, (void)n, (void)md;
  char id[64];
  manta_err err = manta_current_actor_id(id, sizeof id);
  return err == MANTA_OK ? manta_cstring(id) : manta_error(err, "no actor id");
}

static bool is_holding(void *arg) {
  (void)arg;
  return atomic_load(&holding) != 0;
}

static manta_ref acc_call(manta_actor a, const char *m, int64_t k) {
  manta_ref r = {0};
  CHECK_OK(manta_actor_invoke(&r, a, m, 1, manta_int(k)));
  return r;
}

static void test_actor_calls(void) {
  manta_actor a;
  REQUIRE_OK(manta_actor_create("Acc", NULL, 0, NULL, &a));
  manta_ref hold;
  REQUIRE_OK(manta_actor_call(a, "hold", NULL, 0, &hold));
  manta_ref c1 = acc_call(a, "add", 1);
  manta_ref c2 = acc_call(a, "add", 10);
  manta_ref c3 = acc_call(a, "add", 100);
  REQUIRE(mt_test_wait_until(is_holding, NULL, 30000));
  /* Not started (the actor is busy): it resolves now and never runs. */
  CHECK_OK(manta_cancel(c2));
  manta_value *v = mt_test_take(c2, 30000);
  mt_test_check_error(v, MANTA_ERR_CANCELLED, "cancelled before it ran");
  manta_value_free(v);
  /* The running call is asked to stop; the later calls run in order. */
  CHECK_OK(manta_cancel(hold));
  check_cancelled(hold);
  CHECK_INT_EQ(mt_test_take_int(c1), 1);
  CHECK_INT_EQ(mt_test_take_int(c3), 101); /* c2's 10 never added */
  /* Its id, seen from inside, is the same for every call and not that
   * of another actor. */
  manta_actor b;
  REQUIRE_OK(manta_actor_create("Acc", NULL, 0, NULL, &b));
  manta_value *ids[3];
  ids[0] = mt_test_actor_call_get(a, "whoami", NULL, 0, 30000);
  ids[1] = mt_test_actor_call_get(a, "whoami", NULL, 0, 30000);
  ids[2] = mt_test_actor_call_get(b, "whoami", NULL, 0, 30000);
  const char *s[3] = {"", "", ""};
  size_t len;
  for (int i = 0; i < 3; i++) {
    CHECK_OK(manta_get_string(ids[i], &s[i], &len));
  }
  CHECK(strncmp(s[0], "actor-", 6) == 0 && strlen(s[0]) == 6 + 32);
  CHECK(strcmp(s[0], s[1]) == 0);
  CHECK(strcmp(s[0], s[2]) != 0);
  for (int i = 0; i < 3; i++) {
    manta_value_free(ids[i]);
  }
  manta_actor_release(a);
  manta_actor_release(b);
}

/* ---- retries --------------------------------------------------------------
 */

static _Atomic int flaky_runs;

/* flaky(k): fails until its attempt k, then returns the attempt. */
static manta_value *fn_flaky(const manta_value *const *args, size_t n,
                             void *u) {
  (void)n, (void)u;
  int64_t k = 0;
  manta_get_int(args[0], &k);
  atomic_fetch_add(&flaky_runs, 1);
  int attempt = manta_current_attempt();
  if (attempt < k) {
    return manta_error(MANTA_ERR_TASK_FAILED, "not yet at attempt %d", attempt);
  }
  return manta_int(attempt);
}

static manta_value *flaky(int64_t k, int max_retries, int retry_exceptions) {
  manta_call_options *o;
  REQUIRE(manta_call_options_new(&o) == MANTA_OK);
  CHECK_OK(manta_call_options_set_max_retries(o, max_retries));
  CHECK_OK(manta_call_options_set_retry_exceptions(o, retry_exceptions));
  manta_value *arg = manta_int(k);
  atomic_store(&flaky_runs, 0);
  manta_value *v = mt_test_submit_get("flaky", &arg, 1, o, 30000);
  manta_call_options_free(o);
  return v;
}

static void test_retry_exceptions(void) {
  char node[17], part[64];
  REQUIRE_OK(manta_node_id(node, sizeof node));
  /* Fails twice, succeeds at its third attempt: exactly three runs. */
  manta_value *v = flaky(3, 3, 1);
  CHECK_INT_EQ(mt_test_int(v), 3);
  CHECK_INT_EQ(atomic_load(&flaky_runs), 3);
  manta_value_free(v);
  /* Never succeeds: 1 + max_retries runs, and the error says so. */
  v = flaky(100, 2, 1);
  snprintf(part, sizeof part,
           "not yet at attempt 3 (attempt 3 of 3 on node %s)", node);
  mt_test_check_error(v, MANTA_ERR_TASK_FAILED, part);
  CHECK_INT_EQ(atomic_load(&flaky_runs), 3);
  manta_value_free(v);
  /* retry_exceptions is opt-in: by default an error is final. */
  v = flaky(2, 3, 0);
  mt_test_check_error(v, MANTA_ERR_TASK_FAILED, "not yet at attempt 1");
  CHECK(v && !strstr(manta_error_message(v), "(attempt"));
  CHECK_INT_EQ(atomic_load(&flaky_runs), 1);
  manta_value_free(v);
  /* max_retries 0: one run, even with retry_exceptions. */
  v = flaky(2, 0, 1);
  mt_test_check_error(v, MANTA_ERR_TASK_FAILED, "(attempt 1 of 1 on node");
  CHECK_INT_EQ(atomic_load(&flaky_runs), 1);
  manta_value_free(v);
}

/* ---- context --------------------------------------------------------------
 */

/* [task id, attempt, node id, cancelled] as the task sees them. */
static manta_value *fn_context(const manta_value *const *args, size_t n,
                               void *u) {
  (void)args, (void)n, (void)u;
  char id[64] = "", node[17] = "", actor[64];
  manta_value *l = manta_list();
  manta_current_task_id(id, sizeof id);
  manta_node_id(node, sizeof node);
  manta_list_push(l, manta_cstring(id));
  manta_list_push(l, manta_int(manta_current_attempt()));
  manta_list_push(l, manta_cstring(node));
  manta_list_push(l, manta_int(manta_cancelled()));
  manta_list_push(l, manta_int(manta_current_actor_id(actor, sizeof actor)));
  return l;
}

static void test_context(void) {
  manta_ref r;
  REQUIRE_OK(manta_submit("context", NULL, 0, NULL, &r));
  char want[64], node[17];
  REQUIRE_OK(manta_ref_string(r, want, sizeof want));
  REQUIRE_OK(manta_node_id(node, sizeof node));
  manta_value *v = mt_test_take(r, 30000);
  const manta_value *item;
  const char *s = "";
  size_t len;
  REQUIRE(v && manta_value_kind(v) == MANTA_KIND_LIST);
  CHECK_OK(manta_list_at(v, 0, &item));
  CHECK_OK(manta_get_string(item, &s, &len));
  CHECK(strcmp(s, want) == 0); /* the id of its ref */
  CHECK_OK(manta_list_at(v, 1, &item));
  CHECK_INT_EQ(mt_test_int(item), 1);
  CHECK_OK(manta_list_at(v, 2, &item));
  CHECK_OK(manta_get_string(item, &s, &len));
  CHECK(strcmp(s, node) == 0);
  CHECK_OK(manta_list_at(v, 3, &item));
  CHECK_INT_EQ(mt_test_int(item), 0);
  CHECK_OK(manta_list_at(v, 4, &item));
  CHECK_INT_EQ(mt_test_int(item), MANTA_ERR_NOT_FOUND); /* not an actor */
  manta_value_free(v);
  /* Outside a task: nothing. */
  char buf[64];
  CHECK_ERR(manta_current_task_id(buf, sizeof buf), MANTA_ERR_NOT_FOUND);
  CHECK_ERR(manta_current_actor_id(buf, sizeof buf), MANTA_ERR_NOT_FOUND);
  CHECK_ERR(manta_current_task_id(buf, 8), MANTA_ERR_INVALID);
  CHECK(manta_current_attempt() == 0);
}

static void test_bad_input(void) {
  manta_ref r;
  manta_value *one = manta_int(1);
  REQUIRE_OK(manta_put(one, &r));
  manta_value_free(one);
  CHECK_ERR(manta_cancel_with(r, 4), MANTA_ERR_INVALID);
  CHECK_ERR(manta_cancel(r), MANTA_ERR_INVALID); /* a put object */
  manta_ref_release(r);
  CHECK_ERR(manta_cancel((manta_ref){12345}), MANTA_ERR_BAD_HANDLE);
  manta_call_options *o;
  REQUIRE_OK(manta_call_options_new(&o));
  CHECK_ERR(manta_call_options_set_max_retries(o, -2), MANTA_ERR_INVALID);
  CHECK_ERR(manta_call_options_set_max_retries(NULL, 1), MANTA_ERR_INVALID);
  CHECK_ERR(manta_call_options_set_retry_exceptions(NULL, 1),
            MANTA_ERR_INVALID);
  CHECK_OK(manta_call_options_set_max_retries(o, -1));
  manta_call_options_free(o);
}

/* A call of an actor whose creation was cancelled: ACTOR_DEAD, saying
 * so, with a CANCELLED among its causes. */
static void check_not_created(manta_ref r) {
  manta_value *v = mt_test_take(r, 30000);
  mt_test_check_error(v, MANTA_ERR_ACTOR_DEAD,
                      "was not created: its creation was cancelled before "
                      "its constructor ran");
  const manta_value *cause = v ? manta_error_cause(v) : NULL;
  while (cause && manta_error_code(cause) != MANTA_ERR_CANCELLED) {
    cause = manta_error_cause(cause);
  }
  CHECK(cause != NULL);
  manta_value_free(v);
}

/* manta_actor_cancel: a creation waiting for its argument (a named actor,
 * whose name is then free) and one waiting for CPU slots are cancelled,
 * their constructors never run; a created actor's is refused. */
static void test_cancel_actor_creation(void) {
  reset();
  int before = atomic_load(&acc_made);
  manta_ref dep = submit_chain(0); /* runs until cancelled: holds a slot */
  int one = 1;
  REQUIRE(mt_test_wait_until(all_started, &one, 30000));
  manta_call_options *o;
  REQUIRE_OK(manta_call_options_new(&o));
  REQUIRE_OK(manta_call_options_set_name(o, "pending-acc"));
  manta_value *arg = manta_ref_value(dep);
  manta_actor waits_arg, waits_slots;
  REQUIRE_OK(manta_actor_newv(&waits_arg, "Acc", &arg, 1, o));
  manta_call_options_free(o);
  REQUIRE_OK(manta_call_options_new(&o));
  REQUIRE_OK(manta_call_options_set_num_cpus(o, 4)); /* 3 of 4 are free */
  REQUIRE_OK(manta_actor_create("Acc", NULL, 0, o, &waits_slots));
  manta_call_options_free(o);
  manta_ref c1 = acc_call(waits_arg, "add", 1);
  manta_ref c2 = acc_call(waits_slots, "add", 1);
  CHECK_OK(manta_actor_cancel(waits_arg));
  CHECK_OK(manta_actor_cancel(waits_slots));
  check_not_created(c1);
  check_not_created(c2);
  /* Dead now: nothing to cancel; later calls fail the same way. */
  CHECK_ERR(manta_actor_cancel(waits_arg), MANTA_ERR_INVALID);
  check_not_created(acc_call(waits_slots, "add", 2));
  manta_actor found;
  CHECK_ERR(manta_actor_lookup("pending-acc", &found), MANTA_ERR_NOT_FOUND);
  CHECK_OK(manta_cancel(dep));
  check_cancelled(dep);
  CHECK_INT_EQ(atomic_load(&acc_made), before);
  manta_actor_release(waits_arg);
  manta_actor_release(waits_slots);
  /* Created: refused (manta_actor_kill ends it); bad handles. */
  manta_actor a;
  REQUIRE_OK(manta_actor_create("Acc", NULL, 0, NULL, &a));
  CHECK_INT_EQ(mt_test_take_int(acc_call(a, "add", 3)), 3);
  CHECK_ERR(manta_actor_cancel(a), MANTA_ERR_INVALID);
  manta_actor_release(a);
  CHECK_ERR(manta_actor_cancel((manta_actor){12345}), MANTA_ERR_BAD_HANDLE);
}

int main(void) {
  manta_options *opts;
  REQUIRE_OK(manta_options_new(&opts));
  REQUIRE_OK(manta_options_set_num_cpus(opts, 4));
  REQUIRE_OK(manta_init(opts));
  manta_options_free(opts);
  REQUIRE_OK(manta_register_function("chain", fn_chain, 1, NULL));
  REQUIRE_OK(manta_register_function("handled", fn_handled, 0, NULL));
  REQUIRE_OK(manta_register_function("blocked", fn_blocked, 1, NULL));
  REQUIRE_OK(manta_register_function("flaky", fn_flaky, 1, NULL));
  REQUIRE_OK(manta_register_function("context", fn_context, 0, NULL));
  REQUIRE_OK(manta_register_class("Acc", acc_new, acc_free, NULL));
  REQUIRE_OK(manta_register_method("Acc", "add", acc_add, 1, NULL));
  REQUIRE_OK(manta_register_method("Acc", "hold", acc_hold, 0, NULL));
  REQUIRE_OK(manta_register_method("Acc", "whoami", acc_whoami, 0, NULL));
  RUN_TEST(test_loop_until_cancelled);
  RUN_TEST(test_recursive_reaches_grandchild);
  RUN_TEST(test_plain_cancel_leaves_children);
  RUN_TEST(test_cancel_handler);
  RUN_TEST(test_get_in_cancelled_task);
  RUN_TEST(test_actor_calls);
  RUN_TEST(test_cancel_actor_creation);
  RUN_TEST(test_retry_exceptions);
  RUN_TEST(test_context);
  RUN_TEST(test_bad_input);
  CHECK_OK(manta_shutdown());
  return mt_test_done();
}
