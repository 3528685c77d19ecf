package manta;

import java.io.File;
import java.io.IOException;
import java.io.InputStream;
import java.net.URISyntaxException;
import java.nio.charset.StandardCharsets;
import java.nio.file.FileAlreadyExistsException;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.Path;
import java.nio.file.Paths;
import java.nio.file.StandardCopyOption;
import java.nio.file.attribute.PosixFilePermissions;
import java.security.CodeSource;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.ArrayList;
import java.util.List;

/**
 * Finds libmanta_jni, in this order: the file named by -Dmanta.jni.library;
 * the one beside manta.jar (the build tree) or in the lib folder of the
 * install prefix the jar is in (share/java -> lib, or lib/x86_64-linux-gnu);
 * the copies the installed jar carries (manta/native/linux-x86_64/: libmanta
 * and libmanta_jni), extracted to a private cache folder; java.library.path.
 *
 * <p>The cache folder ($XDG_CACHE_HOME/manta, else $HOME/.cache/manta, else
 * java.io.tmpdir/manta-cache-UID) is made mode 0700 and checked before any
 * file in it is trusted: a folder, not a link, this user's, no one else may
 * read or write it, and no folder above it lets others replace it (unless
 * sticky, as /tmp). Each library is checked against the SHA-256 the jar
 * lists before it is loaded, and written afresh (to a temporary name, then
 * renamed) when it differs. A folder that fails a check is refused with the
 * reason, never used (docs/java.md, "manta.jar on its own").
 */
final class NativeLoader {
  private static final String LIB = System.mapLibraryName("manta_jni");
  private static final String MULTIARCH = "x86_64-linux-gnu";

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
      for (File candidate : new File[] {new File(jarDir, LIB), new File(jarDir, "../../lib/" + LIB),
               new File(jarDir, "../../lib/" + MULTIARCH + "/" + LIB)}) {
        tried.add(candidate.getPath());
        if (candidate.isFile()) {
          System.load(candidate.getAbsolutePath());
          return;
        }
      }
    }
    if (loadEmbedded(tried) != null) {
      return;
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

  // ---- the libraries the jar carries --------------------------------------

  /** "linux-x86_64" on the platform the jar carries libraries for; else null. */
  private static String platform() {
    String os = System.getProperty("os.name", "");
    String arch = System.getProperty("os.arch", "");
    if (os.equals("Linux") && (arch.equals("amd64") || arch.equals("x86_64"))) {
      return "linux-x86_64";
    }
    return null;
  }

  /**
   * Loads the libraries listed in the jar's manta/native/PLATFORM/index
   * ("SHA256 NAME" lines, in load order: libmanta first, so libmanta_jni
   * binds to that copy) from the cache folder; returns the folder, or null
   * if the jar carries none for this platform.
   */
  private static String loadEmbedded(List<String> tried) {
    String platform = platform();
    if (platform == null) {
      return null;
    }
    String base = "/manta/native/" + platform + "/";
    byte[] index;
    try (InputStream in = NativeLoader.class.getResourceAsStream(base + "index")) {
      if (in == null) {
        return null;
      }
      index = in.readAllBytes();
    } catch (IOException e) {
      throw failure("cannot read " + base + "index from manta.jar", e);
    }
    Path dir = cacheFolder().resolve("native-" + hex(sha256(index)).substring(0, 16));
    tried.add(dir + " (extracted from manta.jar)");
    privateFolder(dir);
    List<Path> files = new ArrayList<>();
    for (String line : new String(index, StandardCharsets.UTF_8).split("\n")) {
      String[] f = line.trim().split("\\s+");
      if (f.length != 2 || f[1].contains("/") || f[1].startsWith(".")) {
        continue;
      }
      Path file = dir.resolve(f[1]);
      if (!f[0].equals(fileDigest(file))) {
        extract(base + f[1], dir, file, f[0]);
      }
      files.add(file);
    }
    for (Path file : files) {
      System.load(file.toString());
    }
    return dir.toString();
  }

  /** Writes the resource to file through a temporary name, checked first. */
  private static void extract(String resource, Path dir, Path file, String sha) {
    Path tmp = null;
    try (InputStream in = NativeLoader.class.getResourceAsStream(resource)) {
      if (in == null) {
        throw failure("manta.jar lists " + resource + " but does not carry it", null);
      }
      tmp = Files.createTempFile(dir, ".extract-", ".tmp",
          PosixFilePermissions.asFileAttribute(PosixFilePermissions.fromString("rwx------")));
      Files.copy(in, tmp, StandardCopyOption.REPLACE_EXISTING);
      if (!sha.equals(fileDigest(tmp))) {
        throw failure(resource + " in manta.jar does not match its SHA-256", null);
      }
      Files.move(tmp, file, StandardCopyOption.ATOMIC_MOVE, StandardCopyOption.REPLACE_EXISTING);
      tmp = null;
    } catch (IOException e) {
      throw failure("cannot extract " + resource + " to " + file, e);
    } finally {
      if (tmp != null) {
        try {
          Files.deleteIfExists(tmp);
        } catch (IOException ignored) {
          // the failure above is what matters
        }
      }
    }
  }

  /** The first cache folder that can be made; checked by privateFolder. */
  private static Path cacheFolder() {
    List<Path> candidates = new ArrayList<>();
    String xdg = System.getenv("XDG_CACHE_HOME");
    if (xdg != null && xdg.startsWith("/")) {
      candidates.add(Paths.get(xdg, "manta"));
    }
    // $HOME as the XDG rules say; the JVM's user.home comes from the
    // password database instead.
    String home = System.getenv("HOME");
    if (home == null || home.isEmpty()) {
      home = System.getProperty("user.home");
    }
    if (home != null && home.startsWith("/")) {
      candidates.add(Paths.get(home, ".cache", "manta"));
    }
    candidates.add(Paths.get(System.getProperty("java.io.tmpdir"), "manta-cache-" + myUid()));
    List<String> why = new ArrayList<>();
    for (Path c : candidates) {
      try {
        if (c.getParent() != null) {
          Files.createDirectories(c.getParent());
        }
        privateFolder(c);
        return c;
      } catch (IOException | CacheFolderMissing e) {
        why.add(c + ": " + e.getMessage());
      }
    }
    throw failure(
        "no cache folder for the libraries manta.jar carries (" + String.join("; ", why) + ")",
        null);
  }

  /** A cache folder that cannot be made: the next one is tried. */
  private static final class CacheFolderMissing extends RuntimeException {
    private static final long serialVersionUID = 1L;

    CacheFolderMissing(String message) {
      super(message);
    }
  }

  /**
   * Makes dir (mode 0700) if missing, then refuses it unless it is a folder
   * of this user that no one else may use, below folders no one else may
   * replace it in.
   */
  private static void privateFolder(Path dir) {
    try {
      Files.createDirectory(
          dir, PosixFilePermissions.asFileAttribute(PosixFilePermissions.fromString("rwx------")));
    } catch (FileAlreadyExistsException e) {
      // checked below, like a new one
    } catch (IOException e) {
      throw new CacheFolderMissing("cannot make it: " + e);
    }
    try {
      if (Files.isSymbolicLink(dir) || !Files.isDirectory(dir, LinkOption.NOFOLLOW_LINKS)) {
        throw unsafe(dir, "it is not a folder (a symbolic link or a file)");
      }
      int uid = (Integer) Files.getAttribute(dir, "unix:uid", LinkOption.NOFOLLOW_LINKS);
      int mode = (Integer) Files.getAttribute(dir, "unix:mode", LinkOption.NOFOLLOW_LINKS);
      if (uid != myUid()) {
        throw unsafe(dir, "it is owned by uid " + uid + ", not by this user (uid " + myUid() + ")");
      }
      if ((mode & 077) != 0) {
        throw unsafe(dir,
            String.format("its mode 0%o lets other users in (chmod 700 %s)", mode & 07777, dir));
      }
      for (Path up = dir.toAbsolutePath().getParent(); up != null; up = up.getParent()) {
        int upMode = (Integer) Files.getAttribute(up, "unix:mode");
        int upUid = (Integer) Files.getAttribute(up, "unix:uid");
        boolean sticky = (upMode & 01000) != 0;
        if ((upMode & 022) != 0 && !sticky) {
          throw unsafe(dir,
              String.format("the folder above it, %s, has mode 0%o: others may replace it", up,
                  upMode & 07777));
        }
        if (upUid != 0 && upUid != myUid()) {
          throw unsafe(dir, "the folder above it, " + up + ", belongs to uid " + upUid);
        }
      }
    } catch (IOException e) {
      throw failure("cannot check " + dir, e);
    }
  }

  private static UnsatisfiedLinkError unsafe(Path dir, String why) {
    return failure("the cache folder " + dir + " cannot be trusted: " + why, null);
  }

  private static int myUid() {
    try {
      return (Integer) Files.getAttribute(Paths.get("/proc/self"), "unix:uid");
    } catch (IOException | UnsupportedOperationException e) {
      throw failure("cannot tell this process's user", e);
    }
  }

  /** The SHA-256 of a regular file (not a link) in hex, or "" if none. */
  private static String fileDigest(Path file) {
    if (!Files.isRegularFile(file, LinkOption.NOFOLLOW_LINKS)) {
      return "";
    }
    try {
      return hex(sha256(Files.readAllBytes(file)));
    } catch (IOException e) {
      return "";
    }
  }

  private static byte[] sha256(byte[] data) {
    try {
      return MessageDigest.getInstance("SHA-256").digest(data);
    } catch (NoSuchAlgorithmException e) {
      throw failure("no SHA-256 in this JVM", e);
    }
  }

  private static String hex(byte[] bytes) {
    StringBuilder s = new StringBuilder();
    for (byte b : bytes) {
      s.append(String.format("%02x", b & 0xff));
    }
    return s.toString();
  }

  private static UnsatisfiedLinkError failure(String message, Throwable cause) {
    UnsatisfiedLinkError err = new UnsatisfiedLinkError("manta: " + message);
    if (cause != null) {
      err.initCause(cause);
    }
    return err;
  }
}
