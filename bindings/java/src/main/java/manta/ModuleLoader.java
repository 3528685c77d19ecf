package manta;

/** Loads Java modules ({@link Module}) by class name. */
final class ModuleLoader {
  private ModuleLoader() {}

  /**
   * Instantiates each class named in the comma- or space-separated list and
   * runs its register(). Throws IllegalArgumentException naming the class
   * that is missing, not a Module, or failed.
   */
  static void load(String names) {
    if (names == null) {
      return;
    }
    for (String name : names.split("[,\\s]+")) {
      if (!name.isEmpty()) {
        loadOne(name);
      }
    }
  }

  static void loadOne(String name) {
    Class<?> cls;
    try {
      ClassLoader loader = Thread.currentThread().getContextClassLoader();
      if (loader == null) {
        loader = ClassLoader.getSystemClassLoader();
      }
      cls = Class.forName(name, true, loader);
    } catch (ClassNotFoundException e) {
      throw new IllegalArgumentException("Java module " + name + " not found on the class path "
              + System.getProperty("java.class.path"),
          e);
    }
    if (!Module.class.isAssignableFrom(cls)) {
      throw new IllegalArgumentException(
          "Java module " + name + " does not implement " + Module.class.getName());
    }
    try {
      ((Module) cls.getConstructor().newInstance()).register();
    } catch (ReflectiveOperationException e) {
      Throwable why = e.getCause() != null ? e.getCause() : e;
      throw new IllegalArgumentException("Java module " + name + " failed: " + why, why);
    } catch (Exception e) {
      throw new IllegalArgumentException("Java module " + name + " failed: " + e, e);
    }
  }

  /** Called by a C node hosting the JVM: null on success, else why not. */
  static String loadForNative(String names) {
    try {
      load(names);
      return null;
    } catch (RuntimeException e) {
      return e.getMessage();
    }
  }
}
