package manta;

/**
 * The Java functions and actor class of the C node hosting a JVM in the
 * cluster test (manta start --classpath ... --java-module
 * manta.ClusterHostedModule).
 */
public class ClusterHostedModule implements Module {
  @Override
  public void register() {
    Manta.register("java.reverse", (String s) -> new StringBuilder(s).reverse().toString());
    Manta.register("java.hosted_pid", () -> ProcessHandle.current().pid());
    Manta.registerActor("java.HostedCounter", ClusterCounter.class);
  }
}
