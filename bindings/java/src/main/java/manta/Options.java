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

  /** Joins as a node that serves others, as manta.Node does, not a driver. */
  Options asNode() {
    this.role = 1;
    return this;
  }
}
