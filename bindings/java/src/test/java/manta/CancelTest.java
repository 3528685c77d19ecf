package manta;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.List;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * Cancelling running Java work (Manta.cancelled, the thread interrupted,
 * recursive cancels), cancelling a pending actor creation,
 * retryExceptions and the runtime context.
 */
class CancelTest {
  private static Manta runtime;
  private static final CountDownLatch looping = new CountDownLatch(1);
  private static final CountDownLatch sleeping = new CountDownLatch(3);
  private static final AtomicInteger interrupted = new AtomicInteger();
  private static final AtomicInteger flakyRuns = new AtomicInteger();
  private static final CountDownLatch holding = new CountDownLatch(1);
  private static final CountDownLatch busy = new CountDownLatch(1);
  private static final AtomicInteger accMade = new AtomicInteger();

  /** Sleeps until its thread is interrupted (60 s at most). */
  static String sleepUntilInterrupted() {
    sleeping.countDown();
    try {
      Thread.sleep(60_000);
      return "slept";
    } catch (InterruptedException e) {
      interrupted.incrementAndGet();
      return "interrupted";
    }
  }

  /** An actor whose hold() waits to be cancelled. */
  public static class Acc {
    private long total;

    public Acc() {
      accMade.incrementAndGet();
    }

    public boolean hold() {
      holding.countDown();
      for (int i = 0; i < 60_000 && !Manta.cancelled(); i++) {
        try {
          Thread.sleep(1);
        } catch (InterruptedException e) {
          return true; // the cancel interrupted it
        }
      }
      return Manta.cancelled();
    }

    public long add(long k) {
      total += k;
      return total;
    }

    public String whoami() {
      return Manta.currentActorId();
    }
  }

  @BeforeAll
  static void start() {
    runtime = TestSupport.start(new Options().numCpus(4));
    Manta.register("j_loop", () -> {
      looping.countDown();
      for (int i = 0; i < 60_000 && !Manta.cancelled(); i++) {
        Thread.onSpinWait();
        if (Thread.interrupted()) {
          break; // the cancel interrupts too; the flag says why
        }
        try {
          Thread.sleep(1);
        } catch (InterruptedException e) {
          break;
        }
      }
      return Manta.cancelled() ? "cancelled" : "not cancelled";
    });
    Manta.register("j_sleep", CancelTest::sleepUntilInterrupted);
    // j_busy: holds its CPU slot until cancelled (60 s at most).
    Manta.register("j_busy", () -> {
      busy.countDown();
      for (int i = 0; i < 60_000 && !Manta.cancelled(); i++) {
        try {
          Thread.sleep(1);
        } catch (InterruptedException e) {
          break;
        }
      }
      return "done";
    });
    // j_parent(depth): submits j_parent(depth - 1) (j_sleep at 0), sleeps.
    Manta.register("j_parent", (Long depth) -> {
      ObjectRef<Object> kid = depth > 1 ? Manta.function("j_parent").remote(depth - 1)
                                        : Manta.function("j_sleep").remote();
      String r = sleepUntilInterrupted();
      kid.close();
      return r;
    });
    Manta.register("j_flaky", (Long k) -> {
      flakyRuns.incrementAndGet();
      int attempt = Manta.currentAttempt();
      if (attempt < k) {
        throw new IllegalStateException("not yet at attempt " + attempt);
      }
      return (long) attempt;
    });
    Manta.register("j_context",
        ()
            -> List.of(Manta.currentTaskId(), (long) Manta.currentAttempt(), Manta.nodeId(),
                Manta.cancelled()));
    Manta.registerActor("JAcc", Acc.class);
  }

  @AfterAll
  static void stop() {
    runtime.close();
  }

  @Test
  void aLoopEndsWhenCancelled() throws Exception {
    ObjectRef<String> r = Manta.function("j_loop").remote();
    assertTrue(looping.await(60, TimeUnit.SECONDS));
    assertTrue(r.cancel());
    MantaException e = assertThrows(MantaException.Cancelled.class, () -> r.get(60_000));
    assertTrue(e.errorMessage().contains("cancelled while it ran"), e.errorMessage());
    r.close();
  }

  @Test
  void recursiveCancelInterruptsEveryLevel() throws Exception {
    int before = interrupted.get();
    ObjectRef<String> r = Manta.function("j_parent").remote(2L);
    assertTrue(sleeping.await(60, TimeUnit.SECONDS)); // parent, child, grandchild
    assertTrue(r.cancel(true));
    assertThrows(MantaException.Cancelled.class, () -> r.get(60_000));
    for (int i = 0; i < 6000 && interrupted.get() < before + 3; i++) {
      Thread.sleep(10);
    }
    assertEquals(before + 3, interrupted.get());
    r.close();
  }

  @Test
  void actorCallsNotStartedNeverRun() throws Exception {
    try (ActorHandle a = Manta.actor("JAcc").remote()) {
      ObjectRef<Boolean> hold = a.call("hold");
      ObjectRef<Long> c1 = a.call("add", 1L);
      ObjectRef<Long> c2 = a.call("add", 10L);
      ObjectRef<Long> c3 = a.call("add", 100L);
      assertTrue(holding.await(60, TimeUnit.SECONDS));
      assertTrue(c2.cancel());
      assertThrows(MantaException.Cancelled.class, () -> c2.get(60_000));
      assertTrue(hold.cancel());
      assertThrows(MantaException.Cancelled.class, () -> hold.get(60_000));
      assertEquals(1L, c1.get(60_000));
      assertEquals(101L, c3.get(60_000));
      ObjectRef<String> id = a.call("whoami");
      String actorId = id.get(60_000);
      assertTrue(actorId.startsWith("actor-" + Manta.nodeId()), actorId);
      for (ObjectRef<?> r : List.of(hold, c1, c2, c3, id)) {
        r.close();
      }
    }
  }

  @Test
  void aPendingCreationIsCancelled() throws Exception {
    ObjectRef<String> hold = Manta.function("j_busy").remote(); // 1 of the 4 CPUs
    assertTrue(busy.await(60, TimeUnit.SECONDS));
    int made = accMade.get();
    ActorHandle a = Manta.actor("JAcc").options(new CallOptions().numCpus(4)).remote();
    ObjectRef<Long> c = a.call("add", 1L);
    assertTrue(a.cancelCreation());
    MantaException e = assertThrows(MantaException.ActorDead.class, () -> c.get(60_000));
    assertTrue(e.errorMessage().contains("its creation was cancelled before its constructor ran"),
        e.errorMessage());
    assertFalse(a.cancelCreation()); // dead: nothing to cancel
    assertTrue(hold.cancel());
    assertThrows(MantaException.Cancelled.class, () -> hold.get(60_000));
    assertEquals(made, accMade.get()); // its constructor never ran
    for (AutoCloseable r : List.of(hold, c, a)) {
      r.close();
    }
    // Created: too late to cancel its creation.
    try (ActorHandle b = Manta.actor("JAcc").remote(); ObjectRef<Long> r = b.call("add", 2L)) {
      assertEquals(2L, r.get(60_000));
      assertFalse(b.cancelCreation());
    }
  }

  @Test
  void retryExceptionsRunsExactlyAsOftenAsNeeded() {
    flakyRuns.set(0);
    CallOptions retry = new CallOptions().maxRetries(3).retryExceptions(true);
    try (ObjectRef<Long> r = Manta.function("j_flaky").options(retry).remote(3L)) {
      assertEquals(3L, r.get(60_000));
    }
    assertEquals(3, flakyRuns.get());
    flakyRuns.set(0);
    CallOptions twice = new CallOptions().maxRetries(1).retryExceptions(true);
    try (ObjectRef<Long> r = Manta.function("j_flaky").options(twice).remote(9L)) {
      MantaException e = assertThrows(MantaException.class, () -> r.get(60_000));
      assertTrue(e.errorMessage().contains("(attempt 2 of 2 on node " + Manta.nodeId() + ")"),
          e.errorMessage());
    }
    assertEquals(2, flakyRuns.get());
    assertThrows(IllegalArgumentException.class, () -> new CallOptions().maxRetries(-2));
  }

  @Test
  void aTaskSeesItsContext() {
    try (ObjectRef<List<Object>> r = Manta.function("j_context").remote()) {
      List<Object> c = r.get(60_000);
      assertEquals(r.toString(), "ObjectRef(" + c.get(0) + ")");
      assertEquals(1L, c.get(1));
      assertEquals(Manta.nodeId(), c.get(2));
      assertEquals(false, c.get(3));
    }
    assertNull(Manta.currentTaskId());
    assertNull(Manta.currentActorId());
    assertEquals(0, Manta.currentAttempt());
    assertFalse(Manta.cancelled());
  }
}
