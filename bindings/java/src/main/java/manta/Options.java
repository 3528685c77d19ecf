package manta;

import java.util.LinkedHashMap;
import java.util.Map;

/** Options of {@link Manta#init(Options)} ({@code manta_options}). */
public final class Options {
  double numCpus = -1;
  int maxWorkers;
  String address;
  String bind;
  String token;
  // manta_role: 0 a driver (a program that joined), 1 a node (manta.Node).
  int role;
  final Map<String, Double> resources = new LinkedHashMap<>();

  /** CPU slots of this node (default: the online cores). */
  public Options numCpus(double cpus) {
    if (!(cpus >= 0)) {
      throw new IllegalArgumentException("numCpus must be >= 0, got " + cpus);
    }
    this.numCpus = cpus;
    return this;
  }

  /** Most worker threads the node may run at once (default 1024). */
  public Options maxWorkers(int workers) {
    if (workers < 1) {
      throw new IllegalArgumentException("maxWorkers must be >= 1, got " + workers);
    }
    this.maxWorkers = workers;
    return this;
  }

  /** A custom resource of this node, e.g. ("GPU", 2). */
  public Options resource(String name, double quantity) {
    if (name == null || name.isEmpty()) {
      throw new IllegalArgumentException("a resource needs a name");
    }
    if (!(quantity >= 0)) {
      throw new IllegalArgumentException("resource " + name + " must be >= 0, got " + quantity);
    }
    resources.put(name, quantity);
    return this;
  }

  /** The cluster to join, "HOST:PORT" of its head (default: MANTA_ADDRESS). */
  public Options address(String headAddress) {
    this.address = headAddress;
    return this;
  }

  /**
   * Where this process serves the cluster, "HOST:PORT" (default
   * "127.0.0.1:0": loopback, any free port). Another host than loopback
   * needs a token.
   */
  public Options bind(String hostPort) {
    this.bind = hostPort;
    return this;
  }

  /**
   * The cluster token every call carries (default: MANTA_TOKEN, then the file MANTA_TOKEN_FILE
   * names, then the token a head of this user made in the state folder). At least 16 printable
   * ASCII bytes, not only spaces.
   */
  public Options token(String clusterToken) {
    this.token = clusterToken;
    return this;
  }

  /** Joins as a node that serves others, as manta.Node does, not a driver. */
  Options asNode() {
    this.role = 1;
    return this;
  }
}
