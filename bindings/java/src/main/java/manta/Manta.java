package manta;

import java.lang.ref.Reference;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Map;

/**
 * The Java API of manta: start or join a runtime, call functions and create
 * actors by name whatever language implements them, and offer Java
 * functions and actor classes by name to every caller.
 *
 * <pre>{@code
 * try (Manta m = Manta.init()) {
 *   ObjectRef<Long> r = Manta.function("levenshtein").remote("acme corp", "acme corporation");
 *   System.out.println(r.get());
 * }
 * }</pre>
 *
 * <p>There is one runtime per process, shared with any C code in it: the
 * static methods work in a JVM that called {@link #init()} and in Java code
 * a C node runs (a C process hosting a JVM, see docs/java.md).
 */
public final class Manta implements AutoCloseable {
  private static final Object LOCK = new Object();
  // The shutdown hook of a runtime this JVM started, or null.
  private static Thread hook;

  private Manta() {}

  /**
   * Starts the runtime: embedded (one node in this process) unless
   * MANTA_ADDRESS names a cluster to join. Close the result, or call
   * {@link #shutdown()}, to stop it.
   */
  public static Manta init() {
    return init(new Options());
  }

  /** Joins the cluster whose head is at "HOST:PORT". */
  public static Manta init(String address) {
    return init(new Options().address(address));
  }

  public static Manta init(Options options) {
    synchronized (LOCK) {
      String[] names = options.resources.keySet().toArray(new String[0]);
      double[] qty = new double[names.length];
      for (int i = 0; i < names.length; i++) {
        qty[i] = options.resources.get(names[i]);
      }
      Native.init(options.numCpus, options.maxWorkers, names, qty, options.address, options.role,
          options.bind, options.token, options.tls, options.insecure, options.objectStoreMemory,
          options.spillDir, options.metricsPort);
      // A JVM that exits without shutdown still stops the runtime in order:
      // queued work fails, running tasks finish, workers detach.
      hook = new Thread(Manta::shutdownAtExit, "manta-shutdown");
      Runtime.getRuntime().addShutdownHook(hook);
      return new Manta();
    }
  }

  /**
   * Stops the runtime: queued tasks fail with SHUTDOWN, running ones are
   * waited for, refs and handles still held become stale. Not from inside a
   * task.
   */
  public static void shutdown() {
    synchronized (LOCK) {
      Native.shutdown();
      if (hook != null) {
        try {
          Runtime.getRuntime().removeShutdownHook(hook);
        } catch (IllegalStateException exiting) {
          // Already in the shutdown sequence: the hook runs or ran.
        }
        hook = null;
      }
      Registry.clear();
    }
  }

  /** {@link #shutdown()} if the runtime is still running. */
  @Override
  public void close() {
    synchronized (LOCK) {
      if (Native.isInitialized()) {
        shutdown();
      }
    }
  }

  private static void shutdownAtExit() {
    // Bounded: a task that never returns must not hold the JVM forever.
    Thread t = new Thread(() -> {
      try {
        Native.shutdown();
      } catch (MantaException alreadyStopped) {
        // Stopped by the program meanwhile: nothing to do.
      }
    }, "manta-shutdown-worker");
    t.setDaemon(true);
    t.start();
    try {
      t.join(Long.getLong("manta.shutdownTimeoutMs", 10_000L));
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    }
  }

  public static boolean isInitialized() {
    return Native.isInitialized();
  }

  /**
   * "HOST:PORT" where this process serves the cluster it joined, or null
   * when the runtime is embedded.
   */
  public static String nodeAddress() {
    return Native.nodeAddress();
  }

  /**
   * This node's id (16 hex digits), embedded too: what {@link
   * CallOptions#nodeAffinity} names. New at each init.
   */
  public static String nodeId() {
    return Native.nodeId();
  }

  // ---- inside a task or actor method (docs/java.md, "Runtime context") -----

  /**
   * Inside a task or actor method: whether its call was cancelled (its
   * thread is interrupted too, once). False on a thread running none.
   */
  public static boolean cancelled() {
    return Native.cancelled();
  }

  /**
   * Inside a task or actor method: its task id, the id of its result that
   * the caller's {@link ObjectRef#toString()} shows ("obj-" and 32 hex
   * digits), the same on every node; null on a thread running none.
   */
  public static String currentTaskId() {
    return Native.currentId(false);
  }

  /**
   * Inside an actor method: the actor's id ("actor-" and 32 hex digits, the
   * first 16 the node it lives on); null elsewhere.
   */
  public static String currentActorId() {
    return Native.currentId(true);
  }

  /** The attempt of the running call: 1, 2 after one retry...; 0 outside. */
  public static int currentAttempt() {
    return Native.currentAttempt();
  }

  /**
   * Turns this node's timeline on (events each worker thread keeps, 2 to
   * 4194304) or off (0): while on, every task and actor call run here is
   * noted. Off by default unless MANTA_TIMELINE says otherwise.
   */
  public static void enableTimeline(long events) {
    Native.enableTimeline(events);
  }

  /**
   * The recent task and actor-call events of every live node of the
   * cluster, as Chrome trace-event JSON (chrome://tracing, Perfetto).
   * address: a head's "HOST:PORT" (the token and TLS found as {@code
   * manta status} finds them), or null for this process's own cluster (an
   * embedded runtime: this node alone).
   */
  public static String timeline(String address) {
    return Native.timeline(address);
  }

  // ---- calls ---------------------------------------------------------------

  /**
   * Asks for a placement group: each bundle maps resource names ("CPU",
   * custom ones) to quantities. Returns at once; {@link
   * PlacementGroup#waitReady} waits until it is reserved.
   */
  public static PlacementGroup placementGroup(
      List<Map<String, Double>> bundles, PlacementStrategy strategy) {
    if (bundles == null || bundles.isEmpty() || strategy == null) {
      throw new IllegalArgumentException("a placement group needs bundles and a strategy");
    }
    return new PlacementGroup(Native.pgCreate(bundles, strategy.code));
  }

  /** The function of that name, in any language. */
  public static RemoteFunction function(String name) {
    return new RemoteFunction(name, null);
  }

  /** The actor class of that name, in any language. */
  public static ActorClass actor(String className) {
    return new ActorClass(className, null);
  }

  /** A new handle to the actor created with that name. */
  public static ActorHandle getActor(String name) {
    return new ActorHandle(Native.actorLookup(name));
  }

  /** Stores a value as an object. */
  /** Submits a call of {@code name} as a stream ({@link RemoteFunction#remoteStream}). */
  public static <T> ObjectRefStream<T> submitStream(String name, Object... args) {
    return function(name).remoteStream(args);
  }

  /**
   * From inside a function or method submitted as a stream: emits one item
   * (converted as a return value is). Waits while the stream's window is
   * full.
   *
   * @throws MantaException.Cancelled the reader let go of the stream: return now
   * @throws MantaException outside a stream call (INVALID), or at shutdown
   */
  public static void emit(Object value) {
    Native.emit(value);
  }

  public static <T> ObjectRef<T> put(Object value) {
    return new ObjectRef<>(Native.put(value));
  }

  /** The values of all refs, in order; throws the first failure. */
  public static <T> List<T> get(List<ObjectRef<T>> refs) {
    return get(refs, -1);
  }

  /** {@link #get(List)} waiting up to timeoutMs (negative: no limit). */
  @SuppressWarnings("unchecked")
  public static <T> List<T> get(List<ObjectRef<T>> refs, long timeoutMs) {
    long[] ids = ids(refs);
    try {
      return (List<T>) Arrays.asList(Native.getMany(ids, timeoutMs));
    } finally {
      Reference.reachabilityFence(refs);
    }
  }

  /**
   * Waits until numReturns of the refs are ready or timeoutMs passes
   * (negative: no limit); timing out is not an error here.
   */
  public static <T> WaitResult<T> wait(List<ObjectRef<T>> refs, int numReturns, long timeoutMs) {
    if (numReturns < 0 || numReturns > refs.size()) {
      throw new IllegalArgumentException(
          "numReturns must be between 0 and " + refs.size() + ", got " + numReturns);
    }
    long[] ids = ids(refs);
    boolean[] ready;
    try {
      ready = Native.waitRefs(ids, numReturns, timeoutMs);
    } finally {
      Reference.reachabilityFence(refs);
    }
    List<ObjectRef<T>> yes = new ArrayList<>();
    List<ObjectRef<T>> no = new ArrayList<>();
    for (int i = 0; i < ready.length; i++) {
      (ready[i] ? yes : no).add(refs.get(i));
    }
    return new WaitResult<>(yes, no);
  }

  private static long[] ids(List<? extends ObjectRef<?>> refs) {
    long[] ids = new long[refs.size()];
    int i = 0;
    for (ObjectRef<?> r : refs) {
      if (r == null) {
        throw new NullPointerException("ref " + i + " is null");
      }
      ids[i++] = r.liveId();
    }
    return ids;
  }

  // ---- offering Java code --------------------------------------------------

  public static <R> void register(String name, Fn.F0<R> fn) {
    register(name, 0, args -> fn.call());
  }

  @SuppressWarnings("unchecked")
  public static <A, R> void register(String name, Fn.F1<A, R> fn) {
    register(name, 1, args -> fn.call((A) args[0]));
  }

  @SuppressWarnings("unchecked")
  public static <A, B, R> void register(String name, Fn.F2<A, B, R> fn) {
    register(name, 2, args -> fn.call((A) args[0], (B) args[1]));
  }

  @SuppressWarnings("unchecked")
  public static <A, B, C, R> void register(String name, Fn.F3<A, B, C, R> fn) {
    register(name, 3, args -> fn.call((A) args[0], (B) args[1], (C) args[2]));
  }

  @SuppressWarnings("unchecked")
  public static <A, B, C, D, R> void register(String name, Fn.F4<A, B, C, D, R> fn) {
    register(name, 4, args -> fn.call((A) args[0], (B) args[1], (C) args[2], (D) args[3]));
  }

  /**
   * Registers a function taking {@code nargs} arguments (negative: any
   * count) as an array. Calls with another count fail with ARITY without
   * running it.
   */
  public static void register(String name, int nargs, Fn.Varargs fn) {
    if (fn == null) {
      throw new NullPointerException("function " + name + " is null");
    }
    Registry.registerFunction(name, nargs, fn);
  }

  /**
   * Registers a Java class as the actor class {@code className}: its public
   * constructors make actors (chosen by argument count) and its public
   * instance methods are callable by name (also chosen by argument count).
   * Two public constructors, or two methods of one name, with the same
   * number of parameters are refused: manta calls by name and count.
   */
  public static void registerActor(String className, Class<?> cls) {
    Registry.registerClass(className, cls);
  }

  /** {@link #registerActor(String, Class)} under the class's simple name. */
  public static void registerActor(Class<?> cls) {
    registerActor(cls.getSimpleName(), cls);
  }

  /** Loads a C module (a shared library with manta_module_init). */
  public static void loadModule(String path) {
    Native.loadModule(path);
  }

  /** A figure the runtime reports about itself. */
  public static long stat(Stat which) {
    return Native.stat(which.code);
  }

  /** manta's native version, "0.1.0". */
  public static String version() {
    return Native.versionString();
  }

  // ---- the log level (docs/observability.md, "Logs") ------------------------

  private static final String[] LOG_LEVELS = {"error", "warn", "info", "debug"};

  /**
   * The most detailed level of the runtime's log lines written from now on:
   * "error", "warn", "info" or "debug" (any case); replaces MANTA_LOG's.
   * Allowed before {@link #init()} too. IllegalArgumentException for any
   * other word.
   */
  public static void setLogLevel(String level) {
    for (int i = 0; level != null && i < LOG_LEVELS.length; i++) {
      if (LOG_LEVELS[i].equalsIgnoreCase(level)) {
        Native.setLogLevel(i);
        return;
      }
    }
    throw new IllegalArgumentException("log level " + level + ": use error, warn, info or debug");
  }

  /** The log level in force: "error", "warn", "info" or "debug". */
  public static String logLevel() {
    return LOG_LEVELS[Native.logLevel()];
  }

  // ---- helpers -------------------------------------------------------------

  /** A name as the NUL-terminated UTF-8 string manta.h takes. */
  static byte[] cName(String name, String what) {
    if (name == null || name.isEmpty()) {
      throw new IllegalArgumentException("the " + what + " must not be empty");
    }
    if (name.indexOf('\0') >= 0) {
      throw new IllegalArgumentException("the " + what + " must not contain NUL: " + name);
    }
    byte[] utf8 = name.getBytes(StandardCharsets.UTF_8);
    return Arrays.copyOf(utf8, utf8.length + 1);
  }
}
