package manta;

import java.util.concurrent.ConcurrentHashMap;

/**
 * Interrupts the thread of a Java task or actor method when its call is
 * cancelled while it runs (docs/java.md, "Cancelling work"). Each call run
 * by {@link Registry} is entered here under a fresh token that the runtime
 * keeps as the call's cancel handler ({@code manta_on_cancel}); a cancel
 * calls {@link #interrupt} with that token, from whatever thread cancels.
 * A token, not the thread: the handler may come after the call returned,
 * when the thread already runs other work, and then finds nothing.
 */
final class CancelWatch {
  private static final ConcurrentHashMap<Long, Thread> RUNNING = new ConcurrentHashMap<>();
  private static long next; // guarded by CancelWatch.class

  private CancelWatch() {}

  /** A call starts on this thread: its token. */
  static long enter() {
    long token;
    synchronized (CancelWatch.class) {
      token = ++next;
    }
    RUNNING.put(token, Thread.currentThread());
    watch(token);
    return token;
  }

  /** The call ended: no interrupt reaches the thread for it any more. */
  static void leave(long token) {
    synchronized (CancelWatch.class) {
      RUNNING.remove(token);
    }
    Thread.interrupted(); // one that came meanwhile was the call's
  }

  /** Called by the runtime (from C) when the call of token is cancelled. */
  static void interrupt(long token) {
    synchronized (CancelWatch.class) {
      Thread t = RUNNING.get(token);
      if (t != null) {
        t.interrupt();
      }
    }
  }

  /** Sets the running call's cancel handler to interrupt(token). */
  private static native void watch(long token);
}
