package manta;

import java.util.List;
import java.util.Map;

/**
 * HTTP routes to functions and actor replicas (docs/serve.md). A request to
 * a route becomes one value, a {@code Map<String, Object>} with method,
 * path, route, query, headers, body ({@code byte[]}) and json, given to the
 * route's function or actor method; what it returns becomes the response
 * (a String as text, {@code byte[]} as bytes, a List or Map as JSON).
 *
 * <pre>{@code
 * Manta.register("echo", (Map<String, Object> req) ->
 *     "Received data: " + ((Map<?, ?>) req.get("query")).get("data"));
 * Serve.deployment("/echo").function("echo").deploy();
 * int port = Serve.start(8000);
 * }</pre>
 */
public final class Serve {
  private Serve() {}

  /** Serves the routes on 127.0.0.1:port (0: any free port); returns the port. */
  public static int start(int port) {
    return start("127.0.0.1", port, null);
  }

  /**
   * Serves the routes on host:port. token: required by the admin routes
   * (/-/routes) as {@code Authorization: Bearer TOKEN}, or null for none.
   */
  public static int start(String host, int port, String token) {
    if (port < 0 || port > 65535) {
      throw new IllegalArgumentException("port must be 0 to 65535, got " + port);
    }
    return Native.serveStart(host, port, token, 0);
  }

  /** The port served, or -1 when the ingress does not run. */
  public static int port() {
    return Native.servePort();
  }

  /** Stops the ingress; requests waiting for a result are answered 503. */
  public static void stop() {
    Native.serveStop();
  }

  /** Removes a route; its replicas finish what they hold. */
  public static void delete(String route) {
    Native.serveDelete(route);
  }

  /** The routes, each a map (route, version, counts, replicas). */
  @SuppressWarnings("unchecked")
  public static List<Map<String, Object>> status() {
    return (List<Map<String, Object>>) Native.serveStatus();
  }

  /** A deployment of route, set up by its methods, then {@link Deployment#deploy()}. */
  public static Deployment deployment(String route) {
    return new Deployment(route);
  }

  /** What one route serves. */
  public static final class Deployment {
    private final String route;
    private String function;
    private String className;
    private String method;
    private int replicas;
    private int maxOngoingRequests;
    private long timeoutMs;
    private int minReplicas;
    private int maxReplicas;
    private int targetOngoingRequests;
    private boolean idempotent;
    private String healthMethod;
    private long healthPeriodMs;
    private long healthTimeoutMs;
    private final java.util.LinkedHashMap<String, Double> resources =
        new java.util.LinkedHashMap<>();
    private Object[] args;

    private Deployment(String route) {
      if (route == null || !route.startsWith("/")) {
        throw new IllegalArgumentException("a route starts with '/', got " + route);
      }
      this.route = route;
    }

    /** The target is a function: each request is one task. */
    public Deployment function(String name) {
      this.function = name;
      this.className = null;
      return this;
    }

    /**
     * The target is an actor class; method null: the path segment after the
     * route names it (POST /counter/increment calls "increment").
     */
    public Deployment actorClass(String className, String method) {
      this.className = className;
      this.method = method;
      this.function = null;
      return this;
    }

    /** Actor replicas (default 1). */
    public Deployment replicas(int n) {
      if (n < 1) {
        throw new IllegalArgumentException("replicas must be at least 1, got " + n);
      }
      this.replicas = n;
      return this;
    }

    /** Requests in flight per replica before the route answers 503 (default 100). */
    public Deployment maxOngoingRequests(int n) {
      if (n < 1) {
        throw new IllegalArgumentException("maxOngoingRequests must be at least 1, got " + n);
      }
      this.maxOngoingRequests = n;
      return this;
    }

    /** A request without a result after this is answered 504 (default 60000). */
    public Deployment timeoutMs(long ms) {
      if (ms < 1) {
        throw new IllegalArgumentException("timeoutMs must be at least 1, got " + ms);
      }
      this.timeoutMs = ms;
      return this;
    }

    /**
     * Autoscaling between min and max replicas, aiming at target requests in
     * flight per replica (0: 2); docs/serve.md says when it scales.
     */
    public Deployment autoscaling(int min, int max, int target) {
      if (min < 1 || min > max || max > 1000 || target < 0) {
        throw new IllegalArgumentException(
            "autoscaling needs 1 <= min <= max <= 1000 and target >= 0");
      }
      this.minReplicas = min;
      this.maxReplicas = max;
      this.targetOngoingRequests = target;
      return this;
    }

    /**
     * A request whose replica was lost is sent once more, to another
     * replica, instead of answering 503: only for methods that may run twice.
     */
    public Deployment idempotent(boolean idempotent) {
      this.idempotent = idempotent;
      return this;
    }

    /**
     * Class routes: method is called with no argument on every replica each
     * periodMs; an exception, or no answer within timeoutMs, replaces the
     * replica (0 for either: 10000, 30000). docs/serve.md, "Health checks".
     */
    public Deployment healthCheck(String method, long periodMs, long timeoutMs) {
      if (method == null || method.isEmpty() || periodMs < 0 || timeoutMs < 0) {
        throw new IllegalArgumentException(
            "a health check needs a method and periods >= 0 (0: the default)");
      }
      this.healthMethod = method;
      this.healthPeriodMs = periodMs;
      this.healthTimeoutMs = timeoutMs;
      return this;
    }

    /** Class routes: each replica holds qty of the resource name ("CPU", "db_conn"). */
    public Deployment resource(String name, double qty) {
      if (name == null || name.isEmpty() || !(qty >= 0)) {
        throw new IllegalArgumentException("a resource needs a name and a quantity >= 0");
      }
      resources.put(name, qty);
      return this;
    }

    /** Class routes: the arguments each replica's constructor gets. */
    public Deployment args(Object... args) {
      this.args = args.clone();
      return this;
    }

    /** Deploys, or redeploys (the old replicas drain). */
    public void deploy() {
      if (function == null && className == null) {
        throw new IllegalStateException("route " + route + " needs a function or an actor class");
      }
      String[] names = resources.keySet().toArray(new String[0]);
      double[] qty = new double[names.length];
      for (int i = 0; i < names.length; i++) {
        qty[i] = resources.get(names[i]);
      }
      Native.serveDeploy(route, function, className, method, replicas, maxOngoingRequests,
          timeoutMs, minReplicas, maxReplicas, targetOngoingRequests, idempotent, healthMethod,
          healthPeriodMs, healthTimeoutMs, names, qty, args);
    }
  }
}
