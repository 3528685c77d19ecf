package manta;

import java.lang.ref.PhantomReference;
import java.lang.ref.ReferenceQueue;

/**
 * Releases the native count of refs and actor handles that Java code
 * dropped without close(). Like a Cleaner, with two additions that keep the
 * object store bounded in a loop that never closes its refs (GcTest):
 *
 * <ul>
 *   <li>whoever makes new handles also releases dropped ones, so the
 *       release keeps pace with the loop;
 *   <li>the objects live in native memory, which the JVM does not see: a
 *       young generation of a few hundred MB can hold a million dropped refs
 *       before it is collected. So once more than {@code
 *       manta.gcAfterHandles} (default 100,000) handles are unreleased,
 *       the thread making the next one asks for a collection, as the JDK
 *       does when direct buffers run out of memory. If most handles are
 *       still in use after it, the threshold doubles, so a program that
 *       keeps many refs pays for this once, not on every call.
 * </ul>
 */
final class Handles {
  private static final ReferenceQueue<Object> DROPPED = new ReferenceQueue<>();
  private static final Object LOCK = new Object();
  // Every handle not yet released, linked so that it stays reachable until
  // its owner is collected.
  private static Handle live;
  private static long liveCount;
  private static final long GC_AFTER =
      Math.max(1000, Long.getLong("manta.gcAfterHandles", 100_000));
  // Guarded by LOCK; Long.MAX_VALUE while one thread collects.
  private static long gcThreshold = GC_AFTER;

  /**
   * Released per new handle when some are waiting: more than one, so
   * the backlog shrinks while the program keeps making handles.
   */
  private static final int HELP = 4;

  private Handles() {}

  static final class Handle extends PhantomReference<Object> {
    private final long id;
    private final boolean actor;
    private Handle prev;
    private Handle next;
    private boolean released;

    private final boolean stream; // an ObjectRefStream's
    private Handle(Object owner, long id, boolean actor, boolean stream) {
      super(owner, DROPPED);
      this.id = id;
      this.actor = actor;
      this.stream = stream;
    }

    /** Drops the native count once, whoever calls first. */
    void release() {
      synchronized (LOCK) {
        if (released) {
          return;
        }
        released = true;
        liveCount--;
        if (prev != null) {
          prev.next = next;
        } else {
          live = next;
        }
        if (next != null) {
          next.prev = prev;
        }
        prev = next = null;
      }
      if (stream) {
        Native.streamRelease(id);
      } else if (actor) {
        Native.releaseActor(id);
      } else {
        Native.releaseRef(id);
      }
    }
  }

  static Handle register(Object owner, long id, boolean actor) {
    return track(new Handle(owner, id, actor, false));
  }

  /** An ObjectRefStream's handle: released with manta_stream_release. */
  static Handle registerStream(Object owner, long id) {
    return track(new Handle(owner, id, false, true));
  }

  private static Handle track(Handle h) {
    for (int i = 0; i < HELP; i++) {
      Handle dropped = (Handle) DROPPED.poll();
      if (dropped == null) {
        break;
      }
      dropped.release();
    }
    boolean collect;
    synchronized (LOCK) {
      h.next = live;
      if (live != null) {
        live.prev = h;
      }
      live = h;
      liveCount++;
      collect = liveCount > gcThreshold;
      if (collect) {
        gcThreshold = Long.MAX_VALUE;
      }
    }
    if (collect) {
      collectDropped();
    }
    return h;
  }

  private static void collectDropped() {
    try {
      System.gc();
      // The collection queues what it found; release until nothing more
      // arrives for a moment.
      Handle dropped;
      while ((dropped = (Handle) DROPPED.remove(20)) != null) {
        dropped.release();
      }
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    } finally {
      synchronized (LOCK) {
        gcThreshold = Math.max(GC_AFTER, 2 * liveCount);
      }
    }
  }

  /** Handles not yet released (closed or collected). */
  static long liveCount() {
    synchronized (LOCK) {
      return liveCount;
    }
  }

  static {
    Thread t = new Thread(Handles::releaseForever, "manta-handle-release");
    t.setDaemon(true);
    t.start();
  }

  private static void releaseForever() {
    for (;;) {
      try {
        ((Handle) DROPPED.remove()).release();
      } catch (InterruptedException e) {
        // a daemon: nothing asks it to stop
      } catch (Throwable t) {
        // keep releasing: one failure must not leak every later handle
      }
    }
  }
}
