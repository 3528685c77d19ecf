package manta;

import java.util.LinkedHashMap;
import java.util.Map;

/**
 * Options of one call: a task submission or an actor creation
 * ({@code manta_call_options}). Setters return this, for chaining.
 */
public final class CallOptions {
  // Read by the native glue (field names matter).
  double numCpus = -1;
  String[] resourceNames = new String[0];
  double[] resourceQuantities = new double[0];
  String name;
  int maxConcurrency;
  int strategy; // Strategy.code, when affinityNode is null
  String affinityNode;
  boolean affinitySoft;
  long pgId; // a placement group, 0: none
  int pgBundle = -1;
  int maxRestarts;
  int maxTaskRetries;
  int maxRetries = 3;
  boolean retryExceptions;

  private final Map<String, Double> resources = new LinkedHashMap<>();

  /**
   * Streams ({@link RemoteFunction#remoteStream}): at most this many items
   * wait unread, 1 to 1048576 (default 1024); the producer waits beyond.
   */
  public CallOptions streamWindow(int items) {
    if (items < 1 || items > (1 << 20)) {
      throw new IllegalArgumentException("streamWindow must be 1 to 1048576, not " + items);
    }
    this.streamWindow = items;
    return this;
  }

  int streamWindow; // 0: the default

  /** CPU slots the task holds (the actor, for its lifetime). */
  public CallOptions numCpus(double cpus) {
    if (!(cpus >= 0)) {
      throw new IllegalArgumentException("numCpus must be >= 0, got " + cpus);
    }
    this.numCpus = cpus;
    return this;
  }

  /** A custom resource quantity, e.g. ("GPU", 1). */
  public CallOptions resource(String resource, double quantity) {
    if (resource == null || resource.isEmpty()) {
      throw new IllegalArgumentException("a resource needs a name");
    }
    if (!(quantity >= 0)) {
      throw new IllegalArgumentException("resource " + resource + " must be >= 0, got " + quantity);
    }
    resources.put(resource, quantity);
    resourceNames = resources.keySet().toArray(new String[0]);
    resourceQuantities = resources.values().stream().mapToDouble(Double::doubleValue).toArray();
    return this;
  }

  /** Actors only: the name to find the actor by ({@link Manta#getActor}). */
  public CallOptions name(String actorName) {
    if (actorName == null || actorName.isEmpty()) {
      throw new IllegalArgumentException("an actor name must not be empty");
    }
    this.name = actorName;
    return this;
  }

  /** Actors only: how many method calls may run at once (default 1). */
  public CallOptions maxConcurrency(int calls) {
    if (calls < 1) {
      throw new IllegalArgumentException("maxConcurrency must be >= 1, got " + calls);
    }
    this.maxConcurrency = calls;
    return this;
  }

  /**
   * Actors only, in a cluster: how many times the actor is created again
   * (constructor run again with the same arguments, state lost) on another
   * node offering its class when its node dies, as the node affinity or
   * placement group bundle of its creation allows; a restart whose
   * constructor fails counts as one. Every handle, other processes' too,
   * follows the restarts. 0 (default): never; -1: with no end.
   */
  public CallOptions maxRestarts(int restarts) {
    if (restarts < -1) {
      throw new IllegalArgumentException("maxRestarts must be >= -1, got " + restarts);
    }
    this.maxRestarts = restarts;
    return this;
  }

  /**
   * Actors only, in a cluster: how many times a call lost with the actor's
   * node is sent again to the restarted actor (at-least-once). 0 (default):
   * it fails with ACTOR_DEAD; -1: with no end.
   */
  public CallOptions maxTaskRetries(int retries) {
    if (retries < -1) {
      throw new IllegalArgumentException("maxTaskRetries must be >= -1, got " + retries);
    }
    this.maxTaskRetries = retries;
    return this;
  }

  /**
   * Tasks: how many times the task runs again after the node running it
   * died (default 3; 0: never; -1: with no end), and, with {@link
   * #retryExceptions}, after it threw. The final error's message ends
   * "(attempt K of N on node WHERE)" (docs/java.md, "Retries").
   */
  public CallOptions maxRetries(int retries) {
    if (retries < -1 || retries > Short.MAX_VALUE) {
      throw new IllegalArgumentException("maxRetries must be -1 to 32767, got " + retries);
    }
    this.maxRetries = retries;
    return this;
  }

  /**
   * Tasks: a task that throws (or returns an error) runs again too, up to
   * {@link #maxRetries} times in all. Off by default.
   */
  public CallOptions retryExceptions(boolean retry) {
    this.retryExceptions = retry;
    return this;
  }

  /** Where the call runs (replaces a node affinity set before). */
  public CallOptions strategy(Strategy where) {
    if (where == null) {
      throw new IllegalArgumentException("a strategy must not be null");
    }
    this.strategy = where.code;
    this.affinityNode = null;
    return this;
  }

  /**
   * Runs the call on the node {@code nodeId} (16 hex digits, as {@link
   * Manta#nodeId} gives them). If that node is gone, does not offer the
   * function or class, or can never fit the call: with {@code soft} it is
   * placed as by {@link Strategy#DEFAULT}; without, the call fails with an
   * error naming the node and why.
   */
  public CallOptions nodeAffinity(String nodeId, boolean soft) {
    if (nodeId == null || !nodeId.matches("[0-9a-fA-F]{1,16}") || nodeId.matches("0+")) {
      throw new IllegalArgumentException("a node id is 1 to 16 hex digits, not 0: " + nodeId);
    }
    this.affinityNode = nodeId;
    this.affinitySoft = soft;
    return this;
  }

  /**
   * Runs the call in bundle {@code bundleIndex} of the group (-1: any
   * bundle that can hold it), from the bundle's reserved resources. A task
   * submitted before the group is ready waits for it (CANCELLED if the
   * group is removed first); an actor needs the group ready
   * ({@link PlacementGroup#waitReady}). A call asking more than its bundle
   * holds fails with INFEASIBLE.
   */
  public CallOptions placementGroup(PlacementGroup group, int bundleIndex) {
    if (group == null || bundleIndex < -1) {
      throw new IllegalArgumentException("a placement group and a bundle index >= -1");
    }
    this.pgId = group.id;
    this.pgBundle = bundleIndex;
    return this;
  }
}
