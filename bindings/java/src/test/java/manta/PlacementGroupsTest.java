package manta;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * Placement groups on the embedded runtime (docs/scheduling.md), on a node
 * of 2 CPUs: reserved and waited for, calls in a bundle run from its CPUs
 * while a call outside waits, infeasible groups fail at once, pending ones
 * are reserved once resources free up (a task submitted into one meanwhile
 * waits for it, and so does an actor created into one, its calls queued in
 * order), removing kills the group's actors.
 */
class PlacementGroupsTest {
  private static Manta runtime;

  /** An actor that answers. */
  public static class Box {
    public Box() {}

    public long one() {
      return 1L;
    }
  }

  /** A counter from 10: its calls answer 11, 12, ... after its constructor. */
  public static class Tally {
    private long n;

    public Tally() {
      n = 10;
    }

    public long next() {
      return ++n;
    }
  }

  @BeforeAll
  static void start() {
    runtime = TestSupport.start(new Options().numCpus(2));
    Manta.register("j_one", () -> 1L);
    Manta.registerActor("Box", Box.class);
    Manta.registerActor("Tally", Tally.class);
  }

  @AfterAll
  static void stop() {
    runtime.close();
  }

  private static List<Map<String, Double>> cpus(int n, double each) {
    List<Map<String, Double>> bundles = new ArrayList<>();
    for (int i = 0; i < n; i++) {
      bundles.add(Map.of("CPU", each));
    }
    return bundles;
  }

  private static long oneWith(CallOptions options) {
    try (ObjectRef<Long> r = Manta.function("j_one").options(options).remote()) {
      return r.get(10_000);
    }
  }

  @Test
  void bundlesHoldTheNodesCpusForTheirCalls() {
    PlacementGroup pg = Manta.placementGroup(cpus(2, 1), PlacementStrategy.STRICT_PACK);
    assertTrue(pg.waitReady(5_000));
    assertEquals("CREATED", pg.info().get("state"));
    for (int b = -1; b < 2; b++) {
      assertEquals(1L, oneWith(new CallOptions().placementGroup(pg, b)));
    }
    try (ObjectRef<Long> outside = Manta.function("j_one").remote()) {
      assertThrows(MantaException.Timeout.class, () -> outside.get(300));
      pg.remove();
      assertEquals(1L, outside.get(10_000));
    }
    assertThrows(MantaException.class, () -> pg.waitReady(0));
  }

  @Test
  void captureChildTasksIsSetOnALiveGroupOnly() {
    PlacementGroup pg = Manta.placementGroup(cpus(1, 1), PlacementStrategy.PACK);
    assertTrue(pg.waitReady(5_000));
    assertEquals(pg, pg.captureChildTasks(true).captureChildTasks(false));
    pg.remove();
    assertThrows(MantaException.class, () -> pg.captureChildTasks(true));
  }

  @Test
  void infeasibleGroupsFailAtOnce() {
    PlacementGroup pg = Manta.placementGroup(cpus(2, 1), PlacementStrategy.STRICT_SPREAD);
    long t0 = System.nanoTime();
    MantaException e = assertThrows(MantaException.class, () -> pg.waitReady(10_000));
    assertTrue((System.nanoTime() - t0) / 1_000_000 < 1_000);
    assertEquals(ErrorCode.INFEASIBLE, e.code());
    assertTrue(e.errorMessage().contains("STRICT_SPREAD"), e.errorMessage());
    pg.remove();
  }

  @Test
  void pendingGroupIsReservedOnceResourcesFree() {
    PlacementGroup a = Manta.placementGroup(cpus(1, 2), PlacementStrategy.PACK);
    assertTrue(a.waitReady(5_000));
    PlacementGroup b = Manta.placementGroup(cpus(1, 1), PlacementStrategy.PACK);
    assertFalse(b.waitReady(200));
    a.remove();
    assertTrue(b.waitReady(5_000));
    b.remove();
  }

  @Test
  void taskSubmittedBeforeTheGroupIsReadyWaitsForIt() {
    PlacementGroup a = Manta.placementGroup(cpus(1, 2), PlacementStrategy.PACK);
    assertTrue(a.waitReady(5_000));
    PlacementGroup b = Manta.placementGroup(cpus(1, 1), PlacementStrategy.PACK);
    PlacementGroup c = Manta.placementGroup(cpus(1, 1), PlacementStrategy.PACK);
    try (ObjectRef<Long> waits =
             Manta.function("j_one").options(new CallOptions().placementGroup(b, 0)).remote();
         ObjectRef<Long> dropped =
             Manta.function("j_one").options(new CallOptions().placementGroup(c, 0)).remote()) {
      assertThrows(MantaException.Timeout.class, () -> waits.get(300));
      c.remove();
      MantaException e = assertThrows(MantaException.class, () -> dropped.get(10_000));
      assertEquals(ErrorCode.CANCELLED, e.code());
      assertTrue(e.errorMessage().contains("removed before it ran"), e.errorMessage());
      a.remove();
      assertEquals(1L, waits.get(10_000));
    }
    assertTrue(b.waitReady(5_000));
    b.remove();
  }

  @Test
  void actorCreatedBeforeTheGroupIsReadyWaitsForIt() {
    PlacementGroup a = Manta.placementGroup(cpus(1, 2), PlacementStrategy.PACK);
    assertTrue(a.waitReady(5_000));
    PlacementGroup b = Manta.placementGroup(cpus(1, 1), PlacementStrategy.PACK);
    PlacementGroup c = Manta.placementGroup(cpus(1, 1), PlacementStrategy.PACK);
    String removed = "placement group " + c.info().get("id") + " was removed before it ran";
    try (ActorHandle tally =
             Manta.actor("Tally").options(new CallOptions().placementGroup(b, 0)).remote();
         ActorHandle dropped =
             Manta.actor("Tally").options(new CallOptions().placementGroup(c, -1)).remote();
         ObjectRef<Long> first = tally.call("next"); ObjectRef<Long> second = tally.call("next");
         ObjectRef<Long> lost = dropped.call("next")) {
      assertThrows(MantaException.Timeout.class, () -> first.get(300));
      c.remove();
      MantaException e = assertThrows(MantaException.ActorDead.class, () -> lost.get(10_000));
      assertTrue(e.errorMessage().contains(removed), e.errorMessage());
      a.remove();
      assertEquals(11L, first.get(10_000));
      assertEquals(12L, second.get(10_000));
    }
    assertTrue(b.waitReady(5_000));
    b.remove();
  }

  @Test
  void callLargerThanItsBundleFails() {
    PlacementGroup pg = Manta.placementGroup(cpus(1, 1), PlacementStrategy.PACK);
    assertTrue(pg.waitReady(5_000));
    MantaException e = assertThrows(
        MantaException.class, () -> oneWith(new CallOptions().numCpus(2).placementGroup(pg, 0)));
    assertEquals(ErrorCode.INFEASIBLE, e.code());
    assertTrue(e.errorMessage().contains("asks more than bundle 0"), e.errorMessage());
    pg.remove();
    assertThrows(IllegalArgumentException.class, () -> new CallOptions().placementGroup(pg, -2));
  }

  @Test
  void removeKillsTheGroupsActors() {
    PlacementGroup pg = Manta.placementGroup(cpus(1, 1), PlacementStrategy.PACK);
    assertTrue(pg.waitReady(5_000));
    try (ActorHandle box = Manta.actor("Box")
                               .options(new CallOptions().numCpus(1).placementGroup(pg, 0))
                               .remote()) {
      try (ObjectRef<Long> r = box.call("one")) {
        assertEquals(1L, r.get(10_000));
      }
      pg.remove();
      try (ObjectRef<Long> r = box.call("one")) {
        MantaException e = assertThrows(MantaException.ActorDead.class, () -> r.get(10_000));
        assertTrue(e.errorMessage().contains("placement group"), e.errorMessage());
      }
    }
  }
}
