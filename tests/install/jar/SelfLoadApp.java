import java.nio.file.Files;
import java.nio.file.Paths;
import manta.Manta;
import manta.ObjectRef;

/**
 * Run by tests/install/run-jar-test.sh with nothing but manta.jar and this
 * class on the class path: a Java function called as a task and a put/get,
 * then where the JVM loaded libmanta and libmanta_jni from (its maps).
 */
public final class SelfLoadApp {
  private SelfLoadApp() {}

  public static void main(String[] args) throws Exception {
    try (Manta runtime = Manta.init()) {
      Manta.register("twice", (Long x) -> 2 * x);
      ObjectRef<Long> r = Manta.function("twice").remote(21L);
      ObjectRef<String> s = Manta.put("from a bare jar");
      System.out.println("twice(21) = " + r.get(10000) + "; put/get: " + s.get(10000));
    }
    for (String line : Files.readAllLines(Paths.get("/proc/self/maps"))) {
      int slash = line.indexOf('/');
      if (slash >= 0 && line.matches(".*/libmanta(_jni)?\\.so(\\.[0-9]+)*$")) {
        System.out.println("loaded " + line.substring(slash));
      }
    }
  }
}
