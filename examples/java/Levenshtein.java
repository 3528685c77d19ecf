package examples;

import manta.Manta;
import manta.ObjectRef;

/**
 * Java calls a function implemented in C, by name:
 *
 * <pre>
 * java -cp manta.jar:manta-examples.jar examples.Levenshtein path/to/liblevenshtein_module.so
 * </pre>
 *
 * prints 7.
 */
public final class Levenshtein {
  private Levenshtein() {}

  public static void main(String[] args) {
    try (Manta runtime = Manta.init()) {
      Manta.loadModule(args[0]);
      ObjectRef<Long> r = Manta.function("levenshtein").remote("acme corp", "acme corporation");
      System.out.println(r.get());
    }
  }
}
