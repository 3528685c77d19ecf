/* The core against a fake cluster behind its seam (fake_cluster.c), in one
 * process: calls this node cannot run are handed to the seam once their
 * arguments are ready and resolve with what comes back; actors this node
 * cannot host become proxies placed by the seam; refs leaving the node are
 * captured and refs of other nodes become proxies fetched on demand; named
 * actors are looked up through the seam; what the seam reports as failed
 * (no node, a dead node) reaches the caller as an error value. */
#include "fake_cluster.h"
#include "test_util.h"

#include <stdlib.h>
#include <string.h>

static manta_value *fn_add1(const manta_value *const *args, size_t n, void *u) {
  (void)n, (void)u;
  return manta_int(mt_test_int(args[0]) + 1);
}

static void *local_new(const manta_value *const *args, size_t n, void *cd,
                       manta_value **error) {
  (void)args, (void)n, (void)cd, (void)error;
  return NULL;
}

/* What the fake was asked so far, read under rt.mu. */
static fake_cluster seen(void) {
  mt_lock();
  fake_cluster c = fake;
  mt_unlock();
  return c;
}

static void start(void) {
  fake_cluster_install();
  REQUIRE_OK(fake_cluster_init());
}

/* Everything the test made is gone once the runtime is. */
static void stop(void) {
  fake_cluster_shutdown();
  int64_t live = -1;
  CHECK_OK(manta_stat_get(MANTA_STAT_LIVE_VALUES, &live));
  CHECK_INT_EQ(live, 0);
}

static manta_value *get(manta_ref r, int64_t timeout_ms) {
  manta_value *v = NULL;
  manta_get(r, timeout_ms, &v);
  return v;
}

static void test_unknown_function_goes_to_the_seam(void) {
  start();
  fake.route_to = 7;
  REQUIRE_OK(manta_register_function("add1", fn_add1, 1, NULL));
  manta_value *a = manta_int(41);
  manta_ref r;
  REQUIRE_OK(
      manta_submit("far_fn", (const manta_value *const *)&a, 1, NULL, &r));
  fake_cluster c = seen();
  CHECK_INT_EQ(c.routes, 1);
  CHECK(!c.last_local_ok);
  CHECK(strcmp(c.last_name, "far_fn") == 0);
  CHECK_INT_EQ(c.dispatches, 1);
  REQUIRE(c.nsent == 1);
  mt_lock();
  mt_task *t = fake.sent[0];
  CHECK(strcmp(t->remote->function, "far_fn") == 0);
  CHECK_INT_EQ(t->remote->target, 7);
  CHECK_INT_EQ(t->where, MT_WHERE_REMOTE);
  CHECK_INT_EQ(t->nargs, 1);
  CHECK_INT_EQ(mt_test_int(t->args[0]), 41);
  mt_unlock();
  /* Pending until the node answers, then its answer. */
  manta_value *v = get(r, 0);
  mt_test_check_error(v, MANTA_ERR_TIMEOUT, "");
  manta_value_free(v);
  fake_answer(0, manta_int(42));
  CHECK_INT_EQ(mt_test_take_int(r), 42);
  /* A function this node has runs here: the seam is asked, says stay. */
  REQUIRE_OK(manta_submit("add1", (const manta_value *const *)&a, 1, NULL, &r));
  CHECK_INT_EQ(mt_test_take_int(r), 42);
  c = seen();
  CHECK(c.last_local_ok);
  CHECK_INT_EQ(c.dispatches, 1);
  manta_value_free(a);
  stop();
}

static void test_remote_task_waits_for_its_arguments(void) {
  start();
  fake.route_to = 7;
  manta_value *one = manta_int(1);
  manta_ref r1, r2;
  REQUIRE_OK(
      manta_submit("far_fn", (const manta_value *const *)&one, 1, NULL, &r1));
  manta_value *dep = manta_ref_value(r1);
  REQUIRE_OK(
      manta_submit("far_fn", (const manta_value *const *)&dep, 1, NULL, &r2));
  /* The second waits here for the first's result... */
  CHECK_INT_EQ(seen().dispatches, 1);
  fake_answer(0, manta_int(5));
  /* ...and leaves with the value in place of the ref. */
  fake_cluster c = seen();
  CHECK_INT_EQ(c.dispatches, 2);
  REQUIRE(c.nsent == 1);
  mt_lock();
  CHECK_INT_EQ(manta_value_kind(fake.sent[0]->args[0]), MANTA_KIND_INT);
  CHECK_INT_EQ(mt_test_int(fake.sent[0]->args[0]), 5);
  mt_unlock();
  fake_answer(0, manta_int(6));
  CHECK_INT_EQ(mt_test_take_int(r2), 6);
  CHECK_INT_EQ(mt_test_take_int(r1), 5);
  manta_value_free(dep);
  manta_value_free(one);
  stop();
}

static void test_seam_failures_are_error_values(void) {
  start();
  /* No node offers it: the seam's reason is the result. */
  manta_ref r;
  REQUIRE_OK(manta_submit("far_fn", NULL, 0, NULL, &r));
  CHECK_INT_EQ(seen().dispatches, 0);
  manta_value *v = get(r, 10000);
  mt_test_check_error(v, MANTA_ERR_NOT_FOUND,
                      "no node in the cluster offers a function named "
                      "'far_fn'");
  manta_value_free(v);
  manta_ref_release(r);
  /* The node it went to died. */
  fake.route_to = 7;
  REQUIRE_OK(manta_submit("far_fn", NULL, 0, NULL, &r));
  fake_node_died(0);
  v = get(r, 10000);
  mt_test_check_error(v, MANTA_ERR_NODE_DIED, "died");
  manta_value_free(v);
  manta_ref_release(r);
  /* Sent away, it runs elsewhere: it cannot be taken back. */
  REQUIRE_OK(manta_submit("far_fn", NULL, 0, NULL, &r));
  CHECK_ERR(manta_cancel(r), MANTA_ERR_INVALID);
  CHECK_INT_EQ(seen().nsent, 1);
  fake_answer(0, manta_int(1));
  CHECK_INT_EQ(mt_test_take_int(r), 1);
  /* Shutdown with a task away: the seam fails it, nothing is left. */
  REQUIRE_OK(manta_submit("far_fn", NULL, 0, NULL, &r));
  stop();
}

static void test_actor_placed_through_the_seam(void) {
  start();
  fake.place_on = 9;
  manta_actor a;
  REQUIRE_OK(manta_actor_create("Far", NULL, 0, NULL, &a));
  fake_cluster c = seen();
  CHECK_INT_EQ(c.places, 1);
  CHECK(!c.last_local_ok);
  CHECK(strcmp(c.last_name, "Far") == 0);
  CHECK_INT_EQ(c.actor_dispatches, 1);
  REQUIRE(c.nsent == 1);
  mt_lock();
  mt_task *t = fake.sent[0];
  CHECK_INT_EQ(t->kind, MT_TASK_ACTOR_CREATE);
  REQUIRE(t->actor->remote != NULL);
  CHECK_INT_EQ(t->actor->remote->host, 9);
  CHECK_INT_EQ(mt_actor_id(t->actor), a.id);
  mt_unlock();
  /* Calls made meanwhile wait in the proxy's mailbox, handed to the seam
   * (in order) once the host answered the creation. */
  manta_ref r1, r2;
  REQUIRE_OK(manta_actor_call(a, "first", NULL, 0, &r1));
  REQUIRE_OK(manta_actor_call(a, "second", NULL, 0, &r2));
  c = seen();
  CHECK_INT_EQ(c.actor_dispatches, 3);
  CHECK_INT_EQ(c.nsent, 1);
  fake_created(0, 1234);
  mt_lock();
  mt_actor *p = mt_actor_lookup_locked(a.id);
  CHECK(p && p->remote && p->remote->id == 1234);
  REQUIRE(fake.nsent == 2);
  CHECK(strcmp(fake.sent[0]->remote->function, "first") == 0);
  CHECK(strcmp(fake.sent[1]->remote->function, "second") == 0);
  mt_unlock();
  fake_answer(0, manta_int(11));
  CHECK_INT_EQ(mt_test_take_int(r1), 11);
  /* Kill: the seam tells the host; a call after it fails here. */
  CHECK_OK(manta_actor_kill(a));
  CHECK_INT_EQ(seen().kills, 1);
  manta_ref r3;
  REQUIRE_OK(manta_actor_call(a, "third", NULL, 0, &r3));
  manta_value *v = get(r3, 10000);
  mt_test_check_error(v, MANTA_ERR_ACTOR_DEAD, "");
  manta_value_free(v);
  manta_ref_release(r3);
  /* The call in flight comes back with the host's answer. */
  fake_answer(0, manta_int(12));
  CHECK_INT_EQ(mt_test_take_int(r2), 12);
  /* The last handle gone: the seam forgets the proxy. */
  CHECK_OK(manta_actor_release(a));
  CHECK_INT_EQ(seen().proxy_frees, 1);
  stop();
}

static void test_actor_placement_failures(void) {
  start();
  /* A class this node has stays here without asking the seam. */
  REQUIRE_OK(manta_register_class("Local", local_new, NULL, NULL));
  manta_actor a;
  REQUIRE_OK(manta_actor_create("Local", NULL, 0, NULL, &a));
  CHECK_INT_EQ(seen().places, 0);
  CHECK_OK(manta_actor_release(a));
  /* No node can host it: dead from the start, the seam's reason as the
   * cause of every call's error. */
  REQUIRE_OK(manta_actor_create("Far", NULL, 0, NULL, &a));
  CHECK_INT_EQ(seen().places, 1);
  CHECK_INT_EQ(seen().actor_dispatches, 0);
  manta_ref r;
  REQUIRE_OK(manta_actor_call(a, "m", NULL, 0, &r));
  manta_value *v = get(r, 10000);
  mt_test_check_error(v, MANTA_ERR_ACTOR_DEAD, "class 'Far'");
  const manta_value *cause = manta_error_cause(v);
  CHECK(cause && manta_error_code(cause) == MANTA_ERR_INFEASIBLE);
  manta_value_free(v);
  manta_ref_release(r);
  CHECK_OK(manta_actor_release(a));
  /* The host died before answering the creation: the actor is dead. */
  fake.place_on = 9;
  REQUIRE_OK(manta_actor_create("Far", NULL, 0, NULL, &a));
  REQUIRE_OK(manta_actor_call(a, "m", NULL, 0, &r));
  fake_node_died(0);
  v = get(r, 10000);
  mt_test_check_error(v, MANTA_ERR_ACTOR_DEAD, "died");
  manta_value_free(v);
  manta_ref_release(r);
  CHECK_OK(manta_actor_release(a));
  stop();
}

static void test_named_actors_through_the_seam(void) {
  start();
  fake.lookup_host = 5;
  fake.lookup_id = 77;
  snprintf(fake.lookup_name, sizeof fake.lookup_name, "far_counter");
  /* Not here: the seam is asked, without rt.mu, and gives a proxy. */
  manta_actor a;
  REQUIRE_OK(manta_actor_lookup("far_counter", &a));
  fake_cluster c = seen();
  CHECK_INT_EQ(c.lookups, 1);
  CHECK(c.lookup_unlocked);
  mt_lock();
  mt_actor *p = mt_actor_lookup_locked(a.id);
  CHECK(p && p->remote && p->remote->host == 5 && p->remote->id == 77);
  mt_unlock();
  CHECK_OK(manta_actor_release(a));
  CHECK_ERR(manta_actor_lookup("nobody", &a), MANTA_ERR_NOT_FOUND);
  CHECK_INT_EQ(seen().lookups, 2);
  /* A named actor made here: its name is reserved and announced through
   * the seam, found here without asking, dropped when it dies. */
  REQUIRE_OK(manta_register_class("Local", local_new, NULL, NULL));
  manta_call_options *o;
  REQUIRE_OK(manta_call_options_new(&o));
  REQUIRE_OK(manta_call_options_set_name(o, "here"));
  REQUIRE_OK(manta_actor_create("Local", NULL, 0, o, &a));
  manta_call_options_free(o);
  c = seen();
  CHECK_INT_EQ(c.reserves, 1);
  CHECK_INT_EQ(c.names_added, 1);
  manta_actor b;
  REQUIRE_OK(manta_actor_lookup("here", &b));
  CHECK_INT_EQ(b.id, a.id);
  CHECK_INT_EQ(seen().lookups, 2);
  CHECK_OK(manta_actor_kill(a));
  CHECK_INT_EQ(seen().names_dropped, 1);
  CHECK_OK(manta_actor_release(b));
  CHECK_OK(manta_actor_release(a));
  stop();
}

/* Replaces the 16-byte wire id `from` by `to` in an encoding. */
static bool swap_wire_id(uint8_t *buf, size_t len, const uint8_t from[16],
                         const uint8_t to[16]) {
  for (size_t i = 0; i + 16 <= len; i++) {
    if (memcmp(buf + i, from, 16) == 0) {
      memcpy(buf + i, to, 16);
      return true;
    }
  }
  return false;
}

static void test_refs_leaving_and_arriving(void) {
  start();
  manta_value *three = manta_int(3);
  manta_ref r;
  REQUIRE_OK(manta_put(three, &r));
  manta_value_free(three);
  manta_value *rv = manta_ref_value(r);
  /* Leaving: the refs an encoding names are captured for the cluster to
   * count as borrowed. */
  mt_id_list cap;
  memset(&cap, 0, sizeof cap);
  mt_ref_capture = &cap;
  void *buf = NULL;
  size_t len = 0;
  REQUIRE_OK(manta_value_encode(rv, &buf, &len));
  mt_ref_capture = NULL;
  CHECK_INT_EQ(cap.len, 1);
  CHECK(cap.len == 1 && cap.ids[0] == r.id);
  free(cap.ids);
  /* Arriving: a ref of node 5 becomes a proxy made by the seam. */
  uint8_t here[16], there[16];
  mt_obj_to_wire(r.id, here);
  mt_wire_id_join(5, 99, there);
  REQUIRE(swap_wire_id(buf, len, here, there));
  manta_value *in = NULL;
  REQUIRE_OK(manta_value_decode(buf, len, &in));
  manta_free(buf);
  fake_cluster c = seen();
  CHECK_INT_EQ(c.from_wire, 1);
  CHECK_INT_EQ(c.last_node, 5);
  CHECK_INT_EQ(c.last_id, 99);
  manta_ref pr;
  REQUIRE_OK(manta_get_ref(in, &pr));
  /* Passed on, it is named by where it lives. */
  uint8_t again[16];
  mt_obj_to_wire(pr.id, again);
  CHECK(memcmp(again, there, 16) == 0);
  /* Waited for: the seam is asked to fetch it, and what arrives is got. */
  manta_value *v = get(pr, 10);
  mt_test_check_error(v, MANTA_ERR_TIMEOUT, "");
  manta_value_free(v);
  CHECK_INT_EQ(seen().fetches, 1);
  fake_fetched(pr.id, manta_int(8));
  v = get(pr, 10000);
  CHECK_INT_EQ(mt_test_int(v), 8);
  manta_value_free(v);
  /* Its last count gone: the seam hears, to tell the owner. */
  manta_value_free(in);
  CHECK_INT_EQ(seen().freed, 1);
  manta_value_free(rv);
  manta_ref_release(r);
  stop();
}

int main(void) {
  RUN_TEST(test_unknown_function_goes_to_the_seam);
  RUN_TEST(test_remote_task_waits_for_its_arguments);
  RUN_TEST(test_seam_failures_are_error_values);
  RUN_TEST(test_actor_placed_through_the_seam);
  RUN_TEST(test_actor_placement_failures);
  RUN_TEST(test_named_actors_through_the_seam);
  RUN_TEST(test_refs_leaving_and_arriving);
  return mt_test_done();
}
