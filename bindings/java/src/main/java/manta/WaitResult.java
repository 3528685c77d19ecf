package manta;

import java.util.List;

/** What {@link Manta#wait} found: the refs ready and the rest, in input order. */
public final class WaitResult<T> {
  private final List<ObjectRef<T>> ready;
  private final List<ObjectRef<T>> notReady;

  WaitResult(List<ObjectRef<T>> ready, List<ObjectRef<T>> notReady) {
    this.ready = ready;
    this.notReady = notReady;
  }

  /** Refs whose object holds a value or an error. */
  public List<ObjectRef<T>> ready() {
    return ready;
  }

  public List<ObjectRef<T>> notReady() {
    return notReady;
  }
}
