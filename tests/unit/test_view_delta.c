/* Heartbeat deltas (docs/protocol.md, "Heartbeat deltas"): the head's
 * directory answers a node holding a view with only what changed since,
 * and a node's table (runtime/cluster/view_table.c) that applies those
 * deltas holds what the whole table says: a node joining late, a node's
 * load changing, a node leaving and a node dying are all seen. A node that
 * sends no version, one from another head run, or one too old for the
 * departures kept, gets the whole table. */
#include "cluster.h"
#include "test_util.h"

#include <string.h>
#include <time.h>

#define HEAD 0x1000
#define A 0x2000
#define B 0x3000
#define C 0x4000

static Manta__V1__NodeInfo info_of(uint64_t id, char *address) {
  Manta__V1__NodeInfo info = MANTA__V1__NODE_INFO__INIT;
  info.node_id = id;
  snprintf(address, 32, "127.0.0.1:%u", (unsigned)(id >> 8));
  info.address = address;
  return info;
}

/* A heartbeat of node id with `finished` tasks done, from table t (NULL:
 * a node that sends no version); applied to t when given. */
static Manta__V1__HeartbeatReply *beat(mt_directory *d, uint64_t id,
                                       int64_t finished, mt_view_table *t) {
  Manta__V1__NodeLoad load = MANTA__V1__NODE_LOAD__INIT;
  load.tasks_finished = finished;
  Manta__V1__HeartbeatRequest req = MANTA__V1__HEARTBEAT_REQUEST__INIT;
  req.node_id = id;
  req.load = &load;
  if (t) {
    req.known_view = t->view;
    req.known_epoch = t->epoch;
  }
  Manta__V1__HeartbeatReply *r = mt_directory_heartbeat(d, &req);
  REQUIRE(r && r->known);
  if (t) {
    mt_view_table_apply(t, r);
  }
  return r;
}

static void done(Manta__V1__HeartbeatReply *r) {
  protobuf_c_message_free_unpacked(&r->base, NULL);
}

static const Manta__V1__NodeStatus *entry(const mt_view_table *t, uint64_t id) {
  for (size_t i = 0; i < t->n; i++) {
    if (t->nodes[i]->info->node_id == id) {
      return t->nodes[i];
    }
  }
  return NULL;
}

/* t holds what a full reply says, node for node: ids, states, loads. */
static void check_matches_full(mt_directory *d, const mt_view_table *t) {
  Manta__V1__HeartbeatReply *full = beat(d, HEAD, 0, NULL);
  CHECK(!full->delta);
  CHECK_INT_EQ((int64_t)t->n, (int64_t)full->n_nodes);
  for (size_t i = 0; i < full->n_nodes; i++) {
    const Manta__V1__NodeStatus *want = full->nodes[i];
    const Manta__V1__NodeStatus *got = entry(t, want->info->node_id);
    CHECK(got != NULL);
    if (got) {
      CHECK_INT_EQ(got->state, want->state);
      CHECK_INT_EQ(got->load ? got->load->tasks_finished : -1,
                   want->load ? want->load->tasks_finished : -1);
    }
  }
  done(full);
}

static bool lists(const Manta__V1__HeartbeatReply *r, uint64_t id) {
  for (size_t i = 0; i < r->n_nodes; i++) {
    if (r->nodes[i]->info->node_id == id) {
      return true;
    }
  }
  return false;
}

static void deltas_carry_only_changes(void) {
  char ah[32], aa[32], ab[32], ac[32];
  mt_directory *d = mt_directory_new(HEAD, 300, 60000);
  REQUIRE(d);
  Manta__V1__NodeInfo head = info_of(HEAD, ah), a = info_of(A, aa),
                      b = info_of(B, ab), c = info_of(C, ac);
  mt_directory_register_self(d, &head);
  REQUIRE(mt_directory_register(d, &a));
  REQUIRE(mt_directory_register(d, &b));
  done(beat(d, HEAD, 0, NULL));
  done(beat(d, B, 0, NULL));

  /* No version yet: the whole table. */
  mt_view_table t = {0};
  Manta__V1__HeartbeatReply *r = beat(d, A, 0, &t);
  CHECK(!r->delta);
  CHECK(r->epoch != 0);
  CHECK_INT_EQ((int64_t)r->n_nodes, 3);
  done(r);

  /* Nothing changed (every node reports the same load): nothing sent. */
  done(beat(d, HEAD, 0, NULL));
  done(beat(d, B, 0, NULL));
  r = beat(d, A, 0, &t);
  CHECK(r->delta);
  CHECK_INT_EQ((int64_t)r->n_nodes, 0);
  CHECK_INT_EQ((int64_t)r->n_gone, 0);
  done(r);

  /* B's load changes: B alone. */
  done(beat(d, B, 5, NULL));
  r = beat(d, A, 0, &t);
  CHECK(r->delta);
  CHECK_INT_EQ((int64_t)r->n_nodes, 1);
  CHECK(lists(r, B));
  done(r);
  CHECK_INT_EQ(entry(&t, B)->load->tasks_finished, 5);

  /* C joins late: seen by A. */
  REQUIRE(mt_directory_register(d, &c));
  r = beat(d, A, 0, &t);
  CHECK(r->delta && r->n_nodes == 1 && lists(r, C));
  done(r);
  CHECK(entry(&t, C) != NULL);

  /* B leaves: named in gone, dropped from A's table. */
  mt_directory_unregister(d, B);
  r = beat(d, A, 0, &t);
  CHECK(r->delta);
  CHECK_INT_EQ((int64_t)r->n_gone, 1);
  CHECK(r->n_gone == 1 && r->gone[0] == B);
  done(r);
  CHECK(entry(&t, B) == NULL);
  check_matches_full(d, &t);

  /* Another head run (another epoch), or a version from the future: the
   * whole table, which replaces the one held. */
  mt_view_table other = t;
  other.epoch ^= 1;
  Manta__V1__HeartbeatRequest req = MANTA__V1__HEARTBEAT_REQUEST__INIT;
  req.node_id = A;
  req.known_view = other.view;
  req.known_epoch = other.epoch;
  r = mt_directory_heartbeat(d, &req);
  REQUIRE(r);
  CHECK(!r->delta && r->n_nodes == 3);
  done(r);
  req.known_epoch = t.epoch;
  req.known_view = t.view + 1000;
  r = mt_directory_heartbeat(d, &req);
  REQUIRE(r);
  CHECK(!r->delta && r->n_nodes == 3);
  done(r);

  mt_view_table_free(&t);
  mt_directory_free(d);
}

/* A node that stops heartbeating is declared dead; a node holding a view
 * from before hears of it in a delta. */
static void death_is_a_change(void) {
  char ah[32], aa[32], ac[32];
  mt_directory *d = mt_directory_new(HEAD, 10, 50);
  REQUIRE(d);
  Manta__V1__NodeInfo head = info_of(HEAD, ah), a = info_of(A, aa),
                      c = info_of(C, ac);
  mt_directory_register_self(d, &head);
  REQUIRE(mt_directory_register(d, &a));
  REQUIRE(mt_directory_register(d, &c));
  mt_view_table t = {0};
  done(beat(d, A, 0, &t));
  CHECK_INT_EQ(entry(&t, C)->state, MANTA__V1__NODE_STATE__NODE_STATE_ALIVE);
  /* A keeps beating, C does not: bounded wait for the head to notice. A
   * test paused for longer than dead_after (a loaded machine) finds A
   * declared dead too; A registers again, as a node does. */
  bool dead = false;
  for (int i = 0; i < 500 && !dead; i++) {
    nanosleep(&(struct timespec){0, 10 * 1000 * 1000}, NULL);
    Manta__V1__HeartbeatRequest req = MANTA__V1__HEARTBEAT_REQUEST__INIT;
    req.node_id = A;
    req.known_view = t.view;
    req.known_epoch = t.epoch;
    Manta__V1__HeartbeatReply *r = mt_directory_heartbeat(d, &req);
    REQUIRE(r);
    if (r->known) {
      CHECK(r->delta);
      mt_view_table_apply(&t, r);
    } else {
      REQUIRE(mt_directory_register(d, &a));
    }
    done(r);
    dead = entry(&t, C)->state == MANTA__V1__NODE_STATE__NODE_STATE_DEAD;
  }
  done(beat(d, A, 0, &t));
  CHECK(dead);
  CHECK_INT_EQ(entry(&t, A)->state, MANTA__V1__NODE_STATE__NODE_STATE_ALIVE);
  mt_view_table_free(&t);
  mt_directory_free(d);
}

/* The departures kept are bounded: a view older than the oldest one kept
 * gets the whole table. */
static void too_far_behind_gets_everything(void) {
  mt_view_log log;
  mt_view_log_init(&log);
  CHECK(log.epoch != 0);
  CHECK(!mt_view_log_can_delta(&log, log.epoch, 0, 5)); /* no version */
  CHECK(mt_view_log_can_delta(&log, log.epoch, 3, 5));
  CHECK(mt_view_log_can_delta(&log, log.epoch, 5, 5));
  CHECK(!mt_view_log_can_delta(&log, log.epoch, 6, 5));
  CHECK(!mt_view_log_can_delta(&log, log.epoch + 2, 3, 5));
  for (uint64_t v = 10; v < 10 + MT_VIEW_GONE_KEPT + 5; v++) {
    mt_view_log_gone(&log, 0x100 + v, v);
  }
  /* Views 10..14 left the log: a node at view 12 cannot be told. */
  CHECK(!mt_view_log_can_delta(&log, log.epoch, 12, 100));
  CHECK(mt_view_log_can_delta(&log, log.epoch, 14, 100));
  uint64_t out[MT_VIEW_GONE_KEPT];
  size_t n = mt_view_log_gone_since(&log, 70, out);
  CHECK_INT_EQ((int64_t)n, (int64_t)(10 + MT_VIEW_GONE_KEPT + 5 - 71));
  CHECK(n > 0 && out[0] == 0x100 + 71);
}

int main(void) {
  RUN_TEST(deltas_carry_only_changes);
  RUN_TEST(death_is_a_change);
  RUN_TEST(too_far_behind_gets_everything);
  return mt_test_done();
}
