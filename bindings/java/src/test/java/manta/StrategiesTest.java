package manta;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * Scheduling strategies on the embedded runtime (docs/scheduling.md): one
 * node, so SPREAD runs here, an affinity to this node runs here, a hard one
 * to another node fails naming it, a soft one runs here instead.
 */
class StrategiesTest {
  private static Manta runtime;
  private static final long PID = ProcessHandle.current().pid();

  /** An actor that says which process it lives in. */
  public static class Where {
    public Where() {}

    public long pid() {
      return PID;
    }
  }

  @BeforeAll
  static void start() {
    runtime = TestSupport.start(new Options().numCpus(2));
    Manta.register("j_pid", () -> PID);
    Manta.registerActor("Where", Where.class);
  }

  @AfterAll
  static void stop() {
    runtime.close();
  }

  /** An id that is not this node's. */
  private static String otherId() {
    return Manta.nodeId().equals("0123456789abcdef") ? "fedcba9876543210" : "0123456789abcdef";
  }

  private static long pidWith(CallOptions options) {
    try (ObjectRef<Long> r = Manta.function("j_pid").options(options).remote()) {
      return r.get(10_000);
    }
  }

  @Test
  void nodeIdIsSixteenHexDigits() {
    assertTrue(Manta.nodeId().matches("[0-9a-f]{16}"), Manta.nodeId());
  }

  @Test
  void spreadRunsHereWhenEmbedded() {
    List<ObjectRef<Long>> refs = new ArrayList<>();
    for (int i = 0; i < 20; i++) {
      refs.add(
          Manta.function("j_pid").options(new CallOptions().strategy(Strategy.SPREAD)).remote());
    }
    for (ObjectRef<Long> r : refs) {
      try (r) {
        assertEquals(PID, r.get(10_000));
      }
    }
  }

  @Test
  void affinityToThisNodeRunsHere() {
    assertEquals(PID, pidWith(new CallOptions().nodeAffinity(Manta.nodeId(), false)));
    assertEquals(PID, pidWith(new CallOptions().nodeAffinity(Manta.nodeId(), true)));
    // The strategy set last wins.
    assertEquals(
        PID, pidWith(new CallOptions().nodeAffinity(otherId(), false).strategy(Strategy.DEFAULT)));
  }

  @Test
  void hardAffinityToAnotherNodeFailsNamingIt() {
    MantaException e = assertThrows(MantaException.NotFound.class,
        () -> pidWith(new CallOptions().nodeAffinity(otherId(), false)));
    assertTrue(e.errorMessage().startsWith(
                   "hard node affinity: node " + otherId() + " is not in the cluster"),
        e.errorMessage());
  }

  @Test
  void softAffinityToAnotherNodeRunsHere() {
    assertEquals(PID, pidWith(new CallOptions().nodeAffinity(otherId(), true)));
  }

  @Test
  void actorsTakeTheSameOptions() {
    try (ActorHandle here = Manta.actor("Where")
                                .options(new CallOptions().nodeAffinity(Manta.nodeId(), false))
                                .remote();
         ObjectRef<Long> r = here.call("pid")) {
      assertEquals(PID, r.get(10_000));
    }
    try (
        ActorHandle nowhere =
            Manta.actor("Where").options(new CallOptions().nodeAffinity(otherId(), false)).remote();
        ObjectRef<Long> r = nowhere.call("pid")) {
      MantaException e = assertThrows(MantaException.ActorDead.class, () -> r.get(10_000));
      MantaException cause = assertInstanceOf(MantaException.NotFound.class, e.errorCause());
      assertTrue(cause.errorMessage().contains(otherId()), cause.errorMessage());
    }
  }

  @Test
  void badNodeIdsAreRefused() {
    for (String bad : new String[] {null, "", "0", "0x12", "node", "0123456789abcdef0"}) {
      assertThrows(
          IllegalArgumentException.class, () -> new CallOptions().nodeAffinity(bad, false));
    }
    assertThrows(IllegalArgumentException.class, () -> new CallOptions().strategy(null));
    assertNotEquals(Manta.nodeId(), otherId());
  }
}
