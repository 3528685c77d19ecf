package manta;

import java.util.ArrayList;
import java.util.List;

/**
 * The Java driver of the cluster test (src/test/cluster/): joins the
 * cluster with Manta.init(address) and calls, by name, C functions only a C
 * node offers and Java functions only the JVM node offers; failures must
 * arrive as the right MantaException subclass, with the message and an
 * origin naming the language, the function and the node.
 *
 * <pre>
 * ClusterJavaDriver HEAD C_NODE_PID C_NODE_ADDRESS JVM_NODE_ADDRESS
 * </pre>
 *
 * Prints "java driver: N checks passed" and exits 0, or names each failed
 * check and exits 1.
 */
public final class ClusterJavaDriver {
  private ClusterJavaDriver() {}

  private static int passed;
  private static final List<String> failures = new ArrayList<>();

  private static void check(boolean ok, String what) {
    if (ok) {
      passed++;
    } else {
      failures.add(what);
      System.err.println("FAIL: " + what);
    }
  }

  /** The exception a call throws, checked to be of that class. */
  private static <E extends MantaException> E failure(
      Class<E> expected, String function, Object... args) {
    try (ObjectRef<Object> r = Manta.function(function).remote(args)) {
      Object v = r.get(30_000);
      check(false, function + " should have failed, returned " + v);
    } catch (MantaException e) {
      if (expected.isInstance(e)) {
        return expected.cast(e);
      }
      check(false, function + " threw " + e.getClass().getName() + ": " + e.getMessage());
    }
    return null;
  }

  private static Object call(String function, Object... args) {
    try (ObjectRef<Object> r = Manta.function(function).remote(args)) {
      return r.get(30_000);
    }
  }

  @SuppressWarnings("try") // the resource only closes the runtime
  public static void main(String[] argv) {
    if (argv.length != 4) {
      System.err.println(
          "usage: ClusterJavaDriver HEAD C_NODE_PID C_NODE_ADDRESS JVM_NODE_ADDRESS");
      System.exit(2);
    }
    long cNodePid = Long.parseLong(argv[1]);
    String cNode = argv[2];
    String jvmNode = argv[3];
    try (Manta runtime = Manta.init(argv[0])) {
      String self = Manta.nodeAddress();
      check(self != null && !self.equals(cNode), "this driver serves at its own address: " + self);

      // C functions that only the C node offers (tests/cluster/cluster_module.c).
      check(Long.valueOf(5).equals(call("add", 2, 3)), "add(2, 3) on the C node");
      check(Long.valueOf(cNodePid).equals(call("where")), "where() ran in the C node's process");
      List<ObjectRef<Long>> sums = new ArrayList<>();
      for (long i = 0; i < 100; i++) {
        sums.add(Manta.function("add").remote(i, 1000));
      }
      long total = 0;
      for (Long s : Manta.get(sums, 30_000)) {
        total += s;
      }
      sums.forEach(ObjectRef::close);
      check(total == 100 * 1000 + 99 * 100 / 2, "100 calls of add: " + total);

      MantaException.TaskFailed failed = failure(MantaException.TaskFailed.class, "fail");
      if (failed != null) {
        check(failed.code() == ErrorCode.TASK_FAILED, "fail: kind TASK_FAILED");
        check("failed on purpose".equals(failed.errorMessage()),
            "fail: message: " + failed.errorMessage());
        check(failed.origin().startsWith("function fail on node ")
                && failed.origin().endsWith("(" + cNode + ")"),
            "fail: origin names the C function and the C node: " + failed.origin());
      }
      MantaException.ValueType type = failure(MantaException.ValueType.class, "add", 1, "x");
      if (type != null) {
        check("add takes two ints".equals(type.errorMessage()),
            "add(1, \"x\"): message: " + type.errorMessage());
        check(type.origin().endsWith("(" + cNode + ")"), "add(1, \"x\"): origin: " + type.origin());
      }
      MantaException.NotFound missing = failure(MantaException.NotFound.class, "no_such_function");
      if (missing != null) {
        check(missing.errorMessage().contains("no_such_function"),
            "no_such_function: message: " + missing.errorMessage());
      }

      // Java functions on the JVM node, from Java.
      check("ABC".equals(call("java.upper", "abc")), "java.upper on the JVM node");
      MantaException.TaskFailed thrown = failure(MantaException.TaskFailed.class, "java.fail", "x");
      if (thrown != null) {
        check("java.lang.IllegalStateException: refused: x".equals(thrown.errorMessage()),
            "java.fail: message: " + thrown.errorMessage());
        check(thrown.origin().startsWith("java function java.fail on node ")
                && thrown.origin().endsWith("(" + jvmNode + ")"),
            "java.fail: origin names the Java function and the JVM node: " + thrown.origin());
      }

      // A C generator on the C node, read by Java across nodes (streams).
      long expect = 5;
      try (ObjectRefStream<Long> items = Manta.function("yield_items")
                                             .options(new CallOptions().streamWindow(16))
                                             .remoteStream(5L, 300L)) {
        for (ObjectRef<Long> item : items) {
          long got = item.get(30_000);
          if (got != expect) {
            check(false, "yield_items on the C node: item " + got + ", expected " + expect);
            break;
          }
          expect++;
          item.close();
        }
      }
      check(expect == 305, "yield_items: 300 items from the C node, in order: " + (expect - 5));
    } catch (MantaException e) {
      check(false, "unexpected " + e);
    }
    if (failures.isEmpty()) {
      System.out.println("java driver: " + passed + " checks passed");
      System.exit(0);
    }
    System.out.println(
        "java driver: " + failures.size() + " of " + (passed + failures.size()) + " checks failed");
    System.exit(1);
  }
}
