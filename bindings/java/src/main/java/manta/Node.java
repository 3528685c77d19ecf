package manta;

import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CountDownLatch;

/**
 * A JVM node in one command:
 *
 * <pre>
 * java -cp manta.jar:app.jar manta.Node [--address HOST:PORT] [--cpus N]
 *      [--module CLASS]... [--c-module PATH]... [--check]
 * </pre>
 *
 * starts the runtime (joining the cluster at --address or MANTA_ADDRESS, if
 * given), loads the C modules and the Java modules (classes implementing
 * {@link Module}; also those named in MANTA_JAVA_MODULES), then serves until
 * the process is stopped (SIGTERM or SIGINT stop the runtime in order).
 * --check stops after loading instead: it proves the modules load.
 */
public final class Node {
  private Node() {}

  @SuppressWarnings("try") // the resource only closes the runtime
  public static void main(String[] argv) throws InterruptedException {
    Options options = new Options();
    List<String> javaModules = new ArrayList<>();
    List<String> cModules = new ArrayList<>();
    boolean check = false;
    for (int i = 0; i < argv.length; i++) {
      String a = argv[i];
      switch (a) {
        case "--address":
          options.address(value(argv, ++i, a));
          break;
        case "--cpus":
          options.numCpus(Double.parseDouble(value(argv, ++i, a)));
          break;
        case "--module":
          javaModules.add(value(argv, ++i, a));
          break;
        case "--c-module":
          cModules.add(value(argv, ++i, a));
          break;
        case "--check":
          check = true;
          break;
        case "-h":
        case "--help":
          System.out.println(
              "usage: java -cp manta.jar:app.jar manta.Node [--address HOST:PORT] [--cpus N]\n"
                  + "       [--module CLASS]... [--c-module PATH]... [--check]");
          return;
        default:
          System.err.println("manta.Node: unknown option " + a + " (try --help)");
          System.exit(2);
      }
    }
    try (Manta runtime = Manta.init(options)) {
      for (String path : cModules) {
        Manta.loadModule(path);
      }
      ModuleLoader.load(System.getenv("MANTA_JAVA_MODULES"));
      for (String name : javaModules) {
        ModuleLoader.loadOne(name);
      }
      System.out.println(
          "manta node ready: " + cModules.size() + " C module(s), "
              + javaModules.size() + " Java module(s)");
      System.out.flush();
      if (!check) {
        new CountDownLatch(1).await(); // until the JVM is told to stop
      }
    } catch (MantaException | IllegalArgumentException e) {
      System.err.println("manta.Node: " + e.getMessage());
      System.exit(1);
    }
  }

  private static String value(String[] argv, int i, String option) {
    if (i >= argv.length) {
      System.err.println("manta.Node: " + option + " needs a value");
      System.exit(2);
    }
    return argv[i];
  }
}
