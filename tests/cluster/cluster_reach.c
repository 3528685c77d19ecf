/* The driver of run-reach-test.sh: hard node affinity between nodes that
 * just met. Node a joined first, node b a moment ago; as soon as the head
 * lists b alive, a task on a calls b by hard affinity (reach_module.c),
 * one on b calls a, and this driver calls each (docs/scheduling.md, "A
 * node that just joined"); then the same with actors created by hard
 * affinity (a task on a creates actors on b first); an id no node has
 * still fails, after the wait, for a task and for an actor.
 *
 *   cluster_reach ADDRESS_A ADDRESS_B [ROUND]
 * MANTA_ADDRESS names the head. */
#include "test_util.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

enum { CALLS = 20 };

static const char *field(const manta_value *node, const char *key) {
  const manta_value *v;
  const char *s = "";
  size_t len;
  if (manta_map_find(node, key, &v) != MANTA_OK ||
      manta_get_string(v, &s, &len) != MANTA_OK) {
    return "";
  }
  return s;
}

static bool offers_reach(const manta_value *node) {
  const manta_value *fs, *f;
  size_t n = 0, len;
  const char *s;
  if (manta_map_find(node, "functions", &fs) != MANTA_OK) {
    return false;
  }
  manta_len(fs, &n);
  for (size_t j = 0; j < n; j++) {
    manta_list_at(fs, j, &f);
    if (manta_get_string(f, &s, &len) == MANTA_OK && strcmp(s, "reach") == 0) {
      return true;
    }
  }
  return false;
}

/* The ids of the nodes at addresses a and b, once the head lists both
 * alive and offering reach (20 s at most, polled every 10 ms). */
static void wait_listed(const char *a, const char *b, char ids[2][17]) {
  const char *addr[2] = {a, b};
  for (int tries = 0; tries < 2000; tries++) {
    manta_value *st = NULL;
    const manta_value *nodes, *node;
    size_t n = 0;
    int found = 0;
    ids[0][0] = ids[1][0] = 0;
    if (manta_cluster_status(getenv("MANTA_ADDRESS"), NULL, 5000, &st) ==
            MANTA_OK &&
        manta_map_find(st, "nodes", &nodes) == MANTA_OK) {
      manta_len(nodes, &n);
      for (size_t i = 0; i < n; i++) {
        manta_list_at(nodes, i, &node);
        for (int k = 0; k < 2; k++) {
          if (strcmp(field(node, "address"), addr[k]) == 0 &&
              strcmp(field(node, "state"), "alive") == 0 &&
              offers_reach(node)) {
            snprintf(ids[k], 17, "%s", field(node, "node_id"));
            found++;
          }
        }
      }
    }
    manta_value_free(st);
    if (found == 2) {
      return;
    }
    nanosleep(&(struct timespec){0, 10000000L}, NULL);
  }
  fprintf(stderr, "the head did not list %s and %s alive\n", a, b);
  REQUIRE(false);
}

static manta_call_options *on_node(const char *id) {
  manta_call_options *o;
  REQUIRE_OK(manta_call_options_new(&o));
  REQUIRE_OK(manta_call_options_set_node_affinity(o, id, 0));
  return o;
}

/* fn(to, CALLS) (reach or reach_actor) run on node `from`: every call
 * ran, every actor lived, on `to`. */
static void check_reach(const char *fn, const char *from, const char *to) {
  manta_value *args[2] = {manta_cstring(to), manta_int(CALLS)};
  manta_call_options *o = on_node(from);
  manta_ref r;
  REQUIRE_OK(manta_submit(fn, (const manta_value *const *)args, 2, o, &r));
  manta_call_options_free(o);
  manta_value_free(args[0]);
  manta_value_free(args[1]);
  manta_value *v = NULL;
  manta_err err = manta_get(r, 60000, &v);
  int64_t got = -1;
  if (err != MANTA_OK || manta_get_int(v, &got) != MANTA_OK || got != CALLS) {
    char *why = v ? manta_value_repr(v) : NULL;
    fprintf(stderr, "%s from %s to %s: %s (%s)\n", fn, from, to,
            why ? why : "no value", manta_errname(err));
    manta_free(why);
  }
  CHECK(err == MANTA_OK && got == CALLS);
  manta_value_free(v);
  manta_ref_release(r);
}

/* only_bROUND(), a function only the node that just joined (b) offers,
 * called with no options from a task on a (whose view may lack b yet: the
 * call waits for the next views, not NOT_FOUND) and from this driver. */
static void check_only_b(const char *a, const char *b, const char *round) {
  char name[32];
  snprintf(name, sizeof name, "only_b%s", round);
  manta_call_options *o = on_node(a);
  manta_value *args[1] = {manta_cstring(name)};
  manta_ref from_a, direct;
  REQUIRE_OK(manta_submit("call_named", (const manta_value *const *)args, 1, o,
                          &from_a));
  REQUIRE_OK(manta_submit(name, NULL, 0, NULL, &direct));
  manta_value_free(args[0]);
  manta_call_options_free(o);
  manta_ref refs[2] = {from_a, direct};
  for (int i = 0; i < 2; i++) {
    manta_value *v = NULL;
    manta_err err = manta_get(refs[i], 30000, &v);
    const char *got = "";
    size_t len;
    if (err != MANTA_OK || manta_get_string(v, &got, &len) != MANTA_OK ||
        strcmp(got, b) != 0) {
      char *why = v ? manta_value_repr(v) : NULL;
      fprintf(stderr, "%s from %s: %s\n", name, i ? "the driver" : "node a",
              why ? why : manta_strerror(err));
      manta_free(why);
      CHECK(false);
    }
    manta_value_free(v);
    manta_ref_release(refs[i]);
  }
}

/* where() with hard affinity to `to`, from this driver. */
static void check_direct(const char *to) {
  manta_call_options *o = on_node(to);
  manta_ref r;
  REQUIRE_OK(manta_submit("where", NULL, 0, o, &r));
  manta_call_options_free(o);
  manta_value *v = NULL;
  manta_err err = manta_get(r, 60000, &v);
  const char *got = "";
  size_t len;
  if (err != MANTA_OK || manta_get_string(v, &got, &len) != MANTA_OK ||
      strcmp(got, to) != 0) {
    char *why = v ? manta_value_repr(v) : NULL;
    fprintf(stderr, "where on %s: %s\n", to, why ? why : "no value");
    manta_free(why);
    got = "";
  }
  CHECK(strcmp(got, to) == 0);
  manta_value_free(v);
  manta_ref_release(r);
}

/* A hard affinity to an id no node has fails, after its bounded wait for
 * the view, naming the wait. */
static void check_unknown(void) {
  manta_call_options *o = on_node("0123456789abcdef");
  manta_ref r;
  REQUIRE_OK(manta_submit("where", NULL, 0, o, &r));
  manta_call_options_free(o);
  manta_value *v = NULL;
  CHECK(manta_get(r, 60000, &v) == MANTA_ERR_NOT_FOUND);
  const char *msg = v ? manta_error_message(v) : NULL;
  CHECK(msg && strstr(msg, "is not in the cluster") &&
        strstr(msg, "for this node's view to list it"));
  manta_value_free(v);
  manta_ref_release(r);
}

/* An actor created by hard affinity to an id no node has is dead after
 * the wait: its call fails, the cause naming the node and the wait. */
static void check_unknown_actor(void) {
  manta_call_options *o = on_node("0123456789abcdef");
  manta_actor a;
  manta_ref r;
  REQUIRE_OK(manta_actor_create("Here", NULL, 0, o, &a));
  manta_call_options_free(o);
  REQUIRE_OK(manta_actor_call(a, "where", NULL, 0, &r));
  manta_value *v = NULL;
  CHECK(manta_get(r, 60000, &v) == MANTA_ERR_ACTOR_DEAD);
  const manta_value *cause = v ? manta_error_cause(v) : NULL;
  const char *msg = cause ? manta_error_message(cause) : NULL;
  CHECK(msg && strstr(msg, "hard node affinity: node 0123456789abcdef") &&
        strstr(msg, "is not in the cluster") &&
        strstr(msg, "for this node's view to list it"));
  if (!msg) {
    char *why = v ? manta_value_repr(v) : NULL;
    fprintf(stderr, "unknown actor: %s\n", why ? why : "no value");
    manta_free(why);
  }
  manta_value_free(v);
  manta_ref_release(r);
  manta_actor_release(a);
}

int main(int argc, char **argv) {
  REQUIRE(argc == 3 || argc == 4);
  REQUIRE(getenv("MANTA_ADDRESS"));
  REQUIRE_OK(manta_init(NULL));
  char ids[2][17];
  wait_listed(argv[1], argv[2], ids);
  /* First joined -> just joined, while a's view may lack b: tasks first,
   * or actors first when ROUND is even. */
  bool actors_first = argc == 4 && atoi(argv[3]) % 2 == 0;
  if (argc == 4) {
    check_only_b(ids[0], ids[1], argv[3]);
  }
  check_reach(actors_first ? "reach_actor" : "reach", ids[0], ids[1]);
  check_reach(actors_first ? "reach" : "reach_actor", ids[0], ids[1]);
  check_reach("reach", ids[1], ids[0]);
  check_reach("reach_actor", ids[1], ids[0]);
  check_direct(ids[0]);
  check_direct(ids[1]);
  check_unknown();
  check_unknown_actor();
  manta_shutdown();
  return mt_test_done();
}
