package manta;

import java.util.Locale;

/**
 * The Java functions and actor class of the JVM node in the cluster test
 * (manta.Node --module manta.ClusterJvmModule; src/test/cluster/).
 */
public class ClusterJvmModule implements Module {
  @Override
  public void register() {
    Manta.register("java.upper", (String s) -> s.toUpperCase(Locale.ROOT));
    Manta.register(
        "java.fail", (String s) -> { throw new IllegalStateException("refused: " + s); });
    Manta.register("java.jvm_pid", () -> ProcessHandle.current().pid());
    // A Java generator (streams): emits 0, 3, 6... n items.
    Manta.register("java.upto", (Long n) -> {
      for (long i = 0; i < n; i++) {
        Manta.emit(3 * i);
      }
      return null;
    });
    Manta.registerActor("java.JvmCounter", ClusterCounter.class);
  }
}
