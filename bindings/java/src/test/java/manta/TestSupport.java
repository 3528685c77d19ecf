package manta;

import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.Arrays;
import java.util.List;
import java.util.Map;

/** Shared by the test classes: the runtime, the C test module, helpers. */
final class TestSupport {
  private TestSupport() {}

  /** Starts a runtime with the C test module (src/test/c) loaded. */
  static Manta start(Options options) {
    Manta m = Manta.init(options);
    Manta.loadModule(modulePath());
    return m;
  }

  static Manta start() {
    return start(new Options().numCpus(2));
  }

  static String modulePath() {
    String path = System.getProperty("manta.test.module");
    assertTrue(path != null && !path.isEmpty(), "-Dmanta.test.module is not set");
    return path;
  }

  /** Calls a C function that calls `name` by name: what a C caller sees. */
  @SuppressWarnings("unchecked")
  static Map<String, Object> callFromC(String name, Object... args) {
    ObjectRef<Map<String, Object>> r =
        Manta.function("c_call_function").remote(name, Arrays.asList(args));
    try (r) {
      return r.get(60_000);
    }
  }

  /** Calls a method from C code: what a C caller sees. */
  static Map<String, Object> callActorFromC(ActorHandle actor, String method, Object... args) {
    ObjectRef<Map<String, Object>> r =
        Manta.function("c_call_actor").remote(actor, method, Arrays.asList(args));
    try (r) {
      return r.get(60_000);
    }
  }

  static <T> T call(String function, Object... args) {
    ObjectRef<T> r = Manta.function(function).remote(args);
    try (r) {
      return r.get(60_000);
    }
  }

  static List<Object> list(Object... items) {
    return Arrays.asList(items);
  }

  /** Waits (bounded) for a stat to fall to at most `target`, running GC. */
  static long awaitStatAtMost(Stat stat, long target) throws InterruptedException {
    long v = Manta.stat(stat);
    for (int i = 0; i < 600 && v > target; i++) {
      System.gc();
      Thread.sleep(50);
      v = Manta.stat(stat);
    }
    return v;
  }
}
