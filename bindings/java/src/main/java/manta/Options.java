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
  String[] tls; // {cert, key, ca} paths, or null: MANTA_TLS_*
  int insecure = -1; // -1: MANTA_INSECURE decides
  long objectStoreMemory = -1; // -1: MANTA_OBJECT_STORE_MEMORY, else 30% of memory
  String spillDir; // null: MANTA_SPILL_DIR, else under the state folder
  int metricsPort = -2; // -2: MANTA_METRICS_PORT decides (none by default)
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
   * needs a token given on purpose and TLS ({@link #tls}), or {@link
   * #insecure}.
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

  /**
   * TLS on every link of this process ({@code manta_options_set_tls}; default: MANTA_TLS_CERT,
   * MANTA_TLS_KEY, MANTA_TLS_CA): its certificate and private key (PEM paths; the certificate
   * must name "manta"; the key file must be mode 0600 or 0400) and the CA of the cluster's
   * certificates (with it, servers demand client certificates it signed: mutual TLS). Any may be
   * null, but not only one of cert and key; the files are read by {@link Manta#init}, which fails
   * if one is unusable.
   */
  public Options tls(String certPath, String keyPath, String caPath) {
    this.tls = new String[] {certPath, keyPath, caPath};
    return this;
  }

  /**
   * Allows a bind beyond loopback without TLS ({@code manta_options_set_insecure}; default:
   * MANTA_INSECURE=1): calls and the token then cross the network in clear text (warned at start).
   */
  public Options insecure(boolean allow) {
    this.insecure = allow ? 1 : 0;
    return this;
  }

  /**
   * The most bytes of objects this node keeps in memory ({@code
   * manta_options_set_object_store_memory}; 0: no limit; default: MANTA_OBJECT_STORE_MEMORY, else
   * 30% of the memory available at start). Beyond it, objects no one reads are spilled to disk
   * and read back when needed; a put or result that cannot fit fails with {@link
   * ErrorCode#OBJECT_STORE_FULL} after a bounded wait (docs/fault-tolerance.md).
   */
  public Options objectStoreMemory(long bytes) {
    if (bytes < 0) {
      throw new IllegalArgumentException("objectStoreMemory must be >= 0, got " + bytes);
    }
    this.objectStoreMemory = bytes;
    return this;
  }

  /**
   * The folder spilled objects go to ({@code manta_options_set_spill_dir}; default:
   * MANTA_SPILL_DIR, else the state folder); it must be the user's own and private.
   */
  public Options spillDir(String path) {
    if (path == null || path.isEmpty()) {
      throw new IllegalArgumentException("spillDir needs a path");
    }
    this.spillDir = path;
    return this;
  }

  /**
   * Serves Prometheus metrics at {@code /metrics} on this port of the bind's host ({@code
   * manta_options_set_metrics_port}; 0: any free port, -1: none; default: MANTA_METRICS_PORT,
   * else none). See docs/observability.md.
   */
  public Options metricsPort(int port) {
    if (port < -1 || port > 65535) {
      throw new IllegalArgumentException("metricsPort must be -1 to 65535, got " + port);
    }
    this.metricsPort = port;
    return this;
  }

  /** Joins as a node that serves others, as manta.Node does, not a driver. */
  Options asNode() {
    this.role = 1;
    return this;
  }
}
