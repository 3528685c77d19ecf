/*
 * The C driver of the Java cluster test (run-java-cluster-test.sh starts
 * the head, a JVM node and a C node hosting a JVM). It joins through
 * MANTA_ADDRESS and calls Java functions and Java actors by name, as any C
 * program would:
 *
 *   java_cluster_driver JVM_NODE_PID JVM_NODE_ADDRESS C_NODE_PID
 *                       C_NODE_ADDRESS [seed-counter]
 *
 * java.upper, java.fail, java.jvm_pid and the actor class java.JvmCounter
 * live on the JVM node (ClusterJvmModule), java.reverse, java.hosted_pid
 * and java.HostedCounter on the C node (ClusterHostedModule); both classes
 * are ClusterCounter.java, and this driver offers neither. With
 * seed-counter the JVM node also offers the seed's Counter
 * (examples/java/Counter.java) and the driver prints what five calls of it
 * return.
 */
#include "test_util.h"

#include <string.h>
#include <time.h>

static int64_t jvm_pid, hosted_pid;
static const char *jvm_address, *hosted_address;

/* A node hosting Java actors: the class only it offers, and the pid and
 * address the script knows it by. */
typedef struct java_host {
  const char *cls;
  int64_t pid;
  const char *address;
} java_host;

static java_host hosts[2];

static int string_is(const manta_value *v, const char *want) {
  const char *s;
  size_t len;
  if (manta_get_string(v, &s, &len) != MANTA_OK) {
    char *text = manta_value_repr(v);
    fprintf(stderr, "expected \"%s\", got %s\n", want, text ? text : "?");
    manta_free(text);
    return 0;
  }
  return len == strlen(want) && memcmp(s, want, len) == 0;
}

static int starts_with(const char *s, const char *head) {
  return strncmp(s, head, strlen(head)) == 0;
}

static int ends_with(const char *s, const char *tail) {
  size_t n = strlen(s), t = strlen(tail);
  return n >= t && strcmp(s + n - t, tail) == 0;
}

/* A Java function of the JVM node (manta.Node). */
static void test_jvm_node(void) {
  manta_value *v = mt_test_submit_get(
      "java.upper", (manta_value *[]){manta_cstring("straße")}, 1, NULL, 30000);
  CHECK(string_is(v, "STRASSE"));
  manta_value_free(v);
  v = mt_test_submit_get("java.jvm_pid", NULL, 0, NULL, 30000);
  CHECK_INT_EQ(mt_test_int(v), jvm_pid);
  manta_value_free(v);
}

/* A Java function of a C node hosting a JVM (manta start --classpath). */
static void test_hosted_jvm(void) {
  manta_value *v = mt_test_submit_get("java.reverse",
                                      (manta_value *[]){manta_cstring("manta")},
                                      1, NULL, 30000);
  CHECK(string_is(v, "atnam"));
  manta_value_free(v);
  v = mt_test_submit_get("java.hosted_pid", NULL, 0, NULL, 30000);
  CHECK_INT_EQ(mt_test_int(v), hosted_pid);
  manta_value_free(v);
}

/* The result of one node's Java function is the argument of the other's:
 * a dependency resolved across three processes. */
static void test_chain(void) {
  enum { N = 200 };
  manta_ref upper[N], reversed[N];
  for (int i = 0; i < N; i++) {
    char word[32];
    snprintf(word, sizeof word, "word%d", i);
    manta_value *arg = manta_cstring(word);
    REQUIRE_OK(manta_submit("java.upper", (const manta_value *const *)&arg, 1,
                            NULL, &upper[i]));
    manta_value_free(arg);
    arg = manta_ref_value(upper[i]);
    REQUIRE_OK(manta_submit("java.reverse", (const manta_value *const *)&arg, 1,
                            NULL, &reversed[i]));
    manta_value_free(arg);
  }
  int right = 0;
  for (int i = 0; i < N; i++) {
    manta_value *v = NULL;
    CHECK_OK(manta_get(reversed[i], 60000, &v));
    char want[32], word[32];
    snprintf(word, sizeof word, "WORD%d", i);
    size_t len = strlen(word);
    for (size_t k = 0; k < len; k++) {
      want[k] = word[len - 1 - k];
    }
    want[len] = '\0';
    right += string_is(v, want);
    manta_value_free(v);
    manta_ref_release(upper[i]);
    manta_ref_release(reversed[i]);
  }
  CHECK_INT_EQ(right, N);
}

/* A Java exception reaches C as an error value: its class and message,
 * and where it was thrown (language, function, node). */
static void test_java_exception(void) {
  manta_value *v = mt_test_submit_get(
      "java.fail", (manta_value *[]){manta_cstring("x")}, 1, NULL, 30000);
  CHECK_INT_EQ(manta_value_kind(v), MANTA_KIND_ERROR);
  CHECK_INT_EQ(manta_error_code(v), MANTA_ERR_TASK_FAILED);
  CHECK(strcmp(manta_error_message(v),
               "java.lang.IllegalStateException: refused: x") == 0);
  const char *origin = manta_error_origin(v);
  char tail[100];
  snprintf(tail, sizeof tail, "(%s)", jvm_address);
  CHECK(starts_with(origin, "java function java.fail on node "));
  CHECK(ends_with(origin, tail));
  if (!starts_with(origin, "java function java.fail on node ") ||
      !ends_with(origin, tail)) {
    fprintf(stderr, "origin: %s\n", origin);
  }
  manta_value_free(v);
  /* A wrong argument count is refused by the node that offers the
   * function, before Java runs. */
  v = mt_test_submit_get("java.reverse", NULL, 0, NULL, 30000);
  CHECK_INT_EQ(manta_error_code(v), MANTA_ERR_ARITY);
  snprintf(tail, sizeof tail, "(%s)", hosted_address);
  CHECK(ends_with(manta_error_origin(v), tail));
  manta_value_free(v);
}

/* ---- Java actors ---------------------------------------------------------
 * Every get is bounded (30 s: a JVM under AddressSanitizer is slow), so a
 * lost call fails the test instead of hanging it. */

/* A Java generator on the JVM node, read by this C driver (streams). */
static void test_java_stream(void) {
  manta_value *n = manta_int(400);
  manta_call_options *o = NULL;
  REQUIRE_OK(manta_call_options_new(&o));
  REQUIRE_OK(manta_call_options_set_stream_window(o, 16));
  manta_stream s;
  REQUIRE_OK(manta_submit_stream("java.upto", (const manta_value *const *)&n, 1,
                                 o, &s));
  manta_call_options_free(o);
  manta_value_free(n);
  int64_t i = 0;
  manta_ref r;
  manta_err err;
  while ((err = manta_stream_next(s, &r, 60000)) == MANTA_OK) {
    int64_t x = mt_test_take_int(r);
    if (x != 3 * i) {
      CHECK_INT_EQ(x, 3 * i);
      break;
    }
    i++;
  }
  CHECK_ERR(err, MANTA_ERR_STREAM_END);
  CHECK_INT_EQ(i, 400);
  manta_stream_release(s);
}

static manta_actor create_actor(const char *cls, manta_value *arg,
                                const manta_call_options *opts) {
  manta_actor a = {0};
  REQUIRE_OK(manta_actor_create(cls, (const manta_value *const *)&arg,
                                arg ? 1 : 0, opts, &a));
  manta_value_free(arg);
  return a;
}

static int64_t call_int(manta_actor a, const char *method, manta_value **args,
                        size_t n) {
  manta_value *v = mt_test_actor_call_get(a, method, args, n, 30000);
  int64_t i = mt_test_int(v);
  manta_value_free(v);
  return i;
}

/* The error code of a result, MANTA_OK for a plain value. */
static manta_err code_of(const manta_value *v) {
  return manta_value_kind(v) == MANTA_KIND_ERROR ? manta_error_code(v)
                                                 : MANTA_OK;
}

/* v must be an error of that code whose message contains message_part. */
static void check_error(const manta_value *v, manta_err code,
                        const char *message_part) {
  CHECK_ERR(code_of(v), code);
  CHECK(strstr(manta_error_message(v), message_part) != NULL);
  if (code_of(v) != code || !strstr(manta_error_message(v), message_part)) {
    char *text = manta_value_repr(v);
    fprintf(stderr, "expected %s saying \"%s\", got %s\n", manta_errname(code),
            message_part, text ? text : "?");
    manta_free(text);
  }
}

/* The actors the node with that pid hosts, from its last heartbeat. */
static int64_t node_actors(int64_t pid) {
  manta_value *st = NULL;
  REQUIRE_OK(manta_cluster_status(getenv("MANTA_ADDRESS"), NULL, 5000, &st));
  const manta_value *nodes, *node, *v;
  size_t n = 0;
  int64_t actors = -1, k;
  REQUIRE_OK(manta_map_find(st, "nodes", &nodes));
  manta_len(nodes, &n);
  for (size_t i = 0; i < n; i++) {
    manta_list_at(nodes, i, &node);
    if (manta_map_find(node, "pid", &v) == MANTA_OK &&
        manta_get_int(v, &k) == MANTA_OK && k == pid &&
        manta_map_find(node, "actors", &v) == MANTA_OK) {
      manta_get_int(v, &actors);
    }
  }
  manta_value_free(st);
  return actors;
}

/* Polls (at most 10 s: heartbeats carry the count) until it is `want`. */
static int64_t wait_node_actors(int64_t pid, int64_t want) {
  int64_t got = node_actors(pid);
  for (int i = 0; i < 200 && got != want; i++) {
    mt_test_sleep_ms(50);
    got = node_actors(pid);
  }
  return got;
}

/* Placed by class name on the one node that offers it, which runs each
 * caller's calls in the order made. */
static void test_actor_placement_and_order(void) {
  enum { N = 200, START = 1000 };
  for (int h = 0; h < 2; h++) {
    manta_actor a = create_actor(hosts[h].cls, manta_int(START), NULL);
    CHECK_INT_EQ(call_int(a, "pid", NULL, 0), hosts[h].pid);
    manta_ref r[N];
    for (int i = 0; i < N; i++) {
      r[i] = mt_test_actor_call_async(a, "increment",
                                      (manta_value *[]){manta_int(i + 1)}, 1);
    }
    int64_t want = START;
    int in_order = 0;
    for (int i = 0; i < N; i++) {
      want += i + 1;
      manta_value *v = mt_test_take(r[i], 30000);
      int64_t got = INT64_MIN;
      if (manta_get_int(v, &got) == MANTA_OK && got == want) {
        in_order++;
      } else if (in_order == i) { /* the first wrong one says enough */
        mt_test_print_value(hosts[h].cls, i, v);
      }
      manta_value_free(v);
    }
    CHECK_INT_EQ(in_order, N);
    CHECK_INT_EQ(call_int(a, "total", NULL, 0), START + N * (N + 1) / 2);
    manta_value *v = mt_test_actor_call_get(
        a, "label", (manta_value *[]){manta_cstring("straße")}, 1, 30000);
    CHECK(string_is(v, "straße:21100"));
    manta_value_free(v);
    CHECK_OK(manta_actor_release(a));
  }
}

/* Lists and maps in, a map of an int and lists out. */
static void test_actor_values(void) {
  for (int h = 0; h < 2; h++) {
    manta_actor a = create_actor(hosts[h].cls, manta_int(0), NULL);
    manta_value *numbers = manta_list();
    manta_list_push(numbers, manta_int(1));
    manta_list_push(numbers, manta_int(2));
    manta_list_push(numbers, manta_int(3));
    manta_value *weights = manta_map();
    manta_map_put(weights, "1", manta_int(10));
    manta_map_put(weights, "x", manta_int(0));
    manta_value *v = mt_test_actor_call_get(
        a, "addAll", (manta_value *[]){numbers, weights}, 2, 30000);
    manta_value *want = manta_map(), *added = manta_list(),
                *keys = manta_list();
    manta_list_push(added, manta_int(1));
    manta_list_push(added, manta_int(20));
    manta_list_push(added, manta_int(3));
    manta_list_push(keys, manta_cstring("1"));
    manta_list_push(keys, manta_cstring("x"));
    manta_map_put(want, "total", manta_int(24));
    manta_map_put(want, "added", added);
    manta_map_put(want, "keys", keys);
    CHECK(manta_value_equal(v, want));
    if (!manta_value_equal(v, want)) {
      mt_test_print_value(hosts[h].cls, h, v);
    }
    manta_value_free(want);
    manta_value_free(v);
    CHECK_INT_EQ(call_int(a, "total", NULL, 0), 24);
    CHECK_OK(manta_actor_release(a));
  }
}

/* Refs as arguments are dependencies: a C function's result (on the C
 * node), a put, one Java actor's result passed to the other's; a failed
 * one fails the call, not the actor. */
static void test_actor_ref_args(void) {
  manta_actor a = create_actor(hosts[0].cls, manta_int(0), NULL);
  manta_actor b = create_actor(hosts[1].cls, manta_int(100), NULL);
  manta_ref sum;
  manta_value *args[2] = {manta_int(2), manta_int(3)};
  REQUIRE_OK(
      manta_submit("add", (const manta_value *const *)args, 2, NULL, &sum));
  manta_value_free(args[0]);
  manta_value_free(args[1]);
  CHECK_INT_EQ(
      call_int(a, "increment", (manta_value *[]){manta_ref_value(sum)}, 1), 5);
  manta_ref_release(sum);

  manta_ref put_int, put_text;
  manta_value *x = manta_int(7);
  REQUIRE_OK(manta_put(x, &put_int));
  manta_value_free(x);
  x = manta_cstring("from-put");
  REQUIRE_OK(manta_put(x, &put_text));
  manta_value_free(x);
  CHECK_INT_EQ(
      call_int(a, "increment", (manta_value *[]){manta_ref_value(put_int)}, 1),
      12);
  x = mt_test_actor_call_get(
      a, "label", (manta_value *[]){manta_ref_value(put_text)}, 1, 30000);
  CHECK(string_is(x, "from-put:12"));
  manta_value_free(x);
  manta_ref_release(put_int);
  manta_ref_release(put_text);

  manta_ref total_a = mt_test_actor_call_async(a, "total", NULL, 0);
  CHECK_INT_EQ(
      call_int(b, "increment", (manta_value *[]){manta_ref_value(total_a)}, 1),
      112);
  manta_ref_release(total_a);

  manta_ref failed = mt_test_actor_call_async(
      a, "fail", (manta_value *[]){manta_cstring("dep")}, 1);
  x = mt_test_actor_call_get(
      b, "increment", (manta_value *[]){manta_ref_value(failed)}, 1, 30000);
  CHECK_ERR(code_of(x), MANTA_ERR_DEPENDENCY);
  manta_value_free(x);
  manta_ref_release(failed);
  CHECK_INT_EQ(call_int(b, "total", NULL, 0), 112);
  CHECK_OK(manta_actor_release(a));
  CHECK_OK(manta_actor_release(b));
}

/* A Java exception, an unknown method, a wrong argument count, a wrong
 * argument type: each an error value saying what and where; the actor
 * lives on with its state. A failing constructor makes the actor dead. */
static void test_actor_errors(void) {
  for (int h = 0; h < 2; h++) {
    manta_actor a = create_actor(hosts[h].cls, manta_int(3), NULL);
    manta_value *v = mt_test_actor_call_get(
        a, "fail", (manta_value *[]){manta_cstring("x")}, 1, 30000);
    check_error(v, MANTA_ERR_TASK_FAILED,
                "java.lang.IllegalArgumentException: counter refused x at 3");
    char head[100], tail[100];
    snprintf(head, sizeof head, "java actor %s.fail on node ", hosts[h].cls);
    snprintf(tail, sizeof tail, "(%s)", hosts[h].address);
    const char *origin = manta_error_origin(v);
    CHECK(starts_with(origin, head) && ends_with(origin, tail));
    if (!starts_with(origin, head) || !ends_with(origin, tail)) {
      fprintf(stderr, "origin: %s\n", origin);
    }
    manta_value_free(v);

    v = mt_test_actor_call_get(a, "nope", NULL, 0, 30000);
    check_error(v, MANTA_ERR_NOT_FOUND, "has no method 'nope'");
    manta_value_free(v);
    v = mt_test_actor_call_get(a, "increment", NULL, 0, 30000);
    check_error(v, MANTA_ERR_ARITY, "takes 1 arguments, got 0");
    manta_value_free(v);
    v = mt_test_actor_call_get(a, "increment",
                               (manta_value *[]){manta_cstring("1")}, 1, 30000);
    check_error(v, MANTA_ERR_TYPE,
                "argument 1 must be long, got java.lang.String");
    manta_value_free(v);
    CHECK_INT_EQ(call_int(a, "increment", (manta_value *[]){manta_int(1)}, 1),
                 4);
    CHECK_OK(manta_actor_release(a));

    a = create_actor(hosts[h].cls, manta_cstring("no number"), NULL);
    v = mt_test_actor_call_get(a, "total", NULL, 0, 30000);
    CHECK_ERR(code_of(v), MANTA_ERR_ACTOR_DEAD);
    /* The call's error, caused by the actor's death, caused by the
     * constructor's. */
    const manta_value *cause = manta_error_cause(manta_error_cause(v));
    char want[160];
    snprintf(want, sizeof want,
             "constructor of %s: argument 1 must be long, got "
             "java.lang.String",
             hosts[h].cls);
    /* It says where it happened, as a method's error does (tail: this
     * node's address, as above). */
    int said = cause && manta_error_code(cause) == MANTA_ERR_TYPE &&
               strcmp(manta_error_message(cause), want) == 0 &&
               strstr(manta_error_origin(cause), " on node ") &&
               ends_with(manta_error_origin(cause), tail);
    CHECK(said);
    if (!said) {
      mt_test_print_value("constructor", h, v);
    }
    manta_value_free(v);
    CHECK_OK(manta_actor_release(a));
  }
}

/* A named actor is found by name, from any handle one state; a clash is
 * refused at once; kill frees the name. */
static void test_named_actor(void) {
  for (int h = 0; h < 2; h++) {
    const char *name = h == 0 ? "java-cluster-jvm" : "java-cluster-hosted";
    manta_call_options *o;
    REQUIRE_OK(manta_call_options_new(&o));
    REQUIRE_OK(manta_call_options_set_name(o, name));
    manta_actor a = create_actor(hosts[h].cls, manta_int(5), o);
    manta_actor clash = {0};
    manta_value *arg = manta_int(0);
    CHECK_ERR(manta_actor_create(hosts[1 - h].cls,
                                 (const manta_value *const *)&arg, 1, o,
                                 &clash),
              MANTA_ERR_EXISTS);
    manta_value_free(arg);
    manta_call_options_free(o);

    manta_actor found;
    REQUIRE_OK(manta_actor_lookup(name, &found));
    CHECK_INT_EQ(call_int(found, "pid", NULL, 0), hosts[h].pid);
    CHECK_INT_EQ(call_int(a, "increment", (manta_value *[]){manta_int(2)}, 1),
                 7);
    CHECK_INT_EQ(call_int(found, "total", NULL, 0), 7);

    CHECK_OK(manta_actor_kill(found));
    manta_value *v = mt_test_actor_call_get(a, "total", NULL, 0, 30000);
    check_error(v, MANTA_ERR_ACTOR_DEAD, "kill");
    manta_value_free(v);
    CHECK_OK(manta_actor_release(found));
    CHECK_OK(manta_actor_release(a));
    /* The host drops the name once the actor is dead (bounded: 5 s). */
    manta_err err = MANTA_OK;
    for (int i = 0; i < 200 && err == MANTA_OK; i++) {
      err = manta_actor_lookup(name, &found);
      if (err == MANTA_OK) {
        manta_actor_release(found);
        mt_test_sleep_ms(25);
      }
    }
    CHECK_ERR(err, MANTA_ERR_NOT_FOUND);
  }
}

/* Killed with calls queued: those that ran did so in order, the rest and
 * every later call resolve to ACTOR_DEAD; none hangs. */
static void test_actor_kill(void) {
  enum { N = 100 };
  for (int h = 0; h < 2; h++) {
    manta_actor a = create_actor(hosts[h].cls, manta_int(0), NULL);
    CHECK_INT_EQ(call_int(a, "increment", (manta_value *[]){manta_int(1)}, 1),
                 1);
    manta_ref r[N];
    for (int i = 0; i < N; i++) {
      r[i] = mt_test_actor_call_async(a, "increment",
                                      (manta_value *[]){manta_int(1)}, 1);
    }
    CHECK_OK(manta_actor_kill(a));
    int ran = 0, dead = 0, wrong = 0;
    for (int i = 0; i < N; i++) {
      manta_value *v = mt_test_take(r[i], 30000);
      int64_t got;
      if (dead == 0 && manta_get_int(v, &got) == MANTA_OK && got == i + 2) {
        ran++;
      } else if (code_of(v) == MANTA_ERR_ACTOR_DEAD) {
        dead++;
      } else if (wrong++ == 0) {
        mt_test_print_value(hosts[h].cls, i, v);
      }
      manta_value_free(v);
    }
    CHECK_INT_EQ(wrong, 0);
    CHECK_INT_EQ(ran + dead, N);
    manta_value *v = mt_test_actor_call_get(a, "total", NULL, 0, 30000);
    check_error(v, MANTA_ERR_ACTOR_DEAD, "kill");
    manta_value_free(v);
    CHECK_OK(manta_actor_release(a));
    printf("kill on %s: %d calls ran, %d ACTOR_DEAD\n", hosts[h].cls, ran,
           dead);
  }
}

/* An unnamed actor lives as long as a handle to it: its host frees it when
 * the driver releases the last one. */
static void test_actor_release(void) {
  for (int h = 0; h < 2; h++) {
    CHECK_INT_EQ(wait_node_actors(hosts[h].pid, 0), 0);
    manta_actor a = create_actor(hosts[h].cls, manta_int(0), NULL), b;
    CHECK_OK(manta_actor_clone(a, &b));
    CHECK_INT_EQ(call_int(a, "increment", (manta_value *[]){manta_int(1)}, 1),
                 1);
    CHECK_INT_EQ(wait_node_actors(hosts[h].pid, 1), 1);
    CHECK_OK(manta_actor_release(a));
    CHECK_INT_EQ(call_int(b, "increment", (manta_value *[]){manta_int(1)}, 1),
                 2);
    CHECK_OK(manta_actor_release(b));
    CHECK_INT_EQ(wait_node_actors(hosts[h].pid, 0), 0);
    CHECK_ERR(manta_actor_release(b), MANTA_ERR_BAD_HANDLE);
  }
}

/* The seed's counter (examples/java/Counter.java) on the JVM node: the C
 * node offers a C class of that name too, so the resource only the JVM
 * node has places it. Prints the five totals. */
static void run_seed_counter(void) {
  manta_call_options *o;
  REQUIRE_OK(manta_call_options_new(&o));
  REQUIRE_OK(manta_call_options_set_resource(o, "jvm_slot", 1));
  manta_actor counter = create_actor("Counter", NULL, o);
  manta_call_options_free(o);
  manta_ref refs[5];
  for (int i = 0; i < 5; i++) {
    refs[i] = mt_test_actor_call_async(counter, "increment",
                                       (manta_value *[]){manta_int(i)}, 1);
  }
  manta_value *totals[5];
  CHECK_OK(manta_get_many(refs, 5, 30000, totals));
  manta_value *list = manta_list();
  for (int i = 0; i < 5; i++) {
    manta_list_push(list, totals[i]);
    manta_ref_release(refs[i]);
  }
  char *text = manta_value_repr(list);
  CHECK(text && strcmp(text, "[0, 1, 3, 6, 10]") == 0);
  printf("%s\n", text ? text : "?");
  manta_free(text);
  manta_value_free(list);
  CHECK_OK(manta_actor_release(counter));
}

int main(int argc, char **argv) {
  int seed_counter = argc == 6 && strcmp(argv[5], "seed-counter") == 0;
  if (argc != 5 && !seed_counter) {
    fprintf(stderr,
            "usage: %s JVM_NODE_PID JVM_NODE_ADDRESS C_NODE_PID "
            "C_NODE_ADDRESS [seed-counter]\n",
            argv[0]);
    return 2;
  }
  jvm_pid = atoll(argv[1]);
  jvm_address = argv[2];
  hosted_pid = atoll(argv[3]);
  hosted_address = argv[4];
  hosts[0] = (java_host){"java.JvmCounter", jvm_pid, jvm_address};
  hosts[1] = (java_host){"java.HostedCounter", hosted_pid, hosted_address};
  REQUIRE_OK(manta_init(NULL)); /* MANTA_ADDRESS joins the cluster */
  RUN_TEST(test_jvm_node);
  RUN_TEST(test_hosted_jvm);
  RUN_TEST(test_chain);
  RUN_TEST(test_java_exception);
  RUN_TEST(test_java_stream);
  RUN_TEST(test_actor_placement_and_order);
  RUN_TEST(test_actor_values);
  RUN_TEST(test_actor_ref_args);
  RUN_TEST(test_actor_errors);
  RUN_TEST(test_named_actor);
  RUN_TEST(test_actor_kill);
  RUN_TEST(test_actor_release);
  if (seed_counter) {
    RUN_TEST(run_seed_counter);
  }
  REQUIRE_OK(manta_shutdown());
  return mt_test_done();
}
