package manta;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.List;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/** RemoteFunction.remoteReturns: several return values, from Java and C functions. */
class ReturnsTest {
  private static Manta runtime;

  /** Returns [calls so far, calls so far + k]. */
  public static class Pairs {
    private long calls;

    public Pairs() {}

    public List<Long> next(long k) {
      calls++;
      return List.of(calls, calls + k);
    }
  }

  @BeforeAll
  static void start() {
    runtime = TestSupport.start(new Options().numCpus(2));
    Manta.register("j_min_max",
        (List<Long> xs)
            -> List.of(xs.stream().mapToLong(Long::longValue).min().getAsLong(),
                xs.stream().mapToLong(Long::longValue).max().getAsLong()));
    Manta.register("j_scalar", () -> 5L);
    Manta.registerActor("Pairs", Pairs.class);
  }

  @AfterAll
  static void stop() {
    runtime.close();
  }

  @Test
  void eachRefHoldsItsItem() {
    List<ObjectRef<Object>> parts =
        Manta.function("j_min_max").remoteReturns(2, List.of(4L, -3L, 9L));
    assertEquals(2, parts.size());
    assertEquals(9L, parts.get(1).get(60_000));
    assertEquals(-3L, parts.get(0).get(60_000));
    // A part passed on is a dependency (c_add is C code).
    try (ObjectRef<Long> sum = Manta.function("c_add").remote(parts.get(0), parts.get(1))) {
      assertEquals(6L, sum.get(60_000));
    }
    parts.forEach(ObjectRef::close);
  }

  @Test
  void errorsAndWrongShapesFailEveryRef() {
    for (ObjectRef<Object> r : Manta.function("c_fail").remoteReturns(3, "boom")) {
      MantaException e = assertThrows(MantaException.class, () -> r.get(60_000));
      assertEquals("c_fail: boom", e.errorMessage());
    }
    List<ObjectRef<Object>> parts = Manta.function("j_scalar").remoteReturns(2);
    for (ObjectRef<Object> r : parts) {
      MantaException e = assertThrows(MantaException.ValueType.class, () -> r.get(60_000));
      assertTrue(e.errorMessage().contains("not a list; num_returns 2"), e.errorMessage());
    }
    assertThrows(MantaException.class, () -> Manta.function("j_scalar").remoteReturns(0));
  }

  @Test
  void actorMethodsGiveTheirPartsInCallOrder() {
    try (ActorHandle a = Manta.actor("Pairs").remote()) {
      List<List<ObjectRef<Object>>> calls = new java.util.ArrayList<>();
      for (int i = 0; i < 5; i++) {
        calls.add(a.callReturns(2, "next", 10L));
      }
      for (int i = 0; i < 5; i++) {
        assertEquals(i + 1L + 10L, calls.get(i).get(1).get(60_000));
        assertEquals(i + 1L, calls.get(i).get(0).get(60_000));
      }
      for (ObjectRef<Object> r : a.callReturns(3, "next", 0L)) {
        assertThrows(MantaException.ValueType.class, () -> r.get(60_000));
      }
    }
  }

  @Test
  void oneReturnIsTheValueItself() {
    List<ObjectRef<Object>> parts = Manta.function("j_min_max").remoteReturns(1, List.of(1L));
    assertEquals(List.of(1L, 1L), parts.get(0).get(60_000));
  }
}
