package manta;

/**
 * The JNI glue (libmanta_jni, bindings/java/jni/). Every method either
 * returns what it says or throws a {@link MantaException}; values cross as
 * Java objects and are converted in C (docs/java.md, "Values").
 */
final class Native {
  private Native() {}

  static {
    NativeLoader.load();
  }

  /** Called by a C node that hosts the JVM, to run the static block. */
  static void ensureLoaded() {}

  // ---- the runtime ---------------------------------------------------------
  static native void init(double numCpus, int maxWorkers, String[] resourceNames,
      double[] quantities, String address, int role, String bind, String token, String[] tls,
      int insecure, long objectStoreMemory, String spillDir, int metricsPort);

  static native void shutdown();

  static native boolean isInitialized();

  static native long stat(int which);

  static native void loadModule(String path);

  static native String versionString();

  /** The state folder of this user (manta_state_dir, checked). */
  static native String stateDir();

  /** "HOST:PORT" where this node serves the cluster; null when embedded. */
  static native String nodeAddress();

  /** This node's id, 16 hex digits. */
  static native String nodeId();

  // Timeline (docs/observability.md): manta_timeline_enable, manta_timeline.
  static native void enableTimeline(long events);

  static native String timeline(String address);

  // ---- tasks and objects ---------------------------------------------------
  static native long submit(byte[] name, Object[] args, CallOptions options);

  // A call declared with numReturns refs (manta_submit_returns).
  static native long[] submitReturns(
      byte[] name, Object[] args, CallOptions options, int numReturns);

  // Streams (mj_streams.c): a stream's id; the next item's ref id, 0 on
  // timeout, -1 at the end (the call's error is thrown); emit from a task.
  static native long submitStream(byte[] name, Object[] args, CallOptions options, int window);

  static native long actorCallStream(long actor, String method, Object[] args, int window);

  static native long streamNext(long stream, long timeoutMs);

  static native void streamRelease(long stream);

  static native void emit(Object value);

  static native long put(Object value);

  static native Object get(long ref, long timeoutMs);

  static native Object[] getMany(long[] refs, long timeoutMs);

  static native boolean[] waitRefs(long[] refs, int numReturns, long timeoutMs);

  static native boolean cancel(long ref);

  // Cancelling running work and the runtime context (mj_cancel.c).
  static native boolean cancelWith(long ref, int flags);

  static native boolean actorCancel(long actor);

  static native boolean cancelled();

  static native int currentAttempt();

  static native String currentId(boolean actor);

  // Completes the future once the ref is ready (manta_when_ready).
  static native void whenReady(long ref, java.util.concurrent.CompletableFuture<Object> future);

  static native void releaseRef(long ref);

  static native String refString(long ref);

  // ---- actors --------------------------------------------------------------
  static native long actorCreate(byte[] className, Object[] args, CallOptions options);

  static native long actorCall(long actor, String method, Object[] args);

  // A method call with numReturns refs (manta_actor_call_returns).
  static native long[] actorCallReturns(long actor, String method, Object[] args, int numReturns);

  static native long actorLookup(String name);

  // The named actor, found or created now (manta_actor_get_or_create).
  static native long actorGetOrCreate(
      byte[] className, String name, Object[] args, CallOptions options);

  static native void actorKill(long actor);

  static native void releaseActor(long actor);

  // ---- placement groups ----------------------------------------------------
  static native long pgCreate(Object bundles, int strategy);

  static native boolean pgWait(long id, long timeoutMs);

  static native void pgRemove(long id);

  static native Object pgInfo(long id);

  static native void pgCaptureChildTasks(long id, boolean on);

  // ---- offering Java code (ids index Registry's table) ---------------------
  static native void registerFunction(String name, int nargs, int id);

  static native void registerClass(String name, int id);

  static native void registerMethod(String className, String method, int nargs, int id);

  // ---- the log level (manta_log_set_level, manta_log_get_level) ----------
  static native void setLogLevel(int level);

  static native int logLevel();

  // ---- diagnostics and tests -----------------------------------------------
  static native String errorName(int code);

  static native String errorText(int code);

  /** The value converted to a manta value and back. */
  static native Object roundTrip(Object value);

  /** manta_value_repr of the value converted to a manta value. */
  static native String repr(Object value);

  // ---- Serve (docs/serve.md) -----------------------------------------------
  /** Starts the ingress; returns the port it serves. */
  static native int serveStart(String host, int port, String token, long maxBody);

  static native void serveStop();

  /** The port served, or -1. */
  static native int servePort();

  static native void serveDeploy(String route, String function, String className, String method,
      int replicas, int maxOngoingRequests, long timeoutMs, int minReplicas, int maxReplicas,
      int targetOngoingRequests, boolean idempotent, String healthMethod, long healthPeriodMs,
      long healthTimeoutMs, String[] resourceNames, double[] resourceQuantities, Object[] args);

  static native void serveDelete(String route);

  static native Object serveStatus();
}
