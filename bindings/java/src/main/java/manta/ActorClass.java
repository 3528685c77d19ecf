package manta;

/** An actor class known by name, whatever language implements it. */
public final class ActorClass {
  private final String name;
  private final byte[] cname;
  private final CallOptions options;

  ActorClass(String name, CallOptions options) {
    this.name = name;
    this.cname = Manta.cName(name, "actor class name");
    this.options = options;
  }

  /**
   * Creates an actor; the arguments go to its constructor (ObjectRefs are
   * dependencies). A constructor failure or an unknown class makes every
   * call fail with {@link MantaException.ActorDead}, the reason as cause.
   * Throws at once only for a name already taken by a live named actor.
   */
  public ActorHandle remote(Object... args) {
    return new ActorHandle(Native.actorCreate(cname, args, options));
  }

  // ---- get-or-create (docs/api.md, "Get or create") ------------------------

  /**
   * The actor of this class named as the options say ({@link #named}): the
   * one that exists, or one created now with these constructor arguments.
   * Threads and processes of a cluster asking at once all get the same
   * actor, whose constructor runs once. Throws {@link MantaException} with
   * code {@link ErrorCode#EXISTS} when the name belongs to an actor of
   * another class, and IllegalStateException when the class has no name.
   */
  public ActorHandle getOrCreate(Object... args) {
    if (options == null || options.name == null) {
      throw new IllegalStateException(
          "getOrCreate needs a name: Manta.actor(\"" + name + "\").named(NAME)");
    }
    return new ActorHandle(Native.actorGetOrCreate(cname, options.name, args, options));
  }

  /** The same class created with these options. */
  public ActorClass options(CallOptions callOptions) {
    return new ActorClass(name, callOptions);
  }

  /** Shorthand for options with only a name: a named actor. */
  public ActorClass named(String actorName) {
    return new ActorClass(name, new CallOptions().name(actorName));
  }

  public String name() {
    return name;
  }

  @Override
  public String toString() {
    return "ActorClass(" + name + ")";
  }
}
