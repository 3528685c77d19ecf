package manta;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.io.InputStream;
import java.net.HttpURLConnection;
import java.net.URL;
import java.nio.charset.StandardCharsets;
import java.util.Arrays;
import java.util.Map;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * Serve from Java (docs/serve.md): a deployment's constructor arguments,
 * per-replica resources and health check, asked over real HTTP.
 */
class ServeTest {
  private static Manta runtime;
  private static int port;

  /** A replica made with a greeting and a number, whose health can fail. */
  public static class Greeter {
    private static final java.util.concurrent.atomic.AtomicLong MADE =
        new java.util.concurrent.atomic.AtomicLong();
    private final String greeting;
    private final long instance = MADE.incrementAndGet();
    private boolean sick;

    public Greeter(String text, long n) {
      greeting = text + " " + n;
    }

    public String greet(Map<String, Object> request) {
      return greeting + " #" + instance;
    }

    public String sicken(Map<String, Object> request) {
      sick = true;
      return "sick";
    }

    public Object health() {
      if (sick) {
        throw new IllegalStateException("replica " + instance + " is sick");
      }
      return null;
    }
  }

  @BeforeAll
  static void start() {
    runtime = TestSupport.start(new Options().numCpus(2).resource("slots", 3));
    Manta.registerActor("Greeter", Greeter.class);
    port = Serve.start(0);
  }

  @AfterAll
  static void stop() {
    runtime.close();
  }

  private static String get(String path, String method) throws IOException {
    HttpURLConnection c =
        (HttpURLConnection) new URL("http://127.0.0.1:" + port + path).openConnection();
    c.setRequestMethod(method);
    c.setConnectTimeout(10000);
    c.setReadTimeout(10000);
    int status = c.getResponseCode();
    try (InputStream in = status < 400 ? c.getInputStream() : c.getErrorStream()) {
      return status + " " + new String(in.readAllBytes(), StandardCharsets.UTF_8);
    }
  }

  private static Map<String, Object> statusOf(String route) {
    return Serve.status()
        .stream()
        .filter(r -> route.equals(r.get("route")))
        .findFirst()
        .orElseThrow();
  }

  @Test
  void argsResourcesAndHealthCheck() throws Exception {
    Serve.deployment("/greet")
        .actorClass("Greeter", null)
        .replicas(2)
        .args("hello", 42L)
        .resource("slots", 1)
        .healthCheck("health", 100, 5000)
        .deploy();
    String first = get("/greet/greet", "GET");
    assertTrue(first.startsWith("200 hello 42 #"), first);
    Map<String, Object> st = statusOf("/greet");
    assertEquals(Map.of("slots", 1.0), st.get("resources"));
    assertEquals(Arrays.asList("hello", 42L), st.get("args"));
    assertEquals("health", st.get("health_check_method"));
    // Make every replica sick: the probe replaces them (new instances).
    get("/greet/sicken", "POST");
    get("/greet/sicken", "POST");
    long replaced = 0;
    for (int i = 0; i < 200 && replaced < 1; i++) { // bounded: 10 s
      replaced = (Long) statusOf("/greet").get("replaced");
      Thread.sleep(50);
    }
    assertTrue(replaced >= 1, "a sick replica was replaced: " + statusOf("/greet"));
    String later = get("/greet/greet", "GET");
    assertTrue(later.startsWith("200 hello 42 #"), later);
    Serve.delete("/greet");
  }

  @Test
  void badOptionsAreRefused() {
    Serve.Deployment d = Serve.deployment("/x");
    assertThrows(IllegalArgumentException.class, () -> d.resource("", 1));
    assertThrows(IllegalArgumentException.class, () -> d.resource("CPU", -1));
    assertThrows(IllegalArgumentException.class, () -> d.healthCheck(null, 0, 0));
    // A function route with args is refused by the runtime.
    MantaException e = assertThrows(
        MantaException.class, () -> Serve.deployment("/y").function("f").args(1L).deploy());
    assertTrue(e.getMessage().contains("Serve deploy"), e.getMessage());
    assertNotEquals(null, e.getMessage());
  }
}
