package manta;

import java.io.File;
import java.net.URISyntaxException;
import java.security.CodeSource;
import java.util.ArrayList;
import java.util.List;

/**
 * Finds libmanta_jni: the file named by -Dmanta.jni.library, else the one
 * beside manta.jar (the build tree) or in ../../lib from it (an installed
 * prefix, jar in share/java), else java.library.path.
 */
final class NativeLoader {
  private static final String LIB = System.mapLibraryName("manta_jni");

  private NativeLoader() {}

  static void load() {
    String explicit = System.getProperty("manta.jni.library");
    if (explicit != null && !explicit.isEmpty()) {
      System.load(new File(explicit).getAbsolutePath());
      return;
    }
    List<String> tried = new ArrayList<>();
    File jarDir = jarDirectory();
    if (jarDir != null) {
      for (File candidate :
          new File[] {new File(jarDir, LIB), new File(jarDir, "../../lib/" + LIB)}) {
        tried.add(candidate.getPath());
        if (candidate.isFile()) {
          System.load(candidate.getAbsolutePath());
          return;
        }
      }
    }
    try {
      System.loadLibrary("manta_jni");
    } catch (UnsatisfiedLinkError e) {
      UnsatisfiedLinkError err = new UnsatisfiedLinkError("manta: cannot load " + LIB
          + " (looked at " + String.join(", ", tried) + " and java.library.path="
          + System.getProperty("java.library.path") + "); set -Dmanta.jni.library=/path/to/" + LIB);
      err.initCause(e);
      throw err;
    }
  }

  private static File jarDirectory() {
    try {
      CodeSource src = NativeLoader.class.getProtectionDomain().getCodeSource();
      if (src == null || src.getLocation() == null) {
        return null;
      }
      File f = new File(src.getLocation().toURI());
      return f.isFile() ? f.getParentFile() : f;
    } catch (URISyntaxException | SecurityException | IllegalArgumentException e) {
      return null;
    }
  }
}
