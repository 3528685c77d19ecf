package manta;

import java.util.Optional;

/**
 * A Java driver of an actor restart across a real node death
 * (tests/cluster/run-actor-restart-test.sh given a Java command, test
 * java_actor_restart): it joins the cluster (MANTA_ADDRESS), creates a
 * Phoenix (a C class two nodes offer) with maxRestarts 1 and
 * maxTaskRetries 1, then kills the actor's node with SIGKILL in the middle
 * of a 1.5 s call. The call in flight is sent again and answers, a call
 * made just after the kill sees the constructor's state (101, not 106),
 * and the actor lives in another process.
 */
public final class ActorRestartDriver {
  private ActorRestartDriver() {}

  private static long callLong(ActorHandle a, String method, Object... args) {
    try (ObjectRef<Long> r = a.call(method, args)) {
      return r.get(60_000);
    }
  }

  private static void check(boolean ok, String what) {
    if (!ok) {
      System.err.println("java actor_restart: FAIL: " + what);
      System.exit(1);
    }
  }

  @SuppressWarnings("try") // the resource only closes the runtime
  public static void main(String[] argv) throws Exception {
    try (Manta runtime = Manta.init(System.getenv("MANTA_ADDRESS"));
         ActorHandle a = Manta.actor("Phoenix")
                             .options(new CallOptions().maxRestarts(1).maxTaskRetries(1))
                             .remote(100L)) {
      long first = callLong(a, "pid");
      check(callLong(a, "add", 5L) == 105L, "add 5 to 100");
      try (ObjectRef<Long> slow = a.call("slow", 1500L)) {
        Thread.sleep(300);
        Optional<ProcessHandle> node = ProcessHandle.of(first);
        check(node.isPresent(), "the actor's node " + first + " runs");
        System.out.println("java actor_restart: kill -9 of node pid " + first + " mid-call");
        System.out.flush();
        node.get().destroyForcibly(); // SIGKILL
        try (ObjectRef<Long> queued = a.call("add", 1L)) {
          check(slow.get(60_000) == 1500L, "the call in flight answers after the restart");
          long got = queued.get(60_000);
          check(got == 101L, "the call after the kill sees the new instance: " + got);
        }
      }
      long second = callLong(a, "pid");
      check(second != first && second > 1, "restarted in another process: " + second);
      System.out.println(
          "java actor_restart: restarted from pid " + first + " on pid " + second + ": ok");
    }
    System.exit(0);
  }
}
