package manta;

import java.io.IOException;
import java.nio.file.FileAlreadyExistsException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.concurrent.locks.LockSupport;

/**
 * A Java driver of the get-or-create race across processes
 * (tests/cluster/run-get-or-create-test.sh, test java_get_or_create): the
 * Java twin of tests/cluster/get_or_create_driver.c, racing a C driver. It
 * joins the cluster (MANTA_ADDRESS), meets the other driver at a file
 * barrier each round, then asks {@code Manta.actor("Racer").named(name)
 * .getOrCreate(name)} at the same moment as the other. Racer is a C class
 * only the C driver offers, so an actor this driver creates is made in the
 * C driver's process (once this driver sees that class offered). It
 * prints, per round, the identity the actor reports in the C driver's
 * format, with "created -1": the Java API does not say which caller
 * created it (the script then checks the constructor's runs instead).
 *
 * <pre>
 * GetOrCreateDriver ME OTHER DIR ROUNDS
 * </pre>
 */
public final class GetOrCreateDriver {
  private GetOrCreateDriver() {}

  /** Writes DIR/ME-TAG and waits (20 s at most) for DIR/OTHER-TAG. */
  private static boolean meet(Path dir, String me, String other, String tag) throws IOException {
    try {
      Files.createFile(dir.resolve(me + "-" + tag));
    } catch (FileAlreadyExistsException e) {
      // made already: fine
    }
    Path theirs = dir.resolve(other + "-" + tag);
    long deadline = System.nanoTime() + 20_000_000_000L;
    while (System.nanoTime() < deadline) {
      if (Files.exists(theirs)) {
        return true;
      }
      LockSupport.parkNanos(20_000);
    }
    System.err.println("java driver " + me + ": " + theirs + " never came");
    return false;
  }

  /**
   * Waits (20 s at most) until this driver's view of the cluster shows a
   * node offering Racer (views follow heartbeats): a Racer named "probe"
   * is made and asked its identity until that works. Its constructor's
   * line ("probe PID") is not one of the race's.
   */
  private static boolean seeRacer() throws IOException {
    long deadline = System.nanoTime() + 20_000_000_000L;
    while (System.nanoTime() < deadline) {
      try (ActorHandle a = Manta.actor("Racer").remote("probe");
           ObjectRef<Object> id = a.call("identity")) {
        id.get(30_000);
        return true;
      } catch (MantaException e) {
        LockSupport.parkNanos(100_000_000L);
      }
    }
    System.err.println("java driver: no node offers Racer after 20 s");
    return false;
  }

  /** The C driver's repr of a string: quoted. */
  private static String repr(Object v) {
    return v instanceof String ? "\"" + v + "\"" : String.valueOf(v);
  }

  @SuppressWarnings("try") // the resource only closes the runtime
  public static void main(String[] argv) throws IOException {
    if (argv.length != 4) {
      System.err.println("usage: GetOrCreateDriver ME OTHER DIR ROUNDS");
      System.exit(2);
    }
    String me = argv[0];
    String other = argv[1];
    Path dir = Path.of(argv[2]);
    int rounds = Integer.parseInt(argv[3]);
    boolean failed = false;
    try (Manta runtime = Manta.init(System.getenv("MANTA_ADDRESS"))) {
      failed = !meet(dir, me, other, "registered") || !seeRacer();
      for (int round = 0; !failed && round < rounds; round++) {
        String name = "race-" + round;
        if (!meet(dir, me, other, "round-" + round)) {
          failed = true;
          break;
        }
        try (ActorHandle a = Manta.actor("Racer").named(name).getOrCreate(name);
             ObjectRef<Object> id = a.call("identity")) {
          System.out.println("round " + round + " actor " + repr(id.get(30_000)) + " created -1");
        } catch (MantaException e) {
          System.err.println("java driver " + me + ": round " + round + ": " + e);
          failed = true;
        }
      }
      System.out.flush();
      // The other may still call the actors made for this driver.
      if (!meet(dir, me, other, "end")) {
        failed = true;
      }
    }
    System.exit(failed ? 1 : 0);
  }
}
