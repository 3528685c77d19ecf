package manta;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.Map;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/** Errors both ways: C failures in Java, Java exceptions in C. */
class ErrorsTest {
  private static Manta runtime;

  @BeforeAll
  static void start() {
    runtime = TestSupport.start();
    Manta.register("j_thrower", (String msg) -> { throw new IllegalStateException(msg); });
    Manta.register("j_calls_c_fail", (String msg) -> {
      try (ObjectRef<Object> r = Manta.function("c_fail").remote(msg)) {
        return r.get();
      }
    });
    Manta.register("j_returns_error", () -> new MantaException(ErrorCode.INFEASIBLE, "no way"));
    Manta.register("j_wrapped",
        () -> { throw new RuntimeException("outer", new java.io.IOException("disk")); });
  }

  @AfterAll
  static void stop() {
    runtime.close();
  }

  @Test
  void aFailedCTaskCarriesKindMessageAndOrigin() {
    ObjectRef<Object> r = Manta.function("c_fail").remote("boom");
    MantaException e = assertThrows(MantaException.class, r::get);
    assertEquals(ErrorCode.INVALID, e.code());
    assertEquals("c_fail: boom", e.errorMessage());
    assertEquals("function c_fail", e.origin());
    assertEquals("INVALID: c_fail: boom @ function c_fail", e.getMessage());
    MantaException t =
        assertThrows(MantaException.ValueType.class, () -> TestSupport.call("c_add", "x", 1));
    assertEquals("c_add takes two ints", t.errorMessage());
    assertEquals("function c_add", t.origin());
  }

  @Test
  void unknownNamesAndWrongCountsAreErrorsOfTheResult() {
    ObjectRef<Object> r = Manta.function("no_such_function").remote();
    assertThrows(MantaException.NotFound.class, r::get);
    MantaException e = assertThrows(MantaException.class, () -> TestSupport.call("c_add", 1));
    assertEquals(ErrorCode.ARITY, e.code());
  }

  @Test
  void aJavaExceptionReachesACCallerWithClassAndMessage() {
    Map<String, Object> seen = TestSupport.callFromC("j_thrower", "boom");
    assertEquals(false, seen.get("ok"));
    assertEquals("MANTA_ERR_TASK_FAILED", seen.get("code"));
    assertEquals("java.lang.IllegalStateException: boom", seen.get("message"));
    assertEquals("java function j_thrower", seen.get("origin"));
  }

  @Test
  void aJavaExceptionReachesAJavaCallerAsTaskFailed() {
    MantaException.TaskFailed e =
        assertThrows(MantaException.TaskFailed.class, () -> TestSupport.call("j_thrower", "x"));
    assertEquals("java.lang.IllegalStateException: x", e.errorMessage());
    assertEquals("java function j_thrower", e.origin());
  }

  @Test
  void aJavaExceptionKeepsItsCauseChain() {
    Map<String, Object> seen = TestSupport.callFromC("j_wrapped");
    assertEquals("java.lang.RuntimeException: outer", seen.get("message"));
    String cause = (String) seen.get("cause");
    assertNotNull(cause);
    assertTrue(cause.contains("MANTA_ERR_TASK_FAILED: java.io.IOException: disk"), cause);
  }

  @Test
  void aCErrorThroughJavaCodeKeepsItsOrigin() {
    // C calls Java, which calls C and lets the failure go: C sees the Java
    // failure with the original C error as its cause.
    Map<String, Object> seen = TestSupport.callFromC("j_calls_c_fail", "inner");
    assertEquals("MANTA_ERR_TASK_FAILED", seen.get("code"));
    assertEquals("java function j_calls_c_fail", seen.get("origin"));
    String cause = (String) seen.get("cause");
    assertTrue(cause.contains("MANTA_ERR_INVALID: c_fail: inner @ function c_fail"), cause);
    MantaException e = assertThrows(
        MantaException.TaskFailed.class, () -> TestSupport.call("j_calls_c_fail", "x"));
    assertEquals(ErrorCode.INVALID, e.errorCause().code());
    assertEquals("function c_fail", e.errorCause().origin());
  }

  @Test
  void aJavaFunctionMayReturnAnErrorOfAnyKind() {
    Map<String, Object> seen = TestSupport.callFromC("j_returns_error");
    assertEquals("MANTA_ERR_INFEASIBLE", seen.get("code"));
    assertEquals("no way", seen.get("message"));
    assertEquals("function j_returns_error", seen.get("origin"));
  }

  @Test
  void aFailedDependencyFailsTheCallWithTheCause() {
    try (ObjectRef<Object> bad = Manta.function("c_fail").remote("dep");
         ObjectRef<Object> r = Manta.function("c_echo").remote(bad)) {
      MantaException.DependencyFailed e =
          assertThrows(MantaException.DependencyFailed.class, r::get);
      assertEquals(ErrorCode.INVALID, e.errorCause().code());
      assertEquals("c_fail: dep", e.errorCause().errorMessage());
    }
  }

  @Test
  void aTimeoutIsItsOwnException() {
    try (ObjectRef<Long> r = Manta.function("c_sleep_ms").remote(1500)) {
      MantaException.Timeout e = assertThrows(MantaException.Timeout.class, () -> r.get(20));
      assertEquals(ErrorCode.TIMEOUT, e.code());
      assertEquals(1500L, r.get(), "the value still arrives");
    }
  }

  @Test
  void theErrorTableMatchesTheNativeOne() {
    for (ErrorCode c : ErrorCode.values()) {
      if (c == ErrorCode.UNKNOWN) {
        continue;
      }
      String expected = c == ErrorCode.OK ? "MANTA_OK" : "MANTA_ERR_" + c.name();
      assertEquals(expected, Native.errorName(c.code()));
      assertEquals(c, ErrorCode.of(c.code()));
    }
    int next = ErrorCode.STREAM_END.code() + 1;
    assertEquals("MANTA_ERR_UNKNOWN", Native.errorName(next), "a native code Java lacks");
    assertEquals(ErrorCode.UNKNOWN, ErrorCode.of(next));
    assertEquals("timed out", Native.errorText(ErrorCode.TIMEOUT.code()));
  }

  @Test
  void unknownCodesSurviveARoundTrip() {
    MantaException e = new MantaException(ErrorCode.UNKNOWN, "from the future");
    MantaException back = assertInstanceOf(MantaException.class, Native.roundTrip(e));
    assertEquals(-1, back.rawCode());
    assertEquals(ErrorCode.UNKNOWN, back.code());
  }
}
