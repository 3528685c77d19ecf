package manta;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.List;
import java.util.NoSuchElementException;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * Streams (ObjectRefStream, Manta.emit) both ways between Java and C: a
 * C generator read by Java, a Java generator read by C code, failure after
 * items, timeouts, a reader letting go, actor methods.
 */
class StreamsTest {
  private static Manta runtime;
  private static final AtomicInteger stopped = new AtomicInteger();
  private static volatile boolean gate;

  /** A Java actor whose method emits its running count k times. */
  public static class Ticker {
    private long count;

    public Ticker() {}

    public Object ticks(long k) {
      for (long i = 0; i < k; i++) {
        Manta.emit(++count);
      }
      return null;
    }
  }

  @BeforeAll
  static void start() {
    runtime = TestSupport.start(new Options().numCpus(2));
    Manta.register("j_gen", (Long n) -> {
      for (long i = 0; i < n; i++) {
        Manta.emit(i * 10);
      }
      return "done";
    });
    Manta.register("j_gen_fail", (Long n) -> {
      for (long i = 0; i < n; i++) {
        Manta.emit(i);
      }
      throw new IllegalStateException("bad row " + n);
    });
    Manta.register("j_gen_forever", () -> {
      try {
        for (long i = 0;; i++) {
          Manta.emit(i);
        }
      } catch (MantaException.Cancelled e) {
        stopped.incrementAndGet();
        return null;
      }
    });
    Manta.register("j_gen_gated", () -> {
      Manta.emit(1L);
      for (int i = 0; i < 60_000 && !gate; i++) {
        Thread.sleep(1);
      }
      Manta.emit(2L);
      return null;
    });
    Manta.register("j_not_a_stream", () -> {
      Manta.emit(1L);
      return null;
    });
    Manta.registerActor("Ticker", Ticker.class);
  }

  @AfterAll
  static void stop() {
    runtime.close();
  }

  @Test
  void cGeneratorReadByJava() {
    long sum = 0;
    int count = 0;
    try (ObjectRefStream<Long> s = Manta.function("c_gen")
                                       .options(new CallOptions().streamWindow(8))
                                       .remoteStream(100L, 500L)) {
      for (ObjectRef<Long> r : s) {
        assertEquals(100L + count, r.get(60_000));
        sum += r.get(60_000);
        count++;
        r.close();
      }
      assertFalse(s.hasNext());
      assertThrows(NoSuchElementException.class, s::next);
    }
    assertEquals(500, count);
    assertEquals(500L * 100 + 499L * 500 / 2, sum);
  }

  @Test
  void javaGeneratorReadByC() {
    List<?> got = (List<?>) Manta.function("c_read_stream").remote("j_gen", 1000L).get(60_000);
    assertEquals(10L * 999 * 1000 / 2, got.get(0));
    assertEquals(1000L, got.get(1));
    assertEquals("MANTA_ERR_STREAM_END", got.get(2));
    // A Java generator failing after its items: C sees them, then the error.
    got = (List<?>) Manta.function("c_read_stream").remote("j_gen_fail", 4L).get(60_000);
    assertEquals(6L, got.get(0));
    assertEquals(4L, got.get(1));
    assertEquals("MANTA_ERR_TASK_FAILED", got.get(2));
    assertTrue(((String) got.get(3)).contains("bad row 4"), (String) got.get(3));
  }

  @Test
  void failureComesAfterTheItems() {
    try (ObjectRefStream<Long> s = Manta.submitStream("j_gen_fail", 3L)) {
      for (long i = 0; i < 3; i++) {
        assertTrue(s.hasNext());
        assertEquals(i, s.next().get(60_000));
      }
      MantaException e = assertThrows(MantaException.class, s::hasNext);
      assertTrue(e.getMessage().contains("bad row 3"), e.getMessage());
    }
  }

  @Test
  void timeoutThenMore() {
    gate = false;
    try (ObjectRefStream<Long> s = Manta.submitStream("j_gen_gated")) {
      assertEquals(1L, s.next(60_000).get(60_000));
      assertNull(s.next(0));
      assertNull(s.next(30));
      gate = true;
      assertEquals(2L, s.next(60_000).get(60_000));
      assertThrows(NoSuchElementException.class, () -> s.next(60_000));
    }
  }

  @Test
  void closingStopsTheProducer() throws InterruptedException {
    int before = stopped.get();
    ObjectRefStream<Long> s =
        Manta.function("j_gen_forever").options(new CallOptions().streamWindow(4)).remoteStream();
    assertEquals(0L, s.next().get(60_000));
    s.close();
    for (int i = 0; i < 6000 && stopped.get() == before; i++) {
      Thread.sleep(10);
    }
    assertEquals(before + 1, stopped.get());
  }

  @Test
  void actorMethodStreams() {
    try (ActorHandle a = Manta.actor("Ticker").remote()) {
      for (int round = 0; round < 2; round++) {
        try (ObjectRefStream<Long> s = a.callStream(2, "ticks", 50L)) {
          long expect = round * 50L + 1;
          for (ObjectRef<Long> r : s) {
            assertEquals(expect++, r.get(60_000));
          }
          assertEquals(round * 50L + 51, expect);
        }
      }
    }
  }

  @Test
  void emitOutsideAStreamIsRefused() {
    MantaException e = assertThrows(
        MantaException.class, () -> Manta.function("j_not_a_stream").remote().get(60_000));
    assertTrue(e.getMessage().contains("only a call submitted as a stream"), e.getMessage());
    assertThrows(IllegalArgumentException.class, () -> new CallOptions().streamWindow(0));
    assertEquals(ErrorCode.STREAM_END, ErrorCode.of(25));
  }
}
