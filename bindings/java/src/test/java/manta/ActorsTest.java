package manta;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.CyclicBarrier;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/** Java actor classes called from Java and C; C actors called from Java. */
class ActorsTest {
  private static Manta runtime;

  /** The seed's counter actor, in Java. */
  public static class Counter {
    private long total;

    public Counter() {}

    public Counter(long start) {
      if (start < 0) {
        throw new IllegalArgumentException("start must be >= 0");
      }
      total = start;
    }

    public long increment(long by) {
      total += by;
      return total;
    }

    // Chosen by argument count: add(a) and add(a, b).
    public long add(long a) {
      return increment(a);
    }

    public long add(long a, long b) {
      return increment(a + b);
    }

    public int narrow(int x, short y, float z) {
      return x + y + (int) z;
    }

    public void reset() {
      total = 0;
    }

    public long fail() {
      throw new UnsupportedOperationException("no");
    }

    public static long notAMethodOfActors() {
      return 0;
    }
  }

  public static class Ambiguous {
    public Ambiguous() {}

    public void f(long a) {}

    public void f(String a) {}
  }

  @BeforeAll
  static void start() {
    runtime = TestSupport.start();
    Manta.registerActor("Counter", Counter.class);
  }

  @AfterAll
  static void stop() {
    runtime.close();
  }

  @Test
  void theSeedCounterInJavaCalledFromJava() {
    try (ActorHandle c = Manta.actor("Counter").remote()) {
      List<ObjectRef<Long>> refs = new ArrayList<>();
      for (int i = 0; i < 5; i++) {
        refs.add(c.call("increment", i));
      }
      assertEquals(Arrays.asList(0L, 1L, 3L, 6L, 10L), Manta.get(refs));
    }
  }

  @Test
  void theSeedCounterInJavaCalledFromC() {
    try (ActorHandle c = Manta.actor("Counter").remote()) {
      List<Object> totals = new ArrayList<>();
      for (int i = 0; i < 5; i++) {
        Map<String, Object> seen = TestSupport.callActorFromC(c, "increment", i);
        assertEquals(true, seen.get("ok"), seen.toString());
        totals.add(seen.get("value"));
      }
      assertEquals(Arrays.asList(0L, 1L, 3L, 6L, 10L), totals);
    }
  }

  @Test
  void cCreatesAJavaActorByName() {
    ActorHandle c = TestSupport.call("c_create_actor", "Counter", Arrays.asList(100));
    try (c; ObjectRef<Long> r = c.call("add", 1, 2)) {
      assertEquals(103L, r.get());
    }
  }

  @Test
  void javaCallsACActor() {
    try (ActorHandle c = Manta.actor("CCounter").remote(5); ObjectRef<Long> a = c.call("add", 2);
         ObjectRef<Long> t = c.call("total")) {
      assertEquals(7L, a.get());
      assertEquals(7L, t.get());
    }
  }

  @Test
  void argumentsFitDeclaredParameterTypes() {
    try (ActorHandle c = Manta.actor("Counter").remote()) {
      try (ObjectRef<Long> r = c.call("narrow", 1, 2, 3.9)) {
        assertEquals(6L, r.get());
      }
      try (ObjectRef<Long> r = c.call("narrow", 1L << 40, 2, 3.0)) {
        MantaException.ValueType e = assertThrows(MantaException.ValueType.class, r::get);
        assertTrue(e.errorMessage().contains("argument 1 must be int"), e.getMessage());
        assertTrue(e.errorMessage().contains("does not fit"), e.getMessage());
      }
      try (ObjectRef<Long> r = c.call("increment", (Object) null)) {
        assertThrows(MantaException.ValueType.class, r::get);
      }
      try (ObjectRef<Long> r = c.call("increment", "three")) {
        MantaException.ValueType e = assertThrows(MantaException.ValueType.class, r::get);
        assertTrue(e.errorMessage().contains("got java.lang.String"), e.getMessage());
      }
      try (ObjectRef<Object> r = c.call("reset")) {
        assertEquals(null, r.get(), "void returns null");
      }
    }
  }

  @Test
  void unknownMethodsAndCountsFailTheCallNotTheActor() {
    try (ActorHandle c = Manta.actor("Counter").remote()) {
      try (ObjectRef<Long> r = c.call("nope")) {
        assertThrows(MantaException.NotFound.class, r::get);
      }
      try (ObjectRef<Long> r = c.call("notAMethodOfActors")) {
        assertThrows(MantaException.NotFound.class, r::get, "static methods are not offered");
      }
      try (ObjectRef<Long> r = c.call("add", 1, 2, 3)) {
        MantaException e = assertThrows(MantaException.class, r::get);
        assertEquals(ErrorCode.ARITY, e.code());
      }
      try (ObjectRef<Long> r = c.call("increment", 1, 2)) {
        assertEquals(ErrorCode.ARITY, assertThrows(MantaException.class, r::get).code());
      }
      try (ObjectRef<Long> r = c.call("increment", 4)) {
        assertEquals(4L, r.get(), "the actor lives on");
      }
    }
  }

  @Test
  void aThrowingMethodFailsItsCall() {
    try (ActorHandle c = Manta.actor("Counter").remote()) {
      Map<String, Object> seen = TestSupport.callActorFromC(c, "fail");
      assertEquals("MANTA_ERR_TASK_FAILED", seen.get("code"));
      assertEquals("java.lang.UnsupportedOperationException: no", seen.get("message"));
      assertEquals("java actor Counter.fail", seen.get("origin"));
    }
  }

  @Test
  void aFailingConstructorMakesADeadActor() {
    try (ActorHandle c = Manta.actor("Counter").remote(-1);
         ObjectRef<Long> r = c.call("increment", 1)) {
      MantaException.ActorDead e = assertThrows(MantaException.ActorDead.class, r::get);
      // The call was not run because the actor is dead, because its
      // constructor failed, because Java threw.
      assertTrue(e.errorCause().errorMessage().startsWith("constructor of Counter failed"));
      MantaException cause = e.errorCause().errorCause();
      assertEquals(ErrorCode.TASK_FAILED, cause.code());
      assertEquals("java.lang.IllegalArgumentException: start must be >= 0", cause.errorMessage());
      assertEquals("java actor Counter constructor", cause.origin());
    }
    try (ActorHandle c = Manta.actor("Counter").remote(1, 2, 3);
         ObjectRef<Long> r = c.call("increment", 1)) {
      MantaException.ActorDead e = assertThrows(MantaException.ActorDead.class, r::get);
      assertEquals(ErrorCode.ARITY, e.errorCause().errorCause().code());
    }
    try (ActorHandle c = Manta.actor("NoSuchClass").remote(); ObjectRef<Long> r = c.call("x")) {
      assertThrows(MantaException.ActorDead.class, r::get);
    }
  }

  @Test
  void namedActorsLookupAndKill() {
    ActorHandle a = Manta.actor("Counter").named("the-counter").remote(1);
    MantaException e = assertThrows(
        MantaException.class, () -> Manta.actor("Counter").named("the-counter").remote());
    assertEquals(ErrorCode.EXISTS, e.code());
    a.close(); // a named actor outlives its handles
    try (ActorHandle b = Manta.getActor("the-counter");
         ObjectRef<Long> r = b.call("increment", 1)) {
      assertEquals(2L, r.get());
      b.kill();
      try (ObjectRef<Long> after = b.call("increment", 1)) {
        assertThrows(MantaException.ActorDead.class, after::get);
      }
    }
    assertThrows(MantaException.NotFound.class, () -> Manta.getActor("the-counter"));
  }

  @Test
  void getOrCreateGivesThreadsAskingAtOnceTheSameActor() throws Exception {
    int threads = 8;
    ExecutorService pool = Executors.newFixedThreadPool(threads);
    try {
      for (int round = 0; round < 20; round++) {
        String name = "shared-" + round;
        CyclicBarrier start = new CyclicBarrier(threads);
        List<Future<Long>> totals = new ArrayList<>();
        for (int t = 0; t < threads; t++) {
          totals.add(pool.submit(() -> {
            start.await(10, TimeUnit.SECONDS);
            try (ActorHandle c = Manta.actor("Counter").named(name).getOrCreate(0L);
                 ObjectRef<Long> r = c.call("increment", 1)) {
              return r.get(10_000);
            }
          }));
        }
        // One actor took all the increments: each thread saw another total.
        Set<Long> seen = new HashSet<>();
        for (Future<Long> f : totals) {
          seen.add(f.get(30, TimeUnit.SECONDS));
        }
        assertEquals(threads, seen.size(), "round " + round + ": " + seen);
        try (ActorHandle c = Manta.getActor(name)) {
          c.kill();
        }
      }
    } finally {
      pool.shutdownNow();
    }
  }

  @Test
  void getOrCreateReturnsTheExistingActorOrRefuses() {
    try (ActorHandle a = Manta.actor("Counter").named("goc-existing").remote(5L);
         ActorHandle b = Manta.actor("Counter").named("goc-existing").getOrCreate(100L);
         ObjectRef<Long> r = b.call("increment", 1)) {
      assertEquals(6L, r.get());
      MantaException e = assertThrows(
          MantaException.class, () -> Manta.actor("CCounter").named("goc-existing").getOrCreate(1));
      assertEquals(ErrorCode.EXISTS, e.code());
      assertTrue(e.getMessage().contains("goc-existing"), e.getMessage());
      a.kill();
    }
    assertThrows(IllegalStateException.class, () -> Manta.actor("Counter").getOrCreate());
  }

  @Test
  void callsFromOneThreadRunInOrder() {
    try (ActorHandle c = Manta.actor("Counter").remote()) {
      List<ObjectRef<Long>> refs = new ArrayList<>();
      for (int i = 1; i <= 1000; i++) {
        refs.add(c.call("increment", 1));
      }
      List<Long> totals = Manta.get(refs);
      for (int i = 0; i < 1000; i++) {
        assertEquals(i + 1L, totals.get(i));
      }
      refs.forEach(ObjectRef::close);
    }
  }

  @Test
  void restartOptionsReachTheRuntime() throws Exception {
    // Embedded, the node cannot be lost: the options are taken (a value the
    // runtime refuses would throw MantaException) and the actor works as usual.
    try (ActorHandle c = Manta.actor("CCounter")
                             .options(new CallOptions().maxRestarts(-1).maxTaskRetries(2))
                             .remote()) {
      try (ObjectRef<Long> r = c.call("add", 3)) {
        assertEquals(3L, r.get());
      }
    }
    assertThrows(IllegalArgumentException.class, () -> new CallOptions().maxRestarts(-2));
    assertThrows(IllegalArgumentException.class, () -> new CallOptions().maxTaskRetries(-2));
  }

  @Test
  void concurrentActorsMayRunCallsAtOnce() throws Exception {
    try (ActorHandle c =
             Manta.actor("CCounter").options(new CallOptions().maxConcurrency(2)).remote()) {
      try (ObjectRef<Long> r = c.call("add", 1)) {
        assertEquals(1L, r.get());
      }
    }
  }

  @Test
  void overloadsOfOneArityAreRefused() {
    IllegalArgumentException e = assertThrows(
        IllegalArgumentException.class, () -> Manta.registerActor("Ambiguous", Ambiguous.class));
    assertTrue(e.getMessage().contains("Ambiguous.f has two public overloads with 1 parameters"),
        e.getMessage());
    assertThrows(IllegalArgumentException.class, () -> Manta.registerActor("R", Runnable.class));
  }

  @Test
  void handlesAsArgumentsReachJavaAndC() {
    Manta.register("j_call_increment", (ActorHandle h, Long by) -> {
      try (ObjectRef<Long> r = h.call("increment", by)) {
        return r.get();
      }
    });
    try (ActorHandle c = Manta.actor("Counter").remote(10)) {
      assertEquals(15L, (Long) TestSupport.call("j_call_increment", c, 5));
      Map<String, Object> seen = TestSupport.callFromC("j_call_increment", c, 1);
      assertEquals(16L, seen.get("value"));
      assertInstanceOf(ActorHandle.class, TestSupport.call("c_echo", c));
    }
  }
}
