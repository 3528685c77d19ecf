package manta;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

/** Starting, joining, stopping and restarting the runtime from Java. */
class InitTest {
  @AfterEach
  void stopIfRunning() {
    if (Manta.isInitialized()) {
      Manta.shutdown();
    }
  }

  @Test
  @SuppressWarnings("try") // the resource only stops the runtime
  void tryWithResourcesStartsAndStops() {
    for (int round = 0; round < 3; round++) {
      try (Manta m = Manta.init(new Options().numCpus(1))) {
        assertTrue(Manta.isInitialized());
        Manta.register("j_round", () -> "ok");
        try (ObjectRef<String> r = Manta.function("j_round").remote()) {
          assertEquals("ok", r.get());
        }
      }
      assertFalse(Manta.isInitialized());
      // The workers that ran Java detached as they exited.
      for (Thread t : Thread.getAllStackTraces().keySet()) {
        assertFalse(t.getName().equals("manta-worker") && t.isAlive(), "attached: " + t);
      }
    }
  }

  @Test
  @SuppressWarnings("try") // the resource only stops the runtime
  void logLevelIsSetBeforeAndAfterInit() {
    String before = Manta.logLevel();
    try {
      Manta.setLogLevel("DEBUG");
      assertEquals("debug", Manta.logLevel());
      try (Manta m = Manta.init(new Options().numCpus(1))) {
        assertEquals("debug", Manta.logLevel());
        Manta.setLogLevel("error");
        assertEquals("error", Manta.logLevel());
      }
      assertThrows(IllegalArgumentException.class, () -> Manta.setLogLevel("loud"));
      assertThrows(IllegalArgumentException.class, () -> Manta.setLogLevel(null));
      assertEquals("error", Manta.logLevel());
    } finally {
      Manta.setLogLevel(before);
    }
  }

  @Test
  void joiningAClusterWithNoHeadFailsClearly() {
    // Nothing listens on port 1: no head answers, and init says so.
    MantaException e = assertThrows(MantaException.class, () -> Manta.init("127.0.0.1:1"));
    assertEquals(ErrorCode.NODE_DIED, e.code());
    assertTrue(e.getMessage().contains("cannot join the cluster at 127.0.0.1:1"), e.getMessage());
    assertFalse(Manta.isInitialized());
  }

  @Test
  void anEmbeddedRuntimeServesNoAddress() {
    Manta.init();
    assertEquals(null, Manta.nodeAddress());
  }

  @Test
  void bindingBeyondLoopbackNeedsAToken() {
    // Refused before any port is opened (MANTA_TOKEN is not set in tests):
    // the bind address reached manta_options.
    MantaException e = assertThrows(MantaException.class,
        () -> Manta.init(new Options().address("127.0.0.1:1").bind("0.0.0.0:0")));
    assertEquals(ErrorCode.INVALID, e.code());
    assertFalse(Manta.isInitialized());
  }

  @Test
  void tlsFilesReachTheOptionsAndAreChecked() {
    // manta_options_set_tls reads the files at once: a missing one, or a
    // certificate without its key, fails init before anything starts.
    Options noFiles = new Options().tls("/nonexistent/node.pem", "/nonexistent/node.key", null);
    MantaException e = assertThrows(MantaException.class, () -> Manta.init(noFiles));
    assertEquals(ErrorCode.INVALID, e.code());
    e = assertThrows(MantaException.class,
        () -> Manta.init(new Options().tls("/nonexistent/node.pem", null, null)));
    assertEquals(ErrorCode.INVALID, e.code());
    assertFalse(Manta.isInitialized());
  }

  @Test
  void initTwiceAndShutdownTwiceAreErrors() {
    Manta.init();
    MantaException e = assertThrows(MantaException.class, Manta::init);
    assertEquals(ErrorCode.ALREADY_INITIALIZED, e.code());
    Manta.shutdown();
    e = assertThrows(MantaException.class, Manta::shutdown);
    assertEquals(ErrorCode.NOT_INITIALIZED, e.code());
  }

  @Test
  void registeringNeedsARuntime() {
    MantaException e = assertThrows(MantaException.class, () -> Manta.register("x", () -> 1));
    assertEquals(ErrorCode.NOT_INITIALIZED, e.code());
    assertTrue(e.getMessage().contains("Manta.init()"), e.getMessage());
    assertThrows(MantaException.class, () -> Manta.function("x").remote());
  }

  @Test
  void refsBecomeStaleAfterShutdown() {
    Manta.init();
    ObjectRef<Long> r = Manta.put(1L);
    ActorHandle a = Manta.actor("Nothing").remote();
    Manta.shutdown();
    Manta.init();
    MantaException e = assertThrows(MantaException.class, r::get);
    assertEquals(ErrorCode.BAD_HANDLE, e.code());
    assertThrows(MantaException.class, () -> a.call("x"));
    r.close();
    a.close();
  }

  @Test
  void shutdownInsideATaskIsRefused() {
    Manta.init();
    Manta.register("j_shutdown", () -> {
      Manta.shutdown();
      return "stopped?";
    });
    try (ObjectRef<String> r = Manta.function("j_shutdown").remote()) {
      MantaException.TaskFailed e = assertThrows(MantaException.TaskFailed.class, r::get);
      assertTrue(e.errorMessage().contains("cannot run inside a task"), e.getMessage());
    }
  }

  @Test
  void namesAreFreeAgainAfterARestart() {
    Manta.init();
    Manta.register("j_name", () -> 1L);
    Manta.shutdown();
    Manta.init();
    Manta.register("j_name", () -> 2L);
    try (ObjectRef<Long> r = Manta.function("j_name").remote()) {
      assertEquals(2L, r.get());
    }
  }

  @Test
  void optionsReachTheRuntime() {
    Manta.init(new Options().numCpus(3).resource("GPU", 2).maxWorkers(8));
    try (ObjectRef<Long> r =
             Manta.function("x").options(new CallOptions().resource("GPU", 3)).remote()) {
      assertThrows(MantaException.class, r::get);
    }
    assertEquals("0.1.0", Manta.version());
    assertTrue(Manta.stat(Stat.TASKS_FINISHED) >= 1);
    assertThrows(IllegalArgumentException.class, () -> new Options().numCpus(-2));
  }

  @Test
  void aCModuleThatCannotLoadSaysSo() {
    Manta.init();
    MantaException e =
        assertThrows(MantaException.class, () -> Manta.loadModule("/nonexistent/libx.so"));
    assertEquals(ErrorCode.NOT_FOUND, e.code());
    assertTrue(e.getMessage().contains("/nonexistent/libx.so"), e.getMessage());
  }

  @Test
  void objectsBeyondTheStoreLimitAreSpilledAndReadBack() throws Exception {
    java.nio.file.Path dir = java.nio.file.Files.createTempDirectory("manta-spill");
    try {
      // 8 MiB in memory at most; 32 objects of 1 MiB go through it.
      Manta.init(new Options().objectStoreMemory(8L << 20).spillDir(dir.toString()));
      java.util.List<ObjectRef<byte[]>> refs = new java.util.ArrayList<>();
      for (int i = 0; i < 32; i++) {
        byte[] b = new byte[1 << 20];
        java.util.Arrays.fill(b, (byte) i);
        refs.add(Manta.put(b));
      }
      int spilled = 0;
      try (java.util.stream.Stream<java.nio.file.Path> s = java.nio.file.Files.walk(dir)) {
        spilled = (int) s.filter(java.nio.file.Files::isRegularFile).count();
      }
      assertTrue(spilled > 0, "no object was spilled to " + dir);
      for (int i = 0; i < 32; i++) {
        byte[] b = refs.get(i).get();
        assertEquals(1 << 20, b.length);
        assertEquals((byte) i, b[0]);
        assertEquals((byte) i, b[b.length - 1]);
        refs.get(i).close();
      }
    } finally {
      if (Manta.isInitialized()) {
        Manta.shutdown();
      }
      try (java.util.stream.Stream<java.nio.file.Path> s = java.nio.file.Files.walk(dir)) {
        s.sorted(java.util.Comparator.reverseOrder()).forEach(p -> p.toFile().delete());
      }
    }
    assertThrows(IllegalArgumentException.class, () -> new Options().objectStoreMemory(-1));
    assertThrows(IllegalArgumentException.class, () -> new Options().metricsPort(70000));
  }
}
