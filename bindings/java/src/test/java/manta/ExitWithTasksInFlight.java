package manta;

/**
 * Exits the JVM (System.exit) while Java and C tasks are running and
 * queued, without Manta.shutdown: the process must exit cleanly.
 */
public final class ExitWithTasksInFlight {
  private ExitWithTasksInFlight() {}

  public static void main(String[] args) throws Exception {
    Manta.init(new Options().numCpus(2));
    Manta.loadModule(System.getProperty("manta.test.module"));
    Manta.register("j_sleep", (Long ms) -> {
      Thread.sleep(ms);
      return ms;
    });
    int n = 0;
    for (int i = 0; i < 20; i++) {
      Manta.function("j_sleep").remote(200);
      Manta.function("c_sleep_ms").remote(200);
      n += 2;
    }
    Thread.sleep(50); // let some start
    System.out.println("exiting with " + n + " tasks in flight");
    System.out.flush();
    System.exit(0);
  }
}
