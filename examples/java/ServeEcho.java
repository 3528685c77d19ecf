package examples;

import java.io.IOException;
import java.util.Map;
import manta.Manta;
import manta.Serve;

/**
 * The echo service behind HTTP, in Java: GET /echo?data=Hello answers
 * "Received data: Hello". The JVM is the node: it runs the function and
 * serves the route on its own port until its input closes.
 *
 * <pre>
 * java -cp manta.jar:manta-examples.jar examples.ServeEcho [PORT]
 * curl 'http://127.0.0.1:8000/echo?data=Hello'
 * </pre>
 */
public final class ServeEcho {
  private ServeEcho() {}

  public static void main(String[] args) throws IOException {
    int port = args.length > 0 ? Integer.parseInt(args[0]) : 8000;
    try (Manta runtime = Manta.init()) {
      Manta.register("echo_java", (Map<String, Object> request) -> {
        Object query = request.get("query");
        Object data = query instanceof Map ? ((Map<?, ?>) query).get("data") : null;
        if (data == null) {
          throw new IllegalArgumentException("give the text as ?data=...");
        }
        return "Received data: " + data;
      });
      Serve.deployment("/echo").function("echo_java").deploy();
      port = Serve.start(port);
      System.out.println("serving http://127.0.0.1:" + port + "/echo");
      System.out.flush();
      while (System.in.read() >= 0) {
        // until the input closes
      }
    }
  }
}
