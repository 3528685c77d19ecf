package manta;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.Date;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.LinkedList;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/** Every type both ways: in the glue alone, and through C tasks. */
class ValuesTest {
  private static Manta runtime;

  @BeforeAll
  static void start() {
    runtime = TestSupport.start();
  }

  @AfterAll
  static void stop() {
    runtime.close();
  }

  private static final String TRICKY = "h\u00e9llo \uD83D\uDE00 \0 nul \u20ac";

  private static List<Object> samples() {
    byte[] all = new byte[256];
    for (int i = 0; i < 256; i++) {
      all[i] = (byte) i;
    }
    Map<String, Object> nested = new LinkedHashMap<>();
    nested.put("z", 1L);
    nested.put("a", Arrays.asList(1L, "two", null, Arrays.asList(true, 2.5)));
    nested.put("\uD83D\uDE00", new byte[] {1, 2});
    nested.put("", new LinkedHashMap<>());
    return Arrays.asList(null, true, false, 0L, Long.MIN_VALUE, Long.MAX_VALUE, -1.5, Double.NaN,
        Double.NEGATIVE_INFINITY, -0.0, Double.MIN_VALUE, "", "plain ascii", TRICKY,
        "x".repeat(100_000) + "\uD834\uDD1E", new byte[0], all, new ArrayList<>(),
        Arrays.asList(1L, Arrays.asList(2L, Arrays.asList(3L))), nested);
  }

  /** Deep equality with arrays compared by content. */
  private static void assertSame(Object want, Object got) {
    if (want instanceof byte[]) {
      assertArrayEquals((byte[]) want, (byte[]) got);
    } else if (want instanceof Double) {
      assertInstanceOf(Double.class, got);
      assertEquals(
          Double.doubleToRawLongBits((Double) want), Double.doubleToRawLongBits((Double) got));
    } else if (want instanceof List) {
      List<?> w = (List<?>) want;
      List<?> g = (List<?>) got;
      assertEquals(w.size(), g.size());
      for (int i = 0; i < w.size(); i++) {
        assertSame(w.get(i), g.get(i));
      }
    } else if (want instanceof Map) {
      Map<?, ?> w = (Map<?, ?>) want;
      Map<?, ?> g = (Map<?, ?>) got;
      assertEquals(new ArrayList<>(w.keySet()), new ArrayList<>(g.keySet()), "keys in order");
      for (Object k : w.keySet()) {
        assertSame(w.get(k), g.get(k));
      }
    } else {
      assertEquals(want, got);
    }
  }

  @Test
  void everyTypeRoundTripsThroughTheGlue() {
    for (Object v : samples()) {
      assertSame(v, Native.roundTrip(v));
    }
  }

  @Test
  void everyTypeRoundTripsThroughACTask() {
    for (Object v : samples()) {
      assertSame(v, TestSupport.call("c_echo", v));
    }
    assertSame(samples(), TestSupport.call("c_echo", samples()));
  }

  @Test
  void everyTypeRoundTripsThroughObjects() {
    for (Object v : samples()) {
      try (ObjectRef<Object> r = Manta.put(v)) {
        assertSame(v, r.get());
      }
    }
  }

  @Test
  void narrowerJavaNumbersWiden() {
    assertEquals(7L, Native.roundTrip(7));
    assertEquals(-3L, Native.roundTrip((short) -3));
    assertEquals(-128L, Native.roundTrip((byte) -128));
    assertEquals(1.5, Native.roundTrip(1.5f));
    assertEquals("int", TestSupport.call("c_kind", 7));
    assertEquals("double", TestSupport.call("c_kind", 7.0f));
  }

  @Test
  void cSeesTheKindsAndContentsJavaMeant() {
    assertEquals("42", TestSupport.call("c_repr", 42));
    assertEquals("42.0", TestSupport.call("c_repr", 42.0));
    assertEquals("null", TestSupport.call("c_repr", (Object) null));
    assertEquals("true", TestSupport.call("c_repr", true));
    assertEquals(
        "\"h\u00e9llo \uD83D\uDE00 \\u0000 nul \u20ac\"", TestSupport.call("c_repr", TRICKY));
    assertEquals("b\"\\x00\\xff\"", TestSupport.call("c_repr", new byte[] {0, (byte) 0xff}));
    Map<String, Object> m = new LinkedHashMap<>();
    m.put("b", Arrays.asList(1, "x"));
    m.put("a", new HashMap<>());
    assertEquals("{\"b\": [1, \"x\"], \"a\": {}}", TestSupport.call("c_repr", m));
    assertEquals("list", TestSupport.call("c_kind", new LinkedList<>(Arrays.asList(1L))));
    assertEquals("map", TestSupport.call("c_kind", new HashMap<String, Object>()));
    assertEquals("bytes", TestSupport.call("c_kind", new byte[3]));
    // A lone surrogate cannot be UTF-8: it becomes U+FFFD.
    assertEquals("a\uFFFDb", Native.roundTrip("a\uD800b"));
  }

  @Test
  @SuppressWarnings("unchecked")
  void everyKindCMakesArrivesInJava() throws Exception {
    Map<String, Object> m = TestSupport.call("c_every_kind");
    assertEquals(Arrays.asList("null", "true", "int_min", "double", "string", "bad_utf8", "bytes",
                     "list", "ref", "actor", "error"),
        new ArrayList<>(m.keySet()));
    assertInstanceOf(LinkedHashMap.class, m);
    assertNull(m.get("null"));
    assertEquals(Boolean.TRUE, m.get("true"));
    assertEquals(Long.MIN_VALUE, m.get("int_min"));
    assertEquals(
        Double.doubleToRawLongBits(-0.0), Double.doubleToRawLongBits((Double) m.get("double")));
    assertEquals("h\u00e9llo \uD83D\uDE00 \0 nul", m.get("string"));
    assertEquals("a\uFFFD\uFFFDb", m.get("bad_utf8"), "invalid UTF-8 from C is replaced");
    assertArrayEquals(new byte[] {0, -1, 127}, (byte[]) m.get("bytes"));
    assertEquals(Arrays.asList(1L, Arrays.asList(2L)), m.get("list"));
    ObjectRef<Long> ref = (ObjectRef<Long>) m.get("ref");
    assertEquals(42L, ref.get());
    ActorHandle actor = (ActorHandle) m.get("actor");
    try (ObjectRef<Long> r = actor.call("add", 5)) {
      assertEquals(5L, r.get());
    }
    MantaException e = assertInstanceOf(MantaException.DependencyFailed.class, m.get("error"));
    assertEquals("outer", e.errorMessage());
    MantaException cause = assertInstanceOf(MantaException.Timeout.class, e.getCause());
    assertEquals("inner", cause.errorMessage());
    assertEquals("somewhere", cause.origin());
    // And back: the nested error goes to C and returns intact. (At the top
    // level an error value is a failure: the task would fail with it.)
    List<?> back = TestSupport.call("c_echo", Arrays.asList(e));
    MantaException again = assertInstanceOf(MantaException.class, back.get(0));
    assertEquals(ErrorCode.DEPENDENCY, again.code());
    assertEquals("somewhere", again.errorCause().origin());
    MantaException.DependencyFailed thrown =
        assertThrows(MantaException.DependencyFailed.class, () -> TestSupport.call("c_echo", e));
    assertEquals("outer", thrown.errorMessage());
  }

  @Test
  void refsAndHandlesRoundTrip() {
    try (ObjectRef<Long> r = Manta.put(5L); ActorHandle a = Manta.actor("CCounter").remote(10)) {
      List<?> back = (List<?>) TestSupport.call("c_echo", Arrays.asList(r, a));
      assertEquals(r, back.get(0), "the same object");
      assertEquals(a, back.get(1), "the same actor");
      assertEquals(5L, ((ObjectRef<?>) back.get(0)).get());
      try (ObjectRef<Long> total = ((ActorHandle) back.get(1)).call("total")) {
        assertEquals(10L, total.get());
      }
    }
  }

  @Test
  void whatCannotConvertGivesAClearException() {
    MantaException e = assertThrows(MantaException.ValueType.class, () -> Manta.put(new Object()));
    assertTrue(
        e.getMessage().contains("a java.lang.Object cannot be a manta value"), e.getMessage());
    e = assertThrows(MantaException.ValueType.class,
        () -> Manta.function("c_echo").remote(Arrays.asList(1, new Date())));
    assertTrue(e.getMessage().contains("java.util.Date"), e.getMessage());
    assertTrue(e.getMessage().contains("list item 1"), e.getMessage());
    assertTrue(e.getMessage().contains("argument 1"), e.getMessage());
    Map<Object, Object> badKey = new HashMap<>();
    badKey.put(3, "x");
    e = assertThrows(MantaException.ValueType.class, () -> Manta.put(badKey));
    assertTrue(
        e.getMessage().contains("map key must be a String, got java.lang.Integer"), e.getMessage());
    Map<String, Object> nulKey = new HashMap<>();
    nulKey.put("a\0b", 1);
    e = assertThrows(MantaException.ValueType.class, () -> Manta.put(nulKey));
    assertTrue(e.getMessage().contains("contains NUL"), e.getMessage());
    assertThrows(MantaException.ValueType.class, () -> Manta.put(new int[] {1}));
    assertThrows(MantaException.ValueType.class, () -> Manta.put('c'));
  }

  @Test
  void nestingIsLimitedAndCyclesAreCaught() {
    List<Object> deep = new ArrayList<>();
    List<Object> cur = deep;
    for (int i = 0; i < 99; i++) {
      List<Object> next = new ArrayList<>();
      cur.add(next);
      cur = next;
    }
    assertSame(deep, Native.roundTrip(deep));
    cur.add(new ArrayList<>());
    MantaException e = assertThrows(MantaException.class, () -> Manta.put(deep));
    assertEquals(ErrorCode.TOO_DEEP, e.code());
    List<Object> self = new ArrayList<>();
    self.add(self);
    e = assertThrows(MantaException.class, () -> Manta.put(self));
    assertEquals(ErrorCode.TOO_DEEP, e.code());
  }

  @Test
  void closedHandlesAreRefused() {
    ObjectRef<Long> r = Manta.put(1L);
    r.close();
    MantaException e = assertThrows(MantaException.class, () -> Manta.put(Arrays.asList(r)));
    assertEquals(ErrorCode.BAD_HANDLE, e.code());
    assertTrue(e.getMessage().contains("closed"), e.getMessage());
    assertThrows(IllegalStateException.class, r::get);
  }

  @Test
  void aJavaResultThatCannotConvertIsATypeError() {
    Manta.register("j_returns_date", () -> new Date());
    MantaException e =
        assertThrows(MantaException.ValueType.class, () -> TestSupport.call("j_returns_date"));
    assertTrue(e.getMessage().contains("the result cannot be a manta value"), e.getMessage());
    assertTrue(e.getMessage().contains("java.util.Date"), e.getMessage());
    assertEquals("function j_returns_date", e.origin());
  }

  @Test
  void javaFunctionsReceiveEveryTypeFromC() {
    Manta.register("j_describe", (Object x) -> x == null ? "null" : x.getClass().getSimpleName());
    Object[][] cases = {
        {1, "Long"},
        {2.5, "Double"},
        {"s", "String"},
        {true, "Boolean"},
        {new byte[1], "byte[]"},
        {Arrays.asList(1), "ArrayList"},
        {new HashMap<String, Object>(), "LinkedHashMap"},
    };
    for (Object[] c : cases) {
      Map<String, Object> seen = TestSupport.callFromC("j_describe", c[0]);
      assertEquals(true, seen.get("ok"), seen.toString());
      assertEquals(c[1], seen.get("value"));
    }
  }
}
