package manta;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/** Java functions registered by name, called from Java and from C. */
class JavaFunctionsTest {
  private static Manta runtime;

  static long levenshtein(String a, String b) {
    int[] prev = new int[b.length() + 1];
    int[] cur = new int[b.length() + 1];
    for (int j = 0; j <= b.length(); j++) {
      prev[j] = j;
    }
    for (int i = 1; i <= a.length(); i++) {
      cur[0] = i;
      for (int j = 1; j <= b.length(); j++) {
        int sub = prev[j - 1] + (a.charAt(i - 1) == b.charAt(j - 1) ? 0 : 1);
        cur[j] = Math.min(sub, Math.min(prev[j] + 1, cur[j - 1] + 1));
      }
      int[] t = prev;
      prev = cur;
      cur = t;
    }
    return prev[b.length()];
  }

  @BeforeAll
  static void start() {
    runtime = TestSupport.start();
    Manta.register("levenshtein", JavaFunctionsTest::levenshtein);
    Manta.register("j_zero", () -> "zero");
    Manta.register("j_three", (Long a, Long b, Long c) -> a * b * c);
    Manta.register("j_four", (String a, String b, String c, String d) -> a + b + c + d);
    Manta.register("j_count", -1, args -> (long) args.length);
    Manta.register("j_thread", () -> {
      Thread t = Thread.currentThread();
      return Arrays.asList(t.getName(), t.isDaemon());
    });
  }

  @AfterAll
  static void stop() {
    runtime.close();
  }

  @Test
  void aMethodReferenceCalledFromJavaAndC() {
    ObjectRef<Long> r = Manta.function("levenshtein").remote("acme corp", "acme corporation");
    assertEquals(7L, r.get());
    Map<String, Object> seen = TestSupport.callFromC("levenshtein", "kitten", "sitting");
    assertEquals(true, seen.get("ok"));
    assertEquals(3L, seen.get("value"));
  }

  @Test
  void everyArity() {
    assertEquals("zero", TestSupport.call("j_zero"));
    assertEquals(24L, (Long) TestSupport.call("j_three", 2, 3, 4));
    assertEquals("abcd", TestSupport.call("j_four", "a", "b", "c", "d"));
    assertEquals(0L, (Long) TestSupport.call("j_count"));
    assertEquals(5L, (Long) TestSupport.call("j_count", 1, 2, 3, 4, 5));
    assertEquals(2L, TestSupport.callFromC("j_count", "x", null).get("value"));
  }

  @Test
  void theArityIsCheckedBeforeJavaRuns() {
    Map<String, Object> seen = TestSupport.callFromC("j_three", 1, 2);
    assertEquals("MANTA_ERR_ARITY", seen.get("code"));
  }

  @Test
  void aWrongArgumentTypeIsAClassCastFailure() {
    MantaException.TaskFailed e =
        assertThrows(MantaException.TaskFailed.class, () -> TestSupport.call("j_three", "a", 1, 2));
    assertTrue(e.errorMessage().startsWith("java.lang.ClassCastException"), e.getMessage());
  }

  @Test
  void aNameIsRegisteredOnce() {
    MantaException e =
        assertThrows(MantaException.class, () -> Manta.register("j_zero", () -> "again"));
    assertEquals(ErrorCode.EXISTS, e.code());
    assertEquals("zero", TestSupport.call("j_zero"), "the first registration stays");
    e = assertThrows(MantaException.class, () -> Manta.register("c_add", (Long a, Long b) -> a));
    assertEquals(ErrorCode.EXISTS, e.code(), "C and Java share one namespace");
    assertThrows(IllegalArgumentException.class, () -> Manta.register("", () -> 1));
    assertThrows(IllegalArgumentException.class, () -> Manta.register("a\0b", () -> 1));
  }

  @Test
  @SuppressWarnings("unchecked")
  void javaTasksRunOnAttachedNativeWorkers() {
    List<Object> seen = TestSupport.call("j_thread");
    assertEquals("manta-worker", seen.get(0));
    assertEquals(true, seen.get(1), "attached as daemons: they never hold the JVM up");
  }

  @Test
  void manyCCallersOfJavaAtOnce() {
    // Tasks that call Java from C, spread over the workers.
    List<ObjectRef<Map<String, Object>>> refs = new ArrayList<>();
    for (int i = 0; i < 200; i++) {
      refs.add(Manta.function("c_call_function").remote("j_three", Arrays.asList(i, 2, 1)));
    }
    List<Map<String, Object>> seen = Manta.get(refs);
    for (int i = 0; i < 200; i++) {
      assertEquals(2L * i, seen.get(i).get("value"));
    }
    refs.forEach(ObjectRef::close);
  }

  @Test
  void unicodeNamesWork() {
    Manta.register("gr\u00fc\u00dfe_\uD83D\uDE00", (String s) -> "hallo " + s);
    assertEquals("hallo x", TestSupport.call("gr\u00fc\u00dfe_\uD83D\uDE00", "x"));
    assertEquals(
        "hallo c", TestSupport.callFromC("gr\u00fc\u00dfe_\uD83D\uDE00", "c").get("value"));
  }
}
