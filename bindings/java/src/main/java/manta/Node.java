package manta;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.Path;
import java.nio.file.Paths;
import java.nio.file.StandardOpenOption;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CountDownLatch;

/**
 * A JVM node in one command:
 *
 * <pre>
 * java -cp manta.jar:app.jar manta.Node [--address HOST:PORT] [--num-cpus N]
 *      [--resources a=1,b=2] [--bind HOST] [--port P] [--token T]
 *      [--tls-cert PATH --tls-key PATH] [--tls-ca PATH] [--insecure]
 *      [--module CLASS]... [--c-module PATH]... [--check]
 * </pre>
 *
 * starts the runtime, joining the cluster at --address (or MANTA_ADDRESS) as
 * a node that serves others, loads the C modules and the Java modules
 * (classes implementing {@link Module}; also those named in
 * MANTA_JAVA_MODULES), prints {@code manta: node ready at ADDRESS (pid N)
 * ...} as {@code manta start --foreground} does, then serves until the
 * process is stopped: SIGTERM or SIGINT stop the runtime in order, which
 * leaves the cluster at once. Without an address the node is embedded
 * (nothing to join). --check stops after loading: it proves the modules
 * load.
 */
public final class Node {
  private Node() {}

  private static final String USAGE = "usage: java -cp manta.jar:app.jar manta.Node [options]\n"
      + "  --address HOST:PORT   the head of the cluster to join (default: "
      + "MANTA_ADDRESS;\n"
      + "                        neither: an embedded node)\n"
      + "  --num-cpus N          CPU slots (default: the machine's cores; "
      + "also --cpus)\n"
      + "  --resources a=1,b=2   custom resources\n"
      + "  --bind HOST           address to serve on (default 127.0.0.1); "
      + "another than\n"
      + "                        loopback needs a token and TLS, or "
      + "--insecure\n"
      + "  --port P              port to serve on (default: any free one)\n"
      + "  --token T             cluster token (default: MANTA_TOKEN)\n"
      + "  --tls-cert PATH       TLS certificate of this node (default: "
      + "MANTA_TLS_CERT)\n"
      + "  --tls-key PATH        its private key, mode 0600 (default: "
      + "MANTA_TLS_KEY)\n"
      + "  --tls-ca PATH         the cluster's CA: mutual TLS (default: "
      + "MANTA_TLS_CA)\n"
      + "  --insecure            allow a bind beyond loopback without "
      + "TLS\n"
      + "  --module CLASS        load a Java module (repeatable; also "
      + "MANTA_JAVA_MODULES)\n"
      + "  --c-module PATH       load a C module (repeatable)\n"
      + "  --check               stop once the modules are loaded\n";

  @SuppressWarnings("try") // the resource only closes the runtime
  public static void main(String[] argv) throws InterruptedException {
    Options options = new Options().asNode();
    List<String> javaModules = new ArrayList<>();
    List<String> cModules = new ArrayList<>();
    boolean check = false;
    String bindHost = "127.0.0.1";
    String port = "0";
    String[] tls = new String[3]; // cert, key, ca
    try {
      for (int i = 0; i < argv.length; i++) {
        String a = argv[i];
        switch (a) {
          case "--address":
            options.address(value(argv, ++i, a));
            break;
          case "--cpus":
          case "--num-cpus":
            options.numCpus(number(value(argv, ++i, a), a));
            break;
          case "--resources":
            resources(options, value(argv, ++i, a));
            break;
          case "--bind":
            bindHost = value(argv, ++i, a);
            break;
          case "--port":
            port = value(argv, ++i, a);
            if (!port.matches("[0-9]{1,5}") || Integer.parseInt(port) > 65535) {
              throw new IllegalArgumentException("--port takes a port number, not '" + port + "'");
            }
            break;
          case "--token":
            options.token(value(argv, ++i, a));
            break;
          case "--tls-cert":
            tls[0] = value(argv, ++i, a);
            break;
          case "--tls-key":
            tls[1] = value(argv, ++i, a);
            break;
          case "--tls-ca":
            tls[2] = value(argv, ++i, a);
            break;
          case "--insecure":
            options.insecure(true);
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
            System.out.print(USAGE);
            return;
          default:
            throw new IllegalArgumentException("unknown option " + a + " (try --help)");
        }
      }
    } catch (IllegalArgumentException e) {
      System.err.println("manta.Node: " + e.getMessage());
      System.exit(2);
    }
    options.bind(bindHost + ":" + port);
    if (tls[0] != null || tls[1] != null || tls[2] != null) {
      options.tls(tls[0], tls[1], tls[2]);
    }
    try (Manta runtime = Manta.init(options)) {
      for (String path : cModules) {
        Manta.loadModule(path);
      }
      ModuleLoader.load(System.getenv("MANTA_JAVA_MODULES"));
      for (String name : javaModules) {
        ModuleLoader.loadOne(name);
      }
      String address = Manta.nodeAddress();
      // Before the ready line: whoever waits for it may run manta stop.
      if (address != null && !check) {
        writePidFile(address);
      }
      System.out.println("manta: node ready " + (address != null ? "at " + address : "(embedded)")
          + " (pid " + ProcessHandle.current().pid() + "; " + cModules.size() + " C module(s), "
          + javaModules.size() + " Java module(s))");
      System.out.flush();
      if (!check) {
        new CountDownLatch(1).await(); // until the JVM is told to stop
      }
    } catch (MantaException | IllegalArgumentException e) {
      System.err.println("manta.Node: " + e.getMessage());
      System.exit(1);
    }
  }

  /**
   * The state file `manta stop` and `manta status` find this node by, as
   * `manta start` writes it (runtime/cli/cli_pidfile.h): "PID ADDRESS
   * STARTTIME" in the state folder, mode 0600, removed when the JVM exits.
   * `manta stop` checks the process is this JVM running manta.Node before
   * it signals it.
   */
  private static void writePidFile(String address) {
    long pid = ProcessHandle.current().pid();
    Path file = null;
    try {
      file = Paths.get(Native.stateDir(), "node-" + pid);
      String stat = new String(Files.readAllBytes(Paths.get("/proc/self/stat")), "UTF-8");
      // Field 22 (start time); the fields after the name follow its last ')'.
      String[] after = stat.substring(stat.lastIndexOf(')') + 2).trim().split(" ");
      String line = pid + " " + address + " " + after[19] + "\n";
      Files.deleteIfExists(file); // left by an earlier process with this pid
      Files.write(
          Files.createFile(file,
              PosixFilePermissions.asFileAttribute(PosixFilePermissions.fromString("rw-------"))),
          line.getBytes("UTF-8"), StandardOpenOption.WRITE, LinkOption.NOFOLLOW_LINKS);
      file.toFile().deleteOnExit();
    } catch (IOException | RuntimeException e) {
      System.err.println("manta.Node: cannot write the state file "
          + (file != null ? file : "(no state folder)") + ": " + e.getMessage()
          + " (manta stop will not see this node)");
    }
  }

  private static String value(String[] argv, int i, String option) {
    if (i >= argv.length) {
      throw new IllegalArgumentException(option + " needs a value");
    }
    return argv[i];
  }

  private static double number(String s, String option) {
    try {
      return Double.parseDouble(s);
    } catch (NumberFormatException e) {
      throw new IllegalArgumentException(option + " takes a number, not '" + s + "'", e);
    }
  }

  /** "name=qty,..." as the manta command takes it. */
  private static void resources(Options options, String list) {
    for (String item : list.split(",")) {
      int eq = item.indexOf('=');
      if (eq <= 0) {
        throw new IllegalArgumentException("--resources takes name=qty,...; '" + item + "' is not");
      }
      options.resource(item.substring(0, eq), number(item.substring(eq + 1), "--resources"));
    }
  }
}
