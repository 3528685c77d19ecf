package manta;

import java.lang.ref.Reference;
import java.util.Iterator;
import java.util.NoSuchElementException;

/**
 * The items a call emits while it runs ({@link Manta#emit}), read in order
 * as refs, each ready when read. Made by {@link RemoteFunction#remoteStream}
 * or {@link ActorHandle#callStream}; the call may run on any node and in
 * any language.
 *
 * <p>As an {@link Iterator}, {@link #hasNext()} waits for the next item or
 * the end; once the call failed, it throws the call's error (a {@link
 * MantaException} subclass) after the items emitted before it. {@link
 * #next(long)} waits at most a given time. At most the stream's window of
 * items waits unread ({@link CallOptions#streamWindow}): the producer is
 * held back until this reader catches up.
 *
 * <p>{@link #close()} (or collection) lets go: unread items are freed and
 * a call still running is stopped (its next emit throws {@link
 * MantaException.Cancelled}).
 */
public final class ObjectRefStream<T>
    implements Iterator<ObjectRef<T>>, Iterable<ObjectRef<T>>, AutoCloseable {
  private final long id;
  private final Handles.Handle handle;
  private ObjectRef<T> ahead; // read by hasNext, not yet given
  private boolean ended;

  ObjectRefStream(long id) {
    this.id = id;
    this.handle = Handles.registerStream(this, id);
  }

  /**
   * The next item's ref, waiting at most {@code timeoutMs} (negative: no
   * limit); null if none came in time (the stream goes on).
   *
   * @throws NoSuchElementException the call returned and every item was read
   * @throws MantaException the call failed (after its items were read)
   */
  public ObjectRef<T> next(long timeoutMs) {
    if (ahead != null) {
      ObjectRef<T> r = ahead;
      ahead = null;
      return r;
    }
    if (ended) {
      throw new NoSuchElementException("the stream ended");
    }
    try {
      long ref = Native.streamNext(id, timeoutMs);
      if (ref == 0) {
        return null;
      }
      if (ref == -1) {
        ended = true;
        throw new NoSuchElementException("the stream ended");
      }
      return new ObjectRef<>(ref);
    } finally {
      Reference.reachabilityFence(this);
    }
  }

  /** Waits for the next item or the end; throws the call's error if it failed. */
  @Override
  public boolean hasNext() {
    if (ahead != null) {
      return true;
    }
    if (ended) {
      return false;
    }
    try {
      ahead = next(-1);
      return true;
    } catch (NoSuchElementException e) {
      return false;
    }
  }

  @Override
  public ObjectRef<T> next() {
    if (!hasNext()) {
      throw new NoSuchElementException("the stream ended");
    }
    ObjectRef<T> r = ahead;
    ahead = null;
    return r;
  }

  @Override
  public Iterator<ObjectRef<T>> iterator() {
    return this;
  }

  /** Lets go of the stream; a call still running stops at its next emit. */
  @Override
  public void close() {
    handle.release();
  }
}
