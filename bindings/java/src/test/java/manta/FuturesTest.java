package manta;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/** ObjectRef.toCompletableFuture: values and failures without a blocked thread. */
class FuturesTest {
  private static Manta runtime;

  @BeforeAll
  static void start() {
    runtime = TestSupport.start(new Options().numCpus(2));
    Manta.register("j_square", (Long x) -> x * x);
  }

  @AfterAll
  static void stop() {
    runtime.close();
  }

  @Test
  void manyFuturesCompleteWithTheirValues() throws Exception {
    List<ObjectRef<Long>> refs = new ArrayList<>();
    List<CompletableFuture<Long>> futures = new ArrayList<>();
    for (long i = 0; i < 500; i++) {
      ObjectRef<Long> r = Manta.function("j_square").remote(i);
      refs.add(r);
      futures.add(r.toCompletableFuture());
    }
    CompletableFuture.allOf(futures.toArray(new CompletableFuture<?>[ 0 ]))
        .get(60, TimeUnit.SECONDS);
    for (int i = 0; i < futures.size(); i++) {
      assertEquals((long) i * i, futures.get(i).get());
      refs.get(i).close();
    }
  }

  @Test
  void aReadyRefCompletesAtOnceOnThisThread() {
    try (ObjectRef<String> r = Manta.put("here")) {
      Thread[] where = new Thread[1];
      CompletableFuture<String> f = r.toCompletableFuture();
      assertTrue(f.isDone());
      f.thenRun(() -> where[0] = Thread.currentThread());
      assertSame(Thread.currentThread(), where[0]);
      assertEquals("here", f.join());
    }
  }

  @Test
  void aFailedTaskCompletesExceptionallyWithTheSubclass() throws Exception {
    try (ObjectRef<Object> r = Manta.function("c_fail").remote("boom")) {
      CompletableFuture<Object> f = r.toCompletableFuture();
      ExecutionException e =
          assertThrows(ExecutionException.class, () -> f.get(60, TimeUnit.SECONDS));
      MantaException m = assertInstanceOf(MantaException.class, e.getCause());
      assertEquals(ErrorCode.INVALID, m.code());
      assertEquals("c_fail: boom", m.errorMessage());
    }
    try (ObjectRef<Object> r = Manta.function("no_such_function").remote()) {
      ExecutionException e = assertThrows(
          ExecutionException.class, () -> r.toCompletableFuture().get(60, TimeUnit.SECONDS));
      assertInstanceOf(MantaException.NotFound.class, e.getCause());
    }
  }

  @Test
  void theFutureOutlivesAClosedRef() throws Exception {
    ObjectRef<Long> r = Manta.function("c_add").remote(40L, 2L);
    CompletableFuture<Long> f = r.toCompletableFuture();
    r.close();
    assertEquals(42L, f.get(60, TimeUnit.SECONDS));
    assertThrows(IllegalStateException.class, r::toCompletableFuture);
  }
}
