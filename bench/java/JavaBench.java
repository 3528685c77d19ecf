package bench;

import java.io.IOException;
import java.io.PrintWriter;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.Paths;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import manta.Manta;
import manta.ObjectRef;
import manta.Options;
import manta.RemoteFunction;

/**
 * Java <-> C call costs on the embedded runtime, each beside the same call
 * made from C to C in the same run (docs/benchmarks.md):
 *
 * <pre>
 * java -Dbench.native=path/to/libmanta_bench_java.so -cp manta.jar:manta-bench.jar \
 *      bench.JavaBench [--seconds S] [--cpus N] [--json FILE]
 * </pre>
 *
 * Each case and its C -> C baseline run in alternating rounds until each
 * has run S seconds (default 1), after one warm-up round of each, and
 * report calls per second.
 */
public final class JavaBench {
  private JavaBench() {}

  static native void registerC();

  static native double cTasksSync(long n);

  static native double cTasksAsync(long n);

  static native double cActorCallsSync(String actorClass, long n);

  static native double cActorCallsAsync(String actorClass, long n);

  /** A no-op Java actor for C to call. */
  public static final class JBenchNoop {
    public JBenchNoop() {}

    public Object noop() {
      return null;
    }
  }

  interface Round {
    /** Runs n operations; returns the seconds they took. */
    double run(long n);
  }

  static final class Result {
    final String name;
    final long ops;
    final double seconds;

    Result(String name, long ops, double seconds) {
      this.name = name;
      this.ops = ops;
      this.seconds = seconds;
    }

    double perSecond() {
      return ops / seconds;
    }
  }

  private static double minSeconds = 1.0;
  private static final List<Result> RESULTS = new ArrayList<>();

  /**
   * Measures a case and its C -> C baseline in alternating rounds, so that
   * both see the same machine: on a shared host, conditions change between
   * one case and the next.
   */
  private static Result[] measurePair(
      String name, Round round, String baseName, Round base, long roundSize) {
    round.run(roundSize); // warm-up: JIT, worker threads, attachment
    base.run(roundSize);
    long ops = 0;
    double seconds = 0;
    double baseSeconds = 0;
    while (seconds < minSeconds || baseSeconds < minSeconds) {
      seconds += round.run(roundSize);
      baseSeconds += base.run(roundSize);
      ops += roundSize;
    }
    Result[] r = {new Result(name, ops, seconds), new Result(baseName, ops, baseSeconds)};
    for (Result x : r) {
      RESULTS.add(x);
      System.out.printf(Locale.ROOT, "%-32s %14.0f /s%n", x.name, x.perSecond());
    }
    return r;
  }

  private static double javaTasksSync(RemoteFunction f, long n) {
    long t0 = System.nanoTime();
    for (long i = 0; i < n; i++) {
      try (ObjectRef<Object> r = f.remote()) {
        r.get();
      }
    }
    return (System.nanoTime() - t0) / 1e9;
  }

  private static double javaTasksAsync(RemoteFunction f, long n) {
    long t0 = System.nanoTime();
    List<ObjectRef<Object>> refs = new ArrayList<>((int) n);
    for (long i = 0; i < n; i++) {
      refs.add(f.remote());
    }
    Manta.get(refs);
    for (ObjectRef<Object> r : refs) {
      r.close();
    }
    return (System.nanoTime() - t0) / 1e9;
  }

  public static void main(String[] args) throws IOException {
    String json = null;
    double cpus = -1;
    for (int i = 0; i < args.length; i++) {
      switch (args[i]) {
        case "--seconds":
          minSeconds = Double.parseDouble(args[++i]);
          break;
        case "--cpus":
          cpus = Double.parseDouble(args[++i]);
          break;
        case "--json":
          json = args[++i];
          break;
        default:
          System.err.println(
              "usage: JavaBench [--seconds S] [--cpus N] [--json FILE] (-Dbench.native=LIB)");
          System.exit(2);
      }
    }
    System.load(Paths.get(System.getProperty("bench.native")).toAbsolutePath().toString());
    Options options = new Options();
    if (cpus >= 0) {
      options.numCpus(cpus);
    }
    try (Manta runtime = Manta.init(options)) {
      registerC();
      Manta.registerActor("JBenchNoop", JBenchNoop.class);
      RemoteFunction cNoop = Manta.function("bench_c_noop");
      final long sync = 10_000;
      final long async = 100_000;
      Result[] tasksSync = measurePair("java_to_c_tasks_sync",
          n -> javaTasksSync(cNoop, n), "c_to_c_tasks_sync", JavaBench::cTasksSync, sync);
      Result[] tasksAsync = measurePair("java_to_c_tasks_async",
          n -> javaTasksAsync(cNoop, n), "c_to_c_tasks_async", JavaBench::cTasksAsync, async);
      Round javaCallsSync = n -> cActorCallsSync("JBenchNoop", n);
      Round cCallsSync = n -> cActorCallsSync("CBenchNoop", n);
      Round javaCallsAsync = n -> cActorCallsAsync("JBenchNoop", n);
      Round cCallsAsync = n -> cActorCallsAsync("CBenchNoop", n);
      Result[] callsSync = measurePair(
          "c_to_java_actor_calls_sync", javaCallsSync, "c_to_c_actor_calls_sync", cCallsSync, sync);
      Result[] callsAsync = measurePair("c_to_java_actor_calls_async", javaCallsAsync,
          "c_to_c_actor_calls_async", cCallsAsync, async);
      System.out.println();
      String[][] pairs = {
          {"java_to_c_tasks_sync", "c_to_c_tasks_sync", "3"},
          {"java_to_c_tasks_async", "c_to_c_tasks_async", "2"},
          {"c_to_java_actor_calls_sync", "c_to_c_actor_calls_sync", ""},
          {"c_to_java_actor_calls_async", "c_to_c_actor_calls_async", ""},
      };
      Result[][] results = {tasksSync, tasksAsync, callsSync, callsAsync};
      StringBuilder ratios = new StringBuilder();
      for (int i = 0; i < pairs.length; i++) {
        double slower = results[i][1].perSecond() / results[i][0].perSecond();
        String target = pairs[i][2].isEmpty() ? "" : " (target <= " + pairs[i][2] + "x)";
        System.out.printf(Locale.ROOT, "%s takes %.2fx the time of %s%s%n", pairs[i][0], slower,
            pairs[i][1], target);
        ratios.append(String.format(Locale.ROOT,
            "%s    {\"case\": \"%s\", \"baseline\": \"%s\", \"time_ratio\": %.3f%s}",
            i == 0 ? "" : ",\n", pairs[i][0], pairs[i][1], slower,
            pairs[i][2].isEmpty() ? "" : ", \"target\": " + pairs[i][2]));
      }
      if (json != null) {
        writeJson(Paths.get(json), cpus, ratios.toString());
      }
    }
  }

  private static void writeJson(Path path, double cpus, String ratios) throws IOException {
    String model = "unknown";
    for (String line : Files.readAllLines(Paths.get("/proc/cpuinfo"))) {
      if (line.startsWith("model name")) {
        model = line.substring(line.indexOf(':') + 2);
        break;
      }
    }
    try (PrintWriter w = new PrintWriter(Files.newBufferedWriter(path, StandardCharsets.UTF_8))) {
      w.println("{");
      w.println("  \"benchmark\": \"java\",");
      w.printf(Locale.ROOT, "  \"manta_version\": \"%s\",%n", Manta.version());
      w.printf(Locale.ROOT,
          "  \"machine\": {\"cpus_online\": %d, \"cpu_model\": \"%s\", \"kernel\": \"%s %s\", "
              + "\"java\": \"%s\"},%n",
          Runtime.getRuntime().availableProcessors(), model, System.getProperty("os.name"),
          System.getProperty("os.version"), System.getProperty("java.vm.version"));
      w.printf(Locale.ROOT, "  \"node_cpus\": %s,%n  \"min_seconds\": %s,%n",
          cpus < 0 ? "null" : Double.toString(cpus), minSeconds);
      w.println("  \"results\": [");
      for (int i = 0; i < RESULTS.size(); i++) {
        Result r = RESULTS.get(i);
        w.printf(Locale.ROOT,
            "    {\"name\": \"%s\", \"per_second\": %.1f, \"ops\": %d, \"seconds\": %.3f}%s%n",
            r.name, r.perSecond(), r.ops, r.seconds, i + 1 < RESULTS.size() ? "," : "");
      }
      w.println("  ],");
      w.println("  \"ratios\": [");
      w.println(ratios);
      w.println("  ]");
      w.println("}");
    }
  }
}
