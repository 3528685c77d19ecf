package manta;

import java.lang.ref.Reference;
import java.util.List;

/**
 * A handle to one actor, whatever language implements its class. Calls
 * made through handles by one thread run in the order they were made.
 *
 * <p>Each handle holds one count on the actor; {@link #close()} (or
 * collection) drops it. An unnamed actor dies when its last handle goes; a
 * named one lives until killed or shutdown.
 */
public final class ActorHandle implements AutoCloseable {
  final long id;
  private final Handles.Handle handle;
  // Read by the native glue before it uses the id.
  private volatile boolean closed;

  ActorHandle(long id) {
    this.id = id;
    this.handle = Handles.register(this, id, true);
  }

  /**
   * Calls a method by name. Arguments convert as for tasks; ObjectRef
   * arguments are dependencies. An unknown method, a wrong argument count or
   * a failure inside the method arrives as the result's error, not here.
   */
  public <T> ObjectRef<T> call(String method, Object... args) {
    try {
      return new ObjectRef<>(Native.actorCall(liveId(), method, args));
    } finally {
      Reference.reachabilityFence(this);
    }
  }

  /**
   * Calls a method declared with {@code numReturns} return values: it
   * returns a list of that many values and ref i holds item i, each ready
   * on its own ({@link RemoteFunction#remoteReturns} says what fails).
   */
  public List<ObjectRef<Object>> callReturns(int numReturns, String method, Object... args) {
    try {
      return ObjectRef.all(Native.actorCallReturns(liveId(), method, args, numReturns));
    } finally {
      Reference.reachabilityFence(this);
    }
  }

  /**
   * Calls a method as a stream ({@link RemoteFunction#remoteStream}): each
   * item it emits is read in order from the stream.
   */
  public <T> ObjectRefStream<T> callStream(String method, Object... args) {
    return callStream(0, method, args);
  }

  /** As {@link #callStream(String, Object...)}, with at most {@code window} unread items. */
  public <T> ObjectRefStream<T> callStream(int window, String method, Object... args) {
    try {
      return new ObjectRefStream<>(Native.actorCallStream(liveId(), method, args, window));
    } finally {
      Reference.reachabilityFence(this);
    }
  }

  /**
   * Kills the actor: calls not started fail with
   * {@link MantaException.ActorDead}, the running one finishes, its name is
   * freed.
   */
  public void kill() {
    try {
      Native.actorKill(liveId());
    } finally {
      Reference.reachabilityFence(this);
    }
  }

  /**
   * Cancels the actor's creation if its constructor has not started (it
   * waits for its arguments or for resources): the constructor never runs
   * and every call fails with {@link MantaException.ActorDead}, saying its
   * creation was cancelled. Returns false when it is too late (the
   * constructor started or ran, or the creation went to another node: use
   * {@link #kill}).
   */
  public boolean cancelCreation() {
    try {
      return Native.actorCancel(liveId());
    } finally {
      Reference.reachabilityFence(this);
    }
  }

  /** Drops this handle's count. Further use throws IllegalStateException. */
  @Override
  public void close() {
    closed = true;
    handle.release();
  }

  long liveId() {
    if (closed) {
      throw new IllegalStateException("this ActorHandle is closed");
    }
    return id;
  }

  @Override
  public boolean equals(Object o) {
    return o instanceof ActorHandle && ((ActorHandle) o).id == id;
  }

  @Override
  public int hashCode() {
    return Long.hashCode(id);
  }

  @Override
  public String toString() {
    return closed ? "ActorHandle(closed)" : "ActorHandle(" + Long.toHexString(id) + ")";
  }
}
