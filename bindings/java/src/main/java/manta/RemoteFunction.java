package manta;

import java.util.List;

/** A function known by name, whatever language implements it. */
public final class RemoteFunction {
  private final String name;
  // The name as the C string the glue hands to manta_submit, made once.
  private final byte[] cname;
  private final CallOptions options;

  RemoteFunction(String name, CallOptions options) {
    this.name = name;
    this.cname = Manta.cName(name, "function name");
    this.options = options;
  }

  /**
   * Submits a call. ObjectRef arguments at the top level are dependencies;
   * every other argument is converted to a manta value (a value that cannot
   * convert throws {@link MantaException.ValueType} here). Unknown names,
   * wrong argument counts and failures arrive as the result's error.
   */
  public <T> ObjectRef<T> remote(Object... args) {
    return new ObjectRef<>(Native.submit(cname, args, options));
  }

  /**
   * Submits a call declared with {@code numReturns} return values: the
   * function returns a list of that many values and ref i holds item i,
   * each ready on its own. An error fails every ref; a list of another
   * length, or a value that is not a list, fails every ref with {@link
   * MantaException.ValueType}. With 1 the one ref holds the value as
   * returned.
   */
  public List<ObjectRef<Object>> remoteReturns(int numReturns, Object... args) {
    return ObjectRef.all(Native.submitReturns(cname, args, options, numReturns));
  }

  /**
   * Submits a call as a stream: each {@link Manta#emit} inside it (or
   * manta_emit, in C) gives one item, read in order from the stream; the
   * window of unread items is the options' {@link
   * CallOptions#streamWindow} (default 1024).
   */
  public <T> ObjectRefStream<T> remoteStream(Object... args) {
    int window = options == null ? 0 : options.streamWindow;
    return new ObjectRefStream<>(Native.submitStream(cname, args, options, window));
  }

  /** The same function called with these options. */
  public RemoteFunction options(CallOptions callOptions) {
    return new RemoteFunction(name, callOptions);
  }

  public String name() {
    return name;
  }

  @Override
  public String toString() {
    return "RemoteFunction(" + name + ")";
  }
}
