/*
 * The C driver of the Java cluster test (run-java-cluster-test.sh starts
 * the head, a JVM node and a C node hosting a JVM). It joins through
 * MANTA_ADDRESS and calls Java functions by name, as any C program would:
 *
 *   java_cluster_driver JVM_NODE_PID JVM_NODE_ADDRESS C_NODE_PID
 *                       C_NODE_ADDRESS
 *
 * java.upper, java.fail and java.jvm_pid live on the JVM node
 * (ClusterJvmModule), java.reverse and java.hosted_pid on the C node
 * (ClusterHostedModule).
 */
#include "test_util.h"

#include <string.h>

static int64_t jvm_pid, hosted_pid;
static const char *jvm_address, *hosted_address;

static manta_value *call(const char *fn, manta_value **args, size_t n) {
  manta_ref r;
  manta_value *out = NULL;
  REQUIRE_OK(manta_submit(fn, (const manta_value *const *)args, n, NULL, &r));
  manta_get(r, 30000, &out);
  manta_ref_release(r);
  for (size_t i = 0; i < n; i++) {
    manta_value_free(args[i]);
  }
  return out;
}

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
  manta_value *v =
      call("java.upper", (manta_value *[]){manta_cstring("straße")}, 1);
  CHECK(string_is(v, "STRASSE"));
  manta_value_free(v);
  v = call("java.jvm_pid", NULL, 0);
  CHECK_INT_EQ(mt_test_int(v), jvm_pid);
  manta_value_free(v);
}

/* A Java function of a C node hosting a JVM (manta start --classpath). */
static void test_hosted_jvm(void) {
  manta_value *v =
      call("java.reverse", (manta_value *[]){manta_cstring("manta")}, 1);
  CHECK(string_is(v, "atnam"));
  manta_value_free(v);
  v = call("java.hosted_pid", NULL, 0);
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
  manta_value *v = call("java.fail", (manta_value *[]){manta_cstring("x")}, 1);
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
  v = call("java.reverse", NULL, 0);
  CHECK_INT_EQ(manta_error_code(v), MANTA_ERR_ARITY);
  snprintf(tail, sizeof tail, "(%s)", hosted_address);
  CHECK(ends_with(manta_error_origin(v), tail));
  manta_value_free(v);
}

int main(int argc, char **argv) {
  if (argc != 5) {
    fprintf(stderr,
            "usage: %s JVM_NODE_PID JVM_NODE_ADDRESS C_NODE_PID "
            "C_NODE_ADDRESS\n",
            argv[0]);
    return 2;
  }
  jvm_pid = atoll(argv[1]);
  jvm_address = argv[2];
  hosted_pid = atoll(argv[3]);
  hosted_address = argv[4];
  REQUIRE_OK(manta_init(NULL)); /* MANTA_ADDRESS joins the cluster */
  RUN_TEST(test_jvm_node);
  RUN_TEST(test_hosted_jvm);
  RUN_TEST(test_chain);
  RUN_TEST(test_java_exception);
  REQUIRE_OK(manta_shutdown());
  return mt_test_done();
}
