package manta;

import java.lang.ref.Reference;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;

/**
 * A ref to an immutable object: a task's result or a value given to
 * {@link Manta#put}. Passed as an argument to a call, it is a dependency:
 * the call starts once the object is ready and receives its value.
 *
 * <p>Each ObjectRef holds one count on the object. The count is dropped by
 * {@link #close()}, or when the ObjectRef is collected; the object is freed
 * when no count is left anywhere.
 *
 * @param <T> the type the object's value is expected to have (unchecked)
 */
public final class ObjectRef<T> implements AutoCloseable {
  final long id;
  private final Handles.Handle handle;
  // Read by the native glue before it uses the id.
  private volatile boolean closed;

  ObjectRef(long id) {
    this.id = id;
    this.handle = Handles.register(this, id, false);
  }

  /** Waits as long as it takes for the value. */
  public T get() {
    return get(-1);
  }

  /**
   * Waits up to {@code timeoutMs} milliseconds (negative: no limit) for the
   * value. Throws {@link MantaException.Timeout} when the time passes, or the
   * {@link MantaException} the object holds if the task failed.
   */
  @SuppressWarnings("unchecked")
  public T get(long timeoutMs) {
    try {
      return (T) Native.get(liveId(), timeoutMs);
    } finally {
      Reference.reachabilityFence(this);
    }
  }

  /** {@link #get(long)} with a Duration. */
  public T get(Duration timeout) {
    return get(timeout.toMillis());
  }

  /**
   * A future completed once the object is ready, without a thread blocked
   * for it: with the value, or exceptionally with the {@link MantaException}
   * (subclass) the object holds if the task failed (code {@link
   * ErrorCode#SHUTDOWN} if the runtime stops first). It completes on
   * the runtime thread that made the object ready (or on this thread if it
   * is ready already), so stages added with {@code thenApply} and the like
   * run there unless given an executor: keep them short. The runtime keeps
   * the object until then, even if this ref is closed meanwhile.
   */
  @SuppressWarnings("unchecked")
  public java.util.concurrent.CompletableFuture<T> toCompletableFuture() {
    java.util.concurrent.CompletableFuture<Object> f =
        new java.util.concurrent.CompletableFuture<>();
    try {
      Native.whenReady(liveId(), f);
    } finally {
      Reference.reachabilityFence(this);
    }
    return (java.util.concurrent.CompletableFuture<T>) f;
  }

  /**
   * Cancels the call: one not started never runs; a running one is asked to
   * stop ({@link Manta#cancelled()} turns true and a Java call's thread is
   * interrupted). Either way its value becomes a {@link
   * MantaException.Cancelled} (a running call's once it returns). Returns
   * false if it is done. Same as {@code cancel(false)}.
   */
  public boolean cancel() {
    return cancel(false);
  }

  /**
   * {@link #cancel()}; recursive also cancels the calls it submitted while
   * it ran, and theirs, on whatever node they run (docs/java.md,
   * "Cancelling work").
   */
  public boolean cancel(boolean recursive) {
    try {
      return Native.cancelWith(liveId(), recursive ? 1 : 0);
    } finally {
      Reference.reachabilityFence(this);
    }
  }

  /** Drops this ref's count. Further use throws IllegalStateException. */
  @Override
  public void close() {
    closed = true;
    handle.release();
  }

  /** New refs for these ids (each holding the count the call gave it). */
  static List<ObjectRef<Object>> all(long[] ids) {
    List<ObjectRef<Object>> refs = new ArrayList<>(ids.length);
    for (long id : ids) {
      refs.add(new ObjectRef<>(id));
    }
    return refs;
  }

  long liveId() {
    if (closed) {
      throw new IllegalStateException("this ObjectRef is closed");
    }
    return id;
  }

  @Override
  public boolean equals(Object o) {
    return o instanceof ObjectRef && ((ObjectRef<?>) o).id == id;
  }

  @Override
  public int hashCode() {
    return Long.hashCode(id);
  }

  /** "ObjectRef(obj-<32 hex digits>)", or "ObjectRef(closed)". */
  @Override
  public String toString() {
    if (closed) {
      return "ObjectRef(closed)";
    }
    try {
      return "ObjectRef(" + Native.refString(id) + ")";
    } finally {
      Reference.reachabilityFence(this);
    }
  }
}
