package manta;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

/** The timeline from Java: off by default, on by enableTimeline. */
class TimelineTest {
  @AfterEach
  void stopIfRunning() {
    if (Manta.isInitialized()) {
      Manta.shutdown();
    }
  }

  private static int count(String text, String what) {
    int n = 0;
    for (int i = text.indexOf(what); i >= 0; i = text.indexOf(what, i + 1)) {
      n++;
    }
    return n;
  }

  @Test
  void javaTasksAppearOnceTheTimelineIsOn() {
    Manta.init(new Options().numCpus(2));
    Manta.register("j_timed", (Long x) -> x + 1);
    try (ObjectRef<Long> r = Manta.function("j_timed").remote(1L)) {
      assertEquals(2L, r.get());
    }
    assertEquals(0, count(Manta.timeline(null), "\"name\":\"j_timed\""), "off by default");
    Manta.enableTimeline(64);
    for (long i = 0; i < 5; i++) {
      try (ObjectRef<Long> r = Manta.function("j_timed").remote(i)) {
        assertEquals(i + 1, r.get());
      }
    }
    String trace = Manta.timeline(null);
    assertTrue(trace.startsWith("{\"traceEvents\":["), trace);
    // One event per run of calls: five calls one after another, each alone.
    assertEquals(5, count(trace, "\"name\":\"j_timed\""), trace);
    MantaException e = assertThrows(MantaException.class, () -> Manta.enableTimeline(1));
    assertEquals(ErrorCode.INVALID, e.code());
  }
}
