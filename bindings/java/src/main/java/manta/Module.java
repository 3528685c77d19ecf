package manta;

/**
 * A Java module: a class that registers functions and actor classes when a
 * node loads it, as a C module's {@code manta_module_init} does. It needs a
 * public no-argument constructor. Nodes load modules named on their command
 * line ({@link Node}) or in {@code MANTA_JAVA_MODULES} (a C node hosting a
 * JVM, see docs/java.md).
 */
public interface Module {
  /** Registers what the module offers, e.g. with {@link Manta#register}. */
  void register() throws Exception;
}
