package manta;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/** Calls by name, refs as arguments, get, wait, put, cancel. */
class TasksTest {
  private static Manta runtime;

  @BeforeAll
  static void start() {
    runtime = TestSupport.start(new Options().numCpus(2));
    Manta.register("j_twice", (Long x) -> 2 * x);
    Manta.register("j_get_nested", (List<ObjectRef<Long>> refs) -> {
      long sum = 0;
      for (ObjectRef<Long> r : refs) {
        sum += r.get();
      }
      return sum;
    });
    // Recursion through the pool: a worker blocked in get lends its slot.
    Manta.register("j_fib", (Long n) -> {
      if (n < 2) {
        return n;
      }
      try (ObjectRef<Long> a = Manta.function("j_fib").remote(n - 1);
           ObjectRef<Long> b = Manta.function("j_fib").remote(n - 2)) {
        return a.get() + b.get();
      }
    });
  }

  @AfterAll
  static void stop() {
    runtime.close();
  }

  @Test
  void callsAFunctionByName() {
    ObjectRef<Long> r = Manta.function("c_add").remote(2, 40);
    assertEquals(42L, r.get());
    assertEquals(42L, r.get(1000), "get again");
    assertTrue(r.toString().startsWith("ObjectRef(obj-"), r.toString());
    r.close();
    assertEquals("ObjectRef(closed)", r.toString());
  }

  @Test
  void refsAsArgumentsAreDependencies() {
    try (ObjectRef<Long> slow = Manta.function("c_sleep_ms").remote(100);
         ObjectRef<Long> plus = Manta.function("c_add").remote(slow, 1);
         ObjectRef<Long> twice = Manta.function("j_twice").remote(plus)) {
      assertEquals(202L, twice.get());
    }
    try (ObjectRef<Long> put = Manta.put(21L);
         ObjectRef<Long> r = Manta.function("j_twice").remote(put)) {
      assertEquals(42L, r.get());
    }
  }

  @Test
  void refsNestedInAListStayRefs() {
    try (ObjectRef<Long> a = Manta.put(1L);
         ObjectRef<Long> b = Manta.function("c_add").remote(1, 1)) {
      String repr = TestSupport.call("c_repr", Arrays.asList(a, b));
      assertTrue(repr.matches("\\[ref\\(obj-[0-9a-f]{32}\\), ref\\(obj-[0-9a-f]{32}\\)\\]"), repr);
      assertEquals(3L, (Long) TestSupport.call("j_get_nested", Arrays.asList(a, b)));
    }
  }

  @Test
  void getManyAndWait() {
    List<ObjectRef<Long>> refs = new ArrayList<>();
    for (int i = 0; i < 10; i++) {
      refs.add(Manta.function("c_add").remote(i, i));
    }
    List<Long> values = Manta.get(refs);
    for (int i = 0; i < 10; i++) {
      assertEquals(2L * i, values.get(i));
    }
    try (ObjectRef<Long> fast = Manta.function("c_sleep_ms").remote(0);
         ObjectRef<Long> slow = Manta.function("c_sleep_ms").remote(3000)) {
      WaitResult<Long> w = Manta.wait(Arrays.asList(slow, fast), 1, 2000);
      assertEquals(Arrays.asList(fast), w.ready());
      assertEquals(Arrays.asList(slow), w.notReady());
      WaitResult<Long> none = Manta.wait(Arrays.asList(slow), 1, 0);
      assertTrue(none.ready().isEmpty(), "timing out is not an error");
    }
    refs.forEach(ObjectRef::close);
  }

  @Test
  void getManyThrowsTheFirstFailure() {
    try (ObjectRef<Long> ok = Manta.function("c_add").remote(1, 2);
         ObjectRef<Long> bad = Manta.function("c_fail").remote("second")) {
      MantaException e =
          assertThrows(MantaException.class, () -> Manta.get(Arrays.asList(ok, bad)));
      assertEquals("c_fail: second", e.errorMessage());
      assertThrows(MantaException.Timeout.class,
          () -> Manta.get(Arrays.asList(Manta.function("c_sleep_ms").<Long>remote(2000)), 10));
    }
  }

  @Test
  void putAndGetOfLargeBytes() {
    byte[] big = new byte[8 << 20];
    big[big.length - 1] = 7;
    try (ObjectRef<byte[]> r = Manta.put(big)) {
      byte[] back = r.get();
      assertEquals(big.length, back.length);
      assertEquals(7, back[back.length - 1]);
    }
  }

  @Test
  void cancelATaskThatHasNotStarted() throws Exception {
    // Both CPU slots busy, then one more task: it queues and can be
    // cancelled.
    try (ObjectRef<Long> a = Manta.function("c_sleep_ms").remote(500);
         ObjectRef<Long> b = Manta.function("c_sleep_ms").remote(500);
         ObjectRef<Long> queued = Manta.function("c_sleep_ms").remote(1)) {
      assertTrue(queued.cancel());
      assertThrows(MantaException.Cancelled.class, queued::get);
      assertEquals(500L, a.get());
      assertFalse(a.cancel(), "done: nothing to cancel");
      assertEquals(500L, b.get());
    }
  }

  @Test
  void nestedCallsDoNotDeadlockThePool() {
    assertEquals(55L, (Long) TestSupport.call("j_fib", 10));
  }

  @Test
  void manyJavaThreadsCallAtOnce() throws Exception {
    ExecutorService pool = Executors.newFixedThreadPool(4);
    try {
      List<Future<Long>> futures = new ArrayList<>();
      for (int t = 0; t < 4; t++) {
        final long base = t * 1000L;
        futures.add(pool.submit(() -> {
          long sum = 0;
          for (int i = 0; i < 500; i++) {
            try (ObjectRef<Long> r = Manta.function("j_twice").remote(base + i)) {
              sum += r.get();
            }
          }
          return sum;
        }));
      }
      for (int t = 0; t < 4; t++) {
        long base = t * 1000L;
        long want = 2 * (500 * base + 499L * 500 / 2);
        assertEquals(want, futures.get(t).get(60, TimeUnit.SECONDS));
      }
    } finally {
      pool.shutdownNow();
    }
  }

  @Test
  void callOptionsReachTheRuntime() {
    try (ObjectRef<Long> r =
             Manta.function("c_add").options(new CallOptions().resource("GPU", 1)).remote(1, 1)) {
      MantaException e = assertThrows(MantaException.class, r::get);
      assertEquals(ErrorCode.INFEASIBLE, e.code());
      assertTrue(e.getMessage().contains("GPU"), e.getMessage());
    }
    try (ObjectRef<Long> r =
             Manta.function("c_add").options(new CallOptions().numCpus(2)).remote(1, 1)) {
      assertEquals(2L, r.get());
    }
    assertThrows(IllegalArgumentException.class, () -> new CallOptions().numCpus(-1));
  }

  @Test
  void resultsAreTheirConvertedValues() {
    Object v = TestSupport.call("c_echo", Arrays.asList(1, 2));
    assertInstanceOf(ArrayList.class, v);
  }
}
